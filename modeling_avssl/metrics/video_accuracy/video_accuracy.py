"""Top-1 and top-5 accuracy of video classification from class probabilities, as an `evaluate` metric.

metric = evaluate.load("modeling_avssl/metrics/video_accuracy")
metric.compute(predictions=[[0.1, 0.7, 0.2], ...], references=[1, ...])  # {"top1": ..., "top5": ...}
"""

import datasets
import evaluate
import numpy as np


class VideoAccuracy(evaluate.Metric):
    """The share of videos whose label is the most probable class (top-1) or among the five most probable (top-5,
    or all classes when there are fewer)."""

    def _info(self) -> evaluate.MetricInfo:
        return evaluate.MetricInfo(
            description=__doc__,
            citation="",
            inputs_description="predictions: class probabilities per video; references: the label of each video",
            features=datasets.Features(
                {"predictions": datasets.Sequence(datasets.Value("float32")), "references": datasets.Value("int64")}
            ),
        )

    def _compute(self, predictions, references) -> dict[str, float]:
        probs, labels = np.asarray(predictions), np.asarray(references)
        ranked = np.argsort(-probs, axis=1)
        return {
            "top1": float(np.mean(ranked[:, 0] == labels)),
            "top5": float(np.mean((ranked[:, :5] == labels[:, None]).any(axis=1))),
        }
