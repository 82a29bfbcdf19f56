"""Behaviour of the token masks (ASL-guided and TubeToken) and of audio mixup."""

import collections

import numpy as np
import pytest
import torch

from modeling_avssl import AVSSLForVideoClassification
from modeling_avssl.method.mixing import (
    asl_guided_mask,
    maps_to_token_grid,
    mix_audio,
    mixing_partners,
    tube_token_mask,
    tubelet_means,
)
from tiny import make_inputs, make_tiny_config


LAMS = [0.0, 0.01, 0.1, 0.25, 1 / 3, 0.5, 0.77, 0.99, 1.0]


def per_slot(mask: torch.Tensor, slots: int) -> torch.Tensor:
    return mask.view(mask.shape[0], slots, -1)


def keep_frequency(make_mask, draws: int = 400) -> torch.Tensor:
    return torch.stack([make_mask(torch.Generator().manual_seed(s)).float() for s in range(draws)]).mean(0)


@pytest.mark.parametrize("window", [1, 2, 4])
def test_asl_masks_keep_exactly_round_lam_times_tokens_in_every_slot(window):
    lam = torch.tensor(LAMS)
    maps = torch.rand(len(LAMS), 8, 14, 14)
    mask = asl_guided_mask(maps, lam, window=window, generator=torch.Generator().manual_seed(0))
    assert mask.shape == (len(LAMS), 8 * 14 * 14) and mask.dtype == torch.bool
    expected = torch.round(lam * 196).long().view(-1, 1).expand(-1, 8)
    assert torch.equal(per_slot(mask, 8).sum(-1), expected)


def test_tube_token_masks_keep_exactly_round_lam_times_tokens_and_are_equal_across_slots():
    lam = torch.tensor(LAMS)
    mask = per_slot(tube_token_mask(len(LAMS), 8, 14, 14, lam, generator=torch.Generator().manual_seed(0)), 8)
    assert torch.equal(mask.sum(-1), torch.round(lam * 196).long().view(-1, 1).expand(-1, 8))
    assert all(torch.equal(mask[:, 0], mask[:, slot]) for slot in range(8))


def test_a_tokens_keep_frequency_rises_with_its_map_value():
    ramp = torch.linspace(0, 1, 16).view(1, 1, 4, 4)  # token i has map value i / 15
    frequency = keep_frequency(lambda g: asl_guided_mask(ramp, torch.tensor([0.25]), generator=g), draws=2000)[0]
    quarters = frequency.view(4, 4).mean(1)  # rows of increasing map value
    assert (quarters.diff() > 0.05).all(), quarters
    assert frequency.sum() == pytest.approx(4.0)


@pytest.mark.parametrize("make_mask", ["asl-constant-map", "tube"])
def test_constant_maps_and_tube_tokens_give_uniform_keep_frequency(make_mask):
    lam = torch.tensor([0.3])
    if make_mask == "tube":
        frequency = keep_frequency(lambda g: tube_token_mask(1, 2, 5, 5, lam, generator=g), draws=2000)
    else:
        constant = torch.full((1, 2, 5, 5), 0.7)
        frequency = keep_frequency(lambda g: asl_guided_mask(constant, lam, generator=g), draws=2000)
    assert frequency.min() > 0.3 - 0.06 and frequency.max() < 0.3 + 0.06


def test_the_window_averages_adjacent_slots_and_shares_their_mask():
    left, right = torch.zeros(4, 4), torch.zeros(4, 4)
    left[:, :2], right[:, 2:] = 1.0, 1.0
    maps = torch.stack([left, right, left, right]).unsqueeze(0)  # slots alternate between the two halves
    lam = torch.tensor([0.5])

    own = keep_frequency(lambda g: per_slot(asl_guided_mask(maps, lam, window=1, generator=g), 4))[0]
    paired = keep_frequency(lambda g: per_slot(asl_guided_mask(maps, lam, window=2, generator=g), 4))[0]
    shared = per_slot(asl_guided_mask(maps, lam, window=2, generator=torch.Generator().manual_seed(1)), 4)[0]

    assert own[0].view(4, 4)[:, :2].mean() > 0.9 and own[1].view(4, 4)[:, 2:].mean() > 0.9
    assert paired[0].view(4, 4)[:, :2].mean() == pytest.approx(0.5, abs=0.08)  # averaged map: no side preferred
    assert torch.equal(shared[0], shared[1]) and torch.equal(shared[2], shared[3])


