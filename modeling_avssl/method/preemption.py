"""Stopping a preempted run with one complete checkpoint, on every process at the same step.

SLURM, Kubernetes and spot instances end a job with SIGTERM (SLURM's `--signal` sends SIGUSR1 first) and kill it a
grace period later. While a trainer trains, either signal only raises a flag. The processes learn together whether
any of them was signalled: at each step in the reduction the non-finite check already makes (`non_finite.py`, so no
more waiting for the device), and after an evaluation or a save. Every process then finishes the step it is in, the
Trainer saves one checkpoint (the same completion marker and rotation as any save, `state.py`), skips the evaluation
it was due to run, and stops; `train_avssl.py` exits with `PREEMPTED_EXIT_CODE`, and the same command goes on where
it stopped (`run/output_folder.py`). Loader workers ignore both signals (`data.collation.loader_options`): a
launcher signals each process's whole group, and only the main process decides when to stop.
"""

import logging
import signal
import threading

import torch
import torch.distributed as dist
from transformers import TrainerCallback

from ..data.collation import STOP_SIGNALS


logger = logging.getLogger(__name__)

PREEMPTED_EXIT_CODE = 75  # EX_TEMPFAIL (sysexits.h): a temporary failure, to be retried


class Preempted(RuntimeError):
    """A stop signal ended training early; `Preemption` logged the checkpoint it saved and how to go on."""


class Preemption(TrainerCallback):
    """Turns `STOP_SIGNALS` into a checkpoint and a stop while training (the handlers of the process are restored when
    training ends). `requested` is this process's flag; `stopping`, set on every process at once, says a stop was
    agreed; `signal_name` names the first signal received."""

    def __init__(self):
        self.requested, self.stopping, self.signal_name = False, False, None
        self._training, self._previous = False, {}

    def _handle(self, number: int, frame) -> None:
        if not self.requested:
            self.signal_name = signal.Signals(number).name
            logger.warning("%s received: finishing this step, saving a checkpoint, then stopping", self.signal_name)
        self.requested = True

    def on_train_begin(self, args, state, control, **kwargs):
        self.requested, self.stopping, self.signal_name = False, False, None  # a trainer may train again
        self._training = True
        if threading.current_thread() is threading.main_thread():  # only the main thread may set handlers
            self._previous = {number: signal.signal(number, self._handle) for number in STOP_SIGNALS}

    def on_train_end(self, args, state, control, **kwargs):
        self._training = False
        for number, handler in self._previous.items():
            signal.signal(number, handler)
        self._previous = {}

    def flag(self, device: torch.device) -> torch.Tensor:
        """`requested` as a 0-d tensor on `device`, made without a copy from the host (a fill), for a reduction."""
        return torch.full((), float(self.requested), device=device)

    def agreed(self, requested_anywhere: bool, control) -> None:
        """Every process calls this at the same point with the reduced flag; from then on the run stops."""
        if requested_anywhere and not self.stopping:
            self.stopping = True
            control.should_save, control.should_training_stop = True, True
            control.should_evaluate = False  # the grace period is for the checkpoint

    def _agree(self, args, control) -> None:
        """Reduces the flag over the processes (outside the step's reduction) and acts on it."""
        flag = self.flag(args.device)
        if dist.is_available() and dist.is_initialized():
            dist.all_reduce(flag, op=dist.ReduceOp.MAX)
        self.agreed(bool(flag), control)

    def on_step_end(self, args, state, control, **kwargs):
        if self.stopping:  # after the Trainer's own flow callback: no evaluation now, a save
            control.should_save, control.should_training_stop, control.should_evaluate = True, True, False

    def on_evaluate(self, args, state, control, **kwargs):
        if self._training and not self.stopping:  # a signal during the evaluation: the save follows it directly
            self._agree(args, control)

    def on_save(self, args, state, control, **kwargs):
        if self._training:
            if not self.stopping:  # a signal during the save: this checkpoint is the one
                self._agree(args, control)
                control.should_save = False
            if self.stopping:
                logger.warning(
                    "Stopped by %s at step %d of %d with a complete checkpoint in %s; the same train_avssl.py "
                    "command (or resume_from_checkpoint='latest') goes on from it",
                    self.signal_name or "a signal to another process",
                    state.global_step,
                    state.max_steps,
                    args.output_dir,
                )

    def on_epoch_end(self, args, state, control, **kwargs):
        if self.stopping:  # the checkpoint is saved; the epoch's own evaluation and save are skipped
            control.should_evaluate = control.should_save = False
