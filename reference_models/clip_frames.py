"""An image-text (CLIP-style) frame encoder: CLIP's ViT image tower on every frame, embeddings averaged.

This is CLIP4Clip's parameter-free "meanP" video encoder (Luo et al. 2021,
https://arxiv.org/abs/2104.08860), the standard first baseline for text-video retrieval and for
tasks that need open vocabulary more than motion:

    clip (N, T, 3, H, W) --flatten--> (N*T, 3, H, W) --ViT-B/32 (or /16) image tower--> (N*T, 512)
        --unflatten--> (N, T, 512) --mean over T--> (N, 512) video embedding --linear--> (N, classes)

The tower is `transformer.VideoTransformer` on one-frame clips (patch embedding, class token,
pre-norm blocks, final norm, a 768 -> 512 projection), which is CLIP's ViT up to details that
change no multiply-add count: CLIP's extra LayerNorm before the blocks and its bias-free
projection. Frames never meet before the mean, so, like TSN, order is invisible: this is an
appearance model whose value is its image-text pretraining, not temporal modelling.
`classes=0` returns the 512-d embedding itself (retrieval compares it with a text embedding).
"""

from __future__ import annotations

import torch
from temporalkit.reference_models.transformer import TransformerConfig, VideoTransformer
from torch import nn

CLIP_EMBED_DIM = 512
CLIP_TOWERS = {"b32": (32, 768, 12, 12), "b16": (16, 768, 12, 12)}  # patch, dim, depth, heads


class ClipFrameEncoder(nn.Module):
    """CLIP image tower per frame + mean pooling (+ an optional linear head).

    Input `(N, T, 3, H, W)`, output `(N, num_classes)`, or `(N, embed_dim)` when `num_classes` is 0.
    """

    input_layout = "NTCHW"

    def __init__(self, tower: VideoTransformer, embed_dim: int, num_classes: int) -> None:
        super().__init__()
        self.tower = tower
        self.head = nn.Linear(embed_dim, num_classes) if num_classes else nn.Identity()

    def frame_embeddings(self, clip: torch.Tensor) -> torch.Tensor:
        n, t = clip.shape[:2]
        frames = clip.flatten(0, 1).unsqueeze(2)  # (N*T, 3, 1, H, W): one-frame clips for the tower
        return self.tower(frames).unflatten(0, (n, t))  # (N, T, embed_dim)

    def forward(self, clip: torch.Tensor) -> torch.Tensor:
        return self.head(self.frame_embeddings(clip).mean(dim=1))  # meanP: average over T


def clip_frame_encoder(
    num_classes: int = 400, tower: str = "b32", size: int = 224, embed_dim: int = CLIP_EMBED_DIM, width: int = 0
) -> ClipFrameEncoder:
    """CLIP ViT-B/32 ("b32") or ViT-B/16 ("b16") per frame, mean-pooled (random init, never downloaded).

    `width` > 0 overrides the tower's dim and uses 2 blocks of 2 heads (a tiny encoder for CPU tests).
    """
    if tower not in CLIP_TOWERS:
        raise ValueError(f"tower must be one of {', '.join(CLIP_TOWERS)}, got {tower!r}")
    patch, dim, depth, heads = CLIP_TOWERS[tower]
    if width:
        dim, depth, heads = width, 2, 2
    config = TransformerConfig(
        num_classes=embed_dim,  # the tower's "head" is CLIP's projection to the joint embedding
        frames=1,
        size=size,
        patch=patch,
        dim=dim,
        depth=depth,
        heads=heads,
        attention="joint",
    )
    return ClipFrameEncoder(VideoTransformer(config), embed_dim, num_classes)
