"""`python -m modeling_avssl.commands.predict`: labels and scores of a video from a saved model folder."""

import os

import pytest
from runs import train

from modeling_avssl.commands.predict import main as predict_command
from trees import write_broken, write_video


pytestmark = pytest.mark.slow  # whole training runs


ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    folder = tmp_path_factory.mktemp("predict")
    config = os.path.join(ROOT, "configs", "avsynth_tiny.yaml")
    model = os.path.join(ROOT, "configs", "avsynth_tiny_model.json")
    train(
        [config, "--output_dir", str(folder / "model"), "--data_path", str(folder / "data"), "--model_config", model]
    )
    return folder


def test_predict_prints_the_top_k_labels_best_first(trained, capsys):
    video = next((trained / "data" / "test").glob("*/*.mp4"))
    predict_command([str(video), "--model", str(trained / "model"), "--top-k", "3", "--clips", "2"])
    lines = capsys.readouterr().out.splitlines()
    scores = [float(line.split()[0]) for line in lines]
    labels = [line.split()[1] for line in lines]
    assert len(lines) == 3 and scores == sorted(scores, reverse=True) and sum(scores) <= 1
    assert all("-" in label for label in labels)  # AVSynth's motion-shape class names


def test_predict_names_a_file_it_cannot_decode(trained, tmp_path, capsys):
    broken = write_broken(tmp_path / "broken.mp4")
    with pytest.raises(SystemExit):
        predict_command([broken, "--model", str(trained / "model")])
    error = capsys.readouterr().err
    assert f"cannot decode {broken}" in error


def test_predict_classifies_a_video_without_audio_and_says_it_heard_silence(trained, tmp_path, capsys, caplog):
    silent = write_video(tmp_path / "silent.mp4", audio=False, frames=16)
    predict_command([silent, "--model", str(trained / "model"), "--top-k", "2"])
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 and all(0 <= float(line.split()[0]) <= 1 for line in lines)
    assert f"{silent} has no audio stream: classified with silence as its audio" in caplog.text
