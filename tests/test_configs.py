"""Every shipped config loads, and the first step of each training config runs on tiny stand-ins: small trees in the
data set's own layout, tiny encoders, and a localizer with the audio features of a converted FNAC checkpoint."""

import glob
import os

import pytest
from accelerate.commands.config.config_args import load_config_from_file

from modeling_avssl import AVSSLLocalizer, AVSSLLocalizerConfig
from train_avssl import main as train
from train_avssl import parse_arguments
from trees import write_video


ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PAPER = sorted(glob.glob(os.path.join(ROOT, "configs", "*_?shot.yaml")))
VARIANTS = sorted(glob.glob(os.path.join(ROOT, "configs", "variants", "*.yaml")))
ACCELERATE = sorted(glob.glob(os.path.join(ROOT, "configs", "accelerate", "*.yaml")))


@pytest.fixture(scope="module")
def stand_ins(tmp_path_factory) -> dict[str, list[str]]:
    """For each data set, the arguments that point its config at a small tree in its layout (two classes, six
    training clips each), a tiny model and a tiny FNAC-style localizer."""
    root = tmp_path_factory.mktemp("stand_ins")
    classes = ("Drumming", "PlayingCello")
    lists = {"train": [], "test": []}
    for label in classes:
        for group in range(1, 8):
            entry = f"{label}/v_{label}_g{group:02d}_c01.avi"
            write_video(root / "UCF-101" / entry, shade=30 * group)
            lists["train" if group < 7 else "test"].append(entry)
            split = "train" if group < 7 else "val"
            write_video(root / "kinetics400" / split / label.lower() / f"{group}.mp4", shade=30 * group)
            write_video(root / "vggsound" / f"yt{label}{group}_000010.mp4", shade=30 * group)
    for name, entries in lists.items():
        (root / "UCF-101" / f"{name}list01.txt").write_text("".join(f"{entry} 1\n" for entry in entries))
    rows = [
        f"yt{label}{group},10,{label.lower()},{'train' if group < 7 else 'test'}\n"
        for label in classes
        for group in range(1, 8)
    ]
    (root / "vggsound.csv").write_text("".join(rows))
    features = {
        "type": "log_spectrogram",
        "sample_rate": 16000,
        "window": 512,
        "overlap": 274,
        "seconds": 3.0,
        "std": 12.0,
    }
    AVSSLLocalizer(AVSSLLocalizerConfig(embed_dim=16, image_size=64, audio_features=features)).save_pretrained(
        root / "fnac"
    )
    common = [
        "--model_config",
        os.path.join(ROOT, "configs", "avsynth_tiny_model.json"),
        "--localizer_name_or_path",
        str(root / "fnac"),
        "--max_steps",
        "1",
        "--bf16",
        "false",
        "--use_cpu",
        "true",
        "--dataloader_num_workers",
        "0",
        "--max_eval_samples",
        "1",
        "--eval_clips",
        "1",
        "--eval_crops",
        "1",
        "--save_strategy",
        "no",
        "--logging_steps",
        "1",
    ]
    return {
        "ucf51": ["--data_path", str(root / "UCF-101"), *common],
        "kinetics400": ["--data_path", str(root / "kinetics400"), *common],
        "vggsound": ["--data_path", str(root / "vggsound"), "--vggsound_csv", str(root / "vggsound.csv"), *common],
    }


@pytest.mark.parametrize("config", PAPER, ids=os.path.basename)
def test_each_paper_config_runs_its_first_step(config, stand_ins, tmp_path):
    name = os.path.basename(config).rsplit("_", 1)[0]
    _, data_args, _, training_args = parse_arguments([config, *stand_ins[name]])
    assert training_args.mask_type == "asl" and training_args.threshold == "flex" and training_args.tau == 0.3
    assert training_args.mix_beta == [5.0, 10.0] and training_args.unlabeled_ratio == 5
    assert data_args.shots == int(config[-10])

    trainer = train([config, *stand_ins[name], "--output_dir", str(tmp_path)])

    assert trainer.state.global_step == 1
    assert os.path.exists(tmp_path / "model.safetensors")


@pytest.mark.parametrize("variant", VARIANTS, ids=os.path.basename)
def test_each_baseline_variant_runs_its_first_step(variant, stand_ins, tmp_path):
    config = os.path.join(ROOT, "configs", "ucf51_1shot.yaml")
    trainer = train([config, variant, *stand_ins["ucf51"], "--output_dir", str(tmp_path)])
    args, model_config = trainer.args, trainer.model.config
    assert trainer.state.global_step == 1
    assert model_config.is_audio_visual == ("video" not in os.path.basename(variant))
    assert args.mask_type == ("tube" if "tube" in variant else "asl")
    name = os.path.basename(variant)
    assert (args.gamma_contrastive == 0) == ("no_contrastive" in name or "contrastive" not in name)


@pytest.mark.parametrize("config", ACCELERATE, ids=os.path.basename)
def test_each_accelerate_config_loads(config):
    loaded = load_config_from_file(config)
    expected = {"single_gpu": "NO", "multi_gpu": "MULTI_GPU", "multi_node": "MULTI_GPU", "fsdp": "FSDP"}
    assert str(loaded.distributed_type).rsplit(".", 1)[-1] == expected[os.path.basename(config)[:-5]]
    assert loaded.mixed_precision == "bf16"
