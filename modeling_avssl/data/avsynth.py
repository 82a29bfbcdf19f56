"""AVSynth: a generated audio-visual action data set in which sound tells which object matters.

Each clip shows 2-3 objects of different shapes and random colours on a textured background, each moving with one
of a set of motions. Exactly one object sounds: every motion event of that object (a bounce's contact, a slide's
turn, a pulse's peak, an orbit's top) makes a short note whose timbre belongs to its shape and whose pitch to its
hue (red low, violet high). Event intervals, phases, sizes, hues and positions are random, so the class, (motion of
the sounding object, its shape), needs both modalities: video alone cannot tell which object sounds, audio alone
cannot tell how it moves.

Clips are deterministic from (seed, split, index) and written as real h264 + AAC mp4 files in a videofolder
(`OUT/{train,test}/<class>/<index>.mp4`) with `OUT/metadata.jsonl` holding each clip's label, sounding object and
its per-frame bounding box.
"""

import colorsys
import json
import os
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np

from .encoding import write_clip


MOTIONS = ("bounce", "slide", "pulse", "orbit")
SHAPES = ("circle", "square", "triangle")
CLASSES = tuple(f"{motion}-{shape}" for motion in MOTIONS for shape in SHAPES)
SPLITS = ("train", "test")
MAX_HUE = 0.8  # red to violet, so that the hue wheel does not wrap back to red


@dataclass(frozen=True)
class AVSynthSpec:
    """How clips look and sound: 16 frames at 8 fps of 64x64, 2 s of 16 kHz audio by default."""

    num_frames: int = 16
    fps: float = 8.0
    size: int = 64
    sample_rate: int = 16000
    classes: tuple[str, ...] = CLASSES
    event_interval: tuple[float, float] = (0.35, 0.75)
    note_seconds: float = 0.09

    @property
    def seconds(self) -> float:
        return self.num_frames / self.fps


@dataclass
class SceneObject:
    shape: str
    motion: str
    colour: tuple[int, int, int]
    hue: float
    centre: tuple[float, float]  # pixels
    radius: float  # pixels
    extent: float  # pixels of travel (bounce height, slide half-width, orbit radius)
    interval: float  # seconds between motion events
    phase: float  # fraction of an interval


@dataclass
class AVSynthClip:
    frames: np.ndarray  # uint8 (T, H, W, 3)
    audio: np.ndarray  # float32 (samples,)
    label: str
    objects: list[SceneObject]
    sounding: int  # index into objects
    boxes: list[list[float]] = field(default_factory=list)  # per frame [x0, y0, x1, y1] of the sounding object
    events: list[float] = field(default_factory=list)  # seconds


def event_times(obj: SceneObject, seconds: float) -> np.ndarray:
    """Times of the object's motion events in [0, seconds)."""
    first = (-obj.phase % 1.0) * obj.interval
    return np.arange(first, seconds, obj.interval)


