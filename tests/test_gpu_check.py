"""`benchmarks/gpu_check.py --device cpu --tiny`: every part of the GPU check runs on the CPU, so that the script a GPU
session runs has not rotted; its tests marked `gpu` are skipped here, saying why."""

import json
import os
import subprocess
import sys

import pytest
from runs import ROOT


@pytest.mark.slow
def test_every_part_of_the_gpu_check_runs_on_the_cpu_and_writes_its_figures(tmp_path):
    script = os.path.join(ROOT, "benchmarks", "gpu_check.py")
    finished = subprocess.run(
        [sys.executable, script, "--device", "cpu", "--tiny", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=900,
    )
    assert finished.returncode == 0, finished.stderr[-3000:]
    figures = json.loads((tmp_path / "figures.json").read_text())

    tests = figures["tests"]
    assert tests["tests"] >= 10 and tests["skipped"] == tests["tests"] and not tests["failures"] + tests["errors"]
    assert "needs a CUDA device" in (tmp_path / "tests.log").read_text()
    assert set(figures["step"]) == {"1+2:sdpa", "1+2:sdpa+checkpointing", "1+2:eager", "1+2:compile"}
    for run in figures["step"].values():
        assert run["seconds_per_step"]["min"] > 0 and run["model_tflop_per_step"] > 0
        assert {"teacher and thresholds", "localizer", "optimizer step", "EMA update"} < set(run["parts_seconds"])
        assert {"loss_s", "loss_u", "loss_mix", "loss_c"} <= set(run["log"])
    assert all(figures["loader"][workers]["samples_per_second"] > 0 for workers in ("0", "1", "2"))
    run = figures["run"]
    assert run["returncode"] == 0 and run["finite_weights"] and run["eval"]["eval_videos"] == 6
    assert {"model.safetensors", "masks.png", "loss_curves.png", "checkpoint-3"} <= set(run["files"])
    assert len(run["pipeline"]["predictions"]) == 3
