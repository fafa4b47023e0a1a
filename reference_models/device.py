"""Choose the torch device: CUDA when present, CPU otherwise, or what the user asked for."""

from __future__ import annotations

DEVICE_CHOICES = ("auto", "cpu", "cuda")


def pick_device(choice: str = "auto"):
    """Return a `torch.device` for "auto" (CUDA if available, else CPU), "cpu" or "cuda".

    Asking for "cuda" on a machine without it is an error with one clear line, not a silent
    fall-back: a user timing GPU latency must not get CPU numbers by accident.
    """
    import torch

    if choice not in DEVICE_CHOICES:
        raise ValueError(f"device must be one of {', '.join(DEVICE_CHOICES)}, got {choice!r}")
    if choice == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if choice == "cuda" and not torch.cuda.is_available():
        raise ValueError("device 'cuda' was asked for but torch.cuda.is_available() is False on this machine")
    return torch.device(choice)
