"""Curvature of the loss: Hessian-vector products, Lanczos, Hutchinson and SLQ.

Everything works on a loss written as a pure function of a dict of parameters,
``f(params) -> scalar`` (the ``torch.func`` style), built from a model by :func:`loss_fn`.
The Hessian ``H = ∇²f(θ)`` is never formed: every method needs only products ``H v``.

* :func:`hvp` — one product; ``method="double_backward"`` (reverse-over-reverse) or
  ``"forward"`` (``torch.func`` forward-over-reverse, the memory-lean option).
* :class:`HessianOperator` — many products at one point: the gradient graph is built
  once (``create_graph=True``) and each product is one extra backward pass through it,
  the fastest option on a CPU. Acts on flat vectors of length ``dim`` = number of
  parameters.
* :func:`top_eigenvalues` — the ``k`` algebraically largest eigenvalues by Lanczos with
  full reorthogonalization, stopped when the Ritz residuals fall below ``tol``.
* :func:`trace` — Hutchinson's estimator ``E[zᵀHz] = tr H`` with Rademacher ``z``
  (Hutchinson 1989).
* :func:`spectral_density` — stochastic Lanczos quadrature (Golub & Meurant; Ghorbani,
  Krishnan & Xiao 2019, Section 2): nodes and weights of a discrete measure whose
  moments match ``tr(Hʲ)/dim`` in expectation.

BatchNorm: :func:`loss_fn` differentiates the model *in the mode it is in*. In eval mode
BatchNorm is a fixed affine map (running statistics) and ``H`` is the Hessian of the
function used at test time; in train mode it normalizes with the statistics of the
batch ``x``, so ``H`` is the Hessian of the training loss on that batch. Either way the
model's running statistics are never changed: ``f`` runs on copies of the buffers.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn
from torch.func import functional_call

from overparam._check import as_generator, check_positive, check_positive_int

Params = dict[str, torch.Tensor]
LossFn = Callable[[Params], torch.Tensor]


def loss_fn(model: nn.Module, criterion, x: torch.Tensor, y: torch.Tensor) -> tuple[LossFn, Params]:
    """The loss on the batch ``(x, y)`` as a pure function of the parameters.

    Args:
        model: any ``nn.Module``; evaluated in its current mode (see the module docstring).
        criterion: ``"mse"`` or ``"cross_entropy"`` (as in :func:`overparam.train.loss_value`),
            or a callable ``(outputs, targets) -> scalar``.
        x, y: the batch the loss is averaged over (full batch: the whole training set).

    Returns:
        ``(f, params)``: ``f(params)`` is the scalar loss ``L(θ)``; ``params`` is a detached
        copy of the model's trainable parameters ``θ`` (name → tensor).
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model: expected an nn.Module, got {type(model).__name__}")
    if isinstance(criterion, str):
        from overparam.train import LOSSES, loss_value

        if criterion not in LOSSES:
            raise ValueError(f"criterion: expected one of {LOSSES} or a callable, got {criterion!r}")
        name = criterion

        def criterion(out, target):
            return loss_value(out, target, name)
    elif not callable(criterion):
        raise TypeError(f"criterion: expected a string or a callable, got {type(criterion).__name__}")
    if len(x) != len(y):
        raise ValueError(f"x, y: expected the same number of rows, got {len(x)} and {len(y)}")
    params = {k: p.detach().clone() for k, p in model.named_parameters() if p.requires_grad}
    if not params:
        raise ValueError("model: has no trainable parameters")
    buffers = {k: b.detach().clone() for k, b in model.named_buffers()}

    def f(p: Params) -> torch.Tensor:
        return criterion(functional_call(model, (p, buffers), (x,)), y)

    return f, params


def _check_like(name: str, v: Params, params: Params) -> None:
    if not isinstance(v, dict) or v.keys() != params.keys():
        raise ValueError(f"{name}: expected a dict with the keys of params {list(params)}")
    for k in params:
        if v[k].shape != params[k].shape:
            raise ValueError(f"{name}[{k!r}]: expected shape {tuple(params[k].shape)}, got {tuple(v[k].shape)}")


