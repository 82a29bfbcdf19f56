"""Clips a data set lists but a copy lacks (10-20% of any Kinetics or VGGSound download): counted per split and class
by the sources that list their clips, reported by `inspect` before training, and written by a run to
`listed_clips.json`, its summary and its model card; a class left with no clip is an error that names it."""

import json
import os
import shutil

import pytest
from runs import tiny_run, train

from modeling_avssl.commands.data import main as data_command
from modeling_avssl.data.sources import kinetics400, ucf101, vggsound, video_folder
from trees import write_video


def kinetics_tree(root, clips: dict[str, list[tuple[str, str | None]]]) -> None:
    """`<root>/annotations/<split>.csv` listing `(youtube_id, source video or None)` per class; the clips whose
    source is given are copied to `<root>/<split>/<class>/<id>_000000_000010.mp4` (None: listed, missing)."""
    os.makedirs(os.path.join(root, "annotations"), exist_ok=True)
    for split in ("train", "test"):
        lines = ["label,youtube_id,time_start,time_end,split"]
        for label, entries in clips.items():
            for youtube_id, video in entries:
                if not youtube_id.startswith(split):
                    continue
                lines.append(f"{label},{youtube_id},0,10,{split}")
                if video is not None:
                    target = os.path.join(root, split, label.replace(" ", "_"), f"{youtube_id}_000000_000010.mp4")
                    os.makedirs(os.path.dirname(target), exist_ok=True)
                    shutil.copy(video, target)
        with open(os.path.join(root, "annotations", f"{split}.csv"), "w") as handle:
            handle.write("\n".join(lines) + "\n")


def test_kinetics_folders_read_the_listed_clips_and_count_the_missing_per_class(tmp_path):
    video = write_video(tmp_path / "v.mp4")
    clips = {
        "playing cello": [("train_a", video), ("train_b", None), ("train_c", video)],
        "zumba": [("train_d", video), ("train_e", None), ("train_f", None), ("test_g", video)],
    }
    kinetics_tree(tmp_path / "k400", clips)
    os.makedirs(tmp_path / "k400" / "train" / "zumba", exist_ok=True)
    shutil.copy(video, tmp_path / "k400" / "train" / "zumba" / "unlisted_000000_000010.mp4")

    source = kinetics400(tmp_path / "k400", "train", probe_cache=tmp_path / "probe.json")

    assert source.classes == ["playing cello", "zumba"] and source.dataset["label"] == [0, 0, 1]
    assert str(source.listed) == "found 3 of 6 listed clips" and source.listed.missing == {
        "playing cello": 1,
        "zumba": 2,
    }
    assert source.dropped == {"missing file": 3}
    test = kinetics400(tmp_path / "k400", "test", probe_cache=tmp_path / "probe.json")
    assert test.listed.as_dict() == {"listed": 1, "found": 1, "classes": {"zumba": {"listed": 1, "found": 1}}}


def test_a_class_left_with_no_clip_is_an_error_naming_it(tmp_path):
    video = write_video(tmp_path / "v.mp4")
    kinetics_tree(tmp_path / "k400", {"abseiling": [("train_a", video)], "zumba": [("train_b", None)]})
    with pytest.raises(ValueError, match="None of the listed clips of 1 class.*'zumba'"):
        kinetics400(tmp_path / "k400", "train", probe_cache=tmp_path / "probe.json")


def test_vggsound_and_ucf101_count_what_their_lists_name(tmp_path):
    rows = [("a", 0, "dog", "train"), ("b", 0, "dog", "train"), ("c", 0, "cat", "train")]
    (tmp_path / "vggsound.csv").write_text("".join(f"{y},{s},{label},{split}\n" for y, s, label, split in rows))
    for youtube_id in ("a", "c"):
        write_video(tmp_path / "video" / f"{youtube_id}_000000.mp4")
    listed = vggsound(tmp_path / "vggsound.csv", tmp_path / "video", "train").listed
    assert listed.as_dict()["classes"] == {"dog": {"listed": 2, "found": 1}, "cat": {"listed": 1, "found": 1}}

    for name in ("v_Drumming_g01_c01.avi", "v_Drumming_g01_c02.avi", "v_Skiing_g01_c01.avi"):
        write_video(tmp_path / "ucf" / name.split("_")[1] / name)
    entries = [
        "Drumming/v_Drumming_g01_c01.avi 1",
        "Drumming/v_Drumming_g09_c01.avi 1",
        "Skiing/v_Skiing_g01_c01.avi 2",
    ]
    (tmp_path / "ucf" / "trainlist01.txt").write_text("\n".join(entries) + "\n")
    (tmp_path / "ucf" / "testlist01.txt").write_text("Drumming/v_Drumming_g01_c02.avi\n")
    source = ucf101(tmp_path / "ucf", "train", probe_cache=tmp_path / "probe.json")
    assert str(source.listed) == "found 2 of 3 listed clips" and source.listed.missing == {"Drumming": 1}


def test_inspect_reports_the_missing_clips_per_class_before_training(tmp_path, capsys):
    video = write_video(tmp_path / "v.mp4")
    kinetics_tree(
        tmp_path / "k400", {"abseiling": [("train_a", video), ("train_b", None)], "zumba": [("train_c", video)]}
    )
    data_command(["inspect", str(tmp_path / "k400"), "--dataset", "kinetics400"])
    report = capsys.readouterr().out
    assert "2 rows, 2 classes" in report and "found 2 of 3 listed clips; 1 of 2 classes miss some" in report
    assert any(line.split() == ["abseiling", "2", "1", "1"] for line in report.splitlines())
    assert "left out: 1 (missing file)" in report


@pytest.mark.slow
def test_a_run_from_a_kinetics_csv_with_missing_clips_states_what_it_found(avsynth, tmp_path, capsys):
    train(tiny_run(tmp_path / "prepare", avsynth, "--max_steps", "1"))  # writes AVSynth once
    clips = {}
    for split in ("train", "test"):
        source = video_folder(avsynth, split)
        for position, (video, label) in enumerate(zip(source.dataset["video"], source.dataset["label"])):
            missing = split == "train" and position % 4 == 3  # a quarter of the training clips are gone
            clips.setdefault(source.classes[label], []).append((f"{split}_{position:03d}", None if missing else video))
    kinetics_tree(tmp_path / "k400", clips)
    listed = {
        split: sum(name.startswith(split) for entries in clips.values() for name, _ in entries)
        for split in ("train", "test")
    }
    gone = sum(video is None for entries in clips.values() for _, video in entries)

    trainer = train(tiny_run(tmp_path / "run", tmp_path / "k400", "--dataset", "kinetics400"))

    counts = json.loads((tmp_path / "run" / "listed_clips.json").read_text())
    assert counts["train"]["listed"] == listed["train"] and counts["train"]["found"] == listed["train"] - gone
    assert counts["test"] == {**counts["test"], "listed": listed["test"], "found": listed["test"]}
    per_class = counts["train"]["classes"]
    assert sum(entry["listed"] - entry["found"] for entry in per_class.values()) == gone
    assert sorted(per_class) == trainer.model.config.class_names
    note = f"train: found {listed['train'] - gone} of {listed['train']} listed clips"
    assert note in (tmp_path / "run" / "README.md").read_text()
    assert f"data: {note}; test: found {listed['test']} of {listed['test']}" in capsys.readouterr().out
    assert trainer.state.global_step == 6
