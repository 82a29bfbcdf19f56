"""Semi-supervised audio-visual action recognition with ASL-guided mixup: one script, one or many processes.

    accelerate launch train_avssl.py [CONFIG.yaml ...] [--any_argument value ...]

Every field of `ModelArguments`, `DataArguments` and `AVSSLTrainingArguments` can be set in config files (a data
set's, then a variant's) and overridden on the command line. The run draws (or reuses) the labeled split, trains,
evaluates with the multi-view protocol, and saves the model (the student, or the teacher with `--export_teacher`),
its processor, the remote code and a model card to `output_dir`; `--push_to_hub` pushes that folder.
"""

import json
import logging
import os
import sys
from dataclasses import dataclass, field
from string import Template

import torch.distributed as dist
import yaml
from transformers import ASTFeatureExtractor, HfArgumentParser, VideoMAEVideoProcessor, set_seed
from transformers.image_utils import IMAGENET_DEFAULT_MEAN, IMAGENET_DEFAULT_STD

from modeling_avssl import AVSSLConfig, AVSSLForVideoClassification, AVSSLProcessor
from modeling_avssl.data.avsynth import generate
from modeling_avssl.data.collation import ClipTransform
from modeling_avssl.data.sources import SOURCE_KINDS, load_source
from modeling_avssl.data.splits import LabeledSplit, load_or_create_split, split_rows
from modeling_avssl.trainer_avssl import AVSSLTrainer, AVSSLTrainingArguments


logger = logging.getLogger("train_avssl")


@dataclass
class ModelArguments:
    """Which model to train: a config from scratch, an AVSSL checkpoint, or two pretrained encoders."""

    model_config: str | None = field(
        default=None,
        metadata={
            "help": "a JSON AVSSLConfig to train from scratch (tiny models, AVSynth); without its audio encoder "
            "when audio_model_name_or_path is 'none'"
        },
    )
    model_name_or_path: str | None = field(default=None, metadata={"help": "an AVSSL checkpoint to start from"})
    video_model_name_or_path: str = field(default="MCG-NJU/videomae-base")
    audio_model_name_or_path: str | None = field(
        default="MIT/ast-finetuned-audioset-10-10-0.4593", metadata={"help": "'none' trains the video-only baseline"}
    )


@dataclass
class DataArguments:
    """Which data to train and test on, how many labels per class, and how clips are sampled."""

    dataset: str = field(default="avsynth", metadata={"help": f"avsynth or one of {', '.join(SOURCE_KINDS)}"})
    data_path: str = field(
        default="data/avsynth", metadata={"help": "the data set's root (AVSynth: where to write it)"}
    )
    vggsound_csv: str | None = field(default=None, metadata={"help": "VGGSound's vggsound.csv"})
    train_split: str = field(default="train")
    eval_split: str = field(default="test")
    shots: float = field(default=1, metadata={"help": "labeled samples per class, or a fraction of each class"})
    split_seed: int = field(default=0)
    split_manifest: str | None = field(default=None, metadata={"help": "default: <output_dir>/labeled_split.json"})
    frame_stride: int = field(default=4, metadata={"help": "source frames between the clip's frames"})
    max_eval_samples: int | None = field(default=None)
    avsynth_train: int = field(default=1200, metadata={"help": "AVSynth training clips to generate"})
    avsynth_test: int = field(default=600, metadata={"help": "AVSynth test clips to generate"})


def parse_arguments(argv: list[str]) -> tuple[ModelArguments, DataArguments, AVSSLTrainingArguments]:
    """YAML or JSON files first (later files override earlier ones, e.g. a data set's config and then a variant),
    then `--name value` overrides (the last value of a flag wins)."""
    flags = []
    while argv and argv[0].endswith((".yaml", ".yml", ".json")):
        with open(argv[0]) as handle:
            values = yaml.safe_load(handle) or {}
        flags += [flag for key, value in values.items() if value is not None for flag in _as_flags(key, value)]
        argv = argv[1:]
    return HfArgumentParser((ModelArguments, DataArguments, AVSSLTrainingArguments)).parse_args_into_dataclasses(
        flags + argv
    )


