"""How much of AVSynth's label each modality carries: small probes trained on video only, audio only, and both.

    python experiments/avsynth_probe.py [--train 2400] [--test 1200] [--epochs 30] [--seeds 0 1 2]

Generates AVSynth into a temporary folder, decodes every clip through `load_clip` (the real mp4 path), and trains
three probes of the same size on the same clips: a small 3D CNN on the frames at 32x32 with their frame
differences, a small 2D CNN on the log-mel fbank, and both with their features concatenated. The class is (motion of
the sounding object, its shape), so video alone should be capped by not knowing which object sounds, audio alone by
not knowing how it moves (about 1/4 with four motions), and both together should be far above each. A linear probe
on raw features cannot express "the motion of the object whose shape matches the timbre", so the probes learn their
features; they are kept small and trained for a fixed budget. Also prints chance and how often each probe gets the
motion and the shape right.
"""

import argparse
import json
import tempfile
import time

import numpy as np
import torch
from torch import nn

from modeling_avssl.data import load_clip
from modeling_avssl.data.audio import log_mel_fbank
from modeling_avssl.data.avsynth import AVSynthSpec, generate


def load_split(folder: str, records: list[dict], classes: list[str]) -> dict[str, torch.Tensor]:
    videos, audios, labels = [], [], []
    for record in records:
        clip = load_clip(f"{folder}/{record['file']}", 16, audio_seconds=2.0)
        frames = torch.from_numpy(clip.frames).permute(3, 0, 1, 2).float().div(255)  # (C, T, H, W)
        frames = nn.functional.avg_pool3d(frames, (1, 2, 2))  # 32x32
        motion = (frames[:, 1:] - frames[:, :-1]).abs().sum(0, keepdim=True)
        videos.append(torch.cat([frames, nn.functional.pad(motion, (0, 0, 0, 0, 1, 0))]))  # RGB + frame difference
        audios.append(log_mel_fbank(clip.audio, num_mel_bins=64, max_length=192).T.unsqueeze(0))  # (1, mel, time)
        labels.append(classes.index(record["label"]))
    return {"video": torch.stack(videos), "audio": torch.stack(audios), "label": torch.tensor(labels)}


def conv_encoder(dims: int, layers: list[tuple[int, int, int, int | tuple[int, ...]]]) -> nn.Sequential:
    """Convolution, batch norm and ReLU per `(in, out, kernel, stride)` layer in `dims` (2 or 3) dimensions, then
    global average pooling."""
    conv, norm, pool = (
        (nn.Conv2d, nn.BatchNorm2d, nn.AdaptiveAvgPool2d)
        if dims == 2
        else (nn.Conv3d, nn.BatchNorm3d, nn.AdaptiveAvgPool3d)
    )
    blocks = []
    for channels_in, channels_out, kernel, stride in layers:
        blocks += [
            conv(channels_in, channels_out, kernel, stride=stride, padding=kernel // 2),
            norm(channels_out),
            nn.ReLU(),
        ]
    return nn.Sequential(*blocks, pool(1), nn.Flatten())


class Probe(nn.Module):
    def __init__(self, num_classes: int, use_video: bool, use_audio: bool, width: int = 48):
        super().__init__()
        video_layers = [
            (4, width, 3, 1),
            (width, width, 3, (1, 2, 2)),
            (width, 2 * width, 3, 2),
            (2 * width, 2 * width, 3, 2),
        ]
        audio_layers = [(1, width, 5, 2), (width, 2 * width, 3, 2), (2 * width, 2 * width, 3, 2)]
        self.video = conv_encoder(3, video_layers) if use_video else None
        self.audio = conv_encoder(2, audio_layers) if use_audio else None
        features = 2 * width * (int(use_video) + int(use_audio))
        self.head = nn.Sequential(nn.Linear(features, 128), nn.ReLU(), nn.Linear(128, num_classes))

    def forward(self, video: torch.Tensor, audio: torch.Tensor) -> torch.Tensor:
        parts = [encoder(x) for encoder, x in ((self.video, video), (self.audio, audio)) if encoder is not None]
        return self.head(torch.cat(parts, dim=1))


def train_and_test(train, test, num_classes, use_video, use_audio, epochs, seed) -> tuple[float, np.ndarray]:
    torch.manual_seed(seed)
    model = Probe(num_classes, use_video, use_audio)
    optimizer = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=1e-2)
    steps = epochs * (len(train["label"]) // 32)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=2e-3, total_steps=steps)
    generator = torch.Generator().manual_seed(seed)
    model.train()
    for _ in range(epochs):
        order = torch.randperm(len(train["label"]), generator=generator)
        for batch in order[: len(order) // 32 * 32].view(-1, 32):
            loss = nn.functional.cross_entropy(
                model(train["video"][batch], train["audio"][batch]), train["label"][batch]
            )
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            scheduler.step()
    model.eval()
    with torch.no_grad():
        predictions = torch.cat(
            [
                model(test["video"][i : i + 128], test["audio"][i : i + 128]).argmax(1)
                for i in range(0, len(test["label"]), 128)
            ]
        )
    return float((predictions == test["label"]).float().mean()), predictions.numpy()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--train", type=int, default=2400)
    parser.add_argument("--test", type=int, default=1200)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    args = parser.parse_args()

    spec = AVSynthSpec()
    classes = list(spec.classes)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        generate(folder, args.train, args.test, seed=0, spec=spec)
        records = [json.loads(line) for line in open(f"{folder}/metadata.jsonl")]
        train = load_split(folder, [r for r in records if r["split"] == "train"], classes)
        test = load_split(folder, [r for r in records if r["split"] == "test"], classes)
    print(
        f"AVSynth {args.train} train / {args.test} test clips, {len(classes)} classes, "
        f"generated and decoded in {time.perf_counter() - start:.0f} s; chance {100 / len(classes):.1f}%"
    )
    motions = np.array([classes[i].split("-")[0] for i in test["label"]])
    shapes = np.array([classes[i].split("-")[1] for i in test["label"]])
    print(f"{'probe':<14}{'top-1 (mean ± std)':>22}{'motion right':>14}{'shape right':>13}")
    for name, use_video, use_audio in (
        ("video only", True, False),
        ("audio only", False, True),
        ("video+audio", True, True),
    ):
        results = [train_and_test(train, test, len(classes), use_video, use_audio, args.epochs, s) for s in args.seeds]
        accuracies = 100 * np.array([accuracy for accuracy, _ in results])
        predicted = [np.array(classes)[p] for _, p in results]
        motion_right = 100 * np.mean([np.mean([c.split("-")[0] for c in p] == motions) for p in predicted])
        shape_right = 100 * np.mean([np.mean([c.split("-")[1] for c in p] == shapes) for p in predicted])
        top1 = f"{accuracies.mean():.1f} ± {accuracies.std():.1f}%"
        print(f"{name:<14}{top1:>22}{motion_right:>13.1f}%{shape_right:>12.1f}%")
    print(f"total {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
