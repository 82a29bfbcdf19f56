"""Semi-supervised audio-visual action recognition with ASL-guided mixup: one script, one or many processes.

    accelerate launch train_avssl.py [CONFIG.yaml ...] [--any_argument value ...]

Without any argument it runs `configs/avsynth.yaml`, the embedded default. Every field of `ModelArguments`,
`DataArguments`, `StageArguments` and `AVSSLTrainingArguments` can be set in config files (a data set's, then a
variant's) and overridden on the command line. The run draws (or reuses) the labeled split, trains the localizer
if ASL mixup needs one that is not there yet, trains, evaluates with the multi-view protocol, and saves the model
(the student, or the teacher with `--export_teacher`), its processor, the remote code, a model card and the run's
pictures (loss curves, pseudo labels by class, the test's confusion matrix and reliability diagram, the masks) to
`output_dir`; `--push_to_hub` pushes that folder. The metrics go to `train_results.json`, `eval_results.json` and
`all_results.json` (`Trainer.save_metrics`).

    python train_avssl.py CONFIG.yaml --model_name_or_path FOLDER_OR_HUB_ID --do_train false

evaluates a trained model with the multi-view protocol and writes its reports to `output_dir` without training;
`--do_eval false` trains without testing.

One run holds an output folder at a time. A run into a folder with a complete checkpoint goes on from the newest one
(`--overwrite_output_dir` starts over); so SIGTERM or SIGUSR1 (a scheduler's preemption), which stops training after
the current step with a complete checkpoint and exits with code 75 (`PREEMPTED_EXIT_CODE`), is followed by the same
command.
"""

import logging
import os
import sys
import time
from contextlib import nullcontext
from dataclasses import replace
from functools import partial

import torch.distributed as dist
from transformers import set_seed

from modeling_avssl.data.collation import ClipTransform
from modeling_avssl.data.splits import hold_out, load_or_create_split, source_labels, split_rows
from modeling_avssl.method.checkpoints import SaveError, save_failed
from modeling_avssl.method.preemption import PREEMPTED_EXIT_CODE, Preempted
from modeling_avssl.method.trainer import AVSSLTrainer
from modeling_avssl.method.training_args import AVSSLTrainingArguments
from modeling_avssl.run import hub, output_folder
from modeling_avssl.run.arguments import DataArguments, ModelArguments, StageArguments, parse_arguments
from modeling_avssl.run.baseline import supervised_baseline
from modeling_avssl.run.components import build_model, load_data, processor_for, spread_subset, trained_model
from modeling_avssl.run.localizer_stage import prepare_localizer
from modeling_avssl.run.model_card import write_model_card
from modeling_avssl.run.summary import MasksToTrackers, save_pictures, summary, write_listed_clips


logger = logging.getLogger("train_avssl")
DEFAULT_CONFIG = os.path.join(os.path.dirname(os.path.abspath(__file__)), "configs", "avsynth.yaml")


def train(trainer: AVSSLTrainer, resume_from_checkpoint: str | bool | None) -> dict[str, float]:
    """Trains and saves the model, `train_results.json` and `trainer_state.json` (the log of every term and
    diagnostic); returns the teacher's top-1 on all unlabeled clips at the start and the end of the semi-supervised
    phase, when `pseudo_label_eval` tested it. Raises `Preempted` when a stop signal ended training early, and
    `SaveError` when a checkpoint or the model cannot be written."""
    result = trainer.train(resume_from_checkpoint=resume_from_checkpoint)
    if trainer.preempted:
        raise Preempted("training was preempted")
    try:
        trainer.save_model()
        trainer.save_metrics("train", result.metrics)
        trainer.save_state()
    except Exception as error:  # noqa: BLE001 - a full disk is not an OSError for every writer
        raise save_failed(trainer.args.output_dir, error, trainer.args.output_dir) from error
    tests = [
        entry["unlabeled_teacher_top1"] for entry in trainer.state.log_history if "unlabeled_teacher_top1" in entry
    ]
    return {"unlabeled_teacher_top1_start": tests[0], "unlabeled_teacher_top1_end": tests[-1]} if tests else {}


def main(argv: list[str]) -> AVSSLTrainer:
    """Trains, evaluates and saves as the arguments say, holding the output folder for the whole run (a second run
    on it refuses at start); returns the trainer (the process group stays up)."""
    model_args, data_args, stages, training_args = parse_arguments(argv or [DEFAULT_CONFIG])
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s", level=logging.INFO)
    main_process = training_args.process_index == 0
    with output_folder.held(training_args.output_dir) if main_process else nullcontext():
        if training_args.do_train and training_args.push_to_hub and main_process:  # before anything is trained
            args = training_args
            hub.check_repository(args.hub_model_id, args.output_dir, args.hub_token, args.hub_private_repo)
        training_args.resume_from_checkpoint = output_folder.resume_point(
            training_args.output_dir,
            training_args.resume_from_checkpoint,
            training_args.overwrite_output_dir,
            main_process,
        )
        return run(model_args, data_args, stages, training_args)


