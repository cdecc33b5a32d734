"""Translation equivariance, measured: does a layer's representation move with its input?

A layer F is *equivariant* to a transformation T of its input when some transformation T'
of its units makes F(T x) = T' F(x) for every x. For a convolution and a translation, T'
is the same translation of the feature map (Cohen & Welling 2016). A fully connected
layer has no such T' in general. :func:`matched_error` asks whether *any* relabelling of
the units (a permutation, found by the Hungarian algorithm) maps F(x) onto F(T x), so the
comparison is fair to a layer whose units have no spatial order, such as an MLP's.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from overparam._check import check_matrix


def shift(x: torch.Tensor, s: int) -> torch.Tensor:
    """Translate signals along their last axis by ``s`` positions, filling with zeros.

    ``s > 0`` moves the content to the right. x: (..., L) → (..., L).
    """
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"x: expected a torch.Tensor, got {type(x).__name__}")
    if isinstance(s, bool) or not isinstance(s, (int, np.integer)):
        raise TypeError(f"s: expected an int number of positions, got {type(s).__name__}")
    s = int(s)
    length = x.shape[-1]
    if abs(s) >= length:
        return torch.zeros_like(x)
    out = torch.zeros_like(x)
    if s >= 0:
        out[..., s:] = x[..., : length - s]
    else:
        out[..., :s] = x[..., -s:]
    return out


def matched_error(moved: torch.Tensor, reference: torch.Tensor) -> float:
    """min over permutations P of ‖moved − reference P‖_F / ‖reference‖_F.

    Args:
        moved: (n, U) the units' responses to the transformed inputs, F(T x).
        reference: (n, U) their responses to the original inputs, F(x).

    The best permutation of the U units is a linear assignment problem on the cost
    C[i, j] = ‖moved[:, i] − reference[:, j]‖², solved exactly (scipy's Hungarian
    algorithm). 0 means some relabelling of the units makes the layer exactly equivariant.
    """
    from scipy.optimize import linear_sum_assignment

    check_matrix("moved", moved)
    check_matrix("reference", reference)
    if moved.shape != reference.shape:
        raise ValueError(f"moved, reference: expected equal shapes, got {tuple(moved.shape)} "
                         f"and {tuple(reference.shape)}")
    a = moved.detach().double().T  # (U, n)
    b = reference.detach().double().T
    norm = b.norm()
    if norm == 0:
        raise ValueError("reference: the units never respond (all zero); nothing to compare")
    cost = torch.cdist(a, b).pow(2).cpu().numpy()  # (U, U)
    rows, cols = linear_sum_assignment(cost)
    # the error itself from the matched units directly (cdist's expansion loses digits)
    return float((a[rows] - b[cols]).norm() / norm)


def equivariance_error(
    features: Callable[[torch.Tensor], torch.Tensor],
    x: torch.Tensor,
    transform: Callable[[torch.Tensor], torch.Tensor],
) -> float:
    """:func:`matched_error` of ``features(transform(x))`` against ``features(x)``.

    ``features`` maps a batch (n, ...) to any shape (n, ...); its units are flattened.
    """
    with torch.no_grad():
        moved = features(transform(x)).flatten(1)
        reference = features(x).flatten(1)
    return matched_error(moved, reference)
