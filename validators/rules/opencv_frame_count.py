from __future__ import annotations

import libcst as cst
from temporalkit.validators import astutil as au
from temporalkit.validators.rule import Invalid, Rule, Valid


class OpenCVFrameCountRule(Rule):
    """
    What it does:
        Flags `cap.get(cv2.CAP_PROP_FRAME_COUNT)` used as the number of frames without ever checking
        it against what was decoded (a comparison or `min(...)` with it). A count that only bounds
        a read loop is not reported: it is never handed to a call (other than `int`, `range`,
        `min`/`max`...), and every `ok, f = cap.read()` in the function, and in the functions of
        the module it hands the capture to (`load_batch(cap, n)`), is followed by
        `if not ok: break` (or `return`), so an overestimate only ends the loop early. A count
        that is only shown (printed, logged, a progress bar's `total=`) chooses no frame and is
        not reported either.

    Why is this bad?
        OpenCV estimates the count from container metadata (duration × fps); for variable frame
        rate files, many webm/mkv files and truncated downloads it is off by a few frames or is
        0 or negative. Indices sampled up to that count then point past the last decodable frame:
        `cap.read()` returns `(False, None)` and the clip gets `None` frames or crashes later.

    Known problems:
        Only the function that takes the count is read, with the module's functions it passes the
        capture to by name (one level): a count returned, yielded or stored (`info["frames"] = n`,
        written to an annotation file) is judged by that function alone, so one that reaches a
        sampler elsewhere is reported (the intent) and one that is only stored for a report is
        reported too. "Shown" means `print(...)`, a method such as `info`/`warning` of a receiver
        with "log" in its name, or `tqdm(total=...)`; a count shown by other means is reported.
        A read (`ok, f = cap.read()` or `cap.retrieve()`) is checked only in the `if not ok: break`
        form (or `return`, `continue`, `if not ok or ...:`; `if ok is False`, `if frame is None` are
        not recognised), placed after the read and before anything uses the frame or the flag;
        `tqdm(range(n))` counts as `range(n)`.

    Example:
        ```python
        n = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
        indices = np.linspace(0, n - 1, T).astype(int)
        ```

    Fix:
        Decode (or seek and verify) and use the number of frames actually read; or clamp every
        index and stop at the first failed read.
        ```python
        frames = read_all_frames(cap)
        n = len(frames)
        ```
    """

    ID = "TK161"
    CATEGORY = "frame-count-metadata"
    SEVERITY = "warning"
    MESSAGE = (
        "CAP_PROP_FRAME_COUNT is a container estimate (wrong for VFR, webm, truncated files): indices "
        "sampled up to it can point past the last decodable frame"
    )
    FIX = "count the frames actually decoded (or clamp to them and stop at the first failed cap.read())"
    TRIGGERS = ("CAP_PROP_FRAME_COUNT",)

    VALID = [
        Valid(
            """
            import cv2

            def read(path):
                cap = cv2.VideoCapture(path)
                frames = []
                ok, f = cap.read()
                while ok:
                    frames.append(f)
                    ok, f = cap.read()
                return frames
            """
        ),
        Valid(
            """
            import cv2

            def count(cap, frames):
                claimed = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
                return min(claimed, len(frames))
            """
        ),
        Valid(
            """
            import cv2
            fps = cap.get(cv2.CAP_PROP_FPS)
            """
        ),
        # The count only sets how many seconds to walk; every read checks its flag and stops,
        # so an overestimate ends the loop early and no missing frame is used.
        Valid(
            """
            import cv2

            def one_per_second(path):
                cap = cv2.VideoCapture(path)
                count = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
                rate = max(1, int(cap.get(cv2.CAP_PROP_FPS)))
                seconds = count // rate
                out = []
                for s in range(seconds + 1):
                    cap.set(cv2.CAP_PROP_POS_FRAMES, s * rate)
                    ok, image = cap.read()
                    if not ok:
                        break
                    out.append(image)
                return out
            """
        ),
        # The count is only printed (a metadata report) or only a progress bar's total (a real-code false alarm).
        Valid(
            """
            import cv2
            import logging
            from tqdm import tqdm
            from ourlib.video import frames_of

            log = logging.getLogger(__name__)

            def describe(paths):
                for path in paths:
                    cap = cv2.VideoCapture(path)
                    frames = cap.get(cv2.CAP_PROP_FRAME_COUNT)
                    rate = cap.get(cv2.CAP_PROP_FPS)
                    print("{}: {} frames at {} fps".format(path, frames, rate))
                    log.info(f"{path}: {frames} frames")

            def to_disk(path, write):
                cap = cv2.VideoCapture(path)
                bar = tqdm(total=int(cap.get(cv2.CAP_PROP_FRAME_COUNT)))
                for frame in frames_of(cap):
                    write(frame)
                    bar.update(1)
            """
        ),
        # The count is shown in a script and bound again in the other branch (a rebinding is not a use); a demo
        # loop bounded by the count, behind a progress bar, skips some frames before it checks the read and stops
        # (real-code false alarms).
        Valid(
            """
            import cv2
            import sys
            from tqdm import tqdm
            from ourlib.video import frame_files

            if sys.argv[1].endswith(".mp4"):
                cap = cv2.VideoCapture(sys.argv[1])
                total = cap.get(cv2.CAP_PROP_FRAME_COUNT)
                print("{} frames".format(total))
            else:
                files = frame_files(sys.argv[1])
                total = len(files)
            bar = tqdm(total=total)
            """
        ),
        Valid(
            """
            import cv2
            from tqdm import tqdm

            def show(path, every, draw):
                cap = cv2.VideoCapture(path)
                count = cap.get(cv2.CAP_PROP_FRAME_COUNT)
                print("{} frames".format(count))
                skipped = 0
                for index in tqdm(range(int(count))):
                    ok, image = cap.read()
                    if skipped < every:
                        skipped += 1
                        continue
                    skipped = 0
                    if not ok:
                        break
                    draw(index, image)
            """
        ),
        # Every tenth frame of a count-bounded loop is decoded with grab/retrieve, and a failed decode is skipped
        # (a real-code false alarm: the count only makes the loop spin past the end).
        Valid(
            """
            import cv2

            def every_tenth(path, boxes):
                capture = cv2.VideoCapture(path)
                count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
                crops = []
                for i in range(count):
                    capture.grab()
                    if i % 10:
                        continue
                    ok, image = capture.retrieve()
                    if not ok or i not in boxes:
                        continue
                    x0, y0, x1, y1 = boxes[i]
                    crops.append(image[y0:y1, x0:x1])
                return crops
            """
        ),
        # A generator reads the whole video in batches through a helper that stops at the first failed read;
        # the count is only yielded for a progress display (a real-code false alarm).
        Valid(
            """
            import cv2

            def next_batch(source, size):
                batch = []
                for _ in range(size):
                    ok, image = source.read()
                    if not ok:
                        break
                    batch.append(image)
                return batch

            def batches(path, size):
                source = cv2.VideoCapture(path)
                total = source.get(cv2.CAP_PROP_FRAME_COUNT)
                done = 0
                while True:
                    batch = next_batch(source, size)
                    if not batch:
                        break
                    done += len(batch)
                    yield batch, done, total
            """
        ),
    ]
    INVALID = [
        Invalid(
            """
            import cv2
            import numpy as np

            def indices(path, T):
                cap = cv2.VideoCapture(path)
                n = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
                return np.linspace(0, n - 1, T).astype(int)
            """,
            expected_line=7,
        ),
        Invalid(
            """
            from cv2 import CAP_PROP_FRAME_COUNT
            total = capture.get(CAP_PROP_FRAME_COUNT)
            """
        ),
        # Printed, and also the end of the sampled indices: still reported.
        Invalid(
            """
            import cv2
            import numpy as np

            def sample(path, T):
                cap = cv2.VideoCapture(path)
                n = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
                print("frames:", n)
                return np.linspace(0, n - 1, T).astype(int)
            """,
            expected_line=7,
        ),
        # Stored in the video's record (written out for the loaders to sample from): reported.
        Invalid(
            """
            import cv2
            import json

            def index(paths, out):
                records = {}
                for path in paths:
                    cap = cv2.VideoCapture(path)
                    records[path] = {"frames": int(cap.get(cv2.CAP_PROP_FRAME_COUNT))}
                    print(path, records[path])
                json.dump(records, out)
            """,
            expected_line=9,
        ),
        # The helper the capture is handed to skips failed reads instead of stopping: reported.
        Invalid(
            """
            import cv2

            def next_batch(source, size):
                batch = []
                for _ in range(size):
                    ok, image = source.read()
                    if ok:
                        batch.append(image)
                return batch

            def batches(path, size):
                source = cv2.VideoCapture(path)
                total = source.get(cv2.CAP_PROP_FRAME_COUNT)
                for _ in range(int(total) // size):
                    yield next_batch(source, size)
            """,
            expected_line=14,
        ),
        # Failed reads are skipped, not stopped at: the clip silently has fewer than T frames.
        Invalid(
            """
            import cv2
            import numpy as np

            def clip(path, T):
                cap = cv2.VideoCapture(path)
                n = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
                frames = []
                for i in np.linspace(0, n - 1, T).astype(int):
                    cap.set(cv2.CAP_PROP_POS_FRAMES, i)
                    ok, frame = cap.read()
                    if ok:
                        frames.append(frame)
                return frames
            """,
            expected_line=7,
        ),
        # Capping the number of samples at the claimed count guards short clips, not the count:
        # the intervals still reach the claimed end, and a failed read raises.
        Invalid(
            """
            import cv2
            import numpy as np

            def load(path, num_frames):
                cap = cv2.VideoCapture(path)
                total = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
                samples = min(num_frames, total)
                edges = np.linspace(0, total, samples + 1).astype(int)
                frames = []
                for i in edges[:-1]:
                    cap.set(cv2.CAP_PROP_POS_FRAMES, i)
                    ok, frame = cap.read()
                    if not ok:
                        raise ValueError(path)
                    frames.append(frame)
                return frames
            """,
            expected_line=7,
        ),
        # Reads stop at the first failure, but the count chose the T indices: still short clips.
        Invalid(
            """
            import cv2
            import numpy as np

            def clip(path, T):
                cap = cv2.VideoCapture(path)
                n = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
                frames = []
                for i in np.linspace(0, n - 1, T).astype(int):
                    cap.set(cv2.CAP_PROP_POS_FRAMES, i)
                    ok, frame = cap.read()
                    if not ok:
                        break
                    frames.append(frame)
                return frames
            """,
            expected_line=7,
        ),
    ]

    def visit_Call(self, node: cst.Call) -> None:
        if not (isinstance(node.func, cst.Attribute) and node.func.attr.value == "get" and node.args):
            return
        if not self.refers_to(node.args[0].value, "cv2.CAP_PROP_FRAME_COUNT"):
            return
        if _checked_against_decoded(self, node):
            return
        if _only_bounds_checked_reads(self, node):
            return
        if _only_displayed(self, node):
            return
        self.report(node)