def _as_flags(key: str, value) -> list[str]:
    return [f"--{key}", *map(str, value)] if isinstance(value, (list, tuple)) else [f"--{key}", str(value)]


def processor_for(config: AVSSLConfig) -> AVSSLProcessor:
    """The processor whose crops and fbank fit `config`'s encoders."""
    size = config.video_input_shape[-1]
    video_processor = VideoMAEVideoProcessor(
        size={"shortest_edge": size},
        crop_size={"height": size, "width": size},
        image_mean=IMAGENET_DEFAULT_MEAN,
        image_std=IMAGENET_DEFAULT_STD,
    )
    audio = config.audio_config
    extractor = ASTFeatureExtractor(
        **({"num_mel_bins": audio.num_mel_bins, "max_length": audio.max_length} if audio else {})
    )
    return AVSSLProcessor(video_processor, extractor)


def load_data(data: DataArguments) -> tuple:
    """The training and test sources (AVSynth is generated first if it is not there yet)."""
    kind, options = data.dataset, {}
    if kind == "avsynth":
        if not os.path.exists(os.path.join(data.data_path, "metadata.jsonl")):
            generate(data.data_path, data.avsynth_train, data.avsynth_test, progress=True)
        kind = "videofolder"
    if data.vggsound_csv:
        options["csv_file"] = data.vggsound_csv
    return load_source(kind, data.data_path, data.train_split, **options), load_source(
        kind, data.data_path, data.eval_split, **options
    )


def build_model(model_args: ModelArguments, classes: list[str]) -> AVSSLForVideoClassification:
    labels = {"id2label": dict(enumerate(classes)), "label2id": {name: i for i, name in enumerate(classes)}}
    video_only = str(model_args.audio_model_name_or_path).lower() == "none"
    if model_args.model_config:
        with open(model_args.model_config) as handle:
            values = {**json.load(handle), **labels}
        return AVSSLForVideoClassification(AVSSLConfig(**{**values, **({"audio_config": None} if video_only else {})}))
    if model_args.model_name_or_path:
        return AVSSLForVideoClassification.from_pretrained(
            model_args.model_name_or_path, ignore_mismatched_sizes=True, **labels
        )
    audio = None if video_only else model_args.audio_model_name_or_path
    return AVSSLForVideoClassification.from_encoders_pretrained(model_args.video_model_name_or_path, audio, **labels)


MODEL_CARD = os.path.join(os.path.dirname(os.path.abspath(__file__)), "model_card.md")
CARD_HYPERPARAMETERS = (
    "learning_rate",
    "optim",
    "optim_args",
    "weight_decay",
    "lr_scheduler_type",
    "max_steps",
    "per_device_train_batch_size",
    "unlabeled_ratio",
    "world_size",
    "threshold",
    "tau",
    "mask_type",
    "mix_beta",
    "asl_window",
    "gamma_u",
    "gamma_mix",
    "gamma_contrastive",
    "ema_decay",
    "contrastive_temperature",
    "supervised_warmup_steps",
    "seed",
)