def hvp(f: LossFn, params: Params, v: Params, method: str = "double_backward") -> Params:
    """The Hessian-vector product ``H v`` with ``H = ∇²f(params)``.

    Args:
        f: scalar loss of a parameter dict (from :func:`loss_fn`).
        params: the point θ (name → tensor).
        v: the direction, shaped like ``params``.
        method: ``"double_backward"`` (builds the gradient graph and differentiates
            ``∇f·v``; for many products at one point use :class:`HessianOperator`) or
            ``"forward"`` (``torch.func.jvp`` of ``torch.func.grad``: no graph kept).

    Returns:
        ``H v`` shaped like ``params``.
    """
    _check_like("v", v, params)
    if method == "forward":
        return torch.func.jvp(torch.func.grad(f), (params,), (v,))[1]
    if method != "double_backward":
        raise ValueError(f"method: expected 'double_backward' or 'forward', got {method!r}")
    p = {k: t.detach().requires_grad_(True) for k, t in params.items()}
    grads = torch.autograd.grad(f(p), list(p.values()), create_graph=True)
    dot = sum((g * v[k]).sum() for g, k in zip(grads, p))
    hv = torch.autograd.grad(dot, list(p.values()), allow_unused=True)
    return {k: (h if h is not None else torch.zeros_like(p[k])).detach() for k, h in zip(p, hv)}


class HessianOperator:
    """``v ↦ H v`` on flat vectors, with the gradient graph at θ built once and reused.

    ``op(v)`` takes a vector of length ``op.dim`` (the parameters flattened in the order of
    ``params``) and returns ``H v`` in ``op.dtype``. :meth:`unflatten` / :meth:`flatten`
    convert to and from parameter dicts.
    """

    def __init__(self, f: LossFn, params: Params):
        self.names = list(params)
        self.shapes = [params[k].shape for k in self.names]
        self._p = [params[k].detach().clone().requires_grad_(True) for k in self.names]
        self.dim = sum(t.numel() for t in self._p)
        self.dtype = self._p[0].dtype
        self.device = self._p[0].device
        with torch.enable_grad():
            grads = torch.autograd.grad(f(dict(zip(self.names, self._p))), self._p, create_graph=True)
        self._grads = [g if g.requires_grad else None for g in grads]
        self.gradient = torch.cat([g.detach().reshape(-1) for g in grads])  # ∇f(θ), flat
        self.n_products = 0

    def __call__(self, v: torch.Tensor) -> torch.Tensor:
        if v.shape != (self.dim,):
            raise ValueError(f"v: expected a flat vector of length {self.dim}, got shape {tuple(v.shape)}")
        v = v.to(self.dtype)
        chunks = v.split([p.numel() for p in self._p])
        live = [(g, c.view_as(g)) for g, c in zip(self._grads, chunks) if g is not None]
        if not live:  # the loss is linear in every parameter
            hv = [None] * len(self._p)
        else:
            hv = torch.autograd.grad([g for g, _ in live], self._p, grad_outputs=[c for _, c in live],
                                     retain_graph=True, allow_unused=True)
        self.n_products += 1
        return torch.cat([(h if h is not None else torch.zeros_like(p)).reshape(-1) for h, p in zip(hv, self._p)])

    def flatten(self, d: Params) -> torch.Tensor:
        return torch.cat([d[k].detach().reshape(-1).to(self.dtype) for k in self.names])

    def unflatten(self, v: torch.Tensor) -> Params:
        parts = v.split([math.prod(s) for s in self.shapes])
        return {k: c.view(s) for k, c, s in zip(self.names, parts, self.shapes)}


@dataclass(frozen=True)
class Lanczos:
    """The tridiagonal matrix of a Lanczos run: diagonal ``alpha`` (m,), off-diagonal ``beta`` (m−1,)."""

    alpha: torch.Tensor
    beta: torch.Tensor
    basis: torch.Tensor | None  # (m, dim) orthonormal Lanczos vectors, float64, if kept
    residual: float  # β_m: the norm of the next, unused Lanczos vector

    def tridiagonal(self) -> torch.Tensor:
        """T = Qᵀ H Q, (m, m) float64."""
        return torch.diag(self.alpha) + torch.diag(self.beta, 1) + torch.diag(self.beta, -1)


