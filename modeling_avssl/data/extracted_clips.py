"""Reading one clip from pre-extracted frames (a folder of JPEG or PNG images) and an audio file (wav or flac, read
with `soundfile`), with the timing `load_clip` gives a container: frame `i` (in the order of the number in its name)
shows from `i / frame_rate` seconds, and the audio file's first sample is at time 0.

A clip is the mapping `{"frames": folder, "audio": file or "", "frame_rate": fps}` (a row's `video`, see
`data/extraction.py`); `read_clip` reads a row's clip of either kind, this or a container.
"""

import os
import re
from collections.abc import Mapping

import numpy as np
import soundfile
import torch
import torchaudio
from PIL import Image

from ..decoding import (
    MAX_AUDIO_CHANNELS,
    MAX_FRAME_PIXELS,
    Clip,
    DecodeError,
    Source,
    clip_start,
    load_clip,
    place_samples,
    scaled_size,
)
from .sources import hidden


FRAME_EXTENSIONS = (".jpg", ".jpeg", ".png")
AUDIO_EXTENSIONS = (".wav", ".flac")
_EPSILON = 1e-6  # seconds: a frame at a requested time shows at it (as in decoding.py)
_NUMBER = re.compile(r"(\d+)\D*$")  # the last number in a file name: img_00001.jpg, 000001.png, frame_1.jpg


def frame_files(folder: str) -> list[str]:
    """The image files of a clip's frame folder in frame order (by the last number in their names). Where the folder
    holds frames of several kinds named alike but for a prefix (MMAction2 writes `flow_x_00001.jpg` and
    `flow_y_00001.jpg` beside `img_00001.jpg`), the `img` ones are the RGB frames. Raises `DecodeError` when there
    are none, when a name has no number, when the kinds cannot be told apart, or when numbers repeat or are missing
    between the first and the last (frames lost in extraction or copying)."""
    try:
        names = [name for name in os.listdir(folder) if not hidden(name) and name.lower().endswith(FRAME_EXTENSIONS)]
    except OSError as error:
        raise DecodeError(folder, f"cannot list the frame folder ({error.strerror})") from error
    if not names:
        raise DecodeError(folder, f"no frames ({', '.join(FRAME_EXTENSIONS)} files)")
    kinds = {}  # the name with its number taken out -> [(number, name)]
    for name in names:
        match = _NUMBER.search(os.path.splitext(name)[0])
        if match is None:
            raise DecodeError(folder, f"the frame {name} has no number in its name")
        kinds.setdefault(name[: match.start(1)] + "#" + name[match.end(1) :], []).append((int(match.group(1)), name))
    rgb = [kind for kind in kinds if kind.lower().startswith("img")]
    if len(kinds) > 1 and len(rgb) != 1:
        raise DecodeError(folder, f"frames of several kinds and none the one named img...: {sorted(kinds)[:4]}")
    numbered = sorted(kinds[rgb[0]] if len(kinds) > 1 else next(iter(kinds.values())))
    numbers = [number for number, _ in numbered]
    if numbers[-1] - numbers[0] + 1 != len(set(numbers)) or len(set(numbers)) != len(numbers):
        missing = sorted(set(range(numbers[0], numbers[-1] + 1)) - set(numbers))
        cause = f"frames {missing[:5]} of {numbers[0]}..{numbers[-1]} are missing" if missing else "frames repeat"
        raise DecodeError(folder, cause)
    return [os.path.join(folder, name) for _, name in numbered]


def read_frame(path: str, size: tuple[int, int], short_side: int | None) -> np.ndarray:
    """An image as uint8 `(H, W, 3)` RGB, at `size` (width, height: the clip's first frame's, as a video stream's),
    scaled down so that its short side is `short_side` where `scaled_size` says so (JPEGs are decoded at a reduced
    scale, which libjpeg does at a fraction of the cost). Any mode comes out as 8-bit RGB: grey, palette, CMYK and
    alpha as Pillow converts them, 16-bit grey scaled down to 8 bits. Raises `DecodeError` naming the file for an
    unreadable, truncated or oversized image, or one of floating-point pixels (no range to read them in)."""
    try:
        with Image.open(path) as image:
            if image.width * image.height > MAX_FRAME_PIXELS:
                raise DecodeError(path, f"it is {image.width}x{image.height}, beyond the {MAX_FRAME_PIXELS:,} pixels")
            if image.mode == "F":
                raise DecodeError(path, "its pixels are floating-point numbers, not 8- or 16-bit levels")
            width, height = scaled_size(size, short_side)
            image.draft("RGB", (width, height))
            if image.mode.startswith("I"):  # 16-bit grey ("I;16", or "I" as older Pillow reads it)
                image = Image.fromarray((np.asarray(image, np.float64) / 257).clip(0, 255).round().astype(np.uint8))
            image = image.convert("RGB")
            if image.size != (width, height):
                image = image.resize((width, height), Image.Resampling.BILINEAR)
            return np.asarray(image)
    except DecodeError:
        raise
    except (OSError, ValueError, Image.DecompressionBombError) as error:
        raise DecodeError(path, f"not a readable image ({error})") from error


