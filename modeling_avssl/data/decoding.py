"""Decoding one clip, frames and the audio around them, from any container FFmpeg reads (through PyAV)."""

import io
import logging
import os
from dataclasses import dataclass

import av
import numpy as np


logger = logging.getLogger(__name__)


class DecodeError(ValueError):
    """A source that cannot give the clip asked for: unreadable, truncated, empty, or missing a stream."""

    def __init__(self, source: str, cause: str):
        super().__init__(f"cannot decode {source}: {cause}")
        self.source = source
        self.cause = cause


@dataclass
class Clip:
    """Frames of one clip and the audio window centred on it.

    Attributes:
        frames: uint8 `(T, H, W, C)` RGB frames.
        audio: float32 `(samples,)` mono waveform at `sample_rate`, zero where the window leaves the recording
            (all zeros when `has_audio` is False).
        sample_rate: samples per second of `audio`.
        fps: frame rate of the video stream.
        duration: length of the video in seconds, as the container states it (0 when it does not).
        start: time of the first frame in seconds.
        has_audio: whether the source has an audio stream.
    """

    frames: np.ndarray
    audio: np.ndarray
    sample_rate: int
    fps: float
    duration: float
    start: float
    has_audio: bool


@dataclass
class MediaInfo:
    """What a container holds, from its headers and its first video frame.

    Attributes:
        has_audio: whether it has an audio stream.
        duration: seconds of video, as the container states it (0 when it does not).
        fps: frame rate of the video stream.
        width, height: frame size in pixels.
    """

    has_audio: bool
    duration: float
    fps: float
    width: int
    height: int


def probe(source: str | os.PathLike | bytes) -> MediaInfo:
    """Reads a container's streams and decodes its first video frame; raises `DecodeError` when it cannot (unreadable,
    truncated, no video)."""
    name = describe(source)
    try:
        with _open(source) as container:
            if not container.streams.video:
                raise DecodeError(name, "no video stream")
            video = container.streams.video[0]
            if next(container.decode(video), None) is None:
                raise DecodeError(name, "no decodable video frames (empty or truncated)")
            return MediaInfo(
                has_audio=bool(container.streams.audio),
                duration=_video_duration(container, video),
                fps=_frame_rate(video),
                width=video.codec_context.width,
                height=video.codec_context.height,
            )
    except (av.error.FFmpegError, OSError) as error:
        raise DecodeError(name, f"not a readable media container ({error})") from error


def _open(source: str | os.PathLike | bytes) -> av.container.InputContainer:
    file = io.BytesIO(source) if isinstance(source, (bytes, bytearray)) else source
    return av.open(file, metadata_errors="ignore")


def _frame_rate(stream: av.video.stream.VideoStream) -> float:
    rate = stream.average_rate or stream.guessed_rate
    return float(rate) if rate else 25.0


def describe(source: str | os.PathLike | bytes) -> str:
    """How a source is named in messages: its path, or the size of an in-memory container."""
    return f"<{len(source)} bytes>" if isinstance(source, (bytes, bytearray)) else str(source)


def clip_start(
    duration: float, span: float, *, training: bool, clip_index: int | None, num_clips: int, rng: np.random.Generator
) -> float:
    """Start time of a clip `span` seconds long: random in training, else clip `clip_index` of `num_clips` evenly
    spaced over the video (the centre one when `clip_index` is None)."""
    room = max(duration - span, 0.0)
    if training:
        return float(rng.uniform(0.0, room))
    if clip_index is None:
        return room / 2
    if not 0 <= clip_index < num_clips:
        raise ValueError(f"clip_index must be in [0, {num_clips}), got {clip_index}")
    return room * clip_index / (num_clips - 1) if num_clips > 1 else room / 2


def _video_duration(container: av.container.InputContainer, stream: av.video.stream.VideoStream) -> float:
    if stream.duration is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / av.time_base
    return 0.0


def _start_offset(stream) -> float:
    """Seconds at which a stream's timestamps start (frame times are measured from there)."""
    return float(stream.start_time * stream.time_base) if stream.start_time is not None else 0.0


def _decode_frames(
    container: av.container.InputContainer, stream, times: np.ndarray, frame_period: float
) -> list[np.ndarray]:
    """For each time in `times` (seconds, ascending), the RGB frame showing at that time. Seeks to the keyframe before
    the first time and decodes forward only as far as the last time, converting only the frames it picks; times past
    the end repeat the last frame. Empty when the stream holds no frame showing at the first time."""
    offset = _start_offset(stream)
    container.seek(int((times[0] + offset) / stream.time_base), stream=stream, backward=True, any_frame=False)
    picked: list[np.ndarray] = []
    previous = previous_rgb = None
    for frame in container.decode(stream):
        if frame.time is None:
            continue
        while len(picked) < len(times) and frame.time - offset > times[len(picked)] + 1e-6:
            if previous_rgb is None:
                previous_rgb = (previous if previous is not None else frame).to_ndarray(format="rgb24")
            picked.append(previous_rgb)
        if len(picked) == len(times):
            break
        previous, previous_rgb = frame, None
    if not picked and (previous is None or previous.time - offset + frame_period <= times[0]):
        return []
    if len(picked) < len(times):
        picked += [previous_rgb if previous_rgb is not None else previous.to_ndarray(format="rgb24")] * (
            len(times) - len(picked)
        )
    return picked


