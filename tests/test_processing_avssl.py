"""Behaviour of AVSSLProcessor: videos and audio (arrays or Clips) to model inputs, saved and loaded."""

import json

import numpy as np
import pytest
import torch
from transformers import ASTFeatureExtractor, AutoProcessor, VideoMAEVideoProcessor

from modeling_avssl import AVSSLForVideoClassification, AVSSLProcessor
from modeling_avssl.data import Clip
from modeling_avssl.data.audio import log_mel_fbank
from tiny import make_tiny_config


def tiny_processor() -> AVSSLProcessor:
    """Matches `make_tiny_config()`: 32x32 frames, 64 fbank frames of 32 mel bins."""
    return AVSSLProcessor(
        VideoMAEVideoProcessor(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32}),
        ASTFeatureExtractor(num_mel_bins=32, max_length=64),
    )


def video(seed: int = 0, shape=(4, 48, 64, 3)) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, shape, dtype=np.uint8)


def waveform(seed: int = 0, seconds: float = 0.7) -> np.ndarray:
    return (0.1 * np.random.default_rng(seed).standard_normal(int(seconds * 16000))).astype(np.float32)


def test_default_processor_makes_full_size_inputs():
    inputs = AVSSLProcessor()(videos=video(shape=(16, 240, 320, 3)), audio=waveform(seconds=10), sampling_rate=16000)
    assert inputs["pixel_values"].shape == (1, 16, 3, 224, 224)
    assert inputs["input_values"].shape == (1, 1024, 128)


def test_outputs_feed_the_model_and_match_its_parts():
    processor = tiny_processor()
    videos, waveforms = [video(0), video(1)], [waveform(0), waveform(1)]

    inputs = processor(videos=videos, audio=waveforms, sampling_rate=16000)

    expected_pixels = processor.video_processor(videos, return_tensors="pt")["pixel_values"]
    torch.testing.assert_close(inputs["pixel_values"], expected_pixels)
    expected_audio = torch.stack([log_mel_fbank(w, num_mel_bins=32, max_length=64) for w in waveforms])
    torch.testing.assert_close(inputs["input_values"], expected_audio)
    model = AVSSLForVideoClassification(make_tiny_config()).eval()
    assert model(**inputs).logits.shape == (2, 3)


def test_clips_bring_their_own_audio():
    processor = tiny_processor()
    clip = Clip(video(2), waveform(2), 16000, fps=8.0, duration=0.5, start=0.0, has_audio=True)

    from_clip = processor(videos=[clip])
    explicit = processor(videos=[clip.frames], audio=[clip.audio], sampling_rate=16000)

    for key in ("pixel_values", "input_values"):
        torch.testing.assert_close(from_clip[key], explicit[key], rtol=0, atol=0)


def test_video_only_and_audio_only_calls_give_one_input_each():
    processor = tiny_processor()
    assert set(processor(videos=video())) == {"pixel_values"}
    assert set(processor(audio=waveform(), sampling_rate=16000)) == {"input_values"}


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({}, "Pass `videos`, `audio`, or both"),
        ({"videos": np.zeros((48, 64, 3), np.uint8)}, r"\(frames, height, width, channels\), got shape \(48, 64, 3\)"),
        ({"audio": np.zeros(8000, np.float32), "sampling_rate": 44100}, "sampling rate"),
    ],
    ids=["nothing", "a-single-image", "wrong-rate"],
)
def test_bad_calls_raise_a_value_error(kwargs, message):
    with pytest.raises(ValueError, match=message):
        tiny_processor()(**kwargs)


def test_save_and_load_round_trip_including_auto_processor(tmp_path):
    processor = tiny_processor()
    processor.save_pretrained(tmp_path)
    saved = json.loads((tmp_path / "processor_config.json").read_text())

    assert saved["processor_class"] == "AVSSLProcessor"
    assert saved["auto_map"] == {"AutoProcessor": "processing_avssl.AVSSLProcessor"}
    assert (tmp_path / "processing_avssl.py").is_file()
    for loaded in (AVSSLProcessor.from_pretrained(tmp_path), AutoProcessor.from_pretrained(tmp_path)):
        assert isinstance(loaded, AVSSLProcessor)
        expected = processor(videos=video(), audio=waveform(), sampling_rate=16000)
        actual = loaded(videos=video(), audio=waveform(), sampling_rate=16000)
        for key in expected:
            torch.testing.assert_close(actual[key], expected[key], rtol=0, atol=0)
