"""A TimeSformer-style video transformer (Bertasius et al. 2021), readable top to bottom.

A clip `(N, 3, T, H, W)` is cut into tubelets of `tubelet x patch x patch` pixels, each embedded
to a `dim`-vector; a class token is prepended; `depth` blocks mix the tokens; the class token's
final state is classified. The three `attention` choices differ only in which tokens a block
lets each token see:

* "joint":      every token attends to all T'*P tokens (+ class token): cost grows with (T'P)^2.
* "divided":    first over time (each patch position attends to itself in the other T' frames),
                then over space (each frame's P patches + class token): cost ~ T'P(T' + P).
* "space_only": only the spatial step; frames meet only in the class token (a frame-pooling
                baseline with attention).

T' = T / tubelet and P = (size / patch)^2.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

ATTENTIONS = ("joint", "divided", "space_only")


@dataclass
class TransformerConfig:
    """Sizes of a VideoTransformer; the defaults are a tiny model (ViT-Base is dim 768, depth 12, heads 12)."""

    num_classes: int = 400
    frames: int = 8
    size: int = 224
    patch: int = 16
    tubelet: int = 1
    dim: int = 192
    depth: int = 4
    heads: int = 3
    mlp_ratio: float = 4.0
    attention: str = "divided"

    def __post_init__(self) -> None:
        if self.attention not in ATTENTIONS:
            raise ValueError(f"attention must be one of {', '.join(ATTENTIONS)}, got {self.attention!r}")
        if self.size % self.patch:
            raise ValueError(f"size {self.size} is not divisible by the {self.patch}px patch")
        if self.frames % self.tubelet:
            raise ValueError(f"frames {self.frames} is not divisible by the tubelet length {self.tubelet}")
        if self.dim % self.heads:
            raise ValueError(f"dim {self.dim} is not divisible by heads {self.heads}")

    @property
    def time_tokens(self) -> int:
        return self.frames // self.tubelet

    @property
    def space_tokens(self) -> int:
        return (self.size // self.patch) ** 2


class TubeletEmbedding(nn.Module):
    """Non-overlapping tubelets -> tokens: `(N, 3, T, H, W) -> (N, T', P, dim)`."""

    def __init__(self, config: TransformerConfig) -> None:
        super().__init__()
        kernel = (config.tubelet, config.patch, config.patch)
        self.projection = nn.Conv3d(3, config.dim, kernel_size=kernel, stride=kernel)

    def forward(self, clip: torch.Tensor) -> torch.Tensor:
        tokens = self.projection(clip)  # (N, dim, T', H/patch, W/patch)
        return tokens.flatten(3).permute(0, 2, 3, 1)  # (N, T', P, dim)


class SelfAttention(nn.Module):
    """Multi-head self-attention over the second axis of `(B, L, dim)`."""

    def __init__(self, dim: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, length, dim = x.shape
        q, k, v = (
            self.qkv(x).reshape(b, length, 3, self.heads, dim // self.heads).permute(2, 0, 3, 1, 4)
        )  # 3 x (B, heads, L, d)
        # Written out rather than F.scaled_dot_product_attention so that FlopCounterMode counts
        # the two matmuls the same way on every device.
        weights = (q @ k.transpose(-2, -1) * (dim // self.heads) ** -0.5).softmax(dim=-1)  # (B, heads, L, L)
        out = (weights @ v).transpose(1, 2).reshape(b, length, dim)  # (B, L, dim)
        return self.proj(out)


class MLP(nn.Sequential):
    def __init__(self, dim: int, hidden: int) -> None:
        super().__init__(nn.Linear(dim, hidden), nn.GELU(), nn.Linear(hidden, dim))


class PreNormBlock(nn.Module):
    """The layers every block has: norm + attention, norm + MLP. Subclasses choose which tokens attend to which."""

    def __init__(self, config: TransformerConfig) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(config.dim)
        self.attn = SelfAttention(config.dim, config.heads)
        self.norm2 = nn.LayerNorm(config.dim)
        self.mlp = MLP(config.dim, int(config.dim * config.mlp_ratio))


class JointSpaceTimeBlock(PreNormBlock):
    """Pre-norm transformer block over all tokens at once: `(N, 1 + T'P, dim) -> same`."""

    def forward(self, x: torch.Tensor, time_tokens: int) -> torch.Tensor:
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class SpaceOnlyBlock(PreNormBlock):
    """Attention within each frame (its P patches + the class token), then the MLP."""

    def attend_space(self, x: torch.Tensor, time_tokens: int) -> torch.Tensor:
        n, _, dim = x.shape
        cls, patches = x[:, :1], x[:, 1:]  # (N, 1, dim), (N, T'P, dim)
        frames = patches.reshape(n * time_tokens, -1, dim)  # (N*T', P, dim)
        # Each frame gets its own copy of the class token; the copies' updates are averaged back.
        cls_per_frame = cls.expand(n, time_tokens, dim).reshape(n * time_tokens, 1, dim)  # (N*T', 1, dim)
        h = self.attn(self.norm1(torch.cat([cls_per_frame, frames], dim=1)))  # (N*T', 1 + P, dim)
        cls_update = h[:, :1].reshape(n, time_tokens, dim).mean(dim=1, keepdim=True)  # (N, 1, dim)
        patch_update = h[:, 1:].reshape(n, -1, dim)  # (N, T'P, dim)
        return x + torch.cat([cls_update, patch_update], dim=1)

    def forward(self, x: torch.Tensor, time_tokens: int) -> torch.Tensor:
        x = self.attend_space(x, time_tokens)
        return x + self.mlp(self.norm2(x))


class DividedSpaceTimeBlock(SpaceOnlyBlock):
    """TimeSformer's block: time attention, then space attention, then the MLP.

    `(N, 1 + T'P, dim) -> same`. The class token skips the time step (it has no frame).
    """

    def __init__(self, config: TransformerConfig) -> None:
        super().__init__(config)
        self.time_norm = nn.LayerNorm(config.dim)
        self.time_attn = SelfAttention(config.dim, config.heads)
        self.time_fc = nn.Linear(config.dim, config.dim)

    def attend_time(self, x: torch.Tensor, time_tokens: int) -> torch.Tensor:
        n, _, dim = x.shape
        cls, patches = x[:, :1], x[:, 1:]  # (N, 1, dim), (N, T'P, dim)
        space_tokens = patches.shape[1] // time_tokens
        tubes = patches.reshape(n, time_tokens, space_tokens, dim).transpose(1, 2)  # (N, P, T', dim)
        tubes = tubes.reshape(n * space_tokens, time_tokens, dim)  # (N*P, T', dim): one sequence per position
        h = self.time_fc(self.time_attn(self.time_norm(tubes)))  # (N*P, T', dim)
        h = h.reshape(n, space_tokens, time_tokens, dim).transpose(1, 2).reshape(n, -1, dim)  # (N, T'P, dim)
        return torch.cat([cls, patches + h], dim=1)

    def forward(self, x: torch.Tensor, time_tokens: int) -> torch.Tensor:
        x = self.attend_time(x, time_tokens)  # step 1: across frames, per patch position
        x = self.attend_space(x, time_tokens)  # step 2: within each frame
        return x + self.mlp(self.norm2(x))


BLOCKS = {"joint": JointSpaceTimeBlock, "divided": DividedSpaceTimeBlock, "space_only": SpaceOnlyBlock}


class VideoTransformer(nn.Module):
    """Tubelet embedding + class token + space/time position embeddings + blocks + linear head.

    Input `(N, 3, T, H, W)` with T = config.frames and H = W = config.size; output `(N, num_classes)`.
    """

    input_layout = "NCTHW"

    def __init__(self, config: TransformerConfig) -> None:
        super().__init__()
        self.config = config
        self.embed = TubeletEmbedding(config)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, config.dim))
        self.space_position = nn.Parameter(torch.zeros(1, 1 + config.space_tokens, config.dim))
        self.time_position = nn.Parameter(torch.zeros(1, config.time_tokens, 1, config.dim))
        self.blocks = nn.ModuleList(BLOCKS[config.attention](config) for _ in range(config.depth))
        self.norm = nn.LayerNorm(config.dim)
        self.head = nn.Linear(config.dim, config.num_classes)
        self._init_weights()

    def _init_weights(self) -> None:
        for parameter in (self.cls_token, self.space_position, self.time_position):
            nn.init.trunc_normal_(parameter, std=0.02)
        for module in self.modules():
            if isinstance(module, nn.Linear):
                nn.init.trunc_normal_(module.weight, std=0.02)
                nn.init.zeros_(module.bias)
        for block in self.blocks:
            if isinstance(block, DividedSpaceTimeBlock):
                # Zero time projection: a fresh divided block starts as a ViT block, as in TimeSformer.
                nn.init.zeros_(block.time_fc.weight)

    def forward(self, clip: torch.Tensor) -> torch.Tensor:
        n = clip.shape[0]
        tokens = self.embed(clip)  # (N, T', P, dim)
        tokens = tokens + self.space_position[:, None, 1:] + self.time_position  # (N, T', P, dim)
        cls = (self.cls_token + self.space_position[:, :1]).expand(n, 1, -1)  # (N, 1, dim)
        x = torch.cat([cls, tokens.flatten(1, 2)], dim=1)  # (N, 1 + T'P, dim)
        for block in self.blocks:
            x = block(x, self.config.time_tokens)
        return self.head(self.norm(x[:, 0]))  # classify the class token


def timesformer(
    num_classes: int = 400,
    attention: str = "divided",
    frames: int = 8,
    size: int = 224,
    patch: int = 16,
    tubelet: int = 1,
    dim: int = 192,
    depth: int = 4,
    heads: int = 3,
    mlp_ratio: float = 4.0,
) -> VideoTransformer:
    """A TimeSformer-style model; defaults are tiny (TimeSformer-Base: dim=768, depth=12, heads=12)."""
    return VideoTransformer(
        TransformerConfig(
            num_classes=num_classes,
            frames=frames,
            size=size,
            patch=patch,
            tubelet=tubelet,
            dim=dim,
            depth=depth,
            heads=heads,
            mlp_ratio=mlp_ratio,
            attention=attention,
        )
    )


# ViT sizes (Dosovitskiy et al. 2021): dim, depth, heads.
VIT_SIZES = {"small": (384, 12, 6), "base": (768, 12, 12)}


def videomae_vit(num_classes: int = 400, variant: str = "base", frames: int = 16, size: int = 224) -> VideoTransformer:
    """The VideoMAE fine-tuning network (Tong et al. 2022): a ViT-S/16 or ViT-B/16 with 2x16x16 tubelets
    and joint space-time attention over all (T/2) x (size/16)^2 tokens.

    Differences from the authors' network that do not change its cost by more than 0.1 %: they
    classify the mean of the tokens and use fixed sinusoidal position embeddings; this one adds a
    class token (1 of 1,569 tokens at 16 x 224) and learned position embeddings (a few parameters).
    """
    if variant not in VIT_SIZES:
        raise ValueError(f"variant must be one of {', '.join(VIT_SIZES)}, got {variant!r}")
    dim, depth, heads = VIT_SIZES[variant]
    return timesformer(
        num_classes, "joint", frames=frames, size=size, patch=16, tubelet=2, dim=dim, depth=depth, heads=heads
    )
