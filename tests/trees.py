"""Small data trees for the data-source tests: real mp4 / avi files, silent ones, broken ones and tar shards."""

import io
import os
import tarfile

import numpy as np

from modeling_avssl.data import write_clip


def write_video(path: str | os.PathLike, audio: bool = True, shade: int = 0, frames: int = 8) -> str:
    """A 1 s, 32x32 clip at 8 fps whose frames are grey level `shade` (so a decoded clip tells which file it came
    from), with a tone or without an audio stream."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    video = np.full((frames, 32, 32, 3), shade, np.uint8)
    sound = (0.3 * np.sin(2 * np.pi * 440 * np.arange(16000) / 16000)).astype(np.float32) if audio else None
    write_clip(path, video, 8.0, sound, 16000, video_options={"tune": "zerolatency"})
    return str(path)


def write_broken(path: str | os.PathLike) -> str:
    """A file with a video name and random bytes."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as handle:
        handle.write(np.random.default_rng(0).integers(0, 256, 4000, dtype=np.uint8).tobytes())
    return str(path)


def write_tar(path: str | os.PathLike, members: dict[str, bytes]) -> str:
    """A tar file holding `members` (name -> content) in the given order."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with tarfile.open(path, "w") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return str(path)
