"""The Mean Teacher: an exponential moving average of the student, kept outside the model.

It is not a submodule of the student (so `save_pretrained` and the optimizer never see it) and takes no gradient;
its state travels in the trainer's checkpoints.
"""

import copy

import torch
from torch import nn


class EMATeacher:
    """`teacher = decay * teacher + (1 - decay) * student` for every parameter after each optimizer step; buffers are
    copied.

    Args:
        student: the model to follow (unwrapped, not the DDP / FSDP wrapper).
        decay: weight of the teacher's own value (0.99 by default, docs/design.md 5.9).
    """

    def __init__(self, student: nn.Module, decay: float = 0.99):
        if not 0 <= decay <= 1:
            raise ValueError(f"decay must be in [0, 1], got {decay}")
        self.decay = decay
        self.model = copy.deepcopy(student).eval().requires_grad_(False)

    @torch.no_grad()
    def update(self, student: nn.Module) -> None:
        """One EMA step towards `student`."""
        for own, followed in self._pairs(student):
            own.lerp_(followed, 1 - self.decay)
        self._copy_buffers(student)

    @torch.no_grad()
    def copy(self, student: nn.Module) -> None:
        """Becomes `student` exactly (SVFormer makes its teacher from the student when the supervised warm-up
        ends)."""
        for own, followed in self._pairs(student):
            own.copy_(followed)
        self._copy_buffers(student)

    def _pairs(self, student: nn.Module):
        """(teacher parameter, the student's full parameter in the teacher's dtype), in order."""
        for own, followed in zip(self.model.parameters(), student.parameters(), strict=True):
            followed = followed.full_tensor() if hasattr(followed, "full_tensor") else followed  # FSDP2 shards
            yield own, followed.detach().to(own.dtype)

    def _copy_buffers(self, student: nn.Module) -> None:
        for own, followed in zip(self.model.buffers(), student.buffers(), strict=True):
            own.copy_(followed)

    @torch.no_grad()
    def __call__(self, *args, **kwargs):
        return self.model(*args, **kwargs)

    def state_dict(self) -> dict[str, torch.Tensor]:
        return self.model.state_dict()

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        self.model.load_state_dict(state)
