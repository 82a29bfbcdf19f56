"""Behaviour of the audio features: identical to ASTFeatureExtractor, and SpecAugment's masks."""

import numpy as np
import pytest
import torch
from torch.nn import functional as F
from transformers import ASTFeatureExtractor

from modeling_avssl import AVSSLLocalizer, AVSSLLocalizerConfig
from modeling_avssl.data.audio import localizer_spectrogram, log_mel_fbank, log_spectrogram, silence, spec_augment
from modeling_avssl.data.avsynth import AVSynthSpec, make_clip


@pytest.mark.parametrize(
    "seconds, num_mel_bins, max_length",
    [(10.0, 128, 1024), (3.0, 128, 1024), (12.0, 128, 1024), (2.0, 64, 192)],
    ids=["exact", "padded", "truncated", "small"],
)
def test_fbank_features_equal_the_ast_feature_extractor(seconds, num_mel_bins, max_length):
    waveform = (0.1 * np.random.default_rng(0).standard_normal(int(seconds * 16000))).astype(np.float32)
    extractor = ASTFeatureExtractor(num_mel_bins=num_mel_bins, max_length=max_length)

    expected = extractor(waveform, sampling_rate=16000, return_tensors="pt").input_values[0]
    ours = log_mel_fbank(waveform, num_mel_bins=num_mel_bins, max_length=max_length)

    assert ours.shape == (max_length, num_mel_bins) and ours.dtype == torch.float32
    torch.testing.assert_close(ours, expected, rtol=0, atol=0)


def masked_spans(features: torch.Tensor, augmented: torch.Tensor) -> tuple[list[int], list[int]]:
    rows = torch.nonzero((augmented == 0).all(dim=1) & (features != 0).any(dim=1)).flatten().tolist()
    columns = torch.nonzero((augmented == 0).all(dim=0) & (features != 0).any(dim=0)).flatten().tolist()
    return rows, columns


def test_spec_augment_zeroes_one_time_band_and_one_frequency_band_and_nothing_else():
    features = torch.randn(1024, 128)
    for seed in range(20):
        augmented = spec_augment(features, generator=torch.Generator().manual_seed(seed))
        rows, columns = masked_spans(features, augmented)
        assert len(rows) < 192 and len(columns) < 48
        assert rows == list(range(rows[0], rows[0] + len(rows))) if rows else True
        assert columns == list(range(columns[0], columns[0] + len(columns))) if columns else True
        keep = torch.ones_like(features, dtype=torch.bool)
        keep[rows] = False
        keep[:, columns] = False
        assert torch.equal(augmented[keep], features[keep])


def test_spec_augment_widths_scale_with_the_input_size_and_follow_the_generator():
    features = torch.randn(64, 32)
    widest = [
        masked_spans(features, spec_augment(features, generator=torch.Generator().manual_seed(s))) for s in range(50)
    ]
    assert max(len(rows) for rows, _ in widest) < 12 and max(len(columns) for _, columns in widest) < 12
    first = spec_augment(features, generator=torch.Generator().manual_seed(7))
    torch.testing.assert_close(spec_augment(features, generator=torch.Generator().manual_seed(7)), first)
    assert not torch.equal(features, spec_augment(features, 5, 5, generator=torch.Generator().manual_seed(1)))


def test_log_spectrogram_equals_scipy_as_ezvsl_computes_it():
    from scipy import signal

    waveform = np.random.default_rng(0).normal(0, 0.1, 48000).astype(np.float32)
    _, _, density = signal.spectrogram(waveform, 16000, nperseg=512, noverlap=274)
    np.testing.assert_allclose(log_spectrogram(waveform, 16000).numpy(), np.log(density + 1e-7), atol=1e-5)


EZVSL_FEATURES = {
    "type": "log_spectrogram",
    "sample_rate": 16000,
    "window": 512,
    "overlap": 274,
    "seconds": 3.0,
    "mean": 0.0,
    "std": 12.0,
}


