"""Runs `train_avssl.py` as `python train_avssl.py ARGS` would (its exit code kept), sending a real signal at a chosen
point of training, for the preemption tests:

    python tests/signalled_run.py WHEN SIGNAL TARGET [train_avssl.py's arguments ...]

WHEN: `step:N` (as step N + 1 begins), `evaluation` (as the first evaluation begins) or `save` (as the first
checkpoint's method state is written); SIGNAL: a name such as SIGTERM; TARGET: `self`, or `launcher` (process 0 signals
its parent, the `accelerate launch` that started it, which forwards the signal to every process).
"""

import os
import runpy
import signal
import sys

from modeling_avssl.method.state import MethodState
from modeling_avssl.method.trainer import AVSSLTrainer


ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def send_once(number: int, target: str, sent: list) -> None:
    if sent:
        return
    sent.append(number)
    if target == "self":
        os.kill(os.getpid(), number)
    elif os.environ.get("RANK", "0") == "0":
        os.kill(os.getppid(), number)


def arm(when: str, number: int, target: str) -> None:
    """Wraps the method that `when` names so that it sends the signal once, before doing its work."""
    sent = []
    kind, _, step = when.partition(":")
    owner, name = {"step": (AVSSLTrainer, "training_step"), "evaluation": (AVSSLTrainer, "evaluate")}.get(
        kind, (MethodState, "save")
    )
    original = getattr(owner, name)

    def signalled(self, *args, **kwargs):
        if kind != "step" or self.state.global_step == int(step):
            send_once(number, target, sent)
        return original(self, *args, **kwargs)

    setattr(owner, name, signalled)


if __name__ == "__main__":
    when, name, target, *argv = sys.argv[1:]
    arm(when, getattr(signal, name), target)
    sys.argv = [os.path.join(ROOT, "train_avssl.py"), *argv]
    runpy.run_path(sys.argv[0], run_name="__main__")
