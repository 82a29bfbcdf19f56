# Copyright 2026 The AVSSL Authors. All rights reserved.
#
# Licensed under the Apache License, Version 2.0 (the "License");
# you may not use this file except in compliance with the License.
# You may obtain a copy of the License at
#
#     http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS,
# WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
# See the License for the specific language governing permissions and
# limitations under the License.
"""AVSSL model configuration."""

from typing import Literal

from huggingface_hub.dataclasses import strict
from transformers import AutoConfig, PreTrainedConfig
from transformers.models.auto.configuration_auto import CONFIG_MAPPING


VIDEO_MODEL_TYPES = ("videomae", "timesformer")
AUDIO_MODEL_TYPES = ("audio-spectrogram-transformer",)
DEFAULT_AUDIO = "default"


def _pair(value: int | list[int] | tuple[int, int]) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else tuple(value)


def _sub_config(value, default_type: str, allowed: tuple[str, ...], name: str) -> PreTrainedConfig:
    """Turns `None`, a dict or a config into a config of one of the `allowed` model types."""
    if value is None:
        value = {}
    if isinstance(value, dict):
        value = dict(value)
        model_type = value.pop("model_type", default_type)
        if model_type not in CONFIG_MAPPING:
            raise ValueError(f"`{name}` has unknown model_type {model_type!r}; expected one of {allowed}.")
        value = CONFIG_MAPPING[model_type](**value)
    if value.model_type not in allowed:
        raise ValueError(f"`{name}` must be a config of one of {allowed}, got model_type {value.model_type!r}.")
    return value


@strict
class AVSSLConfig(PreTrainedConfig):
    r"""
    Configuration of an [`AVSSLModel`]: a video encoder (VideoMAE by default, or TimeSformer), an optional Audio
    Spectrogram Transformer, and a small transformer that fuses their two summary tokens (paper Eq. 7-9).

    The defaults build the paper's scale: ViT-B VideoMAE on 16x224x224 clips (tubelet 2, 1568 tokens), ViT-B AST on
    1024x128 log-mel frames, and a 6-layer fusion of width 768.

    Args:
        video_config (`dict` or `PreTrainedConfig`, *optional*):
            Config of the video encoder: a `VideoMAEConfig` (default ViT-B) or a `TimesformerConfig`.
        audio_config (`dict`, `PreTrainedConfig` or `None`, *optional*, defaults to `"default"`):
            Config of the audio encoder, an `ASTConfig`. `"default"` builds AST-B for 1024x128 inputs; `None` builds
            the video-only model (no audio encoder, no fusion).
        video_pooling (`str`, *optional*, defaults to `"cls"`):
            How the video summary token z_vid^0 is made: `"cls"` takes the first output token (a learnable CLS token
            this model prepends for VideoMAE; TimeSformer's own CLS), `"mean"` averages the patch tokens.
        fusion_num_layers (`int`, *optional*, defaults to 6):
            Transformer layers of the fusion module over the two summary tokens.
        fusion_hidden_size (`int`, *optional*, defaults to 768):
            Width of the fusion layers.
        fusion_num_attention_heads (`int`, *optional*, defaults to 12):
            Attention heads of each fusion layer.
        fusion_intermediate_size (`int`, *optional*, defaults to 3072):
            Width of the feed-forward block of each fusion layer.
        hidden_act (`str`, *optional*, defaults to `"gelu"`):
            Activation of the fusion feed-forward blocks.
        hidden_dropout_prob (`float`, *optional*, defaults to 0.0):
            Dropout on the fusion residual branches.
        attention_probs_dropout_prob (`float`, *optional*, defaults to 0.0):
            Dropout on the fusion attention probabilities.
        classifier_dropout (`float`, *optional*, defaults to 0.0):
            Dropout before the classification head.
        layer_norm_eps (`float`, *optional*, defaults to 1e-12):
            Epsilon of the layer norms this model owns.
        initializer_range (`float`, *optional*, defaults to 0.02):
            Standard deviation of the truncated normal initialiser of the weights this model owns.

    Example:

    ```python
    >>> from modeling_avssl import AVSSLConfig, AVSSLForVideoClassification

    >>> config = AVSSLConfig(id2label={0: "drumming", 1: "typing"})
    >>> model = AVSSLForVideoClassification(config)
    >>> video_only = AVSSLConfig(audio_config=None)
    ```"""

    model_type = "avssl"
    sub_configs = {"video_config": AutoConfig, "audio_config": AutoConfig}

    video_config: dict | PreTrainedConfig | None = None
    audio_config: dict | PreTrainedConfig | str | None = DEFAULT_AUDIO
    video_pooling: Literal["cls", "mean"] = "cls"
    fusion_num_layers: int = 6
    fusion_hidden_size: int = 768
    fusion_num_attention_heads: int = 12
    fusion_intermediate_size: int = 3072
    hidden_act: str = "gelu"
    hidden_dropout_prob: float | int = 0.0
    attention_probs_dropout_prob: float | int = 0.0
    classifier_dropout: float | int = 0.0
    layer_norm_eps: float = 1e-12
    initializer_range: float = 0.02

    def __post_init__(self, **kwargs):
        self.video_config = _sub_config(self.video_config, "videomae", VIDEO_MODEL_TYPES, "video_config")
        if isinstance(self.audio_config, str) and self.audio_config != DEFAULT_AUDIO:
            raise ValueError(
                f"`audio_config` must be {DEFAULT_AUDIO!r}, a dict, a config or None, got {self.audio_config!r}."
            )
        if self.audio_config is not None:
            audio = None if self.audio_config == DEFAULT_AUDIO else self.audio_config
            self.audio_config = _sub_config(audio, "audio-spectrogram-transformer", AUDIO_MODEL_TYPES, "audio_config")
        if self.fusion_hidden_size % self.fusion_num_attention_heads:
            raise ValueError(
                f"`fusion_hidden_size` ({self.fusion_hidden_size}) must be a multiple of `fusion_num_attention_heads` "
                f"({self.fusion_num_attention_heads})."
            )
        super().__post_init__(**kwargs)

    @property
    def is_audio_visual(self) -> bool:
        """Whether the model has an audio encoder and a fusion module (False for the video-only baseline)."""
        return self.audio_config is not None

    @property
    def class_names(self) -> list[str]:
        """The classes' names in the order of the logits: `id2label` read by index."""
        return [self.id2label[index] for index in range(self.num_labels)]

    @property
    def video_input_shape(self) -> tuple[int, int, int, int]:
        """`(frames, channels, height, width)` of one clip of `pixel_values` (16x3x224x224 at the default)."""
        video = self.video_config
        return (video.num_frames, video.num_channels, *_pair(video.image_size))

    @property
    def video_token_grid(self) -> tuple[int, int, int]:
        """`(slots, height, width)` of the video token grid the patch embedding makes (8x14x14 at the default)."""
        video = self.video_config
        (height, width), (patch_height, patch_width) = _pair(video.image_size), _pair(video.patch_size)
        return video.num_frames // getattr(video, "tubelet_size", 1), height // patch_height, width // patch_width