_PLAIN = ("int", "float", "round", "max", "min", "range", "print")
# Where a count is shown to a person, not used: `print(...)`, a logger's methods, a progress bar's `total=`.
_LOG_METHODS = frozenset({"debug", "info", "warning", "warn", "error", "critical", "exception", "log"})
_PROGRESS_BARS = frozenset({"tqdm.tqdm", "tqdm.auto.tqdm", "tqdm.notebook.tqdm", "tqdm.std.tqdm"})


def _only_displayed(rule: Rule, node: cst.Call) -> bool:
    """The count (the call, or every use of the name it is bound to) is only shown: printed, logged or made
    a progress bar's `total=`. A count that chooses no frame cannot choose a missing one."""
    if _displayed(rule, node):
        return True
    target = au.bound_name(rule, node)
    if not isinstance(target, cst.Name):
        return False
    scope = au.enclosing_scope_node(rule, node)
    uses = [
        use
        for use in au.find_all(scope, cst.Name, lambda n: n.value == target.value)
        if use is not target and not _is_label(rule, use) and not au.is_assignment_target(rule, use)
    ]
    return bool(uses) and all(_displayed(rule, use) for use in uses)


def _is_label(rule: Rule, name: cst.Name) -> bool:
    """`x.count`, `f(count=...)`: the identifier names an attribute or a keyword, not the variable."""
    up = au.parent(rule, name)
    return isinstance(up, cst.Attribute) and up.attr is name or isinstance(up, cst.Arg) and up.keyword is name


