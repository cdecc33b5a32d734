"""Claim criteria: each passes on the phenomenon and fails on a negative control."""

import math

import numpy as np
import pytest
import torch

from overparam import criteria as C
from overparam.claims import Claims


def test_verdict_requires_keeps_measured_and_joins_outcomes():
    v = C.at_most(0.1, 0.2)
    assert v.ok and v.measured == 0.1
    failed_pre = v.requires(C.at_least(0.9, 1.0, name="train acc"))
    assert not failed_pre.ok and failed_pre.measured == 0.1
    assert "train acc ≥ 1" in failed_pre.expect
    assert v.requires(C.at_least(1.0, 1.0)).ok


def test_claims_check_takes_a_verdict(tmp_path, monkeypatch):
    monkeypatch.setenv("OVERPARAM_CLAIMS_DIR", str(tmp_path))
    c = Claims("demo")
    c.check("a", C.within(1.0, 0.5, 2.0, name="c"), statement="s", source="k")
    r = c.records[-1]
    assert r.ok and r.measured == 1.0 and r.expect == "0.5 ≤ c ≤ 2"
    c.check("b", C.all_hold([C.at_most(1, 2), C.at_most(3, 2)]), statement="s")
    assert c.records[-1].measured == [1.0, 3.0] and not c.records[-1].ok
    with pytest.raises(ValueError, match="verdict"):
        c.check("c", C.at_most(1, 2), measured=1.0, statement="s")
    with pytest.raises(TypeError, match="measured"):
        c.check("d", measured="a string", ok=True, expect="", statement="s")


def test_comparisons_and_their_negative_controls():
    assert C.within(1.0, 0.5, 2.0).ok and not C.within(2.5, 0.5, 2.0).ok
    assert C.at_least(1.0, 1.0).ok and not C.at_least(0.99, 1.0).ok
    # a difference of 0.05 with s.e. 0.01 each is significant at 2 s.e.; with s.e. 0.03 it is not
    assert C.greater(0.30, 0.25, 0.01, 0.01).ok
    assert not C.greater(0.30, 0.25, 0.03, 0.03).ok
    assert C.greater(0.30, 0.25).measured == pytest.approx(0.05)
    # equal means never pass, whatever the s.e.
    assert not C.greater(0.3, 0.3).ok
    with pytest.raises(ValueError, match="lo, hi"):
        C.within(1.0, 2.0, 1.0)
    with pytest.raises(ValueError, match="se_a"):
        C.greater(1, 0, se_a=-1)


def test_relative_error():
    ref = torch.tensor([1.0, 2.0, 2.0])
    assert C.relative_error(ref * 1.01, ref, 0.02).ok
    v = C.relative_error(torch.zeros(3), ref, 0.5)  # negative control: predicting zero
    assert not v.ok and v.measured == pytest.approx(1.0)
    with pytest.raises(ValueError, match="equal length"):
        C.relative_error([1.0, 2.0], ref, 0.1)


def test_at_chance_needs_a_learned_model():
    n, c = 1000, 10
    assert C.at_chance(0.11, n, c).ok
    assert not C.at_chance(0.40, n, c).ok
    untrained = C.at_chance(0.10, n, c).requires(C.at_least(0.12, 1.0, name="train acc"))
    assert not untrained.ok  # the negative control: chance accuracy without memorization
    assert C.above_chance(0.40, n, c).ok and not C.above_chance(0.11, n, c).ok
    with pytest.raises(ValueError, match="acc"):
        C.at_chance(1.5, n, c)
    with pytest.raises(ValueError, match="n:"):
        C.at_chance(0.1, 0, c)


def test_slope_near_recovers_a_power_law_and_rejects_a_flat_one():
    x = np.array([32, 64, 128, 256, 512, 1024.0])
    y = 3.0 * x**-0.5
    assert C.loglog_slope(x, y) == pytest.approx(-0.5)
    assert C.slope_near(x, y, -0.5, 0.05).ok
    assert not C.slope_near(x, np.ones_like(x), -0.5, 0.1).ok  # negative control: flat
    with pytest.raises(ValueError, match="positive"):
        C.slope_near(x, -y, -0.5, 0.1)


def test_monotone_with_and_without_standard_errors():
    assert C.monotone([3, 2, 1]).ok
    assert not C.monotone([3, 2, 2.5]).ok  # negative control: a bump
    assert C.monotone([1, 2, 3], decreasing=False).ok
    # a 0.1 rise is noise when each point has s.e. 0.1 (2 s.e. of the step = 0.28)
    assert C.monotone([1.0, 0.8, 0.9], se=[0.1, 0.1, 0.1]).ok
    assert not C.monotone([1.0, 0.5, 1.0], se=[0.1, 0.1, 0.1]).ok
    assert C.monotone([3, 2, 2.5]).measured == pytest.approx(0.5)


