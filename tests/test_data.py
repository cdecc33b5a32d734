"""overparam.data: MNIST-1D options checked against the clean data set, Gaussian designs by Monte Carlo."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch

from overparam import data

N_TRAIN, N_TEST = 200, 100  # ~0.15 s of generation per seed


def test_mnist1d_shapes_dtypes_and_labels():
    split = data.mnist1d(N_TRAIN, N_TEST, seed=0)
    assert split.x_train.shape == (N_TRAIN, 40) and split.x_test.shape == (N_TEST, 40)
    assert split.x_train.dtype == split.x_test.dtype == torch.float32
    assert split.y_train.shape == (N_TRAIN,) and split.y_test.shape == (N_TEST,)
    assert split.y_train.dtype == split.y_test.dtype == torch.int64
    for y in (split.y_train, split.y_test):
        assert 0 <= y.min() and y.max() <= 9
    assert set(split.y_train.tolist()) == set(range(10))  # every class appears
    assert torch.isfinite(split.x_train).all()
    # Train and test are different samples: no test input repeats a training input.
    assert torch.cdist(split.x_test, split.x_train).min() > 0


def test_mnist1d_size_not_multiple_of_ten():
    split = data.mnist1d(53, 21, seed=0)
    assert split.x_train.shape == (53, 40) and split.x_test.shape == (21, 40)


@pytest.mark.parametrize("frac", [0.25, 0.123, 1.0])
def test_label_noise_flips_exact_count_to_different_labels(frac):
    clean = data.mnist1d(N_TRAIN, N_TEST, seed=0)
    noisy = data.mnist1d(N_TRAIN, N_TEST, label_noise=frac, seed=0)
    changed = noisy.y_train != clean.y_train
    # Exactly round(frac · n) labels are drawn anew, and every one of them differs from the original.
    assert changed.sum().item() == round(frac * N_TRAIN)
    assert 0 <= noisy.y_train.min() and noisy.y_train.max() <= 9
    assert torch.equal(noisy.x_train, clean.x_train)
    assert torch.equal(noisy.y_test, clean.y_test)  # test labels stay clean


def test_label_noise_draws_every_other_label():
    clean = data.mnist1d(N_TRAIN, N_TEST, seed=0)
    noisy = data.mnist1d(N_TRAIN, N_TEST, label_noise=1.0, seed=0)
    shift = (noisy.y_train - clean.y_train) % 10  # uniform on 1..9 by construction
    assert set(shift.tolist()) == set(range(1, 10))


def test_shuffle_pixels_is_one_fixed_permutation():
    clean = data.mnist1d(N_TRAIN, N_TEST, seed=0)
    shuffled = data.mnist1d(N_TRAIN, N_TEST, shuffle_pixels=True, seed=0)
    # Recover the permutation from the training inputs: column j of the shuffled data is
    # column perm[j] of the clean data.
    match = (shuffled.x_train[:, :, None] == clean.x_train[:, None, :]).all(dim=0)  # (40, 40)
    assert (match.sum(dim=1) == 1).all()
    perm = match.float().argmax(dim=1)
    assert sorted(perm.tolist()) == list(range(40)) and not torch.equal(perm, torch.arange(40))
    assert torch.equal(shuffled.x_train, clean.x_train[:, perm])
    assert torch.equal(shuffled.x_test, clean.x_test[:, perm])  # the same permutation for the test set
    assert torch.equal(shuffled.y_train, clean.y_train) and torch.equal(shuffled.y_test, clean.y_test)


def test_mnist1d_seeded_and_leaves_global_rng_alone():
    np_state, py_state, torch_state = np.random.get_state(), random.getstate(), torch.get_rng_state()  # noqa: NPY002
    a = data.mnist1d(N_TRAIN, N_TEST, label_noise=0.2, shuffle_pixels=True, seed=12345)  # not cached
    assert np.array_equal(np.random.get_state()[1], np_state[1])  # noqa: NPY002
    assert random.getstate() == py_state
    assert torch.equal(torch.get_rng_state(), torch_state)
    a.x_train[0, 0] = 1e6  # the caller's tensor is its own: the cache is not affected
    b = data.mnist1d(N_TRAIN, N_TEST, label_noise=0.2, shuffle_pixels=True, seed=12345)
    assert torch.equal(a.y_train, b.y_train) and torch.equal(a.x_test, b.x_test)
    assert b.x_train[0, 0] != 1e6
    c = data.mnist1d(N_TRAIN, N_TEST, seed=1)
    assert not torch.equal(b.x_test, c.x_test)


def test_mnist1d_bad_inputs():
    with pytest.raises(ValueError, match="n_train"):
        data.mnist1d(0, 10)
    with pytest.raises(TypeError, match="n_test"):
        data.mnist1d(10, 2.5)
    with pytest.raises(ValueError, match="label_noise"):
        data.mnist1d(10, 10, label_noise=1.5)
    with pytest.raises(ValueError, match="label_noise"):
        data.mnist1d(10, 10, label_noise=-0.1)


def test_gaussian_design_covariance_by_monte_carlo():
    lam = torch.tensor([4.0, 1.0, 0.25, 0.0], dtype=torch.float64)
    n = 20_000
    X = data.gaussian_design(n, lam, seed=3)
    assert X.shape == (n, 4) and X.dtype == torch.float64
    # The sample covariance XᵀX/n of a zero-mean Gaussian has entry (i, j) with standard deviation
    # sqrt(λᵢλⱼ(1 + δᵢⱼ)/n); five of those bounds a false alarm by ~1e-6 per entry.
    C = X.T @ X / n
    sd = (torch.outer(lam, lam) * (1 + torch.eye(4, dtype=torch.float64)) / n).sqrt()
    assert ((C - torch.diag(lam)).abs() <= 5 * sd + 1e-15).all()
    assert (X.mean(dim=0).abs() <= 5 * (lam / n).sqrt() + 1e-15).all()
    assert (X[:, 3] == 0).all()  # a zero eigenvalue is a constant-zero coordinate


def test_gaussian_design_seeding_and_dtype():
    lam = torch.ones(5)
    rng = torch.get_rng_state()
    a = data.gaussian_design(10, lam, seed=0)
    assert torch.equal(torch.get_rng_state(), rng)
    assert torch.equal(a, data.gaussian_design(10, lam, seed=0))
    assert not torch.equal(a, data.gaussian_design(10, lam, seed=1))
    assert data.gaussian_design(10, lam, seed=0, dtype=torch.float32).dtype == torch.float32
    gen = torch.Generator().manual_seed(0)
    assert torch.equal(data.gaussian_design(10, lam, seed=gen), a)


def test_gaussian_design_bad_inputs():
    with pytest.raises(ValueError, match="n"):
        data.gaussian_design(0, torch.ones(3))
    with pytest.raises(ValueError, match="eigenvalues: expected non-negative"):
        data.gaussian_design(5, torch.tensor([1.0, -1.0]))
    with pytest.raises(ValueError, match="eigenvalues: expected a 1-D tensor"):
        data.gaussian_design(5, torch.ones(2, 2))
    with pytest.raises(ValueError, match="eigenvalues: expected a non-empty tensor"):
        data.gaussian_design(5, torch.ones(0))
    with pytest.raises(TypeError, match="seed"):
        data.gaussian_design(5, torch.ones(2), seed=1.5)


def test_teacher_regression():
    lam = torch.tensor([1.0, 0.5, 0.1], dtype=torch.float64)
    w_star = torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64)
    split = data.teacher_regression(5000, 50, lam, w_star, noise=0.3, seed=0)
    assert torch.equal(split.y_test, split.x_test @ w_star)  # noiseless test targets
    resid = split.y_train - split.x_train @ w_star
    # The sample standard deviation of 5000 N(0, 0.3²) draws is within 0.3 · 5/√(2·5000) of 0.3.
    assert abs(resid.std().item() - 0.3) < 0.3 * 5 / (2 * 5000) ** 0.5
    again = data.teacher_regression(5000, 50, lam, w_star, noise=0.3, seed=0)
    assert torch.equal(split.y_train, again.y_train)
    with pytest.raises(ValueError, match="w_star"):
        data.teacher_regression(5, 5, lam, torch.ones(2))
    with pytest.raises(ValueError, match="noise"):
        data.teacher_regression(5, 5, lam, w_star, noise=-1.0)


def test_mnist1d_cache_returns_the_generated_set(tmp_path, monkeypatch):
    from overparam import data as d

    monkeypatch.setenv("OVERPARAM_DATA", str(tmp_path))
    first = d.mnist1d(n_train=30, n_test=10, seed=3)
    files = list((tmp_path / "mnist1d").glob("*.npz"))
    assert len(files) == 1 and "n40-seed3" in files[0].name
    d._mnist1d_arrays.cache_clear()  # the in-process cache: read the file this time
    again = d.mnist1d(n_train=30, n_test=10, seed=3)  # from the file
    for a, b in zip(first, again):
        assert torch.equal(a, b)
    x, y = d._mnist1d_generate(40, 3)  # an independent run of the generator
    assert np.array_equal(x[:30], first.x_train.numpy()) and np.array_equal(y[30:], first.y_test.numpy())
    files[0].write_bytes(b"not an npz")  # a broken file is made again
    d._mnist1d_arrays.cache_clear()
    for a, b in zip(first, d.mnist1d(n_train=30, n_test=10, seed=3)):
        assert torch.equal(a, b)
    monkeypatch.setenv("OVERPARAM_DATA", "off")
    assert d._mnist1d_cache_file(40, 3) is None
