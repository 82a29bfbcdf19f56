"""Behaviour of labeled splits: exactly k per class, deterministic from the seed, kept in a manifest."""

import dataclasses

import numpy as np
import pytest

from modeling_avssl.data.splits import LabeledSplit, labeled_split, load_or_create_split


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