def _displayed(rule: Rule, node: cst.CSTNode) -> bool:
    """`node` is part of what a `print(...)` / `logger.info(...)` call shows, or of a `tqdm(total=...)`."""
    child = node
    for up in au.ancestors(rule, node):
        if isinstance(up, (cst.BaseSmallStatement, cst.BaseCompoundStatement)):
            return False
        if isinstance(up, cst.Call) and child in up.args:
            func = up.func
            if au.is_name(func, "print"):
                return True
            if (
                isinstance(func, cst.Attribute)
                and func.attr.value in _LOG_METHODS
                and "log" in (au.last_identifier(func.value) or "").lower()
            ):
                return True
            if au.call_names(rule, up) & _PROGRESS_BARS and child.keyword is not None:
                return child.keyword.value == "total"
        child = up
    return False


def _caps_a_parameter(rule: Rule, call: cst.Call, count: set[str], count_arg: cst.Arg | None) -> bool:
    """`min(...)` whose arguments other than the count are names of the enclosing function's
    parameters (`min(num_frames, vlen)`)."""
    function = au.enclosing_function(rule, call)
    if function is None:
        return False
    params = {p.name.value for p in au.find_all(function.params, cst.Param)}
    others = [arg.value for arg in call.args if arg is not count_arg and not (au.names_in(arg.value) & count)]
    return bool(others) and all(isinstance(v, cst.Name) and v.value in params for v in others)