def object_state(obj: SceneObject, t: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Centre x, centre y and radius at times `t`; every motion has one event (u integer) per interval."""
    u = t / obj.interval + obj.phase
    x = np.full_like(t, obj.centre[0])
    y = np.full_like(t, obj.centre[1])
    r = np.full_like(t, obj.radius)
    if obj.motion == "bounce":  # contact with the floor at integer u
        y = y + obj.extent * (0.5 - np.abs(np.sin(np.pi * u)))
    elif obj.motion == "slide":  # turns at the walls at integer u
        x = x + obj.extent * (2 * np.abs((u % 2) - 1) - 1)
    elif obj.motion == "pulse":  # largest at integer u
        r = r * (1 + 0.35 * np.cos(2 * np.pi * u))
    elif obj.motion == "orbit":  # at the top of the circle at integer u
        x = x + obj.extent * np.sin(2 * np.pi * u)
        y = y - obj.extent * np.cos(2 * np.pi * u)
    return x, y, r


def reach(motion: str, radius: float, extent: float) -> tuple[float, float]:
    """How far the object reaches from its centre horizontally and vertically while it moves."""
    size = radius * (1.35 if motion == "pulse" else 1.0)
    horizontal = {"slide": extent, "orbit": extent}.get(motion, 0.0)
    vertical = {"bounce": extent / 2, "orbit": extent}.get(motion, 0.0)
    return size + horizontal, size + vertical


def colour_of(hue: float, rng: np.random.Generator) -> tuple[int, int, int]:
    """A vivid RGB colour of `hue` (in [0, 1)) with random saturation and brightness."""
    rgb = colorsys.hsv_to_rgb(hue, rng.uniform(0.6, 1.0), rng.uniform(0.7, 1.0))
    return tuple(round(255 * channel) for channel in rgb)


def pitch_of(hue: float) -> float:
    """The note's fundamental for the sounding object's hue: 220 Hz at red rising to 660 Hz at violet."""
    return 220.0 * 3.0 ** (hue / MAX_HUE)


def shape_mask(shape: str, xs: np.ndarray, ys: np.ndarray, cx: float, cy: float, r: float) -> np.ndarray:
    dx, dy = xs - cx, ys - cy
    if shape == "circle":
        return dx**2 + dy**2 <= r**2
    if shape == "square":
        half = r * 0.85
        return (np.abs(dx) <= half) & (np.abs(dy) <= half)
    # triangle pointing up, inscribed in the circle of radius r
    return (dy <= r * 0.6) & (dy >= -r) & (np.abs(dx) <= (dy + r) * 0.62)


def timbre(shape: str, pitch: float, t: np.ndarray) -> np.ndarray:
    """One note's waveform: a pure tone (circle), a square wave's odd harmonics (square), or a bright sawtooth
    (triangle)."""
    phase = 2 * np.pi * pitch * t
    if shape == "circle":
        return np.sin(phase)
    harmonics = range(1, 12, 2) if shape == "square" else range(1, 10)
    return sum(np.sin(k * phase) / k for k in harmonics) * 0.8


def texture(rng: np.random.Generator, size: int) -> np.ndarray:
    """A muted background: smooth colour blobs plus a faint grating and noise, float (H, W, 3) in [0, 255]."""
    coarse = rng.uniform(60, 170, (size // 8 + 2, size // 8 + 2, 3))
    position = np.linspace(0, len(coarse) - 1.001, size)  # bilinear upsampling of the coarse grid
    cell, frac = position.astype(int), position % 1
    rows = coarse[cell] * (1 - frac)[:, None, None] + coarse[cell + 1] * frac[:, None, None]
    smooth = rows[:, cell] * (1 - frac)[None, :, None] + rows[:, cell + 1] * frac[None, :, None]
    angle, freq = rng.uniform(0, np.pi), rng.uniform(0.15, 0.5)
    grid = np.arange(size)
    grating = 12 * np.sin(freq * (grid[None, :] * np.cos(angle) + grid[:, None] * np.sin(angle)))
    return np.clip(smooth + grating[..., None] + rng.normal(0, 6, (size, size, 3)), 0, 255)


def make_clip(spec: AVSynthSpec, seed: int, split: str, index: int) -> AVSynthClip:
    """The clip `index` of `split`, deterministic from `seed`; classes cycle so every class gets the same count."""
    rng = np.random.default_rng([seed, SPLITS.index(split), index])
    label = spec.classes[index % len(spec.classes)]
    motion, shape = label.split("-")
    num_objects = int(rng.integers(2, 4))
    others = [s for s in SHAPES if s != shape]
    shapes = [shape, *rng.permutation(others)[: num_objects - 1].tolist()]
    order = rng.permutation(num_objects)  # where the sounding object sits among the others
    size = spec.size
    objects = []
    for slot, object_shape in zip(order, shapes):
        object_motion = motion if object_shape == shape else str(rng.choice(MOTIONS))
        radius = rng.uniform(0.08, 0.14) * size
        hue = rng.uniform(0, MAX_HUE)
        extent = rng.uniform(0.08, 0.14) * size
        x_reach, y_reach = reach(object_motion, radius, extent)
        lane = (slot + 0.5) / num_objects  # objects share the frame in columns so they rarely cover each other
        centre = (
            float(np.clip((lane + rng.uniform(-0.04, 0.04)) * size, x_reach, size - x_reach)),
            float(rng.uniform(y_reach, size - y_reach)),
        )
        objects.append(
            SceneObject(
                shape=object_shape,
                motion=object_motion,
                colour=colour_of(hue, rng),
                hue=hue,
                centre=centre,
                radius=radius,
                extent=extent,
                interval=float(rng.uniform(*spec.event_interval)),
                phase=float(rng.uniform()),
            )
        )

    background = texture(rng, size)
    ys, xs = np.mgrid[0:size, 0:size].astype(np.float64)
    times = np.arange(spec.num_frames) / spec.fps
    states = [object_state(obj, times) for obj in objects]
    drawing_order = rng.permutation(num_objects)  # which object covers which where they meet
    frames = np.empty((spec.num_frames, size, size, 3), np.uint8)
    boxes = []
    for i in range(spec.num_frames):
        frame = background.copy()
        for k in drawing_order:
            x, y, r = states[k]
            frame[shape_mask(objects[k].shape, xs, ys, x[i], y[i], r[i])] = objects[k].colour
        frames[i] = frame.astype(np.uint8)
        x, y, r = (value[i] for value in states[0])
        boxes.append([round(float(v), 2) for v in (max(x - r, 0), max(y - r, 0), min(x + r, size), min(y + r, size))])

    events = event_times(objects[0], spec.seconds)
    audio = rng.normal(0, rng.uniform(0.002, 0.01), int(spec.seconds * spec.sample_rate))
    pitch = pitch_of(objects[0].hue) * rng.uniform(0.98, 1.02)
    note_t = np.arange(int(spec.note_seconds * spec.sample_rate)) / spec.sample_rate
    note = timbre(shape, pitch, note_t) * np.exp(-note_t / (spec.note_seconds / 4)) * rng.uniform(0.25, 0.5)
    for event in events:
        start = int(event * spec.sample_rate)
        end = min(start + len(note), len(audio))
        audio[start:end] += note[: end - start]
    return AVSynthClip(
        frames=frames,
        audio=np.clip(audio, -1, 1).astype(np.float32),
        label=label,
        objects=objects,
        sounding=0,
        boxes=boxes,
        events=[round(float(e), 4) for e in events],
    )


def generate(
    out: str | os.PathLike,
    num_train: int,
    num_test: int,
    seed: int = 0,
    spec: AVSynthSpec | None = None,
    progress: bool = False,
) -> str:
    """Writes AVSynth to `out` (a videofolder of mp4 files and `metadata.jsonl`); returns the metadata path."""
    spec = spec or AVSynthSpec()
    unknown = sorted(set(spec.classes) - set(CLASSES))
    if unknown:
        raise ValueError(f"Unknown AVSynth classes {unknown}; choose from {list(CLASSES)}.")
    os.makedirs(out, exist_ok=True)
    metadata_path = os.path.join(out, "metadata.jsonl")
    jobs = [(split, index) for split, count in zip(SPLITS, (num_train, num_test)) for index in range(count)]
    with open(metadata_path + ".partial", "w") as metadata:
        for split, index in _progress(jobs, progress):
            clip = make_clip(spec, seed, split, index)
            file = f"{split}/{clip.label}/{index:06d}.mp4"
            os.makedirs(os.path.join(out, os.path.dirname(file)), exist_ok=True)
            # x264's lookahead reads memory it did not write, so only without it is the same clip the same file
            write_clip(
                os.path.join(out, file),
                clip.frames,
                spec.fps,
                clip.audio,
                spec.sample_rate,
                video_options={"tune": "zerolatency"},
            )
            sounding = clip.objects[clip.sounding]
            record = {
                "file": file,
                "split": split,
                "label": clip.label,
                "shape": sounding.shape,
                "motion": sounding.motion,
                "boxes": clip.boxes,
                "events": clip.events,
                "objects": [asdict(obj) for obj in clip.objects],
            }
            metadata.write(json.dumps(record) + "\n")
    os.replace(metadata_path + ".partial", metadata_path)
    return metadata_path


def _progress(jobs: Sequence, enabled: bool) -> Iterator:
    if not enabled:
        yield from jobs
        return
    from tqdm.auto import tqdm

    yield from tqdm(jobs, desc="AVSynth", unit="clip")
