"""Find what the dynamic auditor can exercise in a file, without running it.

Discovery reads the source with libcst and picks, by name and signature:

- `sampler`: a function, a static (or `self`-free) method, or a callable class taking a frame
  count (`num_frames`, `total`, `n`, `vlen`, `video_len`, `length`, ...) and a clip length
  (`T`, `num_samples`, `clip_len`, `num_segments`, `k`, ...), optionally a seed (`rng`, `seed`,
  `generator`). A class gets its clip length from `__init__` and the frame count in `__call__`.
- `multiclip`: a sampler that also takes `num_clips` (or whose name says multi-clip).
- `subsample`: a video tensor and a sample count, no frame count (the frames are the input).
- `transform`: a clip in, a clip out, with a transform-like name (crop, resize, flip, ...).
- `loader`: a path in, with a loader-like name (load, read, decode, ...): a video loader, fed the
  probe videos.
- `image`: such a loader that reads one still image, fed the probe images. Told from a video loader
  by, in this order: the path parameter's name (`video_path` -> loader; `image_path`, `img_path`,
  `frame_path` -> image), the calls in its body and in the module's functions it calls (a video API
  such as `av.open` or `cv2.VideoCapture` -> loader; an image API such as `cv2.imread`,
  `PIL.Image.open`, `torchvision.io.read_image`/`decode_image`, `imageio.imread` -> image, unless
  every such call is inside a loop: a folder of frames is a video), then its name (`video`, `clip`,
  `frames` -> loader; `image`, `img`, `photo`, singular `frame` -> image). Anything else stays a loader.

Where names are not enough, `[tool.temporalkit.dynamic]` in pyproject.toml (read and validated with
the rest of the configuration by `temporalkit.validators.config`) names objects and maps their
parameters, and `temporalkit check FILE:OBJECT --role ROLE --args k=v` does the same once:

    [tool.temporalkit.dynamic]
    timeout = 60          # seconds per object
    memory-mb = 4096      # address-space limit of the child process
    discover = true       # false: only the objects listed below
    skip = ["data/video.py:legacy_sampler"]
    family = "3d_conv"    # optional: loaders/transforms feed this reference model (TK621 layout)

    [[tool.temporalkit.dynamic.objects]]
    target = "data/video.py:VideoDataset.sample_indices"
    role = "sampler"
    args = { vlen = "num_frames", clip_len = "T", mode = "val" }
    test-time = true      # must be deterministic
    # family = "2d_pool"  # per object: 2d_pool | 3d_conv | 2plus1d | transformer | temporal_shift

In `args`, the values `num_frames`, `T`, `seed`, `num_clips`, `video`, `clip` and `path` mean "pass
the value the check is trying"; anything else is a Python literal (`3`, `True`, `'val'`) or, failing
that, a string. Nothing here imports or executes the audited code.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path

import libcst as cst
from libcst.helpers import get_full_name_for_node

# The pyproject's dynamic section and the objects it names are read and validated with the rest of the
# configuration (one reader, one error type); their names stay importable from here.
from temporalkit.validators.config import (  # noqa: F401
    ROLES,
    Candidate,
    DynamicConfig,
    check_family,
    load_dynamic_config,
    parse_args,
    parse_target,
)
from temporalkit.validators.config import ConfigError as DiscoveryError  # noqa: F401 - the former name
from temporalkit.validators.config import dynamic_config as dynamic_config_from_table  # noqa: F401

# The vocabulary is shared with the child process (which must not pay for libcst): it lives in `vocabulary`.
from temporalkit.validators.dynamic.vocabulary import (  # noqa: F401 - re-exported
    CLIP_DURATION_NAMES,
    CLIP_LENGTH_NAMES,
    DURATION_NAMES,
    FRAME_COUNT_NAMES,
    IMAGE_PATH_NAMES,
    IMAGE_READ_CALLS,
    NUM_CLIPS_NAMES,
    PATH_NAMES,
    RESULTS_NAMES,
    ROLE_TOKENS,
    SEED_NAMES,
    TEST_MODE_FLAGS,
    VIDEO_NAMES,
    VIDEO_PATH_NAMES,
    VIDEO_READ_CALLS,
    argument_value,
    definition_lines,
    looks_test_time,
)
from temporalkit.validators.dynamic.vocabulary import definition_lines as _definition_lines  # noqa: F401

_TRANSFORM_NAME = re.compile(
    r"crop|resize|flip|augment|transform|normali[sz]e|scale|jitter|rescale|to_tensor|colou?r|pad|rotate", re.I
)
_LOADER_NAME = re.compile(r"load|read|decode|open_video|get_frames|get_clip|open_?(image|img)", re.I)
# Matched against the snake_case name, video first: `load_video_frame` is a video loader.
_VIDEO_LOADER_NAME = re.compile(r"video|clip|frames|movie|(^|_)vid(_|$)")
_IMAGE_READER_NAME = re.compile(r"image|img|picture|photo|jpe?g|png|thumbnail|(^|_)frame(_|$)|imread")
_SAMPLER_NAME = re.compile(r"sampl|ind(ex|ices)|clip|frame|segment|select|subsample|window|tsn|offset", re.I)
_MULTICLIP_NAME = re.compile(r"multi_?clip|multi_?view|(^|_)clips(_|$)")  # matched against the snake_case name
_GENERIC_COUNT_NAMES = {"n", "total", "length", "k", "t"}


# --- signature heuristics -----------------------------------------------------------------------


@dataclass(frozen=True)
class _Params:
    names: tuple[str, ...]
    required: tuple[str, ...]  # no default, not *args/**kwargs

    @classmethod
    def of(cls, function: cst.FunctionDef, drop_first: bool = False) -> "_Params":
        params = list(function.params.posonly_params) + list(function.params.params)
        if drop_first and params:
            params = params[1:]
        names = [p.name.value for p in params] + [p.name.value for p in function.params.kwonly_params]
        required = [p.name.value for p in params if p.default is None]
        required += [p.name.value for p in function.params.kwonly_params if p.default is None]
        return cls(tuple(names), tuple(required))


def _first(names: Iterable[str], vocabulary: tuple[str, ...]) -> str | None:
    for name in names:
        if name in vocabulary:
            return name
    return None


def _sampler_role(name: str, params: _Params, *, clip_length_elsewhere: bool = False) -> tuple[str, str] | None:
    """(role, reason) when `params` look like a sampler's, a multi-clip sampler's or a subsampler's."""
    frame_count = _first(params.names, FRAME_COUNT_NAMES)
    clip_length = _first([p for p in params.names if p != frame_count], CLIP_LENGTH_NAMES)
    if clip_length is None and clip_length_elsewhere:
        clip_length = "(from __init__)"
    seed = _first(params.names, SEED_NAMES)
    num_clips = _first(params.names, NUM_CLIPS_NAMES)
    video = None if frame_count else _first(params.names, VIDEO_NAMES)
    either = None  # (vlen, num_frames), (total, n): two frame-count names; the child tries both ways
    if frame_count and clip_length is None and _SAMPLER_NAME.search(name):
        either = _first([p for p in params.names if p != frame_count], FRAME_COUNT_NAMES)
    known = {frame_count, clip_length, seed, num_clips, video, either, *TEST_MODE_FLAGS}
    unmapped = [p for p in params.required if p not in known]
    if unmapped:
        return None
    if frame_count and clip_length:
        # Generic pairs such as (n, k) only count when the name says "sampler".
        if (
            frame_count in _GENERIC_COUNT_NAMES
            and clip_length in _GENERIC_COUNT_NAMES | {"T"}
            and not _SAMPLER_NAME.search(name)
        ):
            return None
        role = "multiclip" if num_clips or _MULTICLIP_NAME.search(_snake_case(name)) else "sampler"
        return role, f"takes {frame_count} and {clip_length}" + (f" and {num_clips}" if num_clips else "")
    if video and clip_length:
        return "subsample", f"takes a video ({video}) and a count ({clip_length})"
    if frame_count and either:
        role = "multiclip" if num_clips or _MULTICLIP_NAME.search(_snake_case(name)) else "sampler"
        return role, f"takes {frame_count} and {either} (which is the clip length is tried both ways)"
    return None


