from __future__ import annotations

import libcst as cst
from temporalkit.validators import astutil as au
from temporalkit.validators.analysis import Analysis
from temporalkit.validators.rule import Invalid, Rule, Valid

_FRAME_SEQUENCES = {"clip", "video", "vid", "frames", "imgs", "images", "frame_list"}


class RandomTransformPerFrameRule(Rule):
    """
    What it does:
        Flags a random torchvision transform (`RandomCrop`, `RandomResizedCrop`,
        `RandomHorizontalFlip`, a `Compose` holding one...) called once per frame, in a loop or
        comprehension over the frames of one clip.

    Why is this bad?
        Each call draws new parameters, so every frame gets a different crop, scale or flip: the
        clip jitters from frame to frame, objects jump around, and the motion signal the model is
        supposed to learn is replaced by augmentation noise. torchvision v2 transforms applied to
        the whole `(T, C, H, W)` tensor draw once per clip.

    Example:
        ```python
        clip = torch.stack([train_transform(frame) for frame in frames])
        ```

    Fix:
        Apply the transform to the stacked clip once (v2 transforms accept `(T, C, H, W)`), or
        draw the parameters once and apply them to every frame.
        ```python
        clip = train_transform(torch.stack(frames))   # one crop for the whole clip
        ```

    Known problems:
        "The frames of one clip" is read from the loop's iterable name: `frames`, `clip`,
        `video`, `imgs`, `images` or anything with "frame" in it. A loop over the videos of a batch
        under one of these names is reported; frames under another name are missed. Random
        draws written by hand in such a loop are TK182's.
    """

    ID = "TK181"
    CATEGORY = "inconsistent-crop"
    SEVERITY = "error"
    MESSAGE = "random transform applied frame by frame: each frame gets a different crop/flip, so the clip jitters"
    FIX = "apply the transform once to the whole (T, C, H, W) clip, or draw its parameters once per clip"
    TRIGGERS = ("Random",)

    VALID = [
        Valid(
            """
            import torch
            from torchvision.transforms import v2

            aug = v2.Compose([v2.RandomResizedCrop(224), v2.RandomHorizontalFlip()])

            def load(frames):
                return aug(torch.stack(frames))
            """
        ),
        Valid(
            """
            from torchvision.transforms import v2

            norm = v2.Compose([v2.Resize(256), v2.CenterCrop(224)])

            def load(frames):
                return [norm(f) for f in frames]
            """
        ),
        Valid(
            """
            from torchvision.transforms import v2

            aug = v2.RandomCrop(112)

            def batch(videos):
                return [aug(v) for v in videos]
            """
        ),
    ]
    INVALID = [
        Invalid(
            """
            import torch
            from torchvision.transforms import v2

            train_tf = v2.Compose([v2.RandomResizedCrop(224), v2.ToDtype(torch.float32)])

            def load(frames):
                return torch.stack([train_tf(frame) for frame in frames])
            """,
            expected_line=8,
        ),
        Invalid(
            """
            import torchvision.transforms as T

            class Clip:
                def __init__(self):
                    self.crop = T.RandomCrop(112)

                def __call__(self, clip):
                    out = []
                    for frame in clip:
                        out.append(self.crop(frame))
                    return out
            """,
            expected_line=11,
        ),
        Invalid(
            """
            from torchvision import transforms

            def load(video):
                return [transforms.RandomHorizontalFlip()(img) for img in video]
            """
        ),
        # nn.Sequential under another alias (issue 17): matched by qualified name, not spelling.
        Invalid(
            """
            import torch.nn as tnn
            import torchvision.transforms as T

            augment = tnn.Sequential(T.RandomResizedCrop(224), T.RandomHorizontalFlip())

            def load(frames):
                return [augment(frame) for frame in frames]
            """,
            expected_line=8,
        ),
    ]

    def __init__(self, analysis: Analysis) -> None:
        super().__init__(analysis)
        self._random_transforms: set[str] = set()

    def visit_Assign(self, node: cst.Assign) -> None:
        if not isinstance(node.value, cst.Call) or not self._builds_random_transform(node.value):
            return
        for target in node.targets:
            name = au.dotted(target.target)
            if name:
                self._random_transforms.add(name)

    def _builds_random_transform(self, call: cst.Call) -> bool:
        if au.is_random_transform(self, call):
            return True
        if au.is_torchvision_transform(
            self, call, "Compose", "RandomApply", "RandomChoice", "RandomOrder"
        ) or self.refers_to(call.func, "torch.nn.Sequential"):
            return any(
                isinstance(inner, cst.Call) and au.is_random_transform(self, inner)
                for inner in au.find_all(call, cst.Call)
            )
        return False

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if isinstance(func, cst.Call):
            is_random = au.is_random_transform(self, func)
        else:
            is_random = au.dotted(func) in self._random_transforms
        if not is_random or len(node.args) != 1:
            return
        argument = au.dotted(node.args[0].value)
        if argument is None:
            return
        for anc in au.ancestors(self, node):
            if isinstance(anc, (cst.FunctionDef, cst.ClassDef)):
                return
            loops = []
            if isinstance(anc, cst.For):
                loops = [(anc.target, anc.iter)]
            elif isinstance(anc, (cst.ListComp, cst.GeneratorExp, cst.SetComp)):
                comp = anc.for_in
                while comp is not None:
                    loops.append((comp.target, comp.iter))
                    comp = comp.inner_for_in
            for target, iterable in loops:
                if argument in au.names_in(target) and self._iterates_frames(iterable):
                    self.report(node)
                    return

    @staticmethod
    def _iterates_frames(iterable: cst.BaseExpression) -> bool:
        if isinstance(iterable, cst.Call) and au.dotted(iterable.func) in ("enumerate", "zip", "reversed"):
            return any(RandomTransformPerFrameRule._iterates_frames(a.value) for a in iterable.args)
        ident = (au.last_identifier(iterable) or "").lower()
        return "frame" in ident or ident in _FRAME_SEQUENCES
