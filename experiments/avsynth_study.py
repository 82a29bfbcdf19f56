"""Table 2 of the paper on AVSynth: each way of using the unlabeled clips, over several seeds (labeled splits).

    python experiments/avsynth_study.py [--seeds 0 1 2] [--rows ...] [--max-steps N] [--eval-samples 240]
        [--validation-samples N] [--overrides --name value ...] [--out outputs/study]

Every run is `train_avssl.py configs/avsynth.yaml` (the default run) with the row's variant file of
`configs/variants/` (Table 2's baselines, as a user runs them after a data set's config) and overrides, the seed as
both the labeled split's and the training seed, the default run's steps (or `--max-steps`) and `--eval-samples` test
videos evenly spaced over the test set (so every class). The rows, 1 label per class unless named 5-shot:
supervised-only (tested every 50 steps: its last test and its best one, the oracle stopping step no real run can
choose); video-only TubeToken; audio-visual TubeToken without and with the contrastive loss (TubeToken rows draw lambda
from Beta(1, 1), as their variant files say); ASL without and with it; ASL without L_mix (`gamma_mix 0`: what the
mixed clips add at all); ASL with windows of 2 and 4 slots; and the 5-shot pair, supervised-only (with its oracle)
and ASL. The ASL rows use the default run's frozen localizer (`pretrained/avsynth_localizer`). Writes `study.csv` (one
line per run: top-1 and top-5 of the saved student, the teacher's top-1, the teacher's pseudo-label accuracy at the
start and the end of the semi-supervised phase (of the batches, and, with `--overrides --pseudo_label_eval true`, on
all unlabeled clips), the share above threshold then), `study.png` (mean and std per row) and prints the table, with
each row's mean gain over its paired supervised-only rows (same seed and shots) and the spread of the gains. With
`--validation-samples N` every run holds N unlabeled training clips out and is evaluated on them instead of the test
split (`train_avssl.py --validation_samples`), for choosing settings; `--overrides` (last) adds `train_avssl.py`
arguments to every run.
"""

import argparse
import csv
import json
import os
import subprocess
import sys
import time

import numpy as np
from matplotlib.figure import Figure

from modeling_avssl.data.avsynth import CLASSES


ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NO_UNLABELED = ["--mask_type", "none", "--gamma_u", "0", "--gamma_mix", "0", "--gamma_contrastive", "0"]
ORACLE = ["--eval_strategy", "steps", "--eval_steps", "50"]  # the supervised-only runs are tested every 50 steps
FIVE_SHOT = ["--shots", "5"]
VARIANTS = os.path.join(ROOT, "configs", "variants")
ROWS = {  # a row's variant file (Table 2's baselines; none for the default, the paper's method) and its overrides
    "supervised only": (None, NO_UNLABELED + ORACLE),
    "V, TubeToken": ("video_tube_flex.yaml", []),
    "V+A, TubeToken": ("av_tube.yaml", []),
    "V+A, TubeToken + contrastive": ("av_tube_contrastive.yaml", []),
    "V+A, ASL": ("asl_no_contrastive.yaml", []),
    "V+A, ASL + contrastive": (None, []),
    "V+A, ASL + contrastive, no L_mix": (None, ["--gamma_mix", "0"]),
    "V+A, ASL + contrastive, window 2": (None, ["--asl_window", "2"]),
    "V+A, ASL + contrastive, window 4": (None, ["--asl_window", "4"]),
    "5-shot, supervised only": (None, FIVE_SHOT + NO_UNLABELED + ORACLE),
    "5-shot, V+A, ASL + contrastive": (None, FIVE_SHOT),
}
ORACLE_ROWS = {"supervised only": "supervised only, best step (oracle)"}
ORACLE_ROWS["5-shot, supervised only"] = "5-shot, supervised only, best step (oracle)"


def train_arguments(row: str, seed: int, args: argparse.Namespace, out: str) -> list[str]:
    """`train_avssl.py`'s arguments for one row and seed: the default run's config, the row's variant file, its
    overrides."""
    variant, overrides = ROWS[row]
    return [
        os.path.join(ROOT, "configs", "avsynth.yaml"),
        *([os.path.join(VARIANTS, variant)] if variant else []),
        *overrides,
        "--output_dir",
        out,
        "--supervised_baseline",
        "false",
        "--seed",
        str(seed),
        "--split_seed",
        str(seed),
        *(["--max_steps", str(args.max_steps)] if args.max_steps else []),
        "--max_eval_samples",
        str(args.eval_samples),
        *(["--validation_samples", str(args.validation_samples)] if args.validation_samples else []),
        "--disable_tqdm",
        "true",
        *args.overrides,
    ]


