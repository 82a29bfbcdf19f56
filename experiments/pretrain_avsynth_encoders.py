"""Pretrains the encoders of the embedded default's model on a generated AVSynth corpus disjoint from the default data
set: stand-ins for the paper's Kinetics-pretrained VideoMAE and AudioSet-trained AST.

    python experiments/pretrain_avsynth_encoders.py [--output pretrained/avsynth] [--clips 20000] [--epochs 32]
    python train_avssl.py  # configs/avsynth.yaml starts from pretrained/avsynth

The paper starts its encoders from public checkpoints trained on large labeled corpora whose labels are not its
tasks' labels. Here the corpus is generated: AVSynth clips of seed `--corpus-seed`, which the default data set (seed 0)
never draws, written as mp4 files (in `--corpus-dir`, kept for the next run) and decoded into the trainer's weak views,
so that the encoders learn from what training later shows them. Each encoder learns what such a corpus would label:
- the video encoder, what every object in the clip does: for each shape, its motion or its absence (a 5-way
  cross-entropy per shape). It never learns which object sounds;
- the audio encoder, which instrument plays: the timbre of the notes (3-way).
Neither learns the class, the motion of the object that sounds: the fusion that binds the sound to its object starts
fresh, and learning it from one labeled clip per class is the semi-supervised task left to the run that starts from
this checkpoint.

Writes an `AVSSLForVideoClassification` checkpoint of `--model-config` (AVSynth's classes) whose encoders are the
pretrained ones and whose fusion and head are as initialised, with a model card. Prints the encoders' accuracy on
held-out clips of the corpus.
"""

import argparse
import json
import os
import time
from collections.abc import Callable

import torch
from tensor_training import fit
from torch import nn
from torch.nn import functional as F
from tqdm.auto import tqdm
from transformers import AutoModel, set_seed

from modeling_avssl import AVSSLConfig, AVSSLForVideoClassification
from modeling_avssl.building import processor_for
from modeling_avssl.data.avsynth import CLASSES, MOTIONS, SHAPES, generate
from modeling_avssl.data.collation import ClipTransform


CARD = """---
library_name: transformers
tags: [avssl, avsynth, video-classification, audio-visual]
---
# AVSynth pretrained encoders

A starting point for AVSSL on AVSynth: the model of `{model_config}` whose video and audio encoders were
pretrained by `python experiments/pretrain_avsynth_encoders.py {arguments}` on {clips:,} generated AVSynth clips of
seed {corpus_seed} (disjoint from the default data set, seed 0). The fusion and the classification head are as
initialised. The default run (`configs/avsynth.yaml`) starts from `pretrained/avsynth`; start it from another folder
with `python train_avssl.py configs/avsynth.yaml --model_name_or_path <folder>`.

- Video encoder: for each shape, the motion of the object of that shape, or its absence. Held-out accuracy of the
  motion of the objects present: {video_accuracy:.1%} (chance 25%).
- Audio encoder: the timbre of the notes (the sounding object's shape). Held-out accuracy: {audio_accuracy:.1%}
  (chance 33%).

Neither encoder saw which object sounds, so neither knows the classes.
"""


def corpus(root: str, split: str, transform: ClipTransform) -> dict[str, torch.Tensor]:
    """Every clip of `split` of the AVSynth folder `root`, decoded and augmented as the trainer's weak views:
    `pixel_values` `(N, T, 3, H, W)` (float16), `input_values` `(N, time, mel)`, the `motions` `(N, len(SHAPES))`
    of each shape (0 if absent, else 1 + its index in `MOTIONS`) and the sounding `shape` `(N,)`."""
    with open(os.path.join(root, "metadata.jsonl")) as handle:
        records = [record for record in map(json.loads, handle) if record["split"] == split]
    pixels, fbanks, motions, shapes = [], [], [], []
    for index, record in enumerate(tqdm(records, desc=f"decoding ({split})", leave=False)):
        views = transform(os.path.join(root, record["file"]), [index])
        pixels.append(transform.augmentation.normalize(views["pixel_values"]).half())
        fbanks.append(views["input_values"])
        by_shape = {obj["shape"]: 1 + MOTIONS.index(obj["motion"]) for obj in record["objects"]}
        motions.append([by_shape.get(shape, 0) for shape in SHAPES])
        shapes.append(SHAPES.index(record["shape"]))
    return {
        "pixel_values": torch.stack(pixels),
        "input_values": torch.stack(fbanks),
        "motions": torch.tensor(motions),
        "shape": torch.tensor(shapes),
    }


class Probe(nn.Module):
    """An encoder and a linear head on the summary the AVSSL model takes from it: the mean of the output tokens
    (video, `video_pooling="mean"`) or the first token (AST's CLS token)."""

    def __init__(self, encoder: nn.Module, num_outputs: int, pooling: str):
        super().__init__()
        self.encoder = encoder
        self.pooling = pooling
        self.head = nn.Linear(encoder.config.hidden_size, num_outputs)

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        tokens = self.encoder(inputs.float()).last_hidden_state
        return self.head(tokens.mean(1) if self.pooling == "mean" else tokens[:, 0])


