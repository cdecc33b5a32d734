"""Where tensors live: the one place that chooses a device (never hard-code ``"cuda"``)."""

from __future__ import annotations

import os

import torch


def default() -> torch.device:
    """CUDA when present, else CPU; ``$OVERPARAM_DEVICE`` overrides (e.g. ``cpu``)."""
    forced = os.environ.get("OVERPARAM_DEVICE")
    if forced:
        return torch.device(forced)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")
