import math

import pytest
import torch

from overparam import models


def test_shapes_and_depth():
    net = models.mlp(5, 16, 3, 2)
    assert net(torch.zeros(7, 5)).shape == (7, 2)
    linears = [m for m in net if isinstance(m, torch.nn.Linear)]
    assert [tuple(m.weight.shape) for m in linears] == [(16, 5), (16, 16), (16, 16), (2, 16)]
    assert models.count_parameters(net) == 5 * 16 + 16 + 2 * (16 * 16 + 16) + 16 * 2 + 2


def test_depth_zero_is_linear():
    net = models.mlp(3, 10, 0, 1, parameterization="ntk", sigma_w2=1.0)
    x = torch.randn(4, 3)
    layer = net[0]
    assert torch.allclose(net(x), x @ layer.weight.T / math.sqrt(3), atol=1e-12)


def test_standard_init_variance():
    # W ~ N(0, σ_w²/fan_in): the sample variance of 256*512 entries is within a few
    # standard errors (relative s.e. = sqrt(2/N) ≈ 0.4%) of σ_w²/fan_in.
    net = models.mlp(512, 256, 1, 1, sigma_w2=2.0, sigma_b2=0.5, seed=3)
    w, b = net[0].weight, net[0].bias
    assert abs(w.var().item() / (2.0 / 512) - 1) < 0.02
    assert abs(b.var().item() / 0.5 - 1) < 0.3  # 256 samples: relative s.e. ≈ 9%


def test_ntk_layer_computes_the_formula():
    net = models.mlp(4, 3, 1, 2, parameterization="ntk", sigma_w2=2.0, sigma_b2=0.25, seed=1)
    x = torch.randn(5, 4)
    l1, l2 = net[0], net[2]
    h = torch.relu(math.sqrt(2.0 / 4) * x @ l1.weight.T + 0.5 * l1.bias)
    out = math.sqrt(2.0 / 3) * h @ l2.weight.T + 0.5 * l2.bias
    assert torch.allclose(net(x), out, atol=1e-12)
    # in NTK parameterization the stored weights are standard normal
    assert abs(l1.weight.std().item() - 1) < 0.6


def test_seeded_and_global_rng_untouched():
    state = torch.random.get_rng_state()
    a = models.mlp(3, 8, 2, 1, seed=7)
    b = models.mlp(3, 8, 2, 1, seed=7)
    c = models.mlp(3, 8, 2, 1, seed=8)
    assert torch.equal(torch.random.get_rng_state(), state)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    assert not torch.equal(a[0].weight, c[0].weight)


@pytest.mark.parametrize(
    "kwargs,match",
    [
        (dict(width=0), "width: expected an int > 0"),
        (dict(depth=-1), "depth: expected an int >= 0"),
        (dict(activation="swish"), "activation: expected one of"),
        (dict(parameterization="mup"), "parameterization: expected one of"),
        (dict(sigma_w2=-1.0), "sigma_w2: expected a number > 0"),
        (dict(width=2.5), "width: expected an int"),
    ],
)
def test_bad_arguments(kwargs, match):
    args = dict(d_in=3, width=4, depth=1, d_out=1) | kwargs
    with pytest.raises((ValueError, TypeError), match=match):
        models.mlp(**args)
