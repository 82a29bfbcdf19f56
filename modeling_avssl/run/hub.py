"""The Hub repository a run pushes to: checked before anything is trained, and a push that fails at the end reported
with how to push the saved folder later, rather than a connection's traceback."""

import logging
from pathlib import Path

from huggingface_hub import HfApi, constants


logger = logging.getLogger(__name__)

PUSH_EXCLUDES = ("_*", "checkpoint-*")  # what `Trainer.push_to_hub` leaves out of the folder: checkpoints, the lock


class HubUnavailable(RuntimeError):
    """The run's Hub repository cannot be reached, created or written; `saved`: the run's output folder was saved
    before (a failed push), rather than the run refused at its start."""

    def __init__(self, message: str, saved: bool):
        super().__init__(message)
        self.saved = saved


def repository_id(hub_model_id: str | None, output_dir: str) -> str:
    """The repository `Trainer.push_to_hub` pushes to: `hub_model_id`, or the output folder's name."""
    return hub_model_id or Path(output_dir).absolute().name


def check_repository(hub_model_id: str | None, output_dir: str, token: str | None, private: bool | None) -> str:
    """Makes sure the run's repository exists and the token may write to it, creating it as the Trainer would;
    returns its id. Raises `HubUnavailable` naming the repository, the endpoint and the cause."""
    name = repository_id(hub_model_id, output_dir)
    api = HfApi(token=token)
    try:
        role = api.whoami().get("auth", {}).get("accessToken", {}).get("role")
        if role == "read":
            raise PermissionError("the token is read-only")
        return api.create_repo(name, private=private, exist_ok=True).repo_id
    except Exception as error:  # noqa: BLE001 - whatever the cause (network, offline mode, token, rights), one report
        raise HubUnavailable(
            f"--push_to_hub: the repository {name} at {constants.ENDPOINT} cannot be reached or written "
            f"({type(error).__name__}: {error}). Nothing was trained. Check the network, HF_ENDPOINT and the token "
            "(`hf auth whoami`), or train without --push_to_hub and push the output folder later.",
            saved=False,
        ) from error


def push(trainer) -> None:
    """Uploads the output folder, everything in it saved (the model, the card `write_model_card` wrote, the reports),
    to the run's repository, as `Trainer.push_to_hub` would but without saving the student over an exported teacher
    or writing the Trainer's card over this one. A failure is a `HubUnavailable` that says how to push later."""
    if not trainer.is_world_process_zero():
        return
    args = trainer.args
    name = trainer.hub_model_id or repository_id(args.hub_model_id, args.output_dir)
    try:
        if trainer.push_in_progress is not None:  # the checkpoints' pushes (`hub_strategy`)
            trainer.push_in_progress.wait_until_done()
        HfApi(token=args.hub_token).upload_folder(
            repo_id=name,
            folder_path=args.output_dir,
            commit_message="End of training",
            ignore_patterns=list(PUSH_EXCLUDES),
            revision=args.hub_revision,
        )
    except Exception as error:  # noqa: BLE001 - whatever the cause, the folder is saved and can be pushed later
        excludes = " ".join(f"--exclude '{pattern}'" for pattern in PUSH_EXCLUDES)
        raise HubUnavailable(
            f"Pushing {args.output_dir} to {name} at {constants.ENDPOINT} failed ({type(error).__name__}: {error}). "
            f"Everything is saved in {args.output_dir}; push it later with:\n    hf upload {name} {args.output_dir} "
            f"{excludes}",
            saved=True,
        ) from error
