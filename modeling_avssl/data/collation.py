"""Training batches: each sample decoded once into its views, bad files set aside, samples stacked, and on the device
normalised into the model's inputs.

A labeled sample becomes its weak view, clean audio features and `labels`; an unlabeled one its weak view and clean
audio (for the teacher), its strong view, its channel dropout and SpecAugmented audio (for the student), and
`hidden_labels`, which only diagnostics read. Views travel as uint8 until `ClipTransform.model_inputs` normalises
them where the model is. Every sample names its file (`sources`). A file that cannot be decoded is replaced by another
sample of the same stream (a row drawn from the sample's position, or the stream's next sample) and becomes a note
in the batch's `bad_files`, so batches keep their size (the processes of a distributed run stay in step), the
training loop counts it (see `bad_files.BadFileMonitor`) and the run goes on. `JointBatches` pairs the labeled and
unlabeled streams into the trainer's batches and does that counting as it reads them.
"""

import atexit
import multiprocessing
import os
import signal
from collections.abc import Callable, Iterable, Iterator, Sequence, Set
from dataclasses import dataclass
from itertools import islice

import datasets
import numpy as np
import torch
from datasets.distributed import split_dataset_by_node
from torch.utils.data import DataLoader, Dataset, IterableDataset, get_worker_info

from ..decoding import DecodeError, describe
from .audio import fbank_seconds, localizer_spectrogram, log_mel_fbank, silence, spec_augment
from .bad_files import MAX_REPLACEMENTS, BadFileMonitor, too_many_in_a_row
from .extracted_clips import read_clip
from .sampling import ShardedStream
from .video_transforms import VideoAugmentation, frames_to_video


@dataclass
class ClipTransform:
    """How a training sample is decoded and augmented.

    Attributes:
        augmentation: the video views (crop size and normalisation of the model's video processor).
        num_frames: frames per clip; `frame_stride` source frames apart.
        sample_rate, num_mel_bins, max_length: the audio features (AST's: 16 kHz, 128 bins, 1024 frames of 10 ms).
        strong: also make the strong views (unlabeled samples).
        localizer_features: the audio features of an ASL localizer (`AVSSLLocalizerConfig.audio_features`); with
            `strong`, the sample also carries its `localizer_spectrogram` `(1, freq, time)` of the audio centred on
            the clip, SpecAugmented like the student's strong audio (the localizer reads A_aud(a), paper Sec. 3.3), its
            masks filled with the features' `silence`.
        decoder_threads: threads of each stream's decoder (0: one per core; see `decoder_threads`).
    """

    augmentation: VideoAugmentation
    num_frames: int = 16
    frame_stride: int = 4
    sample_rate: int = 16000
    num_mel_bins: int = 128
    max_length: int = 1024
    strong: bool = False
    localizer_features: dict | None = None
    decoder_threads: int = 0

    @classmethod
    def from_processor(cls, processor, num_frames: int, strong: bool, **augmentation) -> "ClipTransform":
        """The views an `AVSSLProcessor`'s model takes, `num_frames` frames `processor.frame_stride` apart;
        `augmentation` sets `VideoAugmentation`'s strength."""
        extractor = processor.feature_extractor
        return cls(
            VideoAugmentation.from_video_processor(processor.video_processor, **augmentation),
            num_frames=num_frames,
            frame_stride=processor.frame_stride,
            sample_rate=extractor.sampling_rate,
            num_mel_bins=extractor.num_mel_bins,
            max_length=extractor.max_length,
            strong=strong,
        )

    def __call__(self, video: str | bytes, seed: Sequence[int]) -> dict[str, torch.Tensor]:
        """The views of one clip (uint8 frames `(T, C, S, S)`), with all randomness drawn from `seed`; raises
        `DecodeError` for a bad file."""
        rng = np.random.default_rng(seed)
        generator = torch.Generator().manual_seed(int(rng.integers(2**62)))
        clip = read_clip(
            video,
            self.num_frames,
            frame_stride=self.frame_stride,
            audio_seconds=fbank_seconds(self.max_length),
            sample_rate=self.sample_rate,
            training=True,
            rng=rng,
            require_audio=True,
            threads=self.decoder_threads,
            short_side=self.augmentation.decode_short_side(training=True),
        )
        frames = frames_to_video(clip.frames)
        features = log_mel_fbank(clip.audio, self.sample_rate, self.num_mel_bins, self.max_length)
        views = {"pixel_values": self.augmentation.weak(frames, generator), "input_values": features}
        if self.strong:
            views["strong_pixel_values"] = self.augmentation.strong(frames, generator)
            views["strong_channel_scale"] = self.augmentation.channel_scale(frames.shape[1], generator)
            views["strong_input_values"] = spec_augment(features, generator=generator)
            if self.localizer_features is not None:
                spectrogram = localizer_spectrogram(clip.audio, self.sample_rate, self.localizer_features)
                fill = silence(self.localizer_features)
                views["localizer_spectrogram"] = spec_augment(spectrogram[0].T, generator=generator, fill=fill).T[None]
        return views

    def model_inputs(self, batch: dict, device: torch.device) -> dict:
        """A collated batch of these views on `device` (`to_device`), its frames normalised there: `pixel_values` and
        `strong_pixel_values` float `(B, T, C, S, S)` as the model takes them (the latter with its channel dropout,
        `strong_channel_scale`, applied and dropped)."""
        inputs = to_device(batch, device)
        if "pixel_values" in inputs:
            inputs["pixel_values"] = self.augmentation.normalize(inputs["pixel_values"])
        if "strong_pixel_values" in inputs:
            scale = inputs.pop("strong_channel_scale")
            inputs["strong_pixel_values"] = self.augmentation.normalize(inputs["strong_pixel_values"], scale)
        return inputs


