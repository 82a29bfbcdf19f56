"""Stopping a run whose loss or gradients stop being finite, before a NaN model is saved.

transformers' Trainer logs a non-finite loss as 0 (`logging_nan_inf_filter`) and steps on, and a model trained on is
all NaN. Here the first non-finite loss or gradient ends the run, on every process at once, with an error that names
the step, the loss terms and the files of the batch.
"""

import torch
import torch.distributed as dist
from transformers import TrainerCallback


class NonFiniteTraining(RuntimeError):
    """A loss or a gradient of a training step is NaN or infinite."""


def on_any_process(flag: bool, device: torch.device) -> bool:
    """Whether `flag` holds on any process of the run (every process gets the same answer)."""
    value = torch.tensor(float(flag), device=device)
    if dist.is_available() and dist.is_initialized():
        dist.all_reduce(value, op=dist.ReduceOp.MAX)
    return bool(value.item())


def _stop(step: int, what: str, sources: list[str]) -> NonFiniteTraining:
    files = ", ".join(sources) if sources else "(this process read none)"
    return NonFiniteTraining(
        f"step {step}: {what} is not finite; stopping before the model is updated or saved. The batch's files on "
        f"this process: {files}. Check them (`python -m modeling_avssl.data inspect PATH`) or lower the learning rate."
    )


def check_loss(step: int, terms: dict[str, torch.Tensor], sources: list[str]) -> None:
    """Raises `NonFiniteTraining` on every process when a loss term of step `step` is not finite on any of them."""
    values = torch.stack([term.detach().float() for term in terms.values()])
    if on_any_process(not bool(torch.isfinite(values).all()), values.device):
        shown = ", ".join(f"{name} {float(value):.4g}" for name, value in zip(terms, values))
        raise _stop(step, f"the loss ({shown})", sources)


class FiniteGradients(TrainerCallback):
    """Checks the gradients before every optimizer step. `sources` collects the files of the step's batches (the
    trainer adds them as it reads them) and is emptied after each step."""

    def __init__(self):
        self.sources: list[str] = []

    def on_pre_optimizer_step(self, args, state, control, model=None, **kwargs):
        gradients = [p.grad.detach().float().sum() for p in model.parameters() if p.grad is not None]
        if not gradients:
            return
        total = torch.stack(gradients).sum()
        if on_any_process(not bool(torch.isfinite(total)), total.device):
            raise _stop(state.global_step + 1, "a gradient", self.sources)

    def on_step_end(self, args, state, control, **kwargs):
        self.sources.clear()
