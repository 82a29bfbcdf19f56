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
"""Decoding one clip, frames and the audio around them, from any container FFmpeg reads (through PyAV), and a whole
video at a constant frame rate (what `python -m modeling_avssl.commands.data extract` writes as image files).

A source is a path, a container's bytes, or a `datasets` video struct `{"path", "bytes"}` (as `datasets.Video(decode=
False)` gives it); a data set's row may also hold a pre-extracted clip `{"frames", "audio", "frame_rate"}`, which
`data/extracted_clips.py` reads, and which messages name by its frame folder."""

import io
import itertools
import logging
import os
import stat
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass

import av
import av.logging
import fsspec
import numpy as np


logger = logging.getLogger(__name__)

_EPSILON = 1e-6  # seconds: a frame at a requested time shows at it
_SEEK_BACKOFF = (0.0, 2.0, 10.0)  # seconds back from a time to seek to while a seek lands after it; then the start
_AUDIO_PREROLL = 0.2  # seconds decoded before an audio window: after a seek, AAC, MP3 and Opus need a frame or more
_ENDS_EARLY_TOLERANCE = 0.25  # seconds a video stream may end before its stated duration (rounding, edit lists)
_AVI_CHUNK_HEADER = 8  # bytes between where an AVI index entry points and where its packet starts
MAX_FRAME_PIXELS = 8192 * 8192  # a declared frame size beyond this (8K UHD is 7680x4320) is refused, not allocated
MAX_AUDIO_CHANNELS = 64  # FFmpeg's largest channel mask; 22.2 sound has 24

Source = str | os.PathLike | bytes | Mapping  # a path, bytes, a video struct or a pre-extracted clip (see above)


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
        start: time of the first frame, in seconds from the start of the video stream (audio is on the same clock).
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


def probe(source: Source) -> MediaInfo:
    """Reads a container's streams and decodes its first video frame; raises `DecodeError` when it cannot (unreadable,
    truncated, no video). `width` and `height` are those of the frames `load_clip` returns (after rotation)."""
    name = describe(source)
    source = container_source(source)
    with _open(source, name) as container:
        try:
            if not container.streams.video:
                raise DecodeError(name, "no video stream")
            video = container.streams.video[0]
            if video.codec_context is None:
                raise DecodeError(name, "the video codec is unknown to FFmpeg (damaged header?)")
            first = next(container.decode(video), None)
            if first is None:
                raise DecodeError(name, "no decodable video frames (empty or truncated)")
            width, height = _frame_size(video) or (first.width, first.height)
            return MediaInfo(
                has_audio=bool(container.streams.audio),
                duration=_video_duration(container, video),
                fps=_frame_rate(video),
                width=height if _quarter_turns(first) % 2 else width,
                height=width if _quarter_turns(first) % 2 else height,
            )
        except (av.error.FFmpegError, OSError) as error:
            raise DecodeError(name, f"not a readable media container ({error})") from error


def _open(source: str | os.PathLike | bytes, name: str) -> av.container.InputContainer:
    """Opens a container; a path must name a regular file (a FIFO or a device could block `av.open` forever)."""
    if isinstance(source, (bytes, bytearray)):
        file = io.BytesIO(source)
    else:
        try:
            mode = os.stat(source).st_mode
        except OSError as error:
            raise DecodeError(name, f"cannot read the file ({error.strerror})") from error
        if not stat.S_ISREG(mode):
            raise DecodeError(name, "not a regular file (a directory, FIFO, socket or device)")
        file = source
    try:
        return av.open(file, metadata_errors="ignore")
    except (av.error.FFmpegError, OSError) as error:
        raise DecodeError(name, f"not a readable media container ({error})") from error


