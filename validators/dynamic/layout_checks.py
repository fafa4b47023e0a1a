"""Dynamic layout check: feed a pipeline's output clip to the reference model of its family.

2D+pool (FramePool) takes (N, T, C, H, W); 3D conv, (2+1)D and transformers take
(N, C, T, H, W). The clip's real layout is read from its content when it carries the probe frame
code (the axis along which frames decode to increasing indices is time), else from its shape
(the one axis of size 3 is channels). It is a TK621 `layout` finding (see `checks.DYNAMIC_CHECKS`)
when the real layout is not the one the model takes and the model rejects the clip, or runs anyway
because T happens to equal C (= 3): frames are then mixed as colours.

The tiny reference builders are used (`build_tiny`), on CUDA when it works, else on CPU: the
verdict does not depend on the device, but a CPU run where a GPU was expected says so in a note
(CUDA unusable in the sandbox, or an error on CUDA such as out of memory, which is then not taken
for the model rejecting the clip). Torch is imported only when the check runs.
"""

from __future__ import annotations

import numpy as np
from temporalkit.reference_models.families import Family
from temporalkit.validators.dynamic.checks import DYNAMIC_CHECKS
from temporalkit.validators.dynamic.clips import short_repr
from temporalkit.validators.dynamic.frame_code import read_frame, to_numpy
from temporalkit.validators.findings import Finding

LAYOUT_TEXT = {"NTCHW": "(N, T, C, H, W)", "NCTHW": "(N, C, T, H, W)"}
# Tiny builders that take (N, T, C, H, W): a 2D network per frame (TSM's shift is built for T frames).
FRAMES_FIRST_TINY = ("framepool", "tsm")
LAYOUT_CHECK = DYNAMIC_CHECKS["TK621"]  # documented, with its fix, in `checks`


def _frames_along(array: np.ndarray, time_axis: int, channel_axis: int) -> list[np.ndarray]:
    ordered = np.moveaxis(array, (time_axis, channel_axis), (0, 1))  # (T, C, H, W)
    return [ordered[t] for t in range(ordered.shape[0])]


def read_clip_layout(clip: object) -> tuple[str | None, str]:
    """("TCHW" / "CTHW" / None, how it was decided) for an unbatched 4D clip."""
    array = to_numpy(clip)
    if array.ndim == 5 and array.shape[0] == 1:
        array = array[0]
    if array.ndim != 4:
        return None, f"shape {tuple(array.shape)} is not a 4D clip"
    candidates = {"TCHW": (0, 1), "CTHW": (1, 0)}
    decoded = {}
    for layout, (time_axis, channel_axis) in candidates.items():
        if array.shape[channel_axis] not in (1, 3):
            continue
        indices = [read_frame(frame).index for frame in _frames_along(array, time_axis, channel_axis)]
        known = [i for i in indices if i is not None]
        if len(known) * 2 >= len(indices) and known == sorted(known):
            decoded[layout] = known
    if len(decoded) == 1:
        layout = next(iter(decoded))
        return layout, f"its frames decode to indices {decoded[layout][:8]} along axis {candidates[layout][0]}"
    channel_axes = [axis for axis in (0, 1) if array.shape[axis] in (1, 3)]
    if len(channel_axes) == 1:
        return ("TCHW" if channel_axes[0] == 1 else "CTHW"), "its only 3-channel axis"
    return None, "both leading axes have size 3 and no frame code was readable"


def _cuda_state(expect_cuda: bool) -> tuple[bool, str | None]:
    """(CUDA usable, why not when a GPU was expected): the warning torch gives when initialisation
    fails (e.g. "Error 2: out of memory" under an address-space limit) is kept as the reason."""
    import warnings

    import torch

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        available = torch.cuda.is_available()
    if available or not expect_cuda:
        return available, None
    reasons = [str(w.message).split(" (Triggered internally")[0] for w in caught if "cuda" in str(w.message).lower()]
    reason = reasons[0] if reasons else "torch.cuda.is_available() is False"
    try:
        import resource

        soft = resource.getrlimit(resource.RLIMIT_AS)[0]
        if soft != resource.RLIM_INFINITY:
            reason += f"; the address space is limited to {soft // 2**20} MB (RLIMIT_AS), which CUDA needs far more of"
    except (ImportError, OSError, ValueError):
        pass
    return False, reason


