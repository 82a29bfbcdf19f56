"""Media files whose every frame and sample is known: the decoder's fuzz corpus.

Each case is written with PyAV in a real container and codec, with the stream starts, rotation, resolution change,
channel count and sample format it names. Frame `i` shows `i` in binary (8 vertical stripes, white = 1, under a white
band that marks the top, so any turn can be read back), and the audio is one linear chirp over the whole file (the
same on every channel), so a decoded window can be placed in time by correlation. `mutations` derives damaged files
(truncated, bytes flipped, two files concatenated). The tests hold `load_clip` to the truth of each clean case; the
benchmark `benchmarks/decode_fuzz.py` runs the large corpus.
"""

import fractions
import os
from collections.abc import Iterator
from dataclasses import dataclass, field

import av
import numpy as np


STRIPES = 8  # bits of the frame index shown in each frame
_SAMPLE_TYPES = {"s16": np.int16, "s32": np.int32, "flt": np.float32, "dbl": np.float64}


@dataclass(frozen=True)
class MediaCase:
    """One file to write: container, codecs and the timeline of its streams (seconds in the container's clock).

    Attributes:
        name: file name, with the container's extension.
        container: FFmpeg muxer name (mp4, matroska, webm, avi, mpegts, mov, ogg, ...).
        video_codec, audio_codec: encoder names; `audio_codec` None writes no audio stream.
        num_frames, fps: frames of video and their rate.
        size: (width, height) of the first frame; after `resize_at` frames the stream doubles its size.
        video_start, audio_start: time of each stream's first frame or sample.
        audio_seconds: length of the audio (default: as long as the video).
        sample_rate, layout, sample_format: of the audio written.
        rotation: display rotation metadata in degrees counterclockwise (None: none).
        non_finite: one audio sample written as NaN (float sample formats only).
        options: encoder options of the video stream.
    """

    name: str
    container: str
    video_codec: str = "libx264"
    audio_codec: str | None = "aac"
    num_frames: int = 40
    fps: int = 10
    size: tuple[int, int] = (64, 48)
    video_start: float = 0.0
    audio_start: float = 0.0
    audio_seconds: float | None = None
    sample_rate: int = 16000
    layout: str = "mono"
    sample_format: str = "fltp"
    rotation: int | None = None
    resize_at: int | None = None
    non_finite: bool = False
    pix_fmt: str = "yuv420p"
    options: dict = field(default_factory=dict)

    @property
    def audio_duration(self) -> float:
        return self.audio_seconds if self.audio_seconds is not None else self.num_frames / self.fps


