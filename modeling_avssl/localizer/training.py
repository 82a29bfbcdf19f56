"""Self-supervised training of the audio source localizer on unlabeled clips, with the transformers Trainer (a run's
localizer stage, `run.localizer_stage`, trains one this way when ASL mixup needs it).

No labels are read: each sample is one random frame of a clip and the fbank of the audio around it. The loss is
EZ-VSL's contrastive loss (optionally on mean-pooled frames for the first steps) for the first `fnac_warmup_steps`,
then with FNAC's weighted terms (as FNAC trains).
"""

import logging
import os

import numpy as np
import torch
from torch.nn import functional as F
from torch.utils.data import Dataset
from transformers import Trainer, TrainingArguments
from transformers.image_utils import IMAGENET_DEFAULT_MEAN, IMAGENET_DEFAULT_STD

from ..configuration_avssl import AVSSLLocalizerConfig
from ..data import Clip, DecodeError
from ..data.audio import feature_seconds, localizer_spectrogram
from ..data.bad_files import MAX_REPLACEMENTS, BadFileMonitor, too_many_in_a_row
from ..data.collation import collate
from ..data.extracted_clips import read_clip
from .modeling_localizer import AVSSLLocalizer, localization_losses


logger = logging.getLogger(__name__)


class LocalizerClips(Dataset):
    """`{"pixel_values": (3, S, S), "spectrogram": (1, freq, time), "bad_files"}` from video files: in training a
    random clip position and frame, flipped with probability 0.5; otherwise the middle frame of the centre clip. A
    file that cannot be decoded is replaced by a random other one and noted in `bad_files` as `(source, cause)`, as in
    the main stage. Randomness comes from torch's generator, which the Trainer seeds (per DataLoader worker too)."""

    def __init__(self, files: list[str], config: AVSSLLocalizerConfig, num_frames: int, training: bool):
        self.files, self.config, self.num_frames, self.training = list(files), config, num_frames, training

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, index: int) -> dict:
        features, bad_files = self.config.audio_features, []
        while True:
            try:
                clip = read_clip(
                    self.files[index],
                    self.num_frames,
                    audio_seconds=feature_seconds(features),
                    sample_rate=features["sample_rate"],
                    training=self.training,
                    rng=np.random.default_rng(int(torch.randint(2**62, ()))),
                    short_side=self.config.image_size,
                )
                break
            except DecodeError as error:
                bad_files.append((error.source, error.cause))
                if len(bad_files) > MAX_REPLACEMENTS:
                    raise too_many_in_a_row(bad_files) from error
                index = int(torch.randint(len(self.files), ()))
        frame_index = int(torch.randint(self.num_frames, ())) if self.training else self.num_frames // 2
        inputs = localizer_inputs(clip, frame_index, self.config)
        if self.training and float(torch.rand(())) < 0.5:
            inputs["pixel_values"] = inputs["pixel_values"].flip(-1)
        return {**inputs, "bad_files": bad_files}


def localizer_inputs(clip: Clip, frame_index: int, config: AVSSLLocalizerConfig) -> dict[str, torch.Tensor]:
    """One frame of a decoded clip, normalised and resized to `(3, S, S)`, and the clip's audio features
    `(1, freq, time)`, as the localizer takes them."""
    frame = torch.from_numpy(np.ascontiguousarray(clip.frames[frame_index])).permute(2, 0, 1).float()[None] / 255
    size = (config.image_size, config.image_size)
    frame = F.interpolate(frame, size=size, mode="bilinear", antialias=True, align_corners=False)[0]
    mean, std = torch.tensor(IMAGENET_DEFAULT_MEAN).view(3, 1, 1), torch.tensor(IMAGENET_DEFAULT_STD).view(3, 1, 1)
    pixel_values = (frame - mean) / std
    spectrogram = localizer_spectrogram(clip.audio, clip.sample_rate, config.audio_features)
    return {"pixel_values": pixel_values, "spectrogram": spectrogram}


class LocalizerTrainer(Trainer):
    """Trains with the model's own loss, in up to three phases of optimizer steps: EZ-VSL's term on mean-pooled
    frames for the first `mean_pooling_steps` (a warm-up for encoders trained from scratch), then EZ-VSL's term
    alone until `fnac_warmup_steps`, then with FNAC's weighted terms."""

    def __init__(
        self,
        *args,
        fnac_warmup_steps: int = 0,
        mean_pooling_steps: int = 0,
        bad_files: BadFileMonitor | None = None,
        **kwargs,
    ):
        super().__init__(*args, data_collator=collate, **kwargs)
        if self.args.remove_unused_columns:
            raise ValueError("LocalizerTrainer reads the samples' `bad_files`: set remove_unused_columns=False.")
        self.fnac_warmup_steps, self.mean_pooling_steps = fnac_warmup_steps, mean_pooling_steps
        self.bad_files = bad_files if bad_files is not None else BadFileMonitor()

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        inputs = dict(inputs)
        self.bad_files.update(len(inputs["pixel_values"]), inputs.pop("bad_files", []))
        step = self.state.global_step
        if step < self.mean_pooling_steps:
            outputs = model(**inputs)
            config = self.accelerator.unwrap_model(model).config
            terms = localization_losses(
                outputs.image_embeds, outputs.audio_embeds, config.temperature, config.foreground_threshold, "mean"
            )
            loss = terms["contrastive"]
        else:
            outputs = model(**inputs, return_loss=True)
            loss = outputs.loss_terms["contrastive"] if step < self.fnac_warmup_steps else outputs.loss
        return (loss, outputs) if return_outputs else loss


def train_localizer(
    files: list[str],
    output_dir: str | os.PathLike,
    config: AVSSLLocalizerConfig,
    num_frames: int,
    args: TrainingArguments,
    fnac_warmup_steps: int = 0,
    mean_pooling_steps: int = 0,
    bad_files: BadFileMonitor | None = None,
) -> AVSSLLocalizer:
    """Trains a fresh localizer on the clips in `files` (with every process of a distributed run) and saves it to
    `output_dir` with `save_pretrained`. Bad files are replaced, counted by `bad_files` (which stops the run when
    there are too many) and summed up in the log."""
    model = AVSSLLocalizer(config)
    trainer = LocalizerTrainer(
        model=model,
        args=args,
        train_dataset=LocalizerClips(files, config, num_frames, training=True),
        fnac_warmup_steps=fnac_warmup_steps,
        mean_pooling_steps=mean_pooling_steps,
        bad_files=bad_files,
    )
    trainer.train()
    logger.info("localizer: %s", trainer.bad_files.summary())
    trainer.save_model(str(output_dir))  # by the main process only, when several train together
    return model.eval()
