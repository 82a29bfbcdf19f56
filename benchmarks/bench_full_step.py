"""A real training step of the paper-size model: step time, peak memory, where the time goes, and (on a GPU) MFU.

    python benchmarks/bench_full_step.py [--steps 2] [--device cpu|cuda] [--no-checkpointing] [--fp32]

The paper's model: VideoMAE ViT-B 16 x 224 (tubelets of 2, 8 x 14 x 14 tokens), AST on 1024 x 128 fbank and two
fusion layers, randomly initialised (nothing can be downloaded here; the cost does not depend on the weights),
with the EZ-VSL-size localizer (all four ResNet-18 stages at 224, 7 x 7 maps, `asl_map_frames="tubelet"`). B_l = 1,
B_u = 5, ASL mixup, FlexMatch at a threshold every pseudo label passes, so that all four terms are computed. The
clips are real: AVSynth videos generated at 256 px and decoded by the trainer's own loader (its time per batch is
measured too). Each step is `AVSSLTrainer.training_step` (forward and backward under `torch.autocast` to bf16,
gradient checkpointing on), the SGD step and the EMA update, timed after one warm-up step.

Reported: seconds per step, peak memory (CUDA: `max_memory_allocated`; CPU: the process's peak RSS), the parts of a
step, the model FLOPs of a step (3 x the student's forward, the teacher's and the localizer's forwards, counted on
the meta device by `modeling_avssl.report`; checkpointing's recomputation is not counted, as MFU conventions do),
on a GPU the MFU against the device's dense bf16 peak, and the decoded samples a second a loader must deliver to
keep the step fed (B_l + B_u per step).
"""

import argparse
import os
import resource
import tempfile
import time
from collections import defaultdict

import torch

from modeling_avssl import AVSSLConfig, AVSSLForVideoClassification, AVSSLLocalizer, AVSSLLocalizerConfig
from modeling_avssl.data import VideoAugmentation
from modeling_avssl.data.avsynth import AVSynthSpec, generate
from modeling_avssl.data.collation import ClipTransform
from modeling_avssl.data.sources import video_folder
from modeling_avssl.report import measure
from modeling_avssl.trainer_avssl import AVSSLTrainer, AVSSLTrainingArguments


DENSE_BF16_PEAK = {"H100": 989e12, "H200": 989e12, "A100": 312e12}  # FLOP/s, the vendors' dense figures
LABELED, UNLABELED_RATIO = 1, 5


