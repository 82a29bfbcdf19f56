"""Where clips come from: a local videofolder, UCF-101 as UCF-51, VGGSound, Kinetics-400 and webdataset shards.

Every source gives one split as a `VideoSource` whose `dataset` has the rows `{"index", "label", "video"}`: `index` is
stable across runs and processes (FlexMatch keeps its per-sample record by it), `label` is -1 where unknown, and
`video` is a path, a container's bytes (streamed shards), a `datasets` video struct (`datasets_form.py`) or a
pre-extracted clip (`extraction.py`); nothing is decoded here. Samples a source leaves out (missing files, videos
without audio, classes without audio) are counted in `dropped` and logged; a source that lists its clips (a CSV, a
split list, a metadata file) also counts, per class, how many of the clips it lists were found (`ListedClips`).
"""

import csv
import glob
import hashlib
import json
import logging
import os
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field

import datasets
import huggingface_hub

from ..decoding import DecodeError, MediaInfo, probe


logger = logging.getLogger(__name__)

VIDEO_EXTENSIONS = (".mp4", ".avi", ".mkv", ".webm", ".mov", ".m4v")


@dataclass
class ListedClips:
    """How many clips a source's list (a CSV, a split list, a metadata file) names for each class, and how many of
    them were found; every copy of VGGSound and Kinetics lacks part of its list."""

    listed: dict[str, int]
    found: dict[str, int]

    def __post_init__(self):
        empty = [name for name, count in self.listed.items() if count and not self.found.get(name)]
        if empty:
            raise ValueError(
                f"None of the listed clips of {len(empty)} class(es) was found: {', '.join(map(repr, empty[:20]))}"
                f"{' ...' if len(empty) > 20 else ''}. Fetch them, or leave the classes out of the list."
            )

    @property
    def missing(self) -> dict[str, int]:
        """Listed clips not found, for the classes that miss any."""
        return {
            name: count - self.found.get(name, 0)
            for name, count in self.listed.items()
            if count > self.found.get(name, 0)
        }

    def __str__(self) -> str:
        return f"found {sum(self.found.values())} of {sum(self.listed.values())} listed clips"

    def warn(self, name: str) -> None:
        """Logs how many listed clips data set `name` lacks, if it lacks any."""
        if self.missing:
            logger.warning("%s: %s (%d classes miss some)", name, self, len(self.missing))

    def as_dict(self) -> dict:
        """Totals and each class's counts, as `listed_clips.json` keeps them."""
        classes = {name: {"listed": count, "found": self.found.get(name, 0)} for name, count in self.listed.items()}
        return {"listed": sum(self.listed.values()), "found": sum(self.found.values()), "classes": classes}


def listed_clips(listed: Iterable[str], found: Iterable[str]) -> ListedClips:
    """`ListedClips` from the class of each listed clip and the class of each one found."""
    return ListedClips(dict(Counter(listed)), dict(Counter(found)))


@dataclass
class VideoSource:
    """One split of a data set.

    Attributes:
        dataset: rows `{"index": int, "label": int, "video": ...}`; a `datasets.Dataset`, or a streaming
            `datasets.IterableDataset` of container bytes.
        classes: the label names, `classes[label]`.
        dropped: how many samples were left out, by reason.
        listed: for a source that lists its clips, how many it lists and how many were found, per class.
    """

    dataset: datasets.Dataset | datasets.IterableDataset
    classes: list[str]
    dropped: dict[str, int] = field(default_factory=dict)
    listed: ListedClips | None = None

    @property
    def streaming(self) -> bool:
        return isinstance(self.dataset, datasets.IterableDataset)


