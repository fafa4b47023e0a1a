"""Install the rendered frame-sampler-auditor skill into a folder an assistant reads skills from.

    from temporalkit.skill import install_skill
    result = install_skill(".claude/skills/frame-sampler-auditor")

Nothing the user changed is overwritten unless `force=True`: every file is compared with what
would be written before any is touched, so a refused install leaves the folder as it was.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from temporalkit.render import SKILL_NAME, SKILL_SCRIPTS, render_skill_files, write_atomically

DEFAULT_SKILL_TARGET = Path(".claude") / "skills" / SKILL_NAME


class SkillFileChanged(RuntimeError):
    """A file in the target folder differs from what the install would write."""

    def __init__(self, path: Path) -> None:
        super().__init__(f"{path} differs from the skill temporalkit would install; rerun with --force to overwrite it")
        self.path = path


@dataclass
class SkillInstall:
    """What an install did: files written (new or replaced) and files already up to date."""

    target: Path
    written: list[Path] = field(default_factory=list)
    unchanged: list[Path] = field(default_factory=list)


def _current_text(path: Path) -> str | None:
    try:
        return path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        return None
    except (UnicodeDecodeError, IsADirectoryError):
        return "\0"  # never equal to rendered text: counts as changed


def install_skill(target: str | os.PathLike = DEFAULT_SKILL_TARGET, force: bool = False) -> SkillInstall:
    """Write SKILL.md, its reference and helper scripts into `target`; idempotent when unchanged.

    Raises SkillFileChanged (naming the first differing file) when a file exists with other
    content and `force` is False.
    """
    target = Path(target)
    files = render_skill_files()
    result = SkillInstall(target=target)
    plan: list[tuple[Path, str]] = []
    for name, text in files.items():
        path = target / name
        current = _current_text(path)
        if current == text:
            result.unchanged.append(path)
            continue
        if current is not None and not force:
            raise SkillFileChanged(path)
        plan.append((path, text))
    for path, text in plan:
        if path.is_dir():
            raise IsADirectoryError(f"{path} is a directory; remove it or choose another --target")
        write_atomically(path, text, executable=path.name in SKILL_SCRIPTS)
        result.written.append(path)
    return result
