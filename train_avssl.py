"""Semi-supervised audio-visual action recognition with ASL-guided mixup: one script, one or many processes.

    accelerate launch train_avssl.py [CONFIG.yaml ...] [--any_argument value ...]

Without any argument it runs `configs/avsynth.yaml`, the embedded default. Every field of `ModelArguments`,
`DataArguments`, `StageArguments` and `AVSSLTrainingArguments` can be set in config files (a data set's, then a
variant's) and overridden on the command line. The run draws (or reuses) the labeled split, trains the localizer
if ASL mixup needs one that is not there yet, trains, evaluates with the multi-view protocol, and saves the model
(the student, or the teacher with `--export_teacher`), its processor, the remote code, a model card, the loss
curves and a picture of the masks to `output_dir`; `--push_to_hub` pushes that folder.
"""

import json
import logging
import math
import os
import sys
import time
from dataclasses import dataclass, field, replace
from string import Template

import datasets
import numpy as np
import torch.distributed as dist
import yaml
from accelerate import PartialState
from PIL import Image
from transformers import ASTFeatureExtractor, HfArgumentParser, TrainingArguments, VideoMAEVideoProcessor, set_seed
from transformers.image_utils import IMAGENET_DEFAULT_MEAN, IMAGENET_DEFAULT_STD

from modeling_avssl import AVSSLConfig, AVSSLForVideoClassification, AVSSLLocalizerConfig, AVSSLProcessor
from modeling_avssl.data.avsynth import generate
from modeling_avssl.data.bad_files import BadFileMonitor
from modeling_avssl.data.collation import ClipTransform
from modeling_avssl.data.sources import SOURCE_KINDS, load_source
from modeling_avssl.data.splits import LabeledSplit, hold_out, load_or_create_split, source_labels, split_rows
from modeling_avssl.localizer_training import train_localizer
from modeling_avssl.plotting import plot_training_curves
from modeling_avssl.trainer_avssl import AVSSLTrainer, AVSSLTrainingArguments
from modeling_avssl.visualize_masks import draw, frame_and_map


logger = logging.getLogger("train_avssl")
HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_CONFIG = os.path.join(HERE, "configs", "avsynth.yaml")


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
    model_name_or_path: str | None = field(
        default=None,
        metadata={
            "help": "an AVSSL checkpoint to start from (its video encoder alone when audio_model_name_or_path is"
            " 'none')"
        },
    )
    video_model_name_or_path: str = field(default="MCG-NJU/videomae-base")
    audio_model_name_or_path: str | None = field(
        default="MIT/ast-finetuned-audioset-10-10-0.4593", metadata={"help": "'none' trains the video-only baseline"}
    )

    @property
    def video_only(self) -> bool:
        return str(self.audio_model_name_or_path).lower() == "none"


