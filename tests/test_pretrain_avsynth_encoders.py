"""Encoders pretrained on a generated AVSynth corpus disjoint from the default data set, saved as an AVSSL checkpoint
the trainer starts from (audio-visual, or its video encoder alone)."""

import math
import os

import pytest
import torch
from runs import DEFAULT_CONFIG, script
from safetensors.torch import load_file

from modeling_avssl import AVSSLForVideoClassification
from modeling_avssl.arguments import parse_arguments
from modeling_avssl.building import build_model
from modeling_avssl.data.avsynth import CLASSES


pytestmark = pytest.mark.slow  # whole training runs


PRETRAINING = script("experiments/pretrain_avsynth_encoders.py")
pretrain, motion_accuracy, motion_loss = (PRETRAINING[name] for name in ("main", "motion_accuracy", "motion_loss"))


ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope="module")
def pretrained(tmp_path_factory) -> str:
    tmp = tmp_path_factory.mktemp("pretraining")
    tiny = os.path.join(ROOT, "configs", "avsynth_tiny_model.json")
    arguments = ["--model-config", tiny, "--corpus-dir", str(tmp / "corpus"), "--output", str(tmp / "model")]
    pretrain([*arguments, "--clips", "64", "--test-clips", "16", "--epochs", "1"])
    return str(tmp / "model")


def test_the_motion_target_scores_each_shape_present_and_ignores_absent_ones():
    motions = torch.tensor([[0, 1, 4], [2, 0, 3]])  # per shape: absent, or 1 + the motion's index
    logits = torch.full((2, 3, 5), -10.0)
    logits[0, 1, 1] = logits[0, 2, 4] = logits[1, 0, 2] = 10.0  # right where present
    logits[1, 2, 1] = 10.0  # wrong
    logits[0, 0, 3] = 10.0  # a motion guessed for an absent shape is not scored
    assert motion_accuracy(logits.view(2, -1), motions) == 0.75
    uniform = motion_loss(torch.zeros(2, 15), motions)  # a 5-way cross-entropy per shape, summed
    torch.testing.assert_close(uniform, torch.tensor(3 * math.log(5)))


def test_pretraining_saves_a_checkpoint_of_avsynth_classes_with_a_card(pretrained):
    model = AVSSLForVideoClassification.from_pretrained(pretrained)
    assert list(model.config.id2label.values()) == list(CLASSES)
    assert model.config.video_pooling == "mean"  # the summary the video encoder was pretrained with
    card = open(os.path.join(pretrained, "README.md")).read()
    assert "motion of the objects present" in card and "timbre" in card


def test_the_trainer_starts_from_the_checkpoint_or_from_its_video_encoder_alone(pretrained):
    saved = load_file(os.path.join(pretrained, "model.safetensors"))
    key = "avssl.video_encoder.embeddings.patch_embeddings.projection.weight"
    for extra, audio_visual in (([], True), (["--audio_model_name_or_path", "none"], False)):
        model_args = parse_arguments([DEFAULT_CONFIG, "--model_name_or_path", pretrained, *extra])[0]
        model = build_model(model_args, list(CLASSES))
        assert model.config.is_audio_visual == audio_visual
        assert torch.equal(model.state_dict()[key], saved[key])