def _check_limits(name: str, video: av.video.stream.VideoStream, audio) -> None:
    """Refuses what the headers declare beyond `MAX_FRAME_PIXELS` or `MAX_AUDIO_CHANNELS`: decoding it would take
    memory no clip needs (a damaged or hostile header can declare 65535x65535 frames)."""
    size = _frame_size(video)
    if size is not None and size[0] * size[1] > MAX_FRAME_PIXELS:
        raise DecodeError(name, f"its frames are {size[0]}x{size[1]}, beyond the {MAX_FRAME_PIXELS:,} pixels allowed")
    channels = audio.codec_context.channels if audio is not None else 0
    if channels > MAX_AUDIO_CHANNELS:
        raise DecodeError(name, f"its audio has {channels} channels, beyond the {MAX_AUDIO_CHANNELS} allowed")


def _frame_rate(stream: av.video.stream.VideoStream) -> float:
    rate = stream.average_rate or stream.guessed_rate
    return float(rate) if rate else 25.0


def _frame_size(stream: av.video.stream.VideoStream) -> tuple[int, int] | None:
    """(width, height) the stream's headers give (its first frame's size), None when they give none."""
    width, height = stream.codec_context.width, stream.codec_context.height
    return (width, height) if width > 0 and height > 0 else None


def _quarter_turns(frame: av.VideoFrame) -> int:
    """Counterclockwise quarter turns the frame's display matrix asks for (rotation metadata), rounded."""
    return int(round(frame.rotation / 90)) % 4


def describe(source: Source) -> str:
    """How a source is named in messages: its path (an extracted clip's frame folder), or the size of an in-memory
    container."""
    if isinstance(source, Mapping):
        if "frames" in source:
            return str(source["frames"])
        size = f"<{len(source['bytes'])} bytes>" if source.get("bytes") else None
        return " ".join(filter(None, (source.get("path"), size))) or "<an empty video struct>"
    return f"<{len(source)} bytes>" if isinstance(source, (bytes, bytearray)) else str(source)


def file_path(source: Source) -> str | None:
    """The path of the file a source came from: a path's own, a `datasets` struct's; None for bytes or a
    pre-extracted clip."""
    if isinstance(source, Mapping):
        return source.get("path")
    return None if isinstance(source, (bytes, bytearray)) else os.fspath(source)


def container_source(source: Source) -> str | os.PathLike | bytes:
    """A path or bytes of a container: a `datasets` video struct's bytes, or else its path (a URL, `hf://...` as
    `datasets` streams a Hub folder, is read whole)."""
    if not isinstance(source, Mapping):
        return source
    if source.get("bytes"):
        return source["bytes"]
    path = source.get("path")
    if not path:
        raise DecodeError(describe(source), "the video struct holds neither bytes nor a path")
    if "://" not in path:
        return path
    try:
        with fsspec.open(path, "rb") as remote:
            return remote.read()
    except (OSError, ValueError) as error:
        raise DecodeError(path, f"cannot read it ({error})") from error


def container_bytes(source: Source) -> bytes:
    """The bytes of a container (a path's file read whole); raises `DecodeError` for a pre-extracted clip, which is
    no container."""
    if isinstance(source, Mapping) and "frames" in source:
        raise DecodeError(describe(source), "pre-extracted frames are not a container")
    data = container_source(source)
    if isinstance(data, (bytes, bytearray)):
        return bytes(data)
    try:
        with open(data, "rb") as file:
            return file.read()
    except OSError as error:
        raise DecodeError(describe(source), f"cannot read the file ({error.strerror})") from error


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
        end = (container.duration + (container.start_time or 0)) / av.time_base
        return max(end - _clock_origin(stream), 0.0)
    return 0.0


def _clock_origin(video: av.video.stream.VideoStream) -> float:
    """Time in the container's clock of the video stream's start. Every time in a `Clip` (frames and audio) is
    measured from it, so streams that start at different times stay aligned."""
    start = _stream_start(video)
    return start if start is not None else 0.0


