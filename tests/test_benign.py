"""Tests for overparam.benign: spectra, the bound's terms, exact excess risk, the Wishart shortcut."""

import math

import numpy as np
import pytest
import torch

import overparam as op
from overparam import benign


def _problem(n=12, s=3, m=40, eps=0.05, seed=0):
    g = torch.Generator().manual_seed(seed)
    spikes = torch.tensor([1.0, 0.7, 0.4], dtype=torch.float64)[:s]
    w = torch.tensor([0.6, -0.8, 0.3], dtype=torch.float64)[:s]
    Xs = torch.randn(n, s, generator=g, dtype=torch.float64) * spikes.sqrt()
    Zt = torch.randn(n, m, generator=g, dtype=torch.float64)
    X = torch.cat([Xs, eps**0.5 * Zt], 1)  # (n, s + m)
    lam = torch.cat([spikes, torch.full((m,), eps, dtype=torch.float64)])
    w_star = torch.cat([w, torch.zeros(m, dtype=torch.float64)])
    return Xs, Zt, X, lam, spikes, w, w_star, eps


def test_spectra():
    lam = benign.spiked_spectrum(2, 3, 0.1, spike=4.0)
    assert torch.equal(lam, torch.tensor([4.0, 4.0, 0.1, 0.1, 0.1], dtype=torch.float64))
    assert torch.allclose(
        benign.power_law_spectrum(4, 2.0), torch.tensor([1, 1 / 4, 1 / 9, 1 / 16], dtype=torch.float64)
    )


def test_tail_ranks_match_the_definition():
    # Reference: the definitions summed term by term in plain Python (Bartlett et al. 2020, Def. 3).
    lam = benign.power_law_spectrum(50, 1.3)
    values = lam.tolist()
    r, R = benign.tail_ranks(lam)
    for k in (0, 1, 7, 49):
        tail = values[k:]
        assert r[k].item() == pytest.approx(sum(tail) / tail[0], rel=1e-12)
        assert R[k].item() == pytest.approx(sum(tail) ** 2 / sum(v * v for v in tail), rel=1e-12)
        assert op.risk.effective_ranks(lam, k) == pytest.approx((r[k].item(), R[k].item()), rel=1e-12)


def test_bound_terms_by_hand():
    # 2 spikes of 1 and a tail of 100 values 0.01: r_0 = 3, r_1 = 2, r_2 = 100 = R_2.
    lam = benign.spiked_spectrum(2, 100, 0.01)
    assert benign.critical_index(lam, 10, b=1.0) == 2
    t = benign.bound_terms(lam, 10, b=1.0)
    assert t.k_star == 2 and t.r0 == pytest.approx(3.0)
    assert t.variance == pytest.approx(2 / 10 + 10 / 100)
    assert t.bias == pytest.approx(math.sqrt(3 / 10))
    # isotropic p = 2n: k* = 0, variance term n/p; no k reaches r_k ≥ 3n: infinite term
    iso = torch.ones(40, dtype=torch.float64)
    assert benign.bound_terms(iso, 20).variance == pytest.approx(0.5)
    assert benign.critical_index(iso, 20, b=3.0) is None
    assert benign.bound_terms(iso, 20, b=3.0).variance == math.inf


def test_excess_risk_matches_monte_carlo():
    _, _, X, lam, _, _, w_star, _ = _problem()
    sigma = 0.7
    exact = benign.excess_risk(X, w_star, lam, sigma)
    g = torch.Generator().manual_seed(1)
    xi = sigma * torch.randn(X.shape[0], 20000, generator=g, dtype=torch.float64)  # 20000 noise draws
    W = op.linear.min_norm(X, (X @ w_star)[:, None] + xi)  # (p, 20000)
    risks = ((W - w_star[:, None]) ** 2 * lam[:, None]).sum(0)
    se = risks.std() / 20000**0.5
    assert abs(risks.mean() - (exact.bias + exact.variance)) < 4 * se
    noiseless = benign.risk_of(op.linear.min_norm(X, X @ w_star), w_star, lam)
    assert exact.bias.item() == pytest.approx(noiseless.item(), rel=1e-10)


def test_noise_profile_sums_to_variance():
    _, _, X, lam, *_ = _problem()
    norm, risk_j = benign.noise_profile(X, lam, 0.7)
    P = torch.linalg.pinv(X)  # (p, n), independent reference
    assert torch.allclose(norm, 0.49 * (P**2).sum(1), rtol=1e-9)
    assert risk_j.sum().item() == pytest.approx(
        benign.excess_risk(X, torch.zeros(X.shape[1], dtype=torch.float64), lam, 0.7).variance.item(), rel=1e-9
    )


