"""Tiny AVSSL configs and inputs shared by the tests: real architectures, a few thousand parameters."""

import torch

from modeling_avssl import AVSSLConfig


TINY_VIDEOMAE = {
    "model_type": "videomae",
    "image_size": 32,
    "patch_size": 16,
    "num_frames": 4,
    "tubelet_size": 2,
    "hidden_size": 32,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "intermediate_size": 64,
}
TINY_TIMESFORMER = {
    "model_type": "timesformer",
    "image_size": 32,
    "patch_size": 16,
    "num_frames": 2,
    "hidden_size": 32,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "intermediate_size": 64,
}
TINY_AST = {
    "model_type": "audio-spectrogram-transformer",
    "max_length": 64,
    "num_mel_bins": 32,
    "patch_size": 16,
    "frequency_stride": 16,
    "time_stride": 16,
    "hidden_size": 32,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "intermediate_size": 64,
}


def make_tiny_config(**overrides) -> AVSSLConfig:
    values = {
        "video_config": dict(TINY_VIDEOMAE),
        "audio_config": dict(TINY_AST),
        "fusion_num_layers": 2,
        "fusion_hidden_size": 24,
        "fusion_num_attention_heads": 4,
        "fusion_intermediate_size": 48,
        "id2label": {0: "bounce", 1: "slide", 2: "pulse"},
    }
    values.update(overrides)
    return AVSSLConfig(**values)


def make_inputs(config: AVSSLConfig, batch_size: int = 3, seed: int = 0) -> dict[str, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    inputs = {"pixel_values": torch.randn(batch_size, *config.video_input_shape, generator=generator)}
    if config.is_audio_visual:
        audio = config.audio_config
        inputs["input_values"] = torch.randn(batch_size, audio.max_length, audio.num_mel_bins, generator=generator)
    return inputs
