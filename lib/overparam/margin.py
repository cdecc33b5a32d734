"""Gradient descent on separable data with exponentially-tailed losses (Soudry et al. 2018).

Conventions: X is (n, d), labels y are ±1, x̃ₙ = yₙ xₙ, and a linear classifier w has
margins uₙ = x̃ₙᵀw. The empirical loss is the mean L(w) = (1/n) Σ ℓ(uₙ) with

    logistic     ℓ(u) = log(1 + e^{−u}),     ℓ′(u) = −1/(1 + e^{u}),
    exponential  ℓ(u) = e^{−u},              ℓ′(u) = −e^{−u},

so ∇L(w) = (1/n) Σ ℓ′(uₙ) x̃ₙ. Steepest descent with step η in a norm ‖·‖ moves by
−η ‖g‖_* v with v = argmax_{‖v‖≤1} gᵀv (Gunasekar et al. 2018):

    "l2"   plain gradient descent       w ← w − η g,
    "linf" sign descent                 w ← w − η ‖g‖₁ sign(g),
    "l1"   greedy coordinate descent    w ← w − η ‖g‖_∞ sign(gᵢ) eᵢ,  i = argmax abs(gᵢ).

For separable data and plain GD with a small enough step, Soudry et al. (2018, Theorem 3)
show w(t) = ŵ log t + ρ(t) with ρ bounded and ŵ the hard-margin SVM (``overparam.svm``),
so the direction error decays like 1/log t; matching the steps term by term gives
αₙ = (η/n) exp(−x̃ₙᵀw̃) on the support vectors (ŵ = Σ αₙ x̃ₙ, ρ(t) → w̃) and the loss
L(w(t)) ≈ ‖ŵ‖²/(η t) = 1/(η γ² t) (:func:`asymptote`).

The loop runs in float64 NumPy, one step at a time: a step on a small problem costs a few
microseconds there, against tens with torch's per-operation overhead, which makes the
10⁵–10⁷ steps a 1/log t rate needs affordable.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import torch
from scipy.special import expit, log_expit

from overparam._check import as_generator, check_positive, check_positive_int, check_tensor
from overparam.svm import SVM, signed_points

LOSSES = ("logistic", "exponential")
GEOMETRIES = ("l2", "linf", "l1")


class Path(NamedTuple):
    """Iterates of a descent run, recorded at chosen step counts."""

    steps: torch.Tensor  # (R,) step counts t at which the iterate was recorded
    w: torch.Tensor  # (R, d) iterates w(t)
    loss: torch.Tensor  # (R,) L(w(t))


def separable_data(
    n: int, d: int, margin: float = 0.1, seed: int | torch.Generator = 0, dtype: torch.dtype = torch.float64
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Gaussian points labelled by a random unit direction w⋆, pushed apart to a known margin.

    xₙ ~ N(0, I_d), yₙ = sign(w⋆ᵀxₙ), then xₙ ← xₙ + yₙ · margin · w⋆, so every point has
    yₙ w⋆ᵀxₙ ≥ margin: the planted separator w⋆ has ℓ2 margin at least ``margin``, and
    the maximum margin γ (``overparam.svm``) is at least that.

    Returns X (n, d), y (n,) in {−1, +1}, w⋆ (d,).
    """
    check_positive_int("n", n)
    check_positive_int("d", d)
    check_positive("margin", margin, allow_zero=True)
    if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
        raise TypeError(f"dtype: expected a floating torch.dtype such as torch.float64, got {dtype!r}")
    gen = as_generator(seed)
    w_star = torch.randn(d, generator=gen, dtype=dtype)
    w_star = w_star / w_star.norm()
    X = torch.randn(n, d, generator=gen, dtype=dtype)
    y = torch.where(X @ w_star >= 0, 1.0, -1.0).to(dtype)
    return X + margin * y[:, None] * w_star, y, w_star


def _check_loss(loss: str) -> None:
    if loss not in LOSSES:
        raise ValueError(f"loss: expected one of {LOSSES}, got {loss!r}")


def _loss_np(u: np.ndarray, loss: str) -> float:
    return float(np.mean(-log_expit(u) if loss == "logistic" else np.exp(-u)))


def loss_value(X: torch.Tensor, y: torch.Tensor, w: torch.Tensor, loss: str = "logistic") -> torch.Tensor:
    """L(w) = (1/n) Σ ℓ(yₙ xₙᵀw), a scalar (module docstring)."""
    A = signed_points(X, y)
    _check_loss(loss)
    u = A @ _vector("w", w, A)
    return (torch.nn.functional.softplus(-u) if loss == "logistic" else torch.exp(-u)).mean()


def gradient(X: torch.Tensor, y: torch.Tensor, w: torch.Tensor, loss: str = "logistic") -> torch.Tensor:
    """∇L(w) = (1/n) Σ ℓ′(uₙ) x̃ₙ in closed form, shape (d,)."""
    A = signed_points(X, y)
    _check_loss(loss)
    u = A @ _vector("w", w, A)
    dl = -torch.sigmoid(-u) if loss == "logistic" else -torch.exp(-u)  # (n,) ℓ′(uₙ)
    return A.T @ dl / A.shape[0]


def _vector(name: str, w, A: torch.Tensor) -> torch.Tensor:
    if not isinstance(w, torch.Tensor) or w.shape != (A.shape[1],):
        got = tuple(w.shape) if isinstance(w, torch.Tensor) else type(w).__name__
        raise ValueError(f"{name}: expected a tensor of shape ({A.shape[1]},) matching X's columns, got {got}")
    return check_tensor(name, w, real=True).to(A.dtype)


