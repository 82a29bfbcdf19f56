"""Behaviour of training batches: views of each sample, labels hidden for unlabeled ones, bad files replaced and
counted."""

import json
import logging
import os
from itertools import islice

import pytest
import torch

from modeling_avssl.data import VideoAugmentation
from modeling_avssl.data.bad_files import BadFileMonitor, TooManyBadFiles
from modeling_avssl.data.collation import ClipTransform, decoder_threads, split_workers, training_loader
from modeling_avssl.data.sources import video_folder, webdataset
from trees import write_broken, write_tar, write_video


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
    assert batch["pixel_values"].dtype == batch["strong_pixel_values"].dtype == torch.uint8  # a quarter of float32
    assert batch["strong_channel_scale"].shape == (4, 3)
    assert batch["input_values"].shape == batch["strong_input_values"].shape == (4, 100, 16)
    assert "labels" not in batch and batch["hidden_labels"].tolist() == [rows[int(i)]["label"] for i in batch["index"]]
    assert batch["bad_files"] == []
    assert not torch.equal(batch["pixel_values"], batch["strong_pixel_values"])
    assert (batch["strong_input_values"] == 0).any() and not (batch["input_values"] == 0).all(dim=1).any()


def test_a_batch_becomes_the_models_inputs_normalised_on_its_device_with_the_channel_dropout(folder, device):
    rows = video_folder(folder, "train").dataset
    clips = transform(strong=True)
    batch = next(iter(training_loader(rows, clips, 4, seed=0, labeled=False)))
    inputs = clips.model_inputs(batch, device)
    assert "strong_channel_scale" not in inputs and inputs["sources"] == batch["sources"]
    normalize = clips.augmentation.normalize
    expected = {
        "pixel_values": normalize(batch["pixel_values"]),
        "strong_pixel_values": normalize(batch["strong_pixel_values"], batch["strong_channel_scale"]),
        "strong_input_values": batch["strong_input_values"],
    }
    for name, value in expected.items():
        assert inputs[name].device.type == device.type and inputs[name].dtype == torch.float32
        torch.testing.assert_close(inputs[name].cpu(), value)


def test_a_labeled_batch_holds_its_weak_view_and_labels(folder):
    rows = video_folder(folder, "train").dataset
    batch = next(iter(training_loader(rows, transform(strong=False), 3, seed=0, labeled=True)))
    assert set(batch) == {"index", "labels", "pixel_values", "input_values", "sources", "bad_files"}
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


def bad_file_tree(root):
    write_video(root / "train" / "a" / "good.mp4")
    write_video(root / "train" / "a" / "silent.mp4", audio=False)
    write_broken(root / "train" / "b" / "broken.mp4")
    write_video(root / "train" / "b" / "fine.mp4")
    return video_folder(root, "train").dataset


@pytest.mark.parametrize("labeled", [True, False])
def test_bad_files_are_replaced_so_batches_keep_their_size_and_are_named_and_counted(tmp_path, caplog, labeled):
    rows = bad_file_tree(tmp_path)
    monitor = BadFileMonitor(max_fraction=0.9, window=100)

    with caplog.at_level(logging.WARNING):
        batches = list(islice(training_loader(rows, transform(not labeled), 2, seed=0, labeled=labeled), 4))
        for batch in batches:
            monitor.update(len(batch["index"]), batch["bad_files"])

    assert [len(batch["index"]) for batch in batches] == [2, 2, 2, 2]
    assert {source.rsplit("/", 1)[-1] for batch in batches for source in batch["sources"]} <= {"good.mp4", "fine.mp4"}
    assert monitor.skipped >= 4 and monitor.seen == 8 + monitor.skipped  # each bad file drawn in each epoch, at least
    assert "silent.mp4" in caplog.text and "broken.mp4" in caplog.text
    assert "no audio stream" in monitor.summary() and "not a readable media container" in monitor.summary()


def test_replacements_are_the_same_in_every_run(tmp_path):
    rows = bad_file_tree(tmp_path)

    def sources():
        loader = training_loader(rows, transform(False), 2, seed=0, labeled=True)
        return [batch["sources"] for batch in islice(loader, 4)]

    assert sources() == sources()


