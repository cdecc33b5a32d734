"""Where tensors live: the one place that chooses a device (never hard-code ``"cuda"``)."""

from __future__ import annotations

import os

import torch

from overparam._check import check_device


def default() -> torch.device:
    """CUDA when present, else CPU; ``$OVERPARAM_DEVICE`` overrides (e.g. ``cpu``)."""
    forced = os.environ.get("OVERPARAM_DEVICE")
    if forced:
        return check_device("$OVERPARAM_DEVICE", forced.strip())
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")
