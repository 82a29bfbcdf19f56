"""The localizer stage of a run: before the main stage, a localizer is trained on the run's unlabeled clips when ASL
mixup needs one that is not there yet."""

import logging
import math
import os

import datasets
from accelerate import PartialState
from transformers import TrainingArguments

from ..configuration_avssl import AVSSLLocalizerConfig
from ..data.bad_files import BadFileMonitor
from ..localizer.training import train_localizer
from ..method.training_args import AVSSLTrainingArguments
from .arguments import StageArguments


logger = logging.getLogger(__name__)


def prepare_localizer(
    stages: StageArguments, training_args: AVSSLTrainingArguments, unlabeled: datasets.Dataset, num_frames: int
) -> None:
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
            "modeling_avssl.localizer.training on local clips and pass its folder as localizer_name_or_path."
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
