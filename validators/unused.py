"""Code nothing in the audited tree uses: its findings are held back (`--include-unused` shows them).

A rule sees one file. Whether the function it reports on ever runs is a question about the whole
tree: real repositories keep readers that every dataset stopped calling but still import, a class
imported and never instantiated. A finding there is not wrong, but nobody would accept a fix for
it, so when directories are audited such a finding is counted in the summary, not reported.

    facts = file_facts(text)                     # per file content, cached (facts-*.json)
    shown, held = hold_back_unused(findings, audited, directories, config_root, store)

What a file records (`file_facts`). The text is read, not imported and not parsed: string
literals and comments are blanked first (line numbers kept), so a call in a comment or a `def` in
a docstring is not code. A few regular-expression passes per file (about a third of the time
CPython's `ast` takes to parse it).
- `defs`: its top-level functions and classes (a `def` / `class` line at column 0), each with its
  lines (decorators included), whether a decorator makes it live whatever the rest of the tree
  does (any decorator but a plain wrapper such as `@torch.no_grad()` or `@lru_cache`: a registry
  such as `@TRANSFORMS.register_module()` or `@DATASET_REGISTRY.register()`, a CLI command, a
  hook), and whether it is a class with bases.
- `uses` (its module-level code) and `def_uses` (one entry per definition): every name the code
  could be using: identifiers, the identifiers inside string literals without white space
  (`type='SampleFrames'`, `__all__`, `getattr(m, "name")`, `"pkg.mod:main"`; an error message or
  a docstring that mentions `random_crop` does not use it), on a line that looks a name up (getattr,
  globals()[...], import_module) the prefixes and suffixes of names built at run time
  (`f"read_{kind}"`, `"read_%s" % kind`, `"read_" + kind`: `read_*`), and a marker for
  `getattr(module, computed)` (every name of that module; `getattr(self.x, name)` reads an object;
  with `import_module(computed)` every name of every module, unless the module name is a literal
  that starts from a package outside the tree: mmcv's `import_module(f"torchvision.models.{name}")`). Not uses: a name inside the function
  or class of that name (recursion, `super(Cls, self)`), and import statements. A file that calls
  `globals()`, `vars()`, `locals()`, `eval`, `exec` (but for `eval(meta["key"])`, data) or reads
  `sys.modules[...]` uses all its own definitions and all it imports.
- `exports`: the names its import statements bind (an `__init__.py`'s are its package's API), and
  `bound`: for each absolute `from module import name`, the local name and the module. A name bound
  from a module outside the tree (`from torchvision.datasets.samplers import UniformClipSampler`)
  is not a use of the tree's own definition of that name in that file.

What is held back (`hold_back_unused`): a finding inside a top-level function or class (a method
is judged by its class) of a module that is part of a program (one some import statement names,
one in a package: a folder with an `__init__.py`, or a file of definitions only beside modules
the program imports: a flat layout's unused copy of `mixup.py`) that no live code reaches. A lone
file nothing imports (a script: a `__main__` block or a module-level call; another project's
library module; examples) is not judged. Live, the roots: module-level code (and
`if __name__ == "__main__":`, definitions nested in a module-level `if` / `try`), definitions live
by a decorator or by their file (`__init__.py`, `__main__.py`, `setup.py`, `conftest.py`,
`hubconf.py`, `test_*.py`, `*_test.py`: files another program loads by name), the names an
`__init__.py` re-exports, and every name another file of the project has as a whole word:
configuration files (YAML, JSON, TOML, INI, notebooks, shell scripts, Markdown) and Python files
the audit did not read (excluded, outside the audited folders, undecodable). What live code uses is
live in turn, so a reader that only a dead dataset calls is dead too. A mention inside
`if p is None:` of a module-level function whose every caller passes `p` a literal is not a use
either (SlowFast's `spatial_sampling` crops with `random_crop` only when `aspect_ratio` and `scale`
are None; forks that always pass them never run it). Names are not resolved to
modules (any `crop` keeps every `crop` live); where the text of at most MAX_FILES_TO_VERIFY files
names a definition with a finding, their syntax trees and symbol tables decide (a local variable
or parameter of the same name is not a use). The project is the git work tree holding the audited
folder, else the folder of the pyproject.toml in use when it holds it, else the folder itself.

A finding inside `if x == "name":` (or its `elif`) is held back too when the string `name`
occurs nowhere else in the project (another file of any kind, or elsewhere in its own file): no
config, argument choice or caller can select that branch (`__name__ == "__main__"` aside). So is
one inside a branch that runs only when a parameter leaves its default (`if self.flag:` with
`flag=False`, its `else` after `if not self.flag:`, `if method == "resize":` with
`method="centercrop"`) where its own file never passes the parameter by keyword or sets it
otherwise, and no other file names it.

Modules are also followed through the import graph (`_modules_no_program_reaches`): a judged
module that no chain of import statements reaches from an entry (a file that runs, a test,
`setup.py`, each `__init__.py` of a top-level package nothing outside it imports) has every finding
held back even when its names are used elsewhere: a fork's vendored copy of another project's
`datasets/` package, whose `random_crop` shares its name with the fork's live one. A script nothing
imports is judged with its own module-level code as the root.

So a package's module nothing imports (vendored code, a fork's leftovers) has its findings held
back unless something in it is run by path: a script's module-level code keeps what it calls live. A library
whose public functions are for other projects should re-export them from its `__init__.py`, or
audit with `--include-unused` (config `include-unused = true`).

The decision is made at the end of every run from all files' facts, cached or not: an edit in one
file that starts using a function makes the findings inside it (in another file) reported again.
Only directories give a tree: when any path given is a file (the pre-commit hook passes the
changed files), nothing is held back. `--fix` still fixes held-back findings: holding back
changes what is reported, not what is audited.
"""

from __future__ import annotations

import os
import re
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from pathlib import Path

# Decorators that wrap a function without making anything else call it. Any other decorator may
# register the function (a registry, a CLI command, a plugin hook), so it makes the function live.
PLAIN_DECORATORS = frozenset(
    {
        "abstractmethod",
        "autocast",
        "cache",
        "cached_property",
        "classmethod",
        "contextmanager",
        "dataclass",
        "enable_grad",
        "inference_mode",
        "jit",
        "lru_cache",
        "njit",
        "no_grad",
        "property",
        "staticmethod",
        "total_ordering",
        "wraps",
    }
)
# Files whose functions another program finds by name (pytest, torch.hub, setuptools, python -m),
# and a package's __init__.py (its public API).
ENTRY_FILES = frozenset({"__init__.py", "__main__.py", "conftest.py", "hubconf.py", "setup.py"})
# Text files whose words may name a function or class (a registry key, a `_target_`, a notebook
# cell); read only when something would otherwise be held back.
CONFIG_SUFFIXES = (".yaml", ".yml", ".json", ".toml", ".cfg", ".ini", ".conf", ".ipynb", ".sh", ".md", ".rst")
PYTHON_SUFFIXES = (".py", ".pyi", ".pyx")
MAX_TEXT_BYTES = 5 * 1024 * 1024
# A name the text of at most this many files uses is checked in their syntax trees (a local
# variable of the same name is not a use); one more widely used is taken as used.
MAX_FILES_TO_VERIFY = 8

