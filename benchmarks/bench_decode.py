"""Samples/s of the training data path on one core: decode + weak view + strong view + fbank of one sample.

    python benchmarks/bench_decode.py [--samples 40]

Writes 10 s h264 (2 s GOP) + AAC (44.1 kHz stereo) clips at 320x240 and 640x360 with moving shapes on a textured
background, then times, for each, `load_clip` (16 frames, stride 4, random position) with both views at 224 and
SpecAugmented fbank of 10 s of audio, beside a naive baseline in the same run that decodes every frame and all the
audio to arrays and then picks. Each part of our sample is timed too, and beside it the decode-only lower bound:
the video packets from the keyframe before the clip to its last frame and the audio packets of its window, decoded
with no conversion to RGB, no resampling and no checks. Pinned to one core, torch on one thread.
"""

import argparse
import os
import tempfile
import time

import av
import numpy as np
import torch

from modeling_avssl.data import load_clip, write_clip
from modeling_avssl.data.audio import log_mel_fbank, spec_augment
from modeling_avssl.data.video_transforms import VideoAugmentation, frames_to_video


NUM_FRAMES, FRAME_STRIDE, AUDIO_SECONDS, SAMPLE_RATE = 16, 4, 10.0, 16000


def synthetic_video(width: int, height: int, seconds: float = 10.0, fps: int = 25, seed: int = 0):
    """Frames with a textured background and three moving discs, and a stereo tone track, like a real clip's
    bitrate rather than flat colour or pure noise."""
    rng = np.random.default_rng(seed)
    ys, xs = np.mgrid[0:height, 0:width]
    texture = (
        (rng.standard_normal((height // 8 + 1, width // 8 + 1, 3)) * 40).repeat(8, 0).repeat(8, 1)[:height, :width]
    )
    background = np.clip(texture + 110 + 60 * np.sin(xs / 37.0)[..., None], 0, 255)
    frames = []
    for i in range(int(seconds * fps)):
        frame = background.copy()
        for k, colour in enumerate(((230, 60, 40), (40, 200, 90), (60, 80, 230))):
            cx = width * (0.5 + 0.35 * np.sin(0.05 * i * (k + 1) + k))
            cy = height * (0.5 + 0.3 * np.cos(0.07 * i * (k + 1)))
            frame[(xs - cx) ** 2 + (ys - cy) ** 2 < (height / 8) ** 2] = colour
        frames.append(np.clip(frame + rng.normal(0, 4, frame.shape), 0, 255).astype(np.uint8))
    t = np.arange(int(seconds * 44100)) / 44100
    audio = 0.2 * np.stack([np.sin(2 * np.pi * 220 * t), np.sin(2 * np.pi * 330 * t)]) * (1 + np.sin(3 * t)) / 2
    return np.stack(frames), fps, audio.astype(np.float32)


def training_sample(path: str, augmentation: VideoAugmentation, rng: np.random.Generator) -> dict[str, float]:
    """One sample as the trainer makes it; returns the seconds of each part."""
    times, start = {}, time.perf_counter()
    clip = load_clip(path, NUM_FRAMES, frame_stride=FRAME_STRIDE, audio_seconds=AUDIO_SECONDS, training=True, rng=rng)
    video = frames_to_video(clip.frames)
    times["load_clip"], start = time.perf_counter() - start, time.perf_counter()
    augmentation.weak(video)
    times["weak view"], start = time.perf_counter() - start, time.perf_counter()
    augmentation.strong(video)
    times["strong view"], start = time.perf_counter() - start, time.perf_counter()
    spec_augment(log_mel_fbank(clip.audio, SAMPLE_RATE))
    times["fbank + SpecAugment"] = time.perf_counter() - start
    return times


def decode_lower_bound(path: str, augmentation: VideoAugmentation, rng: np.random.Generator) -> dict[str, float]:
    """Only what one sample must decode: the video from the keyframe at or before the clip to its last frame, and the
    audio packets of its window, as decoded frames (no RGB, no resampling, no checks)."""
    start_time = time.perf_counter()
    with av.open(path) as container:
        video, audio = container.streams.video[0], container.streams.audio[0]
        span = NUM_FRAMES * FRAME_STRIDE / float(video.average_rate)
        start = float(rng.uniform(0, max(container.duration / 1e6 - span, 0)))
        container.seek(int(start / video.time_base), stream=video, backward=True)
        for frame in container.decode(video):
            if frame.time >= start + span:
                break
        centre = start + span / 2
        first, last = max(centre - AUDIO_SECONDS / 2, 0), centre + AUDIO_SECONDS / 2
        container.seek(int(first / audio.time_base), stream=audio, backward=True)
        for frame in container.decode(audio):
            if frame.time >= last:
                break
    return {"decode": time.perf_counter() - start_time}


def decode_all(path: str) -> tuple[list[np.ndarray], np.ndarray]:
    """Every RGB frame of the file and all its audio, mono at `SAMPLE_RATE`: what a simple loader decodes."""
    with av.open(path) as container:
        frames = [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]
    with av.open(path) as container:
        resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
        audio = np.concatenate(
            [out.to_ndarray().reshape(-1) for frame in container.decode(audio=0) for out in resampler.resample(frame)]
        )
    return frames, audio


def naive_sample(path: str, augmentation: VideoAugmentation, rng: np.random.Generator) -> dict[str, float]:
    """Decode every frame and all the audio, then pick the clip: what a simple loader does."""
    begin = time.perf_counter()
    frames, audio = decode_all(path)
    start = int(rng.integers(0, max(len(frames) - NUM_FRAMES * FRAME_STRIDE, 1)))
    video = frames_to_video(np.stack(frames[start : start + NUM_FRAMES * FRAME_STRIDE : FRAME_STRIDE]))
    augmentation.weak(video)
    augmentation.strong(video)
    spec_augment(log_mel_fbank(audio[: int(AUDIO_SECONDS * SAMPLE_RATE)], SAMPLE_RATE))
    return {"sample": time.perf_counter() - begin}


def milliseconds(fn, path: str, samples: int) -> dict[str, float]:
    """Mean milliseconds of each part `fn` reports, over `samples` calls after a warm-up."""
    augmentation, rng = VideoAugmentation(), np.random.default_rng(0)
    torch.manual_seed(0)
    fn(path, augmentation, rng)
    parts = [fn(path, augmentation, rng) for _ in range(samples)]
    return {name: 1e3 * float(np.mean([part[name] for part in parts])) for name in parts[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", type=int, default=40, help="timed samples per clip and loader")
    args = parser.parse_args()
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    torch.set_num_threads(1)
    print(f"one core, torch {torch.__version__}, PyAV {av.__version__}; {args.samples} samples each")
    with tempfile.TemporaryDirectory() as folder:
        for width, height in ((320, 240), (640, 360)):
            path = os.path.join(folder, f"clip_{width}x{height}.mp4")
            frames, fps, audio = synthetic_video(width, height)
            write_clip(path, frames, fps, audio, 44100, video_options={"g": str(2 * fps)})
            ours = milliseconds(training_sample, path, args.samples)
            naive = milliseconds(naive_sample, path, args.samples)["sample"]
            bound = milliseconds(decode_lower_bound, path, args.samples)["decode"]
            total = sum(ours.values())
            print(f"\n{width}x{height}, {os.path.getsize(path) * 8 / 10 / 1e3:.0f} kbit/s (ms per sample)")
            print(f"  ours {total:.1f} ({1e3 / total:.1f} samples/s), naive {naive:.1f}: {naive / total:.2f}x")
            for name, value in ours.items():
                print(f"    {name:<22}{value:>7.1f}")
            print(f"  decode-only lower bound {bound:.1f}")
            views = total - ours["load_clip"]
            print(f"  bound on ours / naive with this decoder's views and fbank: {naive / (bound + views):.2f}x")


if __name__ == "__main__":
    main()
