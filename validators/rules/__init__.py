"""The rule registry: every module in this package defines one `Rule` subclass.

`all_rules()` imports them on demand (sorted by id), so templates, docs, the CLI and the
generic test all read the same list.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import lru_cache

from temporalkit.validators.rule import Rule


@lru_cache(maxsize=1)
def all_rules() -> tuple[type[Rule], ...]:
    found: list[type[Rule]] = []
    for info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{info.name}")
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, Rule)
                and value is not Rule
                and value.__module__ == module.__name__
            ):
                found.append(value)
    ids = [r.ID for r in found]
    duplicates = {i for i in ids if ids.count(i) > 1}
    if duplicates:
        raise RuntimeError(f"duplicate rule ids: {sorted(duplicates)}")
    return tuple(sorted(found, key=lambda r: r.ID))


def rule_by_id(rule_id: str) -> type[Rule]:
    for rule in all_rules():
        if rule.ID == rule_id:
            return rule
    raise KeyError(rule_id)
