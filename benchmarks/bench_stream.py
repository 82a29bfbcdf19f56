"""Samples/s of the unlabeled training stream end to end: decode, weak and strong views, fbank and SpecAugment.

    python benchmarks/bench_stream.py [--batches 12]

Runs `training_loader` (batches of 5 unlabeled clips, as B_u = 5) with 0, 1 and 2 DataLoader workers over two
folders: AVSynth clips (64x64, 2 s, 16 frames) and 10 s 320x240 h264 + AAC clips (16 frames, stride 4), both made
into the default model's inputs (224 crops, 1024 x 128 fbank). The first two batches (worker start-up) are not timed.
"""

import argparse
import os
import tempfile
import time
from itertools import islice

import torch
from bench_decode import synthetic_video

from modeling_avssl.data import VideoAugmentation, write_clip
from modeling_avssl.data.avsynth import generate
from modeling_avssl.data.collation import ClipTransform, training_loader
from modeling_avssl.data.sources import video_folder


def samples_per_second(rows, transform: ClipTransform, num_workers: int, batches: int) -> float:
    loader = iter(training_loader(rows, transform, 5, seed=0, labeled=False, num_workers=num_workers))
    for _ in islice(loader, 2):
        pass
    start = time.perf_counter()
    samples = sum(len(batch["index"]) for batch in islice(loader, batches))
    return samples / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batches", type=int, default=12, help="timed batches of 5 per setting")
    args = parser.parse_args()
    print(f"{os.cpu_count()} cores, torch {torch.__version__} ({torch.get_num_threads()} threads in the main process)")
    with tempfile.TemporaryDirectory() as folder:
        generate(os.path.join(folder, "avsynth"), 60, 0)
        for seed in range(8):
            frames, fps, audio = synthetic_video(320, 240, seed=seed)
            path = os.path.join(folder, "clips", "train", "any", f"{seed}.mp4")
            os.makedirs(os.path.dirname(path), exist_ok=True)
            write_clip(path, frames, fps, audio, 44100, video_options={"g": str(2 * fps)})
        settings = {
            "AVSynth 64x64, 2 s": (os.path.join(folder, "avsynth"), 1),
            "320x240, 10 s": (os.path.join(folder, "clips"), 4),
        }
        print(f"{'clips':<22}{'workers':>8}{'samples/s':>11}")
        for name, (root, stride) in settings.items():
            transform = ClipTransform(VideoAugmentation(224), num_frames=16, frame_stride=stride, strong=True)
            rows = video_folder(root, "train").dataset
            for workers in (0, 1, 2):
                print(f"{name:<22}{workers:>8}{samples_per_second(rows, transform, workers, args.batches):>11.1f}")


if __name__ == "__main__":
    main()
