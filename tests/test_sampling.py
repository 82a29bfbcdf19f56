"""Behaviour of `ShardedStream`: every sample once per epoch over all processes, full batches, resumable order."""

import json
import os
import subprocess
import sys
from collections import Counter
from itertools import islice

import pytest

from modeling_avssl.data.sampling import ShardedStream
from trees import write_video


def steps(stream: ShardedStream, count: int) -> list[list[int]]:
    """The samples of `count` steps of a process."""
    items = [sample for sample, _ in islice(stream, count * stream.batch_size)]
    return [items[i : i + stream.batch_size] for i in range(0, len(items), stream.batch_size)]


@pytest.mark.parametrize("num_samples, batch_size, world_size", [(23, 3, 2), (12, 2, 3), (5, 4, 2), (30, 5, 1)])
def test_every_sample_is_read_once_per_epoch_by_exactly_one_process(num_samples, batch_size, world_size):
    num_steps = 4 * num_samples // (world_size * batch_size) + 1
    per_rank = [
        steps(ShardedStream(num_samples, batch_size, 7, rank, world_size), num_steps) for rank in range(world_size)
    ]
    stream = [sample for step in range(num_steps) for rank in range(world_size) for sample in per_rank[rank][step]]
    for epoch in range(len(stream) // num_samples):
        assert Counter(stream[epoch * num_samples : (epoch + 1) * num_samples]) == Counter(range(num_samples))
    assert all(len(batch) == batch_size for batches in per_rank for batch in batches)


def test_positions_are_the_global_stream_positions():
    stream = ShardedStream(10, 2, 0, rank=1, world_size=2)
    assert [position for _, position in islice(stream, 6)] == [2, 3, 6, 7, 10, 11]


def test_each_epoch_is_a_new_permutation_of_the_seed():
    first, second = steps(ShardedStream(20, 20, 1), 2)
    assert first != second and sorted(first) == sorted(second) == list(range(20))
    assert steps(ShardedStream(20, 20, 1), 2) == [first, second]
    assert steps(ShardedStream(20, 20, 2), 1) != [first]


def test_a_resumed_stream_reads_on_where_it_stopped():
    whole = steps(ShardedStream(17, 3, 5, rank=1, world_size=2), 9)
    resumed = steps(ShardedStream(17, 3, 5, rank=1, world_size=2, start_step=4), 5)
    assert resumed == whole[4:]


def test_steps_per_epoch_round_up():
    assert ShardedStream(23, 3, 0, world_size=2).steps_per_epoch() == 4
    with pytest.raises(ValueError, match="rank"):
        ShardedStream(23, 3, 0, rank=2, world_size=2)


@pytest.mark.slow
def test_two_processes_under_accelerate_launch_share_each_epoch_without_overlap(tmp_path):
    for i in range(7):
        write_video(tmp_path / "train" / f"class{i % 2}" / f"{i}.mp4")
    out = tmp_path / "indices.json"
    script = os.path.join(os.path.dirname(__file__), "distributed_stream.py")
    accelerate = os.path.join(os.path.dirname(sys.executable), "accelerate")  # the one beside this interpreter
    launch = subprocess.run(
        [accelerate, "launch", "--multi_gpu", "--num_processes", "2", script, str(tmp_path), "4", str(out)],
        capture_output=True,
        text=True,
    )
    assert launch.returncode == 0, launch.stderr[-3000:]

    per_rank = json.loads(out.read_text())  # [rank][step] -> indices
    assert all(len(batch) == 2 for batches in per_rank for batch in batches)
    stream = [index for step in range(4) for rank in range(2) for index in per_rank[rank][step]]
    assert Counter(stream[:7]) == Counter(range(7)) and Counter(stream[7:14]) == Counter(range(7))
