import math

import pytest
import torch

from overparam import bounds


def test_kl_by_hand():
    # kl(0.1 || 0.5) = 0.1 ln 0.2 + 0.9 ln 1.8
    assert bounds.kl_bernoulli(0.1, 0.5) == pytest.approx(0.1 * math.log(0.2) + 0.9 * math.log(1.8), abs=1e-15)
    assert bounds.kl_bernoulli(0.0, 0.5) == pytest.approx(math.log(2), abs=1e-15)
    assert bounds.kl_bernoulli(0.3, 0.3) == 0.0
    assert bounds.kl_bernoulli(0.5, 1.0) == math.inf


def _bisect_by_hand(q, c):
    lo, hi = q, 1.0
    for _ in range(200):
        mid = (lo + hi) / 2
        kl = q * math.log(q / mid) + (1 - q) * math.log((1 - q) / (1 - mid)) if q > 0 else -math.log(1 - mid)
        lo, hi = (mid, hi) if kl <= c else (lo, mid)
    return lo


@pytest.mark.parametrize("q, c", [(0.0, 0.1), (0.05, 0.02), (0.3, 0.5), (0.9, 0.01), (0.5, 2.0)])
def test_kl_inverse_against_bisection(q, c):
    p = bounds.kl_inverse(q, c)
    assert p == pytest.approx(_bisect_by_hand(q, c), abs=1e-10)
    assert p >= q and bounds.kl_bernoulli(q, p) == pytest.approx(c, abs=1e-8) or p == 1.0


def test_kl_inverse_edges():
    # kl is quadratic near q: its float64 roundoff (1e-16) leaves p known to ~1e-8 there
    assert bounds.kl_inverse(0.2, 0.0) == pytest.approx(0.2, abs=1e-7)
    assert bounds.kl_inverse(0.0, 10.0) == 1.0 or bounds.kl_inverse(0.0, 10.0) > 0.9999
    assert bounds.kl_inverse(0.0, 0.1) == pytest.approx(1 - math.exp(-0.1), abs=1e-10)  # by hand
    with pytest.raises(ValueError, match="q"):
        bounds.kl_inverse(1.5, 0.1)
    with pytest.raises(ValueError, match="c"):
        bounds.kl_inverse(0.1, -1.0)


def test_bounds_on_a_case_worked_by_hand():
    n, kl, delta, q = 1000, 5.0, 0.05, 0.1
    rhs = (5.0 + math.log(2 * math.sqrt(1000) / 0.05)) / 1000  # (5 + ln 1264.91) / 1000
    assert rhs == pytest.approx(0.0121428, abs=1e-6)
    assert bounds.mcallester_bound(q, kl, n, delta) == pytest.approx(0.1 + math.sqrt(rhs / 2), abs=1e-12)
    s = bounds.seeger_bound(q, kl, n, delta)
    assert bounds.kl_bernoulli(q, s) == pytest.approx(rhs, abs=1e-9)
    assert q < s < bounds.mcallester_bound(q, kl, n, delta)  # Pinsker: kl form is tighter
    # Dziugaite-Roy grid term: j = 1 adds 0, ln(pi^2 n / 6 delta) and n - 1
    c = (kl + math.log(math.pi**2 * n / (6 * delta))) / (n - 1)
    assert bounds.dziugaite_roy_bound(q, kl, n, delta, j=1) == pytest.approx(bounds.kl_inverse(q, c), abs=1e-12)
    assert bounds.dziugaite_roy_bound(q, kl, n, delta, j=10) > bounds.dziugaite_roy_bound(q, kl, n, delta, j=1)
    # Monte Carlo: ln(2/0.01)/1000 = 0.0052983
    assert bounds.monte_carlo_bound(0.1, 1000, 0.01) == pytest.approx(
        bounds.kl_inverse(0.1, math.log(200) / 1000), abs=1e-12)


def test_gaussian_kl_against_torch_distributions():
    g = torch.Generator().manual_seed(0)
    mu_q, mu_p = torch.randn(7, generator=g, dtype=torch.float64), torch.randn(7, generator=g, dtype=torch.float64)
    sigma = torch.rand(7, generator=g, dtype=torch.float64) + 0.1
    lam = 0.3
    ref = torch.distributions.kl_divergence(torch.distributions.Normal(mu_q, sigma),
                                            torch.distributions.Normal(mu_p, lam**0.5)).sum()
    torch.testing.assert_close(bounds.gaussian_kl(mu_q, sigma, mu_p, lam), ref, rtol=1e-12, atol=1e-12)
    assert bounds.gaussian_kl(mu_p, torch.full((7,), lam**0.5, dtype=torch.float64), mu_p, lam).abs() < 1e-12
    with pytest.raises(ValueError, match="sigma_q"):
        bounds.gaussian_kl(mu_q, -sigma, mu_p, lam)


def test_vacuous_when_kl_is_large():
    assert bounds.seeger_bound(0.0, 1e6, 1000, 0.05) == 1.0
    assert bounds.mcallester_bound(0.0, 1e6, 1000, 0.05) == 1.0