# A string literal or a comment, in one left-to-right scan (as triggers.py reads
# code), so that a '#' inside a string or a quote inside a comment is read correctly.
_STRING_OR_COMMENT = re.compile(
    r"""(?P<s>\"\"\"[\s\S]*?\"\"\"|'''[\s\S]*?'''|"(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*')|#[^\n]*"""
)
_IDENTIFIER = re.compile(r"(?!\d)\w+")
_PROSE = re.compile(r"\s")  # a string with white space is text for people, not a name looked up
_TOP_DEF = re.compile(r"(?:async[ \t]+)?def[ \t]+(\w+)|class[ \t]+(\w+)[ \t]*(\([^)]*)?")
_DECORATOR = re.compile(r"@[ \t]*([\w.]+)")
# Import statements (at any depth), to the end of the line or of their parentheses; `;` ends one.
_IMPORT = re.compile(
    r"^[ \t]*(?:from[ \t]+(?P<module>[\w.]+)[ \t]+import[ \t]*(?P<names>\([^)]*\)|(?:[^\n;\\]|\\\n)*)"
    r"|import[ \t]+(?P<plain>(?:[^\n;\\]|\\\n)*))",
    re.MULTILINE,
)
_PREFIX_BEFORE_FORMAT = re.compile(r"(\w+)(?:%[-#0 +]*[\d.]*[sdrif]|\{[^{}]*\})")
_SUFFIX_AFTER_FORMAT = re.compile(r"(?:%[-#0 +]*[\d.]*[sdrif]|\{[^{}]*\})(\w+)")
_TRAILING_NAME = re.compile(r"(?!\d)\w+$")
_LEADING_NAME = re.compile(r"\w+")
# Module-level code that does something when the file is run: a `__main__` block, a loop or a
# `with`, a statement that is a call (`main()`, `fire.Fire(...)`), arguments parsed.
_DOES_WORK = r"^(?:for|while|with|async)\b|^[\w.]+(?:\[[^\]\n]*\])*[ \t]*\(|parse_args\("
_RUNS = re.compile(r"__name__|" + _DOES_WORK, re.MULTILINE)
# A program's entry: a `__main__` block, module-level statements that do work, arguments parsed
# (`__name__` alone is in most library modules: `logging.getLogger(__name__)`).
_ENTRY = re.compile(r"__name__\s*==|==\s*__name__|" + _DOES_WORK, re.MULTILINE)
# A command-line wrapper handed no object exposes every function of the module (`fire.Fire()`).
_EXPOSES_MODULE = re.compile(r"\bFire\(\s*\)")
_ATTRIBUTE = re.compile(r"\.[ \t]*((?!\d)\w+)")
_GETATTR_COMPUTED = re.compile(r"\bgetattr\(\s*([\w.]+)\s*,\s*(?!\"\"\s*[,)])")
# eval/exec of an entry read by a literal key (`eval(meta["@nb_frames"])`, a frame rate such as
# "30000/1001" from ffprobe's JSON) evaluates data, not a name of the module.
_DYNAMIC_SCOPE = re.compile(
    r"(?<![\w.])(?:(?:globals|locals|vars)\(\s*\)|(?:eval|exec)\((?![\w.]+\[\"\"\]\s*\)))|\bsys\.modules\["
)

_IMPORT_CALL = re.compile(r"\b(?:import_module|__import__)\(\s*(f?)(\"\")?")
# The package a literal module name starts from: "torchvision.models.{}" -> torchvision.
_PACKAGE_ROOT = re.compile(r"([A-Za-z_]\w*)\.[\w.]*?(?:\{|%|$)")
# Markers in `uses`, never identifiers: `name*` a prefix, `*name` a suffix, `*module:stem` every
# name of the modules called stem, `*module:*` every name of every module.
_MODULE_MARK = "*module:"
_PACKAGE_MARK = "*package:"  # `*package:torchvision`: modules loaded by computed names from that package


def file_facts(text: str) -> dict:
    """{"uses": space-separated names and markers, "defs": [[name, first, last, live, kind]]}.

    first / last: 1-based lines; live: 1 when a decorator makes the definition live; kind: "f"
    (function), "c" (class with bases) or "C" (class without). Depends on the text only, not on
    the path (the same content may live at several paths; see `live_by_path`)."""
    code, strings = _blank(text)
    imported: set[str] = set()
    modules: dict[str, str] = {}  # local name of an imported module -> the module's own name
    public: set[str] = set()  # what an __init__.py would re-export
    star_modules: set[str] = set()
    targets: set[str] = set()  # the modules its import statements name, as written (`.x`, `a.b`)
    bound: set[str] = set()  # local=module of each name an absolute `from module import name` binds
    sources: dict[str, set[str]] = {}  # local name -> "module:name" of each `from module import name [as local]`

    def drop_import(match: re.Match) -> str:
        _record_import(match, imported, modules, public, star_modules, targets, bound, sources)
        return "\n" * match.group().count("\n")

    code = _IMPORT.sub(drop_import, code)
    lines = code.split("\n")
    defs = _top_level_defs(lines)

    uses: set[str] = set()
    # Each definition's names less its own name; then the module-level lines.
    own_uses: list[set[str]] = []
    module_lines: list[str] = []
    previous = 0
    for name, first, last, _, _ in defs:
        module_lines.extend(lines[previous : first - 1])
        previous = last
        own_uses.append(set(_IDENTIFIER.findall("\n".join(lines[first - 1 : last]))))
    module_lines.extend(lines[previous:])
    module_code = "\n".join(module_lines)
    uses.update(_IDENTIFIER.findall(module_code))
    starts = [d[1] for d in defs]
    in_strings: set[str] = set()
    for line, content, joined in strings:
        at = bisect_right(starts, line) - 1
        into = own_uses[at] if at >= 0 and line <= defs[at][2] else uses
        if not _PROSE.search(content):  # a registry key, `__all__`, "pkg.mod:main"; not a message or a docstring
            words = _IDENTIFIER.findall(content)
            into.update(words)
            in_strings.update(words)
        # A name built at run time only matters where it is looked up (getattr, globals()[...]).
        if not _looks_up(lines[line - 1]) and not (line > 1 and _looks_up(lines[line - 2])):
            continue
        if "%" in content or "{" in content:  # "read_%s" % kind, f"read_{kind}", "{}_reader".format(kind)
            uses.update(m + "*" for m in _PREFIX_BEFORE_FORMAT.findall(content))
            uses.update("*" + m for m in _SUFFIX_AFTER_FORMAT.findall(content))
        if joined & 1:  # run-time names: "read_" + kind
            match = _TRAILING_NAME.search(content)
            if match:
                uses.add(match.group() + "*")
        if joined & 2:  # kind + "_reader"
            match = _LEADING_NAME.match(content)
            if match:
                uses.add("*" + match.group())
    for d, own in zip(defs, own_uses):
        own.discard(d[0])  # recursion and super(Cls, self) are not uses

    for target in _GETATTR_COMPUTED.findall(code) if "getattr(" in code else ():
        if target.split(".", 1)[0] in ("self", "cls"):
            continue  # an attribute or a method of an object: the class is what this pass judges
        stem = target.rsplit(".", 1)[-1]
        uses.add(_MODULE_MARK + modules.get(stem, stem))
    if ("import_module(" in code or "__import__(" in code) and any(u.startswith(_MODULE_MARK) for u in uses):
        # getattr on a module loaded by a computed name: any module of the tree, unless every such
        # import names its package in a literal (`import_module(f"torchvision.models.{name}")`),
        # which then matters only if the tree holds that package (see `_Reachability`).
        roots = _imported_package_roots(code, strings)
        uses.update({_MODULE_MARK + "*"} if roots is None else {_PACKAGE_MARK + root for root in roots})
    if _maybe_dynamic(code) and _DYNAMIC_SCOPE.search(code):  # globals()[name], eval(text): any name may be the one
        uses.update(d[0] for d in defs)
        uses.update(imported)
    if _EXPOSES_MODULE.search(code):
        for d in defs:
            d[3] = 1
    facts = {
        "uses": " ".join(sorted(uses)),
        "defs": defs,
        "def_uses": [" ".join(sorted(own)) for own in own_uses],
        "imports": " ".join(sorted(targets)),
        "bound": " ".join(sorted(bound)),
        "resolved": _resolved_names(code, defs, sources, imported, in_strings, uses),
    }
    if _RUNS.search(module_code):
        facts["runs"] = 1
    if _ENTRY.search(module_code):
        facts["entry"] = 1
    if public or star_modules:
        facts["exports"] = " ".join(sorted(public | {_MODULE_MARK + m for m in star_modules}))
    return facts


def _resolved_names(
    code: str, defs: list[list], sources: dict[str, set[str]], imported: set[str], in_strings: set[str], uses: set[str]
) -> str:
    """`local=module:name` for each name whose every mention in the file's code is a bare name
    bound once: by its own top-level `def` / `class` (`local=:local`) or by one `from module import
    name [as local]`. Those mentions use that one definition, not every definition of the name in
    the tree (a fork's image module and video module each calling their own `sample_frames`). A name
    also read as an attribute (`.name`), in a string, or bound both ways stays unresolved."""
    if _MODULE_MARK + "*" in uses or (_maybe_dynamic(code) and _DYNAMIC_SCOPE.search(code)):
        return ""
    own = [d[0] for d in defs]
    own_once = {name for name in own if own.count(name) == 1}
    attributes = set(_ATTRIBUTE.findall(code)) | in_strings
    resolved = []
    for name in own_once - attributes - set(sources) - imported:
        resolved.append(f"{name}=:{name}")
    for local, origins in sources.items():
        if len(origins) == 1 and local not in attributes and local not in own:
            resolved.append(f"{local}={next(iter(origins))}")
    return " ".join(sorted(resolved))


