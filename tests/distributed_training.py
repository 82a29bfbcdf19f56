"""Run by test_trainer under `accelerate launch` with 2 CPU processes: trains with `train_avssl.py`'s arguments, then
process 0 writes every process's teacher, FlexMatch record and model class to the JSON file named by the first
argument.

    accelerate launch --multi_gpu --num_processes 2 tests/distributed_training.py OUT CONFIG [--argument value ...]
"""

import json
import sys

import torch
import torch.distributed as dist
from runs import train  # beside this file


def run(out: str, argv: list[str]) -> None:
    trainer = train(argv)
    teacher = torch.cat([p.detach().flatten() for p in trainer.teacher.model.parameters()])
    mine = {"teacher": teacher.tolist(), "record": trainer.thresholds.record.tolist(), "rank": dist.get_rank()}
    mine["model_class"] = type(trainer.model).__name__  # FSDP2 swaps in FSDP<class>; DDP wraps the model
    everyone = [None] * dist.get_world_size()
    dist.all_gather_object(everyone, mine)
    if dist.get_rank() == 0:
        with open(out, "w") as handle:
            json.dump(everyone, handle)
    dist.barrier()
    dist.destroy_process_group()


if __name__ == "__main__":
    run(sys.argv[1], sys.argv[2:])
