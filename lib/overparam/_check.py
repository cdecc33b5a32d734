"""Argument checks shared by the library: the one input policy of every public function.

Every error names the *public* argument first (``"lr: expected ..."``) and says what
was expected and what came. ``TypeError`` means the wrong kind of object, ``ValueError``
a wrong value (range, shape, non-finite entry, unknown option).

The policy:

* **numbers** -- an int is any ``numbers.Integral`` except ``bool`` (so ``np.int64(50)``
  is an int); a real is any ``numbers.Real`` except ``bool`` and must be finite (NaN
  and ±inf are rejected) unless a function documents otherwise.
* **tensors** -- data (X, y, w, x_train, ...) must be ``torch.Tensor``; they are never
  copied or converted silently except to a common dtype. Quantities that are "a number
  or several" (spectra, penalties α, ratios γ, step counts) also accept array-likes
  (Python numbers, lists, NumPy arrays), converted once with ``torch.as_tensor``
  (:func:`check_tensor` with ``convert=True``); strings and ``None`` are rejected.
* **dtypes** -- where the math needs real numbers, integer or bool inputs are promoted to
  float64 (``real=True``): ``ridge_shrinkage([1, 2], 0.5)`` is [2/3, 4/5], never
  truncated; complex inputs are rejected.
* **finite values** -- a NaN or inf entry in an input tensor raises ``ValueError``
  naming the argument (a bad input, never reported as a divergence).
* **shapes** -- number of dimensions, sizes that must match another argument, non-empty.
* **options** -- strings from a fixed tuple (:func:`check_option`); **flags** are real
  bools (``"no"`` is not False).
* **seeds** -- an int >= 0 (NumPy integers included) or a ``torch.Generator``.
* **devices** -- ``None`` (the default device), a ``str`` or ``torch.device`` that
  torch parses and that is available on this machine.
* **environment variables** -- on/off flags parsed by :func:`env_flag`.
"""

from __future__ import annotations

import math
import numbers
import os

import torch


class DivergenceError(FloatingPointError):
    """An iteration (training, gradient descent) produced a NaN or infinite value.

    Raised for a step size or learning rate that is too large, never for bad input data
    (that is a ``ValueError`` naming the argument).
    """


class ConvergenceError(RuntimeError):
    """An iterative solver stopped at its iteration cap without meeting its own optimality test."""


def is_int(value) -> bool:
    """True for Python and NumPy integers, False for bools and everything else."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool) and not _is_np_bool(value)


def _is_np_bool(value) -> bool:
    return type(value).__name__ == "bool_" or type(value).__name__ == "bool" and not isinstance(value, bool)


def _what(value) -> str:
    text = repr(value)
    return text if len(text) <= 40 else type(value).__name__


def check_int(name: str, value, *, min: int | None = None, max: int | None = None) -> int:
    """``value`` as a Python int, checked to be an integer in [min, max]."""
    if not is_int(value):
        raise TypeError(f"{name}: expected an int, got {_what(value)}")
    value = int(value)
    if (min is not None and value < min) or (max is not None and value > max):
        lo = "-inf" if min is None else min
        hi = "inf" if max is None else max
        raise ValueError(f"{name}: expected an int in [{lo}, {hi}], got {value}")
    return value


def check_real(name: str, value, *, min: float | None = None, max: float | None = None,
               min_open: bool = False, max_open: bool = False) -> float:
    """``value`` as a finite float in the interval given by min/max (open ends if asked)."""
    if not isinstance(value, numbers.Real) or isinstance(value, bool) or _is_np_bool(value):
        raise TypeError(f"{name}: expected a number, got {_what(value)}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name}: expected a finite number, got {value}")
    if (min is not None and (value < min or (min_open and value == min))) or (
        max is not None and (value > max or (max_open and value == max))
    ):
        left = "-inf" if min is None else min
        right = "inf" if max is None else max
        interval = f"{'(' if min_open or min is None else '['}{left}, {right}{')' if max_open or max is None else ']'}"
        raise ValueError(f"{name}: expected a number in {interval}, got {value}")
    return value


def as_generator(seed: int | torch.Generator, name: str = "seed") -> torch.Generator:
    """A CPU ``torch.Generator`` from an int seed >= 0 (or the generator itself)."""
    if isinstance(seed, torch.Generator):
        return seed
    return torch.Generator().manual_seed(check_seed(name, seed))


def check_seed(name: str, seed) -> int | torch.Generator:
    """A seed: an int >= 0 (NumPy integers included) returned as int, or a torch.Generator."""
    if isinstance(seed, torch.Generator):
        return seed
    if not is_int(seed):
        raise TypeError(f"{name}: expected an int >= 0 or a torch.Generator, got {_what(seed)}")
    if seed < 0:
        raise ValueError(f"{name}: expected an int >= 0 or a torch.Generator, got {int(seed)}")
    return int(seed)


def check_positive_int(name: str, value, allow_zero: bool = False) -> int:
    """An int > 0 (>= 0 with ``allow_zero``)."""
    if not is_int(value):
        raise TypeError(f"{name}: expected an int, got {_what(value)}")
    if value < 0 or (value == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name}: expected an int {bound}, got {int(value)}")
    return int(value)


def check_positive(name: str, value, allow_zero: bool = False) -> float:
    """A finite number > 0 (>= 0 with ``allow_zero``)."""
    if not isinstance(value, numbers.Real) or isinstance(value, bool) or _is_np_bool(value):
        raise TypeError(f"{name}: expected a number, got {_what(value)}")
    if not value > 0 and not (allow_zero and value == 0):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name}: expected a number {bound}, got {value}")
    if not math.isfinite(value):
        raise ValueError(f"{name}: expected a finite number, got {value}")
    return float(value)


def check_fraction(name: str, value) -> float:
    """A number in [0, 1]."""
    if not isinstance(value, numbers.Real) or isinstance(value, bool) or _is_np_bool(value):
        raise TypeError(f"{name}: expected a fraction in [0, 1], got {_what(value)}")
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{name}: expected a fraction in [0, 1], got {value!r}")
    return float(value)


def check_bool(name: str, value) -> bool:
    """A real bool (Python or NumPy); ``"no"`` or ``2`` are not flags."""
    if isinstance(value, bool) or _is_np_bool(value):
        return bool(value)
    raise TypeError(f"{name}: expected True or False, got {_what(value)}")


def check_option(name: str, value, options) -> str:
    """One of the strings in ``options``."""
    if not isinstance(value, str) or value not in options:
        raise ValueError(f"{name}: expected one of {', '.join(map(repr, options))}, got {_what(value)}")
    return value


def check_device(name: str, device) -> torch.device | None:
    """None (the caller's default), or a device torch knows and this machine has."""
    if device is None:
        return None
    if not isinstance(device, (str, torch.device)):
        raise TypeError(f"{name}: expected a str or torch.device such as 'cpu' or 'cuda', got {_what(device)}")
    try:
        dev = torch.device(device)
    except RuntimeError:
        raise ValueError(f"{name}: expected a device such as 'cpu' or 'cuda', got {device!r}") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"{name}: {device!r} requested but CUDA is not available on this machine")
    if dev.type == "mps" and not (hasattr(torch.backends, "mps") and torch.backends.mps.is_available()):
        raise ValueError(f"{name}: {device!r} requested but MPS is not available on this machine")
    return dev


