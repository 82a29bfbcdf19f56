"""`--dataset datasets`: a data set in `datasets`' own form, as video data sets are published on the Hub: anything
`datasets.load_dataset` reads from a Hub id or a local folder (parquet or arrow files, or a `videofolder` of class
folders or a `metadata.csv` / `.jsonl`), whose rows hold a video (the `Video` feature, a `{"path", "bytes"}` struct, a
path string or bytes) and a label (a `ClassLabel`, class names or integers).

Videos are never decoded by `datasets`: the `Video` feature is read with `decode=False` and `load_clip` decodes the
struct, so every guarantee of the decoder holds. A map-style split's index is the row's position; a streamed split's
is an integer column (`index_column`), since a stream has no positions that stay put across workers and processes.
"""

import os

import datasets
import pyarrow
from pyarrow import compute

from ..decoding import container_bytes, container_source, file_path
from .sources import VideoSource, listed_clips


def datasets_source(
    path: str,
    split: str = "train",
    *,
    video_column: str | None = None,
    label_column: str = "label",
    index_column: str | None = None,
    streaming: bool = False,
) -> VideoSource:
    """The rows `{"index", "label", "video"}` of split `split` of the data set at `path` (a Hub id or a local folder).

    `video_column` defaults to the one column of the `Video` feature, or else the one named `video`; classes are the
    `ClassLabel` names of `label_column`, else its sorted values (names, or integers as their numbers). Where videos
    are paths on this machine (a `videofolder` listed by its metadata file, path strings), the rows whose file is not
    there are left out and counted per class in `listed`.
    """
    dataset = datasets.load_dataset(path, split=split, streaming=streaming)
    features = dataset.features
    if features is None:
        raise ValueError(f"{path} ({split}) states no features, so its video and label columns cannot be told.")
    video_column = video_column or _video_column(features, path)
    for column in (video_column, label_column):
        if column not in features:
            raise ValueError(f"{path} ({split}) has no column {column!r}; its columns are {list(features)}.")
    if isinstance(features[video_column], datasets.Video):
        dataset = dataset.cast_column(video_column, datasets.Video(decode=False))
    if streaming:
        return _streamed(dataset, path, video_column, label_column, index_column)
    dataset, classes = _class_labels(dataset.select_columns([video_column, label_column]), label_column, path)
    renamed = {old: new for old, new in ((video_column, "video"), (label_column, "label")) if old != new}
    dataset = dataset.rename_columns(renamed) if renamed else dataset
    dataset = dataset.add_column("index", list(range(len(dataset))))
    return _without_missing(dataset, classes, f"{path} ({split})")


def _video_column(features: datasets.Features, path: str) -> str:
    """The one `Video` column, or else `video`."""
    videos = [name for name, feature in features.items() if isinstance(feature, datasets.Video)]
    if len(videos) == 1:
        return videos[0]
    if "video" in features:
        return "video"
    raise ValueError(
        f"{path} has {'several' if videos else 'no'} Video columns ({videos}) and none named 'video': name one with "
        "--video_column."
    )


def _class_labels(dataset: datasets.Dataset, column: str, path: str) -> tuple[datasets.Dataset, list[str]]:
    """`dataset` with `column` a `ClassLabel`, and its names: kept, or made from the column's sorted values."""
    feature = dataset.features[column]
    if isinstance(feature, datasets.ClassLabel):
        return dataset, list(feature.names)
    if getattr(feature, "dtype", None) in ("string", "large_string"):
        dataset = dataset.class_encode_column(column)
        return dataset, list(dataset.features[column].names)
    if getattr(feature, "dtype", "").startswith(("int", "uint")):
        values = [value for value in dataset.unique(column) if value is not None and value >= 0]
        names = [str(value) for value in range(max(values, default=-1) + 1)]
        return dataset.cast_column(column, datasets.ClassLabel(names=names)), names
    raise ValueError(f"{path}: the label column {column!r} is {feature}, not a ClassLabel, names or integers.")


