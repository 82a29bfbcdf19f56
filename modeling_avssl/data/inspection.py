"""What a data set holds: videos per split and class, audio presence, durations and unreadable files; and for a
source that lists its clips, how many of them were found, per class.

Reads a folder of videos in any of the layouts the sources take (split and class folders, UCF-101's class folders)
or webdataset shards, local or on the Hub, probing every container once (`decoding.probe`); `listing_report` reads
what a source (`sources.load_source`) found.
"""

import glob
import os
from collections import defaultdict
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from ..decoding import DecodeError, MediaInfo, probe
from .sources import VideoSource, videos_under


@dataclass
class Inventory:
    """Probes of a data set's videos, grouped by split and class (`"-"` where the layout has none)."""

    videos: dict[tuple[str, str], list[MediaInfo]] = field(default_factory=lambda: defaultdict(list))
    unreadable: list[tuple[str, str]] = field(default_factory=list)  # (video, cause)

    def add(self, split: str, label: str, name: str, info: MediaInfo | str) -> None:
        if isinstance(info, str):
            self.unreadable.append((name, info))
        else:
            self.videos[split, label].append(info)

    def report(self, title: str) -> str:
        """A table per split: videos, how many have audio and their durations per class; silent classes and
        unreadable files are called out."""
        splits = sorted({split for split, _ in self.videos})
        total = sum(len(infos) for infos in self.videos.values())
        classes = {label for _, label in self.videos}
        lines = [f"{title}: {total} readable videos, {len(classes)} classes, {len(self.unreadable)} unreadable"]
        for split in splits:
            rows = sorted((label, infos) for (group, label), infos in self.videos.items() if group == split)
            lines.append(f"\nsplit {split}: {sum(len(infos) for _, infos in rows)} videos")
            width = max([5, *(len(label) for label, _ in rows)])
            lines.append(f"  {'class':<{width}}  videos  audio  seconds (min / median / max)  size")
            for label, infos in rows:
                with_audio = sum(info.has_audio for info in infos)
                seconds = np.array([info.duration for info in infos])
                sizes = sorted({f"{info.width}x{info.height}" for info in infos})
                note = "  <- no audio" if with_audio == 0 else ""
                lines.append(
                    f"  {label:<{width}}  {len(infos):>6}  {with_audio:>5}  {seconds.min():>7.1f} / "
                    f"{np.median(seconds):>6.1f} / {seconds.max():>6.1f}       {', '.join(sizes)}{note}"
                )
        if self.unreadable:
            lines.append(f"\nunreadable ({len(self.unreadable)}):")
            lines += [f"  {name}: {cause}" for name, cause in self.unreadable]
        return "\n".join(lines)


def _probe(source: str | bytes) -> MediaInfo | str:
    try:
        return probe(source)
    except DecodeError as error:
        return error.cause


def inspect_folder(root: str | os.PathLike, num_workers: int = 8) -> Inventory:
    """Every video under `root`; its class is its folder and its split the folder above when that is one of
    `train`, `val`, `validation`, `test` (else `"-"`)."""
    files = videos_under(root)
    inventory = Inventory()
    with ThreadPoolExecutor(num_workers) as pool:
        for path, info in zip(files, pool.map(_probe, files)):
            parts = os.path.relpath(path, root).split(os.sep)
            label = parts[-2] if len(parts) > 1 else "-"
            split = parts[-3] if len(parts) > 2 and parts[-3] in ("train", "val", "validation", "test") else "-"
            inventory.add(split, label, os.path.relpath(path, root), info)
    return inventory


def inspect_shards(samples: Iterable[dict], split: str, video_column: str = "mp4") -> Inventory:
    """Webdataset samples (as `datasets` streams them with decoding off), labelled by their `cls` or `json` label."""
    inventory = Inventory()
    for sample in samples:
        video = sample.get(video_column)
        label = sample.get("cls", (sample.get("json") or {}).get("label", "-"))
        name = f"{sample['__url__']}:{sample['__key__']}"
        if video is None:
            inventory.add(split, str(label), name, f"no {video_column} member")
        else:
            inventory.add(split, str(label), name, _probe(video["bytes"] if isinstance(video, dict) else video))
    return inventory


def inspect(path: str, split: str = "train", video_column: str = "mp4") -> Inventory:
    """A folder of videos, a folder or glob of webdataset shards, or a Hub dataset id (streamed)."""
    import datasets

    shards = sorted(glob.glob(os.path.join(path, "*.tar") if os.path.isdir(path) else path))
    if os.path.isdir(path) and not shards:
        return inspect_folder(path)
    if shards:
        stream = datasets.load_dataset("webdataset", data_files={split: shards}, split=split, streaming=True)
    elif not os.path.exists(path):
        stream = datasets.load_dataset(path, split=split, streaming=True)
    else:
        raise ValueError(f"{path} is neither a folder of videos, webdataset shards nor a Hub dataset id.")
    return inspect_shards(stream.decode(False), split, video_column)


def listing_report(source: VideoSource, title: str) -> str:
    """How many rows a source has per class, the clips its list names and those found (the classes missing some,
    first the most), and what it left out."""
    lines = [f"{title}: {'streamed' if source.streaming else len(source.dataset)} rows, {len(source.classes)} classes"]
    if source.listed is not None:
        missing = source.listed.missing
        lines.append(f"{source.listed}; {len(missing)} of {len(source.listed.listed)} classes miss some")
        if missing:
            width = max(5, *(len(name) for name in missing))
            lines.append(f"  {'class':<{width}}  listed   found  missing")
            for name, count in sorted(missing.items(), key=lambda item: (-item[1], item[0])):
                listed, found = source.listed.listed[name], source.listed.found.get(name, 0)
                lines.append(f"  {name:<{width}}  {listed:>6}  {found:>6}  {count:>7}")
    if source.dropped:
        lines.append("left out: " + ", ".join(f"{count} ({reason})" for reason, count in source.dropped.items()))
    return "\n".join(lines)
