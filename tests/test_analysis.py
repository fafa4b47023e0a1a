"""Qualified names from the bindings table must equal those from libcst's scope analysis."""

from __future__ import annotations

import textwrap
from pathlib import Path

import libcst as cst
import pytest
from temporalkit.validators import syntax, tree
from temporalkit.validators.analysis import Analysis
from temporalkit.validators.rules import all_rules

REPO = Path(__file__).resolve().parents[1]

# Each case is a scoping situation the table must either answer like libcst or hand over to it.
SCOPING_CASES = {
    "plain imports": """
        import numpy as np
        import torch.nn.functional as F
        import os.path
        from torchvision.transforms import v2, Resize as R
        from . import sibling
        from ..pkg.mod import thing as other
        x = np.linspace(0, 1, 3); F.pad(x, (1, 1)); os.path.join("a"); v2.Resize(3); R(3)
        sibling.f(); other.g(); np.random.default_rng().integers(3); (x + 1).view(2); x[0].item()
    """,
    "function-local import": """
        import numpy as np
        def f():
            import torch as np
            return np.zeros(3)
        def g():
            return np.zeros(3)
        def h():
            def inner():
                return cv2.imread("x")
            import cv2
            return inner
        y = cv2.imread("y")
    """,
    "class-body import": """
        class A:
            import random
            x = random.randint(0, 3)
            y = [random.random() for _ in range(3)]
            f = lambda self: random.random()
            def m(self):
                return random.randint(0, 1)
    """,
    "conditional and repeated imports": """
        try:
            import decord
        except ImportError:
            decord = None
        if flag:
            from numpy import linspace as space
        else:
            from torch import linspace as space
        import numpy
        import numpy
        space(0, 1, 3); decord.VideoReader("v"); numpy.arange(3)
    """,
    "shadowing": """
        import numpy as np
        def f(np, input, len):
            return np.zeros(3), input.view(1), len(input)
        def g(frames):
            input = frames
            max = 3
            return input, max(1, 2), min(1, 2), len(frames)
        for np in range(3):
            pass
        [np for np in range(3)]
        def h():
            global np
            np = None
            return np.zeros(2)
        del np
    """,
    "headers and decorators": """
        import functools
        def outer():
            import torch
            @functools.lru_cache(maxsize=torch.cuda.device_count())
            def inner(x=torch.zeros(1), *, y: torch.Tensor = None) -> torch.Tensor:
                return torch.ones(1)
            return inner
    """,
    "star import": """
        from numpy import *
        import torch
        linspace(0, 1, 3); torch.zeros(1); len([])
    """,
    "optional import with a fallback": """
        try:
            import cv2
        except ImportError:
            cv2 = None
        import decord as cv2
        @cv2.decorate(cv2.size)
        def f(path, size=cv2.INTER):
            frames = [cv2.imread(p) for p in path]
            g = lambda: cv2.resize(frames)
            return cv2.VideoCapture(path), g, {k: cv2.flip(k) for k in frames}
        class C:
            reader = cv2.VideoCapture
            def m(self):
                return cv2.cvtColor(self.reader, cv2.COLOR_BGR2RGB)
        def shadowed(cv2):
            return cv2.imread("x")
        def local():
            cv2.imread("before")
            cv2 = 1
            return cv2.real
        cv2.imread("module level")
        len = 3
        def uses_len(x):
            return len(x), len.real
    """,
    "names bound in classes, comprehensions and lambdas": """
        import numpy as np
        step = 4
        class C:
            step = 2
            np = None
            def m(self, n):
                return n // step, np.zeros(step)
            values = [step for _ in range(3)]
            first = [x for x in range(step)]
        def f(n):
            g = lambda k=step: k // step
            return [step for step in range(n)], g, {k: step for k in range(n)}, [s for s in step]
        def outer():
            step = 3
            def inner():
                return step
            class D:
                step = 5
                def m(self):
                    return step
            return inner, D
        for i in range(3):
            step = i
        with open("f") as step:
            pass
        try:
            pass
        except ValueError as np:
            np = np
        def reads(n):
            total = n
            total: int = total // step
            total += 1
            a, step2 = total, 2
            return total // step2
    """,
    "walrus, with, except, match": """
        import json
        with open("f") as fh, ctx() as (a, b):
            data = json.load(fh)
        try:
            pass
        except ValueError as json:
            json.dumps({})
        if (n := len(data)) > 3:
            print(n)
        match data:
            case {"k": json}:
                pass
    """,
}


def _sources() -> list[tuple[str, str]]:
    sources = [(name, textwrap.dedent(code)) for name, code in SCOPING_CASES.items()]
    for directory in ("validators", "temporalkit", "reference_models", "examples", "benchmarks"):
        sources += [(str(p.relative_to(REPO)), p.read_text()) for p in sorted((REPO / directory).rglob("*.py"))]
    for rule in all_rules():
        sources += [
            (f"{rule.ID} example {i}", textwrap.dedent(e.code)) for i, e in enumerate([*rule.VALID, *rule.INVALID])
        ]
    return sources


