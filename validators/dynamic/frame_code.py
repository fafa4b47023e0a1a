"""A per-frame index code that survives what video pipelines do to frames.

Every probe frame carries its own index so the dynamic checks can tell, from whatever a
loader or transform returns, which source frames came out, in which order, with what crop,
aspect and channel order.

The code is a square tile repeated over the whole frame:

    green  green  green  green  green        green lines (LINE_WIDTH px) mark the tile grid,
    green  [ 0 ] [d0 ] [d1 ] [ 1 ]           4x4 data cells: red = 1, black = 0.
    green  [d2 ] [d3 ] [d4 ] [d5 ]           The first row's corner cells are fixed (off, on) so a
    green  [d6 ] [d7 ] [c0 ] [c1 ]           left-right flip is told apart; d0..d7 are the index
    green  [c2 ] [c3 ] [c4 ] [c5 ]           bits (LSB first), c0..c5 a CRC-6 of them, which
                                             rejects a misread tile instead of returning a wrong index.

Why this shape:
- The tile is TILE_PERIOD px and repeated, so any crop of at least 2 * TILE_PERIOD + LINE_WIDTH
  px per side (half of the shortest probe side) holds whole tiles; the decoder finds them from the
  green lines, whose row/column averages stand out whatever the crop offset and scale.
- Green stays in the middle channel under an RGB/BGR swap, so the grid is found either way; the
  red data cells land in the last channel after a swap, which is how the channel order is read.
- Tiles are square in the source, so the ratio of the horizontal to the vertical line spacing in
  the output is the aspect change the pipeline applied.
- Cells are 7 px of saturated colour: H.264/MPEG-4 with 4:2:0 chroma keeps them readable.

Decoding accepts one frame as an (H, W, C) or (C, H, W) numpy array or torch tensor, uint8 or
float (0..1, 0..255, or mean/std normalised), or a PIL image. Torch is never imported here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

TILE_PERIOD = 32
LINE_WIDTH = 4
CELLS_PER_SIDE = 4
CELL_SIZE = (TILE_PERIOD - LINE_WIDTH) // CELLS_PER_SIDE  # 7
INDEX_BITS = 8
MAX_INDEX = 2**INDEX_BITS - 1

RED = (255, 0, 0)
GREEN = (0, 255, 0)


CHECK_BITS = 6
_CRC6_POLY = 0b1000011  # x^6 + x + 1
_ORIENTATION_CELLS = {0: 0, CELLS_PER_SIDE - 1: 1}  # cell -> fixed value


def _crc6(index: int) -> int:
    register = index << CHECK_BITS
    for bit in range(INDEX_BITS + CHECK_BITS - 1, CHECK_BITS - 1, -1):
        if register >> bit & 1:
            register ^= _CRC6_POLY << (bit - CHECK_BITS)
    return register


def _cells_for(index: int) -> list[int]:
    """The 16 cell values (row-major) for `index`."""
    payload = [(index >> b) & 1 for b in range(INDEX_BITS)] + [(_crc6(index) >> b) & 1 for b in range(CHECK_BITS)]
    cells = []
    for cell in range(CELLS_PER_SIDE * CELLS_PER_SIDE):
        cells.append(_ORIENTATION_CELLS[cell] if cell in _ORIENTATION_CELLS else payload.pop(0))
    return cells


def _tile(index: int) -> np.ndarray:
    """One (TILE_PERIOD, TILE_PERIOD, 3) uint8 tile carrying `index`."""
    if not 0 <= index <= MAX_INDEX:
        raise ValueError(f"frame index {index} outside 0..{MAX_INDEX}")
    tile = np.zeros((TILE_PERIOD, TILE_PERIOD, 3), np.uint8)
    tile[:LINE_WIDTH, :] = GREEN
    tile[:, :LINE_WIDTH] = GREEN
    for cell, bit in enumerate(_cells_for(index)):
        if bit:
            row, col = divmod(cell, CELLS_PER_SIDE)
            y = LINE_WIDTH + row * CELL_SIZE
            x = LINE_WIDTH + col * CELL_SIZE
            tile[y : y + CELL_SIZE, x : x + CELL_SIZE] = RED
    return tile


def encode_frame(index: int, height: int, width: int) -> np.ndarray:
    """An (height, width, 3) uint8 RGB frame whose every tile carries `index`."""
    tile = _tile(index)
    reps_y = -(-height // TILE_PERIOD)
    reps_x = -(-width // TILE_PERIOD)
    return np.ascontiguousarray(np.tile(tile, (reps_y, reps_x, 1))[:height, :width])


def min_readable_side() -> int:
    """The smallest crop side (px, at source scale) that always holds a whole tile."""
    return 2 * TILE_PERIOD + LINE_WIDTH


# --- reading frames -------------------------------------------------------------------------


def _is_torch(value: object) -> bool:
    return type(value).__module__.split(".")[0] == "torch"


def to_numpy(value: object) -> np.ndarray:
    """A numpy array from a numpy array, torch tensor or PIL image (no copy when possible)."""
    if isinstance(value, np.ndarray):
        return value
    if _is_torch(value):
        return value.detach().cpu().numpy()  # type: ignore[attr-defined]
    if type(value).__module__.startswith("PIL"):
        return np.asarray(value.convert("RGB"))  # type: ignore[attr-defined]
    return np.asarray(value)


def frame_to_hwc(frame: object) -> np.ndarray:
    """One frame as an (H, W, 3) float32 array in 0..1, whatever its layout, dtype and scaling."""
    array = to_numpy(frame)
    if array.ndim == 2:
        array = array[:, :, None]
    if array.ndim != 3:
        raise ValueError(f"a frame must have 2 or 3 dimensions, got shape {tuple(array.shape)}")
    channels_first = array.shape[0] in (1, 3, 4) and array.shape[-1] not in (1, 3, 4)
    if channels_first:
        array = np.moveaxis(array, 0, -1)
    if array.shape[-1] == 4:
        array = array[..., :3]
    if array.shape[-1] == 1:
        array = np.repeat(array, 3, axis=-1)
    if array.dtype == np.uint8:
        return array.astype(np.float32) / 255.0
    array = array.astype(np.float32)
    low, high = float(array.min()), float(array.max())
    if low >= -0.02 and high <= 1.02:
        return np.clip(array, 0.0, 1.0)
    if low >= -0.5 and high <= 255.5:
        return np.clip(array / 255.0, 0.0, 1.0)
    # Mean/std normalised: an affine map per channel, undone by stretching each channel to
    # 0..1. A channel that is (nearly) constant was black in the source (the code has no white).
    lows = array.min(axis=(0, 1))
    spans = array.max(axis=(0, 1)) - lows
    widest = float(spans.max()) or 1.0
    out = np.zeros_like(array)
    for channel in range(3):
        if spans[channel] > 0.25 * widest:
            out[..., channel] = (array[..., channel] - lows[channel]) / spans[channel]
    return out


def _line_centers(profile: np.ndarray) -> list[float]:
    """Centres of the runs of `profile` above its adaptive threshold, runs touching an edge dropped."""
    if profile.size < 4:
        return []
    low, high = float(np.median(profile)), float(profile.max())
    if high - low < 0.2:
        return []
    above = profile > (low + high) / 2
    # Runs of `above` from the edges of a 0-padded copy (one step per run, not per position).
    edges = np.flatnonzero(np.diff(np.concatenate(([0], above.view(np.int8), [0]))))
    centers = []
    for start, end in zip(edges[::2].tolist(), edges[1::2].tolist()):
        if start > 0 and end < profile.size:
            weights = profile[start:end] - low
            centers.append(float(np.average(np.arange(start, end), weights=weights)))
    return centers


def _regular_pairs(centers: list[float]) -> list[tuple[float, float]]:
    """Consecutive line pairs whose spacing is close to the typical spacing (a whole tile between)."""
    if len(centers) < 2:
        return []
    gaps = np.diff(centers)
    typical = float(np.median(gaps))
    return [(a, b) for a, b, gap in zip(centers, centers[1:], gaps) if abs(gap - typical) <= 0.2 * typical]


@dataclass(frozen=True)
class FrameReading:
    """What could be read from one frame.

    `index` is None when no tile decoded consistently. `aspect_change` is the output's
    horizontal over vertical scale (1.0: aspect kept; the source tiles are square).
    `channel_order` is "RGB", "BGR" or None (unknown); `mirrored` is True when the tiles
    only decode flipped left-right.
    """

    index: int | None
    tiles_read: int
    period_x: float | None
    period_y: float | None
    channel_order: str | None
    mirrored: bool = False

    @property
    def aspect_change(self) -> float | None:
        if not self.period_x or not self.period_y:
            return None
        return self.period_x / self.period_y


def _cell_offsets(start: float, end: float) -> np.ndarray:
    """Pixel positions of the cell centres between two line centres, in output coordinates."""
    scale = (end - start) / TILE_PERIOD
    # line centre sits LINE_WIDTH/2 into the tile; cell j centre is LINE_WIDTH + (j + 0.5) * CELL_SIZE
    relative = LINE_WIDTH / 2 + (np.arange(CELLS_PER_SIDE) + 0.5) * CELL_SIZE
    return start + relative * scale


_CRC_TABLE = np.array([_crc6(index) for index in range(MAX_INDEX + 1)])
_PAYLOAD_CELLS = [cell for cell in range(CELLS_PER_SIDE * CELLS_PER_SIDE) if cell not in _ORIENTATION_CELLS]
_DATA_WEIGHTS = 1 << np.arange(INDEX_BITS)
_CHECK_WEIGHTS = 1 << np.arange(CHECK_BITS)


def _decode_tiles(cells_on: np.ndarray) -> np.ndarray:
    """Indices of (N, 4, 4) boolean tiles; -1 where orientation or CRC does not match."""
    flat = cells_on.reshape(len(cells_on), -1).astype(np.int64)
    oriented = np.all([flat[:, cell] == value for cell, value in _ORIENTATION_CELLS.items()], axis=0)
    payload = flat[:, _PAYLOAD_CELLS]
    index = payload[:, :INDEX_BITS] @ _DATA_WEIGHTS
    check = payload[:, INDEX_BITS:] @ _CHECK_WEIGHTS
    valid = oriented & (_CRC_TABLE[index] == check)
    return np.where(valid, index, -1)


def read_frame(frame: object) -> FrameReading:
    """Read the index code (and the grid's scale and channel order) from one frame."""
    image = frame_to_hwc(frame)
    red, green, blue = image[..., 0], image[..., 1], image[..., 2]
    greenness = green - np.maximum(red, blue)
    rows = _regular_pairs(_line_centers(greenness.mean(axis=1)))
    cols = _regular_pairs(_line_centers(greenness.mean(axis=0)))
    period_y = float(np.median([b - a for a, b in rows])) if rows else None
    period_x = float(np.median([b - a for a, b in cols])) if cols else None
    if not rows or not cols:
        return FrameReading(None, 0, period_x, period_y, None)

    height, width = greenness.shape
    ys = np.clip(np.round(np.concatenate([_cell_offsets(a, b) for a, b in rows])).astype(int), 0, height - 1)
    xs = np.clip(np.round(np.concatenate([_cell_offsets(a, b) for a, b in cols])).astype(int), 0, width - 1)
    sampled = image[np.ix_(ys, xs)]  # (4 * rows, 4 * cols, 3)
    # Red cells show up in channel 0 (RGB) or channel 2 (BGR); either counts as "on".
    on = (np.maximum(sampled[..., 0], sampled[..., 2]) - sampled[..., 1]) > 0.35
    side = CELLS_PER_SIDE
    tiles = on.reshape(len(rows), side, len(cols), side).transpose(0, 2, 1, 3).reshape(-1, side, side)
    indices = _decode_tiles(tiles)
    mirrored_indices = _decode_tiles(tiles[:, :, ::-1])
    channel_order = None
    good = np.repeat(np.repeat((indices >= 0).reshape(len(rows), len(cols)), side, axis=0), side, axis=1)
    on_good = on & good
    if on_good.any():
        red_sum, blue_sum = float(sampled[..., 0][on_good].sum()), float(sampled[..., 2][on_good].sum())
        channel_order = "RGB" if red_sum > 2 * blue_sum else "BGR" if blue_sum > 2 * red_sum else None
    mirrored = int((mirrored_indices >= 0).sum()) > int((indices >= 0).sum())
    chosen = mirrored_indices if mirrored else indices
    chosen = chosen[chosen >= 0]
    if not chosen.size:
        return FrameReading(None, 0, period_x, period_y, channel_order)
    values, counts = np.unique(chosen, return_counts=True)
    best = int(np.argmax(counts))
    if counts[best] * 2 <= chosen.size:  # no majority among the tiles: refuse rather than guess
        return FrameReading(None, int(chosen.size), period_x, period_y, channel_order, mirrored)
    return FrameReading(int(values[best]), int(chosen.size), period_x, period_y, channel_order, mirrored)


def decode_frame_index(frame: object) -> int | None:
    """The index carried by `frame`, or None when it cannot be read."""
    return read_frame(frame).index


# --- test patterns for the transform checks -------------------------------------------------


def circle_canvas(height: int, width: int, radius_fraction: float = 0.3) -> np.ndarray:
    """An (H, W, 3) uint8 frame: a white disc (radius `radius_fraction` of the short side) in the
    centre of a dark grey background, for telling whether a transform keeps circles round."""
    canvas = np.full((height, width, 3), 40, np.uint8)
    radius = radius_fraction * min(height, width)
    ys, xs = np.mgrid[0:height, 0:width]
    inside = (ys - (height - 1) / 2) ** 2 + (xs - (width - 1) / 2) ** 2 <= radius**2
    canvas[inside] = 255
    return canvas


def measure_disc(frame: object) -> tuple[float, float, bool] | None:
    """(height, width, touches_edge) of the bright disc in `frame`, or None when none is found."""
    image = frame_to_hwc(frame)
    bright = image.min(axis=-1) > 0.6
    if not bright.any():
        return None
    ys, xs = np.nonzero(bright)
    top, bottom, left, right = ys.min(), ys.max(), xs.min(), xs.max()
    touches = top == 0 or left == 0 or bottom == bright.shape[0] - 1 or right == bright.shape[1] - 1
    return float(bottom - top + 1), float(right - left + 1), bool(touches)


def red_patch_canvas(height: int, width: int) -> np.ndarray:
    """An (H, W, 3) uint8 RGB frame: black with a pure red patch over the central half of each side."""
    canvas = np.zeros((height, width, 3), np.uint8)
    canvas[height // 4 : height - height // 4, width // 4 : width - width // 4] = RED
    return canvas


def red_channel(frame: object) -> int | None:
    """Which channel (0, 1 or 2) a pure red patch ended up in, or None when there is no clear one."""
    image = frame_to_hwc(frame)
    means = image.reshape(-1, 3).max(axis=0)
    strongest = int(np.argmax(means))
    others = sorted(means)[:2]
    if means[strongest] < 0.3 or means[strongest] - max(others) < 0.2:
        return None
    return strongest


def asymmetric_pattern(height: int, width: int, seed: int = 7) -> np.ndarray:
    """An (H, W, 3) uint8 frame with no symmetry and no period: coarse random blocks plus a ramp,
    so any two different crops or flips of it differ."""
    rng = np.random.default_rng(seed)
    block = 8
    blocks = rng.integers(0, 256, size=(-(-height // block), -(-width // block), 3), dtype=np.uint8)
    image = np.repeat(np.repeat(blocks, block, axis=0), block, axis=1)[:height, :width].astype(np.int32)
    ramp = np.linspace(0, 60, width, dtype=np.float32)[None, :, None]
    return np.clip(image // 2 + ramp.astype(np.int32) + 40, 0, 255).astype(np.uint8)
