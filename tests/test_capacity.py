import itertools
import math

import numpy as np
import pytest
import torch
from numpy.polynomial import legendre as npleg
from scipy.stats import norm

from overparam import capacity


def test_legendre_features_match_numpy_and_are_orthonormal():
    x = torch.linspace(-1, 1, 7, dtype=torch.float64)
    ours = capacity.legendre_features(x, 6)
    ref = npleg.legvander(x.numpy(), 6) * np.sqrt(2 * np.arange(7) + 1)
    assert ours.shape == (7, 7)
    np.testing.assert_allclose(ours.numpy(), ref, rtol=1e-12, atol=1e-12)
    # Gauss-Legendre quadrature with 20 nodes is exact for degree <= 39: E[φ_j φ_k] = δ_jk
    nodes, weights = npleg.leggauss(20)
    phi = capacity.legendre_features(torch.from_numpy(nodes), 8).numpy()
    gram = phi.T @ (phi * weights[:, None] / 2)
    np.testing.assert_allclose(gram, np.eye(9), atol=1e-12)


def test_legendre_features_by_hand_and_batched_shape():
    x = torch.tensor([0.5], dtype=torch.float64)
    # P_2(0.5) = (3·0.25 − 1)/2 = −0.125; times √5
    assert capacity.legendre_features(x, 2)[0, 2].item() == pytest.approx(-0.125 * math.sqrt(5), abs=1e-15)
    assert capacity.legendre_features(torch.zeros(3, 4, dtype=torch.float64), 0).shape == (3, 4, 1)


def test_excess_risk_matches_quadrature():
    gen = torch.Generator().manual_seed(0)
    x = 2 * torch.rand(3, 12, generator=gen, dtype=torch.float64) - 1
    coef = 0.7 ** torch.arange(10, dtype=torch.float64)
    y = capacity.legendre_features(x, 9) @ coef + 0.3 * torch.randn(3, 12, generator=gen, dtype=torch.float64)
    risk = capacity.legendre_excess_risk(x, y, coef, [0, 2, 5])
    nodes, weights = npleg.leggauss(30)
    f = npleg.legvander(nodes, 9) * np.sqrt(2 * np.arange(10) + 1) @ coef.numpy()
    for s in range(3):
        for j, d in enumerate([0, 2, 5]):
            X = npleg.legvander(x[s].numpy(), d)  # unnormalized basis: same fitted function
            w, *_ = np.linalg.lstsq(X, y[s].numpy(), rcond=None)
            g = npleg.legval(nodes, w)
            ref = np.sum(weights * (g - f) ** 2) / 2
            assert risk[s, j].item() == pytest.approx(ref, rel=1e-9)


def test_excess_risk_noiseless_is_the_tail():
    x = torch.linspace(-1, 1, 20, dtype=torch.float64).repeat(2, 1)
    coef = torch.tensor([1.0, -2.0, 0.5, 0.25], dtype=torch.float64)
    y = capacity.legendre_features(x, 3) @ coef
    risk = capacity.legendre_excess_risk(x, y, coef, [1, 3, 6])
    # degree >= 3 recovers the cubic exactly; degree 1 can do no better than the L2 projection,
    # whose error is the tail 0.5² + 0.25²
    torch.testing.assert_close(risk[:, 1:], torch.zeros(2, 2, dtype=torch.float64), atol=1e-20, rtol=0)
    assert (risk[:, 0] >= 0.25 + 0.0625).all()


def test_vapnik_bound_by_hand():
    # h = 10, n = 1000, δ = 0.05: sqrt((10 (ln 200 + 1) + ln 80) / 1000)
    expected = math.sqrt((10 * (math.log(200) + 1) + math.log(80)) / 1000)
    assert capacity.vapnik_bound(10, 1000) == pytest.approx(expected, rel=1e-14)
    assert capacity.vapnik_bound(10, 1000, train_error=0.1) == pytest.approx(0.1 + expected, rel=1e-14)
    # monotone in h below n: a lower bound on h gives a lower bound on the bound
    values = [capacity.vapnik_bound(h, 500) for h in (1, 10, 100, 250, 500)]
    assert values == sorted(values)


def test_interpolating_net_shatters():
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(6, 3, generator=gen, dtype=torch.float64)
    for signs in itertools.product((-1.0, 1.0), repeat=6):
        y = torch.tensor(signs, dtype=torch.float64)
        a, b, w = capacity.interpolating_relu_net(x, y, seed=2)
        f = torch.relu(x @ a[:, None] - b[None, :]) @ w
        torch.testing.assert_close(f, y, atol=1e-8, rtol=0)
    y = torch.randn(6, generator=gen, dtype=torch.float64)  # real targets too
    a, b, w = capacity.interpolating_relu_net(x, y)
    torch.testing.assert_close(torch.relu(x @ a[:, None] - b) @ w, y, atol=1e-8, rtol=0)