def test_a_localizer_spectrogram_takes_the_centred_seconds_and_normalises_them():
    waveform = np.random.default_rng(1).normal(0, 0.1, 10 * 16000).astype(np.float32)
    features = localizer_spectrogram(waveform, 16000, EZVSL_FEATURES)
    centre = waveform[int(3.5 * 16000) : int(6.5 * 16000)]
    assert features.shape == (1, 257, 200)
    torch.testing.assert_close(features[0], log_spectrogram(centre, 16000) / 12.0)
    fbank = {"type": "fbank", "sample_rate": 16000, "num_mel_bins": 64, "max_length": 200}
    torch.testing.assert_close(
        localizer_spectrogram(waveform, 16000, fbank)[0], log_mel_fbank(waveform[64000:96000], 16000, 64, 200).T
    )


def test_a_localizer_spectrogram_resamples_and_tiles_short_audio():
    tone = np.sin(2 * np.pi * 440 * np.arange(8000) / 8000).astype(np.float32)  # 1 s at 8 kHz
    features = localizer_spectrogram(tone, 8000, EZVSL_FEATURES)
    assert features.shape == (1, 257, 200)
    peak = features[0].mean(dim=1).argmax().item()
    assert abs(peak * 16000 / 512 - 440) < 32  # the tone, at 16 kHz, over all 3 s


FBANK_FEATURES = {"type": "fbank", "sample_rate": 16000, "num_mel_bins": 64, "max_length": 200}
WAVEFORMS = {
    "tone": 0.5 * np.sin(2 * np.pi * 440 * np.arange(48000) / 16000),
    "noise": np.random.default_rng(2).normal(0, 0.3, 48000),
    "silence": np.zeros(48000),
}


@pytest.mark.parametrize("features", [EZVSL_FEATURES, FBANK_FEATURES], ids=["ezvsl", "fbank"])
@pytest.mark.parametrize("sound", WAVEFORMS)
def test_a_localizers_specaugmented_spectrogram_is_never_louder_than_its_clip_nor_quieter_than_silence(
    features, sound
):
    clean = localizer_spectrogram(WAVEFORMS[sound].astype(np.float32), 16000, features)[0].T
    floor = silence(features)
    assert floor <= clean.min() and (sound != "silence" or floor == clean.min())
    for seed in range(20):
        augmented = spec_augment(clean, generator=torch.Generator().manual_seed(seed), fill=floor)
        assert floor <= augmented.min() and augmented.max() <= clean.max()


def test_asl_maps_from_specaugmented_audio_stay_close_to_those_from_clean_audio():
    """A converted FNAC localizer's features (EZ-VSL's normalised log spectrogram) masked with their silence: the map
    of every AVSynth clip keeps a correlation of at least 0.999 with its clean map (0.98 with the dataset mean 0 they
    were filled with before, louder than any sound)."""
    torch.manual_seed(0)
    localizer = AVSSLLocalizer(AVSSLLocalizerConfig(embed_dim=64, image_size=64, audio_features=EZVSL_FEATURES)).eval()
    correlations = []
    for index in range(12):
        clip = make_clip(AVSynthSpec(), 0, "train", index)
        frame = F.interpolate(torch.from_numpy(clip.frames[8]).permute(2, 0, 1)[None] / 255, size=(64, 64))
        clean = localizer_spectrogram(clip.audio, 16000, EZVSL_FEATURES)
        for seed in range(5):
            generator = torch.Generator().manual_seed(seed)
            augmented = spec_augment(clean[0].T, generator=generator, fill=silence(EZVSL_FEATURES)).T[None]
            with torch.no_grad():
                maps = [localizer(frame, spectrogram[None]).maps.flatten() for spectrogram in (clean, augmented)]
            correlations.append(float(torch.corrcoef(torch.stack(maps))[0, 1]))
    assert min(correlations) >= 0.999
