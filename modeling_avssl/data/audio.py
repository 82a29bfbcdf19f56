"""Audio features as AST takes them and SpecAugment, the strong audio augmentation.

This is the project's only use of torchaudio (its Kaldi-compatible fbank), kept here so that it can be replaced.
"""

import functools
import json

import numpy as np
import torch
import torchaudio
import torchaudio.compliance.kaldi as kaldi

from ..processing_avssl import fbank_seconds


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


def log_spectrogram(
    waveform: np.ndarray | torch.Tensor, sample_rate: int, window: int = 512, overlap: int = 274
) -> torch.Tensor:
    """EZ-VSL / FNAC's audio features before normalisation: `log(PSD + 1e-7)`, `(window // 2 + 1, segments)` float32.

    The power spectral density is `scipy.signal.spectrogram(x, sample_rate, nperseg=window, noverlap=overlap)` with
    its defaults (periodic Tukey window with alpha 0.25, each segment's mean removed, one-sided density scaling),
    computed here with torch so that scipy is not needed.
    """
    x = torch.as_tensor(waveform, dtype=torch.float64).reshape(-1)
    segments = x.unfold(0, window, window - overlap)
    segments = segments - segments.mean(dim=1, keepdim=True)
    taper = _tukey(window + 1, 0.25)[:-1]  # periodic: the symmetric window one longer, without its last point
    power = torch.fft.rfft(segments * taper).abs().pow(2) / (sample_rate * taper.pow(2).sum())
    power[:, 1 : -1 if window % 2 == 0 else None] *= 2  # one-sided: all but DC (and Nyquist) count twice
    return torch.log(power.T + 1e-7).float()


def _tukey(length: int, alpha: float) -> torch.Tensor:
    """The symmetric Tukey window: flat with cosine tapers over `alpha` of its length."""
    n = torch.arange(length, dtype=torch.float64)
    width = int(alpha * (length - 1) / 2)
    window = torch.ones(length, dtype=torch.float64)
    rise = n[: width + 1]
    window[: width + 1] = 0.5 * (1 + torch.cos(torch.pi * (-1 + 2 * rise / (alpha * (length - 1)))))
    window[length - width - 1 :] = window[: width + 1].flip(0)
    return window


def feature_seconds(features: dict) -> float:
    """How many seconds of audio a localizer's `audio_features` cover."""
    return fbank_seconds(features["max_length"]) if features["type"] == "fbank" else features["seconds"]


def localizer_spectrogram(waveform: np.ndarray | torch.Tensor, sample_rate: int, features: dict) -> torch.Tensor:
    """A localizer's audio input `(1, freq, time)` from a mono waveform, as its config's `audio_features` say.

    The centred `feature_seconds(features)` of the waveform, resampled to the localizer's rate and tiled when shorter
    (as EZ-VSL does), become AST-style fbank `(mel, time)` or EZ-VSL / FNAC's normalised log spectrogram.
    """
    waveform = torch.as_tensor(waveform, dtype=torch.float32).reshape(-1)
    rate = features["sample_rate"]
    if sample_rate != rate:
        waveform = torchaudio.functional.resample(waveform, sample_rate, rate)
    length = int(round(feature_seconds(features) * rate))
    if 0 < len(waveform) < length:
        waveform = waveform.repeat(-(-length // len(waveform)))
    start = (len(waveform) - length) // 2
    waveform = waveform[start : start + length]
    if features["type"] == "fbank":
        return log_mel_fbank(waveform, rate, features["num_mel_bins"], features["max_length"]).T.unsqueeze(0)
    spectrogram = log_spectrogram(waveform, rate, features["window"], features["overlap"])
    return ((spectrogram - features.get("mean", 0.0)) / features["std"]).unsqueeze(0)


def silence(features: dict) -> float:
    """The value a silent waveform takes in a localizer's audio `features`, what SpecAugment fills their masks with:
    a mask then removes sound and adds none. (FNAC / EZ-VSL's log spectrograms are divided by 12, not centred, so
    their 0 is louder than any sound, and the localizer max-pools its audio map.)"""
    return _silence(json.dumps(features, sort_keys=True))


@functools.lru_cache
def _silence(features: str) -> float:
    features = json.loads(features)
    rate = features["sample_rate"]
    waveform = torch.zeros(int(round(feature_seconds(features) * rate)))
    return float(localizer_spectrogram(waveform, rate, features).min())  # fbank pads short audio with louder frames


def spec_augment(
    features: torch.Tensor,
    freq_mask: int | None = None,
    time_mask: int | None = None,
    generator: torch.Generator | None = None,
    fill: float = 0.0,
) -> torch.Tensor:
    """One frequency and one time mask on normalised `(time, mel)` features, set to `fill`: by default 0, the dataset
    mean of AST's normalised fbank (AST's own SpecAugment); a localizer's features take their `silence`.

    Widths are drawn uniformly from `[0, freq_mask)` and `[0, time_mask)`, as torchaudio's masking transforms do;
    by default they scale AST's 48 of 128 mel bins and 192 of 1024 frames to the size of `features`.
    """
    num_frames, num_bins = features.shape
    freq_mask = freq_mask if freq_mask is not None else max(1, round(FULL_SCALE_FREQ_MASK * num_bins / 128))
    time_mask = time_mask if time_mask is not None else max(1, round(FULL_SCALE_TIME_MASK * num_frames / 1024))
    masked = features.clone()
    start, width = _random_span(num_frames, time_mask, generator)
    masked[start : start + width] = fill
    start, width = _random_span(num_bins, freq_mask, generator)
    masked[:, start : start + width] = fill
    return masked


def _random_span(size: int, max_width: int, generator: torch.Generator | None) -> tuple[int, int]:
    """A start and a width in `[0, max_width)` of a span inside `size`."""
    width = int(torch.randint(0, max_width, (), generator=generator))
    return int(torch.randint(0, size - width + 1, (), generator=generator)), width
