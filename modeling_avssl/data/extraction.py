"""Pre-extracted frames and audio: the layouts that published code in this field trains from, read as a source, and
written from any source (`python -m modeling_avssl.commands.data extract`).

Two layouts, told apart by their folders:

- rawframes (SVFormer, MMAction2): `<root>[/<split>]/<class>/<clip>/img_00001.jpg ...`, the clip's audio beside its
  frame folder as `<class>/<clip>.wav` (or `.flac`);
- EZ-VSL: `<root>/frames[/<split>]/<class>/<clip>/...` and `<root>/audio[/<split>]/<class>/<clip>.wav`.

Without class folders (EZ-VSL's VGGSound: `frames/<youtube_id>_<start:06d>/`), the labels and the split come from the
VGGSound CSV, which also lists the clips: those missing are counted per class. A clip's frame rate is stated (one for
all) or read from `<root>/frame_rates.json` (one number, or each clip's by its frame folder relative to the frames
root, `train/<class>/<clip>`), which `extract` writes. A clip is a row's `video` `{"frames", "audio", "frame_rate"}`,
read by `extracted_clips.load_extracted_clip` with the timing of a container; clips without an audio file are left out
and counted, a bad frame or audio file is a bad file when it is read.
"""

import json
import logging
import os
import shutil
import tempfile
from collections import Counter, deque
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import datasets
import numpy as np
import soundfile
from PIL import Image

from ..decoding import DecodeError, Source, file_path, probe, whole_video
from .extracted_clips import AUDIO_EXTENSIONS
from .sources import VideoSource, hidden, listed_clips, local_source, vggsound_rows


logger = logging.getLogger(__name__)

LAYOUTS = ("rawframes", "ezvsl")
FRAME_RATES = "frame_rates.json"
CLIP_FEATURE = {
    "frames": datasets.Value("string"),
    "audio": datasets.Value("string"),
    "frame_rate": datasets.Value("float64"),
}


@dataclass
class Layout:
    """Where a split's frame folders and audio files lie.

    Attributes:
        frames: the folder holding `<class>/<clip>/` (or `<clip>/` without classes).
        audio: the folder holding `<class>/<clip>.wav` likewise (the same folder in the rawframes layout).
        base: the frames root that `frame_rates.json` names clips from.
    """

    frames: str
    audio: str
    base: str

    @classmethod
    def at(cls, root: str | os.PathLike, kind: str, split: str | None) -> "Layout":
        """The layout `kind` under `root`, for the split `split`'s folder (None: no split folder)."""
        if kind not in LAYOUTS:
            raise ValueError(f"Unknown layout {kind!r}; choose from {', '.join(LAYOUTS)}.")
        root = os.path.abspath(root)
        base, audio = (os.path.join(root, "frames"), os.path.join(root, "audio")) if kind == "ezvsl" else (root, root)
        return cls(os.path.join(base, split), os.path.join(audio, split), base) if split else cls(base, audio, base)

    @classmethod
    def of(cls, root: str | os.PathLike, split: str, kind: str | None = None) -> "Layout":
        """The layout `kind` (found from the folders when None: EZ-VSL where `<root>/frames` and `<root>/audio` are
        folders) of split `split`, in its own folder where there is one."""
        ezvsl = os.path.isdir(os.path.join(root, "frames")) and os.path.isdir(os.path.join(root, "audio"))
        kind = kind or ("ezvsl" if ezvsl else "rawframes")
        split_folder = os.path.isdir(os.path.join(cls.at(root, kind, None).frames, split))
        return cls.at(root, kind, split if split_folder else None)

    def clip(self, relative: str, frame_rate: float) -> dict:
        """The row `video` of the clip whose frame folder is `relative` to `frames`; its audio file, where there is
        one ("" where not)."""
        audio = os.path.join(self.audio, relative)
        found = next((audio + ext for ext in AUDIO_EXTENSIONS if os.path.isfile(audio + ext)), "")
        return {"frames": os.path.join(self.frames, relative), "audio": found, "frame_rate": frame_rate}


