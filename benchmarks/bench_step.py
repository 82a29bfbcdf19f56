"""Where a training step's time goes (student forward/backward, teacher, localizer, masks, losses, EMA, optimizer),
and what the one-pass student and one localizer map per tubelet save.

    python benchmarks/bench_step.py [--steps 10] [--rounds 3]

Builds `AVSSLTrainer` with ASL-guided mixup, FlexMatch and all four loss terms (B_l = 1, B_u = 5) for a tiny, a
small and a medium configuration on the CPU, decodes one batch of AVSynth clips once, and times `--steps` full steps
(forward, backward, optimizer step, EMA update) on it after one warm-up step, for three variants of the step: the
student in three forwards (labeled, strong, mixed) with a map of every frame, as before; in one forward
(`joint_forward`); and in one forward with one map per tubelet (`asl_map_frames="tubelet"`). The variants take turns
for `--rounds` rounds (min / median / max of a step's mean over the rounds; ratios within a round). Each part is
timed by wrapping the function that does it; the student's forward and backward is the rest of the step.
"""

import argparse
import os
import tempfile
import time
from collections import defaultdict

import torch

from modeling_avssl import (
    AVSSLConfig,
    AVSSLForVideoClassification,
    AVSSLLocalizer,
    AVSSLLocalizerConfig,
)
from modeling_avssl.data import VideoAugmentation
from modeling_avssl.data.avsynth import generate
from modeling_avssl.data.collation import ClipTransform
from modeling_avssl.data.sources import video_folder
from modeling_avssl.method import trainer as trainer_module
from modeling_avssl.method.trainer import AVSSLTrainer, AVSSLTrainingArguments


def encoders(size: int, patch: int, frames: int, hidden: int, layers: int, mel: int, length: int) -> dict:
    heads, intermediate = hidden // 32, 4 * hidden
    common = {"hidden_size": hidden, "num_hidden_layers": layers, "num_attention_heads": heads}
    return {
        "video_config": {
            "model_type": "videomae",
            "image_size": size,
            "patch_size": patch,
            "num_frames": frames,
            "tubelet_size": 2,
            "intermediate_size": intermediate,
            **common,
        },
        "audio_config": {
            "model_type": "audio-spectrogram-transformer",
            "num_mel_bins": mel,
            "max_length": length,
            "patch_size": 16,
            "frequency_stride": 16,
            "time_stride": 16,
            "intermediate_size": intermediate,
            **common,
        },
        "fusion_num_layers": 2,
        "fusion_hidden_size": hidden,
        "fusion_num_attention_heads": heads,
        "fusion_intermediate_size": intermediate,
    }


CONFIGS = {
    "tiny (32 px, 4 frames, 2 layers of 32)": (encoders(32, 8, 4, 32, 2, 32, 64), 64),
    "small (64 px, 8 frames, 4 layers of 192)": (encoders(64, 8, 8, 192, 4, 64, 256), 112),
    "medium (112 px, 16 frames, 6 layers of 384)": (encoders(112, 16, 16, 384, 6, 128, 512), 112),
}
VARIANTS = {
    "three passes, every frame's map": (False, "every"),
    "one pass, every frame's map": (True, "every"),
    "one pass, a map per tubelet": (True, "tubelet"),
}
PARTS = {
    "teacher forward": ("teacher", "__call__"),
    "localizer": ("trainer", "_localization_maps"),
    "mask sampling": ("module", "asl_guided_mask"),
    "losses": ("module", ("unlabeled_loss", "mix_loss", "contrastive_loss")),
    "thresholds": ("thresholds", "mask"),
    "EMA update": ("teacher", "update"),
}


def timed(function, times: list[float]):
    def wrapper(*args, **kwargs):
        start = time.perf_counter()
        result = function(*args, **kwargs)
        times.append(time.perf_counter() - start)
        return result

    return wrapper


