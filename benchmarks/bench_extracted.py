"""Training samples a second from pre-extracted frames and audio against decoding the container, at 320x240 and 1080p.

    python benchmarks/bench_extracted.py [--runs 3] [--samples 8] [--sizes 320x240 1920x1080]

Writes a 10 s h264 (libx264 ultrafast, 2 s GOP) + AAC (44.1 kHz stereo) clip at each size (a Kinetics or VGGSound
clip's length), and extracted copies of it with `python -m modeling_avssl.commands.data extract` (JPEG quality 95 and
16 kHz wav; at full size, and with `--short-side 320` where that is smaller). Then makes training samples of each
(`read_clip`: 16 frames, stride 4, random start, 10 s of audio, frames scaled to the short side 320 that the views at
224 ask for; then the weak and the strong view) in fresh processes pinned to one core. Each process makes one sample
(what is set up once), then times `--samples` more; a figure is samples a second, min / median / max over `--runs`
processes. Each source's size on disk is printed beside it.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
from bench_frame_size import write_source


SAMPLE = r"""
import json, os, sys, time
os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
import numpy as np, torch
torch.set_num_threads(1)
from modeling_avssl.data import read_clip
from modeling_avssl.data.extraction import extracted_frames
from modeling_avssl.data.video_transforms import VideoAugmentation, frames_to_video

source, samples = sys.argv[1], int(sys.argv[2])
video = extracted_frames(source, "train").dataset[0]["video"] if os.path.isdir(source) else source
augmentation, rng = VideoAugmentation(crop_size=224), np.random.default_rng(0)


def sample():
    clip = read_clip(video, 16, frame_stride=4, audio_seconds=10.0, training=True, rng=rng, threads=1, short_side=320)
    frames = frames_to_video(clip.frames)
    augmentation.weak(frames)
    augmentation.strong(frames)


sample()  # the first, with what is set up once
start = time.perf_counter()
for _ in range(samples):
    sample()
print(json.dumps({"per_second": samples / (time.perf_counter() - start)}))
"""


def samples_per_second(source: str, samples: int) -> float:
    result = subprocess.run(
        [sys.executable, "-c", SAMPLE, source, str(samples)], capture_output=True, text=True, check=True
    )
    return json.loads(result.stdout.strip().splitlines()[-1])["per_second"]


def extract(video: str, out: str, *options: str) -> str:
    """An extracted copy of the videofolder holding `video`, in `out`."""
    folder = os.path.dirname(os.path.dirname(os.path.dirname(video)))  # <folder>/train/<class>/video.mp4
    command = [sys.executable, "-m", "modeling_avssl.commands.data", "extract", "videofolder", folder, out, *options]
    subprocess.run(command, check=True, capture_output=True)
    return out


def megabytes(path: str) -> float:
    """The size of a file, or of every file under a folder, in MiB."""
    if os.path.isfile(path):
        return os.path.getsize(path) / 2**20
    return (
        sum(os.path.getsize(os.path.join(parent, name)) for parent, _, names in os.walk(path) for name in names)
        / 2**20
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--samples", type=int, default=8, help="timed samples a process, after a first one")
    parser.add_argument("--sizes", nargs="+", default=["320x240", "1920x1080"])
    args = parser.parse_args()
    print(f"samples a second on one core; {args.runs} processes per figure (min / median / max)")
    with tempfile.TemporaryDirectory() as folder:
        for size in args.sizes:
            width, height = map(int, size.split("x"))
            video = os.path.join(folder, size, "train", "clip", "video.mp4")
            os.makedirs(os.path.dirname(video))
            write_source(video, width, height, seconds=10.0)
            sources = {"decoding the mp4": video}
            sources["extracted JPEG, full size"] = extract(video, os.path.join(folder, f"{size}-full"))
            if min(width, height) > 320:
                copy = os.path.join(folder, f"{size}-320")
                sources["extracted JPEG, short side 320"] = extract(video, copy, "--short-side", "320")
            print(f"\n{size}")
            rates = {}
            for label, source in sources.items():
                rates[label] = [samples_per_second(source, args.samples) for _ in range(args.runs)]
                low, middle, high = min(rates[label]), np.median(rates[label]), max(rates[label])
                ratio = middle / np.median(rates["decoding the mp4"])
                print(
                    f"  {label:<32}{low:6.2f} / {middle:6.2f} / {high:6.2f} samples/s  ({ratio:.2f}x decoding), "
                    f"{megabytes(source):.1f} MiB"
                )


if __name__ == "__main__":
    main()
