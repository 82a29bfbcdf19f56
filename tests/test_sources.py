"""Behaviour of the data sources on small trees the tests write: rows, classes, stable indices, what is left out."""

import json
import os

import pytest

from modeling_avssl.data import load_clip
from modeling_avssl.data import sources as sources_module
from modeling_avssl.data.sources import kinetics400, probe_files, ucf101, vggsound, video_folder, webdataset
from trees import write_broken, write_tar, write_video


def shade_of(video) -> int:
    """The grey level of a tree's clip (its files differ only by it; levels are multiples of 40, h264 moves them by a
    few)."""
    return round(float(load_clip(video, 2).frames.mean()) / 20) * 20


def test_a_videofolder_gives_sorted_classes_and_indexed_rows(tmp_path):
    write_video(tmp_path / "train" / "b_class" / "2.mp4")
    write_video(tmp_path / "train" / "a_class" / "1.avi")
    write_video(tmp_path / "train" / "a_class" / "0.mp4")
    (tmp_path / "train" / "a_class" / "notes.txt").write_text("not a video")

    source = video_folder(tmp_path, "train")

    assert source.classes == ["a_class", "b_class"]
    assert source.dataset["index"] == [0, 1, 2]
    assert source.dataset["label"] == [0, 0, 1]
    assert [v.rsplit("/", 2)[1:] for v in source.dataset["video"]] == [
        ["a_class", "0.mp4"],
        ["a_class", "1.avi"],
        ["b_class", "2.mp4"],
    ]
    assert source.dataset.features["label"].names == ["a_class", "b_class"]
    with pytest.raises(FileNotFoundError, match="test"):
        video_folder(tmp_path, "test")


@pytest.fixture
def ucf(tmp_path):
    """UCF-101 in its layout: two classes with audio (one of them with a silent video), one silent class, split
    lists in ucfTrainTestlist naming one file that is missing."""
    root = tmp_path / "UCF-101"
    train, test = [], []
    for name, audio in (("Drumming", True), ("PlayingCello", True), ("Archery", False)):
        for group in range(1, 4):
            entry = f"{name}/v_{name}_g0{group}_c01.avi"
            silent_one = name == "Drumming" and group == 3
            write_video(root / entry, audio=audio and not silent_one, shade=40 * group)
            (train if group < 3 else test).append(entry)
    lists = root / "ucfTrainTestlist"
    lists.mkdir()
    (lists / "trainlist01.txt").write_text(
        "".join(f"{e} {i}\n" for i, e in enumerate(train + ["Drumming/v_Drumming_g09_c01.avi"]))
    )
    (lists / "testlist01.txt").write_text("".join(f"{e}\n" for e in test))
    return root


def test_hidden_files_and_folders_are_no_videos_or_classes_and_extensions_match_in_any_case(tmp_path):
    write_video(tmp_path / "train" / "cello" / "a.MP4")
    write_video(tmp_path / "train" / ".ipynb_checkpoints" / "a-checkpoint.mp4")
    (tmp_path / "train" / "cello" / "._a.MP4").write_bytes(b"\x00\x05\x16\x07 a macOS resource fork")

    source = video_folder(tmp_path, "train")

    assert source.classes == ["cello"] and [os.path.basename(v) for v in source.dataset["video"]] == ["a.MP4"]


def test_a_file_name_that_is_not_utf8_is_left_out_and_named(tmp_path, caplog):
    write_video(tmp_path / "train" / "a" / "good.mp4")
    write_video(tmp_path / "train" / "b" / "fine.mp4")
    os.rename(tmp_path / "train" / "b" / "fine.mp4", os.fsdecode(bytes(tmp_path / "train" / "b") + b"/caf\xe9.mp4"))
    with caplog.at_level("WARNING"):
        source = video_folder(tmp_path, "train")
    assert [os.path.basename(path) for path in source.dataset["video"]] == ["good.mp4"]
    assert source.dropped == {"name not UTF-8": 1}
    assert "caf\\xe9.mp4" in caplog.text


def test_ucf101_keeps_the_classes_with_audio_as_ucf51(ucf, tmp_path):
    cache = tmp_path / "probe.json"
    train = ucf101(ucf, "train", probe_cache=cache)
    test = ucf101(ucf, "test", probe_cache=cache)

    assert train.classes == test.classes == ["Drumming", "PlayingCello"]
    assert len(train.dataset) == 4 and train.dataset["label"] == [0, 0, 1, 1]
    assert train.dropped == {"missing file": 1, "class without audio": 2}
    assert len(test.dataset) == 1 and test.dataset["label"] == [1]
    assert test.dropped == {"class without audio": 1, "no audio stream": 1}  # Drumming's third video is silent
    assert ucf101(ucf, "train", require_audio=False).classes == ["Archery", "Drumming", "PlayingCello"]


def test_ucf101_audio_probes_are_cached_in_a_manifest(ucf, tmp_path, monkeypatch):
    cache = tmp_path / "probe.json"
    first = ucf101(ucf, "train", probe_cache=cache)
    assert len(json.loads(cache.read_text())) == 9

    def no_probing(path):
        raise AssertionError(f"probed {path} again")

    monkeypatch.setattr(sources_module, "probe", no_probing)
    assert ucf101(ucf, "train", probe_cache=cache).dataset["video"] == first.dataset["video"]


