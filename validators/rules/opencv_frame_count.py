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
        `min`/`max`...), and every `ok, f = cap.read()` in the function is followed by
        `if not ok: break` (or `return`), so an overestimate only ends the loop early.

    Why is this bad?
        OpenCV estimates the count from container metadata (duration × fps); for variable frame
        rate files, many webm/mkv files and truncated downloads it is off by a few frames or is
        0 or negative. Indices sampled up to that count then point past the last decodable frame:
        `cap.read()` returns `(False, None)` and the clip gets `None` frames or crashes later.

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
        self.report(node)


_PLAIN = ("int", "float", "round", "max", "min", "range", "print")


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
        if au.is_name(call.func, *_PLAIN) or call is node:
            continue
        if any(target.value in au.names_in(arg.value) for arg in call.args):
            return False  # the count is handed to something (a sampler, a helper): it may pick indices
    reads = au.find_all(
        function, cst.Call, lambda c: isinstance(c.func, cst.Attribute) and c.func.attr.value == "read" and not c.args
    )
    return bool(reads) and all(_stops_on_failure(rule, read) for read in reads)


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
    following = body[list(body).index(line) + 1 :]
    if not following or not isinstance(following[0], cst.If):
        return False
    check = following[0]
    test = check.test
    if not (
        isinstance(test, cst.UnaryOperation)
        and isinstance(test.operator, cst.Not)
        and au.is_name(test.expression, flag)
    ):
        return False
    return bool(au.find_all(check.body, (cst.Break, cst.Return)))


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
