"""One run per output folder (a live run's folder is refused, naming it; a dead run's lock is taken over), and the
run_*.py contract of a folder with checkpoints: a run goes on from the newest complete one, `--overwrite_output_dir`
starts over."""

import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys

import pytest
from runs import CHECKPOINTS, ROOT, assert_same_end, tiny_run, train

from modeling_avssl.run.output_folder import LOCK_FILE, OutputFolderInUse, held


HOLD = """
import sys, time
from modeling_avssl.run.output_folder import held
with held(sys.argv[1]):
    print("holding", flush=True)
    time.sleep(600)
"""


def holder(folder) -> subprocess.Popen:
    """A live process that holds `folder` (once it has printed "holding")."""
    process = subprocess.Popen([sys.executable, "-c", HOLD, str(folder)], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert process.stdout.readline().strip() == "holding"
    return process


def test_a_folder_a_live_run_holds_is_refused_naming_the_holder(tmp_path):
    process = holder(tmp_path / "run")
    try:
        with pytest.raises(OutputFolderInUse) as refused:
            with held(str(tmp_path / "run")):
                pass
        message = str(refused.value)
        assert f"process {process.pid} on host {socket.gethostname()}, started 20" in message
        assert "is in use by another run" in message and "-c" in message  # the holder's command
    finally:
        process.kill()
        process.wait()


def test_a_run_refuses_a_held_folder_before_writing_anything(tmp_path, avsynth):
    process = holder(tmp_path / "run")
    try:
        with pytest.raises(OutputFolderInUse, match=f"process {process.pid}"):
            train(tiny_run(tmp_path / "run", avsynth))
        refused = subprocess.run(
            [sys.executable, os.path.join(ROOT, "train_avssl.py"), *tiny_run(tmp_path / "run", avsynth)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert refused.returncode == 1 and f"is in use by another run: process {process.pid}" in refused.stderr
        assert "Traceback" not in refused.stderr
        assert os.listdir(tmp_path / "run") == [LOCK_FILE]
    finally:
        process.kill()
        process.wait()


def test_the_lock_of_a_killed_run_is_taken_over_with_a_warning(tmp_path, caplog):
    process = holder(tmp_path / "run")
    process.send_signal(signal.SIGKILL)
    process.wait()
    with caplog.at_level(logging.WARNING), held(str(tmp_path / "run")):
        mine = json.loads((tmp_path / "run" / LOCK_FILE).read_text())
    assert f"taking over from a run that ended without releasing it: process {process.pid}" in caplog.text
    assert mine["pid"] == os.getpid()


def test_a_released_folder_is_free_and_empty_of_holders_even_after_an_error(tmp_path, caplog):
    with pytest.raises(KeyError), held(str(tmp_path / "run")):
        raise KeyError("the run failed")
    assert (tmp_path / "run" / LOCK_FILE).read_text() == ""
    with caplog.at_level(logging.WARNING), held(str(tmp_path / "run")):
        pass
    assert "taking over" not in caplog.text


@pytest.mark.slow
def test_a_run_into_a_folder_with_checkpoints_goes_on_from_the_newest_complete_one(
    tmp_path, avsynth, uninterrupted, caplog
):
    shutil.copytree(uninterrupted / "checkpoint-2", tmp_path / "run" / "checkpoint-2")
    with caplog.at_level(logging.INFO):
        train(tiny_run(tmp_path / "run", avsynth, *CHECKPOINTS))
    assert f"Checkpoint detected, resuming training from {tmp_path / 'run' / 'checkpoint-2'}" in caplog.text
    assert_same_end(tmp_path / "run", uninterrupted)


@pytest.mark.slow
def test_overwrite_output_dir_starts_over_and_deletes_the_earlier_runs_checkpoints(tmp_path, avsynth, uninterrupted):
    shutil.copytree(uninterrupted / "checkpoint-4", tmp_path / "run" / "checkpoint-9")  # an earlier, longer run's
    (tmp_path / "run" / "notes.txt").write_text("the user's own file")
    trainer = train(tiny_run(tmp_path / "run", avsynth, *CHECKPOINTS, "--overwrite_output_dir", "true"))
    assert trainer.state.global_step == 4 and not (tmp_path / "run" / "checkpoint-9").exists()
    assert (tmp_path / "run" / "notes.txt").read_text() == "the user's own file"
    assert (tmp_path / "run" / "checkpoint-2").is_dir()  # trained from the start, not resumed from checkpoint-9
    assert_same_end(tmp_path / "run", uninterrupted)
