"""Experiment scales: one environment variable picks the preset every chapter uses.

A chapter defines its configuration once, as a frozen dataclass, and chooses the
preset for the active scale with :func:`pick`::

    cfg = op.scale.pick(test=Config(n=200), book=Config(n=2000), paper=Config(n=60000))

``OVERPARAM_SCALE`` selects the scale: ``test`` (CI, each chapter <= 60 s on two
CPU cores), ``book`` (the default; what readers see, each chapter <= 180 s) or
``paper`` (GPU users reproducing the papers, each chapter <= 15 min on one GPU).
"""

from __future__ import annotations

import os
from typing import TypeVar

SCALES = ("test", "book", "paper")
DEFAULT = "book"
ENV_VAR = "OVERPARAM_SCALE"

T = TypeVar("T")


def current() -> str:
    """The active scale, read from ``$OVERPARAM_SCALE`` (``"book"`` when unset)."""
    value = os.environ.get(ENV_VAR, "").strip().lower() or DEFAULT
    if value not in SCALES:
        raise ValueError(
            f"{ENV_VAR}={os.environ.get(ENV_VAR)!r} is not a scale; expected one of {', '.join(SCALES)}"
        )
    return value


def pick(*, test: T, book: T, paper: T) -> T:
    """Return the preset for the active scale (all three must be given)."""
    return {"test": test, "book": book, "paper": paper}[current()]
