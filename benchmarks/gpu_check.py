"""The paper's size on one GPU: device tests, training steps, the loader and a whole run, every figure into a folder.

    python benchmarks/gpu_check.py --out gpu_check                    # on a CUDA machine (about 8 minutes on an H200)
    python benchmarks/gpu_check.py --device cpu --tiny --out check    # every part on the tiny model (CI runs it)
    python benchmarks/gpu_check.py --device cpu --parts step --runs 1+5:sdpa+checkpointing   # the paper size on a CPU

From the repository's root (with `PYTHONPATH=.` where the package is not installed).

Parts (`--parts`, run in this order; each adds its figures to `figures.json` as soon as it ends, so a run stopped
early keeps what it measured):
- tests: the tests marked `gpu` (`pytest -m gpu`); on a CUDA machine they run, elsewhere they are skipped with their
  reason. Log `tests.log`.
- step: the trainer's own training step (`AVSSLTrainer.train`, in its precision: accelerate's bf16 autocast around the
  student, the trainer's around the teacher and the localizer) on one decoded batch, repeated, for each run of
  `--runs` (`B_l+B_u:variant`, variants `sdpa`, `eager`, `+checkpointing`, `compile`): seconds a step min / median /
  max over `--steps` steps after `--warmup`, peak memory, the device time of the teacher (with the thresholds), the
  localizer, the optimizer step and the EMA update (the rest is the student's forward and backward), the model FLOPs
  of a step (`report.training_step_flops`) and, on a GPU, the MFU against the dense bf16 peak and against a bf16
  matmul measured in the same run. The paper's model: VideoMAE ViT-B 16 x 224, AST 1024 x 128, two fusion layers and
  the EZ-VSL-size localizer, randomly initialised (nothing is downloaded; the cost does not depend on the weights).
- loader: decoded training samples a second of the trainer's own loader (both streams, weak and strong views, fbank,
  16 frames 4 apart at 224, as the model's inputs on the device) with each of `--workers`, beside what the largest
  run of the step part consumes.
- run: `accelerate launch train_avssl.py` on AVSynth written at the model's size (the supervised warm-up, the
  teacher's hand-over, semi-supervised steps, a checkpoint, the multi-view test, the final save and the summary
  pictures), then `from_pretrained` and `pipeline(..., device=...)` on a saved test clip; the weights must be finite.
  Log `run.log`; the stage times and the test figures from its summary.

`--tiny` runs the same code on the tiny model of `configs/avsynth_tiny_model.json` and small AVSynth sets, with
torch.compile on dynamo's eager backend, so that the script cannot rot between GPU sessions.
"""

import argparse
import gc
import itertools
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ElementTree
from collections import defaultdict
from dataclasses import dataclass

import torch
from safetensors.torch import load_file
from transformers import TrainerCallback, pipeline

from modeling_avssl import AVSSLConfig, AVSSLForVideoClassification, AVSSLLocalizer, AVSSLLocalizerConfig
from modeling_avssl.commands.flops import training_step_flops
from modeling_avssl.data.avsynth import AVSynthSpec, generate
from modeling_avssl.data.collation import ClipTransform, split_workers
from modeling_avssl.data.sources import video_folder
from modeling_avssl.method.trainer import AVSSLTrainer, AVSSLTrainingArguments
from modeling_avssl.run.components import processor_for


ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DENSE_BF16_PEAK = {"H100": 989e12, "H200": 989e12, "A100": 312e12}  # FLOP/s, the vendors' dense figures
PAPER_RUNS = ["1+5:sdpa", "1+5:sdpa+checkpointing", "8+40:sdpa", "8+40:sdpa+checkpointing"]
PAPER_RUNS += ["8+40:eager+checkpointing", "8+40:compile"]
TINY_RUNS = ["1+2:sdpa", "1+2:sdpa+checkpointing", "1+2:eager", "1+2:compile"]
PARTS = ("tests", "step", "loader", "run")


@dataclass
class Setting:
    """What the parts run on: the model, the localizer and the two AVSynth sets."""

    config: AVSSLConfig
    localizer: AVSSLLocalizerConfig
    clips: AVSynthSpec  # the step's and the loader's source clips: 16 frames 4 apart fit in them
    clips_count: int
    frame_stride: int
    run_model: dict  # the whole run's model config
    run_clips: AVSynthSpec
    run_counts: tuple[int, int]  # training and test clips of the whole run


