"""Behaviour of the localization scores (the LVS / EZ-VSL / FNAC evaluator's cIoU, AP50, AUC) and baselines."""

import numpy as np
import pytest

from modeling_avssl.localizer.metrics import box_mask, centre_prior, ciou, summarize, uniform_map, upsample_map


def test_a_map_equal_to_the_box_scores_one_when_it_keeps_the_boxs_share_of_pixels():
    truth = box_mask([[10, 20, 30, 40]], 64, 64)
    assert truth.sum() == 400
    assert ciou(truth.astype(float) + 0.01 * np.random.default_rng(0).random((64, 64)), truth, 400 / 4096) == 1.0


def test_the_evaluators_median_threshold_predicts_half_the_frame():
    truth = box_mask([[0, 0, 64, 32]], 64, 64)  # the top half
    ramp = np.repeat(np.linspace(1, 0, 64)[:, None], 64, axis=1)  # brightest at the top
    assert ciou(ramp, truth) == pytest.approx(1.0)
    assert ciou(ramp[::-1], truth) == pytest.approx(0.0)


def test_a_uniform_map_scores_the_boxs_share_of_the_frame():
    truth = box_mask([[0, 0, 16, 16]], 64, 64)
    assert ciou(uniform_map(64, 64), truth) == pytest.approx(256 / 4096)


def test_the_centre_prior_favours_a_central_box_over_a_corner_one():
    prior = centre_prior(64, 64)
    central, corner = box_mask([[16, 16, 48, 48]], 64, 64), box_mask([[0, 0, 32, 32]], 64, 64)
    assert ciou(prior, central, 0.25) > 0.75 and ciou(prior, corner, 0.25) < 0.25


def test_summary_gives_ap50_auc_and_mean_ciou():
    scores = summarize([0.0, 0.25, 0.5, 1.0])
    assert scores["AP50"] == 0.5 and scores["cIoU"] == pytest.approx(0.4375)
    # success curve: 1 at t=0, 0.75 up to 0.25, 0.5 up to 0.5, 0.25 up to 1 (trapezoids between the 21 thresholds)
    assert scores["AUC"] == pytest.approx(0.45625)


def test_maps_are_upsampled_with_aligned_corners():
    small = np.array([[0.0, 1.0], [2.0, 3.0]])
    large = upsample_map(small, 3, 3)
    assert large.shape == (3, 3) and large[0, 0] == 0.0 and large[-1, -1] == 3.0 and large[1, 1] == pytest.approx(1.5)
