"""Behaviour of labeled splits: exactly k per class, deterministic from the seed, kept in a manifest."""

import dataclasses

import datasets
import numpy as np
import pytest

from modeling_avssl.data import load_clip
from modeling_avssl.data.sources import video_folder, webdataset
from modeling_avssl.data.splits import LabeledSplit, hold_out, labeled_split, load_or_create_split, split_rows
from trees import write_tar, write_video


LABELS = [i % 4 for i in range(40)] + [3] * 5  # ten samples of classes 0-2, fifteen of class 3
CLASSES = ["a", "b", "c", "d"]


@pytest.mark.parametrize("shots", [1, 5])
def test_exactly_k_labeled_samples_per_class(shots):
    split = labeled_split(LABELS, CLASSES, shots, seed=0)
    assert np.bincount(np.asarray(LABELS)[split.labeled], minlength=4).tolist() == [shots] * 4
    assert split.labeled == sorted(set(split.labeled))
    assert sorted(split.labeled + split.unlabeled()) == list(range(len(LABELS)))


def test_a_fraction_labels_that_share_of_each_class():
    split = labeled_split(LABELS, CLASSES, 0.2, seed=0)
    assert np.bincount(np.asarray(LABELS)[split.labeled]).tolist() == [2, 2, 2, 3]


def test_the_choice_depends_on_the_seed_alone():
    assert labeled_split(LABELS, CLASSES, 1, seed=3) == labeled_split(LABELS, CLASSES, 1, seed=3)
    choices = {tuple(labeled_split(LABELS, CLASSES, 1, seed=seed).labeled) for seed in range(10)}
    assert len(choices) > 5


def test_a_class_with_too_few_samples_is_named():
    with pytest.raises(ValueError, match=r"'a' has 10.*'b' has 10.*'c' has 10"):
        labeled_split(LABELS, CLASSES, 11, seed=0)
    with pytest.raises(ValueError, match="whole number"):
        labeled_split(LABELS, CLASSES, 1.5, seed=0)


def test_the_manifest_is_written_once_and_reused(tmp_path):
    path = tmp_path / "split.json"
    first = load_or_create_split(path, LABELS, CLASSES, 1, seed=0)
    assert LabeledSplit.load(path) == first
    edited = dataclasses.replace(first, labeled=[0, 1, 2, 3])
    edited.save(path)
    assert load_or_create_split(path, LABELS, CLASSES, 1, seed=0) == edited  # read, not drawn again


def test_a_manifest_made_for_other_settings_is_refused(tmp_path):
    path = tmp_path / "split.json"
    load_or_create_split(path, LABELS, CLASSES, 1, seed=0)
    with pytest.raises(ValueError, match="seed 0 != 1"):
        load_or_create_split(path, LABELS, CLASSES, 1, seed=1)
    with pytest.raises(ValueError, match="num_samples 45 != 44"):
        load_or_create_split(path, LABELS[:-1], CLASSES, 1, seed=0)
    with pytest.raises(ValueError, match="other class names"):
        load_or_create_split(path, LABELS, ["a", "b", "c", "e"], 1, seed=0)


def test_split_rows_of_a_folder_are_selections(tmp_path):
    for i in range(6):
        write_video(tmp_path / "train" / f"c{i % 2}" / f"{i}.mp4")
    source = video_folder(tmp_path, "train")
    split = labeled_split(source.dataset["label"], source.classes, 1, seed=0)

    labeled, unlabeled = split_rows(source, split)

    assert labeled["index"] == split.labeled and unlabeled["index"] == split.unlabeled()
    assert sorted(labeled["label"]) == [0, 1]


def test_split_rows_of_a_stream_keep_the_labeled_samples_in_files(tmp_path):
    members = {}
    for index in range(4):
        members[f"{index:06d}.mp4"] = open(
            write_video(tmp_path / "src" / f"{index}.mp4", shade=40 * index), "rb"
        ).read()
        members[f"{index:06d}.cls"] = str(index % 2).encode()
    write_tar(tmp_path / "train-0.tar", members)
    source = webdataset(str(tmp_path / "train-0.tar"), classes=["even", "odd"])
    split = labeled_split([0, 1, 0, 1], source.classes, 1, seed=0)

    labeled, unlabeled = split_rows(source, split, cache_dir=tmp_path / "labeled")

    assert labeled["index"] == split.labeled and [row["index"] for row in unlabeled] == split.unlabeled()
    assert all(path.startswith(str(tmp_path / "labeled")) for path in labeled["video"])
    assert [round(load_clip(path, 1).frames.mean() / 40) for path in labeled["video"]] == split.labeled


def test_a_validation_set_is_held_out_evenly_over_the_classes_and_leaves_the_rest():
    rows = datasets.Dataset.from_dict({"index": list(range(45)), "label": LABELS, "video": ["x"] * 45})
    rest, validation = hold_out(rows, 9, seed=0)
    assert sorted(validation["label"]) == [0, 0, 0, 1, 1, 2, 2, 3, 3]  # 9 // 4 per class, the remainder first
    assert set(validation["index"]).isdisjoint(rest["index"]) and len(rest) + len(validation) == 45
    assert hold_out(rows, 9, seed=0)[1]["index"] == validation["index"] != hold_out(rows, 9, seed=1)[1]["index"]
    with pytest.raises(ValueError, match="Class 0 has 10 rows"):
        hold_out(rows, 44, seed=0)
