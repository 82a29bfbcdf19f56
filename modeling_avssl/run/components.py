"""The parts of a run built from its arguments: the training and test sources, the model and its processor."""

import json
import os

import datasets
import numpy as np
from transformers import ASTFeatureExtractor, VideoMAEVideoProcessor
from transformers.image_utils import IMAGENET_DEFAULT_MEAN, IMAGENET_DEFAULT_STD

from ..configuration_avssl import AVSSLConfig
from ..data.avsynth import generate
from ..data.sources import VideoSource, load_source
from ..modeling_avssl import AVSSLForVideoClassification
from ..processing_avssl import AVSSLProcessor
from .arguments import DataArguments, ModelArguments


def processor_for(config: AVSSLConfig, frame_stride: int) -> AVSSLProcessor:
    """The processor whose crops and fbank fit `config`'s encoders, reading clips `frame_stride` frames apart."""
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
    return AVSSLProcessor(video_processor, extractor, frame_stride=frame_stride)


def load_data(data: DataArguments) -> tuple[VideoSource, VideoSource]:
    """The training and test sources (AVSynth is generated first if it is not there yet)."""
    kind = data.dataset
    if kind == "avsynth":
        if not os.path.exists(os.path.join(data.data_path, "metadata.jsonl")):
            generate(data.data_path, data.avsynth_train, data.avsynth_test, progress=True)
        kind = "videofolder"
    options = {
        "vggsound": {"csv_file": data.vggsound_csv},
        "datasets": {
            "video_column": data.video_column,
            "label_column": data.label_column,
            "index_column": data.index_column,
            "streaming": data.streaming,
        },
        "frames": {"frame_rate": data.frame_rate, "csv_file": data.vggsound_csv},
    }.get(kind, {})
    options = {name: value for name, value in options.items() if value is not None}
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


def trained_model(model_args: ModelArguments, classes: list[str]) -> AVSSLForVideoClassification:
    """The model a run that does not train tests: `model_name_or_path` as it was saved, whose classes must be the
    data's, in their order (`build_model` would give a model of other classes a new head)."""
    if not model_args.model_name_or_path:
        raise ValueError("--do_train false tests a trained model: give its folder or Hub id as --model_name_or_path.")
    model = AVSSLForVideoClassification.from_pretrained(model_args.model_name_or_path)
    trained_on = model.config.class_names
    if trained_on != classes:
        raise ValueError(
            f"{model_args.model_name_or_path} was trained on the classes {trained_on}, but the data's are {classes}; "
            "a model is tested on the classes it was trained on, in their order."
        )
    return model
