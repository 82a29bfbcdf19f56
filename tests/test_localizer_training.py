"""Behaviour of self-supervised localizer training with the Trainer: no labels, FNAC terms after a warm-up, bad files
replaced and counted."""

import logging

import torch
from transformers import TrainingArguments

from modeling_avssl import AVSSLLocalizer, AVSSLLocalizerConfig
from modeling_avssl.data.avsynth import generate
from modeling_avssl.data.bad_files import BadFileMonitor
from modeling_avssl.localizer.modeling_localizer import localization_losses
from modeling_avssl.localizer.training import LocalizerClips, LocalizerTrainer, train_localizer


FEATURES = {"type": "fbank", "sample_rate": 16000, "num_mel_bins": 32, "max_length": 64}


def tiny_config() -> AVSSLLocalizerConfig:
    return AVSSLLocalizerConfig(embed_dim=16, image_size=64, audio_features=FEATURES)


def arguments(tmp_path, **overrides) -> TrainingArguments:
    values = dict(
        output_dir=str(tmp_path / "run"),
        per_device_train_batch_size=2,
        max_steps=2,
        learning_rate=1e-3,
        report_to=[],
        save_strategy="no",
        disable_tqdm=True,
        remove_unused_columns=False,
    )
    values.update(overrides)
    return TrainingArguments(**values)


def videos(tmp_path, count: int = 4) -> list[str]:
    generate(tmp_path / "avsynth", count, 0, seed=0)
    return sorted(str(p) for p in (tmp_path / "avsynth").rglob("*.mp4"))


def test_samples_are_one_normalised_frame_and_the_fbank_of_the_clip(tmp_path):
    sample = LocalizerClips(videos(tmp_path, 1), tiny_config(), num_frames=16, training=False)[0]
    assert set(sample) == {"pixel_values", "spectrogram", "bad_files"}  # nothing about the label
    assert sample["bad_files"] == []
    assert sample["pixel_values"].shape == (3, 64, 64) and sample["spectrogram"].shape == (1, 32, 64)


def test_training_updates_the_weights_and_saves_a_loadable_localizer(tmp_path):
    torch.manual_seed(0)
    before = AVSSLLocalizer(tiny_config()).state_dict()
    model = train_localizer(videos(tmp_path), tmp_path / "localizer", tiny_config(), 16, arguments(tmp_path))
    loaded = AVSSLLocalizer.from_pretrained(tmp_path / "localizer")
    assert any(not torch.equal(before[k], v) for k, v in model.state_dict().items() if v.is_floating_point())
    assert all(torch.equal(v, loaded.state_dict()[k]) for k, v in model.state_dict().items())


def test_bad_files_are_replaced_counted_and_summed_up_in_the_log(tmp_path, caplog):
    files = videos(tmp_path)
    (tmp_path / "broken.mp4").write_bytes(b"not a video")
    monitor = BadFileMonitor(max_fraction=0.9, window=100)
    with caplog.at_level(logging.INFO):
        train_localizer(
            [str(tmp_path / "broken.mp4")] + files,
            tmp_path / "loc",
            tiny_config(),
            16,
            arguments(tmp_path),
            bad_files=monitor,
        )
    assert monitor.skipped >= 1 and monitor.seen == 4 + monitor.skipped  # 2 steps of 2 samples, all decoded
    assert "broken.mp4" in caplog.text and "localizer: Skipped" in caplog.text


def test_the_loss_is_ez_vsls_alone_during_the_warm_up_then_fnacs(tmp_path):
    model = AVSSLLocalizer(tiny_config()).eval()
    trainer = LocalizerTrainer(model=model, args=arguments(tmp_path), fnac_warmup_steps=3)
    inputs = {"pixel_values": torch.randn(3, 3, 64, 64), "spectrogram": torch.randn(3, 1, 32, 64)}
    terms = model(**inputs, return_loss=True)

    trainer.state.global_step = 2
    torch.testing.assert_close(trainer.compute_loss(model, inputs), terms.loss_terms["contrastive"])
    trainer.state.global_step = 3
    torch.testing.assert_close(trainer.compute_loss(model, inputs), terms.loss)


def test_the_mean_pooling_warm_up_comes_first(tmp_path):
    model = AVSSLLocalizer(tiny_config()).eval()
    trainer = LocalizerTrainer(model=model, args=arguments(tmp_path), mean_pooling_steps=2, fnac_warmup_steps=3)
    inputs = {"pixel_values": torch.randn(3, 3, 64, 64), "spectrogram": torch.randn(3, 1, 32, 64)}
    outputs = model(**inputs, return_loss=True)
    config = model.config
    mean_pooled = localization_losses(
        outputs.image_embeds, outputs.audio_embeds, config.temperature, config.foreground_threshold, "mean"
    )

    trainer.state.global_step = 1
    torch.testing.assert_close(trainer.compute_loss(model, inputs), mean_pooled["contrastive"])
    trainer.state.global_step = 2
    torch.testing.assert_close(trainer.compute_loss(model, inputs), outputs.loss_terms["contrastive"])
    trainer.state.global_step = 3
    torch.testing.assert_close(trainer.compute_loss(model, inputs), outputs.loss)
