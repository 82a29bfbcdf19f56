"""The loss curves of a run, drawn from the Trainer's log history."""

import os

from matplotlib.figure import Figure


LOSS_TERMS = {"loss": "total", "loss_s": "L_s", "loss_u": "L_u", "loss_mix": "L_mix", "loss_c": "L_c"}
PSEUDO_LABELS = {
    "above_threshold": "share above threshold",
    "pseudo_label_accuracy": "pseudo-label accuracy (all)",
    "pseudo_label_accuracy_above_threshold": "pseudo-label accuracy (above threshold)",
    "threshold_mean": "class threshold (mean; min-max shaded)",
}


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
