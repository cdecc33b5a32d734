"""PAC-Bayes bounds on the error of a stochastic classifier (chapter 14).

* :func:`kl_bernoulli` -- kl(q ‖ p) between Bernoulli distributions.
* :func:`kl_inverse` -- sup{p ∈ [q, 1] : kl(q ‖ p) ≤ c}, the inverse that turns a kl
  bound into an error bound.
* :func:`mcallester_bound` -- McAllester (1999), in the form q̂ + √((KL + ln(2√n/δ)) / (2n)).
* :func:`seeger_bound` -- Langford & Seeger (2001), Seeger (2002), Maurer (2004):
  kl(q̂ ‖ q) ≤ (KL + ln(2√n/δ)) / n, inverted.
* :func:`gaussian_kl` -- KL(N(μ_q, diag σ_q²) ‖ N(μ_p, λ I)).
* :func:`dziugaite_roy_bound` -- Dziugaite & Roy (2017): the Langford–Seeger bound with
  a union bound over the prior variance grid λ = c·exp(−j/b), j = 1, 2, ...
* :func:`monte_carlo_bound` -- Langford & Caruana (2002): an upper confidence bound on
  the stochastic classifier's empirical error q̂ from m sampled networks.

All functions work on Python floats (the bounds) or tensors (:func:`gaussian_kl`).
"""

from __future__ import annotations

import math

import torch

from overparam._check import check_positive, check_positive_int, check_tensor

__all__ = ["dziugaite_roy_bound", "gaussian_kl", "kl_bernoulli", "kl_inverse", "mcallester_bound",
           "monte_carlo_bound", "seeger_bound"]


def _prob(name: str, value, *, open_right: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) and not hasattr(value, "item"):
        raise TypeError(f"{name}: expected a number in [0, 1], got {type(value).__name__}")
    v = float(value)
    if not (0.0 <= v <= 1.0) or (open_right and v == 1.0):
        raise ValueError(f"{name}: expected a number in [0, 1{')' if open_right else ']'}, got {v}")
    return v


def _delta(delta) -> float:
    d = float(check_positive("delta", delta))
    if not d < 1:
        raise ValueError(f"delta: expected a confidence parameter in (0, 1), got {d}")
    return d


def kl_bernoulli(q: float, p: float) -> float:
    """kl(q ‖ p) = q ln(q/p) + (1 − q) ln((1 − q)/(1 − p)), with 0 ln 0 = 0 (inf if undefined)."""
    q, p = _prob("q", q), _prob("p", p)
    out = 0.0
    for a, b in ((q, p), (1 - q, 1 - p)):
        if a > 0:
            if b == 0:
                return math.inf
            out += a * math.log(a / b)
    return max(out, 0.0)


def kl_inverse(q: float, c: float, tol: float = 1e-12) -> float:
    """sup{p ∈ [q, 1] : kl(q ‖ p) ≤ c}, by bisection (kl(q ‖ ·) increases on [q, 1]).

    Args:
        q: the empirical error q̂ ∈ [0, 1].
        c: the right-hand side of a kl bound, c ≥ 0.
        tol: width of the final bracket; the returned value is its upper end, so it is
            never below the true supremum.
    """
    q = _prob("q", q)
    c = float(check_positive("c", c, allow_zero=True))
    if q == 1.0 or kl_bernoulli(q, 1.0) <= c:
        return 1.0
    lo, hi = q, 1.0
    while hi - lo > tol:
        mid = (lo + hi) / 2
        if kl_bernoulli(q, mid) <= c:
            lo = mid
        else:
            hi = mid
    return hi


def _complexity(kl: float, n: int, delta: float) -> float:
    kl = float(check_positive("kl", kl, allow_zero=True))
    n = check_positive_int("n", n)
    return kl + math.log(2 * math.sqrt(n) / _delta(delta))


def mcallester_bound(q_hat: float, kl: float, n: int, delta: float) -> float:
    """q̂ + √((KL(Q‖P) + ln(2√n/δ)) / (2n)): McAllester's bound in Maurer's constants.

    Holds with probability ≥ 1 − δ over the n training samples, for all posteriors Q at
    once (P fixed before seeing the data). It follows from :func:`seeger_bound` by
    Pinsker's inequality kl(q̂ ‖ q) ≥ 2(q − q̂)², so it is never tighter.
    """
    q_hat = _prob("q_hat", q_hat)
    return min(1.0, q_hat + math.sqrt(_complexity(kl, n, delta) / (2 * n)))


