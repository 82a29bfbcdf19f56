"""Run by test_fsdp under `accelerate launch` with 2 CPU processes: `distributed_training.py` under FSDP.

    accelerate launch --multi_gpu --num_processes 2 tests/fsdp_on_cpu.py OUT CONFIG --fsdp true --fsdp_config ...

accelerate makes an FSDP plugin into FSDP only on accelerators; on CPU processes (gloo) it runs DDP and leaves the
model whole, so the trainer's FSDP path would never run on CPU. This script opens that one gate: an
`AcceleratorState` made with an FSDP plugin on CPU processes takes FSDP, as on GPUs. The rest is what a GPU run
does: torch's FSDP2 `fully_shard`, the Trainer's sharded checkpoints and gathered final save, the EMA teacher
following DTensor parameters.
"""

import sys

import accelerate.state
from accelerate.utils import DistributedType
from distributed_training import run  # beside this file


def fsdp_on_cpu_processes() -> None:
    make_state = accelerate.state.AcceleratorState.__init__

    def init(self, *args, fsdp_plugin=None, **kwargs):
        make_state(self, *args, fsdp_plugin=fsdp_plugin, **kwargs)
        if fsdp_plugin is not None and self.distributed_type == DistributedType.MULTI_CPU:
            self.distributed_type = DistributedType.FSDP
            accelerate.state.PartialState._shared_state["distributed_type"] = DistributedType.FSDP
            self.fsdp_plugin = fsdp_plugin

    accelerate.state.AcceleratorState.__init__ = init


if __name__ == "__main__":
    fsdp_on_cpu_processes()
    run(sys.argv[1], sys.argv[2:])
