"""Behaviour of `python -m modeling_avssl.commands.masks`: the Fig. 3-style picture of one frame's masks."""

import numpy as np
import pytest
import torch
from PIL import Image

from modeling_avssl import AVSSLLocalizer, AVSSLLocalizerConfig
from modeling_avssl.commands.masks import main
from modeling_avssl.data.avsynth import generate
from modeling_avssl.run.mask_picture import draw, frame_and_map


FEATURES = {"type": "fbank", "sample_rate": 16000, "num_mel_bins": 64, "max_length": 200}


@pytest.fixture(scope="module")
def video(tmp_path_factory):
    root = tmp_path_factory.mktemp("avsynth")
    generate(root, 1, 0, seed=0)
    return next((root / "train").rglob("*.mp4"))


def test_the_command_writes_a_two_by_four_panel_for_a_clip(tmp_path, video):
    AVSSLLocalizer(AVSSLLocalizerConfig(embed_dim=16, image_size=64, audio_features=FEATURES)).save_pretrained(
        tmp_path / "localizer"
    )

    main([str(video), "--localizer", str(tmp_path / "localizer"), "--out", str(tmp_path / "masks.png")])

    picture = np.asarray(Image.open(tmp_path / "masks.png"))
    assert picture.shape == (2 * 64 + 4, 4 * 64 + 3 * 4, 3)


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_the_map_comes_from_the_localizer_on_its_own_device_and_dtype_to_the_host(video, device, dtype):
    localizer = AVSSLLocalizer(AVSSLLocalizerConfig(embed_dim=16, image_size=64, audio_features=FEATURES))
    expected = frame_and_map(str(video), localizer, 8)[1]
    frame, localization = frame_and_map(str(video), localizer.to(device, dtype), 8)
    assert frame.shape == (64, 64, 3) and localization.dtype == np.float32
    np.testing.assert_allclose(localization, expected, atol=0.02 if dtype == torch.bfloat16 else 1e-5)


def test_mean_masks_keep_lam_of_the_tokens_and_the_asl_mean_follows_the_map():
    frame = np.full((56, 56, 3), 128, np.uint8)
    localization = np.zeros((7, 7))
    localization[:, 4:] = 1.0  # the sound is on the right
    picture = draw(frame, localization, lam=0.25, grid=14).astype(float)
    tube_mean, asl_mean = picture[:56, 3 * 60 :, 0], picture[60:, 3 * 60 :, 0]  # red channel grows with the value
    assert tube_mean.mean() / 255 == pytest.approx(0.25, abs=0.05)
    assert asl_mean[:, 40:].mean() > 2 * asl_mean[:, :20].mean()
