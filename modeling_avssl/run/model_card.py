"""The model card of a trained model: `README.md` in its output folder, written with huggingface_hub's `ModelCard`
from the repository's `model_card.md` (a Jinja template; the package holds a link to it, so an installed package
finds it too), with the test results as `model-index` metadata, which the Hub shows."""

import os

from huggingface_hub import EvalResult, ModelCard, ModelCardData

from ..data.audio import fbank_seconds
from ..data.sources import ListedClips
from ..data.splits import LabeledSplit
from ..method.trainer import AVSSLTrainer
from .arguments import DataArguments, ModelArguments
from .summary import LISTED_CLIPS, listed_note


TEMPLATE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "model_card.md")

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
    "asl_map_frames",
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


def pseudo_label_rows(log_history: list[dict]) -> dict[str, tuple[str, str]]:
    """Each pseudo-label diagnostic in the first and the last logged window of the semi-supervised phase (none for a
    supervised-only run)."""
    rows = {}
    for key, name in PSEUDO_LABEL_DIAGNOSTICS.items():
        values = [entry[key] for entry in log_history if key in entry]
        if values:
            rows[name] = (f"{values[0]:.3f}", f"{values[-1]:.3f}")
    return rows


def starting_point(model_args: ModelArguments) -> str:
    """Where `build_model` takes the weights from, in words for the model card."""
    if model_args.model_config:
        return f"initialised at random (`{model_args.model_config}`)"
    if model_args.model_name_or_path:
        return f"started from the AVSSL checkpoint `{model_args.model_name_or_path}`"
    audio = "" if model_args.video_only else f" and `{model_args.audio_model_name_or_path}`"
    return f"started from `{model_args.video_model_name_or_path}`{audio}"


def card_data(model_name: str, data_args: DataArguments, metrics: dict) -> ModelCardData:
    """The card's metadata: the library, the pipeline, and the test's top-1 and top-5 as `model-index` results."""
    tested = {"eval_top1": "top-1 accuracy", "eval_top5": "top-5 accuracy"}
    results = [
        EvalResult(
            task_type="video-classification",
            dataset_type=data_args.dataset,
            dataset_name=data_args.dataset,
            dataset_split=data_args.eval_split,
            metric_type="accuracy",
            metric_name=name,
            metric_value=round(metrics[key], 4),
        )
        for key, name in tested.items()
        if key in metrics
    ]
    return ModelCardData(
        model_name=model_name,
        library_name="transformers",
        pipeline_tag="video-classification",
        tags=["video-classification", "audio-visual", "semi-supervised", "avssl"],
        datasets=[data_args.dataset],
        metrics=["accuracy"],
        eval_results=results or None,
    )


def write_model_card(
    trainer: AVSSLTrainer,
    model_args: ModelArguments,
    data_args: DataArguments,
    split: LabeledSplit,
    metrics: dict,
    listed: dict[str, ListedClips] | None = None,
) -> ModelCard:
    """`README.md` in the output folder: the starting weights, data (how many of the clips its lists name were
    found, `listed`), labels, the hyperparameters `CARD_HYPERPARAMETERS` lists, the results (each class's top-1 too)
    and the pseudo labels. The template may name any training argument (`args.tau`, ...)."""
    args, config = trainer.args, trainer.model.config
    classes = config.class_names
    audio = config.audio_config
    model_name = os.path.basename(os.path.abspath(args.output_dir))
    scalars = {name: value for name, value in metrics.items() if isinstance(value, (int, float)) and name != "epoch"}
    scalars["chance (1 / classes)"] = 1 / len(classes)
    card = ModelCard.from_template(
        card_data(model_name, data_args, metrics),
        template_path=TEMPLATE,
        args=args,
        model_name=model_name,
        dataset_description=f"{data_args.dataset} from `{data_args.data_path}`, split `{data_args.train_split}`",
        listed_clips=listed_note(listed or {}),
        listed_clips_file=LISTED_CLIPS,
        video_encoder=config.video_config.model_type,
        audio_encoder=audio.model_type if audio is not None else "none: video only",
        starting_point=starting_point(model_args),
        labeled=len(split.labeled),
        unlabeled=split.num_samples - len(split.labeled),
        shots=int(split.shots) if float(split.shots).is_integer() else split.shots,
        split_seed=split.seed,
        num_classes=len(classes),
        classes=classes,
        num_frames=config.video_input_shape[0],
        frame_stride=data_args.frame_stride,
        audio_seconds=fbank_seconds(trainer.transform.max_length),
        hyperparameters={
            name: getattr(getattr(args, name), "value", getattr(args, name)) for name in CARD_HYPERPARAMETERS
        },
        results={
            name.removeprefix("eval_"): f"{value:.4f}" if isinstance(value, float) else value
            for name, value in scalars.items()
        },
        per_class_accuracy={
            name: "no test video" if value is None else f"{value:.4f}"
            for name, value in metrics.get("eval_per_class_accuracy", {}).items()
        },
        eval_videos=metrics.get("eval_videos", 0),
        pseudo_labels=pseudo_label_rows(trainer.state.log_history),
        saved_model="teacher" if args.export_teacher else "student",
        mix_beta=", ".join(map(str, args.beta_parameters)),
    )
    card.save(os.path.join(args.output_dir, "README.md"))
    return card