@strict
class AVSSLLocalizerConfig(PreTrainedConfig):
    r"""
    Configuration of an [`AVSSLLocalizer`], the EZ-VSL / FNAC two-stream audio source localizer: a ResNet-18 on
    frames (7x7x512 at 224) and a one-channel ResNet-18 on the audio spectrogram, each projected to `embed_dim`.

    Args:
        embed_dim (`int`, *optional*, defaults to 512):
            Width of the visual and audio embeddings.
        temperature (`float`, *optional*, defaults to 0.03):
            Temperature of the contrastive losses (EZ-VSL / FNAC `tau`).
        visual_dropout (`float`, *optional*, defaults to 0.9):
            Dropout on the visual feature map before its projection (FNAC's default).
        audio_dropout (`float`, *optional*, defaults to 0.0):
            Dropout on the audio feature before its projection.
        fns1_weight, tns_weight, fns2_weight (`float`, *optional*, default to 100.0):
            Weights of FNAC's false-negative suppression (audio and visual) and true-negative suppression terms;
            0 gives EZ-VSL's loss alone.
        foreground_threshold (`float`, *optional*, defaults to 0.6):
            FNAC's threshold on the normalised map that selects the foreground for the TNS term.
        audio_features (`dict`, *optional*):
            How the spectrogram input was computed, so that callers prepare it the same way: `{"type": "fbank", ...}`
            (AST's Kaldi fbank, this project's default) or `{"type": "log_spectrogram", "sample_rate": ...,
            "window": 512, "overlap": 274, "seconds": 3.0, "std": 12.0}` for converted EZ-VSL / FNAC checkpoints.
        image_size (`int`, *optional*, defaults to 224):
            Side of the frames the visual encoder takes.
        visual_stages (`int`, *optional*, defaults to 4):
            How many of ResNet-18's four residual stages the visual encoder keeps. All four (stride 32, a receptive
            field wider than the frame) is EZ-VSL / FNAC's model and what their checkpoints hold; fewer give a finer
            map whose positions see only their neighbourhood, which lets a localizer trained from scratch on small
            frames (AVSynth) place the sound instead of encoding the whole scene at one position.
        audio_stages (`int`, *optional*, defaults to 4):
            How many residual stages the audio ResNet-18 keeps (its feature is max-pooled over the map either way).
            All four is EZ-VSL / FNAC's model; fewer is a smaller, cheaper audio encoder (a quarter of the weights
            per stage dropped), enough for sounds as simple as AVSynth's.
    """

    model_type = "avssl_localizer"

    embed_dim: int = 512
    temperature: float = 0.03
    visual_dropout: float | int = 0.9
    audio_dropout: float | int = 0.0
    fns1_weight: float | int = 100.0
    tns_weight: float | int = 100.0
    fns2_weight: float | int = 100.0
    foreground_threshold: float = 0.6
    audio_features: dict | None = None
    image_size: int = 224
    visual_stages: int = 4
    audio_stages: int = 4

    def __post_init__(self, **kwargs):
        for name in ("visual_stages", "audio_stages"):
            if getattr(self, name) not in (1, 2, 3, 4):
                raise ValueError(f"`{name}` must be 1, 2, 3 or 4 (ResNet-18's stages), got {getattr(self, name)}.")
        if self.audio_features is None:
            self.audio_features = {"type": "fbank", "sample_rate": 16000, "num_mel_bins": 128, "max_length": 1024}
        kind = self.audio_features.get("type")
        if kind not in ("fbank", "log_spectrogram"):
            raise ValueError(f"`audio_features['type']` must be 'fbank' or 'log_spectrogram', got {kind!r}.")
        super().__post_init__(**kwargs)


__all__ = ["AVSSLConfig", "AVSSLLocalizerConfig"]