def descent(
    X: torch.Tensor,
    y: torch.Tensor,
    lr: float,
    steps: int,
    record: torch.Tensor | None = None,
    loss: str = "logistic",
    geometry: str = "l2",
    w0: torch.Tensor | None = None,
) -> Path:
    """Steepest descent with fixed step η on L (module docstring), from w0 (zero by default).

    Args:
        X: points (n, d).
        y: labels (n,) in {−1, +1}.
        lr: step size η > 0.
        steps: number of steps T.
        record: step counts in [0, T] at which to keep w(t) (default: T only).
        loss: "logistic" or "exponential".
        geometry: "l2" (gradient descent), "linf", "l1".

    Returns a :class:`Path` with the recorded iterates, in X's dtype.

    Raises:
        FloatingPointError: if the iterate or the loss becomes non-finite (η too large).
    """
    A = signed_points(X, y)
    _check_loss(loss)
    if geometry not in GEOMETRIES:
        raise ValueError(f"geometry: expected one of {GEOMETRIES}, got {geometry!r}")
    lr = check_positive("lr", lr)
    steps = check_positive_int("steps", steps, allow_zero=True)
    if record is None:
        rec = np.array([steps])
    else:
        record = check_tensor("record", record, ndim=(0, 1), convert=True)
        if record.is_floating_point() or record.is_complex() or record.dtype == torch.bool:
            raise TypeError(f"record: expected integer step counts, got dtype {record.dtype}")
        rec = np.unique(record.reshape(-1).cpu().numpy().astype(np.int64))
    if rec.ndim != 1 or rec.size == 0 or rec.min() < 0 or rec.max() > steps:
        raise ValueError(f"record: expected step counts in [0, steps={steps}]")
    An = A.double().numpy()  # (n, d)
    At = np.ascontiguousarray(An.T)
    w = np.zeros(An.shape[1]) if w0 is None else _vector("w0", w0, A).double().numpy().copy()
    out_w: list[np.ndarray] = []
    out_loss: list[float] = []
    with np.errstate(over="ignore", invalid="ignore"):  # divergence is caught at the next record
        _loop(An, At, w, lr, rec, loss, geometry, out_w, out_loss)
    dtype = A.dtype
    return Path(torch.from_numpy(rec), torch.from_numpy(np.array(out_w)).to(dtype), torch.tensor(out_loss, dtype=dtype))


def _loop(An, At, w, lr, rec, loss, geometry, out_w, out_loss) -> None:
    n, k = An.shape[0], 0
    tail = expit if loss == "logistic" else np.exp  # −ℓ′(u) = tail(−u)
    for t in range(int(rec[-1]) + 1):
        if t == rec[k]:
            u = An @ w
            out_w.append(w.copy())
            out_loss.append(_loss_np(u, loss))
            if not (np.isfinite(w).all() and np.isfinite(out_loss[-1])):
                raise FloatingPointError(f"descent diverged by step {t} with lr={lr}: take a smaller step")
            k += 1
            if k == rec.size:
                return
        g = -(At @ tail(-(An @ w))) / n  # (d,) ∇L(w)
        if geometry == "l2":
            w -= lr * g
        elif geometry == "linf":
            w -= lr * np.abs(g).sum() * np.sign(g)
        else:
            i = np.argmax(np.abs(g))
            w[i] -= lr * g[i]


def asymptote(X: torch.Tensor, y: torch.Tensor, lr: float, svm: SVM) -> torch.Tensor:
    """w̃ in w(t) ≈ ŵ log t + w̃, for plain gradient descent with step η on the mean loss.

    Solves x̃ₙᵀw̃ = log(η / (n αₙ)) on the support vectors (Soudry et al. 2018, eq. for w̃,
    with η/n for the mean), taking the least-norm solution. When the support vectors span
    the data, Soudry et al. show ρ(t) → w̃ with w̃ unique given w(0): it solves these
    equations and keeps w(0)'s component orthogonal to the support vectors' span, which
    no gradient touches. The least-norm solution is therefore w̃ for w(0) = 0 (the start
    :func:`descent` uses by default). When the support vectors do not span the data, the
    rest of the limit is not given by these equations. ``svm`` is
    ``overparam.svm.hard_margin(X, y)``. Shape (d,).

    The approach to this asymptote is slow when other points are nearly support vectors:
    a point with x̃ᵀŵ = θ > 1 contributes t^{−θ} to the gradient, a tail of order t^{1−θ}/(θ − 1).
    """
    A = signed_points(X, y)
    check_positive("lr", lr)
    if not isinstance(svm, SVM):
        raise TypeError(f"svm: expected overparam.svm.hard_margin(X, y), got {type(svm).__name__}")
    if svm.w.shape != (A.shape[1],) or svm.alpha.shape != (A.shape[0],):
        raise ValueError("svm: expected the SVM of these X, y (its shapes do not match)")
    S, alpha = svm.support.to(torch.bool), svm.alpha
    if not bool(S.any()) or bool((alpha[S] <= 0).any()):
        raise ValueError("alpha, support: expected positive dual variables on a non-empty support")
    rhs = torch.log(lr / (A.shape[0] * alpha[S].to(A.dtype)))
    return torch.linalg.lstsq(A[S], rhs[:, None], driver="gelsd").solution[:, 0]


def angle(W: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """Angle in degrees between each row of W (k, d) (or a vector (d,)) and the direction v (d,)."""
    if not isinstance(W, torch.Tensor) or not isinstance(v, torch.Tensor) or v.ndim != 1 or W.shape[-1] != v.shape[0]:
        raise ValueError("W, v: expected W of shape (d,) or (k, d) and v of shape (d,)")
    check_tensor("W", W, real=True)
    check_tensor("v", v, real=True)
    cos = (W @ v) / (torch.linalg.vector_norm(W, dim=-1) * v.norm())
    return torch.rad2deg(torch.arccos(cos.clamp(-1.0, 1.0)))
