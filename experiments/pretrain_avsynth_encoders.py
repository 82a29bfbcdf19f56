"""Pretrains the encoders of the embedded default's model on a generated AVSynth corpus disjoint from the default data
set: stand-ins for the paper's pretrained VideoMAE and AST.

    python experiments/pretrain_avsynth_encoders.py [--objective attributes|self-supervised] [--output DIR]
        [--clips 20000] [--epochs 32]
    python train_avssl.py  # configs/avsynth.yaml starts from pretrained/avsynth

The corpus is AVSynth clips of seed `--corpus-seed`, which the default data set (seed 0) never draws, written as mp4
files (in `--corpus-dir`, kept for the next run) and decoded into the trainer's weak views, so that the encoders learn
from what training later shows them. Two objectives:
- `attributes` (what `pretrained/avsynth` was made with): each encoder learns what a large labeled corpus of such
  clips would label, never the class. The video encoder learns, for each shape, the motion of the object of that
  shape or its absence (a 5-way cross-entropy per shape, `--epochs`); the audio encoder the timbre of the notes
  (3-way, `--audio-epochs`). Their held-out accuracies on the corpus's test clips go to the card.
- `self-supervised`, as audio-visual encoders are pretrained (CAV-MAE), with no label of any kind: L_c (the paper's
  Eq. 14-18, `--temperature`) between the video and the audio summaries the fusion reads, so that each clip's sound
  finds its own frames among the batch's, and VideoMAE's own masked-frame loss (`VideoMAEForPreTraining`, a small
  decoder rebuilding the `--mask-ratio` of the video tokens the encoder does not see, `--mae-weight`). With
  `--hue-shift` every clip's hue is shifted at random first: AVSynth's note pitch follows the sounding object's hue,
  a pairing that says nothing of the class.
Either writes an `AVSSLForVideoClassification` checkpoint of `--model-config` (AVSynth's classes) whose encoders are
the pretrained ones and whose fusion and head are as initialised, with a model card holding what linear probes of the
frozen summaries tell of the default data set's classes before and after (`avsynth_probes.class_probes`).
docs/default_run.md has both objectives' figures.
"""

import argparse
import copy
import json
import os
import sys
import time
from collections import defaultdict
from collections.abc import Callable

import torch
from avsynth_probes import class_probes, decode, model_inputs
from tensor_training import fit
from torch import nn
from torch.nn import functional as F
from tqdm.auto import tqdm
from transformers import VideoMAEForPreTraining, set_seed

from modeling_avssl import AVSSLConfig, AVSSLForVideoClassification
from modeling_avssl.data.avsynth import CLASSES, MOTIONS, SHAPES, generate
from modeling_avssl.data.collation import ClipTransform
from modeling_avssl.method.losses import contrastive_loss
from modeling_avssl.method.mixing import tube_token_mask
from modeling_avssl.run.arguments import parse_arguments as run_arguments
from modeling_avssl.run.components import load_data, processor_for


DEFAULT_CONFIG = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "configs", "avsynth.yaml")
CARD = """---
library_name: transformers
tags: [avssl, avsynth, video-classification, audio-visual]
---
# AVSynth pretrained encoders

A starting point for AVSSL on AVSynth: the model of `{model_config}` whose video and audio encoders were pretrained
by `python experiments/pretrain_avsynth_encoders.py {arguments}` on {clips:,} generated AVSynth clips of seed
{corpus_seed} (disjoint from the default data set, seed 0). The fusion and the classification head are as
initialised. The default run (`configs/avsynth.yaml`) starts from `pretrained/avsynth`; start it from another folder
with `python train_avssl.py configs/avsynth.yaml --model_name_or_path <folder>`.

{objective}

Linear probes of the frozen summaries (video and audio, concatenated and standardised) on the default data set (1,200
training and 600 test clips; one clip per class from the labeled splits of seeds 0-3):

| | before pretraining | after |
|---|---|---|
| top-1, one clip per class (chance 8.3%) | {before[one_clip_per_class]:.1%} | {after[one_clip_per_class]:.1%} |
| top-1, all 1,200 labels | {before[all_labels]:.1%} | {after[all_labels]:.1%} |
| the shape from the audio summary, one clip per class | {before[shape_from_audio_one_clip_per_class]:.1%} | \
{after[shape_from_audio_one_clip_per_class]:.1%} |
"""


def corpus(root: str, split: str, transform: ClipTransform) -> dict[str, torch.Tensor]:
    """Every clip of `split` of the AVSynth folder `root`, decoded as the trainer's weak views: uint8 `pixel_values`
    `(N, T, 3, H, W)`, `input_values` `(N, time, mel)`, the `motions` `(N, len(SHAPES))` of each shape (0 if absent,
    else 1 + its index in `MOTIONS`) and the sounding `shape` `(N,)`."""
    with open(os.path.join(root, "metadata.jsonl")) as handle:
        records = [record for record in map(json.loads, handle) if record["split"] == split]
    pixels, fbanks, motions, shapes = [], [], [], []
    for index, record in enumerate(tqdm(records, desc=f"decoding ({split})", leave=False)):
        views = transform(os.path.join(root, record["file"]), [index])
        pixels.append(views["pixel_values"])
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