def preferred_clip_type(family: str) -> str:
    """The clip type to feed a transform before judging its output for `family`: the model's own
    layout, so a transform that keeps whatever layout it is given is not blamed for the layout the
    auditor chose (TK621 reports only a layout the user's code imposes)."""
    try:
        tiny_family = Family.parse(family).tiny_name
    except ValueError:
        return "tensor-TCHW"
    return "tensor-TCHW" if tiny_family in FRAMES_FIRST_TINY else "tensor-CTHW"


def check_layout(clip: object, family: str, *, model=None, name: str = "clip") -> list[Finding]:
    """Feed `clip` (one sample, 4D, or a batch of one) to the tiny reference model of `family`."""
    return check_layout_with_notes(clip, family, model=model, name=name)[0]


def check_layout_with_notes(
    clip: object, family: str, *, model=None, name: str = "clip", expect_cuda: bool = False
) -> tuple[list[Finding], list[str]]:
    """`check_layout`, and notes on where the model ran when that was not CUDA although
    `expect_cuda` (an NVIDIA GPU is present), or when CUDA failed and CPU was used instead."""
    import torch
    from temporalkit.reference_models.registry import build_tiny

    tiny_family = Family.parse(family).tiny_name  # any accepted spelling; ValueError names them all
    array = to_numpy(clip).astype(np.float32)
    if array.ndim == 5 and array.shape[0] == 1:
        array = array[0]
    if array.ndim != 4:
        raise ValueError(f"{name} has shape {tuple(array.shape)}; expected a 4D clip or a batch of one")
    clip_layout, reason = read_clip_layout(array)
    notes: list[str] = []
    cuda, why_not = _cuda_state(expect_cuda)
    if why_not:
        notes.append(
            f"layout check of {name} ran on CPU although an NVIDIA GPU is present: CUDA is unusable here ({why_not})"
        )
    # The frames axis of the model: whichever pipeline axis it will treat as time.
    first, second, height, width = array.shape
    if model is None:
        guess_frames = first if tiny_family in FRAMES_FIRST_TINY else second
        model = build_tiny(tiny_family, num_classes=4, frames=guess_frames, size=height)
    model_layout = getattr(model, "input_layout", "NTCHW" if tiny_family in FRAMES_FIRST_TINY else "NCTHW")
    model = model.eval()
    shape = tuple(array.shape)
    wanted = LAYOUT_TEXT[model_layout]
    expected_clip_layout = "TCHW" if model_layout == "NTCHW" else "CTHW"

    def forward(device: str) -> None:
        with torch.no_grad():
            model.to(device)(torch.from_numpy(array[None]).to(device))

    ran, error, ran_on = True, None, "cuda" if cuda else "cpu"
    try:
        forward(ran_on)
    except Exception as exc:  # the model rejecting the input is the finding (unless CUDA itself failed, below)
        ran, error = False, short_repr(exc)
    if cuda and not ran:
        # A CUDA failure (out of memory, a driver error) must not pass for a rejected layout: the CPU decides.
        cuda_error = error
        try:
            forward("cpu")
            ran, error = True, None
        except Exception as exc:  # noqa: BLE001 - rejected on CPU too
            error = short_repr(exc)
        if ran or _is_cuda_error(cuda_error):
            ran_on = "cpu"
            notes.append(f"layout check of {name} ran on CPU: on CUDA it raised {cuda_error}")
        else:
            error = cuda_error  # rejected alike on CUDA and on CPU: the layout
    if clip_layout is None:
        if not ran:
            return [
                LAYOUT_CHECK.finding(
                    f"the {tiny_family} reference model (takes {wanted}) rejected {name} of shape "
                    f"(1, {', '.join(map(str, shape))}): {error}",
                    extra={"family": family, "shape": shape, "device": ran_on},
                )
            ], notes
        return [], notes
    if clip_layout == expected_clip_layout:
        return [], notes
    real = "(T, C, H, W)" if clip_layout == "TCHW" else "(C, T, H, W)"
    if ran:
        message = (
            f"{name} of shape {shape} is {real} ({reason}) but runs through the {tiny_family} reference model, "
            f"which takes {wanted}, only because T == C == 3: frames are mixed as colour channels"
        )
    else:
        message = (
            f"{name} of shape {shape} is {real} ({reason}); the {tiny_family} reference model takes {wanted} "
            f"and rejected it: {error}"
        )
    extra = {"family": family, "shape": shape, "clip_layout": clip_layout, "device": ran_on}
    return [LAYOUT_CHECK.finding(message, extra=extra)], notes


def _is_cuda_error(text: str | None) -> bool:
    lowered = (text or "").lower()
    return any(key in lowered for key in ("cuda", "out of memory", "nvidia", "cudnn", "cublas", "acceleratorerror"))
