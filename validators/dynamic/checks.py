"""The dynamic checks' registry: one declaration per check id, read by every check module and every renderer.

Each check is declared once, in the shape of a static rule (`validators/rule.py`): an id, a name,
a category, a severity, what it runs on, the one-line fix its findings carry, and a docstring in
the four ruff-style parts (What it does / Why is this bad? / Example / Fix). The check modules
(`sampler_checks`, `loader_checks`, `image_checks`, `transform_checks`, `layout_checks`,
`motion_checks`) make their findings with `check.finding(message)`, so a finding's id, category,
severity and fix cannot drift from what is documented; the skill table, `temporalkit rule TKnnn`
and the SARIF rule metadata (`validators/formats.py`) are rendered from `DYNAMIC_CHECKS`.

Ids: TK5xx samplers, TK60x clip transforms, TK61x loaders and image readers, TK62x layout,
TK7xx end-to-end motion. Importing this module imports neither torch nor numpy (the SARIF and
`rule` paths are static).
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from dataclasses import dataclass, field

from temporalkit.validators.findings import Finding

SAMPLERS = "sampler, subsampler, multi-clip sampler"
TRANSFORMS = "clip transform"
LOADERS = "loader (probe videos)"
LOADERS_AND_IMAGE_READERS = "loader (probe videos), image reader (probe images)"


@dataclass(frozen=True)
class DynamicCheck:
    """One dynamic check: its identity, the fix its findings carry and its four-part documentation.

    `fix` is the one-line fix every finding of the check carries; `role_fixes` overrides it for a
    role whose fix reads differently (an image reader converts after `cv2.imread`, a video loader
    decodes to RGB). `doc` is written in the four parts the static rules use.
    """

    id: str
    name: str
    category: str
    severity: str
    runs_on: str
    fix: str
    doc: str
    role_fixes: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "doc", inspect.cleandoc(self.doc))

    def fix_for(self, role: str | None = None) -> str:
        return self.role_fixes.get(role, self.fix) if role else self.fix

    def finding(self, message: str, *, extra: dict | None = None, role: str | None = None) -> Finding:
        """A finding of this check; the core runner fills in the path and line of the checked object."""
        return Finding(
            rule=self.id,
            category=self.category,
            severity=self.severity,  # type: ignore[arg-type]
            path="",
            line=0,
            column=0,
            message=message,
            fix=self.fix_for(role),
            source="dynamic",
            extra=extra or {},
        )


_CHECKS = (
    # -- samplers: called over a grid of num_frames (0..300 and longer), T (1..64) and seeds ----------
    DynamicCheck(
        "TK501",
        "sampler-clip-length",
        "clip-length",
        "error",
        SAMPLERS,
        "Return exactly T indices for every num_frames >= 1; pad short videos by a stated policy "
        "(repeat the last frame, or loop).",
        """
        What it does:
            Checks that the sampler returns exactly T indices for every num_frames >= 1.

        Why is this bad?
            Clips of a batch must have the same T: a sampler that returns more or fewer indices on
            some lengths crashes the collate, or hands the model a clip its time embedding was not
            built for, on exactly the videos whose length is not a multiple of T.

        Example:
            `list(range(0, n, n // T))` returns 5 indices for `num_frames=10, T=4`.

        Fix:
            Return exactly T indices for every num_frames >= 1, e.g.
            `np.linspace(0, num_frames - 1, T).round().astype(int)`; pad short videos by a stated
            policy (repeat the last frame, or loop).
        """,
    ),
    DynamicCheck(
        "TK502",
        "sampler-index-out-of-range",
        "index-out-of-range",
        "error",
        SAMPLERS,
        "Keep every index in 0..num_frames-1, e.g. segment centres (2*i + 1) * num_frames // (2*T) "
        "(temporalkit.reference_models.sampling.sample_uniform_indices).",
        """
        What it does:
            Checks that every index the sampler returns lies in 0..num_frames-1.

        Why is this bad?
            Index num_frames does not exist: the decoder raises, or a loader that clamps or wraps
            silently returns another frame than the one sampled (a negative index reads from the end).

        Example:
            `np.linspace(0, num_frames, T).astype(int)` returns index 7 for `num_frames=7, T=8`.

        Fix:
            Keep every index in 0..num_frames-1, e.g. segment centres
            `(2*i + 1) * num_frames // (2*T)` (`reference_models.sampling.sample_uniform_indices`).
        """,
    ),
    DynamicCheck(
        "TK503",
        "sampler-temporal-order",
        "temporal-order",
        "error",
        SAMPLERS,
        "Return the indices in temporal order (np.sort them before returning).",
        """
        What it does:
            Checks that the indices come out in temporal order (non-decreasing).

            A short clip played again from its start (`(start + arange(T)) % num_frames`) is a
            loop, not an order bug, unless `short-clip` in [tool.temporalkit.dynamic] names another
            policy.

        Why is this bad?
            A temporal model learns motion from frame order; shuffled indices show it a clip whose
            motion is noise, and every frame-wise check still passes.

        Example:
            `random.sample(range(num_frames), T)` returns indices in random order.

        Fix:
            Return the indices in temporal order: `np.sort` (or `sorted`) them before returning.
        """,
    ),
    DynamicCheck(
        "TK504",
        "sampler-short-clip",
        "short-clip",
        "error",
        SAMPLERS,
        "For num_frames < T return T indices that use every frame: np.minimum(np.arange(T), num_frames - 1) "
        "(repeat the last) or np.sort(np.arange(T) % num_frames) (loop).",
        """
        What it does:
            Checks that for num_frames < T the sampler neither crashes nor drops frames: T indices
            that use every frame there is.

        Why is this bad?
            Short videos exist in every real dataset; a sampler that raises on them stops the epoch
            (or the dataset skips them silently), and one that ignores frames that exist wastes them.

        Example:
            `start = random.randint(0, num_frames - T)` raises ValueError for `num_frames=5, T=8`.

        Fix:
            For num_frames < T return T indices that use every frame:
            `np.minimum(np.arange(T), num_frames - 1)` (repeat the last) or
            `np.sort(np.arange(T) % num_frames)` (loop).
        """,
    ),
    DynamicCheck(
        "TK505",
        "sampler-uneven-coverage",
        "uneven-coverage",
        "error",
        SAMPLERS,
        "Spread the T samples over the whole video: one per segment, floor((i + 0.5) * num_frames / T), "
        "so the tail is sampled too.",
        """
        What it does:
            For a deterministic sampler that spreads its samples over the video (uniform, TSN-style),
            checks that no stretch longer than 2 * ceil(num_frames / T) frames is left unsampled.
            For a random one, checks that the union of its frames over many seeds reaches frame 0
            and frame num_frames - 1 (cells where a segment is a few frames wide, with enough seeds
            that a correct sampler is flagged with probability at most 1e-6). For a multi-clip
            sampler, checks that its K clips together reach both ends (each end may be left short
            by at most 3/4 of the spacing between clip starts) and reports the largest unsampled
            stretch.

        Why is this bad?
            A stride truncated to `num_frames // T` stops early: the end of every video is never
            seen, in training or evaluation, and actions that happen late are never learnt. The
            same holds for a random sampler whose segments are `num_frames // T` wide (TSN-style:
            n=300, T=64 never samples past frame 255) and for test views starting at
            `delta * k / K`, which never reach the last `delta / K` frames.

        Example:
            `range(0, (n // T) * T, n // T)` with `num_frames=15, T=8` samples frames 0..7 only;
            `np.arange(T) * (n // T) + rng.integers(n // T, size=T)` never samples the tail.

        Fix:
            Spread the T samples over the whole video: one per segment,
            `floor((i + 0.5) * num_frames / T)`, so the tail is sampled too; with a random offset,
            use float segments `(i + u) * num_frames / T`; spread multi-clip starts from 0 to the
            last valid start (`sample_multi_clip_indices`).
        """,
    ),
    DynamicCheck(
        "TK506",
        "sampler-start-range",
        "start-range",
        "error",
        SAMPLERS,
        "Draw the start with rng.integers(0, num_frames - (T - 1) * stride): its exclusive upper bound makes "
        "the last valid start num_frames - (T - 1) * stride - 1 reachable.",
        """
        What it does:
            For a sampler of random windows, checks that every valid start, the last one included,
            is drawn, and that the frames drawn over many seeds reach the last frame (windows built
            by `linspace` with uneven integer steps count as windows); the number of draws keeps the
            chance of flagging a uniform draw below one in a million per input.

        Why is this bad?
            An exclusive bound one too small means the last frames of every video never appear in a
            training clip; one too large reads past the end.

        Example:
            `rng.integers(0, num_frames - T)` never draws the last valid start `num_frames - T`;
            `end = np.random.randint(T * rate, num_frames)` (exclusive) never ends on the last frame;
            `start = uniform(0, n - 2T); linspace(start, start + 2T - 1, T).long()` never reaches it.

        Fix:
            Draw the start with `rng.integers(0, num_frames - (T - 1) * stride)`: its exclusive upper
            bound makes the last valid start `num_frames - (T - 1) * stride - 1` reachable.
        """,
    ),
    DynamicCheck(
        "TK507",
        "sampler-random-at-test-time",
        "nondeterministic-eval",
        "error",
        SAMPLERS,
        "Make test-time sampling deterministic: the centre window, uniform segment centres or evenly spread "
        "clips (sample_multi_clip_indices), no random draw.",
        """
        What it does:
            For a test-time sampler (named test/val/eval, switched by a flag such as `test_mode=True`,
            or declared test-time) and a multi-clip sampler used at test time, checks that the output
            is the same whatever the random state. A multi-clip sampler named for training, or any
            under `multiclip = "train"` in [tool.temporalkit.dynamic], may draw its clips at random
            (`multiclip = "test"` holds every multi-clip sampler to determinism).

        Why is this bad?
            Validation accuracy then changes from run to run with the random state, so two models
            (or two epochs) cannot be compared, and a reported number cannot be reproduced.

        Example:
            `def sample_val(num_frames, T): start = random.randint(0, num_frames - T)`.

        Fix:
            Make test-time sampling deterministic: the centre window, uniform segment centres or
            evenly spread clips (`sample_multi_clip_indices`), no random draw.
        """,
    ),
    DynamicCheck(
        "TK508",
        "sampler-ignores-seed",
        "nondeterministic-eval",
        "error",
        SAMPLERS,
        "Draw every random number from the seed / rng argument (np.random.default_rng(seed)), not from the "
        "global random state, so the same seed gives the same clip.",
        """
        What it does:
            For a sampler that takes a seed or generator, checks that the same seed gives the same
            output whatever the global random state.

        Why is this bad?
            A seed argument that is not used for every draw makes runs irreproducible while looking
            seeded, and DataLoader workers that share the global state can draw the same clips.

        Example:
            `rng = np.random.default_rng(seed)` followed by `np.random.randint(0, num_frames - T + 1)`.

        Fix:
            Draw every random number from the seed / rng argument (`np.random.default_rng(seed)`),
            not from the global random state, so the same seed gives the same clip.
        """,
    ),
    DynamicCheck(
        "TK509",
        "sampler-empty-video",
        "short-clip",
        "warning",
        SAMPLERS,
        "Check num_frames == 0 first and raise ValueError('empty video: no frames decoded') instead of failing "
        "inside the arithmetic.",
        """
        What it does:
            Checks that an empty video (num_frames == 0) raises a clear error (ValueError,
            RuntimeError or AssertionError) rather than a ZeroDivisionError or IndexError from inside
            the arithmetic, or indices into nothing.

        Why is this bad?
            A video that fails to decode reaches the sampler as zero frames; an error from deep in
            the arithmetic hides that cause, and indices returned for it crash later, far away.

        Example:
            `step = num_frames // T; return [i * step for i in range(T)]` returns T zeros for an
            empty video.

        Fix:
            Check `num_frames == 0` first and raise `ValueError('empty video: no frames decoded')`
            instead of failing inside the arithmetic.
        """,
    ),
    # -- clip transforms: T frames of the probe frame code in, a clip out --------------------------
    DynamicCheck(
        "TK601",
        "transform-per-frame-randomness",
        "inconsistent-crop",
        "error",
        TRANSFORMS,
        "draw the random crop/flip/jitter parameters once per clip and apply them to every frame "
        "(e.g. call the transform on the whole (T, C, H, W) tensor)",
        """
        What it does:
            T identical frames with a pattern that has no symmetry and no period must come out
            identical, under every seed. A random crop/flip/jitter drawn per frame makes them differ.

        Why is this bad?
            A crop that moves from frame to frame adds motion that is not in the video: the model
            learns camera jitter, and temporal augmentations stop meaning what they say.

        Example:
            `torch.stack([RandomResizedCrop(224)(frame) for frame in clip])`.

        Fix:
            Draw the random crop/flip/jitter parameters once per clip and apply them to every frame
            (e.g. call the transform on the whole (T, C, H, W) tensor).
        """,
    ),
    DynamicCheck(
        "TK602",
        "transform-aspect-distortion",
        "aspect-distortion",
        "error",
        TRANSFORMS,
        "resize the short side to the target size keeping the aspect ratio, then crop "
        "(Resize(short_side) + CenterCrop/RandomCrop)",
        """
        What it does:
            A circle on a 16:9, 9:16 and 4:3 canvas must stay round. A resize to a fixed (H, W)
            squashes it by the same factor under every seed; random aspect jitter (as in
            RandomResizedCrop) changes from seed to seed and is not reported.

        Why is this bad?
            Squashed frames change object shapes and speeds differently for portrait and landscape
            videos, so the model sees one world in training and another at test time.

        Example:
            `Resize((224, 224))` on 16:9 frames.

        Fix:
            Resize the short side to the target size keeping the aspect ratio, then crop
            (`Resize(short_side)` + `CenterCrop`/`RandomCrop`).
        """,
    ),
    DynamicCheck(
        "TK603",
        "transform-color-order",
        "color-order",
        "error",
        TRANSFORMS,
        "keep frames in RGB: convert once where they are decoded (cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)) "
        "and do not reverse channels in the transform",
        """
        What it does:
            A pure red patch must stay in the first channel (BGR swaps move it).

        Why is this bad?
            Pretrained backbones expect RGB; swapped channels still train, but the pretrained
            colour features are wrong and accuracy drops without any error.

        Example:
            `clip[..., ::-1]` inside a transform given RGB frames.

        Fix:
            Keep frames in RGB: convert once where they are decoded
            (`cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)`) and do not reverse channels in the transform.
        """,
    ),
    DynamicCheck(
        "TK604",
        "transform-zero-padding",
        "zero-padding",
        "error",
        TRANSFORMS,
        "pad short clips with real frames: repeat indices (np.linspace over the available frames) or loop",
        """
        What it does:
            A clip shorter than T that comes back longer must not be filled with blank frames (they
            teach the model that videos end in black).

        Why is this bad?
            Black frames exist only in padded clips: the model can tell short videos by them and
            learns the padding instead of the action.

        Example:
            `torch.cat([clip, torch.zeros(T - len(clip), *clip.shape[1:])])`.

        Fix:
            Pad short clips with real frames: repeat indices (`np.linspace` over the available
            frames) or loop.
        """,
    ),
    DynamicCheck(
        "TK605",
        "transform-short-clip",
        "short-clip",
        "error",
        TRANSFORMS,
        "handle clips shorter than T: repeat or loop the available frames",
        """
        What it does:
            The transform must not crash on a short clip.

        Why is this bad?
            Short videos reach the transform in every real dataset; a crash on them stops the epoch
            or makes the dataset skip them silently.

        Example:
            `clip[torch.arange(0, len(clip), len(clip) // T)]` raises for a 3-frame clip with T=8.

        Fix:
            Handle clips shorter than T: repeat or loop the available frames.
        """,
    ),
    DynamicCheck(
        "TK606",
        "transform-crop-range",
        "start-range",
        "error",
        TRANSFORMS,
        "draw the crop offset from 0..H-size inclusive: randint(0, h - size + 1) with numpy / torch, "
        "random.randint(0, h - size) with Python's random",
        """
        What it does:
            Feeds a frame whose pixels hold their own row and column, a few pixels larger than the
            crop, under many seeds, and checks that a random crop's offset reaches row 0, column 0
            and the last row and column. The number of seeds is chosen so that a crop drawing its
            offset uniformly is flagged with probability at most 1e-6. Crops that resize
            (RandomResizedCrop, Resize then crop) are not judged.

        Why is this bad?
            `np.random.randint(0, h - size)` excludes its upper bound: the bottom row and the right
            column of every frame are never inside a crop, in every epoch.

        Example:
            `top = np.random.randint(0, h - size); left = np.random.randint(0, w - size)`.

        Fix:
            Draw the offset from 0..h-size inclusive: `np.random.randint(0, h - size + 1)`, or
            `random.randint(0, h - size)` (Python's randint includes its upper bound).
        """,
    ),
    # -- loaders (a path in, frames out), run on probe videos whose frames carry their index ------
    DynamicCheck(
        "TK611",
        "loader-index-out-of-range",
        "index-out-of-range",
        "error",
        LOADERS,
        "never index past the last decoded frame: clamp indices to len(frames) - 1",
        """
        What it does:
            Checks that the loader neither crashes reading past the last frame of a probe video nor
            returns frames that are not frames of the video.

        Why is this bad?
            The decoder raises on the last videos of an epoch, or a reader that pads silently
            returns blank or stale frames in place of the ones sampled.

        Example:
            `[frames[i] for i in np.linspace(0, len(frames), T).astype(int)]`.

        Fix:
            Never index past the last decoded frame: clamp indices to `len(frames) - 1`.
        """,
    ),
    DynamicCheck(
        "TK612",
        "loader-uneven-coverage",
        "uneven-coverage",
        "error",
        LOADERS,
        "sample over the decoded frames: np.linspace(0, len(frames) - 1, T).round(); start at frame 0",
        """
        What it does:
            Checks that the first and last frames of a probe video are returned: no off-by-one
            decode that skips frame 0, no dropped tail, no gap wider than twice the uniform spacing.

        Why is this bad?
            The frames left out are the same in every epoch, so what happens at the start or the end
            of a video is never seen.

        Example:
            Decoding from `range(1, n)`, or sampling `np.arange(0, n, n // T)[:T]`.

        Fix:
            Sample over the decoded frames: `np.linspace(0, len(frames) - 1, T).round()`; start at
            frame 0.
        """,
    ),
    DynamicCheck(
        "TK613",
        "loader-trusts-frame-count",
        "frame-count-metadata",
        "error",
        LOADERS,
        "count frames by decoding (or check the container's count against the decoded frames) "
        "instead of trusting stream.frames / CAP_PROP_FRAME_COUNT",
        """
        What it does:
            Reports a problem seen only on probe videos whose container frame count is missing or
            wrong: the loader trusts that count.

        Why is this bad?
            Container counts are often absent (0) or estimated from the duration; a loader that
            trusts them reads past the end or never reaches it, on exactly those files.

        Example:
            `n = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))` used to sample indices.

        Fix:
            Count frames by decoding (or check the container's count against the decoded frames)
            instead of trusting `stream.frames` / `CAP_PROP_FRAME_COUNT`.
        """,
    ),
    DynamicCheck(
        "TK614",
        "loader-temporal-order",
        "temporal-order",
        "error",
        LOADERS,
        "return frames in presentation order (sort the sampled indices)",
        """
        What it does:
            Checks that the frames come back in presentation order.

        Why is this bad?
            Frames out of order destroy the motion a temporal model learns from; each frame on its
            own still looks right.

        Example:
            Decoding `random.sample(range(n), T)` without sorting the indices.

        Fix:
            Return frames in presentation order (sort the sampled indices).
        """,
    ),
    DynamicCheck(
        "TK615",
        "loader-clip-length",
        "clip-length",
        "error",
        LOADERS,
        "return exactly the frames asked for, each source frame once per index",
        """
        What it does:
            Checks that the loader returns the number of frames asked for (T, or every frame when it
            takes no count), each source frame once per index: no duplicated or missing frames. A
            short video padded by repeating its last frame or by looping is deliberate (the
            `short-clip` policy). Loaders are called at several T and, when random, under several
            seeds; a finding is kept only when the same call shows it again.

        Why is this bad?
            A clip of the wrong length crashes the collate or the model; duplicated frames slow the
            apparent motion and missing ones speed it up.

        Example:
            Decoding with `range(0, n, n // T)`, which gives more than T frames.

        Fix:
            Return exactly the frames asked for, each source frame once per index.
        """,
    ),
    DynamicCheck(
        "TK616",
        "reader-color-order",
        "color-order",
        "error",
        LOADERS_AND_IMAGE_READERS,
        "decode to RGB (frame.to_ndarray(format='rgb24') or cv2.cvtColor(..., COLOR_BGR2RGB))",
        """
        What it does:
            Checks that red comes back in channel 0: OpenCV decodes to BGR, and a loader or image
            reader that returns its frames unconverted puts red in channel 2.

        Why is this bad?
            Pretrained backbones expect RGB; BGR input still trains, but the pretrained colour
            features are wrong and accuracy drops without any error.

        Example:
            `cv2.imread(path)` or `cap.read()` frames returned without `cv2.cvtColor`.

        Fix:
            Decode to RGB (`frame.to_ndarray(format='rgb24')` or `cv2.cvtColor(..., COLOR_BGR2RGB)`);
            after `cv2.imread`, convert with `cv2.cvtColor(image, cv2.COLOR_BGR2RGB)`
            (`PIL.Image.open(path).convert('RGB')` and `torchvision.io.read_image` already give RGB).
        """,
        role_fixes={
            "image": "convert to RGB after reading: cv2.cvtColor(image, cv2.COLOR_BGR2RGB) after cv2.imread "
            "(PIL.Image.open(path).convert('RGB') and torchvision.io.read_image already give RGB)",
        },
    ),
    DynamicCheck(
        "TK617",
        "reader-aspect-distortion",
        "aspect-distortion",
        "error",
        LOADERS_AND_IMAGE_READERS,
        "resize the short side keeping the aspect ratio, then crop",
        """
        What it does:
            Checks that frames and images keep their aspect (the probe's square tiles stay square)
            and their height before width. A one-channel image reader must return the image's H:W
            unless its docstring says it resizes or crops.

        Why is this bad?
            Squashed frames change object shapes and speeds differently for portrait and landscape
            videos; swapped height and width rotate what the model sees.

        Example:
            `cv2.resize(frame, (224, 224))` in a loader of 16:9 videos.

        Fix:
            Resize the short side keeping the aspect ratio, then crop (and keep height before width).
        """,
        role_fixes={
            "image": "keep the image's aspect: resize the short side keeping the aspect ratio, then crop "
            "(and keep height before width)",
        },
    ),
    DynamicCheck(
        "TK618",
        "loader-short-clip",
        "short-clip",
        "error",
        LOADERS,
        "for videos shorter than T, repeat the available frames (linspace over 0..n-1)",
        """
        What it does:
            On a probe video shorter than T, checks that the loader does not crash and uses every
            frame there is.

        Why is this bad?
            Short videos exist in every real dataset; a crash on them stops the epoch (or they are
            skipped silently), and frames left unused are information thrown away.

        Example:
            `start = random.randint(0, len(frames) - T)` raises for a 5-frame video and T=8.

        Fix:
            For videos shorter than T, repeat the available frames (linspace over 0..n-1).
        """,
    ),
    DynamicCheck(
        "TK619",
        "loader-zero-padding",
        "zero-padding",
        "error",
        LOADERS,
        "pad short videos with real frames (repeat or loop), not black ones",
        """
        What it does:
            Checks that a probe video shorter than T is not padded with blank frames.

        Why is this bad?
            Black frames exist only in padded clips: the model can tell short videos by them and
            learns the padding instead of the action.

        Example:
            `frames + [np.zeros_like(frames[0])] * (T - len(frames))`.

        Fix:
            Pad short videos with real frames (repeat or loop), not black ones.
        """,
    ),
    # -- layout: the clip a pipeline produces, fed to the reference model of its family -----------
    DynamicCheck(
        "TK621",
        "clip-layout",
        "layout",
        "error",
        "pipeline output vs reference model",
        "permute the clip to the model's layout before the forward pass, e.g. clip.permute(1, 0, 2, 3) "
        "for (T, C, H, W) -> (C, T, H, W)",
        """
        What it does:
            The real layout is not the one the model takes and the model rejects the clip, or runs
            anyway because T happens to equal C (= 3): frames are then mixed as colours.

        Why is this bad?
            3D convolutions and video transformers take (N, C, T, H, W), frame-wise 2D models
            (N, T, C, H, W); a clip in the other layout either crashes or, worse, trains on frames
            read as colour channels.

        Example:
            A loader returning (T, C, H, W) clips fed to an R(2+1)D model.

        Fix:
            Permute the clip to the model's layout before the forward pass, e.g.
            `clip.permute(1, 0, 2, 3)` for (T, C, H, W) -> (C, T, H, W).
        """,
    ),
    # -- end to end: temporal order of coded probe frames through the user's code -----------------------
    DynamicCheck(
        "TK701",
        "pipeline-destroys-motion",
        "temporal-order",
        "error",
        "sampler, subsampler, transform, loader (coded probe frames)",
        "keep frames in temporal order end to end: sort sampled indices, never shuffle or reverse "
        "the time axis, and apply one transform to the clip as a whole",
        """
        What it does:
            Pushes probe clips whose frames carry their own index through the user's code (samplers
            and subsamplers at num_frames = 8T, so stride samplers have room; transforms on T coded
            frames; loaders on 24-30 fps probe videos), under several seeds, and reads the order of
            the frames that come out: reversed or shuffled is this finding. Zooms that leave the
            codes unreadable are not judged, repeated frames are not disorder, and a horizontal
            flip is a note (left/right motion classes then need their labels swapped, as in
            SSv2-like tasks), not a finding.

        Why is this bad?
            A pipeline that reverses, shuffles or per-frame-augments time leaves every single frame
            intact, so frame-wise checks pass, yet a temporal model trained on its output learns
            nothing about motion.

        Example:
            A loader returning `frames[::-1]`, or indices from `np.random.permutation(n)[:T]`.

        Fix:
            Keep frames in temporal order end to end: sort sampled indices, never shuffle or reverse
            the time axis, and apply one transform to the clip as a whole.
        """,
    ),
)

DYNAMIC_CHECKS: dict[str, DynamicCheck] = {check.id: check for check in _CHECKS}


def dynamic_checks() -> list[DynamicCheck]:
    """Every dynamic check, in id order."""
    return sorted(DYNAMIC_CHECKS.values(), key=lambda check: check.id)