class TrainingClips(Dataset):
    """Rows `{"index", "label", "video"}` of a source, read as `(row, stream position)` pairs from `ShardedStream`
    and decoded by `transform`; the label goes out as `labels` or, for unlabeled samples, `hidden_labels`."""

    def __init__(self, rows, transform: ClipTransform, seed: int, label_key: str):
        self.rows, self.transform, self.seed, self.label_key = rows, transform, seed, label_key

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, item: tuple[int, int]) -> dict:
        """The sample at stream `position`; a bad file is replaced by rows drawn from `(seed, position)`, the same
        rows in every run (so a resumed run reads what the uninterrupted one read)."""
        row, position = item
        bad_files = []
        replacements = np.random.default_rng([self.seed, position, 1])
        for attempt in range(MAX_REPLACEMENTS + 1):
            seed = (self.seed, position) if attempt == 0 else (self.seed, position, 1, attempt)
            try:
                return _decoded(self.rows[row], self.transform, seed, self.label_key, bad_files)
            except DecodeError as error:
                bad_files.append((error.source, error.cause))
                row = int(replacements.integers(len(self.rows)))
        raise too_many_in_a_row(bad_files)


_NOTES = ("bad_files", "bad_rows")  # lists per sample, joined over a batch


def collate(samples: list[dict]) -> dict:
    """Stacks the decoded samples; `sources` names their files, `bad_files` lists `(source, cause)` of the files that
    were replaced and, in a stream, `bad_rows` their `(epoch, index)`."""
    batch = {}
    for key in samples[0]:
        values = [sample[key] for sample in samples]
        if key in _NOTES:
            batch[key] = [note for notes in values for note in notes]
        elif key == "sources":
            batch[key] = values
        else:
            batch[key] = torch.stack(values) if isinstance(values[0], torch.Tensor) else torch.tensor(values)
    return batch


class StreamedClips(IterableDataset):
    """A process's share of a streamed source, endlessly, epoch after epoch, decoded by `transform`.

    `rows` is already this process's split (`datasets.distributed.split_dataset_by_node`); `datasets` splits it over
    DataLoader workers by shard, and the DataLoader takes batch `i` from worker `i % workers`. Each epoch is shuffled
    with a buffer from `(seed, epoch)`. A bad file is replaced by the next row, and its `(epoch, index)` goes out in
    the `bad_rows` of the sample that replaced it. A resumed run's workers skip, without decoding them, the samples of
    the batches they made in the first `rounds_done` rounds (a round being one batch of every worker), passing over
    the rows in `bad_rows` (those the run had found bad before its checkpoint) as the run did.
    """

    def __init__(
        self,
        rows: datasets.IterableDataset,
        transform: ClipTransform,
        seed: int,
        label_key: str,
        batch_size: int,
        rounds_done: int,
        shuffle_buffer: int,
        bad_rows: Set[tuple[int, int]] = frozenset(),
    ):
        self.rows, self.transform, self.seed, self.label_key = rows, transform, seed, label_key
        self.batch_size, self.rounds_done, self.shuffle_buffer = batch_size, rounds_done, shuffle_buffer
        self.bad_rows = bad_rows

    def __iter__(self) -> Iterator[dict]:
        worker = get_worker_info()
        if worker is not None and worker.id >= self.rows.num_shards:
            return  # datasets gives this worker no shard
        skip = self.rounds_done * self.batch_size
        epoch = 0
        while True:
            shuffled = self.rows.shuffle(seed=self.seed, buffer_size=self.shuffle_buffer)
            shuffled.set_epoch(epoch)
            empty, bad_files, bad_rows = True, [], []
            for sample in shuffled:
                empty = False
                row = (epoch, sample["index"])
                if skip:
                    if row not in self.bad_rows:
                        skip -= 1
                    continue
                try:
                    yield {
                        **_decoded(sample, self.transform, (self.seed, *row), self.label_key, bad_files),
                        "bad_rows": bad_rows,
                    }
                    bad_files, bad_rows = [], []
                except DecodeError as error:
                    bad_files.append((error.source, error.cause))
                    bad_rows.append(row)
                    if len(bad_files) > MAX_REPLACEMENTS:
                        raise too_many_in_a_row(bad_files) from error
            if empty:
                raise ValueError("The streamed source yields no samples.")
            epoch += 1


