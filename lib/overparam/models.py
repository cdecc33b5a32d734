"""Models: the multilayer perceptron in standard and NTK parameterization.

``parameterization="standard"``: an ``nn.Linear`` per layer with W ~ N(0, σ_w²/fan_in)
and b ~ N(0, σ_b²) (He initialization for σ_w² = 2).

``parameterization="ntk"`` (Jacot et al. 2018): every layer computes
σ_w/√fan_in · W x + σ_b · b with W, b ~ N(0, 1), so the scale lives in the forward
pass rather than in the initialization; gradient descent then sees an O(1/√width)
learning rate per weight, which is what makes the infinite-width limit lazy.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from overparam._check import as_generator, check_positive, check_positive_int

ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "gelu": nn.GELU, "linear": nn.Identity}
PARAMETERIZATIONS = ("standard", "ntk")


class NTKLinear(nn.Module):
    """y = σ_w/√fan_in · x Wᵀ + σ_b · b, with W and b drawn from N(0, 1)."""

    def __init__(self, fan_in: int, fan_out: int, sigma_w2: float, sigma_b2: float, gen: torch.Generator):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(fan_out, fan_in, generator=gen))
        self.bias = nn.Parameter(torch.randn(fan_out, generator=gen))
        self.w_scale = math.sqrt(sigma_w2 / fan_in)
        self.b_scale = math.sqrt(sigma_b2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.w_scale * (x @ self.weight.T) + self.b_scale * self.bias

    def extra_repr(self) -> str:
        return f"fan_in={self.weight.shape[1]}, fan_out={self.weight.shape[0]}, ntk parameterization"


def _standard_linear(fan_in: int, fan_out: int, sigma_w2: float, sigma_b2: float, gen) -> nn.Linear:
    layer = nn.utils.skip_init(nn.Linear, fan_in, fan_out)  # no draw from the global RNG
    with torch.no_grad():
        layer.weight.copy_(torch.randn(fan_out, fan_in, generator=gen) * math.sqrt(sigma_w2 / fan_in))
        layer.bias.copy_(torch.randn(fan_out, generator=gen) * math.sqrt(sigma_b2))
    return layer


def mlp(
    d_in: int,
    width: int,
    depth: int,
    d_out: int,
    activation: str = "relu",
    parameterization: str = "standard",
    sigma_w2: float = 2.0,
    sigma_b2: float = 0.0,
    seed: int | torch.Generator = 0,
) -> nn.Sequential:
    """A fully connected network with ``depth`` hidden layers of ``width`` units.

    Args:
        d_in, d_out: input and output dimensions.
        width: hidden units per layer (n in the papers).
        depth: number of hidden layers L (0 gives a linear model).
        activation: one of ``"relu"``, ``"tanh"``, ``"gelu"``, ``"linear"``.
        parameterization: ``"standard"`` or ``"ntk"`` (module docstring).
        sigma_w2, sigma_b2: weight and bias variances σ_w², σ_b² (per fan-in for weights).
        seed: initializes every parameter from this seed; global RNG state is untouched.
    """
    for name, value in (("d_in", d_in), ("width", width), ("d_out", d_out)):
        check_positive_int(name, value)
    check_positive_int("depth", depth, allow_zero=True)
    check_positive("sigma_w2", sigma_w2)
    check_positive("sigma_b2", sigma_b2, allow_zero=True)
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation: expected one of {sorted(ACTIVATIONS)}, got {activation!r}")
    if parameterization not in PARAMETERIZATIONS:
        raise ValueError(f"parameterization: expected one of {PARAMETERIZATIONS}, got {parameterization!r}")
    make = NTKLinear if parameterization == "ntk" else _standard_linear
    gen = as_generator(seed)
    sizes = [d_in] + [width] * depth + [d_out]
    layers: list[nn.Module] = []
    for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(make(fan_in, fan_out, sigma_w2, sigma_b2, gen))
        if i < depth:
            layers.append(ACTIVATIONS[activation]())
    return nn.Sequential(*layers)


def count_parameters(model: nn.Module) -> int:
    """Number of trainable scalars."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"model: expected an nn.Module, got {type(model).__name__}")
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


class CNN1d(nn.Module):
    """Three strided 1-D convolutions and a linear read-out (the MNIST-1D benchmark's CNN).

    Shapes for an input of length 40: (B, 40) → conv k=5 → (B, C, 19) → conv k=3 →
    (B, C, 10) → conv k=3 → (B, C, 5) → flatten → (B, 5C) → linear → (B, d_out).
    Every convolution has stride 2 and zero padding 1, so shifting the input by 2
    positions shifts the first feature map by 1 (away from the borders).
    """

    def __init__(self, d_in: int, channels: int, d_out: int, gen: torch.Generator):
        super().__init__()
        self.convs = nn.ModuleList()
        length, fan = d_in, 1
        for k in (5, 3, 3):
            conv = nn.utils.skip_init(nn.Conv1d, fan, channels, k, stride=2, padding=1)
            with torch.no_grad():  # He initialization, drawn from gen (never the global RNG)
                conv.weight.copy_(torch.randn(channels, fan, k, generator=gen) * math.sqrt(2.0 / (fan * k)))
                conv.bias.zero_()
            self.convs.append(conv)
            length, fan = (length + 2 - k) // 2 + 1, channels
        if length < 1:
            raise ValueError(f"d_in: expected an input of length >= 5 for three strided convolutions, got {d_in}")
        self.readout = _standard_linear(channels * length, d_out, 1.0, 0.0, gen)

    def features(self, x: torch.Tensor, layer: int = 1) -> torch.Tensor:
        """The feature map after ``layer`` convolutions (1, 2 or 3): (B, C, length)."""
        h = x.unsqueeze(-2)  # (B, 1, d_in)
        for conv in self.convs[:layer]:
            h = conv(h).relu()
        return h

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.readout(self.features(x, 3).flatten(-2))


def cnn1d(d_in: int = 40, channels: int = 25, d_out: int = 10, seed: int | torch.Generator = 0) -> CNN1d:
    """The 1-D CNN of the MNIST-1D benchmark (Greydanus & Kobak 2020), seeded.

    Args:
        d_in: input length (40 for MNIST-1D).
        channels: feature maps per convolution.
        d_out: number of classes.
        seed: initializes every parameter; global RNG state is untouched.
    """
    for name, value in (("d_in", d_in), ("channels", channels), ("d_out", d_out)):
        check_positive_int(name, value)
    return CNN1d(d_in, channels, d_out, as_generator(seed))
