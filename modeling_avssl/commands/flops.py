"""Trainable parameters and forward FLOPs of the full-size model, counted on the meta device.

    python -m modeling_avssl.commands.flops [--video-only] [--forward]

Nothing is computed: the model and its inputs live on the meta device and `torch.utils.flop_counter` adds up the
FLOPs of every matmul and convolution from their shapes (2 FLOPs per multiply-add; the paper's tools count
multiply-adds, so both are printed). One training iteration follows docs/design.md section 4 with B_l labeled and
B_u = 5 * B_l unlabeled clips: the student on the labeled, strong and mixed clips, the EMA teacher on the weak
clips, and, for ASL mixup, the frozen `AVSSLLocalizer` on the audio of the strong clips and on every frame of them
(`asl_map_frames="every"`) or on one mean frame per tubelet (`"tubelet"`).
"""

import argparse
import time
from dataclasses import dataclass

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from ..configuration_avssl import AVSSLConfig, AVSSLLocalizerConfig
from ..localizer.modeling_localizer import AVSSLLocalizer
from ..modeling_avssl import AVSSLForVideoClassification


@dataclass
class Figures:
    trainable_parameters: int
    clip_flops: int
    iteration_flops: int
    localizer_flops: dict[str, int]  # by `asl_map_frames`: "every", "tubelet"


def count_flops(module: nn.Module, *args, **kwargs) -> int:
    """FLOPs of one forward call of `module`, counted from shapes."""
    with FlopCounterMode(display=False) as counter:
        module(*args, **kwargs)
    return counter.get_total_flops()


