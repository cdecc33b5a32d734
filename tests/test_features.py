"""overparam.features: random ReLU features and the ridge / min-norm readout, in float64."""

import math

import pytest
import torch
import torch.nn.functional as F

import overparam as op


def _data(n=30, n_test=20, d=5, seed=0):
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(n, d, generator=gen, dtype=torch.float64)
    xt = torch.randn(n_test, d, generator=gen, dtype=torch.float64)
    return x, torch.randint(0, 3, (n,), generator=gen), xt, torch.randint(0, 3, (n_test,), generator=gen)


def test_features_by_hand_and_nested():
    layer = op.features.RandomReLU(torch.tensor([[1.0, -1.0], [0.5, 2.0]]), torch.tensor([0.0, -1.0]))
    x = torch.tensor([[2.0, 1.0]])
    # unit 1: relu(2 − 1) = 1; unit 2: relu(1 + 2 − 1) = 2; divided by √2.
    assert torch.allclose(op.features.relu_features(x, layer), torch.tensor([[1.0, 2.0]]) / math.sqrt(2))
    big = op.features.random_relu(5, 50, bias_std=1.0, seed=3)
    x = torch.randn(7, 5, dtype=torch.float64)
    # The first N units of a draw are the same units at any N: the features are nested.
    assert torch.allclose(op.features.relu_features(x, big, 10) * math.sqrt(10),
                          op.features.relu_features(x, big)[:, :10] * math.sqrt(50))


def test_weight_scale():
    layer = op.features.random_relu(400, 2000, seed=0)
    # W_ij ~ N(0, 1/d): the mean squared entry is 1/d within a few standard errors (√(2/8e5) relative).
    assert (layer.W**2).mean().item() == pytest.approx(1 / 400, rel=0.01)
    assert (layer.b == 0).all()


def test_sweep_matches_min_norm_and_ridge():
    x, y, xt, yt = _data()
    Ns, alphas = [10, 30, 80], torch.tensor([0.0, 0.05])
    res = op.features.ridge_sweep(x, y, xt, yt, Ns, alphas, n_classes=3, seed=1)
    layer = op.features.random_relu(5, 80, seed=1)
    Y, Yt = F.one_hot(y, 3).double(), F.one_hot(yt, 3).double()
    for j, N in enumerate(Ns):
        phi, phit = op.features.relu_features(x, layer, N), op.features.relu_features(xt, layer, N)
        A0 = torch.linalg.pinv(phi) @ Y  # independent reference for α = 0
        # ridge reference from the normal equations: (ΦᵀΦ/n + α I) A = ΦᵀY/n
        A1 = torch.linalg.solve(phi.T @ phi / 30 + 0.05 * torch.eye(N, dtype=torch.float64), phi.T @ Y / 30)
        for a, A in enumerate((A0, A1)):
            want = 0.5 * ((phit @ A - Yt) ** 2).sum(1).mean().item()
            assert res.test_mse[a, j].item() == pytest.approx(want, rel=1e-8)
            assert res.test_error[a, j].item() == ((phit @ A).argmax(1) != yt).double().mean().item()
    # Past the threshold (N = 80 > n = 30) the min-norm readout interpolates.
    assert res.train_mse[0, 2].item() < 1e-20 and res.train_error[0, 2].item() == 0.0


def test_errors():
    layer = op.features.random_relu(5, 10)
    with pytest.raises(ValueError, match="n_features"):
        op.features.relu_features(torch.zeros(2, 5), layer, 11)
    with pytest.raises(ValueError, match="x: expected 5 columns"):
        op.features.relu_features(torch.zeros(2, 4), layer)
    with pytest.raises(ValueError, match="bias_std"):
        op.features.random_relu(5, 10, bias_std=-1.0)
    x, y, xt, yt = _data()
    with pytest.raises(ValueError, match="n_features"):
        op.features.ridge_sweep(x, y, xt, yt, [])
    with pytest.raises(ValueError, match="alphas"):
        op.features.ridge_sweep(x, y, xt, yt, [5], [-1.0])
