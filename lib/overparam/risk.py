"""Closed-form risk of linear interpolation: the theory behind chapters 05 and 06.

* :func:`ridgeless_risk` -- the asymptotic excess risk of min-norm least squares with
  isotropic features, n, p → ∞ with p/n → γ (Hastie, Montanari, Rosset & Tibshirani 2022,
  Theorem 1; also Belkin, Hsu & Xu 2020).
* :func:`effective_ranks` -- r_k and R_k of Bartlett, Long, Lugosi & Tsigler (2020),
  the quantities that decide whether interpolation is benign.
"""

from __future__ import annotations

import torch

from overparam._check import check_int, check_positive, check_positive_int, check_seed, check_tensor


def _variances(signal, noise) -> tuple[float, float]:
    return check_positive("signal", signal, allow_zero=True), check_positive("noise", noise, allow_zero=True)


def _ratios(name: str, value) -> torch.Tensor:
    out = check_tensor(name, value, real=True, convert=True, dtype=torch.float64)
    if (out <= 0).any():
        raise ValueError(f"{name}: expected values > 0, got {value}")
    return out


def ridgeless_risk(gamma, signal: float = 1.0, noise: float = 1.0) -> torch.Tensor:
    """Limiting excess test risk E[(xᵀ(ŵ − w*))²] of the min-norm interpolant.

    Model: x ~ N(0, I_p), y = xᵀw* + ε with ‖w*‖² = ``signal`` (r²) and
    Var ε = ``noise`` (σ²); ŵ = X⁺y from n samples; p/n → γ. Then

    * γ < 1: R = σ² γ / (1 − γ)           (pure variance, least squares is unbiased)
    * γ > 1: R = r² (1 − 1/γ) + σ² / (γ − 1)  (bias from the unseen directions + variance)

    and R = ∞ at γ = 1. ``gamma`` may be a number or a tensor; returns a float64 tensor.
    """
    g = _ratios("gamma", gamma)  # ratios p/n > 0
    signal, noise = _variances(signal, noise)
    under = noise * g / (1 - g)
    over = signal * (1 - 1 / g) + noise / (g - 1)
    risk = torch.where(g < 1, under, over)
    return torch.where(g == 1, torch.full_like(g, float("inf")), risk)


def spectrum(eigenvalues) -> torch.Tensor:
    """A covariance spectrum as a float64 tensor, checked: 1-D, non-empty, ≥ 0, sorted descending."""
    lam = check_tensor("eigenvalues", eigenvalues, ndim=1, real=True, convert=True, dtype=torch.float64)
    if (lam < 0).any() or (lam[1:] > lam[:-1]).any():
        raise ValueError("eigenvalues: expected non-negative values sorted in descending order")
    return lam


def tail_ranks(eigenvalues) -> tuple[torch.Tensor, torch.Tensor]:
    """All effective ranks at once: (r_k, R_k) for k = 0..p−1, as two (p,) tensors.

    Same definitions as :func:`effective_ranks`, vectorized with reversed cumulative sums
    (s_k = Σ_{i>k} λ_i). Entries where λ_{k+1} = 0 are NaN.
    """
    lam = spectrum(eigenvalues)
    s = lam.flip(0).cumsum(0).flip(0)  # (p,) s_k
    s2 = (lam**2).flip(0).cumsum(0).flip(0)  # (p,) Σ_{i>k} λ_i²
    nan = torch.tensor(float("nan"), dtype=torch.float64)
    return torch.where(lam > 0, s / lam, nan), torch.where(lam > 0, s**2 / s2, nan)


def effective_ranks(eigenvalues, k: int) -> tuple[float, float]:
    """Effective ranks (r_k, R_k) of a covariance spectrum (Bartlett et al. 2020, their definition of effective ranks).

    With λ₁ ≥ λ₂ ≥ … the eigenvalues (sorted descending) and the tail sum
    s_k = Σ_{i>k} λ_i:  r_k = s_k / λ_{k+1}  and  R_k = s_k² / Σ_{i>k} λ_i².
    ``k`` counts the leading eigenvalues left out (k = 0 uses the whole spectrum).
    """
    lam = spectrum(eigenvalues)
    k = check_int("k", k, min=0, max=lam.numel() - 1)
    if lam[k] == 0:
        raise ValueError(f"eigenvalues: λ_(k+1) is zero for k={k}, so r_k is undefined")
    r, R = tail_ranks(lam)
    return r[k].item(), R[k].item()


def ridgeless_risk_finite(n: int, p: int, signal: float = 1.0, noise: float = 1.0) -> float:
    """Exact expected excess risk E‖ŵ − w*‖² of the min-norm estimator at finite n and p.

    Same model as :func:`ridgeless_risk` with Gaussian rows x ~ N(0, I_p) (Belkin, Hsu & Xu
    2020, Theorem 1; Hastie et al. 2022, Section 2). From the mean of an inverse Wishart
    matrix, E[(XᵀX)⁻¹] = I/(n − p − 1) and E[(XXᵀ)⁻¹] = I/(p − n − 1):

    * p < n − 1: E R = σ² p / (n − p − 1)
    * p > n + 1: E R = r² (1 − n/p) + σ² n / (p − n − 1)

    and E R = ∞ for abs(p − n) ≤ 1 (the variance term diverges). Returns a float.
    """
    n, p = check_positive_int("n", n), check_positive_int("p", p)
    signal, noise = _variances(signal, noise)
    if p < n - 1:
        return noise * p / (n - p - 1)
    if p > n + 1:
        return signal * (1 - n / p) + noise * n / (p - n - 1)
    return float("inf")