def test_chance_interval_by_hand_and_by_simulation():
    y_true = torch.tensor([0, 0, 1, 1])
    y_pred = torch.tensor([0, 0, 0, 1])
    p0, half = capacity.chance_interval(y_true, y_pred, 2, z=2.0)
    assert p0 == pytest.approx(0.5 * 0.75 + 0.5 * 0.25)
    assert half == pytest.approx(2 * math.sqrt(0.25 / 4))
    # independent predictions: the interval holds with probability ≈ 1 − 2(1 − Φ(z))
    gen = torch.Generator().manual_seed(0)
    labels = torch.randint(0, 10, (2000, 1000), generator=gen)
    preds = torch.randint(0, 10, (2000, 1000), generator=gen)
    inside = []
    for t, p in zip(labels, preds):
        p0, half = capacity.chance_interval(t, p, 10, z=2.0)
        inside.append(abs((t == p).double().mean().item() - p0) <= half)
    coverage = np.mean(inside)
    target = 1 - 2 * (1 - norm.cdf(2.0))
    assert abs(coverage - target) < 4 * math.sqrt(target * (1 - target) / 2000)


def test_steps_to_fit():
    assert capacity.steps_to_fit([0, 10, 20], [0.1, 1.0, 1.0]) == 10
    assert capacity.steps_to_fit([0, 10], [0.1, 0.9]) is None


def test_bad_inputs():
    with pytest.raises(TypeError, match="x"):
        capacity.legendre_features(torch.arange(3), 2)
    with pytest.raises(ValueError, match="degree"):
        capacity.legendre_features(torch.zeros(3), -1)
    with pytest.raises(ValueError, match="vc_dim"):
        capacity.vapnik_bound(20, 10)
    with pytest.raises(ValueError, match="delta"):
        capacity.vapnik_bound(2, 10, delta=1.5)
    x = torch.zeros(2, 5, dtype=torch.float64)
    with pytest.raises(ValueError, match="degrees"):
        capacity.legendre_excess_risk(x, x, torch.ones(3), [5])
    with pytest.raises(ValueError, match="distinct"):
        capacity.interpolating_relu_net(torch.ones(3, 2, dtype=torch.float64), torch.ones(3, dtype=torch.float64))
    with pytest.raises(ValueError, match="y_true"):
        capacity.chance_interval(torch.zeros(3, dtype=torch.long), torch.zeros(4, dtype=torch.long), 10)
    with pytest.raises(ValueError, match="y_true"):
        capacity.chance_interval(torch.tensor([12]), torch.tensor([0]), 10)


def test_vacuous_ratio_is_where_vapniks_bound_reaches_one():
    from scipy.optimize import brentq

    # independent reference: the root of r (ln(2/r) + 1) = 1 for n → ∞
    r_inf = brentq(lambda r: r * (math.log(2 / r) + 1) - 1, 0.01, 1.0)
    assert r_inf == pytest.approx(0.3725, abs=1e-3)
    assert capacity.vacuous_ratio(10**9) == pytest.approx(r_inf, abs=1e-6)
    for n in (200, 1000, 4000):
        r = capacity.vacuous_ratio(n, 0.05)
        h = math.ceil(r * n)
        assert capacity.vapnik_bound(h, n, 0.05) >= 1.0  # at r*: vacuous
        assert capacity.vapnik_bound(max(1, h - 2), n, 0.05) < 1.0  # just below: not
    # a larger ln(4/δ) term makes the bound vacuous earlier
    assert capacity.vacuous_ratio(200, 1e-6) < capacity.vacuous_ratio(200, 0.5)
    with pytest.raises(ValueError, match="delta"):
        capacity.vacuous_ratio(100, 1.0)


def test_median_band_and_top_share_by_hand():
    v = torch.tensor([[1.0, 10.0], [2.0, 20.0], [3.0, 30.0], [4.0, 40.0], [90.0, 400.0]])
    med, lo, hi, se = capacity.median_band(v, q=0.25, n_boot=50, seed=0)
    assert med.tolist() == [3.0, 30.0]
    assert lo.tolist() == [2.0, 20.0] and hi.tolist() == [4.0, 40.0]
    assert se.shape == (2,) and (se > 0).all()
    # the mean of column 0 is 20, pulled up by one outlier; the median is not
    share = capacity.top_share(v, 0.2)  # the top row of five
    assert share.tolist() == pytest.approx([90 / 100, 400 / 500])
    with pytest.raises(ValueError, match="q"):
        capacity.median_band(v, q=0.6)
    with pytest.raises(ValueError, match="values"):
        capacity.top_share(-v)
