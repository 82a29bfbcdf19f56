"""A picture like the paper's Fig. 3: TubeToken and ASL-guided masks of one frame of a clip (a run's `masks.png`,
the demo's masks, `python -m modeling_avssl.commands.masks`).

Top row: the frame, the frame under one TubeToken mask, that mask, and the mean of 255 TubeToken masks. Bottom row:
the localizer's map for the frame and its audio, the frame under one ASL-guided mask, that mask, and the mean of
255 ASL masks. Masks are drawn on a `grid` x `grid` token grid (14 x 14 for ViT-B/16 at 224).
"""

import numpy as np
import torch
from PIL import Image
from torch.nn import functional as F

from ..data.audio import feature_seconds
from ..data.extracted_clips import read_clip
from ..decoding import Source
from ..localizer.modeling_localizer import AVSSLLocalizer
from ..localizer.training import localizer_inputs
from ..method.mixing import asl_guided_mask, maps_to_token_grid, tube_token_mask


def enlarged(frame: np.ndarray, size: int = 224) -> np.ndarray:
    """A uint8 frame resized to `size` x `size`, so that the panels of a small model's frames are large enough to
    see."""
    return np.asarray(Image.fromarray(frame).resize((size, size), Image.BILINEAR))


def heat(values: np.ndarray) -> np.ndarray:
    """Values in [0, 1] -> uint8 RGB on a blue-to-red ramp."""
    v = np.clip(values, 0, 1)[..., None]
    return (255 * np.concatenate([v, 1 - np.abs(2 * v - 1), 1 - v], axis=-1)).astype(np.uint8)


def heat_map(localization: np.ndarray, size: int) -> np.ndarray:
    """The `(h, w)` map scaled to [0, 1], upsampled to `(size, size)` and coloured (uint8 RGB)."""
    low, high = localization.min(), localization.max()
    normalised = torch.as_tensor((localization - low) / (high - low + 1e-12)).float()[None, None]
    return heat(F.interpolate(normalised, size=(size, size), mode="bilinear")[0, 0].numpy())


def overlay(frame: np.ndarray, localization: np.ndarray, alpha: float = 0.5) -> np.ndarray:
    """The map blended over the uint8 `(S, S, 3)` frame."""
    return ((1 - alpha) * frame + alpha * heat_map(localization, frame.shape[0])).astype(np.uint8)


def frame_and_map(video: Source, localizer: AVSSLLocalizer, frame_index: int) -> tuple[np.ndarray, np.ndarray]:
    """The frame (uint8 `(S, S, 3)` at the localizer's size) and its localization map `(h, w)` (float32, on the
    host), from the localizer wherever it lives (any device and dtype)."""
    features = localizer.config.audio_features
    # the first of two evenly spaced clips starts at 0 s, so `frame_index` counts from the start of the video
    clip = read_clip(
        video,
        frame_index + 1,
        clip_index=0,
        num_clips=2,
        audio_seconds=feature_seconds(features),
        sample_rate=features["sample_rate"],
    )
    inputs = localizer_inputs(clip, frame_index, localizer.config)
    pixel_values = inputs["pixel_values"][None].to(localizer.device, localizer.dtype)
    spectrogram = inputs["spectrogram"][None].to(localizer.device, localizer.dtype)
    with torch.no_grad():
        localization = localizer.eval()(pixel_values, spectrogram).maps[0]
    size = localizer.config.image_size
    frame = Image.fromarray(clip.frames[frame_index]).resize((size, size), Image.BILINEAR)
    return np.asarray(frame), localization.float().cpu().numpy()


def draw(
    frame: np.ndarray, localization: np.ndarray, lam: float, grid: int, draws: int = 255, seed: int = 0
) -> np.ndarray:
    """The 2 x 4 panel as a uint8 image; `frame` is uint8 `(S, S, 3)`, `localization` a `(h, w)` map."""
    size = frame.shape[0]
    token_map = maps_to_token_grid(torch.as_tensor(localization)[None, None], tubelet=1, grid=(grid, grid))[0]
    lams = torch.full((draws,), lam)
    generator = torch.Generator().manual_seed(seed)
    tube = tube_token_mask(draws, 1, grid, grid, lams, generator=generator).view(draws, grid, grid).float()
    asl = asl_guided_mask(token_map.expand(draws, 1, grid, grid), lams, generator=generator).view(draws, grid, grid)

    def full(mask: torch.Tensor) -> np.ndarray:
        return F.interpolate(mask.float()[None, None], size=(size, size), mode="nearest")[0, 0].numpy()

    def masked(mask: torch.Tensor) -> np.ndarray:
        return (frame * full(mask)[..., None]).astype(np.uint8)

    top = [frame, masked(tube[0]), heat(full(tube[0])), heat(full(tube.mean(0)))]
    bottom = [heat_map(localization, size), masked(asl[0]), heat(full(asl[0])), heat(full(asl.float().mean(0)))]
    gap = np.full((size, 4, 3), 255, np.uint8)

    def row(panels):
        return np.concatenate([x for panel in panels for x in (panel, gap)][:-1], axis=1)

    return np.concatenate([row(top), np.full((4, row(top).shape[1], 3), 255, np.uint8), row(bottom)], axis=0)
