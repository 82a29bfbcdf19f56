"""Views of one decoded clip: weak, strong (RandAugment, temporal warping, channel dropout) and the evaluation crops.

Every transform works on a uint8 `(T, C, H, W)` tensor and treats the frames as one image: the same crop, flip and
RandAugment operation apply to every frame of a clip. Views come out as uint8 `(T, C, crop, crop)`, a quarter of the
bytes of float32 through the loader's workers, pinned memory and the copy to the device; `normalize` turns them (or
batches of them) into the model's float input where they are, on the device in training. The strong view is
SVFormer's (docs/recipe.md): RandAugment `rand-m9-n5-mstd0.5` on timm's scale and `dropout2d(0.2)` over the clip's
colour channels, drawn as the `channel_scale` that `normalize` applies.
"""

import math

import numpy as np
import torch
from torchvision.transforms import v2
from torchvision.transforms.v2 import functional as F
from transformers.image_utils import IMAGENET_DEFAULT_MEAN, IMAGENET_DEFAULT_STD


def frames_to_video(frames: np.ndarray) -> torch.Tensor:
    """uint8 `(T, H, W, C)` frames as a uint8 `(T, C, H, W)` tensor."""
    return torch.from_numpy(np.ascontiguousarray(frames)).permute(0, 3, 1, 2)


