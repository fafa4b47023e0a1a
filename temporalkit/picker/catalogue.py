"""The picker's catalogue: one row per model it may recommend, in one readable table.

A row says what the search needs beyond the measured cost: the model's family, the clip its
recipe trains on, which starting weights exist for it, the published figures (`evidence.py`) its
expected accuracy is read from, whether it mixes information across frames, whether it suits
phones and other edge accelerators (convolutions only; attention is poorly supported there), and
whether it is an image-text (CLIP-style) encoder.

Models in the registry (`temporalkit.reference_models.registry.MODELS`) are measured on the meta
device. A row whose model the registry does not build is *published-only*: its cost is the
published figure at its published clip, and only that clip can be answered (nothing else can be
checked). A registry model without a row here gets a generic row from its family, so a model the
registry gains is searched at once; give it a row to rank it by its own evidence.

Pretraining values: none, imagenet, kinetics, image_text (CLIP-style image-text weights) and
self_supervised (pretrained without labels on the user's own videos, VideoMAE-style; needs no
outside data, so every spec allows it).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from temporalkit.reference_models.families import Family

PRETRAINING_VALUES: tuple[str, ...] = ("none", "self_supervised", "imagenet", "image_text", "kinetics")


@dataclass(frozen=True)
class CatalogueEntry:
    """What the picker knows about one model (see the module docstring)."""

    model: str
    family: Family
    native: tuple[int, int]  # (frames, side) of the recipe's clip
    pretraining: tuple[str, ...]  # starting weights that exist for it
    k400: str | None = None  # evidence key: appearance-defined labels (Kinetics 400 or 600)
    ssv2: str | None = None  # evidence key: motion-defined labels (Something-Something V2)
    retrieval: str | None = None  # evidence key: text-video retrieval
    k400_offset: float = 0.0  # points added to the k400 figure (a smaller backbone than the paper's)
    temporal_mixing: bool = True  # False: frames are only averaged at the end (blind to motion)
    edge: bool = False  # runs on mobile accelerators (convolutions, no attention)
    image_text: bool = False  # a CLIP-style frame encoder with a text tower
    published_gmacs: float | None = None  # published-only rows: GMACs per clip at `native`
    note: str = ""


F = Family
TV = ("none", "kinetics")  # torchvision video models publish Kinetics-400 weights

# The table. Published-only rows (published_gmacs set) are used until the registry builds the model.
CATALOGUE_ROWS: tuple[CatalogueEntry, ...] = (
    # -- 2D per frame, averaged --------------------------------------------------------------------
    CatalogueEntry(
        "framepool_r18",
        F.POOL_2D,
        (8, 224),
        ("none", "imagenet"),
        k400="tsn_r50_k400",
        k400_offset=-6.0,
        temporal_mixing=False,
        edge=True,
        note="TSN on ResNet-18: the TSN ResNet-50 figure minus 6 points (ImageNet top-1 76.1 vs 69.8)",
    ),
    CatalogueEntry(
        "clip_vit_b32",
        F.POOL_2D,
        (12, 224),
        ("none", "image_text"),
        retrieval="clip4clip_msrvtt",
        temporal_mixing=False,
        image_text=True,
        published_gmacs=52.9,  # 12 frames x 4.41 GMACs (CLIP ViT-B/32 image tower)
        note="CLIP ViT-B/32 image tower per frame, mean pooled (CLIP4Clip meanP); text tower not counted",
    ),
    CatalogueEntry(
        "clip_vit_b16",
        F.POOL_2D,
        (12, 224),
        ("none", "image_text"),
        retrieval="clip4clip_msrvtt",
        temporal_mixing=False,
        image_text=True,
        published_gmacs=210.6,  # 12 frames x 17.55 GMACs (CLIP ViT-B/16 image tower)
        note="CLIP ViT-B/16 image tower per frame, mean pooled; ranked by the ViT-B/32 CLIP4Clip figure",
    ),
    # -- temporal shift: a 2D network whose blocks shift channels in time ---------------------------
    CatalogueEntry(
        "tsm_r50",
        F.TEMPORAL_SHIFT,
        (8, 224),
        ("none", "imagenet", "kinetics"),
        k400="registry:tsm_r50",
        ssv2="tsm_r50_ssv2",
    ),
    CatalogueEntry(
        "tsm_mobilenet_v2",
        F.TEMPORAL_SHIFT,
        (8, 224),
        ("none", "imagenet", "kinetics"),
        k400="tsm_mbv2_k400",
        edge=True,
        note="TSM's online/mobile variant",
    ),
    # -- 3D convolutions ------------------------------------------------------------------------------
    CatalogueEntry(
        "i3d_r18",
        F.CONV_3D,
        (16, 112),
        ("none", "imagenet"),
        k400="torchvision_r3d_18",
        note="inflated ImageNet ResNet-18; ranked by torchvision's R3D-18 figure",
    ),
    CatalogueEntry("r3d_18", F.CONV_3D, (16, 112), TV, k400="torchvision_r3d_18"),
    CatalogueEntry("mc3_18", F.CONV_3D, (16, 112), TV, k400="torchvision_mc3_18"),
    CatalogueEntry("x3d_xs", F.CONV_3D, (4, 160), TV, k400="registry:x3d_xs", edge=True, published_gmacs=0.60),
    CatalogueEntry("x3d_s", F.CONV_3D, (13, 160), TV, k400="registry:x3d_s", edge=True, published_gmacs=1.96),
    CatalogueEntry("x3d_m", F.CONV_3D, (16, 224), TV, k400="registry:x3d_m", edge=True, published_gmacs=6.2),
    CatalogueEntry(
        "slowfast_r50_4x16",
        F.CONV_3D,
        (32, 224),
        TV,
        k400="registry:slowfast_r50_4x16",
        published_gmacs=36.1,
        note="SlowFast 4x16: 4 slow + 32 fast frames from a 64-frame window",
    ),
    CatalogueEntry(
        "slowfast_r50_8x8",
        F.CONV_3D,
        (32, 224),
        TV,
        k400="registry:slowfast_r50_8x8",
        ssv2="slowfast_r50_ssv2",
        published_gmacs=65.7,
        note="SlowFast 8x8: 8 slow + 32 fast frames from a 64-frame window",
    ),
    CatalogueEntry("movinet_a0", F.CONV_3D, (50, 172), TV, k400="registry:movinet_a0", edge=True, published_gmacs=2.7),
    CatalogueEntry("movinet_a1", F.CONV_3D, (50, 172), TV, k400="registry:movinet_a1", edge=True, published_gmacs=6.0),
    CatalogueEntry("movinet_a2", F.CONV_3D, (50, 224), TV, k400="registry:movinet_a2", edge=True, published_gmacs=10.3),
    # -- (2+1)D convolutions --------------------------------------------------------------------------
    CatalogueEntry(
        "r2plus1d_r18",
        F.CONV_2PLUS1D,
        (16, 112),
        ("none",),
        k400="torchvision_r2plus1d_18",
        note="ranked by torchvision's R(2+1)D-18 figure (the same network)",
    ),
    CatalogueEntry("r2plus1d_18", F.CONV_2PLUS1D, (16, 112), TV, k400="torchvision_r2plus1d_18"),
    CatalogueEntry("s3d", F.CONV_2PLUS1D, (16, 224), TV, k400="torchvision_s3d"),
    # -- transformers ---------------------------------------------------------------------------------
    CatalogueEntry(
        "timesformer_divided",
        F.TRANSFORMER,
        (8, 224),
        ("none", "imagenet"),
        k400="timesformer_divided_k400",
        ssv2="timesformer_divided_ssv2",
    ),
    CatalogueEntry(
        "timesformer_joint",
        F.TRANSFORMER,
        (8, 224),
        ("none", "imagenet"),
        k400="timesformer_joint_k400",
        ssv2="timesformer_joint_ssv2",
    ),
    CatalogueEntry(
        "timesformer_space_only",
        F.TRANSFORMER,
        (8, 224),
        ("none", "imagenet"),
        k400="timesformer_space_k400",
        ssv2="timesformer_space_ssv2",
        temporal_mixing=False,
    ),
    CatalogueEntry("mvit_v1_b", F.TRANSFORMER, (16, 224), TV, k400="torchvision_mvit_v1_b", ssv2="mvit_b_ssv2"),
    CatalogueEntry("mvit_v2_s", F.TRANSFORMER, (16, 224), TV, k400="torchvision_mvit_v2_s", ssv2="mvitv2_s_ssv2"),
    CatalogueEntry("swin3d_t", F.TRANSFORMER, (16, 224), TV, k400="torchvision_swin3d_t"),
    CatalogueEntry("swin3d_s", F.TRANSFORMER, (16, 224), TV, k400="torchvision_swin3d_s"),
    CatalogueEntry("swin3d_b", F.TRANSFORMER, (16, 224), TV, k400="torchvision_swin3d_b", ssv2="swin_b_ssv2"),
    CatalogueEntry(
        "videomae_vit_s",
        F.TRANSFORMER,
        (16, 224),
        ("none", "self_supervised", "kinetics"),
        k400="registry:videomae_vit_s",
        ssv2="videomae_s_ssv2",
        published_gmacs=57.0,
    ),
    CatalogueEntry(
        "videomae_vit_b",
        F.TRANSFORMER,
        (16, 224),
        ("none", "self_supervised", "kinetics"),
        k400="registry:videomae_vit_b",
        ssv2="videomae_b_ssv2",
        published_gmacs=180.0,
    ),
)

# Alternative ids a registry may use for the same published model (first match wins).
ID_ALIASES: dict[str, tuple[str, ...]] = {
    "clip_vit_b32": ("clip_b32", "clip_vit_b_32", "clip_frames_b32"),
    "videomae_vit_s": ("videomae_s", "videomae_vit_small"),
    "videomae_vit_b": ("videomae_b", "videomae_vit_base"),
    "slowfast_r50_8x8": ("slowfast_r50",),
}


def _registry() -> dict:
    from temporalkit.reference_models.registry import MODELS

    return MODELS


def _generic_row(model_id: str, family: Family) -> CatalogueEntry:
    """A row for a registry model the table does not list: searched by cost, ranked without evidence."""
    native = (8, 224) if family in (F.POOL_2D, F.TEMPORAL_SHIFT) else (16, 224)
    return CatalogueEntry(model_id, family, native, ("none",), note="no catalogue row: no published figure to rank by")


@functools.lru_cache(maxsize=1)
def _published_only_gmacs(model_id: str, fallback: float | None) -> float | None:
    from temporalkit.reference_models.registry import PUBLISHED_ONLY

    published = PUBLISHED_ONLY.get(model_id)
    return published.gmacs if published is not None else fallback


def catalogue() -> dict[str, CatalogueEntry]:
    """Every model the picker may answer, by the id an answer uses.

    Registry models keep their registry id (a row listed under an alias is renamed to it);
    published-only rows are kept under their own id when the registry lacks the model.
    """
    registry = _registry()
    rows: dict[str, CatalogueEntry] = {}
    for row in CATALOGUE_ROWS:
        model_id = next((alias for alias in ID_ALIASES.get(row.model, ()) if alias in registry), row.model)
        if model_id in registry:
            family = Family.parse(registry[model_id].family)
            row = CatalogueEntry(**{**row.__dict__, "model": model_id, "family": family, "published_gmacs": None})
        else:  # the registry's published-only list is the one source of a published cost
            gmacs = _published_only_gmacs(model_id, row.published_gmacs)
            row = CatalogueEntry(**{**row.__dict__, "published_gmacs": gmacs})
        rows[model_id] = row
    for model_id, entry in registry.items():
        if model_id not in rows:
            rows[model_id] = _generic_row(model_id, Family.parse(entry.family))
    return rows


def entry(model_id: str) -> CatalogueEntry | None:
    return catalogue().get(model_id)


def is_published_only(row: CatalogueEntry) -> bool:
    return row.model not in _registry()


def usable_pretraining(model_id: str) -> tuple[str, ...]:
    """Starting weights that exist for `model_id` (self-supervision on own data: transformers only)."""
    row = entry(model_id)
    return row.pretraining if row else ("none",)
