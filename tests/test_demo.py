"""The demo app (`python -m modeling_avssl.commands.demo`): what it computes for a video, and the page a user sees in a
browser (headless Chromium)."""

import gradio as gr
import numpy as np
import pytest
from demo_browser import browser_available, classify_in_browser, serve
from test_default_run import TINY_LOCALIZER

from modeling_avssl import (
    AVSSLForVideoClassification,
    AVSSLLocalizer,
    AVSSLLocalizerConfig,
    AVSSLVideoClassificationPipeline,
)
from modeling_avssl.commands.demo import analyse, build_demo
from modeling_avssl.run.components import processor_for
from tiny import make_tiny_config
from trees import write_broken, write_video


@pytest.fixture(scope="module")
def classify():
    model = AVSSLForVideoClassification(make_tiny_config()).eval()
    return AVSSLVideoClassificationPipeline(model=model, processor=processor_for(model.config, frame_stride=2))


@pytest.fixture(scope="module")
def localizer():
    return AVSSLLocalizer(AVSSLLocalizerConfig(**TINY_LOCALIZER)).eval()


@pytest.fixture(scope="module")
def video(tmp_path_factory):
    return write_video(tmp_path_factory.mktemp("demo") / "clip.mp4", shade=90, frames=16)


def test_a_video_gets_the_pipelines_labels_the_map_over_its_frame_and_the_masks(classify, localizer, video):
    scores, heat_map, masks, note = analyse(video, classify, localizer, num_clips=2, top_k=3)

    assert scores == {p["label"]: p["score"] for p in classify(video, top_k=3, num_clips=2)}
    assert heat_map.shape == (224, 224, 3) and heat_map.dtype == np.uint8
    assert masks.shape == (2 * 224 + 4, 4 * 224 + 3 * 4, 3)  # Fig. 3: two rows of four panels
    assert note == ""


def test_a_silent_video_is_classified_and_the_page_says_it_had_no_audio(classify, localizer, tmp_path):
    silent = write_video(tmp_path / "silent.mp4", audio=False, frames=16)
    scores, *_, note = analyse(silent, classify, localizer)
    assert len(scores) == 3 and "no audio stream" in note
    assert "no audio stream" in analyse(silent, classify, None)[-1]  # also without the pictures


def test_without_a_localizer_it_shows_the_labels_alone(classify, video):
    scores, heat_map, masks, note = analyse(video, classify, None)
    assert len(scores) == 3 and heat_map is None and masks is None and "labels only" in note


def test_a_file_it_cannot_decode_is_an_error_on_the_page_naming_it(classify, localizer, tmp_path):
    broken = write_broken(tmp_path / "broken.mp4")
    with pytest.raises(gr.Error, match=f"cannot decode {broken}"):
        analyse(broken, classify, localizer)


@pytest.mark.slow
@pytest.mark.skipif(
    not browser_available(), reason="needs Debian's chromium and chromium-driver packages (.ci/run installs them)"
)
def test_in_a_browser_the_page_shows_the_labels_of_an_uploaded_mp4(classify, localizer, video):
    expected = [p["label"] for p in classify(video, top_k=3)]
    demo = build_demo(classify, localizer, top_k=3)
    try:
        shown = classify_in_browser(serve(demo), video)
    finally:
        demo.close()
    assert shown == expected