def measure(config: AVSSLConfig, labeled_batch: int = 1, unlabeled_ratio: int = 5) -> Figures:
    """Counts the figures of `config` with meta tensors; B_u = `unlabeled_ratio` * B_l."""
    with torch.device("meta"):
        model = AVSSLForVideoClassification(config)
        localizer = AVSSLLocalizer(AVSSLLocalizerConfig(image_size=config.video_input_shape[-1]))
    model.config._attn_implementation = "eager"

    def clip_inputs(batch: int) -> dict:
        inputs = {"pixel_values": torch.empty(batch, *config.video_input_shape, device="meta")}
        if config.is_audio_visual:
            audio = config.audio_config
            inputs["input_values"] = torch.empty(batch, audio.max_length, audio.num_mel_bins, device="meta")
        return inputs

    def forward_flops(batch: int, mixed: bool = False) -> int:
        token_mix = None
        if mixed:
            slots, height, width = config.video_token_grid
            mask = torch.empty(batch, slots * height * width, dtype=torch.bool, device="meta")
            token_mix = (mask, torch.empty(batch, dtype=torch.long, device="meta"))
        return count_flops(model, **clip_inputs(batch), token_mix=token_mix)

    unlabeled_batch = unlabeled_ratio * labeled_batch
    iteration = (
        forward_flops(labeled_batch)  # student, labeled weak view
        + forward_flops(unlabeled_batch)  # teacher, unlabeled weak view (same architecture)
        + forward_flops(unlabeled_batch)  # student, unlabeled strong view
        + forward_flops(unlabeled_batch, mixed=True)  # student, mixed clips
    )
    audio = config.audio_config
    frames, channels, height, width = config.video_input_shape
    tubelet = frames // config.video_token_grid[0]
    localizer_flops = {
        name: count_flops(
            localizer,
            torch.empty(unlabeled_batch, maps, channels, height, width, device="meta"),
            torch.empty(unlabeled_batch, 1, audio.num_mel_bins, audio.max_length, device="meta"),
        )
        if audio
        else 0
        for name, maps in (("every", frames), ("tubelet", frames // tubelet))
    }
    return Figures(
        trainable_parameters=sum(p.numel() for p in model.parameters() if p.requires_grad),
        clip_flops=forward_flops(1),
        iteration_flops=iteration,
        localizer_flops=localizer_flops,
    )


def training_step_flops(config: AVSSLConfig, labeled_batch: int = 1, unlabeled_ratio: int = 5) -> int:
    """Model FLOPs of one training step with ASL mixup (`asl_map_frames="tubelet"`): the student's forward and
    backward (3 x its forward) on the labeled, strong and mixed clips, the teacher's forward on the weak clips and the
    localizer's; gradient checkpointing's recomputation is not counted, as MFU conventions do."""
    figures = measure(config, labeled_batch, unlabeled_ratio)
    teacher = labeled_batch * unlabeled_ratio * figures.clip_flops  # attention is per clip: linear in the batch
    student = figures.iteration_flops - teacher
    return 3 * student + teacher + figures.localizer_flops["tubelet"]


def format_report(config: AVSSLConfig, figures: Figures, labeled_batch: int, unlabeled_ratio: int) -> str:
    video = config.video_config
    header = (
        f"AVSSL ({'V,A' if config.is_audio_visual else 'V'}): {video.model_type} "
        f"{'x'.join(map(str, config.video_input_shape))} clips, {'x'.join(map(str, config.video_token_grid))} tokens"
    )
    if config.is_audio_visual:
        audio = config.audio_config
        header += f"; AST {audio.max_length}x{audio.num_mel_bins} fbank; {config.fusion_num_layers} fusion layers"
    iteration = f"one iteration (B_l={labeled_batch}, B_u={unlabeled_ratio * labeled_batch})"
    rows = [
        ("forward, one clip", figures.clip_flops),
        (f"forward, {iteration}, TubeToken mixup", figures.iteration_flops),
    ]
    if config.is_audio_visual:
        for name, flops in figures.localizer_flops.items():
            maps = "every frame's map" if name == "every" else "a map per tubelet"
            rows.append((f"forward, {iteration}, ASL mixup, {maps}", figures.iteration_flops + flops))
            rows.append(("  of which the frozen localizer", flops))
            rows.append(("  the localizer per strong clip", flops // (unlabeled_ratio * labeled_batch)))
    lines = [header, f"{'trainable parameters':<70}{figures.trainable_parameters / 1e6:>10.1f}M"]
    lines += [f"{label:<70}{flops / 1e9:>10.1f} GFLOPs {flops / 2e9:>9.1f} GMACs" for label, flops in rows]
    return "\n".join(lines)


def run_forward(config: AVSSLConfig) -> str:
    """One real forward pass of the randomly initialised model on a random clip; returns a summary line."""
    model = AVSSLForVideoClassification(config).eval()
    inputs = {"pixel_values": torch.randn(1, *config.video_input_shape)}
    if config.is_audio_visual:
        inputs["input_values"] = torch.randn(1, config.audio_config.max_length, config.audio_config.num_mel_bins)
    start = time.perf_counter()
    with torch.inference_mode():
        outputs = model(**inputs)
    seconds = time.perf_counter() - start
    return (
        f"real forward pass (random weights, random clip, {torch.get_num_threads()} CPU threads): logits "
        f"{tuple(outputs.logits.shape)}, video_embeds {tuple(outputs.video_embeds.shape)}"
        + (f", audio_embeds {tuple(outputs.audio_embeds.shape)}" if outputs.audio_embeds is not None else "")
        + f" in {seconds:.1f} s"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m modeling_avssl.commands.flops", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--video-only", action="store_true", help="the video-only baseline (audio_config=None)")
    parser.add_argument(
        "--video-model",
        choices=["videomae", "timesformer"],
        default="videomae",
        help="video encoder: VideoMAE ViT-B 16x224 (default) or TimeSformer-B 8x224 (the paper's backbone)",
    )
    parser.add_argument("--num-labels", type=int, default=51, help="classes of the head (UCF-51 by default)")
    parser.add_argument("--labeled-batch", type=int, default=1, help="B_l of one training iteration")
    parser.add_argument("--unlabeled-ratio", type=int, default=5, help="B_u / B_l")
    parser.add_argument("--forward", action="store_true", help="also run one real forward pass on the CPU")
    args = parser.parse_args(argv)

    config = AVSSLConfig(
        video_config={"model_type": args.video_model},
        num_labels=args.num_labels,
        **({"audio_config": None} if args.video_only else {}),
    )
    figures = measure(config, args.labeled_batch, args.unlabeled_ratio)
    print(format_report(config, figures, args.labeled_batch, args.unlabeled_ratio))
    if args.forward:
        print(run_forward(config))


if __name__ == "__main__":
    main()