def lanczos(matvec: Callable[[torch.Tensor], torch.Tensor], v0: torch.Tensor, n_iter: int,
            k: int = 0, tol: float = 0.0, check_every: int = 5) -> Lanczos:
    """Lanczos tridiagonalization of a symmetric operator, with full reorthogonalization.

    Args:
        matvec: ``v ↦ H v`` on flat vectors.
        v0: start vector (dim,); normalized here.
        n_iter: at most this many steps m (also capped at dim).
        k, tol: stop early once the ``k`` largest Ritz values θ_i have residual bounds
            ``|β_m s_{m,i}| ≤ tol · max(|θ_1|, 1e-30)`` (``k = 0``: never stop early).
        check_every: test convergence every this many steps.

    The Lanczos vectors are kept in float64 and each new one is orthogonalized against
    all previous ones twice (classical Gram–Schmidt, repeated), so the Ritz values carry
    no spurious copies (Golub & Van Loan, Section 10.3).
    """
    dim = v0.numel()
    m_max = min(int(n_iter), dim)
    Q = torch.zeros(m_max, dim, dtype=torch.float64, device=v0.device)
    q = v0.reshape(-1).to(torch.float64)
    q = q / q.norm()
    alphas, betas = [], []
    beta = 0.0
    for j in range(m_max):
        Q[j] = q
        w = matvec(q).to(torch.float64)
        a = torch.dot(w, q).item()
        alphas.append(a)
        for _ in range(2):  # full reorthogonalization, twice is enough
            w = w - Q[: j + 1].T @ (Q[: j + 1] @ w)
        beta = w.norm().item()
        done = j + 1 == m_max or beta <= 1e-12 * max(abs(x) for x in alphas)
        if not done and k > 0 and (j + 1) % check_every == 0 and j + 1 >= k:
            T = _tridiag(alphas, betas)
            theta, S = torch.linalg.eigh(T)
            top = torch.argsort(theta, descending=True)[:k]
            res = (beta * S[-1, top]).abs()
            done = bool((res <= tol * max(theta[top].abs().max().item(), 1e-30)).all())
        if done:
            return Lanczos(torch.tensor(alphas, dtype=torch.float64), torch.tensor(betas, dtype=torch.float64),
                           Q[: j + 1], beta)
        betas.append(beta)
        q = w / beta
    raise AssertionError("unreachable")


def _tridiag(alphas, betas) -> torch.Tensor:
    a = torch.tensor(alphas, dtype=torch.float64)
    b = torch.tensor(betas, dtype=torch.float64)
    return torch.diag(a) + torch.diag(b, 1) + torch.diag(b, -1)


def _random_start(dim: int, seed, device) -> torch.Tensor:
    return torch.randn(dim, generator=as_generator(seed), dtype=torch.float64).to(device)


def _operator(f, params) -> HessianOperator:
    if isinstance(f, HessianOperator):
        return f
    if not callable(f):
        raise TypeError(f"f: expected a callable params -> loss, got {type(f).__name__}")
    if not isinstance(params, dict) or not params:
        raise TypeError("params: expected a non-empty dict name -> tensor (from loss_fn)")
    return HessianOperator(f, params)


def top_eigenvalues(f: LossFn, params: Params, k: int = 1, tol: float = 1e-6, max_iter: int = 100,
                    seed: int = 0, return_vectors: bool = False, v0: torch.Tensor | None = None):
    """The ``k`` algebraically largest eigenvalues of ``H = ∇²f(params)``, descending.

    Lanczos with full reorthogonalization from a Gaussian start vector drawn from
    ``seed``, stopped when the ``k`` top Ritz pairs have relative residual ``≤ tol`` or
    after ``max_iter`` products. ``f`` may also be a ready :class:`HessianOperator`.
    ``v0`` (flat, length dim) replaces the random start, e.g. the top eigenvector found at
    a nearby point (a warm start along a training run: far fewer products).

    Returns:
        ``(k,)`` float64 tensor λ_1 ≥ … ≥ λ_k; with ``return_vectors``, also the Ritz
        vectors as a ``(dim, k)`` float64 tensor (flat, in the order of ``params``).
    """
    check_positive_int("k", k)
    check_positive_int("max_iter", max_iter)
    check_positive("tol", tol, allow_zero=True)
    op = _operator(f, params)
    if k > op.dim:
        raise ValueError(f"k: expected at most the {op.dim} parameters, got {k}")
    start = _random_start(op.dim, seed, op.device) if v0 is None else v0.detach().reshape(-1)
    if start.numel() != op.dim:
        raise ValueError(f"v0: expected a flat vector of length {op.dim}, got {start.numel()} entries")
    run = lanczos(op, start, max(max_iter, k), k=k, tol=tol, check_every=1 if v0 is not None else 5)
    theta, S = torch.linalg.eigh(run.tridiagonal())
    top = torch.argsort(theta, descending=True)[:k]
    if not return_vectors:
        return theta[top]
    return theta[top], run.basis.T @ S[:, top]


def hutchinson_samples(f: LossFn, params: Params, n_samples: int = 100, seed: int = 0) -> torch.Tensor:
    """``zᵀ H z`` for ``n_samples`` Rademacher vectors z (each entry ±1 with probability ½).

    Each sample is unbiased for ``tr H``; its variance is ``2 Σ_{i≠j} H_ij²``
    (Hutchinson 1989), so the mean's standard error is ``std / √n_samples``.
    """
    check_positive_int("n_samples", n_samples)
    op = _operator(f, params)
    gen = as_generator(seed)
    out = torch.empty(n_samples, dtype=torch.float64)
    for i in range(n_samples):
        z = (torch.randint(0, 2, (op.dim,), generator=gen) * 2 - 1).to(op.dtype).to(op.device)
        out[i] = torch.dot(z, op(z)).double()
    return out


