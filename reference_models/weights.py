"""The one way weights get into a reference model: from a local file or the torch hub cache. Never downloads.

    find_checkpoint("resnet18")               # path, file name or known name -> a file that exists
    read_checkpoint(path)                     # the saved object (a state dict, or a dict holding one)
    load_weights(model, "resnet18")           # find, read, adapt, load; returns head keys left at init

`find_checkpoint` looks at the given path, then in `$TORCH_HOME/hub/checkpoints/`
(`torch.hub.get_dir()`); a missing file raises `WeightsNotFoundError` whose message is one line
saying where we looked and how to get the file. Every builder that takes weights (`framepool_r18`,
`i3d_r18`, `r2plus1d_r18`) and the motion-model checkpoint (`training.load_checkpoint`) load through
`load_weights`, as torchvision's builders all load through `_video_resnet` and its weights API.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
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
# Keys a classifier lives under; a classifier of another size is not an error (see `load_weights`).
HEAD_PREFIXES = ("fc", "head")


class WeightsNotFoundError(FileNotFoundError):
    """The checkpoint is neither at the given path nor in the torch hub cache."""


def hub_checkpoint_dir() -> Path:
    import torch

    return Path(torch.hub.get_dir()) / "checkpoints"


def find_checkpoint(name_or_path: str | os.PathLike, how_to_get: str | None = None) -> Path:
    """Return the path of a checkpoint given as a path, a file name or a known name ("resnet18").

    `how_to_get` is the command the error message suggests when the file is absent (known names
    bring their own).
    """
    text = str(name_or_path)
    file_name, known_how_to_get = KNOWN_CHECKPOINTS.get(text, (Path(text).name, None))
    candidates = [] if text in KNOWN_CHECKPOINTS else [Path(text).expanduser()]
    candidates.append(hub_checkpoint_dir() / file_name)
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    how_to_get = (
        how_to_get
        or known_how_to_get
        or ("download it once by hand (or with torchvision's weights API) and pass its path")
    )
    raise WeightsNotFoundError(
        f"weights {text!r} not found: looked in {', '.join(str(c) for c in candidates)}; "
        f"temporalkit never downloads at run time — get it with: {how_to_get}"
    )


def read_checkpoint(name_or_path: str | os.PathLike, how_to_get: str | None = None):
    """The object saved in a checkpoint file, on the CPU, read with `weights_only=True` (no pickled code)."""
    import torch

    return torch.load(find_checkpoint(name_or_path, how_to_get), map_location="cpu", weights_only=True)


def state_dict_of(checkpoint, where: str | os.PathLike = "checkpoint") -> dict:
    """The state dict in `checkpoint`: plain, or wrapped under "state_dict"/"model"; "module." prefixes removed."""
    for key in ("state_dict", "model"):
        if isinstance(checkpoint, dict) and isinstance(checkpoint.get(key), dict):
            checkpoint = checkpoint[key]
    if not isinstance(checkpoint, dict):
        raise ValueError(f"{where}: expected a state dict, found {type(checkpoint).__name__}")
    # Checkpoints saved from DataParallel/DistributedDataParallel prefix every key with "module.".
    return {key.removeprefix("module."): value for key, value in checkpoint.items()}


def load_state_dict_file(name_or_path: str | os.PathLike) -> dict:
    """Read a state dict (plain, or wrapped under "state_dict"/"model") onto the CPU."""
    path = find_checkpoint(name_or_path)
    return state_dict_of(read_checkpoint(path), path)


def load_weights(
    model,
    weights: str | os.PathLike | Mapping,
    *,
    adapt: Callable[[dict], dict] | None = None,
    skip_mismatched_head: bool = True,
    how_to_get: str | None = None,
) -> list[str]:
    """Load `weights` (a checkpoint path or known name, or a state dict already read) into `model`.

    `adapt` rewrites the state dict first (`I3DResNet.inflate_2d_state_dict` turns 2D kernels into
    3D ones). With `skip_mismatched_head`, a classifier (`fc.*`, `head.*`) that the checkpoint lacks,
    or has at another size than the model (an ImageNet 1000-class `fc` into a 400-class model), is
    left at its initialisation; the model's keys so left are returned. Any other missing or
    unexpected key, or every mismatch when `skip_mismatched_head=False`, is a one-line `ValueError`.
    """
    if isinstance(weights, Mapping):
        state, where = state_dict_of(dict(weights), "state dict"), "state dict"
    else:
        state, where = state_dict_of(read_checkpoint(weights, how_to_get), weights), weights
    if adapt is not None:
        state = adapt(state)
    own = model.state_dict()
    if skip_mismatched_head:
        for key in list(state):
            is_head = key.split(".")[0] in HEAD_PREFIXES
            if is_head and (key not in own or own[key].shape != state[key].shape):
                del state[key]
    missing, unexpected = model.load_state_dict(state, strict=False)
    left_at_init = [key for key in missing if skip_mismatched_head and key.split(".")[0] in HEAD_PREFIXES]
    missing = [key for key in missing if key not in left_at_init]
    if missing or unexpected:
        raise ValueError(
            f"{where}: checkpoint does not fit {type(model).__name__}: "
            f"missing {missing[:5]}{'...' if len(missing) > 5 else ''}, unexpected {unexpected[:5]}"
        )
    return left_at_init
