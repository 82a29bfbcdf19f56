"""Behaviour of training batches: views of each sample, labels hidden for unlabeled ones, bad files counted."""

import logging
from itertools import islice

import pytest
import torch

from modeling_avssl.data import VideoAugmentation
from modeling_avssl.data.bad_files import BadFileMonitor, TooManyBadFiles
from modeling_avssl.data.collation import ClipTransform, training_loader
from modeling_avssl.data.sources import video_folder
from trees import write_broken, write_video


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    root = tmp_path_factory.mktemp("clips")
    for i in range(6):
        write_video(root / "train" / f"class{i % 2}" / f"{i}.mp4", shade=40 * (i % 3))
    return root


def transform(strong: bool) -> ClipTransform:
    augmentation = VideoAugmentation(crop_size=32)
    return ClipTransform(augmentation, num_frames=4, frame_stride=1, num_mel_bins=16, max_length=100, strong=strong)


def test_an_unlabeled_batch_holds_weak_and_strong_views_and_hidden_labels(folder):
    rows = video_folder(folder, "train").dataset
    batch = next(iter(training_loader(rows, transform(strong=True), 4, seed=0, labeled=False)))

    assert batch["pixel_values"].shape == batch["strong_pixel_values"].shape == (4, 4, 3, 32, 32)
    assert batch["input_values"].shape == batch["strong_input_values"].shape == (4, 100, 16)
    assert "labels" not in batch and batch["hidden_labels"].tolist() == [rows[int(i)]["label"] for i in batch["index"]]
    assert batch["bad_files"] == []
    assert not torch.equal(batch["pixel_values"], batch["strong_pixel_values"])
    assert (batch["strong_input_values"] == 0).any() and not (batch["input_values"] == 0).all(dim=1).any()


def test_a_labeled_batch_holds_its_weak_view_and_labels(folder):
    rows = video_folder(folder, "train").dataset
    batch = next(iter(training_loader(rows, transform(strong=False), 3, seed=0, labeled=True)))
    assert set(batch) == {"index", "labels", "pixel_values", "input_values", "bad_files"}
    assert batch["labels"].tolist() == [rows[int(i)]["label"] for i in batch["index"]]


def test_views_depend_on_the_seed_and_stream_position_not_on_workers(folder):
    rows = video_folder(folder, "train").dataset

    def batches(num_workers, seed=0):
        loader = training_loader(rows, transform(True), 2, seed, labeled=False, num_workers=num_workers)
        return list(islice(loader, 4))

    for main, worker in zip(batches(0), batches(1)):
        assert torch.equal(main["index"], worker["index"])
        assert torch.equal(main["strong_pixel_values"], worker["strong_pixel_values"])
        assert torch.equal(main["strong_input_values"], worker["strong_input_values"])
    assert not torch.equal(batches(0)[0]["strong_pixel_values"], batches(0, seed=1)[0]["strong_pixel_values"])


def test_bad_files_are_skipped_named_and_counted(tmp_path, caplog):
    write_video(tmp_path / "train" / "a" / "good.mp4")
    write_video(tmp_path / "train" / "a" / "silent.mp4", audio=False)
    write_broken(tmp_path / "train" / "b" / "broken.mp4")
    write_video(tmp_path / "train" / "b" / "fine.mp4")
    rows = video_folder(tmp_path, "train").dataset
    monitor = BadFileMonitor(max_fraction=0.6, window=8)

    with caplog.at_level(logging.WARNING):
        for batch in islice(training_loader(rows, transform(True), 2, seed=0, labeled=False), 2):  # one epoch
            monitor.update(len(batch.get("index", [])), batch["bad_files"])

    assert monitor.skipped == 2 and monitor.seen == 4
    assert "silent.mp4" in caplog.text and "broken.mp4" in caplog.text
    assert monitor.summary() == (
        "Skipped 2 bad files of 4 samples (1 no audio stream, 1 not a readable media container)."
    )


def test_too_many_bad_files_in_a_window_stop_the_run():
    monitor = BadFileMonitor(max_fraction=0.25, window=8)
    monitor.update(6, [("a.mp4", "no audio stream")])
    monitor.update(1, [("b.mp4", "no audio stream")])  # 2 of 8: tolerated
    with pytest.raises(TooManyBadFiles, match=r"3 of the last 8 samples .* \(more than 25%\).*3 no audio stream"):
        monitor.update(0, [("c.mp4", "no audio stream")])
