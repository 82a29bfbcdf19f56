"""The multi-view test protocol (docs/design.md 5.11): each video as `clips x crops` views whose softmax outputs are
averaged. `AVSSLTrainer.evaluate` reads videos through it (`predict_videos`); the `video-classification` pipeline
reads the same centre view of each clip (`tests/test_pipeline_avssl.py`), so a model is tested the way it is used."""

from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace

import datasets
import torch
import torch.distributed as dist
from datasets.distributed import split_dataset_by_node
from torch.utils.data import DataLoader, Dataset, IterableDataset
from tqdm.auto import tqdm

from ..data import log_mel_fbank
from ..data.audio import fbank_seconds
from ..data.collation import ClipTransform, decoder_threads, loader_options, to_device
from ..data.extracted_clips import read_clip
from ..data.video_transforms import VideoAugmentation, frames_to_video
from ..decoding import DecodeError, Source


def protocol_views(video: Source, transform: ClipTransform, clips: int, crops: int) -> dict[str, torch.Tensor | bool]:
    """All test views of a video: uint8 `pixel_values` `(clips * crops, T, C, S, S)` (clips evenly spaced over the
    video, crops along its long side), the `input_values` fbank `(clips * crops, L, M)` of each view's clip (of a
    silent waveform for a video without an audio stream) and `has_audio`. Raises `DecodeError` for a video that
    cannot be decoded."""
    pixel_values, input_values, has_audio = [], [], True
    for clip_index in range(clips):
        clip = read_clip(
            video,
            transform.num_frames,
            frame_stride=transform.frame_stride,
            clip_index=clip_index,
            num_clips=clips,
            audio_seconds=fbank_seconds(transform.max_length),
            sample_rate=transform.sample_rate,
            threads=transform.decoder_threads,
            short_side=transform.augmentation.decode_short_side(training=False),
        )
        views = transform.augmentation.eval_views(frames_to_video(clip.frames), crops)
        features = log_mel_fbank(clip.audio, transform.sample_rate, transform.num_mel_bins, transform.max_length)
        pixel_values += views
        input_values += [features] * len(views)
        has_audio = has_audio and clip.has_audio
    return {
        "pixel_values": torch.stack(pixel_values),
        "input_values": torch.stack(input_values),
        "has_audio": has_audio,
    }


@torch.no_grad()
def video_probabilities(
    model, videos: list[dict[str, torch.Tensor | bool]], augmentation: VideoAugmentation
) -> torch.Tensor:
    """The class probabilities `(len(videos), num_classes)` of videos given by their `protocol_views`: the softmax over
    each video's views, averaged. The views of all the videos go through the model in one forward, normalised on its
    device by `augmentation` (the audio is left out for a video-only model)."""
    device = next(model.parameters()).device
    pixel_values = augmentation.normalize(to_device(torch.cat([video["pixel_values"] for video in videos]), device))
    audio = None
    if model.config.is_audio_visual:
        audio = to_device(torch.cat([video["input_values"] for video in videos]), device)
    probabilities = model(pixel_values, audio).logits.float().softmax(dim=-1).cpu()
    return torch.stack([part.mean(dim=0) for part in probabilities.split([len(v["pixel_values"]) for v in videos])])


def _labeled_views(row: dict, transform: ClipTransform, clips: int, crops: int) -> dict | None:
    try:
        return {**protocol_views(row["video"], transform, clips, crops), "label": row["label"]}
    except DecodeError:
        return None


class EvalViews(Dataset):
    """`protocol_views` and the label of each row of a test set; None for a video that cannot be decoded."""

    def __init__(self, rows: datasets.Dataset, transform: ClipTransform, clips: int, crops: int):
        self.rows, self.transform, self.clips, self.crops = rows, transform, clips, crops

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, position: int) -> dict | None:
        return _labeled_views(self.rows[position], self.transform, self.clips, self.crops)


class StreamedEvalViews(IterableDataset):
    """`EvalViews` of a streamed test set (split over DataLoader workers by shard)."""

    def __init__(self, rows: datasets.IterableDataset, transform: ClipTransform, clips: int, crops: int):
        self.rows, self.transform, self.clips, self.crops = rows, transform, clips, crops

    def __iter__(self):
        for row in self.rows:
            yield _labeled_views(row, self.transform, self.clips, self.crops)


