"""overparam.sam: one step against the formula worked by hand."""

import pytest
import torch
from torch import nn

import overparam as op
from overparam.sam import SAM


def _quadratic_closure(w, A):
    def closure():
        if w.grad is not None:
            w.grad = None
        loss = 0.5 * w @ A @ w
        loss.backward()
        return loss

    return closure


def test_sam_step_by_hand():
    # L(w) = ½ wᵀAw, A = diag(1, 4), w = (3, 1): g = (3, 4), ‖g‖ = 5, ε = ρ (0.6, 0.8).
    # With ρ = 0.5: w + ε = (3.3, 1.4), ∇L there = (3.3, 5.6); SGD lr 0.1 → w = (2.67, 0.44).
    A = torch.diag(torch.tensor([1.0, 4.0], dtype=torch.float64))
    w = torch.tensor([3.0, 1.0], dtype=torch.float64, requires_grad=True)
    opt = SAM([w], torch.optim.SGD, rho=0.5, lr=0.1)
    closure = _quadratic_closure(w, A)
    closure()  # gradient at w, as after loss.backward()
    loss = opt.step(closure)
    torch.testing.assert_close(w.detach(), torch.tensor([2.67, 0.44], dtype=torch.float64))
    assert loss.item() == pytest.approx(0.5 * (3.3**2 + 4 * 1.4**2))


def test_asam_step_by_hand():
    # ASAM, η_T = 0: T = |w| = diag(3, 1), T g = (9, 4), ‖T g‖ = √97,
    # ε = ρ T² g / ‖T g‖ = ρ (27, 4)/√97.
    A = torch.diag(torch.tensor([1.0, 4.0], dtype=torch.float64))
    w = torch.tensor([3.0, 1.0], dtype=torch.float64, requires_grad=True)
    rho, lr = 0.5, 0.1
    opt = SAM([w], torch.optim.SGD, rho=rho, adaptive=True, eta=0.0, lr=lr)
    closure = _quadratic_closure(w, A)
    closure()
    opt.step(closure)
    eps = rho * torch.tensor([27.0, 4.0], dtype=torch.float64) / 97**0.5
    w0 = torch.tensor([3.0, 1.0], dtype=torch.float64)
    torch.testing.assert_close(w.detach(), w0 - lr * (A @ (w0 + eps)))


def test_rho_zero_is_the_base_optimizer():
    A = torch.diag(torch.tensor([1.0, 4.0], dtype=torch.float64))
    w1 = torch.tensor([3.0, 1.0], dtype=torch.float64, requires_grad=True)
    w2 = w1.detach().clone().requires_grad_(True)
    sam = SAM([w1], torch.optim.SGD, rho=0.0, lr=0.1, momentum=0.9)
    sgd = torch.optim.SGD([w2], lr=0.1, momentum=0.9)
    c1, c2 = _quadratic_closure(w1, A), _quadratic_closure(w2, A)
    for _ in range(5):
        c1()
        sam.step(c1)
        c2()
        sgd.step()
    torch.testing.assert_close(w1, w2)


def test_with_train_loop_and_batchnorm_updated_once():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(32, 4, generator=g, dtype=torch.float64)
    y = torch.randint(0, 2, (32,), generator=g)

    def make():
        torch.manual_seed(0)
        return nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.Tanh(), nn.Linear(8, 2)).double()

    m_sam, m_sgd = make(), make()
    hist = op.train.train(m_sam, (x, y), lr=0.1, steps=3, device="cpu", progress=False,
                          optimizer=lambda p: SAM(p, torch.optim.SGD, rho=0.05, lr=0.1, model=m_sam))
    op.train.train(m_sgd, (x, y), lr=0.1, steps=3, device="cpu", progress=False)
    bn_sam, bn_sgd = m_sam[1], m_sgd[1]
    # the perturbed evaluation does not count as a batch: one update of the statistics per step
    assert bn_sam.num_batches_tracked.item() == bn_sgd.num_batches_tracked.item() == 3
    assert hist.train_loss[-1] < hist.train_loss[0]
    assert not torch.allclose(m_sam[0].weight, m_sgd[0].weight)  # SAM did something


def test_batchnorm_one_update_per_step():
    g = torch.Generator().manual_seed(1)
    x = torch.randn(16, 3, generator=g, dtype=torch.float64)
    model = nn.Sequential(nn.Linear(3, 5), nn.BatchNorm1d(5)).double()
    opt = SAM(model.parameters(), torch.optim.SGD, rho=0.1, lr=0.1, model=model)

    def closure():
        opt.zero_grad()
        loss = model(x).pow(2).mean()
        loss.backward()
        return loss

    closure()  # one forward at w updates running stats once
    after_first = model[1].running_mean.clone()
    opt.step(closure)
    torch.testing.assert_close(model[1].running_mean, after_first)
    assert model[1].num_batches_tracked.item() == 1


def test_bad_arguments():
    w = torch.zeros(2, requires_grad=True)
    with pytest.raises(TypeError, match="base_optimizer"):
        SAM([w], "sgd", lr=0.1)
    with pytest.raises(ValueError, match="rho"):
        SAM([w], torch.optim.SGD, rho=-1.0, lr=0.1)
    with pytest.raises(ValueError, match="closure"):
        SAM([w], torch.optim.SGD, lr=0.1).step()


def _quadratic(A):
    return lambda p: 0.5 * p["w"] @ A @ p["w"]


def test_worst_case_increase_at_a_minimum_is_half_rho2_lambda_max():
    # At θ = 0 of ½ θᵀAθ the gradient vanishes: the ascent starts at random and becomes
    # power iteration; the maximum over ‖ε‖ ≤ ρ is ½ ρ² λ_max = ½ · 0.04 · 9.
    A = torch.diag(torch.tensor([1.0, 4.0, 9.0], dtype=torch.float64))
    params = {"w": torch.zeros(3, dtype=torch.float64)}
    got = op.sam.worst_case_increase(_quadratic(A), params, rho=0.2, steps=80)
    assert got == pytest.approx(0.5 * 0.04 * 9.0, rel=1e-6)
    first = op.sam.worst_case_increase(_quadratic(A), params, rho=0.2, steps=0)
    assert first < got  # a random direction alone is not the maximum


def test_worst_case_increase_matches_brute_force_on_the_circle():
    A = torch.diag(torch.tensor([1.0, 4.0], dtype=torch.float64))
    theta = torch.tensor([1.0, 0.2], dtype=torch.float64)
    rho, f = 0.5, _quadratic(A)
    t = torch.linspace(0, 2 * torch.pi, 200_001, dtype=torch.float64)
    eps = rho * torch.stack([t.cos(), t.sin()], 1)
    brute = (0.5 * ((theta + eps) @ A * (theta + eps)).sum(1) - f({"w": theta})).max()
    got = op.sam.worst_case_increase(f, {"w": theta}, rho=rho, steps=60)
    assert got == pytest.approx(brute.item(), rel=1e-8)


def test_worst_case_increase_of_a_flat_loss_is_zero_and_bad_input_is_named():
    params = {"w": torch.ones(4, dtype=torch.float64)}
    flat = lambda p: (0 * p["w"]).sum() + 3.0  # noqa: E731
    assert op.sam.worst_case_increase(flat, params, rho=0.1) == 0.0
    with pytest.raises(ValueError, match="rho"):
        op.sam.worst_case_increase(flat, params, rho=0.0)
    with pytest.raises(ValueError, match="steps"):
        op.sam.worst_case_increase(flat, params, rho=0.1, steps=-1)
    with pytest.raises(TypeError, match="params"):
        op.sam.worst_case_increase(flat, {}, rho=0.1)
