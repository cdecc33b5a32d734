"""Losses, gradients and descent on separable data: autograd reference, steps by hand, asymptotics."""

import math

import pytest
import torch

from overparam import margin as mg
from overparam import svm


def _data():
    return mg.separable_data(12, 3, margin=0.3, seed=4)


def test_separable_data_has_its_margin():
    X, y, w_star = mg.separable_data(200, 5, margin=0.25, seed=0)
    assert X.shape == (200, 5) and X.dtype == torch.float64
    assert w_star.norm().item() == pytest.approx(1.0)
    assert (y * (X @ w_star)).min().item() >= 0.25 - 1e-12
    assert svm.hard_margin(X, y).margin >= 0.25 - 1e-9
    X2, y2, _ = mg.separable_data(200, 5, margin=0.25, seed=0)
    assert torch.equal(X, X2) and torch.equal(y, y2)


@pytest.mark.parametrize("loss", mg.LOSSES)
def test_gradient_matches_autograd(loss):
    X, y, _ = _data()
    w = torch.tensor([0.3, -1.2, 0.7], dtype=torch.float64, requires_grad=True)
    value = mg.loss_value(X, y, w, loss)
    (ref,) = torch.autograd.grad(value, w)
    torch.testing.assert_close(mg.gradient(X, y, w.detach(), loss), ref, atol=1e-14, rtol=1e-12)


def test_loss_by_hand():
    X = torch.tensor([[1.0, 0.0], [0.0, 2.0]], dtype=torch.float64)
    y = torch.tensor([1.0, -1.0], dtype=torch.float64)
    w = torch.tensor([1.0, 1.0], dtype=torch.float64)  # margins u = (1, −2)
    assert mg.loss_value(X, y, w, "logistic").item() == pytest.approx(
        (math.log1p(math.exp(-1)) + math.log1p(math.exp(2))) / 2, rel=1e-14)
    assert mg.loss_value(X, y, w, "exponential").item() == pytest.approx((math.exp(-1) + math.exp(2)) / 2, rel=1e-14)


@pytest.mark.parametrize("geometry", mg.GEOMETRIES)
def test_one_step_by_hand(geometry):
    X, y, _ = _data()
    w0 = torch.tensor([0.2, 0.1, -0.3], dtype=torch.float64)
    g = mg.gradient(X, y, w0, "exponential")
    step = {"l2": g, "linf": g.abs().sum() * g.sign(), "l1": torch.zeros(3, dtype=torch.float64)}[geometry]
    if geometry == "l1":
        i = g.abs().argmax()
        step[i] = g[i]
    path = mg.descent(X, y, 0.1, 1, record=[0, 1], loss="exponential", geometry=geometry, w0=w0)
    torch.testing.assert_close(path.w[0], w0)
    torch.testing.assert_close(path.w[1], w0 - 0.1 * step, atol=1e-15, rtol=1e-13)
    assert path.loss[1].item() == pytest.approx(mg.loss_value(X, y, path.w[1], "exponential").item(), rel=1e-13)


def test_gd_direction_and_loss_asymptotics():
    # Two points with no non-support vectors: w(t) = ŵ log t + w̃ + o(1) is reached quickly.
    X = torch.tensor([[1.0, 0.0], [0.0, -1.0]], dtype=torch.float64)
    y = torch.tensor([1.0, -1.0], dtype=torch.float64)
    s = svm.hard_margin(X, y)
    lr = 0.5
    path = mg.descent(X, y, lr, 20000, record=[20000], loss="exponential")
    w_tilde = mg.asymptote(X, y, lr, s)
    torch.testing.assert_close(path.w[-1], s.w * math.log(20000) + w_tilde, atol=2e-3, rtol=0)
    # L(w(t)) ≈ ‖ŵ‖²/(η t)
    assert path.loss[-1].item() * lr * 20000 / s.w.norm().item() ** 2 == pytest.approx(1.0, abs=1e-3)


def test_bad_input():
    X, y, _ = _data()
    with pytest.raises(ValueError, match="loss"):
        mg.descent(X, y, 0.1, 10, loss="hinge")
    with pytest.raises(ValueError, match="geometry"):
        mg.descent(X, y, 0.1, 10, geometry="l3")
    with pytest.raises(ValueError, match="record"):
        mg.descent(X, y, 0.1, 10, record=[11])
    with pytest.raises(ValueError, match="lr"):
        mg.descent(X, y, -0.1, 10)
    with pytest.raises(ValueError, match="w0"):
        mg.descent(X, y, 0.1, 10, w0=torch.zeros(2))
    with pytest.raises(FloatingPointError, match="diverged"):
        Xb = torch.tensor([[1.0, 0.0], [-2.0, 0.0]], dtype=torch.float64)  # not separable
        mg.descent(Xb, torch.ones(2, dtype=torch.float64), 1e3, 50, loss="exponential")
    with pytest.raises(ValueError, match="y: expected labels"):
        mg.gradient(X, torch.zeros(12), torch.zeros(3))


def test_angle():
    v = torch.tensor([1.0, 0.0], dtype=torch.float64)
    W = torch.tensor([[2.0, 0.0], [1.0, 1.0], [0.0, -3.0]], dtype=torch.float64)
    torch.testing.assert_close(mg.angle(W, v), torch.tensor([0.0, 45.0, 90.0], dtype=torch.float64))
    with pytest.raises(ValueError, match="W, v"):
        mg.angle(W, torch.ones(3))
