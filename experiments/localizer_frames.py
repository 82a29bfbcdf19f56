"""Are the ASL masks as good from one localization map per tubelet as from a map of every frame?

    python experiments/localizer_frames.py [--localizer pretrained/avsynth_localizer] [--clips 300]

The trainer gives each temporal slot of the token grid (a tubelet of frames) one map: the mean of the maps of its
frames (`asl_map_frames="every"`, the localizer on every frame) or the map of the mean of its frames (`"tubelet"`,
1 / tubelet of the frames). On fresh AVSynth clips (seed 2: neither the default run's data nor the localizer's), the
default run's clip (8 frames, stride 2, tubelets of 2, a 4 x 4 token grid) is read as training reads it, and each
slot's two maps are compared: their correlation, the overlap of the tokens each ranks highest (what a mask keeps at
lambda = 1/3, 1/2, 2/3), and how well each finds the sounding object (tight cIoU of the tokens' map against the
object's boxes in the tubelet's frames, beside a uniform map).
"""

import argparse
import json
import os
import tempfile

import numpy as np
import torch

from modeling_avssl import AVSSLLocalizer
from modeling_avssl.data import load_clip
from modeling_avssl.data.avsynth import AVSynthSpec, generate
from modeling_avssl.localizer.metrics import box_mask, ciou, uniform_map, upsample_map
from modeling_avssl.localizer.training import localizer_inputs
from modeling_avssl.method.mixing import maps_to_token_grid, tubelet_means


FRAMES, STRIDE, TUBELET, GRID = 8, 2, 2, (4, 4)
LAMBDAS = (1 / 3, 1 / 2, 2 / 3)


def slot_maps(localizer: AVSSLLocalizer, path: str) -> tuple[dict[str, torch.Tensor], float]:
    """Both kinds of map `(slots, h, w)` on the token grid for the centre clip of `path`, and the clip's start."""
    clip = load_clip(path, FRAMES, frame_stride=STRIDE, audio_seconds=2.08, sample_rate=16000)
    inputs = [localizer_inputs(clip, i, localizer.config) for i in range(FRAMES)]
    frames = torch.stack([sample["pixel_values"] for sample in inputs])[None]  # (1, T, 3, S, S)
    spectrogram = inputs[0]["spectrogram"][None]
    with torch.no_grad():
        every = localizer(frames, spectrogram).maps.float()
        tubelet = localizer(tubelet_means(frames, TUBELET), spectrogram).maps.float()
    return {
        "every": maps_to_token_grid(every, TUBELET, GRID)[0],
        "tubelet": maps_to_token_grid(tubelet, 1, GRID)[0],
    }, clip.start


def top_tokens(grid_map: torch.Tensor, lam: float) -> set[int]:
    return set(grid_map.flatten().argsort(descending=True)[: round(lam * grid_map.numel())].tolist())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--localizer", default="pretrained/avsynth_localizer")
    parser.add_argument("--clips", type=int, default=300)
    parser.add_argument("--seed", type=int, default=2)
    args = parser.parse_args()
    localizer = AVSSLLocalizer.from_pretrained(args.localizer).eval()
    spec = AVSynthSpec()
    correlations, overlaps = [], {lam: [] for lam in LAMBDAS}
    scores = {"every": [], "tubelet": [], "uniform": []}
    with tempfile.TemporaryDirectory() as data:
        generate(data, args.clips, 0, seed=args.seed, spec=spec)
        records = [json.loads(line) for line in open(os.path.join(data, "metadata.jsonl"))]
        for record in records:
            maps, start = slot_maps(localizer, os.path.join(data, record["file"]))
            first = round(start * spec.fps)
            for slot in range(FRAMES // TUBELET):
                every, tubelet = maps["every"][slot], maps["tubelet"][slot]
                correlations.append(float(torch.corrcoef(torch.stack([every.flatten(), tubelet.flatten()]))[0, 1]))
                for lam in LAMBDAS:
                    overlaps[lam].append(len(top_tokens(every, lam) & top_tokens(tubelet, lam)) / round(lam * 16))
                frames = [first + STRIDE * (TUBELET * slot + k) for k in range(TUBELET)]
                truth = box_mask([record["boxes"][min(f, spec.num_frames - 1)] for f in frames], spec.size, spec.size)
                for name, grid_map in (("every", every), ("tubelet", tubelet)):
                    scores[name].append(ciou(upsample_map(grid_map, spec.size, spec.size), truth, 0.1))
                scores["uniform"].append(ciou(uniform_map(spec.size, spec.size), truth, 0.1))

    slots = len(correlations)
    print(f"{len(records)} AVSynth clips of seed {args.seed}, {slots} slots; localizer {args.localizer}")
    print(f"correlation of a slot's two maps: median {np.median(correlations):.3f}, mean {np.mean(correlations):.3f}")
    for lam, values in overlaps.items():
        print(f"tokens ranked highest by both (lambda {lam:.2f}): {np.mean(values):.3f} of those kept")
    for name, values in scores.items():
        print(f"tight cIoU (keeps 10%) of the slot map, {name:<8}: {np.mean(values):.3f}")
    difference = np.array(scores["tubelet"]) - np.array(scores["every"])
    error = difference.std(ddof=1) / np.sqrt(slots)
    print(f"tubelet - every: {difference.mean():+.4f} (standard error {error:.4f}, paired over slots)")


if __name__ == "__main__":
    main()