def _local_paths(dataset: datasets.Dataset) -> list[str | None]:
    """The path of each row's video where it is a file on this machine (a path string, or a struct without bytes
    whose path is not a URL); None for the others. Read from the Arrow table, without reading the videos' bytes."""
    column = dataset.data.column("video")
    if pyarrow.types.is_struct(column.type):
        paths = compute.if_else(
            compute.is_null(compute.struct_field(column, "bytes")), compute.struct_field(column, "path"), None
        )
    elif pyarrow.types.is_string(column.type) or pyarrow.types.is_large_string(column.type):
        paths = column
    else:
        return [None] * len(dataset)
    return [None if path is None or "://" in path else path for path in paths.to_pylist()]


def _without_missing(dataset: datasets.Dataset, classes: list[str], name: str) -> VideoSource:
    """`dataset` without the rows whose video is a path to a file that is not there, counted per class."""
    paths = _local_paths(dataset)
    if not any(paths):
        return VideoSource(dataset, classes)
    labels = dataset["label"]
    found = [position for position, path in enumerate(paths) if path is None or os.path.isfile(path)]
    listed = listed_clips(
        (classes[label] for label in labels if label >= 0), (classes[labels[i]] for i in found if labels[i] >= 0)
    )
    dropped = {"missing file": len(paths) - len(found)} if len(found) < len(paths) else {}
    listed.warn(name)
    if dropped:
        dataset = dataset.select(found)
    return VideoSource(dataset, classes, dropped, listed)


def _streamed(
    dataset: datasets.IterableDataset, path: str, video_column: str, label_column: str, index_column: str | None
) -> VideoSource:
    """A streamed split's rows: its labels must be a `ClassLabel` and its index an integer column."""
    features = dataset.features
    if not isinstance(features[label_column], datasets.ClassLabel):
        raise ValueError(
            f"Streamed, {path}'s label column {label_column!r} must be a ClassLabel (its class names); it is "
            f"{features[label_column]}. Load it without --streaming, or cast the column when you publish it."
        )
    index_column = index_column or ("index" if "index" in features else None)
    if index_column is None or index_column not in features:
        raise ValueError(
            f"Streamed, {path} needs an integer column that numbers its rows (a stream has no positions that stay "
            "put across workers and processes): name it with --index_column, or load it without --streaming."
        )
    classes = list(features[label_column].names)

    def row(sample: dict) -> dict:
        video = container_source(sample[video_column])  # the bytes, or a local path
        return {"index": sample[index_column], "label": sample[label_column], "video": video}

    return VideoSource(dataset.map(row, remove_columns=list(features)), classes)


def write_parquet(source: VideoSource, out: str | os.PathLike, split: str, shard_size: int = 500) -> list[str]:
    """Writes a map-style source's split as a data set in `datasets`' own form, as the Hub keeps one: parquet files
    `<out>/data/<split>-0000i-of-0000n.parquet` of rows `{"video": Video (the container's bytes embedded), "label":
    ClassLabel, "index": int}` (the index lets it be streamed), which `datasets.load_dataset(out)` reads. Returns the
    files written."""
    rows = source.dataset
    features = datasets.Features(
        {
            "video": datasets.Video(),
            "label": datasets.ClassLabel(names=source.classes),
            "index": datasets.Value("int64"),
        }
    )
    count = max(1, -(-len(rows) // shard_size))
    folder = os.path.join(out, "data")
    os.makedirs(folder, exist_ok=True)
    written = []
    for shard in range(count):
        part = rows.select(range(shard * shard_size, min((shard + 1) * shard_size, len(rows))))
        videos = [
            {"bytes": container_bytes(video), "path": os.path.basename(file_path(video) or "") or None}
            for video in part["video"]
        ]
        columns = {"video": videos, "label": part["label"], "index": part["index"]}
        table = datasets.Dataset.from_dict(columns, features=features)
        path = os.path.join(folder, f"{split}-{shard:05d}-of-{count:05d}.parquet")
        table.to_parquet(f"{path}.partial")
        os.replace(f"{path}.partial", path)
        written.append(path)
    return written
