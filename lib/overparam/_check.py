"""Argument checks shared by the library: each error names the argument and what was expected."""

from __future__ import annotations

import numbers

import torch


def as_generator(seed: int | torch.Generator) -> torch.Generator:
    """A CPU ``torch.Generator`` from an int seed (or the generator itself)."""
    if isinstance(seed, torch.Generator):
        return seed
    if not isinstance(seed, numbers.Integral) or isinstance(seed, bool):
        raise TypeError(f"seed: expected an int or a torch.Generator, got {type(seed).__name__}")
    return torch.Generator().manual_seed(int(seed))


def check_positive_int(name: str, value, allow_zero: bool = False) -> int:
    if not isinstance(value, numbers.Integral) or isinstance(value, bool):
        raise TypeError(f"{name}: expected an int, got {type(value).__name__}")
    if value < 0 or (value == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name}: expected an int {bound}, got {value}")
    return int(value)


def check_positive(name: str, value, allow_zero: bool = False) -> float:
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        raise TypeError(f"{name}: expected a number, got {type(value).__name__}")
    if not value > 0 and not (allow_zero and value == 0):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name}: expected a number {bound}, got {value}")
    return float(value)


def check_fraction(name: str, value) -> float:
    if not isinstance(value, numbers.Real) or isinstance(value, bool) or not 0.0 <= value <= 1.0:
        raise ValueError(f"{name}: expected a fraction in [0, 1], got {value!r}")
    return float(value)


def check_matrix(name: str, X) -> torch.Tensor:
    if not isinstance(X, torch.Tensor):
        raise TypeError(f"{name}: expected a torch.Tensor, got {type(X).__name__}")
    if X.ndim != 2:
        raise ValueError(f"{name}: expected a 2-D tensor (n, p), got shape {tuple(X.shape)}")
    if X.shape[0] == 0:
        raise ValueError(f"{name}: expected at least one row, got an empty tensor")
    return X


def check_targets(name: str, y, n: int) -> torch.Tensor:
    if not isinstance(y, torch.Tensor):
        raise TypeError(f"{name}: expected a torch.Tensor, got {type(y).__name__}")
    if y.ndim not in (1, 2) or y.shape[0] != n:
        raise ValueError(f"{name}: expected shape ({n},) or ({n}, k) to match X's {n} rows, got {tuple(y.shape)}")
    return y