def _mp_stieltjes(g: torch.Tensor, lam: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """m = ∫ dF(s)/(s + λ) and m2 = ∫ dF(s)/(s + λ)² for the Marchenko–Pastur law of ratio γ.

    F is the limiting spectrum of XᵀX/n (p × p, with its atom of mass 1 − 1/γ at 0 when γ > 1).
    """
    a = 1 - g + lam
    D = torch.sqrt(a**2 + 4 * g * lam)
    m = (D - a) / (2 * g * lam)
    dD = (a + 2 * g) / D  # d D / d λ
    dm = ((dD - 1) * lam - (D - a)) / (2 * g * lam**2)  # d m / d λ
    return m, -dm


def ridge_risk(gamma, alpha, signal: float = 1.0, noise: float = 1.0) -> torch.Tensor:
    """Limiting excess risk of ridge regression with penalty α, isotropic features.

    Ridge: ŵ = argmin ‖Xw − y‖²/(2n) + (α/2)‖w‖² (as :func:`overparam.linear.ridge`), with
    x ~ N(0, I_p), ‖w*‖² = r², Var ε = σ², p/n → γ. With m(−α) = ∫ dF(s)/(s + α) the
    Stieltjes transform of the Marchenko–Pastur law (Dobriban & Wager 2018, Theorem 2.1;
    Hastie et al. 2022, Theorem 5):

        R(α) = r² α² ∫ dF/(s + α)²  +  σ² γ ∫ s dF/(s + α)²   (bias + variance).

    ``gamma`` and ``alpha`` (> 0) broadcast; returns a float64 tensor.
    """
    g = _ratios("gamma", gamma)  # ratios p/n > 0
    lam = _ratios("alpha", alpha)  # penalties > 0 (alpha → 0 is ridgeless_risk)
    signal, noise = _variances(signal, noise)
    m, m2 = _mp_stieltjes(g, lam)
    return signal * lam**2 * m2 + noise * g * (m - lam * m2)


def optimal_ridge_risk(gamma, signal: float = 1.0, noise: float = 1.0) -> torch.Tensor:
    """Limiting risk of optimally tuned ridge, at α* = σ²γ/r² (Dobriban & Wager 2018, Theorem 2.1).

    Monotone increasing in γ: optimal regularization leaves no peak at γ = 1.
    """
    signal, noise = _variances(signal, noise)
    if signal <= 0:
        raise ValueError(f"signal: expected r² > 0 for a finite optimal penalty, got {signal}")
    g = _ratios("gamma", gamma)
    return ridge_risk(g, noise * g / signal, signal, noise)


def monte_carlo_risk(n: int, ps: list[int], alphas, signal: float = 1.0, noise: float = 1.0,
                     seeds: list[int] = (0,)) -> torch.Tensor:
    """Excess risks ‖ŵ_α − w*‖² of ridge (α = 0: min-norm) on fresh Gaussian problems.

    For each seed and each p: X (n, p) with N(0, 1) entries, w* uniform on the sphere of
    radius r = √signal, y = Xw* + ε with ε ~ N(0, noise); ŵ_α from
    :func:`overparam.linear.ridge` (one SVD for all α). With Σ = I the excess test risk
    E_x[(xᵀ(ŵ − w*))²] is exactly ‖ŵ − w*‖², so no test set is drawn.
    Returns a float64 tensor of shape (len(seeds), len(alphas), len(ps)).
    """
    from overparam import data, linear

    n = check_positive_int("n", n)
    ps = _int_list("ps", ps)
    alphas = check_tensor("alphas", alphas, ndim=(0, 1), real=True, convert=True, dtype=torch.float64).reshape(-1)
    if (alphas < 0).any():
        raise ValueError(f"alphas: expected penalties >= 0, got {alphas.tolist()}")
    signal, noise = _variances(signal, noise)
    seeds = [check_seed("seeds", s) for s in _int_list("seeds", seeds, minimum=0)]
    out = torch.zeros(len(seeds), len(alphas), len(ps), dtype=torch.float64)
    for i, seed in enumerate(seeds):
        for j, p in enumerate(ps):
            gen = torch.Generator().manual_seed(seed * 100_003 + p)
            X = data.gaussian_design(n, torch.ones(p), gen)  # (n, p)
            w = torch.randn(p, generator=gen, dtype=torch.float64)
            w = w * (signal**0.5 / w.norm())
            y = X @ w + noise**0.5 * torch.randn(n, generator=gen, dtype=torch.float64)
            out[i, :, j] = ((linear.ridge(X, y, alphas) - w) ** 2).sum(-1)
    return out


def _int_list(name: str, values, minimum: int = 1) -> list[int]:
    """A non-empty list of ints >= minimum, from a list, tuple, range or 1-D integer tensor/array."""
    if hasattr(values, "tolist") and not isinstance(values, list):
        values = values.tolist()
    if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
        raise TypeError(f"{name}: expected a list of ints, got {type(values).__name__}")
    values = list(values)
    if not values:
        raise ValueError(f"{name}: expected a non-empty list of ints")
    return [check_int(name, v, min=minimum) for v in values]
