"""How well the teacher's confidence tells its right pseudo labels from its wrong ones when the semi-supervised phase
begins: the default run's student after its supervised warm-up (the teacher is made from it), on every unlabeled
training clip.

    python experiments/teacher_calibration.py [--seed 0] [--out outputs/calibration]

Trains `configs/avsynth.yaml` for its warm-up steps alone (L_s at the run's constant rate), then reads every unlabeled
clip of the split with the test protocol's views and bins the clips by the top probability: each bin's share of the
clips and how many of its pseudo labels are right and what a fixed threshold at each bin's lower edge would pass; and
the expected calibration error over 15 bins, as every test of a run reports it (the `video_accuracy` metric).
"""

import argparse
import json
import os
import subprocess
import sys

import evaluate
import numpy as np
import torch

from modeling_avssl import AVSSLForVideoClassification
from modeling_avssl.data.avsynth import CLASSES
from modeling_avssl.data.collation import ClipTransform
from modeling_avssl.data.splits import LabeledSplit
from modeling_avssl.method.evaluation import EvalViews, video_probabilities
from modeling_avssl.method.trainer import METRIC_PATH
from modeling_avssl.run.arguments import parse_arguments
from modeling_avssl.run.components import load_data, processor_for


ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_CONFIG = os.path.join(ROOT, "configs", "avsynth.yaml")
EDGES = (0.0, 0.2, 0.3, 0.5, 0.8, 0.9, 1.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=0, help="the labeled split's and the training seed")
    parser.add_argument("--out", default="outputs/calibration")
    args = parser.parse_args()
    _, data_args, _, training_args = parse_arguments([DEFAULT_CONFIG])
    warmup_steps = training_args.supervised_warmup_steps(num_labeled=len(CLASSES) * int(data_args.shots))
    supervised = ["--mask_type", "none", "--gamma_u", "0", "--gamma_mix", "0", "--gamma_contrastive", "0"]
    command = [sys.executable, os.path.join(ROOT, "train_avssl.py"), DEFAULT_CONFIG, *supervised, "--lr_steps", "1"]
    command += ["--max_steps", str(warmup_steps), "--supervised_baseline", "false", "--max_eval_samples", "1"]
    command += ["--output_dir", args.out, "--seed", str(args.seed), "--split_seed", str(args.seed)]
    subprocess.run(command, cwd=ROOT, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    model = AVSSLForVideoClassification.from_pretrained(args.out).eval()
    with open(os.path.join(args.out, "labeled_split.json")) as handle:
        split = LabeledSplit(**json.load(handle))
    unlabeled = load_data(data_args)[0].dataset.select(split.unlabeled())
    processor = processor_for(model.config, data_args.frame_stride)
    transform = ClipTransform.from_processor(processor, model.config.video_input_shape[0], strong=False)
    views = EvalViews(unlabeled, transform, training_args.eval_clips, training_args.eval_crops)
    probabilities = torch.cat(
        [video_probabilities(model, [views[i]], transform.augmentation) for i in range(len(views))]
    )
    confidence, predicted = probabilities.max(dim=-1)
    right = (predicted == torch.tensor(unlabeled["label"])).float()
    print(f"{len(right)} unlabeled clips after {warmup_steps} warm-up steps: pseudo labels right {right.mean():.1%}")
    for low, high in zip(EDGES[:-1], EDGES[1:]):
        inside = (confidence >= low) & (confidence < high if high < 1 else confidence <= high)
        passing = confidence >= low
        print(
            f"confidence [{low:.1f}, {high:.1f}): {inside.float().mean():6.1%} of the clips, right "
            f"{right[inside].mean() if inside.any() else np.nan:6.1%}; a threshold of {low:.1f} passes "
            f"{passing.float().mean():6.1%}, right {right[passing].mean():6.1%}"
        )
    scores = evaluate.load(METRIC_PATH).compute(predictions=probabilities.tolist(), references=unlabeled["label"])
    print(f"expected calibration error (15 bins) {scores['ece']:.3f}")


if __name__ == "__main__":
    main()