def paper_setting() -> Setting:
    config = AVSSLConfig(id2label={i: f"class{i}" for i in range(12)})  # VideoMAE-B 16x224, AST 1024x128
    audio = config.audio_config
    features = {"type": "fbank", "sample_rate": 16000, "num_mel_bins": audio.num_mel_bins, "max_length": 1024}
    return Setting(
        config=config,
        localizer=AVSSLLocalizerConfig(image_size=224, audio_features=features),
        clips=AVSynthSpec(size=256, num_frames=80, fps=16.0),
        clips_count=60,
        frame_stride=4,
        run_model={key: value for key, value in config.to_diff_dict().items() if key not in ("id2label", "label2id")},
        run_clips=AVSynthSpec(size=224),
        run_counts=(96, 24),
    )


def tiny_setting() -> Setting:
    with open(os.path.join(ROOT, "configs", "avsynth_tiny_model.json")) as handle:
        run_model = json.load(handle)
    config = AVSSLConfig(**run_model, id2label={i: f"class{i}" for i in range(12)})
    audio = config.audio_config
    features = {"type": "fbank", "sample_rate": 16000, "num_mel_bins": audio.num_mel_bins, "max_length": 200}
    return Setting(
        config=config,
        localizer=AVSSLLocalizerConfig(embed_dim=16, image_size=64, audio_features=features),
        clips=AVSynthSpec(size=64, num_frames=24, fps=8.0),
        clips_count=24,
        frame_stride=4,
        run_model=run_model,
        run_clips=AVSynthSpec(),
        run_counts=(24, 6),
    )


class Figures:
    """`figures.json` in the output folder, rewritten after every part."""

    def __init__(self, out: str, header: dict):
        self.path, self.values = os.path.join(out, "figures.json"), {"machine": header}

    def add(self, part: str, values) -> None:
        self.values[part] = values
        with open(self.path, "w") as handle:
            json.dump(self.values, handle, indent=1)


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


class Stopwatch:
    """Marks on the device's clock (CUDA events, read after a synchronisation; the host's clock on a CPU)."""

    def __init__(self, device: torch.device):
        self.cuda = device.type == "cuda"

    def mark(self):
        if not self.cuda:
            return time.perf_counter()
        event = torch.cuda.Event(enable_timing=True)
        event.record()
        return event

    def seconds(self, start, end) -> float:
        return start.elapsed_time(end) / 1000 if self.cuda else end - start


class StepClock(TrainerCallback):
    """The seconds of each step, and of the parts wrapped by `time_part` within it."""

    def __init__(self, device: torch.device):
        self.device, self.stopwatch = device, Stopwatch(device)
        self.steps: list[float] = []
        self.parts: dict[str, list[float]] = defaultdict(list)
        self._marks: dict[str, list] = defaultdict(list)

    def time_part(self, owner, name: str, part: str) -> None:
        function = getattr(owner, name)

        def timed(*args, **kwargs):
            start = self.stopwatch.mark()
            result = function(*args, **kwargs)
            self._marks[part].append((start, self.stopwatch.mark()))
            return result

        setattr(owner, name, timed)

    def on_train_begin(self, args, state, control, optimizer=None, **kwargs):
        self.time_part(optimizer, "step", "optimizer step")

    def on_step_begin(self, args, state, control, **kwargs):
        synchronize(self.device)
        self._start = time.perf_counter()

    def on_step_end(self, args, state, control, **kwargs):
        synchronize(self.device)
        self.steps.append(time.perf_counter() - self._start)
        for part, marks in self._marks.items():
            self.parts[part].append(sum(self.stopwatch.seconds(start, end) for start, end in marks))
        self._marks.clear()


class OneBatch(AVSSLTrainer):
    """The trainer on one decoded batch, repeated: the step alone, not the loader."""

    def get_train_dataloader(self):
        return itertools.repeat(next(iter(super().get_train_dataloader())))