class _FFmpegLog:
    """FFmpeg's error messages while a clip decodes, for `_decoded` to turn into errors. PyAV ignores FFmpeg's log
    unless a level is set and folds repeated messages into one, so while open this sets the level to ERROR (when it
    is unset), keeps every repeat, and collects messages from every thread (decoders log from their slice threads);
    threads of one process that decode at the same time see each other's errors, which makes a sound clip fail
    (DataLoader workers are processes)."""

    def __enter__(self) -> "_FFmpegLog":
        self._level, self._skip_repeated = av.logging.get_level(), av.logging.get_skip_repeated()
        if self._level is None:
            av.logging.set_level(av.logging.ERROR)
        av.logging.set_skip_repeated(False)
        self._capture = av.logging.Capture(local=False)
        self._messages = self._capture.__enter__()
        return self

    def __exit__(self, *exc_info) -> None:
        self._capture.__exit__(*exc_info)
        av.logging.set_skip_repeated(self._skip_repeated)
        if self._level is None:
            av.logging.set_level(None)

    def drop(self, *, of: str | None = None, keep: str | None = None) -> None:
        """Forgets the messages so far: those of the component named `of` (all when None), except those of `keep`."""
        self._messages[:] = [m for m in self._messages if (of is not None and m[1] != of) or m[1] == keep]

    def first_error(self, *, of: str | None = None) -> str | None:
        """The first error so far (of the component named `of`, of any when None), as "[component] message"."""
        for level, name, message in self._messages:
            if level <= av.logging.ERROR and of in (None, name):
                return f"[{name}] {message.strip()}"
        return None


class _Damaged(ValueError):
    """Data that is not what the file's headers promise: FFmpeg logged an error reading it, a video stream's packets
    end before its stated duration, or an AVI chunk is out of place."""


def _frames_from(
    container: av.container.InputContainer, stream, time: float, origin: float, log: _FFmpegLog
) -> Iterator:
    """Decoded frames of `stream`, from the last one at or before `time` seconds (on the clock from `origin`) or from
    the stream's first frame. Seeks to the keyframe before `time`; where the demuxer lands after it (MPEG-TS seeks
    by byte position and can land a GOP late) it seeks further back, and in the end decodes from the start. An AVI
    whose index stops short of its frames is always read from the start (`_index_is_whole`)."""
    for other in container.streams:  # the demuxer then skips the other streams' data rather than reading it
        other.discard = av.stream.Discard.default if other.index == stream.index else av.stream.Discard.all
    whole = _index_is_whole(container)
    index = stream.index_entries if whole and container.format.name == "avi" and stream.type == "video" else None
    for back in _SEEK_BACKOFF if whole else ():
        target = time + origin - back
        from_start = target <= origin
        if from_start:
            container.seek(0, backward=True)
        else:
            container.seek(int(target / stream.time_base), stream=stream, backward=True)
        frames = _decoded(container, stream, log, index)
        first = next(frames, None)
        if first is None:
            if from_start:
                return iter(())
            continue
        at_start = _stream_start(stream) is not None and first.time <= _stream_start(stream) + _EPSILON
        if from_start or at_start or first.time - origin <= time + _EPSILON:
            return itertools.chain([first], frames)
    container.seek(0, backward=True)
    return _decoded(container, stream, log, index)


def _decoded(container: av.container.InputContainer, stream, log: _FFmpegLog, index) -> Iterator:
    """The stream's timed frames from where the container stands (just after a seek), decoded packet by packet.

    FFmpeg conceals damage and only logs it: a demuxer skips a broken stretch or stops early, a decoder leaves a frame
    out or draws it from stale pictures. So this raises `_Damaged` where FFmpeg logs an error: from the demuxer once
    the first packet is read (messages while seeking are its search; at the end of an audio stream the recording
    just ends there), from the decoder once the first frame is out (before it, pictures that refer to ones before the
    seek point fail, and are not shown). It raises it too where a video stream's packets end before the duration its
    header states, and where a packet is not where `index` (a whole AVI index, or None) puts its frame."""
    demuxer = container.format.name
    log.drop()
    read = started = False  # a packet is read, a frame is out
    end = previous = None  # presentation end of the video packets read, timestamp of the last (in the time base)
    video = stream.type == "video"
    for packet in container.demux(stream):
        if packet.size:
            if read and (error := log.first_error(of=demuxer)):
                last = "" if previous is None else f" of {float(previous * stream.time_base):.3f} s"
                raise _Damaged(f"damaged data after the packet{last}: FFmpeg reports {error}")
            read = True
            if index is not None and packet.dts is not None:
                _check_position(packet, index)
            if (pts := packet.pts) is not None:
                previous = pts
                if video:
                    end = max(pts if end is None else end, pts + (packet.duration or 0))
        elif not video:
            log.drop(of=demuxer)  # the recording ends where the data does (silence after it), like a short stream
        for frame in packet.decode():
            if frame.time is None:
                continue
            if not started:
                log.drop(keep=demuxer)
                started = True
            if error := log.first_error():
                raise _Damaged(f"damaged data before {frame.time:.3f} s: FFmpeg reports {error}")
            yield frame
    if error := log.first_error():
        raise _Damaged(f"damaged data at the end of the {stream.type} stream: FFmpeg reports {error}")
    if end is not None and stream.duration is not None:
        start = stream.start_time or 0
        if float((end - start - stream.duration) * stream.time_base) < -_ENDS_EARLY_TOLERANCE:
            raise _Damaged(
                f"the video stream ends at {float((end - start) * stream.time_base):.2f} s but its header says "
                f"{float(stream.duration * stream.time_base):.2f} s (truncated, or a damaged index)"
            )


