"""Behaviour of `python -m modeling_avssl.commands.flops`: the full-size model's figures, counted on meta tensors."""

import re

import pytest

from modeling_avssl import AVSSLConfig
from modeling_avssl.commands.flops import main, measure


@pytest.fixture(scope="module")
def videomae_figures():
    return measure(AVSSLConfig(audio_config=None))


def test_timesformer_video_only_model_has_the_papers_121m_trainable_parameters():
    figures = measure(AVSSLConfig(video_config={"model_type": "timesformer"}, audio_config=None, num_labels=51))
    assert round(figures.trainable_parameters / 1e6) == 121


def test_a_videomae_b_clip_costs_the_published_180_gmacs(videomae_figures):
    assert videomae_figures.clip_flops / 2e9 == pytest.approx(180, rel=0.01)


def test_an_iteration_is_sixteen_clip_forwards_for_one_labeled_and_five_unlabeled_clips(videomae_figures):
    # student on 1 labeled + 5 strong + 5 mixed clips, teacher on 5 weak clips; mixing itself adds no FLOPs
    assert videomae_figures.iteration_flops == 16 * videomae_figures.clip_flops
    assert videomae_figures.localizer_flops == {"every": 0, "tubelet": 0}  # video-only: no ASL mixup


def test_the_localizer_runs_on_every_frame_or_one_frame_per_tubelet_of_the_strong_clips():
    figures = measure(AVSSLConfig())
    resnet18_frame_flops = 2 * 1.82e9
    every, tubelet = figures.localizer_flops["every"], figures.localizer_flops["tubelet"]
    assert 5 * 16 * resnet18_frame_flops < every < 5 * 19 * resnet18_frame_flops  # 16 frames, the 128 x 1024 audio
    assert every - tubelet == pytest.approx(5 * 8 * resnet18_frame_flops, rel=0.01)  # 8 of the 16 frames


def test_the_command_prints_parameters_and_both_flop_units(capsys):
    main(["--video-only"])
    printed = capsys.readouterr().out
    assert re.search(r"trainable parameters +86.3M", printed)
    assert "GFLOPs" in printed and "GMACs" in printed and "B_l=1, B_u=5" in printed
