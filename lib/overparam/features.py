"""Random ReLU features and the min-norm readout: the two-layer model of Belkin et al. (2019).

A random-features model fixes a first layer at random and fits only the readout:

    φ(x) = relu(W x + b) / √N,   W ∈ R^{N×d} with W_ij ~ N(0, 1/d),  b_j ~ N(0, σ_b²),

and the prediction is φ(x)ᵀ A with the readout A ∈ R^{N×K} fitted by least squares on
one-hot targets. With N < n features the fit is an ordinary least-squares regression;
with N ≥ n it interpolates the training set and the min-norm readout A = Φ⁺ Y is the one
gradient descent from zero finds (chapter 02). Belkin, Hsu, Ma & Mandal (2019, PNAS,
Fig. 2) show that the test error of this estimator peaks at the interpolation
threshold N = n and falls again as N grows.

The features of a sweep are *nested*: N features are the first N rows of one draw of
(W, b), so going from N to N' only adds features (as in the paper's sweeps).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch
import torch.nn.functional as F

from overparam import linear
from overparam._check import (
    as_generator,
    check_int,
    check_matrix,
    check_positive,
    check_positive_int,
    check_tensor,
)


class RandomReLU(NamedTuple):
    """The random first layer: W of shape (N, d) and b of shape (N,)."""

    W: torch.Tensor
    b: torch.Tensor


def random_relu(d: int, n_features: int, bias_std: float = 0.0, seed: int | torch.Generator = 0,
                dtype: torch.dtype = torch.float64) -> RandomReLU:
    """Draw W_ij ~ N(0, 1/d) and b_j ~ N(0, σ_b²), σ_b = ``bias_std``, for ``n_features`` ReLU units on R^d."""
    check_positive_int("d", d)
    check_positive_int("n_features", n_features)
    check_positive("bias_std", bias_std, allow_zero=True)
    gen = as_generator(seed)
    W = torch.randn(n_features, d, generator=gen, dtype=dtype) / math.sqrt(d)
    b = torch.randn(n_features, generator=gen, dtype=dtype) * bias_std
    return RandomReLU(W, b)


def relu_features(x: torch.Tensor, layer: RandomReLU, n_features: int | None = None) -> torch.Tensor:
    """φ(x) = relu(x Wᵀ + b)/√N using the first N = ``n_features`` units: (n, d) → (n, N)."""
    check_matrix("x", x)
    if not isinstance(layer, RandomReLU):
        raise TypeError(f"layer: expected a RandomReLU from random_relu(...), got {type(layer).__name__}")
    N = layer.W.shape[0] if n_features is None else check_positive_int("n_features", n_features)
    if N > layer.W.shape[0]:
        raise ValueError(f"n_features: expected at most the {layer.W.shape[0]} units drawn, got {N}")
    if x.shape[1] != layer.W.shape[1]:
        raise ValueError(f"x: expected {layer.W.shape[1]} columns to match W, got {x.shape[1]}")
    x = x.to(layer.W.dtype)
    return F.relu(x @ layer.W[:N].T + layer.b[:N]) / math.sqrt(N)  # (n, N)


class SweepResult(NamedTuple):
    """Errors of the fitted readout: tensors of shape (len(alphas), len(n_features))."""

    n_features: torch.Tensor  # (M,)
    alphas: torch.Tensor  # (A,)
    train_mse: torch.Tensor
    test_mse: torch.Tensor
    train_error: torch.Tensor  # classification error: argmax of the fitted outputs vs the label
    test_error: torch.Tensor


def ridge_sweep(x_train: torch.Tensor, y_train: torch.Tensor, x_test: torch.Tensor,
                y_test: torch.Tensor, n_features: list[int], alphas=(0.0,), n_classes: int = 10,
                bias_std: float = 0.0, seed: int | torch.Generator = 0) -> SweepResult:
    """Fit the readout A_α = argmin ‖ΦA − Y‖²/(2n) + (α/2)‖A‖² on one-hot targets, for each N and α.

    α = 0 is the min-norm readout Φ⁺Y (:func:`overparam.linear.min_norm`). One thin SVD
    Φ = U S Vᵀ per N serves every α: A_α = V diag(s/(s² + nα)) UᵀY (as
    :func:`overparam.linear.ridge`). Mean squared error is ½‖φ(x)ᵀA − onehot(y)‖²
    averaged over samples (:func:`overparam.train.loss_value` with ``"mse"``).
    """
    if isinstance(n_features, (str, bytes)) or not hasattr(n_features, "__len__") or not len(n_features):
        raise ValueError(f"n_features: expected a non-empty list of positive ints, got {n_features!r}")
    n_features = [check_int("n_features", N, min=1) for N in n_features]
    for name, t in (("x_train", x_train), ("x_test", x_test)):
        check_matrix(name, t)
    if x_test.shape[1] != x_train.shape[1]:
        raise ValueError(f"x_test: expected {x_train.shape[1]} columns like x_train, got {x_test.shape[1]}")
    n_classes = check_positive_int("n_classes", n_classes)
    for name, t, rows in (("y_train", y_train, len(x_train)), ("y_test", y_test, len(x_test))):
        check_tensor(name, t, shape=(rows,))
        if t.is_floating_point() or t.dtype == torch.bool or (t < 0).any() or (t >= n_classes).any():
            raise ValueError(f"{name}: expected integer labels in 0..{n_classes - 1}")
    alphas = check_tensor("alphas", alphas, ndim=(0, 1), real=True, convert=True, dtype=torch.float64).reshape(-1)
    if (alphas < 0).any():
        raise ValueError(f"alphas: expected penalties >= 0, got {alphas.tolist()}")
    layer = random_relu(x_train.shape[1], max(n_features), bias_std=bias_std, seed=seed)
    n = x_train.shape[0]
    Y = F.one_hot(y_train, n_classes).to(layer.W.dtype)  # (n, K)
    Y_test = F.one_hot(y_test, n_classes).to(layer.W.dtype)
    out = torch.zeros(4, len(alphas), len(n_features), dtype=torch.float64)
    for j, N in enumerate(n_features):
        phi, phi_test = relu_features(x_train, layer, N), relu_features(x_test, layer, N)
        U, s, V = linear.svd(phi)  # (n, r), (r,), (N, r)
        shrink = s / (s**2 + n * alphas[:, None])  # (A, r)
        A = torch.einsum("nr,ar,rk->ank", V, shrink, U.T @ Y)  # (A, N, K)
        fit, pred = phi @ A, phi_test @ A  # (A, n, K), (A, n_test, K)
        out[0, :, j] = 0.5 * ((fit - Y) ** 2).sum(-1).mean(-1)
        out[1, :, j] = 0.5 * ((pred - Y_test) ** 2).sum(-1).mean(-1)
        out[2, :, j] = (fit.argmax(-1) != y_train).double().mean(-1)
        out[3, :, j] = (pred.argmax(-1) != y_test).double().mean(-1)
    return SweepResult(torch.tensor(n_features), alphas, *out)
