"""The arguments of `train_avssl.py`: which model, which data, the stages around training, and the training itself
(`AVSSLTrainingArguments`), read from config files and the command line."""

from dataclasses import dataclass, field

import yaml
from transformers import HfArgumentParser

from ..data.sources import SOURCE_KINDS
from ..method.training_args import AVSSLTrainingArguments


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
    vggsound_csv: str | None = field(
        default=None, metadata={"help": "VGGSound's vggsound.csv (also the labels of extracted VGGSound frames)"}
    )
    video_column: str | None = field(
        default=None, metadata={"help": "datasets: the video column (default: the one Video column, or 'video')"}
    )
    label_column: str = field(default="label", metadata={"help": "datasets: the label column"})
    index_column: str | None = field(
        default=None, metadata={"help": "datasets, streamed: the integer column that numbers the rows"}
    )
    streaming: bool = field(default=False, metadata={"help": "datasets: stream the data set instead of loading it"})
    frame_rate: float | None = field(
        default=None, metadata={"help": "frames: the extracted clips' frame rate (default: frame_rates.json)"}
    )
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
    then `--name value` overrides (the last value of a flag wins)."""
    flags = []
    while argv and argv[0].endswith((".yaml", ".yml", ".json")):
        with open(argv[0]) as handle:
            values = yaml.safe_load(handle) or {}
        flags += [flag for key, value in values.items() if value is not None for flag in _as_flags(key, value)]
        argv = argv[1:]
    return HfArgumentParser(ARGUMENT_GROUPS).parse_args_into_dataclasses(flags + argv)


def _as_flags(key: str, value) -> list[str]:
    return [f"--{key}", *map(str, value)] if isinstance(value, (list, tuple)) else [f"--{key}", str(value)]