def _imported_package_roots(code: str, strings: list[tuple[int, str, int]]) -> set[str] | None:
    """The packages the file's import_module / __import__ calls load from, each read from a literal
    module name that starts with a package and a dot; None when any call's module is computed
    from its first character (or the literal cannot be found)."""
    roots: set[str] = set()
    by_line: dict[int, list[str]] = {}
    for line, content, _ in strings:
        by_line.setdefault(line, []).append(content)
    for match in _IMPORT_CALL.finditer(code):
        if match.group(2) is None:
            return None
        line = code.count("\n", 0, match.start()) + 1
        before = code[code.rfind("\n", 0, match.start()) + 1 : match.start()].count('""')
        contents = by_line.get(line, [])
        literal = _PACKAGE_ROOT.match(contents[before]) if before < len(contents) else None
        if literal is None:
            return None
        roots.add(literal.group(1))
    return roots


def _maybe_dynamic(code: str) -> bool:
    return (
        "globals(" in code
        or "locals(" in code
        or "vars(" in code
        or "eval(" in code
        or "exec(" in code
        or ("sys.modules[" in code)
    )


def _blank(text: str) -> tuple[str, list[tuple[int, str, int]]]:
    """(text with each string literal replaced by `""` and each comment removed, newlines kept;
    [(line, string content, joined)]) where joined has bit 1 when `+` follows the literal and bit 2
    when `+` precedes it."""
    pieces: list[str] = []
    strings: list[tuple[int, str, int]] = []
    position = 0
    line = 1
    for match in _STRING_OR_COMMENT.finditer(text):
        start, end = match.span()
        pieces.append(text[position:start])
        line += text.count("\n", position, start)
        literal = match.group()
        if match.group("s") is None:  # a comment
            position = end
            continue
        newlines = literal.count("\n")
        pieces.append('""' + "\n" * newlines)
        joined = 0
        after = text[end : end + 8].lstrip(" \t")
        if after.startswith("+"):
            joined |= 1
        if text[max(0, start - 8) : start].rstrip(" \t").endswith("+"):
            joined |= 2
        quote = 3 if literal[:3] in ('"""', "'''") else 1  # a prefix (f, rb) stays in the code, as a name
        strings.append((line, literal[quote:-quote], joined))
        line += newlines
        position = end
    pieces.append(text[position:])
    return "".join(pieces), strings


_LOOKUPS = ("getattr(", "hasattr(", "globals(", "locals(", "vars(", "eval(", "exec(", "__dict__", "modules[")
_LOOKUPS += ("import_module(", "__import__(")


def _looks_up(line: str) -> bool:
    return "(" in line and any(token in line for token in _LOOKUPS)


def _record_import(
    match: re.Match,
    imported: set[str],
    modules: dict[str, str],
    public: set[str],
    stars: set[str],
    targets: set[str],
    bound: set[str],
    sources: dict[str, set[str]],
) -> None:
    plain = match.group("plain")
    if plain is not None:  # import a.b.c, import a.b as c
        for part in plain.replace("\\\n", " ").split(","):
            words = part.split()
            if not words:
                continue
            name = words[0]
            local = words[2] if len(words) >= 3 and words[1] == "as" else name.split(".")[0]
            imported.add(local)
            modules[local] = name.rsplit(".", 1)[-1] if local != name.split(".")[0] else local
            public.add(local)
            targets.add(name)
        return
    module = match.group("module")
    targets.add(module)
    names = match.group("names").strip().strip("()").replace("\\\n", " ")
    for part in names.split(","):
        words = part.split()
        if not words:
            continue
        if words[0] == "*":
            stars.add(module.rsplit(".", 1)[-1] or module)
            continue
        local = words[2] if len(words) >= 3 and words[1] == "as" else words[0]
        imported.add(local)
        modules[local] = words[0]  # `from pkg import models` binds a module as often as a function
        public.update((words[0], local))
        sources.setdefault(local, set()).add(f"{module}:{words[0]}")
        if not module.startswith("."):
            bound.add(f"{local}={module}")
        targets.add(module + words[0] if module.endswith(".") else f"{module}.{words[0]}")  # maybe a submodule


def _top_level_defs(lines: list[str]) -> list[list]:
    """[name, first, last, live, kind] for each `def` / `class` at column 0 of the blanked lines.

    A definition ends before the next line of code at column 0. A continuation line at column 0
    inside a body ends it early: the rest then counts as module-level code, which is live."""
    defs: list[list] = []
    current: list | None = None
    decorators: list[tuple[int, str]] = []
    last_code = 0
    for number, line in enumerate(lines, 1):
        # An indented line, or a closing bracket at column 0 (black's `) -> Clip:` after a long
        # signature), continues the statement above.
        if not line or line[0] in " \t\f)]}" or line.isspace():
            if line.strip():
                last_code = number
            continue
        if current is not None:
            current[2] = last_code
            defs.append(current)
            current = None
        last_code = number
        if line[0] == "@":
            decorators.append((number, line))
            continue
        match = _TOP_DEF.match(line)
        if match is None:
            decorators = []
            continue
        name = match.group(1) or match.group(2)
        live = any(not _plain_decorator(text) for _, text in decorators)
        bases = match.group(3)
        closed = bases is not None and line[match.end() : match.end() + 1] == ")"
        plain_class = bases is None or (closed and bases.strip("( \t") in ("", "object"))
        kind = "f" if match.group(1) else ("C" if plain_class else "c")
        first = decorators[0][0] if decorators else number
        current = [name, first, number, int(live), kind]
        decorators = []
    if current is not None:
        current[2] = last_code
        defs.append(current)
    return defs


def _plain_decorator(line: str) -> bool:
    match = _DECORATOR.match(line)
    if match is None:
        return False
    name = match.group(1).rsplit(".", 1)[-1]
    return name in PLAIN_DECORATORS or name == "setter"


def valid_facts(facts: object) -> bool:
    """Whether a cached `facts` value has the shape `file_facts` gives (anything else: recompute)."""
    if not isinstance(facts, dict) or not isinstance(facts.get("uses"), str):
        return False
    if not isinstance(facts.get("exports", ""), str) or not isinstance(facts.get("resolved", ""), str):
        return False
    if facts.get("runs", 0) not in (0, 1) or facts.get("entry", 0) not in (0, 1):
        return False
    if not isinstance(facts.get("imports"), str) or not isinstance(facts.get("bound"), str):
        return False
    defs, def_uses = facts.get("defs"), facts.get("def_uses")
    if not isinstance(defs, list) or not isinstance(def_uses, list) or len(def_uses) != len(defs):
        return False
    return all(isinstance(u, str) for u in def_uses)  # the entries of defs are checked where read (`_defs`)


def _defs(facts: dict) -> list[list]:
    """The definitions of `facts`; [] (all its code live) when one has another shape than `file_facts` gives."""
    defs = facts["defs"]
    for d in defs:
        if not (isinstance(d, list) and len(d) == 5 and isinstance(d[0], str)):
            return []
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in d[1:4]) or d[4] not in ("f", "c", "C"):
            return []
    return defs


def live_by_path(path: str) -> bool:
    """Whether every definition of the file at `path` is live by its name alone."""
    name = os.path.basename(path)
    return name in ENTRY_FILES or name.startswith("test_") or name.endswith("_test.py")


def module_stem(path: str) -> str:
    stem = Path(path).stem
    return Path(path).parent.name if stem == "__init__" else stem


def _part(piece: str) -> bool:
    """Whether a prefix or suffix of a name built at run time is one a definition could be chosen
    by: `read_` or `_reader`, or six characters at least (`"vid{}.mp4"` names files, not code)."""
    return len(piece) >= 6 or (len(piece) >= 3 and (piece[-1] == "_" or piece[0] == "_"))


