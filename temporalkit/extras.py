"""Optional extras: which commands need which, and the one line that says how to install one.

The core install (`pip install temporalkit`) carries the static auditor, the picker's prompt,
recommender and validator (reading the shipped cost snapshot instead of measuring), the skills
and `temporalkit rule`. Everything that runs a network or a video decoder needs an extra:

    dynamic  torch, torchvision, numpy, av   audit --dynamic, check, probe
    models   torch, torchvision, numpy       cost, train, pick --measure-latency, off-table picker costs
    mcp      mcp                             temporalkit mcp

Commands call `require(extra, "temporalkit cost")` before importing anything heavy; the CLI
(`temporalkit.cli.main`) turns the `MissingExtra` it raises into that one line and exit 2. Checking uses `importlib.util.find_spec`, which imports
nothing, so the static path stays torch-free even when torch is installed.
"""

from __future__ import annotations

import importlib.util

EXTRAS: dict[str, tuple[str, ...]] = {
    "dynamic": ("torch", "torchvision", "numpy", "av"),
    "models": ("torch", "torchvision", "numpy"),
    "mcp": ("mcp",),
}


class MissingExtra(ImportError):
    """Something needs an optional extra that is not installed; str() is the one line to print.

    An ImportError, so that code catching a missing module catches it too.
    """

    def __init__(self, extra: str, what: str, missing: list[str]) -> None:
        super().__init__(f"{what} needs {', '.join(missing)} (not installed): pip install 'temporalkit[{extra}]'")
        self.extra = extra
        self.missing = missing


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def missing_modules(extra: str) -> list[str]:
    """The modules of `extra` that cannot be imported here (empty when the extra is installed)."""
    return [module for module in EXTRAS[extra] if not _installed(module)]


def require(extra: str, what: str) -> None:
    """Raise MissingExtra when a module of `extra` is missing; `what` names the caller ("temporalkit cost")."""
    missing = missing_modules(extra)
    if missing:
        raise MissingExtra(extra, what, missing)


def missing_extra_message(extra: str, what: str) -> str | None:
    """The one line to print (exit 2) when `extra` is missing, else None."""
    try:
        require(extra, what)
    except MissingExtra as exc:
        return str(exc)
    return None
