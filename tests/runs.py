"""Helpers of the run-level tests: the tiny run's arguments, two runs' checkpoints compared, a run under a signal,
and a training run launched on two processes."""

import json
import os
import runpy
import subprocess
import sys
import textwrap
from pathlib import Path

import torch
from safetensors.torch import load_file


ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_CONFIG = os.path.join(ROOT, "configs", "avsynth.yaml")  # what train_avssl.py runs without arguments
TINY = os.path.join(ROOT, "configs", "avsynth_tiny.yaml")
CHECKPOINTS = ["--max_steps", "4", "--save_strategy", "steps", "--save_steps", "2"]


def tiny_run(output_dir, data_path, *extra) -> list[str]:
    """`train_avssl.py`'s arguments for the tiny config with tiny encoders, into `output_dir`, AVSynth in
    `data_path`."""
    return [
        TINY,
        "--output_dir",
        str(output_dir),
        "--data_path",
        str(data_path),
        "--model_config",
        os.path.join(ROOT, "configs", "avsynth_tiny_model.json"),
        *extra,
    ]


def script(path: str) -> dict:
    """The names a script of this repository defines (`train_avssl.py`, `experiments/*.py`, relative to its root):
    the script is run by `runpy` without its `__main__` block, not imported, so a test calls its `main` as
    `python PATH ARGV` would."""
    return runpy.run_path(os.path.join(ROOT, path), run_name=os.path.splitext(os.path.basename(path))[0])


def train(argv: list[str]):
    """`python train_avssl.py ARGV` in this process; returns the `AVSSLTrainer` the run ends with."""
    return script("train_avssl.py")["main"](argv)


def assert_same_end(resumed: Path, uninterrupted: Path, step: int = 4) -> None:
    """The student, the teacher and the method's state of both runs' `checkpoint-<step>` are equal (weights to
    1e-6)."""
    folder = f"checkpoint-{step}"
    for name in ("model.safetensors", "teacher.safetensors"):
        whole = load_file(uninterrupted / folder / name)
        other = load_file(resumed / folder / name)
        assert whole.keys() == other.keys()
        for key in whole:
            torch.testing.assert_close(other[key], whole[key], atol=1e-6, rtol=0, msg=f"{name}: {key}")
    whole_state = json.loads((uninterrupted / folder / "avssl_state.json").read_text())
    assert json.loads((resumed / folder / "avssl_state.json").read_text()) == whole_state


def signalled(when: str, signal_name: str, run: list[str]) -> subprocess.CompletedProcess:
    """`python train_avssl.py RUN` sending itself `signal_name` at `when` (`tests/signalled_run.py`)."""
    return subprocess.run(
        [sys.executable, os.path.join(ROOT, "tests", "signalled_run.py"), when, signal_name, "self", *run],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )


def launch_two_processes(
    out: Path,
    run: list[str],
    timeout: float | None = None,
    setup: tuple[str, ...] = ("--multi_gpu",),
    script: str = "distributed_training.py",
) -> subprocess.CompletedProcess:
    """`tests/distributed_training.py` (or `script` beside it) with `train_avssl.py`'s arguments `run` under
    `accelerate launch SETUP` on 2 CPU processes; it writes each process's teacher and FlexMatch record to `out`."""
    return accelerate_launch([os.path.join(ROOT, "tests", script), str(out), *run], timeout, setup)


def accelerate_launch(
    command: list[str], timeout: float | None = None, setup: tuple[str, ...] = ("--multi_gpu",)
) -> subprocess.CompletedProcess:
    """`accelerate launch SETUP --num_processes 2 COMMAND` on 2 CPU processes, with this repository importable."""
    accelerate = os.path.join(os.path.dirname(sys.executable), "accelerate")
    return subprocess.run(
        [accelerate, "launch", *setup, "--num_processes", "2", *command],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [ROOT, os.environ.get("PYTHONPATH")]))},
        timeout=timeout,
    )


def run_without_the_package(script: str, args: list[str], folder: Path) -> subprocess.CompletedProcess:
    """`python -c SCRIPT ARGS` in a process that cannot import `modeling_avssl`, as a user who has only what remote
    code brings: offline, with its own modules cache in `folder`."""
    blocked = 'import sys\nsys.modules["modeling_avssl"] = None  # this process cannot import the package\n'
    (folder / "script.py").write_text(blocked + textwrap.dedent(script))
    return subprocess.run(
        [sys.executable, str(folder / "script.py"), *args],
        cwd=folder,
        env={**os.environ, "HF_HUB_OFFLINE": "1", "HF_MODULES_CACHE": str(folder / "modules")},
        capture_output=True,
        text=True,
        timeout=300,
    )