def test_a_window_that_does_not_divide_the_slots_is_refused():
    with pytest.raises(ValueError, match=r"`window` \(3\) must divide the number of temporal slots \(8\)"):
        asl_guided_mask(torch.rand(1, 8, 4, 4), torch.tensor([0.5]), window=3)


def test_masks_follow_the_generator():
    maps, lam = torch.rand(2, 8, 14, 14), torch.tensor([0.4, 0.6])
    first = asl_guided_mask(maps, lam, generator=torch.Generator().manual_seed(5))
    assert torch.equal(first, asl_guided_mask(maps, lam, generator=torch.Generator().manual_seed(5)))
    assert not torch.equal(first, asl_guided_mask(maps, lam, generator=torch.Generator().manual_seed(6)))


def test_maps_are_averaged_over_each_tubelet_and_resized_to_the_token_grid():
    maps = torch.tensor([1.0, 1.0, 3.0, 5.0]).view(1, 4, 1, 1).expand(1, 4, 7, 7)
    grid = maps_to_token_grid(maps, tubelet=2, grid=(14, 14))
    assert grid.shape == (1, 2, 14, 14)
    torch.testing.assert_close(grid[0, :, 0, 0], torch.tensor([1.0, 4.0]))

    peak = torch.zeros(1, 2, 7, 7)
    peak[:, :, 1, 5] = 1.0
    resized = maps_to_token_grid(peak, tubelet=2, grid=(14, 14))[0, 0]
    row, column = divmod(int(resized.argmax()), 14)
    assert (row // 2, column // 2) == (1, 5)  # the hot spot stays where it was
    with pytest.raises(ValueError, match="5 frames do not split into tubelets of 2"):
        maps_to_token_grid(torch.rand(1, 5, 7, 7), tubelet=2, grid=(14, 14))


def test_audio_mixup_interpolates_with_the_partner_by_lam():
    features = torch.randn(3, 64, 32)
    partner = torch.tensor([1, 2, 0])
    mixed = mix_audio(features, partner, torch.tensor([1.0, 0.0, 0.25]))
    torch.testing.assert_close(mixed[0], features[0])
    torch.testing.assert_close(mixed[1], features[2])
    torch.testing.assert_close(mixed[2], 0.25 * features[2] + 0.75 * features[0])


def test_masks_fit_the_models_token_mix():
    config = make_tiny_config()
    slots, height, width = config.video_token_grid
    lam = torch.tensor([0.3, 0.6, 0.9])
    model = AVSSLForVideoClassification(config).eval()
    for mask in (
        asl_guided_mask(torch.rand(3, slots, height, width), lam),
        tube_token_mask(3, slots, height, width, lam),
    ):
        assert model(**make_inputs(config), token_mix=(mask, torch.tensor([1, 2, 0]))).logits.shape == (3, 3)


def test_tubelet_means_average_the_frames_of_each_tubelet():
    frames = torch.arange(2 * 4 * 3 * 2 * 2, dtype=torch.float32).reshape(2, 4, 3, 2, 2)
    means = tubelet_means(frames, 2)
    assert means.shape == (2, 2, 3, 2, 2)
    torch.testing.assert_close(means[:, 1], (frames[:, 2] + frames[:, 3]) / 2)
    with pytest.raises(ValueError, match="4 frames do not split into tubelets of 3"):
        tubelet_means(frames, 3)


def test_masks_are_drawn_on_the_device_of_their_inputs(device):
    generator = torch.Generator(device).manual_seed(0)
    lam = torch.tensor([0.25, 0.5], device=device)
    asl = asl_guided_mask(torch.rand(2, 4, 7, 7, device=device), lam, window=2, generator=generator)
    tube = tube_token_mask(2, 4, 7, 7, lam, generator=generator)
    for mask in (asl, tube):
        assert mask.device.type == device.type
        assert per_slot(mask, 4).sum(-1).tolist() == [[12] * 4, [24] * 4]  # round(0.25 * 49), round(0.5 * 49)


def test_no_clip_is_its_own_mixing_partner_and_every_such_permutation_is_as_likely():
    rng = np.random.default_rng(0)
    for batch in range(2, 9):
        for _ in range(50):
            partners = mixing_partners(batch, rng)
            assert sorted(partners) == list(range(batch)) and (partners != np.arange(batch)).all()
    drawn = collections.Counter(tuple(mixing_partners(4, rng)) for _ in range(9000))
    assert len(drawn) == 9 and min(drawn.values()) > 850 and max(drawn.values()) < 1150  # 4 clips: 9 derangements
    assert mixing_partners(1, rng).tolist() == [0]
