import math

import pytest
import torch

from overparam import spectral


def test_amplitudes_of_known_sinusoids():
    x = spectral.grid(200)
    v = 0.7 * torch.sin(2 * math.pi * 5 * x + 1.3) + 0.2 * torch.sin(2 * math.pi * 40 * x - 0.4) + 0.5
    a = spectral.fourier_amplitudes(v, [0, 5, 6, 40, 100])
    assert torch.allclose(a, torch.tensor([0.5, 0.7, 0.0, 0.2, 0.0], dtype=torch.float64), atol=1e-12)
    # the same from numpy's FFT, an independent reference
    ref = 2 * torch.fft.rfft(v).abs() / 200
    assert torch.allclose(spectral.fourier_amplitudes(v, list(range(1, 100))), ref[1:100], atol=1e-12)
    # batched values
    batch = torch.stack([v, 2 * v])
    assert torch.allclose(spectral.fourier_amplitudes(batch, [5])[:, 0], torch.tensor([0.7, 1.4], dtype=torch.float64))


def test_sinusoid_target_and_learned_step():
    x = spectral.grid(128)
    freqs, amps = [5, 10, 15], [1.0, 0.5, 0.25]
    y = spectral.sinusoid_target(x, freqs, amps, seed=3)
    assert torch.allclose(spectral.fourier_amplitudes(y, freqs), torch.tensor(amps, dtype=torch.float64), atol=1e-12)
    steps = [0, 10, 20]
    a = torch.tensor([[0.0, 0.0, 0.0], [0.6, 0.1, 0.0], [1.0, 0.5, 0.0]])
    got = spectral.learned_step(steps, a, amps, fraction=0.5)
    assert got.tolist() == [10.0, 20.0, math.inf]


def test_bad_input():
    with pytest.raises(ValueError, match="freqs"):
        spectral.fourier_amplitudes(torch.zeros(10), [6])
    with pytest.raises(ValueError, match="freqs"):
        spectral.fourier_amplitudes(torch.zeros(10), [1.5])
    with pytest.raises(TypeError, match="values"):
        spectral.fourier_amplitudes([0.0, 1.0], [0])
    with pytest.raises(ValueError, match="fraction"):
        spectral.learned_step([0], torch.zeros(1, 1), [1.0], fraction=0.0)


def test_circle_and_circulant_eigenvalues_match_a_dense_eigendecomposition():
    n = 16
    z = spectral.circle(spectral.grid(n))
    assert torch.allclose(z[4], torch.tensor([0.0, 1.0], dtype=torch.float64), atol=1e-15)  # x = 1/4
    K = torch.exp(z @ z.T)  # a kernel of z·z′ = cos 2π(x − x′): circulant on the grid
    lam = spectral.circulant_eigenvalues(K[0], list(range(n // 2 + 1)))
    dense = torch.linalg.eigvalsh(K)
    # each 0 < k < n/2 is an eigenvalue twice (cos and sin); k = 0 and n/2 once
    expected = torch.cat([lam[[0, -1]], lam[1:-1], lam[1:-1]]).sort().values
    assert torch.allclose(dense, expected, rtol=1e-12)
    # worked by hand: row (2, 1, 0, 1) has eigenvalues 2 + 2cos(πk/2): 4, 2, 0
    row = torch.tensor([2.0, 1.0, 0.0, 1.0])
    assert spectral.circulant_eigenvalues(row, [0, 1, 2]).tolist() == pytest.approx([4.0, 2.0, 0.0])
    with pytest.raises(ValueError, match="row"):
        spectral.circulant_eigenvalues(torch.tensor([2.0, 1.0, 0.0, 0.5]), [0])


def test_predicted_step_matches_gradient_descent_on_the_kernel():
    n = 32
    x = spectral.grid(n)
    z = spectral.circle(x)
    K = torch.exp(4 * z @ z.T)
    lr = n / spectral.circulant_eigenvalues(K[0], [0]).item()  # below 2n/λ_max
    y = spectral.sinusoid_target(x, [1, 3, 6], [1.0, 1.0, 1.0], seed=0)  # λ_1 ≫ λ_3 ≫ λ_6
    f, amps = torch.zeros(n, dtype=torch.float64), []
    for _ in range(600):
        amps.append(spectral.fourier_amplitudes(f, [1, 3, 6]))
        f = f - lr / n * K @ (f - y)
    got = spectral.learned_step(range(600), torch.stack(amps), [1.0, 1.0, 1.0])
    lam = spectral.circulant_eigenvalues(K[0], [1, 3, 6])
    pred = spectral.predicted_step(lam, lr, n)
    assert torch.equal(got, torch.ceil(pred))  # the first integer step past the crossing
    assert spectral.predicted_step(torch.tensor([0.0]), lr, n).isinf().all()
    assert spectral.predicted_step(torch.tensor([1.0, -1e-16]), lr, n)[1].isinf()  # rounding
    with pytest.raises(ValueError, match="eigenvalues"):
        spectral.predicted_step(lam, 1e3, n)


def test_train_amplitudes_matches_autograd_training_of_the_centred_network():
    import copy

    from overparam import models, ntk, train

    n, freqs = 40, [2, 5]
    x = spectral.grid(n)
    z = spectral.circle(x)
    y = spectral.sinusoid_target(x, freqs, [1.0, 0.5], seed=1)
    nets = [models.mlp(2, 16, 1, 1, parameterization="ntk", sigma_b2=0.1, seed=s).double() for s in (0, 1)]
    refs = [ntk.Centered(copy.deepcopy(m), scale=2.0) for m in nets]
    tr = spectral.train_amplitudes(nets, z, torch.stack([y, -y]), freqs, lr=0.3 / 4, steps=5, scale=2.0,
                                   keep=[0, 5])
    for ref, target, e in zip(refs, (y, -y), (0, 1)):
        h = train.train(ref, (z, target[:, None]), lr=0.3 / 4, steps=5, loss="mse", eval_every=1,
                        progress=False, device="cpu")
        assert torch.allclose(tr.loss[:, e], torch.tensor(h.train_loss, dtype=torch.float64), rtol=1e-10)
        out = ref(z).detach()[:, 0]
        assert torch.allclose(tr.snapshots[1, e], out, atol=1e-12)
        assert torch.allclose(tr.amplitudes[-1, e], spectral.fourier_amplitudes(out, freqs), atol=1e-12)
        assert torch.allclose(ref.model[0].weight, nets[e][0].weight, atol=1e-12)
    assert tr.snapshots[0].abs().max() == 0  # centred: zero at initialization
    with pytest.raises(ValueError, match="models"):
        spectral.train_amplitudes([models.mlp(2, 8, 2, 1, seed=0)], z, y[None], freqs, lr=0.1, steps=1)
    with pytest.raises(ValueError, match="targets"):
        spectral.train_amplitudes(nets, z, y[None], freqs, lr=0.1, steps=1)