def _only_bounds_checked_reads(rule: Rule, node: cst.Call) -> bool:
    """`name = int(cap.get(...))` used only in arithmetic (never handed to a sampler call), in a
    function where every `x.read()` is `ok, f = x.read()` followed by `if not ok: break` (or `return`).

    An overestimated count then only makes the read loop stop early: no index past the end is used.
    """
    target = au.bound_name(rule, node)
    if not isinstance(target, cst.Name):
        return False
    function = au.enclosing_function(rule, node)
    if function is None:
        return False
    for call in au.find_all(function, cst.Call):
        if au.is_name(call.func, *_PLAIN) or call is node or au.call_names(rule, call) & _PROGRESS_BARS:
            continue  # `tqdm(range(n))` hands the loop its iterable back
        if _displayed(rule, call):
            continue  # `print("{} frames".format(n))`
        if any(target.value in au.names_in(arg.value) for arg in call.args):
            return False  # the count is handed to something (a sampler, a helper): it may pick indices
    reads = [*_reads_in(function), *_reads_in_helpers(rule, node, function)]
    return bool(reads) and all(_stops_on_failure(rule, read) for read in reads)


def _reads_in(scope: cst.CSTNode) -> list[cst.Call]:
    """`cap.read()` and `cap.retrieve()` (after `cap.grab()`, which decodes nothing): each gives `ok, frame`."""
    return au.find_all(
        scope,
        cst.Call,
        lambda c: isinstance(c.func, cst.Attribute) and c.func.attr.value in ("read", "retrieve") and not c.args,
    )


