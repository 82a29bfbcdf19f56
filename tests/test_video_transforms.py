"""Behaviour of the video views: weak, strong and evaluation crops of one decoded clip."""

import numpy as np
import pytest
import torch
from transformers import VideoMAEVideoProcessor

from modeling_avssl.data import collation
from modeling_avssl.data.collation import ClipTransform
from modeling_avssl.data.video_transforms import (
    ClipRandAugment,
    VideoAugmentation,
    frames_to_video,
    temporal_warp_indices,
)
from modeling_avssl.method import evaluation


def still_video(num_frames: int = 8, height: int = 60, width: int = 80) -> torch.Tensor:
    """The same random picture in every frame."""
    picture = torch.randint(
        0, 256, (1, 3, height, width), dtype=torch.uint8, generator=torch.Generator().manual_seed(0)
    )
    return picture.expand(num_frames, -1, -1, -1).contiguous()


def counting_video(num_frames: int = 8) -> torch.Tensor:
    """Frame t is uniformly 20 * t."""
    return (20 * torch.arange(num_frames, dtype=torch.uint8)).view(-1, 1, 1, 1).expand(-1, 3, 40, 40).contiguous()


def test_frames_to_video_turns_thwc_frames_into_tchw():
    frames = np.random.default_rng(0).integers(0, 256, (4, 6, 8, 3), dtype=np.uint8)
    video = frames_to_video(frames)
    assert video.shape == (4, 3, 6, 8) and video.dtype == torch.uint8
    assert torch.equal(video[2, 1], torch.from_numpy(frames[2, :, :, 1]))


@pytest.mark.parametrize("view", ["weak", "strong"])
def test_training_views_are_uint8_crops_with_one_transform_for_every_frame(view):
    augmentation = VideoAugmentation(crop_size=32, temporal_warp_prob=0.5)
    for seed in range(10):
        out = getattr(augmentation, view)(still_video(), generator=torch.Generator().manual_seed(seed))
        assert out.shape == (8, 3, 32, 32) and out.dtype == torch.uint8
        assert all(torch.equal(out[0], frame) for frame in out)  # same crop, flip and RandAugment op in every frame


@pytest.mark.parametrize("view", ["weak", "strong"])
def test_training_views_follow_the_generator(view):
    augmentation = VideoAugmentation(crop_size=32)
    first = getattr(augmentation, view)(still_video(), generator=torch.Generator().manual_seed(3))
    again = getattr(augmentation, view)(still_video(), generator=torch.Generator().manual_seed(3))
    other = getattr(augmentation, view)(still_video(), generator=torch.Generator().manual_seed(4))
    torch.testing.assert_close(again, first, rtol=0, atol=0)
    assert not torch.equal(other, first)


def test_normalisation_uses_the_mean_and_std():
    augmentation = VideoAugmentation(crop_size=8, image_mean=(0.5, 0.25, 0.0), image_std=(0.5, 0.25, 1.0))
    video = torch.tensor([255, 0, 51], dtype=torch.uint8).view(1, 3, 1, 1).expand(2, 3, 8, 8)
    out = augmentation.normalize(video)
    torch.testing.assert_close(out[:, :, 0, 0], torch.tensor([[1.0, -1.0, 0.2]] * 2))


def test_a_batch_is_normalised_on_its_device_with_each_clips_channel_scale(device):
    augmentation = VideoAugmentation(crop_size=8, image_mean=(0.5, 0.25, 0.0), image_std=(0.5, 0.25, 1.0))
    clips = torch.tensor([255, 0, 51], dtype=torch.uint8).view(1, 1, 3, 1, 1).expand(2, 4, 3, 8, 8).to(device)
    out = augmentation.normalize(clips, torch.tensor([[1.0, 1.0, 1.0], [0.0, 2.0, 1.0]], device=device))
    assert out.device.type == device.type and out.dtype == torch.float32
    expected = torch.tensor([[1.0, -1.0, 0.2], [0.0, -2.0, 0.2]], device=device).view(2, 1, 3).expand(2, 4, 3)
    torch.testing.assert_close(out[..., 0, 0], expected)


def test_temporal_warping_keeps_time_order_and_stretches_some_frames():
    for seed in range(20):
        indices = temporal_warp_indices(16, torch.Generator().manual_seed(seed))
        assert len(indices) == 16 and (indices.diff() >= 0).all()
        assert 2 <= len(indices.unique()) < 16 and indices.max() < 16


def test_the_strong_view_is_warped_with_its_probability():
    video = counting_video()
    never = VideoAugmentation(crop_size=16, temporal_warp_prob=0.0, randaugment_num_ops=0, channel_dropout=0.0)
    always = VideoAugmentation(crop_size=16, temporal_warp_prob=1.0, randaugment_num_ops=0, channel_dropout=0.0)
    generator = torch.Generator().manual_seed(0)
    assert len(never.strong(video, generator)[:, 0, 0, 0].unique()) == 8
    warped = always.strong(video, generator)[:, 0, 0, 0]
    assert len(warped.unique()) < 8 and (warped.diff() >= 0).all()


