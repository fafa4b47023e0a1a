from __future__ import annotations

import re

import libcst as cst
from temporalkit.validators import astutil as au
from temporalkit.validators.rule import Invalid, Rule, Valid

_CROPS = ("CenterCrop", "RandomCrop", "RandomResizedCrop", "FiveCrop", "TenCrop")
# The words of a class or function name that say which split it serves: `Blip2ImageEvalProcessor` is the
# evaluation counterpart of `Blip2ImageTrainProcessor`, `build_test_transform` of `build_train_transform`.
_EVAL_WORDS = frozenset({"eval", "evaluation", "test", "testing", "val", "valid", "validation", "inference"})
_TRAIN_WORDS = frozenset({"train", "training"})
_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")


class SquareResizeTransformRule(Rule):
    """
    What it does:
        Flags torchvision `Resize((s, s))` / `Resize([224, 224])` / `Resize(size=(s, s))`
        (transforms v1 and v2): resizing every frame to a fixed square.

    Why is this bad?
        Video is 16:9 or 4:3; forcing it to a square squeezes people thin and makes circles
        ovals, differently for each source resolution. The model learns the distortion and the
        pretrained weights (trained on short-side resize + crop) see a shifted input distribution.
        `Resize(256)` (short side) followed by a crop keeps the aspect ratio.

        A square resize in one branch of an `if` whose other branch resizes the short side is a
        protocol the configuration chooses (for example "no crop" evaluation), and is not reported.
        Nor is a square resize in a transform list with no random step (an evaluation
        pipeline) when the same function (or module), or its training counterpart, builds a
        training list around a `RandomResizedCrop` to the same side with a random aspect ratio:
        training already squeezes crops of every shape to that square, and squashing the whole
        frame is the matching evaluation protocol (ALBEF, BLIP, BLIP-2 / LAVIS processors and
        their video descendants).

    Known problems:
        The training counterpart is found by name: a class (or, outside classes, a function) of
        the module whose name is the evaluation one's with a train word in place of an eval word
        (`Blip2ImageTrainProcessor` for `Blip2ImageEvalProcessor`, `train_transform` for
        `val_transform`); the crop's side must be spelled as the resize's (`image_size` in both).
        A pair named otherwise, or a training pipeline in another module, is not seen and the
        evaluation squash is reported.

    Example:
        ```python
        transform = v2.Compose([v2.Resize((224, 224)), v2.ToDtype(torch.float32, scale=True)])
        ```

    Fix:
        Resize the short side, then crop (autofix inside a `Compose([...])` list: the square
        size becomes the short side, and a `CenterCrop` is inserted unless a crop follows).
        ```python
        transform = v2.Compose([v2.Resize(224), v2.CenterCrop(224), v2.ToDtype(torch.float32, scale=True)])
        ```
    """

    ID = "TK171"
    CATEGORY = "aspect-distortion"
    SEVERITY = "error"
    MESSAGE = "Resize to a fixed square (H, W) ignores the aspect ratio: every non-square video is squashed"
    FIX = "resize the short side then crop: Resize(s) followed by CenterCrop(s) (or a random crop in training)"
    TRIGGERS = ("Resize",)
    OPT_IN = True

    VALID = [
        Valid(
            """
            from torchvision.transforms import v2
            t = v2.Compose([v2.Resize(256), v2.CenterCrop(224)])
            """
        ),
        Valid(
            """
            import torchvision.transforms as T
            t = T.Compose([T.Resize((128, 171)), T.CenterCrop(112)])
            """
        ),
        Valid(
            """
            from torchvision.transforms import v2
            t = v2.RandomResizedCrop((224, 224), antialias=True)
            """
        ),
        Valid(
            """
            from torchvision.transforms import v2
            t = v2.Compose([v2.Resize(size=224, antialias=True), v2.RandomCrop(224)])
            """
        ),
        # A configured choice: squash the whole image, or keep the aspect ratio and crop.
        Valid(
            """
            import torchvision.transforms as T

            def eval_transform(cfg, size):
                steps = []
                if cfg.crop_ratio == 0.0:
                    steps.append(T.Resize((size, size)))
                else:
                    steps.append(T.Resize(int(size / cfg.crop_ratio)))
                    steps.append(T.CenterCrop(size))
                return T.Compose(steps)
            """
        ),
        # Train with random-resized crops to the same square, evaluate on the whole frame squashed to it
        # (a real-code false alarm: the ALBEF/BLIP evaluation protocol).
        Valid(
            """
            import torchvision.transforms as T

            def build(cfg, normalize):
                train = T.Compose([T.RandomResizedCrop(cfg.res, scale=(0.5, 1.0)), T.RandomHorizontalFlip(), normalize])
                test = T.Compose([T.Resize((cfg.res, cfg.res), antialias=True), normalize])
                return train, test
            """
        ),
        # The same protocol split over a training and an evaluation processor class (BLIP-2 / LAVIS style;
        # a real-code false alarm): the evaluation class squashes the image to the side training crops to.
        Valid(
            """
            from torchvision import transforms

            class ImageTrainProcessor:
                def __init__(self, image_size=224, low=0.5):
                    self.transform = transforms.Compose(
                        [transforms.RandomResizedCrop(image_size, scale=(low, 1.0)), transforms.ToTensor()]
                    )

            class ImageEvalProcessor:
                def __init__(self, image_size=224):
                    self.transform = transforms.Compose([transforms.Resize((image_size, image_size)), transforms.ToTensor()])
            """
        ),
    ]
    INVALID = [
        # Video frames squashed at evaluation: the random-resized crop nearby trains another processor (images),
        # not this one's counterpart.
        Invalid(
            """
            from torchvision import transforms

            class ImageTrainProcessor:
                def __init__(self, image_size=224):
                    self.transform = transforms.Compose([transforms.RandomResizedCrop(image_size), transforms.ToTensor()])

            class FrameEvalProcessor:
                def __init__(self, image_size=224):
                    self.transform = transforms.Compose([transforms.Resize((image_size, image_size)), transforms.ToTensor()])
            """,
            expected_fix="""
            from torchvision import transforms

            class ImageTrainProcessor:
                def __init__(self, image_size=224):
                    self.transform = transforms.Compose([transforms.RandomResizedCrop(image_size), transforms.ToTensor()])

            class FrameEvalProcessor:
                def __init__(self, image_size=224):
                    self.transform = transforms.Compose([transforms.Resize(image_size), transforms.CenterCrop(image_size), transforms.ToTensor()])
            """,
            expected_line=10,
        ),
        # The square resize is the training pipeline itself (a random flip follows it): reported even
        # though a random-resized crop to the same side is built nearby.
        Invalid(
            """
            import torchvision.transforms as T

            train = T.Compose([T.Resize((224, 224)), T.RandomHorizontalFlip()])
            test = T.Compose([T.RandomResizedCrop(224), T.ToTensor()])
            """,
            expected_fix="""
            import torchvision.transforms as T

            train = T.Compose([T.Resize(224), T.CenterCrop(224), T.RandomHorizontalFlip()])
            test = T.Compose([T.RandomResizedCrop(224), T.ToTensor()])
            """,
        ),
        # Training crops keep their aspect (ratio fixed at 1): the squash at test is not what training saw.
        Invalid(
            """
            import torchvision.transforms as T

            def build(size):
                train = T.Compose([T.RandomResizedCrop(size, ratio=(1.0, 1.0)), T.ToTensor()])
                test = T.Compose([T.Resize((size, size)), T.ToTensor()])
                return train, test
            """,
            expected_fix="""
            import torchvision.transforms as T

            def build(size):
                train = T.Compose([T.RandomResizedCrop(size, ratio=(1.0, 1.0)), T.ToTensor()])
                test = T.Compose([T.Resize(size), T.CenterCrop(size), T.ToTensor()])
                return train, test
            """,
        ),
        Invalid(
            """
            from torchvision.transforms import v2

            transform = v2.Compose([
                v2.Resize((224, 224)),  # model input
                v2.ToDtype(torch.float32, scale=True),
            ])
            """,
            expected_fix="""
            from torchvision.transforms import v2

            transform = v2.Compose([
                v2.Resize(224),
                v2.CenterCrop(224),  # model input
                v2.ToDtype(torch.float32, scale=True),
            ])
            """,
            expected_line=5,
        ),
        Invalid(
            """
            import torchvision.transforms as T
            t = T.Compose([T.ToTensor(), T.Resize([size, size], antialias=True)])
            """,
            expected_fix="""
            import torchvision.transforms as T
            t = T.Compose([T.ToTensor(), T.Resize(size, antialias=True), T.CenterCrop(size)])
            """,
        ),
        Invalid(
            """
            from torchvision.transforms import Compose, Resize, CenterCrop
            t = Compose([Resize(size=(112, 112)), CenterCrop(112)])
            """,
            expected_fix="""
            from torchvision.transforms import Compose, Resize, CenterCrop
            t = Compose([Resize(size=112), CenterCrop(112)])
            """,
        ),
        Invalid(
            """
            from torchvision.transforms import Resize
            resize = Resize((224, 224))
            """
        ),
    ]

    def visit_Call(self, node: cst.Call) -> None:
        if not au.is_torchvision_transform(self, node, "Resize"):
            return
        size_arg = au.argument_node(node, 0, "size")
        if size_arg is None:
            return
        side = square_side(size_arg.value)
        if side is None:
            return
        if self._alternative_keeps_aspect(node) or self._pairs_random_resized_crop(node, side):
            return
        element = au.parent(self, node)
        replacement = None
        if isinstance(element, cst.Element) and isinstance(au.parent(self, element), cst.List):
            if self._crop_follows(element):
                resize = node.with_changes(args=[a.with_changes(value=side) if a is size_arg else a for a in node.args])
                self.report(node, replacement=resize)
                return
            crop = self._center_crop(node.func)
            if crop is not None:
                replacement = self._split(element, node, size_arg, side, crop)
        self.report(element if replacement is not None else node, replacement=replacement)

    def _alternative_keeps_aspect(self, node: cst.Call) -> bool:
        """`node` is in one branch of an `if` whose other branch resizes the short side."""
        previous: cst.CSTNode = node
        for anc in au.ancestors(self, node):
            if isinstance(anc, (cst.FunctionDef, cst.ClassDef)):
                return False
            if isinstance(anc, cst.If) and anc.orelse is not None:
                other = anc.orelse if previous is anc.body else anc.body
                for call in au.find_all(other, cst.Call):
                    if au.is_torchvision_transform(self, call, "Resize"):
                        size = au.argument(call, 0, "size")
                        if size is not None and not isinstance(size, (cst.Tuple, cst.List)):
                            return True
            previous = anc
        return False

    def _pairs_random_resized_crop(self, node: cst.Call, side: cst.BaseExpression) -> bool:
        """The same function (or module) trains with `RandomResizedCrop` to the same side `s`, its aspect
        ratio left random: training already squeezes crops of random shape to s x s, and the square
        resize of the whole frame is that pipeline's evaluation transform (the ALBEF/BLIP protocol).
        Both sit in transform lists (`Compose([...])`), the resize's holding no random transform."""
        steps = self._transform_list(node)
        if steps is None or any(
            isinstance(e.value, cst.Call) and au.is_random_transform(self, e.value) for e in steps.elements
        ):
            return False  # a training pipeline (or no pipeline): the squash is what the model trains on
        want = au.code(side)
        scopes = [au.enclosing_scope_node(self, node), *self._training_counterparts(node)]
        calls = [call for scope in scopes for call in au.find_all(scope, cst.Call)]
        for call in calls:
            if not au.is_torchvision_transform(self, call, "RandomResizedCrop"):
                continue
            crop_steps = self._transform_list(call)
            if crop_steps is None or crop_steps is steps:
                continue
            size = au.argument(call, 0, "size")
            crop_side = square_side(size) if isinstance(size, (cst.Tuple, cst.List)) else size
            if crop_side is None or au.code(crop_side) != want:
                continue
            ratio = au.argument(call, 2, "ratio")
            if isinstance(ratio, (cst.Tuple, cst.List)) and len({au.code(e.value) for e in ratio.elements}) == 1:
                continue  # ratio=(1, 1): square crops, the aspect is kept in training
            return True
        return False

    def _training_counterparts(self, node: cst.Call) -> list[cst.CSTNode]:
        """The classes or functions of the module named as the training counterpart of the one `node` is in:
        `Blip2ImageTrainProcessor` for `Blip2ImageEvalProcessor`, `train_transform` for `test_transform` (the
        LAVIS processors build the two pipelines in two classes)."""
        owner = next((a for a in au.ancestors(self, node) if isinstance(a, cst.ClassDef)), None)
        owner = owner or au.enclosing_function(self, node)
        if owner is None:
            return []
        words = _words(owner.name.value)
        if not _EVAL_WORDS & set(words):
            return []
        stem = [w for w in words if w not in _EVAL_WORDS]
        module = list(au.ancestors(self, node))[-1]
        return [
            d
            for d in au.find_all(module, (cst.ClassDef, cst.FunctionDef))
            if d is not owner
            and _TRAIN_WORDS & set(other := _words(d.name.value))
            and [w for w in other if w not in _TRAIN_WORDS] == stem
        ]

    def _transform_list(self, node: cst.Call) -> cst.List | None:
        """The list `[..., node, ...]` that `node` is an element of, else None."""
        element = au.parent(self, node)
        if isinstance(element, cst.Element):
            steps = au.parent(self, element)
            if isinstance(steps, cst.List):
                return steps
        return None

    def _crop_follows(self, element: cst.Element) -> bool:
        items = au.parent(self, element).elements
        following = [e for i, e in enumerate(items) if i > 0 and items[i - 1] is element]
        return (
            bool(following)
            and isinstance(following[0].value, cst.Call)
            and (au.is_torchvision_transform(self, following[0].value, *_CROPS))
        )

    def _center_crop(self, func: cst.BaseExpression) -> cst.BaseExpression | None:
        if isinstance(func, cst.Attribute):
            return func.with_changes(attr=cst.Name("CenterCrop"))
        scope = self.scope_of(func)
        if scope is not None and "CenterCrop" in scope:
            return cst.Name("CenterCrop")
        return None

    def _split(self, element: cst.Element, call: cst.Call, size_arg: cst.Arg, side: cst.BaseExpression, crop_func):
        resize = call.with_changes(args=[a.with_changes(value=side) if a is size_arg else a for a in call.args])
        crop = cst.Call(func=crop_func, args=[cst.Arg(side)])
        separator = self._separator(element)
        first = cst.Element(resize, comma=separator)
        second = element.with_changes(value=crop)
        return cst.FlattenSentinel([first, second])

    def _separator(self, element: cst.Element) -> cst.Comma:
        # The comma that separates the new pair is laid out like the list's own separators.
        plain = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
        comma = element.comma
        if isinstance(comma, cst.Comma):
            after = comma.whitespace_after
            if isinstance(after, cst.ParenthesizedWhitespace):
                return cst.Comma(whitespace_after=after.with_changes(first_line=cst.TrailingWhitespace()))
            return comma
        items = au.parent(self, element)
        for other in getattr(items, "elements", ()):
            if other is not element and isinstance(other.comma, cst.Comma):
                return other.comma
        return plain


def _words(name: str) -> list[str]:
    """`Blip2ImageEvalProcessor` -> blip, 2, image, eval, processor; `build_val_transform` -> build, val, transform."""
    return [w.lower() for part in name.split("_") for w in _WORD.findall(part)]


def square_side(size: cst.BaseExpression) -> cst.BaseExpression | None:
    """`s` for a two-element tuple/list `(s, s)` whose elements are the same literal or name."""
    if not isinstance(size, (cst.Tuple, cst.List)) or len(size.elements) != 2:
        return None
    first, second = (e.value for e in size.elements)
    if isinstance(first, (cst.Integer, cst.Name, cst.Attribute)) and au.code(first) == au.code(second):
        return first
    return None
