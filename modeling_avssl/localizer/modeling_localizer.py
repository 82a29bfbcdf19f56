"""AVSSLLocalizer: the EZ-VSL / FNAC two-stream audio source localizer and its self-supervised losses.

The localization map is the cosine similarity of the clip's audio embedding with the visual embedding at each
position of the 7x7 feature map (FNAC's map; paper Eq. 11-12 read as docs/design.md 5.4 says). Module names follow
torchvision's ResNet-18, so EZ-VSL / FNAC checkpoints (`imgnet.*`, `img_proj.*`, `audnet.*`, `aud_proj.*`) map onto
this model by renaming their prefixes (see `localizer/convert.py`).
"""

from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F
from torchvision.models import resnet18
from transformers import PreTrainedModel
from transformers import initialization as init
from transformers.utils import ModelOutput

from ..configuration_avssl import AVSSLLocalizerConfig


@dataclass
class AVSSLLocalizerOutput(ModelOutput):
    r"""
    loss (`torch.FloatTensor` of shape `()`, *optional*):
        The weighted training loss, when `return_loss=True`.
    loss_terms (`dict[str, torch.FloatTensor]`, *optional*):
        Its unweighted terms: `contrastive` (EZ-VSL), `fns1`, `tns`, `fns2` (FNAC).
    maps (`torch.FloatTensor` of shape `(batch_size, [frames,] height, width)`):
        Cosine similarity of the audio embedding with the visual embedding at each position.
    image_embeds (`torch.FloatTensor` of shape `(batch_size, [frames,] embed_dim, height, width)`):
        L2-normalised visual embeddings.
    audio_embeds (`torch.FloatTensor` of shape `(batch_size, embed_dim)`):
        L2-normalised audio embeddings.
    """

    loss: torch.FloatTensor | None = None
    loss_terms: dict[str, torch.FloatTensor] | None = None
    maps: torch.FloatTensor | None = None
    image_embeds: torch.FloatTensor | None = None
    audio_embeds: torch.FloatTensor | None = None


def _resnet18_trunk(in_channels: int, stages: int = 4) -> nn.Module:
    """torchvision's ResNet-18 without its pooling and classifier, keeping its first `stages` residual stages (the
    dropped modules hold no weights once replaced)."""
    net = resnet18()
    if in_channels != 3:
        net.conv1 = nn.Conv2d(in_channels, 64, kernel_size=7, stride=2, padding=3, bias=False)
    net.avgpool, net.fc = nn.Identity(), nn.Identity()
    for stage in range(stages + 1, 5):
        setattr(net, f"layer{stage}", nn.Identity())
    return net


