"""Random-start bound rules together (TK103, TK112, TK131, TK132): one finding per call, messages
that say what the draw is (frames or rows/columns, raising or guarded), and --fix only where
the meaning is certain (issue 11 section 3, issue 16)."""

from __future__ import annotations

import textwrap

import pytest
from temporalkit.validators.audit import audit_paths
from temporalkit.validators.config import AuditConfig
from temporalkit.validators.engine import apply_fixes, lint_source
from temporalkit.validators.rules import rule_by_id

BOUND_RULES = [rule_by_id(i) for i in ("TK103", "TK112", "TK131", "TK132")]

NP = "import numpy as np\n\n"
PY = "import random\n\n"
CALLS = {
    "exclusive, unguarded": NP + "def f(num_frames, T):\n    return np.random.randint(0, num_frames - T)\n",
    "exclusive minus one, unguarded": NP + "def f(n, T):\n    return np.random.randint(0, n - T - 1)\n",
    "inclusive minus one, unguarded": PY + "def f(n, T):\n    return random.randint(0, n - T - 1)\n",
    "inclusive plus one, unguarded": PY + "def f(n, T):\n    return random.randint(0, n - T + 1)\n",
    "through a variable": NP + "def f(n, size):\n    rand_end = max(0, n - size - 1)\n"
    "    return np.random.randint(0, rand_end)\n",
}


def _bound_reports(source: str):
    return [r for r in lint_source(textwrap.dedent(source), rules=BOUND_RULES)]


@pytest.mark.parametrize("source", list(CALLS.values()), ids=list(CALLS))
def test_one_finding_per_random_call(source):
    reports = _bound_reports(source)
    assert len(reports) == 1, [(r.rule.ID, r.message) for r in reports]


def test_unguarded_off_by_one_says_it_raises_in_the_same_finding():
    (report,) = _bound_reports(CALLS["exclusive, unguarded"])
    assert report.rule.ID == "TK131"
    assert "raises" in report.message and "num_frames <= T" in report.message


CROP = """
    import numpy as np

    def random_crop(images, size):
        height, width = images.shape[2], images.shape[3]
        y = x = 0
        if height > size:
            y = int(np.random.randint(0, height - size))
        if width > size:
            x = int(np.random.randint(0, width - size))
        return images[:, :, y:y + size, x:x + size]
    """


def test_spatial_offset_message_speaks_of_rows_and_columns_and_respects_the_guard():
    reports = _bound_reports(CROP)
    assert [r.rule.ID for r in reports] == ["TK131", "TK131"]
    assert "last row" in reports[0].message and "last column" in reports[1].message
    for report in reports:
        assert "frame" not in report.message and "raises" not in report.message


def test_unguarded_spatial_offset_says_it_raises_without_talking_of_frames():
    (report,) = _bound_reports(NP + "def crop(img_h, crop_h):\n    return np.random.randint(0, img_h - crop_h)\n")
    assert "last row" in report.message and "raises when img_h <= crop_h" in report.message
    assert "frame" not in report.message and "video" not in report.message


CUTMIX = """
    import numpy as np

    def rand_bbox(img_h, img_w, lam, margin=0.0):
        cut_h, cut_w = int(img_h * np.sqrt(1 - lam)), int(img_w * np.sqrt(1 - lam))
        margin_y, margin_x = int(margin * cut_h), int(margin * cut_w)
        cy = np.random.randint(0 + margin_y, img_h - margin_y)
        cx = np.random.randint(margin_x, img_w - margin_x)
        return cy, cx
    """


def test_symmetric_margin_box_centre_is_never_reported_nor_fixed(tmp_path):
    source = textwrap.dedent(CUTMIX)
    assert lint_source(source, rules=BOUND_RULES) == []
    path = tmp_path / "mixup.py"
    path.write_text(source)
    result = audit_paths([str(path)], fix=True, cache=False, config=AuditConfig(root=tmp_path))
    assert result.fixed_files == [] and path.read_text() == source


def test_bound_through_a_variable_is_reported_without_a_fix():
    (report,) = _bound_reports(CALLS["through a variable"])
    assert report.rule.ID == "TK131" and report.replacement is None
    assert "rand_end" in report.message
    source = textwrap.dedent(CALLS["through a variable"])
    assert apply_fixes(source, [report]) == source


def test_a_length_made_from_the_count_is_a_guard_for_the_message():
    source = """
    import numpy as np

    def box(img_h, lo, hi):
        cut_h = np.random.randint(int(img_h * lo), int(img_h * hi))
        return np.random.randint(0, img_h - cut_h)
    """
    (report,) = _bound_reports(source)
    assert report.rule.ID == "TK131" and "last row" in report.message and "raises" not in report.message


@pytest.mark.parametrize(
    ("bound", "axis"),
    [
        ("height - size", "row"),
        ("img_w - crop_w", "column"),
        ("img_size - crop", "row/column"),
        ("images.shape[2] - size", "row/column"),
        ("num_frames - size", None),
        ("total - size", None),
        ("len(frame_indices) - self.size", None),
        ("len(imgs) - self.clip_len", None),
        ("len(self.images) - T", None),
        ("num_imgs - clip_len", None),
        ("img_num - T", None),
        ("len(img) - size", "row/column"),
        ("img_size - crop_size", "row/column"),
    ],
)
def test_spatial_or_temporal_reading_of_a_bound(bound, axis):
    import libcst as cst
    from temporalkit.validators import astutil as au

    expr = cst.parse_expression(bound)
    assert au.spatial_axis(expr.left, expr.right) == axis


def test_a_window_over_a_list_of_images_speaks_of_frames_not_rows():
    source = """
    import numpy as np

    def pick(imgs, clip_len):
        if len(imgs) > clip_len:
            start = np.random.randint(0, len(imgs) - clip_len)
            imgs = imgs[start:start + clip_len]
        return imgs
    """
    (report,) = _bound_reports(source)
    assert report.rule.ID == "TK131" and "last frame" in report.message
    assert "row" not in report.message and "column" not in report.message and "crop" not in report.message


def test_generators_bound_to_names_are_resolved_for_other_rules_too():
    import libcst as cst
    from temporalkit.validators import astutil as au
    from temporalkit.validators.analysis import Analysis
    from temporalkit.validators.rule import Rule

    source = textwrap.dedent(
        """
        import random
        import numpy as np

        class S:
            def __init__(self, seed):
                self.gen = np.random.RandomState(seed)

            def f(self, n, k, seed, rng=np.random):
                r = random.Random(seed)
                return r.sample(range(n), k), rng.choice(n, k), self.gen.randint(0, n)
        """
    )
    module = cst.parse_module(source)
    rule = Rule(Analysis(module))
    names = {au.code(c.func): au.random_call_names(rule, c) for c in au.find_all(module, cst.Call)}
    assert "random.Random.sample" in names["r.sample"]
    assert "numpy.random.choice" in names["rng.choice"]
    assert "numpy.random.RandomState.randint" in names["self.gen.randint"]