def run(
    model_args: ModelArguments, data_args: DataArguments, stages: StageArguments, training_args: AVSSLTrainingArguments
) -> AVSSLTrainer:
    """The run `main` holds the output folder for."""
    set_seed(training_args.seed)
    timings, start = {}, time.perf_counter()
    with training_args.main_process_first(desc="data"):
        train_source, eval_source = load_data(data_args)
        manifest = data_args.split_manifest or os.path.join(training_args.output_dir, "labeled_split.json")
        labels = (lambda: source_labels(train_source)) if train_source.streaming else train_source.dataset["label"]
        split = load_or_create_split(manifest, labels, train_source.classes, data_args.shots, data_args.split_seed)
        labeled, unlabeled = split_rows(train_source, split, os.path.join(training_args.output_dir, "labeled_cache"))
    listed = {
        role: source.listed
        for role, source in (("train", train_source), ("test", eval_source))
        if source.listed is not None
    }
    if listed and training_args.process_index == 0:
        write_listed_clips(training_args.output_dir, listed)
    eval_rows = eval_source.dataset
    if data_args.validation_samples:
        unlabeled, eval_rows = hold_out(unlabeled, data_args.validation_samples, data_args.split_seed)
        logger.info("Evaluating on %d unlabeled training clips held out for validation", len(eval_rows))
    if training_args.do_train:
        model = build_model(model_args, train_source.classes)
    else:
        model = trained_model(model_args, train_source.classes)
    num_frames = model.config.video_input_shape[0]
    timings["data"] = time.perf_counter() - start
    if training_args.do_train:
        prepare_localizer(stages, training_args, unlabeled, num_frames)
        timings["localizer"] = time.perf_counter() - start - sum(timings.values())
    set_seed(training_args.seed)
    processor = processor_for(model.config, data_args.frame_stride)
    transform = ClipTransform.from_processor(processor, num_frames, True, **data_args.augmentation)
    if data_args.max_eval_samples is not None:
        eval_rows = spread_subset(eval_rows, data_args.max_eval_samples)
    trainer_inputs = dict(
        labeled=labeled,
        unlabeled=unlabeled,
        transform=transform,
        eval_dataset=eval_rows,
        num_unlabeled_indices=split.num_samples,
        processor=processor,
    )
    # a model only tested needs no mixing, so no localizer
    args = training_args if training_args.do_train else replace(training_args, mask_type="none")
    trainer = AVSSLTrainer(model=model, args=args, **trainer_inputs)
    if {"tensorboard", "trackio"} & set(training_args.report_to):
        trainer.add_callback(MasksToTrackers(trainer, eval_rows, num_frames // 2))
    unlabeled_count = "streamed" if train_source.streaming else len(unlabeled)
    logger.info("%d labeled and %s unlabeled clips of %d classes", len(labeled), unlabeled_count, len(split.classes))
    metrics = train(trainer, training_args.resume_from_checkpoint) if training_args.do_train else {}
    tested = training_args.do_eval and (eval_source.streaming or len(eval_rows) > 0)
    if tested:
        metrics.update(trainer.evaluate())
        if training_args.do_train and trainer.learns_from_unlabeled:  # the model that is not saved, beside it
            other = "student" if training_args.export_teacher else "teacher"
            metrics.update(trainer.evaluate(metric_key_prefix=other, teacher=other == "teacher"))
    timings["training" if training_args.do_train else "test"] = time.perf_counter() - start - sum(timings.values())
    logger.info("%s", trainer.bad_files.summary())
    if training_args.do_train and stages.supervised_baseline and tested:
        metrics.update(
            supervised_baseline(
                partial(build_model, model_args, train_source.classes),
                training_args,
                stages.oracle_eval_steps,
                eval_cache=trainer.eval_cache,  # the test views the run decoded
                **trainer_inputs,
            )
        )
        timings["supervised baseline"] = time.perf_counter() - start - sum(timings.values())
    if metrics:
        trainer.save_metrics("eval", metrics)
    if trainer.is_world_process_zero():
        if training_args.do_train:
            write_model_card(trainer, model_args, data_args, split, metrics, listed)
        pictures = save_pictures(trainer, eval_rows, num_frames // 2, metrics)
        evaluated_on = "validation" if data_args.validation_samples else "test"
        classes = len(split.classes)
        print(summary(metrics, training_args, classes, timings, pictures, evaluated_on, args.do_train, listed))
    if training_args.do_train and training_args.push_to_hub:
        hub.push(trainer)
    return trainer


if __name__ == "__main__":
    try:
        main(sys.argv[1:])
        exit_code = 0
    except Preempted as stop:  # every process stopped at the same step, with a checkpoint (logged)
        logger.warning("%s; exiting with code %d", stop, PREEMPTED_EXIT_CODE)
        exit_code = PREEMPTED_EXIT_CODE
    except (SaveError, output_folder.OutputFolderInUse) as error:  # the launcher stops the other processes
        logger.error("%s", error)
        sys.exit(1)
    except hub.HubUnavailable as error:
        logger.error("%s", error)
        if not error.saved:  # refused at the start: the launcher stops the other processes
            sys.exit(1)
        exit_code = 1  # the push failed once everything was saved
    if dist.is_available() and dist.is_initialized():  # gloo runs can abort at exit with the group still up
        dist.barrier()
        dist.destroy_process_group()
    sys.exit(exit_code)