def env_flag(var: str, default: bool) -> bool:
    """An on/off environment variable: 1/true/yes/on or 0/false/no/off (any case); unset or empty: default."""
    raw = os.environ.get(var)
    if raw is None or not raw.strip():
        return default
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"${var}={raw!r}: expected one of 1, true, yes, on or 0, false, no, off")


def check_finite(name: str, t: torch.Tensor) -> torch.Tensor:
    """``t`` unchanged, after checking it has no NaN or infinite entry."""
    if (t.is_floating_point() or t.is_complex()) and not bool(torch.isfinite(t).all()):
        bad = int((~torch.isfinite(t)).sum())
        raise ValueError(f"{name}: expected finite values, got {bad} NaN or infinite entr{'y' if bad == 1 else 'ies'}")
    return t


def check_tensor(name: str, x, *, ndim: int | tuple[int, ...] | None = None, shape: tuple | None = None,
                 real: bool = False, finite: bool = True, nonempty: bool = True, convert: bool = False,
                 dtype: torch.dtype | None = None) -> torch.Tensor:
    """Check (and with ``convert`` build) a tensor argument.

    Args:
        name: the public argument's name, used in messages.
        ndim: allowed number(s) of dimensions. shape: expected shape, ``None`` entries match any size.
        real: the math needs real numbers: integer/bool tensors are promoted to ``dtype``
            (float64 by default); complex ones are rejected.
        finite: reject NaN and infinite entries. nonempty: reject tensors with no element.
        convert: also accept array-likes (numbers, lists, NumPy arrays), converted once.
        dtype: cast the result to this dtype (after the checks).
    """
    if not isinstance(x, torch.Tensor):
        if not convert:
            raise TypeError(f"{name}: expected a torch.Tensor, got {_what(x)}")
        if x is None or isinstance(x, (str, bytes, dict, set)):
            raise TypeError(f"{name}: expected a tensor, a number or a list of numbers, got {_what(x)}")
        try:
            x = torch.as_tensor(x)
        except (TypeError, ValueError, RuntimeError):
            raise TypeError(f"{name}: expected a tensor, a number or a list of numbers, got {_what(x)}") from None
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if x.ndim not in allowed:
            want = " or ".join(f"{d}-D" for d in allowed)
            raise ValueError(f"{name}: expected a {want} tensor, got shape {tuple(x.shape)}")
    if shape is not None and (
        x.ndim != len(shape) or any(s is not None and s != d for s, d in zip(shape, x.shape))
    ):
        want = "(" + ", ".join("…" if s is None else str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"
        raise ValueError(f"{name}: expected shape {want}, got {tuple(x.shape)}")
    if nonempty and x.numel() == 0:
        raise ValueError(f"{name}: expected a non-empty tensor, got shape {tuple(x.shape)}")
    if real:
        if x.is_complex():
            raise TypeError(f"{name}: expected real numbers, got {x.dtype}")
        if not x.is_floating_point():
            x = x.to(dtype or torch.float64)
    if finite:
        check_finite(name, x)
    if dtype is not None and x.dtype != dtype:
        x = x.to(dtype)
    return x


def check_matrix(name: str, X, finite: bool = True) -> torch.Tensor:
    """A 2-D tensor (n, p) with n >= 1 rows and (by default) finite entries."""
    if not isinstance(X, torch.Tensor):
        raise TypeError(f"{name}: expected a torch.Tensor, got {type(X).__name__}")
    if X.ndim != 2:
        raise ValueError(f"{name}: expected a 2-D tensor (n, p), got shape {tuple(X.shape)}")
    if X.shape[0] == 0:
        raise ValueError(f"{name}: expected at least one row, got an empty tensor")
    if finite:
        check_finite(name, X)
    return X


def check_targets(name: str, y, n: int) -> torch.Tensor:
    if not isinstance(y, torch.Tensor):
        raise TypeError(f"{name}: expected a torch.Tensor, got {type(y).__name__}")
    if y.ndim not in (1, 2) or y.shape[0] != n:
        raise ValueError(f"{name}: expected shape ({n},) or ({n}, k) to match X's {n} rows, got {tuple(y.shape)}")
    return check_finite(name, y)
