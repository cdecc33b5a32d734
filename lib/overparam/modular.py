"""Modular addition, the task on which grokking was found, and its Fourier analysis.

* :func:`addition_split` -- all p² pairs (a, b) labelled (a + b) mod p, a random
  fraction of them for training (Power et al. 2022).
* :class:`PairMLP` -- the two-layer network of Gromov (2023) on the one-hot pair
  [e_a; e_b]: f(a, b) = U σ(W [e_a; e_b]) = U σ(E_a[a] + E_b[b]). The first layer is
  stored as two embedding tables (the same map, without building one-hot vectors).
* :func:`fourier_power` -- the power of each neuron's embedding at each frequency k
  of the cyclic group Z_p.
* :func:`dominant_fraction` -- per neuron, the share of its (non-constant) power at
  its strongest frequency: 1 for a neuron that is a pure wave, H_K / K on average
  for a Gaussian random one (K = (p−1)/2 frequencies, H_K the harmonic number).
* :func:`analytic_solution` -- Gromov's closed-form weights for the network with
  quadratic activation, which computes (a + b) mod p exactly.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from overparam._check import (
    as_generator,
    check_fraction,
    check_option,
    check_positive_int,
    check_seed,
    check_tensor,
)
from overparam.data import Split

ACTIVATIONS = ("relu", "quadratic")

__all__ = ["PairMLP", "addition_split", "analytic_solution", "dominant_fraction", "fourier_power",
           "is_prime"]


def is_prime(p: int) -> bool:
    """Whether the integer p is prime (trial division; p is small here)."""
    return p >= 2 and all(p % q for q in range(2, math.isqrt(p) + 1))


def _check_modulus(p) -> int:
    p = check_positive_int("p", p)
    if not is_prime(p):
        raise ValueError(f"p: expected a prime modulus (Z_p is then a field and every "
                         f"frequency k != 0 generates it), got {p}")
    return p


def addition_split(p: int, train_fraction: float, seed: int = 0) -> Split:
    """All pairs (a, b) in Z_p × Z_p with label (a + b) mod p, split at random.

    Args:
        p: the prime modulus.
        train_fraction: the fraction of the p² pairs used for training, in (0, 1).
        seed: seeds the random split.

    Returns:
        A :class:`~overparam.data.Split` with ``x`` of shape (n, 2), int64 entries
        (a, b), and ``y`` of shape (n,), int64 (a + b) mod p; the training part has
        round(train_fraction · p²) pairs, the test part the rest.
    """
    p = _check_modulus(p)
    frac = check_fraction("train_fraction", train_fraction)
    n_train = round(frac * p * p)
    if not 0 < n_train < p * p:
        raise ValueError(f"train_fraction: expected a fraction leaving both parts non-empty, got {frac}")
    gen = as_generator(check_seed("seed", seed))
    a, b = torch.meshgrid(torch.arange(p), torch.arange(p), indexing="ij")
    x = torch.stack([a.flatten(), b.flatten()], 1)  # (p², 2)
    y = x.sum(1) % p
    perm = torch.randperm(p * p, generator=gen)
    tr, te = perm[:n_train], perm[n_train:]
    return Split(x[tr], y[tr], x[te], y[te])


class PairMLP(nn.Module):
    """f(a, b) = U σ(E_a[a] + E_b[b]): a two-layer MLP on the one-hot pair (Gromov 2023).

    ``E_a``, ``E_b`` (p × width) are the two halves of the first layer's matrix
    W = [E_aᵀ E_bᵀ], so E_a[a] + E_b[b] = W [e_a; e_b]; ``U`` (p × width) is the
    readout. No biases. Entries start N(0, 1/fan_in): 1/(2p) for W, 1/width for U.

    Args:
        p: the modulus (number of tokens and of classes).
        width: the number of hidden neurons N.
        activation: ``"relu"`` or ``"quadratic"`` (σ(z) = z², Gromov's choice).
        seed: seeds the initialization.
        dtype: parameter dtype.

    Input: x of shape (n, 2), int64 pairs; output: logits of shape (n, p).
    """

    def __init__(self, p: int, width: int, activation: str = "relu", seed: int = 0,
                 dtype: torch.dtype = torch.float32):
        super().__init__()
        self.p = check_positive_int("p", p)
        self.width = check_positive_int("width", width)
        self.activation = check_option("activation", activation, ACTIVATIONS)
        gen = as_generator(check_seed("seed", seed))
        std_in, std_out = (1 / (2 * p)) ** 0.5, (1 / width) ** 0.5
        self.emb_a = nn.Parameter(torch.randn(p, width, generator=gen, dtype=dtype) * std_in)
        self.emb_b = nn.Parameter(torch.randn(p, width, generator=gen, dtype=dtype) * std_in)
        self.readout = nn.Parameter(torch.randn(p, width, generator=gen, dtype=dtype) * std_out)

    def hidden(self, x: torch.Tensor) -> torch.Tensor:
        """The activations σ(E_a[a] + E_b[b]), shape (n, width)."""
        if x.ndim != 2 or x.shape[1] != 2 or x.is_floating_point():
            raise ValueError(f"x: expected integer pairs of shape (n, 2), got {x.dtype} {tuple(x.shape)}")
        h = self.emb_a[x[:, 0]] + self.emb_b[x[:, 1]]  # (n, width)
        return torch.relu(h) if self.activation == "relu" else h * h

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.hidden(x) @ self.readout.T  # (n, p)


def fourier_power(emb: torch.Tensor) -> torch.Tensor:
    """Power of each column of ``emb`` at each frequency of Z_p.

    For a column w (values w_0..w_{p−1} on the tokens) the discrete Fourier transform
    is ``ŵ_k = Σ_t w_t exp(−2πikt/p)``; frequencies k and p − k carry the same power for
    real w, so they are merged: ``P_0 = abs(ŵ_0)²/p`` and ``P_k = 2 abs(ŵ_k)²/p`` for
    1 ≤ k ≤ (p−1)/2 (p odd). Then ``Σ_k P_k = Σ_t w_t²`` (Parseval), and a pure wave
    ``A cos(2πkt/p + φ)`` has all its power at k.

    Args:
        emb: (p, N) real, one column per neuron (p odd).

    Returns:
        (p // 2 + 1, N): row k is the power at frequency k.
    """
    emb = check_tensor("emb", emb, ndim=2, real=True)
    p = emb.shape[0]
    if p % 2 == 0:
        raise ValueError(f"emb: expected an odd number of rows (tokens of Z_p), got {p}")
    power = torch.fft.rfft(emb, dim=0).abs() ** 2 / p  # (p//2 + 1, N)
    power[1:] *= 2
    return power


def dominant_fraction(power: torch.Tensor) -> torch.Tensor:
    """Per neuron, the share of its non-constant power at its strongest frequency.

    Args:
        power: (K + 1, N) from :func:`fourier_power` (row 0, the constant, is ignored).

    Returns:
        (N,) values in [1/K, 1]: 1 for a pure wave.
    """
    power = check_tensor("power", power, ndim=2, real=True)
    if power.shape[0] < 2:
        raise ValueError(f"power: expected at least one non-constant frequency row, got {power.shape[0]} rows")
    if bool((power < 0).any()):
        raise ValueError("power: expected non-negative powers")
    ac = power[1:]
    total = ac.sum(0)
    if bool((total <= 0).any()):
        raise ValueError("power: a neuron has no non-constant power (its share is undefined)")
    return ac.max(0).values / total


def analytic_solution(p: int, freqs, n_phases: int = 3, dtype: torch.dtype = torch.float64) -> PairMLP:
    """Gromov's (2023) closed-form weights for modular addition, quadratic activation.

    Each neuron has one frequency k and two phases φ, ψ on a grid of ``n_phases``
    equally spaced angles (all combinations, for each k in ``freqs``):
    E_a[t] = cos(2πkt/p + φ), E_b[t] = cos(2πkt/p + ψ), U[q] = cos(2πkq/p + φ + ψ)
    (Gromov's U has the opposite sign convention for the angle; the product is the same).
    Expanding (E_a[a] + E_b[b])², only the cross term cos(θ_a + θ_b + φ + ψ) survives the
    sum over the phase grid (n_phases ≥ 3 cancels the 2φ terms exactly), so

        f_q(a, b) = (n_phases² / 2) Σ_{k ∈ freqs} cos(2πk(a + b − q)/p),

    which is largest at q = (a + b) mod p for any non-empty set of frequencies
    1 ≤ k ≤ (p−1)/2 (p prime: cos(2πkd/p) < 1 for d ≠ 0 mod p).

    Returns:
        A :class:`PairMLP` with ``activation="quadratic"`` and width
        len(freqs) · n_phases².
    """
    p = _check_modulus(p)
    n_phases = check_positive_int("n_phases", n_phases)
    if n_phases < 3:
        raise ValueError(f"n_phases: expected at least 3 (fewer leave the 2φ terms), got {n_phases}")
    freqs = [int(k) for k in freqs]
    if not freqs or any(not 1 <= k <= p // 2 for k in freqs):
        raise ValueError(f"freqs: expected a non-empty list of frequencies in 1..{p // 2}, got {freqs}")
    grid = 2 * math.pi * torch.arange(n_phases, dtype=dtype) / n_phases
    k, phi, psi = torch.meshgrid(torch.tensor(freqs, dtype=dtype), grid, grid, indexing="ij")
    k, phi, psi = k.flatten(), phi.flatten(), psi.flatten()  # (N,)
    t = torch.arange(p, dtype=dtype)[:, None]  # (p, 1)
    theta = 2 * math.pi * k * t / p  # (p, N)
    net = PairMLP(p, len(k), activation="quadratic", dtype=dtype)
    with torch.no_grad():
        net.emb_a.copy_(torch.cos(theta + phi))
        net.emb_b.copy_(torch.cos(theta + psi))
        net.readout.copy_(torch.cos(theta + phi + psi))
    return net
