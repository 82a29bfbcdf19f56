"""The order in which a process reads its samples: an endless, seeded stream sharded once over processes.

Epochs are seeded permutations of the samples laid end to end. Each optimizer step takes the next
`world_size * batch_size` positions of that stream and process `rank` reads its `batch_size` slice of them, so in
every epoch each sample goes to exactly one process, none is dropped or repeated, and every step has full batches on
every process (a step may straddle two epochs). Step `s` of process `r` is a function of `(seed, s, r)` alone, which
makes the order reproducible and a resumed run read on where it stopped.
"""

from collections.abc import Iterator

import numpy as np
from torch.utils.data import Sampler


class ShardedStream(Sampler[tuple[int, int]]):
    """Yields `(sample, position)` forever: the sample's index into the `num_samples` items and its position in the
    global stream (which seeds the sample's augmentation, so views do not depend on the number of workers).

    Args:
        num_samples: how many samples the stream cycles through.
        batch_size: samples per step on each process.
        seed: seeds the permutation of every epoch.
        rank, world_size: this process and the number of processes.
        start_step: the first step to read (steps already taken by a resumed run).
    """

    def __init__(
        self, num_samples: int, batch_size: int, seed: int, rank: int = 0, world_size: int = 1, start_step: int = 0
    ):
        if num_samples < 1:
            raise ValueError("A stream needs at least one sample.")
        if not 0 <= rank < world_size:
            raise ValueError(f"rank must be in [0, {world_size}), got {rank}")
        self.num_samples, self.batch_size, self.seed = num_samples, batch_size, seed
        self.rank, self.world_size, self.start_step = rank, world_size, start_step

    def steps_per_epoch(self) -> int:
        """Steps in which the processes together read `num_samples` samples (rounded up)."""
        return -(-self.num_samples // (self.world_size * self.batch_size))

    def permutation(self, epoch: int) -> np.ndarray:
        return np.random.default_rng([self.seed, epoch]).permutation(self.num_samples)

    def __iter__(self) -> Iterator[tuple[int, int]]:
        epoch, order = -1, None
        step = self.start_step
        while True:
            first = (step * self.world_size + self.rank) * self.batch_size
            for position in range(first, first + self.batch_size):
                if position // self.num_samples != epoch:
                    epoch = position // self.num_samples
                    order = self.permutation(epoch)
                yield int(order[position % self.num_samples]), position
            step += 1
