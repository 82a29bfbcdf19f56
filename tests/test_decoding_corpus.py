"""`load_clip` against the fuzz corpus (`media_corpus`): on every kind of file it gives the frames
and audio of a decode without seeking, on one clock, or raises `DecodeError` naming the file; nothing else. The large
corpus is `benchmarks/decode_fuzz.py`."""

import os

import media_corpus
import numpy as np
import pytest

from modeling_avssl.data import DecodeError, load_clip
from modeling_avssl.decoding import probe


NUM_FRAMES, FRAME_STRIDE, AUDIO_SECONDS = 8, 2, 2.0
CLEAN = {case.name: case for case in media_corpus.clean_cases()}


def positions() -> list[dict]:
    """The 5 test clips and 3 training starts (fresh generators: the same starts in every test)."""
    return [{"clip_index": k, "num_clips": 5} for k in range(5)] + [
        {"training": True, "rng": np.random.default_rng(seed)} for seed in range(3)
    ]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """Every clean case written once, with its no-seek decode."""
    folder = tmp_path_factory.mktemp("corpus")
    paths = {name: media_corpus.write_case(case, folder) for name, case in CLEAN.items()}
    return folder, paths, {name: media_corpus.decode_reference(path) for name, path in paths.items()}


def clip_at(path, position):
    return load_clip(path, NUM_FRAMES, frame_stride=FRAME_STRIDE, audio_seconds=AUDIO_SECONDS, **position)


@pytest.mark.parametrize("name", sorted(CLEAN))
def test_every_clip_has_the_frames_and_the_aligned_audio_of_a_decode_without_seeking(corpus, name):
    _, paths, references = corpus
    for position in positions():
        clip = clip_at(paths[name], position)
        assert (
            media_corpus.clip_problems(CLEAN[name], references[name], clip, NUM_FRAMES, FRAME_STRIDE, AUDIO_SECONDS)
            == []
        ), position


def assert_right_or_refused(path, name: str, references) -> None:
    """At every position, a damaged copy of case `name` gives the frames of one of `references` (its own no-seek
    decode, the original's) or raises `DecodeError` naming it."""
    for position in positions():
        try:
            clip = clip_at(path, position)
        except DecodeError as error:
            assert str(path) in str(error)
            continue
        problems = media_corpus.damaged_clip_problems(CLEAN[name], clip, references, NUM_FRAMES, FRAME_STRIDE)
        assert problems == [], position
        assert np.isfinite(clip.audio).all()


@pytest.mark.parametrize("name", sorted(CLEAN))
def test_damaged_copies_give_the_frames_they_still_hold_or_a_decode_error_naming_them(corpus, name):
    folder, paths, references = corpus
    with open(paths[name], "rb") as file:
        data = file.read()
    rng = np.random.default_rng(sorted(CLEAN).index(name))
    for label, mutated in media_corpus.mutations(data, rng, 8):  # cut, bytes replaced, zeroed, joined: 2 of each
        path = os.path.join(folder, f"{label}.{name}")
        with open(path, "wb") as file:
            file.write(mutated)
        try:
            own = [media_corpus.decode_reference(path)]
        except Exception:  # noqa: BLE001 - a copy the reference cannot open
            own = []
        assert_right_or_refused(path, name, own + [references[name]])


def avi_chunks(data: bytes, tag: bytes) -> list[int]:
    """Offsets of the `tag` chunks ("00dc": video frames) in an AVI's movi list."""
    end, offsets = data.rfind(b"idx1"), [data.find(tag, data.find(b"movi"))]
    while 0 <= offsets[-1] < end:
        offsets.append(data.find(tag, offsets[-1] + 1))
    return offsets[:-1]


def lost_chunk(data: bytes) -> bytes:
    """An AVI whose 13th video chunk is zeroed: FFmpeg skips it and numbers every later frame one too early."""
    at = avi_chunks(data, b"00dc")[12]
    size = 8 + int.from_bytes(data[at + 4 : at + 8], "little")
    return data[:at] + bytes(size) + data[at + size :]


def index_hole(data: bytes) -> bytes:
    """An AVI whose index has its middle third zeroed: it ends before the frames, so seeks number frames wrongly."""
    at = data.rfind(b"idx1")
    size = int.from_bytes(data[at + 4 : at + 8], "little")
    lo, hi = at + 8 + size // 3, at + 8 + 2 * size // 3
    return data[:lo] + bytes(hi - lo) + data[hi:]


