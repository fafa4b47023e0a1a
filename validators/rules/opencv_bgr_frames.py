from __future__ import annotations

import libcst as cst
from temporalkit.validators import astutil as au
from temporalkit.validators.analysis import Analysis
from temporalkit.validators.rule import Invalid, Rule, Valid

_CONSUMERS = frozenset(
    {
        "torch.from_numpy",
        "torch.as_tensor",
        "torch.tensor",
        "numpy.stack",
        "numpy.array",
        "numpy.asarray",
        "PIL.Image.fromarray",
    }
)
# OpenCV's own writers and viewers take BGR: a frame handed only to them is never mis-ordered.
_BGR_SINKS = frozenset({"cv2.imwrite", "cv2.imshow", "cv2.imencode"})
# OpenCV operations that keep the channel order of what they are given: a frame only resized, flipped or
# blurred on its way to OpenCV's writers stays in OpenCV (BGR in, BGR out).
_KEEP_ORDER = frozenset(
    {
        "cv2.resize",
        "cv2.flip",
        "cv2.rotate",
        "cv2.warpAffine",
        "cv2.warpPerspective",
        "cv2.copyMakeBorder",
        "cv2.GaussianBlur",
        "cv2.blur",
        "cv2.medianBlur",
    }
)
# Reads with no colour order: one grey channel, or the file's own channels and bit depth (16-bit depth maps,
# flow, masks). `cv2.IMREAD_UNCHANGED` is -1, `cv2.IMREAD_GRAYSCALE` 0, `cv2.IMREAD_ANYDEPTH` 2 (grey).
_NO_COLOUR_FLAGS = (
    "cv2.IMREAD_GRAYSCALE",
    "cv2.IMREAD_UNCHANGED",
    "cv2.IMREAD_ANYDEPTH",
    "cv2.IMREAD_REDUCED_GRAYSCALE_2",
    "cv2.IMREAD_REDUCED_GRAYSCALE_4",
    "cv2.IMREAD_REDUCED_GRAYSCALE_8",
)
# Conversions out of BGR by other libraries: mmcv.imconvert(img, "bgr", "rgb"), mmcv.bgr2rgb(img).
_BGR2RGB = frozenset({"mmcv.bgr2rgb", "mmcv.image.bgr2rgb"})
_IMCONVERT = frozenset({"mmcv.imconvert", "mmcv.image.imconvert"})
# mmcv.imnormalize(img, mean, std, to_rgb=True) converts BGR to RGB unless to_rgb is False.
_IMNORMALIZE = frozenset({"mmcv.imnormalize", "mmcv.imnormalize_", "mmcv.image.imnormalize", "mmcv.image.imnormalize_"})
# Keywords by which image libraries' helpers are asked to swap the channels: `img2tensor(imgs, bgr2rgb=True)`,
# a pipeline step `Normalize(mean, std, to_rgb=True)` / `dict(type="Normalize", ..., to_rgb=True)`.
_CONVERTING_KEYWORDS = frozenset({"bgr2rgb", "to_rgb"})


