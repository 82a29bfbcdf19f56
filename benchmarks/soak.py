"""A long two-process run's memory: does anything grow with the steps (log history, evaluation caches, bad-file notes,
tracker buffers, loader workers)?

    python benchmarks/soak.py [--steps 3000] [--out DIR]

Writes a small AVSynth set as webdataset tar shards (train and test), with bad files among the training clips (two
unreadable, one without audio), then trains the tiny config on the streamed shards under `accelerate launch` with 2
CPU processes and persistent loader workers (up to a quarter of a window's samples may be bad: the bad clips sit
in one shard): `--steps` steps, logging every 10, evaluating and saving a checkpoint
(2 kept) every sixth of the run. Every 2 s it samples the resident memory of each process (the two ranks and their
loader workers, found as the launcher's descendants). Warm-up ends when the first checkpoint is complete (after the
first evaluation); for each rank, and for the largest worker, it prints the RSS then (the median over the 30 s
after), at the end (the median over the last 30 s) and the largest after warm-up, with the growth as a share, and
writes every sample to OUT/rss.csv.
"""

import argparse
import csv
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import psutil

from modeling_avssl.data.avsynth import generate
from modeling_avssl.data.sharding import write_shards
from modeling_avssl.data.sources import video_folder


ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests"))
from trees import write_broken, write_video  # noqa: E402  (the tests' small broken and silent files)


def shards(folder: str) -> tuple[str, str]:
    """Train and test shards of a small AVSynth set, two training clips unreadable and one without audio."""
    generate(os.path.join(folder, "avsynth"), 48, 12, seed=0)
    train_files = sorted(p for p in video_folder(os.path.join(folder, "avsynth"), "train").dataset["video"])
    write_broken(train_files[5])
    write_broken(train_files[20])
    write_video(train_files[33], audio=False)
    for split in ("train", "test"):
        write_shards(video_folder(os.path.join(folder, "avsynth"), split), os.path.join(folder, split), split, 16)
    return os.path.join(folder, "train", "*.tar"), os.path.join(folder, "test", "*.tar")


def sample(launcher: psutil.Process) -> list[tuple[str, int, float]]:
    """(role, pid, RSS in MiB) of the launcher's descendants: its children are the ranks, theirs the workers."""
    rows = []
    for rank in launcher.children():
        try:
            rows.append(("rank", rank.pid, rank.memory_info().rss / 2**20))
            rows += [("worker", worker.pid, worker.memory_info().rss / 2**20) for worker in rank.children()]
        except psutil.NoSuchProcess:
            continue
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--out", default=None, help="where the run and rss.csv go (default: a temporary folder)")
    args = parser.parse_args()
    out = args.out or tempfile.mkdtemp(prefix="soak-")
    train_shards, test_shards = shards(os.path.join(out, "data"))
    every = str(args.steps // 6)
    run = [
        os.path.join(os.path.dirname(sys.executable), "accelerate"),
        "launch",
        "--multi_gpu",
        "--num_processes",
        "2",
        os.path.join(ROOT, "train_avssl.py"),
        os.path.join(ROOT, "configs", "avsynth_tiny.yaml"),
        "--model_config",
        os.path.join(ROOT, "configs", "avsynth_tiny_model.json"),
        "--dataset",
        "webdataset",
        "--data_path",
        train_shards,
        "--eval_data_path",
        test_shards,
        "--output_dir",
        os.path.join(out, "run"),
        "--max_steps",
        str(args.steps),
        "--logging_steps",
        "10",
        "--eval_strategy",
        "steps",
        "--eval_steps",
        every,
        "--save_strategy",
        "steps",
        "--save_steps",
        every,
        "--save_total_limit",
        "2",
        "--dataloader_num_workers",
        "2",
        "--dataloader_persistent_workers",
        "true",
        "--supervised_baseline",
        "false",
        "--max_bad_fraction",
        "0.25",  # the 3 bad clips of 48 sit in one shard of 16: a window early on can hold more than 10%
        "--disable_tqdm",
        "true",
    ]
    first_checkpoint = os.path.join(out, "run", f"checkpoint-{every}", "checkpoint_complete.json")
    samples, warm = [], None  # (seconds, role, pid, MiB); when warm-up ended
    begin = time.time()
    with open(os.path.join(out, "log.txt"), "w") as log:
        launcher = subprocess.Popen(run, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        process = psutil.Process(launcher.pid)
        while launcher.poll() is None:
            now = time.time() - begin
            samples += [(now, *row) for row in sample(process)]
            if warm is None and os.path.exists(first_checkpoint):
                warm = now
            time.sleep(2)
    print(f"exit code {launcher.returncode} after {time.time() - begin:.0f} s; log in {out}/log.txt")
    with open(os.path.join(out, "rss.csv"), "w", newline="") as handle:
        csv.writer(handle).writerows([("seconds", "role", "pid", "rss_mib"), *samples])
    if warm is None:
        raise SystemExit("the first checkpoint never completed; see the log")
    end = max(t for t, *_ in samples)
    series = {
        f"rank {pid}": [(t, m) for t, role, p, m in samples if p == pid]
        for pid in sorted({p for _, role, p, _ in samples if role == "rank"})
    }
    workers = {}
    for t, role, _, mib in samples:
        if role == "worker":
            workers[t] = max(workers.get(t, 0.0), mib)
    series["largest worker"] = sorted(workers.items())
    print(f"warm-up ended at {warm:.0f} s, the run at {end:.0f} s (RSS in MiB)")
    for name, points in series.items():
        after = [m for t, m in points if t >= warm]
        at_warm = float(np.median([m for t, m in points if warm <= t < warm + 30]))
        at_end = float(np.median([m for t, m in points if t >= end - 30]))
        print(
            f"  {name:<16} after warm-up {at_warm:7.1f}, end {at_end:7.1f} ({100 * (at_end / at_warm - 1):+.1f}%), "
            f"largest {max(after):7.1f} ({100 * (max(after) / at_warm - 1):+.1f}%)"
        )


if __name__ == "__main__":
    main()