def _snake_case(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


class _ModuleCalls:
    """What the functions of one module call, by qualified name, as far as the source says.

    Names go through the module's imports (`from PIL import Image` makes `Image.open` read
    `PIL.Image.open`, wherever the import is, `try:` blocks included), and a call of another function
    of the module counts as the calls that function makes.
    """

    def __init__(self, module: cst.Module) -> None:
        self.module = module
        self.functions = {s.name.value: s for s in module.body if isinstance(s, cst.FunctionDef)}

    @cached_property
    def aliases(self) -> dict[str, str]:
        """Local name -> what it was imported as; read only when a path reader needs it."""
        aliases: dict[str, str] = {}
        self.module.visit(_ImportCollector(aliases))
        return aliases

    def qualified(self, dotted: str) -> str:
        head, dot, rest = dotted.partition(".")
        return self.aliases.get(head, head) + dot + rest

    def calls(self, function: cst.FunctionDef, _seen: frozenset[str] = frozenset()) -> list[tuple[str, bool]]:
        """(qualified name, inside a loop or comprehension) of every call `function` makes."""
        collector = _CallCollector()
        function.body.visit(collector)
        found: list[tuple[str, bool]] = []
        for dotted, in_loop in collector.calls:
            found.append((self.qualified(dotted), in_loop))
            helper = self.functions.get(dotted)
            if helper is not None and dotted not in _seen and len(_seen) < 4:
                found += [(name, in_loop or inner) for name, inner in self.calls(helper, _seen | {dotted})]
        return found


class _ImportCollector(cst.CSTVisitor):
    def __init__(self, aliases: dict[str, str]) -> None:
        self.aliases = aliases

    def visit_Import(self, node: cst.Import) -> None:
        for alias in node.names:
            full = get_full_name_for_node(alias.name) or ""
            if alias.asname is not None:
                self.aliases[alias.evaluated_alias or full] = full
            else:
                head = full.partition(".")[0]
                self.aliases[head] = head

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        if node.relative or node.module is None or isinstance(node.names, cst.ImportStar):
            return
        module = get_full_name_for_node(node.module) or ""
        for alias in node.names:
            name = get_full_name_for_node(alias.name) or ""
            self.aliases[alias.evaluated_alias if alias.asname is not None else name] = f"{module}.{name}"


class _CallCollector(cst.CSTVisitor):
    _LOOPS = (cst.For, cst.While, cst.ListComp, cst.SetComp, cst.DictComp, cst.GeneratorExp)

    def __init__(self) -> None:
        self.calls: list[tuple[str, bool]] = []
        self.loops = 0

    def on_visit(self, node: cst.CSTNode) -> bool:
        if isinstance(node, self._LOOPS):
            self.loops += 1
        elif isinstance(node, cst.Call):
            dotted = get_full_name_for_node(node.func)
            if dotted:
                self.calls.append((dotted, self.loops > 0))
        return True

    def on_leave(self, original_node: cst.CSTNode) -> None:
        if isinstance(original_node, self._LOOPS):
            self.loops -= 1


def _path_reader_role(
    name: str, only: str, function: cst.FunctionDef | None, calls: _ModuleCalls | None
) -> tuple[str, str]:
    """("loader", reason) for a video loader, ("image", reason) for a single-image reader."""
    if only in VIDEO_PATH_NAMES:
        return "loader", f"takes a video path ({only}) and is named like a loader"
    if only in IMAGE_PATH_NAMES:
        return "image", f"takes an image path ({only}) and is named like a reader"
    made = calls.calls(function) if function is not None and calls is not None else []
    video = next((call for call, _ in made if call in VIDEO_READ_CALLS), None)
    if video:
        return "loader", f"takes a path ({only}) and calls {video}"
    images = [(call, in_loop) for call, in_loop in made if call in IMAGE_READ_CALLS]
    if images and not all(in_loop for _, in_loop in images):
        return "image", f"takes a path ({only}) and calls {images[0][0]}: a single-image reader"
    snake = _snake_case(name)
    if _IMAGE_READER_NAME.search(snake) and not _VIDEO_LOADER_NAME.search(snake) and not images:
        return "image", f"takes a path ({only}) and is named like an image reader"
    return "loader", f"takes a path ({only}) and is named like a loader"


def _other_role(
    name: str, params: _Params, function: cst.FunctionDef | None = None, calls: _ModuleCalls | None = None
) -> tuple[str, str] | None:
    if len(params.required) != 1:
        return None
    (only,) = params.required
    if only in PATH_NAMES + IMAGE_PATH_NAMES and _LOADER_NAME.search(name):
        return _path_reader_role(name, only, function, calls)
    if only in VIDEO_NAMES and _TRANSFORM_NAME.search(name):
        return "transform", f"takes a clip ({only}) and is named like a transform"
    return None


def _uses_self(function: cst.FunctionDef) -> bool:
    params = list(function.params.posonly_params) + list(function.params.params)
    if not params:
        return False
    self_name = params[0].name.value

    class _Finder(cst.CSTVisitor):
        found = False

        def visit_Name(self, node: cst.Name) -> None:
            if node.value == self_name:
                self.found = True

    finder = _Finder()
    function.body.visit(finder)
    return finder.found


def _is_staticmethod(function: cst.FunctionDef) -> bool:
    return any(isinstance(d.decorator, cst.Name) and d.decorator.value == "staticmethod" for d in function.decorators)


def discover_source(source: str, path: str, skipped: list[tuple[str, str]] | None = None) -> list[Candidate]:
    """Candidates in `source` (module-level functions and classes, and their methods).

    `skipped` receives (name, why) for each object that looks like a sampler or transform but cannot
    be called without more information (an ``__init__`` to run, ...)."""
    module = cst.parse_module(source)
    definitions = _definition_lines(source)
    calls = _ModuleCalls(module)
    found: list[Candidate] = []

    def add(name: str, node: cst.CSTNode, role_reason: tuple[str, str] | None) -> None:
        if role_reason is None:
            return
        role, reason = role_reason
        if role == "skip":
            if skipped is not None:
                skipped.append((f"{name} (line {definitions.get(name, (1, 0))[0]})", reason))
            return
        line, column = definitions.get(name, (1, 0))
        found.append(Candidate(path=path, name=name, role=role, line=line, column=column, reason=reason))

    for statement in module.body:
        if isinstance(statement, cst.FunctionDef):
            if statement.name.value.startswith("_"):
                continue
            params = _Params.of(statement)
            name = statement.name.value
            role_reason = _sampler_role(name, params) or _other_role(name, params, statement, calls)
            if role_reason is None and len(params.required) > 1 and params.required[0] in VIDEO_NAMES:
                if _TRANSFORM_NAME.search(name):
                    extra = params.required[1]
                    role_reason = (
                        "skip",
                        f"a transform whose {', '.join(params.required[1:])} has no default: name it in "
                        f"[[tool.temporalkit.dynamic.objects]] with args = {{{extra} = ...}} (or check --args {extra}=...)",
                    )
            add(name, statement, role_reason)
        elif isinstance(statement, cst.ClassDef):
            _discover_class(statement, add, calls)
    return found


def _discover_class(node: cst.ClassDef, add, calls: _ModuleCalls | None = None) -> None:
    class_name = node.name.value
    if class_name.startswith("_"):
        return
    methods = {s.name.value: s for s in node.body.body if isinstance(s, cst.FunctionDef)}
    abstract = [n for n, m in methods.items() if any(_decorator_name(d) == "abstractmethod" for d in m.decorators)]
    if abstract:
        return  # an interface (pytorchvideo's ClipSampler): its subclasses are what can be called
    init = methods.get("__init__")
    init_params = _Params.of(init, drop_first=True) if init else _Params((), ())
    call = methods.get("__call__") or methods.get("forward") or methods.get("transform")
    if call is not None:
        call_params = _Params.of(call, drop_first=True)
        init_clip_length = _first(init_params.names, CLIP_LENGTH_NAMES + ("num_frames",) + CLIP_DURATION_NAMES)
        init_unmapped = [p for p in init_params.required if p not in {init_clip_length, *SEED_NAMES, *NUM_CLIPS_NAMES}]
        role_reason = _class_call_role(class_name, call.name.value, call_params, init_clip_length, init_params)
        if init_unmapped:
            if role_reason is not None or _SAMPLER_NAME.search(class_name) or _TRANSFORM_NAME.search(class_name):
                add(
                    class_name,
                    node,
                    (
                        "skip",
                        f"__init__ needs {', '.join(init_unmapped)}: give {'them' if len(init_unmapped) > 1 else 'it'} "
                        f"with init = {{{init_unmapped[0]} = ...}} in [[tool.temporalkit.dynamic.objects]] "
                        f"(or check --init {init_unmapped[0]}=...)",
                    ),
                )
            return
        if role_reason is None:
            role_reason = _sampler_role(class_name, call_params, clip_length_elsewhere=init_clip_length is not None)
        if role_reason is None and not init_params.required:
            role_reason = _other_role(class_name, call_params, call, calls)
        if role_reason is not None:
            add(class_name, node, role_reason)
        return
    for method_name, method in methods.items():
        if method_name.startswith("__"):
            continue
        if not (_is_staticmethod(method) or not _uses_self(method)):
            params = _Params.of(method, drop_first=True)
            if _SAMPLER_NAME.search(method_name) and _first(params.names, FRAME_COUNT_NAMES):
                add(
                    f"{class_name}.{method_name}",
                    method,
                    (
                        "skip",
                        "reads self: name it in [[tool.temporalkit.dynamic.objects]] with init = {...} "
                        '(e.g. clip_len = "T") or check --init',
                    ),
                )
            continue
        params = _Params.of(method, drop_first=not _is_staticmethod(method))
        qualified = f"{class_name}.{method_name}"
        add(qualified, method, _sampler_role(method_name, params) or _other_role(method_name, params, method, calls))


def _decorator_name(decorator: cst.Decorator) -> str:
    return (get_full_name_for_node(decorator.decorator) or "").rpartition(".")[2]


def _class_call_role(
    class_name: str, method: str, call_params: _Params, init_clip_length: str | None, init_params: _Params
) -> tuple[str, str] | None:
    """Roles only a class has: a dict pipeline step (``transform(results)``) or a seconds-based clip
    sampler (``__call__(last_clip_end_time, video_duration, annotation)``)."""
    if len(call_params.names) == 1 and call_params.names[0] in RESULTS_NAMES:
        if init_clip_length and _SAMPLER_NAME.search(class_name):
            return "sampler", f"{method}(results) dict pipeline with {init_clip_length} in __init__ (OpenMMLab style)"
        if _TRANSFORM_NAME.search(class_name):
            return "transform", f"{method}(results) dict pipeline named like a transform (OpenMMLab style)"
        return None
    duration = _first(call_params.names, DURATION_NAMES)
    if duration and init_clip_length in CLIP_DURATION_NAMES:
        num_clips = _first(init_params.names, NUM_CLIPS_NAMES)
        return (
            "multiclip" if num_clips else "sampler",
            f"takes {duration} (seconds) and {init_clip_length}{f' and {num_clips}' if num_clips else ''} "
            "in __init__ (seconds-based clip sampler)",
        )
    return None


def discover_file(
    path: str | os.PathLike, config: DynamicConfig | None = None, skipped: list[tuple[str, str]] | None = None
) -> list[Candidate]:
    """Candidates in the file at `path`: those `config` names first, then (unless `discover = false`) the heuristics'.

    `skipped` receives ("FILE:NAME (line N)", why) for objects found but not callable as they stand.
    Raises OSError, UnicodeDecodeError or libcst.ParserSyntaxError for a file that cannot be read.
    """
    config = config or DynamicConfig()
    text = Path(path).read_text(encoding="utf-8")
    named = config.objects_in(path)
    named_names = {c.name for c in named}
    found_skips: list[tuple[str, str]] = []
    heuristic = discover_source(text, str(path), found_skips) if config.discover else []
    if skipped is not None:
        skipped += [
            (f"{path}:{name}", why)
            for name, why in found_skips
            if name.split(" ")[0] not in named_names and not config.is_skipped(path, name.split(" ")[0])
        ]
    lines = _definition_lines(text) if named else {}
    result = [
        Candidate(
            path=str(path),
            name=c.name,
            role=c.role,
            line=lines.get(c.name, (1, 0))[0],
            column=lines.get(c.name, (1, 0))[1],
            args=c.args,
            test_time=c.test_time,
            reason=c.reason,
            family=c.family or config.family,
            convention=c.convention,
        )
        for c in named
    ]
    result += [replace(c, family=config.family) if config.family else c for c in heuristic if c.name not in named_names]
    return [c for c in result if not config.is_skipped(path, c.name)]
