"""The fast tree walk must see exactly what libcst's own visitors see, in the same order."""

from __future__ import annotations

import textwrap
from pathlib import Path

import libcst as cst
import pytest
from libcst.metadata import MetadataWrapper, ParentNodeProvider
from temporalkit.validators import tree
from temporalkit.validators.rules import all_rules

REPO = Path(__file__).resolve().parents[1]

# Our own sources plus every rule example: all statement and expression kinds we have, decorators,
# lambdas, comprehensions, f-strings, match statements below.
EXTRA = """
import numpy as np

@decorator(arg)
class A(Base, metaclass=M):
    x: int = 1

    @property
    async def f(self, a, /, b=2, *args, c: int = 3, **kw) -> "A":
        async with ctx() as (p, q):
            y = [i async for i in aiter() if i if not i]
        return (yield from g()) if a else lambda z, *, w=1: z + w

def g(v):
    match v:
        case {"k": [1, *rest]} | Point(x=0) as p if p:
            pass
        case _:
            del v[0], v.attr
    global G
    t = f"{v!r:>{width}} {v=}"
    s = {**d, 'a': 1}, {1, 2}, (1,), v[1:2:3, ...]
    try:
        raise E from None
    except* (E, F) as e:
        pass
    finally:
        assert v, "m"
    for i, (j, k) in enumerate(zip(a, b)):
        while i := next(it):
            continue
    else:
        x = not -a ** b @ c // d if a < b <= c is not d in e else ~a
"""


def _corpus() -> list[tuple[str, str]]:
    sources = [
        (str(p.relative_to(REPO)), p.read_text())
        for d in ("validators", "temporalkit", "reference_models", "examples")
        for p in sorted((REPO / d).rglob("*.py"))
    ]
    for rule in all_rules():
        for i, example in enumerate([*rule.VALID, *rule.INVALID]):
            sources.append((f"{rule.ID}-{i}", textwrap.dedent(example.code)))
    sources.append(("extra", EXTRA))
    return sources


class _Recorder(cst.CSTVisitor):
    def __init__(self) -> None:
        self.events: list[tuple[cst.CSTNode, bool]] = []

    def on_visit(self, node: cst.CSTNode) -> bool:
        if isinstance(node, tree._FORMATTING):
            return False
        self.events.append((node, False))
        return True

    def on_leave(self, original_node: cst.CSTNode) -> None:
        if not isinstance(original_node, tree._FORMATTING):
            self.events.append((original_node, True))


CORPUS = _corpus()


@pytest.mark.parametrize(
    "name,source",
    # temporalkit: ignore[TK152] -- about 60 files of the corpus, not frames of a clip
    [pytest.param(n, s, id=n) for n, s in CORPUS[:: max(1, len(CORPUS) // 60)]]
    + [pytest.param("extra", EXTRA, id="extra")],
)
def test_walk_matches_libcst_visit_order(name: str, source: str) -> None:
    module = cst.parse_module(source)
    recorder = _Recorder()
    module.visit(recorder)
    ours = list(tree.walk(module))
    assert len(ours) == len(recorder.events)
    for (a, leaving_a), (b, leaving_b) in zip(ours, recorder.events):
        assert a is b and leaving_a == leaving_b, (type(a).__name__, type(b).__name__)


def test_whole_corpus_same_nodes_and_parents() -> None:
    for name, source in CORPUS:
        module = cst.parse_module(source)
        wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
        expected_parents = wrapper.resolve(ParentNodeProvider)
        recorder = _Recorder()
        module.visit(recorder)
        expected = [n for n, leaving in recorder.events if not leaving]
        assert [id(n) for n in tree.nodes(module)] == [id(n) for n in expected], name
        parents = tree.parents(module)
        assert len(parents) == len(expected) - 1, name
        for child, parent in parents.items():
            assert expected_parents[child] is parent, name


def test_find_all_in_source_order_with_predicate() -> None:
    module = cst.parse_module("a = f(g(1), h(2))\nb = x.y(3)\n")
    calls = tree.find_all(module, cst.Call)
    assert [cst.Module([]).code_for_node(c.func) for c in calls] == ["f", "g", "h", "x.y"]
    named = tree.find_all(module, cst.Call, lambda c: isinstance(c.func, cst.Name) and c.func.value != "g")
    assert [c.func.value for c in named] == ["f", "h"]
    assert tree.find_all(calls[1], cst.Call) == [calls[1]]  # the root itself counts


def test_dispatch_calls_visit_and_leave_in_walk_order() -> None:
    module = cst.parse_module("def f():\n    return g(h())\n")
    seen: list[str] = []

    class Visitor:
        def visit_Call(self, node: cst.Call) -> None:
            seen.append(f"visit {node.func.value}")

        def leave_Call(self, node: cst.Call) -> None:
            seen.append(f"leave {node.func.value}")

        def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
            seen.append("def")

    tree.dispatch(module, [Visitor()])
    assert seen == ["def", "visit g", "visit h", "leave h", "leave g"]