class _UseIndex:
    """The union of every file's uses, with its markers split out."""

    def __init__(self, words: set[str]) -> None:
        self.prefixes = tuple(p for w in words if w.endswith("*") and not w.startswith("*") and _part(p := w[:-1]))
        self.suffixes = tuple(
            s for w in words if w.startswith("*") and not w.startswith(_MODULE_MARK) and _part(s := w[1:])
        )
        self.module_stems = {w[len(_MODULE_MARK) :] for w in words if w.startswith(_MODULE_MARK)}
        self.names = words

    def uses(self, name: str, stem: str, kind: str) -> bool:
        return name in self.names or self.matches_marker(name, stem, kind)

    def matches_marker(self, name: str, stem: str, kind: str) -> bool:
        if "*" in self.module_stems or stem in self.module_stems:
            return True
        if self.prefixes and name.startswith(self.prefixes):
            return True
        if self.suffixes and name.endswith(self.suffixes):
            return True
        return kind == "c" and ("__subclasses__" in self.names or "__init_subclass__" in self.names)


def hold_back_unused(
    findings: Sequence,
    audited: Sequence[tuple[str, Path, str]],
    directories: Sequence[Path],
    config_root: Path | None = None,
    store=None,
) -> tuple[list, list]:
    """(findings to report, findings held back as being in code nothing in the tree uses): in a
    definition no live code reaches, or in a branch no value of the project selects."""
    shown, held = _hold_back_unreached_definitions(findings, audited, directories, config_root, store)
    shown, unselected = _hold_back_unselected_branches(shown, audited, directories, config_root)
    if unselected:
        order = {id(f): i for i, f in enumerate(findings)}
        held = sorted([*held, *unselected], key=lambda f: order[id(f)])
    return shown, held


def _hold_back_unselected_branches(
    findings: Sequence, audited: Sequence[tuple[str, Path, str]], directories: Sequence[Path], config_root: Path | None
) -> tuple[list, list]:
    """Findings inside `if x == "name":` (or `elif`) where the string `name` occurs nowhere else in
    the project: not in another file (Python, config, script, Markdown) and only once in its own
    (an error message listing the choices, in a `raise`, selects none).
    No configuration, argument choice or caller can make `x` equal it, so the branch never runs
    (ALPRO's `frm_sampling_strategy == 'nlvl_uniform'`, a strategy no config names). Likewise
    inside a branch that runs only when a parameter leaves its default (`if self.flag:` with
    `flag=False`, `if method == "resize":` with `method="centercrop"`) where its own file never
    passes or sets the parameter otherwise and no other file names it (a `dense_sample` switch
    nobody turns on; one set by a positional argument from another file is missed)."""
    import ast

    by_display = {display: path for display, path, _ in audited}
    branches: dict[int, tuple[str, list[str]]] = {}  # finding's position -> (display, its selecting words)
    trees: dict[str, tuple[object, str] | None] = {}
    for index, finding in enumerate(findings):
        if finding.path not in by_display or finding.category == "meta":
            continue
        if finding.path not in trees:
            text = _text_of(by_display[finding.path])
            tree = None
            if text is not None and ("== '" in text or '== "' in text or "if " in text):
                try:
                    tree = ast.parse(text)
                except (SyntaxError, ValueError, RecursionError, MemoryError):
                    tree = None
            trees[finding.path] = (tree, _without_error_messages(tree, text)) if tree is not None else None
        parsed = trees[finding.path]
        if parsed is None:
            continue
        keys = []  # words such that if any occurs nowhere else, nothing selects the branch
        literal = _selecting_literal(parsed[0], finding.line)
        if literal is not None and len(re.findall(rf"(?<!\w){re.escape(literal)}(?!\w)", parsed[1])) == 1:
            keys.append(literal)
        parameter = _flag_off_by_default(parsed[0], finding.line)
        if parameter is not None:
            keys.append(parameter)
        if keys:
            branches[index] = (finding.path, keys)
    if not branches:
        return list(findings), []
    words = {word for _, keys in branches.values() for word in keys}
    with_branches = {by_display[display] for display, _ in branches.values()}
    others = [path for _, path, _ in audited if path not in with_branches]
    found = names_in_files(words, others)
    if words - found:
        read = {os.path.abspath(path) for _, path, _ in audited}
        found |= names_in_files(words - found, project_files(directories, config_root, read))
    for display in {display for display, _ in branches.values()}:  # a file with branches names others' words?
        elsewhere = {w for d, keys in branches.values() if d != display for w in keys} - found
        if elsewhere:
            found |= names_in_files(elsewhere, [by_display[display]])
    shown, held = [], []
    for index, finding in enumerate(findings):
        branch = branches.get(index)
        (held if branch is not None and any(w not in found for w in branch[1]) else shown).append(finding)
    return shown, held


def _without_error_messages(tree, text: str) -> str:
    """`text` less the lines of its `raise` statements: `raise ValueError("use train, test or
    dense_test")` lists the choices, it selects none."""
    import ast

    spans = [(node.lineno, node.end_lineno or node.lineno) for node in ast.walk(tree) if isinstance(node, ast.Raise)]
    if not spans:
        return text
    dropped = {number for first, last in spans for number in range(first, last + 1)}
    return "\n".join(line for number, line in enumerate(text.split("\n"), 1) if number not in dropped)


def _selecting_literal(tree, line: int) -> str | None:
    """The string `s` of the innermost `if x == "s":` whose body holds `line` (a name-like `s`)."""
    import ast

    best = None
    for node in ast.walk(tree):
        if not isinstance(node, ast.If) or not node.body:
            continue
        first, last = node.body[0].lineno, node.body[-1].end_lineno or node.body[-1].lineno
        if not first <= line <= last:
            continue
        test = node.test
        if not (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq)):
            continue
        sides = [test.left, test.comparators[0]]
        strings = [s.value for s in sides if isinstance(s, ast.Constant) and isinstance(s.value, str)]
        if len(strings) != 1 or not re.fullmatch(r"(?!\d)\w{3,}", strings[0]) or strings[0].startswith("__"):
            continue  # (`__name__ == "__main__"` is selected by running the file)
        if best is None or first >= best[0]:
            best = (first, strings[0])
    return best[1] if best is not None else None


def _flag_off_by_default(tree, line: int) -> str | None:
    """`p` of the innermost branch holding `line` that runs only when a parameter `p` is not at its
    default: the body of `if self.p:` / `if p:` (default False / None / 0), the `else` of `if not
    self.p:`, or the body of `if self.p == "name":` (a literal default other than "name"); where
    `p` is a parameter of the class's `__init__` (for `self.p`) or of the enclosing function, and
    the file never passes `p=...` nor assigns `p` other than `self.p = p`."""
    import ast

    best = None
    stack = [(tree, None, None)]  # (node, enclosing class, enclosing function)
    while stack:
        node, cls, function = stack.pop()
        for child in ast.iter_child_nodes(node):
            inner_cls = child if isinstance(child, ast.ClassDef) else cls
            inner_function = child if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)) else function
            stack.append((child, inner_cls, inner_function))
        if not isinstance(node, ast.If):
            continue
        test, branch, wanted = node.test, node.body, "truthy"
        if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
            test, branch = test.operand, node.orelse
        elif isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq):
            right = test.comparators[0]
            if not (isinstance(right, ast.Constant) and isinstance(right.value, str)):
                continue
            test, wanted = test.left, right.value
        if not branch:
            continue
        first, last = branch[0].lineno, branch[-1].end_lineno or branch[-1].lineno
        if not first <= line <= last or (best is not None and first < best[0]):
            continue
        if isinstance(test, ast.Attribute) and isinstance(test.value, ast.Name) and test.value.id == "self":
            inits = [d for d in (cls.body if cls is not None else ()) if isinstance(d, ast.FunctionDef)]
            owner = next((d for d in inits if d.name == "__init__"), None)
            name = test.attr
        elif isinstance(test, ast.Name):
            owner, name = function, test.id
        else:
            continue
        if owner is not None and _default_rules_out(owner, name, wanted):
            best = (first, name)
    if best is None:
        return None
    name = best[1]
    for node in ast.walk(tree):
        if isinstance(node, ast.keyword) and node.arg == name:
            return None  # passed somewhere in the file
        targets = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
            targets = [node.target]
        value = getattr(node, "value", None)
        for target in targets:
            if isinstance(target, ast.Attribute) and target.attr == name:
                if not (isinstance(value, ast.Name) and value.id == name):
                    return None  # set to something other than the parameter
            elif isinstance(target, ast.Name) and target.id == name:
                return None
    return name


