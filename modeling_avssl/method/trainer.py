"""AVSSLTrainer: the paper's semi-supervised training (Eq. 1-19) as a `transformers.Trainer`.

One step (docs/design.md section 4): a labeled batch of B_l weak views and an unlabeled batch of B_u = r * B_l clips
(weak and strong views of each). The EMA teacher labels the weak views; thresholds pick the trusted pseudo labels
(L_u on the strong views); pairs of strong clips are mixed with an ASL-guided or TubeToken mask and the same lambda
for the audio (L_mix against the mixed teacher distribution); the summary embeddings of the labeled, strong and mixed
clips are contrasted across modalities (L_c). `L = L_s + gamma_u L_u + gamma_mix L_mix + gamma_contrastive L_c`.
"""

import itertools
import json
import logging
import math
import os
import time
from collections import defaultdict
from dataclasses import replace
from functools import partial

import datasets
import evaluate
import numpy as np
import torch
import torch.distributed as dist
import torch.distributed.nn.functional as dist_nn
from torch.nn import functional as F
from torch.utils.data import Dataset
from transformers import Trainer, TrainerCallback
from transformers.trainer_utils import PREFIX_CHECKPOINT_DIR

from ..data.bad_files import BadFileMonitor
from ..data.collation import (
    ClipTransform,
    JointBatches,
    decoder_threads,
    loader_options,
    split_workers,
    to_device,
    training_loader,
)
from ..localizer.modeling_localizer import AVSSLLocalizer
from . import checkpoints
from .evaluation import EvalCache, predict_videos
from .joint_forward import Part, joint_forward
from .losses import contrastive_loss, mix_loss, svformer_mix_loss, unlabeled_loss
from .mixing import asl_guided_mask, maps_to_token_grid, mix_audio, mixing_partners, tube_token_mask, tubelet_means
from .non_finite import FiniteTraining
from .preemption import Preemption
from .schedules import with_lr_steps
from .state import MethodCheckpoints, MethodState
from .teacher import EMATeacher
from .thresholds import FixedThreshold, FlexMatchThresholds, passes
from .training_args import AVSSLTrainingArguments


METRIC_PATH = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "metrics", "video_accuracy")
logger = logging.getLogger(__name__)


class _TeacherFollowsStudent(TrainerCallback):
    """Makes the teacher a copy of the student when the supervised warm-up ends (SVFormer deep-copies the warmed-up
    student) and follows the student after every later optimizer step."""

    def __init__(self, trainer: "AVSSLTrainer"):
        self.trainer = trainer
        self.handed_over = False  # the teacher was just made; its pseudo labels are tested before the next step

    def on_train_begin(self, args, state, control, **kwargs):
        if state.global_step == self.trainer.supervised_warmup_steps == 0:
            self.trainer.evaluate_pseudo_labels()

    def on_step_begin(self, args, state, control, **kwargs):
        if self.handed_over:  # not at the step's end, where its own log has not been written yet
            self.trainer.evaluate_pseudo_labels()
            self.handed_over = False

    def on_step_end(self, args, state, control, **kwargs):
        student = self.trainer.accelerator.unwrap_model(self.trainer.model)
        if state.global_step == self.trainer.supervised_warmup_steps:
            self.trainer.teacher.copy(student)
            self.handed_over = state.global_step < state.max_steps  # else on_train_end tests it
        elif state.global_step > self.trainer.supervised_warmup_steps:
            self.trainer.teacher.update(student)

    def on_train_end(self, args, state, control, **kwargs):
        if not self.trainer.preemption.stopping:
            self.trainer.evaluate_pseudo_labels()


def _every_process(tensor: torch.Tensor) -> torch.Tensor:
    """`tensor` `(b, ...)` of every process, concatenated in rank order, the gradient of each part flowing back to its
    own process (`torch.distributed.nn`'s all_gather sums them there); as is in one process. Every process then
    computes the same L_c over the whole batch, and the data-parallel mean of the gradients is the whole batch's."""
    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() == 1:
        return tensor
    return torch.cat(dist_nn.all_gather(tensor))


