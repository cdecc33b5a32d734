"""Benign overfitting in linear regression: the model of chapter 06.

Bartlett, Long, Lugosi & Tsigler (2020) bound the excess risk of the min-norm
interpolant ŵ = X⁺y, with rows x = Σ^½z (z sub-Gaussian with norm σ_x) and
y = xᵀw* + ξ (ξ sub-Gaussian with norm σ_y, variance ≥ σ²), in their main theorem's
case k* < n/c₁, by

    ‖w*‖² ‖Σ‖ max{√(r₀/n), r₀/n}  +  σ_y² (k*/n + n/R_{k*}),   k* = min{k ≥ 0 : r_k ≥ b n},

up to constants that depend on σ_x only (the variance term is tight, with σ² in the
lower bound); when k* ≥ n/c₁ the expected excess risk is at least σ²/c. Here r_k and
R_k are the effective ranks of the spectrum
(:func:`overparam.risk.effective_ranks`). This module gives

* spectra: :func:`spiked_spectrum` (a few strong directions and a flat weak tail)
  and :func:`power_law_spectrum`;
* the bound's terms: :func:`tail_ranks`, :func:`critical_index`, :func:`bound_terms`;
* the exact excess risk of ŵ for diagonal Σ, averaged over the noise in closed form
  given the design: :func:`excess_risk` (explicit X) and :func:`spiked_tail_risk`
  (a spiked spectrum with a tail of any dimension, through a Wishart draw; cost O(n³)
  whatever the tail dimension).

Conventions: Σ = diag(eigenvalues), eigenvalues sorted descending; X is (n, p) with n ≤ p.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
import torch

from overparam import risk
from overparam._check import as_generator, check_matrix, check_positive, check_positive_int, check_tensor
from overparam.risk import spectrum, tail_ranks  # tail_ranks: re-exported, the bound's terms use it


def spiked_spectrum(n_spikes: int, tail_dim: int, tail_value: float, spike: float = 1.0) -> torch.Tensor:
    """``n_spikes`` eigenvalues equal to ``spike`` followed by ``tail_dim`` equal to ``tail_value`` (float64).

    The "k spikes + ε-isotropic tail" spectrum of Bartlett et al. (2020), the setting of
    their finite-dimensional benign example (decaying part plus a floor ε on p_n ≫ n directions).
    """
    check_positive_int("n_spikes", n_spikes, allow_zero=True)
    check_positive_int("tail_dim", tail_dim)
    check_positive("tail_value", tail_value)
    check_positive("spike", spike)
    if tail_value > spike:
        raise ValueError(f"tail_value: expected at most spike={spike}, got {tail_value}")
    return torch.cat([torch.full((n_spikes,), float(spike)), torch.full((tail_dim,), float(tail_value))]).double()


def power_law_spectrum(p: int, alpha: float) -> torch.Tensor:
    """λ_i = i^(−α), i = 1..p (float64): a spectrum that decays fast when α > 1."""
    check_positive_int("p", p)
    check_positive("alpha", alpha, allow_zero=True)
    return torch.arange(1, p + 1, dtype=torch.float64) ** (-float(alpha))


def critical_index(eigenvalues, n: int, b: float = 1.0) -> int | None:
    """k* = min{k ≥ 0 : r_k ≥ b n} (Bartlett et al. 2020, main theorem); None when no k qualifies."""
    check_positive_int("n", n)
    check_positive("b", b)
    r, _ = tail_ranks(eigenvalues)
    hits = torch.nonzero(r >= b * n)
    return int(hits[0]) if hits.numel() else None


class BoundTerms(NamedTuple):
    """The two terms of the bound, without its unknown constants."""

    k_star: int | None  # k* = min{k : r_k ≥ b n}, None if no k qualifies
    r0: float  # r₀ = tr Σ / ‖Σ‖
    bias: float  # ‖Σ‖ max{√(r₀/n), r₀/n}: multiplies ‖w*‖²
    variance: float  # k*/n + n/R_{k*}: multiplies σ²; inf when k* is None


def bound_terms(eigenvalues, n: int, b: float = 1.0) -> BoundTerms:
    """The bias and variance terms of Bartlett et al.'s (2020) main theorem for n samples.

    The upper bound with these terms is their case (ii), k* < n/c₁ for a constant c₁ > 1;
    in case (i), k* ≥ n/c₁ (certainly when k* ≥ n or k* is None), the theorem gives only
    E R ≥ σ²/c, and the variance term is then not the prediction (it is ≥ k*/n, of order
    one, so a large value of it still flags a harmful spectrum).
    """
    lam = spectrum(eigenvalues)
    k = critical_index(lam, n, b)
    r0, _ = risk.effective_ranks(lam, 0)
    bias = lam[0].item() * max(math.sqrt(r0 / n), r0 / n)
    if k is None:
        return BoundTerms(None, r0, bias, math.inf)
    _, R = risk.effective_ranks(lam, k)
    return BoundTerms(k, r0, bias, k / n + n / R)


class RiskParts(NamedTuple):
    """Excess risk E_ξ (ŵ − w*)ᵀΣ(ŵ − w*) of the min-norm interpolant, given the design."""

    bias: torch.Tensor  # (w̄ − w*)ᵀΣ(w̄ − w*), w̄ = X⁺Xw*: the part without noise
    variance: torch.Tensor  # σ² tr(X⁺ᵀ Σ X⁺): the part the noise adds


def risk_of(w: torch.Tensor, w_star: torch.Tensor, eigenvalues) -> torch.Tensor:
    """(w − w*)ᵀ Σ (w − w*) for Σ = diag(eigenvalues): the excess risk of one estimate."""
    lam = check_tensor("eigenvalues", eigenvalues, ndim=1, real=True, convert=True, dtype=torch.float64)
    w, w_star = check_tensor("w", w, real=True), check_tensor("w_star", w_star, real=True)
    if w.shape != lam.shape or w_star.shape != lam.shape:
        raise ValueError(
            f"w, w_star: expected shape {tuple(lam.shape)}, got {tuple(w.shape)} and {tuple(w_star.shape)}"
        )
    return ((w.double() - w_star.double()) ** 2 * lam).sum()


def _cholesky(K: torch.Tensor) -> torch.Tensor:
    """Lower Cholesky factor of a Gram matrix, with a clear error when X lacks full row rank.

    (``cholesky_ex`` avoids a per-call overhead of ``torch.linalg.cholesky`` seen with small matrices.)
    """
    L, info = torch.linalg.cholesky_ex(K)
    if info.item() != 0:
        raise ValueError("X: expected full row rank (XXᵀ is not positive definite)")
    return L


def _pinv(X: torch.Tensor) -> torch.Tensor:
    """X⁺ = Xᵀ(XXᵀ)⁻¹ for X of full row rank, via a Cholesky solve; (p, n)."""
    L = _cholesky(X @ X.T)  # (n, n)
    return torch.cholesky_solve(X, L).T


def noise_profile(X: torch.Tensor, eigenvalues, noise: float = 1.0) -> tuple[torch.Tensor, torch.Tensor]:
    """Where the min-norm interpolant stores pure noise ξ ~ N(0, σ² I_n), coordinate by coordinate.

    ŵ_ξ = X⁺ξ. Returns two (p,) tensors: E ŵ_ξ,j² = σ² ‖(X⁺)_j‖² (its share of ‖ŵ_ξ‖²)
    and λ_j E ŵ_ξ,j² (its share of the variance term of the excess risk).
    """
    check_matrix("X", X)
    lam = spectrum(eigenvalues).to(X.dtype)
    if lam.numel() != X.shape[1]:
        raise ValueError(f"eigenvalues: expected {X.shape[1]} values to match X's columns, got {lam.numel()}")
    if X.shape[0] > X.shape[1]:
        raise ValueError(f"X: expected n ≤ p so that ŵ interpolates, got shape {tuple(X.shape)}")
    check_positive("noise", noise, allow_zero=True)
    norm = noise**2 * (_pinv(X) ** 2).sum(1)  # (p,)
    return norm, lam * norm


def excess_risk(X: torch.Tensor, w_star: torch.Tensor, eigenvalues, noise: float = 1.0) -> RiskParts:
    """Exact E_ξ of the excess risk of ŵ = X⁺(Xw* + ξ), ξ ~ N(0, σ² I_n), Σ = diag(eigenvalues).

    bias = (X⁺Xw* − w*)ᵀΣ(X⁺Xw* − w*),  variance = σ² tr(X⁺ᵀΣX⁺) = σ² tr(K⁻¹XΣXᵀK⁻¹)
    with K = XXᵀ (σ = ``noise``). X of shape (n, p) with n ≤ p and full row rank; cost O(n²p).
    """
    check_matrix("X", X)
    lam = spectrum(eigenvalues).to(X.dtype)
    n, p = X.shape
    if lam.numel() != p:
        raise ValueError(f"eigenvalues: expected {p} values to match X's columns, got {lam.numel()}")
    if n > p:
        raise ValueError(f"X: expected n ≤ p so that ŵ interpolates, got shape {tuple(X.shape)}")
    check_tensor("w_star", w_star, shape=(p,), real=True)
    check_positive("noise", noise, allow_zero=True)
    w_star = w_star.to(X.dtype)
    XS = X * lam  # (n, p) = XΣ
    M = XS @ X.T  # (n, n) = XΣXᵀ
    L = _cholesky(X @ X.T)  # (n, n), K = XXᵀ
    a = torch.cholesky_solve((X @ w_star)[:, None], L)[:, 0]  # (n,) K⁻¹Xw*, so X⁺Xw* = Xᵀa
    # (Xᵀa − w*)ᵀΣ(Xᵀa − w*), expanded so that no (p, n) matrix is formed
    bias = a @ M @ a - 2 * (a @ (XS @ w_star)) + (lam * w_star**2).sum()
    KinvM = torch.cholesky_solve(M, L)  # (n, n) = K⁻¹M
    variance = noise**2 * torch.trace(torch.cholesky_solve(KinvM.T, L))  # tr(K⁻¹MK⁻¹)
    return RiskParts(bias, variance)


def wishart(n: int, dof: int, seed: int | torch.Generator = 0) -> torch.Tensor:
    """W = ZZᵀ for Z of shape (n, dof) with i.i.d. N(0, 1) entries, drawn in O(n³) for any dof ≥ n.

    Bartlett decomposition: W = LLᵀ, L lower triangular, L_ii² ~ χ²(dof − i + 1), L_ij ~ N(0, 1)
    below the diagonal. The χ² draws come from a NumPy generator seeded from ``seed``.
    """
    check_positive_int("n", n)
    check_positive_int("dof", dof)
    if dof < n:
        raise ValueError(f"dof: expected at least n={n} degrees of freedom, got {dof}")
    gen = as_generator(seed)
    below = torch.arange(n)[:, None] > torch.arange(n)  # strictly lower triangle (faster than tril here)
    L = torch.randn(n, n, generator=gen, dtype=torch.float64) * below  # (n, n)
    rng = np.random.default_rng(int(torch.randint(2**62, (1,), generator=gen)))
    chi2 = rng.chisquare(dof - np.arange(n))  # (n,) degrees dof, dof − 1, ..., dof − n + 1
    L += torch.diag(torch.from_numpy(np.sqrt(chi2)))
    return L @ L.T


class SpikedRisk(NamedTuple):
    """Exact E_ξ of the excess risk and of where the noise goes, for a spiked spectrum."""

    bias: torch.Tensor  # noise-free part of the excess risk
    variance: torch.Tensor  # σ² tr(X⁺ᵀΣX⁺) = variance_spikes + variance_tail
    variance_spikes: torch.Tensor  # share of the variance from the strong directions
    variance_tail: torch.Tensor  # share from the weak tail
    norm_spikes: torch.Tensor  # E ‖ŵ_ξ‖² on the strong directions (ŵ_ξ = X⁺ξ)
    norm_tail: torch.Tensor  # E ‖ŵ_ξ‖² on the weak tail


def _spiked_parts(Xs: torch.Tensor, W: torch.Tensor, spikes, tail_value: float, w_star, noise: float) -> SpikedRisk:
    """:class:`SpikedRisk` from the spike block Xs (n, s) and the tail's Gram matrix W = Z_t Z_tᵀ (n, n).

    With X = [Xs, √ε Z_t]: XXᵀ = XsXsᵀ + εW, and every quantity depends on Z_t only through W.
    """
    eps, sig2 = float(tail_value), float(noise) ** 2
    K = Xs @ Xs.T + eps * W  # (n, n) = XXᵀ
    L = _cholesky(K)
    AXs = torch.cholesky_solve(Xs, L)  # (n, s) = K⁻¹Xs
    AW = torch.cholesky_solve(_cholesky(W), L)  # (n, n) = K⁻¹ chol(W)
    tail_tr = (AW**2).sum()  # tr(K⁻¹ W K⁻¹)
    G = Xs.T @ AXs  # (s, s) = Xsᵀ K⁻¹ Xs: the spike block of X⁺X
    u = AXs @ w_star  # (n,) K⁻¹ Xs w*
    e = G @ w_star - w_star  # (s,) error of the noise-free fit on the spikes
    bias = (spikes * e**2).sum() + eps**2 * (u @ W @ u)
    var_s = sig2 * (spikes * (AXs**2).sum(0)).sum()
    norm_s = sig2 * (AXs**2).sum()
    return SpikedRisk(
        bias, var_s + sig2 * eps**2 * tail_tr, var_s, sig2 * eps**2 * tail_tr, norm_s, sig2 * eps * tail_tr
    )


def spiked_tail_risk(
    n: int,
    spikes,
    tail_dim: int,
    tail_value: float,
    w_star,
    noise: float = 1.0,
    seed: int | torch.Generator = 0,
) -> SpikedRisk:
    """Exact noise-averaged excess risk of the min-norm interpolant for Σ = diag(spikes, ε I_m).

    Args:
        n: sample size.
        spikes: the s strong eigenvalues (s,).
        tail_dim: m ≥ n, the number of weak directions, any size (cost O(n³ + n²s)).
        tail_value: ε, their eigenvalue.
        w_star: the teacher on the strong directions (s,); zero on the tail.
        noise: σ, the noise standard deviation.
        seed: int or torch.Generator.

    The design is drawn exactly (rows x ~ N(0, Σ)): the spike block directly, the tail
    through its Gram matrix, a Wishart(m, I_n) draw (:func:`wishart`).
    """
    check_positive_int("n", n)
    spikes = check_tensor("spikes", spikes, real=True, convert=True, dtype=torch.float64)
    w_star = check_tensor("w_star", w_star, real=True, convert=True, dtype=torch.float64)
    if spikes.ndim != 1 or (spikes <= 0).any():
        raise ValueError("spikes: expected a 1-D tensor of positive eigenvalues")
    if w_star.shape != spikes.shape:
        raise ValueError(f"w_star: expected shape {tuple(spikes.shape)} to match spikes, got {tuple(w_star.shape)}")
    check_positive("tail_value", tail_value)
    check_positive("noise", noise, allow_zero=True)
    tail_dim = check_positive_int("tail_dim", tail_dim)  # numpy integers welcome
    if tail_dim < n:
        raise ValueError(f"tail_dim: expected an int ≥ n={n}, got {tail_dim}")
    gen = as_generator(seed)
    Xs = torch.randn(n, spikes.numel(), generator=gen, dtype=torch.float64) * spikes.sqrt()  # (n, s)
    return _spiked_parts(Xs, wishart(n, tail_dim, gen), spikes, tail_value, w_star, noise)
