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


def test_scale_for_norm_sets_the_end_to_end_norm():
    for depth in (1, 2, 3):
        alpha = F.scale_for_norm((6, 5), depth, torch.tensor([1e-6, 0.5]), seed=3)
        W0 = F.product(F.init_factors((6, 5), depth, alpha, seed=3))
        norms = torch.linalg.matrix_norm(W0)
        assert torch.allclose(norms, torch.tensor([1e-6, 0.5], dtype=torch.float64), rtol=1e-12)
    with pytest.raises(ValueError, match="norm"):
        F.scale_for_norm((6, 5), 2, 0.0)


def test_balanced_factors_multiply_back_and_are_balanced():
    W0 = torch.tensor([[2.0, 1.0, 0.0], [0.5, -1.0, 3.0]], dtype=torch.float64)
    for depth in (1, 2, 4):
        fs = F.balanced_factors(W0, depth)
        assert torch.allclose(F.product(fs)[0], W0, atol=1e-12)
        for a, b in zip(fs[:-1], fs[1:]):  # W_{j+1}ᵀ W_{j+1} = W_j W_jᵀ
            assert torch.allclose(b.mT @ b, a @ a.mT, atol=1e-12)
    # by hand: depth 2 of diag(4, 1) is diag(2, 1) twice
    fs = F.balanced_factors(torch.diag(torch.tensor([4.0, 1.0], dtype=torch.float64)), 2)
    assert torch.allclose(fs[0][0].abs(), torch.diag(torch.tensor([2.0, 1.0], dtype=torch.float64)))


def test_train_from_given_factors():
    ops = F.Measurements((2, 2), rows=torch.tensor([0, 1, 1]), cols=torch.tensor([1, 0, 1]))
    y = torch.tensor([1.0, 1.0, 0.0], dtype=torch.float64)
    init = F.balanced_factors(0.1 * torch.eye(2, dtype=torch.float64), 2)
    h = F.train(ops, y, 2, None, lr=0.05, steps=0, init=init)
    assert torch.allclose(h.W[0], 0.1 * torch.eye(2, dtype=torch.float64))
    with pytest.raises(ValueError, match="scale"):
        F.train(ops, y, 2, 0.1, lr=0.05, steps=1, init=init)
    with pytest.raises(ValueError, match="init"):
        F.train(ops, y, 3, None, lr=0.05, steps=1, init=init)
    with pytest.raises(ValueError, match="scale"):
        F.train(ops, y, 2, None, lr=0.05, steps=1)
