"""How the default run should share the machine: torch threads of the training process against loader workers.

    python benchmarks/bench_threads.py [--threads 1 2] [--workers 0 1 2] [--rounds 2] [--steps 120]

Runs `accelerate launch --num_cpu_threads_per_process T train_avssl.py` on the default config, cut to `--steps`
steps (the first 48 of them the supervised warm-up, as in the default run), tested on 200 test videos with no
baseline, with `dataloader_num_workers W`, for every (T, W), the combinations taking turns for `--rounds` rounds.
Prints the training loop's steps per second (the Trainer's `train_runtime`) and the whole run's wall time, min /
median / max over the rounds. The data set must be there already (`data/avsynth`, which the default run makes).
"""

import argparse
import itertools
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import defaultdict


ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(threads: int, workers: int, steps: int, folder: str) -> tuple[float, float]:
    """(steps per second of the training loop, wall seconds of the run)."""
    command = [
        os.path.join(os.path.dirname(sys.executable), "accelerate"),
        "launch",
        "--num_cpu_threads_per_process",
        str(threads),
        "train_avssl.py",
        os.path.join(ROOT, "configs", "avsynth.yaml"),
        *("--output_dir", folder, "--max_steps", str(steps), "--max_eval_samples", "200"),
        *("--supervised_baseline", "false", "--dataloader_num_workers", str(workers), "--disable_tqdm", "true"),
    ]
    start = time.perf_counter()
    subprocess.run(command, cwd=ROOT, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    with open(os.path.join(folder, "trainer_state.json")) as handle:
        history = json.load(handle)["log_history"]
    runtime = next(entry["train_runtime"] for entry in history if "train_runtime" in entry)
    return steps / runtime, wall


def spread(values: list[float]) -> str:
    ordered = sorted(values)
    return f"{ordered[0]:.2f} / {ordered[len(ordered) // 2]:.2f} / {ordered[-1]:.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--workers", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--steps", type=int, default=120)
    args = parser.parse_args()
    results = defaultdict(list)
    for _ in range(args.rounds):
        for threads, workers in itertools.product(args.threads, args.workers):
            with tempfile.TemporaryDirectory() as folder:
                results[threads, workers].append(run(threads, workers, args.steps, folder))
    print(f"{os.cpu_count()} cores; {args.steps} steps, 200 test videos; min / median / max of {args.rounds} rounds")
    for (threads, workers), values in results.items():
        rates, walls = [rate for rate, _ in values], [wall for _, wall in values]
        print(f"  {threads} threads, {workers} workers: {spread(rates)} steps/s, run {spread(walls)} s")


if __name__ == "__main__":
    main()
