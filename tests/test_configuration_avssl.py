"""Behaviour of AVSSLConfig: defaults at the paper's scale, sub-configs, the video-only switch, serialisation."""

import pytest
from huggingface_hub.errors import StrictDataclassFieldValidationError
from transformers import ASTConfig, AutoConfig, TimesformerConfig, VideoMAEConfig

from modeling_avssl import AVSSLConfig
from tiny import TINY_TIMESFORMER, make_tiny_config


def test_defaults_are_videomae_vit_b_on_16x224_clips_and_ast_on_1024x128_fbank():
    config = AVSSLConfig()

    video, audio = config.video_config, config.audio_config
    assert isinstance(video, VideoMAEConfig) and isinstance(audio, ASTConfig)
    assert (video.hidden_size, video.num_hidden_layers, video.num_attention_heads) == (768, 12, 12)
    assert config.video_input_shape == (16, 3, 224, 224) and video.tubelet_size == 2
    assert config.video_token_grid == (8, 14, 14)
    assert (audio.hidden_size, audio.num_hidden_layers, audio.max_length, audio.num_mel_bins) == (768, 12, 1024, 128)
    assert (config.fusion_num_layers, config.fusion_hidden_size, config.fusion_num_attention_heads) == (6, 768, 12)
    assert config.video_pooling == "cls" and config.is_audio_visual


def test_audio_config_none_is_the_video_only_baseline_and_survives_a_round_trip(tmp_path):
    config = AVSSLConfig(audio_config=None)
    assert not config.is_audio_visual

    config.save_pretrained(tmp_path)
    assert AVSSLConfig.from_pretrained(tmp_path).audio_config is None
    assert AVSSLConfig.from_dict(config.to_dict()).audio_config is None


def test_timesformer_is_accepted_as_the_video_encoder():
    from_dict = AVSSLConfig(video_config={"model_type": "timesformer"})
    from_config = AVSSLConfig(video_config=TimesformerConfig(num_frames=8))

    assert isinstance(from_dict.video_config, TimesformerConfig)
    assert from_config.video_token_grid == (8, 14, 14)  # one slot per frame: TimeSformer has no tubelets


def test_a_sub_config_dict_without_model_type_takes_the_default_encoder():
    config = AVSSLConfig(video_config={"num_frames": 8}, audio_config={"max_length": 512})
    assert isinstance(config.video_config, VideoMAEConfig) and config.video_config.num_frames == 8
    assert isinstance(config.audio_config, ASTConfig) and config.audio_config.max_length == 512


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (
            {"video_config": {"model_type": "bert"}},
            r"`video_config` must be a config of one of \('videomae', 'timesformer'\)",
        ),
        ({"audio_config": {"model_type": "videomae"}}, r"`audio_config` must be a config of one of"),
        ({"video_config": {"model_type": "no-such-model"}}, r"unknown model_type 'no-such-model'"),
        ({"fusion_hidden_size": 100, "fusion_num_attention_heads": 12}, r"multiple of `fusion_num_attention_heads`"),
    ],
    ids=["text-encoder-as-video", "video-encoder-as-audio", "unknown-type", "fusion-heads"],
)
def test_inconsistent_settings_raise_a_value_error_naming_the_problem(kwargs, message):
    with pytest.raises(ValueError, match=message):
        AVSSLConfig(**kwargs)


def test_a_sub_config_of_the_wrong_kind_is_refused():
    with pytest.raises(ValueError, match="`audio_config` must be 'default', a dict, a config or None, got 'ast'"):
        AVSSLConfig(audio_config="ast")
    with pytest.raises(StrictDataclassFieldValidationError, match="audio_config"):
        AVSSLConfig(audio_config=42)


def test_video_pooling_accepts_only_cls_or_mean():
    assert AVSSLConfig(video_pooling="mean").video_pooling == "mean"
    with pytest.raises(StrictDataclassFieldValidationError, match="video_pooling"):
        AVSSLConfig(video_pooling="max")


def test_labels_and_sub_configs_round_trip_through_auto_config(tmp_path):
    config = make_tiny_config(video_config=dict(TINY_TIMESFORMER), label2id={"bounce": 0, "slide": 1, "pulse": 2})
    config.save_pretrained(tmp_path)

    loaded = AutoConfig.from_pretrained(tmp_path)

    assert isinstance(loaded, AVSSLConfig)
    assert loaded.num_labels == 3 and loaded.id2label == {0: "bounce", 1: "slide", 2: "pulse"}
    assert loaded.label2id == {"bounce": 0, "slide": 1, "pulse": 2}
    assert loaded.video_config.to_dict() == config.video_config.to_dict()
    assert loaded.audio_config.to_dict() == config.audio_config.to_dict()
    assert loaded.fusion_hidden_size == config.fusion_hidden_size