def _default_rules_out(function, name: str, wanted: str) -> bool:
    """The parameter `name` of `function` has a default that does not select the branch: falsy
    (False / None / 0) for a truthy test, another string literal for `== wanted`."""
    import ast

    args = function.args
    positional = args.posonlyargs + args.args
    pairs = list(zip(positional[len(positional) - len(args.defaults) :], args.defaults))
    pairs += [(a, d) for a, d in zip(args.kwonlyargs, args.kw_defaults) if d is not None]
    for arg, default in pairs:
        if arg.arg != name or not isinstance(default, ast.Constant):
            continue
        if wanted == "truthy":
            return default.value is None or default.value is False or default.value == 0
        return isinstance(default.value, str) and default.value != wanted
    return False


def _hold_back_unreached_definitions(
    findings: Sequence,
    audited: Sequence[tuple[str, Path, str]],
    directories: Sequence[Path],
    config_root: Path | None = None,
    store=None,
) -> tuple[list, list]:
    """(findings to report, findings held back as being in definitions nothing in the tree uses).

    findings: with `.path` (as in `audited`) and `.line`; audited: (path as reported, path,
    sha256 of the bytes read) for every file read; directories: the folders audited; store: the
    `ResultCache` keeping each content's facts (None: computed, not kept). Facts are computed for
    the files with findings first and, only if one of those lies in a definition that could be
    unused, for every file."""
    by_display = {display: (path, sha256) for display, path, sha256 in audited}
    facts_cache: dict[str, dict | None] = {}

    def facts_of(display: str) -> dict | None:
        if display not in facts_cache:
            path, sha256 = by_display[display]
            facts = store.get_facts(sha256) if store is not None else None
            if not valid_facts(facts):
                facts, same_content = _facts_from_file(path, sha256)
                if facts is not None and store is not None and same_content:
                    store.put_facts(sha256, facts)  # (not when --fix rewrote the file since it was read)
            facts_cache[display] = facts
        return facts_cache[display]

    candidates: dict[int, str] = {}  # finding's position -> the name of the definition it lies in
    for index, finding in enumerate(findings):
        if finding.path not in by_display or finding.category == "meta" or live_by_path(finding.path):
            continue  # a suppression comment naming no rule is a config problem wherever it is
        facts = facts_of(finding.path)
        if not facts:
            continue
        for name, first, last, live, _ in _defs(facts):
            if first <= finding.line <= last:
                if not live:
                    candidates[index] = name
                break
    if not candidates:
        return list(findings), []

    known: list[tuple[str, Path, dict]] = []
    unread: list[Path] = []
    for display, path, _ in audited:
        facts = facts_of(display)
        if facts is None:
            unread.append(path)
        else:
            known.append((display, path, facts))
    # Only code that is part of a program is judged: a module some import statement names (a
    # leftover helper beside the functions the program calls), or one in a package (a folder with an
    # __init__.py: vendored code, a fork's leftover module). A lone file nothing imports is a script
    # or a library module for other projects, and stays reported.
    dotted: set[str] = set()  # absolute imports as written: a.b.c
    resolved: set[str] = set()  # relative imports, as absolute paths without the .py
    for _, path, facts in known:
        _add_imports(facts["imports"], path, dotted, resolved)
    source_folders = {
        os.path.dirname(os.path.abspath(path)) for _, path, _ in known if _imported(path, dotted, resolved)
    }
    judged = {
        display
        for display in {findings[i].path for i in candidates}
        if _in_package(by_display[display][0])
        or _imported(by_display[display][0], dotted, resolved)
        or _script(facts_of(display))
        or _library_module_beside_imported_ones(by_display[display][0], facts_of(display), source_folders)
    }
    candidates = {i: name for i, name in candidates.items() if findings[i].path in judged}
    if not candidates:
        return list(findings), []

    def mentioned_elsewhere(words: set[str]) -> set[str]:
        """Which of `words` a project file the audit did not read has (unread Python files first,
        then, only if needed, the rest: configs, scripts, excluded folders)."""
        nonlocal extra_files
        found = names_in_files(words, unread)
        if words - found:
            if extra_files is None:
                extra_files = project_files(directories, config_root, {os.path.abspath(p) for _, p, _ in audited})
            found |= names_in_files(words - found, extra_files)
        return found

    extra_files: list[Path] | None = None
    orphans = _modules_no_program_reaches(known, judged, mentioned_elsewhere)
    in_tree = _tree_modules(known)
    fake = _fake_mentions(set(candidates.values()), known) | _imported_from_outside(known, in_tree)
    reach = _Reachability(known, fake, in_tree)
    # A name only another file of the project has (a config's `type='...'`, a notebook, a script
    # the audit did not read) is a root too; searched for the dead names that lead to a candidate.
    searched: set[str] = set()
    while True:
        wanted = reach.leading_to(set(candidates.values())) - searched
        if not wanted:
            break
        searched |= wanted
        found = mentioned_elsewhere(wanted)
        if not found:
            break
        reach.make_live(found)
    dead = {
        (findings[i].path, name)
        for i, name in candidates.items()
        if findings[i].path in orphans or reach.is_dead(findings[i].path, name)
    }
    reached = {name for i, name in candidates.items() if (findings[i].path, name) not in dead}
    unreached = _reached_only_through_branches_no_caller_takes(reached, known, reach)
    dead |= {(findings[i].path, name) for i, name in candidates.items() if name in unreached}
    shown, held = [], []
    for position, finding in enumerate(findings):
        name = candidates.get(position)
        (held if name is not None and (finding.path, name) in dead else shown).append(finding)
    return shown, held


def _modules_no_program_reaches(
    known: Sequence[tuple[str, Path, dict]], judged: set[str], mentioned_elsewhere
) -> set[str]:
    """Which of the `judged` files no chain of import statements reaches from a program's roots.

    Roots: every file that is an entry (a `__main__` block, module-level calls), every file live by its
    name but an `__init__.py` (tests, `setup.py`, `conftest.py`, `hubconf.py`), every file neither in
    a package nor imported (a lone script or library module), and every `__init__.py` of a top-level
    package no file outside it imports (a library for other programs: each package is its API).
    Edges: an import statement to each file it can name (relative imports resolved; `a.b.c` to a
    file ending in `a/b/c` whose `a` is not inside a package, as no sys.path entry is a package's
    folder, unless the importer sits beside `a`), and each module to the `__init__.py` of the
    packages above it, which importing it runs. A module loaded by a computed name anywhere
    (`import_module(name)` and `getattr` on it) makes every module reachable. `mentioned_elsewhere`
    is called with the modules still unreached, each as `package.module` and `package/module`, and
    returns those another file of the project names (`python -m pkg.x` in a shell script,
    `custom_imports=['pkg.x']` in a config): roots too."""
    if any(
        word == _MODULE_MARK + "*" or word.startswith(_PACKAGE_MARK)
        for _, _, facts in known
        for word in facts["uses"].split()
    ):
        return set()
    modules = _ModuleIndex(known)
    by_dir: dict[str, str] = {}  # folder -> display of its __init__.py
    folder_of: dict[str, str] = {}
    for display, path, _ in known:
        folder_of[display] = os.path.dirname(os.path.abspath(path))
        if os.path.basename(display) == "__init__.py":
            by_dir[folder_of[display]] = display
    edges: dict[str, set[str]] = {}
    for display, path, facts in known:
        targets: set[str] = set()
        for module in facts["imports"].split():
            targets.update(
                target
                for target in modules.files_of(module, path)
                if module.startswith(".")
                or _on_some_sys_path(folder_of[target], target, module, folder_of[display], by_dir)
            )
        folder = folder_of[display]
        while folder in by_dir:
            targets.add(by_dir[folder])
            folder = os.path.dirname(folder)
        targets.discard(display)
        edges[display] = targets
    imported = set().union(*edges.values())
    roots = [
        display
        for display, path, facts in known
        if facts.get("entry")
        or (live_by_path(display) and os.path.basename(display) != "__init__.py")
        or (not _in_package(path) and display not in imported)
    ]
    tops = {_top_package(folder, by_dir) for folder in by_dir}
    tops_holding: dict[str, frozenset[str]] = {}

    def holding(folder: str) -> frozenset[str]:
        """The top-level packages whose folder is `folder` or lies above it."""
        if folder not in tops_holding:
            parent = os.path.dirname(folder)
            above = holding(parent) if parent != folder else frozenset()
            tops_holding[folder] = above | {folder} if folder in tops else above
        return tops_holding[folder]

    imported_from_outside = {
        top
        for source, targets in edges.items()
        for target in targets
        for top in holding(folder_of[target]) - holding(folder_of[source])
    }
    roots += [init for folder, init in by_dir.items() if holding(folder) - imported_from_outside]
    reached: set[str] = set()

    def walk(starts: Iterable[str]) -> None:
        stack = [s for s in starts if s not in reached]
        reached.update(stack)
        while stack:
            for target in edges.get(stack.pop(), ()):
                if target not in reached:
                    reached.add(target)
                    stack.append(target)

    walk(roots)
    unreached = {display for display in judged if display not in reached}
    if unreached:
        # Named with its package (`datasets.decoder`, `datasets/decoder`): a bare stem such as
        # `decoder` or `transform` is a word in every project.
        names: dict[str, str] = {}
        for display in unreached:
            parts = Path(display).with_suffix("").parts
            parts = parts[:-1] if parts[-1] == "__init__" else parts
            names[".".join(parts[-2:])] = names["/".join(parts[-2:])] = display
        named = mentioned_elsewhere(set(names))
        walk(display for name, display in names.items() if name in named)
        unreached = {display for display in judged if display not in reached}
    return unreached


