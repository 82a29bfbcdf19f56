"""Checkpoints a run can trust: which folder a resume takes, and a check of every file in it before it is read.

A checkpoint folder is complete when `COMPLETE_FILE` is in it: written (by a rename, so never half written) after
every process has written its files, and before older checkpoints are rotated away. A run killed while saving
leaves a folder without it, which `--resume_from_checkpoint latest` passes over for the newest complete one. Each
file of the folder is read once before resuming, so a damaged or missing one is an error that names it and says
what is wrong (or, for optional state, a warning that says what restarts) rather than a parser's traceback. A save
that fails (a full disk, a failing device) stops the run with a `SaveError` naming the folder, the cause, the space
left and the checkpoint a resume takes (`save_failed`). Why a marker rather than a folder renamed when complete, and
the files of a checkpoint: docs/checkpoints.md.
"""

import json
import logging
import os
import re
import shutil

import torch
from safetensors import SafetensorError, safe_open


logger = logging.getLogger(__name__)

COMPLETE_FILE = "checkpoint_complete.json"
TEACHER_FILE, STATE_FILE = "teacher.safetensors", "avssl_state.json"
PROCESS_STATE_FILE = "avssl_process_state_{}.json"  # one per process: its mixing generator, its stream's bad rows
_CHECKPOINT = re.compile(r"^checkpoint-(\d+)$")


class CheckpointError(ValueError):
    """A checkpoint that cannot be resumed from: missing, incomplete, or holding a damaged file."""


def _restore_on_indexed_cpu(storage, location: str):
    """A torch deserializer for "cpu:N" locations: transformers 5.17 resumes the optimizer of a multi-process CPU run
    with `map_location=args.device`, "cpu:0", which torch cannot restore (later versions pass "cpu"). Returns the
    storage where it is, on the CPU; None for any other location."""
    return storage if re.fullmatch(r"cpu:\d+", location) else None


torch.serialization.register_package(11, lambda storage: None, _restore_on_indexed_cpu)  # tags nothing it saves


class SaveError(RuntimeError):
    """Writing a checkpoint or the trained model failed."""


def save_failed(folder: str, error: BaseException, output_dir: str) -> SaveError:
    """The error that stops a run whose writing of `folder` (a checkpoint, or `output_dir` for the trained model)
    failed with `error`: it names the folder, the cause, the space left on its file system and what a resume takes.
    (A full disk is no `OSError` for every writer: `torch.save` reports one as an "unexpected pos".)"""
    free = shutil.disk_usage(folder if os.path.isdir(folder) else output_dir).free / 2**20
    latest = latest_complete(output_dir)
    resume = f"a resume takes {latest}" if latest else "there is no complete checkpoint to resume from"
    what = "it is incomplete, so no resume takes it" if folder != output_dir else "the trained model is not saved"
    return SaveError(
        f"Writing {folder} failed ({type(error).__name__}: {error}; {free:.1f} MiB free on its file system): {what}; "
        f"{resume}. Free space (or replace the failing device) and run the same command again."
    )


def mark_complete(folder: str, step: int) -> None:
    """Marks `folder` complete (call once every process has written its files)."""
    temporary = os.path.join(folder, f".{COMPLETE_FILE}.tmp")
    with open(temporary, "w") as handle:
        json.dump({"global_step": step}, handle)
    os.replace(temporary, os.path.join(folder, COMPLETE_FILE))


def is_complete(folder: str) -> bool:
    return os.path.isfile(os.path.join(folder, COMPLETE_FILE))


def latest_complete(output_dir: str) -> str | None:
    """The complete `checkpoint-N` folder of `output_dir` with the largest N; incomplete newer ones are named in a
    warning."""
    if not os.path.isdir(output_dir):
        return None
    steps = sorted(
        (int(match.group(1)), name)
        for name in os.listdir(output_dir)
        if (match := _CHECKPOINT.match(name)) and os.path.isdir(os.path.join(output_dir, name))
    )
    for _, name in reversed(steps):
        folder = os.path.join(output_dir, name)
        if is_complete(folder):
            return folder
        logger.warning("%s is incomplete (the run stopped while saving it); passing over it", folder)
    return None


def resumes(resume_from_checkpoint: str | bool | None) -> bool:
    """Whether a `resume_from_checkpoint` value asks for a resume."""
    return resume_from_checkpoint not in (None, False, "", "false", "False")


