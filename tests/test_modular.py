import math

import pytest
import torch

from overparam import modular


def test_split_labels_sizes_and_disjointness():
    s = modular.addition_split(7, 0.5, seed=1)
    assert len(s.x_train) == round(0.5 * 49) and len(s.x_train) + len(s.x_test) == 49
    for x, y in ((s.x_train, s.y_train), (s.x_test, s.y_test)):
        assert torch.equal(y, (x[:, 0] + x[:, 1]) % 7)
    pairs = {tuple(r) for r in torch.cat([s.x_train, s.x_test]).tolist()}
    assert len(pairs) == 49  # every pair exactly once
    assert torch.equal(modular.addition_split(7, 0.5, seed=1).x_train, s.x_train)
    assert not torch.equal(modular.addition_split(7, 0.5, seed=2).x_train, s.x_train)


def test_bad_arguments_name_the_argument():
    with pytest.raises(ValueError, match="p:"):
        modular.addition_split(8, 0.5)
    with pytest.raises(ValueError, match="train_fraction"):
        modular.addition_split(7, 0.0)
    with pytest.raises(ValueError, match="n_phases"):
        modular.analytic_solution(7, [1], n_phases=2)
    with pytest.raises(ValueError, match="freqs"):
        modular.analytic_solution(7, [4])
    with pytest.raises(ValueError, match="x:"):
        modular.PairMLP(7, 4)(torch.zeros(3, 2))


def test_pair_mlp_equals_linear_layer_on_one_hot_pairs():
    p, width = 5, 6
    net = modular.PairMLP(p, width, activation="relu", seed=0, dtype=torch.float64)
    x = modular.addition_split(p, 0.6, seed=0).x_train
    onehot = torch.cat([torch.nn.functional.one_hot(x[:, 0], p),
                        torch.nn.functional.one_hot(x[:, 1], p)], 1).double()
    W = torch.cat([net.emb_a, net.emb_b], 0).T  # (width, 2p)
    ref = torch.relu(onehot @ W.T) @ net.readout.T
    torch.testing.assert_close(net(x), ref, rtol=0, atol=1e-12)


def test_fourier_power_by_hand_and_parseval():
    p = 7
    t = torch.arange(p, dtype=torch.float64)
    wave = 3.0 * torch.cos(2 * math.pi * 2 * t / p + 0.4)  # amplitude 3 at k = 2
    power = modular.fourier_power(torch.stack([wave, torch.ones(p, dtype=torch.float64)], 1))
    # a cos wave of amplitude A on p points: sum of squares p A^2 / 2, all at k = 2
    torch.testing.assert_close(power[:, 0], torch.tensor([0, 0, p * 9 / 2, 0.0], dtype=torch.float64),
                               rtol=0, atol=1e-10)
    torch.testing.assert_close(power[:, 1], torch.tensor([p, 0, 0, 0.0], dtype=torch.float64),
                               rtol=0, atol=1e-10)
    w = torch.randn(p, 5, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    torch.testing.assert_close(modular.fourier_power(w).sum(0), (w**2).sum(0), rtol=1e-12, atol=0)


def test_dominant_fraction_pure_wave_and_random():
    p = 31
    net = modular.analytic_solution(p, [3, 7])
    share = modular.dominant_fraction(modular.fourier_power(net.emb_a.detach()))
    torch.testing.assert_close(share, torch.ones_like(share), rtol=0, atol=1e-10)
    w = torch.randn(p, 4000, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    rand = modular.dominant_fraction(modular.fourier_power(w)).mean().item()
    # powers are iid exponentials; the largest of K = 15 over their sum is the largest
    # uniform spacing, whose mean is exactly H_K / K = 0.221
    harmonic = sum(1 / j for j in range(1, 16)) / 15
    assert abs(rand - harmonic) < 0.02
    with pytest.raises(ValueError, match="power"):
        modular.dominant_fraction(torch.zeros(4, 2, dtype=torch.float64))


@pytest.mark.parametrize("freqs", [[1], [2, 5], list(range(1, 9))])
def test_analytic_solution_computes_modular_addition(freqs):
    p = 17
    net = modular.analytic_solution(p, freqs)
    a, b = torch.meshgrid(torch.arange(p), torch.arange(p), indexing="ij")
    x = torch.stack([a.flatten(), b.flatten()], 1)
    out = net(x)
    assert torch.equal(out.argmax(1), x.sum(1) % p)
    # the closed form: f_q = (m^2 / 2) sum_k cos(2 pi k (a + b - q) / p), m = 3
    q = torch.arange(p, dtype=torch.float64)
    d = (x.sum(1, keepdim=True) - q).double()
    ref = 4.5 * sum(torch.cos(2 * math.pi * k * d / p) for k in freqs)
    torch.testing.assert_close(out, ref, rtol=0, atol=1e-9)