def damaged_jpeg(data: bytes) -> bytes:
    """An MJPEG AVI with 32 bytes of its 21st frame's scan replaced: FFmpeg draws that frame from a stale picture."""
    mutated = bytearray(data)
    scan = [offset for offset in range(len(data) - 1) if data[offset : offset + 2] == b"\xff\xda"][20]
    mutated[scan + 40 : scan + 72] = np.random.default_rng(0).integers(0, 256, 32, dtype=np.uint8).tobytes()
    return bytes(mutated)


def short_sample_table(data: bytes) -> bytes:
    """An mp4 whose video sample table (`stsz`) counts half its frames: the packets end at 2 s of 4 s."""
    mutated = bytearray(data)
    at = data.find(b"stsz") + 12
    mutated[at : at + 4] = (int.from_bytes(data[at : at + 4], "big") // 2).to_bytes(4, "big")
    return bytes(mutated)


@pytest.mark.parametrize(
    "name, damage",
    [
        ("mpeg4_mp3.avi", lost_chunk),
        ("mjpeg_pcm.avi", lost_chunk),
        ("mpeg4_mp3.avi", index_hole),
        ("mjpeg_pcm.avi", index_hole),
        ("mjpeg_pcm.avi", damaged_jpeg),
        ("h264_aac.mp4", short_sample_table),
    ],
)
def test_damage_ffmpeg_conceals_gives_the_original_frames_or_a_decode_error(corpus, name, damage):
    folder, paths, references = corpus
    with open(paths[name], "rb") as file:
        path = os.path.join(folder, f"{damage.__name__}.{name}")
        with open(path, "wb") as out:
            out.write(damage(file.read()))
    assert_right_or_refused(path, name, [references[name]])


def test_streams_that_start_apart_stay_aligned(corpus):
    _, paths, _ = corpus
    late = clip_at(paths["late_audio.mp4"], {"clip_index": 0, "num_clips": 5})  # audio from 1.5 s, clip 0 s-1.6 s
    window = np.arange(len(late.audio)) / late.sample_rate - 0.2  # the window starts 0.2 s before the video
    assert np.abs(late.audio[window < 1.45]).max() < 0.02
    assert np.abs(late.audio[window > 1.55]).max() > 0.3


def test_rotation_metadata_turns_the_frames_and_probe_reports_the_turned_size(corpus):
    _, paths, _ = corpus
    for name in ("rotated_90.mp4", "rotated_270.mp4"):
        assert clip_at(paths[name], {}).frames.shape == (NUM_FRAMES, 64, 48, 3)
        info = probe(paths[name])
        assert (info.width, info.height) == (48, 64)


def test_a_resolution_change_is_resized_to_the_first_frame_size(corpus):
    _, paths, _ = corpus
    clip = clip_at(paths["resolution_change.mkv"], {"clip_index": 2, "num_clips": 5})  # frames 12-26: the change at 20
    assert clip.frames.shape == (NUM_FRAMES, 48, 64, 3)


def test_audio_with_a_nan_sample_raises_a_decode_error_when_its_window_holds_it(tmp_path):
    (case,) = media_corpus.bad_cases()
    path = media_corpus.write_case(case, tmp_path)
    with pytest.raises(DecodeError, match="NaN or infinite"):
        clip_at(path, {"clip_index": 2, "num_clips": 5})
    assert np.isfinite(clip_at(path, {"clip_index": 0, "num_clips": 5}).audio).all()


@pytest.mark.parametrize("kind", ["fifo", "directory", "missing"])
def test_anything_but_a_regular_file_is_refused_before_it_is_opened(tmp_path, kind):
    path = tmp_path / f"{kind}.mp4"
    if kind == "fifo":
        os.mkfifo(path)  # av.open would block on it forever
    elif kind == "directory":
        path.mkdir()
    with pytest.raises(DecodeError, match=f"{kind}.mp4: (not a regular file|cannot read the file)"):
        load_clip(path, 4)
    with pytest.raises(DecodeError, match=f"{kind}.mp4"):
        probe(path)
