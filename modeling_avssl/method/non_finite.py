"""Stopping a run whose loss or gradients stop being finite, before a NaN model is saved.

transformers' Trainer logs a non-finite loss as 0 (`logging_nan_inf_filter`) and steps on, and a model trained on is
all NaN. Here the first non-finite loss term or gradient of a step ends the run, on every process at once, before the
optimizer step, with an error that names the step, the loss terms and the files of the batch. The loss terms and the
gradients are checked together: one read of the device a step.
"""

import torch
import torch.distributed as dist
from transformers import TrainerCallback

from .preemption import Preemption


class NonFiniteTraining(RuntimeError):
    """A loss or a gradient of a training step is NaN or infinite."""


def _stop(step: int, what: str, sources: list[str]) -> NonFiniteTraining:
    files = ", ".join(sources) if sources else "(this process read none)"
    return NonFiniteTraining(
        f"step {step}: {what} is not finite; stopping before the model is updated or saved. The batch's files on "
        f"this process: {files}. Check them (`python -m modeling_avssl.commands.data inspect PATH`) or lower the "
        "learning rate."
    )


class FiniteTraining(TrainerCallback):
    """Checks the loss terms and the gradients of a step before its optimizer step. The trainer hands it the terms of
    each micro-batch (`watch`) and the files it read (`sources`); both are emptied after each step. The check's
    reduction tells `preemption` whether a process was signalled."""

    def __init__(self, preemption: Preemption):
        self.preemption = preemption
        self.sources: list[str] = []
        self.terms: list[dict[str, torch.Tensor]] = []

    def watch(self, terms: dict[str, torch.Tensor]) -> None:
        """Keeps a micro-batch's loss terms (0-d tensors) for the check; reads nothing from the device."""
        self.terms.append({name: term.detach() for name, term in terms.items()})

    def on_pre_optimizer_step(self, args, state, control, model=None, **kwargs):
        terms = [term.float() for micro_batch in self.terms for term in micro_batch.values()]
        gradients = [_local(p.grad) for p in model.parameters() if p.grad is not None]  # a shard may be empty
        largest = torch.stack([_largest(terms, args.device), _largest(gradients, args.device)])
        flags = torch.cat([(~torch.isfinite(largest)).float(), self.preemption.flag(largest.device)[None]])
        if dist.is_available() and dist.is_initialized():
            dist.all_reduce(flags, op=dist.ReduceOp.MAX)
        loss, gradient, stop = flags.tolist()  # the step's one read of the device
        self.preemption.agreed(bool(stop), control)
        if loss:
            raise _stop(state.global_step + 1, f"the loss ({self._shown()})", self.sources)
        if gradient:
            raise _stop(state.global_step + 1, "a gradient", self.sources)

    def _shown(self) -> str:
        """The terms of the first micro-batch with a non-finite one (of the last when this process had none)."""
        shown = next((t for t in self.terms if not all(map(torch.isfinite, t.values()))), self.terms[-1])
        return ", ".join(f"{name} {float(value):.4g}" for name, value in shown.items())

    def on_step_end(self, args, state, control, **kwargs):
        self.sources.clear()
        self.terms.clear()


def _largest(tensors: list[torch.Tensor], device: torch.device) -> torch.Tensor:
    """The largest magnitude in `tensors` (0 for none): NaN or infinite exactly when an element is, without the
    overflow of a sum of squares."""
    tensors = [tensor for tensor in tensors if tensor.numel()]
    return torch.nn.utils.get_total_norm(tensors, float("inf")) if tensors else torch.zeros((), device=device)


def _local(tensor: torch.Tensor) -> torch.Tensor:
    """A DTensor's local shard (FSDP2's gradients), a tensor itself otherwise."""
    return tensor.to_local() if hasattr(tensor, "to_local") else tensor
