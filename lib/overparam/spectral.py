"""Spectral bias: the Fourier content of a function learned on [0, 1).

Rahaman et al. (2019) follow, over training, the amplitude of each frequency of the
target in the function a ReLU network has learned; :func:`fourier_amplitudes` measures
it, and :func:`sinusoid_target` builds their target, a sum of sinusoids.
"""

from __future__ import annotations

import math
import numbers

import torch

from overparam._check import as_generator, check_positive_int


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