def trace(f: LossFn, params: Params, n_samples: int = 100, seed: int = 0) -> torch.Tensor:
    """Hutchinson estimate of ``tr ∇²f(params)``: the mean of :func:`hutchinson_samples` (0-d float64)."""
    return hutchinson_samples(f, params, n_samples, seed).mean()


def spectral_density(f: LossFn, params: Params, n_iter: int = 50, n_vectors: int = 1,
                     seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Stochastic Lanczos quadrature of the Hessian's eigenvalue distribution.

    For each of ``n_vectors`` Rademacher probes v (normalized), ``n_iter`` Lanczos steps
    give T = S diag(θ) Sᵀ; the Gauss quadrature nodes are θ_j and weights ``S_{1j}²``
    (summing to 1), and ``Σ_j S_{1j}² θ_jᵖ = vᵀHᵖv/‖v‖²`` exactly for ``p < 2·n_iter``
    (Ghorbani et al. 2019, eq. 5). Averaged over probes, the measure's moments are
    unbiased for ``tr(Hᵖ)/dim``.

    Returns:
        ``(nodes, weights)``, 1-D float64 tensors of length ``n_vectors · m``; each probe's
        weights sum to 1 and are divided by ``n_vectors``, so all weights sum to 1.
    """
    check_positive_int("n_iter", n_iter)
    check_positive_int("n_vectors", n_vectors)
    op = _operator(f, params)
    gen = as_generator(seed)
    nodes, weights = [], []
    for _ in range(n_vectors):
        z = (torch.randint(0, 2, (op.dim,), generator=gen) * 2 - 1).double().to(op.device)
        run = lanczos(op, z, n_iter)
        theta, S = torch.linalg.eigh(run.tridiagonal())
        nodes.append(theta)
        weights.append(S[0] ** 2 / n_vectors)
    return torch.cat(nodes), torch.cat(weights)


def smooth_density(nodes: torch.Tensor, weights: torch.Tensor, grid: torch.Tensor,
                   sigma: float) -> torch.Tensor:
    """The SLQ measure convolved with a Gaussian of width σ, evaluated on ``grid`` (a density)."""
    check_positive("sigma", sigma)
    z = (grid.double()[:, None] - nodes.double()[None, :]) / sigma  # (G, N)
    return (weights.double()[None, :] * torch.exp(-0.5 * z**2)).sum(1) / (sigma * math.sqrt(2 * math.pi))


def dense_hessian(f: LossFn, params: Params) -> torch.Tensor:
    """The full ``(dim, dim)`` Hessian by ``torch.autograd.functional.hessian`` (small models only)."""
    names = list(params)
    shapes = [params[k].shape for k in names]
    flat = torch.cat([params[k].detach().reshape(-1) for k in names])

    def g(v):
        parts = v.split([math.prod(s) for s in shapes])
        return f({k: c.view(s) for k, c, s in zip(names, parts, shapes)})

    return torch.autograd.functional.hessian(g, flat)


def sharpness(model: nn.Module, criterion, x: torch.Tensor, y: torch.Tensor, tol: float = 1e-4,
              max_iter: int = 100, seed: int = 0) -> float:
    """λ_max of the Hessian of the loss on (x, y) at the model's current parameters (a float)."""
    f, params = loss_fn(model, criterion, x, y)
    return top_eigenvalues(f, params, k=1, tol=tol, max_iter=max_iter, seed=seed)[0].item()


def sharpness_callback(x: torch.Tensor, y: torch.Tensor, criterion, every: int, tol: float = 1e-3,
                       max_iter: int = 60, seed: int = 0, key: str = "sharpness"):
    """A :func:`overparam.train.train` callback logging λ_max of the loss on (x, y) every ``every`` steps.

    Logs ``(step, λ_max)`` under ``history.extras[key]``. Each Lanczos run starts from the
    previous top eigenvector (a warm start; the first from a Gaussian drawn from ``seed``),
    so following λ_max along a run costs a few Hessian-vector products per measurement.
    """
    check_positive_int("every", every)
    state: dict = {"v": None}

    def callback(step: int, model: nn.Module, history) -> None:
        if step % every:
            return
        f, params = loss_fn(model, criterion, x, y)
        lam, vec = top_eigenvalues(f, params, k=1, tol=tol, max_iter=max_iter, seed=seed,
                                   return_vectors=True, v0=state["v"])
        state["v"] = vec[:, 0]
        history.log(key, (step, lam.item()))

    return callback