def _feature_map(net: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """The last kept residual stage's output `(batch, channels, h, w)` of a ResNet trunk."""
    x = net.maxpool(net.relu(net.bn1(net.conv1(x))))
    return net.layer4(net.layer3(net.layer2(net.layer1(x))))


def stage_channels(stages: int) -> int:
    """Channels of ResNet-18's output after `stages` residual stages (64 doubling per stage after the first)."""
    return 64 * 2 ** (stages - 1)


def localization_losses(
    image_embeds: torch.Tensor,
    audio_embeds: torch.Tensor,
    temperature: float,
    foreground_threshold: float,
    pooling: str = "max",
) -> dict[str, torch.Tensor]:
    """EZ-VSL's multiple-instance contrastive loss and FNAC's FNS-1, TNS and FNS-2 terms for one frame per clip.

    `image_embeds` `(batch, dim, h, w)` and `audio_embeds` `(batch, dim)`, both L2-normalised. Pair i's audio and
    frame are positives; a clip's score with an audio is the best match over its positions (`pooling="max"`,
    EZ-VSL), or the match of its mean visual embedding (`"mean"`: every position gets a gradient, a warm-up for
    encoders trained from scratch, whose best match at first is wherever the untrained features happen to point).
    """
    batch = image_embeds.shape[0]
    similarity = torch.einsum("nchw,mc->nmhw", image_embeds, audio_embeds) / temperature
    if pooling == "max":
        logits = similarity.flatten(2).max(dim=2).values  # (frames, audios)
    elif pooling == "mean":
        logits = F.normalize(image_embeds.mean(dim=(2, 3)), dim=1) @ audio_embeds.T / temperature
    else:
        raise ValueError(f"`pooling` must be 'max' or 'mean', got {pooling!r}.")
    targets = torch.arange(batch, device=logits.device)
    contrastive = F.cross_entropy(logits, targets) + F.cross_entropy(logits.T, targets)

    own_maps = similarity[targets, targets]  # (batch, h, w)
    low = own_maps.amin(dim=(1, 2), keepdim=True)
    normalised = (own_maps - low) / (own_maps.amax(dim=(1, 2), keepdim=True) - low + 1e-5)
    foreground = (image_embeds * (normalised > foreground_threshold).unsqueeze(1)).flatten(2).mean(dim=2)
    pooled = image_embeds.mean(dim=(2, 3))

    def affinity(features: torch.Tensor) -> torch.Tensor:
        return torch.softmax(features @ features.T / temperature, dim=1)

    audio_affinity, scores = affinity(audio_embeds), torch.softmax(logits, dim=1)
    return {
        "contrastive": contrastive,
        "fns1": F.l1_loss(audio_affinity, scores),
        "tns": F.l1_loss(audio_affinity, affinity(foreground)),
        "fns2": F.l1_loss(affinity(pooled), scores),
    }


class AVSSLLocalizer(PreTrainedModel):
    """Frames and a spectrogram in; normalised embeddings and localization maps out."""

    config: AVSSLLocalizerConfig
    config_class = AVSSLLocalizerConfig
    base_model_prefix = "localizer"
    main_input_name = "pixel_values"

    def __init__(self, config: AVSSLLocalizerConfig):
        super().__init__(config)
        self.visual_encoder = _resnet18_trunk(3, config.visual_stages)
        self.visual_dropout = nn.Dropout(config.visual_dropout)
        self.visual_projection = nn.Conv2d(stage_channels(config.visual_stages), config.embed_dim, kernel_size=1)
        self.audio_encoder = _resnet18_trunk(1, config.audio_stages)
        self.audio_dropout = nn.Dropout(config.audio_dropout)
        self.audio_projection = nn.Linear(stage_channels(config.audio_stages), config.embed_dim)
        self.post_init()

    @torch.no_grad()
    def _init_weights(self, module: nn.Module) -> None:
        """FNAC's scheme: Kaiming convolutions, truncated-normal (0.01) linear layers, near-unit batch norms."""
        if isinstance(module, nn.Conv2d):
            init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
            if module.bias is not None:
                init.zeros_(module.bias)
        elif isinstance(module, nn.Linear):
            init.trunc_normal_(module.weight, std=0.01)
            init.zeros_(module.bias)
        elif isinstance(module, nn.BatchNorm2d):
            init.normal_(module.weight, mean=1.0, std=0.02)
            init.zeros_(module.bias)

    def embed_images(self, pixel_values: torch.Tensor) -> torch.Tensor:
        """`(batch, 3, H, W)` -> L2-normalised `(batch, embed_dim, H/s, W/s)`, s = 32 with all four stages (2 less
        per stage dropped)."""
        features = self.visual_dropout(_feature_map(self.visual_encoder, pixel_values))
        return F.normalize(self.visual_projection(features), dim=1)

    def embed_audio(self, spectrogram: torch.Tensor) -> torch.Tensor:
        """`(batch, 1, freq, time)` -> L2-normalised `(batch, embed_dim)` (global max pooling over the map)."""
        features = _feature_map(self.audio_encoder, spectrogram).amax(dim=(2, 3))
        return F.normalize(self.audio_projection(self.audio_dropout(features)), dim=1)

    def forward(
        self, pixel_values: torch.Tensor, spectrogram: torch.Tensor, return_loss: bool = False
    ) -> AVSSLLocalizerOutput:
        r"""
        pixel_values (`torch.FloatTensor` of shape `(batch_size, 3, H, W)` or `(batch_size, frames, 3, H, W)`):
            Normalised frames, one per clip or several.
        spectrogram (`torch.FloatTensor` of shape `(batch_size, freq, time)` or `(batch_size, 1, freq, time)`):
            The audio features named by `config.audio_features`.
        return_loss (`bool`, *optional*):
            Also compute the self-supervised loss (needs one frame per clip).
        """
        if pixel_values.dim() not in (4, 5) or pixel_values.shape[-3] != 3:
            raise ValueError(
                "`pixel_values` must be frames (batch, 3, H, W) or clips (batch, frames, 3, H, W), "
                f"got {tuple(pixel_values.shape)}."
            )
        if spectrogram.dim() == 3:
            spectrogram = spectrogram.unsqueeze(1)
        if spectrogram.dim() != 4 or spectrogram.shape[1] != 1 or len(spectrogram) != len(pixel_values):
            raise ValueError(
                f"`spectrogram` must be (batch, freq, time) or (batch, 1, freq, time) with batch {len(pixel_values)}, "
                f"got {tuple(spectrogram.shape)}."
            )
        clips = pixel_values.dim() == 5
        frames = pixel_values.flatten(0, 1) if clips else pixel_values
        image_embeds = self.embed_images(frames)
        if clips:
            image_embeds = image_embeds.unflatten(0, pixel_values.shape[:2])
        audio_embeds = self.embed_audio(spectrogram)
        pattern = "btchw,bc->bthw" if clips else "bchw,bc->bhw"
        maps = torch.einsum(pattern, image_embeds, audio_embeds)

        loss = loss_terms = None
        if return_loss:
            if clips:
                raise ValueError("The loss takes one frame per clip: pass `pixel_values` of shape (batch, 3, H, W).")
            config = self.config
            loss_terms = localization_losses(
                image_embeds, audio_embeds, config.temperature, config.foreground_threshold
            )
            loss = (
                loss_terms["contrastive"]
                + config.fns1_weight * loss_terms["fns1"]
                + config.tns_weight * loss_terms["tns"]
                + config.fns2_weight * loss_terms["fns2"]
            )
        return AVSSLLocalizerOutput(
            loss=loss, loss_terms=loss_terms, maps=maps, image_embeds=image_embeds, audio_embeds=audio_embeds
        )


__all__ = ["AVSSLLocalizer", "AVSSLLocalizerOutput", "localization_losses"]