@dataclass
class DataArguments:
    """Which data to train and test on, how many labels per class, and how clips are sampled."""

    dataset: str = field(default="avsynth", metadata={"help": f"avsynth or one of {', '.join(SOURCE_KINDS)}"})
    data_path: str = field(
        default="data/avsynth", metadata={"help": "the data set's root (AVSynth: where to write it)"}
    )
    eval_data_path: str | None = field(
        default=None, metadata={"help": "the test shards or Hub id of a webdataset source (default: data_path)"}
    )
    vggsound_csv: str | None = field(default=None, metadata={"help": "VGGSound's vggsound.csv"})
    train_split: str = field(default="train")
    eval_split: str = field(default="test")
    shots: float = field(default=1, metadata={"help": "labeled samples per class, or a fraction of each class"})
    split_seed: int = field(default=0)
    split_manifest: str | None = field(default=None, metadata={"help": "default: <output_dir>/labeled_split.json"})
    frame_stride: int = field(default=4, metadata={"help": "source frames between the clip's frames"})
    max_eval_samples: int | None = field(
        default=None, metadata={"help": "test on this many videos, evenly spaced over the test set (so every class)"}
    )
    validation_samples: int = field(
        default=0,
        metadata={
            "help": "hold out this many unlabeled training clips (evenly over the classes) and evaluate on them "
            "instead of the test split: the set to choose settings on"
        },
    )
    randaugment_num_ops: int = field(default=5, metadata={"help": "RandAugment rounds of a strong view (SVFormer 5)"})
    randaugment_magnitude: float = field(default=9.0, metadata={"help": "RandAugment level on timm's 0-10 scale"})
    randaugment_magnitude_std: float = field(default=0.5, metadata={"help": "std of the RandAugment level"})
    randaugment_prob: float = field(default=0.5, metadata={"help": "probability of each RandAugment round (timm's)"})
    channel_dropout: float = field(
        default=0.2, metadata={"help": "probability of dropping each colour channel of a strong view (SVFormer 0.2)"}
    )

    @property
    def augmentation(self) -> dict:
        """The strong view's strength, as `VideoAugmentation` takes it."""
        names = ("randaugment_num_ops", "randaugment_magnitude", "randaugment_magnitude_std", "randaugment_prob")
        return {name: getattr(self, name) for name in names} | {"channel_dropout": self.channel_dropout}

    avsynth_train: int = field(default=1200, metadata={"help": "AVSynth training clips to generate"})
    avsynth_test: int = field(default=600, metadata={"help": "AVSynth test clips to generate"})


@dataclass
class StageArguments:
    """The stages around the main training: a localizer trained before it, a supervised-only baseline after it."""

    localizer_config: str | None = field(
        default=None,
        metadata={
            "help": "a JSON AVSSLLocalizerConfig: with mask_type=asl and nothing at localizer_name_or_path yet, a "
            "localizer is trained from scratch on the unlabeled training clips (no labels) and saved there"
        },
    )
    localizer_epochs: float = field(default=8.0)
    localizer_mean_pooling_epochs: float = field(
        default=0.0, metadata={"help": "first epochs on mean-pooled frames, a warm-up for training from scratch"}
    )
    localizer_batch_size: int = field(default=32)
    localizer_learning_rate: float = field(default=1e-3)
    supervised_baseline: bool = field(
        default=False,
        metadata={"help": "also train the supervised-only model (same labels, steps and seed) and report it beside"},
    )
    oracle_eval_steps: int = field(
        default=0,
        metadata={
            "help": "test the supervised-only model every this many steps too and report its best figure: the "
            "oracle stopping step no real supervised run could choose"
        },
    )


ARGUMENT_GROUPS = (ModelArguments, DataArguments, StageArguments, AVSSLTrainingArguments)


def parse_arguments(argv: list[str]) -> tuple[ModelArguments, DataArguments, StageArguments, AVSSLTrainingArguments]:
    """YAML or JSON files first (later files override earlier ones, e.g. a data set's config and then a variant),
    then `--name value` overrides (the last value of a flag wins). No argument at all means the default config."""
    argv = argv or [DEFAULT_CONFIG]
    flags = []
    while argv and argv[0].endswith((".yaml", ".yml", ".json")):
        with open(argv[0]) as handle:
            values = yaml.safe_load(handle) or {}
        flags += [flag for key, value in values.items() if value is not None for flag in _as_flags(key, value)]
        argv = argv[1:]
    return HfArgumentParser(ARGUMENT_GROUPS).parse_args_into_dataclasses(flags + argv)


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
        kind, data.eval_data_path or data.data_path, data.eval_split, **options
    )


def spread_subset(rows: datasets.Dataset | datasets.IterableDataset, count: int) -> datasets.Dataset:
    """`count` rows evenly spaced over `rows` (all of them if there are fewer). Folders list their videos class by
    class, so the first `count` rows would hold only the first classes. A stream gives its first `count`."""
    if isinstance(rows, datasets.IterableDataset):
        return rows.take(count)
    if count >= len(rows):
        return rows
    return rows.select(np.linspace(0, len(rows) - 1, count).round().astype(int).tolist())


