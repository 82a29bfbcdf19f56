"""`load_clip` beside its peers on one core: the same clips, the same job, the frames checked equal.

    pip install -e ".[peers]"  # torchcodec (which needs FFmpeg's libraries: apt-get install ffmpeg) and decord2
    python benchmarks/bench_decoders.py [--calls 20] [--rounds 3]

Writes 10 s h264 (2 s GOP) + AAC (44.1 kHz stereo) clips at 320x240, 640x360 and 1920x1080 (`bench_decode.py`'s
content), then times one job per call: 16 frames 4 source frames apart from a random start, and 10 s of mono 16 kHz
audio centred on them, as uint8 `(T, H, W, 3)` frames at the source's size and a float32 waveform. The decoders:
`load_clip` (one decoder thread); torchcodec's `VideoDecoder` (exact seeks) and `AudioDecoder`; decord2's
`VideoReader` and `AudioReader`; and PyAV decoding every frame and all the audio, then picking (what a simple loader
does). Each decoder's frames are compared with `load_clip`'s, and its audio correlated with it. Each round times
`--calls` calls of each decoder on the same starts; the figures are the min / median / max over `--rounds` rounds
of the mean milliseconds a call, and of `load_clip`'s time over the fastest peer's in the same round. Pinned to one
core, torch on one thread. A peer that is not installed is left out.
"""

import argparse
import importlib.util
import os
import tempfile
import time
from collections.abc import Callable

import av
import numpy as np
import torch
from bench_decode import decode_all, synthetic_video  # beside this file

from modeling_avssl.data import load_clip, write_clip


NUM_FRAMES, FRAME_STRIDE, AUDIO_SECONDS, SAMPLE_RATE = 16, 4, 10.0, 16000
SIZES = ((320, 240), (640, 360), (1920, 1080))


def times_of(start: float, fps: float) -> np.ndarray:
    """The clip's frame times from its start, as `load_clip` takes them."""
    return start + np.arange(NUM_FRAMES) * FRAME_STRIDE / fps


def audio_window(start: float, fps: float) -> tuple[float, float]:
    centre = start + NUM_FRAMES * FRAME_STRIDE / fps / 2
    return centre - AUDIO_SECONDS / 2, centre + AUDIO_SECONDS / 2


def ours(path: str, start: float, fps: float) -> tuple[np.ndarray, np.ndarray]:
    clip = load_clip(
        path,
        NUM_FRAMES,
        frame_stride=FRAME_STRIDE,
        audio_seconds=AUDIO_SECONDS,
        sample_rate=SAMPLE_RATE,
        training=True,
        rng=_StartAt(start),
        threads=1,
    )
    return clip.frames, clip.audio


class _StartAt:
    """An `rng` whose `uniform` gives `start`: `load_clip`'s random start, chosen by the benchmark."""

    def __init__(self, start: float):
        self.start = start

    def uniform(self, low: float, high: float) -> float:
        return min(max(self.start, low), high)


def torchcodec_job(path: str, start: float, fps: float) -> tuple[np.ndarray, np.ndarray]:
    from torchcodec.decoders import AudioDecoder, VideoDecoder

    video = VideoDecoder(path, seek_mode="exact", num_ffmpeg_threads=1, dimension_order="NHWC")
    frames = video.get_frames_played_at(times_of(start, fps).tolist()).data.numpy()
    first, last = audio_window(start, fps)
    audio = AudioDecoder(path, sample_rate=SAMPLE_RATE, num_channels=1)
    samples = audio.get_samples_played_in_range(max(first, 0.0), last).data.numpy()[0]
    return frames, samples


def decord_job(path: str, start: float, fps: float) -> tuple[np.ndarray, np.ndarray]:
    import decord

    reader = decord.VideoReader(path, ctx=decord.cpu(0), num_threads=1)
    indices = np.minimum(np.round(times_of(start, fps) * fps).astype(int), len(reader) - 1)
    frames = reader.get_batch(indices.tolist()).asnumpy()
    first, last = audio_window(start, fps)
    audio = decord.AudioReader(path, ctx=decord.cpu(0), sample_rate=SAMPLE_RATE, mono=True)
    begin, end = (min(max(int(t * SAMPLE_RATE), 0), audio.shape[1]) for t in (first, last))
    return frames, audio[begin:end].asnumpy()[0]