def _top_package(folder: str, by_dir: dict[str, str]) -> str:
    while os.path.dirname(folder) in by_dir:
        folder = os.path.dirname(folder)
    return folder


def _on_some_sys_path(
    target_folder: str, target: str, module: str, importer_folder: str, by_dir: dict[str, str]
) -> bool:
    """Whether `import module` can name the file `target` (a suffix match): the folder above the
    module's first component is no package's (a sys.path entry), or is the importer's own folder."""
    above = target_folder
    for _ in range(module.count(".") + (1 if os.path.basename(target) == "__init__.py" else 0)):
        above = os.path.dirname(above)
    return above not in by_dir or above == importer_folder


class _Reachability:
    """Which top-level definitions no live code reaches.

    Roots: every file's module-level code (imports excluded), every definition live by a decorator
    or by its file (`live_by_path`), the names an `__init__.py` re-exports. A definition whose name a
    live use names (or a marker matches: a prefix or suffix of names built at run time, every name
    of a module read by `getattr`) is live, and so is what it uses. A name a file resolves (see
    `_resolved_names`: its own definition, or one `from module import name`) is a use of that
    module's definition only; any other mention of a name keeps every definition of that name live
    (a use of `crop` as an attribute keeps every `crop` live). `fake` takes out the mentions that
    are not uses: a local variable of that name, a name imported from outside the tree."""

    def __init__(self, known: Sequence[tuple[str, Path, dict]], fake: set[tuple[Path, str]], in_tree: set[str]) -> None:
        self.words: set[str] = set()
        # name -> [display, stem, kind, its uses] of each definition of that name no live code reaches yet
        self.dead: dict[str, list[tuple[str, str, str, list[str]]]] = {}
        roots: list[str] = []
        forged_in: dict[Path, set[str]] = {}
        for path, name in fake:
            forged_in.setdefault(path, set()).add(name)
        modules = _ModuleIndex(known)
        for display, path, facts in known:
            forged = forged_in.get(path, set())
            qualify = modules.qualifier(display, path, facts)
            uses = qualify([w for w in facts["uses"].split() if w not in forged])
            if os.path.basename(display) == "__init__.py":
                uses += facts.get("exports", "").split()
            roots += uses
            defs, stem = _defs(facts), module_stem(display)
            all_live = live_by_path(display) or len(defs) != len(facts["defs"])  # (or a malformed entry)
            for position, own in enumerate(facts["def_uses"]):
                own_uses = qualify([w for w in own.split() if w not in forged])
                if all_live or defs[position][3]:
                    roots += own_uses
                else:
                    name, _, _, _, kind = defs[position]
                    self.dead.setdefault(name, []).append((display, stem, kind, own_uses))
        for word in roots:
            if word.startswith(_PACKAGE_MARK):  # modules loaded by computed names from a package
                if word[len(_PACKAGE_MARK) :] in in_tree:
                    self.words.add(_MODULE_MARK + "*")
            else:
                self.words.add(word)
        self.index = _UseIndex(self.words)  # its markers all come from module-level code
        self._propagate()

    def _live(self, name: str, display: str, stem: str, kind: str) -> bool:
        return f"{name}@{display}" in self.words or self.index.matches_marker(name, stem, kind)

    def _propagate(self) -> None:
        changed = True
        while changed:
            changed = False
            for name in list(self.dead):
                entries = self.dead[name]
                everywhere = name in self.words
                still = [e for e in entries if not (everywhere or self._live(name, *e[:3]))]
                if len(still) == len(entries):
                    continue
                for entry in entries:
                    if entry not in still:
                        self.words.update(entry[3])
                if still:
                    self.dead[name] = still
                else:
                    del self.dead[name]
                changed = True

    def is_dead(self, display: str, name: str) -> bool:
        return any(entry[0] == display for entry in self.dead.get(name, ()))

    def make_live(self, names: set[str]) -> None:
        self.words.update(names)
        self._propagate()

    def leading_to(self, targets: set[str]) -> set[str]:
        """The dead names from which a chain of uses among dead definitions reaches one of `targets`."""
        users: dict[str, set[str]] = {}
        for name, entries in self.dead.items():
            for _, _, _, uses in entries:
                for word in uses:
                    word = word.partition("@")[0]
                    if word in self.dead:
                        users.setdefault(word, set()).add(name)
        found = {t for t in targets if t in self.dead}
        stack = list(found)
        while stack:
            for user in users.get(stack.pop(), ()):
                if user not in found:
                    found.add(user)
                    stack.append(user)
        return found


class _ModuleIndex:
    """Which audited files a module name in an import statement can be, and what each defines."""

    def __init__(self, known: Sequence[tuple[str, Path, dict]]) -> None:
        self.by_dotted: dict[str, list[str]] = {}  # a.b.c, b.c, c -> displays of a/b/c.py (or a/b/c/__init__.py)
        self.by_base: dict[str, str] = {}  # absolute path without .py (a package: its folder) -> display
        self.defined: dict[str, set[str]] = {}
        for display, path, facts in known:
            self.defined[display] = {d[0] for d in _defs(facts)}
            base = os.path.splitext(os.path.abspath(path))[0]
            if os.path.basename(base) == "__init__":
                base = os.path.dirname(base)
            self.by_base[base] = display
            parts = Path(display).with_suffix("").parts
            if parts and parts[-1] == "__init__":
                parts = parts[:-1]
            for start in range(len(parts)):
                self.by_dotted.setdefault(".".join(parts[start:]), []).append(display)

    def files_of(self, module: str, importer: Path) -> list[str]:
        if not module.startswith("."):
            return self.by_dotted.get(module, [])
        rest = module.lstrip(".")
        base = os.path.dirname(os.path.abspath(importer))
        for _ in range(len(module) - len(rest) - 1):
            base = os.path.dirname(base)
        display = self.by_base.get(os.path.join(base, *rest.split(".")) if rest else base)
        return [display] if display is not None else []

    def qualifier(self, display: str, path: Path, facts: dict):
        """A function turning a file's words into uses: `name@display` for each definition a
        resolved name can be, the word itself otherwise."""
        resolved = facts.get("resolved", "")
        if not isinstance(resolved, str) or not resolved:
            return lambda words: words
        targets: dict[str, list[str]] = {}
        for entry in resolved.split():
            local, _, origin = entry.partition("=")
            module, _, name = origin.rpartition(":")
            files = [display] if not module else self.files_of(module, path)
            files = [f for f in files if name in self.defined.get(f, ())]
            if files:  # (else a re-export, a submodule, a module outside the tree: the plain word)
                targets[local] = [f"{name}@{f}" for f in files]

        def qualify(words: list[str]) -> list[str]:
            out: list[str] = []
            for word in words:
                out.extend(targets.get(word, (word,)))
            return out

        return qualify