def _index_is_whole(container: av.container.InputContainer) -> bool:
    """Whether seeks can be trusted to number the frames they land on. FFmpeg counts AVI timestamps along the index
    rather than reading them, so after a seek into an index that ends before the frames the header states (cut
    short or damaged) every frame is numbered wrongly; such a file is read from the start, where counting starts
    right, and its index is not used to check positions either. Other containers store their timestamps."""
    if container.format.name != "avi" or not container.streams.video:
        return True
    video = container.streams.video[0]
    entries = video.index_entries
    return len(entries) > 0 and entries[len(entries) - 1].timestamp + 1 >= video.frames


def _check_position(packet: av.Packet, index) -> None:
    """An AVI packet must come from where the index puts the frame of its decode timestamp: FFmpeg counts timestamps
    along the chunks it reads (in decode order, so B-frames leave the presentation times apart from them), so a chunk
    lost to damage shifts every later one. Checked where the index names the timestamp; its positions point at a
    chunk's 8-byte header."""
    found = index.search_timestamp(packet.dts, backward=True, any_frame=True)
    entry = index[found] if found >= 0 else None
    if entry is not None and entry.timestamp == packet.dts and not 0 <= packet.pos - entry.pos <= _AVI_CHUNK_HEADER:
        raise _Damaged(
            f"frame {packet.dts} (in decode order) is at byte {packet.pos} but the index puts it at {entry.pos} "
            "(chunks lost to damage: the timestamps after them are wrong)"
        )


def _stream_start(stream) -> float | None:
    return float(stream.start_time * stream.time_base) if stream.start_time is not None else None


def _check_order(previous: float | None, time: float) -> None:
    """Decoded frames come in presentation order; a frame earlier (`time`, seconds) than the one before it
    (`previous`) means damaged timestamps or two recordings joined end to end, where no time names one frame."""
    if previous is not None and time < previous - _EPSILON:
        raise ValueError(f"timestamps go backwards at {previous:.3f} s (damaged, or recordings joined end to end)")


def scaled_size(size: tuple[int, int], short_side: int | None) -> tuple[int, int]:
    """`size` (width, height) scaled down so that its short side is `short_side` (the long one rounded to an even
    number, which FFmpeg's scaler converts twice as fast), where that at least halves its pixels; below that an
    unscaled conversion (FFmpeg's fast path) and a resize of the views cost less."""
    if short_side is None or min(size) ** 2 < 2 * short_side**2:
        return size
    scale = short_side / min(size)
    return tuple(short_side if side == min(size) else 2 * max(1, round(side * scale / 2)) for side in size)


