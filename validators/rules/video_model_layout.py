from __future__ import annotations

import libcst as cst
from temporalkit.validators import astutil as au
from temporalkit.validators.analysis import Analysis
from temporalkit.validators.rule import Invalid, Rule, Valid

# Produce time-first clips: read_video gives (T, H, W, C); stacking frames gives (T, ...).
_TIME_FIRST = frozenset({"torchvision.io.read_video", "torch.stack", "numpy.stack", "torch.from_numpy"})
_REORDER_METHODS = {"permute", "transpose", "movedim", "swapaxes", "moveaxis", "swapdims"}
_REORDER_CALLS = frozenset(
    {"einops.rearrange", "torch.permute", "torch.movedim", "numpy.transpose", "numpy.moveaxis", "torch.transpose"}
)
_VIDEO_MODELS = "torchvision.models.video."


class VideoModelLayoutRule(Rule):
    """
    What it does:
        Flags a time-first clip (from `torchvision.io.read_video`, `torch.stack(frames)`,
        `np.stack(frames)`) given to a torchvision video model (`r3d_18`, `r2plus1d_18`, `mvit_v2_s`,
        `swin3d_t`, `s3d`...) with only a batch axis added, never permuted to `(N, C, T, H, W)`.

    Why is this bad?
        Video models take `(N, C, T, H, W)`; clips are decoded and transformed as `(T, C, H, W)`
        or `(T, H, W, C)`. `clip.unsqueeze(0)` has shape `(1, T, C, H, W)`: with `T == 3` it even
        runs, convolving over the wrong axes; otherwise it fails with a channel mismatch deep
        inside the stem. The weights' own `transforms()` does this permutation for you.

    Known problems:
        A call to anything named like `preprocess...` or `...transform...` is taken to reorder
        the axes (as `weights.transforms()` does); a custom transform that does not is missed.
        Clips are followed through plain assignments within one function only.

    Example:
        ```python
        clip = torch.stack(frames)            # (T, C, H, W)
        logits = model(clip.unsqueeze(0))     # (1, T, C, H, W): wrong
        ```

    Fix:
        Move channels before time (or preprocess with `weights.transforms()`).
        ```python
        logits = model(clip.permute(1, 0, 2, 3).unsqueeze(0))   # (1, C, T, H, W)
        ```
    """

    ID = "TK221"
    CATEGORY = "layout"
    SEVERITY = "error"
    MESSAGE = "time-first clip (T, C, H, W) fed to a video model that expects (N, C, T, H, W) without a permute"
    FIX = (
        "permute to channels-first before batching: clip.permute(1, 0, 2, 3).unsqueeze(0) (or use weights.transforms())"
    )
    # A model is recognised only by its qualified name torchvision.models.video.*, which needs an
    # import that names torchvision.
    TRIGGERS = ("torchvision",)

    VALID = [
        Valid(
            """
            import torch
            from torchvision.models.video import r3d_18

            model = r3d_18()

            def predict(frames):
                clip = torch.stack(frames)
                return model(clip.permute(1, 0, 2, 3).unsqueeze(0))
            """
        ),
        Valid(
            """
            import torch
            from torchvision.models.video import r2plus1d_18, R2Plus1D_18_Weights

            weights = R2Plus1D_18_Weights.DEFAULT
            model = r2plus1d_18(weights=weights)
            preprocess = weights.transforms()

            def predict(frames):
                batch = preprocess(torch.stack(frames)).unsqueeze(0)
                return model(batch)
            """
        ),
        Valid(
            """
            import torch
            import torchvision

            model = torchvision.models.video.s3d()

            def predict(video):
                x = torch.stack(video).transpose(0, 1)
                return model(x[None])
            """
        ),
    ]
    INVALID = [
        Invalid(
            """
            import torch
            from torchvision.models.video import r3d_18

            model = r3d_18().eval()

            def predict(frames):
                clip = torch.stack(frames)  # (T, C, H, W)
                return model(clip.unsqueeze(0))
            """,
            expected_line=9,
        ),
        Invalid(
            """
            import torchvision
            from torchvision.io import read_video

            class Classifier:
                def __init__(self):
                    self.net = torchvision.models.video.mvit_v2_s()

                def __call__(self, path):
                    video, _, _ = read_video(path, output_format='TCHW', pts_unit='sec')
                    x = video.float() / 255
                    return self.net(x[None])
            """,
            expected_line=12,
        ),
    ]

    def __init__(self, analysis: Analysis) -> None:
        super().__init__(analysis)
        self._models: set[str] = set()
        self._time_first: set[str] = set()

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._time_first = set()

    def visit_Assign(self, node: cst.Assign) -> None:
        targets = set()
        for target in node.targets:
            if isinstance(target.target, (cst.Tuple, cst.List)):
                names = {au.dotted(e.value) for e in target.target.elements[:1]}
            else:
                names = {au.dotted(target.target)}
            targets |= names - {None}
        if self._builds_video_model(node.value):
            self._models |= targets
            return
        if self._reorders(node.value):
            self._time_first -= targets
        elif self._is_time_first(node.value):
            self._time_first |= targets
        else:
            self._time_first -= targets

    def visit_Call(self, node: cst.Call) -> None:
        if au.dotted(node.func) not in self._models or len(node.args) != 1:
            return
        argument = node.args[0].value
        if self._reorders(argument) or not self._is_time_first(argument):
            return
        self.report(node)

    def _builds_video_model(self, value: cst.BaseExpression) -> bool:
        for call in au.find_all(value, cst.Call):
            if any(
                n.startswith(_VIDEO_MODELS) and n.rsplit(".", 1)[-1][:1].islower()
                for n in self.qualified_names(call.func)
            ):
                return True
        return False

    def _reorders(self, value: cst.BaseExpression) -> bool:
        for call in au.find_all(value, cst.Call):
            if isinstance(call.func, cst.Attribute) and call.func.attr.value in _REORDER_METHODS:
                return True
            if au.call_names(self, call) & _REORDER_CALLS:
                return True
            if (
                isinstance(call.func, cst.Name)
                and "preprocess" in call.func.value
                or "transform" in (au.dotted(call.func) or "")
            ):
                return True
        return False

    def _is_time_first(self, value: cst.BaseExpression) -> bool:
        for call in au.find_all(value, cst.Call):
            if au.call_names(self, call) & _TIME_FIRST:
                return True
        prefixes = set()
        for name in au.names_in(value):
            parts = name.split(".")
            prefixes |= {".".join(parts[: i + 1]) for i in range(len(parts))}
        return bool(prefixes & self._time_first)
