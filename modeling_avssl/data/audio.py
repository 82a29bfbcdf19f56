"""Audio features as AST takes them and SpecAugment, the strong audio augmentation.

This is the project's only use of torchaudio (its Kaldi-compatible fbank), kept here so that it can be replaced.
"""

import numpy as np
import torch
import torchaudio.compliance.kaldi as kaldi


AST_MEAN = -4.2677393
AST_STD = 4.5689974
FULL_SCALE_FREQ_MASK = 48  # SpecAugment widths for 128 mel bins x 1024 frames (AST's AudioSet recipe)
FULL_SCALE_TIME_MASK = 192


def log_mel_fbank(
    waveform: np.ndarray | torch.Tensor,
    sample_rate: int = 16000,
    num_mel_bins: int = 128,
    max_length: int = 1024,
    mean: float = AST_MEAN,
    std: float = AST_STD,
) -> torch.Tensor:
    """AST's input features of a mono waveform: `(max_length, num_mel_bins)` float32.

    Kaldi fbank (25 ms Hanning window, 10 ms shift) zero-padded or truncated to `max_length` frames and normalised as
    `(x - mean) / (2 * std)`, exactly as `transformers.ASTFeatureExtractor` computes it.
    """
    waveform = torch.as_tensor(waveform, dtype=torch.float32).reshape(1, -1)
    fbank = kaldi.fbank(waveform, sample_frequency=sample_rate, window_type="hanning", num_mel_bins=num_mel_bins)
    fbank = fbank[:max_length]
    if len(fbank) < max_length:
        fbank = torch.nn.functional.pad(fbank, (0, 0, 0, max_length - len(fbank)))
    return (fbank - mean) / (2 * std)


def spec_augment(
    features: torch.Tensor,
    freq_mask: int | None = None,
    time_mask: int | None = None,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """One frequency and one time mask on normalised `(time, mel)` features, set to 0 (the dataset mean).

    Widths are drawn uniformly from `[0, freq_mask)` and `[0, time_mask)`, as torchaudio's masking transforms do;
    by default they scale AST's 48 of 128 mel bins and 192 of 1024 frames to the size of `features`.
    """
    num_frames, num_bins = features.shape
    freq_mask = freq_mask if freq_mask is not None else max(1, round(FULL_SCALE_FREQ_MASK * num_bins / 128))
    time_mask = time_mask if time_mask is not None else max(1, round(FULL_SCALE_TIME_MASK * num_frames / 1024))
    masked = features.clone()
    start, width = _random_span(num_frames, time_mask, generator)
    masked[start : start + width] = 0.0
    start, width = _random_span(num_bins, freq_mask, generator)
    masked[:, start : start + width] = 0.0
    return masked


def _random_span(size: int, max_width: int, generator: torch.Generator | None) -> tuple[int, int]:
    """A start and a width in `[0, max_width)` of a span inside `size`."""
    width = int(torch.randint(0, max_width, (), generator=generator))
    return int(torch.randint(0, size - width + 1, (), generator=generator)), width
