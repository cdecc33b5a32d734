"""Data sets the chapters use, all generated locally from a seed (no downloads).

* :func:`mnist1d` -- the MNIST-1D benchmark of Greydanus & Kobak (2020), produced by
  the ``mnist1d`` package's own generator, with optional label noise and a fixed
  permutation of the input positions.
* :func:`gaussian_design` -- rows x ~ N(0, diag(eigenvalues)), the design of the
  linear chapters.
* :func:`teacher_regression` -- y = x·w* + noise on such a design.
"""

from __future__ import annotations

import functools
import random
from typing import NamedTuple

import numpy as np
import torch

from overparam._check import (
    as_generator,
    check_bool,
    check_fraction,
    check_positive,
    check_positive_int,
    check_seed,
    check_tensor,
)


class Split(NamedTuple):
    """A train/test split: ``x`` of shape (n, d), ``y`` of shape (n,)."""

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor


def _mnist1d_cache_file(num_samples: int, seed: int):
    """Where a generated MNIST-1D set is kept (None: caching off, ``$OVERPARAM_DATA=off``)."""
    import os
    from importlib.metadata import version
    from pathlib import Path

    root = os.environ.get("OVERPARAM_DATA")
    if root == "off":
        return None
    folder = Path(root) if root else Path.home() / ".cache" / "overparam"
    return folder / "mnist1d" / f"v{version('mnist1d')}-n{num_samples}-seed{seed}.npz"


@functools.lru_cache(maxsize=8)
def _mnist1d_arrays(num_samples: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The generated arrays, from the cache when this set was made before.

    The generator takes about 1.5 ms per sample (9 s for the standard 6000); its output
    depends only on (package version, num_samples, seed), so it is kept in the cache
    folder of :mod:`overparam.datasets` and written atomically (chapters executed in
    parallel may make the same set at once). An unreadable file is made again.
    """
    path = _mnist1d_cache_file(num_samples, seed)
    if path is not None and path.is_file():
        try:
            with np.load(path) as f:
                x, y = f["x"], f["y"]
            if x.shape == (num_samples, 40) and y.shape == (num_samples,):
                return x.astype(np.float32), y.astype(np.int64)
        except Exception:  # a partial or foreign file: make the set again
            pass
    x, y = _mnist1d_generate(num_samples, seed)
    if path is not None:
        import os

        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f"{path.stem}.{os.getpid()}.tmp.npz")
            np.savez(tmp, x=x, y=y)
            tmp.replace(path)
        except OSError:  # a read-only home: generate every time
            pass
    return x, y


def _mnist1d_generate(num_samples: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The package's generator, run with its default arguments, global RNG state restored."""
    from mnist1d.data import get_dataset_args, make_dataset

    args = get_dataset_args()
    args.num_samples = num_samples
    args.train_split = 1.0  # we split ourselves
    args.seed = seed
    np_state, py_state = np.random.get_state(), random.getstate()  # noqa: NPY002 (restored below)
    try:
        ds = make_dataset(args)  # seeds numpy's and Python's global RNGs
    finally:
        np.random.set_state(np_state)  # noqa: NPY002
        random.setstate(py_state)
    return ds["x"].astype(np.float32), ds["y"].astype(np.int64)


def mnist1d(
    n_train: int = 4000,
    n_test: int = 1000,
    label_noise: float = 0.0,
    shuffle_pixels: bool = False,
    seed: int = 0,
) -> Split:
    """MNIST-1D, generated procedurally (Greydanus & Kobak 2020).

    Args:
        n_train, n_test: sizes of the two parts (disjoint draws of one generated set).
        label_noise: fraction of *training* labels replaced by a uniformly drawn
            label different from the true one (exactly ``round(label_noise * n_train)``).
        shuffle_pixels: permute the 40 input positions with one fixed permutation
            (the same for train and test), which destroys locality but no information.
        seed: seeds the generator, the noisy labels and the permutation.

    Returns:
        ``Split`` with x of shape (n, 40) float32 and y int64 in 0..9.
    """
    check_positive_int("n_train", n_train)
    check_positive_int("n_test", n_test)
    check_fraction("label_noise", label_noise)
    shuffle_pixels = check_bool("shuffle_pixels", shuffle_pixels)
    seed = check_seed("seed", seed)
    if not isinstance(seed, int):
        raise TypeError("seed: expected an int (the mnist1d generator takes an int seed), got a torch.Generator")
    total = n_train + n_test
    num_samples = -(-total // 10) * 10  # the generator makes num_samples // 10 per class
    x, y = _mnist1d_arrays(num_samples, seed)
    x, y = torch.from_numpy(x[:total].copy()), torch.from_numpy(y[:total].copy())
    gen = as_generator(seed + 1)
    if shuffle_pixels:
        x = x[:, torch.randperm(x.shape[1], generator=gen)]
    y_train = y[:n_train].clone()
    n_noisy = round(label_noise * n_train)
    if n_noisy:
        idx = torch.randperm(n_train, generator=gen)[:n_noisy]
        shift = torch.randint(1, 10, (n_noisy,), generator=gen)  # never 0: always a different label
        y_train[idx] = (y_train[idx] + shift) % 10
    return Split(x[:n_train], y_train, x[n_train:], y[n_train:])


def gaussian_design(
    n: int,
    eigenvalues: torch.Tensor,
    seed: int | torch.Generator = 0,
    dtype: torch.dtype = torch.float64,
) -> torch.Tensor:
    """Rows x_i ~ N(0, Σ) with Σ = diag(eigenvalues); returns X of shape (n, p)."""
    check_positive_int("n", n)
    if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
        raise TypeError(f"dtype: expected a floating torch.dtype such as torch.float64, got {dtype!r}")
    lam = check_tensor("eigenvalues", eigenvalues, ndim=1, real=True, convert=True, dtype=dtype)
    if (lam < 0).any():
        raise ValueError("eigenvalues: expected non-negative values (a covariance spectrum)")
    z = torch.randn(n, lam.numel(), generator=as_generator(seed), dtype=dtype)  # (n, p)
    return z * lam.sqrt()


def teacher_regression(
    n_train: int,
    n_test: int,
    eigenvalues: torch.Tensor,
    w_star: torch.Tensor,
    noise: float = 0.0,
    seed: int = 0,
) -> Split:
    """Linear teacher y = x·w* + ε, ε ~ N(0, noise²), on a Gaussian design.

    The test targets are noiseless, so test mean squared error is the excess risk
    (w − w*)ᵀ Σ (w − w*) up to sampling error.
    """
    check_positive_int("n_train", n_train)
    check_positive_int("n_test", n_test)
    gen = as_generator(seed)
    eigenvalues = check_tensor("eigenvalues", eigenvalues, ndim=1, real=True, convert=True, dtype=torch.float64)
    w_star = check_tensor("w_star", w_star, real=True, convert=True, dtype=torch.float64)
    if w_star.shape != (len(eigenvalues),):
        raise ValueError(f"w_star: expected shape ({len(eigenvalues)},), got {tuple(w_star.shape)}")
    noise = check_positive("noise", noise, allow_zero=True)  # a standard deviation >= 0
    x_train = gaussian_design(n_train, eigenvalues, gen)
    x_test = gaussian_design(n_test, eigenvalues, gen)
    eps = noise * torch.randn(n_train, generator=gen, dtype=torch.float64)
    return Split(x_train, x_train @ w_star + eps, x_test, x_test @ w_star)