def frame_image(index: int, width: int, height: int) -> np.ndarray:
    """uint8 `(height, width, 3)`: `index` in binary over `STRIPES` vertical stripes (bit 0 on the left) below a
    white band over the top quarter."""
    image = np.zeros((height, width, 3), dtype=np.uint8)
    image[: height // 4] = 255
    bounds = np.linspace(0, width, STRIPES + 1).round().astype(int)
    for bit in range(STRIPES):
        if index >> bit & 1:
            image[height // 4 :, bounds[bit] : bounds[bit + 1]] = 255
    return image


def read_frame_index(image: np.ndarray, quarter_turns: int = 0) -> int:
    """The index `frame_image` wrote into a decoded frame turned counterclockwise `quarter_turns` times; -1 when the
    frame does not read as one (wrong turn, or not a corpus frame)."""
    image = np.rot90(image, -quarter_turns).astype(np.float32).mean(axis=2)
    height, width = image.shape
    if image[: max(height // 4 - 2, 1)].mean() < 128:
        return -1
    body = image[height // 4 + 2 :]
    bounds = np.linspace(0, width, STRIPES + 1).round().astype(int)
    bits = [body[:, bounds[b] + 1 : bounds[b + 1] - 1].mean() > 128 for b in range(STRIPES)]
    return sum(1 << b for b, bit in enumerate(bits) if bit)


def chirp(times: np.ndarray, duration: float) -> np.ndarray:
    """float32 audio at `times` (seconds from the audio's start): a sweep from 200 Hz to 1.2 kHz over `duration`,
    amplitude 0.5, zero outside [0, duration)."""
    low, high = 200.0, 1200.0
    phase = 2 * np.pi * (low * times + (high - low) / (2 * duration) * times**2)
    return np.where((times >= 0) & (times < duration), 0.5 * np.sin(phase), 0.0).astype(np.float32)


def write_case(case: MediaCase, directory: str | os.PathLike) -> str:
    """Writes `case` into `directory`; returns its path."""
    path = os.path.join(directory, case.name)
    with av.open(path, "w", format=case.container) as container:
        video = container.add_stream(case.video_codec, rate=case.fps, options=dict(case.options))
        video.width, video.height = case.size
        video.pix_fmt = case.pix_fmt
        if case.rotation is not None:
            video.set_display_rotation(case.rotation)
        audio = None
        if case.audio_codec is not None:
            audio = container.add_stream(case.audio_codec, rate=case.sample_rate, layout=case.layout)
            audio.format = case.sample_format
        for index in range(case.num_frames):
            width, height = (
                case.size if case.resize_at is None or index < case.resize_at else np.multiply(case.size, 2)
            )
            frame = av.VideoFrame.from_ndarray(frame_image(index, int(width), int(height)), format="rgb24")
            frame.pts = index + int(round(case.video_start * case.fps))
            frame.time_base = fractions.Fraction(1, case.fps)
            container.mux(video.encode(frame))
        container.mux(video.encode(None))
        if audio is not None:
            _write_audio(container, audio, case)
    return path


def _write_audio(
    container: av.container.OutputContainer, stream: av.audio.stream.AudioStream, case: MediaCase
) -> None:
    rate, total = case.sample_rate, int(round(case.audio_duration * case.sample_rate))
    signal = chirp(np.arange(total) / rate, case.audio_duration)
    if case.non_finite:
        signal[total // 2] = np.nan
    channels = stream.codec_context.layout.nb_channels
    planar = stream.format.is_planar
    dtype = _SAMPLE_TYPES[stream.format.name.rstrip("p")]
    scale = {np.int16: 32767, np.int32: 2**31 - 1}.get(dtype, 1.0)
    chunk = stream.codec_context.frame_size or 1024
    for offset in range(0, total, chunk):
        samples = np.nan_to_num(signal[offset : offset + chunk]) if scale != 1.0 else signal[offset : offset + chunk]
        samples = (samples * scale).astype(dtype)
        array = np.tile(samples, (channels, 1)) if planar else np.repeat(samples, channels)[None]
        frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(array), format=stream.format.name, layout=case.layout)
        frame.sample_rate = rate
        frame.pts = offset + int(round(case.audio_start * rate))
        frame.time_base = fractions.Fraction(1, rate)
        container.mux(stream.encode(frame))
    container.mux(stream.encode(None))


def clean_cases() -> list[MediaCase]:
    """One case per kind of file the decoder must read right: every container and codec pair this PyAV writes that
    users meet, streams that start apart, MPEG-TS, rotation, a resolution change, channel counts from 1 to 16, integer
    and float sample formats, sample rates from 8 to 48 kHz, odd frame sizes and long GOPs."""
    return [
        MediaCase("h264_aac.mp4", "mp4"),
        MediaCase("h264_aac_bframes.mp4", "mp4", options={"bf": "3", "g": "12"}),
        MediaCase("late_audio.mp4", "mp4", audio_start=1.5),
        MediaCase("late_video.mp4", "mp4", video_start=1.2),
        MediaCase("short_audio.mp4", "mp4", audio_seconds=1.5),
        MediaCase("rotated_90.mp4", "mp4", rotation=90),
        MediaCase("rotated_180.mov", "mov", rotation=180, audio_codec="pcm_s16le", sample_format="s16"),
        MediaCase("rotated_270.mp4", "mp4", rotation=-90),
        MediaCase(
            "mpeg4_mp3.avi",
            "avi",
            video_codec="mpeg4",
            audio_codec="libmp3lame",
            sample_format="s16p",
            sample_rate=44100,
        ),
        MediaCase(
            "mjpeg_pcm.avi",
            "avi",
            video_codec="mjpeg",
            pix_fmt="yuvj420p",
            audio_codec="pcm_s16le",
            sample_format="s16",
            sample_rate=8000,
        ),
        MediaCase(
            "vp8_opus.webm",
            "webm",
            video_codec="libvpx",
            audio_codec="libopus",
            sample_rate=48000,
            sample_format="s16",
        ),
        MediaCase(
            "vp9_opus_stereo.webm",
            "webm",
            video_codec="libvpx-vp9",
            audio_codec="libopus",
            sample_rate=48000,
            layout="stereo",
            sample_format="flt",
        ),
        MediaCase("h264_flac_51.mkv", "matroska", audio_codec="flac", layout="5.1", sample_format="s16"),
        MediaCase("h264_pcm_71.mkv", "matroska", audio_codec="pcm_s16le", layout="7.1", sample_format="s16"),
        MediaCase(
            "h264_pcm_16ch.mkv", "matroska", audio_codec="pcm_s16le", layout="hexadecagonal", sample_format="s16"
        ),
        MediaCase(
            "ffv1_f32_odd_size.mkv",
            "matroska",
            video_codec="ffv1",
            size=(65, 49),
            pix_fmt="yuv444p",
            audio_codec="pcm_f32le",
            sample_format="flt",
            sample_rate=22050,
        ),
        MediaCase(
            "late_audio.mkv",
            "matroska",
            audio_codec="libopus",
            sample_rate=48000,
            sample_format="s16",
            audio_start=0.8,
        ),
        MediaCase("resolution_change.mkv", "matroska", audio_codec=None, resize_at=20),
        MediaCase(
            "vp8_opus.ogg",
            "ogg",
            video_codec="libvpx",
            audio_codec="libopus",
            sample_rate=48000,
            layout="stereo",
            sample_format="s16",
        ),
        MediaCase("h264_mp2.ts", "mpegts", audio_codec="mp2", sample_format="s16", options={"g": "8"}),
        MediaCase("h264_aac_late_audio.ts", "mpegts", audio_start=0.7, options={"g": "8"}),
        MediaCase(
            "mpeg2_ac3_offset.ts",
            "mpegts",
            video_codec="mpeg2video",
            audio_codec="ac3",
            sample_rate=48000,
            layout="stereo",
            video_start=10.0,
            audio_start=10.0,
            options={"g": "6"},
        ),
        MediaCase("hevc_aac_long_gop.mp4", "mp4", video_codec="libx265", options={"x265-params": "log-level=none"}),
        MediaCase("h264_gop_15s.ts", "mpegts", num_frames=300, options={"g": "150"}),
        MediaCase("h264_alac.mov", "mov", audio_codec="alac", sample_format="s16p", sample_rate=48000),
        MediaCase("no_audio.mp4", "mp4", audio_codec=None),
    ]


def bad_cases() -> list[MediaCase]:
    """Cases the decoder must refuse with a `DecodeError`: audio with a NaN sample."""
    return [MediaCase("nan_audio.mkv", "matroska", audio_codec="pcm_f32le", sample_format="flt", non_finite=True)]


def mutations(data: bytes, rng: np.random.Generator, count: int) -> list[tuple[str, bytes]]:
    """`count` damaged versions of a file's bytes, each named by what was done: cut at a random point, random bytes
    replaced (1 to 64 of them), a random span zeroed, or the file followed by a copy of its own second half."""
    kinds = ("truncated", "flipped", "zeroed", "concatenated")
    out = []
    for index in range(count):
        kind = kinds[index % len(kinds)]
        if kind == "truncated":
            cut = int(rng.integers(1, len(data)))
            out.append((f"{kind}@{cut}", data[:cut]))
        elif kind == "flipped":
            mutated = bytearray(data)
            positions = rng.integers(0, len(data), int(rng.integers(1, 65)))
            for position in positions:
                mutated[position] = int(rng.integers(0, 256))
            out.append((f"{kind}x{len(positions)}", bytes(mutated)))
        elif kind == "zeroed":
            lo = int(rng.integers(0, len(data)))
            hi = min(len(data), lo + int(rng.integers(1, 4096)))
            out.append((f"{kind}@{lo}-{hi}", data[:lo] + bytes(hi - lo) + data[hi:]))
        else:
            out.append((kind, data + data[len(data) // 2 :]))
    return out


def expected_frame_indices(case: MediaCase, times: np.ndarray) -> np.ndarray:
    """The frame of `case` showing at each time (seconds from the start of the video stream)."""
    return np.clip(np.floor(times * case.fps + 1e-6), 0, case.num_frames - 1).astype(int)


def expected_audio(case: MediaCase, window_start: float, num_samples: int, sample_rate: int) -> np.ndarray:
    """The mono audio `load_clip` should give for a window starting `window_start` seconds after the video's start."""
    times = window_start + np.arange(num_samples) / sample_rate + case.video_start - case.audio_start
    return chirp(times, case.audio_duration) if case.audio_codec is not None else np.zeros(num_samples, np.float32)


def audio_lag(
    decoded: np.ndarray, expected: np.ndarray, sample_rate: int, max_lag: float = 0.25
) -> tuple[float, float]:
    """(lag in seconds, normalised correlation) of the shift of `decoded` against `expected` that matches best,
    within `max_lag`; positive when the decoded audio comes late."""
    reach = int(max_lag * sample_rate)
    padded = np.pad(decoded.astype(np.float64), reach)
    norm = np.linalg.norm(expected) + 1e-12
    best = (0, -1.0)
    for shift in range(-reach, reach + 1, max(1, sample_rate // 8000)):
        part = padded[reach + shift : reach + shift + len(expected)]
        score = float(part @ expected) / (norm * (np.linalg.norm(part) + 1e-12))
        if score > best[1]:
            best = (shift, score)
    return best[0] / sample_rate, best[1]


@dataclass
class Reference:
    """A file decoded from its first packet to its last without seeking: what `load_clip` must agree with.

    Attributes:
        frame_times: seconds from the video stream's start of each frame, in presentation order.
        frame_indices: the index each frame shows (`read_frame_index` of the frame as stored, before any turn).
        audio_times: seconds from the video stream's start of each decoded audio sample (mono, native rate).
        audio: float64 the mono samples.
        sample_rate: native rate of the audio.
    """

    frame_times: np.ndarray
    frame_indices: np.ndarray
    audio_times: np.ndarray
    audio: np.ndarray
    sample_rate: int

    def frames_at(self, times: np.ndarray) -> np.ndarray:
        """The index of the frame showing at each time: the last frame at or before it (the first before them)."""
        position = np.searchsorted(self.frame_times, times + 1e-6, side="right") - 1
        return self.frame_indices[np.clip(position, 0, len(self.frame_indices) - 1)]

    def audio_window(self, window_start: float, num_samples: int, sample_rate: int) -> np.ndarray:
        """The audio at `sample_rate` from `window_start`, zero where no sample was decoded (linear interpolation)."""
        times = window_start + np.arange(num_samples) / sample_rate
        if not len(self.audio):
            return np.zeros(num_samples)
        inside = (times >= self.audio_times[0]) & (times <= self.audio_times[-1])
        return np.where(inside, np.interp(times, self.audio_times, self.audio), 0.0)


def _first_pass(frames: Iterator[av.frame.Frame]) -> Iterator[av.frame.Frame]:
    """Decoded frames with a timestamp up to the first decoding error or the first step back in time (where a damaged
    or concatenated file stops having one frame per time)."""
    previous = None
    try:
        for frame in frames:
            if frame.time is None:
                continue
            if previous is not None and frame.time < previous - 1e-6:
                return
            previous = frame.time
            yield frame
    except av.error.FFmpegError:
        return


def decode_reference(path: str | os.PathLike) -> Reference:
    """Decodes every frame and sample of a file in order, with no seek, up to the first error or step back in time;
    times are measured from the video stream's start (its `start_time`), the audio's from its first frame's timestamp
    on."""
    with av.open(path) as container:
        video = container.streams.video[0]
        origin = float(video.start_time * video.time_base) if video.start_time is not None else 0.0
        frames = [
            (frame.time - origin, read_frame_index(frame.to_ndarray(format="rgb24")))
            for frame in _first_pass(container.decode(video))
        ]
    samples, start, rate = [], 0.0, 0
    with av.open(path) as container:
        if container.streams.audio:
            resampler = av.AudioResampler(format="dbl")
            for frame in _first_pass(container.decode(container.streams.audio[0])):
                if not samples:
                    start, rate = frame.time - origin, frame.sample_rate
                samples += [
                    p.to_ndarray().reshape(-1, p.layout.nb_channels).mean(1) for p in resampler.resample(frame)
                ]
    audio = np.concatenate(samples) if samples else np.zeros(0)
    return Reference(
        frame_times=np.array([t for t, _ in frames]),
        frame_indices=np.array([i for _, i in frames]),
        audio_times=start + np.arange(len(audio)) / max(rate, 1),
        audio=audio,
        sample_rate=rate,
    )


def clip_problems(
    case: MediaCase,
    reference: Reference,
    clip,
    num_frames: int,
    frame_stride: int,
    audio_seconds: float,
    max_lag: float = 0.03,
) -> list[str]:
    """What is wrong with a `Clip` that `load_clip` returned for `case`, whose no-seek decode is `reference`: frames
    not the ones showing at the clip's times, or turned or sized wrongly; audio that differs from the reference, or is
    further than `max_lag` seconds from where `case` wrote it (codec priming a container cannot signal, such as MP3's
    in AVI, counts against it); audio where the recording has none. Empty when the clip is right."""
    problems = []
    turns = int(round((case.rotation or 0) / 90)) % 4
    width, height = case.size
    shape = (num_frames, width, height, 3) if turns % 2 else (num_frames, height, width, 3)
    if clip.frames.shape != shape:
        return [f"frames {clip.frames.shape}, expected {shape}"]
    times = clip.start + np.arange(num_frames) * frame_stride / case.fps
    expected = reference.frames_at(times).tolist()
    got = [read_frame_index(frame, turns) for frame in clip.frames]
    if got != expected:
        problems.append(f"frames {got} at clip start {clip.start:.3f} s, the no-seek decode has {expected}")
    window_start = clip.start + num_frames * frame_stride / case.fps / 2 - audio_seconds / 2
    truth = expected_audio(case, window_start, len(clip.audio), clip.sample_rate)
    if np.mean(np.abs(truth) > 0) > 0.05:
        lag, score = audio_lag(clip.audio, truth, clip.sample_rate)
        if score < 0.5 or abs(lag) > max_lag:
            problems.append(f"audio {lag * 1000:+.0f} ms from where it was written (correlation {score:.2f})")
        decoded = reference.audio_window(window_start, len(clip.audio), clip.sample_rate)
        lag, score = audio_lag(clip.audio, decoded, clip.sample_rate, max_lag=0.01)
        if score < 0.9 or abs(lag) > 0.002:
            problems.append(f"audio {lag * 1000:+.1f} ms from the no-seek decode (correlation {score:.2f})")
    audible = np.convolve(np.abs(truth) > 0, np.ones(int(0.1 * clip.sample_rate)), mode="same") > 0
    if (~audible).any() and np.sqrt(np.mean(clip.audio[~audible] ** 2)) > 0.02:
        problems.append("audio where the recording has none")
    return problems


def damaged_clip_problems(
    case: MediaCase, clip, references: list[Reference], num_frames: int, frame_stride: int
) -> list[str]:
    """What is wrong with a `Clip` from a damaged copy of `case`: its frames must be those of one of `references`
    (the copy's own no-seek decode, and the original's where that one stops at the damage)."""
    times = clip.start + np.arange(num_frames) * frame_stride / case.fps
    got = [read_frame_index(frame, int(round((case.rotation or 0) / 90)) % 4) for frame in clip.frames]
    decodes = [reference.frames_at(times).tolist() for reference in references if len(reference.frame_indices)]
    return [] if got in decodes else [f"frames {got} at clip start {clip.start:.3f} s, the no-seek decodes {decodes}"]
