"""SVFormer's step schedule: tenfold learning-rate drops at fixed points of the run, on top of any schedule.

SVFormer trains at a constant rate and multiplies it by 0.1 at epochs 25 and 28 of 30 (`steps_with_relative_lrs`,
LRS 1 / 0.1 / 0.01), counted over the whole run, supervised warm-up included. `with_lr_steps` puts such drops on a
`transformers` schedule, so `lr_scheduler_type="constant"` with drops at 25/30 and 28/30 of the steps is SVFormer's.
"""

from functools import partial

from torch.optim.lr_scheduler import LambdaLR


def stepped(lr_lambda, drop_steps: list[int], factor: float, step: int) -> float:
    """`lr_lambda(step)` times `factor` for each of `drop_steps` that `step` has reached."""
    return lr_lambda(step) * factor ** sum(step >= drop for drop in drop_steps)


def with_lr_steps(scheduler: LambdaLR, drop_steps: list[int], factor: float = 0.1) -> LambdaLR:
    """A new `LambdaLR` on `scheduler`'s optimizer: `scheduler`'s multipliers, each times `factor` from every step of
    `drop_steps` on."""
    if not isinstance(scheduler, LambdaLR):
        raise ValueError(f"Learning-rate drops need a LambdaLR schedule, not {type(scheduler).__name__}.")
    lambdas = [partial(stepped, lr_lambda, sorted(drop_steps), factor) for lr_lambda in scheduler.lr_lambdas]
    return LambdaLR(scheduler.optimizer, lambdas)
