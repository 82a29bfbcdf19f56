"""`load_clip` against the fuzz corpus (`modeling_avssl.data.media_corpus`): on every kind of file it gives the frames
and audio of a decode without seeking, on one clock, or raises `DecodeError` naming the file; nothing else. The large
corpus is `benchmarks/decode_fuzz.py`."""

import os

import numpy as np
import pytest

from modeling_avssl.data import DecodeError, load_clip, media_corpus
from modeling_avssl.data.decoding import probe


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


@pytest.mark.parametrize("name", sorted(CLEAN))
def test_cut_and_joined_copies_give_the_frames_they_still_hold_or_a_decode_error_naming_them(corpus, name):
    folder, paths, references = corpus
    with open(paths[name], "rb") as file:
        data = file.read()
    rng = np.random.default_rng(sorted(CLEAN).index(name))
    # cut and concatenated copies; bytes replaced or zeroed inside coded frames or an AVI index can give wrong frames
    # that nothing reports (docs/decoding.md), so they are counted by the benchmark, not held here
    mutations = [m for m in media_corpus.mutations(data, rng, 8) if m[0].startswith(("truncated", "concatenated"))]
    for label, mutated in mutations:
        path = os.path.join(folder, f"{label}.{name}")
        with open(path, "wb") as file:
            file.write(mutated)
        try:
            own = [media_corpus.decode_reference(path)]
        except Exception:  # noqa: BLE001 - a copy the reference cannot open
            own = []
        for position in positions():
            try:
                clip = clip_at(path, position)
            except DecodeError as error:
                assert path in str(error)
                continue
            problems = media_corpus.damaged_clip_problems(
                CLEAN[name], clip, own + [references[name]], NUM_FRAMES, FRAME_STRIDE
            )
            assert problems == [], (label, position)
            assert np.isfinite(clip.audio).all()


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