def decode_everything(path: str, start: float, fps: float) -> tuple[np.ndarray, np.ndarray]:
    frames, audio = decode_all(path)
    indices = np.minimum(np.round(times_of(start, fps) * fps).astype(int), len(frames) - 1)
    first, last = (min(max(int(t * SAMPLE_RATE), 0), len(audio)) for t in audio_window(start, fps))
    return np.stack([frames[i] for i in indices]), audio[first:last]


def available_decoders() -> dict[str, Callable]:
    decoders = {"load_clip": ours}
    if importlib.util.find_spec("torchcodec") is not None:
        decoders["torchcodec"] = torchcodec_job
    if importlib.util.find_spec("decord") is not None:
        decoders["decord2"] = decord_job
    decoders["PyAV, everything"] = decode_everything
    return decoders


def agreement(reference: tuple[np.ndarray, np.ndarray], other: tuple[np.ndarray, np.ndarray], first: float) -> str:
    """How far another decoder's frames are from `load_clip`'s (the largest difference of a pixel value), and how
    well its audio (from `max(first, 0)`, where `load_clip`'s window starts at `first`) matches `load_clip`'s."""
    if reference[0].shape == other[0].shape:
        frames = f"frames differ by at most {np.abs(reference[0].astype(int) - other[0].astype(int)).max()}"
    else:
        frames = f"frames of shape {other[0].shape}, not {reference[0].shape}"
    offset = int(round((max(first, 0.0) - first) * SAMPLE_RATE))
    a = reference[1][offset : offset + len(other[1])]
    b = other[1][: len(a)]
    correlation = float(np.corrcoef(a, b)[0, 1]) if len(a) > 1 and a.std() and b.std() else float("nan")
    return f"{frames}, audio correlation {correlation:.4f} over {len(a) / SAMPLE_RATE:.2f} s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=20, help="timed calls of each decoder a round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--sizes", nargs="+", default=[f"{w}x{h}" for w, h in SIZES])
    args = parser.parse_args()
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    torch.set_num_threads(1)
    decoders = available_decoders()
    print(f"one core; PyAV {av.__version__}; decoders: {', '.join(decoders)}; {args.calls} calls x {args.rounds}")
    with tempfile.TemporaryDirectory() as folder:
        for width, height in (map(int, size.split("x")) for size in args.sizes):
            path = os.path.join(folder, f"clip_{width}x{height}.mp4")
            frames, fps, audio = synthetic_video(width, height)
            write_clip(path, frames, fps, audio, 44100, video_options={"g": str(2 * fps)})
            del frames
            span = NUM_FRAMES * FRAME_STRIDE / fps
            starts = np.random.default_rng(0).uniform(0, 10.0 - span, args.calls)
            print(f"\n{width}x{height} (ms a call: min / median / max over rounds)")
            reference = ours(path, float(starts[0]), fps)
            for name, job in decoders.items():
                if name != "load_clip":
                    first = audio_window(float(starts[0]), fps)[0]
                    print(f"  {name}: {agreement(reference, job(path, float(starts[0]), fps), first)}")
            means = {name: [] for name in decoders}
            for _ in range(args.rounds):
                for name, job in decoders.items():
                    job(path, float(starts[0]), fps)  # warm-up
                    begin = time.perf_counter()
                    for start in starts:
                        job(path, float(start), fps)
                    means[name].append(1e3 * (time.perf_counter() - begin) / args.calls)
            for name, values in means.items():
                print(f"  {name:<18}{np.min(values):8.1f} {np.median(values):8.1f} {np.max(values):8.1f}")
            peers = [name for name in decoders if name not in ("load_clip", "PyAV, everything")]
            if peers:
                ratios = [ours_ms / min(means[p][i] for p in peers) for i, ours_ms in enumerate(means["load_clip"])]
                print(f"  load_clip / fastest peer: {min(ratios):.3f} {np.median(ratios):.3f} {max(ratios):.3f}")


if __name__ == "__main__":
    main()
