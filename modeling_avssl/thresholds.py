"""Which pseudo labels are trusted: FixMatch's fixed threshold and FlexMatch's class-wise flexible thresholds.

Both give `mask(probs, indices)`, a float mask `(B,)` over an unlabeled batch from the teacher's probabilities
`(B, C)` and the samples' dataset indices `(B,)`. FlexMatch follows USB's implementation: a per-sample record holds the
class each sample was last confidently predicted as (or -1); a class's learning effect sigma_c is how many samples
the record gives it, normalised (with warm-up) by `max(max_c sigma_c, number of unused samples)`, and its threshold
is `tau * M(beta_c)` with the convex `M(x) = x / (2 - x)`. A batch is masked with the thresholds of the record as it
stands before the batch; then the record takes the batch's predictions whose maximum probability reaches `tau`. Under
torch.distributed every process applies every process's predictions, so all records stay identical.
"""

import torch
import torch.distributed as dist


class FixedThreshold:
    """FixMatch: trust a pseudo label when its probability is at least `tau`."""

    def __init__(self, tau: float):
        self.tau = tau

    def class_thresholds(self) -> torch.Tensor:
        """`tau`, the one threshold of every class: `(1,)`."""
        return torch.tensor([self.tau])

    def confident(self, probs: torch.Tensor) -> torch.Tensor:
        """1 where the maximum of `probs` `(B, C)` reaches `tau`: float `(B,)`."""
        return (probs.max(dim=-1).values >= self.tau).float()

    def mask(self, probs: torch.Tensor, indices: torch.Tensor) -> torch.Tensor:
        return self.confident(probs)

    def state_dict(self) -> dict:
        return {}

    def load_state_dict(self, state: dict) -> None:
        pass


class FlexMatchThresholds:
    """FlexMatch's class-wise thresholds over `num_samples` unlabeled samples of `num_classes` classes.

    Args:
        num_classes: number of classes.
        num_samples: size of the unlabeled set (indices lie in `[0, num_samples)`).
        tau: the upper threshold.
        warmup: count unused samples in the normaliser (FlexMatch's threshold warm-up).
    """

    def __init__(self, num_classes: int, num_samples: int, tau: float, warmup: bool = True):
        self.num_classes, self.tau, self.warmup = num_classes, tau, warmup
        self.record = torch.full((num_samples,), -1, dtype=torch.long)

    def learning_effects(self) -> torch.Tensor:
        """beta_c `(C,)`: each class's count in the record over the normaliser (all zeros while the record is
        empty)."""
        counts = torch.bincount(self.record[self.record >= 0], minlength=self.num_classes).float()
        unused = float((self.record < 0).sum())
        normaliser = max(counts.max().item(), unused) if self.warmup else counts.max().item()
        return counts / normaliser if normaliser > 0 else counts

    def class_thresholds(self) -> torch.Tensor:
        """`tau * M(beta_c)` for every class `(C,)`."""
        effects = self.learning_effects()
        return self.tau * effects / (2 - effects)

    def confident(self, probs: torch.Tensor) -> torch.Tensor:
        """1 where the maximum of `probs` `(B, C)` reaches its class's threshold, without recording: float `(B,)`."""
        confidence, predicted = probs.detach().max(dim=-1)
        return (confidence >= self.class_thresholds().to(probs.device)[predicted]).float()

    def mask(self, probs: torch.Tensor, indices: torch.Tensor) -> torch.Tensor:
        """`confident(probs)`; then records the batch (of every process) where the maximum probability reaches
        `tau`."""
        mask = self.confident(probs)
        confidence, predicted = probs.detach().max(dim=-1)
        indices, confidence, predicted = _gathered(indices, confidence, predicted)
        selected = confidence >= self.tau
        self.record[indices[selected].cpu()] = predicted[selected].cpu()
        return mask

    def state_dict(self) -> dict:
        return {"record": self.record.clone()}

    def load_state_dict(self, state: dict) -> None:
        if state["record"].shape != self.record.shape:
            raise ValueError(
                f"The FlexMatch record holds {len(state['record'])} samples; this run has {len(self.record)}."
            )
        self.record = state["record"].clone()


def _gathered(*tensors: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """Each tensor concatenated over all processes (in rank order); as is without torch.distributed. Batches may
    differ in size between processes (bad files are skipped), so they travel as objects."""
    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() == 1:
        return tensors
    everyone = [None] * dist.get_world_size()
    dist.all_gather_object(everyone, [tensor.cpu() for tensor in tensors])
    return tuple(torch.cat([mine[k] for mine in everyone]) for k in range(len(tensors)))


__all__ = ["FixedThreshold", "FlexMatchThresholds"]
