"""overparam.risk: closed forms against hand values and Monte Carlo, in float64."""

import math

import pytest
import torch

import overparam as op


def _min_norm_risks(n, p, reps, signal=1.0, noise=1.0, seed=0):
    """Monte Carlo excess risks ‖X⁺y − w*‖² for Gaussian designs (an independent estimator)."""
    gen = torch.Generator().manual_seed(seed)
    X = torch.randn(reps, n, p, generator=gen, dtype=torch.float64)  # (R, n, p)
    w = torch.randn(reps, p, generator=gen, dtype=torch.float64)
    w = w / w.norm(dim=1, keepdim=True) * math.sqrt(signal)
    y = (X @ w[..., None])[..., 0] + math.sqrt(noise) * torch.randn(reps, n, generator=gen, dtype=torch.float64)
    w_hat = (torch.linalg.pinv(X) @ y[..., None])[..., 0]
    return ((w_hat - w) ** 2).sum(1)  # (R,)


def test_ridgeless_risk_hand_values():
    r = op.risk.ridgeless_risk(torch.tensor([0.5, 1.0, 2.0, 4.0]), signal=1.0, noise=1.0)
    # γ = 1/2: σ²γ/(1−γ) = 1; γ = 2: r²/2 + σ²/1 = 1.5; γ = 4: 3/4 + 1/3.
    assert torch.allclose(r[[0, 2, 3]], torch.tensor([1.0, 1.5, 0.75 + 1 / 3], dtype=torch.float64))
    assert math.isinf(r[1])
    assert r.dtype == torch.float64


def test_finite_risk_hand_values_and_limit():
    assert op.risk.ridgeless_risk_finite(10, 5) == pytest.approx(5 / 4)
    assert op.risk.ridgeless_risk_finite(10, 20, signal=2.0, noise=0.5) == pytest.approx(2 * 0.5 + 0.5 * 10 / 9)
    assert math.isinf(op.risk.ridgeless_risk_finite(10, 11))
    # n, p → ∞ at fixed γ: the finite-n expectation tends to the asymptotic curve.
    for gamma in (0.5, 2.0):
        n = 100_000
        assert op.risk.ridgeless_risk_finite(n, int(gamma * n)) == pytest.approx(
            op.risk.ridgeless_risk(gamma).item(), rel=1e-4)


@pytest.mark.parametrize("n,p", [(40, 20), (20, 40)])
def test_finite_risk_matches_monte_carlo(n, p):
    risks = _min_norm_risks(n, p, reps=4000, signal=1.0, noise=0.5)
    se = risks.std() / math.sqrt(len(risks))
    expected = op.risk.ridgeless_risk_finite(n, p, signal=1.0, noise=0.5)
    # |p − n| = 20 keeps the risk's variance finite, so the mean is within 4 standard errors.
    assert abs(risks.mean().item() - expected) < 4 * se.item()


def test_ridge_risk_matches_monte_carlo():
    n, p, alpha, reps = 200, 100, 0.3, 200
    gen = torch.Generator().manual_seed(1)
    risks = []
    for _ in range(reps):
        X = torch.randn(n, p, generator=gen, dtype=torch.float64)
        w = torch.randn(p, generator=gen, dtype=torch.float64)
        w = w / w.norm()
        y = X @ w + 0.5 * torch.randn(n, generator=gen, dtype=torch.float64)
        risks.append(((op.linear.ridge(X, y, alpha) - w) ** 2).sum())
    risks = torch.stack(risks)
    theory = op.risk.ridge_risk(p / n, alpha, signal=1.0, noise=0.25).item()
    # Finite-size corrections are O(1/n) = 0.5 % and the Monte Carlo standard error ≈ 0.3 %:
    # 3 % relative is loose enough to be stable and far tighter than any wrong formula.
    assert risks.mean().item() == pytest.approx(theory, rel=0.03)


def test_ridge_risk_limits_and_optimum():
    g = torch.tensor([0.5, 2.0])
    # α → 0 recovers the ridgeless curve.
    assert torch.allclose(op.risk.ridge_risk(g, 1e-9, 1.0, 0.5), op.risk.ridgeless_risk(g, 1.0, 0.5), rtol=1e-5)
    # α → ∞ predicts 0: the risk tends to ‖w*‖² = r².
    assert torch.allclose(op.risk.ridge_risk(g, 1e9, 2.0, 0.5), torch.full_like(g, 2.0), rtol=1e-6)
    # α* = σ²γ/r² minimizes the risk over a fine grid.
    alphas = torch.logspace(-3, 2, 5001, dtype=torch.float64)
    for gamma in (0.5, 1.0, 2.0):
        best = op.risk.ridge_risk(gamma, alphas, 1.0, 0.5).min()
        assert op.risk.optimal_ridge_risk(gamma, 1.0, 0.5) <= best + 1e-12
        assert op.risk.optimal_ridge_risk(gamma, 1.0, 0.5) == pytest.approx(best.item(), rel=1e-5)


def test_optimal_ridge_is_monotone_no_peak():
    g = torch.linspace(0.05, 5, 500, dtype=torch.float64)
    r = op.risk.optimal_ridge_risk(g, 1.0, 0.5)
    assert (r[1:] > r[:-1]).all()
    assert (r < 1.0).all()  # never worse than predicting 0


def test_effective_ranks_hand_values():
    assert op.risk.effective_ranks(torch.ones(10), 0) == pytest.approx((10.0, 10.0))
    assert op.risk.effective_ranks(torch.ones(10), 3) == pytest.approx((7.0, 7.0))
    lam = torch.tensor([4.0, 2.0, 1.0, 1.0])
    # k = 1: tail (2, 1, 1), s = 4: r_1 = 4/2 = 2, R_1 = 16/6.
    assert op.risk.effective_ranks(lam, 1) == pytest.approx((2.0, 16 / 6))


def test_errors():
    with pytest.raises(ValueError, match="gamma"):
        op.risk.ridgeless_risk(0.0)
    with pytest.raises(ValueError, match="noise: expected a number >= 0"):
        op.risk.ridgeless_risk(0.5, noise=-1.0)
    with pytest.raises(ValueError, match="p:"):
        op.risk.ridgeless_risk_finite(10, 0)
    with pytest.raises(ValueError, match="alpha"):
        op.risk.ridge_risk(0.5, 0.0)
    with pytest.raises(ValueError, match="signal"):
        op.risk.optimal_ridge_risk(0.5, signal=0.0)
    with pytest.raises(ValueError, match="sorted"):
        op.risk.effective_ranks(torch.tensor([1.0, 2.0]), 0)
    with pytest.raises(ValueError, match="k:"):
        op.risk.effective_ranks(torch.ones(3), 3)
