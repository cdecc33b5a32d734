"""Nuclear norm, its proximal operator, effective rank, and the minimum-nuclear-norm interpolant.

Symbols: W (d1, d2) with singular values σ₁ ≥ σ₂ ≥ … ≥ 0; ‖W‖_* = Σₖ σₖ.

* Singular value thresholding (Cai, Candès & Shen 2010): the proximal operator of τ‖·‖_*,
  prox(X) = argmin_W ½‖W − X‖_F² + τ‖W‖_* = U diag((σₖ − τ)₊) Vᵀ for X = U diag(σ) Vᵀ.
* Effective rank (Roy & Vetterli 2007): with pₖ = σₖ / Σⱼ σⱼ, erank(W) = exp(−Σₖ pₖ log pₖ);
  it lies in [1, rank W] and equals r for r equal non-zero singular values.
* :func:`min_nuclear_norm` solves min ‖W‖_* subject to 𝒜(W) = y (Candès & Recht 2009 for
  completion) by accelerated proximal gradient (Beck & Teboulle 2009) on
  ½‖𝒜(W) − y‖² + λ‖W‖_* with λ decreased geometrically to a small λ_min (continuation,
  as in Toh & Yun 2010 and Mazumder, Hastie & Tibshirani 2010).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from overparam._check import check_positive, check_positive_int
from overparam.factorized import Measurements


def _matrix(name: str, X) -> torch.Tensor:
    if not isinstance(X, torch.Tensor):
        raise TypeError(f"{name}: expected a torch.Tensor, got {type(X).__name__}")
    if X.ndim < 2:
        raise ValueError(f"{name}: expected a matrix (..., d1, d2), got shape {tuple(X.shape)}")
    return X


def nuclear_norm(W: torch.Tensor) -> torch.Tensor:
    """‖W‖_* = Σₖ σₖ(W); batched over leading dimensions."""
    return torch.linalg.svdvals(_matrix("W", W)).sum(-1)


def svt(X: torch.Tensor, tau: float) -> torch.Tensor:
    """Singular value thresholding U diag((σ − τ)₊) Vᵀ, the prox of τ‖·‖_* (batched)."""
    X = _matrix("X", X)
    tau = check_positive("tau", tau, allow_zero=True)
    U, s, Vh = torch.linalg.svd(X, full_matrices=False)
    return (U * (s - tau).clamp_min(0).unsqueeze(-2)) @ Vh


def effective_rank(singular_values: torch.Tensor) -> torch.Tensor:
    """Entropy effective rank exp(H(p)), pₖ = σₖ/‖σ‖₁, over the last dimension (Roy & Vetterli 2007).

    Takes singular values (..., k), not a matrix: use ``torch.linalg.svdvals`` first.
    Zero singular values contribute 0·log 0 = 0; an all-zero vector raises.
    """
    s = singular_values
    if not isinstance(s, torch.Tensor) or s.ndim < 1:
        raise TypeError("singular_values: expected a tensor (..., k) of singular values")
    if (s < 0).any():
        raise ValueError("singular_values: expected non-negative values (singular values, not eigenvalues)")
    total = s.sum(-1, keepdim=True)
    if (total == 0).any():
        raise ValueError("singular_values: the effective rank of the zero matrix is undefined")
    p = s / total
    return torch.exp(-torch.special.xlogy(p, p).sum(-1))


@dataclass(frozen=True)
class NuclearResult:
    W: torch.Tensor  # (d1, d2) the minimizer found
    iterations: int  # proximal steps taken
    residual: float  # ‖𝒜(W) − y‖ / ‖y‖ at the end


def min_nuclear_norm(ops: Measurements, y: torch.Tensor, lam_min: float = 1e-9, decay: float = 0.7,
                     tol: float = 1e-10, max_iter: int = 20_000) -> NuclearResult:
    """min ‖W‖_* subject to 𝒜(W) = y, by accelerated proximal gradient with continuation.

    Iterates W ← svt(Z − 𝒜*(𝒜Z − y)/L, λ/L) with Nesterov momentum Z (FISTA), L = ‖𝒜‖²_op,
    and λ ← max(decay·λ, λ_min·λ₀), λ₀ = ‖𝒜*(y)‖_op (the smallest λ whose minimizer is 0).
    Momentum restarts whenever the objective at the current λ goes up (O'Donoghue & Candès 2015).
    Stops when λ has reached its floor and ‖W_{k+1} − W_k‖_F ≤ tol·max(1, ‖W_k‖_F).

    Args:
        ops: the measurement operator 𝒜. y: measurements (m,).
        lam_min: final penalty relative to λ₀ (the smaller, the closer to the constrained problem).
        decay: geometric factor in (0, 1) for the continuation on λ.
    """
    if not isinstance(ops, Measurements):
        raise TypeError(f"ops: expected a Measurements, got {type(ops).__name__}")
    if not isinstance(y, torch.Tensor) or y.shape != (ops.m,):
        raise ValueError(f"y: expected a tensor of shape ({ops.m},) with one value per measurement")
    check_positive("lam_min", lam_min)
    if not 0 < decay < 1:
        raise ValueError(f"decay: expected a factor in (0, 1), got {decay}")
    max_iter = check_positive_int("max_iter", max_iter)
    y = y.to(torch.float64) if not y.is_floating_point() else y
    if ops.A is None:
        L = 1.0  # completion: 𝒜*𝒜 is a 0/1 mask
    else:
        L = float(torch.linalg.matrix_norm(ops.A.reshape(ops.m, -1).to(y.dtype), ord=2)) ** 2
    lam0 = float(torch.linalg.matrix_norm(ops.adjoint(y), ord=2))
    lam, floor = lam0, lam_min * lam0

    def objective(W):
        return 0.5 * float(((ops(W) - y) ** 2).sum()) + lam * float(torch.linalg.svdvals(W).sum())

    W = torch.zeros(ops.shape, dtype=y.dtype)
    Z, t, f_prev = W, 1.0, objective(W)
    for k in range(1, max_iter + 1):
        lam = max(decay * lam, floor)
        W_new = svt(Z - ops.adjoint(ops(Z) - y) / L, lam / L)
        f_new = objective(W_new)
        if f_new > f_prev:  # adaptive restart
            t = 1.0
        t_new = (1 + (1 + 4 * t * t) ** 0.5) / 2
        Z = W_new + ((t - 1) / t_new) * (W_new - W)
        step = float(torch.linalg.matrix_norm(W_new - W))
        scale = max(1.0, float(torch.linalg.matrix_norm(W)))
        W, t, f_prev = W_new, t_new, f_new
        if lam == floor and step <= tol * scale:
            break
    residual = float(torch.linalg.vector_norm(ops(W) - y) / torch.linalg.vector_norm(y).clamp_min(1e-300))
    return NuclearResult(W, k, residual)