def benchmark(name: str, values: dict, localizer_size: int, data: str, folder: str, steps: int, rounds: int) -> None:
    rows = video_folder(data, "train").dataset
    classes = sorted(set(rows.features["label"].names))
    config = AVSSLConfig(**values, id2label=dict(enumerate(classes)))
    localizer = AVSSLLocalizerConfig(
        embed_dim=64,
        image_size=localizer_size,
        audio_features={"type": "fbank", "sample_rate": 16000, "num_mel_bins": 64, "max_length": 200},
    )
    AVSSLLocalizer(localizer).save_pretrained(os.path.join(folder, "localizer"))
    frames, _, size, _ = config.video_input_shape
    audio = config.audio_config
    transform = ClipTransform(
        VideoAugmentation(size), frames, 1, num_mel_bins=audio.num_mel_bins, max_length=audio.max_length
    )
    args = AVSSLTrainingArguments(
        output_dir=os.path.join(folder, "run"),
        per_device_train_batch_size=1,
        unlabeled_ratio=5,
        max_steps=10,
        use_cpu=True,
        report_to=[],
        save_strategy="no",
        mask_type="asl",
        tau=0.05,
        localizer_name_or_path=os.path.join(folder, "localizer"),
    )
    trainer = AVSSLTrainer(
        AVSSLForVideoClassification(config),
        args,
        labeled=rows.select(range(12)),
        unlabeled=rows.select(range(12, len(rows))),
        transform=transform,
        num_unlabeled_indices=len(rows),
    )
    trainer.create_optimizer_and_scheduler(num_training_steps=steps + 1)
    trainer.current_gradient_accumulation_steps = 1  # set by the Trainer's own loop
    inputs = next(iter(trainer.get_train_dataloader()))
    times = defaultdict(list)
    for part, (owner, names) in PARTS.items():
        target = {"teacher": trainer.teacher, "trainer": trainer, "thresholds": trainer.thresholds}.get(owner)
        for attribute in [names] if isinstance(names, str) else names:
            if owner == "module":
                setattr(trainer_module, attribute, timed(getattr(trainer_module, attribute), times[part]))
            elif attribute == "__call__":
                type(target).__call__ = timed(type(target).__call__, times[part])
            else:
                setattr(target, attribute, timed(getattr(target, attribute), times[part]))
    trainer.optimizer.step = timed(trainer.optimizer.step, times["optimizer step"])
    joint_forward = trainer_module.joint_forward

    def three_passes(model, parts):
        return [model(part.pixel_values, part.input_values, token_mix=part.token_mix) for part in parts]

    def step() -> float:
        start = time.perf_counter()
        trainer.training_step(trainer.model, inputs)
        trainer.optimizer.step()
        trainer.optimizer.zero_grad()
        trainer.teacher.update(trainer.model)
        return time.perf_counter() - start

    totals, breakdowns = defaultdict(list), {}
    for _ in range(rounds):
        for variant, (one_pass, map_frames) in VARIANTS.items():
            trainer_module.joint_forward = joint_forward if one_pass else three_passes
            trainer.args.asl_map_frames = map_frames
            step()
            for values_ in times.values():
                values_.clear()
            total = sum(step() for _ in range(steps)) / steps
            totals[variant].append(total)
            parts = {part: sum(values_) / steps for part, values_ in times.items()}
            parts["student forward + backward"] = total - sum(parts.values())
            breakdowns[variant] = parts  # the last round's
    trainer_module.joint_forward = joint_forward
    print(f"\n{name}: {sum(p.numel() for p in trainer.model.parameters()) / 1e6:.2f}M parameters")
    before = totals[next(iter(VARIANTS))]
    for variant, values_ in totals.items():
        ratios = sorted(b / v for b, v in zip(before, values_))
        ms = sorted(1e3 * v for v in values_)
        print(
            f"  {variant:<34} {ms[0]:>7.0f} / {ms[len(ms) // 2]:.0f} / {ms[-1]:.0f} ms per step (min / median / max)"
            f"   speed-up {ratios[0]:.2f} / {ratios[len(ratios) // 2]:.2f} / {ratios[-1]:.2f}"
        )
        parts, total = breakdowns[variant], values_[-1]
        for part, seconds in sorted(parts.items(), key=lambda item: -item[1]):
            print(f"      {part:<28}{seconds * 1e3:>8.1f} ms {100 * seconds / total:>6.1f}%")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print(f"{os.cpu_count()} cores, torch {torch.__version__}, {torch.get_num_threads()} threads; B_l = 1, B_u = 5")
    with tempfile.TemporaryDirectory() as folder:
        generate(os.path.join(folder, "avsynth"), 36, 0)
        for name, (values, localizer_size) in CONFIGS.items():
            benchmark(name, values, localizer_size, os.path.join(folder, "avsynth"), folder, args.steps, args.rounds)


if __name__ == "__main__":
    main()