def local_source(
    name: str,
    videos: Sequence[str | dict],
    labels: Sequence[int],
    classes: Sequence[str],
    dropped: Mapping[str, int],
    listed: ListedClips | None = None,
    video_feature: datasets.Value | dict = datasets.Value("string"),
) -> VideoSource:
    """A map-style source whose indices are the positions of `videos` (paths, or rows of `video_feature`)."""
    features = datasets.Features(
        {
            "index": datasets.Value("int64"),
            "label": datasets.ClassLabel(names=list(classes)),
            "video": video_feature,
        }
    )
    rows = {"index": list(range(len(videos))), "label": list(labels), "video": list(videos)}
    dropped = {reason: count for reason, count in dropped.items() if count}
    if listed is not None:
        listed.warn(name)
    if dropped:
        logger.warning("%s: left out %s", name, ", ".join(f"{count} ({reason})" for reason, count in dropped.items()))
    return VideoSource(datasets.Dataset.from_dict(rows, features=features), list(classes), dropped, listed)


def hidden(name: str) -> bool:
    """A hidden file or folder, which no source reads: `.ipynb_checkpoints`, macOS's `._clip.mp4` resource forks, an
    unfinished extraction's `.partial-*` folder."""
    return name.startswith(".")


def _is_video(name: str) -> bool:
    return not hidden(name) and name.lower().endswith(VIDEO_EXTENSIONS)


def _videos_in(folder: str) -> list[str]:
    return sorted(os.path.join(folder, name) for name in os.listdir(folder) if _is_video(name))


def videos_under(root: str | os.PathLike) -> list[str]:
    """Every video file under `root`, at any depth, sorted; hidden files and folders left out."""
    found = []
    for parent, folders, names in os.walk(root):
        folders[:] = [name for name in folders if not hidden(name)]
        found += [os.path.join(parent, name) for name in names if _is_video(name)]
    return sorted(found)


def _utf8_names(paths: Iterable[str], dropped: Counter) -> list[str]:
    """`paths` whose names are UTF-8 (a data set's strings must be); each other one is named in a warning (as bytes)
    and counted in `dropped`."""
    kept = []
    for path in paths:
        try:
            path.encode("utf-8")
        except UnicodeEncodeError:
            logger.warning("%r: the name is not UTF-8; leaving it out", os.fsencode(path))
            dropped["name not UTF-8"] += 1
            continue
        kept.append(path)
    return kept


def video_folder(root: str | os.PathLike, split: str | None = None) -> VideoSource:
    """`<root>/<split>/<class>/*.mp4` (or `<root>/<class>/*.mp4` without a split); classes in sorted order."""
    folder = os.path.join(root, split) if split else os.fspath(root)
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"No such videofolder split: {folder}")
    dropped = Counter()
    folders = sorted(
        name for name in os.listdir(folder) if not hidden(name) and os.path.isdir(os.path.join(folder, name))
    )
    classes = _utf8_names(folders, dropped)
    if not classes:
        raise ValueError(f"{folder} holds no class folders (expected <class>/<video> inside it).")
    videos, labels = [], []
    for label, name in enumerate(classes):
        found = _utf8_names(_videos_in(os.path.join(folder, name)), dropped)
        videos += found
        labels += [label] * len(found)
    return local_source(folder, videos, labels, classes, dropped)


def probe_files(
    files: Iterable[str], cache_file: str | os.PathLike | None = None, num_workers: int = 8
) -> dict[str, MediaInfo | str]:
    """`probe` of each file (or the reason it cannot be read), from `cache_file` where the file's size and time are
    unchanged; new results are written back to it."""
    files = list(files)
    cache = {}
    if cache_file is not None and os.path.exists(cache_file):
        with open(cache_file) as handle:
            cache = json.load(handle)

    def stamp(path: str) -> list[float]:
        status = os.stat(path)
        return [status.st_size, status.st_mtime_ns]

    def run(path: str) -> dict:
        try:
            return {"stamp": stamp(path), "info": asdict(probe(path))}
        except DecodeError as error:
            return {"stamp": stamp(path), "error": error.cause}

    stale = [path for path in files if path not in cache or cache[path]["stamp"] != stamp(path)]
    if stale:
        logger.info("probing %d files%s", len(stale), f" (cache: {cache_file})" if cache_file else "")
        with ThreadPoolExecutor(num_workers) as pool:
            cache.update(zip(stale, pool.map(run, stale)))
        if cache_file is not None:
            os.makedirs(os.path.dirname(os.path.abspath(cache_file)), exist_ok=True)
            with open(f"{cache_file}.partial", "w") as handle:
                json.dump(cache, handle)
            os.replace(f"{cache_file}.partial", cache_file)
    return {
        path: MediaInfo(**cache[path]["info"]) if "info" in cache[path] else cache[path]["error"] for path in files
    }


