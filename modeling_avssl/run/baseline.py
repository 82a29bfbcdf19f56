"""The supervised-only baseline of a run: the same model, labels, steps and seed, no semi-supervised term."""

import json
import os
from dataclasses import replace

from transformers import set_seed

from ..method.trainer import AVSSLTrainer
from ..method.training_args import AVSSLTrainingArguments
from .arguments import ModelArguments
from .components import build_model


def supervised_baseline(
    model_args: ModelArguments,
    training_args: AVSSLTrainingArguments,
    classes: list[str],
    oracle_eval_steps: int = 0,
    **trainer_inputs,
) -> dict[str, float]:
    """Test metrics of the supervised-only model (the same model, labels, steps and seed, no semi-supervised term),
    also written to `supervised_only/eval_results.json` in the output folder. With `oracle_eval_steps` it is also
    tested every that many steps, and `supervised_only_best_top1` is the best of all its tests (at
    `supervised_only_best_step`)."""
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
    set_seed(args.seed)
    trainer = AVSSLTrainer(model=build_model(model_args, classes), args=args, **trainer_inputs)
    trainer.train()
    tests = [entry for entry in trainer.state.log_history if "eval_top1" in entry]  # the Trainer tests the last step
    if not tests:
        metrics = trainer.evaluate(metric_key_prefix="supervised_only")
    else:
        metrics = {
            f"supervised_only_{k.removeprefix('eval_')}": v for k, v in tests[-1].items() if k.startswith("eval_")
        }
        best = max(tests, key=lambda entry: entry["eval_top1"])
        metrics.update(supervised_only_best_top1=best["eval_top1"], supervised_only_best_step=best["step"])
    if trainer.is_world_process_zero():
        with open(os.path.join(args.output_dir, "eval_results.json"), "w") as handle:
            json.dump(metrics, handle, indent=1)
    return metrics
