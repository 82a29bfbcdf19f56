"""What one training sample costs, in time and memory, as the source's frame size grows from 360p to 8K.

    python benchmarks/bench_frame_size.py [--runs 3] [--sizes 640x360 1920x1080 3840x2160 7680x4320]

Writes a 3 s h264 (libx264 ultrafast, 2 s GOP) + AAC (44.1 kHz stereo) clip at each size, then makes one training
sample of it (`load_clip`: 16 frames, stride 4, random start, 10 s of audio; then the weak and the strong view at
224) in fresh processes pinned to one core: with its frames scaled to the views' short side as they are converted
(`short_side=320`, what `ClipTransform` asks for at 224); converted at full size and resized after (the decoder
before); and, as the floor, only the video packets decoded (no conversion, no audio, no views). Each process makes
one sample (what is set up once), then times `--samples` more (their mean) and reports its peak resident memory
and what it held before the first sample; the figures are min / median / max over `--runs` processes.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

import av
import numpy as np


SAMPLE = r"""
import json, os, resource, sys, time
os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
import av, numpy as np, torch
torch.set_num_threads(1)
from modeling_avssl.data import load_clip
from modeling_avssl.data.video_transforms import VideoAugmentation, frames_to_video

path, mode, samples = sys.argv[1], sys.argv[2], int(sys.argv[3])
augmentation, rng = VideoAugmentation(crop_size=224), np.random.default_rng(0)


def sample():
    if mode == "decode":  # the floor: the video from the keyframe before the clip to its last frame, decoded only
        with av.open(path) as container:
            stream = container.streams.video[0]
            stream.codec_context.thread_count = 1
            start = float(rng.uniform(0, 3.0 - 64 / 25))
            container.seek(int(start / stream.time_base), stream=stream, backward=True)
            for frame in container.decode(stream):
                if frame.time >= start + 60 / 25 - 1e-6:  # the 16th frame, 15 strides of 4 after the first
                    break
        return
    clip = load_clip(path, 16, frame_stride=4, audio_seconds=10.0, training=True, rng=rng, threads=1,
                     short_side=320 if mode == "scaled" else None)
    video = frames_to_video(clip.frames)
    augmentation.weak(video)
    augmentation.strong(video)


before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
sample()  # the first, with what is set up once
times = []
for _ in range(samples):
    start = time.perf_counter()
    sample()
    times.append(time.perf_counter() - start)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"seconds": float(np.mean(times)), "peak_mib": peak / 1024, "before_mib": before / 1024}))
"""


def write_source(path: str, width: int, height: int, seconds: float = 3.0, fps: int = 25) -> None:
    """Moving colour gradients drawn at 1/8 of the size and enlarged (an 8K frame drawn in full costs seconds), and
    a stereo tone."""
    small_h, small_w = height // 8, width // 8
    ys, xs = np.mgrid[0:small_h, 0:small_w] / max(small_h, small_w)
    with av.open(path, "w") as container:
        video = container.add_stream("libx264", rate=fps)
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        video.options = {"preset": "ultrafast", "g": str(2 * fps)}
        audio = container.add_stream("aac", rate=44100)
        audio.layout = "stereo"
        for i in range(int(seconds * fps)):
            small = np.stack([np.sin(9 * xs + 0.3 * i), np.cos(7 * ys - 0.2 * i), np.sin(5 * (xs + ys) + 0.1 * i)], -1)
            frame = ((small + 1) * 127.5).astype(np.uint8).repeat(8, 0).repeat(8, 1)
            for packet in video.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                container.mux(packet)
        for packet in video.encode():
            container.mux(packet)
        t = np.arange(int(seconds * 44100)) / 44100
        tone = (0.2 * np.sin(2 * np.pi * 330 * t)).astype(np.float32)
        for first in range(0, len(tone), 1024):
            chunk = np.repeat(tone[first : first + 1024][None], 2, axis=0)
            frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout="stereo")
            frame.sample_rate, frame.pts = 44100, first
            for packet in audio.encode(frame):
                container.mux(packet)
        for packet in audio.encode():
            container.mux(packet)


def samples_in_a_fresh_process(path: str, mode: str, samples: int) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", SAMPLE, path, mode, str(samples)], capture_output=True, text=True, check=True
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--samples", type=int, default=4, help="timed samples a process, after a first one")
    parser.add_argument("--sizes", nargs="+", default=["640x360", "1920x1080", "3840x2160", "7680x4320"])
    args = parser.parse_args()
    print(f"one core each; {args.runs} processes per figure (min / median / max)")
    with tempfile.TemporaryDirectory() as folder:
        for size in args.sizes:
            width, height = map(int, size.split("x"))
            path = os.path.join(folder, f"{size}.mp4")
            write_source(path, width, height)
            print(f"\n{size} ({os.path.getsize(path) / 2**20:.1f} MiB)")
            modes = {"scaled": "scaled as converted", "full": "full size, then resized", "decode": "decode only"}
            for mode, label in modes.items():
                runs = [samples_in_a_fresh_process(path, mode, args.samples) for _ in range(args.runs)]
                seconds = [run["seconds"] for run in runs]
                peaks = [run["peak_mib"] for run in runs]
                growth = [run["peak_mib"] - run["before_mib"] for run in runs]
                print(
                    f"  {label:<24}"
                    f"{min(seconds):.3f} / {np.median(seconds):.3f} / {max(seconds):.3f} s, "
                    f"peak RSS {min(peaks):.0f} / {np.median(peaks):.0f} / {max(peaks):.0f} MiB "
                    f"(+{min(growth):.0f} / {np.median(growth):.0f} / {max(growth):.0f} over the process before)"
                )


if __name__ == "__main__":
    main()
