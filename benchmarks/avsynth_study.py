"""Table 2 of the paper on AVSynth: each way of using the unlabeled clips, 1 label per class, over several seeds.

    python benchmarks/avsynth_study.py [--seeds 0 1 2] [--max-steps N] [--eval-samples 240] [--out outputs/study]

Every run is `train_avssl.py configs/avsynth.yaml` (the default run) with the row's overrides, the seed as both the
labeled split's and the training seed, the default run's steps (or `--max-steps`) and `--eval-samples` test videos
evenly spaced over the test set (so every class). The rows:
the supervised-only lower bound; video-only TubeToken; audio-visual TubeToken without and with the contrastive
loss; ASL without and with it; ASL (with it) with windows of 2 and 4 slots. The ASL rows share the default run's
localizer (trained by the first of them if the default run has not trained it yet). Writes `study.csv` (one line
per run), `study.png` (mean and std per row) and prints the table, with each row's mean gain over the
supervised-only run of the same seed.
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
ROWS = {
    "supervised only": NO_UNLABELED,
    "V, TubeToken": ["--audio_model_name_or_path", "none", "--mask_type", "tube", "--gamma_contrastive", "0"],
    "V+A, TubeToken": ["--mask_type", "tube", "--gamma_contrastive", "0"],
    "V+A, TubeToken + contrastive": ["--mask_type", "tube"],
    "V+A, ASL": ["--mask_type", "asl", "--gamma_contrastive", "0"],
    "V+A, ASL + contrastive": ["--mask_type", "asl"],
    "V+A, ASL + contrastive, window 2": ["--mask_type", "asl", "--asl_window", "2"],
    "V+A, ASL + contrastive, window 4": ["--mask_type", "asl", "--asl_window", "4"],
}


def run(row: str, seed: int, args: argparse.Namespace) -> dict:
    """Trains and evaluates one row with one seed in a fresh process; returns its CSV line."""
    out = os.path.join(args.out, row.replace(", ", "_").replace(" ", "-").replace("+", ""), f"seed{seed}")
    command = [
        sys.executable,
        os.path.join(ROOT, "train_avssl.py"),
        os.path.join(ROOT, "configs", "avsynth.yaml"),
        *ROWS[row],
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
        "--disable_tqdm",
        "true",
    ]
    start = time.perf_counter()
    subprocess.run(command, cwd=ROOT, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with open(os.path.join(out, "eval_results.json")) as handle:
        metrics = json.load(handle)
    return {
        "row": row,
        "seed": seed,
        "top1": metrics["eval_top1"],
        "top5": metrics["eval_top5"],
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


def gain(results: list[dict], row: str) -> str:
    """The mean over seeds of the row's top-1 minus the supervised-only top-1 of the same seed (the same labeled
    split), which takes the split-to-split spread out of the comparison; empty without supervised-only runs."""
    supervised = {r["seed"]: r["top1"] for r in results if r["row"] == "supervised only"}
    paired = [r["top1"] - supervised[r["seed"]] for r in results if r["row"] == row and r["seed"] in supervised]
    return f"{np.mean(paired):+.3f}" if paired and row != "supervised only" else ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--max-steps", type=int, default=None, help="the default run's 400 unless given")
    parser.add_argument("--eval-samples", type=int, default=240)
    parser.add_argument("--rows", nargs="+", default=list(ROWS), choices=list(ROWS))
    parser.add_argument("--out", default="outputs/study")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    results = []
    with open(os.path.join(args.out, "study.csv"), "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["row", "seed", "top1", "top5", "seconds"])
        writer.writeheader()
        for row in args.rows:
            for seed in args.seeds:
                results.append(run(row, seed, args))
                writer.writerow(results[-1])
                handle.flush()
                print(f"{row:<36} seed {seed}: top-1 {results[-1]['top1']:.3f} ({results[-1]['seconds']} s)")

    table = {row: np.array([r["top1"] for r in results if r["row"] == row]) for row in args.rows}
    chance = 1 / len(CLASSES)
    plot(table, chance, os.path.join(args.out, "study.png"))
    print(f"\n{'row':<36}{'top-1 mean':>11}{'std':>7}{'gain':>8}  seeds  (chance {chance:.3f})")
    for row, values in table.items():
        print(f"{row:<36}{values.mean():>11.3f}{values.std():>7.3f}{gain(results, row):>8}  {len(values)}")


if __name__ == "__main__":
    main()