def extracted_frames(
    root: str | os.PathLike,
    split: str = "train",
    *,
    frame_rate: float | None = None,
    csv_file: str | os.PathLike | None = None,
    layout: str | None = None,
    require_audio: bool = True,
) -> VideoSource:
    """The split `split` of pre-extracted clips under `root` (the module's layouts), classes in sorted order. With
    `csv_file` (VGGSound's `youtube_id,start_s,label,split`), the clips it lists for the split, from
    `<frames>/<youtube_id>_<start_s:06d>/`; else every clip folder in the class folders. Clips without a frame rate,
    and with `require_audio` those without an audio file, are left out and counted."""
    where = Layout.of(root, split, layout)
    if not os.path.isdir(where.frames):
        raise FileNotFoundError(f"No frame folders at {where.frames}")
    rates = _frame_rates(root, frame_rate)
    dropped, listed = Counter(), None
    if csv_file is not None:
        rows, classes = vggsound_rows(csv_file, split)
        entries = [(f"{youtube_id}_{start_s:06d}", label) for youtube_id, start_s, label in rows]
        present = [(name, label) for name, label in entries if os.path.isdir(os.path.join(where.frames, name))]
        dropped["missing frame folder"] = len(entries) - len(present)
        listed = listed_clips((label for _, label in entries), (label for _, label in present))
    else:
        classes = _folders(where.frames)
        present = [(os.path.join(name, clip), name) for name in classes for clip in _folders(where.frames, name)]
        if not present:
            raise ValueError(f"{where.frames} holds no clip folders (expected <class>/<clip>/ with frames inside).")
    number = {name: label for label, name in enumerate(classes)}
    videos, labels = [], []
    for relative, label in present:
        clip = where.clip(relative, rates(os.path.relpath(os.path.join(where.frames, relative), where.base)))
        if not clip["frame_rate"]:
            dropped[f"no frame rate in {FRAME_RATES}"] += 1
            continue
        if require_audio and not clip["audio"]:
            dropped["no audio file"] += 1
            continue
        videos.append(clip)
        labels.append(number[label])
    return local_source(f"extracted {where.frames}", videos, labels, classes, dropped, listed, CLIP_FEATURE)


def _folders(*path: str) -> list[str]:
    """The sorted names of the folders in a folder, without hidden ones (an unfinished extraction's `.partial-*`)."""
    folder = os.path.join(*path)
    return sorted(
        name for name in os.listdir(folder) if not hidden(name) and os.path.isdir(os.path.join(folder, name))
    )


def _frame_rates(root: str | os.PathLike, stated: float | None) -> Callable[[str], float]:
    """The frame rate of a clip (by its frame folder relative to the frames root): `stated`, or else the one
    `<root>/frame_rates.json` gives (0 where it names none: such a clip is left out and counted)."""
    if stated is not None:
        return lambda relative: float(stated)
    path = os.path.join(root, FRAME_RATES)
    if not os.path.exists(path):
        raise ValueError(f"State the clips' frame rate (--frame_rate), or list it in {path}.")
    with open(path) as handle:
        rates = json.load(handle)
    if isinstance(rates, (int, float)):
        return lambda relative: float(rates)
    return lambda relative: float(rates.get(relative.replace(os.sep, "/"), 0.0))


@dataclass
class ExtractionSettings:
    """How `extract` writes a clip.

    Attributes:
        image_format: "jpg" or "png".
        quality: JPEG quality (1-100).
        short_side: frames scaled down to this short side where that halves their pixels (None: as decoded).
        sample_rate: the audio files' sample rate (mono).
        audio_format: "wav" (16-bit PCM) or "flac".
    """

    image_format: str = "jpg"
    quality: int = 95
    short_side: int | None = None
    sample_rate: int = 16000
    audio_format: str = "wav"