def _picked_frames(
    container: av.container.InputContainer,
    stream,
    times: np.ndarray,
    origin: float,
    log: _FFmpegLog,
    short_side: int | None,
    *,
    past_end: bool,
) -> Iterator[np.ndarray]:
    """For each time in `times` (seconds from `origin`, ascending), the RGB frame showing at that time, at the size of
    the stream's first frame (scaled down to `short_side` in the same conversion) and turned as its rotation metadata
    says; times after the last frame is shown get it again when `past_end`, else nothing. Decodes forward from a seek
    only as far as the last time, converting only the frames it picks (a frame picked for several times is one
    array). Yields nothing when the stream holds no frame showing at the first time."""
    size = _frame_size(stream)
    picked = 0
    previous = previous_rgb = None

    def rgb(frame: av.VideoFrame) -> np.ndarray:
        nonlocal size
        size = size or (frame.width, frame.height)
        width, height = scaled_size(size, short_side)
        return np.ascontiguousarray(
            np.rot90(frame.to_ndarray(format="rgb24", width=width, height=height), _quarter_turns(frame))
        )

    for frame in _frames_from(container, stream, times[0], origin, log):
        _check_order(previous.time if previous is not None else None, frame.time)
        while picked < len(times) and frame.time - origin > times[picked] + _EPSILON:
            if previous_rgb is None:
                previous_rgb = rgb(previous if previous is not None else frame)
            yield previous_rgb
            picked += 1
        if picked == len(times):
            return
        previous, previous_rgb = frame, None
    shown_until = None if previous is None else previous.time - origin + 1 / _frame_rate(stream)
    if shown_until is None or (not picked and shown_until <= times[0]):
        return
    last = rgb(previous)
    for time in times[picked:]:
        if not past_end and time >= shown_until - _EPSILON:
            return
        yield last


def _decode_audio(
    container: av.container.InputContainer,
    stream,
    window_start: float,
    num_samples: int,
    sample_rate: int,
    origin: float,
    log: _FFmpegLog,
) -> np.ndarray:
    """`num_samples` of mono float32 audio at `sample_rate` from `window_start` seconds after `origin`, zero outside
    the recording. Each sample sits at its presentation time, so audio that starts later or earlier than the video
    keeps its place; decoding starts `_AUDIO_PREROLL` before the window, so the decoder has settled when it begins.

    The decoded frames gather, as they are, in an FFmpeg FIFO, and the window's samples are converted at once (one
    resampler run, one array, one mean), not frame by frame in Python, which cost as much as decoding them. A change
    of sample rate, format or layout mid-stream starts a new run, placed at its own first frame's time."""
    out = np.zeros(num_samples, dtype=np.float32)
    window_end = window_start + num_samples / sample_rate
    fifo = kind = position = previous = None  # the run being gathered: its format, layout and rate, its start
    for frame in _frames_from(container, stream, max(window_start - _AUDIO_PREROLL, 0.0), origin, log):
        time = frame.time - origin
        _check_order(previous, time)
        previous = time
        frame_kind = (frame.format.name, frame.layout.name, frame.sample_rate)
        if frame_kind != kind:  # a new run (checked here: PyAV's FIFO crashes on a frame of another layout)
            if fifo is not None:
                _place_run(out, fifo, position, window_start, sample_rate)
            fifo, kind, position = av.AudioFifo(), frame_kind, time
        frame.pts = None  # samples are placed by count from the run's first; the FIFO would check the timestamps
        fifo.write(frame)
        if position + fifo.samples / kind[2] >= window_end:
            break
    if fifo is not None:
        _place_run(out, fifo, position, window_start, sample_rate)
    return out


def _place_run(out: np.ndarray, fifo: av.AudioFifo, position: float, window_start: float, sample_rate: int) -> None:
    """Converts the frames gathered in `fifo` (one format, layout and rate) to mono at `sample_rate` and places them
    from `position` seconds into `out` (which starts at `window_start`). Channels (any
    number, any layout) are averaged, so a stereo recording keeps its amplitude. Mono and stereo are read planar (as
    decoders give them); more channels interleaved, because PyAV cannot read a planar frame of that many into an
    array safely (it crashed the process at 8)."""
    run = fifo.read()
    channels = run.layout.nb_channels
    planar = 0 < channels <= 2  # a layout that names no count is read interleaved
    resampler = av.AudioResampler(format="fltp" if planar else "flt", rate=sample_rate)
    samples = np.concatenate([frame.to_ndarray() for frame in resampler.resample(run) + resampler.resample(None)], 1)
    mono = samples.mean(axis=0) if planar else samples.reshape(-1, channels).mean(axis=1)
    place_samples(out, mono, position, window_start, sample_rate)


