"""Behaviour of `python -m modeling_avssl.commands.data inspect` and `prepare` on small trees."""

import json

import pytest

from modeling_avssl.commands.data import main as data_command
from modeling_avssl.data import load_clip
from modeling_avssl.data.sources import webdataset
from trees import write_broken, write_video


@pytest.fixture
def tree(tmp_path):
    """train/test splits of three classes; 'silent' has no audio, one train file is broken."""
    for split, count in (("train", 3), ("test", 1)):
        for label in ("drums", "cello", "silent"):
            for i in range(count):
                write_video(tmp_path / split / label / f"{i}.mp4", audio=label != "silent", shade=40 * i)
    write_broken(tmp_path / "train" / "drums" / "broken.avi")
    return tmp_path


def test_inspect_reports_counts_silent_classes_and_unreadable_files(tree, capsys):
    data_command(["inspect", str(tree)])
    report = capsys.readouterr().out
    assert report.startswith(f"{tree}: 12 readable videos, 3 classes, 1 unreadable")
    assert "split train: 9 videos" in report and "split test: 3 videos" in report
    silent = [line for line in report.splitlines() if line.strip().startswith("silent")]
    assert len(silent) == 2 and all(line.endswith("<- no audio") for line in silent)
    train = report.split("split train")[1]
    drums = next(line for line in train.splitlines() if line.strip().startswith("drums"))
    assert drums.split()[1:3] == ["3", "3"] and "32x32" in drums
    assert "train/drums/broken.avi: not a readable media container" in report


def test_prepare_split_writes_k_per_class_and_names_a_small_class(tree, tmp_path, capsys):
    out = tmp_path / "split.json"
    data_command(["prepare", "split", "videofolder", str(tree), "--shots", "2", "--seed", "1", "--out", str(out)])
    manifest = json.loads(out.read_text())
    assert manifest["num_samples"] == 10 and len(manifest["labeled"]) == 6 and manifest["seed"] == 1
    assert "6 labeled of 10 samples (2 per class)" in capsys.readouterr().out
    with pytest.raises(ValueError, match="'cello' has 3"):
        data_command(["prepare", "split", "videofolder", str(tree), "--shots", "4", "--out", str(out)])


def test_prepare_reshard_writes_shards_that_stream_back_the_same_samples(tree, tmp_path):
    out = tmp_path / "shards"
    data_command(["prepare", "reshard", "videofolder", str(tree), str(out), "--split", "test", "--shard-size", "2"])
    assert sorted(path.name for path in out.iterdir()) == ["classes.json", "test-00000.tar", "test-00001.tar"]

    source = webdataset(str(out / "test-*.tar"), "test")
    rows = sorted(source.dataset, key=lambda row: row["index"])
    assert source.classes == ["cello", "drums", "silent"]
    assert [(row["index"], row["label"]) for row in rows] == [(0, 0), (1, 1), (2, 2)]
    assert load_clip(rows[2]["video"], 2).has_audio is False


def test_inspect_reads_webdataset_shards(tree, tmp_path, capsys):
    out = tmp_path / "shards"
    data_command(["prepare", "reshard", "videofolder", str(tree), str(out), "--split", "test"])
    data_command(["inspect", str(out), "--split", "test"])
    report = capsys.readouterr().out
    assert "3 readable videos, 3 classes, 0 unreadable" in report