class SkipBatches:
    """Iterates `loader` without its first `count` batches (a resumed stream's start inside a round of workers)."""

    def __init__(self, loader: DataLoader, count: int):
        self.loader, self.count = loader, count

    def __iter__(self) -> Iterator[dict]:
        return islice(self.loader, self.count, None)


def _decoded(
    sample: dict, transform: ClipTransform, seed: Sequence[int], label_key: str, bad_files: list[tuple[str, str]]
) -> dict:
    """The views of a row, with the notes of the bad files it replaces; raises `DecodeError` for a bad file."""
    views = transform(sample["video"], seed)
    source = describe(sample["video"])
    return {"index": sample["index"], label_key: sample["label"], "sources": source, "bad_files": bad_files, **views}


def training_loader(
    rows: datasets.Dataset | datasets.IterableDataset,
    transform: ClipTransform,
    batch_size: int,
    seed: int,
    *,
    labeled: bool,
    rank: int = 0,
    world_size: int = 1,
    start_step: int = 0,
    shuffle_buffer: int = 1000,
    bad_rows: Set[tuple[int, int]] = frozenset(),
    **loader_options,
) -> DataLoader | SkipBatches:
    """An endless loader of this process's batches of `rows`, a source's dataset (or a subset of it), starting at
    `start_step`: map-style rows are sharded once over the `world_size` processes by `ShardedStream`; streamed rows
    by `split_dataset_by_node` and `StreamedClips` (which passes over the `bad_rows` it is given while it skips to
    `start_step`). Labels go out as `labels`, or as `hidden_labels` when not `labeled`. `loader_options` go to the
    DataLoader (`num_workers`, `pin_memory`, ...)."""
    label_key = "labels" if labeled else "hidden_labels"
    options = {
        "batch_size": batch_size,
        "collate_fn": collate,
        "generator": torch.Generator().manual_seed(seed),  # worker seeds without touching the global RNG
        **loader_options,
    }
    if not isinstance(rows, datasets.IterableDataset):
        sampler = ShardedStream(len(rows), batch_size, seed, rank, world_size, start_step)
        return DataLoader(TrainingClips(rows, transform, seed, label_key), sampler=sampler, **options)
    rows = split_dataset_by_node(rows, rank, world_size)
    num_workers = options.get("num_workers", 0)
    workers = min(num_workers, rows.num_shards) if num_workers else 1
    rounds_done, into_round = divmod(start_step, workers)
    clips = StreamedClips(rows, transform, seed, label_key, batch_size, rounds_done, shuffle_buffer, bad_rows)
    return SkipBatches(DataLoader(clips, **options), into_round)


UNLABELED_SAMPLE_COST = 1.5  # an unlabeled sample (weak and strong views) in labeled ones (docs/data.md's benchmark)


def split_workers(workers: int, labeled_batch: int, unlabeled_batch: int) -> tuple[int, int]:
    """The DataLoader workers of the labeled and of the unlabeled stream, out of `workers`, in proportion to the work
    of their batches (an unlabeled sample costs about `UNLABELED_SAMPLE_COST` labeled ones); each stream gets at least
    one when there are any (so 1 gives 1 and 1)."""
    if not workers:
        return 0, 0
    share = labeled_batch / (labeled_batch + UNLABELED_SAMPLE_COST * unlabeled_batch)
    labeled = max(1, round(workers * share))
    return labeled, max(1, workers - labeled)