def build_model(model_args: ModelArguments, classes: list[str]) -> AVSSLForVideoClassification:
    labels = {"id2label": dict(enumerate(classes)), "label2id": {name: i for i, name in enumerate(classes)}}
    without_audio = {"audio_config": None} if model_args.video_only else {}
    if model_args.model_config:
        with open(model_args.model_config) as handle:
            values = {**json.load(handle), **labels, **without_audio}
        return AVSSLForVideoClassification(AVSSLConfig(**values))
    if model_args.model_name_or_path:
        return AVSSLForVideoClassification.from_pretrained(
            model_args.model_name_or_path, ignore_mismatched_sizes=True, **labels, **without_audio
        )
    audio = None if model_args.video_only else model_args.audio_model_name_or_path
    return AVSSLForVideoClassification.from_encoders_pretrained(model_args.video_model_name_or_path, audio, **labels)


MODEL_CARD = os.path.join(HERE, "model_card.md")
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
    "supervised_warmup_epochs",
    "lr_steps",
    "mix_loss",
    "max_grad_norm",
    "seed",
)


PSEUDO_LABEL_DIAGNOSTICS = {
    "pseudo_label_accuracy": "teacher's pseudo labels right (all unlabeled clips)",
    "pseudo_label_accuracy_above_threshold": "right, of those above threshold",
    "above_threshold": "share above threshold",
    "threshold_min": "class threshold, min",
    "threshold_mean": "class threshold, mean",
    "threshold_max": "class threshold, max",
}


def pseudo_label_table(log_history: list[dict]) -> str:
    """Markdown rows: each pseudo-label diagnostic in the first and the last logged window of the semi-supervised
    phase (none for a supervised-only run)."""
    rows = []
    for key, name in PSEUDO_LABEL_DIAGNOSTICS.items():
        values = [entry[key] for entry in log_history if key in entry]
        if values:
            rows.append(f"| {name} | {values[0]:.3f} | {values[-1]:.3f} |")
    return "\n".join(rows) or "| (no semi-supervised step) | | |"


def starting_point(model_args: ModelArguments) -> str:
    """Where `build_model` takes the weights from, in words for the model card."""
    if model_args.model_config:
        return f"initialised at random (`{model_args.model_config}`)"
    if model_args.model_name_or_path:
        return f"started from the AVSSL checkpoint `{model_args.model_name_or_path}`"
    audio = "" if model_args.video_only else f" and `{model_args.audio_model_name_or_path}`"
    return f"started from `{model_args.video_model_name_or_path}`{audio}"


def write_model_card(
    trainer: AVSSLTrainer, model_args: ModelArguments, data_args: DataArguments, split: LabeledSplit, metrics: dict
) -> None:
    """`README.md` in the output folder, from the `model_card.md` template: the starting weights, data, labels,
    hyperparameters, results."""
    args, config = trainer.args, trainer.model.config
    classes = [config.id2label[i] for i in range(config.num_labels)]
    audio = config.audio_config
    values = {
        "model_name": os.path.basename(os.path.abspath(args.output_dir)),
        "dataset": data_args.dataset,
        "dataset_description": f"{data_args.dataset} from `{data_args.data_path}`, split `{data_args.train_split}`",
        "video_encoder": config.video_config.model_type,
        "audio_encoder": audio.model_type if audio is not None else "none: video only",
        "starting_point": starting_point(model_args),
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
        "pseudo_labels": pseudo_label_table(trainer.state.log_history),
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
                "supervised_warmup_epochs",
            )
        },
        "saved_model": "teacher" if args.export_teacher else "student",
        "mix_beta": ", ".join(map(str, args.beta_parameters)),
    }
    with open(MODEL_CARD) as handle:
        card = Template(handle.read()).safe_substitute(values)
    with open(os.path.join(args.output_dir, "README.md"), "w") as handle:
        handle.write(card)


