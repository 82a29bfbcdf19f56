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
"""PyTorch AVSSL model: a video encoder, an audio spectrogram transformer and a fusion transformer (paper Eq. 5-9)."""

import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn
from transformers import AutoModel, PreTrainedModel
from transformers import initialization as init
from transformers.activations import ACT2FN
from transformers.modeling_layers import GradientCheckpointingLayer
from transformers.modeling_utils import ALL_ATTENTION_FUNCTIONS
from transformers.utils import ModelOutput

from .configuration_avssl import AVSSLConfig


TokenMix = tuple[torch.Tensor, torch.Tensor]
PIPELINE_FILES = ("pipeline_avssl.py", "decoding.py")
PIPELINE = {
    "impl": "pipeline_avssl.AVSSLVideoClassificationPipeline",
    "pt": ["AutoModelForVideoClassification"],
    "type": "multimodal",
}
HiddenStateSelection = bool | int | list[int]


@dataclass
class AVSSLModelOutput(ModelOutput):
    r"""
    pooler_output (`torch.FloatTensor` of shape `(batch_size, hidden_size)`):
        The clip representation the classification head reads: the mean of the fusion's output tokens, or the
        video summary for a video-only model.
    video_embeds (`torch.FloatTensor` of shape `(batch_size, video_hidden_size)`):
        The video summary token z_vid^0: the CLS output (or the mean of the patch tokens) after a layer norm.
    audio_embeds (`torch.FloatTensor` of shape `(batch_size, audio_hidden_size)`, *optional*):
        The audio summary token z_aud^0 (AST's first output token); `None` for a video-only model.
    video_hidden_states (`tuple(torch.FloatTensor)`, *optional*):
        The video encoder's input embeddings (with the CLS token) and the output of each of its layers, each
        `(batch_size, video_tokens, video_hidden_size)`, when `output_hidden_states` asks for them: `True` for all,
        an index or a list of indices (negative from the end) for those alone, the others `None`.
    audio_hidden_states (`tuple(torch.FloatTensor)`, *optional*):
        The audio encoder's input embeddings and layer outputs, `(batch_size, audio_tokens, audio_hidden_size)`,
        selected by `output_hidden_states` in the same way.
    video_attentions (`tuple(torch.FloatTensor)`, *optional*):
        One per video encoder layer, `(batch_size, num_heads, video_tokens, video_tokens)`, when
        `output_attentions=True`; TimeSformer returns each layer's spatial attention,
        `(batch_size * num_frames, num_heads, 1 + patches, 1 + patches)`.
    audio_attentions (`tuple(torch.FloatTensor)`, *optional*):
        One per audio encoder layer, `(batch_size, num_heads, audio_tokens, audio_tokens)`.
    fusion_attentions (`tuple(torch.FloatTensor)`, *optional*):
        One per fusion layer, `(batch_size, fusion_num_attention_heads, 2, 2)`: the video and audio summary tokens
        attending to each other.
    """

    pooler_output: torch.FloatTensor | None = None
    video_embeds: torch.FloatTensor | None = None
    audio_embeds: torch.FloatTensor | None = None
    video_hidden_states: tuple[torch.FloatTensor, ...] | None = None
    audio_hidden_states: tuple[torch.FloatTensor, ...] | None = None
    video_attentions: tuple[torch.FloatTensor, ...] | None = None
    audio_attentions: tuple[torch.FloatTensor, ...] | None = None
    fusion_attentions: tuple[torch.FloatTensor, ...] | None = None


@dataclass
class AVSSLVideoClassifierOutput(ModelOutput):
    r"""
    loss (`torch.FloatTensor` of shape `()`, *optional*):
        Cross-entropy of `logits` against `labels`, when `labels` are given.
    logits (`torch.FloatTensor` of shape `(batch_size, num_labels)`):
        Classification scores before softmax.
    video_embeds (`torch.FloatTensor` of shape `(batch_size, video_hidden_size)`):
        The video summary token z_vid^0.
    audio_embeds (`torch.FloatTensor` of shape `(batch_size, audio_hidden_size)`, *optional*):
        The audio summary token z_aud^0; `None` for a video-only model.
    video_hidden_states, audio_hidden_states, video_attentions, audio_attentions, fusion_attentions (*optional*):
        As in [`AVSSLModelOutput`].
    """

    loss: torch.FloatTensor | None = None
    logits: torch.FloatTensor | None = None
    video_embeds: torch.FloatTensor | None = None
    audio_embeds: torch.FloatTensor | None = None
    video_hidden_states: tuple[torch.FloatTensor, ...] | None = None
    audio_hidden_states: tuple[torch.FloatTensor, ...] | None = None
    video_attentions: tuple[torch.FloatTensor, ...] | None = None
    audio_attentions: tuple[torch.FloatTensor, ...] | None = None
    fusion_attentions: tuple[torch.FloatTensor, ...] | None = None