def temporal_warp_indices(num_frames: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """SVFormer's temporal warping: keeps 2..T-1 frames (sorted) and stretches each over the positions up to the next,
    so the clip plays at an uneven speed. Returns the source index of each of the `num_frames` positions."""
    if num_frames < 3:
        return torch.arange(num_frames)
    kept = int(torch.randint(2, num_frames, (), generator=generator))
    chosen = torch.randperm(num_frames, generator=generator)[:kept].sort().values
    return chosen[torch.arange(num_frames) * kept // num_frames]


class ClipRandAugment:
    """timm's RandAugment (`rand-m{magnitude}-n{num_ops}-mstd{magnitude_std}`) with torchvision's operations, one
    draw for the whole clip: each of `num_ops` rounds applies, with probability `prob`, a random operation at a level
    drawn from N(magnitude, magnitude_std) clipped to timm's [0, 10] scale (10 is the strongest: 30 degrees, shear
    0.3, enhancement 1 +- 0.9, posterize to 4 bits, solarize at 0).

    Args:
        num_ops: rounds (timm's `n`; SVFormer 5).
        magnitude: level on timm's 0-10 scale (timm's `m`; SVFormer 9).
        magnitude_std: the level's standard deviation (timm's `mstd`; SVFormer 0.5).
        prob: probability that a round applies its operation (timm's 0.5).
    """

    LEVELS = 100  # torchvision magnitude bins per timm level of 10 (so levels are exact to 0.1)

    def __init__(self, num_ops: int = 5, magnitude: float = 9.0, magnitude_std: float = 0.5, prob: float = 0.5):
        if not 0 <= magnitude <= 10:
            raise ValueError(f"magnitude is on timm's 0-10 scale, got {magnitude}")
        self.num_ops, self.magnitude, self.magnitude_std, self.prob = num_ops, magnitude, magnitude_std, prob

    def __call__(self, video: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """uint8 `(T, C, H, W)` -> uint8 `(T, C, H, W)`, every frame transformed alike."""
        for _ in range(self.num_ops):
            if float(torch.rand((), generator=generator)) >= self.prob:
                continue
            level = self.magnitude + self.magnitude_std * float(torch.randn((), generator=generator))
            operation = v2.RandAugment(
                num_ops=1,
                magnitude=round(min(max(level, 0.0), 10.0) * self.LEVELS / 10),
                num_magnitude_bins=self.LEVELS + 1,
            )
            seed = int(torch.randint(0, 2**62, (), generator=generator))
            with torch.random.fork_rng(devices=[]):  # torchvision draws the operation from the global generator
                torch.manual_seed(seed)
                video = operation(video)
        return video


class VideoAugmentation:
    """Weak, strong and evaluation views of clips for a model that takes `crop_size` frames.

    Args:
        crop_size: side of the square frames the model takes.
        image_mean, image_std: normalisation, per channel (from the video processor).
        jitter: range of the short side before cropping, as multiples of `crop_size` (256-320 for 224).
        flip_prob: probability of a horizontal flip.
        randaugment_num_ops, randaugment_magnitude, randaugment_magnitude_std, randaugment_prob: RandAugment of the
            strong view on timm's scale (`ClipRandAugment`). SVFormer's `rand-m9-n5-mstd0.5` by default;
            `2, 3.0, 0.0, 1.0` is torchvision's default RandAugment (2 operations at 9 of 31 bins, always applied).
        temporal_warp_prob: probability that the strong view is temporally warped.
        channel_dropout: probability that the strong view loses a colour channel (set to 0, the normalised mean, in
            every frame; the others scaled by 1 / (1 - p)), as SVFormer's `dropout2d(0.2)` on `(B, C, T, H, W)`;
            drawn by `channel_scale`, applied by `normalize`.
    """

    def __init__(
        self,
        crop_size: int = 224,
        image_mean: tuple[float, ...] = tuple(IMAGENET_DEFAULT_MEAN),
        image_std: tuple[float, ...] = tuple(IMAGENET_DEFAULT_STD),
        jitter: tuple[float, float] = (8 / 7, 10 / 7),
        flip_prob: float = 0.5,
        randaugment_num_ops: int = 5,
        randaugment_magnitude: float = 9.0,
        randaugment_magnitude_std: float = 0.5,
        randaugment_prob: float = 0.5,
        temporal_warp_prob: float = 0.5,
        channel_dropout: float = 0.2,
    ):
        self.crop_size = crop_size
        std = torch.tensor(image_std).view(1, -1, 1, 1)
        self.scale = 1 / (255 * std)  # normalisation as one multiply-add from uint8 values
        self.shift = -torch.tensor(image_mean).view(1, -1, 1, 1) / std
        self.jitter = jitter
        self.flip_prob = flip_prob
        self.randaugment = ClipRandAugment(
            randaugment_num_ops, randaugment_magnitude, randaugment_magnitude_std, randaugment_prob
        )
        self.temporal_warp_prob = temporal_warp_prob
        if not 0 <= channel_dropout < 1:
            raise ValueError(f"channel_dropout must be in [0, 1), got {channel_dropout}")
        self.channel_dropout = channel_dropout
        self._constants = {}  # scale and shift on each device normalize has met (copied once)

    @classmethod
    def from_video_processor(cls, video_processor, **kwargs) -> "VideoAugmentation":
        """Crop size and normalisation of a transformers video processor (e.g. VideoMAE's)."""
        crop = video_processor.crop_size
        crop_size = crop["height"] if isinstance(crop, dict) else crop.height
        return cls(crop_size, tuple(video_processor.image_mean), tuple(video_processor.image_std), **kwargs)

    def decode_short_side(self, training: bool) -> int:
        """The short side frames need for these views, to which `load_clip` scales larger sources as it converts them:
        the largest jitter's for the training views (none then has less detail than the source gives), the crop's
        for the test protocol's."""
        return math.ceil(self.crop_size * self.jitter[1]) if training else self.crop_size

    def normalize(self, video: torch.Tensor, channel_scale: torch.Tensor | None = None) -> torch.Tensor:
        """uint8 views `(..., T, C, H, W)` -> float32 `(x / 255 - mean) / std` on their device; with `channel_scale`
        `(..., C)` (a strong view's channel dropout), each clip's channels multiplied by it."""
        if video.device not in self._constants:
            self._constants[video.device] = self.scale.to(video.device), self.shift.to(video.device)
        scale, shift = self._constants[video.device]
        normalised = video.float().mul_(scale).add_(shift)
        if channel_scale is not None:
            normalised *= channel_scale[..., None, :, None, None]
        return normalised

    def weak(self, video: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """Random short-side jitter, crop and horizontal flip."""
        return self._jittered_crop(video, generator)

    def strong(self, video: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """The weak transform, then RandAugment (one draw for the whole clip) and with a probability temporal
        warping; its channel dropout is drawn by `channel_scale` (after this, from the same generator)."""
        augmented = self.randaugment(self._jittered_crop(video, generator), generator)
        if float(torch.rand((), generator=generator)) < self.temporal_warp_prob:
            augmented = augmented[temporal_warp_indices(len(augmented), generator)]
        return augmented

    def channel_scale(self, channels: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """A strong view's channel dropout `(channels,)` for `normalize`: 0 for a dropped channel, 1 / (1 - p) for
        the others (ones without dropout)."""
        if not self.channel_dropout:
            return torch.ones(channels)
        kept = torch.rand(channels, generator=generator) >= self.channel_dropout
        return kept / (1 - self.channel_dropout)

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_constants": {}}  # a loader's workers need no device copies

    def eval_views(self, video: torch.Tensor, num_crops: int = 3) -> list[torch.Tensor]:
        """The test protocol's spatial views: short side resized to the crop size, then `num_crops` crops spread
        along the long side (left, centre, right for landscape frames); one crop is the centre one."""
        resized = F.resize(video, [self.crop_size], antialias=True)
        height, width = resized.shape[-2:]
        long_room = max(height, width) - self.crop_size
        offsets = (
            [round(long_room * i / (num_crops - 1)) for i in range(num_crops)] if num_crops > 1 else [long_room // 2]
        )
        views = []
        for offset in offsets:
            top, left = (offset, 0) if height > width else (0, offset)
            views.append(F.crop(resized, top, left, self.crop_size, self.crop_size))
        return views

    def _jittered_crop(self, video: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        """A `crop_size` square from the clip resized to a random short side, flipped with `flip_prob`; computed as
        one crop-and-resize of the source frames."""
        height, width = video.shape[-2:]
        low, high = self.jitter
        short_side = self.crop_size * (low + (high - low) * float(torch.rand((), generator=generator)))
        window = max(1, min(round(self.crop_size * min(height, width) / short_side), height, width))
        top = int(torch.randint(0, height - window + 1, (), generator=generator))
        left = int(torch.randint(0, width - window + 1, (), generator=generator))
        cropped = F.resized_crop(video, top, left, window, window, [self.crop_size, self.crop_size], antialias=True)
        if float(torch.rand((), generator=generator)) < self.flip_prob:
            cropped = F.horizontal_flip(cropped)
        return cropped
