"""Behaviour of AVSynth: a deterministic videofolder of real mp4 files whose label needs both modalities."""

import json
from collections import Counter

import numpy as np
import pytest

from modeling_avssl.commands.data import main as data_command
from modeling_avssl.data import load_clip
from modeling_avssl.data.avsynth import CLASSES, SHAPES, AVSynthSpec, generate, make_clip


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    folder = tmp_path_factory.mktemp("avsynth")
    generate(folder, num_train=24, num_test=12, seed=7)
    records = [json.loads(line) for line in (folder / "metadata.jsonl").read_text().splitlines()]
    return folder, records


def test_it_writes_a_videofolder_of_mp4_files_with_one_metadata_line_each(dataset):
    folder, records = dataset
    assert len(records) == 36
    for record in records:
        assert record["file"] == f"{record['split']}/{record['label']}/{record['file'].split('/')[-1]}"
        assert (folder / record["file"]).is_file()
    assert sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*.mp4")) == sorted(
        r["file"] for r in records
    )
    assert {r["label"] for r in records} == set(CLASSES)
    assert set(Counter(r["label"] for r in records if r["split"] == "train").values()) == {2}


def test_each_clip_is_h264_and_aac_of_16_frames_at_8_fps_with_2_s_of_audio(dataset):
    import av

    folder, records = dataset
    with av.open(str(folder / records[0]["file"])) as container:
        assert container.streams.video[0].codec_context.name == "h264"
        assert container.streams.audio[0].codec_context.name == "aac"
    clip = load_clip(folder / records[0]["file"], 16, audio_seconds=2.0, require_audio=True)
    assert clip.frames.shape == (16, 64, 64, 3) and clip.fps == 8 and clip.duration == pytest.approx(2.0)
    assert np.abs(clip.audio).max() > 0.1


def test_the_label_is_the_sounding_objects_motion_and_shape_among_objects_of_other_shapes(dataset):
    _, records = dataset
    for record in records:
        objects = record["objects"]
        assert 2 <= len(objects) <= 3 and len({o["shape"] for o in objects}) == len(objects)
        sounding = [o for o in objects if o["shape"] == record["shape"]]
        assert (
            record["label"]
            == f"{sounding[0]['motion']}-{sounding[0]['shape']}"
            == f"{record['motion']}-{record['shape']}"
        )


def test_boxes_cover_the_sounding_object_in_the_decoded_frames(dataset):
    folder, records = dataset
    for record in records[:8]:
        clip = load_clip(folder / record["file"], 16, audio_seconds=2.0)
        colour = np.array(next(o["colour"] for o in record["objects"] if o["shape"] == record["shape"]))
        shows_colour = []
        for frame, (x0, y0, x1, y1) in zip(clip.frames, record["boxes"]):
            cx, cy = int((x0 + x1) / 2), int((y0 + y1) / 2)
            centre = frame[cy - 1 : cy + 2, cx - 1 : cx + 2].reshape(-1, 3).astype(int)
            shows_colour.append(np.abs(centre - colour).max(axis=1).min() < 40)
        assert np.mean(shows_colour) >= 0.75  # the box centre shows the object, unless another one passes over it


def test_notes_sound_at_the_sounding_objects_motion_events(dataset):
    folder, records = dataset
    for record in records[:8]:
        clip = load_clip(folder / record["file"], 16, audio_seconds=2.0)
        envelope = np.abs(clip.audio).reshape(-1, 160).max(axis=1)  # 10 ms bins
        loud_bins = set(np.flatnonzero(envelope > 0.5 * envelope.max()))
        for event in record["events"]:
            near = {int(event * 100) + d for d in range(-3, 6)}
            assert loud_bins & near, f"no note near {event} s in {record['file']}"


def test_the_same_seed_gives_the_same_data_set_and_another_seed_another(tmp_path):
    first, second, other = (tmp_path / name for name in ("a", "b", "c"))
    for folder, seed in ((first, 3), (second, 3), (other, 4)):
        generate(folder, num_train=6, num_test=0, seed=seed)
    assert (first / "metadata.jsonl").read_text() == (second / "metadata.jsonl").read_text()
    assert (first / "metadata.jsonl").read_text() != (other / "metadata.jsonl").read_text()
    for path in first.rglob("*.mp4"):
        a, b = (
            load_clip(path, 16, audio_seconds=2.0),
            load_clip(second / path.relative_to(first), 16, audio_seconds=2.0),
        )
        np.testing.assert_array_equal(a.frames, b.frames)
        np.testing.assert_array_equal(a.audio, b.audio)


def test_clips_depend_only_on_seed_split_and_index():
    spec = AVSynthSpec()
    a, b = make_clip(spec, 1, "train", 5), make_clip(spec, 1, "train", 5)
    np.testing.assert_array_equal(a.frames, b.frames)
    assert not np.array_equal(a.frames, make_clip(spec, 1, "test", 5).frames)


def test_timbre_belongs_to_the_shape_and_pitch_to_the_hue():
    spec = AVSynthSpec(classes=tuple(f"pulse-{shape}" for shape in SHAPES))
    clips = [make_clip(spec, 0, "train", i) for i in range(30)]

    def harmonics(clip):  # amplitude of the 2nd and 3rd partials relative to the fundamental
        spectrum = np.abs(np.fft.rfft(clip.audio))
        fundamental = np.argmax(spectrum[200:]) + 200  # 0.5 Hz bins; pitches are 220-660 Hz
        return [
            spectrum[k * fundamental - 6 * k : k * fundamental + 6 * k + 1].max() / spectrum[fundamental]
            for k in (2, 3)
        ]

    for clip in clips:
        second, third = harmonics(clip)
        shape = clip.label.split("-")[1]
        assert (second > 0.25) == (shape == "triangle"), (clip.label, second)  # sawtooth: every partial
        assert (third > 0.2) == (shape != "circle"), (clip.label, third)  # square: odd partials; circle: pure
    circles = [c for c in clips if c.label.endswith("circle")]
    pitches = [np.argmax(np.abs(np.fft.rfft(c.audio))) / 2 for c in circles]  # Hz
    hues = [c.objects[c.sounding].hue for c in circles]
    assert all(210 < pitch < 690 for pitch in pitches)
    redder_is_lower = [(p1 > p2) == (h1 > h2) for p1, h1 in zip(pitches, hues) for p2, h2 in zip(pitches, hues)]
    assert np.mean(redder_is_lower) > 0.8


def test_the_command_writes_a_chosen_subset_of_classes(tmp_path, capsys):
    data_command(
        ["avsynth", str(tmp_path), "--train", "4", "--test", "2", "--classes", "bounce-circle", "slide-square"]
    )
    records = [json.loads(line) for line in (tmp_path / "metadata.jsonl").read_text().splitlines()]
    assert {r["label"] for r in records} == {"bounce-circle", "slide-square"}
    assert "wrote 4 train + 2 test clips of 2 classes" in capsys.readouterr().out


def test_unknown_classes_are_refused(tmp_path):
    with pytest.raises(ValueError, match=r"Unknown AVSynth classes \['jump-star'\]"):
        generate(tmp_path, 2, 0, spec=AVSynthSpec(classes=("bounce-circle", "jump-star")))
