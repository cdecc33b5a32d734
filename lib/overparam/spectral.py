"""Spectral bias: the Fourier content of a function learned on [0, 1).

Rahaman et al. (2019) follow, over training, the amplitude of each frequency of the
target in the function a ReLU network has learned; :func:`fourier_amplitudes` measures
it, and :func:`sinusoid_target` builds their target, a sum of sinusoids.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import torch
from torch import nn

from overparam._check import as_generator, check_int, check_option, check_positive, check_positive_int


def _frequencies(freqs, n: int) -> torch.Tensor:
    k = torch.as_tensor(freqs)
    if k.ndim != 1 or k.numel() == 0 or k.is_floating_point() or k.is_complex():
        raise ValueError(f"freqs: expected a non-empty 1-D sequence of ints, got {freqs!r}")
    if (k < 0).any() or (k > n // 2).any():
        raise ValueError(f"freqs: expected integers in [0, n/2] = [0, {n // 2}] for n = {n} samples, got {k.tolist()}")
    return k.to(torch.float64)


def fourier_amplitudes(values: torch.Tensor, freqs) -> torch.Tensor:
    """Amplitude A_k of each frequency k in values sampled on the grid x = i/n, i = 0..n−1.

    ``A_k = (2/n) |Σᵢ vᵢ e^{−2πi k xᵢ}|`` for 0 < k < n/2, so that A sin(2πkx + φ) gives A at
    k (and 0 at every other integer frequency); for k = 0 and k = n/2 the factor is 1/n
    (the mean, and the alternating component).

    Args:
        values: (..., n) real samples (any leading batch shape).
        freqs: 1-D ints in [0, n/2].

    Returns:
        (..., len(freqs)) amplitudes in float64.
    """
    if not isinstance(values, torch.Tensor):
        raise TypeError(f"values: expected a torch.Tensor, got {type(values).__name__}")
    if values.ndim == 0 or values.shape[-1] < 2 or values.is_complex():
        raise ValueError(f"values: expected real samples (..., n) with n >= 2, got shape {tuple(values.shape)}")
    n = values.shape[-1]
    k = _frequencies(freqs, n)
    x = torch.arange(n, dtype=torch.float64) / n
    angle = 2 * math.pi * x[:, None] * k[None, :]  # (n, K)
    v = values.to(torch.float64)
    re, im = v @ torch.cos(angle), v @ torch.sin(angle)  # (..., K)
    factor = torch.where((k == 0) | (2 * k == n), 1.0 / n, 2.0 / n)
    return factor * torch.hypot(re, im)


def sinusoid_target(x: torch.Tensor, freqs, amplitudes, phases=None, *, seed: int = 0) -> torch.Tensor:
    """λ(x) = Σ_k A_k sin(2πkx + φ_k) (Rahaman et al. 2019, Section 3).

    Args:
        x: (n,) points.
        freqs: 1-D frequencies k; amplitudes: A_k, same length.
        phases: φ_k, same length; None draws them uniformly in [0, 2π) from ``seed``.

    Returns:
        (n,) values, float64.
    """
    if not isinstance(x, torch.Tensor) or x.ndim != 1:
        raise ValueError("x: expected a 1-D tensor of points")
    k = torch.as_tensor(freqs, dtype=torch.float64)
    a = torch.as_tensor(amplitudes, dtype=torch.float64)
    if k.ndim != 1 or a.shape != k.shape:
        raise ValueError(f"amplitudes: expected one per frequency ({k.numel()}), got shape {tuple(a.shape)}")
    if phases is None:
        phases = 2 * math.pi * torch.rand(k.numel(), generator=as_generator(seed), dtype=torch.float64)
    p = torch.as_tensor(phases, dtype=torch.float64)
    if p.shape != k.shape:
        raise ValueError(f"phases: expected one per frequency ({k.numel()}), got shape {tuple(p.shape)}")
    return (a * torch.sin(2 * math.pi * x.to(torch.float64)[:, None] * k + p)).sum(-1)


def grid(n: int) -> torch.Tensor:
    """The n points i/n, i = 0..n−1, of [0, 1) in float64."""
    check_positive_int("n", n)
    return torch.arange(n, dtype=torch.float64) / n


def learned_step(steps, amplitudes, target, fraction: float = 0.5) -> torch.Tensor:
    """For each frequency, the first step at which its amplitude reaches ``fraction`` of
    the target's (inf if never).

    Args:
        steps: (T,) steps at which the amplitudes were measured.
        amplitudes: (T, K) amplitude of each of K frequencies at each step.
        target: (K,) amplitudes of the target.
        fraction: in (0, 1].
    """
    if not isinstance(fraction, numbers.Real) or not 0 < fraction <= 1:
        raise ValueError(f"fraction: expected a number in (0, 1], got {fraction!r}")
    t = torch.as_tensor(steps, dtype=torch.float64)
    a = torch.as_tensor(amplitudes, dtype=torch.float64)
    tgt = torch.as_tensor(target, dtype=torch.float64)
    if a.ndim != 2 or a.shape[0] != t.numel() or a.shape[1] != tgt.numel():
        raise ValueError(f"amplitudes: expected shape ({t.numel()}, {tgt.numel()}), got {tuple(a.shape)}")
    hit = a >= fraction * tgt  # (T, K)
    first = torch.argmax(hit.to(torch.int8), dim=0)
    return torch.where(hit.any(0), t[first], torch.full_like(tgt, math.inf))


# ---------------------------------------------------------------- the kernel's prediction


def circle(x: torch.Tensor) -> torch.Tensor:
    """Points of [0, 1) on the unit circle: z = (cos 2πx, sin 2πx), shape (n, 2) in float64.

    A function of z is a periodic function of x, and a kernel of z·z′ depends on x − x′
    only, so on a uniform grid its eigenvectors are the Fourier modes (Basri et al. 2019).
    """
    if not isinstance(x, torch.Tensor) or x.ndim != 1:
        raise ValueError("x: expected a 1-D tensor of points")
    angle = 2 * math.pi * x.to(torch.float64)
    return torch.stack([angle.cos(), angle.sin()], 1)


def circulant_eigenvalues(row: torch.Tensor, freqs) -> torch.Tensor:
    """Eigenvalues λ_k of the circulant matrix K_ij = κ((j − i)/n) at frequencies k.

    ``row`` is K's first row, κ(j/n) for j = 0..n−1, symmetric (κ(j/n) = κ((n − j)/n)),
    as for a kernel of x − x′ on a uniform grid. Then λ_k = Σ_j κ(j/n) cos(2πkj/n), with
    eigenvectors cos(2πkx) and sin(2πkx) (a pair for 0 < k < n/2).

    Args:
        row: (n,) real values.
        freqs: 1-D ints in [0, n/2].

    Returns:
        (len(freqs),) eigenvalues in float64.
    """
    if not isinstance(row, torch.Tensor) or row.ndim != 1 or row.shape[0] < 2:
        raise ValueError("row: expected a 1-D tensor of n >= 2 kernel values")
    r = row.to(torch.float64)
    if not torch.allclose(r[1:], r[1:].flip(0), rtol=1e-9, atol=1e-12 * r.abs().max().item()):
        raise ValueError("row: expected a symmetric row, κ(j/n) = κ((n − j)/n)")
    n = r.shape[0]
    k = _frequencies(freqs, n)
    j = torch.arange(n, dtype=torch.float64)
    return torch.cos(2 * math.pi * k[:, None] * j[None, :] / n) @ r


def predicted_step(eigenvalues, lr: float, n: int, fraction: float = 0.5) -> torch.Tensor:
    """Step at which gradient descent on a fixed kernel learns ``fraction`` of frequency k.

    Full-batch gradient descent with step η on L = 1/(2n) Σᵢ (f(xᵢ) − yᵢ)², for a model
    linear in its parameters with kernel K (the lazy network, Lee et al. 2019), multiplies
    the residual's component along an eigenvector of K with eigenvalue λ by (1 − ηλ/n) per
    step. From f₀ = 0 the learned amplitude is A_k (1 − (1 − ηλ_k/n)^t), which reaches
    ``fraction`` · A_k at t = log(1 − fraction) / log(1 − ηλ_k/n), about n·log 2/(ηλ_k).

    Args:
        eigenvalues: λ_k ≥ 0 (any shape); lr: η > 0 with ηλ_k/n < 1; n: training points.
        fraction: in (0, 1).

    Returns:
        Real-valued steps (inf where λ_k = 0, or within 1e-12 of the largest ``|λ|`` of zero,
        which is rounding), float64, the shape of ``eigenvalues``.
    """
    lam = torch.as_tensor(eigenvalues, dtype=torch.float64)
    check_positive("lr", lr)
    check_positive_int("n", n)
    if not isinstance(fraction, numbers.Real) or not 0 < fraction < 1:
        raise ValueError(f"fraction: expected a number in (0, 1), got {fraction!r}")
    lam = torch.where(lam.abs() <= 1e-12 * lam.abs().max(), 0.0, lam)  # rounding: zero
    rate = lr * lam / n
    if (rate < 0).any() or (rate >= 1).any():
        raise ValueError(f"eigenvalues: expected 0 <= lr·λ/n < 1, got lr·λ/n in [{rate.min():.3g}, {rate.max():.3g}]")
    return math.log(1 - fraction) / torch.log1p(-rate)


# ---------------------------------------------------------------- training, frequency by frequency


@dataclass
class Trajectory:
    """What :func:`train_amplitudes` records.

    Attributes:
        amplitudes: (steps + 1, E, K) amplitude of each frequency in each member's
            function at every step (row t after t updates).
        loss: (steps + 1, E) training loss ½ mean (f − y)² of each member.
        snapshots: (len(keep), E, n) the members' functions at the steps ``keep``.
        keep: those steps.
    """

    amplitudes: torch.Tensor
    loss: torch.Tensor
    snapshots: torch.Tensor
    keep: list[int]


def _layers(models) -> tuple[list[torch.Tensor], list[float]]:
    """Stacked (W, b, a, c) and their scales from E one-hidden-layer ReLU MLPs in NTK form."""
    from overparam.models import NTKLinear

    if not isinstance(models, (list, tuple)) or not models:
        raise TypeError("models: expected a non-empty list of networks")
    shapes = None
    for mdl in models:
        ok = (isinstance(mdl, nn.Sequential) and len(mdl) == 3 and isinstance(mdl[0], NTKLinear)
              and isinstance(mdl[1], nn.ReLU) and isinstance(mdl[2], NTKLinear) and mdl[2].weight.shape[0] == 1)
        if not ok:
            raise ValueError("models: expected op.models.mlp(d, width, 1, 1, parameterization='ntk') networks")
        s = (tuple(mdl[0].weight.shape), mdl[0].w_scale, mdl[0].b_scale, mdl[2].w_scale, mdl[2].b_scale)
        if shapes is not None and s != shapes:
            raise ValueError("models: expected networks of one architecture (same width, input size, σ_w, σ_b)")
        shapes = s
    with torch.no_grad():
        w = torch.stack([mdl[0].weight for mdl in models])  # (E, m, d)
        b = torch.stack([mdl[0].bias for mdl in models])[:, :, None]  # (E, m, 1)
        a = torch.stack([mdl[2].weight for mdl in models])  # (E, 1, m)
        c = torch.stack([mdl[2].bias for mdl in models])[:, :, None]  # (E, 1, 1)
    first, last = models[0][0], models[0][2]
    return [w, b, a, c], [first.w_scale, first.b_scale, last.w_scale, last.b_scale]


def train_amplitudes(models, x: torch.Tensor, targets: torch.Tensor, freqs, *, lr: float, steps: int,
                     optimizer: str = "gd", scale: float = 1.0, keep=()) -> Trajectory:
    """Train E one-hidden-layer ReLU networks full-batch, each on its own target, recording
    the amplitude of every frequency in every network's function at every step.

    The networks are ``op.models.mlp(d, m, 1, 1, parameterization="ntk", ...)``:
    f(x) = σ_w/√m · a·relu(σ_w/√d · W x + σ_b b) + σ_b c. They are trained together, their
    parameters stacked (E, ...) and the gradients written out (the same numbers as autograd,
    ``tests/test_spectral.py``; several times faster on a CPU than ``torch.func``). Member e
    minimizes ½ mean_i (f_e(xᵢ) − y_eᵢ)² for its own target, and trains the *centred*
    function f_e(x; θ) − f_e(x; θ₀), which is zero at initialization and has the network's
    NTK, so frequency by frequency it starts from nothing.

    Args:
        models: E such networks of one architecture; updated in place with the result.
        x: (n, d) inputs, the same for every member (e.g. :func:`circle` of :func:`grid`).
        targets: (E, n) one target per member, sampled on the uniform grid i/n.
        freqs: 1-D ints in [0, n/2] whose amplitudes are recorded.
        lr: step size η; steps: number of full-batch updates.
        optimizer: ``"gd"`` (plain gradient descent, the setting of the NTK theory) or
            ``"adam"`` (the optimizer of Rahaman et al. 2019).
        scale: α: train α·(f(x; θ) − f(x; θ₀)) instead (pass lr/α² for the same dynamics
            at initialization); a large α makes training lazy (Chizat et al. 2019).
        keep: steps at which the members' whole (centred) functions are also kept.
    """
    params, (sw1, sb1, sw2, sb2) = _layers(models)
    check_positive("lr", lr)
    check_positive_int("steps", steps, allow_zero=True)
    check_option("optimizer", optimizer, ("gd", "adam"))
    alpha = check_positive("scale", scale)
    d = params[0].shape[2]
    if not isinstance(x, torch.Tensor) or x.ndim != 2 or x.shape[1] != d:
        raise ValueError(f"x: expected inputs of shape (n, {d}), got {tuple(getattr(x, 'shape', ()))}")
    n, e = x.shape[0], len(models)
    if not isinstance(targets, torch.Tensor) or tuple(targets.shape) != (e, n):
        raise ValueError(f"targets: expected shape (E, n) = ({e}, {n}), got {tuple(getattr(targets, 'shape', ()))}")
    keep = sorted({check_int("keep", s, min=0, max=steps) for s in keep})
    k = _frequencies(freqs, n)
    w, b, a, c = params
    dtype = w.dtype
    xt = x.to(dtype).T.expand(e, d, n)  # (E, d, n)
    y = targets.to(dtype)[:, None, :]  # (E, 1, n)

    def forward():
        pre = torch.baddbmm(b, w, xt, beta=sb1, alpha=sw1)  # (E, m, n)
        act = pre.clamp_min(0)
        return pre, act, torch.baddbmm(c, a, act, beta=sb2, alpha=sw2)  # (E, 1, n)

    f0 = forward()[2]
    angle = 2 * math.pi * (torch.arange(n, dtype=torch.float64) / n)[:, None] * k[None]
    basis = torch.cat([angle.cos(), angle.sin()], 1).to(dtype)  # (n, 2K)
    scale = torch.where((k == 0) | (2 * k == n), 1.0 / n, 2.0 / n)
    amps = torch.empty(steps + 1, e, len(k), dtype=torch.float64)
    losses = torch.empty(steps + 1, e, dtype=torch.float64)
    snaps = []
    opt = torch.optim.Adam(params, lr=lr) if optimizer == "adam" else None
    for t in range(steps + 1):
        pre, act, out = forward()
        out = alpha * (out - f0)
        resid = out - y  # (E, 1, n)
        proj = (out[:, 0] @ basis).double()  # (E, 2K)
        amps[t] = scale * torch.hypot(proj[:, :len(k)], proj[:, len(k):])
        losses[t] = 0.5 * resid[:, 0].double().pow(2).mean(1)
        if t in keep:
            snaps.append(out[:, 0].double().clone())
        if t == steps:
            break
        g_out = alpha * resid / n  # ∂L_e/∂(network output): (E, 1, n)
        g_pre = (sw2 * a.transpose(1, 2) * g_out) * (pre > 0)  # (E, m, n)
        grads = [sw1 * torch.bmm(g_pre, xt.transpose(1, 2)), sb1 * g_pre.sum(2, keepdim=True),
                 sw2 * torch.bmm(g_out, act.transpose(1, 2)), sb2 * g_out.sum(2, keepdim=True)]
        if opt is None:
            for p, g in zip(params, grads):
                p.sub_(lr * g)
        else:
            for p, g in zip(params, grads):
                p.grad = g
            opt.step()
    with torch.no_grad():
        for i, mdl in enumerate(models):
            mdl[0].weight.copy_(w[i]), mdl[0].bias.copy_(b[i, :, 0])
            mdl[2].weight.copy_(a[i]), mdl[2].bias.copy_(c[i, :, 0])
    snapshots = torch.stack(snaps) if snaps else torch.empty(0, e, n, dtype=torch.float64)
    return Trajectory(amps, losses, snapshots, keep)
