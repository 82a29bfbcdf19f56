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
"""The `video-classification` pipeline of an AVSSL model: decodes a video's frames and audio, returns its labels.

A saved folder names this class in `config.custom_pipelines`, so that
`pipeline("video-classification", model=folder_or_hub_id, trust_remote_code=True)` builds it from the folder's
copy of this file and of `decoding.py`, with no `modeling_avssl` installed (PyAV, torchvision and torchaudio are).
"""

import logging
import os
from typing import IO

import torch
from transformers import Pipeline

from .decoding import describe, load_clip


logger = logging.getLogger(__name__)

Video = str | os.PathLike | bytes | IO[bytes]


class AVSSLVideoClassificationPipeline(Pipeline):
    """Classifies videos given as paths, bytes or binary file-like objects.

    Each video is read as `num_clips` evenly spaced clips (the model's frames `processor.frame_stride` source frames
    apart, and the audio around them), which the processor resizes, centre-crops and turns into fbank; the model's
    softmax outputs over the clips are averaged. A video without an audio stream is heard as silence (the fbank of a
    zero waveform, as the test protocol does) and a warning names it. A file that cannot be decoded raises
    `DecodeError` naming it.

    Call parameters: `top_k` (default 5), `num_clips` (default 1), `frame_stride` (default the processor's), and
    `batch_size` for several videos per forward.
    """

    _load_processor = True
    _load_tokenizer = False
    _load_feature_extractor = False
    _load_image_processor = False
    _load_video_processor = False

    def _sanitize_parameters(
        self, top_k: int | None = None, num_clips: int | None = None, frame_stride: int | None = None
    ) -> tuple[dict, dict, dict]:
        preprocess = {"num_clips": num_clips, "frame_stride": frame_stride}
        preprocess = {name: value for name, value in preprocess.items() if value is not None}
        return preprocess, {}, {"top_k": top_k} if top_k is not None else {}

    def __call__(self, inputs: Video | list[Video], **kwargs) -> list[dict] | list[list[dict]]:
        """`[{"label", "score"}, ...]`, best first, for a video; a list of those for a list of videos."""
        return super().__call__(inputs, **kwargs)

    def preprocess(self, video: Video, num_clips: int = 1, frame_stride: int | None = None) -> dict[str, torch.Tensor]:
        """One video's `pixel_values` `(1, num_clips, T, C, H, W)` and `input_values` `(1, num_clips, L, M)`; the
        leading 1 lets the pipeline's collation stack videos."""
        source = video.read() if hasattr(video, "read") else video
        extractor = self.processor.feature_extractor
        clips = [
            load_clip(
                source,
                self.model.config.video_input_shape[0],
                frame_stride=frame_stride or self.processor.frame_stride,
                clip_index=index,
                num_clips=num_clips,
                audio_seconds=self.processor.audio_seconds,
                sample_rate=extractor.sampling_rate,
                short_side=self.processor.video_processor.size.shortest_edge,  # scaled as decoded, not after
            )
            for index in range(num_clips)
        ]
        if self.model.config.is_audio_visual and not all(clip.has_audio for clip in clips):
            logger.warning("%s has no audio stream: classified with silence as its audio", describe(source))
        features = self.processor(videos=clips)
        return {name: features[name].unsqueeze(0) for name in ("pixel_values", "input_values")}

    def _forward(self, model_inputs: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """The class probabilities `(videos, num_labels)`: the softmax of each clip, averaged over a video's clips."""
        pixel_values = model_inputs["pixel_values"].to(self.dtype)
        videos, clips = pixel_values.shape[:2]
        audio = (
            model_inputs["input_values"].flatten(0, 1).to(self.dtype) if self.model.config.is_audio_visual else None
        )
        logits = self.model(pixel_values.flatten(0, 1), audio).logits
        probabilities = logits.float().softmax(dim=-1).view(videos, clips, -1).mean(dim=1)
        return {"probabilities": probabilities}

    def postprocess(self, model_outputs: dict[str, torch.Tensor], top_k: int = 5) -> list[dict]:
        scores, labels = model_outputs["probabilities"][0].topk(min(top_k, self.model.config.num_labels))
        return [
            {"label": self.model.config.id2label[int(label)], "score": float(score)}
            for score, label in zip(scores, labels)
        ]
