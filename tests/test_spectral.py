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