def test_spiked_parts_match_explicit_design():
    Xs, Zt, X, lam, spikes, w, w_star, eps = _problem()
    parts = benign._spiked_parts(Xs, Zt @ Zt.T, spikes, eps, w, 0.7)
    exact = benign.excess_risk(X, w_star, lam, 0.7)
    norm, risk_j = benign.noise_profile(X, lam, 0.7)
    assert parts.bias.item() == pytest.approx(exact.bias.item(), rel=1e-9)
    assert parts.variance.item() == pytest.approx(exact.variance.item(), rel=1e-9)
    assert parts.variance_spikes.item() == pytest.approx(risk_j[:3].sum().item(), rel=1e-9)
    assert parts.variance_tail.item() == pytest.approx(risk_j[3:].sum().item(), rel=1e-9)
    assert parts.norm_spikes.item() == pytest.approx(norm[:3].sum().item(), rel=1e-9)
    assert parts.norm_tail.item() == pytest.approx(norm[3:].sum().item(), rel=1e-9)


def test_wishart_moments():
    n, dof, draws = 4, 7, 3000
    g = torch.Generator().manual_seed(3)
    W = torch.stack([benign.wishart(n, dof, g) for _ in range(draws)])  # (draws, n, n)
    # E W = dof I; Var W_ii = 2 dof; Var W_ij = dof (i ≠ j)
    assert torch.allclose(W.mean(0), dof * torch.eye(n, dtype=torch.float64), atol=4 * (2 * dof / draws) ** 0.5)
    assert W[:, 0, 0].var().item() == pytest.approx(2 * dof, rel=0.15)  # ~5 standard errors at 3000 draws
    assert W[:, 3, 1].var().item() == pytest.approx(dof, rel=0.15)  # ~5 standard errors at 3000 draws


def test_spiked_tail_risk_matches_explicit_in_distribution():
    n, m, eps, sigma, seeds = 10, 30, 0.1, 1.0, 200
    spikes = torch.tensor([1.0, 0.5], dtype=torch.float64)
    w = torch.tensor([0.8, 0.6], dtype=torch.float64)
    lam = torch.cat([spikes, torch.full((m,), eps, dtype=torch.float64)])
    w_star = torch.cat([w, torch.zeros(m, dtype=torch.float64)])
    short = torch.stack(
        [torch.stack(benign.spiked_tail_risk(n, spikes, m, eps, w, sigma, seed=s)[:2]) for s in range(seeds)]
    )
    direct = torch.stack(
        [
            torch.stack(benign.excess_risk(op.data.gaussian_design(n, lam, 10_000 + s), w_star, lam, sigma))
            for s in range(seeds)
        ]
    )  # (seeds, 2): bias, variance
    se = (short.var(0) / seeds + direct.var(0) / seeds).sqrt()
    assert ((short.mean(0) - direct.mean(0)).abs() < 4 * se).all()


def test_bad_input():
    with pytest.raises(ValueError, match="eigenvalues"):
        benign.tail_ranks(torch.tensor([1.0, 2.0]))
    with pytest.raises(ValueError, match="tail_value"):
        benign.spiked_spectrum(2, 3, 2.0)
    with pytest.raises(ValueError, match="dof"):
        benign.wishart(5, 3)
    with pytest.raises(ValueError, match="X"):
        benign.excess_risk(torch.randn(5, 3, dtype=torch.float64), torch.zeros(3), torch.ones(3))
    with pytest.raises(ValueError, match="tail_dim"):
        benign.spiked_tail_risk(10, torch.ones(2), 5, 0.1, torch.ones(2))
    with pytest.raises(ValueError, match="w_star"):
        benign.spiked_tail_risk(10, torch.ones(2), 20, 0.1, torch.ones(3))
    with pytest.raises(TypeError, match="n"):
        benign.critical_index(torch.ones(3), 2.5)


def test_rank_deficient_design_is_reported():
    X = torch.ones(3, 5, dtype=torch.float64)  # rank 1
    with pytest.raises(ValueError, match="full row rank"):
        benign.excess_risk(X, torch.zeros(5, dtype=torch.float64), torch.ones(5))


def test_spiked_tail_risk_takes_numpy_integers():
    args = (torch.ones(2, dtype=torch.float64), 0.1, torch.ones(2, dtype=torch.float64))
    a = benign.spiked_tail_risk(10, args[0], 40, args[1], args[2], seed=3)
    b = benign.spiked_tail_risk(10, args[0], np.int64(40), args[1], args[2], seed=3)
    assert torch.equal(torch.stack(a), torch.stack(b))
