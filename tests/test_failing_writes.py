"""A write that fails while a checkpoint or the trained model is saved (a full disk, a failing device) stops the run
with an error naming the folder and the cause; the newest complete checkpoint stays the one a resume takes, and the
resumed run ends at the uninterrupted run's weights. ENOSPC from a real full file system (a small tmpfs, where this
machine lets the tests mount one), EIO from failing write calls."""

import os
import subprocess
import sys

import pytest
from runs import CHECKPOINTS, ROOT, assert_same_end, tiny_run, train


FAILING_DEVICE = """
import errno, os, runpy, sys
import torch

save = torch.save


def fails_in_checkpoint_4(obj, path, *args, **kwargs):  # the device fails as checkpoint-4's optimizer is written
    if "checkpoint-4" in str(path):
        raise OSError(errno.EIO, os.strerror(errno.EIO), str(path))
    return save(obj, path, *args, **kwargs)


torch.save = fails_in_checkpoint_4
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")
"""


def run_script(argv: list[str], prefix: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *prefix, os.path.join(ROOT, "train_avssl.py"), *argv],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.fixture
def small_disk(tmp_path):
    """Mounts a tmpfs at `tmp_path / "disk"` of the size asked for; `resize` changes it (space freed)."""
    folder = tmp_path / "disk"
    folder.mkdir()

    def mount(size: str, options: str = "") -> None:
        mounted = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"{options}size={size}", "tmpfs", str(folder)], capture_output=True
        )
        if mounted.returncode:
            pytest.skip(f"cannot mount a tmpfs here ({mounted.stderr.decode().strip()}); the EIO test fails writes")

    yield folder, mount
    subprocess.run(["umount", str(folder)], capture_output=True)


@pytest.mark.slow
def test_a_full_disk_during_a_checkpoint_names_it_and_a_resume_takes_the_last_complete_one(
    small_disk, avsynth, uninterrupted
):
    folder, mount = small_disk
    mount("1500k")  # checkpoint-2 (about 0.95 MB) fits, checkpoint-4 does not
    run = tiny_run(folder / "run", avsynth, *CHECKPOINTS)
    failed = run_script(run)
    assert failed.returncode == 1, failed.stderr[-3000:]
    assert f"Writing {folder / 'run' / 'checkpoint-4'} failed (" in failed.stderr
    assert "MiB free on its file system): it is incomplete, so no resume takes it; " in failed.stderr
    assert f"a resume takes {folder / 'run' / 'checkpoint-2'}." in failed.stderr
    assert "Traceback" not in failed.stderr

    mount("20m", "remount,")  # space freed
    train(run)  # the same command
    assert_same_end(folder / "run", uninterrupted)


@pytest.mark.slow
def test_a_full_disk_during_the_final_save_says_the_model_is_not_saved(small_disk, avsynth):
    folder, mount = small_disk
    mount("200k")  # the model (about 0.28 MB) does not fit
    failed = run_script(tiny_run(folder / "run", avsynth))
    assert failed.returncode == 1, failed.stderr[-3000:]
    assert f"Writing {folder / 'run'} failed (" in failed.stderr
    assert "the trained model is not saved; there is no complete checkpoint to resume from." in failed.stderr


@pytest.mark.slow
def test_a_failing_device_during_a_checkpoint_names_it_and_the_cause(tmp_path, avsynth):
    failed = run_script(tiny_run(tmp_path / "run", avsynth, *CHECKPOINTS), prefix=("-c", FAILING_DEVICE))
    assert failed.returncode == 1, failed.stderr[-3000:]
    assert (
        f"Writing {tmp_path / 'run' / 'checkpoint-4'} failed (OSError: [Errno 5] Input/output error" in failed.stderr
    )
    assert f"a resume takes {tmp_path / 'run' / 'checkpoint-2'}." in failed.stderr
