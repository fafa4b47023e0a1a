"""Single-image readers: told apart from video loaders by discovery, checked on the probe images."""

import importlib.util
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from temporalkit.validators.dynamic import check_object, run_dynamic
from temporalkit.validators.dynamic.clips import UnusableCallable
from temporalkit.validators.dynamic.discover import discover_source
from temporalkit.validators.dynamic.frame_code import _cells_for, _decode_tiles, decode_frame_index
from temporalkit.validators.dynamic.image_checks import check_image_reader
from temporalkit.validators.dynamic.probes import PROBE_IMAGE_SPECS, make_probe_images

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "pipelines"

# A stand-in for OpenCV's image I/O, put beside copies of the examples so that their exact cv2 code
# runs on a machine without OpenCV: imread gives BGR (None for a file it cannot read), cvtColor swaps.
CV2_SHIM = """
import numpy as np
from PIL import Image

COLOR_BGR2RGB = COLOR_RGB2BGR = 4


class error(Exception):
    pass


def imread(path, flags=1):
    try:
        with Image.open(path) as image:
            rgb = np.asarray(image.convert("RGB"))
    except Exception:
        return None
    return np.ascontiguousarray(rgb[..., ::-1])


def cvtColor(src, code):
    if src is None or src.size == 0:
        raise error("OpenCV(5.0.0) (-215:Assertion failed) !_src.empty() in function 'cvtColor'")
    return np.ascontiguousarray(src[..., ::-1])
"""


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    return make_probe_images(tmp_path_factory.mktemp("images"))


def rules(findings):
    return sorted(f.rule for f in findings)


# --- probe images --------------------------------------------------------------------------------


def test_probe_images_carry_distinct_asymmetric_codes_in_png_and_jpeg(images, tmp_path):
    assert {image.format for image in images} == {"png", "jpeg"}
    assert {image.aspect for image in images} >= {"16:9", "9:16"}
    assert len({image.index for image in images}) == len(images)
    for image in images:
        with Image.open(image.path) as opened:
            assert opened.format == {"png": "PNG", "jpeg": "JPEG"}[image.format]
            pixels = np.asarray(opened.convert("RGB"))
        assert pixels.shape == (image.height, image.width, 3)
        assert decode_frame_index(pixels) == image.index
        cells = np.array(_cells_for(image.index), bool).reshape(1, 4, 4)
        # a transposed or mirrored image never reads as itself
        assert all(_decode_tiles(v)[0] == -1 for v in (cells.transpose(0, 2, 1), cells[:, :, ::-1]))
    before = {image.path: image.path.stat().st_mtime_ns for image in images}
    again = make_probe_images(images[0].path.parent)
    assert {image.path: image.path.stat().st_mtime_ns for image in again} == before
    assert [image.name for image in make_probe_images(tmp_path)] == [spec.name for spec in PROBE_IMAGE_SPECS]


# --- the checks, on readers written with Pillow --------------------------------------------------


def read_rgb(path):
    return np.asarray(Image.open(path).convert("RGB"))


def read_bgr(path):
    return np.asarray(Image.open(path))[..., ::-1]


def read_square(path):
    return np.asarray(Image.open(path).convert("RGB").resize((112, 112)))


def read_transposed(path):
    return read_rgb(path).transpose(1, 0, 2)


def read_short_side_crop(path):
    image = Image.open(path).convert("RGB")
    scale = 112 / min(image.size)
    image = image.resize((round(image.width * scale), round(image.height * scale)))
    left, top = (image.width - 112) // 2, (image.height - 112) // 2
    return np.asarray(image)[top : top + 112, left : left + 112]


def read_gray(path):
    return np.asarray(Image.open(path).convert("L"))


def read_gray_square(path):
    return np.asarray(Image.open(path).convert("L").resize((64, 64)))


def read_gray_documented(path):
    """Grayscale thumbnail, resized to 64x64 for the index page."""
    return read_gray_square(path)


def read_nothing(path):
    return None


