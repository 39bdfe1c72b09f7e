"""The device trainings run on: CUDA when present, else the CPU, chosen once at start."""

from __future__ import annotations

import torch

from ktrdr_core.errors import ValidationError

DEVICE_SETTINGS = ("auto", "cpu", "cuda")


def choose_device(setting: str = "auto") -> str:
    """``"cuda:0"`` when CUDA is available (or asked for), else ``"cpu"``.

    Raises
    ------
    ValidationError
        When ``setting`` is unknown, or ``cuda`` is asked for and absent.
    """
    if setting not in DEVICE_SETTINGS:
        raise ValidationError(
            "NEURAL-001", f"device {setting!r} is not one of {', '.join(DEVICE_SETTINGS)}."
        )
    available = torch.cuda.is_available()
    if setting == "cuda" and not available:
        raise ValidationError("NEURAL-001", "device 'cuda' was asked for but CUDA is absent.")
    if setting == "cpu" or not available:
        return "cpu"
    return "cuda:0"
