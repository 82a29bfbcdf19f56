"""The model card of a trained model: `README.md` in its output folder, from `model_card_template.md`."""

import os
from string import Template

from ..data.audio import fbank_seconds
from ..data.splits import LabeledSplit
from ..method.trainer import AVSSLTrainer
from .arguments import DataArguments, ModelArguments


TEMPLATE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "model_card_template.md")
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
    """`README.md` in the output folder, from `model_card_template.md`: the starting weights, data, labels, the
    hyperparameters `CARD_HYPERPARAMETERS` lists, results. The template may name any training argument."""
    args, config = trainer.args, trainer.model.config
    classes = [config.id2label[i] for i in range(config.num_labels)]
    audio = config.audio_config
    values = {
        **args.to_dict(),  # $tau, $mask_type, ...: any training argument the template names
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
        "audio_seconds": fbank_seconds(trainer.transform.max_length),
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
        "saved_model": "teacher" if args.export_teacher else "student",
        "mix_beta": ", ".join(map(str, args.beta_parameters)),
    }
    with open(TEMPLATE) as handle:
        card = Template(handle.read()).safe_substitute(values)
    with open(os.path.join(args.output_dir, "README.md"), "w") as handle:
        handle.write(card)
