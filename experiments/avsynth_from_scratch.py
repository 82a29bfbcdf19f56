"""How far the default run's encoders get from scratch on AVSynth when labels, or audio-visual pairs alone, are
plentiful: the measurements behind the default run's accuracy.

    python experiments/avsynth_from_scratch.py supervised [--epochs 30] [--learning-rate 3e-4] [--video-only]
        [--shots K]
    python experiments/avsynth_from_scratch.py contrastive [--epochs 20] [--hue-shift-from EPOCH] [--standardise]
    python experiments/avsynth_from_scratch.py audio-contrastive [--epochs 15] [--batch-size 64] [--save DIR]

Decodes the default run's AVSynth training and test clips once (`ClipTransform`, weak views) and builds the default
run's model (`configs/avsynth_model.json`, or `--model-config`) from scratch, or loads `--model-name-or-path` (e.g.
`pretrained/avsynth`, the default run's start; the first line then reports that checkpoint), then trains it in memory
with AdamW, batch 32 and a one-cycle schedule:
- `supervised`: cross-entropy on all 1,200 labeled training clips, the top-1 these encoders reach in minutes when
  labels are not the limit (the default run has 12); with `--video-only`, what its video encoder learns alone;
  with `--shots 1`, on the default run's 12 labeled clips only (an epoch is then one step);
- `contrastive`: L_c alone on the training clips, no labels. Linear probes on the frozen video and audio summaries
  then show what it learned: top-1 with all labels and with one clip per class, and the shape from the audio. With
  `--hue-shift-from E`, every clip's frames get a random hue shift from epoch E on, so that the colour of the
  sounding object (AVSynth's note pitch follows it) no longer gives the pairing away. With `--standardise`, the
  probes see each feature standardised with the training clips' mean and std;
- `audio-contrastive`: the audio encoder alone, self-supervised: InfoNCE between two views of each clip's fbank,
  each shifted in time (circularly) and along the mel bins (up to 8, a rough pitch shift) at random, so that the
  pitch cannot pair them and the timbre and rhythm can. `--save DIR` saves the whole model (the other weights as
  initialised), which `train_avssl.py configs/avsynth.yaml --model_name_or_path DIR` trains from.
Every few epochs it prints the test top-1 with how often the shape and the motion are right (supervised) or the
probes (contrastive), and the mean cosine similarity of the test clips' video summaries (1 = all clips look alike).
"""

import argparse
import os
import time

import torch
from avsynth_probes import decode, model_inputs, probe, standardised, summaries
from tensor_training import fit
from torch.nn import functional as F

from modeling_avssl.data.collation import ClipTransform
from modeling_avssl.data.splits import labeled_split
from modeling_avssl.method.losses import contrastive_loss
from modeling_avssl.run.arguments import parse_arguments
from modeling_avssl.run.components import build_model, load_data, processor_for


DEFAULT_CONFIG = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "configs", "avsynth.yaml")


def shifted_fbank(input_values: torch.Tensor) -> torch.Tensor:
    """Fbank frames `(B, time, mel)`, each clip rolled in time by a random amount and shifted along the mel bins by
    up to 8 at random (the bins shifted in repeat the edge bin)."""
    views = []
    for clip in input_values:
        clip = torch.roll(clip, int(torch.randint(clip.shape[0], ())), dims=0)
        shift = int(torch.randint(-8, 9, ()))
        clip = torch.roll(clip, shift, dims=1)
        if shift > 0:
            clip[:, :shift] = clip[:, shift : shift + 1]
        elif shift < 0:
            clip[:, shift:] = clip[:, shift - 1 : shift]
        views.append(clip)
    return torch.stack(views)


def training_loss(
    model, inputs: dict[str, torch.Tensor], labels: torch.Tensor, objective: str, temperature: float
) -> torch.Tensor:
    """The objective's loss on one batch."""
    if objective == "audio-contrastive":
        encoder = model.avssl.audio_encoder
        first, second = (encoder(shifted_fbank(inputs["input_values"])).last_hidden_state[:, 0] for _ in range(2))
        return contrastive_loss(first, second, temperature)
    outputs = model(**inputs)
    if objective == "supervised":
        return F.cross_entropy(outputs.logits, labels)
    return contrastive_loss(outputs.video_embeds, outputs.audio_embeds, temperature)


def shapes(split: dict[str, torch.Tensor]) -> torch.Tensor:
    """Each clip's shape index `(N,)`."""
    return split["shape_of"][split["label"]]


