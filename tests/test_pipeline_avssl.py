"""`pipeline("video-classification", model=folder, trust_remote_code=True)` on a saved AVSSL folder: it decodes the
video and its audio with the folder's own decoder and returns `[{"label", "score"}, ...]`."""

import io
import os

import pytest
import torch
from runs import run_without_the_package
from transformers import pipeline

from modeling_avssl import AVSSLForVideoClassification, AVSSLVideoClassificationPipeline
from modeling_avssl.data.collation import ClipTransform
from modeling_avssl.decoding import DecodeError
from modeling_avssl.method import evaluation
from modeling_avssl.run.components import processor_for
from tiny import make_tiny_config
from trees import write_broken, write_video


def save_folder(folder, audio_visual: bool = True) -> AVSSLForVideoClassification:
    overrides = {} if audio_visual else {"audio_config": None}
    model = AVSSLForVideoClassification(make_tiny_config(**overrides)).eval()
    model.save_pretrained(folder)
    processor_for(model.config, frame_stride=2).save_pretrained(folder)
    return model


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    path = tmp_path_factory.mktemp("pipeline") / "model"
    save_folder(path)
    return path


@pytest.fixture(scope="module")
def classify(folder):
    return pipeline("video-classification", model=str(folder), trust_remote_code=True)


@pytest.fixture(scope="module")
def videos(tmp_path_factory):
    root = tmp_path_factory.mktemp("videos")
    return [write_video(root / f"{shade}.mp4", shade=shade, frames=16) for shade in (30, 120, 220)]


def test_the_saved_folder_names_its_pipeline_and_carries_its_code(folder):
    config = AVSSLForVideoClassification.from_pretrained(folder).config
    assert config.custom_pipelines["video-classification"]["impl"] == "pipeline_avssl.AVSSLVideoClassificationPipeline"
    assert {"pipeline_avssl.py", "decoding.py"} <= set(os.listdir(folder))


def test_a_video_path_gives_the_top_k_labels_best_first(classify, videos):
    predictions = classify(videos[0], top_k=2)

    assert [set(p) for p in predictions] == [{"label", "score"}] * 2
    assert {p["label"] for p in predictions} <= {"bounce", "slide", "pulse"}
    assert predictions[0]["score"] >= predictions[1]["score"]
    assert len(classify(videos[0])) == 3  # top_k defaults to 5, capped at the number of labels


def test_bytes_and_a_file_object_give_the_scores_of_the_path(classify, videos):
    with open(videos[1], "rb") as handle:
        content = handle.read()
    expected = classify(videos[1])

    assert classify(content) == expected
    assert classify(io.BytesIO(content)) == expected


def test_the_scores_are_the_test_protocols_over_num_clips_clips(classify, folder, videos):
    model, processor = classify.model, classify.processor
    transform = ClipTransform.from_processor(processor, model.config.video_input_shape[0], strong=False)
    views = evaluation.protocol_views(videos[2], transform, clips=2, crops=1)
    expected = evaluation.video_probabilities(model, [views], transform.augmentation)[0]

    predictions = classify(videos[2], num_clips=2)

    scores = {p["label"]: p["score"] for p in predictions}
    in_class_order = torch.tensor([scores[name] for name in model.config.class_names])
    torch.testing.assert_close(in_class_order, expected, rtol=1e-5, atol=1e-6)
    assert classify(videos[2], num_clips=1) != predictions


def test_the_pipeline_runs_on_the_device_it_is_given(folder, classify, videos, device):
    on_device = pipeline("video-classification", model=str(folder), trust_remote_code=True, device=device)
    assert on_device.model.device.type == device.type
    for together, alone in zip(on_device(videos, num_clips=2, batch_size=2), classify(videos, num_clips=2)):
        assert [p["label"] for p in together] == [p["label"] for p in alone]
        torch.testing.assert_close([p["score"] for p in together], [p["score"] for p in alone], rtol=1e-4, atol=1e-5)


def test_a_batch_of_videos_equals_one_at_a_time(classify, videos):
    one_by_one = [classify(video, num_clips=2) for video in videos]

    batched = classify(videos, num_clips=2, batch_size=2)

    assert len(batched) == 3
    for together, alone in zip(batched, one_by_one):
        assert [p["label"] for p in together] == [p["label"] for p in alone]
        torch.testing.assert_close([p["score"] for p in together], [p["score"] for p in alone])


def test_a_video_without_audio_is_heard_as_silence_and_named(classify, tmp_path, caplog):
    silent = write_video(tmp_path / "silent.mp4", audio=False, frames=16)

    predictions = classify(silent, top_k=2)

    assert len(predictions) == 2 and all(0 <= p["score"] <= 1 for p in predictions)
    assert f"{silent} has no audio stream: classified with silence as its audio" in caplog.text


def test_a_file_it_cannot_decode_raises_a_decode_error_naming_it(folder, tmp_path):

    classify = AVSSLVideoClassificationPipeline(
        model=AVSSLForVideoClassification.from_pretrained(folder), processor=processor_for(make_tiny_config(), 2)
    )
    broken = write_broken(tmp_path / "broken.mp4")
    with pytest.raises(DecodeError, match=f"cannot decode {broken}"):
        classify(broken)


def test_the_video_only_model_needs_no_audio(tmp_path, videos, caplog):
    save_folder(tmp_path / "video_only", audio_visual=False)
    classify = pipeline("video-classification", model=str(tmp_path / "video_only"), trust_remote_code=True)
    silent = write_video(tmp_path / "silent.mp4", audio=False, frames=16)

    assert len(classify(videos[0], top_k=1)) == 1 and len(classify(silent, top_k=1)) == 1
    assert "no audio stream" not in caplog.text


REMOTE_PIPELINE = """
import json

from transformers import AutoModel, AutoModelForVideoClassification, AutoProcessor, pipeline

folder, sound, silent, again = sys.argv[1:]
assert type(AutoModel.from_pretrained(folder, trust_remote_code=True)).__name__ == "AVSSLModel"
model = AutoModelForVideoClassification.from_pretrained(folder, trust_remote_code=True)
assert type(model).__name__ == "AVSSLForVideoClassification"
model.save_pretrained(again)  # remote code has no pipeline files beside it, so the copy names no pipeline
assert not json.loads(open(f"{again}/config.json").read()).get("custom_pipelines")
assert type(AutoProcessor.from_pretrained(folder, trust_remote_code=True)).__name__ == "AVSSLProcessor"
classify = pipeline("video-classification", model=folder, trust_remote_code=True)
assert type(classify).__module__.startswith("transformers_modules."), type(classify).__module__
for video in (sound, silent):
    predictions = classify(video, top_k=2)
    assert [set(p) for p in predictions] == [{"label", "score"}] * 2, predictions
    print(video, predictions[0]["label"], predictions[0]["score"])
"""


def test_a_process_without_the_package_builds_the_pipeline_from_the_folder(folder, videos, tmp_path):
    silent = write_video(tmp_path / "silent.mp4", audio=False, frames=16)

    arguments = [str(folder), videos[0], silent, str(tmp_path / "saved_again")]

    result = run_without_the_package(REMOTE_PIPELINE, arguments, tmp_path)

    assert result.returncode == 0, result.stderr
    assert [line.split()[0] for line in result.stdout.splitlines()] == [videos[0], silent]
    assert f"{silent} has no audio stream: classified with silence as its audio" in result.stderr