def read_png_only_bgr(path):
    if path.endswith(".jpg"):
        raise ValueError("no JPEG support")
    return read_bgr(path)


def read_png_only(path):
    if path.endswith(".jpg"):
        raise ValueError("no JPEG support")
    return read_rgb(path)


def test_a_correct_reader_passes_in_any_output_type(images):
    import torch
    from torchvision.io import ImageReadMode, read_image

    def normalised(path):
        x = read_image(path).float() / 255
        mean, std = torch.tensor([0.485, 0.456, 0.406]), torch.tensor([0.229, 0.224, 0.225])
        return ((x - mean[:, None, None]) / std[:, None, None])[None]  # (1, C, H, W)

    for reader in (
        read_rgb,
        read_image,
        normalised,
        Image.open,
        read_short_side_crop,
        read_gray,
        lambda path: read_image(path, ImageReadMode.GRAY),  # (1, H, W)
        lambda path: (read_rgb(path), {"path": path}),
        lambda path: {"image": read_rgb(path)},
    ):
        assert check_image_reader(reader, images) == [], reader


def test_a_bgr_reader_gets_the_loader_color_order_finding(images):
    findings = check_image_reader(read_bgr, images)
    assert [(f.rule, f.category) for f in findings] == [("TK616", "color-order")]
    assert "BGR" in findings[0].message and "image_16x9.png" in findings[0].message
    assert "cvtColor" in findings[0].fix and findings[0].source == "dynamic"
    assert len(findings[0].extra["probes_failing"]) == len(images)


def test_a_stretched_or_transposed_image_is_an_aspect_distortion(images):
    squashed = check_image_reader(read_square, images)
    assert [(f.rule, f.category) for f in squashed] == [("TK617", "aspect-distortion")]
    assert "0.56" in squashed[0].message and "112x112" in squashed[0].message
    transposed = check_image_reader(read_transposed, images)
    assert rules(transposed) == ["TK617"] and "swapped" in transposed[0].message


def test_a_single_channel_reader_is_judged_on_its_shape_unless_it_documents_resizing(images):
    assert rules(check_image_reader(read_gray_square, images)) == ["TK617"]
    assert check_image_reader(read_gray_documented, images) == []


def test_a_reader_that_reads_nothing_cannot_be_audited(images):
    with pytest.raises(
        UnusableCallable, match=r"^`read_nothing` returned None instead of the pixels on every probe image"
    ):
        check_image_reader(read_nothing, images)
    with pytest.raises(UnusableCallable, match=r"raised ValueError: no JPEG support on image_16x9\.jpg"):
        check_image_reader(read_png_only, images)
    partial = check_image_reader(read_png_only_bgr, images)
    assert rules(partial) == ["TK616"] and "no JPEG support" in partial[0].message


# --- discovery -------------------------------------------------------------------------------------


def roles(source):
    return {c.name: c.role for c in discover_source(textwrap.dedent(source), "x.py")}


