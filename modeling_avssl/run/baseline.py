"""The supervised-only baseline of a run: the same model, labels, steps and seed, no semi-supervised term."""

import os
from collections.abc import Callable
from dataclasses import replace

from transformers import PreTrainedModel

from ..method import checkpoints
from ..method.preemption import Preempted
from ..method.trainer import AVSSLTrainer
from ..method.training_args import AVSSLTrainingArguments


def supervised_baseline(
    model_init: Callable[[], PreTrainedModel],
    training_args: AVSSLTrainingArguments,
    oracle_eval_steps: int = 0,
    **trainer_inputs,
) -> dict[str, float]:
    """Test metrics of the supervised-only model (the run's model as `model_init` builds it, seeded as the Trainer
    seeds a `model_init`, the same labels and steps, no semi-supervised term), also written to
    `supervised_only/eval_results.json` in the output folder. With `oracle_eval_steps` it is also tested every that
    many steps, and `supervised_only_best_top1` is the best of all its tests (at `supervised_only_best_step`).
    A run resumed (`resume_from_checkpoint`) resumes a baseline that a stop signal interrupted (`Preempted`)."""
    evaluation = {"eval_strategy": "steps", "eval_steps": oracle_eval_steps} if oracle_eval_steps else {}
    args = replace(
        training_args,
        output_dir=os.path.join(training_args.output_dir, "supervised_only"),
        run_name=f"{training_args.run_name}-supervised-only",
        mask_type="none",
        gamma_u=0.0,
        gamma_mix=0.0,
        gamma_contrastive=0.0,
        save_strategy="no",
        push_to_hub=False,
        resume_from_checkpoint=None,
        **evaluation,
    )
    trainer = AVSSLTrainer(model_init=model_init, args=args, **trainer_inputs)
    resume = checkpoints.resumes(training_args.resume_from_checkpoint)
    trainer.train(checkpoints.latest_complete(args.output_dir) if resume else None)
    if trainer.preempted:
        raise Preempted(
            f"the supervised-only baseline was preempted (the model is saved in {training_args.output_dir})"
        )
    tests = [entry for entry in trainer.state.log_history if "eval_top1" in entry]  # the Trainer tests the last step
    if not tests:
        metrics = trainer.evaluate(metric_key_prefix="supervised_only")
    else:
        metrics = {
            f"supervised_only_{k.removeprefix('eval_')}": v for k, v in tests[-1].items() if k.startswith("eval_")
        }
        best = max(tests, key=lambda entry: entry["eval_top1"])
        metrics.update(supervised_only_best_top1=best["eval_top1"], supervised_only_best_step=best["step"])
    trainer.save_metrics("eval", metrics)
    return metrics
