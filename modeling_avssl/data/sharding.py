"""Re-sharding a data set into webdataset tar shards that stream well and carry stable integer indices.

Each sample becomes `<index:09d>.<ext>` (the container's bytes, unchanged) and `<index:09d>.cls` (its label); the
class names go to `classes.json` beside the shards, where `sources.webdataset` finds them.
"""

import io
import json
import os
import tarfile

from ..decoding import container_bytes, file_path
from .sources import VideoSource


def write_shards(source: VideoSource, out: str | os.PathLike, split: str, shard_size: int = 500) -> list[str]:
    """Writes `source` (a map-style source of containers) as `out/<split>-<n:05d>.tar`, `shard_size` samples each,
    in index order; returns the shard paths."""
    if source.streaming:
        raise ValueError("Re-sharding reads files: give a folder source, not a streamed one.")
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "classes.json"), "w") as handle:
        json.dump(source.classes, handle)
    paths = []
    rows = source.dataset
    for first in range(0, len(rows), shard_size):
        paths.append(os.path.join(out, f"{split}-{first // shard_size:05d}.tar"))
        with tarfile.open(paths[-1] + ".partial", "w") as tar:
            for row in rows.select(range(first, min(first + shard_size, len(rows)))):
                key = f"{row['index']:09d}"
                extension = os.path.splitext(file_path(row["video"]) or "")[1].lstrip(".").lower() or "mp4"
                _add(tar, f"{key}.{extension}", container_bytes(row["video"]))
                _add(tar, f"{key}.cls", str(row["label"]).encode())
        os.replace(paths[-1] + ".partial", paths[-1])
    return paths


def _add(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))
