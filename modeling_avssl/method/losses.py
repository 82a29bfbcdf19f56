"""The semi-supervised loss terms of the paper (Eq. 1-19) besides the supervised cross-entropy, as pure functions.

`B` is the unlabeled batch, `C` the number of classes, `K` the number of clips whose embeddings are contrasted.
"""

import torch
from torch.nn import functional as F


def unlabeled_loss(student_logits: torch.Tensor, pseudo_labels: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """L_u (Eq. 3/4): the mean over the batch of `mask * CE(student_logits, pseudo_labels)`.

    `student_logits` `(B, C)` on the strong views, `pseudo_labels` `(B,)` the teacher's argmax on the weak views,
    `mask` `(B,)` 1 where the teacher is confident enough (0 entries still count in the mean, as FixMatch does).
    """
    return (mask * F.cross_entropy(student_logits, pseudo_labels, reduction="none")).mean()


def mix_loss(student_logits: torch.Tensor, target_probs: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """L_mix (Eq. 10): the mean over the batch of `mask * sum_c (target_probs - softmax(student_logits))^2`.

    `student_logits` `(B, C)` on the mixed clips, `target_probs` `(B, C)` the mixed teacher distribution
    `lam * q_a + (1 - lam) * q_b`, `mask` `(B,)`.
    """
    return (mask * (target_probs - student_logits.softmax(dim=-1)).pow(2).sum(dim=-1)).mean()


def svformer_mix_loss(
    student_logits: torch.Tensor,
    probs: torch.Tensor,
    confident: torch.Tensor,
    partner: torch.Tensor,
    lam: torch.Tensor,
) -> torch.Tensor:
    """SVFormer's L_mix (its `train_net_emamix.py`), the reading of Eq. 10 as SVFormer runs it.

    Each clip's target is one-hot at the teacher's argmax where the teacher is confident and the teacher's
    distribution otherwise; the mixed clip `b` takes `lam[b] * t[b] + (1 - lam[b]) * t[partner[b]]` and the weight
    `lam[b] * confident[b] + (1 - lam[b]) * confident[partner[b]]`; the loss is the mean over the batch of the weight
    times the mean over classes of `(student_logits - target)^2`, on raw logits.

    `student_logits` `(B, C)` on the mixed clips, `probs` `(B, C)` the teacher's distributions of the unmixed clips,
    `confident` `(B,)` 1 where a clip's pseudo label passes its threshold, `partner` `(B,)`, `lam` `(B,)`.
    """
    one_hot = F.one_hot(probs.argmax(dim=-1), probs.shape[-1]).to(probs.dtype)
    targets = torch.where(confident[:, None].bool(), one_hot, probs)
    lam = lam[:, None]
    mixed_target = lam * targets + (1 - lam) * targets[partner]
    weight = lam[:, 0] * confident + (1 - lam[:, 0]) * confident[partner]
    return (weight * (student_logits - mixed_target).pow(2).mean(dim=-1)).mean()


def contrastive_loss(
    video_embeds: torch.Tensor, audio_embeds: torch.Tensor, temperature: float = 0.05
) -> torch.Tensor:
    """L_c (Eq. 14-18): symmetric InfoNCE between the L2-normalised video and audio summary embeddings `(K, D)` of
    the same K clips, with `S = Z_aud Z_vid^T / temperature`; the mean of the two directions."""
    similarity = F.normalize(audio_embeds, dim=-1) @ F.normalize(video_embeds, dim=-1).T / temperature
    targets = torch.arange(len(similarity), device=similarity.device)
    return (F.cross_entropy(similarity, targets) + F.cross_entropy(similarity.T, targets)) / 2


__all__ = ["contrastive_loss", "mix_loss", "svformer_mix_loss", "unlabeled_loss"]
