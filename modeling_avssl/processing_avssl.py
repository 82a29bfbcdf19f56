# Copyright 2026 The AVSSL Authors. All rights reserved.
#
# Licensed under the Apache License, Version 2.0 (the "License");
# you may not use this file except in compliance with the License.
# You may obtain a copy of the License at
#
#     http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS,
# WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
# See the License for the specific language governing permissions and
# limitations under the License.
"""AVSSLProcessor: one object that turns videos and their audio into `pixel_values` and `input_values`."""

import numpy as np
import torch
from transformers import ASTFeatureExtractor, BatchFeature, ProcessorMixin, VideoMAEVideoProcessor
from transformers.image_utils import IMAGENET_DEFAULT_MEAN, IMAGENET_DEFAULT_STD


FBANK_FRAMES_PER_SECOND = 100  # Kaldi fbank: a frame every 10 ms


def fbank_seconds(max_length: int) -> float:
    """Seconds of audio that `max_length` fbank frames cover."""
    return max_length / FBANK_FRAMES_PER_SECOND


class AVSSLProcessor(ProcessorMixin):
    r"""
    A VideoMAE video processor and an AST feature extractor in one processor.

    Videos (uint8 `(T, H, W, C)` arrays or tensors, or [`~modeling_avssl.data.Clip`]s) become `pixel_values`
    `(B, T, C, crop, crop)`: short side resized, centre crop, normalised. Audio (mono float waveforms at the feature
    extractor's rate, or the audio of the `Clip`s) becomes `input_values` `(B, max_length, num_mel_bins)`, Kaldi
    log-mel fbank normalised as AST's checkpoints expect.

    Args:
        video_processor: defaults to VideoMAE's at 224 with ImageNet mean and std (as `MCG-NJU/videomae-base`).
        feature_extractor: defaults to AST's for 1024 frames of 128 mel bins at 16 kHz.
        frame_stride: source frames between a clip's frames, as the model was trained; the pipeline reads videos
            with it.
    """

    def __init__(self, video_processor=None, feature_extractor=None, frame_stride: int = 4):
        self.frame_stride = frame_stride
        if video_processor is None:
            video_processor = VideoMAEVideoProcessor(image_mean=IMAGENET_DEFAULT_MEAN, image_std=IMAGENET_DEFAULT_STD)
        if feature_extractor is None:
            feature_extractor = ASTFeatureExtractor()
        super().__init__(video_processor, feature_extractor)

    def __call__(self, videos=None, audio=None, sampling_rate: int | None = None, return_tensors="pt", **kwargs):
        """Turns `videos` and/or `audio` (one item or a list) into a `BatchFeature` with `pixel_values` and
        `input_values`. When `videos` are `Clip`s and `audio` is None, the clips' own audio is used."""
        if videos is None and audio is None:
            raise ValueError("Pass `videos`, `audio`, or both.")
        features = {}
        if videos is not None:
            videos = videos if isinstance(videos, (list, tuple)) else [videos]
            if audio is None and all(hasattr(video, "audio") for video in videos):
                audio = [video.audio for video in videos]
                rates = {video.sample_rate for video in videos}
                if len(rates) > 1:
                    raise ValueError(
                        f"The clips' audio has different sample rates {sorted(rates)}; decode at one rate."
                    )
                sampling_rate = rates.pop()
            frames = [_frames_of(video) for video in videos]
            features.update(self.video_processor(frames, return_tensors=return_tensors, **kwargs))
        if audio is not None:
            waveforms = audio if isinstance(audio, (list, tuple)) else [audio]
            waveforms = [np.asarray(waveform, dtype=np.float32) for waveform in waveforms]
            rate = sampling_rate if sampling_rate is not None else self.feature_extractor.sampling_rate
            features.update(self.feature_extractor(waveforms, sampling_rate=rate, return_tensors=return_tensors))
        return BatchFeature(features, tensor_type=return_tensors)

    @property
    def model_input_names(self) -> list[str]:
        return ["pixel_values", "input_values"]

    @property
    def audio_seconds(self) -> float:
        """Seconds of audio the feature extractor's fbank frames cover."""
        return fbank_seconds(self.feature_extractor.max_length)


def _frames_of(video) -> torch.Tensor | np.ndarray:
    """The `(T, H, W, C)` frames of a `Clip`, an array or a tensor."""
    frames = getattr(video, "frames", video)
    if frames.ndim != 4 or frames.shape[-1] not in (1, 3):
        raise ValueError(f"A video must be (frames, height, width, channels), got shape {tuple(frames.shape)}.")
    return frames


__all__ = ["AVSSLProcessor"]
