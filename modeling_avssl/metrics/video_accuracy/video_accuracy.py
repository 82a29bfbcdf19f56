"""Accuracy and calibration of video classification from class probabilities, as an `evaluate` metric.

metric = evaluate.load("modeling_avssl/metrics/video_accuracy")
metric.compute(predictions=[[0.1, 0.7, 0.2], ...], references=[1, ...])
# {"top1", "top5", "ece", "per_class_accuracy", "confusion_matrix", "reliability"}
"""

import datasets
import evaluate
import numpy as np


NUM_BINS = 15  # of the expected calibration error, as Guo et al. (2017) measure it


class VideoAccuracy(evaluate.Metric):
    """Of videos given by their class probabilities (the columns are the classes, in order):
    - `top1`, `top5`: the share whose label is the most probable class, or among the five most probable (all
      classes when there are fewer);
    - `per_class_accuracy`: the top-1 of each class's videos (None for a class with no video);
    - `confusion_matrix`: counts, rows the true class, columns the predicted one;
    - `ece`: the expected calibration error of the top probability over `NUM_BINS` equal bins of (0, 1], and
      `reliability`, each bin's `count`, mean `confidence` and `accuracy` (None for an empty bin), for its diagram.
    """

    def _info(self) -> evaluate.MetricInfo:
        return evaluate.MetricInfo(
            description=__doc__,
            citation="",
            inputs_description="predictions: class probabilities per video; references: the label of each video",
            features=datasets.Features(
                {"predictions": datasets.Sequence(datasets.Value("float32")), "references": datasets.Value("int64")}
            ),
        )

    def _compute(self, predictions, references) -> dict:
        probs, labels = np.asarray(predictions), np.asarray(references)
        num_classes = probs.shape[1]
        ranked = np.argsort(-probs, axis=1)
        right = ranked[:, 0] == labels
        confusion = np.zeros((num_classes, num_classes), dtype=np.int64)
        np.add.at(confusion, (labels, ranked[:, 0]), 1)
        videos = confusion.sum(axis=1)
        confidence = probs.max(axis=1)
        bins = np.clip(np.ceil(confidence * NUM_BINS).astype(int) - 1, 0, NUM_BINS - 1)
        count = np.bincount(bins, minlength=NUM_BINS)
        mean_confidence = np.bincount(bins, weights=confidence, minlength=NUM_BINS) / np.maximum(count, 1)
        accuracy = np.bincount(bins, weights=right, minlength=NUM_BINS) / np.maximum(count, 1)
        return {
            "top1": float(right.mean()),
            "top5": float(np.mean((ranked[:, :5] == labels[:, None]).any(axis=1))),
            "ece": float(np.sum(count * np.abs(accuracy - mean_confidence)) / len(labels)),
            "per_class_accuracy": [float(confusion[c, c] / n) if n else None for c, n in enumerate(videos)],
            "confusion_matrix": confusion.tolist(),
            "reliability": {
                "count": count.tolist(),
                "confidence": [float(c) if n else None for c, n in zip(mean_confidence, count)],
                "accuracy": [float(a) if n else None for a, n in zip(accuracy, count)],
            },
        }
