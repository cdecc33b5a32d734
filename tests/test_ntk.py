import math

import pytest
import torch

from overparam import models, ntk, train


def _x(n, d, seed=0):
    return torch.randn(n, d, dtype=torch.float64, generator=torch.Generator().manual_seed(seed))


def test_two_methods_agree_float64():
    # Jacobian contraction and NTK-vector products are two independent computations of J Jᵀ.
    x = _x(5, 3)
    net = models.mlp(3, 32, 2, 2, parameterization="ntk", sigma_b2=0.1, seed=1).double()
    a = ntk.empirical_ntk(net, x, x[:4], method="jacobian")
    b = ntk.empirical_ntk(net, x, x[:4], method="ntvp")
    assert a.shape == (5, 4, 2, 2)
    assert torch.allclose(a, b, rtol=1e-12, atol=1e-12)
    tr = ntk.empirical_ntk(net, x, x[:4], "trace", method="ntvp")
    assert torch.allclose(tr, a.diagonal(dim1=2, dim2=3).sum(-1), atol=1e-12)
    # chunked contraction (a tiny memory budget) gives the same kernel
    c = ntk.empirical_ntk(net, x, x, method="jacobian", max_bytes=1e4)
    assert torch.allclose(c, ntk.empirical_ntk(net, x, x, method="jacobian"), atol=1e-12)


def test_empirical_ntk_by_hand_linear_model():
    # depth 0, NTK parameterization: f(x) = σ_w/√d · w·x + σ_b b, so Θ(x, x′) = σ_w² x·x′/d + σ_b².
    x = _x(4, 3)
    net = models.mlp(3, 1, 0, 1, parameterization="ntk", sigma_w2=1.5, sigma_b2=0.3).double()
    k = ntk.empirical_ntk(net, x, x, "trace")
    assert torch.allclose(k, 1.5 * x @ x.T / 3 + 0.3, atol=1e-12)
    assert torch.allclose(ntk.relu_ntk(x, x, 0, 1.5, 0.3), k, atol=1e-12)


def test_relu_ntk_worked_by_hand():
    # depth 1, σ_w² = 2, σ_b² = 0, d = 2. Σ¹ = x·x′ (σ_w²/d = 1).
    # x = x′ = e1: Σ¹ = 1, φ = 0: Σ² = 2·½ = 1, Σ̇² = 2·½ = 1, Θ = 1 + 1·1 = 2.
    # x = e1, x′ = e2: Σ¹ = 0, φ = π/2: Σ² = 2·(1/2π)·1 = 1/π, Σ̇² = 2·¼ = ½, Θ = 1/π + ½·0.
    # x = e1, x′ = −e1: φ = π: Σ² = 0, Σ̇² = 0, Θ = 0.
    e = torch.tensor([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]], dtype=torch.float64)
    k = ntk.relu_ntk(e[:1], e, 1)
    assert torch.allclose(k, torch.tensor([[2.0, 1 / math.pi, 0.0]], dtype=torch.float64), atol=1e-12)
    theta, nngp = ntk.relu_ntk(e[:1], e, 1, return_nngp=True)
    assert torch.allclose(nngp, torch.tensor([[1.0, 1 / math.pi, 0.0]], dtype=torch.float64), atol=1e-12)
    # homogeneity: with σ_b² = 0 the ReLU NTK is 1-homogeneous in each argument
    x = _x(3, 4)
    assert torch.allclose(ntk.relu_ntk(2 * x, x, 3), 2 * ntk.relu_ntk(x, x, 3), atol=1e-10)
    assert ntk.relu_ntk(x, x, 2).dtype == torch.float64


@pytest.mark.parametrize("depth", [1, 2])
def test_relu_ntk_matches_wide_networks(depth):
    # Monte Carlo: the mean empirical NTK of wide networks. Each entry is an average over
    # ~width terms, so seeds × width = 4 × 2048 gives relative errors ~ 1/√8192 ≈ 1 %.
    x = _x(5, 3, seed=2)
    theta = ntk.relu_ntk(x, x, depth, 2.0, 0.1)
    ks = [ntk.empirical_ntk(models.mlp(3, 2048, depth, 1, parameterization="ntk", sigma_b2=0.1, seed=s),
                            x, x, "trace") for s in range(4)]
    err = (torch.stack(ks).mean(0) - theta).norm() / theta.norm()
    assert err < 0.05


