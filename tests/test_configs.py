"""Every shipped config loads, and the first step of each training config runs on tiny stand-ins: small trees in the
data set's own layout, tiny encoders, and a localizer with the audio features of a converted FNAC checkpoint."""

import glob
import os

import pytest
import torch
from accelerate.commands.config.config_args import load_config_from_file
from runs import train
from transformers import TrainerCallback

from modeling_avssl import AVSSLForVideoClassification, AVSSLLocalizer, AVSSLLocalizerConfig
from modeling_avssl.data import VideoAugmentation
from modeling_avssl.data.collation import ClipTransform
from modeling_avssl.data.splits import load_or_create_split, split_rows
from modeling_avssl.method.trainer import AVSSLTrainer
from modeling_avssl.run.arguments import parse_arguments
from modeling_avssl.run.components import load_data
from tiny import make_tiny_config
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
        "--supervised_warmup_epochs",
        "0",  # the first step is then a semi-supervised one
    ]
    return {
        "ucf51": ["--data_path", str(root / "UCF-101"), *common],
        "kinetics400": ["--data_path", str(root / "kinetics400"), *common],
        "vggsound": ["--data_path", str(root / "vggsound"), "--vggsound_csv", str(root / "vggsound.csv"), *common],
    }


@pytest.mark.slow
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


@pytest.fixture(scope="module")
def ucf51_sized(tmp_path_factory) -> str:
    """UCF-101's layout at UCF-51's size: 51 classes of 96 training and 28 test videos (4,896 / 1,428, links to a few
    real clips)."""
    root = tmp_path_factory.mktemp("ucf51") / "UCF-101"
    clips = [write_video(root.parent / f"clip{shade}.avi", shade=shade) for shade in (0, 80, 160)]
    lists = {"train": [], "test": []}
    for c in range(51):
        name = f"Class{c:02d}"
        os.makedirs(root / name)
        for g in range(124):
            entry = f"{name}/v_{name}_g{g:03d}_c01.avi"
            os.symlink(clips[g % 3], root / entry)
            lists["train" if g < 96 else "test"].append(entry)
    for split, entries in lists.items():
        (root / f"{split}list01.txt").write_text("".join(f"{entry}\n" for entry in entries))
    return str(root)


@pytest.mark.slow
def test_the_ucf51_config_trains_svformers_epochs_and_hands_a_warmed_up_student_to_the_teacher(
    ucf51_sized, stand_ins, tmp_path
):
    config = os.path.join(ROOT, "configs", "ucf51_1shot.yaml")
    pairs = dict(zip(stand_ins["ucf51"][::2], stand_ins["ucf51"][1::2]))
    del pairs["--max_steps"], pairs["--supervised_warmup_epochs"]  # the config's own epochs and warm-up
    pairs.update({"--data_path": ucf51_sized, "--output_dir": str(tmp_path)})
    flags = [item for pair in pairs.items() for item in pair]
    _, data_args, _, args = parse_arguments([config, *flags])
    assert args.global_train_batch_size == 8 and args.per_device_train_batch_size == 8 and args.world_size == 1
    train_source, _ = load_data(data_args)
    split = load_or_create_split(tmp_path / "split.json", train_source.dataset["label"], train_source.classes, 1, 0)
    labeled, unlabeled = split_rows(train_source, split)
    assert (len(labeled), len(unlabeled)) == (51, 4845)

    handed_over = {}

    class AtTheHandOver(TrainerCallback):
        def on_step_begin(self, args, state, control, **kwargs):  # of the first semi-supervised step
            if state.global_step == trainer.supervised_warmup_steps:
                student = trainer.model.state_dict()
                handed_over["equal"] = all(torch.equal(v, student[k]) for k, v in trainer.teacher.state_dict().items())
                control.should_training_stop = True

    transform = ClipTransform(VideoAugmentation(32), num_frames=4, frame_stride=1, num_mel_bins=32, max_length=64)
    trainer = AVSSLTrainer(
        AVSSLForVideoClassification(make_tiny_config(id2label=dict(enumerate(train_source.classes)))),
        args,
        labeled=labeled,
        unlabeled=unlabeled,
        transform=transform,
        num_unlabeled_indices=split.num_samples,
        callbacks=[AtTheHandOver()],
    )
    # SVFormer's epoch: its DistributedSampler gives each of 8 GPUs ceil(51 / 8) = 7 labeled clips, 7 steps an epoch
    # (counted over the unlabeled clips, 50 epochs would be 50 * ceil(4845 / 40) = 6,100 steps)
    assert trainer.args.max_steps == 50 * 7 and trainer.supervised_warmup_steps == 5 * 7
    trainer.train()
    assert trainer.state.global_step == 36 and handed_over == {"equal": True}


@pytest.mark.slow
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