class OpenCVBGRFramesRule(Rule):
    """
    What it does:
        Flags frames read with OpenCV (`cv2.VideoCapture(...).read()`, `cv2.imread`) and turned into
        arrays or tensors in a module that never converts them to RGB
        (`cv2.cvtColor(f, cv2.COLOR_BGR2RGB)`, `f[..., ::-1]`).

    Why is this bad?
        OpenCV decodes to BGR channel order; every pretrained video model and every other decoder
        (PyAV, torchvision, decord) produce RGB. Feeding BGR swaps red and blue: normalisation
        statistics are applied to the wrong channels and accuracy drops by several points without
        any error.

    Known problems:
        The check is per module: one read, one conversion and one consumer anywhere in the file
        decide, without following the frames from one to the other. A conversion is
        `cv2.cvtColor` to anything but BGR, `mmcv.imconvert(x, "bgr", ...)` / `mmcv.bgr2rgb`, a
        channel slice `x[..., ::-1]` / `x[:, :, ::-1]` or index list `x[:, :, [2, 1, 0]]` or `np.flip` on the last axis (a flip of
        rows or columns, `cv2.flip(frame, 1)`, is not one), and `mmcv.imnormalize(x, ...)` unless
        its `to_rgb` is literally False (as an argument, or in the `dict(...)` / `{...}` its `**cfg`
        was assigned from): settings read from a config count as converting. Any call given the
        keyword `bgr2rgb=True` or `to_rgb=True` (`img2tensor(imgs, bgr2rgb=True)`, a pipeline's
        `Normalize(mean, std, to_rgb=True)`) converts, wherever it is in the module and whatever
        it is given; a helper that converts by default, called without the keyword, is not seen.
        A capture is a value assigned from
        `cv2.VideoCapture` (a local, `self.cap` set in the class, or a parameter annotated as
        one); a capture handed in unannotated is missed. Arrays built from number literals
        (`np.array([[0, 0, w, h]])`) are not frames. A read whose frame is only measured
        (`img.shape`, `np.shape(img)`), compared, or handed to OpenCV's writers (`cv2.imwrite`,
        `cv2.imshow`, `writer.write`) is left out, followed by its name in the function around it
        and through OpenCV operations that keep the channel order (`frame = cv2.resize(frame, s)`,
        `cv2.flip`, `cv2.warpAffine`, blurs). Reads with no colour order are left out: grey or
        unchanged flags (`cv2.IMREAD_GRAYSCALE`, `cv2.IMREAD_UNCHANGED`, `cv2.IMREAD_ANYDEPTH`, or
        the literals 0, -1, 2), taken for depth maps, masks or flow; a colour image read with
        `IMREAD_UNCHANGED` (BGR, or BGRA) is missed. So are reads of which one channel is kept
        (`cv2.imread(p)[:, :, 0]`, `img[..., 1]`, on the read or on every use of its name): a
        grey image stored as a JPEG has none; taking blue where red was meant is missed.
        Code under `if __name__ == "__main__":` is judged like the rest of the module.
        Arrays made from normalisation statistics (`np.array(cfg.mean)`) are not frames, and
        frames copied into a preallocated array (`out[k] = np.transpose(img, ...)`) are not seen
        as used. A module that normalises with channel means in BGR order (the first below the
        last: `[104, 117, 123]`, `(0.408, 0.447, 0.470)`; subtracted, passed as `mean=` or
        assigned to a `mean` name) is BGR on purpose, its model trained on OpenCV frames, and is
        not reported; means kept in another file (a config) are not seen.

    Example:
        ```python
        ok, frame = cap.read()
        frames.append(frame)
        clip = torch.from_numpy(np.stack(frames))
        ```

    Fix:
        Convert each frame once, right after decoding.
        ```python
        ok, frame = cap.read()
        frames.append(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
        ```
    """

    ID = "TK191"
    CATEGORY = "color-order"
    SEVERITY = "error"
    MESSAGE = "OpenCV frames are BGR and are never converted to RGB before use: red and blue are swapped for the model"
    FIX = "convert after decoding: cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)"
    TRIGGERS = ("cv2",)

    VALID = [
        # Images read and written straight into a video file: BGR in, BGR out.
        Valid(
            """
            import cv2

            def export(paths, out, size):
                writer = cv2.VideoWriter(out, cv2.VideoWriter_fourcc(*"mp4v"), 10, size)
                for path in paths:
                    writer.write(cv2.imread(path))
                writer.release()
            """
        ),
        Valid(
            """
            import cv2
            import numpy as np

            def read(path):
                cap = cv2.VideoCapture(path)
                frames = []
                ok, f = cap.read()
                while ok:
                    frames.append(cv2.cvtColor(f, cv2.COLOR_BGR2RGB))
                    ok, f = cap.read()
                return np.stack(frames)
            """
        ),
        Valid(
            """
            import cv2
            import numpy as np
            img = cv2.imread(path)[..., ::-1]
            arr = np.asarray(img)
            """
        ),
        # The channels reversed by an index list on the read itself (a real-code false alarm).
        Valid(
            """
            import cv2
            import numpy as np

            def load(paths):
                frames = []
                for path in paths:
                    image = cv2.imread(path)[:, :, [2, 1, 0]]
                    frames.append(image)
                return np.asarray(frames, dtype=np.float32)
            """
        ),
        Valid(
            """
            import cv2
            cap = cv2.VideoCapture(path)
            ok, f = cap.read()
            cv2.imwrite('out.png', f)
            """
        ),
        Valid(
            """
            import cv2
            import numpy as np
            g = cv2.imread(path, cv2.IMREAD_GRAYSCALE)
            arr = np.asarray(g)
            """
        ),
        # An image read only for its size, and video frames written back with OpenCV: BGR in, BGR out;
        # the arrays built in the module are keypoints, not pixels.
        Valid(
            """
            import cv2
            import numpy as np

            def size_of(path):
                image = cv2.imread(path)
                return {"height": image.shape[0], "width": image.shape[1]}

            def dump_frames(video, pattern, points):
                cap = cv2.VideoCapture(video)
                index = 0
                while True:
                    ok, frame = cap.read()
                    if not ok:
                        break
                    cv2.imwrite(pattern % index, frame)
                    index += 1
                return np.array(points)
            """
        ),
        # A folder of frames encoded to a video: the first read only gives the size (its name is bound again to
        # PyAV frames), each later read goes to PyAV as BGR; the module's only array is a mask (a real-code false
        # alarm).
        Valid(
            """
            import av
            import cv2
            import numpy as np
            from PIL import Image

            def encode(paths, out_path):
                frame = cv2.imread(paths[0])
                height, width, _ = frame.shape
                container = av.open(out_path, mode="w")
                stream = container.add_stream("h264")
                stream.width, stream.height = width, height
                for path in [image for image in sorted(paths) if image.endswith(".jpg")]:
                    image = cv2.imread(path)
                    frame = av.VideoFrame.from_ndarray(image, format="bgr24")
                    container.mux(stream.encode(frame))
                container.close()

            def mask_of(path):
                return np.array(Image.open(path))
            """
        ),
        # A rendered image read back, aligned by a helper of the module and written again (BGR in, BGR out);
        # another reader's batch is converted on the channel axis of a tensor (real-code false alarms).
        Valid(
            """
            import cv2
            import numpy as np
            import torch

            def align(image, size):
                h, w = image.shape[:2]
                side = min(h, w)
                return cv2.resize(image[:side, :side], (size, size))

            def render_and_align(figure, path, size):
                figure.savefig(path)
                image = cv2.imread(path)
                image = align(image, size)
                cv2.imwrite(path.replace(".png", "_aligned.png"), image)

            def points(path):
                return torch.from_numpy(np.load(path))
            """
        ),
        Valid(
            """
            import cv2
            import torch

            def pair(path_a, path_b):
                a = torch.from_numpy(cv2.imread(path_a)).permute(2, 0, 1)[None][:, [2, 1, 0], :, :]
                b = torch.from_numpy(cv2.imread(path_b)).permute(2, 0, 1)[None][:, [2, 1, 0], :, :]
                return torch.cat([a, b])
            """
        ),
        # Frames for display are converted by mmcv; the only array built is a box.
        Valid(
            """
            import cv2
            import mmcv
            import numpy as np

            def show(paths, w, h):
                whole = np.array([[0, 0, w, h]], dtype=np.float32)
                frames = [mmcv.imconvert(cv2.imread(p), "bgr", "rgb") for p in paths]
                return whole, frames
            """
        ),
        # `"cap" in name` is no capture (issue 17): a caption file read next to cv2 code.
        Valid(
            """
            import cv2
            import numpy as np

            class Annotated:
                def words(self):
                    text = self.caption_file.read()
                    return np.array(text.split())

                def draw(self, image, word):
                    return cv2.putText(image, word, (10, 30), cv2.FONT_HERSHEY_SIMPLEX, 1, (255, 255, 255))
            """
        ),
        # A capture stored on the object, converted channel-wise with a slice.
        Valid(
            """
            import cv2
            import numpy as np

            class Reader:
                def __init__(self, path):
                    self.source = cv2.VideoCapture(path)

                def next_clip(self, T):
                    frames = []
                    for _ in range(T):
                        ok, frame = self.source.read()
                        frames.append(frame[:, :, ::-1])
                    return np.stack(frames)
            """
        ),
        # Normalised by mmcv with settings taken from a config: imnormalize's to_rgb (default
        # True) may convert, and nothing says it is False.
        Valid(
            """
            import cv2
            import mmcv
            import numpy as np

            class Stream:
                def __init__(self, path, config):
                    self.cap = cv2.VideoCapture(path)
                    settings = config["normalize"]
                    settings["mean"] = np.array(settings["mean"])
                    self.norm = settings

                def grab(self):
                    ok, frame = self.cap.read()
                    image = frame.astype(np.float32)
                    mmcv.imnormalize_(image, **self.norm)
                    return np.stack([image])
            """
        ),
        # A frame read only to check the size of what preprocessing extracted (a real-code false alarm).
        Valid(
            """
            import cv2
            import numpy as np
            import torch

            def extracted_ok(folders, height, width):
                for folder in folders:
                    first = cv2.imread(folder + "/00001.jpg")
                    if np.shape(first)[0] != height or np.shape(first)[1] != width:
                        return False
                return True

            def targets(labels):
                return torch.from_numpy(np.array(labels))
            """
        ),
        # BGR on purpose: the means subtracted are in BGR order (blue's mean first, the smallest), the
        # model is trained on OpenCV frames (two real-code false alarms of this shape).
        Valid(
            """
            import cv2
            import numpy as np
            import torch

            def clip_for_model(paths):
                clip = np.array([cv2.imread(p) for p in paths]).astype(np.float32)
                clip -= np.array([[[[92.0, 99.0, 104.0]]]])
                return torch.from_numpy(clip.transpose(3, 0, 1, 2))
            """
        ),
        Valid(
            """
            import cv2
            import numpy as np
            import torch

            PIXEL_MEAN = (0.41, 0.45, 0.48)

            def frame_tensor(path):
                return torch.from_numpy(cv2.imread(path).astype(np.float32) / 255.0 - np.array(PIXEL_MEAN))
            """
        ),
        # Frames copied into a preallocated array and normalised with statistics from the options; the only
        # array built from a name is the mean (a real-code false alarm: that pipeline is BGR on purpose).
        Valid(
            """
            import cv2
            import numpy as np

            class Tubes:
                def __getitem__(self, i):
                    images = [cv2.imread(self.image_path(i, k)).astype(np.float32) for k in range(self.K)]
                    mean = np.array(self.opt.mean, dtype=np.float32)[:, None, None]
                    std = np.array(self.opt.std, dtype=np.float32)[:, None, None]
                    out = np.empty((self.K, 3, self.h, self.w), np.float32)
                    for k, image in enumerate(images):
                        out[k] = (np.transpose(image, (2, 0, 1)) / 255.0 - mean) / std
                    return out
            """
        ),
        # Preprocessing: every frame of the capture is resized with OpenCV and written back with cv2.imwrite
        # (BGR in, BGR out); the tensors built in the module are labels (a real-code false alarm).
        Valid(
            """
            import cv2
            import numpy as np
            import torch

            def extract(video_path, out_pattern, height, width):
                capture = cv2.VideoCapture(video_path)
                kept, ok = 0, True
                while ok:
                    ok, frame = capture.read()
                    if frame is None:
                        continue
                    frame = cv2.resize(frame, (width, height))
                    small = cv2.flip(frame, 1)
                    cv2.imwrite(filename=out_pattern % kept, img=small)
                    cv2.imwrite(out_pattern % (kept + 1), cv2.resize(frame, (width // 2, height // 2)))
                    kept += 2

            def targets(labels):
                return torch.from_numpy(np.array(labels))
            """
        ),
        # A 16-bit depth map read as stored (one channel, no colour order), scaled to metres for the model
        # (a real-code false alarm); a grey read by its literal flag is no colour frame either.
        Valid(
            """
            import cv2
            import torch

            def load_depth(path, scale=1000.0):
                depth = cv2.imread(path, cv2.IMREAD_UNCHANGED).astype("float32") / scale
                return torch.from_numpy(depth).unsqueeze(0).repeat(3, 1, 1)

            def load_grey(path):
                return torch.from_numpy(cv2.imread(path, 0))
            """
        ),
        # Converted by a helper asked to swap the channels by keyword a few lines after the read (a real-code
        # false alarm: `bgr2rgb=True`), or by the last step of the module's transform pipeline (`to_rgb=True`).
        Valid(
            """
            import cv2
            import numpy as np
            from ourlib.convert import images_to_tensor

            def read_sequence(paths):
                images = [cv2.imread(p).astype(np.float32) / 255.0 for p in paths]
                return images_to_tensor(np.stack(images), bgr2rgb=True)
            """
        ),
        Valid(
            """
            import cv2
            import numpy as np
            from ourlib.transforms import CentreCrop, ClipNormalize, Compose, ScaleShorter

            def load_frames(folder, indices):
                frames = [cv2.imread(f"{folder}/{i:05d}.jpg") for i in indices]
                return np.asarray(frames, dtype=np.float32)

            def build_transform(mean, std):
                return Compose([ScaleShorter(128), CentreCrop(112), ClipNormalize(mean, std, to_rgb=True)])
            """
        ),
        # One channel kept of each image (optical flow stored as grey JPEGs, a mask), or the image made grey:
        # no colour order (a real-code false alarm).
        Valid(
            """
            import cv2
            import numpy as np
            import torch

            def flow_stack(x_paths, y_paths):
                pairs = []
                for x_path, y_path in zip(x_paths, y_paths):
                    horizontal = cv2.imread(x_path)[:, :, 0]
                    vertical = cv2.imread(y_path)[..., 0]
                    pairs.append(np.stack([horizontal, vertical], -1))
                return np.stack(pairs, 0)

            def mask_of(path):
                mask = cv2.imread(path)
                return torch.from_numpy(mask[:, :, 0] > 0)

            def grey_of(path):
                return torch.from_numpy(cv2.cvtColor(cv2.imread(path), cv2.COLOR_BGR2GRAY))
            """
        ),
    ]
    INVALID = [
        # Beside a depth map read unchanged (quiet), the colour frame is read with the default flags: BGR.
        Invalid(
            """
            import cv2
            import numpy as np
            import torch

            def load_pair(rgb_path, depth_path):
                depth = cv2.imread(depth_path, cv2.IMREAD_UNCHANGED).astype(np.float32)
                image = cv2.imread(rgb_path)
                return torch.from_numpy(image), torch.from_numpy(depth)
            """,
            expected_line=8,
        ),
        # Resized with OpenCV (order kept), then into a tensor: still BGR, and no writer is the only reader.
        Invalid(
            """
            import cv2
            import torch

            def read_clip(path, size, T):
                cap = cv2.VideoCapture(path)
                frames = []
                for _ in range(T):
                    ok, frame = cap.read()
                    frame = cv2.resize(frame, (size, size))
                    cv2.imwrite("last.jpg", frame)
                    frames.append(torch.from_numpy(frame))
                return torch.stack(frames)
            """,
            expected_line=9,
        ),
        # Frames from cv2.imread into a model normalised with RGB-ordered (descending) ImageNet means.
        Invalid(
            """
            import cv2
            import numpy as np
            import torch

            def load(paths):
                frames = []
                for path in paths:
                    img = cv2.imread(path)
                    frames.append(torch.from_numpy(img).permute(2, 0, 1))
                clip = torch.stack(frames).float() / 255.0
                mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
                return clip - mean
            """,
            expected_line=9,
        ),
        # Normalised with to_rgb=False spelled out in the settings: still BGR.
        Invalid(
            """
            import cv2
            import mmcv
            import numpy as np

            class Stream:
                def __init__(self, path, mean, std):
                    self.cap = cv2.VideoCapture(path)
                    settings = dict(mean=np.array(mean), std=np.array(std), to_rgb=False)
                    self.norm = settings

                def grab(self):
                    ok, frame = self.cap.read()
                    image = frame.astype(np.float32)
                    mmcv.imnormalize_(image, **self.norm)
                    return np.stack([image])
            """,
            expected_line=13,
        ),
        Invalid(
            """
            import cv2
            import mmcv
            import numpy as np
            x = mmcv.imnormalize(cv2.imread(p), m, s, to_rgb=False)
            arr = np.asarray(x)
            """
        ),
        Invalid(
            """
            import cv2
            import numpy as np
            import torch

            def read(path):
                cap = cv2.VideoCapture(path)
                frames = []
                while True:
                    ok, frame = cap.read()
                    if not ok:
                        break
                    frames.append(frame)
                return torch.from_numpy(np.stack(frames))
            """,
            expected_line=10,
        ),
        Invalid(
            """
            import cv2
            from PIL import Image
            image = Image.fromarray(cv2.imread(path))
            """
        ),
        # The helper is told not to swap the channels: still BGR.
        Invalid(
            """
            import cv2
            import numpy as np
            from ourlib.convert import images_to_tensor

            def read_sequence(paths):
                images = [cv2.imread(p).astype(np.float32) / 255.0 for p in paths]
                return images_to_tensor(np.stack(images), bgr2rgb=False)
            """,
            expected_line=7,
        ),
        # One channel looked at and a pixel (all three colours) read, but the whole BGR image goes to the model.
        Invalid(
            """
            import cv2
            import torch

            def load(path):
                image = cv2.imread(path)
                if image[:, :, 0].max() == 0 or image[0, 0].sum() == 0:
                    raise ValueError(path)
                return torch.from_numpy(image)
            """,
            expected_line=6,
        ),
        # A horizontal flip is augmentation, not a colour conversion (issue 17); the capture is
        # recognised by what it was assigned from, whatever its name.
        Invalid(
            """
            import cv2
            import numpy as np
            import torch

            def read(path):
                stream = cv2.VideoCapture(path)
                frames = []
                ok, frame = stream.read()
                while ok:
                    frames.append(cv2.flip(frame, 1))
                    ok, frame = stream.read()
                return torch.from_numpy(np.stack(frames))
            """,
            expected_line=9,
        ),
        Invalid(
            """
            import cv2
            import numpy as np

            class Demo:
                def __init__(self, path):
                    self.cap = cv2.VideoCapture(path)

                def clip(self, T):
                    frames = [self.cap.read()[1] for _ in range(T)]
                    return np.stack(frames)[::-1]
            """,
            expected_line=10,
        ),
    ]

    def __init__(self, analysis: Analysis) -> None:
        super().__init__(analysis)
        self._reads: list[cst.Call] = []
        self._converted = False
        self._consumed = False

    def visit_Call(self, node: cst.Call) -> None:
        if any(
            arg.keyword is not None and arg.keyword.value in _CONVERTING_KEYWORDS and au.is_name(arg.value, "True")
            for arg in node.args
        ):
            self._converted = True
        names = au.call_names(self, node)
        if "cv2.cvtColor" in names:
            code = au.argument(node, 1, "code")
            if code is None or not au.code(code).upper().endswith("2BGR"):
                self._converted = True
        elif names & _BGR2RGB:
            self._converted = True
        elif names & _IMCONVERT:
            source = au.argument(node, 1, "src")
            if isinstance(source, cst.SimpleString) and source.evaluated_value.lower() == "bgr":
                self._converted = True
        elif names & _IMNORMALIZE:
            if self._normalize_converts(node):
                self._converted = True
        elif "numpy.flip" in names:
            axis = au.argument(node, 1, "axis")
            if au.int_value(axis) in (-1, 2):
                self._converted = True
        elif "cv2.imread" in names:
            flags = au.argument(node, 1, "flags")
            if flags is None or not (self.refers_to(flags, *_NO_COLOUR_FLAGS) or au.int_value(flags) in (-1, 0, 2)):
                if not self._one_channel(node):
                    self._reads.append(node)
        elif names & _CONSUMERS:
            data = au.argument(node, 0, "obj")
            if not _number_literal(data) and not _names_statistics(data):
                self._consumed = True
        elif (
            isinstance(node.func, cst.Attribute)
            and node.func.attr.value == "read"
            and self._is_capture(node.func.value)
        ):
            self._reads.append(node)

    def visit_Subscript(self, node: cst.Subscript) -> None:
        # A channel reversal: `x[..., ::-1]`, `x[:, :, ::-1]`. A lone `[::-1]` reverses the first
        # axis (the frames of a clip, or the rows of an image), which is no colour conversion.
        if len(node.slice) < 2:
            return
        last = node.slice[-1].slice
        if isinstance(last, cst.Slice) and au.int_value(last.step) == -1 and last.lower is None and last.upper is None:
            self._converted = True
        # The same reversal as a channel index list on any axis: `x[:, :, [2, 1, 0]]`, `x[..., (2, 1, 0)]`, a
        # batch of tensors `x[:, [2, 1, 0], :, :]`.
        for element in node.slice:
            index = element.slice
            if isinstance(index, cst.Index) and isinstance(index.value, (cst.List, cst.Tuple)):
                if [au.int_value(item.value) for item in index.value.elements] == [2, 1, 0]:
                    self._converted = True

    def leave_Module(self, original_node: cst.Module) -> None:
        reads = [read for read in self._reads if not self._stays_in_opencv(read)]
        if reads and self._consumed and not self._converted and not self._bgr_means(original_node):
            self.report(reads[0])

    def _bgr_means(self, module: cst.Module) -> bool:
        """The module normalises with channel means written in BGR order: BGR is the pipeline's convention.

        Natural images are redder than they are blue, so RGB channel means descend (ImageNet
        0.485, 0.456, 0.406; Kinetics 110.6, 103.2, 96.3; CLIP 0.481, 0.458, 0.408). A mean
        triple whose first value is below its last (Caffe's 104, 117, 123, C3D's 90, 98, 102,
        CenterNet's 0.408, 0.447, 0.470) lists blue first: the model was trained on BGR input.
        A triple is a mean when it is subtracted, passed as `mean=` (or first to `Normalize`),
        or assigned to a name with "mean" in it.
        """
        for triple in au.find_all(module, (cst.List, cst.Tuple)):
            values = _channel_triple(triple)
            if values is None or not values[0] < values[2]:
                continue
            if not (all(0.2 <= v <= 0.8 for v in values) or all(50 <= v <= 200 for v in values)):
                continue
            if self._is_mean(triple):
                return True
        return False

    def _is_mean(self, node: cst.CSTNode) -> bool:
        """`x - [[[a, b, c]]]`, `x -= np.array(...)`, `mean=(...)`, `Normalize((...), ...)`, `pixel_mean = [...]`."""
        child: cst.CSTNode = node
        for up in au.ancestors(self, node):
            if isinstance(up, cst.BinaryOperation) and isinstance(up.operator, cst.Subtract) and up.right is child:
                return True
            if isinstance(up, cst.AugAssign) and isinstance(up.operator, cst.SubtractAssign):
                return True
            if isinstance(up, cst.Arg) and up.keyword is not None:
                return "mean" in up.keyword.value.lower()
            if isinstance(up, cst.Call) and isinstance(child, cst.Arg) and child is au.argument_node(up, 0, "mean"):
                if (au.last_identifier(up.func) or "") == "Normalize":
                    return True
            if isinstance(up, cst.DictElement) and isinstance(up.key, cst.SimpleString):
                return "mean" in up.key.evaluated_value.lower()
            if isinstance(up, (cst.Assign, cst.AnnAssign)):
                targets = up.targets if isinstance(up, cst.Assign) else [up]
                return any("mean" in (au.last_identifier(t.target) or "").lower() for t in targets)
            if isinstance(up, (cst.SimpleStatementLine, cst.BaseCompoundStatement)):
                return False
            child = up
        return False

    def _stays_in_opencv(self, read: cst.Call) -> bool:
        """The frame a read binds is only measured (`img.shape`), checked (`img is None`), or handed back to
        OpenCV's writers (`cv2.imwrite`, `cv2.imshow`, `cv2.imencode`, `writer.write`), also after OpenCV
        operations that keep the channel order (`frame = cv2.resize(frame, size)`): BGR in, BGR out. So is a
        read handed straight to a writer (`writer.write(cv2.imread(path))`)."""
        if self._opencv_only_use(read):
            return True
        assign = au.parent(self, read)
        if not isinstance(assign, cst.Assign) or len(assign.targets) != 1:
            return False
        target = assign.targets[0].target
        if isinstance(target, cst.Tuple) and len(target.elements) == 2:
            target = target.elements[1].value  # ok, frame = cap.read()
        if not isinstance(target, cst.Name):
            return False
        scope = au.enclosing_scope_node(self, read)
        followed: set[str] = set()
        pending = [target.value]
        while pending:
            name = pending.pop()
            if name in followed:
                continue
            followed.add(name)
            uses = [use for use in au.find_all(scope, cst.Name, lambda n: n.value == name) if use is not target]
            if not uses:
                return False
            for use in uses:
                if name == target.value and self._bound_again_before(use, assign.value):
                    continue  # `frame = av.VideoFrame.from_ndarray(...)` later: another value of the name
                if self._comprehension_variable(use):
                    continue  # `[img for img in names]`: a variable of the comprehension's own scope
                if self._opencv_only_use(use):
                    continue
                kept = self._order_kept_into(use)
                if kept is None:
                    return False
                if kept:
                    pending.append(kept)
        return True

    def _comprehension_variable(self, use: cst.Name) -> bool:
        for up in au.ancestors(self, use):
            if isinstance(up, (cst.ListComp, cst.SetComp, cst.GeneratorExp, cst.DictComp)):
                targets = au.find_all(up.for_in, cst.CompFor)
                if any(au.find_all(t.target, cst.Name, lambda n: n.value == use.value) for t in targets):
                    return True
            if isinstance(up, (cst.FunctionDef, cst.Lambda, cst.Module)):
                return False
        return False

    def _bound_again_before(self, use: cst.Name, value: cst.BaseExpression) -> bool:
        """`use` reads (or rebinds) the name only as bound again to something not made from the frame:
        `frame = av.VideoFrame.from_ndarray(image)` after `frame = cv2.imread(p)`, not `frame = cv2.resize(frame)`."""

        def made_from_frame(bound: cst.BaseExpression) -> bool:
            return bound is value or bool(au.find_all(bound, cst.Name, lambda n: n.value == use.value))

        up = au.parent(self, use)
        if isinstance(up, cst.AssignTarget) and up.target is use:
            assign = au.parent(self, up)
            return isinstance(assign, cst.Assign) and not made_from_frame(assign.value)
        reaching = au.assigned_values(self, use)
        return bool(reaching) and not any(made_from_frame(v) for v in reaching)

    def _order_kept_into(self, use: cst.Name) -> str | None:
        """For a use of a frame's name in `name = cv2.resize(frame, ...)` (an OpenCV operation that keeps the
        channel order, `_KEEP_ORDER`), the name bound: the frame stays BGR there. "" when `use` is that binding
        itself (`frame = cv2.resize(frame, ...)`); None for any other use."""
        up = au.parent(self, use)
        if isinstance(up, cst.AssignTarget) and up.target is use:
            assign = au.parent(self, up)
            value = assign.value if isinstance(assign, cst.Assign) else None
            if isinstance(value, cst.Call) and (au.call_names(self, value) & _KEEP_ORDER or self._image_helper(value)):
                return ""
            return None
        call = au.parent(self, up) if isinstance(up, cst.Arg) else None
        if not (
            isinstance(call, cst.Call)
            and up is au.argument_node(call, 0, "src")
            and (au.call_names(self, call) & _KEEP_ORDER or self._image_helper(call))
        ):
            return None
        assign = au.parent(self, call)
        if (
            isinstance(assign, cst.Assign)
            and len(assign.targets) == 1
            and isinstance(assign.targets[0].target, cst.Name)
        ):
            return assign.targets[0].target.value
        return "" if self._opencv_only_use(call) else None  # cv2.imwrite(path, cv2.resize(frame, size))

    def _image_helper(self, call: cst.Call) -> bool:
        """`img = align(img)` with `align` a function of this module that makes no array or tensor (no
        `torch.from_numpy`, `np.stack`, ...): what it returns is followed like the frame itself."""
        if not isinstance(call.func, cst.Name):
            return False
        module = next((a for a in au.ancestors(self, call) if isinstance(a, cst.Module)), None)
        if module is None:
            return False
        helper = next(
            (d for d in module.body if isinstance(d, cst.FunctionDef) and d.name.value == call.func.value), None
        )
        return helper is not None and not any(
            au.call_names(self, inner) & _CONSUMERS for inner in au.find_all(helper, cst.Call)
        )

    def _one_channel(self, node: cst.BaseExpression) -> bool:
        """`node[:, :, 0]`, `node[..., 1]`: one channel of the image taken (a grey JPEG of optical flow, a
        mask stored as an image), which has no colour order."""
        up = au.parent(self, node)
        if not (isinstance(up, cst.Subscript) and up.value is node):
            return False
        *leading, last = [element.slice for element in up.slice]
        if not (isinstance(last, cst.Index) and au.int_value(last.value) is not None):
            return False
        whole = [s for s in leading if isinstance(s, cst.Slice) and s.lower is s.upper is s.step is None]
        ellipsis = [s for s in leading if isinstance(s, cst.Index) and isinstance(s.value, cst.Ellipsis)]
        # `[:, :, k]` or `[..., k]` picks a channel of an (H, W, C) image; `[y, x]` is a pixel (all three colours)
        return len(whole) == len(leading) == 2 or len(ellipsis) == len(leading) == 1

    def _opencv_only_use(self, use: cst.BaseExpression) -> bool:
        up = au.parent(self, use)
        if isinstance(up, cst.Attribute) and up.value is use:
            return up.attr.value == "shape"
        if self._one_channel(use):
            return True
        if isinstance(up, cst.Comparison):
            return True
        if isinstance(up, cst.Arg):
            call = au.parent(self, up)
            if isinstance(call, cst.Call) and (
                au.call_names(self, call) & _BGR_SINKS
                or _pyav_bgr_frame(self, call)
                or "numpy.shape" in au.call_names(self, call)  # np.shape(img)[0]: measured
                or isinstance(call.func, cst.Attribute)
                and call.func.attr.value == "write"
            ):
                return True
        return False

    def _normalize_converts(self, node: cst.Call) -> bool:
        """`mmcv.imnormalize(_)` converts unless `to_rgb` is literally False: as an argument, or in the
        `dict(...)` / `{...}` a `**cfg` argument was assigned from (through a name or `self.attr`)."""
        to_rgb = au.argument(node, 3, "to_rgb")
        if to_rgb is not None:
            return not au.is_name(to_rgb, "False")
        for arg in node.args:
            if arg.star == "**" and any(_sets_to_rgb_false(v) for v in self._values_of(arg.value)):
                return False
        return True  # mmcv's default (or a config's value) is to_rgb=True

    def _values_of(self, node: cst.BaseExpression, depth: int = 0) -> list[cst.BaseExpression]:
        """What `node` (a name or `self.attr`) was assigned, followed through names twice."""
        values: list[cst.BaseExpression] = []
        if isinstance(node, cst.Name):
            values = au.assigned_values(self, node)
        elif isinstance(node, cst.Attribute):
            values = au.attribute_values(self, node)
        found = list(values)
        if depth < 2:
            for value in values:
                if isinstance(value, (cst.Name, cst.Attribute)):
                    found.extend(self._values_of(value, depth + 1))
        return found

    def _is_capture(self, node: cst.BaseExpression) -> bool:
        """`node` was assigned from `cv2.VideoCapture(...)` (or is a parameter annotated as one)."""
        if isinstance(node, cst.Call):
            return self.refers_to(node.func, "cv2.VideoCapture")
        values: list[cst.BaseExpression] = []
        if isinstance(node, cst.Name):
            values = au.assigned_values(self, node)
            function = au.enclosing_function(self, node)
            if function is not None:
                params = function.params
                for param in (*params.posonly_params, *params.params, *params.kwonly_params):
                    if param.name.value == node.value and param.annotation is not None:
                        if self.refers_to(param.annotation.annotation, "cv2.VideoCapture"):
                            return True
        elif isinstance(node, cst.Attribute):
            values = au.attribute_values(self, node)
        return any(
            isinstance(call, cst.Call) and self.refers_to(call.func, "cv2.VideoCapture")
            for value in values
            for call in au.find_all(value, cst.Call)
        )


