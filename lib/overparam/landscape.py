"""Looking at the loss landscape: 1-D interpolation and filter-normalized 2-D slices.

Li, Xu, Taylor, Studer & Goldstein (2018) plot ``L(θ + α d₁ + β d₂)`` along random
directions d, and make such plots comparable across networks by *filter normalization*
(their Section 4): each filter of d (a row of a linear layer's weight matrix, an output
channel of a convolution) is rescaled to the norm of the same filter of θ, and the
directions of biases and BatchNorm parameters (1-D tensors) are set to zero. Without it
a network whose weights are simply larger looks flatter (Dinh et al. 2017).

All functions take the loss as a pure function ``f(params)`` (from
:func:`overparam.hessian.loss_fn`).
"""

from __future__ import annotations

import torch

from overparam._check import as_generator

Params = dict[str, torch.Tensor]


def _check_same_keys(name: str, a: Params, b: Params) -> None:
    if not isinstance(a, dict) or a.keys() != b.keys():
        raise ValueError(f"{name}: expected a dict with the keys {list(b)}")
    for k in b:
        if a[k].shape != b[k].shape:
            raise ValueError(f"{name}[{k!r}]: expected shape {tuple(b[k].shape)}, got {tuple(a[k].shape)}")


def random_direction(params: Params, seed: int = 0, filter_normalize: bool = True) -> Params:
    """A Gaussian direction shaped like ``params``, filter-normalized (Li et al. 2018, Sec. 4).

    With ``filter_normalize``: for every tensor with ≥ 2 dimensions, each slice along dim 0
    (a filter) is rescaled to the norm of the same slice of θ; 1-D tensors get zero.
    """
    gen = as_generator(seed)
    out = {}
    for k, p in params.items():
        d = torch.randn(p.shape, generator=gen, dtype=torch.float64).to(p.dtype)
        if filter_normalize:
            if p.dim() <= 1:
                d = torch.zeros_like(p)
            else:
                dn = d.reshape(len(d), -1).norm(dim=1).clamp_min(1e-12)  # (filters,)
                pn = p.detach().reshape(len(p), -1).norm(dim=1)
                d = d * (pn / dn).view(-1, *[1] * (p.dim() - 1))
        out[k] = d
    return out


def _along(params: Params, dirs: list[tuple[float, Params]]) -> Params:
    return {k: p + sum(a * d[k] for a, d in dirs) for k, p in params.items()}


@torch.no_grad()
def interpolate(f, params_a: Params, params_b: Params, alphas) -> torch.Tensor:
    """``L((1 − α) θ_a + α θ_b)`` for each α (the 1-D plot of Goodfellow et al. 2015): (A,) float64."""
    _check_same_keys("params_b", params_b, params_a)
    diff = {k: params_b[k] - params_a[k] for k in params_a}
    return torch.tensor([f(_along(params_a, [(float(a), diff)])).item() for a in alphas], dtype=torch.float64)


@torch.no_grad()
def slice_1d(f, params: Params, direction: Params, alphas) -> torch.Tensor:
    """``L(θ + α d)`` for each α: (A,) float64."""
    _check_same_keys("direction", direction, params)
    return torch.tensor([f(_along(params, [(float(a), direction)])).item() for a in alphas], dtype=torch.float64)


@torch.no_grad()
def slice_2d(f, params: Params, d1: Params, d2: Params, alphas, betas) -> torch.Tensor:
    """``L(θ + α d₁ + β d₂)`` on the grid: (len(alphas), len(betas)) float64."""
    _check_same_keys("d1", d1, params)
    _check_same_keys("d2", d2, params)
    return torch.tensor([[f(_along(params, [(float(a), d1), (float(b), d2)])).item() for b in betas]
                         for a in alphas], dtype=torch.float64)
