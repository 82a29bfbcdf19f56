"""`train_avssl.py` on webdataset shards, as a streamed VGGSound or Kinetics-400 runs: the labeled split drawn from the
stream, its samples cached as files, separate test shards, a dataset repository (what a Hub id is), Kinetics-400 tar
shards labelled by their annotation CSVs, a resume in the middle of the stream, and two processes on shards that hold
bad files."""

import json
import os

import numpy as np
import pytest
from runs import assert_same_end, launch_two_processes, train

from modeling_avssl.data.avsynth import generate
from modeling_avssl.data.sharding import write_shards
from modeling_avssl.data.sources import video_folder
from trees import write_broken, write_tar, write_video


pytestmark = pytest.mark.slow  # whole training runs


ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TINY = os.path.join(ROOT, "configs", "avsynth_tiny.yaml")


def shards_of(root, out, bad: bool) -> tuple[str, str]:
    """Train and test shards of a small AVSynth set (with `bad`, two unreadable clips and one without audio)."""
    generate(root, 48, 12, seed=0)
    if bad:
        train_files = sorted((root / "train").rglob("*.mp4"))
        write_broken(train_files[5])
        write_broken(train_files[20])
        write_video(train_files[33], audio=False)
    for split in ("train", "test"):
        write_shards(video_folder(root, split), out / split, split, shard_size=16)
    return str(out / "train" / "*.tar"), str(out / "test" / "*.tar")


@pytest.fixture(scope="module")
def clean_shards(tmp_path_factory):
    folder = tmp_path_factory.mktemp("clean")
    return shards_of(folder / "avsynth", folder / "shards", bad=False)


@pytest.fixture(scope="module")
def bad_shards(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bad")
    return shards_of(folder / "avsynth", folder / "shards", bad=True)


def streamed_run(output_dir, shards, *extra, dataset: str = "webdataset") -> list[str]:
    """The tiny run on `shards`: (train, test) shard globs, or one data path holding both splits."""
    train_shards, test_shards = shards if isinstance(shards, tuple) else (shards, None)
    return [
        TINY,
        "--dataset",
        dataset,
        "--data_path",
        train_shards,
        *(["--eval_data_path", test_shards] if test_shards else []),
        "--output_dir",
        str(output_dir),
        "--model_config",
        os.path.join(ROOT, "configs", "avsynth_tiny_model.json"),
        *extra,
    ]


CHECKPOINTS = ["--max_steps", "4", "--save_strategy", "steps", "--save_steps", "2"]


def test_a_run_on_shards_draws_its_split_from_the_stream_and_tests_on_the_test_shards(tmp_path, clean_shards):
    train(streamed_run(tmp_path / "run", clean_shards, "--max_steps", "2"))

    split = json.loads((tmp_path / "run" / "labeled_split.json").read_text())
    cached = json.loads((tmp_path / "run" / "labeled_cache" / "rows.json").read_text())
    assert len(split["labeled"]) == 12 and split["num_samples"] == 48
    assert sorted(cached["index"]) == split["labeled"] and all(os.path.isfile(path) for path in cached["video"])
    results = json.loads((tmp_path / "run" / "eval_results.json").read_text())
    assert results["eval_videos"] == 12  # the test shards, not the training ones


def test_a_run_on_a_dataset_repository_trains_on_its_train_split_and_tests_on_its_test_split(tmp_path):
    generate(tmp_path / "avsynth", 48, 12, seed=0)
    repository = tmp_path / "repository"  # laid out as a Hub dataset repository: train-*.tar, test-*.tar, classes.json
    for split in ("train", "test"):
        write_shards(video_folder(tmp_path / "avsynth", split), repository, split, shard_size=16)

    train(streamed_run(tmp_path / "run", str(repository), "--max_steps", "2"))

    split = json.loads((tmp_path / "run" / "labeled_split.json").read_text())
    assert len(split["labeled"]) == 12 and split["num_samples"] == 48
    assert json.loads((tmp_path / "run" / "eval_results.json").read_text())["eval_videos"] == 12


def test_a_run_on_kinetics_tar_shards_takes_its_labels_from_the_annotation_csvs(tmp_path):
    generate(tmp_path / "avsynth", 48, 12, seed=0)
    root = tmp_path / "k400"  # <split>/*.tar of <youtube_id>_<start>_<end>.mp4, annotations/<split>.csv
    (root / "annotations").mkdir(parents=True)
    for split in ("train", "val"):
        source = video_folder(tmp_path / "avsynth", "train" if split == "train" else "test")
        rows, members = ["label,youtube_id,time_start,time_end,split"], {}
        for row in source.dataset:
            youtube_id = f"clip{split}{row['index']:03d}"
            rows.append(f"{source.classes[row['label']]},{youtube_id},10,20,{split}")
            with open(row["video"], "rb") as video:
                members[f"{youtube_id}_000010_000020.mp4"] = video.read()
        write_tar(root / split / "part-0.tar", members)
        (root / "annotations" / f"{split}.csv").write_text("\n".join(rows) + "\n")

    train(streamed_run(tmp_path / "run", str(root), "--max_steps", "2", "--eval_split", "val", dataset="kinetics400"))

    split = json.loads((tmp_path / "run" / "labeled_split.json").read_text())
    assert len(split["labeled"]) == 12 and split["num_samples"] == 48
    assert json.loads((tmp_path / "run" / "eval_results.json").read_text())["eval_videos"] == 12


def test_a_streamed_run_resumes_in_the_middle_of_the_stream_to_the_uninterrupted_weights(tmp_path, clean_shards):
    train(streamed_run(tmp_path / "whole", clean_shards, *CHECKPOINTS))
    train(
        streamed_run(
            tmp_path / "resumed",
            clean_shards,
            *CHECKPOINTS,
            "--resume_from_checkpoint",
            str(tmp_path / "whole" / "checkpoint-2"),
        )
    )
    assert_same_end(tmp_path / "resumed", tmp_path / "whole")


def test_a_stream_whose_bad_files_were_replaced_before_the_checkpoint_resumes_where_it_stopped(tmp_path, bad_shards):
    run = ["--max_steps", "8", "--save_strategy", "steps", "--save_steps", "4", "--unlabeled_ratio", "4"]
    train(streamed_run(tmp_path / "whole", bad_shards, *run))
    checkpoint = tmp_path / "whole" / "checkpoint-4"
    assert json.loads((checkpoint / "avssl_state.json").read_text())["bad_files"]  # replaced before the checkpoint
    train(streamed_run(tmp_path / "resumed", bad_shards, *run, "--resume_from_checkpoint", str(checkpoint)))
    assert_same_end(tmp_path / "resumed", tmp_path / "whole", step=8)


def test_two_processes_complete_a_run_on_shards_with_bad_files(tmp_path, bad_shards):
    out = tmp_path / "processes.json"
    run = streamed_run(tmp_path / "ddp", bad_shards, "--max_steps", "8", "--per_device_train_batch_size", "1")
    launch = launch_two_processes(out, run, timeout=900)
    assert launch.returncode == 0, launch.stderr[-3000:]
    assert "skipping a bad file" in launch.stderr
    first, second = json.loads(out.read_text())
    assert first["teacher"] == second["teacher"]
    assert np.isfinite(first["teacher"]).all()