def test_significant_peak_fails_on_flat_and_monotone_curves():
    x = np.arange(7)
    se = np.full(7, 0.01)
    peaked = np.array([0.5, 0.4, 0.35, 0.6, 0.45, 0.3, 0.25])
    v = C.significant_peak(x, peaked, se)
    assert v.ok and v.measured == pytest.approx(0.25)  # 0.6 − 0.35 on the left
    assert not C.significant_peak(x, np.full(7, 0.3), se).ok  # flat
    assert not C.significant_peak(x, np.linspace(0.5, 0.2, 7), se).ok  # monotone
    assert not C.significant_peak(x, peaked, np.full(7, 0.1)).ok  # bump within noise
    assert math.isnan(C.significant_peak(x, np.linspace(0.2, 0.5, 7), se).measured)
    assert C.peak_location(x, peaked) == 3.0


def test_first_reach_and_rank_correlation():
    steps = [10, 20, 30, 40]
    assert C.first_reach(steps, [0.1, 0.5, 0.96, 0.99], 0.95) == 30
    assert C.first_reach(steps, [0.1, 0.5, 0.6, 0.7], 0.95) == math.inf
    assert C.first_reach(steps, [1.0, 0.5, 0.2, 0.1], 0.3, above=False) == 30
    assert C.rank_correlation([1, 2, 3], [10, 20, 30]) == pytest.approx(1.0)
    assert C.rank_correlation([1, 2, 3], [30, 20, 10]) == pytest.approx(-1.0)


def test_bad_input_names_the_argument():
    with pytest.raises(ValueError, match="means: expected finite"):
        C.significant_peak([0, 1, 2], [0.1, float("nan"), 0.2], [0.1] * 3)
    with pytest.raises(TypeError, match="value"):
        C.at_most("1", 2)
    with pytest.raises(ValueError, match="equal length"):
        C.monotone([1, 2, 3], se=[0.1, 0.1])


def test_tracks_a_predicted_curve_and_rejects_a_plateau():
    t = np.geomspace(1e2, 1e4, 20)
    pred = 1 / np.log(t)
    assert C.tracks(pred * 1.05, pred, 0.1).ok
    v = C.tracks(np.full(20, pred[0]), pred, 0.1)  # negative control: levels off
    assert not v.ok and v.measured == pytest.approx(pred[0] / pred[-1] - 1)
    with pytest.raises(ValueError, match="predicted"):
        C.tracks([1.0, 2.0], [1.0, 0.0], 0.1)


def test_drop_matches_rejects_a_plateau_and_a_power_law():
    t0, t1 = 1e4, 1e6
    assert C.drop_matches(1 / np.log(t0), 1 / np.log(t1), 1 / np.log(t0), 1 / np.log(t1), 0.2).ok
    assert not C.drop_matches(0.2, 0.2, 1 / np.log(t0), 1 / np.log(t1), 0.2).ok  # plateau
    fast = C.drop_matches(t0**-0.5, t1**-0.5, 1 / np.log(t0) / 100, 1 / np.log(t1) / 100, 0.2)
    assert not fast.ok and fast.measured > 1.2  # 1/√t falls far more than 1/log t
    with pytest.raises(ValueError, match="predicted drop"):
        C.drop_matches(1, 0.5, 0.5, 1, 0.2)


def test_diagonal_leads_fails_when_every_method_ends_alike():
    good = [[1.0, 0.8, 0.7], [0.9, 0.99, 0.6], [0.8, 0.7, 0.98]]
    v = C.diagonal_leads(good, at_least=0.95)
    assert v.ok and v.measured == pytest.approx(0.1)
    same = [[0.9, 0.8, 0.7]] * 3  # negative control: all three rows equal
    assert not C.diagonal_leads(same, at_least=0.5).ok
    assert not C.diagonal_leads(good, at_least=0.995).ok  # a diagonal entry below the bound
    with pytest.raises(ValueError, match="square"):
        C.diagonal_leads([[1.0, 2.0]], at_least=0.0)


def test_at_chance_with_a_chance_level_from_class_frequencies():
    # labels 60/40 over two classes, predictions all class 0: chance is 0.6, not 1/2
    assert C.at_chance(0.6, 1000, 2, p0=0.6).ok
    assert not C.at_chance(0.6, 1000, 2).ok  # against 1/2 it would look like signal
    with pytest.raises(ValueError, match="p0"):
        C.at_chance(0.5, 1000, 2, p0=1.5)


def test_significant_valley_finds_a_u_and_rejects_monotone_and_flat_curves():
    x = np.arange(7.0)
    u = (x - 3) ** 2 + 1.0
    se = np.full(7, 0.1)
    v = C.significant_valley(x, u, se)
    assert v.ok and v.measured == pytest.approx(9.0)  # min(10 − 1, 10 − 1)
    assert not C.significant_valley(x, -x, se).ok  # negative control: monotone
    assert not C.significant_valley(x, np.ones(7), se).ok  # negative control: flat
    assert C.significant_valley(x, -x, se).measured == 0.0
    # a dip smaller than 3 s.e. is not significant
    assert not C.significant_valley(x, 1 + 0.02 * (x - 3) ** 2, se).ok