def test_linearized_predict_limits():
    x = _x(6, 2)
    k = ntk.relu_ntk(x, x, 1)
    y = torch.sin(x[:, 0])
    f0 = _x(6, 1, seed=3).squeeze(1)
    # t = 0: the initial function; t = ∞ on the training set: the targets (Θ invertible)
    assert torch.allclose(ntk.linearized_predict(k, k, y, 0.0, f0, f0), f0, atol=1e-12)
    assert torch.allclose(ntk.linearized_predict(k, k, y, math.inf, f0, f0), y, atol=1e-8)
    # on the training set f_t = y + e^{−Θt/n}(f0 − y), compared with a matrix exponential
    t = 3.0
    expect = y + torch.linalg.matrix_exp(-k * t / 6) @ (f0 - y)
    assert torch.allclose(ntk.linearized_predict(k, k, y, t, f0, f0), expect, atol=1e-10)
    # gradient descent on the linear model f = Jθ with tiny steps follows the same path
    J = _x(6, 20, seed=4)
    kl = J @ J.T
    theta = torch.zeros(20, dtype=torch.float64)
    lr, steps = 1e-3, 3000
    for _ in range(steps):
        theta -= lr * J.T @ (J @ theta - y) / 6
    pred = ntk.linearized_predict(kl, kl, y, lr * steps)
    assert torch.allclose(J @ theta, pred, atol=1e-3)


def test_wide_network_trained_matches_kernel_regression():
    # A wide network, centred so that f₀ = 0, trained by full-batch GD with a small step
    # for long enough to interpolate: its test predictions match kernel regression with the
    # analytic NTK (Lee et al. 2019), up to the finite-width fluctuation ~ 1/√width.
    gen = torch.Generator().manual_seed(0)
    ang = torch.rand(8, generator=gen, dtype=torch.float64) * 2 * math.pi
    x = torch.stack([ang.cos(), ang.sin()], 1)
    y = torch.sin(2 * ang)
    xt = torch.stack([torch.linspace(0, 6, 25).cos(), torch.linspace(0, 6, 25).sin()], 1).double()
    net = ntk.Centered(models.mlp(2, 4096, 1, 1, parameterization="ntk", seed=1).double())
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny full batches: a second thread only adds overhead
    try:
        h = train.train(net, (x, y.unsqueeze(1)), lr=2.0, steps=1500, loss="mse", progress=False, device="cpu")
    finally:
        torch.set_num_threads(threads)
    assert h.train_loss[-1] < 1e-6
    pred = net(xt).detach().squeeze(1)
    kr = ntk.linearized_predict(ntk.relu_ntk(xt, x, 1), ntk.relu_ntk(x, x, 1), y)
    assert ((pred - kr).norm() / kr.norm()).item() < 0.05
    # negative control: a narrow network does not match as closely
    narrow = ntk.Centered(models.mlp(2, 8, 1, 1, parameterization="ntk", seed=1).double())
    train.train(narrow, (x, y.unsqueeze(1)), lr=2.0, steps=1500, loss="mse", progress=False, device="cpu")
    assert ((narrow(xt).detach().squeeze(1) - kr).norm() / kr.norm()).item() > 0.05


def test_centered_and_movement():
    net = models.mlp(2, 16, 1, 1, parameterization="ntk", seed=0).double()
    c = ntk.Centered(net, scale=3.0)
    x = _x(4, 2)
    assert torch.allclose(c(x), torch.zeros(4, 1, dtype=torch.float64))
    k = ntk.empirical_ntk(c, x, x, "trace")
    assert torch.allclose(k, 9 * ntk.empirical_ntk(net, x, x, "trace"), atol=1e-12)
    with torch.no_grad():
        for p in net.parameters():
            p.mul_(1.5)
    assert ntk.parameter_movement(net, c.initial) == pytest.approx(0.5, rel=1e-12)
    assert ntk.relative_change(2 * k, k) == pytest.approx(1.0)


def test_bad_input():
    net = models.mlp(2, 4, 1, 1)
    x = torch.zeros(3, 2)
    with pytest.raises(ValueError, match="mode"):
        ntk.empirical_ntk(net, x, x, mode="diag")
    with pytest.raises(ValueError, match="x1, x2"):
        ntk.empirical_ntk(net, x, torch.zeros(3, 5))
    with pytest.raises(ValueError, match="depth"):
        ntk.relu_ntk(x, x, -1)
    with pytest.raises(ValueError, match="time"):
        ntk.linearized_predict(x @ x.T, x @ x.T, torch.zeros(3), time=-1.0)