class AVSSLTrainer(Trainer):
    """Trains an `AVSSLForVideoClassification` on labeled and unlabeled rows of a source.

    Args:
        model: the student; or none, and `model_init` makes it, as for the Trainer.
        args: `AVSSLTrainingArguments` (required); `per_device_train_batch_size` is B_l.
        labeled, unlabeled: rows `{"index", "label", "video"}` (`data.splits.split_rows`); unlabeled indices must lie
            in `[0, num_unlabeled_indices)`.
        transform: how clips are decoded (its `strong` is set per stream).
        eval_dataset: test rows, evaluated with `eval_clips x eval_crops` views per video.
        num_unlabeled_indices: size of FlexMatch's record (the source's number of samples by default).
        processor: the `AVSSLProcessor`, saved beside the model. (Not the Trainer's `processing_class`, which
            transformers expects to hold a tokenizer when it is a processor.)
        eval_cache: where decoded test views are kept between evaluations (another trainer's, to share them); by
            default a new one of `eval_cache_mb`.
    """

    def __init__(
        self,
        model=None,
        args: AVSSLTrainingArguments | None = None,
        *,
        labeled: Dataset,
        unlabeled: Dataset | datasets.IterableDataset,
        transform: ClipTransform,
        eval_dataset: Dataset | None = None,
        num_unlabeled_indices: int | None = None,
        processor=None,
        eval_cache: EvalCache | None = None,
        **kwargs,
    ):
        if args is None:
            raise TypeError("AVSSLTrainer needs its AVSSLTrainingArguments.")
        self.supervised_warmup_steps = args.supervised_warmup_steps(len(labeled))
        # the Trainer's own copy of `args` (the caller's stays as it is): the run's steps counted, and checkpoints
        # rotated by MethodCheckpoints once the method's files are in them too, not by the Trainer before
        trainer_args = replace(args, max_steps=args.training_steps(len(labeled)), save_total_limit=None)
        super().__init__(model=model, args=trainer_args, eval_dataset=eval_dataset, **kwargs)
        self.labeled, self.unlabeled, self.transform, self.processor = labeled, unlabeled, transform, processor
        self.eval_cache = eval_cache if eval_cache is not None else EvalCache(args.eval_cache_mb * 2**20)
        self.teacher = EMATeacher(self.model, args.ema_decay)  # made anew from the student when the warm-up ends
        self.teacher.model.to(args.device)  # where the Trainer left the student on the CPU (FSDP shards it later)
        num_classes = self.model.config.num_labels
        if args.threshold == "flex":
            if num_unlabeled_indices is None and isinstance(unlabeled, datasets.IterableDataset):
                raise ValueError("FlexMatch over a streamed unlabeled set needs num_unlabeled_indices.")
            size = num_unlabeled_indices if num_unlabeled_indices is not None else max(unlabeled["index"]) + 1
            self.thresholds = FlexMatchThresholds(
                num_classes, size, args.tau, warmup=args.flexmatch_warmup, labeled=labeled["index"]
            )
        else:
            self.thresholds = FixedThreshold(args.tau)
        self.thresholds.to(args.device)
        self.localizer = None
        if args.mask_type == "asl":
            localizer = AVSSLLocalizer.from_pretrained(args.localizer_name_or_path)
            self.localizer = localizer.eval().requires_grad_(False).to(args.device)
            self.transform = replace(transform, localizer_features=localizer.config.audio_features)
        if args.torch_compile:  # accelerate compiles the student; these compile in place, keeping their weights' names
            for module in filter(None, (self.teacher.model, self.localizer)):
                module.compile(backend=args.torch_compile_backend, mode=args.torch_compile_mode)
        self.bad_files = BadFileMonitor(args.max_bad_fraction, args.bad_file_window)
        self.bad_stream_rows: set[tuple[int, int]] = set()  # (epoch, index) of the bad rows of this process's stream
        self.rng = np.random.default_rng([args.seed, args.process_index])
        self.method_state = MethodState(self.teacher, self.thresholds, self.bad_files, self.rng, self.bad_stream_rows)
        self.add_callback(MethodCheckpoints(self.method_state, args.save_total_limit))
        self.start_step = 0  # the streams' first step: the resumed checkpoint's
        self._window: dict[str, list[torch.Tensor]] = defaultdict(list)  # terms and diagnostics since the last log
        self.add_callback(_TeacherFollowsStudent(self))
        self.preemption = Preemption()  # after MethodCheckpoints: it acts once a checkpoint is complete
        self.finite = FiniteTraining(self.preemption)
        self.add_callback(self.finite)
        self.add_callback(self.preemption)

    def train(self, resume_from_checkpoint: str | bool | None = None, **kwargs):
        """`resume_from_checkpoint`: a checkpoint folder, or True / "true" / "latest" for the newest complete one in
        `output_dir`; every file of it is checked before anything is read (`checkpoints.validate`). A checkpoint whose
        writing fails stops the run with a `checkpoints.SaveError`."""
        args = self.args
        folder = checkpoints.resolve(resume_from_checkpoint, args.output_dir)
        if folder is not None:
            checkpoints.validate(
                folder, args.process_index, args.world_size, args.save_only_model, fsdp=self.is_fsdp_enabled
            )
            logger.info("Resuming from %s", folder)
            self.method_state.load(folder, args.process_index)
            with open(os.path.join(folder, "trainer_state.json")) as handle:
                self.start_step = json.load(handle)["global_step"]
        started = time.time()
        try:
            return super().train(resume_from_checkpoint=folder, **kwargs)
        except Exception as error:  # noqa: BLE001 - any failure while this run wrote a checkpoint is a failed save
            saving = os.path.join(args.output_dir, f"{PREFIX_CHECKPOINT_DIR}-{self.state.global_step}")
            if os.path.isdir(saving) and not checkpoints.is_complete(saving) and os.path.getmtime(saving) >= started:
                raise checkpoints.save_failed(saving, error, args.output_dir) from error
            raise

    def _load_from_checkpoint(self, resume_from_checkpoint: str, model=None) -> None:
        """The student's weights through `from_pretrained`, which knows the checkpoint names transformers saves
        under (they differ from the module names for some encoders, e.g. AST), unlike a raw `load_state_dict`."""
        if self.is_fsdp_enabled or self.is_deepspeed_enabled:
            return super()._load_from_checkpoint(resume_from_checkpoint, model)
        model = model if model is not None else self.model
        restored = type(model).from_pretrained(resume_from_checkpoint, dtype=next(model.parameters()).dtype)
        model.load_state_dict(restored.state_dict())

    def get_train_dataloader(self):
        """The labeled and unlabeled streams, from the step a resumed run stopped at, as the model's inputs on the
        device. `dataloader_num_workers` are shared between the streams in proportion to their work
        (`split_workers`), and the cores between the workers' decoders (`decoder_threads`)."""
        args = self.args
        batches_done = self.start_step * args.gradient_accumulation_steps
        labeled_batch = args.per_device_train_batch_size
        if self.learns_from_unlabeled:
            workers = split_workers(args.dataloader_num_workers, labeled_batch, labeled_batch * args.unlabeled_ratio)
        else:
            workers = (args.dataloader_num_workers, 0)
        common = {"rank": args.process_index, "world_size": args.world_size}
        transform = replace(self.transform, decoder_threads=decoder_threads(sum(workers)))
        prepare = partial(self.transform.model_inputs, device=args.device)
        labeled = training_loader(
            self.labeled,
            replace(transform, strong=False),
            labeled_batch,
            args.seed,
            labeled=True,
            start_step=batches_done,
            **common,
            **loader_options(args, workers[0]),
        )
        accounts = {"bad_files": self.bad_files, "bad_rows": self.bad_stream_rows, "sources": self.finite.sources}
        if not self.learns_from_unlabeled:  # the supervised-only baseline decodes no unlabeled clip
            return JointBatches(labeled, itertools.repeat({}), prepare, **accounts)
        warmup_batches = self.supervised_warmup_steps * args.gradient_accumulation_steps
        unlabeled = training_loader(
            self.unlabeled,
            replace(transform, strong=True),
            labeled_batch * args.unlabeled_ratio,
            args.seed + 1,
            labeled=False,
            start_step=max(0, batches_done - warmup_batches),
            bad_rows=self.bad_stream_rows,
            **common,
            **loader_options(args, workers[1]),
        )
        labeled_only = max(0, warmup_batches - batches_done)
        return JointBatches(labeled, unlabeled, prepare, **accounts, labeled_only=labeled_only)

    def evaluate_pseudo_labels(self) -> None:
        """With `pseudo_label_eval`, the teacher's top-1 on every unlabeled clip (map-style sets only), logged as
        `unlabeled_teacher_*`: the pseudo-label accuracy over all unlabeled clips, not only a batch's."""
        streamed = isinstance(self.unlabeled, datasets.IterableDataset)
        if self.args.pseudo_label_eval and self.learns_from_unlabeled and not streamed:
            self.evaluate(self.unlabeled, metric_key_prefix="unlabeled_teacher", teacher=True)

    def create_scheduler(self, num_training_steps: int, optimizer=None):
        """`lr_scheduler_type`'s schedule, times 0.1 for each of `lr_steps` passed (SVFormer's step schedule)."""
        if self.lr_scheduler is None and self.args.lr_steps:
            schedule = super().create_scheduler(num_training_steps, optimizer)
            self.lr_scheduler = with_lr_steps(schedule, [round(f * num_training_steps) for f in self.args.lr_steps])
        return super().create_scheduler(num_training_steps, optimizer)

    @property
    def preempted(self) -> bool:
        """Training was stopped early by a stop signal (`preemption.py`), with a checkpoint of its last step."""
        return self.preemption.stopping

    @property
    def learns_from_unlabeled(self) -> bool:
        """False for the supervised-only baseline: every semi-supervised term has weight 0."""
        args = self.args
        return any((args.gamma_u, args.gamma_mix, args.gamma_contrastive))

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        """Eq. 19 on one micro-batch (`step`); its terms and diagnostics join the logging window (on the device, read
        when the log is written), and its terms the non-finite check before the optimizer step, which stops the run
        naming the step and the batch's files (`JointBatches` accounts for the files as it reads them)."""
        loss, supervised, terms, diagnostics = self.step(model, inputs["labeled"], inputs["unlabeled"])
        self.finite.watch(terms)
        for name, value in {**diagnostics, **terms}.items():
            self._window[name].append(value.detach())
        return (loss, supervised) if return_outputs else loss

    def step(self, model, labeled: dict, unlabeled: dict) -> tuple[torch.Tensor, object, dict, dict]:
        """`L = L_s + gamma_u L_u + gamma_mix L_mix + gamma_contrastive L_c` (Eq. 19) of a labeled and an unlabeled
        batch; the semi-supervised terms only after the warm-up. The teacher labels the weak views and the mixing
        is drawn first; then the student sees the labeled, strong and mixed clips in one forward (`joint_forward`).
        Returns the loss, the student's output on the labeled batch, each term (0-d) and the diagnostics (0-d, or by
        class), all tensors on the device."""
        args, config = self.args, self.accelerator.unwrap_model(model).config
        parts = [Part(labeled["pixel_values"], self._audio(labeled, "input_values"))]
        semi_supervised = self.state.global_step >= self.supervised_warmup_steps and "index" in unlabeled
        diagnostics = {}
        if semi_supervised:
            probs, mask, thresholds, diagnostics = self._pseudo_labels(unlabeled)
            strong_audio = self._audio(unlabeled, "strong_input_values")
            parts.append(Part(unlabeled["strong_pixel_values"], strong_audio))
            if args.mask_type != "none":
                lam, partner, token_mask = self._mixing(unlabeled, config)
                mixed_audio = mix_audio(strong_audio, partner, lam) if strong_audio is not None else None
                parts.append(Part(unlabeled["strong_pixel_values"], mixed_audio, (token_mask, partner)))
                diagnostics["lambda"] = lam.mean()
        outputs = joint_forward(model, parts)
        supervised = outputs[0]
        supervised.loss = F.cross_entropy(supervised.logits, labeled["labels"])
        terms = {"loss_s": supervised.loss}
        if semi_supervised:
            terms["loss_u"] = unlabeled_loss(outputs[1].logits, probs.argmax(dim=-1), mask)
            if args.mask_type != "none":
                mixed = outputs[2].logits
                if args.mix_loss == "svformer":
                    terms["loss_mix"] = svformer_mix_loss(mixed, probs, mask, partner, lam)
                else:
                    target = lam[:, None] * probs + (1 - lam[:, None]) * probs[partner]
                    terms["loss_mix"] = mix_loss(mixed, target, passes(target, thresholds))  # L_u's thresholds
            if config.is_audio_visual:
                video_embeds = torch.cat([output.video_embeds for output in outputs])
                audio_embeds = torch.cat([output.audio_embeds for output in outputs])
                if args.contrastive_negatives == "global":
                    video_embeds, audio_embeds = _every_process(video_embeds), _every_process(audio_embeds)
                terms["loss_c"] = contrastive_loss(video_embeds, audio_embeds, args.contrastive_temperature)
        weights = {"loss_u": args.gamma_u, "loss_mix": args.gamma_mix, "loss_c": args.gamma_contrastive}
        loss = terms["loss_s"]
        for name, weight in weights.items():
            if name in terms and weight:
                loss = loss + weight * terms[name]
        return loss, supervised, terms, diagnostics

    def _audio(self, batch: dict, key: str) -> torch.Tensor | None:
        """The batch's audio features under `key`, or None for a video-only model."""
        return batch[key] if self.teacher.model.config.is_audio_visual else None

    def _pseudo_labels(
        self, unlabeled: dict
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, dict[str, torch.Tensor]]:
        """The teacher's distributions `(B_u, classes)` on the weak views, the mask `(B_u,)` of those passing their
        class thresholds, those thresholds (the step's one set, before FlexMatch records the batch), and the
        diagnostics: how many pass, how many of all and of those (NaN when none passes) are right on the hidden
        labels, the class thresholds' range (0-d tensors), and by class `(classes,)` the clips of each hidden label,
        how many of them were pseudo-labeled right and each class's threshold."""
        with self.accelerator.autocast():  # the student's precision (accelerate wraps only the student's forward)
            logits = self.teacher(unlabeled["pixel_values"], self._audio(unlabeled, "input_values")).logits
        probs = logits.float().softmax(dim=-1)
        thresholds = self.thresholds.class_thresholds()  # those this batch is masked with, before it is recorded
        mask = self.thresholds.mask(probs, unlabeled["index"])
        hidden = unlabeled["hidden_labels"]
        correct = (probs.argmax(dim=-1) == hidden).float()
        classes = torch.zeros(probs.shape[-1], device=probs.device)
        diagnostics = {
            "above_threshold": mask.mean(),
            "pseudo_label_accuracy": correct.mean(),
            "pseudo_label_accuracy_above_threshold": (correct * mask).sum() / mask.sum(),
            "threshold_min": thresholds.min(),
            "threshold_mean": thresholds.mean(),
            "threshold_max": thresholds.max(),
            "pseudo_labels_right_by_class": classes.index_add(0, hidden, correct),
            "unlabeled_by_class": classes.index_add(0, hidden, torch.ones_like(correct)),
            "threshold_by_class": thresholds.expand_as(classes),
        }
        return probs, mask, thresholds, diagnostics

    def _mixing(self, unlabeled: dict, config) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """lambda `(B,)`, the partner permutation `(B,)` and the token mask `(B, N)` of one mixed batch, on the
        batch's device; all drawn from this process's own generator, which checkpoints carry (the mask from a device
        generator it seeds)."""
        args = self.args
        frames = unlabeled["strong_pixel_values"]
        batch, device = len(frames), frames.device
        a, b = args.beta_parameters
        lam = to_device(torch.from_numpy(self.rng.beta(a, b, size=batch)).float(), device)
        partner = to_device(torch.from_numpy(mixing_partners(batch, self.rng)), device)
        generator = torch.Generator(device).manual_seed(int(self.rng.integers(2**62)))
        slots, height, width = config.video_token_grid
        if args.mask_type == "tube":
            token_mask = tube_token_mask(batch, slots, height, width, lam, generator)
        else:
            maps = self._localization_maps(unlabeled, tubelet=frames.shape[1] // slots)
            grid_maps = maps_to_token_grid(maps, len(maps[0]) // slots, (height, width))
            token_mask = asl_guided_mask(grid_maps, lam, args.asl_window, generator)
        return lam, partner, token_mask

    @torch.no_grad()
    def _localization_maps(self, unlabeled: dict, tubelet: int) -> torch.Tensor:
        """The localizer's maps `(B, T', h, w)` of the strong views: of every frame (`asl_map_frames="every"`,
        T' = T) or of each tubelet's frames averaged (`"tubelet"`, T' = T / tubelet), resized to the localizer's
        input size, with the clips' own audio."""
        frames = unlabeled["strong_pixel_values"]
        if self.args.asl_map_frames == "tubelet":
            frames = tubelet_means(frames, tubelet)
        size, dtype = self.localizer.config.image_size, self.localizer.dtype
        resized = F.interpolate(frames.flatten(0, 1).float(), size=(size, size), mode="bilinear", align_corners=False)
        spectrogram = unlabeled["localizer_spectrogram"].to(dtype)
        with self.accelerator.autocast():
            return self.localizer(resized.unflatten(0, frames.shape[:2]).to(dtype), spectrogram).maps.float()

    def log(self, logs: dict[str, float], start_time: float | None = None) -> None:
        """The Trainer's log, with the training log's the means of the terms and diagnostics since the last one (a
        mean over the steps where it is defined; NaN where it is not, as the accuracy of no pseudo label). The
        per-class series, each class's pseudo-label accuracy and threshold over the window, join the log history
        (`trainer_state.json`) after the trackers, which take scalars, got the rest."""
        by_class = {}
        if "loss" in logs:
            if self._window:
                means = {name: torch.stack(values).float().nanmean(0) for name, values in self._window.items()}
                values = iter(torch.cat([mean.reshape(-1) for mean in means.values()]).tolist())  # one device read
                for name, mean in means.items():
                    read = [next(values) for _ in range(mean.numel())]
                    if name.endswith("_by_class"):
                        by_class[name] = read
                    elif not math.isnan(read[0]):
                        logs[name] = round(read[0], 4)
            if self.bad_files.skipped:
                logs["bad_files"] = self.bad_files.skipped
            self._window.clear()
        super().log(logs, start_time)
        if by_class:
            classes = self.teacher.model.config.class_names
            right, seen = by_class["pseudo_labels_right_by_class"], by_class["unlabeled_by_class"]
            self.state.log_history[-1].update(
                pseudo_label_accuracy_by_class={
                    name: round(r / n, 4) if n else None for name, r, n in zip(classes, right, seen)
                },
                threshold_by_class={name: round(t, 4) for name, t in zip(classes, by_class["threshold_by_class"])},
            )

    def save_model(self, output_dir: str | None = None, _internal_call: bool = False) -> None:
        """The student (the teacher with `export_teacher`, except in checkpoints) and the processor. Never pushed, as
        the Trainer pushes a model saved outside a checkpoint (with its own card): `run/hub.py` pushes the finished
        folder once."""
        output_dir = output_dir or self.args.output_dir
        if _internal_call or not self.args.export_teacher:
            super().save_model(output_dir, _internal_call=True)
        elif self.args.should_save:
            self.teacher.model.save_pretrained(output_dir)
        if self.args.should_save and self.processor is not None:
            self.processor.save_pretrained(output_dir)

    def evaluate(
        self, eval_dataset=None, ignore_keys=None, metric_key_prefix: str = "eval", teacher: bool | None = None
    ) -> dict[str, float]:
        """Multi-view test protocol (`evaluation.py`, docs/design.md 5.11): the softmax averaged over
        `eval_clips x eval_crops` views of each video, the views of `per_device_eval_batch_size` videos in one
        forward; through the `video_accuracy` metric top-1, top-5, the expected calibration error (`ece`) and its
        `reliability` bins, the `per_class_accuracy` by class name and the `confusion_matrix`. Videos that cannot be
        decoded are counted and left out. `teacher` chooses the model (by default the one `save_model` saves). Logs
        the scalar metrics and calls the callbacks' `on_evaluate` with all of them, as the Trainer's does."""
        rows = eval_dataset if eval_dataset is not None else self.eval_dataset
        args = self.args
        teacher = args.export_teacher if teacher is None else teacher
        model = self.teacher.model if teacher else self.accelerator.unwrap_model(self.model)
        model.eval()
        lockstep = self.is_fsdp_enabled and not teacher  # the teacher is whole on every process
        progress = not args.disable_tqdm and self.is_local_process_zero()
        with self.accelerator.autocast():
            predictions, references, skipped = predict_videos(
                model, rows, self.transform, args, self.eval_cache, lockstep, progress
            )
        self.model.train()
        metric = evaluate.load(METRIC_PATH)
        scores = metric.compute(predictions=predictions, references=references) if predictions else {}
        if scores:
            scores["per_class_accuracy"] = dict(zip(model.config.class_names, scores["per_class_accuracy"]))
        metrics = {f"{metric_key_prefix}_{name}": value for name, value in scores.items()}
        metrics[f"{metric_key_prefix}_videos"] = len(predictions)
        metrics[f"{metric_key_prefix}_skipped"] = skipped
        self.log({name: value for name, value in metrics.items() if isinstance(value, (int, float))})  # trackers
        self.control = self.callback_handler.on_evaluate(args, self.state, self.control, metrics)
        return metrics
