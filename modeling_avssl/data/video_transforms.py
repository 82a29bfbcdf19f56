"""Views of one decoded clip: weak, strong (RandAugment + temporal warping) and the evaluation crops.

Every transform works on a uint8 `(T, C, H, W)` tensor and treats the frames as one image: the same crop, flip and
RandAugment operation apply to every frame of a clip. Views come out as normalised float `(T, C, crop, crop)`.
"""

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


class VideoAugmentation:
    """Weak, strong and evaluation views of clips for a model that takes `crop_size` frames.

    Args:
        crop_size: side of the square frames the model takes.
        image_mean, image_std: normalisation, per channel (from the video processor).
        jitter: range of the short side before cropping, as multiples of `crop_size` (256-320 for 224).
        flip_prob: probability of a horizontal flip.
        randaugment_num_ops, randaugment_magnitude: RandAugment of the strong view.
        temporal_warp_prob: probability that the strong view is temporally warped.
    """

    def __init__(
        self,
        crop_size: int = 224,
        image_mean: tuple[float, ...] = tuple(IMAGENET_DEFAULT_MEAN),
        image_std: tuple[float, ...] = tuple(IMAGENET_DEFAULT_STD),
        jitter: tuple[float, float] = (8 / 7, 10 / 7),
        flip_prob: float = 0.5,
        randaugment_num_ops: int = 2,
        randaugment_magnitude: int = 9,
        temporal_warp_prob: float = 0.5,
    ):
        self.crop_size = crop_size
        std = torch.tensor(image_std).view(1, -1, 1, 1)
        self.scale = 1 / (255 * std)  # normalisation as one multiply-add from uint8 values
        self.shift = -torch.tensor(image_mean).view(1, -1, 1, 1) / std
        self.jitter = jitter
        self.flip_prob = flip_prob
        self.randaugment = v2.RandAugment(num_ops=randaugment_num_ops, magnitude=randaugment_magnitude)
        self.temporal_warp_prob = temporal_warp_prob

    @classmethod
    def from_video_processor(cls, video_processor, **kwargs) -> "VideoAugmentation":
        """Crop size and normalisation of a transformers video processor (e.g. VideoMAE's)."""
        crop = video_processor.crop_size
        crop_size = crop["height"] if isinstance(crop, dict) else crop.height
        return cls(crop_size, tuple(video_processor.image_mean), tuple(video_processor.image_std), **kwargs)

    def normalize(self, video: torch.Tensor) -> torch.Tensor:
        """uint8 `(T, C, H, W)` -> float32 `(x / 255 - mean) / std`."""
        return video.float().mul_(self.scale).add_(self.shift)

    def weak(self, video: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """Random short-side jitter, crop and horizontal flip."""
        return self.normalize(self._jittered_crop(video, generator))

    def strong(self, video: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """The weak transform, then RandAugment (one draw for the whole clip) and, with a probability, temporal
        warping."""
        cropped = self._jittered_crop(video, generator)
        seed = int(torch.randint(0, 2**62, (), generator=generator))
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            augmented = self.randaugment(cropped)
        if float(torch.rand((), generator=generator)) < self.temporal_warp_prob:
            augmented = augmented[temporal_warp_indices(len(augmented), generator)]
        return self.normalize(augmented)

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
            views.append(self.normalize(F.crop(resized, top, left, self.crop_size, self.crop_size)))
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
