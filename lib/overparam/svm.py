"""Maximum-margin linear separators through the origin: the limits of chapter 03.

Conventions: X is (n, d), labels y are ±1, and x̃ₙ = yₙ xₙ are the signed points.
The hard-margin SVM (no bias, as in Soudry et al. 2018) is

    ŵ = argmin ‖w‖₂²/2  subject to  x̃ₙᵀw ≥ 1 for all n,

whose ℓ2 margin is γ = 1/‖ŵ‖₂. We solve its dual, a non-negative quadratic program,

    min_{α ≥ 0}  ½ ‖X̃ᵀα‖² − 1ᵀα,   ŵ = X̃ᵀα,

by accelerated projected gradient (FISTA with restarts), then polish it exactly on the
set of support vectors (points with x̃ₙᵀŵ = 1) by least squares. Nothing here uses
gradient descent on the logistic loss, so the chapter can compare the two.

The max-margin separators for the ℓ∞ and ℓ1 norms (the limits of steepest descent in
those norms, Gunasekar et al. 2018) are linear programs, solved with ``scipy.optimize.linprog``.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import torch
from scipy.optimize import linprog

from overparam._check import ConvergenceError, check_finite, check_matrix, check_positive, check_positive_int

NORMS = ("l2", "linf", "l1")


class SVM(NamedTuple):
    """The hard-margin SVM through the origin."""

    w: torch.Tensor  # (d,) ŵ, scaled so that min_n x̃ₙᵀŵ = 1
    alpha: torch.Tensor  # (n,) dual variables, ŵ = Σ αₙ x̃ₙ, αₙ = 0 off the support
    margin: float  # γ = 1/‖ŵ‖₂, the largest ℓ2 margin of a unit-norm separator
    support: torch.Tensor  # (n,) bool, the support vectors (x̃ₙᵀŵ = 1 up to rounding)


def signed_points(X: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """x̃ₙ = yₙ xₙ, shape (n, d), after checking that X is (n, d) and y is (n,) with entries ±1."""
    check_matrix("X", X)
    if not isinstance(y, torch.Tensor) or y.shape != (X.shape[0],):
        got = tuple(y.shape) if isinstance(y, torch.Tensor) else type(y).__name__
        raise ValueError(f"y: expected a tensor of shape ({X.shape[0]},) matching X's rows, got {got}")
    if not ((y == 1) | (y == -1)).all():
        raise ValueError("y: expected labels in {-1, +1}")
    if not X.is_floating_point():
        X = X.to(torch.float64)
    return y.to(X.dtype)[:, None] * X


def is_separable(X: torch.Tensor, y: torch.Tensor) -> bool:
    """Whether some w has yₙ xₙᵀw > 0 for all n (an LP feasibility problem: x̃ₙᵀw ≥ 1)."""
    A = signed_points(X, y).double().numpy()
    res = linprog(np.zeros(A.shape[1]), A_ub=-A, b_ub=-np.ones(A.shape[0]), bounds=(None, None), method="highs")
    return res.status == 0


def _require_separable(X: torch.Tensor, y: torch.Tensor) -> None:
    if not is_separable(X, y):
        raise ValueError("X, y: the data are not linearly separable by a hyperplane through the origin")


def margin(X: torch.Tensor, y: torch.Tensor, w: torch.Tensor, norm: str = "l2") -> torch.Tensor:
    """Normalized margin min_n yₙ xₙᵀw / ‖w‖ of a separator w (d,) or of rows of W (k, d).

    Returns a scalar or a (k,) tensor; ``norm`` is "l2", "linf" or "l1".
    """
    A = signed_points(X, y)
    if norm not in NORMS:
        raise ValueError(f"norm: expected one of {NORMS}, got {norm!r}")
    if not isinstance(w, torch.Tensor) or w.shape[-1] != A.shape[1] or w.ndim not in (1, 2):
        raise ValueError(f"w: expected shape ({A.shape[1]},) or (k, {A.shape[1]}), got {getattr(w, 'shape', w)}")
    w = check_finite("w", w).to(A.dtype)
    p = {"l2": 2, "linf": float("inf"), "l1": 1}[norm]
    return (w @ A.T).min(dim=-1).values / torch.linalg.vector_norm(w, ord=p, dim=-1)


def _fista(Q: np.ndarray, max_iter: int, tol: float) -> np.ndarray:
    """min_{α≥0} ½αᵀQα − 1ᵀα by accelerated projected gradient with adaptive restart."""
    step = 1.0 / np.linalg.eigvalsh(Q)[-1]
    alpha = np.zeros(Q.shape[0])
    z, theta = alpha.copy(), 1.0
    for _ in range(max_iter):
        grad = Q @ z - 1.0
        new = np.maximum(z - step * grad, 0.0)
        if (new - alpha) @ (z - new) > 0:  # restart when momentum points uphill (O'Donoghue & Candès 2015)
            theta, z = 1.0, alpha.copy()
            continue
        theta_new = (1 + np.sqrt(1 + 4 * theta**2)) / 2
        z = new + (theta - 1) / theta_new * (new - alpha)
        done = np.abs(new - alpha).max() <= tol * max(1.0, np.abs(new).max())
        alpha, theta = new, theta_new
        if done:
            break
    return alpha


def hard_margin(X: torch.Tensor, y: torch.Tensor, tol: float = 1e-12, max_iter: int = 200_000) -> SVM:
    """The hard-margin SVM through the origin (module docstring), in float64.

    Args:
        X: points (n, d).
        y: labels (n,) in {-1, +1}.
        tol: relative change of α at which the accelerated dual iteration stops.
        max_iter: cap on dual iterations before the exact polish on the support.

    Raises:
        ValueError: if the data are not separable by a hyperplane through the origin.
        ConvergenceError: if after ``max_iter`` iterations and the polish the separator is
            infeasible (some x̃ₙᵀŵ < 1) or its duality gap exceeds 1e-6 relative: the
            result would not be the SVM.
    """
    A = signed_points(X, y)
    check_positive("tol", tol)
    max_iter = check_positive_int("max_iter", max_iter)
    _require_separable(X, y)
    An = A.double().numpy()  # (n, d)
    alpha = _fista(An @ An.T, max_iter, tol)
    w = An.T @ alpha
    # Polish: on the support S the solution is the least-norm w with x̃ₙᵀw = 1 (n ∈ S).
    support = An @ w <= 1 + 1e-6
    w_s, *_ = np.linalg.lstsq(An[support], np.ones(support.sum()), rcond=None)
    a_s, *_ = np.linalg.lstsq(An[support].T, w_s, rcond=None)
    if (An @ w_s).min() >= 1 - 1e-9 and a_s.min() >= -1e-9:
        w, alpha = w_s, np.zeros_like(alpha)
        alpha[support] = np.maximum(a_s, 0.0)
    low = float((An @ w).min())
    gap = abs(w @ w - alpha.sum()) / max(w @ w, 1e-300)  # at the optimum Σα = ‖ŵ‖² (complementary slackness)
    if low < 1 - 1e-6 or gap > 1e-6:
        raise ConvergenceError(
            f"max_iter: the dual iteration did not converge in max_iter={max_iter} iterations "
            f"(min margin x̃ₙᵀw = {low:.4g}, expected >= 1; relative duality gap {gap:.2g}); "
            "raise max_iter or lower tol"
        )
    out = torch.from_numpy(w).to(A.dtype)
    support = torch.from_numpy(np.abs(An @ w - 1) <= 1e-6)
    return SVM(out, torch.from_numpy(alpha).to(A.dtype), float(1 / np.linalg.norm(w)), support)


def max_margin(X: torch.Tensor, y: torch.Tensor, norm: str = "l2") -> tuple[torch.Tensor, float]:
    """Direction and value of the largest margin  max_{‖w‖ ≤ 1} min_n yₙ xₙᵀw  in the given norm.

    Returns (w, γ) with ‖w‖ = 1 in that norm. "l2" is :func:`hard_margin` rescaled;
    "linf" and "l1" are linear programs (the limits of sign descent and of greedy
    coordinate descent, Gunasekar et al. 2018, Theorem 5).
    """
    A = signed_points(X, y)
    if norm not in NORMS:
        raise ValueError(f"norm: expected one of {NORMS}, got {norm!r}")
    if norm == "l2":
        svm = hard_margin(X, y)
        return svm.w * svm.margin, svm.margin
    _require_separable(X, y)
    An = A.double().numpy()
    n, d = An.shape
    c = np.zeros(2 * d + 1)
    c[-1] = -1.0  # maximize γ
    if norm == "linf":  # variables (w, unused, γ): x̃ₙᵀw ≥ γ, |wᵢ| ≤ 1
        A_ub = np.hstack([-An, np.zeros((n, d)), np.ones((n, 1))])
        bounds = [(-1, 1)] * d + [(0, 0)] * d + [(None, None)]
        res = linprog(c, A_ub=A_ub, b_ub=np.zeros(n), bounds=bounds, method="highs")
        w = res.x[:d]
    else:  # w = u − v with u, v ≥ 0, Σ(u + v) ≤ 1
        A_ub = np.vstack([np.hstack([-An, An, np.ones((n, 1))]), np.r_[np.ones(2 * d), 0.0][None]])
        b_ub = np.r_[np.zeros(n), 1.0]
        res = linprog(c, A_ub=A_ub, b_ub=b_ub, bounds=[(0, None)] * (2 * d) + [(None, None)], method="highs")
        w = res.x[:d] - res.x[d : 2 * d]
    return torch.from_numpy(w).to(A.dtype), float(-res.fun)
