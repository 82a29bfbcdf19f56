"""Behaviour of the `video_accuracy` metric that every test of a run reports: accuracy, the confusion matrix, each
class's accuracy and the calibration of the top probability."""

import evaluate
import pytest

from modeling_avssl.method.trainer import METRIC_PATH


@pytest.fixture(scope="module")
def metric():
    return evaluate.load(METRIC_PATH)


# four videos of three classes: right (0.95), wrong (0.62), right and wrong at 0.75; no video of class 2
PREDICTIONS = [[0.95, 0.03, 0.02], [0.62, 0.3, 0.08], [0.15, 0.75, 0.10], [0.1, 0.15, 0.75]]
REFERENCES = [0, 1, 1, 0]


def test_the_confusion_matrix_counts_true_classes_by_row_and_predicted_ones_by_column(metric):
    scores = metric.compute(predictions=PREDICTIONS, references=REFERENCES)
    assert scores["confusion_matrix"] == [[1, 0, 1], [1, 1, 0], [0, 0, 0]]
    assert scores["per_class_accuracy"] == [0.5, 0.5, None]  # a class without a test video has none
    assert (scores["top1"], scores["top5"]) == (0.5, 1.0)


def test_the_calibration_error_weighs_each_bins_gap_by_its_videos(metric):
    scores = metric.compute(predictions=PREDICTIONS, references=REFERENCES)
    assert scores["ece"] == pytest.approx((0.05 + 0.62 + 2 * 0.25) / 4, abs=1e-6)
    bins = scores["reliability"]
    assert len(bins["count"]) == 15 and sum(bins["count"]) == 4
    filled = {i: (bins["count"][i], bins["confidence"][i], bins["accuracy"][i]) for i in (9, 11, 14)}
    assert filled[11][0] == 2 and filled[11][1] == pytest.approx(0.75) and filled[11][2] == 0.5
    assert filled[9][2] == 0.0 and filled[14][2] == 1.0
    assert all(bins["accuracy"][i] is None for i in range(15) if i not in filled)


def test_a_perfectly_confident_right_model_is_calibrated(metric):
    scores = metric.compute(predictions=[[1.0, 0.0], [0.0, 1.0]], references=[0, 1])
    assert scores["ece"] == 0.0 and scores["reliability"]["count"][-1] == 2  # a confidence of 1 is in the last bin
