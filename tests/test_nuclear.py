"""Nuclear norm tools: SVT against soft-thresholding by hand, effective rank, completion with known answers."""

import math

import pytest
import torch

from overparam import factorized as F
from overparam import nuclear as N


def _orthogonal(n, seed):
    g = torch.Generator().manual_seed(seed)
    Q, _ = torch.linalg.qr(torch.randn(n, n, generator=g, dtype=torch.float64))
    return Q


def test_svt_is_soft_thresholding_of_singular_values():
    # σ = (3, 1, 0.5), τ = 0.8 → (2.2, 0.2, 0) by hand, in any pair of bases
    U, V = _orthogonal(3, 0), _orthogonal(3, 1)
    X = U @ torch.diag(torch.tensor([3.0, 1.0, 0.5], dtype=torch.float64)) @ V.T
    expected = U @ torch.diag(torch.tensor([2.2, 0.2, 0.0], dtype=torch.float64)) @ V.T
    torch.testing.assert_close(N.svt(X, 0.8), expected, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(N.svt(X, 0.0), X, rtol=1e-12, atol=1e-12)


def test_svt_minimizes_the_prox_objective():
    g = torch.Generator().manual_seed(2)
    X = torch.randn(5, 4, generator=g, dtype=torch.float64)
    tau = 0.9

    def objective(W):
        return 0.5 * ((W - X) ** 2).sum() + tau * N.nuclear_norm(W)

    P = N.svt(X, tau)
    for _ in range(50):
        assert objective(P) <= objective(P + 1e-3 * torch.randn(5, 4, generator=g, dtype=torch.float64))


def test_effective_rank_by_hand():
    s = torch.tensor([[2.0, 1.0, 0.0], [1.0, 1.0, 1.0]], dtype=torch.float64)
    by_hand = math.exp(-(2 / 3 * math.log(2 / 3) + 1 / 3 * math.log(1 / 3)))  # ≈ 1.8899
    torch.testing.assert_close(N.effective_rank(s), torch.tensor([by_hand, 3.0], dtype=torch.float64))
    assert N.effective_rank(torch.tensor([5.0, 0.0])) == 1.0


def test_nuclear_norm_is_sum_of_singular_values():
    X = torch.diag(torch.tensor([3.0, -2.0], dtype=torch.float64))
    assert N.nuclear_norm(X) == 5.0


@pytest.mark.parametrize(
    "M, observed, answer",
    [
        # [[1, 1], [1, ?]]: ‖·‖_* is minimized at ? = 1 (rank one, norm 2)
        ([[1.0, 1.0], [1.0, 0.0]], [(0, 0), (0, 1), (1, 0)], [[1.0, 1.0], [1.0, 1.0]]),
        # [[1, ?], [0, 1]]: ‖·‖_* = √(4 + ?²), minimized at ? = 0
        ([[1.0, 5.0], [0.0, 1.0]], [(0, 0), (1, 0), (1, 1)], [[1.0, 0.0], [0.0, 1.0]]),
    ],
)
def test_min_nuclear_norm_two_by_two_by_hand(M, observed, answer):
    rows = torch.tensor([r for r, _ in observed])
    cols = torch.tensor([c for _, c in observed])
    ops = F.Measurements((2, 2), rows=rows, cols=cols)
    res = N.min_nuclear_norm(ops, ops(torch.tensor(M, dtype=torch.float64)), tol=1e-12)
    torch.testing.assert_close(res.W, torch.tensor(answer, dtype=torch.float64), rtol=0, atol=1e-6)


def test_min_nuclear_norm_exact_completion_and_sensing():
    # Candès & Recht: a rank-one 10×10 matrix from 70 random entries is recovered exactly
    W_star = F.low_rank_matrix(10, 10, 1, seed=0)
    ops = F.completion((10, 10), 70, seed=0)
    res = N.min_nuclear_norm(ops, ops(W_star), tol=1e-12)
    assert res.residual < 1e-12
    torch.testing.assert_close(res.W, W_star, rtol=0, atol=1e-6)
    # with d1·d2 generic measurements the constraint alone pins W down
    sens = F.gaussian_sensing((3, 3), 9, seed=1)
    res = N.min_nuclear_norm(sens, sens(W_star[:3, :3]))
    torch.testing.assert_close(res.W, W_star[:3, :3], rtol=0, atol=1e-9)


def test_errors():
    with pytest.raises(ValueError, match="tau"):
        N.svt(torch.eye(2), -1.0)
    with pytest.raises(ValueError, match="matrix"):
        N.svt(torch.ones(3), 0.1)
    with pytest.raises(ValueError, match="non-negative"):
        N.effective_rank(torch.tensor([1.0, -1.0]))
    with pytest.raises(ValueError, match="zero matrix"):
        N.effective_rank(torch.zeros(3))
    ops = F.completion((3, 3), 4, seed=0)
    with pytest.raises(ValueError, match="y: expected"):
        N.min_nuclear_norm(ops, torch.zeros(5))
