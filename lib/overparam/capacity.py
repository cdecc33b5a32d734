"""Capacity and the classical picture: VC bounds, a U-curve, and chance level.

* :func:`legendre_features` -- the orthonormal Legendre feature map on [-1, 1].
* :func:`legendre_excess_risk` -- least squares on those features, many seeds at once,
  with the exact excess risk (Parseval) under x ~ Uniform[-1, 1].
* :func:`vapnik_bound` -- the uniform-convergence bound of Vapnik (1995, 1998).
* :func:`interpolating_relu_net` -- the construction of Zhang et al. (2017, Thm 1): a
  one-hidden-layer ReLU network with m units fits any labels on m points, so its
  VC dimension is at least m.
* :func:`chance_interval` -- the two-sided interval for the accuracy of a classifier
  whose predictions are independent of the labels.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch

from overparam._check import (
    as_generator,
    check_fraction,
    check_int,
    check_matrix,
    check_positive,
    check_positive_int,
    check_real,
    check_tensor,
)


def legendre_features(x: torch.Tensor, degree: int) -> torch.Tensor:
    """Orthonormal Legendre features φ_k(x) = √(2k+1) P_k(x), k = 0..degree.

    With x ~ Uniform[-1, 1], E[φ_j(x) φ_k(x)] = δ_jk, so for f = Σ c_k φ_k the squared
    L2 error of g = Σ w_k φ_k is ‖w − c‖² (Parseval). P_k comes from Bonnet's recurrence
    (k+1) P_{k+1} = (2k+1) x P_k − k P_{k−1}.

    Args:
        x: inputs of any shape (...), expected in [-1, 1].
        degree: the highest degree D ≥ 0.

    Returns:
        Features of shape (..., D + 1), same dtype as x.
    """
    if not isinstance(x, torch.Tensor) or not x.is_floating_point():
        raise TypeError(f"x: expected a floating-point torch.Tensor, got {type(x).__name__}")
    check_tensor("x", x)  # non-empty, finite
    check_positive_int("degree", degree, allow_zero=True)
    polys = [torch.ones_like(x)]
    if degree >= 1:
        polys.append(x.clone())
    for k in range(1, degree):
        polys.append(((2 * k + 1) * x * polys[k] - k * polys[k - 1]) / (k + 1))
    scale = torch.sqrt(2 * torch.arange(degree + 1, dtype=x.dtype, device=x.device) + 1)
    return torch.stack(polys, dim=-1) * scale  # (..., D+1)


def legendre_excess_risk(x: torch.Tensor, y: torch.Tensor, coef: torch.Tensor,
                         degrees: Sequence[int]) -> torch.Tensor:
    """Excess risk of least squares on Legendre features of each degree, for S data sets at once.

    The target is f = Σ_{k=0}^{K} c_k φ_k. For degree D the fit is
    ŵ = argmin_w ‖Φ_D w − y‖² (Φ_D of shape (n, D+1)), and its excess risk under
    x ~ Uniform[-1, 1] is exactly Σ_{k≤D} (ŵ_k − c_k)² + Σ_{k>D} c_k² (Parseval).

    Args:
        x, y: training inputs and noisy targets of shape (S, n), one row per data set.
        coef: the target's coefficients c of shape (K + 1,).
        degrees: the degrees D to fit, each with D + 1 ≤ n; Φ must have full column rank.

    Returns:
        Excess risks of shape (S, len(degrees)).
    """
    x, y = check_matrix("x", x), check_matrix("y", y)
    if y.shape != x.shape:
        raise ValueError(f"y: expected the shape of x {tuple(x.shape)}, got {tuple(y.shape)}")
    coef = check_tensor("coef", coef, ndim=1, real=True)  # (K + 1,) coefficients
    n = x.shape[1]
    degrees = [check_positive_int("degrees", d, allow_zero=True) for d in degrees]
    if not degrees or max(degrees) + 1 > n:
        raise ValueError(f"degrees: expected a non-empty list with every degree + 1 <= n = {n}, got {degrees}")
    c = coef.to(x.dtype)
    phi = legendre_features(x, max(degrees))  # (S, n, Dmax+1)
    # One QR for all degrees: the first D+1 columns of Q span those of Φ, so the
    # least-squares fit on them is R[:D+1, :D+1]⁻¹ Q[:, :D+1]ᵀ y.
    q, r = torch.linalg.qr(phi)  # (S, n, Dmax+1), (S, Dmax+1, Dmax+1)
    qty = (q.transpose(-1, -2) @ y.unsqueeze(-1))  # (S, Dmax+1, 1)
    risks = []
    for d in degrees:
        w = torch.linalg.solve_triangular(r[..., : d + 1, : d + 1], qty[..., : d + 1, :], upper=True)
        w = w.squeeze(-1)  # (S, d+1)
        c_in = torch.zeros(d + 1, dtype=x.dtype)
        m = min(d + 1, len(c))
        c_in[:m] = c[:m]
        tail = (c[d + 1:] ** 2).sum()
        risks.append(((w - c_in) ** 2).sum(-1) + tail)
    return torch.stack(risks, dim=-1)


def vapnik_bound(vc_dim: int, n: int, delta: float = 0.05, train_error: float = 0.0) -> float:
    """Vapnik's bound on the 0-1 risk of every classifier in a class of VC dimension h.

    With probability at least 1 − δ over n i.i.d. samples, simultaneously for all f in
    the class (Vapnik 1995; Burges 1998, eq. 3)::

        R(f) ≤ R_emp(f) + sqrt( (h (ln(2n/h) + 1) + ln(4/δ)) / n ),   h ≤ n.

    The complexity term grows with h for h < 2n, so a *lower* bound on h gives a
    lower bound on what the theorem can promise.

    Returns:
        The right-hand side (it may exceed 1, in which case the bound says nothing).
    """
    check_positive_int("vc_dim", vc_dim)
    check_positive_int("n", n)
    if vc_dim > n:
        raise ValueError(f"vc_dim: the bound needs h <= n = {n}, got h = {vc_dim} "
                         "(such a class can shatter samples of size n)")
    check_positive("delta", delta)
    if delta >= 1:
        raise ValueError(f"delta: expected a probability in (0, 1), got {delta}")
    check_fraction("train_error", train_error)
    return train_error + math.sqrt((vc_dim * (math.log(2 * n / vc_dim) + 1) + math.log(4 / delta)) / n)


def interpolating_relu_net(x: torch.Tensor, y: torch.Tensor, seed: int | torch.Generator = 0):
    """A one-hidden-layer ReLU network with n units that fits any targets on n points.

    Zhang et al. (2017, Thm 1): pick a direction a with distinct projections z_i = a·x_i,
    sort them, put thresholds b_1 < z_(1) < b_2 < z_(2) < ...; then the matrix
    A_ij = max(z_(i) − b_j, 0) is lower triangular with a positive diagonal, hence
    invertible, and w = A⁻¹ y gives f(x) = Σ_j w_j max(a·x − b_j, 0) with f(x_i) = y_i.
    Fitting every ±1 labelling this way shows the class {x ↦ sign f(x)} of such networks
    with n hidden units shatters the n points: its VC dimension is at least n.

    Args:
        x: n distinct points, shape (n, d).
        y: targets, shape (n,).

    Returns:
        (a, b, w) with shapes (d,), (n,), (n,); evaluate with relu(x @ a − b) @ w.
    """
    x = check_matrix("x", x)
    y = check_tensor("y", y, real=True)
    if y.shape != (x.shape[0],):
        raise ValueError(f"y: expected shape ({x.shape[0]},), got {tuple(y.shape)}")
    a = torch.randn(x.shape[1], generator=as_generator(seed), dtype=x.dtype)
    z = x @ a  # (n,)
    z_sorted, order = torch.sort(z)
    gaps = z_sorted.diff()
    if len(gaps) and gaps.min() <= 1e-9 * (1 + z.abs().max()):
        raise ValueError("x: expected distinct points (two projections coincide)")
    half = torch.cat([gaps[:1] if len(gaps) else torch.ones(1, dtype=x.dtype), gaps]) / 2
    b = z_sorted - half  # b_j lies between z_(j-1) and z_(j)
    A = torch.relu(z_sorted[:, None] - b[None, :])  # (n, n), lower triangular
    w = torch.linalg.solve_triangular(A, y[order].to(x.dtype)[:, None], upper=False).squeeze(-1)
    return a, b, w


def chance_interval(y_true: torch.Tensor, y_pred: torch.Tensor, n_classes: int,
                    z: float = 3.0) -> tuple[float, float]:
    """Expected accuracy at chance and the half-width of its two-sided z-σ interval.

    If predictions carry no information about the labels, accuracy on n test points is
    a mean of n indicators with success probability p₀ = Σ_k π_k q_k (π: label frequencies,
    q: prediction frequencies; p₀ = 1/K whenever either is uniform), so its standard
    deviation is σ = √(p₀(1 − p₀)/n). Accuracy outside p₀ ± zσ rejects "chance" at
    two-sided level ≈ 2(1 − Φ(z)) (0.27 % for z = 3).

    Returns:
        (p₀, z σ).
    """
    check_positive_int("n_classes", n_classes)
    check_positive("z", z)
    for name, t in (("y_true", y_true), ("y_pred", y_pred)):
        check_tensor(name, t)
        if t.is_floating_point() or t.is_complex() or t.dtype == torch.bool or (t < 0).any():
            raise ValueError(f"{name}: expected integer labels >= 0, got dtype {t.dtype}")
    if y_true.shape != y_pred.shape or y_true.ndim != 1 or len(y_true) == 0:
        raise ValueError(f"y_true, y_pred: expected equal non-empty 1-D shapes, got {tuple(y_true.shape)} "
                         f"and {tuple(y_pred.shape)}")
    n = len(y_true)
    pi = torch.bincount(y_true, minlength=n_classes).double() / n
    q = torch.bincount(y_pred, minlength=n_classes).double() / n
    if len(pi) > n_classes or len(q) > n_classes:
        raise ValueError(f"y_true, y_pred: expected labels in 0..{n_classes - 1}")
    p0 = float((pi * q).sum())
    return p0, z * math.sqrt(p0 * (1 - p0) / n)


def steps_to_fit(steps: Sequence[int], train_acc: Sequence[float], level: float = 1.0) -> int | None:
    """The first recorded step at which training accuracy reached ``level`` (None if never)."""
    check_fraction("level", level)
    steps = [check_int("steps", s, min=0) for s in steps]
    train_acc = [check_real("train_acc", a) for a in train_acc]
    if len(steps) != len(train_acc):
        raise ValueError(f"steps, train_acc: expected equal lengths, got {len(steps)} and {len(train_acc)}")
    return next((s for s, a in zip(steps, train_acc) if a >= level), None)


def vacuous_ratio(n: int, delta: float = 0.05) -> float:
    """The ratio h/n at which the complexity term of :func:`vapnik_bound` reaches 1.

    The term √((h(ln(2n/h) + 1) + ln(4/δ))/n) increases in h on (0, 2n), so it is ≥ 1
    exactly when h/n ≥ r*, the root of r (ln(2/r) + 1) = 1 − ln(4/δ)/n, found here by
    bisection. For large n, r* → 0.372 (the root of r (ln(2/r) + 1) = 1): a class whose
    VC dimension exceeds 37 % of the sample size gets no guarantee from the theorem.

    Returns:
        r* in (0, 1]; 1.0 when even h = n leaves the term below 1 (never, for δ < 1).
    """
    check_positive_int("n", n)
    check_positive("delta", delta)
    if delta >= 1:
        raise ValueError(f"delta: expected a probability in (0, 1), got {delta}")
    c = 1 - math.log(4 / delta) / n

    def g(r: float) -> float:
        return r * (math.log(2 / r) + 1) - c

    if c <= 0:
        return 0.0
    if g(1.0) < 0:
        return 1.0
    lo, hi = 1e-12, 1.0
    for _ in range(200):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if g(mid) < 0 else (lo, mid)
    return hi


def median_band(values: torch.Tensor, q: float = 0.25, n_boot: int = 200,
                seed: int | torch.Generator = 0) -> tuple[torch.Tensor, ...]:
    """Median over the first axis, a quantile band around it, and its bootstrap s.e.

    For risks over S training sets the mean can be ruled by a few ill-conditioned ones;
    the median and the band [q, 1 − q] describe the typical training set.

    Args:
        values: shape (S, K): S independent replicates of K quantities.
        q: lower quantile of the band, in (0, 0.5).
        n_boot: bootstrap resamples of the S rows for the standard error of the median.
        seed: seeds the bootstrap.

    Returns:
        (median, lower, upper, se), each of shape (K,).
    """
    values = check_matrix("values", values)
    if not 0 < q < 0.5:
        raise ValueError(f"q: expected a quantile in (0, 0.5), got {q}")
    check_positive_int("n_boot", n_boot)
    v = values.double()
    med = v.median(0).values  # (K,)
    band = torch.quantile(v, torch.tensor([q, 1 - q], dtype=v.dtype), dim=0)  # (2, K)
    idx = torch.randint(0, v.shape[0], (n_boot, v.shape[0]), generator=as_generator(seed))
    boot = v[idx].median(1).values  # (n_boot, K)
    return med, band[0], band[1], boot.std(0)


def top_share(values: torch.Tensor, fraction: float = 0.01) -> torch.Tensor:
    """Share of the sum over the first axis that comes from its largest ``fraction`` of rows.

    Args:
        values: shape (S, K), non-negative (e.g. excess risks of S training sets).
        fraction: fraction of the S rows, in (0, 1]; at least one row is taken.

    Returns:
        Shape (K,): Σ of the top ⌈fraction·S⌉ values / Σ of all, per column.
    """
    values = check_matrix("values", values)
    if not 0 < fraction <= 1:
        raise ValueError(f"fraction: expected a fraction in (0, 1], got {fraction}")
    if (values < 0).any():
        raise ValueError("values: expected non-negative values")
    k = max(1, math.ceil(fraction * values.shape[0]))
    top = values.topk(k, dim=0).values.sum(0)
    return top / values.sum(0)
