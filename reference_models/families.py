"""The five reference-model families, and every name each one goes by.

One vocabulary for the model registry, the picker's answers, the layout check (TK621), the
pyproject's `family` keys and the CLI. A family's value is the registry's name; the picker's
answers speak the names of the papers' models; the tiny trainable builders have their own:

    Family            value           answer name   tiny builder   also accepted
    POOL_2D           2d_pool         2d_pool       framepool      framepool
    CONV_3D           3d_conv         i3d           i3d            i3d
    CONV_2PLUS1D      2plus1d         r2plus1d      r2plus1d       r2plus1d
    TRANSFORMER       transformer     transformer   transformer
    TEMPORAL_SHIFT    temporal_shift  tsm           tsm            tsm, shift

`Family("i3d")` and `Family.parse("i3d")` both give `Family.CONV_3D`; `parse` says which
spellings exist when it refuses one. Standard library only: the static auditor and
`temporalkit --help` import it, and must never import torch.
"""

from __future__ import annotations

from enum import StrEnum


class Family(StrEnum):
    """A reference-model family; equal to its registry name (`Family.CONV_3D == "3d_conv"`)."""

    POOL_2D = "2d_pool"  # a 2D network per frame, features averaged over time (TSN, FramePool)
    CONV_3D = "3d_conv"  # full 3D convolutions (I3D, R3D, MC3)
    CONV_2PLUS1D = "2plus1d"  # a spatial 2D and a temporal 1D convolution per block (R(2+1)D, S3D)
    TRANSFORMER = "transformer"  # attention over space-time tokens (TimeSformer, MViT, Video Swin)
    TEMPORAL_SHIFT = "temporal_shift"  # a 2D network per frame whose blocks shift channels in time (TSM)

    @property
    def answer_name(self) -> str:
        """The name the picker's answers use (`i3d` for 3D convolutions)."""
        return _ANSWER_NAMES[self]

    @property
    def tiny_name(self) -> str:
        """The name of its tiny trainable builder (`registry.build_tiny`, `temporalkit train --model`)."""
        return _TINY_NAMES[self]

    @classmethod
    def parse(cls, name: object) -> Family:
        """The family any accepted spelling names; ValueError listing them all otherwise."""
        family = ALIASES.get(name) if isinstance(name, str) else None
        if family is None:
            raise ValueError(f"family must be one of {', '.join(ALIASES)}, got {name!r}")
        return family

    @classmethod
    def _missing_(cls, value: object) -> Family | None:
        return ALIASES.get(value) if isinstance(value, str) else None


_ANSWER_NAMES = {
    Family.POOL_2D: "2d_pool",
    Family.CONV_3D: "i3d",
    Family.CONV_2PLUS1D: "r2plus1d",
    Family.TRANSFORMER: "transformer",
    Family.TEMPORAL_SHIFT: "tsm",
}
_TINY_NAMES = {
    Family.POOL_2D: "framepool",
    Family.CONV_3D: "i3d",
    Family.CONV_2PLUS1D: "r2plus1d",
    Family.TRANSFORMER: "transformer",
    Family.TEMPORAL_SHIFT: "tsm",
}
# Spellings besides a family's value, answer name and tiny name.
_OTHER_NAMES = {Family.TEMPORAL_SHIFT: ("shift",)}

# Every accepted spelling, in the order error messages list them: each family's value, then its other names.
ALIASES: dict[str, Family] = {}
for _family in Family:
    for _name in (_family.value, _family.answer_name, _family.tiny_name, *_OTHER_NAMES.get(_family, ())):
        ALIASES.setdefault(_name, _family)
del _family, _name

FAMILIES: tuple[str, ...] = tuple(family.value for family in Family)
ANSWER_FAMILIES: tuple[str, ...] = tuple(family.answer_name for family in Family)
TINY_FAMILIES: tuple[str, ...] = tuple(family.tiny_name for family in Family)