def report(model, train: dict, test: dict, objective: str, augmentation, standardise: bool = False) -> str:
    """One line on the model now: its test top-1 (supervised) or the linear probes of its summaries (contrastive),
    with `standardise`, on summaries standardised per feature first."""
    logits, test_video, test_audio = summaries(model, test, augmentation)
    similarity = F.normalize(test_video, dim=-1) @ F.normalize(test_video, dim=-1).T
    collapse = f"video summaries' mean cosine {similarity.mean():.2f}"
    if objective == "supervised":
        predicted, label = logits.argmax(-1), test["label"]
        right = {
            part: (test[part][predicted] == test[part][label]).float().mean() for part in ("shape_of", "motion_of")
        }
        return (
            f"test top-1 {(predicted == label).float().mean():.3f} (shape right {right['shape_of']:.3f}, motion right "
            f"{right['motion_of']:.3f}), {collapse}"
        )
    _, train_video, train_audio = summaries(model, train, augmentation)
    both, test_both = torch.cat([train_video, train_audio], 1), torch.cat([test_video, test_audio], 1)
    if standardise:
        both, test_both = standardised(both, test_both)
        train_audio, test_audio = standardised(train_audio, test_audio)
    one_shot = torch.stack([(train["label"] == label).nonzero()[0, 0] for label in train["label"].unique()])
    return (
        f"probe top-1 {probe(both, train['label'], test_both, test['label']):.3f} (all labels), "
        f"{probe(both[one_shot], train['label'][one_shot], test_both, test['label']):.3f} (1 per class); "
        f"shape from audio {probe(train_audio, shapes(train), test_audio, shapes(test)):.3f} (all labels), "
        f"{probe(train_audio[one_shot], shapes(train)[one_shot], test_audio, shapes(test)):.3f} (1 clip per class); "
        f"{collapse}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("objective", choices=["supervised", "contrastive", "audio-contrastive"])
    parser.add_argument(
        "--model-config", default="configs/avsynth_model.json", help="the AVSSLConfig JSON of the model from scratch"
    )
    parser.add_argument(
        "--model-name-or-path",
        default=None,
        help="an AVSSL checkpoint to start from instead (e.g. pretrained/avsynth)",
    )
    parser.add_argument("--frame-stride", type=int, default=None, help="source frames between sampled frames")
    parser.add_argument("--video-only", action="store_true", help="supervised: the model without its audio encoder")
    parser.add_argument(
        "--shots", type=float, default=None, help="supervised: train on the default run's k-shot split"
    )
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--learning-rate", type=float, default=3e-4)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--temperature", type=float, default=0.1, help="of L_c")
    parser.add_argument("--hue-shift-from", type=int, default=None, help="contrastive: epoch that starts hue shifts")
    parser.add_argument(
        "--standardise",
        action="store_true",
        help="contrastive: standardise the probed summaries (training clips' mean, std)",
    )
    parser.add_argument("--report-every", type=int, default=5, help="epochs")
    parser.add_argument("--save", default=None, help="a folder to save the trained model in")
    args = parser.parse_args()
    if args.video_only and args.objective != "supervised":
        parser.error(f"{args.objective} needs the audio encoder: drop --video-only")
    torch.manual_seed(0)
    overrides = (
        ["--model_name_or_path", args.model_name_or_path]
        if args.model_name_or_path
        else ["--model_config", args.model_config]
    )
    overrides += ["--audio_model_name_or_path", "none"] if args.video_only else []
    overrides += ["--frame_stride", str(args.frame_stride)] if args.frame_stride else []
    model_args, data_args, _, _ = parse_arguments([DEFAULT_CONFIG, *overrides])
    train_source, test_source = load_data(data_args)
    model = build_model(model_args, train_source.classes)
    processor = processor_for(model.config, data_args.frame_stride)
    transform = ClipTransform.from_processor(processor, model.config.video_input_shape[0], strong=False)
    start = time.perf_counter()
    audio = model.config.is_audio_visual
    train, test = decode(train_source, transform, audio), decode(test_source, transform, audio)
    print(f"decoded {len(train['label'])} + {len(test['label'])} clips in {time.perf_counter() - start:.0f} s")
    rows = torch.arange(len(train["label"]))
    if args.shots is not None:
        split = labeled_split(train_source.dataset["label"], train_source.classes, args.shots, data_args.split_seed)
        rows = torch.tensor(split.labeled)
    augmentation = transform.augmentation
    print(f"before training: {report(model, train, test, args.objective, augmentation, args.standardise)}")
    start = time.perf_counter()

    def batch_loss(batch: torch.Tensor, epoch: int) -> torch.Tensor:
        hue_shift = args.hue_shift_from is not None and epoch >= args.hue_shift_from
        inputs = model_inputs(train, batch, augmentation, hue_shift)
        return training_loss(model, inputs, train["label"][batch], args.objective, args.temperature)

    def after_epoch(epoch: int, loss: float) -> None:
        line = f"epoch {epoch + 1}: loss {loss:.3f} ({time.perf_counter() - start:.0f} s)"
        if (epoch + 1) % args.report_every == 0 or epoch + 1 == args.epochs:
            line += f"; {report(model, train, test, args.objective, augmentation, args.standardise)}"
        print(line, flush=True)

    fit(
        model,
        rows,
        batch_loss,
        args.epochs,
        args.batch_size,
        args.learning_rate,
        pct_start=0.1,
        max_grad_norm=1.0,
        after_epoch=after_epoch,
    )
    if args.save:
        model.save_pretrained(args.save)


if __name__ == "__main__":
    main()
