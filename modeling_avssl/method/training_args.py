"""`AVSSLTrainingArguments`: the Trainer's arguments plus the method's (thresholds, mixing, loss weights, the
teacher, the warm-up, evaluation views, bad files)."""

import math
import os
from dataclasses import dataclass, field

from transformers import TrainingArguments


@dataclass
class AVSSLTrainingArguments(TrainingArguments):
    """`TrainingArguments` plus the method's knobs (docs/design.md section 5; defaults from item 10, including SGD with
    momentum 0.9 and weight decay 1e-3 for 50 epochs).

    The streams resume exactly by themselves, so `ignore_data_skip` is always on (the Trainer must not skip batches
    of them again).
    """

    do_train: bool = field(default=True, metadata={"help": "train; false: only test `model_name_or_path`"})
    do_eval: bool = field(default=True, metadata={"help": "test the trained model with the multi-view protocol"})
    overwrite_output_dir: bool = field(
        default=False,
        metadata={
            "help": "start over in an output_dir that holds an earlier run's checkpoints, deleting them; without it "
            "the run goes on from the newest complete one (transformers' run_*.py contract)"
        },
    )
    optim: str = field(default="sgd", metadata={"help": "the paper trains with SGD"})
    optim_args: str | None = field(default="momentum=0.9", metadata={"help": "SGD's momentum"})
    weight_decay: float = field(default=1e-3)
    logging_nan_inf_filter: bool = field(
        default=False,
        metadata={
            "help": "the Trainer's filter of non-finite losses; off, since a non-finite loss stops the run "
            "(method/non_finite.py), and the filter makes the host wait for the device at every step"
        },
    )
    num_train_epochs: float = field(
        default=50.0,
        metadata={"help": "passes over the labeled set while the unlabeled stream cycles (SVFormer's epoch)"},
    )
    global_train_batch_size: int | None = field(
        default=None,
        metadata={
            "help": "labeled clips per optimizer step over all processes (SVFormer: 8); sets "
            "per_device_train_batch_size to it / (processes x gradient_accumulation_steps)"
        },
    )
    lr_reference_batch_size: int | None = field(
        default=None,
        metadata={
            "help": "the global labeled batch learning_rate is meant for: it is scaled linearly to the real one "
            "(SVFormer: 0.005 at 8)"
        },
    )
    lr_steps: list[float] | None = field(
        default=None,
        metadata={
            "help": "fractions of all steps at which the learning rate drops tenfold, on top of lr_scheduler_type "
            "(SVFormer's step schedule: constant, dropping at epochs 25 and 28 of 30, i.e. 0.8333 0.9333); 1, the "
            "end of the run, drops nothing"
        },
    )

    unlabeled_ratio: int = field(
        default=5, metadata={"help": "unlabeled clips per labeled clip in a batch (B_u / B_l)"}
    )
    gamma_u: float = field(default=2.0, metadata={"help": "weight of L_u, the pseudo-label loss"})
    gamma_mix: float = field(default=2.0, metadata={"help": "weight of L_mix, the mixup consistency loss"})
    gamma_contrastive: float = field(
        default=0.2, metadata={"help": "weight of L_c, the audio-visual contrastive loss"}
    )
    threshold: str = field(default="flex", metadata={"help": "fixed (FixMatch) or flex (FlexMatch)"})
    tau: float = field(default=0.3, metadata={"help": "confidence threshold (FlexMatch's upper threshold)"})
    flexmatch_warmup: bool = field(
        default=True,
        metadata={
            "help": "FlexMatch's threshold warm-up: the unused unlabeled clips count in the normaliser, which keeps "
            "every threshold near 0 until most clips have been confidently predicted once"
        },
    )
    mask_type: str = field(default="asl", metadata={"help": "none, tube (TubeToken) or asl (ASL-guided)"})
    mix_beta: list[float] = field(
        default_factory=lambda: [5.0, 10.0],
        metadata={"help": "Beta(a, b) of the mixing lambda; one value a means Beta(a, a)"},
    )
    mix_loss: str = field(
        default="probabilities",
        metadata={
            "help": "probabilities (Eq. 10: squared error of the student's probabilities to the mixed teacher "
            "distribution, masked by its confidence) or svformer (hard targets where confident, MSE on logits)"
        },
    )
    asl_window: int = field(default=1, metadata={"help": "adjacent temporal slots sharing one ASL mask (1, 2, 4, 8)"})
    asl_map_frames: str = field(
        default="tubelet",
        metadata={
            "help": "tubelet (one localization map per tubelet, of its frames' mean: 1 / tubelet_size of the "
            "localizer's visual cost) or every (a map of every frame, averaged over each tubelet)"
        },
    )
    ema_decay: float = field(default=0.99, metadata={"help": "decay of the EMA teacher"})
    contrastive_temperature: float = field(default=0.05, metadata={"help": "temperature of L_c"})
    contrastive_negatives: str = field(
        default="global",
        metadata={
            "help": "global: L_c contrasts the clips of every process (K is the whole batch, gathered with their "
            "gradients), as one process with the whole batch does, whatever the number of processes; local: the "
            "clips of each process alone"
        },
    )
    supervised_warmup_epochs: float = field(
        default=0.0,
        metadata={"help": "epochs of L_s alone; the teacher is then made from the student, as SVFormer does"},
    )
    localizer_name_or_path: str | None = field(default=None, metadata={"help": "AVSSLLocalizer for mask_type=asl"})
    eval_clips: int = field(default=5, metadata={"help": "temporal clips per test video"})
    eval_crops: int = field(default=3, metadata={"help": "spatial crops per test clip"})
    export_teacher: bool = field(default=False, metadata={"help": "save (and evaluate) the teacher, not the student"})
    eval_cache_mb: int = field(
        default=0,
        metadata={
            "help": "keep the decoded views of a (map-style) test set that fits in this many MB in memory for the "
            "run's later evaluations, the supervised-only baseline's included"
        },
    )
    pseudo_label_eval: bool = field(
        default=False,
        metadata={
            "help": "test the teacher on every unlabeled clip (hidden labels, test views) when the semi-supervised "
            "phase begins and when training ends: `unlabeled_teacher_top1` in the log"
        },
    )
    max_bad_fraction: float = field(default=0.1, metadata={"help": "stop when more bad files than this in a window"})
    bad_file_window: int = field(default=500, metadata={"help": "samples over which max_bad_fraction is measured"})

    def __post_init__(self):
        super().__post_init__()
        self.ignore_data_skip = True
        if self.run_name is None:  # one tracker run per output folder, so that the tests after training join it
            self.run_name = os.path.basename(os.path.normpath(self.output_dir))
        choices = {
            "threshold": ("fixed", "flex"),
            "mask_type": ("none", "tube", "asl"),
            "mix_loss": ("probabilities", "svformer"),
            "asl_map_frames": ("every", "tubelet"),
            "contrastive_negatives": ("global", "local"),
        }
        for name, allowed in choices.items():
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name} must be one of {allowed}, got {getattr(self, name)!r}")
        if len(self.mix_beta) not in (1, 2):
            raise ValueError(f"mix_beta takes one or two values, got {self.mix_beta}")
        if self.mask_type == "asl" and not self.localizer_name_or_path:
            raise ValueError("mask_type='asl' needs localizer_name_or_path (an AVSSLLocalizer).")
        if self.lr_steps and not all(0 < step <= 1 for step in self.lr_steps):
            raise ValueError(f"lr_steps are fractions of the run in (0, 1], got {self.lr_steps}")
        processes = self.world_size * self.gradient_accumulation_steps
        if self.global_train_batch_size is not None:
            if self.global_train_batch_size % processes:
                raise ValueError(
                    f"global_train_batch_size {self.global_train_batch_size} does not split over {self.world_size} "
                    f"processes x {self.gradient_accumulation_steps} accumulation steps."
                )
            self.per_device_train_batch_size = self.global_train_batch_size // processes
        if self.lr_reference_batch_size is not None:
            # linear scaling (Goyal et al. 2017); the reference becomes the real batch, so that scaling again (e.g.
            # after `dataclasses.replace`) changes nothing
            real = self.per_device_train_batch_size * processes
            self.learning_rate *= real / self.lr_reference_batch_size
            self.lr_reference_batch_size = real

    @property
    def beta_parameters(self) -> tuple[float, float]:
        """(a, b) of the mixing lambda's Beta distribution; one `mix_beta` value a means Beta(a, a)."""
        a, b = (self.mix_beta * 2)[:2]
        return a, b

    def steps_per_epoch(self, num_labeled: int) -> int:
        """Optimizer steps in SVFormer's epoch: one pass over `num_labeled` labeled clips (a DistributedSampler's
        ceil(N_l / global batch) batches a process), however many unlabeled clips there are."""
        batches = math.ceil(num_labeled / (self.per_device_train_batch_size * self.world_size))
        return math.ceil(batches / self.gradient_accumulation_steps)

    def training_steps(self, num_labeled: int) -> int:
        """The run's optimizer steps: `max_steps`, or where it is not set `num_train_epochs` of SVFormer's epochs."""
        if self.max_steps > 0:
            return self.max_steps
        return math.ceil(self.num_train_epochs * self.steps_per_epoch(num_labeled))

    def supervised_warmup_steps(self, num_labeled: int) -> int:
        """The steps of L_s alone before the teacher is made: `supervised_warmup_epochs` of SVFormer's epochs."""
        return round(self.supervised_warmup_epochs * self.steps_per_epoch(num_labeled))