def read_audio(path: str, window_start: float, num_samples: int, sample_rate: int) -> np.ndarray:
    """`num_samples` of mono float32 audio at `sample_rate` from `window_start` seconds into the file, zero outside
    the recording; channels are averaged and another sample rate is resampled. Raises `DecodeError` naming the file
    for an unreadable one, too many channels, or NaN or infinite samples."""
    try:
        with soundfile.SoundFile(path) as file:
            if file.channels > MAX_AUDIO_CHANNELS:
                raise DecodeError(path, f"it has {file.channels} channels, beyond the {MAX_AUDIO_CHANNELS} allowed")
            rate = file.samplerate
            first = int(np.floor(window_start * rate))
            last = int(np.ceil((window_start + num_samples / sample_rate) * rate))
            lo, hi = max(first, 0), min(last, file.frames)
            samples = np.zeros((0, file.channels), np.float32)
            if hi > lo:
                file.seek(lo)
                samples = file.read(hi - lo, dtype="float32", always_2d=True)
    except DecodeError:
        raise
    except (soundfile.LibsndfileError, RuntimeError, OSError) as error:
        raise DecodeError(path, f"not a readable audio file ({error})") from error
    mono = samples.mean(axis=1)
    if not np.isfinite(mono).all():
        raise DecodeError(path, "the audio has NaN or infinite samples")
    position = lo / rate
    if rate != sample_rate and len(mono):
        mono = torchaudio.functional.resample(torch.from_numpy(mono), rate, sample_rate).numpy()
    out = np.zeros(num_samples, np.float32)
    place_samples(out, mono, position, window_start, sample_rate)
    return out


def load_extracted_clip(
    clip: Mapping,
    num_frames: int,
    *,
    frame_stride: int = 1,
    clip_index: int | None = None,
    num_clips: int = 1,
    audio_seconds: float = 10.0,
    sample_rate: int = 16000,
    training: bool = False,
    rng: np.random.Generator | None = None,
    require_audio: bool = False,
    short_side: int | None = None,
) -> Clip:
    """`load_clip` of a pre-extracted clip: the same clip start (its duration is its frame count over its frame
    rate), the frames showing at the same times (the last one repeated past the end), the audio window centred on
    them; a clip without an audio file (`audio` "") has silence, as a video without an audio stream does. Raises
    `DecodeError` for a bad or missing frame, a bad or missing audio file, no audio file when `require_audio`, or a
    frame rate that is not positive."""
    folder, audio, fps = clip["frames"], clip.get("audio") or "", float(clip["frame_rate"] or 0)
    if not fps > 0:
        raise DecodeError(folder, f"its frame rate is {fps}: state it (--frame_rate) or list it in frame_rates.json")
    if audio and not os.path.isfile(audio):
        raise DecodeError(audio, "the clip's audio file is missing")
    has_audio = bool(audio)
    if require_audio and not has_audio:
        raise DecodeError(folder, "no audio file")
    files = frame_files(folder)
    duration = len(files) / fps
    span = num_frames * frame_stride / fps
    rng = rng if rng is not None else np.random.default_rng()
    start = clip_start(duration, span, training=training, clip_index=clip_index, num_clips=num_clips, rng=rng)
    times = start + np.arange(num_frames) * frame_stride / fps
    indices = np.minimum(np.floor((times + _EPSILON) * fps).astype(int), len(files) - 1)
    size = _image_size(files[0])
    decoded = {index: read_frame(files[index], size, short_side) for index in dict.fromkeys(indices)}
    num_samples = int(round(audio_seconds * sample_rate))
    centre = start + span / 2
    waveform = (
        read_audio(audio, centre - audio_seconds / 2, num_samples, sample_rate)
        if has_audio
        else np.zeros(num_samples, np.float32)
    )
    return Clip(
        frames=np.stack([decoded[index] for index in indices]),
        audio=waveform,
        sample_rate=sample_rate,
        fps=fps,
        duration=duration,
        start=start,
        has_audio=has_audio,
    )


def _image_size(path: str) -> tuple[int, int]:
    """(width, height) of an image, from its header."""
    try:
        with Image.open(path) as image:
            return image.size
    except (OSError, ValueError) as error:
        raise DecodeError(path, f"not a readable image ({error})") from error


def read_clip(video: Source, num_frames: int, *, threads: int = 0, **options) -> Clip:
    """The clip of a data set's row, whatever holds it: `load_extracted_clip` of a pre-extracted clip, else
    `load_clip` of a container (with its decoder's `threads`); `options` are the two functions' own."""
    if isinstance(video, Mapping) and "frames" in video:
        return load_extracted_clip(video, num_frames, **options)
    return load_clip(video, num_frames, threads=threads, **options)
