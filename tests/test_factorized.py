"""Deep matrix factorization: gradients against autograd, measurement operators, GD by hand."""

import pytest
import torch

from overparam import factorized as F


def test_factor_gradients_match_autograd():
    # L = ½‖𝒜(W_3 W_2 W_1) − y‖² for a rectangular depth-3 factorization, float64
    g = torch.Generator().manual_seed(0)
    ops = F.gaussian_sensing((4, 6), m=7, seed=1)
    y = torch.randn(7, generator=g, dtype=torch.float64)
    factors = F.init_factors((4, 6), depth=3, scale=torch.tensor([0.7, 1.3]), width=5, seed=2)
    leaves = [f.clone().requires_grad_(True) for f in factors]
    loss = 0.5 * ((ops(F.product(leaves)) - y) ** 2).sum()
    loss.backward()
    G = ops.adjoint(ops(F.product(factors)) - y)
    for mine, leaf in zip(F.factor_gradients(factors, G), leaves):
        torch.testing.assert_close(mine, leaf.grad, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("kind", ["completion", "sensing"])
def test_adjoint_identity(kind):
    # ⟨𝒜(W), r⟩ = ⟨W, 𝒜*(r)⟩
    ops = F.completion((5, 3), 8, seed=0) if kind == "completion" else F.gaussian_sensing((5, 3), 8, seed=0)
    g = torch.Generator().manual_seed(1)
    W = torch.randn(5, 3, generator=g, dtype=torch.float64)
    r = torch.randn(8, generator=g, dtype=torch.float64)
    torch.testing.assert_close((ops(W) * r).sum(), (W * ops.adjoint(r)).sum(), rtol=1e-13, atol=1e-13)


def test_completion_samples_distinct_entries():
    ops = F.completion((6, 7), 20, seed=3)
    assert ops.mask().sum() == 20 and ops.m == 20
    W = torch.arange(42.0, dtype=torch.float64).reshape(6, 7)
    torch.testing.assert_close(ops(W), W[ops.mask()])  # row-major order, as the mask reads


def test_low_rank_matrix_rank_and_scale():
    W = F.low_rank_matrix(12, 9, 3, seed=0)
    s = torch.linalg.svdvals(W)
    assert (s[:3] > 1e-8).all() and (s[3:] < 1e-10 * s[0]).all()
    torch.testing.assert_close(torch.linalg.matrix_norm(W), torch.tensor(108.0, dtype=torch.float64).sqrt())


def test_depth_one_from_zero_by_hand():
    # N = 1, W₀ = 0: observed entries follow y(1 − (1 − η)ᵗ), unobserved ones never move
    W_star = F.low_rank_matrix(5, 5, 2, seed=0)
    ops = F.completion((5, 5), 9, seed=1)
    lr, steps = 0.3, 7
    h = F.train(ops, ops(W_star), depth=1, scale=0.0, lr=lr, steps=steps)
    expected = ops.adjoint(ops(W_star) * (1 - (1 - lr) ** steps))
    torch.testing.assert_close(h.W[0], expected, rtol=1e-13, atol=1e-13)
    assert h.steps.tolist() == [0, steps] and h.loss.shape == (2, 1)


def test_small_init_depth_two_recovers_low_rank():
    # a well-sampled rank-1 completion: small init reaches the truth on unobserved entries
    W_star = F.low_rank_matrix(8, 8, 1, seed=0)
    ops = F.completion((8, 8), 40, seed=0)
    h = F.train(ops, ops(W_star), depth=2, scale=1e-3, lr=0.05, steps=3000, record_every=1000)
    miss = ~ops.mask()
    err = torch.linalg.norm((h.W[0] - W_star)[miss]) / torch.linalg.norm(W_star[miss])
    assert err < 1e-3


def test_errors():
    ops = F.completion((4, 4), 5, seed=0)
    with pytest.raises(ValueError, match="y: expected a tensor of shape"):
        F.train(ops, torch.zeros(4, dtype=torch.float64), depth=2, scale=0.1, lr=0.1, steps=1)
    with pytest.raises(ValueError, match="rank"):
        F.low_rank_matrix(3, 4, 5)
    with pytest.raises(ValueError, match="m: expected at most"):
        F.completion((2, 2), 5)
    with pytest.raises(ValueError, match="scale"):
        F.init_factors((3, 3), 2, scale=-1.0)
    with pytest.raises(FloatingPointError, match="diverged"):
        F.train(ops, 100 * torch.ones(5, dtype=torch.float64), depth=2, scale=1.0, lr=10.0, steps=50)
    with pytest.raises(TypeError, match="ops"):
        F.train("mask", torch.zeros(5), depth=2, scale=0.1, lr=0.1, steps=1)
