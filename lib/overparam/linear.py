"""Least squares in closed form and by gradient descent: the model of chapter 02.

Conventions: X is (n, p), y is (n,); the loss is L(w) = ‖Xw − y‖² / (2n), so one
full-batch gradient step is w ← w − η Xᵀ(Xw − y)/n. With the thin SVD
X = U S Vᵀ and λᵢ = sᵢ²/n the eigenvalues of the empirical covariance XᵀX/n,
gradient descent from w₀ after t steps is, exactly,

    w_t = P_null w₀ + Σᵢ [(1 − ηλᵢ)ᵗ (vᵢᵀw₀) + (1 − (1 − ηλᵢ)ᵗ) (uᵢᵀy)/sᵢ] vᵢ,

and ridge with penalty (α/2)‖w‖² is Σᵢ sᵢ/(sᵢ² + nα) (uᵢᵀy) vᵢ. The shrinkage
factors 1 − (1 − ηλᵢ)ᵗ and λᵢ/(λᵢ + α) are compared in Ali, Kolter & Tibshirani (2019).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch

from overparam._check import (
    DivergenceError,
    as_generator,
    check_matrix,
    check_positive,
    check_positive_int,
    check_real,
    check_targets,
    check_tensor,
)

RANK_RTOL = 1e-10  # singular values below RANK_RTOL * s_max count as zero


def _xy(X: torch.Tensor, y: torch.Tensor, vector: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    _matrix(X)
    check_targets("y", y, X.shape[0])
    if vector and y.ndim != 1:
        raise ValueError(f"y: expected a 1-D tensor of {X.shape[0]} targets, got shape {tuple(y.shape)}")
    if y.dtype != X.dtype:
        y = y.to(X.dtype)
    return X, y


def _matrix(X: torch.Tensor) -> torch.Tensor:
    check_matrix("X", X)
    if X.shape[1] == 0:
        raise ValueError(f"X: expected at least one column, got shape {tuple(X.shape)}")
    if not X.is_floating_point():
        raise TypeError(f"X: expected a floating-point tensor (float32 or float64), got {X.dtype}")
    return X


class SVD(NamedTuple):
    """Thin SVD of X restricted to its non-zero singular values: X = U diag(s) Vᵀ."""

    U: torch.Tensor  # (n, r)
    s: torch.Tensor  # (r,)
    V: torch.Tensor  # (p, r)


def svd(X: torch.Tensor, rtol: float = RANK_RTOL) -> SVD:
    """Thin SVD keeping singular values above ``rtol · s_max`` (the numerical rank)."""
    _matrix(X)
    check_real("rtol", rtol, min=0.0)
    U, s, Vh = torch.linalg.svd(X, full_matrices=False)
    keep = s > rtol * s.max() if s.numel() and s.max() > 0 else torch.zeros_like(s, dtype=torch.bool)
    return SVD(U[:, keep], s[keep], Vh[keep].T)


def min_norm(X: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """argmin ‖w‖₂ subject to Xw = y: the pseudo-inverse solution X⁺y.

    When no w interpolates (n > rank X) this is the least-norm minimizer of ‖Xw − y‖.
    Shapes: X (n, p), y (n,) or (n, k); returns (p,) or (p, k).
    """
    X, y = _xy(X, y)
    U, s, V = svd(X)
    coef = U.T @ y  # (r,) or (r, k)
    return V @ (coef / (s if y.ndim == 1 else s[:, None]))


def null_space(X: torch.Tensor) -> torch.Tensor:
    """Orthonormal basis of {v : Xv = 0}, shape (p, p − rank X), rank as in :func:`svd`."""
    _matrix(X)
    _, s, Vh = torch.linalg.svd(X, full_matrices=True)
    rank = int((s > RANK_RTOL * s.max()).sum())
    return Vh[rank:].T


def project_to_solutions(X: torch.Tensor, y: torch.Tensor, w0: torch.Tensor) -> torch.Tensor:
    """Euclidean projection w0 − X⁺(Xw0 − y) of w0 onto the affine set {w : Xw = y}.

    The set is non-empty when y lies in the column space of X (always, for X of full
    row rank); otherwise the result is the point of {w : XᵀXw = Xᵀy} nearest to w0.
    """
    X, y = _xy(X, y)
    w0 = _vector("w0", w0, X)
    return w0 - min_norm(X, X @ w0 - y)


def _vector(name: str, w: torch.Tensor, X: torch.Tensor) -> torch.Tensor:
    if not isinstance(w, torch.Tensor) or w.shape != (X.shape[1],):
        got = tuple(w.shape) if isinstance(w, torch.Tensor) else type(w).__name__
        raise ValueError(f"{name}: expected a tensor of shape ({X.shape[1]},) (X's columns), got {got}")
    return check_tensor(name, w, real=True).to(X.dtype)


def gd_least_squares(
    X: torch.Tensor, y: torch.Tensor, lr: float, steps: int, w0: torch.Tensor | None = None
) -> torch.Tensor:
    """Final iterate of full-batch gradient descent on ‖Xw − y‖²/(2n).

    Args:
        X: design (n, p).
        y: targets (n,).
        lr: step size η > 0; GD converges when η < 2/λ_max(XᵀX/n).
        steps: number of steps t >= 0.
        w0: starting point (p,); zero by default.

    Raises:
        DivergenceError: (a ``FloatingPointError``) if the loss grows or the iterate becomes
            non-finite: for a quadratic the loss decreases at every step when η < 2/λ_max,
            so growth means η is too large.
    """
    X, y = _xy(X, y, vector=True)
    lr = check_positive("lr", lr)
    steps = check_positive_int("steps", steps, allow_zero=True)
    w = torch.zeros(X.shape[1], dtype=X.dtype) if w0 is None else _vector("w0", w0, X).clone()
    n = X.shape[0]
    start = None
    for t in range(steps):
        r = X @ w - y  # (n,) residual; ‖r‖² is 2n times the loss
        loss = float(r @ r)
        start = loss if start is None else start
        if not (math.isfinite(loss) and loss <= start * (1 + 1e-6) + 1e-300):
            _diverged(X, lr, t, loss, start)
        w = w - lr * (X.T @ r) / n
    if not torch.isfinite(w).all():
        _diverged(X, lr, steps, math.inf, start)
    return w


def _diverged(X: torch.Tensor, lr: float, t: int, loss: float, start: float | None):
    bound = 2 / (torch.linalg.matrix_norm(X, 2).item() ** 2 / X.shape[0])
    raise DivergenceError(
        f"lr: gradient descent diverged by step {t} with lr={lr:.4g} (the loss grew from "
        f"{start:.4g} to {loss:.4g}); the step must be below 2/λ_max(XᵀX/n) = {bound:.4g}"
    )


def gd_path(
    X: torch.Tensor, y: torch.Tensor, lr: float, steps: torch.Tensor, w0: torch.Tensor | None = None
) -> torch.Tensor:
    """Gradient-descent iterates at several step counts at once, in closed form (module docstring).

    ``steps`` is a 1-D tensor of integer step counts; returns (len(steps), p). Agrees with
    :func:`gd_least_squares` up to rounding, at a cost independent of the step counts.
    """
    X, y = _xy(X, y, vector=True)
    check_positive("lr", lr)
    steps = check_tensor("steps", steps, ndim=1, convert=True)
    if steps.is_floating_point() or steps.is_complex() or steps.dtype == torch.bool or (steps < 0).any():
        raise ValueError(f"steps: expected a 1-D tensor of integer step counts >= 0, got {steps}")
    U, s, V = svd(X)
    n = X.shape[0]
    lam = s**2 / n  # (r,) eigenvalues of XᵀX/n
    if lam.numel() and lr * lam.max() >= 2:
        bound = 2 / lam.max().item()
        raise DivergenceError(f"lr: gradient descent diverges with lr={lr}: need lr < 2/λ_max = {bound:.4g}")
    w0 = torch.zeros(X.shape[1], dtype=X.dtype) if w0 is None else _vector("w0", w0, X)
    decay = (1 - lr * lam)[None, :] ** steps.to(X.dtype)[:, None]  # (T, r)
    c0, c_star = V.T @ w0, (U.T @ y) / s  # (r,), (r,)
    coef = decay * c0 + (1 - decay) * c_star  # (T, r)
    return (w0 - V @ c0)[None, :] + coef @ V.T


def ridge(X: torch.Tensor, y: torch.Tensor, alpha: float | torch.Tensor) -> torch.Tensor:
    """Ridge regression argmin ‖Xw − y‖²/(2n) + (α/2)‖w‖².

    ``alpha`` may be a number (returns (p,)) or a 1-D tensor of penalties (returns
    (len(alpha), p)), all computed from one SVD. α = 0 gives :func:`min_norm`.
    Shapes: X (n, p), y (n,).
    """
    X, y = _xy(X, y, vector=True)
    alphas = check_tensor("alpha", alpha, ndim=(0, 1), real=True, convert=True, dtype=X.dtype)
    if alphas.ndim > 1 or (alphas < 0).any() or not torch.isfinite(alphas).all():
        raise ValueError(f"alpha: expected a finite penalty >= 0 or a 1-D tensor of them, got {alpha}")
    U, s, V = svd(X)
    n = X.shape[0]
    shrink = s / (s**2 + n * alphas.reshape(-1, 1))  # (A, r)
    w = (shrink * (U.T @ y)) @ V.T  # (A, p)
    return w[0] if alphas.ndim == 0 else w


def high_norm_interpolant(
    X: torch.Tensor, y: torch.Tensor, norm_ratio: float | torch.Tensor, seed: int | torch.Generator = 0
) -> torch.Tensor:
    """Interpolants of norm ``norm_ratio · ‖X⁺y‖``: X⁺y plus a random null-space vector.

    Every solution of Xw = y is X⁺y + z with Xz = 0, and the two parts are orthogonal, so
    ‖w‖² = ‖X⁺y‖² + ‖z‖². The direction u of z is the null-space projection of a standard
    Gaussian vector, hence uniform on the unit sphere of the null space; the same u serves
    every ratio. ``norm_ratio`` >= 1 is a number (returns (p,)) or a 1-D tensor (returns
    (len(norm_ratio), p)); a ratio above 1 needs rank X < p. Use a ``seed`` other than the
    one that drew X: the same generator state would draw a row of X, which has no null part.
    """
    X, y = _xy(X, y, vector=True)
    ratios = check_tensor("norm_ratio", norm_ratio, ndim=(0, 1), real=True, convert=True, finite=False,
                          dtype=X.dtype)
    if ratios.ndim > 1 or not (ratios >= 1).all() or not torch.isfinite(ratios).all():
        raise ValueError(f"norm_ratio: expected numbers >= 1 (no interpolant is shorter than X⁺y), got {norm_ratio}")
    U, s, V = svd(X)
    w = V @ ((U.T @ y) / s)  # (p,) X⁺y
    g = torch.randn(X.shape[1], generator=as_generator(seed), dtype=X.dtype)
    u = g - V @ (V.T @ g)  # (p,) projection onto the null space
    u = u - V @ (V.T @ u)  # a second pass removes the rounding left in the row space
    if u.norm() <= 1e-6 * g.norm():
        if (ratios > 1).any():
            raise ValueError(
                "X: no null-space direction drawn (rank X = p, or seed drew a vector in the row space of X)"
            )
        return w + 0 * ratios[..., None] * u
    u = u / u.norm()
    scale = w.norm() * (ratios**2 - 1).sqrt()  # () or (R,)
    return w + scale[..., None] * u


def gd_shrinkage(eigenvalues: torch.Tensor, lr: float, steps: int | torch.Tensor) -> torch.Tensor:
    """Fraction 1 − (1 − ηλ)ᵗ of the least-squares coefficient that GD has fitted after t steps.

    ``eigenvalues`` λ >= 0 and ``steps`` t >= 0 are numbers, lists or tensors (broadcast);
    integers are promoted to float64, so nothing truncates. Returns a float tensor.
    """
    lam = _nonnegative("eigenvalues", eigenvalues)
    lr = check_positive("lr", lr)
    t = _nonnegative("steps", steps).to(lam.dtype)
    return 1 - (1 - lr * lam) ** t


def _nonnegative(name: str, value) -> torch.Tensor:
    if isinstance(value, bool) or (isinstance(value, torch.Tensor) and value.dtype == torch.bool):
        raise TypeError(f"{name}: expected numbers, got a bool")
    out = check_tensor(name, value, real=True, convert=True)
    if (out < 0).any():
        raise ValueError(f"{name}: expected values >= 0, got {value}")
    return out


def ridge_shrinkage(eigenvalues: torch.Tensor, alpha: float | torch.Tensor) -> torch.Tensor:
    """Fraction λ/(λ + α) of the least-squares coefficient that ridge keeps.

    ``eigenvalues`` λ >= 0 and penalties ``alpha`` α >= 0 are numbers, lists or tensors
    (broadcast); integers are promoted to float64: ``ridge_shrinkage([1, 2], 0.5)`` is
    [2/3, 4/5]. Returns a float tensor.
    """
    lam = _nonnegative("eigenvalues", eigenvalues)
    return lam / (lam + _nonnegative("alpha", alpha).to(lam.dtype))