def spread(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {"min": ordered[0], "median": ordered[len(ordered) // 2], "max": ordered[-1]}


def peak_memory_gib(device: torch.device) -> float:
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**30
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # the process's peak so far (kilobytes)


def matmul_rate(device: torch.device) -> float | None:
    """FLOP/s of an 8192^3 bf16 matmul on random data (the attainable ceiling), on a GPU."""
    if device.type != "cuda":
        return None
    a, b = (torch.randn(8192, 8192, device=device, dtype=torch.bfloat16) for _ in range(2))
    for _ in range(3):
        a @ b
    synchronize(device)
    start = time.perf_counter()
    for _ in range(10):
        a @ b
    synchronize(device)
    return 10 * 2 * 8192**3 / (time.perf_counter() - start)


def trainer_arguments(out: str, device: torch.device, options: argparse.Namespace, **overrides):
    values = {
        "output_dir": out,
        "use_cpu": device.type == "cpu",
        "bf16": not options.fp32,
        "report_to": [],
        "save_strategy": "no",
        "mask_type": "asl",
        "asl_map_frames": "tubelet",
        "tau": 1e-3,  # every pseudo label passes: L_u and L_mix are computed on every clip
        "optim": "sgd",
        "optim_args": "momentum=0.9",
        "disable_tqdm": True,
    }
    return AVSSLTrainingArguments(**{**values, **overrides})


def clips_transform(setting: Setting) -> ClipTransform:
    processor = processor_for(setting.config, setting.frame_stride)
    return ClipTransform.from_processor(processor, setting.config.video_input_shape[0], strong=True)


def step_part(setting: Setting, rows, folder: str, device: torch.device, options, log) -> dict:
    """Each run of `--runs` on one shared model; see the module's docstring."""
    with torch.device(device):
        model = AVSSLForVideoClassification(setting.config)
    results, rate, peak = {}, matmul_rate(device), None
    if device.type == "cuda":
        name = torch.cuda.get_device_name(device)
        peak = next((value for key, value in DENSE_BF16_PEAK.items() if key in name), None)
    for run in options.runs:
        batch, variant = run.split(":")
        labeled, unlabeled = map(int, batch.split("+"))
        log(f"step {run}")
        model.set_attn_implementation("eager" if variant.startswith("eager") else "sdpa")
        if "checkpointing" in variant:
            model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
        else:
            model.gradient_checkpointing_disable()
        compile_options = {}
        if variant == "compile":
            compile_options = {"torch_compile": True, "torch_compile_backend": "eager" if options.tiny else "inductor"}
        arguments = trainer_arguments(
            os.path.join(folder, "step"),
            device,
            options,
            per_device_train_batch_size=labeled,
            unlabeled_ratio=unlabeled // labeled,
            max_steps=options.warmup + options.steps,
            logging_steps=options.warmup + options.steps,  # the terms, read after the last timed step
            localizer_name_or_path=os.path.join(folder, "localizer"),
            dataloader_num_workers=min(8, os.cpu_count() or 1) if device.type == "cuda" else 0,
            **compile_options,
        )
        if device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(device)
        trainer = OneBatch(
            model,
            arguments,
            labeled=rows.select(range(labeled)),
            unlabeled=rows.select(range(labeled, labeled + unlabeled)),
            transform=clips_transform(setting),
            num_unlabeled_indices=len(rows),
        )
        clock = StepClock(device)
        clock.time_part(trainer, "_pseudo_labels", "teacher and thresholds")
        clock.time_part(trainer, "_localization_maps", "localizer")
        clock.time_part(trainer.teacher, "update", "EMA update")
        trainer.add_callback(clock)
        start = time.perf_counter()
        try:
            trainer.train()
        except torch.OutOfMemoryError as error:
            results[run] = {"error": f"out of memory: {str(error).splitlines()[0]}"}
            log(f"  {results[run]['error']}")
            del trainer, clock
            gc.collect()
            torch.cuda.empty_cache()
            continue
        timed = clock.steps[options.warmup :]
        median = spread(timed)["median"]
        parts = {part: sum(values[options.warmup :]) / len(timed) for part, values in clock.parts.items()}
        parts["student forward and backward"] = sum(timed) / len(timed) - sum(parts.values())  # means of the steps
        flops = training_step_flops(setting.config, labeled, unlabeled // labeled)
        result = {
            "seconds_per_step": spread(timed),
            "warmup_seconds": clock.steps[: options.warmup],
            "wall_seconds": time.perf_counter() - start,
            "peak_memory_gib": peak_memory_gib(device),
            "parts_seconds": parts,
            "model_tflop_per_step": flops / 1e12,
            "achieved_tflop_per_second": flops / median / 1e12,
            "samples_per_second_consumed": (labeled + unlabeled) / median,
            "log": next(entry for entry in trainer.state.log_history if "loss" in entry),
        }
        if peak is not None:
            result["mfu_dense_bf16_peak"] = flops / median / peak
        if rate is not None:
            result["mfu_measured_matmul"] = flops / median / rate
        results[run] = result
        log(f"  {json.dumps(result)}")
        del trainer, clock
        gc.collect()
        if device.type == "cuda":
            torch.cuda.empty_cache()
    if rate is not None:
        results["measured_bf16_matmul_tflop_per_second"] = rate / 1e12
    return results


def loader_part(setting: Setting, rows, folder: str, device: torch.device, options, log, consumed) -> dict:
    """Decoded training samples a second of the trainer's loader with each of `--workers`."""
    labeled, unlabeled = (8, 40) if not options.tiny else (1, 2)
    results = {"batch": f"{labeled}+{unlabeled}", "needed_samples_per_second": consumed}
    for workers in options.workers:
        arguments = trainer_arguments(
            os.path.join(folder, "loader"),
            device,
            options,
            per_device_train_batch_size=labeled,
            unlabeled_ratio=unlabeled // labeled,
            dataloader_num_workers=workers,
            localizer_name_or_path=os.path.join(folder, "localizer"),
        )
        trainer = AVSSLTrainer(
            AVSSLForVideoClassification(setting.config),
            arguments,
            labeled=rows.select(range(12)),
            unlabeled=rows.select(range(12, len(rows))),
            transform=clips_transform(setting),
            num_unlabeled_indices=len(rows),
        )
        batches = iter(trainer.get_train_dataloader())
        start = time.perf_counter()
        next(batches)  # the workers start
        started = time.perf_counter()
        count = options.loader_batches
        for _ in range(count):
            next(batches)
        synchronize(device)
        seconds = time.perf_counter() - started
        results[str(workers)] = {
            "streams_workers": split_workers(workers, labeled, unlabeled),
            "first_batch_seconds": started - start,
            "samples_per_second": count * (labeled + unlabeled) / seconds,
        }
        log(f"loader, {workers} workers: {json.dumps(results[str(workers)])}")
        del batches, trainer
        gc.collect()
    return results


def run_part(setting: Setting, folder: str, device: torch.device, options, log) -> dict:
    """`accelerate launch train_avssl.py` on AVSynth, then the saved folder through `from_pretrained` and the
    pipeline."""
    data, out = os.path.join(folder, "run_data"), os.path.join(folder, "run")
    generate(data, *setting.run_counts, spec=setting.run_clips)
    with open(os.path.join(folder, "run_model.json"), "w") as handle:
        json.dump(setting.run_model, handle)
    config = {
        "model_config": os.path.join(folder, "run_model.json"),
        "dataset": "avsynth",
        "data_path": data,
        "output_dir": out,
        "shots": 1,
        "frame_stride": 1,
        "localizer_name_or_path": os.path.join(folder, "localizer"),
        "mask_type": "asl",
        "global_train_batch_size": 8 if not options.tiny else 2,
        "unlabeled_ratio": 5,
        "learning_rate": 0.005,
        "supervised_warmup_epochs": 1,  # 12 labeled clips: the first steps of L_s alone, then the teacher
        "max_steps": 6 if not options.tiny else 4,
        "save_strategy": "steps",
        "save_steps": 4 if not options.tiny else 3,
        "eval_clips": 2,
        "eval_crops": 3,
        "logging_steps": 1,
        "bf16": device.type == "cuda" and not options.fp32,
        "use_cpu": device.type == "cpu",
        "dataloader_num_workers": min(12, os.cpu_count() or 1) if device.type == "cuda" else 0,
        "report_to": "none",
        "seed": 0,
    }
    with open(os.path.join(folder, "run_config.json"), "w") as handle:
        json.dump(config, handle)
    command = [sys.executable, "-m", "accelerate.commands.launch", "--num_processes", "1"]
    command += ["--mixed_precision", "bf16" if config["bf16"] else "no"]
    command += ["--cpu"] if device.type == "cpu" else []
    command += [os.path.join(ROOT, "train_avssl.py"), os.path.join(folder, "run_config.json")]
    start = time.perf_counter()
    with open(os.path.join(options.out, "run.log"), "w") as handle:
        finished = subprocess.run(command, stdout=handle, stderr=subprocess.STDOUT, cwd=ROOT)
    result = {"returncode": finished.returncode, "wall_seconds": time.perf_counter() - start}
    with open(os.path.join(options.out, "run.log")) as handle:
        printed = handle.read()
    result["stage_minutes"] = {
        name: float(value) for name, value in re.findall(r"time: (.+?)\s+([\d.]+) min", printed)
    }
    if finished.returncode:
        log(f"run failed ({finished.returncode}); see run.log")
        return result
    with open(os.path.join(out, "eval_results.json")) as handle:
        result["eval"] = json.load(handle)
    weights = load_file(os.path.join(out, "model.safetensors"))
    result["finite_weights"] = all(bool(torch.isfinite(tensor).all()) for tensor in weights.values())
    result["files"] = sorted(os.listdir(out))
    video = next(os.path.join(root, name) for root, _, names in os.walk(os.path.join(data, "test")) for name in names)
    classify = pipeline("video-classification", model=out, trust_remote_code=True, device=device)
    result["pipeline"] = {"device": str(classify.model.device), "predictions": classify(video, top_k=3)}
    log(f"run: {json.dumps(result)}")
    return result


def tests_part(options, log) -> dict:
    """`pytest -m gpu` in a child process; the counts from its JUnit report."""
    report = os.path.join(options.out, "tests.xml")
    command = [sys.executable, "-m", "pytest", "-m", "gpu", "-p", "no:cacheprovider", "-rs", "-q"]
    command += ["--continue-on-collection-errors", f"--junitxml={report}"]
    command += ["--ignore", "tests/test_modeling_avssl_common.py", "--ignore", "tests/test_demo.py"]  # no network
    with open(os.path.join(options.out, "tests.log"), "w") as handle:
        finished = subprocess.run(command, stdout=handle, stderr=subprocess.STDOUT, cwd=ROOT)
    suite = ElementTree.parse(report).getroot()
    suite = suite if suite.tag == "testsuite" else suite.find("testsuite")
    counts = {name: int(suite.get(name, 0)) for name in ("tests", "failures", "errors", "skipped")}
    result = {"returncode": finished.returncode, **counts}
    log(f"gpu tests: {json.dumps(result)}")
    return result


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True, help="folder for figures.json and the logs")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--tiny", action="store_true", help="the tiny model and small sets (CI)")
    parser.add_argument("--parts", nargs="+", choices=PARTS, default=list(PARTS))
    parser.add_argument("--runs", nargs="+", help=f"B_l+B_u:variant (default {' '.join(PAPER_RUNS)})")
    parser.add_argument("--steps", type=int, default=5, help="timed steps of each run")
    parser.add_argument("--warmup", type=int, default=2, help="steps before the timed ones")
    parser.add_argument("--workers", nargs="+", type=int, help="loader workers to measure (default 1 8 16)")
    parser.add_argument("--loader-batches", type=int, default=8, help="batches timed for each worker count")
    parser.add_argument("--fp32", action="store_true", help="no bf16 autocast")
    options = parser.parse_args(argv)
    options.runs = options.runs or (TINY_RUNS if options.tiny else PAPER_RUNS)
    options.workers = options.workers or ([0, 1, 2] if options.tiny else [1, 8, 16])
    if options.tiny:
        options.steps, options.warmup, options.loader_batches = min(options.steps, 2), 1, 2
    device = torch.device(options.device)
    os.makedirs(options.out, exist_ok=True)
    header = {
        "device": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
        "torch": torch.__version__,
        "cores": os.cpu_count(),
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "tiny": options.tiny,
    }
    figures = Figures(options.out, header)
    log_file = open(os.path.join(options.out, "gpu_check.log"), "a")

    def log(line: str) -> None:
        print(line, flush=True)
        log_file.write(line + "\n")
        log_file.flush()

    log(f"{header}")
    setting = tiny_setting() if options.tiny else paper_setting()
    with tempfile.TemporaryDirectory() as folder:
        if "tests" in options.parts:
            figures.add("tests", tests_part(options, log))
        AVSSLLocalizer(setting.localizer).save_pretrained(os.path.join(folder, "localizer"))
        if {"step", "loader"} & set(options.parts):
            start = time.perf_counter()
            generate(os.path.join(folder, "clips"), setting.clips_count, 0, spec=setting.clips)
            log(f"AVSynth for the step and the loader: {time.perf_counter() - start:.1f} s")
            rows = video_folder(os.path.join(folder, "clips"), "train").dataset
        consumed = None
        if "step" in options.parts:
            steps = step_part(setting, rows, folder, device, options, log)
            figures.add("step", steps)
            largest = [run for run in steps.values() if isinstance(run, dict) and "samples_per_second_consumed" in run]
            consumed = max((run["samples_per_second_consumed"] for run in largest), default=None)
        if "loader" in options.parts:
            figures.add("loader", loader_part(setting, rows, folder, device, options, log, consumed))
        if "run" in options.parts:
            figures.add("run", run_part(setting, folder, device, options, log))
    log_file.close()
    return figures.values


if __name__ == "__main__":
    main()