def loader_options(args, workers: int) -> dict:
    """A DataLoader's settings for `workers` workers from `args` (`TrainingArguments`): pinned memory (with a CUDA
    device), and with workers their prefetching and persistence, and workers that ignore stop signals."""
    options = {"num_workers": workers, "pin_memory": args.dataloader_pin_memory and args.device.type == "cuda"}
    if workers:
        options.update(
            prefetch_factor=args.dataloader_prefetch_factor,
            persistent_workers=args.dataloader_persistent_workers,
            worker_init_fn=ignore_stop_signals,
        )
    return options


STOP_SIGNALS = (signal.SIGTERM, signal.SIGUSR1)  # a scheduler's "stop soon" (SLURM's --signal sends SIGUSR1)


def ignore_stop_signals(worker_id: int) -> None:
    """A loader worker's start: `STOP_SIGNALS` are left to the main process, which stops the run in order
    (`method/preemption.py`); a launcher or a scheduler signals the worker with it, as one process group. The main
    process ends its workers at exit with `end_daemonic_children`."""
    for number in STOP_SIGNALS:
        signal.signal(number, signal.SIG_IGN)


def end_daemonic_children(grace: float = 1.0) -> None:
    """At exit, before multiprocessing's own handler (which terminates daemonic children, loader workers among them,
    with SIGTERM and waits for them forever): terminates them, and kills those still alive after `grace` seconds,
    as loader workers that ignore SIGTERM are. Without it a process whose loaders were not shut down (persistent
    workers, an error mid-step) would hang at exit."""
    children = [child for child in multiprocessing.active_children() if child.daemon]
    for child in children:
        child.terminate()
    for child in children:
        child.join(grace)
        if child.is_alive():
            child.kill()
            child.join()


atexit.register(end_daemonic_children)  # after multiprocessing's (registered when it was imported): runs before it


class JointBatches:
    """Endless `{"labeled": ..., "unlabeled": ...}` batches from the two streams, each made the model's inputs by
    `prepare` (on the device, normalised there); the first `labeled_only` batches (the rest of the supervised warm-up)
    have an empty unlabeled batch and read nothing of the unlabeled stream.

    Each batch is accounted for as it is read: its good and bad samples go to `bad_files` (which stops the run when
    too many are bad), the `(epoch, index)` of the bad rows a stream passed over to `bad_rows` (a checkpoint keeps
    them), and the files it read to `sources` (named when its step goes wrong; emptied by its reader after each step).
    """

    def __init__(
        self,
        labeled: Iterable[dict],
        unlabeled: Iterable[dict],
        prepare: Callable[[dict], dict],
        bad_files: BadFileMonitor,
        bad_rows: set[tuple[int, int]],
        sources: list[str],
        labeled_only: int = 0,
    ):
        self.labeled, self.unlabeled, self.prepare, self.labeled_only = labeled, unlabeled, prepare, labeled_only
        self.bad_files, self.bad_rows, self.sources = bad_files, bad_rows, sources

    def __iter__(self) -> Iterator[dict]:
        labeled = iter(self.labeled)
        for batch in islice(labeled, self.labeled_only):
            yield {"labeled": self._read(batch), "unlabeled": {}}
        for batch, unlabeled in zip(labeled, self.unlabeled):
            yield {"labeled": self._read(batch), "unlabeled": self._read(unlabeled)}

    def _read(self, batch: dict) -> dict:
        self.bad_files.update(len(batch.get("index", [])), batch.get("bad_files", []))
        self.bad_rows.update(map(tuple, batch.get("bad_rows", [])))
        self.sources += batch.get("sources", [])
        return self.prepare(batch)


def decoder_threads(workers: int) -> int:
    """Threads for each decoder of a loader with `workers` workers in all: the cores this process may use, shared by
    its workers and by the other training processes of its node (`LOCAL_WORLD_SIZE`, as `accelerate launch` sets
    it); 0 (FFmpeg's choice, one per core) when the main process decodes."""
    if not workers:
        return 0
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return max(1, cores // (workers * int(os.environ.get("LOCAL_WORLD_SIZE", 1))))


def to_device(data, device: torch.device):
    """The tensors of `data` (a tensor, or dicts and lists holding them) on `device`. To a CUDA device, host tensors
    are copied from pinned memory (the loaders pin their batches) without making the host wait."""
    if isinstance(data, dict):
        return {key: to_device(value, device) for key, value in data.items()}
    if isinstance(data, list):
        return [to_device(value, device) for value in data]
    if isinstance(data, torch.Tensor):
        if device.type == "cuda" and data.device.type == "cpu":
            return data.pin_memory().to(device, non_blocking=True)
        return data.to(device)
    return data