def test_discovery_tells_image_readers_from_video_loaders():
    found = roles(
        """
        try:
            import cv2
        except ImportError:
            cv2 = None
        import av
        import imageio.v3 as iio
        from PIL import Image as PILImage
        from torchvision.io import read_image
        import torchvision

        def load_rgb(path):
            return cv2.cvtColor(cv2.imread(path), cv2.COLOR_BGR2RGB)
        def read_pil(path):
            return PILImage.open(path).convert("RGB")
        def decode(path):
            return read_image(path)
        def load_tv(path):
            return torchvision.io.decode_image(torchvision.io.read_file(path))
        def read_iio(filename):
            return iio.imread(filename)
        def load_image(path):
            return some_helper(path)
        def read_thing(image_path):
            return some_helper(image_path)
        def _open(path):
            return PILImage.open(path)
        def load_sample(path):
            return _open(path)
        class ImageLoader:
            def __call__(self, path):
                return PILImage.open(path)

        def load_video(path):
            return some_helper(path)
        def read_clip(path):
            with av.open(path) as container:
                return [f.to_ndarray() for f in container.decode(video=0)]
        def read_cv2_video(path):
            capture = cv2.VideoCapture(path)
            return capture.read()[1]
        def load_frames(path):
            return [cv2.imread(f) for f in sorted(glob(path + "/*.jpg"))]
        def load_thing(video_path):
            return PILImage.open(video_path)
        def load_video_frame(path):
            return some_helper(path)
        def read(path):
            return some_helper(path)
        def _decode(path):
            with av.open(path) as c:
                return list(c.decode(video=0))
        def load_first_frame(path):
            return _decode(path)[0]
        """
    )
    assert found == {
        "load_rgb": "image",
        "read_pil": "image",
        "decode": "image",
        "load_tv": "image",
        "read_iio": "image",
        "load_image": "image",
        "read_thing": "image",
        "load_sample": "image",
        "ImageLoader": "image",
        "load_video": "loader",
        "read_clip": "loader",
        "read_cv2_video": "loader",
        "load_frames": "loader",
        "load_thing": "loader",
        "load_video_frame": "loader",
        "read": "loader",
        "load_first_frame": "loader",
    }


def test_bundled_cv2_readers_are_image_readers_and_video_loaders_stay_loaders():
    def discovered(name):
        return {
            c.name: c.role
            for c in discover_source((EXAMPLES / name).read_text(), name)
            if c.role in ("loader", "image")
        }

    assert discovered("buggy_transforms.py") == {"load_frame_cv2": "image"}
    assert discovered("correct_pipeline.py") == {"read_rgb": "image"}
    assert set(discovered("dynamic_loaders.py").values()) == {"loader"}
    assert set(discovered("dynamic_loaders_correct.py").values()) == {"loader"}


# --- the bundled cv2 examples, end to end through the sandbox -------------------------------------


def examples_with_cv2(directory, cv2_source):
    """Copies of the two examples that use cv2, with `cv2_source` as the cv2 they import."""
    directory.mkdir()
    for name in ("buggy_transforms.py", "correct_pipeline.py"):
        shutil.copy(EXAMPLES / name, directory / name)
    (directory / "cv2.py").write_text(cv2_source)
    return directory


def test_bundled_cv2_readers_with_an_opencv_stand_in(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    directory = examples_with_cv2(tmp_path / "src", CV2_SHIM)
    files = [str(directory / "buggy_transforms.py"), str(directory / "correct_pipeline.py")]
    findings, errors = run_dynamic(files, roles=["image"], timeout=120)
    assert errors == []
    assert [(Path(f.path).name, f.line, f.rule) for f in findings] == [("buggy_transforms.py", 41, "TK616")]
    assert findings[0].message.startswith("`load_frame_cv2('image_16x9.png')` returned BGR pixels")


def test_bundled_cv2_readers_without_opencv_are_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    directory = examples_with_cv2(tmp_path / "src", "raise ImportError('No module named cv2')\n")
    findings, errors = check_object(directory / "correct_pipeline.py", "read_rgb", "image", timeout=120)
    assert findings == []
    assert len(errors) == 1
    message = errors[0].message
    assert message.startswith("read_rgb (line 46):") and "\n" not in message
    assert "raised AttributeError: 'NoneType' object has no attribute 'imread' on every probe image" in message


@pytest.mark.skipif(importlib.util.find_spec("cv2") is None, reason="OpenCV is not installed")
def test_bundled_cv2_readers_with_real_opencv(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    findings, errors = run_dynamic(
        [str(EXAMPLES / "buggy_transforms.py"), str(EXAMPLES / "correct_pipeline.py")], roles=["image"], timeout=120
    )
    assert errors == []
    assert [(Path(f.path).name, f.rule) for f in findings] == [("buggy_transforms.py", "TK616")]


def test_image_checks_do_not_import_torch():
    code = "import sys, temporalkit.validators.dynamic.image_checks\nprint('torch' in sys.modules)\n"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
