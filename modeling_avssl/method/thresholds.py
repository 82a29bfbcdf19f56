"""Which pseudo labels are trusted: FixMatch's fixed threshold and FlexMatch's class-wise flexible thresholds.

Both give `class_thresholds()` and `mask(probs, indices)`, a float mask `(B,)` over an unlabeled batch from the
teacher's probabilities `(B, C)` and the samples' dataset indices `(B,)`; `passes` applies a step's thresholds to any
distribution (L_mix's mixed targets take those L_u was masked with). FlexMatch follows USB's implementation: a
per-sample record holds the class each unlabeled sample was last confidently predicted as (or -1); a class's learning
effect sigma_c is how many samples the record gives it, normalised (with warm-up) by `max(max_c sigma_c, number of
unused samples)`, and its threshold is `tau * M(beta_c)` with the convex `M(x) = x / (2 - x)`. A batch is masked with
the thresholds of the record as it stands before the batch; then the record takes the batch's predictions whose
maximum probability reaches `tau`. Under torch.distributed every process applies every process's predictions
(batches have the same size on every process), so all records stay identical.

Everything stays on the device of the probabilities (`to(device)` moves the record there): nothing here makes the host
wait for the device.
"""

from collections.abc import Sequence

import torch
import torch.distributed as dist


def passes(probs: torch.Tensor, class_thresholds: torch.Tensor) -> torch.Tensor:
    """1 where the maximum of `probs` `(B, C)` reaches the threshold of its class (`class_thresholds` `(C,)`, or one
    for every class `(1,)`): float `(B,)`."""
    confidence, predicted = probs.detach().max(dim=-1)
    return (confidence >= class_thresholds.expand(probs.shape[-1])[predicted]).float()


class FixedThreshold:
    """FixMatch: trust a pseudo label when its probability is at least `tau`."""

    def __init__(self, tau: float):
        self.tau = tau
        self.device = torch.device("cpu")

    def to(self, device: torch.device | str) -> "FixedThreshold":
        self.device = torch.device(device)
        return self

    def class_thresholds(self) -> torch.Tensor:
        """`tau`, the one threshold of every class: `(1,)`."""
        return torch.full((1,), self.tau, device=self.device)

    def mask(self, probs: torch.Tensor, indices: torch.Tensor) -> torch.Tensor:
        """1 where the maximum of `probs` `(B, C)` reaches `tau`: float `(B,)`."""
        return passes(probs, self.class_thresholds())

    def state_dict(self) -> dict:
        return {}

    def load_state_dict(self, state: dict) -> None:
        pass


class FlexMatchThresholds:
    """FlexMatch's class-wise thresholds over the unlabeled samples of a data set of `num_classes` classes.

    Args:
        num_classes: number of classes.
        num_samples: size of the data set; a sample's dataset index (in `[0, num_samples)`) is its place in the record.
        tau: the upper threshold.
        warmup: count unused samples in the normaliser (FlexMatch's threshold warm-up).
        labeled: the dataset indices of the labeled samples, kept out of the record: neither used nor unused, so that
            it counts the unlabeled samples alone, as FlexMatch's record does.
    """

    def __init__(
        self, num_classes: int, num_samples: int, tau: float, warmup: bool = True, labeled: Sequence[int] = ()
    ):
        self.num_classes, self.tau, self.warmup = num_classes, tau, warmup
        self.labeled = torch.as_tensor(labeled, dtype=torch.long)
        self.record = torch.full((num_samples,), _UNUSED, dtype=torch.long)
        self.record[self.labeled] = _LABELED

    def to(self, device: torch.device | str) -> "FlexMatchThresholds":
        """Keeps the record on `device`, where the probabilities are."""
        self.record, self.labeled = self.record.to(device), self.labeled.to(device)
        return self

    def learning_effects(self) -> torch.Tensor:
        """beta_c `(C,)`: each class's count in the record over the normaliser (all zeros while the record is
        empty)."""
        ones = torch.ones_like(self.record)
        counts = torch.zeros(self.num_classes + 2, dtype=torch.long, device=self.record.device)
        counts = counts.index_add_(0, self.record - _LABELED, ones).float()  # [labeled, unused, sigma_0, ...]
        unused, counts = counts[1], counts[2:]
        normaliser = torch.maximum(counts.max(), unused) if self.warmup else counts.max()
        return counts / normaliser.clamp_min(1)

    def class_thresholds(self) -> torch.Tensor:
        """`tau * M(beta_c)` for every class `(C,)`."""
        effects = self.learning_effects()
        return self.tau * effects / (2 - effects)

    def mask(self, probs: torch.Tensor, indices: torch.Tensor) -> torch.Tensor:
        """1 where the maximum of `probs` `(B, C)` reaches its class's threshold (`passes`); then records the batch (of
        every process) where it reaches `tau`."""
        mask = passes(probs, self.class_thresholds())
        confidence, predicted = probs.detach().max(dim=-1)
        self._record(*_gathered(indices, torch.where(confidence >= self.tau, predicted, _UNCHANGED)))
        return mask

    def _record(self, indices: torch.Tensor, updates: torch.Tensor) -> None:
        """`record[indices[i]] = updates[i]` in order (the last update of a sample wins, as in USB), skipping
        `_UNCHANGED`; every position of a repeated index writes that final value, so the result does not depend on
        the order in which the device writes."""
        position = torch.arange(len(indices), device=indices.device)
        writes = (indices[:, None] == indices[None, :]) & (updates[None, :] != _UNCHANGED)
        last = torch.where(writes, position[None, :], -1).amax(dim=1)  # the last position writing each index, or -1
        self.record[indices] = torch.where(last >= 0, updates[last.clamp_min(0)], self.record[indices])

    def state_dict(self) -> dict:
        return {"record": self.record.clone()}

    def load_state_dict(self, state: dict) -> None:
        if state["record"].shape != self.record.shape:
            raise ValueError(
                f"The FlexMatch record holds {len(state['record'])} samples; this run has {len(self.record)}."
            )
        self.record = state["record"].to(self.record.device, self.record.dtype)
        self.record[self.labeled] = _LABELED  # records saved before labeled samples were kept out had them unused


_UNUSED, _LABELED = -1, -2  # in the record: no confident prediction yet; a labeled sample
_UNCHANGED = -3  # in a batch's updates: the sample's prediction was not confident enough to be recorded


def _gathered(*tensors: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """Each `(B,)` tensor (one dtype) concatenated over all processes, in rank order; as is without torch.distributed.
    Every process's batch has the same size: the training loaders replace a bad file with another sample."""
    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() == 1:
        return tensors
    mine = torch.stack(tensors)
    everyone = [torch.empty_like(mine) for _ in range(dist.get_world_size())]
    dist.all_gather(everyone, mine)
    return tuple(torch.cat(everyone, dim=1))


__all__ = ["FixedThreshold", "FlexMatchThresholds", "passes"]