def masked_frames_loss(pretraining: VideoMAEForPreTraining, pixel_values: torch.Tensor, ratio: float) -> torch.Tensor:
    """VideoMAE's loss of rebuilding `ratio` of the video tokens of `pixel_values` `(B, T, C, H, W)`, a random tube
    mask per clip (the same tokens hidden in every temporal slot). The encoder's AVSSL model pools the video tokens by
    their mean: it has no CLS token for the decoder to meet."""
    config = pretraining.config
    slots = config.num_frames // config.tubelet_size
    side = config.image_size // config.patch_size
    kept = torch.full((len(pixel_values),), 1 - ratio)
    hidden = ~tube_token_mask(len(pixel_values), slots, side, side, kept)
    return pretraining(pixel_values, bool_masked_pos=hidden).loss


def train_probe(
    probe: Probe,
    inputs: Callable[[torch.Tensor], torch.Tensor],
    targets: torch.Tensor,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    epochs: int,
    args: argparse.Namespace,
    name: str,
) -> None:
    """Trains `probe` to map `inputs(rows)` to `targets[rows]` under `loss_fn(logits, targets)`, with a progress bar
    named `name`."""

    def batch_loss(batch: torch.Tensor, epoch: int) -> torch.Tensor:
        return loss_fn(probe(inputs(batch)), targets[batch])

    fit(probe, torch.arange(len(targets)), batch_loss, epochs, args.batch_size, args.learning_rate, progress=name)


@torch.no_grad()
def predict(probe: Probe, inputs: Callable[[torch.Tensor], torch.Tensor], count: int) -> torch.Tensor:
    probe.eval()
    return torch.cat([probe(inputs(torch.arange(i, min(i + 250, count)))) for i in range(0, count, 250)])


def pretrain_attributes(model, root: str, transform: ClipTransform, args: argparse.Namespace) -> str:
    """The `attributes` objective on the corpus's training clips; returns the card's lines on it."""
    data = {split: corpus(root, split, transform) for split in ("train", "test")}
    normalize = transform.augmentation.normalize

    def video(split: str) -> Callable[[torch.Tensor], torch.Tensor]:
        return lambda rows: normalize(data[split]["pixel_values"][rows])

    def audio(split: str) -> Callable[[torch.Tensor], torch.Tensor]:
        return lambda rows: data[split]["input_values"][rows]

    video_probe = Probe(model.avssl.video_encoder, len(SHAPES) * (1 + len(MOTIONS)), pooling="mean")
    train_probe(video_probe, video("train"), data["train"]["motions"], motion_loss, args.epochs, args, "video encoder")
    audio_probe = Probe(model.avssl.audio_encoder, len(SHAPES), pooling="first")
    train_probe(audio_probe, audio("train"), data["train"]["shape"], F.cross_entropy, args.audio_epochs, args, "audio")
    test, count = data["test"], len(data["test"]["shape"])
    video_accuracy = motion_accuracy(predict(video_probe, video("test"), count), test["motions"])
    audio_accuracy = (predict(audio_probe, audio("test"), count).argmax(-1) == test["shape"]).float().mean().item()
    return (
        "Pretrained on attributes a labeled corpus of such clips would hold, never the class: the video encoder on "
        "the motion of the object of each shape, or its absence (held-out accuracy of the motion of the objects "
        f"present: {video_accuracy:.1%}, chance 25%); the audio encoder on the timbre of the notes, the sounding "
        f"object's shape (held out: {audio_accuracy:.1%}, chance 33%). Neither saw which object sounds."
    )