@pytest.mark.parametrize("name,source", [pytest.param(n, s, id=n) for n, s in _sources()])
def test_table_answers_like_scope_analysis(name: str, source: str) -> None:
    module = cst.parse_module(source)
    analysis = Analysis(module)
    asked = [n for n in tree.nodes(module) if isinstance(n, (cst.Name, cst.Attribute, cst.Call, cst.Subscript))]
    answers = [analysis.qualified_names(n) for n in asked]  # before the scopes exist
    rule = all_rules()[0](Analysis(module))
    names = [n for n in asked if isinstance(n, cst.Name)]
    values = [syntax.visible_assigned_values(rule, n) for n in names]  # the scope table's answers, where it has one
    for node, answer in zip(asked, answers):
        assert answer == analysis.qualified_names_from_scope(node), (name, cst.Module([]).code_for_node(node))
    for node, found in zip(names, values):
        expected = _scope_assigned_values(analysis, node)
        assert [id(v) for v in found] == [id(v) for v in expected], (name, node.value)


def test_table_settles_the_common_cases_without_scope_analysis() -> None:
    module = cst.parse_module(
        textwrap.dedent(SCOPING_CASES["plain imports"]) + textwrap.dedent(SCOPING_CASES["function-local import"])
    )
    analysis = Analysis(module)
    for node in tree.nodes(module):
        analysis.qualified_names(node)
    assert not analysis.scopes_resolved


def test_an_optional_import_read_in_functions_needs_no_scope_analysis() -> None:
    # `try: import cv2 / except ImportError: cv2 = None`, read in functions: the scope table answers
    # (libcst's scope analysis was most of the time spent on such files, and quadratic on a file
    # that repeats the pattern n times).
    source = "try:\n    import cv2\nexcept ImportError:\n    cv2 = None\n\n"
    source += "".join(f"def read{i}(p, n):\n    k = n // 2\n    return cv2.imread(p)[k]\n" for i in range(3))
    module = cst.parse_module(source * 2)
    analysis = Analysis(module)
    rule = all_rules()[0](analysis)
    calls = tree.find_all(module, cst.Call, lambda c: isinstance(c.func, cst.Attribute))
    assert [analysis.qualified_names(c.func) for c in calls] == [{"cv2.imread"}] * 6
    ks = [n for n in tree.find_all(module, cst.Name) if n.value == "k" and not syntax.bound_name(rule, n)]
    assert [syntax.code(v) for n in ks for v in syntax.assigned_values(rule, n)] == ["n // 2"] * 6
    assert not analysis.scopes_resolved


def test_examples_of_answers() -> None:
    module = cst.parse_module(textwrap.dedent(SCOPING_CASES["function-local import"]))
    analysis = Analysis(module)
    calls = [
        (cst.Module([]).code_for_node(c), analysis.qualified_names(c.func)) for c in tree.find_all(module, cst.Call)
    ]
    assert calls == [
        ("np.zeros(3)", {"torch.zeros"}),  # inside f, np is torch
        ("np.zeros(3)", {"numpy.zeros"}),  # inside g, the module's numpy
        ('cv2.imread("x")', {"cv2.imread"}),  # inner sees h's import
        ('cv2.imread("y")', set()),  # module level: cv2 is only imported inside h
    ]


# `name = value` statements that the module-wide prefilter of syntax.assigned_values must not
# miss: a `global` / `nonlocal` declaration makes another function's assignment the visible one.
ASSIGNMENT_CASES = {
    "global elsewhere": """
        def setup():
            global N
            N = 5
        def use(total):
            return total // N
    """,
    "nonlocal": """
        def outer(total):
            k = 2
            def bump():
                nonlocal k
                k = 4
            bump()
            return total // k
    """,
    "class and function levels": """
        T = 8
        class C:
            T = 4
            def f(self, n):
                T = 2
                return n // T, [n // T for _ in range(3)]
            g = lambda self, n: n // T
        def h(n, T=T):
            return n // T
    """,
}


def _scope_assigned_values(analysis: Analysis, name_node: cst.Name) -> list[cst.BaseExpression]:
    """What syntax.assigned_values answered before its prefilter: always through the scopes."""
    if not analysis.may_be_assigned(name_node.value):
        return []
    scope = analysis.scope_of(name_node)
    if scope is None:
        return []
    values = []
    order = analysis.source_order
    for assignment in sorted(
        scope[name_node.value], key=lambda a: (getattr(a, "_index", 0), order(getattr(a, "node", None)))
    ):
        target = getattr(assignment, "node", None)
        if not isinstance(target, cst.Name):
            continue
        holder = analysis.parents.get(target)
        assign = analysis.parents.get(holder) if isinstance(holder, cst.AssignTarget) else holder
        if isinstance(assign, (cst.Assign, cst.AnnAssign)) and assign.value is not None:
            values.append(assign.value)
    return values


def _assignment_sources() -> list[tuple[str, str]]:
    sources = [(name, textwrap.dedent(code)) for name, code in {**SCOPING_CASES, **ASSIGNMENT_CASES}.items()]
    for rule in all_rules():
        sources += [
            (f"{rule.ID} example {i}", textwrap.dedent(e.code)) for i, e in enumerate([*rule.VALID, *rule.INVALID])
        ]
    return sources