def place_samples(
    out: np.ndarray, samples: np.ndarray, position: float, window_start: float, sample_rate: int
) -> None:
    """Copies `samples` starting at `position` seconds into `out` (which starts at `window_start`)."""
    first = int(round((position - window_start) * sample_rate))
    lo, hi = max(first, 0), min(first + len(samples), len(out))
    if hi > lo:
        out[lo:hi] = samples[lo - first : hi - first]


def _streams(container: av.container.InputContainer, name: str, threads: int, require_audio: bool) -> tuple:
    """The first video stream and the first audio stream (None without one) of a container, their decoders set to
    `threads` threads (0: FFmpeg's choice); raises `DecodeError` for a missing video stream, a missing audio stream
    when `require_audio`, an unknown codec, or what `_check_limits` refuses."""
    if not container.streams.video:
        raise DecodeError(name, "no video stream")
    video = container.streams.video[0]
    audio = container.streams.audio[0] if container.streams.audio else None
    if audio is None and require_audio:
        raise DecodeError(name, "no audio stream")
    for stream in (video, audio):
        if stream is not None and stream.codec_context is None:
            raise DecodeError(name, f"the {stream.type} codec is unknown to FFmpeg (damaged header?)")
        if stream is not None and threads:
            stream.codec_context.thread_count = threads
    _check_limits(name, video, audio)
    return video, audio


def load_clip(
    source: Source,
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
    threads: int = 0,
    short_side: int | None = None,
) -> Clip:
    """Decodes `num_frames` frames, `frame_stride` source frames apart, and `audio_seconds` of audio centred on them.

    `source` is a path to a regular file or the bytes of any container FFmpeg reads (mp4, avi, mkv, webm, ts, ...), or
    a `datasets` video struct of either (`data.read_clip` reads pre-extracted clips too). In training the clip
    starts at a random position (from `rng`); otherwise it is clip `clip_index` of `num_clips` evenly spaced ones (the
    centre clip by default). Times are seconds from the start of the video stream, and the audio is placed on the same
    clock, so streams that start at different times stay aligned. The container is opened once and each stream is read
    from a seek near the clip (checked, and repeated further back when a demuxer lands late). Videos shorter than the
    clip repeat their last frame; frames come at the stream's first frame size (a stream that changes resolution is
    resized to it), scaled down in their conversion to RGB so that their short side is `short_side` where that at least
    halves their pixels (the size the views need: a sample of an 8K file then takes about the memory one of a 360p file
    does), and turned as the rotation metadata says; any channel count, layout, sample rate and sample format comes out
    as mono float32 at `sample_rate`. Each stream's decoder runs `threads` threads (0: FFmpeg's choice, one per core; a
    loader's workers share the cores). Raises `DecodeError` (naming the source) for anything but a regular file, for
    unreadable, truncated or empty data, for frames or audio channels beyond `MAX_FRAME_PIXELS` and
    `MAX_AUDIO_CHANNELS`, for a source without a video stream, for one without an audio stream when `require_audio`,
    and for audio with NaN or infinite samples.
    """
    rng = rng if rng is not None else np.random.default_rng()
    name = describe(source)
    source = container_source(source)
    with _open(source, name) as container, _FFmpegLog() as log:
        video, audio = _streams(container, name, threads, require_audio)
        fps = _frame_rate(video)
        duration = _video_duration(container, video)
        origin = _clock_origin(video)
        span = num_frames * frame_stride / fps
        start = clip_start(duration, span, training=training, clip_index=clip_index, num_clips=num_clips, rng=rng)
        times = start + np.arange(num_frames) * frame_stride / fps
        num_samples = int(round(audio_seconds * sample_rate))
        try:
            try:
                frames = list(_picked_frames(container, video, times, origin, log, short_side, past_end=True))
                if not frames and start > 0:
                    raise _Damaged(
                        f"the video stream ends before {start:.2f} s although the container says {duration:.2f} s "
                        "(truncated?)"
                    )
            except _Damaged as damage:
                if start == 0:
                    raise
                logger.warning("%s: %s; taking the clip at the start", name, damage)
                start, times = 0.0, times - start
                frames = list(_picked_frames(container, video, times, origin, log, short_side, past_end=True))
            if not frames:
                raise DecodeError(name, "no decodable video frames (empty or truncated)")
            centre = start + span / 2
            waveform = (
                _decode_audio(container, audio, centre - audio_seconds / 2, num_samples, sample_rate, origin, log)
                if audio is not None
                else np.zeros(num_samples, dtype=np.float32)
            )
            if not np.isfinite(waveform).all():
                raise DecodeError(name, "the audio has NaN or infinite samples")
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


