"""The unused-code pass of the static audit (validators/unused.py): a finding inside a top-level
function or class that nothing in the audited tree uses is held back, unless something could be
using it (a call, a registry, `__all__`, a config string, a lookup by computed name)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from temporalkit.validators.audit import audit_paths
from temporalkit.validators.config import AuditConfig, ConfigError, read_config
from temporalkit.validators.unused import file_facts

# One function with a TK131 finding (an exclusive randint bound drops the last start).
SAMPLER = """\
import numpy as np


def draw_clip_start(num_frames, clip_len):
    return np.random.randint(0, num_frames - clip_len)
"""


# A module importing the sampler by name and never calling it.
IMPORTER = "from sampling import draw_clip_start  # imported, never called\n"
# The same finding in a function nothing uses, in an imported module: every tree below has one,
# which must be held back.
DEAD = {
    "legacy/old_sampling.py": SAMPLER.replace("draw_clip_start", "old_clip_start"),
    "legacy/checkpoints.py": "from legacy.old_sampling import old_clip_start  # imported, never called\n",
}


def write_tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return root


def audit(root: Path, *paths: Path, **kwargs):
    return audit_paths(list(paths) or [root], config=AuditConfig(root=root), cache=False, **kwargs)


def rules_of(findings) -> list[tuple[str, str]]:
    return [(Path(f.path).name, f.rule) for f in findings]


def test_function_imported_but_never_called_is_held_back(tmp_path):
    write_tree(
        tmp_path,
        {
            "data/sampling.py": SAMPLER,
            "data/loader.py": """\
                from data.sampling import draw_clip_start  # imported, never called

                def load(path):
                    # draw_clip_start(10, 4) was the old way
                    return open(path).read()
            """,
            "train.py": "from data.loader import load\nload('x')\n",
        },
    )
    result = audit(tmp_path)
    assert result.findings == []
    assert rules_of(result.unused) == [("sampling.py", "TK131")]
    shown = audit(tmp_path, include_unused=True)
    assert rules_of(shown.findings) == [("sampling.py", "TK131")] and shown.unused == []


def test_a_call_from_another_file_keeps_the_finding(tmp_path):
    write_tree(
        tmp_path,
        {
            "data/sampling.py": SAMPLER,
            "train.py": "from data.sampling import draw_clip_start\nprint(draw_clip_start(100, 8))\n",
            **DEAD,
        },
    )
    result = audit(tmp_path)
    assert rules_of(result.findings) == [("sampling.py", "TK131")]
    assert rules_of(result.unused) == [("old_sampling.py", "TK131")]


def test_a_local_variable_of_the_same_name_is_not_a_use(tmp_path):
    write_tree(
        tmp_path,
        {
            "data/sampling.py": SAMPLER
            + textwrap.dedent("""\


                def first_frames(video, draw_clip_start=0):
                    return video[draw_clip_start:]


                def read(video):
                    draw_clip_start = len(video) // 2
                    return video[draw_clip_start]
            """),
            "train.py": "from data.sampling import read, first_frames, draw_clip_start\nread([1]); first_frames([2])\n",
        },
    )
    assert rules_of(audit(tmp_path).unused) == [("sampling.py", "TK131")]


def test_recursion_is_not_a_use(tmp_path):
    write_tree(
        tmp_path,
        {
            "run.py": IMPORTER,
            "sampling.py": SAMPLER.replace(
                "    return np.random.randint",
                "    if num_frames < 0:\n        return draw_clip_start(0, 0)\n    return np.random.randint",
            ),
        },
    )
    assert rules_of(audit(tmp_path).unused) == [("sampling.py", "TK131")]


def test_a_class_registered_by_its_decorator_is_live(tmp_path):
    write_tree(
        tmp_path,
        {
            "datasets/clips.py": """\
                import numpy as np
                from registry import DATASETS


                @DATASETS.register_module()
                class RandomClips:
                    def __getitem__(self, index):
                        return np.random.randint(0, self.num_frames - self.clip_len)
            """,
            "registry.py": "DATASETS = {}\n",
            "train.py": "from datasets.clips import RandomClips\n",
            **DEAD,
        },
    )
    result = audit(tmp_path)
    assert rules_of(result.findings) == [("clips.py", "TK131")]
    assert rules_of(result.unused) == [("old_sampling.py", "TK131")]


def test_a_plain_decorator_does_not_make_a_function_live(tmp_path):
    write_tree(
        tmp_path, {"run.py": IMPORTER, "sampling.py": SAMPLER.replace("\ndef draw", "\n@torch.no_grad()\ndef draw")}
    )
    assert rules_of(audit(tmp_path).unused) == [("sampling.py", "TK131")]


def test_a_name_in_all_or_a_config_string_is_a_use(tmp_path):
    write_tree(
        tmp_path,
        {
            "data/sampling.py": SAMPLER + '\n__all__ = ["draw_clip_start"]\n',
            "data/other.py": SAMPLER.replace("draw_clip_start", "pick_start"),
            "configs/tsn.py": "pipeline = [dict(type='pick_start', num_frames=8)]\n",
            "train.py": "from data.sampling import draw_clip_start\nfrom data.other import pick_start\n",
            **DEAD,
        },
    )
    result = audit(tmp_path)
    assert sorted(rules_of(result.findings)) == [("other.py", "TK131"), ("sampling.py", "TK131")]
    assert rules_of(result.unused) == [("old_sampling.py", "TK131")]


def test_a_name_in_a_yaml_config_or_an_init_re_export_is_a_use(tmp_path):
    write_tree(
        tmp_path,
        {
            "pkg/sampling.py": SAMPLER,
            "pkg/other.py": SAMPLER.replace("draw_clip_start", "pick_start"),
            "pkg/__init__.py": "from .other import pick_start\n",
            "configs/k400.yaml": "SAMPLER:\n  NAME: draw_clip_start\n",
            "train.py": "from pkg.sampling import draw_clip_start\n",
            **DEAD,
        },
    )
    result = audit(tmp_path)
    assert sorted(rules_of(result.findings)) == [("other.py", "TK131"), ("sampling.py", "TK131")]
    assert rules_of(result.unused) == [("old_sampling.py", "TK131")]


def test_a_name_built_for_getattr_is_a_use(tmp_path):
    write_tree(
        tmp_path,
        {
            "sampling.py": SAMPLER,
            "build.py": "import sampling\nfrom sampling import draw_clip_start\n\ndef build(kind):\n    return getattr(sampling, f'draw_{kind}')\n",
            **DEAD,
        },
    )
    result = audit(tmp_path)
    assert rules_of(result.findings) == [("sampling.py", "TK131")]
    assert rules_of(result.unused) == [("old_sampling.py", "TK131")]


def test_module_level_code_and_main_blocks_are_live(tmp_path):
    body = SAMPLER.split("\n\n\n")[1].replace("def draw_clip_start(num_frames, clip_len):\n    return", "start =")
    write_tree(
        tmp_path,
        {
            "script.py": "import numpy as np\nnum_frames, clip_len = 10, 4\n" + body,
            "tool.py": 'import numpy as np\n\nif __name__ == "__main__":\n    n, T = 10, 4\n    print(np.random.randint(0, n - T))\n',
            **DEAD,
        },
    )
    result = audit(tmp_path)
    assert sorted(rules_of(result.findings)) == [("script.py", "TK131"), ("tool.py", "TK131")]
    assert rules_of(result.unused) == [("old_sampling.py", "TK131")]


def test_a_function_nothing_uses_is_held_back_unless_its_package_exports_it(tmp_path):
    """A function of a module the tree uses, nothing calling it: held back. Re-exported from its
    package's __init__.py it is that package's API, live."""
    files = {
        "lib/crops.py": SAMPLER + "\n\ndef center(size):\n    return size // 2\n",
        "train.py": "from lib.crops import center\nprint(center(8))\n",
    }
    result = audit(write_tree(tmp_path / "app", files))
    assert rules_of(result.findings) == [] and rules_of(result.unused) == [("crops.py", "TK131")]
    files["lib/__init__.py"] = "from .crops import center, draw_clip_start\n"
    result = audit(write_tree(tmp_path / "library", files))
    assert rules_of(result.findings) == [("crops.py", "TK131")] and result.unused == []


def test_a_module_nothing_imports_is_held_back_in_a_package_not_as_a_lone_file(tmp_path):
    """A module of a package that nothing imports (vendored code, a fork's leftover module) is dead
    code; a lone file nothing imports is a script or another project's library module, reported. A
    script's module-level code keeps what it calls live."""
    jitter = SAMPLER.replace("draw_clip_start", "jitter_clip_start")
    write_tree(
        tmp_path,
        {
            "vendor/__init__.py": "",
            "vendor/augment.py": jitter,
            "snippets/augment_copy.py": jitter.replace("jitter_clip_start", "copied_clip_start"),
            "tools/__init__.py": "",
            "tools/extract_clips.py": SAMPLER + '\n\nif __name__ == "__main__":\n    print(draw_clip_start(100, 8))\n',
        },
    )
    result = audit(tmp_path)
    assert sorted(rules_of(result.findings)) == [("augment_copy.py", "TK131"), ("extract_clips.py", "TK131")]
    assert rules_of(result.unused) == [("augment.py", "TK131")]


def test_code_reached_only_from_dead_code_is_held_back(tmp_path):
    """A sampler that only an unused reader calls is as dead as the reader; once a config names the
    reader, both are live."""
    files = {
        "data/sampling.py": SAMPLER,
        "data/readers.py": """\
            from data.sampling import draw_clip_start


            def read_clip(path, n, T):
                return path, draw_clip_start(n, T)


            def read_image(path):
                return path
        """,
        "train.py": "from data.readers import read_image\nread_image('x')\n",
    }
    result = audit(write_tree(tmp_path / "dead", files))
    assert result.findings == [] and rules_of(result.unused) == [("sampling.py", "TK131")]
    files["configs/kinetics.yaml"] = "reader: read_clip\n"
    result = audit(write_tree(tmp_path / "configured", files))
    assert rules_of(result.findings) == [("sampling.py", "TK131")] and result.unused == []


def test_eval_of_a_data_field_is_not_a_lookup_by_name(tmp_path):
    """`eval(meta["@nb_frames"])` reads a frame rate or count out of ffprobe's JSON: it cannot name
    a function. `eval(args.model)` can: every definition of its file stays live."""
    data_eval = "def frame_rate(meta):\n    return eval(meta['@avg_frame_rate'])\n\n\n"
    result = audit(write_tree(tmp_path / "data", {"probe.py": data_eval + SAMPLER, "run.py": "import probe\n"}))
    assert rules_of(result.findings) == [] and rules_of(result.unused) == [("probe.py", "TK131")]
    name_eval = "def build(args):\n    return eval(args.model)\n\n\n"
    result = audit(write_tree(tmp_path / "names", {"probe.py": name_eval + SAMPLER, "run.py": "import probe\n"}))
    assert rules_of(result.findings) == [("probe.py", "TK131")] and result.unused == []


def test_explicit_files_hold_nothing_back(tmp_path):
    """The pre-commit hook passes the changed files: the rest of the tree is not known, so nothing
    is held back, even when a folder is passed along with the file."""
    write_tree(tmp_path, {"data/sampling.py": SAMPLER, "train.py": "from data.sampling import draw_clip_start\n"})
    assert audit(tmp_path).unused != []  # the folder: held back
    for paths in ([tmp_path / "data" / "sampling.py"], [tmp_path / "data" / "sampling.py", tmp_path / "data"]):
        result = audit(tmp_path, *paths)
        assert rules_of(result.findings) == [("sampling.py", "TK131")] and result.unused == []


def test_cached_run_reports_a_finding_again_once_another_file_uses_it(tmp_path):
    """The decision is made at the end of every run from every file's facts, cached or not."""
    project = write_tree(
        tmp_path / "project", {"data/sampling.py": SAMPLER, "train.py": "from data.sampling import draw_clip_start\n"}
    )
    cache_dir = tmp_path / "cache"

    def run():
        return audit_paths([project], config=AuditConfig(root=project), cache_dir=cache_dir)

    assert rules_of(run().unused) == [("sampling.py", "TK131")]
    assert rules_of(run().unused) == [("sampling.py", "TK131")]  # from the cache
    assert list(cache_dir.glob("facts-*.json"))
    (project / "train.py").write_text("from data.sampling import draw_clip_start\nprint(draw_clip_start(9, 3))\n")
    again = run()  # sampling.py is a cache hit; train.py is new
    assert rules_of(again.findings) == [("sampling.py", "TK131")] and again.unused == []


def test_file_facts_read_code_not_comments_or_docstrings():
    facts = file_facts(
        textwrap.dedent('''\
            """Module doc."""
            from x import imported_only


            def reader(path):
                """Example:
            def not_a_def():
                pass
            """
                # called_in_comment(path)
                return helper(path, "clip_sampler")


            class Clips(Base):
                pass
        ''')
    )
    assert [d[0] for d in facts["defs"]] == ["reader", "Clips"]
    assert [d[4] for d in facts["defs"]] == ["f", "c"]
    uses = " ".join([facts["uses"], *facts["def_uses"]]).split()
    assert "helper" in uses and "clip_sampler" in uses and "Base" in uses
    assert "called_in_comment" not in uses and "imported_only" not in uses and "reader" not in uses


def test_file_facts_names_in_messages_and_object_getattr_are_not_uses():
    facts = file_facts(
        textwrap.dedent('''\
            def check(im):
                """Unlike random_sized_crop, keeps the whole frame."""
                assert im.ndim == 3, "only images for random_crop_list"
                return getattr(self.writer, name)(REGISTRY["center_crop"])
        ''')
    )
    uses = " ".join([facts["uses"], *facts["def_uses"]]).split()
    assert "center_crop" in uses
    assert "random_sized_crop" not in uses and "random_crop_list" not in uses
    assert not any(u.startswith("*module:") for u in uses)  # self.writer is an object, not a module


def test_a_call_in_a_file_that_cannot_be_decoded_is_a_use(tmp_path):
    """A file the audit cannot read as text (here Latin-1 bytes without a coding cookie) is searched
    word by word: it might call the function."""
    write_tree(tmp_path, {"run.py": IMPORTER, "sampling.py": SAMPLER, **DEAD})
    (tmp_path / "legacy_tool.py").write_bytes(
        b"# caf\xe9\nfrom sampling import draw_clip_start\ndraw_clip_start(9, 2)\n"
    )
    result = audit(tmp_path)
    assert [Path(e.path).name for e in result.errors] == ["legacy_tool.py"]  # not valid UTF-8
    assert rules_of(result.findings) == [("sampling.py", "TK131")]
    assert rules_of(result.unused) == [("old_sampling.py", "TK131")]


def test_cli_json_says_the_count_on_stderr(tmp_path, capsys):
    from temporalkit.cli import main

    write_tree(tmp_path, {"sampling.py": SAMPLER, "run.py": IMPORTER})
    assert main(["audit", str(tmp_path), "--no-cache", "--format", "json"]) == 0
    captured = capsys.readouterr()
    assert '"findings": []' in captured.out
    assert "1 finding in code nothing in the audited tree uses was not reported" in captured.err


def test_cli_summary_and_flag(tmp_path, capsys):
    from temporalkit.cli import main

    write_tree(tmp_path, {"sampling.py": SAMPLER, "run.py": IMPORTER})
    code = main(["audit", str(tmp_path), "--no-cache", "--color", "never"])
    out = capsys.readouterr().out
    assert code == 0
    assert "1 finding in code nothing in the audited tree uses was not reported (--include-unused to show them)" in out
    code = main(["audit", str(tmp_path), "--no-cache", "--color", "never", "--include-unused"])
    out = capsys.readouterr().out
    assert code == 1 and "TK131" in out and "not reported" not in out


def test_config_key_include_unused(tmp_path):
    write_tree(
        tmp_path,
        {"sampling.py": SAMPLER, "run.py": IMPORTER, "pyproject.toml": "[tool.temporalkit]\ninclude-unused = true\n"},
    )
    config = read_config(tmp_path / "pyproject.toml")
    assert config.include_unused is True
    result = audit_paths([tmp_path], config=config, cache=False)
    assert rules_of(result.findings) == [("sampling.py", "TK131")] and result.unused == []
    (tmp_path / "pyproject.toml").write_text('[tool.temporalkit]\ninclude-unused = "yes"\n')
    with pytest.raises(ConfigError, match="include-unused must be true or false"):
        read_config(tmp_path / "pyproject.toml")


SPATIAL_SAMPLING = {
    "data/__init__.py": "",
    "data/video_transforms.py": """\
        import numpy as np


        def random_crop(frames, size):
            y = np.random.randint(0, frames.shape[1] - size)
            return frames[:, y : y + size]


        def random_resized_crop(frames, size, aspect_ratio, scale):
            return frames
    """,
    "data/clips.py": """\
        from data import video_transforms


        def spatial_sampling(frames, crop_size, aspect_ratio=None, scale=None):
            if aspect_ratio is None and scale is None:
                frames = video_transforms.random_crop(frames, crop_size)
            else:
                frames = video_transforms.random_resized_crop(frames, crop_size, aspect_ratio, scale)
            return frames


        class Clips:
            def __getitem__(self, index):
                scl, asp = ([0.08, 1.0], [0.75, 1.33])
                return spatial_sampling(self.frames[index], 224, aspect_ratio=asp, scale=scl)
    """,
    "train.py": "from data.clips import Clips\nprint(Clips()[0])\n",
}


def test_a_branch_no_caller_takes_does_not_keep_a_function_live(tmp_path):
    """SlowFast's spatial_sampling crops with random_crop only when aspect_ratio and scale are both
    None; a fork whose every call passes them from literal lists never runs random_crop."""
    result = audit(write_tree(tmp_path / "fork", SPATIAL_SAMPLING))
    assert result.findings == [] and rules_of(result.unused) == [("video_transforms.py", "TK131")]


@pytest.mark.parametrize(
    "call",
    [
        "spatial_sampling(self.frames[index], 224, aspect_ratio=self.aspect, scale=self.scale)",  # maybe None
        "spatial_sampling(self.frames[index], 224)",  # the defaults: the branch runs
        "spatial_sampling(self.frames[index], 224, **self.crop_args)",
    ],
)
def test_a_branch_some_caller_may_take_keeps_it_live(tmp_path, call):
    files = dict(SPATIAL_SAMPLING)
    files["data/clips.py"] = files["data/clips.py"].replace(
        "spatial_sampling(self.frames[index], 224, aspect_ratio=asp, scale=scl)", call
    )
    assert call in files["data/clips.py"]
    result = audit(write_tree(tmp_path / "live", files))
    assert rules_of(result.findings) == [("video_transforms.py", "TK131")] and result.unused == []


def test_a_mention_in_a_class_body_under_an_if_is_taken(tmp_path):
    files = dict(SPATIAL_SAMPLING)
    files["data/clips.py"] += "\n\nclass Options:\n    if DEBUG is None:\n        crop = video_transforms.random_crop\n"
    result = audit(write_tree(tmp_path / "class_body", files))
    assert rules_of(result.findings) == [("video_transforms.py", "TK131")] and result.unused == []


def test_a_name_imported_from_another_package_is_not_a_use_of_the_trees_copy(tmp_path):
    """A fork keeps a copy of torchvision's UniformClipSampler but trains with torchvision's own."""
    copy = "import numpy as np\n\n\nclass UniformClipSampler:\n    def starts(self, n, T):\n        return np.random.randint(0, n - T)\n"
    files = {
        "common/__init__.py": "",
        "common/sampler.py": copy,
        "train.py": "from torchvision.datasets.samplers import UniformClipSampler\nprint(UniformClipSampler())\n",
    }
    result = audit(write_tree(tmp_path / "fork", files))
    assert result.findings == [] and rules_of(result.unused) == [("sampler.py", "TK131")]
    files["train.py"] = "from common.sampler import UniformClipSampler\nprint(UniformClipSampler())\n"
    result = audit(write_tree(tmp_path / "own", files))
    assert rules_of(result.findings) == [("sampler.py", "TK131")] and result.unused == []


@pytest.mark.parametrize(("package", "held"), [("torchvision.models", True), ("data", False), (None, False)])
def test_getattr_on_a_module_imported_by_a_computed_name(tmp_path, package, held):
    """mmcv's checkpoint.py (copied into many video repositories) reads torchvision's model zoo by a
    computed module name: that cannot reach the tree's code. The same from a package of the tree,
    or from a module name computed entirely, can reach any of it."""
    module = "name" if package is None else f'f"{package}.{{name}}"'
    loader = f"from importlib import import_module\n\n\ndef urls(name):\n    zoo = import_module({module})\n    return getattr(zoo, name)\n"
    files = {
        "data/__init__.py": "",
        "data/sampling.py": SAMPLER,
        "tools/checkpoint.py": loader,
        "train.py": "from tools.checkpoint import urls\nurls('r3d')\n",
    }
    result = audit(write_tree(tmp_path / "tree", files))
    assert rules_of(result.unused if held else result.findings) == [("sampling.py", "TK131")]


def test_a_signature_closed_at_column_0_keeps_the_body_in_its_function(tmp_path):
    """black puts the `):` of a long signature at column 0: the body after it is still the
    function's, not module-level code (which would make it live)."""
    long_signature = SAMPLER.replace(
        "def draw_clip_start(num_frames, clip_len):",
        "def draw_clip_start(\n    num_frames,\n    clip_len,\n) -> int:",
    )
    files = {"data/__init__.py": "", "data/sampling.py": long_signature + "\n\ndef unrelated():\n    return 0\n"}
    files["train.py"] = "from data.sampling import unrelated\nunrelated()\n"
    result = audit(write_tree(tmp_path, files))
    assert result.findings == [] and rules_of(result.unused) == [("sampling.py", "TK131")]
    facts = file_facts(textwrap.dedent(long_signature))
    assert [d[:3] for d in facts["defs"]] == [["draw_clip_start", 4, 8]]


# A fork's two copies of one sampler, each called by its module's own reader (shape of a
# repository whose image and video dataset modules each define `sample_frames`).
def _reader_module(prefix: str) -> str:
    return SAMPLER.replace("draw_clip_start", "sample_frames") + (
        f"\n\ndef {prefix}_read(path, n, T):\n    return path, sample_frames(n, T)\n"
    )


@pytest.mark.parametrize(
    ("caller", "held"),
    [
        ("from data.video_base import video_read\nvideo_read('x', 100, 8)\n", ["image_base.py"]),  # the video copy runs
        ("from data.image_base import image_read\nimage_read('x', 100, 8)\n", ["video_base.py"]),
        (
            "from data import video_base\nvideo_base.sample_frames(100, 8)\n",
            ["image_base.py"],
        ),  # nothing imports image_base
        ("from data.video_base import sample_frames as draw\ndraw(100, 8)\n", ["image_base.py"]),
    ],
)
def test_a_name_a_module_defines_or_imports_is_a_use_of_that_definition_only(tmp_path, caller, held):
    """Each module's bare `sample_frames(...)` calls its own copy, and `from m import f` binds m's:
    one copy in use does not keep the other copy's finding (in a reader nothing calls) reported.
    Read as an attribute (`video_base.sample_frames`) the name is not resolved, but the module
    holding the other copy is one no import statement reaches."""
    files = {
        "data/__init__.py": "",
        "data/image_base.py": _reader_module("image"),
        "data/video_base.py": _reader_module("video"),
        "train.py": caller,
    }
    result = audit(write_tree(tmp_path, files))
    assert [name for name, _ in rules_of(result.unused)] == held
    assert len(result.findings) == 1 and Path(result.findings[0].path).name not in held


def test_resolved_names_in_file_facts():
    """Bare names bound once are resolved; a name also read as an attribute or in a string is not."""
    text = textwrap.dedent(
        """\
        from .video_base import read_clip, sample_frames as draw
        from other import helper


        def sample_frames(n):
            return draw(n) + helper.x


        def build(x):
            return x.sample_frames, getattr(x, "read_clip")
        """
    )
    resolved = file_facts(text)["resolved"].split()
    assert resolved == ["build=:build", "draw=.video_base:sample_frames", "helper=other:helper"]


def test_a_module_of_definitions_beside_imported_modules_is_judged_in_a_flat_layout(tmp_path):
    """A flat repository (no packages): `train.py` imports `datasets.py`; an unused copy of a
    CutMix module beside them is dead code. A script there (a `__main__` block) is not judged,
    nor is a lone folder of files that import none of each other (examples)."""
    files = {
        "datasets.py": "def build(n):\n    return list(range(n))\n",
        "train.py": "from datasets import build\n\nif __name__ == '__main__':\n    build(3)\n",
        "cutmix_copy.py": SAMPLER.replace("draw_clip_start", "box_start"),
        "make_clips.py": SAMPLER + "\n\nif __name__ == '__main__':\n    print(draw_clip_start(100, 8))\n",
        "snippets/one.py": SAMPLER.replace("draw_clip_start", "one_start"),
        "snippets/two.py": SAMPLER.replace("draw_clip_start", "two_start"),
    }
    result = audit(write_tree(tmp_path, files))
    assert sorted(rules_of(result.findings)) == [("make_clips.py", "TK131"), ("one.py", "TK131"), ("two.py", "TK131")]
    assert rules_of(result.unused) == [("cutmix_copy.py", "TK131")]


STRATEGIES = """\
import numpy as np


def frame_indices(n, T, strategy):
    if strategy == "rand":
        return np.sort(np.random.choice(n, T, replace=False))
    elif strategy == "legacy_stride":
        return np.arange(0, n, n / T).astype(int)
    return np.linspace(0, n - 1, T).astype(int)
"""


@pytest.mark.parametrize(
    ("extra", "held"),
    [
        ({}, [("sampling.py", "TK151")]),  # no config, script or caller names "legacy_stride"
        ({"configs/old.yaml": "strategy: legacy_stride\n"}, []),
        (
            {
                "tools/run.py": "import argparse\nargparse.ArgumentParser().add_argument('--s', choices=['legacy_stride'])\n"
            },
            [],
        ),
    ],
)
def test_a_branch_selected_by_a_string_nothing_else_names_is_held_back(tmp_path, extra, held):
    """`elif strategy == "legacy_stride":` runs only if something can pass that string: a config,
    an argument's choices, a caller. When the string occurs nowhere else in the project, nothing can."""
    files = {
        "data/__init__.py": "",
        "data/sampling.py": STRATEGIES,
        "train.py": "from data.sampling import frame_indices\nframe_indices(100, 8, 'rand')\n",
        **extra,
    }
    result = audit(write_tree(tmp_path, files))
    assert rules_of(result.unused) == held
    assert rules_of(result.findings) == ([] if held else [("sampling.py", "TK151")])


def test_a_choice_named_only_in_an_error_message_is_still_unselected(tmp_path):
    """`raise ValueError("... use rand or legacy_stride")` lists the strategies; it passes none, so
    the branch stays one nothing selects (a TDN copy's `dense_test` mode, a held-out-16 false alarm).
    A second use outside the `raise` (a default) selects it."""
    listed = STRATEGIES.replace(
        "    return np.linspace(0, n - 1, T).astype(int)\n",
        "    elif strategy == 'uniform':\n        return np.linspace(0, n - 1, T).astype(int)\n"
        "    raise ValueError(\n        f'unknown strategy {strategy}: use rand, uniform or legacy_stride'\n    )\n",
    )
    files = {
        "data/__init__.py": "",
        "data/sampling.py": listed,
        "train.py": "from data.sampling import frame_indices\nframe_indices(100, 8, 'rand')\n",
    }
    result = audit(write_tree(tmp_path / "listed", files))
    assert rules_of(result.findings) == [] and rules_of(result.unused) == [("sampling.py", "TK151")]
    files["data/sampling.py"] = listed.replace(
        "def frame_indices(n, T, strategy)", "def frame_indices(n, T, strategy='legacy_stride')"
    )
    result = audit(write_tree(tmp_path / "default", files))
    assert rules_of(result.findings) == [("sampling.py", "TK151")] and result.unused == []


SWITCHED = """\
import numpy as np


class Frames:
    def __init__(self, root, num_segments=8, dense_sample=False):
        self.root, self.num_segments, self.dense_sample = root, num_segments, dense_sample
        self.dense_sample = dense_sample

    def indices(self, n, T):
        if self.dense_sample:
            return np.random.randint(0, n - T) + np.arange(T)
        return np.linspace(0, n - 1, T).astype(int)
"""


@pytest.mark.parametrize(
    ("caller", "held"),
    [
        ("from data.frames import Frames\nFrames('x').indices(100, 8)\n", True),  # nobody turns it on
        ("from data.frames import Frames\nFrames('x', dense_sample=True).indices(100, 8)\n", False),
    ],
)
def test_a_branch_on_a_switch_nobody_turns_on_is_held_back(tmp_path, caller, held):
    """`if self.dense_sample:` on an __init__ parameter defaulting to False that nothing in the
    project passes: the branch never runs."""
    files = {"data/__init__.py": "", "data/frames.py": SWITCHED, "train.py": caller}
    result = audit(write_tree(tmp_path, files))
    assert rules_of(result.unused if held else result.findings) == [("frames.py", "TK131")]


@pytest.mark.parametrize(
    "sampler",
    [
        # the else of `if not self.dense_sample:` runs only when it is switched on
        SWITCHED.replace("if self.dense_sample:", "if not self.dense_sample:\n            pass\n        else:"),
        # a method chosen by a string whose default is another method
        SWITCHED.replace("dense_sample=False", 'sampling="uniform"')
        .replace("self.dense_sample = dense_sample", "self.sampling = sampling")
        .replace(", self.dense_sample = root, num_segments, dense_sample", " = root, num_segments")
        .replace("if self.dense_sample:", 'if self.sampling == "dense":'),
    ],
)
def test_a_branch_only_a_non_default_argument_selects_is_held_back(tmp_path, sampler):
    files = {
        "data/__init__.py": "",
        "data/frames.py": sampler,
        "train.py": "from data.frames import Frames\nFrames('x').indices(100, 8)\nprint('dense clips')\n",
    }
    result = audit(write_tree(tmp_path, files))
    assert rules_of(result.unused) == [("frames.py", "TK131")] and result.findings == []


SCRIPT_MAIN = """

def main():
    print("extracting frames")
    # print(unused_start(100, 8))  the decord variant, no longer called


if __name__ == "__main__":
    main()
"""


def test_a_function_its_own_script_never_calls_is_held_back(tmp_path):
    """A script nothing imports: its module-level code is the only root, so a helper of its own
    that neither it nor any other file names (a reader variant whose call is commented out) is
    dead. What the script calls stays reported, and so does every function of a script handing
    its module to a command-line wrapper (`fire.Fire()` with no argument exposes them all)."""
    dead_helper = SAMPLER.replace("draw_clip_start", "unused_start") + SCRIPT_MAIN
    called = dead_helper.replace("# print(unused_start(100, 8))", "print(unused_start(100, 8))  #")
    fire_cli = SAMPLER.replace("draw_clip_start", "cli_start").replace("import numpy", "import fire\nimport numpy")
    fire_cli += '\n\nif __name__ == "__main__":\n    fire.Fire()\n'
    write_tree(
        tmp_path,
        {"tools/extract_depth.py": dead_helper, "tools/extract_flow.py": called, "tools/cli.py": fire_cli},
    )
    result = audit(tmp_path)
    assert sorted(rules_of(result.findings)) == [("cli.py", "TK131"), ("extract_flow.py", "TK131")]
    assert rules_of(result.unused) == [("extract_depth.py", "TK131")]


def test_a_module_no_import_chain_reaches_is_held_back_even_when_its_names_are_used(tmp_path):
    """A fork vendors another project's package (`vendor/slowfast/datasets/...`) and imports none of
    it; its own `random_crop` is called by the live loader. Names alone keep the vendored
    `random_crop` live; the import graph says no program reaches its module. A module a shell
    script runs by path, or one a package re-exports, stays reached."""
    crop = SAMPLER.replace("draw_clip_start", "random_crop")
    files = {
        "app/__init__.py": "",
        "app/transform.py": crop,
        "app/loader.py": "from app import transform\n\n\ndef load(n):\n    return transform.random_crop(n, 8)\n",
        "train.py": "from app.loader import load\n\nif __name__ == '__main__':\n    load(100)\n",
        "app/vendor/__init__.py": "",
        "app/vendor/slowfast/__init__.py": "",
        "app/vendor/slowfast/datasets/__init__.py": "from . import transform\n",
        "app/vendor/slowfast/datasets/transform.py": crop,
        "app/vendor/slowfast/datasets/decoder_old.py": crop,
    }
    result = audit(write_tree(tmp_path / "fork", files))
    assert [Path(f.path).parent.name for f in result.findings] == ["app"]
    assert sorted(Path(f.path).name for f in result.unused) == ["decoder_old.py", "transform.py"]

    files["scripts/extract.sh"] = "python -m app.vendor.slowfast.datasets.decoder_old --out clips\n"
    files["app/loader.py"] += "from app.vendor.slowfast import datasets  # noqa: F401\n"
    result = audit(write_tree(tmp_path / "used", files))
    assert sorted(Path(f.path).name for f in result.findings) == ["decoder_old.py", "transform.py", "transform.py"]
    assert result.unused == []
    del files["scripts/extract.sh"]
    result = audit(write_tree(tmp_path / "imported", files))
    assert sorted(Path(f.path).name for f in result.findings) == ["transform.py", "transform.py"]
    assert [Path(f.path).name for f in result.unused] == ["decoder_old.py"]


def test_a_module_loaded_by_a_computed_name_keeps_every_module_reached(tmp_path):
    crop = SAMPLER.replace("draw_clip_start", "random_crop")
    files = {
        "app/__init__.py": "",
        "app/plugins/__init__.py": "",
        "app/plugins/crops.py": crop,
        "run.py": "import importlib, sys\n\nplugin = importlib.import_module(sys.argv[1])\nprint(getattr(plugin, sys.argv[2])(100, 8))\n",
    }
    result = audit(write_tree(tmp_path, files))
    assert [Path(f.path).name for f in result.findings] == ["crops.py"] and result.unused == []