def resolve(resume_from_checkpoint: str | bool | None, output_dir: str) -> str | None:
    """The folder a run resumes from: None for no resume; `True`, "true" or "latest" for the newest complete
    checkpoint of `output_dir`; otherwise the folder named, which must be complete."""
    if not resumes(resume_from_checkpoint):
        return None
    if resume_from_checkpoint is True or str(resume_from_checkpoint).lower() in ("true", "latest"):
        folder = latest_complete(output_dir)
        if folder is None:
            raise CheckpointError(f"no complete checkpoint to resume from in {output_dir}")
        return folder
    folder = str(resume_from_checkpoint)
    if not os.path.isdir(folder):
        raise CheckpointError(f"{folder}: no such checkpoint folder")
    if not is_complete(folder):
        raise CheckpointError(
            f"{folder}: incomplete, no {COMPLETE_FILE} (the run stopped while saving it); resume from an earlier one "
            "or with --resume_from_checkpoint latest"
        )
    return folder


def _json(path: str, keys: tuple[str, ...]) -> None:
    try:
        with open(path) as handle:
            content = json.load(handle)
    except FileNotFoundError as error:
        raise CheckpointError(f"{path}: missing") from error
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise CheckpointError(f"{path}: damaged, not valid JSON ({error})") from error
    missing = [key for key in keys if not isinstance(content, dict) or key not in content]
    if missing:
        raise CheckpointError(f"{path}: damaged, it lacks {', '.join(missing)}")


def _safetensors(path: str) -> None:
    if not os.path.isfile(path):
        raise CheckpointError(f"{path}: missing")
    try:
        with safe_open(path, framework="pt") as handle:
            for key in handle.keys():
                handle.get_slice(key)
    except (SafetensorError, OSError, ValueError) as error:
        raise CheckpointError(f"{path}: damaged safetensors file ({error})") from error


def _torch(path: str, what: str, required: bool) -> None:
    """A tensor file the Trainer reads: a required one must load (with `weights_only`, as the Trainer loads it); an
    optional one (the RNG states, which hold numpy objects the Trainer allows itself) only has to be there."""
    if not os.path.isfile(path):
        if required:
            raise CheckpointError(f"{path}: missing; without it the {what} would silently restart")
        logger.warning("%s: missing; the %s restarts", path, what)
        return
    if not required:
        return
    try:
        torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # noqa: BLE001 - torch.load raises many kinds on a damaged file
        raise CheckpointError(f"{path}: damaged, cannot be loaded ({type(error).__name__}: {error})") from error


def _fsdp_state(folder: str, name: str, what: str) -> None:
    """What accelerate saves of an FSDP run under `name`: one `name.bin` (a full state dict) or a `name_0` folder
    of `torch.distributed.checkpoint` shards (a sharded one)."""
    if os.path.isdir(os.path.join(folder, f"{name}_0")):
        if not os.path.isfile(os.path.join(folder, f"{name}_0", ".metadata")):
            raise CheckpointError(f"{os.path.join(folder, name + '_0')}: incomplete sharded {what} (no .metadata)")
    else:
        _torch(os.path.join(folder, f"{name}.bin"), what, required=True)


def validate(folder: str, process_index: int, world_size: int, save_only_model: bool, fsdp: bool = False) -> None:
    """Reads every file a resume of `folder` needs; raises `CheckpointError` naming the first missing or damaged one,
    and warns of missing optional state (the RNG states of the Trainer: dropout and sampling then differ from the
    uninterrupted run). `fsdp`: the checkpoint of an FSDP run, whose student and optimizer the Trainer reads from
    accelerate's FSDP files."""
    weights = os.path.join(folder, "model.safetensors")
    if fsdp:
        _fsdp_state(folder, "pytorch_model_fsdp", "student's weights")
    elif os.path.isfile(weights) or not os.path.isfile(os.path.join(folder, "model.safetensors.index.json")):
        _safetensors(weights)
    _json(os.path.join(folder, "trainer_state.json"), ("global_step",))
    _safetensors(os.path.join(folder, TEACHER_FILE))
    _json(os.path.join(folder, STATE_FILE), ("thresholds", "bad_files", "samples_seen"))
    _json(os.path.join(folder, PROCESS_STATE_FILE.format(process_index)), ("mixing_rng", "bad_stream_rows"))
    if not save_only_model:
        if fsdp:
            _fsdp_state(folder, "optimizer", "optimizer state (momentum)")
        else:
            _torch(os.path.join(folder, "optimizer.pt"), "optimizer state (momentum)", required=True)
        _torch(os.path.join(folder, "scheduler.pt"), "learning-rate schedule", required=True)
        rng = "rng_state.pth" if world_size <= 1 else f"rng_state_{process_index}.pth"
        _torch(os.path.join(folder, rng), "random state of dropout and sampling", required=False)