@dataclass
class WholeVideo:
    """A whole video at a constant frame rate, with its audio on the same clock: what an extracted copy holds.

    Attributes:
        fps: frames per second of `frames`, the video stream's.
        frames: uint8 `(H, W, 3)` RGB frames, the one showing at each time `i / fps` from the start of the video stream
            to its end (as `load_clip` picks them; a variable frame rate comes out constant).
        audio: float32 `(samples,)` mono waveform at `sample_rate` from the start of the video stream to the end of
            the video or of the audio, whichever is later, zero where there is no recording; None without an audio
            stream. Audio before the video's first frame is not in it.
        duration: seconds of video, as `load_clip` counts them.
    """

    fps: float
    frames: Iterator[np.ndarray]
    audio: np.ndarray | None
    duration: float


@contextmanager
def whole_video(
    source: Source, *, sample_rate: int = 16000, short_side: int | None = None, threads: int = 0
) -> Iterator[WholeVideo]:
    """Opens `source` to read it whole (its `frames` are decoded as they are iterated, in the `with` block; frames and
    audio as `load_clip` reads them, scaled down to `short_side` where that halves their pixels, with `threads`
    decoder threads). Raises `DecodeError` for what `load_clip` refuses, and for damage found while iterating."""
    name = describe(source)
    with _open(container_source(source), name) as container, _FFmpegLog() as log:
        video, audio = _streams(container, name, threads, require_audio=False)
        fps, origin = _frame_rate(video), _clock_origin(video)
        try:
            duration = _video_duration(container, video)
            if not duration:  # unstated (a recording's webm): the time the last frame ends
                ends = [frame.time - origin + 1 / fps for frame in _frames_from(container, video, 0, origin, log)]
                duration = max(ends, default=0.0)
            seconds = max(duration, _audio_end(audio, origin))
            samples = int(round(seconds * sample_rate))
            waveform = None if audio is None else _decode_audio(container, audio, 0, samples, sample_rate, origin, log)
        except (av.error.FFmpegError, OSError, ValueError) as error:
            raise DecodeError(name, f"decoding failed ({error})") from error
        if not duration:
            raise DecodeError(name, "no decodable video frames (empty or truncated)")
        if waveform is not None and not np.isfinite(waveform).all():
            raise DecodeError(name, "the audio has NaN or infinite samples")
        times = np.arange(int(np.ceil(duration * fps - _EPSILON))) / fps
        frames = _picked_frames(container, video, times, origin, log, short_side, past_end=False)
        yield WholeVideo(fps, _named_errors(frames, name), waveform, duration)


def _audio_end(stream, origin: float) -> float:
    """Seconds from `origin` to the end of an audio stream as its header states it (0 without one)."""
    if stream is None or stream.duration is None:
        return 0.0
    return float(((stream.start_time or 0) + stream.duration) * stream.time_base) - origin


def _named_errors(frames: Iterator[np.ndarray], name: str) -> Iterator[np.ndarray]:
    """`frames`, with what goes wrong decoding them raised as a `DecodeError` naming the source."""
    try:
        yield from frames
    except (av.error.FFmpegError, OSError, ValueError) as error:
        raise DecodeError(name, f"decoding failed ({error})") from error
