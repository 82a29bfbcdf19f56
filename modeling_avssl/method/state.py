"""The method's state a checkpoint carries beside the Trainer's (docs/checkpoints.md).

`MethodState` is the EMA teacher, the threshold record and the bad-file counts (one copy, written by the main
process), and each process's mixing generator and the bad rows its stream passed over. `MethodCheckpoints`, a
`TrainerCallback`, writes it into every checkpoint the Trainer saves, marks the folder complete once every process
has written, and only then rotates older checkpoints away, so a run killed while saving keeps its last complete one.
"""

import json
import os
from dataclasses import dataclass

import numpy as np
import torch
from accelerate import PartialState
from safetensors.torch import load_file, save_file
from transformers import TrainerCallback
from transformers.trainer_utils import PREFIX_CHECKPOINT_DIR, rotate_checkpoints

from ..data.bad_files import BadFileMonitor
from . import checkpoints
from .checkpoints import PROCESS_STATE_FILE, STATE_FILE, TEACHER_FILE
from .teacher import EMATeacher
from .thresholds import FixedThreshold, FlexMatchThresholds


@dataclass
class MethodState:
    """What the method adds to a run's state; every field is updated in place, so the trainer shares them."""

    teacher: EMATeacher
    thresholds: FixedThreshold | FlexMatchThresholds
    bad_files: BadFileMonitor
    mixing_rng: np.random.Generator
    bad_stream_rows: set[tuple[int, int]]  # (epoch, index) of the rows this process's stream found bad

    def save(self, folder: str, process_index: int, main_process: bool) -> None:
        """Writes this process's file, and with `main_process` the shared ones, into `folder`."""
        if main_process:
            teacher = {name: value.contiguous() for name, value in self.teacher.state_dict().items()}
            save_file(teacher, os.path.join(folder, TEACHER_FILE))
            shared = {
                "thresholds": {name: value.tolist() for name, value in self.thresholds.state_dict().items()},
                "bad_files": dict(self.bad_files.reasons),
                "samples_seen": self.bad_files.seen,
            }
            with open(os.path.join(folder, STATE_FILE), "w") as handle:
                json.dump(shared, handle)
        mine = {"mixing_rng": self.mixing_rng.bit_generator.state, "bad_stream_rows": sorted(self.bad_stream_rows)}
        with open(os.path.join(folder, PROCESS_STATE_FILE.format(process_index)), "w") as handle:
            json.dump(mine, handle)

    def load(self, folder: str, process_index: int) -> None:
        """Reads the state `save` wrote (checked first by `checkpoints.validate`)."""
        self.teacher.load_state_dict(load_file(os.path.join(folder, TEACHER_FILE)))
        with open(os.path.join(folder, STATE_FILE)) as handle:
            shared = json.load(handle)
        self.thresholds.load_state_dict({name: torch.tensor(value) for name, value in shared["thresholds"].items()})
        self.bad_files.reasons.update(shared["bad_files"])
        self.bad_files.seen = shared["samples_seen"]
        with open(os.path.join(folder, PROCESS_STATE_FILE.format(process_index))) as handle:
            mine = json.load(handle)
        self.mixing_rng.bit_generator.state = mine["mixing_rng"]
        self.bad_stream_rows.clear()
        self.bad_stream_rows.update(tuple(row) for row in mine["bad_stream_rows"])


class MethodCheckpoints(TrainerCallback):
    """Adds `state` to each checkpoint, then marks it complete and rotates: the Trainer's own rotation would run
    before these files exist, so the trainer hands its `save_total_limit` over to this callback."""

    def __init__(self, state: MethodState, save_total_limit: int | None):
        self.state, self.save_total_limit = state, save_total_limit

    def on_save(self, args, state, control, **kwargs):
        folder = os.path.join(args.output_dir, f"{PREFIX_CHECKPOINT_DIR}-{state.global_step}")
        self.state.save(folder, args.process_index, args.should_save)
        PartialState().wait_for_everyone()
        if args.should_save:
            checkpoints.mark_complete(folder, state.global_step)
            rotate_checkpoints(args.output_dir, self.save_total_limit, state.best_model_checkpoint, use_mtime=True)
