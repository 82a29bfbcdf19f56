"""Semi-supervised audio-visual action recognition with ASL-guided mixup: one script, one or many processes.

    accelerate launch train_avssl.py [CONFIG.yaml ...] [--any_argument value ...]

Without any argument it runs `configs/avsynth.yaml`, the embedded default. Every field of `ModelArguments`,
`DataArguments`, `StageArguments` and `AVSSLTrainingArguments` can be set in config files (a data set's, then a
variant's) and overridden on the command line. The run draws (or reuses) the labeled split, trains the localizer
if ASL mixup needs one that is not there yet, trains, evaluates with the multi-view protocol, and saves the model
(the student, or the teacher with `--export_teacher`), its processor, the remote code, a model card, the loss
curves and a picture of the masks to `output_dir`; `--push_to_hub` pushes that folder.
"""

import json
import logging
import os
import sys
import time

import torch.distributed as dist
from transformers import set_seed

from modeling_avssl.data.collation import ClipTransform
from modeling_avssl.data.splits import hold_out, load_or_create_split, source_labels, split_rows
from modeling_avssl.localizer.training import prepare_localizer
from modeling_avssl.method.trainer import AVSSLTrainer
from modeling_avssl.run.arguments import parse_arguments
from modeling_avssl.run.baseline import supervised_baseline
from modeling_avssl.run.components import build_model, load_data, processor_for, spread_subset
from modeling_avssl.run.model_card import write_model_card
from modeling_avssl.run.summary import MasksToTrackers, save_pictures, summary


logger = logging.getLogger("train_avssl")
DEFAULT_CONFIG = os.path.join(os.path.dirname(os.path.abspath(__file__)), "configs", "avsynth.yaml")


def main(argv: list[str]) -> AVSSLTrainer:
    """Trains, evaluates and saves as the arguments say; returns the trainer (the process group stays up)."""
    model_args, data_args, stages, training_args = parse_arguments(argv or [DEFAULT_CONFIG])
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s", level=logging.INFO)
    set_seed(training_args.seed)
    timings, start = {}, time.perf_counter()
    with training_args.main_process_first(desc="data"):
        train_source, eval_source = load_data(data_args)
        manifest = data_args.split_manifest or os.path.join(training_args.output_dir, "labeled_split.json")
        labels = (lambda: source_labels(train_source)) if train_source.streaming else train_source.dataset["label"]
        split = load_or_create_split(manifest, labels, train_source.classes, data_args.shots, data_args.split_seed)
        labeled, unlabeled = split_rows(train_source, split, os.path.join(training_args.output_dir, "labeled_cache"))
    eval_rows = eval_source.dataset
    if data_args.validation_samples:
        unlabeled, eval_rows = hold_out(unlabeled, data_args.validation_samples, data_args.split_seed)
        logger.info("Evaluating on %d unlabeled training clips held out for validation", len(eval_rows))
    model = build_model(model_args, train_source.classes)
    num_frames = model.config.video_input_shape[0]
    timings["data"] = time.perf_counter() - start
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
    trainer = AVSSLTrainer(model=model, args=training_args, **trainer_inputs)
    if {"tensorboard", "trackio"} & set(training_args.report_to):
        trainer.add_callback(MasksToTrackers(trainer, eval_rows, num_frames // 2))
    unlabeled_count = "streamed" if train_source.streaming else len(unlabeled)
    logger.info("%d labeled and %s unlabeled clips of %d classes", len(labeled), unlabeled_count, len(split.classes))
    trainer.train(resume_from_checkpoint=training_args.resume_from_checkpoint)
    tests = [
        entry["unlabeled_teacher_top1"] for entry in trainer.state.log_history if "unlabeled_teacher_top1" in entry
    ]
    metrics = {"unlabeled_teacher_top1_start": tests[0], "unlabeled_teacher_top1_end": tests[-1]} if tests else {}
    tested = eval_source.streaming or len(eval_rows) > 0
    if tested:
        metrics.update(trainer.evaluate())
        if trainer.learns_from_unlabeled:  # the model that is not saved, beside it
            other = "student" if training_args.export_teacher else "teacher"
            metrics.update(trainer.evaluate(metric_key_prefix=other, teacher=other == "teacher"))
    timings["training"] = time.perf_counter() - start - sum(timings.values())
    logger.info("%s", trainer.bad_files.summary())
    if stages.supervised_baseline and tested:
        metrics.update(
            supervised_baseline(
                model_args,
                training_args,
                train_source.classes,
                stages.oracle_eval_steps,
                eval_cache=trainer.eval_cache,  # the test views the run decoded
                **trainer_inputs,
            )
        )
        timings["supervised baseline"] = time.perf_counter() - start - sum(timings.values())
    trainer.save_model(training_args.output_dir)
    trainer.save_state()  # trainer_state.json: the log of every term and diagnostic
    if trainer.is_world_process_zero():
        write_model_card(trainer, model_args, data_args, split, metrics)
        with open(os.path.join(training_args.output_dir, "eval_results.json"), "w") as handle:
            json.dump(metrics, handle, indent=1)
        pictures = save_pictures(trainer, eval_rows, num_frames // 2)
        evaluated_on = "validation" if data_args.validation_samples else "test"
        print(summary(metrics, training_args, len(split.classes), timings, pictures, evaluated_on))
    if training_args.push_to_hub:
        trainer.push_to_hub()
    return trainer


if __name__ == "__main__":
    main(sys.argv[1:])
    if dist.is_available() and dist.is_initialized():  # gloo runs can abort at exit with the group still up
        dist.barrier()
        dist.destroy_process_group()
