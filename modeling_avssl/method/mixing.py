"""Token masks for mixup of two clips (paper Eq. 5, Sec. 3.3) and audio mixup (Eq. 6).

Masks are bool `(batch, slots * h * w)` over the video token grid in the patch embedding's order (slot-major, then
row-major), True where a clip keeps its own token; `AVSSLForVideoClassification(token_mix=(mask, partner))` takes
them as they are.
"""

import numpy as np
import torch
from torch.nn import functional as F


MAP_EPSILON = 1e-3  # added to normalised maps so that every token can still be drawn


def mixing_partners(batch: int, rng: np.random.Generator) -> np.ndarray:
    """Each clip's mixing partner `(batch,)`: a uniformly random permutation in which no clip is its own partner
    (rejection sampling: e ~ 2.7 draws on average), so that no mixed clip is its strong view and no L_c negative is a
    copy of its positive. A batch of one has only itself."""
    if batch < 2:
        return np.arange(batch)
    while True:
        partners = rng.permutation(batch)
        if (partners != np.arange(batch)).all():
            return partners


def kept_per_slot(lam: torch.Tensor, tokens_per_slot: int) -> torch.Tensor:
    """`round(lam * tokens_per_slot)` for each sample: long `(batch,)`."""
    return torch.round(lam.clamp(0, 1) * tokens_per_slot).long()


def tubelet_means(frames: torch.Tensor, tubelet: int) -> torch.Tensor:
    """`(batch, frames, ...)` -> `(batch, frames // tubelet, ...)`: the frames (or maps) of each tubelet averaged, one
    per temporal slot of the token grid; clips `(B, T, C, H, W)` become the localizer's inputs of
    `asl_map_frames="tubelet"`."""
    batch, num_frames = frames.shape[:2]
    if num_frames % tubelet:
        raise ValueError(f"{num_frames} frames do not split into tubelets of {tubelet}.")
    return frames.reshape(batch, num_frames // tubelet, tubelet, *frames.shape[2:]).mean(dim=2)


def maps_to_token_grid(maps: torch.Tensor, tubelet: int, grid: tuple[int, int]) -> torch.Tensor:
    """Per-frame localization maps `(batch, frames, H', W')` -> `(batch, frames // tubelet, h, w)` on the token grid:
    the frames of each tubelet are averaged, then resized bilinearly to `grid = (h, w)`."""
    return F.interpolate(tubelet_means(maps.float(), tubelet), size=grid, mode="bilinear", align_corners=False)


def normalize_maps(maps: torch.Tensor) -> torch.Tensor:
    """Min-max normalises each `(h, w)` map of `(batch, slots, h, w)` to [0, 1], then adds `MAP_EPSILON`; a constant
    map becomes uniform."""
    flat = maps.flatten(2)
    low, high = flat.min(dim=2, keepdim=True).values, flat.max(dim=2, keepdim=True).values
    normalised = ((flat - low) / (high - low).clamp_min(1e-12)).clamp(0, 1)
    return (normalised + MAP_EPSILON).view_as(maps)


def keep_highest(scores: torch.Tensor, kept: torch.Tensor) -> torch.Tensor:
    """bool `(rows, n)`: True at the `kept[r]` highest of each row `r` of `scores` `(rows, n)`."""
    rank = scores.argsort(dim=1, descending=True).argsort(dim=1)
    return rank < kept.view(-1, 1)


def asl_guided_mask(
    maps: torch.Tensor, lam: torch.Tensor, window: int = 1, generator: torch.Generator | None = None
) -> torch.Tensor:
    """The audio-source-localization-guided mask M_as (paper Sec. 3.3).

    `maps` `(batch, slots, h, w)` on the token grid, `lam` `(batch,)`. The maps of every `window` adjacent slots are
    averaged (paper Fig. 5) and normalised; each window then draws exactly `round(lam[b] * h * w)` tokens without
    replacement with those weights, kept by all of its slots: the tokens with the highest `weight / E`, E ~ Exp(1)
    (Efraimidis and Spirakis), which is how `torch.multinomial` draws without replacement, less its check of the
    weights, which reads them back to the host. Returns bool `(batch, slots*h*w)` on the maps' device.
    """
    batch, slots, height, width = maps.shape
    if slots % window:
        raise ValueError(f"`window` ({window}) must divide the number of temporal slots ({slots}).")
    windows = slots // window
    weights = normalize_maps(maps.reshape(batch, windows, window, height, width).mean(dim=2)).reshape(
        -1, height * width
    )
    scores = weights / torch.empty_like(weights).exponential_(generator=generator)
    kept = kept_per_slot(lam, height * width).repeat_interleave(windows)
    keep = keep_highest(scores, kept).view(batch, windows, -1)
    return keep.repeat_interleave(window, dim=1).reshape(batch, -1)


def tube_token_mask(
    batch: int,
    slots: int,
    height: int,
    width: int,
    lam: torch.Tensor,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """SVFormer's TubeToken mask: per sample one uniformly random spatial mask keeping `round(lam[b] * h * w)` tokens,
    shared by all `slots`. Returns bool `(batch, slots * h * w)` on `lam`'s device."""
    scores = torch.rand(batch, height * width, generator=generator, device=lam.device)
    keep = keep_highest(scores, kept_per_slot(lam, height * width))
    return keep.unsqueeze(1).expand(batch, slots, -1).reshape(batch, -1)


def mix_audio(features: torch.Tensor, partner: torch.Tensor, lam: torch.Tensor) -> torch.Tensor:
    """Audio mixup (paper Eq. 6): `lam * x + (1 - lam) * x[partner]` on features `(batch, ...)`, `lam` `(batch,)`."""
    lam = lam.to(features.dtype).view(-1, *([1] * (features.dim() - 1)))
    return lam * features + (1 - lam) * features[partner]