def _reached_only_through_branches_no_caller_takes(
    names: set[str], known: Sequence[tuple[str, Path, dict]], reach: _Reachability
) -> set[str]:
    """Which of `names` live code names only inside `if p is None:` (or `if p is None and q is None:`)
    in a module-level function whose callers all pass `p` a value that cannot be None.

    SlowFast's `spatial_sampling(..., aspect_ratio=None, scale=None)` crops with `random_crop` only
    when both are None, and forks call it with `aspect_ratio=asp, scale=scl` from literal lists:
    that `random_crop` never runs. Read from the syntax trees of the files naming the function and
    its callers, at most MAX_FILES_TO_VERIFY of each; anything else (a method, a call passing
    `**kwargs`, the function named but not called, a value that is not a literal) counts as taken."""
    import ast

    sources = _SyntaxTrees(known)
    unreached: set[str] = set()
    for name in names:
        mentions = sources.mentions(name)
        if mentions is None:
            continue
        needed: list[tuple[str, set[str]]] = []  # (function, parameters that must be None) per mention
        for path, tree in mentions:
            for node, functions, tests in _references(tree, name):
                top = functions[0] if functions else None
                if top is not None and top.name in reach.dead:
                    continue  # inside dead code
                if not isinstance(top, (ast.FunctionDef, ast.AsyncFunctionDef)) or len(functions) > 1 or not tests:
                    break  # module-level code, a class body, a nested function, an unconditioned use: taken
                none_params = set().union(*(_params_tested_none(test, top) for test in tests))
                if not none_params:
                    break
                needed.append((top.name, none_params))
            else:
                continue
            break
        else:
            if needed and all(_every_call_passes_one(sources, function, params) for function, params in needed):
                unreached.add(name)
    return unreached


class _SyntaxTrees:
    """The parsed files of the tree that name a word, when at most MAX_FILES_TO_VERIFY do."""

    def __init__(self, known: Sequence[tuple[str, Path, dict]]) -> None:
        self.words = [(path, _words_of(facts)) for _, path, facts in known]
        self.trees: dict[Path, object] = {}

    def mentions(self, name: str) -> list[tuple[Path, object]] | None:
        import ast

        paths = [path for path, words in self.words if f" {name} " in words]
        if not paths or len(paths) > MAX_FILES_TO_VERIFY:
            return None
        found = []
        for path in paths:
            if path not in self.trees:
                text = _text_of(path)
                try:
                    self.trees[path] = ast.parse(text) if text is not None else None
                except (SyntaxError, ValueError, RecursionError, MemoryError):
                    self.trees[path] = None
            if self.trees[path] is None:
                return None
            found.append((path, self.trees[path]))
        return found


def _references(tree, name: str):
    """(node, enclosing functions outermost first, the tests of the `if`s whose body holds it) for
    each load of `name` or `.name`, or a string naming it (then with no tests: taken)."""
    import ast

    stack = [(tree, [], [])]
    while stack:
        node, functions, tests = stack.pop()
        for field, value in ast.iter_fields(node):
            children = value if isinstance(value, list) else [value]
            for child in children:
                if not isinstance(child, ast.AST):
                    continue
                inner_functions, inner_tests = functions, tests
                if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                    if child.name == name and not functions:
                        continue  # its own definition
                    inner_functions, inner_tests = [*functions, child], []
                elif isinstance(node, ast.If) and field == "body":
                    inner_tests = [*tests, node.test]
                elif isinstance(node, ast.If) and field == "orelse":
                    inner_tests = []  # an else branch: taken when the test fails, not read here
                if (isinstance(child, ast.Name) and child.id == name) or (
                    isinstance(child, ast.Attribute) and child.attr == name
                ):
                    yield child, inner_functions, inner_tests
                elif isinstance(child, ast.Constant) and isinstance(child.value, str) and name in child.value:
                    yield child, inner_functions, []
                stack.append((child, inner_functions, inner_tests))


def _params_tested_none(test, function) -> set[str]:
    """The parameters of `function` with a default of None that `test` requires to be None:
    `p is None`, or several joined by `and`."""
    import ast

    defaults = function.args.defaults
    positional = function.args.posonlyargs + function.args.args
    none_default = {
        arg.arg
        for arg, default in zip(positional[len(positional) - len(defaults) :], defaults)
        if isinstance(default, ast.Constant) and default.value is None
    }
    none_default |= {
        arg.arg
        for arg, default in zip(function.args.kwonlyargs, function.args.kw_defaults)
        if isinstance(default, ast.Constant) and default.value is None
    }
    parts = test.values if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.And) else [test]
    found = set()
    for part in parts:
        if (
            isinstance(part, ast.Compare)
            and len(part.ops) == 1
            and isinstance(part.ops[0], ast.Is)
            and isinstance(part.left, ast.Name)
            and isinstance(part.comparators[0], ast.Constant)
            and part.comparators[0].value is None
            and part.left.id in none_default
        ):
            found.add(part.left.id)
    return found


def _every_call_passes_one(sources: _SyntaxTrees, function: str, params: set[str]) -> bool:
    """Whether the tree names module-level `function` only in calls, each passing one of `params`
    a value that cannot be None (a literal, or a local name only ever bound to literals)."""
    import ast

    mentions = sources.mentions(function)
    if mentions is None:
        return False
    calls = 0
    for _, tree in mentions:
        call_of = {id(c.func): c for c in ast.walk(tree) if isinstance(c, ast.Call)}
        definitions = [
            n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name == function
        ]
        for node, functions, _ in _references(tree, function):
            call = call_of.get(id(node))
            if call is None:
                return False  # named, not called: it may be called with anything
            if any(isinstance(k.value, ast.AST) and k.arg is None for k in call.keywords) or any(
                isinstance(a, ast.Starred) for a in call.args
            ):
                return False
            signature = definitions[0] if definitions else None
            scope = functions[-1] if functions else tree
            if not any(_passes_not_none(call, param, signature, scope) for param in params):
                return False
            calls += 1
    return calls > 0


def _passes_not_none(call, param: str, signature, scope) -> bool:

    value = next((k.value for k in call.keywords if k.arg == param), None)
    if value is None and signature is not None:
        positional = [a.arg for a in signature.args.posonlyargs + signature.args.args]
        if param in positional and positional.index(param) < len(call.args):
            value = call.args[positional.index(param)]
    if value is None:
        return False
    return _never_none(value, scope)


def _never_none(value, scope) -> bool:
    """A literal that is not None, or a name the enclosing function only ever binds to such literals."""
    import ast

    if isinstance(value, (ast.List, ast.Tuple, ast.Dict, ast.Set, ast.ListComp, ast.JoinedStr)):
        return True
    if isinstance(value, ast.Constant):
        return value.value is not None
    if not isinstance(value, ast.Name):
        return False
    bound = []
    for node in ast.walk(scope):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name) and target.id == value.id:
                    bound.append(node.value)
                elif isinstance(target, ast.Tuple) and any(
                    isinstance(e, ast.Name) and e.id == value.id for e in target.elts
                ):
                    index = next(i for i, e in enumerate(target.elts) if isinstance(e, ast.Name) and e.id == value.id)
                    if isinstance(node.value, ast.Tuple) and len(node.value.elts) == len(target.elts):
                        bound.append(node.value.elts[index])
                    else:
                        return False
        elif isinstance(node, (ast.AugAssign, ast.AnnAssign, ast.For, ast.With, ast.NamedExpr, ast.arg)):
            names = [n.id for n in ast.walk(node) if isinstance(n, ast.Name)] + (
                [node.arg] if isinstance(node, ast.arg) else []
            )
            if value.id in names and not isinstance(node, ast.AugAssign):
                return False  # bound some other way
    return bool(bound) and all(not isinstance(b, ast.Name) and _never_none(b, scope) for b in bound)


def _tree_modules(known: Sequence[tuple[str, Path, dict]]) -> set[str]:
    """Every dotted name an audited file or its folders could be imported by (`a/b/c.py`: c, b.c,
    a.b.c, b, a.b, a): a module counts as in the tree when it or a package above it is here."""
    in_tree: set[str] = set()
    for display, _, _ in known:
        parts = Path(display).with_suffix("").parts
        if parts and parts[-1] == "__init__":
            parts = parts[:-1]
        for start in range(len(parts)):
            for end in range(start + 1, len(parts) + 1):
                in_tree.add(".".join(parts[start:end]))
    return in_tree


