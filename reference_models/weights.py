"""Load pretrained weights from a local file or the torch hub cache. Never downloads.

`find_checkpoint("resnet18-f37072fd.pth")` looks at that path, then in
`$TORCH_HOME/hub/checkpoints/` (`torch.hub.get_dir()`); a missing file raises
`WeightsNotFoundError` whose message is one line saying where we looked and how to get the file.
"""

from __future__ import annotations

import os
from pathlib import Path

# Known checkpoints: file name in the hub cache and the one-off command that puts it there.
KNOWN_CHECKPOINTS = {
    "resnet18": (
        "resnet18-f37072fd.pth",
        "python -c \"import torchvision; torchvision.models.resnet18(weights='IMAGENET1K_V1')\"",
    ),
    "r2plus1d_18": (
        "r2plus1d_18-91a641e6.pth",
        "python -c \"import torchvision; torchvision.models.video.r2plus1d_18(weights='KINETICS400_V1')\"",
    ),
}


class WeightsNotFoundError(FileNotFoundError):
    """The checkpoint is neither at the given path nor in the torch hub cache."""


def hub_checkpoint_dir() -> Path:
    import torch

    return Path(torch.hub.get_dir()) / "checkpoints"


def find_checkpoint(name_or_path: str | os.PathLike) -> Path:
    """Return the path of a checkpoint given as a path, a file name or a known name ("resnet18")."""
    text = str(name_or_path)
    file_name, how_to_get = KNOWN_CHECKPOINTS.get(text, (Path(text).name, None))
    candidates = [] if text in KNOWN_CHECKPOINTS else [Path(text).expanduser()]
    candidates.append(hub_checkpoint_dir() / file_name)
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    how_to_get = how_to_get or "download it once by hand (or with torchvision's weights API) and pass its path"
    raise WeightsNotFoundError(
        f"weights {text!r} not found: looked in {', '.join(str(c) for c in candidates)}; "
        f"temporalkit never downloads at run time — get it with: {how_to_get}"
    )


def load_state_dict_file(name_or_path: str | os.PathLike) -> dict:
    """Read a state dict (plain, or wrapped under "state_dict"/"model") onto the CPU."""
    import torch

    path = find_checkpoint(name_or_path)
    checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    for key in ("state_dict", "model"):
        if isinstance(checkpoint, dict) and isinstance(checkpoint.get(key), dict):
            checkpoint = checkpoint[key]
    if not isinstance(checkpoint, dict):
        raise ValueError(f"{path}: expected a state dict, found {type(checkpoint).__name__}")
    # Checkpoints saved from DataParallel/DistributedDataParallel prefix every key with "module.".
    return {key.removeprefix("module."): value for key, value in checkpoint.items()}


def load_weights(model, name_or_path: str | os.PathLike, *, skip_mismatched_head: bool = True):
    """Load a checkpoint into `model`; a classifier of another size is left at its initialisation.

    Returns the classifier keys (`fc.*`, `head.*`) that were skipped because the model has no
    such parameter or its shape differs (e.g. an ImageNet 1000-class `fc` into a 400-class model).
    Any other missing or unexpected key is an error.
    """
    state = load_state_dict_file(name_or_path)
    own = model.state_dict()
    skipped = []
    if skip_mismatched_head:
        for key in list(state):
            is_head = key.split(".")[0] in ("fc", "head")
            if is_head and (key not in own or own[key].shape != state[key].shape):
                skipped.append(key)
                del state[key]
    missing, unexpected = model.load_state_dict(state, strict=False)
    missing = [key for key in missing if key not in skipped]
    if missing or unexpected:
        raise ValueError(
            f"{name_or_path}: checkpoint does not fit {type(model).__name__}: "
            f"missing {missing[:5]}{'...' if len(missing) > 5 else ''}, unexpected {unexpected[:5]}"
        )
    return skipped
