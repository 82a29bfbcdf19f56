"""`--dataset datasets` (`data/datasets_form.py`): any data set `datasets.load_dataset` reads (parquet with embedded
videos, a `videofolder` of class folders or a metadata file, JSON lines of paths), streamed or not, becomes rows whose
videos this package's decoder reads (never `datasets`' own video decoding); runs train from them."""

import json
import os

import datasets
import pytest
from runs import tiny_run, train

from modeling_avssl.commands.data import main as data_command
from modeling_avssl.data import DecodeError, load_clip
from modeling_avssl.data.datasets_form import datasets_source, write_parquet
from modeling_avssl.data.sources import video_folder
from trees import write_video


@pytest.fixture(autouse=True)
def _no_decoding_by_datasets(monkeypatch):
    """Every test fails if `datasets` decodes a video itself."""

    def refuse(*args, **kwargs):
        raise AssertionError("datasets decoded a video")

    monkeypatch.setattr(datasets.Video, "decode_example", refuse)


@pytest.fixture
def folder(tmp_path):
    """A videofolder: train/{cello,drums}/*.mp4 (2 and 1 clips) and test/{cello,drums}/0.mp4; shades tell them
    apart."""
    for split, clips in (("train", {"cello": 2, "drums": 1}), ("test", {"cello": 1, "drums": 1})):
        for label, count in clips.items():
            for i in range(count):
                write_video(
                    tmp_path / "videos" / split / label / f"{i}.mp4", shade=40 * i + (100 if label == "drums" else 0)
                )
    return tmp_path / "videos"


def shade(video) -> int:
    """The grey level a clip was written with (to the nearest 20: the codec moves it a little)."""
    return int(20 * round(load_clip(video, 1).frames.mean() / 20))


def test_a_videofolder_gives_class_label_names_and_path_structs(folder):
    source = datasets_source(str(folder), "train")
    assert source.classes == ["cello", "drums"] and not source.streaming
    assert source.dataset["index"] == [0, 1, 2] and source.dataset["label"] == [0, 0, 1]
    video = source.dataset[2]["video"]
    assert video["bytes"] is None and video["path"].endswith("train/drums/0.mp4") and shade(video) == 100
    assert str(source.listed) == "found 3 of 3 listed clips"


def test_parquet_written_by_prepare_holds_the_videos_and_labels(folder, tmp_path):
    for split in ("train", "test"):
        data_command(["prepare", "parquet", "videofolder", str(folder), str(tmp_path / "pq"), "--split", split])
    assert sorted(os.listdir(tmp_path / "pq" / "data")) == [
        "test-00000-of-00001.parquet",
        "train-00000-of-00001.parquet",
    ]
    source = datasets_source(str(tmp_path / "pq"), "train")
    original = video_folder(folder, "train")
    assert source.classes == original.classes and source.dataset["label"] == original.dataset["label"]
    assert all(isinstance(video["bytes"], bytes) for video in source.dataset["video"])
    assert [shade(video) for video in source.dataset["video"]] == [shade(path) for path in original.dataset["video"]]
    assert source.listed is None  # embedded videos are never missing
    write_parquet(source, tmp_path / "again", "train")  # from embedded videos: the file names are kept
    names = [video["path"] for video in datasets_source(str(tmp_path / "again"), "train").dataset["video"]]
    assert names == ["0.mp4", "1.mp4", "0.mp4"]


def test_a_damaged_embedded_video_is_a_decode_error_naming_its_file(tmp_path):
    with pytest.raises(DecodeError, match=r"cannot decode clip_7.mp4 <9 bytes>: not a readable media container"):
        load_clip({"path": "clip_7.mp4", "bytes": b"not a mp4"}, 2)
    with pytest.raises(DecodeError, match="neither bytes nor a path"):
        load_clip({"path": None, "bytes": None}, 2)


def test_a_struct_whose_path_is_a_url_is_read_through_fsspec(folder):
    """As a streamed Hub folder gives its videos (`hf://...`); a `file://` URL takes the same road here."""
    video = {"path": (folder / "train" / "drums" / "0.mp4").as_uri(), "bytes": None}
    assert shade(video) == 100
    with pytest.raises(DecodeError, match="gone.mp4: cannot read it"):
        load_clip({"path": (folder / "gone.mp4").as_uri(), "bytes": None}, 1)