def _imported_from_outside(known: Sequence[tuple[str, Path, dict]], in_tree: set[str]) -> set[tuple[Path, str]]:
    """(file, name) pairs where the file binds `name` with `from module import name` from a module
    that is not in the tree (torchvision's UniformClipSampler, not the fork's copy of it): there its
    mentions are not uses of the tree's definitions."""
    outside: set[tuple[Path, str]] = set()
    for _, path, facts in known:
        for binding in facts.get("bound", "").split():
            local, _, module = binding.partition("=")
            pieces = module.split(".")
            if not any(".".join(pieces[:end]) in in_tree for end in range(1, len(pieces) + 1)):
                outside.add((path, local))
    return outside


def _words_of(facts: dict) -> str:
    """Every word a file's code uses, module level and definitions, padded for ` name ` tests."""
    return f" {facts['uses']} {' '.join(facts['def_uses'])} "


def _fake_mentions(names: set[str], known: Sequence[tuple[str, Path, dict]]) -> set[tuple[Path, str]]:
    """(file, name) pairs where the text names a candidate but its syntax tree says it is not a use
    (a local variable or parameter of that name: `video_reader = VideoReader(...)`), checked for
    the names that at most MAX_FILES_TO_VERIFY files mention."""
    mentioned_in: dict[str, list[Path]] = {}
    for _, path, facts in known:
        words = _words_of(facts)
        for name in names:
            if f" {name} " in words:
                mentioned_in.setdefault(name, []).append(path)
    verify = {name for name, paths in mentioned_in.items() if len(paths) <= MAX_FILES_TO_VERIFY}
    fake: set[tuple[Path, str]] = set()
    for path in {path for name in verify for path in mentioned_in[name]}:
        wanted = {name for name in verify if path in mentioned_in[name]}
        fake.update((path, name) for name in wanted - _verified_uses(path, wanted))
    return fake


def _add_imports(imports: str, importer: Path, dotted: set[str], resolved: set[str]) -> None:
    folder = None
    for target in imports.split():
        if not target.startswith("."):
            dotted.add(target)
            continue
        if folder is None:
            folder = os.path.dirname(os.path.abspath(importer))
        rest = target.lstrip(".")
        base = folder
        for _ in range(len(target) - len(rest) - 1):
            base = os.path.dirname(base)
        resolved.add(os.path.join(base, *rest.split(".")) if rest else base)


def _library_module_beside_imported_ones(path: Path, facts: dict | None, source_folders: set[str]) -> bool:
    """A file of definitions only (no `__main__` block, no module-level call: not a script) in a
    folder whose other modules the program imports (a flat layout: `train.py` beside `datasets.py`
    beside an unused copy of `mixup.py`)."""
    if not facts or facts.get("runs") or os.path.basename(path).startswith(("test_", "conftest")):
        return False
    return os.path.dirname(os.path.abspath(path)) in source_folders


def _script(facts: dict | None) -> bool:
    """A file whose module-level code runs (a `__main__` block, a module-level call): that code is
    its root, so a helper of its own that nothing names is dead even when nothing imports it."""
    return bool(facts and facts.get("entry"))


def _in_package(path: Path) -> bool:
    return os.path.isfile(os.path.join(os.path.dirname(os.path.abspath(path)), "__init__.py"))


def _imported(path: Path, dotted: set[str], resolved: set[str]) -> bool:
    """Whether an import statement of the tree names the module at `path`: a relative import that
    resolves to it, or an absolute one matching the end of its dotted path (`datasets.kinetics`
    and `kinetics` both match `src/datasets/kinetics.py`, as they would from some sys.path)."""
    absolute = os.path.abspath(path)
    base = os.path.splitext(absolute)[0]
    if os.path.basename(base) == "__init__":
        base = os.path.dirname(base)
    if base in resolved:
        return True
    parts = Path(base).parts
    return any(".".join(parts[i:]) in dotted for i in range(1, len(parts)))


def _verified_uses(path: Path, names: set[str]) -> set[str]:
    """Which of `names` the file at `path` really uses, read from its syntax tree and symbol
    table: a reference that Python resolves to the module-level name (not to a local variable or
    parameter of that name, not inside the definition of that name), an attribute of that name,
    or the name as a word in a string. All of `names` when the file cannot be read or parsed."""
    import ast
    import symtable

    text = _text_of(path)
    if text is None:
        return set(names)
    try:
        tree = ast.parse(text)
        table = symtable.symtable(text, str(path), "exec")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return set(names)
    if _maybe_dynamic(text) and _DYNAMIC_SCOPE.search(_blank(text)[0]):
        return set(names)
    found: set[str] = set()
    stack = [(table, None)]  # (scope, the top-level definition it lies in)
    while stack:
        scope, top = stack.pop()
        module = scope.get_type() == "module"
        for name in names - found:
            if name == top:
                continue  # recursion, super(Cls, self)
            try:
                symbol = scope.lookup(name)
            except KeyError:
                continue
            if symbol.is_referenced() and (module or symbol.is_global()):
                found.add(name)
        stack.extend((child, child.get_name() if module else top) for child in scope.get_children())
    words = re.compile(r"(?<!\w)(" + "|".join(map(re.escape, sorted(names))) + r")(?!\w)")
    for node in ast.walk(tree):
        kind = type(node)
        if kind is ast.Attribute and node.attr in names:
            found.add(node.attr)
        elif kind is ast.Constant and type(node.value) is str:
            found.update(words.findall(node.value))
    return found


def _text_of(path: Path) -> str | None:
    from temporalkit.validators.audit import decode_source

    try:
        data = path.read_bytes()
    except OSError:
        return None
    return decode_source(data)[0]


def _whole_words(words: Iterable[bytes]) -> re.Pattern[bytes]:
    """One pattern matching any of `words` as a whole word (longest first), the word as group 1."""
    alternatives = b"|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
    return re.compile(rb"(?<![\w])(" + alternatives + rb")(?![\w])")


def _facts_from_file(path: Path, sha256: str) -> tuple[dict | None, bool]:
    """(the facts of the file at `path`, None when it cannot be read or decoded (its text is then
    searched word by word); whether its bytes still have the hash `sha256`)."""
    import hashlib

    from temporalkit.validators.audit import decode_source

    try:
        data = path.read_bytes()
    except OSError:
        return None, False
    text = decode_source(data)[0]
    return (file_facts(text) if text is not None else None), hashlib.sha256(data).hexdigest() == sha256


def bytes_if_small(path: Path, max_bytes: int = MAX_TEXT_BYTES) -> bytes | None:
    """The file's bytes; None when it is larger than `max_bytes` or cannot be read."""
    try:
        if os.path.getsize(path) > max_bytes:
            return None
        with open(path, "rb") as handle:
            return handle.read()
    except OSError:
        return None


def names_in_files(names: set[str], paths: Iterable[Path], max_bytes: int = MAX_TEXT_BYTES) -> set[str]:
    """Which of `names` occur as whole words in the files at `paths` (a larger or unreadable file is
    skipped)."""
    found: set[str] = set()
    if not names:
        return found
    pattern = _whole_words(n.encode() for n in names)
    for path in paths:
        data = bytes_if_small(path, max_bytes)
        if data is None:
            continue
        found.update(m.decode() for m in pattern.findall(data))
        if found >= names:
            break
    return found


def project_files(directories: Sequence[Path], config_root: Path | None, audited: set[str]) -> list[Path]:
    """The text files of the projects holding `directories` that the audit did not read: Python
    files it excluded or that lie outside the audited folders, configuration files and scripts."""
    from temporalkit.validators.discovery import discover_files

    roots: dict[str, Path] = {}
    for directory in directories:
        root = project_root(directory, config_root)
        roots[os.path.abspath(root)] = root
    files, _ = discover_files(list(roots.values()), None, suffixes=PYTHON_SUFFIXES + CONFIG_SUFFIXES)
    return [f for f in files if os.path.abspath(f) not in audited]


def project_root(directory: Path, config_root: Path | None) -> Path:
    absolute = Path(os.path.abspath(directory))
    for parent in (absolute, *absolute.parents):
        if (parent / ".git").exists():
            return parent
    if config_root is not None:
        root = Path(os.path.abspath(config_root))
        if root == absolute or root in absolute.parents:
            return root
    return absolute
