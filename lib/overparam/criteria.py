"""Claim criteria: small pure functions that decide whether a measurement supports a claim.

Each criterion returns a :class:`Verdict` — the number it decided on (``measured``), the
outcome (``ok``) and what it expected (``expect``, in words a reader can check). A chapter
hands the verdict to :meth:`overparam.claims.Claims.check`::

    v = criteria.significant_peak(widths, err_mean, err_se, k=3)
    claims.check("deep_peak_height", v, statement="...", source="nakkiran2020deep")

A claim about a trained model also checks that the training did what the claim assumes;
:meth:`Verdict.requires` joins such a precondition without changing ``measured``::

    v = criteria.at_chance(acc, n_test, 10).requires(criteria.at_least(train_acc, 1.0))

Thresholds come from theory or from standard errors, never from the last run. Every
criterion has a unit test with a negative control (a flat curve, a monotone curve, an
untrained model) on which it must fail (``tests/test_criteria.py``).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Verdict:
    """The outcome of a criterion.

    Attributes:
        measured: the quantity the criterion decided on (a float, or a tuple of floats).
        ok: whether the claim holds.
        expect: the condition, in words (shown in the claims table).
    """

    measured: float | tuple[float, ...]
    ok: bool
    expect: str

    def requires(self, *preconditions: Verdict) -> Verdict:
        """This verdict, failing unless every precondition holds too (``measured`` kept)."""
        ok = self.ok and all(p.ok for p in preconditions)
        expect = "; ".join([self.expect, *(f"and {p.expect}" for p in preconditions)])
        return Verdict(self.measured, ok, expect)


# ---------------------------------------------------------------- argument handling


def _vector(name: str, values) -> np.ndarray:
    """A 1-D float64 array of finite values from a list, array or tensor."""
    if hasattr(values, "detach"):
        values = values.detach().cpu().numpy()
    try:
        a = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{name}: expected a sequence of numbers, got {type(values).__name__}") from None
    if a.ndim != 1 or a.size == 0:
        raise ValueError(f"{name}: expected a non-empty 1-D sequence, got shape {a.shape}")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name}: expected finite values, got {a.tolist()}")
    return a


def _scalar(name: str, value) -> float:
    if hasattr(value, "item"):
        value = value.item()
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        raise TypeError(f"{name}: expected a number, got {type(value).__name__}")
    return float(value)


def _nonneg(name: str, value) -> float:
    v = _scalar(name, value)
    if not v >= 0:
        raise ValueError(f"{name}: expected a number >= 0, got {v}")
    return v


def _same_length(**arrays: np.ndarray) -> None:
    sizes = {k: a.size for k, a in arrays.items()}
    if len(set(sizes.values())) > 1:
        raise ValueError(f"expected sequences of equal length, got {sizes}")


def _fmt(x: float) -> str:
    return f"{x:.3g}"


# ---------------------------------------------------------------- comparisons of numbers


def at_most(value, bound, *, name: str = "value") -> Verdict:
    """``value ≤ bound`` (e.g. an error against a tolerance set by theory or float precision)."""
    v, b = _scalar("value", value), _scalar("bound", bound)
    return Verdict(v, v <= b, f"{name} ≤ {_fmt(b)}")


def at_least(value, bound, *, name: str = "value") -> Verdict:
    """``value ≥ bound`` (e.g. training accuracy ≥ 1 for a claim that assumes interpolation)."""
    v, b = _scalar("value", value), _scalar("bound", bound)
    return Verdict(v, v >= b, f"{name} ≥ {_fmt(b)}")


def within(value, lo, hi, *, name: str = "value") -> Verdict:
    """``lo ≤ value ≤ hi``: a measured constant inside the interval a theory allows."""
    v, a, b = _scalar("value", value), _scalar("lo", lo), _scalar("hi", hi)
    if not a <= b:
        raise ValueError(f"lo, hi: expected lo <= hi, got {a} > {b}")
    return Verdict(v, a <= v <= b, f"{_fmt(a)} ≤ {name} ≤ {_fmt(b)}")


def greater(a, b, se_a=0.0, se_b=0.0, *, k: float = 2.0, name: str = "difference") -> Verdict:
    """``a − b > k · √(se_a² + se_b²)``: a difference of two means, significant at k s.e.

    ``measured`` is the difference ``a − b``. With both standard errors zero (deterministic
    quantities) it asks for ``a > b``.
    """
    a, b = _scalar("a", a), _scalar("b", b)
    se = math.hypot(_nonneg("se_a", se_a), _nonneg("se_b", se_b))
    k = _nonneg("k", k)
    d = a - b
    expect = f"{name} > {_fmt(k)} s.e. = {_fmt(k * se)}" if se > 0 else f"{name} > 0"
    return Verdict(d, d > k * se, expect)


def relative_error(estimate, reference, tol) -> Verdict:
    """``‖estimate − reference‖ / ‖reference‖ ≤ tol`` (Euclidean norms over all entries)."""
    e = _vector("estimate", np.ravel(_as_array(estimate)))
    r = _vector("reference", np.ravel(_as_array(reference)))
    _same_length(estimate=e, reference=r)
    tol = _nonneg("tol", tol)
    scale = np.linalg.norm(r)
    if scale == 0:
        raise ValueError("reference: expected a non-zero reference")
    err = float(np.linalg.norm(e - r) / scale)
    return Verdict(err, err <= tol, f"relative error ≤ {_fmt(tol)}")


def _as_array(x):
    if hasattr(x, "detach"):
        return x.detach().cpu().numpy()
    return np.asarray(x, dtype=np.float64)


# ---------------------------------------------------------------- standard errors


def mean_se(values) -> tuple[float, float]:
    """``(mean, s.e.)`` of a sample: the s.e. is ``std(ddof=1) / √n`` (n ≥ 2 values)."""
    v = _as_array(values).astype(np.float64).ravel()
    if v.size < 2 or not np.isfinite(v).all():
        raise ValueError(f"values: expected at least 2 finite numbers, got {v.size} values")
    return float(v.mean()), float(v.std(ddof=1) / math.sqrt(v.size))


def paired_test_se(right_a, right_b) -> float:
    """The test set's own sampling s.e. of the accuracy gap between two arms.

    ``right_a``, ``right_b``: (seeds, n_test) booleans (or 0/1), whether each run of an
    arm classifies each of the same ``n_test`` test examples correctly (the arms may have
    different numbers of seeds). The gap of mean accuracies is the mean over examples of
    ``d_i = mean_s a[s, i] − mean_s b[s, i]``; its s.e. over a fresh draw of the test set
    is ``std(d, ddof=1) / √n_test``, a fraction (× 100 for points). It adds to, and does
    not replace, the s.e. over seeds.
    """
    a, b = (_as_array(r).astype(np.float64) for r in (right_a, right_b))
    for name, r in (("right_a", a), ("right_b", b)):
        if r.ndim != 2 or not np.isin(r, (0.0, 1.0)).all():
            raise ValueError(f"{name}: expected a (seeds, n_test) array of 0/1, got shape {r.shape}")
    if a.shape[1] != b.shape[1] or a.shape[1] < 2:
        raise ValueError(f"right_b: expected the same n_test ≥ 2 as right_a ({a.shape[1]}), "
                         f"got {b.shape[1]}")
    d = a.mean(0) - b.mean(0)
    return float(d.std(ddof=1) / math.sqrt(d.size))


# ---------------------------------------------------------------- accuracies


def _acc_se(p: float, n: int) -> float:
    return math.sqrt(p * (1 - p) / n)


def _check_accuracy(acc, n, n_classes) -> tuple[float, int, int]:
    acc = _scalar("acc", acc)
    if not 0 <= acc <= 1:
        raise ValueError(f"acc: expected an accuracy in [0, 1], got {acc}")
    if not isinstance(n, numbers.Integral) or isinstance(n, bool) or n <= 0:
        raise ValueError(f"n: expected the number of test examples (an int > 0), got {n!r}")
    if not isinstance(n_classes, numbers.Integral) or isinstance(n_classes, bool) or n_classes < 2:
        raise ValueError(f"n_classes: expected an int >= 2, got {n_classes!r}")
    return acc, int(n), int(n_classes)


def at_chance(acc, n, n_classes, *, k: float = 3.0, p0=None) -> Verdict:
    """Test accuracy within ``k`` binomial s.e. of chance ``1/n_classes`` (both sides).

    Holds for any label-independent predictor: pair it with a precondition that the model
    learned something (e.g. it fit its training labels) via :meth:`Verdict.requires`.
    ``p0`` replaces 1/n_classes when neither the labels nor the predictions are uniform:
    a label-independent predictor is right with probability p₀ = Σ_k π_k q_k (π, q the
    class frequencies of the labels and of the predictions).
    """
    acc, n, c = _check_accuracy(acc, n, n_classes)
    name = f"1/{c}"
    if p0 is None:
        p0 = 1.0 / c
    else:
        p0, name = _scalar("p0", p0), "p₀"
        if not 0 < p0 < 1:
            raise ValueError(f"p0: expected a chance level in (0, 1), got {p0}")
    band = k * _acc_se(p0, n)
    return Verdict(acc, abs(acc - p0) <= band, f"|acc − {name}| ≤ {_fmt(k)} s.e. = {_fmt(band)}")


def above_chance(acc, n, n_classes, *, k: float = 3.0) -> Verdict:
    """Test accuracy more than ``k`` binomial s.e. above chance ``1/n_classes``."""
    acc, n, c = _check_accuracy(acc, n, n_classes)
    p0 = 1.0 / c
    bound = p0 + k * _acc_se(p0, n)
    return Verdict(acc, acc > bound, f"acc > 1/{c} + {_fmt(k)} s.e. = {_fmt(bound)}")


# ---------------------------------------------------------------- curves


def loglog_slope(x, y) -> float:
    """Least-squares slope of log y against log x (both positive)."""
    x, y = _vector("x", x), _vector("y", y)
    _same_length(x=x, y=y)
    if x.size < 2 or np.any(x <= 0) or np.any(y <= 0):
        raise ValueError("x, y: expected at least two points, all positive, for a log-log fit")
    if np.ptp(np.log(x)) == 0:
        raise ValueError("x: expected at least two distinct values")
    return float(np.polyfit(np.log(x), np.log(y), 1)[0])


def slope_near(x, y, expected, tol) -> Verdict:
    """The log-log slope of ``y`` against ``x`` lies within ``tol`` of the predicted one.

    Use it for power laws (an error ∝ width^(−1/2), a loss ∝ t^(−1)); ``tol`` from the
    standard error of the fit or the known finite-size correction.
    """
    s = loglog_slope(x, y)
    e, tol = _scalar("expected", expected), _nonneg("tol", tol)
    return Verdict(s, abs(s - e) <= tol, f"slope = {_fmt(e)} ± {_fmt(tol)}")


def monotone(values, *, decreasing: bool = True, se=None, k: float = 2.0) -> Verdict:
    """Every step of the curve moves the stated way, up to ``k`` s.e. (or exactly, without se).

    ``measured`` is the largest step against the stated direction (≤ 0 for a strictly
    monotone curve); with ``se`` each step may go against it by ``k·√(se_i² + se_{i+1}²)``.
    """
    v = _vector("values", values)
    if v.size < 2:
        raise ValueError("values: expected at least two points")
    steps = np.diff(v) if decreasing else -np.diff(v)  # > 0 is a step the wrong way
    if se is None:
        slack = np.zeros_like(steps)
    else:
        s = _vector("se", se)
        _same_length(values=v, se=s)
        slack = k * np.hypot(s[:-1], s[1:])
    worst = float(np.max(steps))
    way = "decreasing" if decreasing else "increasing"
    expect = f"{way} at every step" + (f" (within {_fmt(k)} s.e.)" if se is not None else "")
    return Verdict(worst, bool(np.all(steps <= slack)), expect)


def significant_peak(x, means, se, *, k: float = 3.0) -> Verdict:
    """The curve has an interior maximum that stands above the best point on each side.

    The peak is ``argmax means``; it must lie strictly inside the grid, and its height
    above the *lowest* point to its left and the lowest to its right must each exceed
    ``k`` combined standard errors. ``measured`` is the smaller of the two heights (the
    peak's prominence). A monotone or flat curve fails.
    """
    xs, m, s = _vector("x", x), _vector("means", means), _vector("se", se)
    _same_length(x=xs, means=m, se=s)
    if m.size < 3:
        raise ValueError("means: expected at least three points")
    i = int(np.argmax(m))
    expect = f"interior peak above the best point on each side by > {_fmt(k)} s.e."
    if i == 0 or i == m.size - 1:
        return Verdict(float("nan"), False, expect + " (peak at the grid's end)")
    j_left = int(np.argmin(m[:i]))
    j_right = i + 1 + int(np.argmin(m[i + 1 :]))
    heights = []
    ok = True
    for j in (j_left, j_right):
        h = m[i] - m[j]
        heights.append(h)
        ok &= bool(h > k * math.hypot(s[i], s[j]))
    return Verdict(float(min(heights)), ok, expect)


def significant_valley(x, means, se, *, k: float = 3.0) -> Verdict:
    """The curve has an interior minimum that lies below the worst point on each side.

    The mirror image of :func:`significant_peak` (a U-curve rather than a bump): the
    minimum must lie strictly inside the grid, and the highest point to its left and the
    highest to its right must each exceed it by more than ``k`` combined standard errors.
    ``measured`` is the smaller of the two depths. A monotone or flat curve fails.
    """
    v = significant_peak(x, -_vector("means", means), se, k=k)
    expect = f"interior minimum below the worst point on each side by > {_fmt(k)} s.e."
    if "grid's end" in v.expect:  # no interior minimum: depth 0 (a finite, failing value)
        return Verdict(0.0, False, expect + " (minimum at the grid's end)")
    return Verdict(v.measured, v.ok, expect)


def consistent(value, predicted, se, *, k: float = 3.0, name: str = "value") -> Verdict:
    """``|value − predicted| ≤ k · se``: a measured mean agrees with a theory's prediction.

    ``se`` is the standard error of the difference (e.g. of the per-seed differences
    between measured and predicted values). ``measured`` is ``value``. A prediction off
    by more than ``k`` standard errors fails; so does any disagreement when ``se`` is 0.
    """
    v, p = _scalar("value", value), _scalar("predicted", predicted)
    s, k = _nonneg("se", se), _nonneg("k", k)
    band = k * s
    return Verdict(v, abs(v - p) <= band, f"{name} = {_fmt(p)} (predicted) ± {_fmt(k)} s.e. = {_fmt(band)}")


def equivalent(a, b, se_a, se_b, margin, *, k: float = 2.0, name: str = "difference") -> Verdict:
    """Two means are practically equal: ``|a − b| + k · √(se_a² + se_b²) ≤ margin``.

    An equivalence test (two one-sided tests): the whole k-s.e. interval of the difference
    must lie inside ``±margin``. Unlike "not significantly different", it fails when the
    data are too noisy to tell (large s.e.), so a claim of *no effect* needs evidence.
    ``measured`` is the difference ``a − b``.
    """
    a, b = _scalar("a", a), _scalar("b", b)
    se = math.hypot(_nonneg("se_a", se_a), _nonneg("se_b", se_b))
    margin, k = _nonneg("margin", margin), _nonneg("k", k)
    d = a - b
    return Verdict(d, abs(d) + k * se <= margin,
                   f"|{name}| + {_fmt(k)} s.e. ({_fmt(k * se)}) ≤ {_fmt(margin)}")


def noninferior(a, b, se_a, se_b, margin, *, k: float = 2.0, name: str = "b − a") -> Verdict:
    """``a`` is not worse than ``b`` by more than ``margin``: ``(b − a) + k · √(se_a² + se_b²) ≤ margin``.

    A one-sided equivalence (non-inferiority) test: the upper end of the k-s.e. interval
    of the loss ``b − a`` must lie below ``margin``; ``a`` better than ``b`` passes. Like
    :func:`equivalent` it fails when the data are too noisy to tell. ``measured`` is
    ``b − a``. For paired runs pass the s.e. of the paired differences as ``se_a`` and 0.
    """
    a, b = _scalar("a", a), _scalar("b", b)
    se = math.hypot(_nonneg("se_a", se_a), _nonneg("se_b", se_b))
    margin, k = _nonneg("margin", margin), _nonneg("k", k)
    d = b - a
    return Verdict(d, d + k * se <= margin,
                   f"{name} + {_fmt(k)} s.e. ({_fmt(k * se)}) ≤ {_fmt(margin)}")


def peak_location(x, means) -> float:
    """The x at which the curve is largest (for claims about *where* a peak sits)."""
    xs, m = _vector("x", x), _vector("means", means)
    _same_length(x=xs, means=m)
    return float(xs[int(np.argmax(m))])


def first_reach(steps, values, threshold, *, above: bool = True) -> float:
    """The first step at which ``values`` reaches ``threshold`` (inf if never)."""
    t, v = _vector("steps", steps), _vector("values", values)
    _same_length(steps=t, values=v)
    hit = v >= threshold if above else v <= threshold
    return float(t[int(np.argmax(hit))]) if hit.any() else float("inf")


def rank_correlation(a, b) -> float:
    """Spearman's rank correlation of two sequences (ties get their mean rank)."""
    from scipy.stats import spearmanr

    x, y = _vector("a", a), _vector("b", b)
    _same_length(a=x, b=y)
    return float(spearmanr(x, y).statistic)


def all_hold(verdicts: Sequence[Verdict], *, expect: str | None = None) -> Verdict:
    """Several verdicts as one: ``measured`` the tuple of their values, ok if all hold."""
    if not verdicts:
        raise ValueError("verdicts: expected at least one")
    measured = tuple(float(np.max(v.measured)) if isinstance(v.measured, tuple) else v.measured for v in verdicts)
    return Verdict(measured, all(v.ok for v in verdicts), expect or "; ".join(v.expect for v in verdicts))


# ---------------------------------------------------------------- measured against a prediction


def tracks(values, predicted, rtol) -> Verdict:
    """Every point of a measured curve within a relative ``rtol`` of the predicted curve.

    ``measured`` is the largest relative gap ``max_i |values_i / predicted_i − 1|``. Use it
    where a theory predicts the whole curve, constant included (an asymptote with no fitted
    parameter); a curve that levels off, or falls at another rate, leaves the band.
    """
    v, p = _vector("values", values), _vector("predicted", predicted)
    _same_length(values=v, predicted=p)
    if np.any(p == 0):
        raise ValueError("predicted: expected non-zero predicted values")
    rtol = _nonneg("rtol", rtol)
    gap = float(np.max(np.abs(v / p - 1)))
    return Verdict(gap, gap <= rtol, f"largest relative gap to the prediction ≤ {_fmt(rtol)}")


def drop_matches(before, after, predicted_before, predicted_after, tol) -> Verdict:
    """A quantity falls between two times by the amount a theory predicts, within ``tol``.

    ``measured`` is the ratio of the measured drop ``before − after`` to the predicted drop;
    it must lie in ``[1 − tol, 1 + tol]``. A curve that levels off (ratio near 0) fails, and
    so does one that falls much faster than predicted (ratio ≫ 1). The predicted drop
    must be positive.
    """
    b, a = _scalar("before", before), _scalar("after", after)
    pb, pa = _scalar("predicted_before", predicted_before), _scalar("predicted_after", predicted_after)
    tol = _nonneg("tol", tol)
    if not pb > pa:
        raise ValueError(f"predicted_before, predicted_after: expected a predicted drop, got {pb} → {pa}")
    r = (b - a) / (pb - pa)
    return Verdict(r, abs(r - 1) <= tol, f"measured drop / predicted drop = 1 ± {_fmt(tol)}")


def diagonal_leads(matrix, *, at_least: float) -> Verdict:
    """In each column of a square matrix the diagonal entry is the largest, and ≥ ``at_least``.

    For "each method wins on its own measure": rows are methods, columns the measures, in
    the same order. ``measured`` is the smallest lead of a diagonal entry over the best
    other entry of its column (> 0 when every method leads on its own measure). A matrix
    whose rows are equal (every method ends at the same answer) fails.
    """
    M = np.asarray(_as_array(matrix), dtype=np.float64)
    if M.ndim != 2 or M.shape[0] != M.shape[1] or M.shape[0] < 2:
        raise ValueError(f"matrix: expected a square matrix of size >= 2, got shape {M.shape}")
    if not np.all(np.isfinite(M)):
        raise ValueError("matrix: expected finite values")
    bound = _scalar("at_least", at_least)
    diag = np.diag(M)
    off = np.where(np.eye(M.shape[0], dtype=bool), -np.inf, M).max(axis=0)
    lead = float(np.min(diag - off))
    ok = lead > 0 and bool(np.all(diag >= bound))
    return Verdict(lead, ok, f"each diagonal entry leads its column (lead > 0) and is ≥ {_fmt(bound)}")


def delayed(t_late, t_early, min_ratio) -> Verdict:
    """Event "late" happens at least ``min_ratio`` times later than event "early".

    For "test accuracy jumps long after the training set is fit" (grokking): ``measured``
    is ``t_late / t_early`` (inf when the late event never happened, which fails: the
    claim is that it happens, late). Both times are steps counted from 0, ``t_early > 0``.
    """
    late, early = _scalar("t_late", t_late), _scalar("t_early", t_early)
    if not early > 0:
        raise ValueError(f"t_early: expected a positive time, got {early}")
    r = _scalar("min_ratio", min_ratio)
    ratio = late / early
    return Verdict(ratio, math.isfinite(ratio) and ratio >= r, f"finite and t_late / t_early ≥ {_fmt(r)}")


def nearer(value, target, alternative, *, name: str = "value") -> Verdict:
    """``value`` is closer to ``target`` than to ``alternative`` (e.g. a trained network's
    statistic nearer the analytic solution's than an untrained network's).

    ``measured`` is the value; the decision boundary is the midpoint of the two references.
    """
    v, t, a = _scalar("value", value), _scalar("target", target), _scalar("alternative", alternative)
    if t == a:
        raise ValueError(f"target, alternative: expected two different references, got {t} twice")
    mid = (t + a) / 2
    ok = v > mid if t > a else v < mid
    return Verdict(v, ok, f"{name} {'>' if t > a else '<'} {_fmt(mid)} (midway from {_fmt(a)} to {_fmt(t)})")


def ratio_greater(a, b, *, k: float = 3.0, name: str = "a / b") -> Verdict:
    """Positive samples ``a`` are larger than ``b`` by a factor: a ratio significant at k s.e.

    For "large-batch minima are sharper" from per-seed top eigenvalues: ``measured`` is
    the ratio of geometric means ``exp(mean log a − mean log b)``; the log of that ratio
    must exceed ``k`` standard errors ``√(var log a / n_a + var log b / n_b)`` (sample
    variances, so each side needs at least two samples). Equal samples, or a ratio
    inside the noise, fail.
    """
    la, lb = _vector("a", a), _vector("b", b)
    if la.size < 2 or lb.size < 2:
        raise ValueError(f"a, b: expected at least two samples each, got {la.size} and {lb.size}")
    if np.any(la <= 0) or np.any(lb <= 0):
        raise ValueError("a, b: expected positive samples (a ratio of magnitudes)")
    la, lb, k = np.log(la), np.log(lb), _nonneg("k", k)
    d = float(la.mean() - lb.mean())
    se = math.sqrt(la.var(ddof=1) / la.size + lb.var(ddof=1) / lb.size)
    return Verdict(math.exp(d), d > k * se,
                   f"log({name}) > {_fmt(k)} s.e. = {_fmt(k * se)} (ratio > {_fmt(math.exp(k * se))})")


def learned_in_order(steps, *, min_learned: int = 2) -> Verdict:
    """Events listed in a predicted order happen in that order (e.g. frequencies learned
    from low to high): the finite times strictly increase, and every event that never
    happened (``inf``) comes after all that did.

    ``measured`` is the number of consecutive pairs out of order (0 when in order); at
    least ``min_learned`` events must have happened. Equal times, a shuffled order, or
    nothing learned fail.
    """
    t = np.asarray(_as_array(steps), dtype=np.float64).ravel()
    if t.size < 2 or np.isnan(t).any() or (t < 0).any():
        raise ValueError(f"steps: expected at least two times >= 0 (inf for never), got {t.tolist()}")
    m = int(_scalar("min_learned", min_learned))
    finite = np.isfinite(t)
    bad = int(np.sum(~(t[1:] > t[:-1]) & np.isfinite(t[1:])))  # a later event not strictly later
    ok = bad == 0 and int(finite.sum()) >= m
    return Verdict(float(bad), ok, f"times strictly increase along the order (never = last), ≥ {m} happen")