def default_probe_cache(root: str | os.PathLike) -> str:
    """Where probes of the videos under `root` are cached: the datasets cache, keyed by the folder's absolute path."""
    key = hashlib.sha1(os.path.abspath(root).encode()).hexdigest()[:16]
    return os.path.join(datasets.config.HF_DATASETS_CACHE, "avssl", f"probe-{key}.json")


def _keep_with_audio(
    videos: list[str], labels: list[int], probes: Mapping[str, MediaInfo | str], dropped: Counter
) -> tuple[list[str], list[int]]:
    """The videos with an audio stream; the others are counted in `dropped` by reason."""
    kept_videos, kept_labels = [], []
    for video, label in zip(videos, labels):
        info = probes[video]
        if isinstance(info, str):
            dropped[f"unreadable: {info}"] += 1
        elif not info.has_audio:
            dropped["no audio stream"] += 1
        else:
            kept_videos.append(video)
            kept_labels.append(label)
    return kept_videos, kept_labels


def ucf101(
    root: str | os.PathLike,
    split: str = "train",
    fold: int = 1,
    *,
    lists_dir: str | os.PathLike | None = None,
    require_audio: bool = True,
    probe_cache: str | os.PathLike | None = None,
) -> VideoSource:
    """UCF-101 in its own layout, `<root>/<ClassName>/v_*.avi` and the split lists `trainlist0N.txt` /
    `testlist0N.txt` (in `lists_dir`, `<root>` or `<root>/ucfTrainTestlist`).

    With `require_audio` this is UCF-51: only the classes whose videos carry an audio stream (the majority of them,
    over both lists of the fold) are kept and renumbered in sorted order, and the few silent videos of those classes
    are dropped. Which files have audio is decided by probing them once; the result is cached in `probe_cache`.
    """
    if split not in ("train", "test"):
        raise ValueError(f"UCF-101 splits are 'train' and 'test', got {split!r}.")
    candidates = [lists_dir] if lists_dir else [root, os.path.join(root, "ucfTrainTestlist")]
    lists = {}
    for name in ("train", "test"):
        paths = [os.path.join(folder, f"{name}list0{fold}.txt") for folder in candidates]
        found = next((path for path in paths if os.path.exists(path)), None)
        if found is None:
            raise FileNotFoundError(
                f"No UCF-101 split list {name}list0{fold}.txt in {', '.join(map(str, candidates))}"
            )
        with open(found) as handle:
            lists[name] = [line.split()[0] for line in handle if line.strip()]
    classes = sorted({entry.split("/")[0] for entries in lists.values() for entry in entries})
    dropped = Counter()
    files = {name: [os.path.join(root, entry) for entry in entries] for name, entries in lists.items()}
    present = {name: [path for path in paths if os.path.exists(path)] for name, paths in files.items()}
    dropped["missing file"] = len(files[split]) - len(present[split])
    videos = present[split]
    listed = listed_clips(map(_class_of, files[split]), map(_class_of, videos))
    if require_audio:
        probes = probe_files(present["train"] + present["test"], probe_cache or default_probe_cache(root))
        with_audio, total = Counter(), Counter()
        for path, info in probes.items():
            total[_class_of(path)] += 1
            with_audio[_class_of(path)] += not isinstance(info, str) and info.has_audio
        audible = [name for name in classes if with_audio[name] * 2 > total[name]]
        logger.info("UCF-51 rule: %d of %d classes have audio", len(audible), len(classes))
        dropped["class without audio"] = sum(_class_of(video) not in audible for video in videos)
        videos = [video for video in videos if _class_of(video) in audible]
        classes = audible
    number = {name: label for label, name in enumerate(classes)}
    labels = [number[_class_of(video)] for video in videos]
    if require_audio:
        videos, labels = _keep_with_audio(videos, labels, probes, dropped)
    return local_source(f"UCF-101 {split} fold {fold}", videos, labels, classes, dropped, listed)


