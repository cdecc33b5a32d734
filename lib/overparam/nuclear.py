"""Nuclear norm, its proximal operator, effective rank, and the minimum-nuclear-norm interpolant.

Symbols: W (d1, d2) with singular values σ₁ ≥ σ₂ ≥ … ≥ 0; ‖W‖_* = Σₖ σₖ.

* Singular value thresholding (Cai, Candès & Shen 2010): the proximal operator of τ‖·‖_*,
  prox(X) = argmin_W ½‖W − X‖_F² + τ‖W‖_* = U diag((σₖ − τ)₊) Vᵀ for X = U diag(σ) Vᵀ.
* Effective rank (Roy & Vetterli 2007): with pₖ = σₖ / Σⱼ σⱼ, erank(W) = exp(−Σₖ pₖ log pₖ);
  it lies in [1, rank W] and equals r for r equal non-zero singular values.
* :func:`min_nuclear_norm` solves min ‖W‖_* subject to 𝒜(W) = y (Candès & Recht 2009 for
  completion) by Douglas–Rachford splitting: alternate the projection onto the
  constraint set with singular value thresholding. Every iterate W is feasible.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from overparam._check import check_finite, check_positive, check_positive_int, check_tensor
from overparam.factorized import Measurements


def _matrix(name: str, X) -> torch.Tensor:
    if not isinstance(X, torch.Tensor):
        raise TypeError(f"{name}: expected a torch.Tensor, got {type(X).__name__}")
    if X.ndim < 2:
        raise ValueError(f"{name}: expected a matrix (..., d1, d2), got shape {tuple(X.shape)}")
    return check_tensor(name, X)  # non-empty, finite


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
    check_tensor("singular_values", s, real=True)
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
    iterations: int  # Douglas–Rachford steps taken
    residual: float  # ‖𝒜(W) − y‖ / ‖y‖ at the end


def affine_projector(ops: Measurements, y: torch.Tensor):
    """The Euclidean projection onto {W : 𝒜(W) = y}, W ↦ W − 𝒜⁺(𝒜(W) − y).

    For completion this overwrites the observed entries with y; for sensing it uses the
    pseudo-inverse of the (m, d1·d2) matrix of 𝒜 (assumed of full row rank m).
    """
    if ops.A is None:
        def project(W):
            W = W.clone()
            W[..., ops.rows, ops.cols] = y
            return W
        return project
    A = ops.A.reshape(ops.m, -1).to(y.dtype)  # (m, d1·d2)
    A_pinv = torch.linalg.pinv(A)  # (d1·d2, m)

    def project(W):
        return W - (A_pinv @ (ops(W) - y)).reshape(ops.shape)
    return project


def min_nuclear_norm(ops: Measurements, y: torch.Tensor, step: float | None = None, tol: float = 1e-9,
                     max_iter: int = 5000) -> NuclearResult:
    """min ‖W‖_* subject to 𝒜(W) = y, by Douglas–Rachford splitting (Lions & Mercier 1979).

    With P the projection onto the constraint set (:func:`affine_projector`) and S the SVT at
    threshold t (the prox of t‖·‖_*), the iteration is

        W = P(Z),   Z ← Z + S(2W − Z) − W,

    and W converges to a minimizer for any t > 0 (Eckstein & Bertsekas 1992). Every W is
    feasible, so the constraint holds exactly; only the objective converges. Stops when
    ‖S(2W − Z) − W‖_F ≤ tol·max(1, ‖W‖_F), the distance between the two half-steps.

    Args:
        ops: the measurement operator 𝒜.
        y: measurements (m,).
        step: the threshold t; default ‖y‖/√m / 2, half the root-mean-square measurement.
        tol: relative stopping tolerance.
        max_iter: cap on iterations.
    """
    if not isinstance(ops, Measurements):
        raise TypeError(f"ops: expected a Measurements, got {type(ops).__name__}")
    if not isinstance(y, torch.Tensor) or y.shape != (ops.m,):
        raise ValueError(f"y: expected a tensor of shape ({ops.m},) with one value per measurement")
    y = check_finite("y", y.to(torch.float64) if not y.is_floating_point() else y)
    t = 0.5 * float(torch.linalg.vector_norm(y)) / ops.m**0.5 if step is None else check_positive("step", step)
    check_positive("tol", tol)
    max_iter = check_positive_int("max_iter", max_iter)
    project = affine_projector(ops, y)
    Z = project(torch.zeros(ops.shape, dtype=y.dtype))
    k = 0
    while k < max_iter:
        k += 1
        W = project(Z)
        gap = svt(2 * W - Z, t) - W
        Z = Z + gap
        if float(torch.linalg.matrix_norm(gap)) <= tol * max(1.0, float(torch.linalg.matrix_norm(W))):
            break
    W = project(Z)
    residual = float(torch.linalg.vector_norm(ops(W) - y) / torch.linalg.vector_norm(y).clamp_min(1e-300))
    return NuclearResult(W, k, residual)