def pretrain_self_supervised(model, root: str, transform: ClipTransform, args: argparse.Namespace, probe) -> str:
    """The `self-supervised` objective on the corpus's training clips, `probe()` printed every 4 epochs; returns the
    card's lines on it."""
    clips, augmentation = corpus(root, "train", transform), transform.augmentation
    decoder = copy.deepcopy(model.config.video_config)  # a small decoder, as VideoMAE's is beside its encoder
    decoder.decoder_hidden_size, decoder.decoder_num_hidden_layers = 64, 2
    decoder.decoder_num_attention_heads, decoder.decoder_intermediate_size = 4, 256
    pretraining = VideoMAEForPreTraining(decoder)
    pretraining.videomae = model.avssl.video_encoder  # the decoder rebuilds what the AVSSL video encoder sees
    trained = nn.ModuleList([model.avssl, pretraining])  # the shared video encoder's parameters count once
    terms, started = defaultdict(list), time.time()  # each loss term of the epoch's batches

    def batch_loss(batch: torch.Tensor, epoch: int) -> torch.Tensor:
        inputs = model_inputs(clips, batch, augmentation, hue_shift=args.hue_shift)
        outputs = model.avssl(**inputs)
        correspondence = contrastive_loss(outputs.video_embeds, outputs.audio_embeds, args.temperature)
        terms["L_c"].append(correspondence.item())
        if not args.mae_weight:
            return correspondence
        masked = masked_frames_loss(pretraining, inputs["pixel_values"], args.mask_ratio)
        terms["masked frames"].append(masked.item())
        return correspondence + args.mae_weight * masked

    def after_epoch(epoch: int, loss: float) -> None:
        means = {name: sum(values) / len(values) for name, values in terms.items()}
        terms.clear()
        probes = probe() if (epoch + 1) % 4 == 0 else ""
        print(f"epoch {epoch + 1}: {means} ({(time.time() - started) / 60:.1f} min) {probes}", flush=True)

    rows = torch.arange(len(clips["shape"]))
    fit(trained, rows, batch_loss, args.epochs, args.batch_size, args.learning_rate, after_epoch=after_epoch)
    colours = "shifted at random" if args.hue_shift else "as they are"
    return (
        "Pretrained self-supervised, as audio-visual encoders are (CAV-MAE), with no label of any kind: L_c between "
        f"the two summaries (each clip's sound and frames, the clips' colours {colours}) and VideoMAE's masked-frame "
        "loss."
    )


def probed_data(args: argparse.Namespace, transform: ClipTransform) -> tuple[dict, dict]:
    """The probed data set's training and test clips, decoded as the trainer's weak views."""
    data = run_arguments([args.probe_config, *(["--data_path", args.probe_data] if args.probe_data else [])])[1]
    return tuple(decode(source, transform, audio=True) for source in load_data(data))


def parse_arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--objective", choices=["attributes", "self-supervised"], default="attributes")
    parser.add_argument("--output", default="pretrained/avsynth")
    parser.add_argument("--model-config", default="configs/avsynth_model.json")
    parser.add_argument("--clips", type=int, default=20000, help="training clips of the corpus")
    parser.add_argument("--test-clips", type=int, default=1000, help="held-out clips of the corpus")
    parser.add_argument("--corpus-dir", default=None, help="where the corpus is (generated there first if missing)")
    parser.add_argument("--corpus-seed", type=int, default=1, help="AVSynth seed of the corpus (not the default's 0)")
    parser.add_argument("--frame-stride", type=int, default=2, help="as the default run samples its clips")
    parser.add_argument("--epochs", type=int, default=32, help="of the video encoder, or of self-supervision")
    parser.add_argument("--audio-epochs", type=int, default=2, help="attributes: of the audio encoder")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument("--temperature", type=float, default=0.1, help="self-supervised: of L_c")
    parser.add_argument("--mae-weight", type=float, default=1.0, help="self-supervised: of the masked-frame loss")
    parser.add_argument("--mask-ratio", type=float, default=0.75, help="self-supervised: of the hidden video tokens")
    parser.add_argument("--hue-shift", action="store_true", help="self-supervised: shift each clip's hue at random")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--probe-config", default=DEFAULT_CONFIG, help="the run config whose data set is probed")
    parser.add_argument("--probe-data", default=None, help="where that data set is (default: the config's)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> dict:
    args = parse_arguments(argv)
    set_seed(args.seed)
    with open(args.model_config) as handle:
        config = AVSSLConfig(
            **json.load(handle),
            video_pooling="mean",
            id2label=dict(enumerate(CLASSES)),
            label2id={name: i for i, name in enumerate(CLASSES)},
        )
    started = time.time()
    root = args.corpus_dir or f"data/avsynth_pretraining_seed{args.corpus_seed}_{args.clips}+{args.test_clips}"
    if not os.path.exists(os.path.join(root, "metadata.jsonl")):
        generate(root, args.clips, args.test_clips, seed=args.corpus_seed, progress=True)
    transform = ClipTransform.from_processor(
        processor_for(config, args.frame_stride), config.video_input_shape[0], strong=False
    )
    model = AVSSLForVideoClassification(config)
    train, test = probed_data(args, transform)

    def probe() -> dict:
        return class_probes(model, train, test, list(CLASSES), transform.augmentation)

    before = probe()
    print(f"before: {before}")
    if args.objective == "attributes":
        objective = pretrain_attributes(model, root, transform, args)
    else:
        objective = pretrain_self_supervised(model, root, transform, args, probe)
    after = probe()
    print(f"after: {after}")
    model.save_pretrained(args.output)
    arguments = " ".join(sys.argv[1:] if argv is None else argv)
    with open(os.path.join(args.output, "README.md"), "w") as handle:
        card = {"model_config": args.model_config, "clips": args.clips, "corpus_seed": args.corpus_seed}
        handle.write(CARD.format(**card, arguments=arguments, objective=objective, before=before, after=after))
    print(f"saved to {args.output} in {(time.time() - started) / 60:.1f} min")
    return {"before": before, "after": after}


if __name__ == "__main__":
    main()