def test_a_stream_of_bad_files_only_stops_with_an_error_that_names_them(tmp_path):
    write_broken(tmp_path / "train" / "a" / "broken.mp4")
    write_video(tmp_path / "train" / "b" / "silent.mp4", audio=False)
    rows = video_folder(tmp_path, "train").dataset
    with pytest.raises(TooManyBadFiles, match=r"21 files in a row could not be decoded .*(broken|silent)\.mp4"):
        next(iter(training_loader(rows, transform(False), 1, seed=0, labeled=True)))


def test_too_many_bad_files_in_a_window_stop_the_run():
    monitor = BadFileMonitor(max_fraction=0.25, window=8)
    monitor.update(6, [("a.mp4", "no audio stream")])
    monitor.update(1, [("b.mp4", "no audio stream")])  # 2 of 8: tolerated
    with pytest.raises(TooManyBadFiles, match=r"3 of the last 8 samples .* \(more than 25%\).*3 no audio stream"):
        monitor.update(0, [("c.mp4", "no audio stream")])


def test_a_short_run_is_stopped_too_once_fifty_samples_were_read():
    monitor = BadFileMonitor(max_fraction=0.1, window=500)
    monitor.update(20, [("a.mp4", "no audio stream")] * 10)  # a third bad, but only 30 samples read so far
    with pytest.raises(TooManyBadFiles, match=r"10 of the last 50 samples"):
        monitor.update(20, [])


@pytest.fixture(scope="module")
def shards(tmp_path_factory):
    """Two webdataset shards of three clips each, indices 0-5."""
    root = tmp_path_factory.mktemp("shards")
    for shard in range(2):
        members = {}
        for index in range(3 * shard, 3 * shard + 3):
            members[f"{index:06d}.mp4"] = open(
                write_video(root / "src" / f"{index}.mp4", shade=40 * index), "rb"
            ).read()
            members[f"{index:06d}.cls"] = str(index % 2).encode()
        write_tar(root / f"train-{shard}.tar", members)
    (root / "classes.json").write_text(json.dumps(["even", "odd"]))
    return str(root / "train-*.tar")


def test_a_streamed_source_is_split_once_over_processes(shards):
    rows = webdataset(shards).dataset
    per_rank = []
    for rank in range(2):
        loader = training_loader(rows, transform(True), 3, seed=0, labeled=False, rank=rank, world_size=2)
        per_rank.append([batch["index"].tolist() for batch in islice(loader, 2)])  # two epochs of this process
    for rank, (first, second) in enumerate(per_rank):
        assert sorted(first) == sorted(second) == [3 * rank, 3 * rank + 1, 3 * rank + 2]


@pytest.mark.parametrize("num_workers", [0, 2])
def test_a_resumed_stream_reads_on_where_it_stopped(shards, num_workers):
    rows = webdataset(shards).dataset

    def batches(start_step, count):
        loader = training_loader(
            rows, transform(True), 2, seed=1, labeled=False, start_step=start_step, num_workers=num_workers
        )
        return [(batch["index"].tolist(), batch["strong_pixel_values"]) for batch in islice(loader, count)]

    whole, resumed = batches(0, 7), batches(3, 4)
    for (index, views), (resumed_index, resumed_views) in zip(whole[3:], resumed):
        assert index == resumed_index and torch.equal(views, resumed_views)


@pytest.mark.parametrize(
    "workers, split",
    [(0, (0, 0)), (1, (1, 1)), (2, (1, 1)), (8, (1, 7)), (16, (2, 14)), (32, (4, 28))],
)
def test_the_workers_are_shared_by_the_streams_in_proportion_to_their_work(workers, split):
    assert split_workers(workers, labeled_batch=1, unlabeled_batch=5) == split  # B_l = 1, B_u = 5


def test_the_decoders_share_the_cores_with_the_workers_and_the_nodes_processes(monkeypatch):
    cores = len(os.sched_getaffinity(0))
    assert decoder_threads(0) == 0  # the main process decodes with FFmpeg's threads
    for workers, processes in [(1, 1), (2, 1), (1, 2), (4 * cores, 1)]:
        monkeypatch.setenv("LOCAL_WORLD_SIZE", str(processes))
        threads = decoder_threads(workers)
        assert threads >= 1 and (threads == 1 or threads * workers * processes <= cores)
        assert (threads + 1) * workers * processes > cores  # no core left idle
