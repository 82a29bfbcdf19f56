"""The loss terms against values computed by hand."""

import math

import pytest
import torch

from modeling_avssl.method.losses import contrastive_loss, mix_loss, svformer_mix_loss, unlabeled_loss


def test_unlabeled_loss_is_the_masked_cross_entropy_averaged_over_the_whole_batch():
    logits = torch.tensor([[0.0, math.log(3.0)], [math.log(2.0), 0.0]])  # softmax (1/4, 3/4) and (2/3, 1/3)
    labels = torch.tensor([1, 1])
    expected = (-math.log(3 / 4) + 0 * -math.log(1 / 3)) / 2
    assert unlabeled_loss(logits, labels, torch.tensor([1.0, 0.0])).item() == pytest.approx(expected)
    assert unlabeled_loss(logits, labels, torch.zeros(2)).item() == 0


def test_mix_loss_is_the_masked_squared_distance_of_probabilities():
    logits = torch.tensor([[0.0, math.log(3.0)], [0.0, 0.0]])  # softmax (1/4, 3/4) and (1/2, 1/2)
    targets = torch.tensor([[0.5, 0.5], [1.0, 0.0]])
    first, second = (0.25**2 + 0.25**2), (0.5**2 + 0.5**2)
    assert mix_loss(logits, targets, torch.tensor([1.0, 1.0])).item() == pytest.approx((first + second) / 2)
    assert mix_loss(logits, targets, torch.tensor([0.0, 1.0])).item() == pytest.approx(second / 2)


def test_contrastive_loss_follows_eq_14_to_18():
    video = torch.tensor([[2.0, 0.0], [0.0, 3.0]])  # normalised: e1, e2
    audio = torch.tensor([[1.0, 1.0], [0.0, 5.0]])  # normalised: (1, 1)/sqrt2, e2
    s = torch.tensor([[1 / math.sqrt(2), 1 / math.sqrt(2)], [0.0, 1.0]]) / 0.05  # S = Z_aud Z_vid^T / 0.05
    nce1 = -(s[0, 0] - torch.logsumexp(s[0], 0) + s[1, 1] - torch.logsumexp(s[1], 0)) / 2  # rows: audio -> videos
    nce2 = -(s[0, 0] - torch.logsumexp(s[:, 0], 0) + s[1, 1] - torch.logsumexp(s[:, 1], 0)) / 2
    assert contrastive_loss(video, audio).item() == pytest.approx(((nce1 + nce2) / 2).item(), rel=1e-6)


def test_contrastive_loss_is_low_for_matched_pairs_and_ignores_scale():
    embeds = torch.eye(4)
    assert contrastive_loss(embeds, 3 * embeds).item() < 1e-6
    assert contrastive_loss(embeds, embeds.roll(1, dims=0)).item() > 10


def test_svformer_mix_loss_takes_hard_targets_where_confident_and_weighs_by_lambda():
    logits = torch.tensor([[1.0, 0.0], [0.0, 2.0]])
    probs = torch.tensor([[0.9, 0.1], [0.4, 0.6]])
    confident = torch.tensor([1.0, 0.0])
    partner, lam = torch.tensor([1, 0]), torch.tensor([0.25, 0.5])
    targets = torch.tensor([[1.0, 0.0], [0.4, 0.6]])  # one-hot where confident, the distribution otherwise
    first = 0.25 * targets[0] + 0.75 * targets[1]
    second = 0.5 * targets[1] + 0.5 * targets[0]
    weights = [0.25 * 1 + 0.75 * 0, 0.5 * 0 + 0.5 * 1]
    expected = (weights[0] * ((logits[0] - first) ** 2).mean() + weights[1] * ((logits[1] - second) ** 2).mean()) / 2
    assert svformer_mix_loss(logits, probs, confident, partner, lam).item() == pytest.approx(expected.item())
    assert svformer_mix_loss(logits, probs, torch.zeros(2), partner, lam).item() == 0