def prepare_localizer(stages: StageArguments, training_args: AVSSLTrainingArguments, unlabeled, num_frames: int):
    """Trains the localizer at `localizer_name_or_path` on the unlabeled clips (self-supervised, every process
    together) when ASL mixup needs one, a `localizer_config` says how to build it, and no saved localizer is there
    yet (a run stopped while training it leaves none)."""
    path = training_args.localizer_name_or_path
    if training_args.mask_type != "asl" or stages.localizer_config is None:
        return
    if os.path.exists(os.path.join(path, "model.safetensors")):
        return
    if isinstance(unlabeled, datasets.IterableDataset):
        raise ValueError(
            "Training a localizer inside the run needs a data set of files, not a stream: train it with "
            "modeling_avssl.localizer_training on local clips and pass its folder as localizer_name_or_path."
        )
    config = AVSSLLocalizerConfig.from_json_file(stages.localizer_config)
    steps_per_epoch = math.ceil(len(unlabeled) / (stages.localizer_batch_size * max(training_args.world_size, 1)))
    mean_pooling_steps = round(stages.localizer_mean_pooling_epochs * steps_per_epoch)
    args = TrainingArguments(
        output_dir=path,
        per_device_train_batch_size=stages.localizer_batch_size,
        num_train_epochs=stages.localizer_epochs,
        learning_rate=stages.localizer_learning_rate,
        weight_decay=1e-4,
        lr_scheduler_type="cosine",
        logging_steps=max(steps_per_epoch, 1),
        save_strategy="no",
        report_to=[],
        remove_unused_columns=False,  # the samples carry their bad-file notes
        seed=training_args.seed,
        use_cpu=training_args.use_cpu,
        bf16=training_args.bf16,
        dataloader_num_workers=training_args.dataloader_num_workers,
        disable_tqdm=training_args.disable_tqdm,
    )
    logger.info("Training the localizer on %d unlabeled clips for %g epochs", len(unlabeled), args.num_train_epochs)
    # FNAC's terms (if the config weighs them) start one epoch after the mean-pooling warm-up, as FNAC trains
    train_localizer(
        list(unlabeled["video"]),
        path,
        config,
        num_frames,
        args,
        fnac_warmup_steps=mean_pooling_steps + steps_per_epoch,
        mean_pooling_steps=mean_pooling_steps,
        bad_files=BadFileMonitor(training_args.max_bad_fraction, training_args.bad_file_window),
    )
    PartialState().wait_for_everyone()  # until the main process has saved it


def supervised_baseline(
    model_args: ModelArguments,
    training_args: AVSSLTrainingArguments,
    classes: list[str],
    oracle_eval_steps: int = 0,
    **trainer_inputs,
) -> dict[str, float]:
    """Test metrics of the supervised-only model (the same model, labels, steps and seed, no semi-supervised term),
    also written to `supervised_only/eval_results.json` in the output folder. With `oracle_eval_steps` it is also
    tested every that many steps, and `supervised_only_best_top1` is the best of all its tests (at
    `supervised_only_best_step`)."""
    evaluation = {"eval_strategy": "steps", "eval_steps": oracle_eval_steps} if oracle_eval_steps else {}
    args = replace(
        training_args,
        output_dir=os.path.join(training_args.output_dir, "supervised_only"),
        mask_type="none",
        gamma_u=0.0,
        gamma_mix=0.0,
        gamma_contrastive=0.0,
        save_strategy="no",
        push_to_hub=False,
        resume_from_checkpoint=None,
        **evaluation,
    )
    set_seed(args.seed)
    trainer = AVSSLTrainer(model=build_model(model_args, classes), args=args, **trainer_inputs)
    trainer.train()
    tests = [entry for entry in trainer.state.log_history if "eval_top1" in entry]  # the Trainer tests the last step
    if not tests:
        metrics = trainer.evaluate(metric_key_prefix="supervised_only")
    else:
        metrics = {
            f"supervised_only_{k.removeprefix('eval_')}": v for k, v in tests[-1].items() if k.startswith("eval_")
        }
        best = max(tests, key=lambda entry: entry["eval_top1"])
        metrics.update(supervised_only_best_top1=best["eval_top1"], supervised_only_best_step=best["step"])
    if trainer.is_world_process_zero():
        with open(os.path.join(args.output_dir, "eval_results.json"), "w") as handle:
            json.dump(metrics, handle, indent=1)
    return metrics


