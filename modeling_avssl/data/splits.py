"""Labeled subsets: exactly k labeled clips per class, chosen from a seed and kept in a JSON manifest.

The unlabeled set is every other sample; its labels stay in the data for diagnostics (pseudo-label accuracy) but the
training batches hand them over as `hidden_labels`, which no loss reads.
"""

import json
import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

import datasets
import numpy as np

from .sources import VideoSource


@dataclass
class LabeledSplit:
    """Which samples are labeled.

    Attributes:
        labeled: sorted dataset indices of the labeled samples.
        num_samples: size of the data set the split was drawn from.
        classes: label names of that data set.
        shots: labeled samples per class (an integer), or the fraction of each class (below 1).
        seed: the seed the labeled samples were drawn with.
    """

    labeled: list[int]
    num_samples: int
    classes: list[str]
    shots: float
    seed: int

    def unlabeled(self) -> list[int]:
        """The other indices, in order."""
        return sorted(set(range(self.num_samples)) - set(self.labeled))

    def save(self, path: str | os.PathLike) -> None:
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        with open(path, "w") as handle:
            json.dump(asdict(self), handle, indent=1)

    @classmethod
    def load(cls, path: str | os.PathLike) -> "LabeledSplit":
        with open(path) as handle:
            return cls(**json.load(handle))


def shots_of(shots: float, class_size: int) -> int:
    """How many of a class's `class_size` samples are labeled: `shots` itself, or that fraction of them (at least
    one)."""
    if shots >= 1:
        if shots != int(shots):
            raise ValueError(f"shots must be a whole number of samples per class or a fraction below 1, got {shots}")
        return int(shots)
    if shots <= 0:
        raise ValueError(f"shots must be positive, got {shots}")
    return max(1, round(shots * class_size))


def labeled_split(labels: Sequence[int], classes: Sequence[str], shots: float, seed: int) -> LabeledSplit:
    """Draws the labeled samples: for each class, `shots_of(shots, size)` of its samples (`labels[i]` is sample `i`'s
    class), without replacement, from a generator seeded by `(seed, class)`, so a class's choice depends on nothing
    else. A class with too few samples is an error that names it."""
    labels = np.asarray(labels)
    labeled = []
    too_small = []
    for label, name in enumerate(classes):
        members = np.flatnonzero(labels == label)
        wanted = shots_of(shots, len(members))
        if len(members) < wanted:
            too_small.append(f"{name!r} has {len(members)}")
            continue
        labeled += np.random.default_rng([seed, label]).choice(members, wanted, replace=False).tolist()
    if too_small:
        raise ValueError(f"Too few samples for {shots} labeled per class: {', '.join(too_small)}.")
    return LabeledSplit(sorted(labeled), len(labels), list(classes), shots, seed)


def source_labels(source: VideoSource) -> list[int]:
    """`labels[i]` is the class of the sample of index `i`: the rows' labels of a map-style source; for a streamed
    one, read in one pass over the stream (an index it lacks gets -1, which no class draws)."""
    if not source.streaming:
        return list(source.dataset["label"])
    found = {row["index"]: row["label"] for row in source.dataset}
    labels = [-1] * (max(found) + 1 if found else 0)
    for index, label in found.items():
        labels[index] = label
    return labels


def load_or_create_split(
    path: str | os.PathLike,
    labels: Sequence[int] | Callable[[], Sequence[int]],
    classes: Sequence[str],
    shots: float,
    seed: int,
) -> LabeledSplit:
    """The split in the manifest at `path` if there is one (checked against this data set and these settings),
    else a new one written there. `labels` may be a function that reads them (a stream's, `source_labels`): it is
    called only to draw a new split."""
    if not os.path.exists(path):
        split = labeled_split(labels() if callable(labels) else labels, classes, shots, seed)
        split.save(path)
        return split
    split = LabeledSplit.load(path)
    expected = ({} if callable(labels) else {"num_samples": len(labels)}) | {"shots": shots, "seed": seed}
    different = [
        f"{key} {getattr(split, key)} != {value}" for key, value in expected.items() if getattr(split, key) != value
    ]
    if split.classes != list(classes):
        different.append("other class names")
    if different:
        raise ValueError(f"The split manifest {path} was made for other data or settings: {'; '.join(different)}.")
    return split