def _decode_audio(
    container: av.container.InputContainer, stream, window_start: float, num_samples: int, sample_rate: int
) -> np.ndarray:
    """`num_samples` of mono float32 audio at `sample_rate` from `window_start` seconds, zero outside the recording.
    Channels are averaged, so a stereo recording keeps its amplitude."""
    out = np.zeros(num_samples, dtype=np.float32)
    offset = _start_offset(stream)
    container.seek(int(max(window_start + offset, 0.0) / stream.time_base), stream=stream, backward=True)
    resampler = av.AudioResampler(format="fltp", rate=sample_rate)
    window_end = window_start + num_samples / sample_rate
    position = None  # time, in seconds, of the next resampled sample

    def place(frame: av.AudioFrame | None) -> None:
        nonlocal position
        for resampled in resampler.resample(frame):
            position = _place(out, resampled.to_ndarray().mean(axis=0), position, window_start, sample_rate)

    for frame in container.decode(stream):
        if position is None:
            if frame.time is None:
                continue
            position = frame.time - offset
        place(frame)
        if position >= window_end:
            return out
    if position is not None:
        place(None)
    return out


def _place(out: np.ndarray, samples: np.ndarray, position: float, window_start: float, sample_rate: int) -> float:
    """Copies `samples` starting at `position` seconds into `out` (which starts at `window_start`); returns the time
    after them."""
    first = int(round((position - window_start) * sample_rate))
    lo, hi = max(first, 0), min(first + len(samples), len(out))
    if hi > lo:
        out[lo:hi] = samples[lo - first : hi - first]
    return position + len(samples) / sample_rate


def load_clip(
    source: str | os.PathLike | bytes,
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
) -> Clip:
    """Decodes `num_frames` frames, `frame_stride` source frames apart, and `audio_seconds` of audio centred on them.

    `source` is a path or the bytes of any container FFmpeg reads (mp4, avi, mkv, webm, ...). In training the clip
    starts at a random position (from `rng`); otherwise it is clip `clip_index` of `num_clips` evenly spaced ones (the
    centre clip by default). The container is opened once and each stream is read from a seek near the clip. Videos
    shorter than the clip repeat their last frame; any channel layout, sample rate and sample format comes out as mono
    float32 at `sample_rate`. Raises `DecodeError` for unreadable, truncated or empty data, for a source without a
    video stream, and for one without an audio stream when `require_audio`.
    """
    name = describe(source)
    rng = rng if rng is not None else np.random.default_rng()
    try:
        container = _open(source)
    except (av.error.FFmpegError, OSError) as error:
        raise DecodeError(name, f"not a readable media container ({error})") from error
    with container:
        if not container.streams.video:
            raise DecodeError(name, "no video stream")
        video = container.streams.video[0]
        audio = container.streams.audio[0] if container.streams.audio else None
        if audio is None and require_audio:
            raise DecodeError(name, "no audio stream")
        fps = _frame_rate(video)
        duration = _video_duration(container, video)
        span = num_frames * frame_stride / fps
        start = clip_start(duration, span, training=training, clip_index=clip_index, num_clips=num_clips, rng=rng)
        times = start + np.arange(num_frames) * frame_stride / fps
        num_samples = int(round(audio_seconds * sample_rate))
        try:
            frames = _decode_frames(container, video, times, 1 / fps)
            if not frames and start > 0:
                logger.warning(
                    "%s: the video stream ends before %.2f s although the container says %.2f s (truncated?); "
                    "taking the clip at the start",
                    name,
                    start,
                    duration,
                )
                start, times = 0.0, times - start
                frames = _decode_frames(container, video, times, 1 / fps)
            if not frames:
                raise DecodeError(name, "no decodable video frames (empty or truncated)")
            centre = start + span / 2
            waveform = (
                _decode_audio(container, audio, centre - audio_seconds / 2, num_samples, sample_rate)
                if audio is not None
                else np.zeros(num_samples, dtype=np.float32)
            )
        except DecodeError:
            raise
        except (av.error.FFmpegError, OSError, ValueError) as error:
            raise DecodeError(name, f"decoding failed ({error})") from error
    return Clip(
        frames=np.stack(frames),
        audio=waveform,
        sample_rate=sample_rate,
        fps=fps,
        duration=duration,
        start=start,
        has_audio=audio is not None,
    )