def save_pictures(trainer: AVSSLTrainer, eval_rows, frame_index: int) -> list[str]:
    """`loss_curves.png` from the run's log, and with ASL a Fig. 3-style `masks.png` of the first test video on the
    model's token grid; returns the files written."""
    out = trainer.args.output_dir
    written = [plot_training_curves(trainer.state.log_history, os.path.join(out, "loss_curves.png"))]
    local = not isinstance(eval_rows, datasets.IterableDataset) and len(eval_rows)
    if trainer.localizer is not None and local and isinstance(eval_rows[0]["video"], str):
        frame, localization = frame_and_map(eval_rows[0]["video"], trainer.localizer, frame_index)
        frame = np.asarray(Image.fromarray(frame).resize((224, 224), Image.BILINEAR))  # panels large enough to see
        a, b = trainer.args.beta_parameters
        picture = draw(frame, localization, lam=a / (a + b), grid=trainer.model.config.video_token_grid[1])
        Image.fromarray(picture).save(os.path.join(out, "masks.png"))
        written.append(os.path.join(out, "masks.png"))
    return written


def main(argv: list[str]) -> AVSSLTrainer:
    """Trains, evaluates and saves as the arguments say; returns the trainer (the process group stays up)."""
    model_args, data_args, stages, training_args = parse_arguments(argv)
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s", level=logging.INFO)
    set_seed(training_args.seed)
    timings, start = {}, time.perf_counter()
    with training_args.main_process_first(desc="data"):
        train_source, eval_source = load_data(data_args)
        manifest = data_args.split_manifest or os.path.join(training_args.output_dir, "labeled_split.json")
        labels = (lambda: source_labels(train_source)) if train_source.streaming else train_source.dataset["label"]
        split = load_or_create_split(manifest, labels, train_source.classes, data_args.shots, data_args.split_seed)
        labeled, unlabeled = split_rows(train_source, split, os.path.join(training_args.output_dir, "labeled_cache"))
    eval_rows = eval_source.dataset
    if data_args.validation_samples:
        unlabeled, eval_rows = hold_out(unlabeled, data_args.validation_samples, data_args.split_seed)
        logger.info("Evaluating on %d unlabeled training clips held out for validation", len(eval_rows))
    model = build_model(model_args, train_source.classes)
    num_frames = model.config.video_input_shape[0]
    timings["data"] = time.perf_counter() - start
    prepare_localizer(stages, training_args, unlabeled, num_frames)
    timings["localizer"] = time.perf_counter() - start - sum(timings.values())
    set_seed(training_args.seed)
    processor = processor_for(model.config)
    transform = ClipTransform.from_processor(
        processor, num_frames, data_args.frame_stride, True, **data_args.augmentation
    )
    if data_args.max_eval_samples is not None:
        eval_rows = spread_subset(eval_rows, data_args.max_eval_samples)
    trainer_inputs = dict(
        labeled=labeled,
        unlabeled=unlabeled,
        transform=transform,
        eval_dataset=eval_rows,
        num_unlabeled_indices=split.num_samples,
        processor=processor,
    )
    trainer = AVSSLTrainer(model=model, args=training_args, **trainer_inputs)
    unlabeled_count = "streamed" if train_source.streaming else len(unlabeled)
    logger.info("%d labeled and %s unlabeled clips of %d classes", len(labeled), unlabeled_count, len(split.classes))
    trainer.train(resume_from_checkpoint=training_args.resume_from_checkpoint)
    tests = [
        entry["unlabeled_teacher_top1"] for entry in trainer.state.log_history if "unlabeled_teacher_top1" in entry
    ]
    metrics = {"unlabeled_teacher_top1_start": tests[0], "unlabeled_teacher_top1_end": tests[-1]} if tests else {}
    tested = eval_source.streaming or len(eval_rows) > 0
    if tested:
        metrics.update(trainer.evaluate())
        if trainer.learns_from_unlabeled:  # the model that is not saved, beside it
            other = "student" if training_args.export_teacher else "teacher"
            metrics.update(trainer.evaluate(metric_key_prefix=other, teacher=other == "teacher"))
    timings["training"] = time.perf_counter() - start - sum(timings.values())
    logger.info("%s", trainer.bad_files.summary())
    if stages.supervised_baseline and tested:
        metrics.update(
            supervised_baseline(
                model_args, training_args, train_source.classes, stages.oracle_eval_steps, **trainer_inputs
            )
        )
        timings["supervised baseline"] = time.perf_counter() - start - sum(timings.values())
    trainer.save_model(training_args.output_dir)
    trainer.save_state()  # trainer_state.json: the log of every term and diagnostic
    if trainer.is_world_process_zero():
        write_model_card(trainer, model_args, data_args, split, metrics)
        with open(os.path.join(training_args.output_dir, "eval_results.json"), "w") as handle:
            json.dump(metrics, handle, indent=1)
        pictures = save_pictures(trainer, eval_rows, num_frames // 2)
        evaluated_on = "validation" if data_args.validation_samples else "test"
        print(summary(metrics, training_args, len(split.classes), timings, pictures, evaluated_on))
    if training_args.push_to_hub:
        trainer.push_to_hub()
    return trainer


def summary(
    metrics: dict,
    args: AVSSLTrainingArguments,
    num_classes: int,
    timings: dict[str, float],
    pictures: list[str],
    evaluated_on: str = "test",
) -> str:
    """The end-of-run report: the saved model's top-1 beside the other one's, the supervised-only baseline (and its
    best stopping step, an oracle), chance, stage times, where things are."""
    saved, other = ("teacher", "student") if args.export_teacher else ("student", "teacher")
    rows = [(f"top-1 ({saved}, saved)", metrics.get("eval_top1")), ("top-5", metrics.get("eval_top5"))]
    rows += [(f"{other} top-1", metrics.get(f"{other}_top1"))]
    rows += [("teacher on all unlabeled clips, start", metrics.get("unlabeled_teacher_top1_start"))]
    rows += [("teacher on all unlabeled clips, end", metrics.get("unlabeled_teacher_top1_end"))]
    rows += [("supervised-only top-1 (same labels)", metrics.get("supervised_only_top1"))]
    best_step = metrics.get("supervised_only_best_step")
    rows += [(f"  best of its tests (step {best_step}, oracle)", metrics.get("supervised_only_best_top1"))]
    rows += [("chance (1 / classes)", 1 / num_classes)]
    lines = [f"  {name:<42}{value:.3f}" for name, value in rows if value is not None]
    lines += [f"  {'time: ' + name:<42}{seconds / 60:.1f} min" for name, seconds in timings.items()]
    files = ", ".join(os.path.basename(path) for path in pictures)
    return "\n".join(
        [
            "",
            f"Results on {metrics.get('eval_videos', 0)} {evaluated_on} videos:",
            *lines,
            f"Saved to {args.output_dir}: model, processor, remote code, README.md, {files}",
        ]
    )


if __name__ == "__main__":
    main(sys.argv[1:])
    if dist.is_available() and dist.is_initialized():  # gloo runs can abort at exit with the group still up
        dist.barrier()
        dist.destroy_process_group()
