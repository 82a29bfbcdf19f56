"""The pictures of a run: its loss curves and pseudo labels by class from the Trainer's log history, and the
confusion matrix and reliability diagram of a test."""

import os

import numpy as np
from matplotlib.figure import Figure


LOSS_TERMS = {"loss": "total", "loss_s": "L_s", "loss_u": "L_u", "loss_mix": "L_mix", "loss_c": "L_c"}
PSEUDO_LABELS = {
    "above_threshold": "share above threshold",
    "pseudo_label_accuracy": "pseudo-label accuracy (all)",
    "pseudo_label_accuracy_above_threshold": "pseudo-label accuracy (above threshold)",
    "threshold_mean": "class threshold (mean; min-max shaded)",
}
MAX_NAMED_CLASSES = 40  # more classes than this are drawn without their names


def plot_training_curves(log_history: list[dict], path: str | os.PathLike) -> str:
    """Writes a PNG with the loss and each of its terms against the step (left) and, for the unlabeled clips (right),
    the share of pseudo-labels above threshold, their accuracy on the hidden labels over all clips and over those
    above threshold, and the class thresholds; returns `path`."""
    figure = Figure(figsize=(11, 4), layout="tight")
    losses, pseudo = figure.subplots(1, 2)
    for axes, names in ((losses, LOSS_TERMS), (pseudo, PSEUDO_LABELS)):
        for key, label in names.items():
            points = [(entry["step"], entry[key]) for entry in log_history if key in entry and "step" in entry]
            if points:
                axes.plot(*zip(*points), label=label, marker="." if len(points) < 30 else None)
        axes.set_xlabel("step")
        axes.grid(alpha=0.3)
        if axes.has_data():
            axes.legend()
    bands = [(e["step"], e["threshold_min"], e["threshold_max"]) for e in log_history if "threshold_min" in e]
    if bands:
        pseudo.fill_between(*zip(*bands), alpha=0.2, color=pseudo.lines[-1].get_color())
    losses.set_title("training loss")
    pseudo.set_title("unlabeled clips")
    pseudo.set_ylim(0, 1)
    figure.savefig(path, dpi=100)
    return str(path)


def _class_axis(axes, classes: list[str], axis: str) -> None:
    """Names the classes along `axis` ("x" or "y") of a picture with a row or column per class, when they fit."""
    if len(classes) > MAX_NAMED_CLASSES:
        return
    ticks, size = range(len(classes)), max(4, 9 - len(classes) // 8)
    if axis == "x":
        axes.set_xticks(ticks, classes, rotation=90, fontsize=size)
    else:
        axes.set_yticks(ticks, classes, fontsize=size)


def plot_pseudo_labels_by_class(log_history: list[dict], path: str | os.PathLike) -> str | None:
    """Writes a PNG of each class's pseudo-label accuracy (of the unlabeled clips of that hidden label) and class
    threshold at every training log of the semi-supervised phase, as two class x step maps; returns `path`, or None
    when the log has no such entry."""
    entries = [entry for entry in log_history if "pseudo_label_accuracy_by_class" in entry]
    if not entries:
        return None
    classes, steps = list(entries[0]["threshold_by_class"]), [entry["step"] for entry in entries]
    figure = Figure(figsize=(11, 2 + 0.12 * min(len(classes), 80)), layout="tight")
    for axes, key, title in zip(
        figure.subplots(1, 2),
        ("pseudo_label_accuracy_by_class", "threshold_by_class"),
        ("pseudo labels right, by hidden class", "class threshold"),
    ):
        values = np.array([[np.nan if entry[key][c] is None else entry[key][c] for c in classes] for entry in entries])
        image = axes.imshow(
            values.T,
            aspect="auto",
            vmin=0,
            vmax=1,
            cmap="viridis",
            interpolation="nearest",
            extent=(steps[0], steps[-1], len(classes) - 0.5, -0.5),
        )
        figure.colorbar(image, ax=axes)
        axes.set_xlabel("step")
        axes.set_title(title)
        _class_axis(axes, classes, "y")
    figure.savefig(path, dpi=100)
    return str(path)


def plot_confusion_matrix(matrix: list[list[int]], classes: list[str], path: str | os.PathLike) -> str:
    """Writes a PNG of test counts, rows the true class and columns the predicted one, each row shaded by its share
    of the class's videos; returns `path`."""
    counts = np.asarray(matrix)
    shares = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    side = 3 + 0.3 * min(len(classes), 40)
    figure = Figure(figsize=(side + 1, side), layout="tight")
    axes = figure.subplots()
    figure.colorbar(axes.imshow(shares, vmin=0, vmax=1, cmap="Blues", interpolation="nearest"), ax=axes)
    if len(classes) <= MAX_NAMED_CLASSES // 2:  # each cell's count, where they can be read
        for (true, predicted), count in np.ndenumerate(counts):
            colour = "white" if shares[true, predicted] > 0.5 else "black"
            axes.text(predicted, true, str(count), ha="center", va="center", fontsize=7, color=colour)
    _class_axis(axes, classes, "x")
    _class_axis(axes, classes, "y")
    axes.set_xlabel("predicted class")
    axes.set_ylabel("true class")
    axes.set_title(f"confusion matrix ({counts.sum()} videos)")
    figure.savefig(path, dpi=100)
    return str(path)


def plot_reliability(reliability: dict[str, list], ece: float, path: str | os.PathLike) -> str:
    """Writes a PNG of the reliability diagram: each confidence bin's accuracy against its mean confidence (bars over
    the bin, the diagonal a calibrated model follows), with the share of videos in each bin below; returns `path`."""
    count = np.asarray(reliability["count"])
    edges = np.linspace(0, 1, len(count) + 1)
    accuracy = np.array([np.nan if a is None else a for a in reliability["accuracy"]])
    confidence = np.array([np.nan if c is None else c for c in reliability["confidence"]])
    figure = Figure(figsize=(5, 6), layout="tight")
    diagram, shares = figure.subplots(2, 1, height_ratios=(3, 1), sharex=True)
    bars = {"width": np.diff(edges), "align": "edge", "edgecolor": "black"}
    diagram.bar(edges[:-1], np.nan_to_num(accuracy), label="accuracy", **bars)
    diagram.plot(confidence, accuracy, "o", color="tab:red", label="accuracy at the bin's mean confidence")
    diagram.plot([0, 1], [0, 1], "--", color="gray", label="calibrated")
    diagram.set_ylim(0, 1)
    diagram.set_ylabel("accuracy")
    diagram.set_title(f"reliability (ECE {ece:.3f}, {len(count)} bins)")
    diagram.legend(loc="upper left")
    shares.bar(edges[:-1], count / max(count.sum(), 1), **bars)
    shares.set_xlabel("confidence (top probability)")
    shares.set_ylabel("share of videos")
    shares.set_xlim(0, 1)
    figure.savefig(path, dpi=100)
    return str(path)