def write_model_card(trainer: AVSSLTrainer, data_args: DataArguments, split: LabeledSplit, metrics: dict) -> None:
    """`README.md` in the output folder, from the `model_card.md` template: data, labels, hyperparameters, results."""
    args, config = trainer.args, trainer.model.config
    classes = [config.id2label[i] for i in range(config.num_labels)]
    audio = config.audio_config
    values = {
        "model_name": os.path.basename(os.path.abspath(args.output_dir)),
        "dataset": data_args.dataset,
        "dataset_description": f"{data_args.dataset} from `{data_args.data_path}`, split `{data_args.train_split}`",
        "video_encoder": config.video_config.model_type,
        "audio_encoder": audio.model_type if audio is not None else "none: video only",
        "labeled": len(split.labeled),
        "unlabeled": split.num_samples - len(split.labeled),
        "shots": int(split.shots) if float(split.shots).is_integer() else split.shots,
        "split_seed": split.seed,
        "num_classes": len(classes),
        "classes": ", ".join(classes),
        "num_frames": config.video_input_shape[0],
        "frame_stride": data_args.frame_stride,
        "audio_seconds": trainer.transform.max_length / 100,
        "hyperparameters": "\n".join(
            f"| {name} | {getattr(getattr(args, name), 'value', getattr(args, name))} |"
            for name in CARD_HYPERPARAMETERS
        ),
        "results": "\n".join(
            f"| {name.removeprefix('eval_')} | {value:.4f} |" if isinstance(value, float) else f"| {name} | {value} |"
            for name, value in {**metrics, "chance (1 / classes)": 1 / len(classes)}.items()
            if name != "epoch"
        ),
        "eval_videos": metrics.get("eval_videos", 0),
        **{
            name: getattr(args, name)
            for name in (
                "ema_decay",
                "threshold",
                "tau",
                "mask_type",
                "gamma_u",
                "gamma_mix",
                "gamma_contrastive",
                "eval_clips",
                "eval_crops",
            )
        },
        "mix_beta": ", ".join(map(str, (args.mix_beta * 2)[:2])),
    }
    with open(MODEL_CARD) as handle:
        card = Template(handle.read()).safe_substitute(values)
    with open(os.path.join(args.output_dir, "README.md"), "w") as handle:
        handle.write(card)


def main(argv: list[str]) -> AVSSLTrainer:
    """Trains, evaluates and saves as the arguments say; returns the trainer (the process group stays up)."""
    model_args, data_args, training_args = parse_arguments(argv)
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s", level=logging.INFO)
    set_seed(training_args.seed)
    with training_args.main_process_first(desc="data"):
        train_source, eval_source = load_data(data_args)
        manifest = data_args.split_manifest or os.path.join(training_args.output_dir, "labeled_split.json")
        split = load_or_create_split(
            manifest, train_source.dataset["label"], train_source.classes, data_args.shots, data_args.split_seed
        )
    labeled, unlabeled = split_rows(train_source, split)
    model = build_model(model_args, train_source.classes)
    processor = processor_for(model.config)
    transform = ClipTransform.from_processor(
        processor, model.config.video_input_shape[0], data_args.frame_stride, True
    )
    eval_rows = eval_source.dataset
    if data_args.max_eval_samples is not None:
        eval_rows = eval_rows.select(range(min(data_args.max_eval_samples, len(eval_rows))))
    trainer = AVSSLTrainer(
        model=model,
        args=training_args,
        labeled=labeled,
        unlabeled=unlabeled,
        transform=transform,
        eval_dataset=eval_rows,
        num_unlabeled_indices=split.num_samples,
        processor=processor,
    )
    logger.info("%d labeled and %d unlabeled clips of %d classes", len(labeled), len(unlabeled), len(split.classes))
    trainer.train(resume_from_checkpoint=training_args.resume_from_checkpoint)
    metrics = trainer.evaluate() if len(eval_rows) else {}
    logger.info("%s", trainer.bad_files.summary())
    trainer.save_model(training_args.output_dir)
    if trainer.is_world_process_zero():
        write_model_card(trainer, data_args, split, metrics)
        with open(os.path.join(training_args.output_dir, "eval_results.json"), "w") as handle:
            json.dump(metrics, handle, indent=1)
    if training_args.push_to_hub:
        trainer.push_to_hub()
    return trainer


if __name__ == "__main__":
    main(sys.argv[1:])
    if dist.is_available() and dist.is_initialized():  # gloo runs can abort at exit with the group still up
        dist.barrier()
        dist.destroy_process_group()