def test_a_changed_file_is_probed_again(tmp_path):
    video = write_video(tmp_path / "a.mp4", audio=True)
    cache = tmp_path / "probe.json"
    assert probe_files([video], cache)[video].has_audio
    write_video(tmp_path / "a.mp4", audio=False, frames=9)
    assert not probe_files([video], cache)[video].has_audio
    broken = write_broken(tmp_path / "b.mp4")
    assert "not a readable media container" in probe_files([broken], cache)[broken]


def test_vggsound_reads_its_csv_and_counts_missing_files(tmp_path):
    rows = [
        ("abc", 30, "dog barking", "train"),
        ("def", 5, "playing cello", "train"),
        ("gone", 0, "dog barking", "train"),
        ("ghi", 100, "people marching", "test"),
    ]
    (tmp_path / "vggsound.csv").write_text("".join(f'{y},{s},"{label}",{split}\n' for y, s, label, split in rows))
    for youtube_id, start, *_ in rows:
        if youtube_id != "gone":
            write_video(tmp_path / "video" / f"{youtube_id}_{start:06d}.mp4")

    train = vggsound(tmp_path / "vggsound.csv", tmp_path / "video", "train")
    test = vggsound(tmp_path / "vggsound.csv", tmp_path / "video", "test")

    assert train.classes == test.classes == ["dog barking", "people marching", "playing cello"]
    assert train.dataset["label"] == [0, 2] and train.dataset["index"] == [0, 1]
    assert train.dropped == {"missing file": 1}
    assert test.dataset["label"] == [1] and not test.dropped


def test_kinetics_folders_drop_clips_without_audio(tmp_path):
    write_video(tmp_path / "k400" / "train" / "abseiling" / "a.mp4")
    write_video(tmp_path / "k400" / "train" / "abseiling" / "b.mp4", audio=False)
    write_video(tmp_path / "k400" / "train" / "zumba" / "c.mp4")

    source = kinetics400(tmp_path / "k400", "train", probe_cache=tmp_path / "probe.json")

    assert source.classes == ["abseiling", "zumba"]
    assert [v.rsplit("/", 1)[1] for v in source.dataset["video"]] == ["a.mp4", "c.mp4"]
    assert source.dataset["index"] == [0, 1] and source.dropped == {"no audio stream": 1}


def test_kinetics_tar_shards_stream_with_labels_from_the_annotations(tmp_path):
    root = tmp_path / "k400"
    clips = {
        name: open(write_video(tmp_path / "src" / f"{name}.mp4", shade=shade), "rb").read()
        for name, shade in (("yt1_000010_000020", 40), ("yt2_000000_000010", 120))
    }
    write_tar(root / "train" / "part_0.tar", {f"{name}.mp4": data for name, data in clips.items()})
    (root / "annotations").mkdir()
    (root / "annotations" / "train.csv").write_text(
        "label,youtube_id,time_start,time_end,split\nzumba,yt2,0,10,train\nabseiling,yt1,10,20,train\n"
    )

    source = kinetics400(root, "train")

    assert source.streaming and source.classes == ["abseiling", "zumba"]
    rows = list(source.dataset)
    assert [(row["index"], row["label"]) for row in rows] == [(1, 0), (0, 1)]
    assert [shade_of(row["video"]) for row in rows] == [40, 120]


def webdataset_shard(path, samples: dict[str, tuple[bytes, dict[str, bytes]]]) -> str:
    members = {}
    for key, (video, extra) in samples.items():
        members[f"{key}.mp4"] = video
        members.update({f"{key}.{field}": value for field, value in extra.items()})
    return write_tar(path, members)


def test_webdataset_shards_stream_through_datasets_with_cls_labels(tmp_path):
    video = {shade: open(write_video(tmp_path / f"{shade}.mp4", shade=shade), "rb").read() for shade in (40, 200)}
    webdataset_shard(tmp_path / "shards" / "train-0.tar", {"000000": (video[40], {"cls": b"1"})})
    webdataset_shard(tmp_path / "shards" / "train-1.tar", {"000001": (video[200], {"cls": b"0"})})
    (tmp_path / "shards" / "classes.json").write_text(json.dumps(["cat", "dog"]))

    source = webdataset(str(tmp_path / "shards" / "train-*.tar"))

    assert source.streaming and source.classes == ["cat", "dog"]
    rows = sorted(source.dataset, key=lambda row: row["index"])
    assert [(row["index"], row["label"], shade_of(row["video"])) for row in rows] == [(0, 1, 40), (1, 0, 200)]


def test_webdataset_json_labels_and_indices_under_configured_names(tmp_path):
    video = open(write_video(tmp_path / "v.mp4", shade=80), "rb").read()
    meta = json.dumps({"caption": "dog", "row": 7}).encode()
    shard = webdataset_shard(tmp_path / "s.tar", {"yt_abc": (video, {"json": meta})})

    source = webdataset(shard, classes=["cat", "dog"], label_column="json", label_key="caption", index_key="row")

    (row,) = list(source.dataset)
    assert (row["index"], row["label"], shade_of(row["video"])) == (7, 1, 80)
    with pytest.raises(ValueError, match="no integer index.*prepare reshard"):
        list(webdataset(shard, classes=["cat", "dog"], label_column="json", label_key="caption").dataset)


def test_webdataset_without_class_names_is_an_error(tmp_path):
    shard = webdataset_shard(tmp_path / "s.tar", {"000000": (b"", {"cls": b"0"})})
    with pytest.raises(ValueError, match="classes.json"):
        webdataset(shard)
