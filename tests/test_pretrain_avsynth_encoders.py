"""Encoders pretrained, self-supervised, on a generated AVSynth corpus disjoint from the default data set, saved as an
AVSSL checkpoint the trainer starts from (audio-visual, or its video encoder alone)."""

import math
import os

import pytest
import torch
from runs import DEFAULT_CONFIG, script
from safetensors.torch import load_file
from transformers import VideoMAEForPreTraining

from modeling_avssl import AVSSLForVideoClassification
from modeling_avssl.data.avsynth import CLASSES
from modeling_avssl.run.arguments import parse_arguments
from modeling_avssl.run.components import build_model
from tiny import make_inputs, make_tiny_config


PRETRAINING = script("experiments/pretrain_avsynth_encoders.py")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope="module", params=["attributes", "self-supervised"])
def pretrained(request, tmp_path_factory) -> tuple[str, dict]:
    tmp = tmp_path_factory.mktemp("pretraining")
    arguments = ["--objective", request.param, "--output", str(tmp / "model"), "--corpus-dir", str(tmp / "corpus")]
    arguments += ["--model-config", os.path.join(ROOT, "configs", "avsynth_tiny_model.json")]
    arguments += ["--clips", "64", "--test-clips", "16", "--epochs", "1", "--audio-epochs", "1"]
    arguments += [
        "--probe-config",
        os.path.join(ROOT, "configs", "avsynth_tiny.yaml"),
        "--probe-data",
        str(tmp / "data"),
    ]
    return str(tmp / "model"), PRETRAINING["main"](arguments)


def test_the_motion_target_scores_each_shape_present_and_ignores_absent_ones():
    motions = torch.tensor([[0, 1, 4], [2, 0, 3]])  # per shape: absent, or 1 + the motion's index
    logits = torch.full((2, 3, 5), -10.0)
    logits[0, 1, 1] = logits[0, 2, 4] = logits[1, 0, 2] = 10.0  # right where present
    logits[1, 2, 1] = 10.0  # wrong
    logits[0, 0, 3] = 10.0  # a motion guessed for an absent shape is not scored
    assert PRETRAINING["motion_accuracy"](logits.view(2, -1), motions) == 0.75
    uniform = PRETRAINING["motion_loss"](torch.zeros(2, 15), motions)  # a 5-way cross-entropy per shape, summed
    torch.testing.assert_close(uniform, torch.tensor(3 * math.log(5)))


def test_the_masked_frame_loss_rebuilds_hidden_tokens_through_the_shared_video_encoder():
    model = AVSSLForVideoClassification(make_tiny_config(video_pooling="mean"))  # as the pretrained encoders are
    pretraining = VideoMAEForPreTraining(model.config.video_config)
    pretraining.videomae = model.avssl.video_encoder
    loss = PRETRAINING["masked_frames_loss"](pretraining, make_inputs(model.config)["pixel_values"], 0.75)
    loss.backward()
    assert torch.isfinite(loss) and loss > 0
    assert model.avssl.video_encoder.embeddings.patch_embeddings.projection.weight.grad.abs().sum() > 0


@pytest.mark.slow
def test_pretraining_saves_a_checkpoint_of_avsynth_classes_with_its_probe_figures(pretrained):
    folder, figures = pretrained
    model = AVSSLForVideoClassification.from_pretrained(folder)
    assert list(model.config.id2label.values()) == list(CLASSES)
    assert model.config.video_pooling == "mean"  # the summary the video encoder was pretrained with
    card = open(os.path.join(folder, "README.md")).read()
    assert "one clip per class" in card and ("timbre" in card or "no label of any kind" in card)
    for moment in ("before", "after"):
        assert (
            0 <= figures[moment]["one_clip_per_class"] <= 1
            and len(figures[moment]["one_clip_per_class_by_split"]) == 4
        )


@pytest.mark.slow
def test_the_trainer_starts_from_the_checkpoint_or_from_its_video_encoder_alone(pretrained):
    folder, _ = pretrained
    saved = load_file(os.path.join(folder, "model.safetensors"))
    key = "avssl.video_encoder.embeddings.patch_embeddings.projection.weight"
    for extra, audio_visual in (([], True), (["--audio_model_name_or_path", "none"], False)):
        model_args = parse_arguments([DEFAULT_CONFIG, "--model_name_or_path", folder, *extra])[0]
        model = build_model(model_args, list(CLASSES))
        assert model.config.is_audio_visual == audio_visual
        assert torch.equal(model.state_dict()[key], saved[key])