def _class_of(path: str) -> str:
    """The class folder a video lies in."""
    return os.path.basename(os.path.dirname(path))


def read_csv_rows(csv_file: str | os.PathLike, columns: int) -> list[list[str]]:
    """The rows of a CSV file, without a header line if it has one (one whose fields are all names)."""
    with open(csv_file, newline="") as handle:
        rows = [row for row in csv.reader(handle) if row]
    short = [i for i, row in enumerate(rows) if len(row) < columns]
    if short:
        raise ValueError(f"{csv_file}: line {short[0] + 1} has fewer than {columns} fields: {rows[short[0]]}")
    return rows[1:] if rows and not any(value.strip().lstrip("-").isdigit() for value in rows[0]) else rows


def vggsound(
    csv_file: str | os.PathLike,
    video_dir: str | os.PathLike,
    split: str = "train",
    *,
    filename: str = "{youtube_id}_{start_s:06d}.mp4",
) -> VideoSource:
    """VGGSound: `vggsound.csv` rows `youtube_id,start_s,label,split` and a folder of clips named by `filename`.

    Classes are the sorted labels of the whole CSV, so every split numbers them alike. Rows whose file is missing (a
    good share of any VGGSound download) are counted and skipped.
    """
    rows, classes = vggsound_rows(csv_file, split)
    number = {name: label for label, name in enumerate(classes)}
    videos, labels, dropped = [], [], Counter()
    for youtube_id, start_s, label in rows:
        path = os.path.join(video_dir, filename.format(youtube_id=youtube_id, start_s=start_s))
        if os.path.exists(path):
            videos.append(path)
            labels.append(number[label])
        else:
            dropped["missing file"] += 1
    found = listed_clips((label for *_, label in rows), (classes[label] for label in labels))
    return local_source(f"VGGSound {split}", videos, labels, classes, dropped, found)


def vggsound_rows(csv_file: str | os.PathLike, split: str) -> tuple[list[tuple[str, int, str]], list[str]]:
    """The `(youtube_id, start_s, label)` of each row of split `split` of VGGSound's CSV
    (`youtube_id,start_s,label,split`), and the classes: the sorted labels of the whole CSV, so that every split
    numbers them alike. A split without rows is an error."""
    rows = read_csv_rows(csv_file, 4)
    chosen = [
        (youtube_id, int(start_s), label)
        for youtube_id, start_s, label, row_split, *_ in rows
        if row_split.strip() == split
    ]
    if not chosen:
        raise ValueError(f"{csv_file} has no rows of split {split!r}.")
    return chosen, sorted({row[2] for row in rows})


