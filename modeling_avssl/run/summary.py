"""What a run shows: its pictures (loss curves, pseudo labels by class, the mask picture, the test's confusion
matrix and reliability diagram; the mask picture also in TensorBoard / Trackio at each evaluation), how much of the
listed data it found (`listed_clips.json`), and the report it prints when it ends."""

import json
import os

import datasets
import numpy as np
from PIL import Image
from transformers import TrainerCallback
from transformers.integrations import TensorBoardCallback, TrackioCallback

from ..data.sources import ListedClips
from ..method.trainer import AVSSLTrainer
from ..method.training_args import AVSSLTrainingArguments
from .mask_picture import draw, enlarged, frame_and_map
from .plotting import plot_confusion_matrix, plot_pseudo_labels_by_class, plot_reliability, plot_training_curves


def mask_picture(trainer: AVSSLTrainer, eval_rows, frame_index: int) -> np.ndarray | None:
    """With ASL, the Fig. 3-style picture (uint8 `(H, W, 3)`) of the first test video's frame, map and masks on the
    model's token grid; None without a localizer or with a streamed (or empty) test set."""
    local = not isinstance(eval_rows, datasets.IterableDataset) and len(eval_rows)
    if trainer.localizer is None or not local:
        return None
    frame, localization = frame_and_map(eval_rows[0]["video"], trainer.localizer, frame_index)
    frame = enlarged(frame)
    a, b = trainer.args.beta_parameters
    return draw(frame, localization, lam=a / (a + b), grid=trainer.model.config.video_token_grid[1])


def save_pictures(trainer: AVSSLTrainer, eval_rows, frame_index: int, metrics: dict) -> list[str]:
    """The run's pictures in its output folder; returns the files written. From its training log, `loss_curves.png`
    and `pseudo_labels_by_class.png` (each class's pseudo-label accuracy and threshold over the steps); with ASL the
    `mask_picture` as `masks.png`; from the test in `metrics`, `confusion_matrix.png` and `reliability_diagram.png`.
    """
    out, log = trainer.args.output_dir, trainer.state.log_history
    written = []
    if any("loss" in entry for entry in log):
        written.append(plot_training_curves(log, os.path.join(out, "loss_curves.png")))
    written.append(plot_pseudo_labels_by_class(log, os.path.join(out, "pseudo_labels_by_class.png")))
    picture = mask_picture(trainer, eval_rows, frame_index)
    if picture is not None:
        Image.fromarray(picture).save(os.path.join(out, "masks.png"))
        written.append(os.path.join(out, "masks.png"))
    if "eval_confusion_matrix" in metrics:
        classes = list(metrics["eval_per_class_accuracy"])
        matrix, bins, ece = metrics["eval_confusion_matrix"], metrics["eval_reliability"], metrics["eval_ece"]
        written.append(plot_confusion_matrix(matrix, classes, os.path.join(out, "confusion_matrix.png")))
        written.append(plot_reliability(bins, ece, os.path.join(out, "reliability_diagram.png")))
    return [path for path in written if path is not None]


class MasksToTrackers(TrainerCallback):
    """At each evaluation, the `mask_picture` as the image `masks` in the trackers `report_to` names: TensorBoard (in
    the run folder of the Trainer's `TensorBoardCallback`) and Trackio (the run of its `TrackioCallback`). Their
    callbacks already log every loss term and diagnostic of the log as scalars."""

    def __init__(self, trainer: AVSSLTrainer, eval_rows, frame_index: int):
        self.trainer, self.eval_rows, self.frame_index = trainer, eval_rows, frame_index
        self.writer = None

    def _callback(self, kind: type) -> TrainerCallback | None:
        return next((c for c in self.trainer.callback_handler.callbacks if isinstance(c, kind)), None)

    def on_evaluate(self, args, state, control, **kwargs):
        board, trackio = self._callback(TensorBoardCallback), self._callback(TrackioCallback)
        if not state.is_world_process_zero or (board is None and trackio is None):
            return
        picture = mask_picture(self.trainer, self.eval_rows, self.frame_index)
        if picture is None:
            return
        if board is not None and board.logging_dir is not None:
            if self.writer is None:
                from torch.utils.tensorboard import SummaryWriter  # the `tensorboard` extra, as report_to needs

                self.writer = SummaryWriter(board.logging_dir)
            self.writer.add_image("masks", picture, state.global_step, dataformats="HWC")
            self.writer.flush()
        if trackio is not None:
            import trackio as tracker  # the `trackio` extra, as report_to needs

            tracker.log({"masks": tracker.Image(picture, caption=f"step {state.global_step}")}, step=state.global_step)


LISTED_CLIPS = "listed_clips.json"


def write_listed_clips(folder: str, listed: dict[str, ListedClips]) -> str:
    """`listed_clips.json` in `folder`: for each split (`{"train": ..., "test": ...}`) the clips its list names and
    those found, in all and per class; returns its path."""
    path = os.path.join(folder, LISTED_CLIPS)
    os.makedirs(folder, exist_ok=True)
    with open(f"{path}.partial", "w") as handle:
        json.dump({split: counts.as_dict() for split, counts in listed.items()}, handle, indent=1)
    os.replace(f"{path}.partial", path)
    return path


def listed_note(listed: dict[str, ListedClips]) -> str:
    """Each split's "found N of M listed clips", as `train: found ...; test: found ...` (empty without lists)."""
    return "; ".join(f"{split}: {counts}" for split, counts in listed.items())


def summary(
    metrics: dict,
    args: AVSSLTrainingArguments,
    num_classes: int,
    timings: dict[str, float],
    pictures: list[str],
    evaluated_on: str = "test",
    trained: bool = True,
    listed: dict[str, ListedClips] | None = None,
) -> str:
    """The end-of-run report: the saved model's top-1 beside the other one's, the supervised-only baseline (and its
    best stopping step, an oracle), chance, stage times, how many of the listed clips the data had, where things are
    (`trained` false: a model only tested)."""
    saved, other = ("teacher", "student") if args.export_teacher else ("student", "teacher")
    tested = f"top-1 ({saved}, saved)" if trained else "top-1"
    rows = [(tested, metrics.get("eval_top1")), ("top-5", metrics.get("eval_top5"))]
    rows += [(f"{other} top-1", metrics.get(f"{other}_top1"))]
    rows += [("teacher on all unlabeled clips, start", metrics.get("unlabeled_teacher_top1_start"))]
    rows += [("teacher on all unlabeled clips, end", metrics.get("unlabeled_teacher_top1_end"))]
    rows += [("supervised-only top-1 (same labels)", metrics.get("supervised_only_top1"))]
    best_step = metrics.get("supervised_only_best_step")
    rows += [(f"  best of its tests (step {best_step}, oracle)", metrics.get("supervised_only_best_top1"))]
    rows += [("chance (1 / classes)", 1 / num_classes)]
    lines = [f"  {name:<42}{value:.3f}" for name, value in rows if value is not None]
    lines += [f"  {'time: ' + name:<42}{seconds / 60:.1f} min" for name, seconds in timings.items()]
    files = ["model, processor, remote code, README.md"] if trained else []
    files += ["eval_results.json", *(os.path.basename(path) for path in pictures)]
    if listed:
        lines.append(f"  data: {listed_note(listed)} (per class: {LISTED_CLIPS})")
        files.append(LISTED_CLIPS)
    header = f"Results on {metrics.get('eval_videos', 0)} {evaluated_on} videos:"
    return "\n".join(["", header, *lines, f"Saved to {args.output_dir}: {', '.join(files)}"])
