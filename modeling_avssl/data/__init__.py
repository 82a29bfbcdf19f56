"""The data path from real containers to model inputs: decoding, audio features, video views and AVSynth."""

from .decoding import Clip, DecodeError, load_clip
from .encoding import write_clip


__all__ = ["Clip", "DecodeError", "load_clip", "write_clip"]