def run(row: str, seed: int, args: argparse.Namespace) -> dict:
    """Trains and evaluates one row with one seed in a fresh process (unless `--out` holds the finished run already:
    a stopped study goes on where it stopped); returns its CSV line."""
    out = os.path.join(args.out, row.replace(", ", "_").replace(" ", "-").replace("+", ""), f"seed{seed}")
    start = time.perf_counter()
    if not os.path.exists(os.path.join(out, "eval_results.json")):
        command = [sys.executable, os.path.join(ROOT, "train_avssl.py"), *train_arguments(row, seed, args, out)]
        subprocess.run(command, cwd=ROOT, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with open(os.path.join(out, "eval_results.json")) as handle:
        metrics = json.load(handle)
    with open(os.path.join(out, "trainer_state.json")) as handle:
        log = json.load(handle)["log_history"]
    tests = [(entry["eval_top1"], entry["step"]) for entry in log if "eval_top1" in entry] or [(None, None)]

    def first_and_last(name: str) -> tuple[float | None, float | None]:
        """A logged diagnostic over the first and the last 40 semi-supervised steps (2 logged windows each)."""
        values = [entry[name] for entry in log if name in entry]
        return (np.mean(values[:2]), np.mean(values[-2:])) if values else (None, None)

    pseudo, above = first_and_last("pseudo_label_accuracy"), first_and_last("above_threshold")
    return {
        "row": row,
        "seed": seed,
        "top1": metrics["eval_top1"],
        "top5": metrics["eval_top5"],
        "teacher_top1": metrics.get("teacher_top1"),
        "best_top1": max(tests)[0],
        "best_step": max(tests)[1],
        "pseudo_start": pseudo[0],  # the teacher's pseudo labels of the batches
        "pseudo_end": pseudo[1],
        "teacher_unlabeled_start": metrics.get("unlabeled_teacher_top1_start"),  # on all unlabeled clips
        "teacher_unlabeled_end": metrics.get("unlabeled_teacher_top1_end"),  # (with --pseudo_label_eval true)
        "above_threshold_start": above[0],
        "above_threshold_end": above[1],
        "seconds": round(time.perf_counter() - start),
    }


def plot(table: dict[str, np.ndarray], chance: float, path: str) -> None:
    figure = Figure(figsize=(9, 4.5), layout="tight")
    axes = figure.subplots()
    names = list(table)
    axes.barh(names, [100 * v.mean() for v in table.values()], xerr=[100 * v.std() for v in table.values()])
    axes.axvline(100 * chance, color="grey", linestyle="--", label="chance")
    axes.invert_yaxis()
    axes.set_xlabel("top-1 (%), mean and std over seeds")
    axes.legend()
    figure.savefig(path, dpi=100)


def baseline_of(row: str) -> str:
    """The supervised-only row trained on the same labels as `row`."""
    return "5-shot, supervised only" if row.startswith("5-shot") else "supervised only"


def table_rows(results: list[dict]) -> dict[str, dict[int, float]]:
    """Top-1 per seed of every row, and of the oracle rows (the best test of a supervised-only run)."""
    table: dict[str, dict[int, float]] = {}
    for result in results:
        table.setdefault(result["row"], {})[result["seed"]] = result["top1"]
        if result["row"] in ORACLE_ROWS:
            table.setdefault(ORACLE_ROWS[result["row"]], {})[result["seed"]] = result["best_top1"]
    return table


def gains(table: dict[str, dict[int, float]], row: str, baseline: str) -> np.ndarray:
    """The row's top-1 minus the baseline's, per seed present in both (the same labeled split)."""
    if row == baseline or baseline not in table:
        return np.array([])
    return np.array([table[row][seed] - table[baseline][seed] for seed in table[row] if seed in table[baseline]])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--max-steps", type=int, default=None, help="the default run's steps unless given")
    parser.add_argument("--eval-samples", type=int, default=240)
    parser.add_argument(
        "--validation-samples",
        type=int,
        default=0,
        help="hold this many unlabeled training clips out and evaluate on them, not on the test split (to choose "
        "settings)",
    )
    parser.add_argument(
        "--overrides", nargs=argparse.REMAINDER, default=[], help="train_avssl.py arguments of every run"
    )
    parser.add_argument("--rows", nargs="+", default=list(ROWS), choices=list(ROWS))
    parser.add_argument("--out", default="outputs/study")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    results = []
    fields = ["row", "seed", "top1", "top5", "teacher_top1", "best_top1", "best_step", "pseudo_start", "pseudo_end"]
    fields += ["teacher_unlabeled_start", "teacher_unlabeled_end", "above_threshold_start", "above_threshold_end"]
    with open(os.path.join(args.out, "study.csv"), "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=[*fields, "seconds"])
        writer.writeheader()
        for row in args.rows:
            for seed in args.seeds:
                results.append(run(row, seed, args))
                writer.writerow(results[-1])
                handle.flush()
                print(f"{row:<40} seed {seed}: top-1 {results[-1]['top1']:.3f} ({results[-1]['seconds']} s)")

    table = table_rows(results)
    chance = 1 / len(CLASSES)
    per_row = {row: np.array(list(values.values())) for row, values in table.items()}
    plot(per_row, chance, os.path.join(args.out, "study.png"))
    header = f"{'row':<46}{'top-1':>7}{'std':>7}{'gain':>7}{'+-':>6}{'vs oracle':>10}{'+-':>6}{'pseudo labels':>16}"
    print(f"\n{header}  (chance {chance:.3f})")
    for row, values in table.items():
        top1 = np.array(list(values.values()))
        base = baseline_of(row)
        columns = []
        for paired in (gains(table, row, base), gains(table, row, ORACLE_ROWS.get(base, ""))):
            keep = row not in ORACLE_ROWS.values() and len(paired)
            columns += [f"{paired.mean():+7.3f}", f"{paired.std():6.3f}"] if keep else [" " * 7, " " * 6]
        runs = [r for r in results if r["row"] == row and r["pseudo_start"] is not None]
        start, end = (np.mean([r[key] for r in runs]) for key in ("pseudo_start", "pseudo_end")) if runs else (0, 0)
        pseudo = f"{start:.3f} -> {end:.3f}" if runs else ""
        print(f"{row:<46}{top1.mean():>7.3f}{top1.std():>7.3f}{''.join(columns)}{pseudo:>16}")


if __name__ == "__main__":
    main()
