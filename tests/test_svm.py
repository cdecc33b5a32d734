"""Hard-margin SVM: a case worked by hand, SLSQP on the primal as reference, LPs, bad input."""

import numpy as np
import pytest
import torch
from scipy.optimize import minimize

from overparam import margin as mg
from overparam import svm


def _two_points():
    # x̃₁ = (1, 0), x̃₂ = (0, 1) after signs: ŵ = (1, 1), α = (1, 1), γ = 1/√2.
    X = torch.tensor([[1.0, 0.0], [0.0, -1.0]], dtype=torch.float64)
    y = torch.tensor([1.0, -1.0], dtype=torch.float64)
    return X, y


def test_two_points_by_hand():
    X, y = _two_points()
    s = svm.hard_margin(X, y)
    torch.testing.assert_close(s.w, torch.tensor([1.0, 1.0], dtype=torch.float64), atol=1e-10, rtol=0)
    torch.testing.assert_close(s.alpha, torch.tensor([1.0, 1.0], dtype=torch.float64), atol=1e-10, rtol=0)
    assert s.margin == pytest.approx(2**-0.5, abs=1e-12)
    assert s.support.all()


def test_one_point_dominates():
    # x̃ = (2, 0) and (3, 1): the second point lies beyond the first's margin, ŵ = (1/2, 0).
    X = torch.tensor([[2.0, 0.0], [3.0, 1.0]], dtype=torch.float64)
    s = svm.hard_margin(X, torch.tensor([1.0, 1.0], dtype=torch.float64))
    torch.testing.assert_close(s.w, torch.tensor([0.5, 0.0], dtype=torch.float64), atol=1e-10, rtol=0)
    assert s.support.tolist() == [True, False]


@pytest.mark.parametrize("seed,d", [(0, 2), (1, 5), (2, 10)])
def test_matches_slsqp_on_primal(seed, d):
    X, y, _ = mg.separable_data(40, d, margin=0.2, seed=seed)
    s = svm.hard_margin(X, y)
    A = (y[:, None] * X).numpy()
    ref = minimize(lambda w: 0.5 * w @ w, np.ones(d) * 0.0 + A.mean(0), jac=lambda w: w, method="SLSQP",
                   constraints={"type": "ineq", "fun": lambda w: A @ w - 1, "jac": lambda w: A},
                   options={"ftol": 1e-14, "maxiter": 1000})
    assert ref.success
    torch.testing.assert_close(s.w, torch.from_numpy(ref.x), atol=1e-6, rtol=1e-6)
    # KKT: primal feasible, complementary slackness, ŵ = X̃ᵀα with α ≥ 0
    u = torch.from_numpy(A) @ s.w
    assert u.min() >= 1 - 1e-9
    assert (s.alpha >= 0).all() and (s.alpha * (u - 1)).abs().max() < 1e-9
    torch.testing.assert_close(torch.from_numpy(A).T @ s.alpha, s.w, atol=1e-9, rtol=0)
    assert svm.margin(X, y, s.w).item() == pytest.approx(s.margin, rel=1e-10)


def test_lp_margins_by_hand():
    X, y = _two_points()
    # x̃ = e₁, e₂: ℓ∞ ball corner (1, 1) gives γ = 1; the ℓ1 ball gives w = (½, ½), γ = ½.
    w, g = svm.max_margin(X, y, "linf")
    torch.testing.assert_close(w, torch.tensor([1.0, 1.0], dtype=torch.float64), atol=1e-9, rtol=0)
    assert g == pytest.approx(1.0, abs=1e-9)
    w, g = svm.max_margin(X, y, "l1")
    torch.testing.assert_close(w, torch.tensor([0.5, 0.5], dtype=torch.float64), atol=1e-9, rtol=0)
    assert g == pytest.approx(0.5, abs=1e-9)
    w, g = svm.max_margin(X, y, "l2")
    assert g == pytest.approx(2**-0.5, abs=1e-12) and w.norm().item() == pytest.approx(1.0)


def test_lp_margin_is_the_best_in_its_norm():
    X, y, _ = mg.separable_data(30, 3, margin=0.1, seed=3)
    for norm in ("linf", "l1"):
        w, g = svm.max_margin(X, y, norm)
        assert svm.margin(X, y, w, norm).item() == pytest.approx(g, rel=1e-8)
        # no random direction beats it
        W = torch.randn(2000, 3, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
        assert svm.margin(X, y, W, norm).max().item() <= g + 1e-12


def test_bad_input():
    X, y = _two_points()
    with pytest.raises(ValueError, match="not linearly separable"):
        svm.hard_margin(torch.tensor([[1.0, 0.0], [-1.0, 0.0]], dtype=torch.float64), torch.tensor([1.0, 1.0]))
    with pytest.raises(ValueError, match="y: expected labels"):
        svm.hard_margin(X, torch.tensor([1.0, 0.0]))
    with pytest.raises(ValueError, match="y: expected a tensor of shape"):
        svm.hard_margin(X, torch.ones(3))
    with pytest.raises(ValueError, match="X: expected a 2-D"):
        svm.hard_margin(torch.ones(3), torch.ones(3))
    with pytest.raises(ValueError, match="norm"):
        svm.max_margin(X, y, "l3")
    assert not svm.is_separable(torch.tensor([[1.0, 0.0], [-1.0, 0.0]]), torch.tensor([1.0, 1.0]))
