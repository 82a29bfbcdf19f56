"""One student forward over the labeled, strong and mixed clips of a step (docs/training.md, "One student pass").

The three batches of a step go through the student as one concatenated batch: one launch of every layer at
B_l + 2 B_u instead of three at B_l, B_u and B_u. Nothing in the model mixes samples except the token mixup, which
becomes one `(mask, partner)` over the whole batch that keeps every token of the parts without a mix, so each part's
outputs are those of its own forward (up to float rounding; dropout draws differ).
"""

from dataclasses import dataclass

import torch

from ..modeling_avssl import AVSSLVideoClassifierOutput, TokenMix


@dataclass
class Part:
    """One batch of the step: `pixel_values` `(b, T, C, H, W)`, `input_values` `(b, time, mel)` or None for a
    video-only model, and the part's own token mixup `(mask (b, N), partner (b,))` with partners inside the part."""

    pixel_values: torch.Tensor
    input_values: torch.Tensor | None = None
    token_mix: TokenMix | None = None


def joint_token_mix(parts: list[Part]) -> TokenMix | None:
    """The parts' token mixups as one over their concatenation: bool `(sum b, N)` and long `(sum b,)`. A part
    without a mixup keeps all its tokens (its rows are their own partners); a part's partners are moved by the
    part's offset. None when no part mixes."""
    mixes = [part.token_mix for part in parts if part.token_mix is not None]
    if not mixes:
        return None
    num_tokens = mixes[0][0].shape[1]
    masks, partners, offset = [], [], 0
    for part in parts:
        size, device = len(part.pixel_values), part.pixel_values.device
        if part.token_mix is None:
            masks.append(torch.ones(size, num_tokens, dtype=torch.bool, device=device))
            partners.append(torch.arange(size, device=device))
        else:
            masks.append(part.token_mix[0])
            partners.append(part.token_mix[1])
        partners[-1] = partners[-1] + offset
        offset += size
    return torch.cat(masks), torch.cat(partners)


def joint_forward(model, parts: list[Part]) -> list[AVSSLVideoClassifierOutput]:
    """`model` (an `AVSSLForVideoClassification`, wrapped or not) once over the concatenated parts; returns each
    part's `logits`, `video_embeds` and `audio_embeds` in the parts' order."""
    sizes = [len(part.pixel_values) for part in parts]
    pixel_values = torch.cat([part.pixel_values for part in parts])
    audio = None if parts[0].input_values is None else torch.cat([part.input_values for part in parts])
    joint = model(pixel_values, audio, token_mix=joint_token_mix(parts))
    fields = {name: getattr(joint, name) for name in ("logits", "video_embeds", "audio_embeds")}
    splits = {name: value.split(sizes) if value is not None else [None] * len(sizes) for name, value in fields.items()}
    return [AVSSLVideoClassifierOutput(**{name: splits[name][i] for name in fields}) for i in range(len(sizes))]