def test_channel_dropout_zeroes_whole_colour_channels_of_the_clip_and_rescales_the_rest():
    grey = torch.full((4, 3, 16, 16), 200, dtype=torch.uint8)
    plain = VideoAugmentation(
        crop_size=16, image_mean=(0.0,) * 3, image_std=(1.0,) * 3, randaugment_num_ops=0, channel_dropout=0.0
    )
    assert torch.equal(plain.channel_scale(3), torch.ones(3))
    expected = plain.normalize(plain.strong(grey))[0, 0, 0, 0]
    dropping = VideoAugmentation(
        crop_size=16, image_mean=(0.0,) * 3, image_std=(1.0,) * 3, randaugment_num_ops=0, channel_dropout=0.2
    )
    dropped = 0
    for seed in range(200):
        generator = torch.Generator().manual_seed(seed)
        view = dropping.strong(grey, generator)
        out = dropping.normalize(view, dropping.channel_scale(3, generator))
        per_channel = out.amax(dim=(0, 2, 3))
        assert torch.equal(out.amin(dim=(0, 2, 3)), per_channel)  # a channel is dropped in every frame or in none
        assert all(value == 0 or value == pytest.approx(float(expected) / 0.8) for value in per_channel.tolist())
        dropped += int((per_channel == 0).sum())
    assert dropped / 600 == pytest.approx(0.2, abs=0.05)


def test_randaugment_applies_each_round_with_its_probability_and_grows_with_the_level():
    video = still_video(num_frames=2)

    def changed(augment: ClipRandAugment, seed: int) -> float:
        return float((augment(video, torch.Generator().manual_seed(seed)).float() - video.float()).abs().mean())

    assert all(changed(ClipRandAugment(5, magnitude=9.0, prob=0.0), seed) == 0 for seed in range(20))
    half = [changed(ClipRandAugment(1, magnitude=9.0, magnitude_std=0.0, prob=0.5), seed) > 0 for seed in range(300)]
    assert np.mean(half) == pytest.approx(0.5 * 13 / 14, abs=0.08)  # one of torchvision's 14 operations is Identity
    weak, strong = (ClipRandAugment(2, magnitude=level, magnitude_std=0.0, prob=1.0) for level in (1.0, 9.0))
    assert np.mean([changed(strong, s) for s in range(100)]) > 1.3 * np.mean([changed(weak, s) for s in range(100)])
    with pytest.raises(ValueError, match="timm's 0-10 scale"):
        ClipRandAugment(2, magnitude=27)


def test_evaluation_views_are_three_crops_along_the_long_side():
    ramp = torch.linspace(0, 255, 120).to(torch.uint8).view(1, 1, 1, -1).expand(4, 3, 60, 120).contiguous()
    augmentation = VideoAugmentation(crop_size=30)

    views = augmentation.eval_views(ramp)
    means = [float(view.float().mean()) for view in views]

    assert len(views) == 3 and all(view.shape == (4, 3, 30, 30) for view in views)
    assert means[0] < means[1] < means[2]
    torch.testing.assert_close(augmentation.eval_views(ramp, num_crops=1)[0], views[1])
    portrait = augmentation.eval_views(ramp.transpose(-1, -2).contiguous())
    assert [float(view.float().mean()) for view in portrait] == pytest.approx(means, abs=1e-4)


def test_settings_come_from_a_video_processor():
    processor = VideoMAEVideoProcessor(
        crop_size={"height": 112, "width": 112}, image_mean=[0.5] * 3, image_std=[0.5] * 3
    )
    augmentation = VideoAugmentation.from_video_processor(processor, temporal_warp_prob=0.0)
    assert augmentation.crop_size == 112 and augmentation.temporal_warp_prob == 0.0
    assert augmentation.weak(still_video(height=120, width=160)).shape == (8, 3, 112, 112)


def test_frames_are_decoded_at_the_short_side_of_the_largest_jitter_for_training_and_the_crop_for_testing(
    tmp_path, monkeypatch
):
    augmentation = VideoAugmentation(crop_size=224)
    assert (augmentation.decode_short_side(training=True), augmentation.decode_short_side(training=False)) == (
        320,
        224,
    )
    asked = []

    def decoded(*args, short_side=None, **kwargs):
        asked.append(short_side)
        raise collation.DecodeError("video.mp4", "not decoded in this test")

    monkeypatch.setattr(collation, "read_clip", decoded)
    monkeypatch.setattr(evaluation, "read_clip", decoded)
    transform = ClipTransform(augmentation, num_frames=4, frame_stride=2, sample_rate=16000, num_mel_bins=8)
    for read in (lambda: transform("video.mp4", [0]), lambda: evaluation.protocol_views("video.mp4", transform, 1, 1)):
        with pytest.raises(collation.DecodeError):
            read()
    assert asked == [320, 224]