def test_assigned_values_and_constant_name_answer_like_scope_analysis() -> None:

    rule_class = all_rules()[0]
    for name, source in _assignment_sources():
        module = cst.parse_module(source)
        rule = rule_class(Analysis(module))
        names = [n for n in tree.nodes(module) if isinstance(n, cst.Name)]
        answers = [
            (syntax.visible_assigned_values(rule, n), syntax.assigned_values(rule, n), syntax.constant_name(rule, n))
            for n in names
        ]
        reference = Analysis(module)
        for node, (values, reaching, constant) in zip(names, answers):
            expected = _scope_assigned_values(reference, node)
            assert [id(v) for v in values] == [id(v) for v in expected], (name, node.value)
            assert {id(v) for v in reaching} <= {id(v) for v in values} and (reaching or not values)
            assert constant == (bool(reaching) and all(syntax.int_value(v) is not None for v in reaching))


def test_names_without_a_visible_assignment_need_no_scope_analysis() -> None:

    module = cst.parse_module(
        textwrap.dedent("""
            def other():
                num_segments = 3
                return num_segments
            def f(results, num_segments, step):
                step = results["total_frames"] // num_segments
                return step
        """)
    )
    rule = all_rules()[0](Analysis(module))
    divisions = tree.find_all(module, cst.BinaryOperation)
    assert not syntax.constant_name(rule, divisions[0].right)  # a parameter; `= 3` is in another function
    assert syntax.assigned_values(rule, divisions[0].right) == []
    assert not rule.analysis.scopes_resolved


@pytest.mark.parametrize("name,source", [pytest.param(n, s, id=n) for n, s in _assignment_sources()[:40]])
def test_syntactic_positions_equal_libcsts_position_provider(name: str, source: str) -> None:
    from libcst.metadata import MetadataWrapper, PositionProvider
    from temporalkit.validators.analysis import syntactic_positions

    module = cst.parse_module(source)
    reference = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    ours = syntactic_positions(module)
    assert len(ours) == len(reference)
    for node, r in reference.items():
        assert ours[node] == ((r.start.line, r.start.column), (r.end.line, r.end.column)), name


def test_syntactic_positions_on_the_projects_own_sources() -> None:
    from libcst.metadata import MetadataWrapper, PositionProvider
    from temporalkit.validators.analysis import syntactic_positions

    for path in sorted((REPO / "validators").rglob("*.py")) + sorted((REPO / "examples").rglob("*.py")):
        module = cst.parse_module(path.read_text())
        reference = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
        ours = syntactic_positions(module)
        for node, r in reference.items():
            assert ours[node] == ((r.start.line, r.start.column), (r.end.line, r.end.column)), path


def test_syntactic_positions_with_crlf_continuations_and_tabs() -> None:
    from libcst.metadata import MetadataWrapper, PositionProvider
    from temporalkit.validators.analysis import syntactic_positions

    source = 'import numpy as np\r\ndef f(n,\r\n\tT):\r\n\tx = n - \\\r\n\t\tT  # c\r\n\treturn np.arange(x)[::2], """a\r\nb"""\r\n'
    module = cst.parse_module(source)
    reference = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    ours = syntactic_positions(module)
    assert {n: ((r.start.line, r.start.column), (r.end.line, r.end.column)) for n, r in reference.items()} == ours


@pytest.mark.parametrize(
    ("source", "reaching"),
    [
        # another branch's assignment cannot reach the use: this branch assigns first
        (
            "def f(n, T, mode):\n    if mode:\n        s = n / T\n    else:\n        s = n // T\n        use(s)\n",
            ["n // T"],
        ),
        # an assignment in a nested block after the one always made still may
        ("def f(n, T):\n    s = n // T\n    if s == 0:\n        s = 1\n    use(s)\n", ["n // T", "1"]),
        # an earlier straight-line assignment is replaced
        ("def f(n, T):\n    s = 0\n    s = n // T\n    use(s)\n", ["n // T"]),
        # inside a loop that starts after it, the next iteration's assignment reaches the use
        ("def f(n, T):\n    s = 0\n    for i in range(3):\n        use(s)\n        s = n // T\n", ["0", "n // T"]),
        # nothing always made before the use in its blocks: every visible assignment
        (
            "def f(n, T, a):\n    if a:\n        s = n / T\n    else:\n        s = n // T\n    use(s)\n",
            ["n / T", "n // T"],
        ),
    ],
)
def test_assigned_values_keep_only_assignments_that_can_reach_the_use(source: str, reaching: list[str]) -> None:
    module = cst.parse_module(source)
    rule = all_rules()[0](Analysis(module))
    use = next(
        n.args[0].value
        for n in tree.nodes(module)
        if isinstance(n, cst.Call) and isinstance(n.func, cst.Name) and n.func.value == "use"
    )
    assert [module.code_for_node(v) for v in syntax.assigned_values(rule, use)] == reaching