def synchronized(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def timed(function, times: list[float], device: torch.device):
    def wrapper(*args, **kwargs):
        synchronized(device)
        start = time.perf_counter()
        result = function(*args, **kwargs)
        synchronized(device)
        times.append(time.perf_counter() - start)
        return result

    return wrapper


def peak_memory_gib(device: torch.device) -> float:
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**30
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # kilobytes on Linux


def step_flops(config: AVSSLConfig) -> int:
    """Model FLOPs of one step: the student's forward and backward (3 x its forward), the teacher's forward and the
    localizer's forward on one mean frame per tubelet of the strong clips (the EZ-VSL-size localizer `report` counts,
    the one this script builds)."""
    figures = measure(config, LABELED, UNLABELED_RATIO)
    teacher = LABELED * UNLABELED_RATIO * figures.clip_flops  # attention is per clip: linear in the batch
    student = figures.iteration_flops - teacher
    return 3 * student + teacher + figures.localizer_flops["tubelet"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=1, help="timed steps after the warm-up step")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--no-checkpointing", action="store_true", help="keep every activation")
    parser.add_argument("--fp32", action="store_true", help="no bf16 autocast")
    args = parser.parse_args()
    device = torch.device(args.device)
    config = AVSSLConfig(id2label={i: f"class{i}" for i in range(51)})  # VideoMAE-B 16x224, AST 1024x128, UCF-51
    localizer_config = AVSSLLocalizerConfig(
        image_size=224, audio_features={"type": "fbank", "sample_rate": 16000, "num_mel_bins": 128, "max_length": 1024}
    )
    print(
        f"{torch.get_num_threads()} CPU threads, torch {torch.__version__}, device {device}"
        + (f" ({torch.cuda.get_device_name(device)})" if device.type == "cuda" else "")
        + f"; bf16 autocast {not args.fp32}, gradient checkpointing {not args.no_checkpointing}"
    )
    with tempfile.TemporaryDirectory() as folder:
        generate(os.path.join(folder, "avsynth"), 12, 0, spec=AVSynthSpec(size=256))
        rows = video_folder(os.path.join(folder, "avsynth"), "train").dataset
        AVSSLLocalizer(localizer_config).save_pretrained(os.path.join(folder, "localizer"))
        training_args = AVSSLTrainingArguments(
            output_dir=os.path.join(folder, "run"),
            per_device_train_batch_size=LABELED,
            unlabeled_ratio=UNLABELED_RATIO,
            max_steps=args.steps + 1,
            use_cpu=device.type == "cpu",
            bf16=not args.fp32,
            report_to=[],
            save_strategy="no",
            mask_type="asl",
            asl_map_frames="tubelet",
            tau=1e-3,  # every pseudo label passes: L_u and L_mix are computed on every clip
            optim="sgd",
            optim_args="momentum=0.9",
            localizer_name_or_path=os.path.join(folder, "localizer"),
            dataloader_num_workers=0,
        )
        transform = ClipTransform(VideoAugmentation(224), num_frames=16, frame_stride=1)
        model = AVSSLForVideoClassification(config)
        if not args.no_checkpointing:
            model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
        trainer = AVSSLTrainer(
            model,
            training_args,
            labeled=rows.select(range(2)),
            unlabeled=rows.select(range(2, len(rows))),
            transform=transform,
            num_unlabeled_indices=len(rows),
        )
        trainer.create_optimizer_and_scheduler(num_training_steps=args.steps + 1)
        trainer.current_gradient_accumulation_steps = 1  # set by the Trainer's own loop
        start = time.perf_counter()
        batches = iter(trainer.get_train_dataloader())
        inputs = next(batches)
        decode = time.perf_counter() - start

        times = defaultdict(list)
        trainer.teacher.__class__.__call__ = timed(type(trainer.teacher).__call__, times["teacher forward"], device)
        trainer._localization_maps = timed(trainer._localization_maps, times["localizer"], device)
        trainer.optimizer.step = timed(trainer.optimizer.step, times["optimizer step"], device)
        trainer.teacher.update = timed(trainer.teacher.update, times["EMA update"], device)

        def step() -> float:
            synchronized(device)
            begin = time.perf_counter()
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=not args.fp32):
                trainer.training_step(trainer.model, inputs)
            trainer.optimizer.step()
            trainer.optimizer.zero_grad()
            trainer.teacher.update(trainer.model)
            synchronized(device)
            return time.perf_counter() - begin

        warm_up = step()
        for values in times.values():
            values.clear()
        seconds = [step() for _ in range(args.steps)]
        per_step = sum(seconds) / len(seconds)
        terms = {name: round(sum(values) / len(values), 4) for name, values in trainer._window.items()}

    flops = step_flops(config)
    parts = {part: sum(values) / len(seconds) for part, values in times.items()}
    parts["student forward + backward"] = per_step - sum(parts.values())
    parameters = sum(p.numel() for p in trainer.model.parameters()) / 1e6
    print(f"paper-size model: {parameters:.1f}M parameters; B_l = {LABELED}, B_u = {LABELED * UNLABELED_RATIO}")
    print(f"terms of the timed steps: {terms}")
    print(f"warm-up step {warm_up:.1f} s; timed steps {', '.join(f'{s:.1f}' for s in seconds)} s")
    print(f"step time {per_step:.2f} s, peak memory {peak_memory_gib(device):.1f} GiB")
    for part, value in sorted(parts.items(), key=lambda item: -item[1]):
        print(f"  {part:<28}{value:>9.2f} s {100 * value / per_step:>6.1f}%")
    achieved = flops / per_step
    print(f"model FLOPs per step {flops / 1e12:.2f} TFLOP; achieved {achieved / 1e12:.3f} TFLOP/s")
    if device.type == "cuda":
        name = torch.cuda.get_device_name(device)
        peak = next((value for key, value in DENSE_BF16_PEAK.items() if key in name), None)
        if peak is not None:
            print(f"MFU {100 * achieved / peak:.1f}% of {name}'s dense bf16 peak ({peak / 1e12:.0f} TFLOP/s)")
    samples = LABELED * (1 + UNLABELED_RATIO)
    print(
        f"the loader must deliver {samples / per_step:.2f} decoded samples/s to keep up; this process decoded the "
        f"first batch ({samples} samples, weak and strong views) in {decode:.1f} s ({samples / decode:.1f} samples/s)"
    )


if __name__ == "__main__":
    main()
