"""SVFormer's step schedule: tenfold drops on top of a transformers schedule."""

import pytest
import torch
from transformers import get_scheduler

from modeling_avssl.method.schedules import with_lr_steps


def rates(scheduler, steps: int) -> list[float]:
    values = []
    for _ in range(steps):
        values.append(scheduler.get_last_lr()[0])
        scheduler.optimizer.step()
        scheduler.step()
    return values


def optimizer() -> torch.optim.Optimizer:
    return torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.5)


def test_a_constant_schedule_with_drops_is_svformers():
    schedule = with_lr_steps(get_scheduler("constant", optimizer()), [25, 28])
    values = rates(schedule, 30)
    assert values[:25] == [0.5] * 25
    assert values[25:28] == pytest.approx([0.05] * 3) and values[28:] == pytest.approx([0.005] * 2)


def test_drops_multiply_any_lambda_schedule():
    cosine = get_scheduler("cosine", optimizer(), num_warmup_steps=2, num_training_steps=10)
    plain = rates(get_scheduler("cosine", optimizer(), num_warmup_steps=2, num_training_steps=10), 10)
    stepped = rates(with_lr_steps(cosine, [6]), 10)
    assert stepped[:6] == pytest.approx(plain[:6]) and stepped[6:] == pytest.approx([0.1 * v for v in plain[6:]])


def test_a_schedule_without_lambdas_is_refused():
    plateau = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer())
    with pytest.raises(ValueError, match="LambdaLR"):
        with_lr_steps(plateau, [3])
