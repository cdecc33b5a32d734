"""Equivariance measured by unit matching: exact for convolutions and permutations,
large for a dense layer (the negative control)."""

import pytest
import torch

from overparam import equivariance as E


def test_shift_by_hand():
    x = torch.tensor([[1.0, 2.0, 3.0, 4.0]])
    assert E.shift(x, 1).tolist() == [[0.0, 1.0, 2.0, 3.0]]
    assert E.shift(x, -2).tolist() == [[3.0, 4.0, 0.0, 0.0]]
    assert E.shift(x, 0).tolist() == x.tolist()
    assert E.shift(x, 9).abs().sum() == 0
    with pytest.raises(TypeError, match="s:"):
        E.shift(x, 1.5)


def test_a_permutation_of_units_has_zero_error():
    g = torch.Generator().manual_seed(0)
    ref = torch.randn(50, 8, generator=g, dtype=torch.float64)
    perm = torch.randperm(8, generator=g)
    assert E.matched_error(ref[:, perm], ref) == pytest.approx(0.0, abs=1e-12)
    # a tiny case by hand: swapping two units, plus 0.1 on one entry
    ref = torch.tensor([[1.0, 0.0], [0.0, 1.0]], dtype=torch.float64)
    moved = torch.tensor([[0.0, 1.1], [1.0, 0.0]], dtype=torch.float64)
    assert E.matched_error(moved, ref) == pytest.approx(0.1 / 2**0.5)


def test_circular_convolution_is_exactly_equivariant_and_a_dense_layer_is_not():
    g = torch.Generator().manual_seed(1)
    x = torch.randn(200, 32, generator=g, dtype=torch.float64)
    conv = torch.nn.Conv1d(1, 4, 5, padding=2, padding_mode="circular", bias=False).double()
    dense = torch.nn.Linear(32, 128, bias=False).double()
    with torch.no_grad():
        conv.weight.copy_(torch.randn(4, 1, 5, generator=g))
        dense.weight.copy_(torch.randn(128, 32, generator=g))

    def roll(v):
        return torch.roll(v, 3, dims=-1)

    def conv_features(v):
        return conv(v.unsqueeze(1)).relu()

    def dense_features(v):
        return dense(v).relu()

    assert E.equivariance_error(conv_features, x, roll) < 1e-12
    assert E.equivariance_error(dense_features, x, roll) > 0.5  # negative control


def test_bad_input():
    with pytest.raises(ValueError, match="equal shapes"):
        E.matched_error(torch.ones(3, 2), torch.ones(3, 4))
    with pytest.raises(ValueError, match="never respond"):
        E.matched_error(torch.ones(3, 2), torch.zeros(3, 2))
    with pytest.raises(TypeError, match="x:"):
        E.shift([1, 2], 1)


def test_cnn1d_shapes_seeding_and_its_first_layer_moves_with_the_input():
    from overparam import models

    m = models.cnn1d(seed=3)
    assert models.count_parameters(m) == 5210  # 150 + 1900 + 1900 + 1260
    x = torch.randn(7, 40, generator=torch.Generator().manual_seed(0))
    assert m(x).shape == (7, 10)
    assert torch.equal(m(x), models.cnn1d(seed=3)(x))
    # stride 2: shifting the input by 2 shifts the first feature map by 1, away from borders
    f, f_moved = m.features(x, 1), m.features(E.shift(x, 2), 1)  # (7, 25, 19)
    torch.testing.assert_close(f_moved[..., 3:-1], f[..., 2:-2])
    with pytest.raises(ValueError, match="d_in"):
        models.cnn1d(d_in=2)
