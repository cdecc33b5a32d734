"""Closed-form risk of linear interpolation: the theory behind chapters 05 and 06.

* :func:`ridgeless_risk` -- the asymptotic excess risk of min-norm least squares with
  isotropic features, n, p → ∞ with p/n → γ (Hastie, Montanari, Rosset & Tibshirani 2022,
  Theorem 1; also Belkin, Hsu & Xu 2020).
* :func:`effective_ranks` -- r_k and R_k of Bartlett, Long, Lugosi & Tsigler (2020),
  the quantities that decide whether interpolation is benign.
"""

from __future__ import annotations

import torch


def ridgeless_risk(gamma, signal: float = 1.0, noise: float = 1.0) -> torch.Tensor:
    """Limiting excess test risk E[(xᵀ(ŵ − w*))²] of the min-norm interpolant.

    Model: x ~ N(0, I_p), y = xᵀw* + ε with ‖w*‖² = ``signal`` (r²) and
    Var ε = ``noise`` (σ²); ŵ = X⁺y from n samples; p/n → γ. Then

    * γ < 1: R = σ² γ / (1 − γ)           (pure variance, least squares is unbiased)
    * γ > 1: R = r² (1 − 1/γ) + σ² / (γ − 1)  (bias from the unseen directions + variance)

    and R = ∞ at γ = 1. ``gamma`` may be a number or a tensor; returns a float64 tensor.
    """
    g = torch.as_tensor(gamma, dtype=torch.float64)
    if (g <= 0).any():
        raise ValueError("gamma: expected ratios p/n > 0")
    if signal < 0 or noise < 0:
        raise ValueError(f"signal, noise: expected variances >= 0, got signal={signal}, noise={noise}")
    under = noise * g / (1 - g)
    over = signal * (1 - 1 / g) + noise / (g - 1)
    risk = torch.where(g < 1, under, over)
    return torch.where(g == 1, torch.full_like(g, float("inf")), risk)


def effective_ranks(eigenvalues, k: int) -> tuple[float, float]:
    """Effective ranks (r_k, R_k) of a covariance spectrum (Bartlett et al. 2020, Definition 3).

    With λ₁ ≥ λ₂ ≥ … the eigenvalues (sorted descending) and the tail sum
    s_k = Σ_{i>k} λ_i:  r_k = s_k / λ_{k+1}  and  R_k = s_k² / Σ_{i>k} λ_i².
    ``k`` counts the leading eigenvalues left out (k = 0 uses the whole spectrum).
    """
    lam = torch.as_tensor(eigenvalues, dtype=torch.float64)
    if lam.ndim != 1 or lam.numel() == 0:
        raise ValueError(f"eigenvalues: expected a non-empty 1-D tensor, got shape {tuple(lam.shape)}")
    if (lam < 0).any() or (lam[1:] > lam[:-1]).any():
        raise ValueError("eigenvalues: expected non-negative values sorted in descending order")
    if not isinstance(k, int) or not 0 <= k < lam.numel():
        raise ValueError(f"k: expected an int in [0, {lam.numel() - 1}], got {k!r}")
    tail = lam[k:]
    if tail[0] == 0:
        raise ValueError(f"eigenvalues: λ_(k+1) is zero for k={k}, so r_k is undefined")
    s = tail.sum()
    return (s / tail[0]).item(), (s**2 / (tail**2).sum()).item()
