"""FlexMatch's and FixMatch's thresholds against hand-computed values, and the order in which FlexMatch updates."""

import pytest
import torch

from modeling_avssl.method.thresholds import FixedThreshold, FlexMatchThresholds


def probs_of(*rows):
    return torch.tensor(rows, dtype=torch.float)


def test_the_fixed_threshold_keeps_confident_predictions():
    mask = FixedThreshold(0.6).mask(probs_of([0.7, 0.3], [0.5, 0.5], [0.4, 0.6]), torch.arange(3))
    assert mask.tolist() == [1.0, 0.0, 1.0]
    assert FixedThreshold(0.6).class_thresholds().tolist() == pytest.approx([0.6])


def test_an_empty_record_gives_zero_thresholds_so_every_sample_counts():
    thresholds = FlexMatchThresholds(num_classes=3, num_samples=8, tau=0.8)
    assert thresholds.class_thresholds().tolist() == [0.0, 0.0, 0.0]
    assert thresholds.mask(probs_of([0.4, 0.3, 0.3]), torch.tensor([0])).tolist() == [1.0]


def test_a_partial_record_is_normalised_by_the_unused_samples_during_warm_up():
    thresholds = FlexMatchThresholds(num_classes=3, num_samples=8, tau=0.8)
    thresholds.record[:3] = torch.tensor([0, 0, 1])  # sigma = (2, 1, 0); 5 unused samples
    beta = torch.tensor([2 / 5, 1 / 5, 0.0])
    assert torch.allclose(thresholds.learning_effects(), beta)
    assert torch.allclose(thresholds.class_thresholds(), 0.8 * beta / (2 - beta))  # 0.2, 0.0889, 0

    without_warmup = FlexMatchThresholds(num_classes=3, num_samples=8, tau=0.8, warmup=False)
    without_warmup.record[:3] = torch.tensor([0, 0, 1])
    assert torch.allclose(without_warmup.learning_effects(), torch.tensor([1.0, 0.5, 0.0]))


def test_a_full_record_is_normalised_by_the_largest_class():
    thresholds = FlexMatchThresholds(num_classes=2, num_samples=4, tau=0.9)
    thresholds.record[:] = torch.tensor([0, 0, 0, 1])
    beta = torch.tensor([1.0, 1 / 3])
    assert torch.allclose(thresholds.class_thresholds(), 0.9 * beta / (2 - beta))  # 0.9 for the learnt class


def test_a_batch_is_masked_with_the_record_before_it_then_recorded_where_confident():
    thresholds = FlexMatchThresholds(num_classes=2, num_samples=4, tau=0.7)
    batch = probs_of([0.9, 0.1], [0.6, 0.4], [0.2, 0.8])
    mask = thresholds.mask(batch, torch.tensor([0, 1, 2]))

    assert mask.tolist() == [1.0, 1.0, 1.0]  # thresholds were all 0
    assert thresholds.record.tolist() == [0, -1, 1, -1]  # sample 1 (0.6 < tau) is not recorded
    # now sigma = (1, 1), 2 unused: beta = (1/2, 1/2), threshold 0.7 * (1/2) / (3/2) = 0.2333
    assert thresholds.mask(probs_of([0.55, 0.45], [0.2, 0.8]), torch.tensor([1, 3])).tolist() == [1.0, 1.0]
    assert thresholds.record.tolist() == [0, -1, 1, 1]
    assert thresholds.mask(probs_of([0.2, 0.8]), torch.tensor([0])).tolist() == [1.0]
    assert thresholds.record.tolist() == [1, -1, 1, 1]  # a later confident prediction replaces the earlier one


def test_the_record_round_trips_through_a_state_dict():
    thresholds = FlexMatchThresholds(num_classes=2, num_samples=4, tau=0.7)
    thresholds.record[1] = 1
    restored = FlexMatchThresholds(num_classes=2, num_samples=4, tau=0.7)
    restored.load_state_dict(thresholds.state_dict())
    assert restored.record.tolist() == [-1, 1, -1, -1]
    with pytest.raises(ValueError, match="4 samples; this run has 5"):
        FlexMatchThresholds(2, 5, 0.7).load_state_dict(thresholds.state_dict())


def test_a_sample_twice_in_a_batch_keeps_its_last_confident_prediction_on_the_records_device(device):
    thresholds = FlexMatchThresholds(num_classes=2, num_samples=4, tau=0.7).to(device)
    batch = probs_of([0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.8, 0.2]).to(device)  # the third is not confident
    mask = thresholds.mask(batch, torch.tensor([1, 1, 1, 3], device=device))
    assert mask.device.type == thresholds.record.device.type == device.type
    assert thresholds.record.tolist() == [-1, 1, -1, 0]
    assert FixedThreshold(0.5).to(device).class_thresholds().device.type == device.type