def _reads_in_helpers(rule: Rule, node: cst.Call, function: cst.FunctionDef) -> list[cst.Call]:
    """The reads of the functions of this module that `function` hands its capture to (`load_batch(cap, n)`):
    a video read in batches by a helper is read by the helper's `cap.read()`."""
    capture = node.func.value if isinstance(node.func, cst.Attribute) else None
    if not isinstance(capture, cst.Name):
        return []
    module = next((a for a in au.ancestors(rule, function) if isinstance(a, cst.Module)), None)
    if module is None:
        return []
    helpers = {d.name.value: d for d in module.body if isinstance(d, cst.FunctionDef)}
    reads: list[cst.Call] = []
    for call in au.find_all(function, cst.Call):
        if isinstance(call.func, cst.Name) and call.func.value in helpers and call.func.value != function.name.value:
            if any(au.is_name(arg.value, capture.value) for arg in call.args):
                reads.extend(_reads_in(helpers[call.func.value]))
    return reads


def _stops_on_failure(rule: Rule, read: cst.Call) -> bool:
    """`ok, f = cap.read()` directly followed, in the same block, by `if not ok: break` / `return`."""
    assign = au.parent(rule, read)
    if not (
        isinstance(assign, cst.Assign) and len(assign.targets) == 1 and isinstance(assign.targets[0].target, cst.Tuple)
    ):
        return False
    elements = assign.targets[0].target.elements
    if not elements or not isinstance(elements[0].value, cst.Name):
        return False
    flag = elements[0].value.value
    line = au.parent(rule, assign)
    block = au.parent(rule, line)
    body = getattr(block, "body", None)
    if not isinstance(body, (list, tuple)) or line not in body:
        return False
    frame = elements[1].value.value if len(elements) > 1 and isinstance(elements[1].value, cst.Name) else None
    for statement in body[list(body).index(line) + 1 :]:
        if _leaves_when_false(statement, flag):
            return True
        if frame is None or au.find_all(statement, cst.Name, lambda n: n.value in (frame, flag)):
            return False  # the frame (or the flag) is used before the failed read is caught
    return False


def _leaves_when_false(statement: cst.CSTNode, flag: str) -> bool:
    """`if not ok: break` (or `return`, or `continue`: a failed read is skipped), also `if not ok or other:`."""
    if not isinstance(statement, cst.If):
        return False
    tests = [statement.test]
    while isinstance(tests[-1], cst.BooleanOperation) and isinstance(tests[-1].operator, cst.Or):
        tests[-1:] = [tests[-1].right, tests[-1].left]
    if not any(
        isinstance(test, cst.UnaryOperation)
        and isinstance(test.operator, cst.Not)
        and au.is_name(test.expression, flag)
        for test in tests
    ):
        return False
    return bool(au.find_all(statement.body, (cst.Break, cst.Return, cst.Continue)))


def _checked_against_decoded(rule: Rule, node: cst.CSTNode) -> bool:
    """The value (or the name it is assigned to) takes part in a comparison or a min(...).

    `min(num_frames, count)` with nothing but the function's parameters besides the count caps the
    number of samples at the claimed count: a short-clip guard, not a check of what was decoded."""
    current = node
    for _ in range(4):
        up = au.parent(rule, current)
        if isinstance(up, cst.Comparison):
            return True
        if isinstance(up, cst.Arg) and au.is_call_to(au.parent(rule, up), "min"):
            return not _caps_a_parameter(rule, au.parent(rule, up), set(), up)
        if isinstance(up, cst.Assign):
            names = {au.dotted(t.target) for t in up.targets} - {None}
            scope = au.enclosing_scope_node(rule, up)
            for check in au.find_all(
                scope, (cst.Comparison, cst.Call), lambda n: isinstance(n, cst.Comparison) or au.is_name(n.func, "min")
            ):
                if au.names_in(check) & names and not (
                    isinstance(check, cst.Call) and _caps_a_parameter(rule, check, names, None)
                ):
                    return True
            return False
        if up is None or isinstance(up, (cst.SimpleStatementLine, cst.BaseCompoundStatement)):
            return False
        current = up
    return False
