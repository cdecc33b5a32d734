"""overparam.landscape: slices of a quadratic worked by hand; filter normalization."""

import pytest
import torch

import overparam as op
from overparam import landscape


def _quadratic():
    A = torch.tensor([[2.0, 0.0], [0.0, 8.0]])

    def f(p):
        return 0.5 * p["w"] @ A @ p["w"]

    return f


def test_slices_of_a_quadratic():
    f = _quadratic()
    theta = {"w": torch.zeros(2)}
    d1, d2 = {"w": torch.tensor([1.0, 0.0])}, {"w": torch.tensor([0.0, 1.0])}
    alphas = torch.linspace(-1, 1, 5)
    torch.testing.assert_close(landscape.slice_1d(f, theta, d1, alphas), (alphas**2).double())
    grid = landscape.slice_2d(f, theta, d1, d2, alphas, alphas)
    torch.testing.assert_close(grid, (alphas[:, None] ** 2 + 4 * alphas[None, :] ** 2).double())
    line = landscape.interpolate(f, {"w": torch.tensor([1.0, 1.0])}, {"w": torch.tensor([-1.0, -1.0])},
                                 [0.0, 0.5, 1.0])
    torch.testing.assert_close(line, torch.tensor([5.0, 0.0, 5.0]))


def test_filter_normalization():
    model = op.models.mlp(6, 7, 1, 3, seed=0)
    params = {k: p.detach() for k, p in model.named_parameters()}
    d = landscape.random_direction(params, seed=1)
    for k, p in params.items():
        if p.dim() == 1:
            assert torch.count_nonzero(d[k]) == 0  # biases are not perturbed
        else:
            torch.testing.assert_close(d[k].norm(dim=1), p.norm(dim=1))
    # rescaling a layer rescales its direction: the slice is the same function of α
    scaled = {k: (3.0 * p if k == "0.weight" else p) for k, p in params.items()}
    d_scaled = landscape.random_direction(scaled, seed=1)
    torch.testing.assert_close(d_scaled["0.weight"], 3.0 * d["0.weight"])
    assert not torch.equal(landscape.random_direction(params, seed=2)["0.weight"], d["0.weight"])


def test_bad_direction_is_named():
    with pytest.raises(ValueError, match="direction"):
        landscape.slice_1d(_quadratic(), {"w": torch.zeros(2)}, {"v": torch.zeros(2)}, [0.0])
