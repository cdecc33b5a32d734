"""Sharpness-aware minimization (Foret et al. 2021) and its adaptive variant (Kwon et al. 2021).

SAM minimizes ``max_{‖ε‖ ≤ ρ} L(w + ε)``. To first order the inner maximizer is
``ε̂ = ρ g / ‖g‖`` with ``g = ∇L(w)`` (Foret et al., eq. 2), and the update uses the
gradient at the perturbed point::

    w ← w − η ∇L(w + ε̂)         (for plain SGD as the base optimizer)

Adaptive SAM (ASAM, Kwon et al. 2021, eq. 11) rescales the neighbourhood elementwise
by ``T_w = |w| + η_T``: ``ε̂ = ρ T_w² g / ‖T_w g‖``, which makes the perturbation —
and the sharpness it penalizes — invariant to rescaling the weights of a layer.

:class:`SAM` is a ``torch.optim.Optimizer`` wrapping a base optimizer built on the same
parameter groups (so a learning-rate schedule set on ``param_groups`` reaches both).
``step(closure)`` needs the gradient at ``w`` already in ``.grad`` (the usual
``loss.backward()`` before ``step``); the closure recomputes loss and gradient at the
perturbed point. :func:`overparam.train.train` passes such a closure to optimizers that
set ``requires_closure``.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import nn

from overparam._check import check_positive


class SAM(torch.optim.Optimizer):
    """Sharpness-aware minimization around any base optimizer.

    Args:
        params: parameters or parameter groups, as for any optimizer.
        base_optimizer: an optimizer *class* (e.g. ``torch.optim.SGD``), built here with
            ``**kw`` on the same parameter groups.
        rho: neighbourhood radius ρ (Foret et al. use 0.05; ASAM typically 0.5–2).
        adaptive: ASAM's elementwise normalization ``T_w = |w| + eta``.
        eta: the constant η_T in ``T_w`` (Kwon et al. use 0.01).
        model: if given, the running statistics of its BatchNorm layers are restored after
            the evaluation at the perturbed point, so each step updates them once (from
            the forward pass at ``w``), not twice.
        **kw: passed to ``base_optimizer`` (``lr``, ``momentum``, ...).
    """

    requires_closure = True

    def __init__(self, params, base_optimizer: type[torch.optim.Optimizer], rho: float = 0.05,
                 adaptive: bool = False, eta: float = 0.01, model: nn.Module | None = None, **kw):
        check_positive("rho", rho, allow_zero=True)
        check_positive("eta", eta, allow_zero=True)
        if not (isinstance(base_optimizer, type) and issubclass(base_optimizer, torch.optim.Optimizer)):
            raise TypeError(f"base_optimizer: expected an optimizer class such as torch.optim.SGD, "
                            f"got {base_optimizer!r}")
        super().__init__(params, dict(rho=rho, adaptive=adaptive, eta=eta, **kw))
        self.base_optimizer = base_optimizer(self.param_groups, **kw)
        self.param_groups = self.base_optimizer.param_groups
        self.defaults.update(self.base_optimizer.defaults)
        self.model = model

    def _scale(self, p: torch.Tensor, group: dict) -> torch.Tensor | float:
        return p.abs() + group["eta"] if group["adaptive"] else 1.0

    @torch.no_grad()
    def perturbation(self) -> dict[torch.Tensor, torch.Tensor]:
        """ε̂ for every parameter with a gradient: ρ T² g / ‖T g‖ (T = 1 for plain SAM)."""
        scaled = [(self._scale(p, g) * p.grad) for g in self.param_groups for p in g["params"]
                  if p.grad is not None]
        if not scaled:
            return {}
        norm = torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(s) for s in scaled]))
        eps = {}
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                t = self._scale(p, group)
                eps[p] = group["rho"] * t * t * p.grad / norm.clamp_min(1e-12)
        return eps

    def step(self, closure: Callable[[], torch.Tensor] | None = None):
        """Climb to w + ε̂, re-evaluate ``closure`` there, return to w, step the base optimizer.

        ``closure`` must zero the gradients, compute the loss on the same batch, call
        ``backward()`` and return the loss. Returns the loss at the perturbed point.
        """
        if closure is None:
            raise ValueError("closure: SAM needs a closure that recomputes the loss and its gradient")
        if all(p.grad is None for g in self.param_groups for p in g["params"]):
            with torch.enable_grad():
                closure()
        eps = self.perturbation()
        with torch.no_grad():
            for p, e in eps.items():
                p.add_(e)
        saved = _batchnorm_state(self.model)
        with torch.enable_grad():
            loss = closure()
        _restore(self.model, saved)
        with torch.no_grad():
            for p, e in eps.items():
                p.sub_(e)
        self.base_optimizer.step()
        return loss

    def zero_grad(self, set_to_none: bool = True) -> None:
        self.base_optimizer.zero_grad(set_to_none=set_to_none)


def _batchnorm_state(model: nn.Module | None) -> list[tuple[torch.Tensor, torch.Tensor]]:
    if model is None:
        return []
    return [(b, b.detach().clone()) for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)
            for b in m.buffers()]


def _restore(model, saved) -> None:
    with torch.no_grad():
        for buf, value in saved:
            buf.copy_(value)


def worst_case_increase(f: Callable[[dict], torch.Tensor], params: dict[str, torch.Tensor],
                        rho: float, steps: int = 20, seed: int = 0) -> float:
    """SAM's own sharpness: ``max_{‖ε‖ ≤ ρ} L(θ + ε) − L(θ)``, by projected gradient ascent.

    The quantity SAM minimizes beside the loss (Foret et al. 2021, eq. 1: the "sharpness"
    term). The ascent starts at SAM's first-order maximizer ``ε₀ = ρ g / ‖g‖`` (a random
    direction from ``seed`` where ``g = ∇L(θ) = 0``) and takes ``steps`` normalized steps
    ``ε ← ρ (ε + ρ ĝ) / ‖ε + ρ ĝ‖`` with ``ĝ = ∇L(θ + ε) / ‖∇L(θ + ε)‖``, keeping the
    largest loss seen; on a quadratic ``½ εᵀAε`` at its minimum this is power iteration and
    tends to ``½ ρ² λ_max(A)``. Ascent finds a lower bound on the maximum (a local one).

    Args:
        f, params: the loss as a pure function of the parameters and the point θ, as
            returned by :func:`overparam.hessian.loss_fn`.
        rho: the radius ρ > 0 of the ball (Euclidean, over all parameters together).
        steps: ascent steps after the first-order point (0: SAM's first-order estimate).
        seed: for the random start where the gradient vanishes.

    Returns:
        The largest ``L(θ + ε) − L(θ)`` found with ``‖ε‖ = ρ``.
    """
    check_positive("rho", rho)
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 0:
        raise ValueError(f"steps: expected an int ≥ 0, got {steps!r}")
    if not isinstance(params, dict) or not params:
        raise TypeError("params: expected a non-empty dict name -> tensor (hessian.loss_fn)")
    theta = {k: v.detach() for k, v in params.items()}

    def grad_at(eps):
        point = {k: (theta[k] + eps[k]).requires_grad_(True) for k in theta}
        loss = f(point)
        grads = torch.autograd.grad(loss, list(point.values()))
        return loss.detach(), dict(zip(theta, grads))

    def scaled(d, r):
        norm = torch.sqrt(sum((v * v).sum() for v in d.values()))
        return {k: v * (r / norm) for k, v in d.items()}, norm

    base, g = grad_at({k: torch.zeros_like(v) for k, v in theta.items()})
    eps, norm = scaled(g, rho)
    if not torch.isfinite(norm) or norm == 0:
        gen = torch.Generator().manual_seed(seed)
        eps, _ = scaled({k: torch.randn(v.shape, generator=gen, dtype=v.dtype).to(v.device)
                         for k, v in theta.items()}, rho)
    best = -math.inf
    for _ in range(steps + 1):
        loss, g = grad_at(eps)
        best = max(best, (loss - base).item())
        ghat, gnorm = scaled(g, rho)
        if gnorm == 0 or not torch.isfinite(gnorm):
            break
        eps, _ = scaled({k: eps[k] + ghat[k] for k in eps}, rho)
    return best