class EvalCache:
    """The decoded test views of whole test sets, kept in memory between the evaluations of one run (the supervised
    -only baseline's too, which is handed the same cache) up to `max_bytes` in all; a set that does not fit whole is
    decoded every time. A set is known by the dataset object (held, so that its id stays its own), what its views are
    made of (the transform's clip, audio and crop settings, the views per video) and the process's shard."""

    def __init__(self, max_bytes: int = 0):
        self.max_bytes, self.used = max_bytes, 0
        self._sets: dict[tuple, tuple[datasets.Dataset, list[dict | None]]] = {}

    @staticmethod
    def key(rows: datasets.Dataset, transform: ClipTransform, clips: int, crops: int, shard: tuple) -> tuple:
        augmentation = transform.augmentation
        crop = (augmentation.crop_size, *augmentation.scale.flatten().tolist(), *augmentation.shift.flatten().tolist())
        clip = (transform.num_frames, transform.frame_stride, transform.sample_rate)
        audio = (transform.num_mel_bins, transform.max_length)
        return id(rows), crop, clip, audio, clips, crops, shard

    def videos(self, key: tuple, rows: datasets.Dataset, decode: Callable[[], Iterable]) -> Iterator[dict | None]:
        """The videos of the set (None for one that could not be decoded): those kept under `key`, or those
        `decode()` yields, kept once the set has been read whole if it fits."""
        if key in self._sets:
            yield from self._sets[key][1]
            return
        kept, nbytes = [], 0
        for video in decode():
            if kept is not None:
                nbytes += video_bytes(video)
                if self.used + nbytes > self.max_bytes:
                    kept = None  # the set does not fit: decoded every time
                else:
                    kept.append(video)
            yield video
        if kept is not None:
            self._sets[key] = (rows, kept)
            self.used += nbytes


def video_bytes(video: dict | None) -> int:
    """Memory held by one video's test views."""
    return 0 if video is None else sum(value.nbytes for value in video.values() if isinstance(value, torch.Tensor))


def predict_videos(
    model,
    rows: datasets.Dataset | datasets.IterableDataset,
    transform: ClipTransform,
    args,
    cache: "EvalCache",
    lockstep: bool = False,
    progress: bool = True,
) -> tuple[list[list[float]], list[int], int]:
    """The class probabilities of every test video of `rows` that can be decoded (`video_probabilities` of its
    `eval_clips x eval_crops` views), their labels, and how many videos could not be decoded: each process reads
    its share of the rows (every `world_size`-th, or its shards of a stream), `per_device_eval_batch_size` videos a
    forward, and the shares are gathered, so every process returns all of them. `args` are the run's
    `AVSSLTrainingArguments`; map-style sets are kept decoded in `cache`. With `lockstep` (FSDP's sharded student)
    every process runs as many forwards as the one with the most videos. Runs under the caller's autocast."""
    streamed = isinstance(rows, datasets.IterableDataset)
    if streamed:  # a stream's workers are bounded by its shards
        mine = split_dataset_by_node(rows, args.process_index, args.world_size)
        workers = min(args.dataloader_num_workers, mine.num_shards)
    else:
        mine = rows.select(range(args.process_index, len(rows), args.world_size))
        workers = args.dataloader_num_workers
    views = (StreamedEvalViews if streamed else EvalViews)(
        mine, replace(transform, decoder_threads=decoder_threads(workers)), args.eval_clips, args.eval_crops
    )

    def decode() -> DataLoader:
        return DataLoader(views, batch_size=None, **loader_options(args, workers))

    if streamed:
        videos = decode()
    else:
        shard = (args.process_index, args.world_size)
        videos = cache.videos(cache.key(rows, transform, args.eval_clips, args.eval_crops, shard), rows, decode)
    predictions, references, skipped = [], [], 0

    def batches() -> Iterator[list[dict]]:
        nonlocal skipped
        pending = []
        for video in tqdm(videos, total=None if streamed else len(views), desc="test videos", disable=not progress):
            if video is None:
                skipped += 1
                continue
            pending.append(video)
            if len(pending) == args.per_device_eval_batch_size:
                yield pending
                pending = []
        if pending:
            yield pending

    for batch in _in_lockstep(batches(), model, transform, args.device) if lockstep else batches():
        predictions.extend(video_probabilities(model, batch, transform.augmentation).tolist())
        references.extend(video["label"] for video in batch)
    if dist.is_available() and dist.is_initialized():
        everyone = [None] * dist.get_world_size()
        dist.all_gather_object(everyone, (predictions, references, skipped))
        predictions = [p for part in everyone for p in part[0]]
        references = [r for part in everyone for r in part[1]]
        skipped = sum(part[2] for part in everyone)
    return predictions, references, skipped


def _in_lockstep(
    batches: Iterator[list[dict]], model, transform: ClipTransform, device: torch.device
) -> Iterator[list[dict]]:
    """`batches`, with as many forwards of `model` on every process: an FSDP forward gathers the sharded weights
    with the other processes, so a process out of test videos runs a forward on a blank clip for each of theirs."""
    frames = torch.zeros(1, *model.config.video_input_shape, dtype=torch.uint8)
    blank = {"pixel_values": frames, "input_values": torch.zeros(1, transform.max_length, transform.num_mel_bins)}
    while True:
        batch = next(batches, None)
        anyone = torch.tensor(batch is not None, dtype=torch.int, device=device)
        dist.all_reduce(anyone, op=dist.ReduceOp.MAX)
        if not anyone:
            return
        if batch is not None:
            yield batch
        else:
            video_probabilities(model, [blank], transform.augmentation)