def _pyav_bgr_frame(rule: Rule, call: cst.Call) -> bool:
    """`av.VideoFrame.from_ndarray(img, format="bgr24")`: PyAV told the array is BGR (an encoder's input)."""
    if not au.call_names(rule, call) & {"av.VideoFrame.from_ndarray", "av.video.frame.VideoFrame.from_ndarray"}:
        return False
    layout = au.argument(call, 1, "format")
    return isinstance(layout, cst.SimpleString) and layout.evaluated_value.startswith("bgr")


def _sets_to_rgb_false(node: cst.BaseExpression) -> bool:
    """`dict(..., to_rgb=False)` or `{..., "to_rgb": False}`."""
    if au.is_call_to(node, "dict"):
        arg = au.keyword_arg(node, "to_rgb")
        return arg is not None and au.is_name(arg.value, "False")
    if isinstance(node, cst.Dict):
        for element in node.elements:
            if (
                isinstance(element, cst.DictElement)
                and isinstance(element.key, cst.SimpleString)
                and element.key.evaluated_value == "to_rgb"
                and au.is_name(element.value, "False")
            ):
                return True
    return False


def _channel_triple(node: cst.List | cst.Tuple) -> tuple[float, float, float] | None:
    """(a, b, c) for a display of three number literals, `[a, b, c]` or `[[[a, b, c]]]` (outermost only)."""
    values: list[float] = []
    for element in node.elements:
        value = element.value
        if isinstance(value, (cst.Integer, cst.Float)):
            values.append(float(value.evaluated_value))
        else:
            return None
    return (values[0], values[1], values[2]) if len(values) == 3 else None


def _names_statistics(node: cst.BaseExpression | None) -> bool:
    """`np.array(self.opt.mean)`, `torch.tensor(std)`: normalisation statistics, not frames."""
    if node is None:
        return False
    last = (au.last_identifier(node) or "").lower()
    return any(word in last for word in ("mean", "std"))


def _number_literal(node: cst.BaseExpression | None) -> bool:
    """A list/tuple display holding number literals (`[[0, 0, w, h]]`): boxes or constants, not frames."""
    if not isinstance(node, (cst.List, cst.Tuple)):
        return False
    return any(isinstance(n, (cst.Integer, cst.Float)) for n in au.find_all(node, (cst.Integer, cst.Float)))
