"""Training on examples held in memory, as the AVSynth experiments do (the encoder pretraining, the from-scratch
study): AdamW with a one-cycle schedule over shuffled mini-batches of row indices."""

from collections.abc import Callable

import torch
from torch import nn
from tqdm.auto import tqdm


def fit(
    module: nn.Module,
    rows: torch.Tensor,
    batch_loss: Callable[[torch.Tensor, int], torch.Tensor],
    epochs: int,
    batch_size: int,
    learning_rate: float,
    *,
    pct_start: float = 0.3,
    max_grad_norm: float | None = None,
    progress: str | None = None,
    after_epoch: Callable[[int, float], None] | None = None,
) -> None:
    """Trains `module` on `rows` `(N,)` (the indices of the training examples): each epoch shuffles them (torch's
    global generator) and takes `len(rows) // batch_size` batches (at least one); `batch_loss(batch, epoch)` is the
    loss of a batch of indices. AdamW (weight decay 0.05) with a one-cycle schedule peaking at `learning_rate` after
    `pct_start` of the run; gradients clipped to `max_grad_norm` when given. `progress` names a progress bar;
    `after_epoch(epoch, mean loss)` is called after each epoch."""
    optimizer = torch.optim.AdamW(module.parameters(), lr=learning_rate, weight_decay=0.05)
    steps_per_epoch = max(len(rows) // batch_size, 1)
    schedule = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, learning_rate, total_steps=epochs * steps_per_epoch, pct_start=pct_start
    )
    module.train()
    bar = tqdm(total=epochs * steps_per_epoch, desc=progress, disable=progress is None)
    for epoch in range(epochs):
        order, total = rows[torch.randperm(len(rows))], 0.0
        for step in range(steps_per_epoch):
            loss = batch_loss(order[step * batch_size : (step + 1) * batch_size], epoch)
            optimizer.zero_grad()
            loss.backward()
            if max_grad_norm is not None:
                torch.nn.utils.clip_grad_norm_(module.parameters(), max_grad_norm)
            optimizer.step()
            schedule.step()
            total += loss.item()
            bar.update()
            bar.set_postfix(loss=f"{loss.item():.3f}")
        if after_epoch is not None:
            after_epoch(epoch, total / steps_per_epoch)
    bar.close()
