"""Install a rendered skill (frame-sampler-auditor, video-architecture-picker) where an assistant reads skills.

    from temporalkit.skill import install_skill
    result = install_skill(".claude/skills")  # -> .claude/skills/frame-sampler-auditor/
    result = install_skill(".claude/skills", skill="video-architecture-picker")

The target is a skills folder (the skill goes into `<target>/<skill name>/`) or the skill's own
folder (named as the skill). A folder named for another skill, or holding another skill's
SKILL.md, is refused: skill validators require the folder name to be the skill's name.

Nothing the user changed is overwritten unless `force=True`: every file is compared with what
would be written before any is touched, so a refused install leaves the folder as it was.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from temporalkit.render import SKILL_NAME, SKILLS, render_skill_files, write_atomically

DEFAULT_SKILLS_DIR = Path(".claude") / "skills"
DEFAULT_SKILL_TARGET = DEFAULT_SKILLS_DIR / SKILL_NAME


class SkillTargetError(ValueError):
    """The target folder belongs to another skill."""


def skill_folder(target: str | os.PathLike, skill: str = SKILL_NAME) -> Path:
    """The folder `skill` is installed into for `--target`: the target itself when it is named as the
    skill, else `<target>/<skill>`. Raises SkillTargetError for another skill's folder."""
    target = Path(target)
    if target.name == skill:
        return target
    other = target.name in SKILLS or (target / "SKILL.md").is_file()
    if other:
        raise SkillTargetError(
            f"{target} is the folder of another skill; give the skills folder that holds it "
            f"(the skill goes into <folder>/{skill}/) or a folder named {skill}"
        )
    return target / skill


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


def install_skill(
    target: str | os.PathLike = DEFAULT_SKILLS_DIR, force: bool = False, skill: str = SKILL_NAME
) -> SkillInstall:
    """Write the skill's SKILL.md, references and helper scripts into its folder under `target`
    (see `skill_folder`); idempotent when unchanged. SKILL.md names the folder's absolute path, so
    that an assistant can run the helper scripts from anywhere.

    Raises SkillTargetError for another skill's folder, and SkillFileChanged (naming the first
    differing file) when a file exists with other content and `force` is False.
    """
    target = skill_folder(target, skill)
    files = render_skill_files(skill, skill_dir=target.resolve())
    scripts = SKILLS[skill][1]
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
        write_atomically(path, text, executable=path.name in scripts)
        result.written.append(path)
    return result