def hold_out(rows: datasets.Dataset, count: int, seed: int) -> tuple[datasets.Dataset, datasets.Dataset]:
    """`rows` without `count` of them, and those `count` rows: a validation set drawn from the training data (the
    unlabeled rows, so no label the model trains on is spent), `count // classes` of every class (the remainder from
    the first classes), from a generator seeded by `seed`. Settings are chosen on it, never on the test set."""
    if isinstance(rows, datasets.IterableDataset):
        raise ValueError("A validation set is held out of a local data set; a streamed one has no rows to pick.")
    labels = np.asarray(rows["label"])
    classes = np.unique(labels)
    rng = np.random.default_rng([seed, 1])
    chosen = []
    for position, label in enumerate(classes):
        members = np.flatnonzero(labels == label)
        wanted = count // len(classes) + (position < count % len(classes))
        if len(members) <= wanted:
            raise ValueError(f"Class {label} has {len(members)} rows; a validation set of {count} needs {wanted}.")
        chosen += rng.choice(members, wanted, replace=False).tolist()
    kept = sorted(set(range(len(rows))) - set(chosen))
    return rows.select(kept), rows.select(sorted(chosen))


def split_rows(
    source: VideoSource, split: LabeledSplit, cache_dir: str | os.PathLike | None = None
) -> tuple[datasets.Dataset, datasets.Dataset | datasets.IterableDataset]:
    """The labeled and the unlabeled rows of `source`.

    From a map-style source both are selections of its rows. From a streamed one the unlabeled rows are the stream
    without the labeled indices, and the few labeled samples are read from it once and written to `cache_dir` as
    files, so that the labeled stream, which repeats far more often, reads local files.
    """
    if split.classes != source.classes:
        raise ValueError("The split was drawn for other classes than this source's.")
    labeled = set(split.labeled)
    if not source.streaming:
        positions = {index: position for position, index in enumerate(source.dataset["index"])}
        unlabeled = [positions[index] for index in split.unlabeled() if index in positions]
        return source.dataset.select([positions[index] for index in split.labeled]), source.dataset.select(unlabeled)
    if cache_dir is None:
        raise ValueError("A streamed source's labeled samples are kept in files: pass cache_dir.")
    rows = _cached_labeled_rows(source, split, cache_dir)
    labeled_rows = datasets.Dataset.from_dict(rows, features=source.dataset.features or None)
    return labeled_rows, source.dataset.filter(lambda row: row["index"] not in labeled)


def _cached_labeled_rows(source: VideoSource, split: LabeledSplit, cache_dir: str | os.PathLike) -> dict[str, list]:
    """The labeled rows of a stream as files in `cache_dir`, listed in its `rows.json`: read from the stream once
    (each file written whole, by a rename, so processes that write it together never leave half of one), and from
    the listing in later runs of the same split (a resumed run reads none of the stream for them)."""
    listing = os.path.join(cache_dir, "rows.json")
    if os.path.exists(listing):
        with open(listing) as handle:
            rows = json.load(handle)
        if sorted(rows["index"]) == sorted(split.labeled) and all(map(os.path.isfile, rows["video"])):
            return rows
    os.makedirs(cache_dir, exist_ok=True)
    labeled = set(split.labeled)
    rows = {"index": [], "label": [], "video": []}
    for row in source.dataset:
        if row["index"] in labeled:
            path = row["video"]  # a local file stays where it is
            if isinstance(path, bytes):
                path = os.path.join(cache_dir, f"{row['index']:09d}.video")
                with tempfile.NamedTemporaryFile(dir=cache_dir, delete=False) as handle:
                    handle.write(row["video"])
                os.replace(handle.name, path)
            for key, value in (("index", row["index"]), ("label", row["label"]), ("video", path)):
                rows[key].append(value)
    missing = labeled - set(rows["index"])
    if missing:
        raise ValueError(f"The stream lacks {len(missing)} labeled samples of the split, e.g. index {min(missing)}.")
    with tempfile.NamedTemporaryFile("w", dir=cache_dir, delete=False) as handle:
        json.dump(rows, handle)
    os.replace(handle.name, listing)
    return rows