def mix_tokens(tokens: torch.Tensor, mask: torch.Tensor, partner: torch.Tensor) -> torch.Tensor:
    """Token mixup (paper Eq. 5): keeps `tokens[b, n]` where `mask[b, n]` and takes `tokens[partner[b], n]` elsewhere.

    `tokens` is `(batch, num_tokens, hidden)`, `mask` bool `(batch, num_tokens)`, `partner` long `(batch,)`.
    """
    return torch.where(mask.unsqueeze(-1), tokens, tokens[partner])


def wants_hidden_states(selection: HiddenStateSelection | None) -> bool:
    """Whether `output_hidden_states` asks for any: `True`, an index (0 included) or a list of indices."""
    return selection is not None and selection is not False


def select_hidden_states(
    hidden_states: tuple[torch.Tensor, ...] | None, selection: HiddenStateSelection | None
) -> tuple[torch.Tensor | None, ...] | None:
    """The hidden states `output_hidden_states` asks for: all for `True`, none for `False` / `None`; for an index or a
    list of indices (negative ones from the end), the same tuple with `None` in place of the others, so that an index
    means the same layer in either (transformers' convention)."""
    if not wants_hidden_states(selection) or selection is True:
        return hidden_states if selection is True else None
    indices = [selection] if isinstance(selection, int) else list(selection)
    count = len(hidden_states)
    out_of_range = [i for i in indices if not -count <= i < count]
    if out_of_range:
        raise ValueError(
            f"`output_hidden_states` indices {out_of_range} are out of range: this encoder has {count} hidden states "
            f"(the embeddings and {count - 1} layers)."
        )
    kept = {i % count for i in indices}
    return tuple(state if i in kept else None for i, state in enumerate(hidden_states))


