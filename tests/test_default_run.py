"""The default run's stages: the default config, the localizer trained before training (or reused), the
supervised-only baseline, and what the output folder and the final summary hold."""

import json
import os
import subprocess
import sys

import datasets
import pytest
from runs import DEFAULT_CONFIG
from runs import train as main

from modeling_avssl import AVSSLConfig, AVSSLLocalizer
from modeling_avssl.run.arguments import parse_arguments
from modeling_avssl.run.components import spread_subset


ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TINY = os.path.join(ROOT, "configs", "avsynth_tiny.yaml")
TINY_LOCALIZER = {
    "embed_dim": 16,
    "image_size": 32,
    "visual_stages": 2,
    "visual_dropout": 0.0,
    "audio_features": {"type": "fbank", "sample_rate": 16000, "num_mel_bins": 32, "max_length": 64},
}


def test_the_default_config_runs_asl_mixup_on_avsynth_with_the_shipped_localizer_and_the_baseline():
    model_args, data_args, stages, training_args = parse_arguments([DEFAULT_CONFIG])
    assert data_args.dataset == "avsynth" and data_args.shots == 1
    assert training_args.mask_type == "asl" and stages.supervised_baseline and not model_args.model_config
    assert stages.localizer_config is None  # no localizer stage: the shipped one is frozen, as the paper's
    localizer = AVSSLLocalizer.from_pretrained(os.path.join(ROOT, training_args.localizer_name_or_path))
    with open(os.path.join(ROOT, "configs", "avsynth_localizer.json")) as handle:
        assert all(getattr(localizer.config, name) == value for name, value in json.load(handle).items())


def test_the_default_run_starts_from_the_shipped_pretrained_encoders():
    model_args = parse_arguments([DEFAULT_CONFIG])[0]
    shipped = AVSSLConfig.from_pretrained(os.path.join(ROOT, model_args.model_name_or_path))
    with open(os.path.join(ROOT, "configs", "avsynth_model.json")) as handle:
        architecture = json.load(handle)
    for encoder in ("video_config", "audio_config"):
        for name, value in architecture.pop(encoder).items():
            assert getattr(getattr(shipped, encoder), name) == value, (encoder, name)
    assert all(getattr(shipped, name) == value for name, value in architecture.items())
    assert shipped.video_pooling == "mean"
    assert os.path.exists(os.path.join(ROOT, model_args.model_name_or_path, "model.safetensors"))


@pytest.fixture(scope="module")
def default_like_run(tmp_path_factory):
    """The tiny config run the way the default runs: ASL with a localizer trained first, and the baseline."""
    tmp = tmp_path_factory.mktemp("run")
    (tmp / "localizer.json").write_text(json.dumps(TINY_LOCALIZER))
    argv = [
        TINY,
        "--data_path",
        str(tmp / "avsynth"),
        "--output_dir",
        str(tmp / "out"),
        "--mask_type",
        "asl",
        "--localizer_config",
        str(tmp / "localizer.json"),
        "--localizer_name_or_path",
        str(tmp / "localizer"),
        "--localizer_epochs",
        "2",
        "--localizer_mean_pooling_epochs",
        "1",
        "--localizer_batch_size",
        "16",
        "--supervised_baseline",
        "true",
        "--oracle_eval_steps",
        "2",
    ]
    return tmp, argv


@pytest.mark.slow
def test_the_run_trains_the_localizer_first_then_writes_model_pictures_and_both_results(default_like_run, capsys):
    tmp, argv = default_like_run
    main(argv)

    localizer = AVSSLLocalizer.from_pretrained(tmp / "localizer")
    assert localizer.config.visual_stages == 2
    out = tmp / "out"
    assert {"model.safetensors", "README.md", "eval_results.json", "loss_curves.png", "masks.png"} <= set(
        os.listdir(out)
    )
    metrics = json.loads((out / "eval_results.json").read_text())
    assert 0 <= metrics["eval_top1"] <= 1 and 0 <= metrics["supervised_only_top1"] <= 1
    assert metrics["supervised_only_videos"] == metrics["eval_videos"] == metrics["teacher_videos"] == 12
    # the oracle: the best of the supervised-only model's tests at steps 2, 4 and 6, the last being its result
    baseline_log = json.loads((out / "supervised_only" / "eval_results.json").read_text())
    assert baseline_log["supervised_only_best_step"] in (2, 4, 6)
    assert metrics["supervised_only_best_top1"] >= metrics["supervised_only_top1"]
    card = (out / "README.md").read_text()
    assert (
        "supervised_only_top1" in card
        and "teacher_top1" in card
        and "The weights in this folder are the student's" in card
    )
    printed = capsys.readouterr().out
    assert "supervised-only top-1 (same labels)" in printed and "chance (1 / classes)" in printed
    assert "teacher top-1" in printed and "best of its tests (step" in printed
    assert "0.083" in printed  # 12 classes