def kinetics400(
    root: str | os.PathLike,
    split: str = "train",
    *,
    annotations: str | os.PathLike | None = None,
    require_audio: bool = True,
    probe_cache: str | os.PathLike | None = None,
) -> VideoSource:
    """Kinetics-400 as clips in folders under `<root>/<split>` (class folders, as the download scripts write them), or
    as tar shards `<root>/<split>/*.tar`, of clips named `<youtube_id>_<start:06d>_<end:06d>.mp4` and labelled by the
    official `annotations` CSV (`label,youtube_id,time_start,time_end,split`; by default `<root>/annotations/
    <split>.csv`). In folders, the CSV lists the clips: those found are read wherever they lie under the split's
    folder, those missing are counted per class (`listed`); without a CSV the class folders are the labels.

    With `require_audio` clips without an audio stream are dropped and counted: probed up front (and cached) in
    folders; in shards, which stream, when they are decoded (`load_clip(require_audio=True)`).
    """
    folder = os.path.join(root, split)
    tars = sorted(glob.glob(os.path.join(folder, "*.tar")))
    annotations = annotations or os.path.join(root, "annotations", f"{split}.csv")
    if tars:
        rows = read_csv_rows(annotations, 4)
        classes = sorted({row[0] for row in rows})
        number = {name: label for label, name in enumerate(classes)}
        keys = {_kinetics_key(row): i for i, row in enumerate(rows)}
        labels = {key: number[rows[i][0]] for key, i in keys.items()}
        return _stream(
            {"train": tars},
            lambda sample: (keys.get(sample["__key__"]), labels.get(sample["__key__"], -1), sample["mp4"]),
            classes,
        )
    if os.path.exists(annotations):
        source = _listed_kinetics(folder, read_csv_rows(annotations, 4), split)
    else:
        source = video_folder(root, split)
    if not require_audio:
        return source
    rows, dropped = source.dataset, Counter(source.dropped)
    probes = probe_files(rows["video"], probe_cache or default_probe_cache(root))
    videos, labels = _keep_with_audio(rows["video"], rows["label"], probes, dropped)
    return local_source(f"Kinetics-400 {split}", videos, labels, source.classes, dropped, source.listed)


def _kinetics_key(row: Sequence[str]) -> str:
    """The file stem of an annotation row `label,youtube_id,time_start,time_end,...`."""
    return f"{row[1]}_{int(float(row[2])):06d}_{int(float(row[3])):06d}"


def _listed_kinetics(folder: str, rows: list[list[str]], split: str) -> VideoSource:
    """The clips the annotation `rows` (of one split) list, found by name anywhere under `folder`; classes are the
    CSV's labels."""
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"No Kinetics-400 split folder: {folder}")
    files = {os.path.splitext(os.path.basename(path))[0]: path for path in videos_under(folder)}
    classes = sorted({row[0] for row in rows})
    number = {name: label for label, name in enumerate(classes)}
    found = [(files[_kinetics_key(row)], number[row[0]]) for row in rows if _kinetics_key(row) in files]
    dropped = Counter({"missing file": len(rows) - len(found)})
    counts = listed_clips((row[0] for row in rows), (classes[label] for _, label in found))
    videos, labels = zip(*found) if found else ((), ())
    return local_source(f"Kinetics-400 {split}", videos, labels, classes, dropped, counts)


def webdataset(
    data: str | Sequence[str],
    split: str = "train",
    *,
    classes: Sequence[str] | None = None,
    video_column: str = "mp4",
    label_column: str = "cls",
    label_key: str = "label",
    index_key: str | None = None,
) -> VideoSource:
    """Webdataset tar shards, streamed through `datasets` with decoding off: local shard paths or globs, or a dataset
    repository (a Hub dataset id, or a local folder laid out like one: `<split>-*.tar` or `<split>/*.tar`, which
    `datasets` reads exactly as it reads the Hub's).

    Each sample's video is the `video_column` member; its label the `label_column` member, an integer (`.cls`) or,
    for a `.json` member, its `label_key` field (an integer or a class name). Its index is the json's `index_key`
    field, or else the sample key read as an integer (as `python -m modeling_avssl.commands.data prepare reshard`
    writes them). `classes` defaults to the `classes.json` beside local shards or at the root of the repository.
    """
    paths = [data] if isinstance(data, str) else list(data)
    shards = [found for path in paths for found in sorted(glob.glob(path)) if os.path.isfile(found)]
    if not shards and (len(paths) != 1 or glob.has_magic(paths[0])):
        raise FileNotFoundError(f"No webdataset shards match {data}")
    classes = list(classes) if classes is not None else _classes_json(shards[0] if shards else None, paths[0])
    number = {name: label for label, name in enumerate(classes)}

    def label_of(sample: dict) -> int:
        value = sample[label_column]
        if isinstance(value, dict):
            value = value[label_key]
        if isinstance(value, str) and value not in number:
            raise ValueError(f"Sample {sample['__key__']!r} of {sample['__url__']} has label {value!r}, not a class.")
        return number[value] if isinstance(value, str) else int(value)

    def index_of(sample: dict) -> int | None:
        value = sample["json"].get(index_key) if index_key else sample["__key__"].rsplit("/", 1)[-1]
        return int(value) if str(value).isdigit() else None

    def row(sample: dict) -> tuple[int | None, int, bytes]:
        return index_of(sample), label_of(sample), sample[video_column]

    if shards:
        return _stream({split: shards}, row, classes)
    dataset = datasets.load_dataset(paths[0], split=split, streaming=True)
    return VideoSource(_rows(dataset.decode(False), row), classes)