def test_a_streamed_split_numbers_its_rows_by_an_index_column(folder, tmp_path):
    data_command(["prepare", "parquet", "videofolder", str(folder), str(tmp_path / "pq"), "--shard-size", "2"])
    source = datasets_source(str(tmp_path / "pq"), "train", streaming=True)
    assert source.streaming and source.classes == ["cello", "drums"]
    rows = sorted(source.dataset, key=lambda row: row["index"])
    assert [(row["index"], row["label"], shade(row["video"])) for row in rows] == [(0, 0, 0), (1, 0, 40), (2, 1, 100)]


def test_a_stream_without_an_index_column_or_class_labels_is_an_error_saying_what_to_do(folder):
    with pytest.raises(ValueError, match="--index_column, or load it without --streaming"):
        datasets_source(str(folder), "train", streaming=True)


def test_a_metadata_file_with_names_as_labels_counts_the_files_it_lists_but_lacks(folder):
    train = folder / "train"
    lines = ["file_name,label", "cello/0.mp4,strings", "cello/1.mp4,strings", "drums/0.mp4,percussion"]
    (train / "metadata.csv").write_text("\n".join([*lines, "cello/9.mp4,strings", "gone/1.mp4,percussion"]) + "\n")
    source = datasets_source(str(folder), "train")
    assert source.classes == ["percussion", "strings"] and source.dropped == {"missing file": 2}
    assert source.dataset["index"] == [0, 1, 2] and source.dataset["label"] == [1, 1, 0]
    assert source.listed.as_dict()["classes"] == {
        "percussion": {"listed": 2, "found": 1},
        "strings": {"listed": 3, "found": 2},
    }
    (train / "metadata.csv").write_text("\n".join([*lines, "gone/1.mp4,brass", "gone/2.mp4,brass"]) + "\n")
    with pytest.raises(ValueError, match="None of the listed clips of 1 class.*'brass'"):
        datasets_source(str(folder), "train")


def test_json_lines_of_paths_and_integer_labels_under_other_column_names(folder, tmp_path):
    rows = [{"clip": str(path), "y": i % 2} for i, path in enumerate(sorted((folder / "train").rglob("*.mp4")))]
    (tmp_path / "jl").mkdir()
    (tmp_path / "jl" / "train.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows))
    with pytest.raises(ValueError, match="name one with --video_column"):
        datasets_source(str(tmp_path / "jl"), "train")
    source = datasets_source(str(tmp_path / "jl"), "train", video_column="clip", label_column="y")
    assert source.classes == ["0", "1"] and source.dataset["label"] == [0, 1, 0]
    assert source.dataset["video"] == [row["clip"] for row in rows]


@pytest.mark.slow
def test_the_tiny_run_trains_from_parquet_streamed_or_not_and_from_a_videofolder(avsynth, tmp_path):
    train(tiny_run(tmp_path / "prepare", avsynth, "--max_steps", "1"))  # writes AVSynth once
    for split in ("train", "test"):
        data_command(["prepare", "parquet", "videofolder", avsynth, str(tmp_path / "pq"), "--split", split])
    runs = {"parquet": (tmp_path / "pq",), "streamed": (tmp_path / "pq", "--streaming", "true"), "folder": (avsynth,)}
    for name, (data, *options) in runs.items():  # AVSynth's own folder is a videofolder
        trainer = train(tiny_run(tmp_path / name, data, "--dataset", "datasets", *options))
        assert trainer.state.global_step == 6 and trainer.bad_files.skipped == 0
        assert trainer.model.config.class_names == video_folder(avsynth, "train").classes
        assert (tmp_path / name / "model.safetensors").is_file()
        assert json.loads((tmp_path / name / "eval_results.json").read_text())["eval_videos"] == 12
    splits = [json.loads((tmp_path / name / "labeled_split.json").read_text()) for name in runs]
    assert splits[0] == splits[1] == splits[2]  # the same rows, numbered alike, in every form
    assert len(os.listdir(tmp_path / "streamed" / "labeled_cache")) == len(splits[0]["labeled"]) + 1  # + rows.json