def seeger_bound(q_hat: float, kl: float, n: int, delta: float) -> float:
    """kl⁻¹(q̂, (KL(Q‖P) + ln(2√n/δ)) / n): the Langford–Seeger bound (Maurer 2004, n ≥ 8).

    With probability ≥ 1 − δ, kl(q̂_Q ‖ q_Q) ≤ (KL(Q‖P) + ln(2√n/δ))/n for all Q, where
    q̂_Q and q_Q are the stochastic classifier's empirical and true error.
    """
    q_hat = _prob("q_hat", q_hat)
    return kl_inverse(q_hat, _complexity(kl, n, delta) / n)


def gaussian_kl(mu_q: torch.Tensor, sigma_q: torch.Tensor, mu_p: torch.Tensor, lam: float) -> torch.Tensor:
    """KL(N(μ_q, diag σ_q²) ‖ N(μ_p, λ I)) in nats (a 0-d tensor).

    = ½ [ Σ σ_q²/λ + ‖μ_q − μ_p‖²/λ − d + d ln λ − Σ ln σ_q² ], d the dimension.
    """
    mu_q = check_tensor("mu_q", mu_q, ndim=1, real=True)
    sigma_q = check_tensor("sigma_q", sigma_q, shape=tuple(mu_q.shape), real=True)
    mu_p = check_tensor("mu_p", mu_p, shape=tuple(mu_q.shape), real=True)
    lam = float(check_positive("lam", lam))
    if bool((sigma_q <= 0).any()):
        raise ValueError("sigma_q: expected positive standard deviations")
    var = sigma_q**2
    d = mu_q.numel()
    return 0.5 * (var.sum() / lam + ((mu_q - mu_p) ** 2).sum() / lam - d + d * math.log(lam)
                  - torch.log(var).sum())


def dziugaite_roy_bound(q_hat: float, kl: float, n: int, delta: float, j: int) -> float:
    """The bound of Dziugaite & Roy (2017) for the prior variance λ_j = c·exp(−j/b).

    A union bound over j = 1, 2, ... with weights 6/(π² j²) turns the Langford–Seeger
    bound into one valid for the λ chosen after seeing the data:

        kl(q̂ ‖ q) ≤ (KL(Q ‖ P_j) + 2 ln j + ln(π² n / (6 δ))) / (n − 1)

    (their bound, with 2 ln(b ln(c/λ_j)) = 2 ln j; the n − 1 and π²n/6δ as in their
    eq. for the grid). Returns kl⁻¹ of the right-hand side at q̂.
    """
    q_hat = _prob("q_hat", q_hat)
    kl = float(check_positive("kl", kl, allow_zero=True))
    n = check_positive_int("n", n)
    if n < 2:
        raise ValueError(f"n: expected at least 2 samples, got {n}")
    j = check_positive_int("j", j)
    c = (kl + 2 * math.log(j) + math.log(math.pi**2 * n / (6 * _delta(delta)))) / (n - 1)
    return kl_inverse(q_hat, c)


def monte_carlo_bound(s_hat: float, m: int, delta: float) -> float:
    """Upper bound on q̂_Q from the error ŝ of m networks drawn from Q (Langford & Caruana 2002).

    ŝ is the average of the empirical errors of m networks drawn independently from Q,
    each a number in [0, 1] with mean q̂_Q; the Chernoff bound in kl form gives, with
    probability ≥ 1 − δ over the draws, kl(ŝ ‖ q̂_Q) ≤ ln(2/δ)/m, so
    q̂_Q ≤ kl⁻¹(ŝ, ln(2/δ)/m). Combine with a PAC-Bayes bound at δ' (total δ + δ').
    """
    s_hat = _prob("s_hat", s_hat)
    m = check_positive_int("m", m)
    return kl_inverse(s_hat, math.log(2 / _delta(delta)) / m)