def extract(
    source: VideoSource,
    out: str | os.PathLike,
    split: str,
    *,
    layout: str = "rawframes",
    settings: ExtractionSettings = ExtractionSettings(),
    workers: int | None = None,
) -> tuple[int, list[tuple[str, str]]]:
    """Writes the clips of `source` (a split of any source) as pre-extracted frames and audio under `out` in `layout`
    (the split's folder inside it), and their frame rates to `out/frame_rates.json`, with `workers` processes (every
    core by default). Each clip is written to a temporary folder and renamed into place, so an interrupted extraction
    goes on where it stopped (written clips are skipped). Returns how many clips are there, and `(video, cause)` of
    those that could not be decoded (left out)."""
    where = Layout.at(out, layout, split)
    workers = workers or os.cpu_count() or 1
    rates, failed, pending = {}, [], deque()

    def collect() -> None:
        relative, future = pending.popleft()
        result = future.result()
        if isinstance(result, str):
            failed.append((relative, result))
        else:
            rates[os.path.relpath(os.path.join(where.frames, relative), where.base).replace(os.sep, "/")] = result

    with ProcessPoolExecutor(workers) as pool:
        for job in _jobs(source, where, settings):  # a stream's videos are read as they are written
            pending.append((job[1], pool.submit(_extract_clip, job)))
            if len(pending) >= 4 * workers:
                collect()
        while pending:
            collect()
    _merge_frame_rates(os.path.join(out, FRAME_RATES), rates)
    for video, cause in failed:
        logger.warning("%s: left out (%s)", video, cause)
    return len(rates), failed


def _jobs(source: VideoSource, where: Layout, settings: ExtractionSettings) -> Iterator[tuple]:
    """`(video, clip folder relative to where.frames, where, settings)` of each row: `<class>/<name>`, the name being
    the video file's stem (the row's index where two would share one, or where the video has no file name: bytes),
    the class's name with any `/` made `_` (a folder name holds none)."""
    taken = set()
    for row in source.dataset:
        video = row["video"]
        name = os.path.splitext(os.path.basename(file_path(video) or ""))[0]
        label = source.classes[row["label"]].replace("/", "_") if row["label"] >= 0 else "unlabeled"
        relative = os.path.join(label, name)
        if not name or hidden(name) or relative in taken:
            relative = os.path.join(label, f"{row['index']:09d}")
        taken.add(relative)
        yield video, relative, where, settings


def _extract_clip(job: tuple[Source, str, Layout, ExtractionSettings]) -> float | str:
    """Writes one clip (a worker's task): its frame rate, or why it cannot be decoded. Its frame folder is renamed
    into place last, so a clip whose folder is there is whole, and is not written again."""
    video, relative, where, settings = job
    frames = os.path.join(where.frames, relative)
    audio = os.path.join(where.audio, relative) + f".{settings.audio_format}"
    try:
        if os.path.isdir(frames):
            return probe(video).fps
        os.makedirs(os.path.dirname(frames), exist_ok=True)
        os.makedirs(os.path.dirname(audio), exist_ok=True)
        partial = tempfile.mkdtemp(dir=os.path.dirname(frames), prefix=".partial-")
        jpeg = settings.image_format == "jpg"
        options = {"quality": settings.quality} if jpeg else {"compress_level": 1}
        try:
            with whole_video(
                video, sample_rate=settings.sample_rate, short_side=settings.short_side, threads=1
            ) as clip:
                for number, frame in enumerate(clip.frames, 1):
                    image = os.path.join(partial, f"img_{number:05d}.{settings.image_format}")
                    Image.fromarray(frame).save(image, **options)
                if clip.audio is not None:
                    samples, rate = np.clip(clip.audio, -1, 1), settings.sample_rate
                    soundfile.write(f"{audio}.partial", samples, rate, "PCM_16", format=settings.audio_format.upper())
                    os.replace(f"{audio}.partial", audio)
            os.rename(partial, frames)
            return clip.fps
        finally:
            shutil.rmtree(partial, ignore_errors=True)
    except DecodeError as error:
        return error.cause


def _merge_frame_rates(path: str, rates: dict[str, float]) -> None:
    """Adds `rates` to the frame rates in `path` (the other splits' stay), written whole by a rename."""
    known = {}
    if os.path.exists(path):
        with open(path) as handle:
            known = json.load(handle)
    with open(f"{path}.partial", "w") as handle:
        json.dump({**known, **dict(sorted(rates.items()))}, handle, indent=0)
    os.replace(f"{path}.partial", path)