@pytest.mark.slow
def test_a_localizer_already_there_is_reused(default_like_run):
    tmp, argv = default_like_run
    weights = tmp / "localizer" / "model.safetensors"
    if not weights.exists():
        main(argv)
    before = weights.stat().st_mtime_ns
    main([*argv, "--supervised_baseline", "false", "--max_steps", "1"])
    assert weights.stat().st_mtime_ns == before


TRACKIO_RUN = """
import json, runpy, sys

main = runpy.run_path(sys.argv[1], run_name="train_avssl")["main"]
main(sys.argv[3:])
from trackio.sqlite_storage import SQLiteStorage  # after the run: TRACKIO_DIR is read when trackio is imported

runs = SQLiteStorage.get_runs(sys.argv[2])
print("LOGS", json.dumps({run: SQLiteStorage.get_logs(sys.argv[2], run) for run in runs}))
"""


@pytest.mark.slow
def test_trackio_gets_every_term_the_diagnostics_and_the_mask_picture_at_each_evaluation(default_like_run):
    tmp, argv = default_like_run
    out = tmp / "trackio_run"
    tests = ["--eval_strategy", "steps", "--eval_steps", "3"]  # tests during training, then the final one
    run = [*argv, "--output_dir", str(out), "--report_to", "trackio", "--project", "avssl-test", *tests]
    run += ["--supervised_baseline", "false"]
    env = {**os.environ, "TRACKIO_DIR": str(tmp / "trackio"), "HF_HUB_OFFLINE": "1"}

    result = subprocess.run(
        [sys.executable, "-c", TRACKIO_RUN, os.path.join(ROOT, "train_avssl.py"), "avssl-test", *run],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )

    assert result.returncode == 0, result.stderr[-3000:]
    printed = next(line for line in result.stdout.splitlines() if line.startswith("LOGS "))
    runs = json.loads(printed.removeprefix("LOGS "))
    assert list(runs) == ["trackio_run"]  # the tests after training join the run (named after the folder)
    logs = runs["trackio_run"]
    keys = {key for entry in logs for key in entry}
    terms = {f"train/{name}" for name in ("loss_s", "loss_u", "loss_mix", "loss_c")}
    diagnostics = {"train/pseudo_label_accuracy", "train/above_threshold", "train/threshold_mean", "train/lambda"}
    assert terms | diagnostics | {"eval/top1", "eval/top5"} <= keys
    pictures = [entry for entry in logs if "masks" in entry]
    assert len({entry["step"] for entry in pictures}) >= 2
    assert all(entry["masks"]["_type"] == "trackio.image" for entry in pictures)


def test_a_test_subset_is_spread_over_a_folder_that_lists_videos_class_by_class():
    rows = datasets.Dataset.from_dict({"label": [c for c in range(12) for _ in range(50)]})
    subset = spread_subset(rows, 240)
    assert len(subset) == 240 and sorted(set(subset["label"])) == list(range(12))
    assert max(subset["label"].count(c) for c in range(12)) - min(subset["label"].count(c) for c in range(12)) <= 1
    assert len(spread_subset(rows, 1000)) == 600


@pytest.mark.slow
def test_tensorboard_gets_every_term_the_diagnostics_and_the_mask_picture_at_each_evaluation(default_like_run):
    from tensorboard.backend.event_processing.event_multiplexer import EventMultiplexer

    tmp, argv = default_like_run
    out = tmp / "tensorboard"
    tests = ["--eval_strategy", "steps", "--eval_steps", "3"]  # tests during training, then the final one
    main([*argv, "--output_dir", str(out), "--report_to", "tensorboard", "--supervised_baseline", "false", *tests])

    runs = EventMultiplexer().AddRunsFromDirectory(str(out)).Reload()
    tags = runs.Runs()
    scalars = {tag for kinds in tags.values() for tag in kinds["scalars"]}
    terms = {f"train/{name}" for name in ("loss_s", "loss_u", "loss_mix", "loss_c")}
    diagnostics = {"train/pseudo_label_accuracy", "train/above_threshold", "train/threshold_mean", "train/lambda"}
    assert terms | diagnostics | {"eval/top1", "eval/top5"} <= scalars
    pictures = [
        event for run, kinds in tags.items() if "masks" in kinds["images"] for event in runs.Images(run, "masks")
    ]
    assert len({event.step for event in pictures}) >= 2 and all(event.encoded_image_string for event in pictures)