def test_consistent_with_a_prediction():
    assert C.consistent(1.52, 1.5, 0.01).ok
    v = C.consistent(1.0, 1.5, 0.01)  # negative control: "the norm does not matter"
    assert not v.ok and v.measured == 1.0
    assert not C.consistent(1.5001, 1.5, 0.0).ok
    with pytest.raises(ValueError, match="se"):
        C.consistent(1.0, 1.0, -1.0)


def test_equivalent_needs_a_small_difference_and_small_noise():
    assert C.equivalent(0.68, 0.67, 0.005, 0.005, margin=0.05).ok
    assert not C.equivalent(0.68, 0.60, 0.005, 0.005, margin=0.05).ok  # a real effect
    assert not C.equivalent(0.68, 0.67, 0.05, 0.05, margin=0.05).ok  # too noisy to tell
    assert C.equivalent(0.68, 0.67, 0.0, 0.0, margin=0.05).measured == pytest.approx(0.01)


def test_noninferior_is_one_sided_and_needs_small_noise():
    assert C.noninferior(0.665, 0.67, 0.002, 0.0, margin=0.0115).ok  # half a point worse
    assert C.noninferior(0.70, 0.67, 0.002, 0.0, margin=0.0115).ok  # better: passes
    assert not C.noninferior(0.60, 0.67, 0.002, 0.0, margin=0.0115).ok  # negative control
    assert not C.noninferior(0.67, 0.67, 0.01, 0.0, margin=0.0115).ok  # too noisy to tell
    assert C.noninferior(0.66, 0.67, 0.0, 0.0, margin=0.05).measured == pytest.approx(0.01)


def test_delayed_needs_a_late_event_that_happens():
    v = C.delayed(2000, 100, min_ratio=10)
    assert v.ok and v.measured == pytest.approx(20.0)
    assert not C.delayed(150, 100, min_ratio=10).ok  # negative control: test tracks train
    assert not C.delayed(float("inf"), 100, min_ratio=10).ok  # never generalizes
    with pytest.raises(ValueError, match="t_early"):
        C.delayed(10, 0, min_ratio=10)


def test_nearer_rejects_a_value_at_the_alternative():
    assert C.nearer(0.9, 1.0, 0.2).ok
    assert not C.nearer(0.25, 1.0, 0.2).ok  # negative control: an untrained network
    assert C.nearer(0.1, 0.0, 1.0).ok and not C.nearer(0.7, 0.0, 1.0).ok
    with pytest.raises(ValueError, match="target"):
        C.nearer(0.5, 1.0, 1.0)


def test_ratio_greater_is_a_significant_ratio_of_geometric_means():
    a, b = [40.0, 44.0, 36.0, 41.0], [4.0, 4.4, 3.6, 4.1]
    v = C.ratio_greater(a, b)
    assert v.ok and v.measured == pytest.approx(10.0)
    assert not C.ratio_greater(b, a).ok  # the wrong way round
    assert not C.ratio_greater(a, a).ok  # negative control: the same distribution
    assert not C.ratio_greater([1.0, 30.0, 2.0], [1.5, 2.0, 1.0]).ok  # a ratio inside the noise
    with pytest.raises(ValueError, match="positive"):
        C.ratio_greater([1.0, -1.0], [1.0, 2.0])
    with pytest.raises(ValueError, match="two samples"):
        C.ratio_greater([1.0], [1.0, 2.0])


def test_learned_in_order_fails_on_a_shuffled_or_flat_order():
    inf = float("inf")
    assert C.learned_in_order([10.0, 40.0, 90.0]).ok
    assert C.learned_in_order([10.0, 40.0, inf, inf]).ok  # the late ones not yet learned
    v = C.learned_in_order([40.0, 10.0, 90.0])  # negative control: a shuffled order
    assert not v.ok and v.measured == 1
    assert not C.learned_in_order([10.0, 10.0, 10.0]).ok  # all at once: no order
    assert not C.learned_in_order([10.0, inf, 40.0]).ok  # a higher one learned, a lower one not
    assert not C.learned_in_order([10.0, inf, inf]).ok  # fewer than two learned
    with pytest.raises(ValueError, match="steps"):
        C.learned_in_order([1.0])


def test_mean_se_and_paired_test_se_by_hand():
    m, s = C.mean_se([1.0, 2.0, 3.0, 6.0])  # mean 3, sample var 14/3
    assert m == pytest.approx(3.0) and s == pytest.approx((14 / 3) ** 0.5 / 2)
    a = np.array([[1, 1, 0, 0], [1, 0, 1, 0]])  # per example: 1, .5, .5, 0
    b = np.array([[1, 0, 0, 0]])  # 1, 0, 0, 0 → d = 0, .5, .5, 0
    assert C.paired_test_se(a, b) == pytest.approx(np.std([0, .5, .5, 0], ddof=1) / 2)
    # negative control: two arms that agree on every example have no test-set noise
    assert C.paired_test_se(a, a) == 0.0
    with pytest.raises(ValueError, match="values"):
        C.mean_se([1.0])
    with pytest.raises(ValueError, match="right_b"):
        C.paired_test_se(a, np.ones((2, 3)))
    with pytest.raises(ValueError, match="right_a"):
        C.paired_test_se(np.full((2, 4), 0.5), b)
