"""One run per output folder, and whether a run goes on from the folder's checkpoints or starts over.

`held` keeps a second run out of a folder a live run writes into (a resubmitted job, a typo): the first process holds
an exclusive lock (`fcntl.flock`) on `LOCK_FILE` for the whole run, with its process, host, start time and command
written in it, and the operating system releases the lock when the process ends, however it ends. A run that finds
the lock held refuses at start, naming the holder; one that finds it free but not empty takes over the lock a dead
run left, with a warning. On a file system without working locks (NFS mounted with `nolock` or `local_lock=all`)
runs on different hosts are not kept apart; the run warns when the file system refuses the lock.

`resume_point` keeps the contract of transformers' `run_*.py` scripts: a run into a folder with a complete checkpoint
goes on from the newest one (a preempted job resubmitted with the same command resumes), unless
`--resume_from_checkpoint` names another or `--overwrite_output_dir` starts over, which deletes the earlier run's
checkpoints so that no later resume can take one of them.
"""

import datetime
import fcntl
import json
import logging
import os
import shutil
import socket
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from transformers.trainer_utils import PREFIX_CHECKPOINT_DIR

from ..method import checkpoints


logger = logging.getLogger(__name__)

LOCK_FILE = "_avssl_run.lock"  # "_*" files are not pushed to the Hub (`Trainer.push_to_hub`)


class OutputFolderInUse(RuntimeError):
    """Another live run holds the output folder."""


def _holder(handle) -> dict:
    """What the lock file says of the run that holds (or held) it; empty when it says nothing readable."""
    handle.seek(0)
    try:
        holder = json.loads(handle.read() or "{}")
    except json.JSONDecodeError:
        return {}
    return holder if isinstance(holder, dict) else {}


def _described(holder: dict) -> str:
    return (
        f"process {holder.get('pid', '?')} on host {holder.get('host', '?')}, started {holder.get('started', '?')} "
        f"({' '.join(holder.get('command', [])) or 'command unknown'})"
    )


@contextmanager
def held(output_dir: str) -> Iterator[None]:
    """Holds `output_dir` (made if missing) for one run; raises `OutputFolderInUse` naming the live run that holds
    it. Call it on one process of a run (the first)."""
    os.makedirs(output_dir, exist_ok=True)
    path = os.path.join(output_dir, LOCK_FILE)
    handle = open(path, "a+")  # noqa: SIM115 - kept open, and so locked, until the run ends
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise OutputFolderInUse(
                f"{output_dir} is in use by another run: {_described(_holder(handle))}. Wait for it to end, or give "
                "this run another --output_dir."
            ) from None
        except OSError as error:  # a file system without locks
            logger.warning("%s: cannot be locked (%s); nothing keeps another run out of %s", path, error, output_dir)
        previous = _holder(handle)
        if previous:
            logger.warning(
                "%s: taking over from a run that ended without releasing it: %s",
                path,
                _described(previous),
            )
        mine = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "started": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "command": sys.argv,
        }
        handle.seek(0)
        handle.truncate()
        json.dump(mine, handle)
        handle.flush()
        try:
            yield
        finally:
            handle.truncate(0)  # released, whatever ended the run: the next one finds it empty
    finally:
        handle.close()


def resume_point(
    output_dir: str, resume_from_checkpoint: str | None, overwrite_output_dir: bool, main_process: bool
) -> str | None:
    """What the run resumes from: `resume_from_checkpoint` as given; else, without `overwrite_output_dir`, the
    newest complete checkpoint of `output_dir` (None without one). With `overwrite_output_dir` and no resume asked
    for, the main process deletes the folder's checkpoints (those of its supervised-only baseline too)."""
    if checkpoints.resumes(resume_from_checkpoint):
        return resume_from_checkpoint
    if overwrite_output_dir:
        if main_process:
            for folder in (output_dir, os.path.join(output_dir, "supervised_only")):
                for name in sorted(os.listdir(folder)) if os.path.isdir(folder) else []:
                    if name.startswith(f"{PREFIX_CHECKPOINT_DIR}-"):
                        logger.warning("--overwrite_output_dir: deleting %s", os.path.join(folder, name))
                        shutil.rmtree(os.path.join(folder, name))
        return None
    folder = checkpoints.latest_complete(output_dir)
    if folder is not None:
        logger.warning(
            "Checkpoint detected, resuming training from %s. To start over, add --overwrite_output_dir (which "
            "deletes the earlier run's checkpoints) or change --output_dir.",
            folder,
        )
    return folder
