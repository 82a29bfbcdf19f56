"""The data path from real containers to model inputs: decoding, audio features, video views and AVSynth."""

from ..decoding import Clip, DecodeError, load_clip
from .audio import log_mel_fbank, spec_augment
from .encoding import write_clip
from .extracted_clips import read_clip
from .video_transforms import VideoAugmentation, frames_to_video


__all__ = [
    "Clip",
    "DecodeError",
    "VideoAugmentation",
    "frames_to_video",
    "load_clip",
    "log_mel_fbank",
    "read_clip",
    "spec_augment",
    "write_clip",
]