def eager_attention_forward(
    module: nn.Module,
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    attention_mask: torch.Tensor | None,
    scaling: float,
    dropout: float = 0.0,
    **kwargs,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Softmax attention on `(batch, heads, tokens, head_dim)` tensors; returns `(batch, tokens, heads, head_dim)`."""
    attn_weights = torch.matmul(query, key.transpose(2, 3)) * scaling
    if attention_mask is not None:
        attn_weights = attn_weights + attention_mask
    attn_weights = nn.functional.softmax(attn_weights, dim=-1)
    attn_weights = nn.functional.dropout(attn_weights, p=dropout, training=module.training)
    attn_output = torch.matmul(attn_weights, value).transpose(1, 2).contiguous()
    return attn_output, attn_weights


class AVSSLFusionAttention(nn.Module):
    """Multi-head self-attention of a fusion layer, dispatched to `config._attn_implementation` (eager, SDPA, ...)."""

    def __init__(self, config: AVSSLConfig):
        super().__init__()
        self.config = config
        self.num_heads = config.fusion_num_attention_heads
        self.head_dim = config.fusion_hidden_size // self.num_heads
        self.scaling = self.head_dim**-0.5
        self.is_causal = False
        self.q_proj = nn.Linear(config.fusion_hidden_size, config.fusion_hidden_size)
        self.k_proj = nn.Linear(config.fusion_hidden_size, config.fusion_hidden_size)
        self.v_proj = nn.Linear(config.fusion_hidden_size, config.fusion_hidden_size)
        self.out_proj = nn.Linear(config.fusion_hidden_size, config.fusion_hidden_size)

    def forward(self, hidden_states: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """`hidden_states` `(batch, tokens, fusion_hidden_size)` -> the same shape, and the attention probabilities
        `(batch, heads, tokens, tokens)` where the implementation computes them (eager; `None` for SDPA)."""
        head_shape = (*hidden_states.shape[:-1], self.num_heads, self.head_dim)
        query = self.q_proj(hidden_states).view(head_shape).transpose(1, 2)
        key = self.k_proj(hidden_states).view(head_shape).transpose(1, 2)
        value = self.v_proj(hidden_states).view(head_shape).transpose(1, 2)
        attention_interface: Callable = ALL_ATTENTION_FUNCTIONS.get_interface(
            self.config._attn_implementation, eager_attention_forward
        )
        attn_output, attn_weights = attention_interface(
            self,
            query,
            key,
            value,
            None,
            scaling=self.scaling,
            dropout=self.config.attention_probs_dropout_prob if self.training else 0.0,
        )
        return self.out_proj(attn_output.reshape(hidden_states.shape)), attn_weights


class AVSSLFusionLayer(GradientCheckpointingLayer):
    """A pre-norm transformer encoder layer over the summary tokens."""

    def __init__(self, config: AVSSLConfig):
        super().__init__()
        self.layernorm_before = nn.LayerNorm(config.fusion_hidden_size, eps=config.layer_norm_eps)
        self.attention = AVSSLFusionAttention(config)
        self.layernorm_after = nn.LayerNorm(config.fusion_hidden_size, eps=config.layer_norm_eps)
        self.intermediate = nn.Linear(config.fusion_hidden_size, config.fusion_intermediate_size)
        self.activation = ACT2FN[config.hidden_act]
        self.output = nn.Linear(config.fusion_intermediate_size, config.fusion_hidden_size)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)

    def forward(self, hidden_states: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """`hidden_states` `(batch, tokens, fusion_hidden_size)` -> the same shape, and the attention probabilities."""
        attended, attn_weights = self.attention(self.layernorm_before(hidden_states))
        hidden_states = hidden_states + self.dropout(attended)
        feed_forward = self.output(self.activation(self.intermediate(self.layernorm_after(hidden_states))))
        return hidden_states + self.dropout(feed_forward), attn_weights


class AVSSLFusion(nn.Module):
    """FUSION of paper Eq. 9: projects z_vid^0 and z_aud^0 to one width, adds a modality embedding to each, runs the
    fusion layers over the two tokens and averages them after a final norm."""

    def __init__(self, config: AVSSLConfig):
        super().__init__()
        self.video_projection = nn.Linear(config.video_config.hidden_size, config.fusion_hidden_size)
        self.audio_projection = nn.Linear(config.audio_config.hidden_size, config.fusion_hidden_size)
        self.modality_embeddings = nn.Parameter(torch.zeros(2, config.fusion_hidden_size))
        self.layers = nn.ModuleList([AVSSLFusionLayer(config) for _ in range(config.fusion_num_layers)])
        self.layernorm = nn.LayerNorm(config.fusion_hidden_size, eps=config.layer_norm_eps)

    def forward(
        self, video_embeds: torch.Tensor, audio_embeds: torch.Tensor
    ) -> tuple[torch.Tensor, tuple[torch.Tensor | None, ...]]:
        """`video_embeds` `(batch, video_hidden)` and `audio_embeds` `(batch, audio_hidden)` -> `(batch, hidden)`, and
        each layer's attention probabilities `(batch, heads, 2, 2)` (`None` where the implementation has none)."""
        tokens = torch.stack([self.video_projection(video_embeds), self.audio_projection(audio_embeds)], dim=1)
        hidden_states = tokens + self.modality_embeddings
        attentions = []
        for layer in self.layers:
            hidden_states, attn_weights = layer(hidden_states)
            attentions.append(attn_weights)
        return self.layernorm(hidden_states).mean(dim=1), tuple(attentions)


class AVSSLPreTrainedModel(PreTrainedModel):
    """Weight initialisation, loading and the shared class attributes of the AVSSL models."""

    config: AVSSLConfig
    config_class = AVSSLConfig
    base_model_prefix = "avssl"
    main_input_name = "pixel_values"
    input_modalities = ("video", "audio")
    supports_gradient_checkpointing = True
    _no_split_modules = ["AVSSLFusionLayer"]
    _supports_sdpa = True
    _supports_flash_attn = True
    _supports_flex_attn = True
    _supports_attention_backend = True

    def save_pretrained(self, save_directory: str | os.PathLike, *args, **kwargs) -> None:
        """`PreTrainedModel.save_pretrained`, under this file's class even when FSDP2's `fully_shard` has swapped in
        its subclass (defined in torch), whose module the remote-code export would otherwise copy and name in the
        `auto_map`. Under FSDP pass the gathered `state_dict`, as the Trainer does."""
        sharded_class = type(self)
        self.__class__ = next(c for c in sharded_class.__mro__ if c.__module__ == AVSSLPreTrainedModel.__module__)
        try:
            super().save_pretrained(save_directory, *args, **kwargs)
        finally:
            self.__class__ = sharded_class

    @classmethod
    def from_encoders_pretrained(
        cls, video_model: str, audio_model: str | None, **config_kwargs
    ) -> "AVSSLPreTrainedModel":
        """Builds a model whose encoders start from existing checkpoints (Hub ids or local folders).

        `video_model` is a VideoMAE or TimeSformer checkpoint (e.g. `MCG-NJU/videomae-base`), `audio_model` an AST
        checkpoint (e.g. `MIT/ast-finetuned-audioset-10-10-0.4593`) or `None` for the video-only model. Their heads are
        dropped; the CLS token, fusion and classification head start fresh. `config_kwargs` go to [`AVSSLConfig`]
        (e.g. `id2label`, `fusion_num_layers`).
        """
        video_encoder = AutoModel.from_pretrained(video_model)
        audio_encoder = AutoModel.from_pretrained(audio_model) if audio_model is not None else None
        config = AVSSLConfig(
            video_config=video_encoder.config,
            audio_config=audio_encoder.config if audio_encoder is not None else None,
            **config_kwargs,
        )
        return cls(config, video_encoder=video_encoder, audio_encoder=audio_encoder)

    @torch.no_grad()
    def _init_weights(self, module: nn.Module) -> None:
        """Truncated-normal linear weights and tokens, unit layer norms, zero biases (ViT's scheme)."""
        std = self.config.initializer_range
        if isinstance(module, nn.Linear):
            init.trunc_normal_(module.weight, std=std)
            if module.bias is not None:
                init.zeros_(module.bias)
        elif isinstance(module, nn.LayerNorm):
            init.ones_(module.weight)
            init.zeros_(module.bias)
        elif isinstance(module, AVSSLFusion):
            init.trunc_normal_(module.modality_embeddings, std=std)
        elif isinstance(module, AVSSLModel) and module.video_cls_token is not None:
            init.trunc_normal_(module.video_cls_token, std=std)


class AVSSLModel(AVSSLPreTrainedModel):
    """The AVSSL encoders and fusion without a head: returns the clip representation and both summary tokens."""

    def __init__(
        self,
        config: AVSSLConfig,
        video_encoder: PreTrainedModel | None = None,
        audio_encoder: PreTrainedModel | None = None,
    ):
        super().__init__(config)
        self.video_encoder = video_encoder if video_encoder is not None else AutoModel.from_config(config.video_config)
        owns_cls = config.video_pooling == "cls" and config.video_config.model_type == "videomae"
        self.video_cls_token = nn.Parameter(torch.zeros(1, 1, config.video_config.hidden_size)) if owns_cls else None
        self.video_layernorm = nn.LayerNorm(config.video_config.hidden_size, eps=config.layer_norm_eps)
        if config.is_audio_visual:
            self.audio_encoder = (
                audio_encoder if audio_encoder is not None else AutoModel.from_config(config.audio_config)
            )
            self.fusion = AVSSLFusion(config)
        else:
            self.audio_encoder = None
            self.fusion = None
        # registered once, so that a compiled forward traces them without a graph break (docs/training.md)
        self._token_mix: TokenMix | None = None  # the token mixup of the forward being run
        self.video_encoder.embeddings.patch_embeddings.register_forward_hook(self._mix_patch_tokens)
        if self.video_cls_token is not None:
            self.video_encoder.embeddings.register_forward_hook(self._prepend_cls_token)
        self.post_init()

    def get_input_embeddings(self) -> nn.Module:
        return self.video_encoder.embeddings.patch_embeddings

    def _mix_patch_tokens(self, module: nn.Module, args: tuple, output):
        """Forward hook of the video patch embedding: the token mixup of the forward being run (paper Eq. 5), before
        position embeddings and CLS tokens. VideoMAE's patch embedding returns `(batch, slots * h * w, hidden)`;
        TimeSformer's returns `((batch * frames, h * w, hidden), frames, w)`. Both orders are slot-major, so one
        `(batch, slots * h * w)` mask addresses the same tokens in either."""
        if self._token_mix is None:
            return output
        mask, partner = self._token_mix
        if isinstance(output, tuple):
            tokens, num_frames, width = output
            per_clip = tokens.reshape(-1, num_frames * tokens.shape[1], tokens.shape[2])
            return mix_tokens(per_clip, mask, partner).reshape(tokens.shape), num_frames, width
        return mix_tokens(output, mask, partner)

    def _prepend_cls_token(self, module: nn.Module, args: tuple, output: torch.Tensor) -> torch.Tensor:
        """Forward hook of VideoMAE's embeddings: prepends the model's CLS token `(1, 1, hidden)` to their output
        `(batch, tokens, hidden)` (after the position embeddings), so that the encoder's own forward sees
        `(batch, 1 + tokens, hidden)` and returns its hidden states and attentions with the token in them."""
        return torch.cat([self.video_cls_token.expand(output.shape[0], -1, -1), output], dim=1)

    def _apply(self, fn: Callable[[torch.Tensor], torch.Tensor], recurse: bool = True) -> "AVSSLModel":
        """`nn.Module._apply` (what `.to()`, `.cuda()` and `.half()` run), which also converts the plain tensor
        attributes of the encoders' modules, as torchmetrics does its states: VideoMAE keeps its fixed sinusoidal
        position table as one (not a buffer, so not in checkpoints), and left on the host it was copied to the device
        at every forward."""
        super()._apply(fn, recurse)
        for module in self.modules():
            for name, value in list(vars(module).items()):
                if isinstance(value, torch.Tensor):
                    setattr(module, name, fn(value))
        return self

    @property
    def hidden_size(self) -> int:
        """Width of `pooler_output`."""
        return self.config.fusion_hidden_size if self.config.is_audio_visual else self.config.video_config.hidden_size

    def _check_inputs(
        self, pixel_values: torch.Tensor, input_values: torch.Tensor | None, token_mix: TokenMix | None
    ) -> None:
        expected = self.config.video_input_shape
        if pixel_values.dim() != 5 or tuple(pixel_values.shape[1:]) != expected:
            raise ValueError(
                "`pixel_values` must be (batch, frames, channels, height, width) = "
                f"(batch, {', '.join(map(str, expected))}) for this model, got {tuple(pixel_values.shape)}."
            )
        batch_size = pixel_values.shape[0]
        if self.config.is_audio_visual:
            audio = self.config.audio_config
            if input_values is None:
                raise ValueError(
                    "This is an audio-visual model: pass `input_values`, log-mel fbank frames of shape "
                    f"(batch, {audio.max_length}, {audio.num_mel_bins}) as `ASTFeatureExtractor` makes them."
                )
            if tuple(input_values.shape) != (batch_size, audio.max_length, audio.num_mel_bins):
                raise ValueError(
                    f"`input_values` must be (batch, time, mel bins) = ({batch_size}, {audio.max_length}, "
                    f"{audio.num_mel_bins}) for this model and batch, got {tuple(input_values.shape)}."
                )
        elif input_values is not None:
            raise ValueError("This is a video-only model (`audio_config=None`); it takes no `input_values`.")
        if token_mix is not None:
            mask, partner = token_mix
            slots, height, width = self.config.video_token_grid
            num_tokens = slots * height * width
            if mask.dtype != torch.bool or tuple(mask.shape) != (batch_size, num_tokens):
                raise ValueError(
                    "`token_mix` mask must be bool of shape (batch, video tokens) = "
                    f"({batch_size}, {num_tokens}), got {mask.dtype} {tuple(mask.shape)}."
                )
            if partner.dtype != torch.long or tuple(partner.shape) != (batch_size,):
                raise ValueError(
                    f"`token_mix` partner must be long of shape ({batch_size},), got {partner.dtype} "
                    f"{tuple(partner.shape)}."
                )

    def _check_attention_outputs(self) -> None:
        implementations = {
            "video encoder": self.config.video_config._attn_implementation,
            "fusion": self.config._attn_implementation,
        }
        if self.config.is_audio_visual:
            implementations["audio encoder"] = self.config.audio_config._attn_implementation
        others = {part: name for part, name in implementations.items() if name != "eager"}
        if others:
            raise ValueError(
                f"`output_attentions=True` needs eager attention, which computes the probabilities; this model runs "
                f'{others}. Load it with `attn_implementation="eager"` or call '
                f'`model.set_attn_implementation("eager")`.'
            )

    def _encode_video(
        self,
        pixel_values: torch.Tensor,
        token_mix: TokenMix | None,
        output_hidden_states: bool,
        output_attentions: bool,
    ) -> tuple[torch.Tensor, ModelOutput]:
        """Returns the video summary z_vid^0 `(batch, video_hidden)` and the encoder's outputs."""
        self._token_mix = token_mix
        try:
            outputs = self.video_encoder(
                pixel_values, output_hidden_states=output_hidden_states, output_attentions=output_attentions
            )
        finally:
            self._token_mix = None
        sequence = outputs.last_hidden_state
        if self.config.video_pooling == "cls":
            summary = sequence[:, 0]
        else:
            num_prefix_tokens = 1 if self.config.video_config.model_type == "timesformer" else 0
            summary = sequence[:, num_prefix_tokens:].mean(dim=1)
        return self.video_layernorm(summary), outputs

    def forward(
        self,
        pixel_values: torch.Tensor,
        input_values: torch.Tensor | None = None,
        token_mix: TokenMix | None = None,
        output_hidden_states: HiddenStateSelection | None = None,
        output_attentions: bool | None = None,
        return_dict: bool | None = None,
    ) -> AVSSLModelOutput | tuple:
        r"""
        pixel_values (`torch.FloatTensor` of shape `(batch_size, num_frames, num_channels, height, width)`):
            Normalised video frames, as a VideoMAE video processor makes them.
        input_values (`torch.FloatTensor` of shape `(batch_size, max_length, num_mel_bins)`, *optional*):
            Log-mel fbank frames as `ASTFeatureExtractor` makes them; required by audio-visual models, refused by
            video-only ones.
        token_mix (`tuple(torch.BoolTensor, torch.LongTensor)`, *optional*):
            `(mask, partner)`: `mask` of shape `(batch_size, num_video_tokens)` is True where a clip keeps its own
            patch token; elsewhere the token of clip `partner[b]` (shape `(batch_size,)`) of the same batch is used.
            Mixing happens right after the patch embedding, before position embeddings and CLS tokens.
        output_hidden_states (`bool`, `int` or `list[int]`, *optional*):
            Return both encoders' hidden states: `True` for all of them, an index or a list of indices (negative
            ones from the end, as in `hidden_states[-1]`) for those alone, with `None` in place of the others.
            Defaults to `config.output_hidden_states`.
        output_attentions (`bool`, *optional*):
            Return the attention probabilities of the video encoder, the audio encoder and the fusion layers; needs
            eager attention. Defaults to `config.output_attentions`.
        """
        self._check_inputs(pixel_values, input_values, token_mix)
        output_hidden_states = (
            output_hidden_states if output_hidden_states is not None else self.config.output_hidden_states
        )
        output_attentions = output_attentions if output_attentions is not None else self.config.output_attentions
        return_dict = return_dict if return_dict is not None else self.config.return_dict
        if output_attentions:
            self._check_attention_outputs()
        encoder_outputs = {
            "output_hidden_states": wants_hidden_states(output_hidden_states),
            "output_attentions": output_attentions,
        }

        video_embeds, video_outputs = self._encode_video(pixel_values, token_mix, **encoder_outputs)
        audio_embeds = audio_hidden_states = audio_attentions = fusion_attentions = None
        if self.config.is_audio_visual:
            audio_outputs = self.audio_encoder(input_values, **encoder_outputs)
            audio_embeds = audio_outputs.last_hidden_state[:, 0]
            audio_hidden_states = select_hidden_states(audio_outputs.hidden_states, output_hidden_states)
            audio_attentions = audio_outputs.attentions
            pooler_output, fusion_attentions = self.fusion(video_embeds, audio_embeds)
        else:
            pooler_output = video_embeds

        output = AVSSLModelOutput(
            pooler_output=pooler_output,
            video_embeds=video_embeds,
            audio_embeds=audio_embeds,
            video_hidden_states=select_hidden_states(video_outputs.hidden_states, output_hidden_states),
            audio_hidden_states=audio_hidden_states,
            video_attentions=video_outputs.attentions,
            audio_attentions=audio_attentions,
            fusion_attentions=fusion_attentions if output_attentions else None,
        )
        return output if return_dict else output.to_tuple()


class AVSSLForVideoClassification(AVSSLPreTrainedModel):
    """AVSSL with a linear classification head on the fused clip representation."""

    def __init__(
        self,
        config: AVSSLConfig,
        video_encoder: PreTrainedModel | None = None,
        audio_encoder: PreTrainedModel | None = None,
    ):
        super().__init__(config)
        self.num_labels = config.num_labels
        self.avssl = AVSSLModel(config, video_encoder=video_encoder, audio_encoder=audio_encoder)
        self.dropout = nn.Dropout(config.classifier_dropout)
        self.classifier = nn.Linear(self.avssl.hidden_size, config.num_labels)
        self.post_init()

    def save_pretrained(self, save_directory: str | os.PathLike, *args, **kwargs) -> None:
        """`PreTrainedModel.save_pretrained`. With remote code, the `auto_map` also names `AVSSLModel` for `AutoModel`
        (the encoders and fusion without the head), and where this file sits beside the pipeline's files (in the
        package) they are copied too and `config.custom_pipelines` names the pipeline for `video-classification`
        (a model loaded as remote code has no pipeline files beside it and saves none)."""
        if self._auto_class is not None:
            base = f"{AVSSLModel.__module__.split('.')[-1]}.{AVSSLModel.__name__}"
            self.config.auto_map = {**(getattr(self.config, "auto_map", None) or {}), "AutoModel": base}
            here = os.path.dirname(os.path.abspath(__file__))
            pipeline_files = [os.path.join(here, name) for name in PIPELINE_FILES]
            carries_pipeline = all(os.path.exists(path) for path in pipeline_files)
            self.config.custom_pipelines = {"video-classification": PIPELINE} if carries_pipeline else {}
            if carries_pipeline and kwargs.get("is_main_process", True):
                os.makedirs(save_directory, exist_ok=True)
                for path in pipeline_files:
                    shutil.copy(path, save_directory)
        super().save_pretrained(save_directory, *args, **kwargs)

    def forward(
        self,
        pixel_values: torch.Tensor,
        input_values: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        token_mix: TokenMix | None = None,
        output_hidden_states: HiddenStateSelection | None = None,
        output_attentions: bool | None = None,
        return_dict: bool | None = None,
    ) -> AVSSLVideoClassifierOutput | tuple:
        r"""
        pixel_values (`torch.FloatTensor` of shape `(batch_size, num_frames, num_channels, height, width)`):
            Normalised video frames.
        input_values (`torch.FloatTensor` of shape `(batch_size, max_length, num_mel_bins)`, *optional*):
            Log-mel fbank frames; required by audio-visual models.
        labels (`torch.LongTensor` of shape `(batch_size,)`, *optional*):
            Class indices; when given, `loss` is the mean cross-entropy.
        token_mix (`tuple(torch.BoolTensor, torch.LongTensor)`, *optional*):
            `(mask, partner)` token mixup of the video tokens, see [`AVSSLModel.forward`].
        output_hidden_states (`bool`, `int` or `list[int]`, *optional*), output_attentions (`bool`, *optional*):
            See [`AVSSLModel.forward`].
        """
        return_dict = return_dict if return_dict is not None else self.config.return_dict
        outputs = self.avssl(
            pixel_values,
            input_values=input_values,
            token_mix=token_mix,
            output_hidden_states=output_hidden_states,
            output_attentions=output_attentions,
            return_dict=True,
        )
        logits = self.classifier(self.dropout(outputs.pooler_output))
        loss = nn.functional.cross_entropy(logits, labels) if labels is not None else None
        output = AVSSLVideoClassifierOutput(
            loss=loss,
            logits=logits,
            video_embeds=outputs.video_embeds,
            audio_embeds=outputs.audio_embeds,
            video_hidden_states=outputs.video_hidden_states,
            audio_hidden_states=outputs.audio_hidden_states,
            video_attentions=outputs.video_attentions,
            audio_attentions=outputs.audio_attentions,
            fusion_attentions=outputs.fusion_attentions,
        )
        return output if return_dict else output.to_tuple()


__all__ = [
    "AVSSLForVideoClassification",
    "AVSSLModel",
    "AVSSLModelOutput",
    "AVSSLPreTrainedModel",
    "AVSSLVideoClassifierOutput",
]
