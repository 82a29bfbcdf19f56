"""One student forward over the labeled, strong and mixed clips equals the three forwards it replaces: the same
outputs for every part (the trainer's step has the three-pass step's losses and gradients: test_trainer.py)."""

import pytest
import torch

from modeling_avssl import AVSSLForVideoClassification
from modeling_avssl.method.joint_forward import Part, joint_forward, joint_token_mix
from modeling_avssl.method.mixing import tube_token_mask
from tiny import TINY_TIMESFORMER, make_inputs, make_tiny_config


def separate_forwards(model, parts: list[Part]) -> list:
    """The three-pass step's student: one forward per part."""
    return [model(part.pixel_values, part.input_values, token_mix=part.token_mix) for part in parts]


def three_parts(config, generator: torch.Generator, device: torch.device | str = "cpu") -> list[Part]:
    """A labeled batch of 2 and an unlabeled batch of 4, as the strong and the mixed part, on `device`."""
    labeled, strong = ({k: v.to(device) for k, v in make_inputs(config, n, seed=n).items()} for n in (2, 4))
    audio = strong.get("input_values")
    slots, height, width = config.video_token_grid
    lam = torch.tensor([0.2, 0.5, 0.7, 0.9])
    mask = tube_token_mask(4, slots, height, width, lam, generator).to(device)
    partner = torch.randperm(4, generator=generator).to(device)
    mixed_audio = None if audio is None else 0.5 * audio + 0.5 * audio[partner]
    return [
        Part(labeled["pixel_values"], labeled.get("input_values")),
        Part(strong["pixel_values"], audio),
        Part(strong["pixel_values"], mixed_audio, (mask, partner)),
    ]


def test_a_part_without_a_mix_keeps_its_tokens_and_a_mixed_part_its_partners_moved_by_its_offset():
    mask = torch.tensor([[True, False], [False, True]])
    parts = [Part(torch.zeros(3, 1)), Part(torch.zeros(2, 1), token_mix=(mask, torch.tensor([1, 0])))]
    joint_mask, joint_partner = joint_token_mix(parts)
    assert joint_mask.tolist() == [[True, True]] * 3 + mask.tolist()
    assert joint_partner.tolist() == [0, 1, 2, 4, 3]
    assert joint_token_mix(parts[:1]) is None


@pytest.mark.parametrize(
    "overrides",
    [{}, {"video_config": dict(TINY_TIMESFORMER)}, {"audio_config": None}],
    ids=["videomae", "timesformer", "video-only"],
)
def test_each_part_of_the_joint_forward_is_its_own_forward(overrides, device):
    torch.manual_seed(0)
    model = AVSSLForVideoClassification(make_tiny_config(**overrides)).eval().to(device)
    parts = three_parts(model.config, torch.Generator().manual_seed(0), device)
    # a GPU picks its kernels by batch size (and cuDNN convolutions round as TF32): float32 to a few ulps more
    tolerance = {"rtol": 1e-5, "atol": 1e-6} if device.type == "cpu" else {"rtol": 1e-3, "atol": 1e-4}
    with torch.no_grad():
        joint, separate = joint_forward(model, parts), separate_forwards(model, parts)
    for one, alone in zip(joint, separate):
        torch.testing.assert_close(one.logits, alone.logits, **tolerance)
        torch.testing.assert_close(one.video_embeds, alone.video_embeds, **tolerance)
        if alone.audio_embeds is None:
            assert one.audio_embeds is None
        else:
            torch.testing.assert_close(one.audio_embeds, alone.audio_embeds, **tolerance)
