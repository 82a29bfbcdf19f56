"""Run by test_distributed_stream under `accelerate launch` with 2 CPU processes: each process reads `STEPS` batches
of an unlabeled stream over the videofolder `ROOT`, and process 0 writes every process's sample indices, per step,
to `OUT` as JSON.

    accelerate launch --multi_gpu --num_processes 2 tests/distributed_stream.py ROOT STEPS OUT
"""

import json
import sys
from itertools import islice

import torch.distributed as dist
from accelerate import PartialState

from modeling_avssl.data import VideoAugmentation
from modeling_avssl.data.collation import ClipTransform, training_loader
from modeling_avssl.data.sources import video_folder


def main(root: str, steps: int, out: str) -> None:
    state = PartialState(cpu=True)
    rows = video_folder(root, "train").dataset
    transform = ClipTransform(
        VideoAugmentation(crop_size=32), num_frames=2, frame_stride=1, num_mel_bins=16, max_length=50, strong=True
    )
    loader = training_loader(
        rows,
        transform,
        2,
        seed=3,
        labeled=False,
        rank=state.process_index,
        world_size=state.num_processes,
        num_workers=1,
    )
    indices = [batch["index"].tolist() for batch in islice(loader, steps)]
    gathered = [None] * state.num_processes
    dist.all_gather_object(gathered, indices)
    if state.is_main_process:
        with open(out, "w") as handle:
            json.dump(gathered, handle)
    state.destroy_process_group()


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), sys.argv[3])
