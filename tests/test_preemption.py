"""A preempted run: SIGTERM or SIGUSR1 (a scheduler's notice) makes every process finish its step, save one complete
checkpoint and exit with code 75; a resume from it ends at the uninterrupted run's weights. Real signals, sent by the
run to itself at a chosen point, or to the `accelerate launch` that started two processes."""

import json
import os
import signal
import subprocess
import sys

import pytest
from runs import CHECKPOINTS, ROOT, accelerate_launch, assert_same_end, signalled, tiny_run, train
from transformers import TrainerControl

from modeling_avssl.data.collation import STOP_SIGNALS, ignore_stop_signals
from modeling_avssl.method.preemption import PREEMPTED_EXIT_CODE, Preemption


def saved_steps(output_dir) -> list[int]:
    """The steps of the complete checkpoints in `output_dir`."""
    return sorted(
        int(name.removeprefix("checkpoint-"))
        for name in os.listdir(output_dir)
        if name.startswith("checkpoint-")
        and os.path.isfile(os.path.join(output_dir, name, "checkpoint_complete.json"))
    )


def test_the_exit_code_says_try_again():
    assert PREEMPTED_EXIT_CODE == 75  # EX_TEMPFAIL


def test_loader_workers_leave_the_stop_signals_to_the_main_process():
    previous = {number: signal.getsignal(number) for number in STOP_SIGNALS}
    try:
        ignore_stop_signals(0)
        assert all(signal.getsignal(number) is signal.SIG_IGN for number in STOP_SIGNALS)
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def test_a_signal_while_training_asks_for_a_checkpoint_and_a_stop_and_a_new_training_starts_clean():
    preemption, control = Preemption(), TrainerControl()
    preemption.on_train_begin(None, None, control)
    try:
        os.kill(os.getpid(), signal.SIGUSR1)  # handled: the test process goes on
        assert preemption.requested and preemption.signal_name == "SIGUSR1"
        preemption.agreed(preemption.requested, control)
        assert preemption.stopping and control.should_save and control.should_training_stop
    finally:
        preemption.on_train_end(None, None, control)
    assert signal.getsignal(signal.SIGUSR1) is signal.SIG_DFL  # the process's own handler back
    preemption.on_train_begin(None, None, TrainerControl())
    preemption.on_train_end(None, None, TrainerControl())
    assert not (preemption.requested or preemption.stopping)


LOADER_LEFT_OPEN = """
from torch.utils.data import DataLoader
from modeling_avssl.data.collation import ignore_stop_signals

loader = DataLoader(list(range(8)), num_workers=2, persistent_workers=True, worker_init_fn=ignore_stop_signals)
print("read", next(iter(loader)).tolist(), flush=True)  # the loader and its workers live until the interpreter exits
"""


def test_a_process_whose_loader_workers_ignore_stop_signals_still_exits():
    """multiprocessing ends daemonic children at exit with SIGTERM, which these workers ignore: without
    `end_daemonic_children` the process waited for them forever (found by benchmarks/soak.py)."""
    done = subprocess.run([sys.executable, "-c", LOADER_LEFT_OPEN], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "read [0]" in done.stdout, done.stderr[-2000:]


@pytest.mark.slow
def test_a_signal_during_a_step_saves_that_step_and_the_resumed_run_ends_as_the_uninterrupted_one(
    tmp_path, avsynth, uninterrupted
):
    run = tiny_run(tmp_path / "run", avsynth, *CHECKPOINTS)
    stopped = signalled("step:2", "SIGTERM", run)  # as step 3 begins
    assert stopped.returncode == PREEMPTED_EXIT_CODE, stopped.stderr[-3000:]
    assert saved_steps(tmp_path / "run") == [2, 3]  # step 3 finished and saved, step 4 never run
    assert not (tmp_path / "run" / "model.safetensors").exists()  # no final model from a run cut short
    assert "SIGTERM received" in stopped.stderr
    assert "Stopped by SIGTERM at step 3 of 4 with a complete checkpoint" in stopped.stderr
    assert "the same train_avssl.py command (or resume_from_checkpoint='latest') goes on from it" in stopped.stderr

    train(run)  # the same command
    assert_same_end(tmp_path / "run", uninterrupted)


@pytest.mark.slow
@pytest.mark.parametrize(
    "when, signal_name, extra",
    [
        ("evaluation", "SIGUSR1", ["--eval_strategy", "steps", "--eval_steps", "2", "--save_steps", "3"]),
        ("save", "SIGTERM", []),
    ],
    ids=["during-an-evaluation", "during-a-save"],
)
def test_a_signal_during_an_evaluation_or_a_save_stops_with_that_steps_checkpoint(
    tmp_path, avsynth, when, signal_name, extra
):
    stopped = signalled(when, signal_name, tiny_run(tmp_path / "run", avsynth, *CHECKPOINTS, *extra))
    assert stopped.returncode == PREEMPTED_EXIT_CODE, stopped.stderr[-3000:]
    assert saved_steps(tmp_path / "run") == [2]  # saved after the evaluation or the save of step 2, no step after
    state = json.loads((tmp_path / "run" / "checkpoint-2" / "trainer_state.json").read_text())
    assert state["global_step"] == 2
    assert f"Stopped by {signal_name} at step 2 of 4" in stopped.stderr


@pytest.mark.slow
def test_two_processes_signalled_through_their_launcher_stop_together_and_resume_to_the_same_end(tmp_path, avsynth):
    train(tiny_run(tmp_path / "prepare", avsynth, "--max_steps", "1"))  # generates AVSynth once, outside the launch
    steps_and_workers = [*CHECKPOINTS, "--dataloader_num_workers", "1"]  # workers are signalled with their process
    run = tiny_run(tmp_path / "run", avsynth, *steps_and_workers)
    script = os.path.join(ROOT, "tests", "signalled_run.py")
    stopped = accelerate_launch([script, "step:1", "SIGTERM", "launcher", *run], timeout=600)
    assert stopped.returncode != 0 and "Received 15 death signal" in stopped.stderr, stopped.stderr[-3000:]
    steps = saved_steps(tmp_path / "run")
    assert steps and steps[-1] in (2, 3), steps  # a checkpoint of the step the processes agreed to stop after
    assert stopped.stderr.count(f"Stopped by SIGTERM at step {steps[-1]} of 4") == 2  # each process, the same step
    assert stopped.stderr.count(f"exiting with code {PREEMPTED_EXIT_CODE}") == 2
    assert not (tmp_path / "run" / "model.safetensors").exists()

    resumed = accelerate_launch([os.path.join(ROOT, "train_avssl.py"), *run])  # the same command
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    whole = accelerate_launch(
        [os.path.join(ROOT, "train_avssl.py"), *tiny_run(tmp_path / "whole", avsynth, *steps_and_workers)]
    )
    assert whole.returncode == 0, whole.stderr[-3000:]
    assert_same_end(tmp_path / "run", tmp_path / "whole")
