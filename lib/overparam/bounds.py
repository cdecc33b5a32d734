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
from dataclasses import dataclass

import torch
from torch import nn

from overparam._check import as_generator, check_positive, check_positive_int, check_tensor

__all__ = ["Certificate", "Posterior", "certify", "dziugaite_roy_bound", "flatten", "gaussian_kl",
           "gibbs_error", "gibbs_logits", "kl_bernoulli", "kl_inverse", "mcallester_bound",
           "monte_carlo_bound", "optimize_posterior", "seeger_bound"]


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


def gaussian_kl(mu_q: torch.Tensor, sigma_q: torch.Tensor, mu_p: torch.Tensor, lam) -> torch.Tensor:
    """KL(N(μ_q, diag σ_q²) ‖ N(μ_p, λ I)) in nats (a 0-d tensor).

    = ½ [ Σ σ_q²/λ + ‖μ_q − μ_p‖²/λ − d + d ln λ − Σ ln σ_q² ], d the dimension.
    ``lam`` is a number or a 0-d tensor (then the result is differentiable in it).
    """
    mu_q = check_tensor("mu_q", mu_q, ndim=1, real=True)
    sigma_q = check_tensor("sigma_q", sigma_q, shape=tuple(mu_q.shape), real=True)
    mu_p = check_tensor("mu_p", mu_p, shape=tuple(mu_q.shape), real=True)
    if isinstance(lam, torch.Tensor):
        if lam.numel() != 1 or not bool(lam > 0):
            raise ValueError(f"lam: expected a positive prior variance, got {lam}")
        log_lam = torch.log(lam.reshape(()))
    else:
        lam = float(check_positive("lam", lam))
        log_lam = math.log(lam)
    if bool((sigma_q <= 0).any()):
        raise ValueError("sigma_q: expected positive standard deviations")
    var = sigma_q**2
    d = mu_q.numel()
    return 0.5 * (var.sum() / lam + ((mu_q - mu_p) ** 2).sum() / lam - d + d * log_lam
                  - torch.log(var).sum())


def dziugaite_roy_bound(q_hat: float, kl: float, n: int, delta: float, j: int) -> float:
    """The bound of Dziugaite & Roy (2017) for the prior variance λ_j = c·exp(−j/b).

    A union bound over j = 1, 2, ... with weights 6/(π² j²) turns the Langford–Seeger
    bound into one valid for the λ chosen after seeing the data:

        kl(q̂ ‖ q) ≤ (KL(Q ‖ P_j) + 2 ln j + ln(π² n / (6 δ))) / (n − 1)

    (their bound, with 2 ln(b ln(c/λ_j)) = 2 ln j; the n − 1 and π²n/6δ as in their
    eq. for the grid). The constants were checked against the authors' code
    (github.com/gkdziugaite/pacbayes-opt, ``snn/core/network.py``:
    (KL + ln(π² m/(6δ)) + 2 ln j)/(m − 1) with δ = 0.025, b = 100, c = 0.1, and
    δ' = 0.01 for the Monte-Carlo step). Returns kl⁻¹ of the right-hand side at q̂.
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

    ŝ is the average of m independent numbers in [0, 1] whose means average to q̂_Q:
    the training errors of m networks drawn from Q, or (as :func:`certify` uses it) the
    0–1 errors of m (example, fresh network) pairs, each example equally often. The
    Chernoff bound in kl form (Hoeffding 1963, Theorem 1, which allows unequal means)
    gives, with probability ≥ 1 − δ over the draws, kl(ŝ ‖ q̂_Q) ≤ ln(2/δ)/m, so
    q̂_Q ≤ kl⁻¹(ŝ, ln(2/δ)/m). Combine with a PAC-Bayes bound at δ' (total δ + δ').
    """
    s_hat = _prob("s_hat", s_hat)
    m = check_positive_int("m", m)
    return kl_inverse(s_hat, math.log(2 / _delta(delta)) / m)



# ---------------------------------------------------------------- the stochastic network


