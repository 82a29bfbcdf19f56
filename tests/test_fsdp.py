"""The trainer under FSDP2 on 2 CPU processes (`fsdp_on_cpu.py`), with the shipped `configs/accelerate/fsdp.yaml`:
its losses are the unsharded run's, a resumed run ends where the uninterrupted one does, and the saved folder is a
plain AVSSL folder."""

import json
import os
import shutil

import pytest
from runs import ROOT, assert_same_end, launch_two_processes

from modeling_avssl import AVSSLForVideoClassification
from modeling_avssl.method import checkpoints
from modeling_avssl.method.checkpoints import CheckpointError


pytestmark = pytest.mark.slow  # several training runs on two processes

TERMS = ("loss", "loss_s", "loss_u", "loss_mix", "loss_c")


FSDP = ("--config_file", os.path.join(ROOT, "configs", "accelerate", "fsdp.yaml"), "--mixed_precision", "no")


def launch(out, output_dir, data_path, *extra, fsdp: bool = True) -> None:
    """A tiny run of 4 steps (checkpoints at 2 and 4) on 2 CPU processes, under FSDP or DDP, tested on 5 videos."""
    run = [os.path.join(ROOT, "configs", "avsynth_tiny.yaml"), "--output_dir", str(output_dir)]
    run += ["--data_path", data_path, "--max_steps", "4", "--save_strategy", "steps", "--save_steps", "2"]
    run += [
        "--max_eval_samples",
        "5",
        "--per_device_eval_batch_size",
        "1",
        *extra,
    ]  # 3 test forwards on one, 2 on the other
    if fsdp:
        result = launch_two_processes(out, run, timeout=900, setup=FSDP, script="fsdp_on_cpu.py")
    else:
        result = launch_two_processes(out, run, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]


def logged_terms(output_dir) -> list[dict[str, float]]:
    history = json.loads((output_dir / "trainer_state.json").read_text())["log_history"]
    return [{name: entry[name] for name in TERMS if name in entry} for entry in history if "loss" in entry]


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return str(tmp_path_factory.mktemp("avsynth"))


@pytest.fixture(scope="module")
def sharded(tmp_path_factory, data):
    folder = tmp_path_factory.mktemp("fsdp")
    launch(folder / "processes.json", folder / "run", data)
    return folder


def test_the_student_is_sharded_and_every_process_ends_with_the_same_teacher(sharded):
    first, second = json.loads((sharded / "processes.json").read_text())
    assert first["model_class"] == second["model_class"] == "FSDPAVSSLForVideoClassification"
    assert first["teacher"] == second["teacher"]
    assert first["record"] == second["record"]


def test_the_losses_are_the_unsharded_runs(sharded, data, tmp_path):
    launch(tmp_path / "processes.json", tmp_path / "ddp", data, fsdp=False)

    sharded_terms, whole_terms = logged_terms(sharded / "run"), logged_terms(tmp_path / "ddp")

    assert len(sharded_terms) == len(whole_terms) == 2 and set(sharded_terms[-1]) == set(TERMS)
    for step_sharded, step_whole in zip(sharded_terms, whole_terms):
        assert step_sharded == pytest.approx(step_whole, rel=1e-3, abs=1e-4)


def test_a_resumed_run_ends_with_the_uninterrupted_runs_student_and_teacher(sharded, data, tmp_path):
    checkpoint = sharded / "run" / "checkpoint-2"
    assert (checkpoint / "pytorch_model_fsdp.bin").exists()  # the Trainer's sharded-run checkpoint

    launch(tmp_path / "processes.json", tmp_path / "resumed", data, "--resume_from_checkpoint", str(checkpoint))

    assert_same_end(tmp_path / "resumed", sharded / "run")


def test_the_processes_test_an_uneven_share_of_the_videos_in_step(sharded):
    assert json.loads((sharded / "run" / "eval_results.json").read_text())["eval_videos"] == 5


def test_the_saved_folder_is_a_plain_avssl_folder(sharded):
    folder = sharded / "run"
    config = json.loads((folder / "config.json").read_text())

    assert config["auto_map"]["AutoModelForVideoClassification"] == "modeling_avssl.AVSSLForVideoClassification"
    assert config["auto_map"]["AutoModel"] == "modeling_avssl.AVSSLModel"
    assert not [name for name in os.listdir(folder) if name.startswith("_fsdp")]  # no torch module copied as code
    model = AVSSLForVideoClassification.from_pretrained(folder)
    assert type(model) is AVSSLForVideoClassification and model.config.num_labels == 12


@pytest.mark.parametrize("name", ["pytorch_model_fsdp.bin", "optimizer.bin"])
def test_a_damaged_fsdp_file_is_refused_naming_it_before_a_resume(sharded, tmp_path, name):
    folder = tmp_path / "checkpoint-2"
    shutil.copytree(sharded / "run" / "checkpoint-2", folder)
    checkpoints.validate(str(folder), 0, 2, save_only_model=False, fsdp=True)
    (folder / name).write_bytes((folder / name).read_bytes()[:100])

    with pytest.raises(CheckpointError, match=f"{folder / name}: damaged"):
        checkpoints.validate(str(folder), 0, 2, save_only_model=False, fsdp=True)