def motion_loss(logits: torch.Tensor, motions: torch.Tensor) -> torch.Tensor:
    """Sum over shapes of the 5-way cross-entropy (absent or a motion); `logits` `(N, len(SHAPES) * 5)`."""
    return F.cross_entropy(logits.view(-1, 1 + len(MOTIONS)), motions.flatten()) * len(SHAPES)


def motion_accuracy(logits: torch.Tensor, motions: torch.Tensor) -> float:
    """How often the motion of a shape present is right (its absence is not scored)."""
    present = motions > 0
    predicted = logits.view(len(motions), len(SHAPES), -1)[..., 1:].argmax(-1) + 1
    return (predicted[present] == motions[present]).float().mean().item()


def train(
    probe: Probe,
    inputs: torch.Tensor,
    targets: torch.Tensor,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    epochs: int,
    batch_size: int,
    learning_rate: float,
    name: str,
) -> None:
    """Trains `probe` to map `inputs` to `targets` under `loss_fn(logits, targets)` (`tensor_training.fit`), with a
    progress bar named `name`."""
    fit(
        probe,
        torch.arange(len(inputs)),
        lambda batch, _: loss_fn(probe(inputs[batch]), targets[batch]),
        epochs,
        batch_size,
        learning_rate,
        progress=name,
    )


@torch.no_grad()
def predict(probe: Probe, inputs: torch.Tensor, batch_size: int = 250) -> torch.Tensor:
    probe.eval()
    return torch.cat([probe(inputs[i : i + batch_size]) for i in range(0, len(inputs), batch_size)])


def parse_arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--output", default="pretrained/avsynth")
    parser.add_argument("--model-config", default="configs/avsynth_model.json")
    parser.add_argument("--clips", type=int, default=20000, help="training clips of the corpus")
    parser.add_argument("--test-clips", type=int, default=1000)
    parser.add_argument("--corpus-dir", default=None, help="where the corpus is (generated there first if missing)")
    parser.add_argument("--corpus-seed", type=int, default=1, help="AVSynth seed of the corpus (not the default's 0)")
    parser.add_argument("--frame-stride", type=int, default=2, help="as the default run samples its clips")
    parser.add_argument("--epochs", type=int, default=32, help="of the video encoder")
    parser.add_argument("--audio-epochs", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=0)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_arguments(argv)
    set_seed(args.seed)
    with open(args.model_config) as handle:
        config = AVSSLConfig(
            **json.load(handle),
            video_pooling="mean",
            id2label=dict(enumerate(CLASSES)),
            label2id={name: i for i, name in enumerate(CLASSES)},
        )
    video, audio = config.video_config, config.audio_config
    started = time.time()
    root = args.corpus_dir or f"data/avsynth_pretraining_seed{args.corpus_seed}_{args.clips}+{args.test_clips}"
    if not os.path.exists(os.path.join(root, "metadata.jsonl")):
        generate(root, args.clips, args.test_clips, seed=args.corpus_seed, progress=True)
    transform = ClipTransform.from_processor(processor_for(config, args.frame_stride), video.num_frames, strong=False)
    data = {split: corpus(root, split, transform) for split in ("train", "test")}
    video_probe = Probe(AutoModel.from_config(video), len(SHAPES) * (1 + len(MOTIONS)), pooling="mean")
    train(
        video_probe,
        data["train"]["pixel_values"],
        data["train"]["motions"],
        motion_loss,
        args.epochs,
        args.batch_size,
        args.learning_rate,
        "video encoder",
    )
    audio_probe = Probe(AutoModel.from_config(audio), len(SHAPES), pooling="first")
    train(
        audio_probe,
        data["train"]["input_values"],
        data["train"]["shape"],
        F.cross_entropy,
        args.audio_epochs,
        args.batch_size,
        args.learning_rate,
        "audio encoder",
    )
    test = data["test"]
    video_accuracy = motion_accuracy(predict(video_probe, test["pixel_values"]), test["motions"])
    audio_accuracy = (predict(audio_probe, test["input_values"]).argmax(-1) == test["shape"]).float().mean().item()
    print(f"video encoder: motion of each object present right {video_accuracy:.1%} (chance 25%)")
    print(f"audio encoder: timbre right {audio_accuracy:.1%} (chance 33%)")

    model = AVSSLForVideoClassification(config, video_encoder=video_probe.encoder, audio_encoder=audio_probe.encoder)
    model.save_pretrained(args.output)
    arguments = " ".join(
        f"--{name.replace('_', '-')} {value}"
        for name, value in vars(args).items()
        if name not in ("output", "corpus_dir")
    )
    with open(os.path.join(args.output, "README.md"), "w") as handle:
        handle.write(
            CARD.format(
                model_config=args.model_config,
                arguments=arguments,
                clips=args.clips,
                corpus_seed=args.corpus_seed,
                video_accuracy=video_accuracy,
                audio_accuracy=audio_accuracy,
            )
        )
    print(f"saved to {args.output} in {(time.time() - started) / 60:.1f} min")


if __name__ == "__main__":
    main()