def _linear_names(model: nn.Module) -> list[tuple[str, str]]:
    """(weight name, bias name) of each nn.Linear of a Sequential MLP, in order."""
    if not isinstance(model, nn.Sequential):
        raise TypeError(f"model: expected an nn.Sequential of Linear and activation layers, "
                        f"got {type(model).__name__}")
    out = []
    for name, module in model.named_children():
        if isinstance(module, nn.Linear):
            if module.bias is None:
                raise ValueError(f"model: layer {name} has no bias (expected nn.Linear with bias)")
            out.append((f"{name}.weight", f"{name}.bias"))
        elif any(True for _ in module.parameters()):
            raise ValueError(f"model: layer {name} ({type(module).__name__}) has parameters; "
                             "expected only nn.Linear layers to carry them")
    if not out:
        raise ValueError("model: expected at least one nn.Linear layer")
    return out


def flatten(params: dict[str, torch.Tensor]) -> torch.Tensor:
    """All entries of a dict of parameter tensors as one vector (in the dict's order)."""
    return torch.cat([t.reshape(-1) for t in params.values()])


def gibbs_logits(model: nn.Module, mean: dict[str, torch.Tensor], sigma: dict[str, torch.Tensor],
                 x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Logits of a network drawn from Q = N(mean, diag σ²) afresh for *every* input row.

    Exact in distribution (the local reparameterization of Kingma, Salimans & Welling
    2015): for one input, the pre-activations of a layer given the previous layer's output
    a are independent Gaussians with mean a μ_Wᵀ + μ_b and variance a² (σ_W²)ᵀ + σ_b²,
    so they are drawn directly instead of the weights. Row i's logits are distributed as
    f_w(x_i) with w ~ Q, independently across rows. Differentiable in mean and sigma.

    Args:
        model: an nn.Sequential of nn.Linear (with bias) and parameter-free activations;
            only its structure is used.
        mean, sigma: dicts parameter name → tensor shaped like the model's parameter.
        x: inputs, shape (n, d_in).
        gen: the generator the noise is drawn from.

    Returns:
        (n, d_out) logits.
    """
    names = dict(_linear_names(model))
    a = x
    for name, module in model.named_children():
        if isinstance(module, nn.Linear):
            w, b = f"{name}.weight", names[f"{name}.weight"]
            mu = a @ mean[w].T + mean[b]  # (n, out)
            var = (a * a) @ (sigma[w] ** 2).T + sigma[b] ** 2  # (n, out)
            eps = torch.randn(mu.shape, generator=gen, dtype=mu.dtype, device=mu.device)
            a = mu + var.sqrt() * eps
        else:
            a = module(a)
    return a


def gibbs_error(model: nn.Module, mean: dict, sigma: dict, x: torch.Tensor, y: torch.Tensor,
                repeats: int = 1, seed: int = 0) -> float:
    """Error of the stochastic classifier Q on (x, y), one fresh network per row and repeat.

    The n · repeats indicators 1[argmax f_w(x_i) ≠ y_i] are independent Bernoulli variables
    whose average has mean exactly the Gibbs error of Q on (x, y); returns that average.
    """
    repeats = check_positive_int("repeats", repeats)
    gen = as_generator(seed)
    wrong = 0
    with torch.no_grad():
        for _ in range(repeats):
            wrong += int((gibbs_logits(model, mean, sigma, x, gen).argmax(-1) != y).sum())
    return wrong / (repeats * len(y))


def _log_j(log_lam: torch.Tensor, b: float, c: float) -> torch.Tensor:
    """ln j = ln(b ln(c/λ)) for the continuous λ, clamped at j ≥ 1 (the first grid point)."""
    return torch.log(torch.clamp(b * (math.log(c) - log_lam), min=1.0))


@dataclass(frozen=True)
class Posterior:
    """A diagonal Gaussian posterior Q = N(mean, diag σ²) and the prior variance λ it chose.

    Attributes:
        mean, sigma: dicts parameter name → tensor (detached), as in ``model.named_parameters``.
        lam: the continuous prior variance λ at the end of the optimization (before it is
            rounded to the grid λ_j = c·exp(−j/b) by :func:`certify`).
        objective: the surrogate bound, one value per recorded step.
    """

    mean: dict[str, torch.Tensor]
    sigma: dict[str, torch.Tensor]
    lam: float
    objective: list[float]


def optimize_posterior(model: nn.Module, x: torch.Tensor, y: torch.Tensor, w0: dict[str, torch.Tensor], *,
                       steps: int, lr: float = 1e-3, batch_size: int | None = None,
                       sigma_init: float = 1e-3, lam_init: float = 1e-3, delta: float = 0.025,
                       b: float = 100.0, c: float = 0.1, record_every: int = 50,
                       cosine: bool = True, seed: int = 0) -> Posterior:
    """Minimize Dziugaite & Roy's (2017, Sec. 3) surrogate of the PAC-Bayes bound.

    Over the posterior mean w, the log standard deviations s = ln σ (one per weight) and
    the log prior variance ln λ, with the prior P = N(w0, λ I) centred at the random
    initialization, Adam minimizes

        L̂(Q) / ln 2 + √(B_RE / 2),
        B_RE = (KL(Q ‖ P) + 2 ln(b ln(c/λ)) + ln(π² m / (6δ))) / (m − 1),

    where L̂(Q) is the cross-entropy of networks drawn from Q (one per example, by
    :func:`gibbs_logits`; divided by ln 2 it bounds the 0–1 error for two classes) and
    the square root is McAllester's form of the Langford–Seeger bound (Pinsker). The
    posterior starts at the trained weights (``model``'s parameters), σ = ``sigma_init``,
    λ = ``lam_init``. Everything here is a heuristic search for a good Q; the guarantee
    comes from :func:`certify`, which evaluates the exact bound for the Q found.

    Args:
        model: a trained nn.Sequential MLP (see :func:`gibbs_logits`); left unchanged.
        x, y: the m training examples, (m, d_in) and (m,) integer labels.
        w0: the initialization, the prior's mean (dict like ``model.named_parameters``).
        steps: Adam steps; batch_size: examples per step (``None``: all m).
        lr: Adam's learning rate; with ``cosine`` it decays as lr·(1 + cos(π t/steps))/2,
            so the noisy single-draw gradients settle at the end.
        delta: the δ inside B_RE (as in :func:`dziugaite_roy_bound`).
        b, c: the prior-variance grid λ_j = c·exp(−j/b).
        record_every: steps between recorded values of the objective.
        seed: seeds the minibatches and the noise.
    """
    names = [n for pair in _linear_names(model) for n in pair]
    steps = check_positive_int("steps", steps)
    lr, sigma_init, lam_init = (float(check_positive(k, v)) for k, v in
                                (("lr", lr), ("sigma_init", sigma_init), ("lam_init", lam_init)))
    b, c = float(check_positive("b", b)), float(check_positive("c", c))
    delta = _delta(delta)
    record_every = check_positive_int("record_every", record_every)
    x = check_tensor("x", x, ndim=2, real=True)
    y = check_tensor("y", y, shape=(len(x),))
    m = len(x)
    if m < 2:
        raise ValueError(f"x: expected at least 2 training examples, got {m}")
    if batch_size is not None:
        batch_size = check_positive_int("batch_size", batch_size)
    params = dict(model.named_parameters())
    if set(w0) != set(names):
        raise ValueError(f"w0: expected the parameters {names}, got {sorted(w0)}")
    mean = {k: params[k].detach().clone().requires_grad_(True) for k in names}
    log_sigma = {k: torch.full_like(mean[k], math.log(sigma_init), requires_grad=True) for k in names}
    log_lam = torch.tensor(math.log(lam_init), dtype=mean[names[0]].dtype, requires_grad=True)
    prior = flatten({k: w0[k].detach().to(mean[k].dtype) for k in names})
    opt = torch.optim.Adam([*mean.values(), *log_sigma.values(), log_lam], lr=lr)
    gen = as_generator(seed)
    const = math.log(math.pi**2 * m / (6 * delta))
    history = []
    for step in range(steps):
        if cosine:
            for group in opt.param_groups:
                group["lr"] = lr * 0.5 * (1 + math.cos(math.pi * step / steps))
        idx = torch.randint(m, (batch_size,), generator=gen) if batch_size else slice(None)
        sigma = {k: v.exp() for k, v in log_sigma.items()}
        logits = gibbs_logits(model, mean, sigma, x[idx], gen)
        risk = nn.functional.cross_entropy(logits, y[idx]) / math.log(2)
        kl = gaussian_kl(flatten(mean), flatten(sigma), prior, log_lam.exp())
        bre = (kl + 2 * _log_j(log_lam, b, c) + const) / (m - 1)
        loss = risk + torch.sqrt(bre / 2)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % record_every == 0 or step == steps - 1:
            history.append(float(loss.detach()))
    return Posterior({k: v.detach() for k, v in mean.items()},
                     {k: v.detach().exp() for k, v in log_sigma.items()}, float(log_lam.detach().exp()), history)


@dataclass(frozen=True)
class Certificate:
    """The bound of Dziugaite & Roy (2017) for a posterior, and its parts.

    With probability ≥ 1 − δ − δ' over the training sample and the Monte-Carlo draws,
    the stochastic classifier's error is at most ``bound``.

    Attributes:
        bound: kl⁻¹(q_hat_bound, B_RE(j)) with B_RE of :func:`dziugaite_roy_bound`.
        j, lam: the grid point λ_j = c·exp(−j/b) used for the prior.
        kl: KL(Q ‖ N(w0, λ_j I)) in nats.
        s_hat: the Monte-Carlo estimate of Q's training error from n_draws indicators.
        q_hat_bound: kl⁻¹(s_hat, ln(2/δ')/n_draws), an upper bound on Q's training error.
        n_draws: number of independent (example, network) draws behind s_hat.
        m: number of training examples; delta, delta_mc: δ and δ'.
    """

    bound: float
    j: int
    lam: float
    kl: float
    s_hat: float
    q_hat_bound: float
    n_draws: int
    m: int
    delta: float
    delta_mc: float


def certify(model: nn.Module, post: Posterior, w0: dict[str, torch.Tensor], x: torch.Tensor,
            y: torch.Tensor, *, delta: float = 0.025, delta_mc: float = 0.01, repeats: int = 10,
            b: float = 100.0, c: float = 0.1, seed: int = 0) -> Certificate:
    """Evaluate the PAC-Bayes bound of Dziugaite & Roy (2017) for the posterior ``post``.

    1. Round λ to the grid: j = b ln(c/λ) rounded down and up (j ≥ 1); the union bound
       over all j (weights 6/(π² j²)) makes any data-dependent choice of j valid; the
       smaller of the two bounds is kept.
    2. Monte Carlo (Langford & Caruana 2002): draw a fresh network from Q for each of the
       m training examples, ``repeats`` times (:func:`gibbs_error`). The N = m·repeats
       indicators are independent, each in {0, 1}, and their mean is Q's training error
       q̂_Q, so by Hoeffding's (1963) Theorem 1 in kl form, with probability ≥ 1 − δ',
       q̂_Q ≤ kl⁻¹(ŝ, ln(2/δ')/N) (:func:`monte_carlo_bound`).
    3. bound = kl⁻¹(that, B_RE(j)) (:func:`dziugaite_roy_bound`), valid with
       probability ≥ 1 − δ − δ'.
    """
    names = [n for pair in _linear_names(model) for n in pair]
    if not isinstance(post, Posterior):
        raise TypeError(f"post: expected a Posterior (from optimize_posterior), got {type(post).__name__}")
    if set(w0) != set(names):
        raise ValueError(f"w0: expected the parameters {names}, got {sorted(w0)}")
    b, c = float(check_positive("b", b)), float(check_positive("c", c))
    repeats = check_positive_int("repeats", repeats)
    m = len(y)
    s_hat = gibbs_error(model, post.mean, post.sigma, x, y, repeats=repeats, seed=seed)
    n_draws = m * repeats
    q_bound = monte_carlo_bound(s_hat, n_draws, delta_mc)
    mu = flatten({k: post.mean[k] for k in names}).double()
    sd = flatten({k: post.sigma[k] for k in names}).double()
    prior = flatten({k: w0[k] for k in names}).double()
    j_real = b * math.log(c / post.lam)
    best = None
    for j in sorted({max(1, math.floor(j_real)), max(1, math.ceil(j_real))}):
        lam = c * math.exp(-j / b)
        kl = float(gaussian_kl(mu, sd, prior, lam))
        value = dziugaite_roy_bound(q_bound, kl, m, delta, j)
        if best is None or value < best.bound:
            best = Certificate(value, j, lam, kl, s_hat, q_bound, n_draws, m, float(delta), float(delta_mc))
    return best