def _classes_json(shard: str | None, repository: str) -> list[str]:
    """The class names in the `classes.json` beside `shard`, or at the root of `repository` (a local folder or a Hub
    dataset id) when there is no shard."""
    if shard is not None:
        path = os.path.join(os.path.dirname(shard), "classes.json")
    elif os.path.isdir(repository):
        path = os.path.join(repository, "classes.json")
    else:
        try:
            path = huggingface_hub.hf_hub_download(repository, "classes.json", repo_type="dataset")
        except OSError as error:  # not found, offline, no access: every Hub error is one
            raise ValueError(f"Pass `classes` for {repository}: its classes.json cannot be read ({error}).") from error
    if not os.path.exists(path):
        raise ValueError(f"Pass `classes` for {shard or repository}: there is no {path}.")
    with open(path) as handle:
        return list(json.load(handle))


def _stream(files: dict[str, list[str]], row: Callable[[dict], tuple], classes: list[str]) -> VideoSource:
    (split,) = files
    dataset = datasets.load_dataset("webdataset", data_files=files, split=split, streaming=True).decode(False)
    return VideoSource(_rows(dataset, row), classes)


def _rows(dataset: datasets.IterableDataset, row: Callable[[dict], tuple]) -> datasets.IterableDataset:
    """`dataset` as `{"index", "label", "video"}` rows; a sample without an integer index is an error naming it."""

    def convert(sample: dict) -> dict:
        index, label, video = row(sample)
        if index is None:
            raise ValueError(
                f"Sample {sample['__key__']!r} of {sample['__url__']} has no integer index: name a json field with "
                "`index_key`, or re-shard with `python -m modeling_avssl.commands.data prepare reshard`."
            )
        return {"index": index, "label": label, "video": video["bytes"] if isinstance(video, dict) else video}

    return dataset.map(convert, remove_columns=list(dataset.column_names or []))


SOURCE_KINDS = ("videofolder", "ucf101", "vggsound", "kinetics400", "webdataset", "datasets", "frames")


def load_source(kind: str, path: str, split: str = "train", **options) -> VideoSource:
    """The source `kind` (one of `SOURCE_KINDS`) at `path` (for VGGSound the video folder, with `csv_file=`), with
    that source's keyword options: `datasets` is `datasets_form.datasets_source`, `frames` (pre-extracted frames and
    audio) `extraction.extracted_frames`."""
    if kind == "videofolder":
        return video_folder(path, split, **options)
    if kind == "ucf101":
        return ucf101(path, split, **options)
    if kind == "vggsound":
        if "csv_file" not in options:
            raise ValueError("VGGSound needs its CSV: pass csv_file (--csv).")
        return vggsound(options.pop("csv_file"), path, split, **options)
    if kind == "kinetics400":
        return kinetics400(path, split, **options)
    if kind == "webdataset":
        return webdataset(path, split, **options)
    if kind == "datasets":
        from .datasets_form import datasets_source

        return datasets_source(path, split, **options)
    if kind == "frames":
        from .extraction import extracted_frames

        return extracted_frames(path, split, **options)
    raise ValueError(f"Unknown source kind {kind!r}; choose from {', '.join(SOURCE_KINDS)}.")
