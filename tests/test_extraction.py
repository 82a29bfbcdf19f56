"""Pre-extracted frames and audio (`data/extraction.py`, `extracted.py`): a copy written by `extract` gives the clip
its container gives (the same frames at the same times, the audio within a few milliseconds), in both layouts; frames
and audio that are missing or damaged are bad files named in a `DecodeError`; runs train from such copies."""

import json
import os
import shutil

import media_corpus
import numpy as np
import pytest
import soundfile
from PIL import Image
from runs import tiny_run, train

from modeling_avssl.commands.data import main as data_command
from modeling_avssl.data import DecodeError, load_clip, read_clip
from modeling_avssl.data.datasets_form import datasets_source
from modeling_avssl.data.extracted_clips import frame_files, read_audio, read_frame
from modeling_avssl.data.extraction import ExtractionSettings, extract, extracted_frames
from modeling_avssl.data.sources import local_source, video_folder, webdataset
from trees import write_video


CLEAN = {case.name: case for case in media_corpus.clean_cases()}
NUM_FRAMES, FRAME_STRIDE, AUDIO_SECONDS = 8, 3, 1.0


def positions() -> list[dict]:
    """3 test clips and 3 training starts (fresh generators: the same starts for both copies)."""
    return [{"clip_index": k, "num_clips": 3} for k in range(3)] + [
        {"training": True, "rng": np.random.default_rng(seed)} for seed in range(3)
    ]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """Every clean case of the decoder's corpus, and a PNG copy of them all written by `extract` (two processes)."""
    folder = tmp_path_factory.mktemp("corpus")
    paths = {name: media_corpus.write_case(case, folder) for name, case in CLEAN.items()}
    source = local_source("corpus", list(paths.values()), [0] * len(paths), ["all"], {})
    written, failed = extract(source, folder / "copy", "train", settings=ExtractionSettings("png"), workers=2)
    assert (written, failed) == (len(paths), [])
    copy = extracted_frames(folder / "copy", "train", require_audio=False)
    clips = {os.path.basename(clip["frames"]): clip for clip in copy.dataset["video"]}
    return paths, {name: clips[os.path.splitext(name)[0]] for name in paths}


@pytest.mark.parametrize("name", sorted(CLEAN))
def test_a_clip_of_an_extracted_copy_is_the_clip_of_its_container(corpus, name):
    """The same frames; the audio as far (within 3 ms) from where it was written as the container's. Matroska and
    WebM state no video duration, only the container's, which includes audio that runs longer than the video (0.8 s
    in late_audio.mkv, Opus's padding in WebM): the container's clips spread over that, the copy's over the video's
    own length (its frames)."""
    paths, clips = corpus
    case = CLEAN[name]
    for decoded_position, extracted_position in zip(positions(), positions()):
        options = dict(frame_stride=FRAME_STRIDE, audio_seconds=AUDIO_SECONDS, **decoded_position)
        decoded = load_clip(paths[name], NUM_FRAMES, **options)
        extracted = read_clip(clips[name], NUM_FRAMES, **{**options, **extracted_position})
        if decoded.duration != pytest.approx(extracted.duration, abs=1e-6):
            assert case.container in ("matroska", "webm") and decoded.duration > extracted.duration
            assert extracted.duration == case.num_frames / case.fps
            continue
        assert extracted.start == pytest.approx(decoded.start) and extracted.fps == decoded.fps
        np.testing.assert_array_equal(extracted.frames, decoded.frames)
        assert extracted.has_audio == decoded.has_audio
        if not decoded.has_audio:
            continue
        window = decoded.start + NUM_FRAMES * FRAME_STRIDE / decoded.fps / 2 - AUDIO_SECONDS / 2
        truth = media_corpus.expected_audio(case, window, len(decoded.audio), decoded.sample_rate)
        after_start = window + np.arange(len(truth)) / decoded.sample_rate >= 0  # the copy holds audio from 0 on
        if after_start.sum() < decoded.sample_rate // 4:
            continue
        if not np.abs(truth[after_start]).max():  # after the recording (where a decoder's tail fades out)
            assert np.abs(extracted.audio[after_start]).max() < 0.01
            continue
        lags = [
            media_corpus.audio_lag(audio[after_start], truth[after_start], decoded.sample_rate)
            for audio in (decoded.audio, extracted.audio)
        ]
        assert abs(lags[0][0] - lags[1][0]) <= 0.003 and lags[1][1] > 0.9, f"{name}: container, copy {lags}"


def test_jpeg_frames_are_close_to_the_decoded_ones(tmp_path):
    path = media_corpus.write_case(CLEAN["h264_aac.mp4"], tmp_path)
    source = local_source("one", [path], [0], ["all"], {})
    extract(source, tmp_path / "copy", "train", settings=ExtractionSettings("jpg", quality=95), workers=1)
    (clip,) = extracted_frames(tmp_path / "copy", "train").dataset["video"]
    decoded, extracted = (read_clip(video, NUM_FRAMES, clip_index=1, num_clips=3) for video in (path, clip))
    assert np.abs(decoded.frames.astype(int) - extracted.frames.astype(int)).mean() < 3


@pytest.fixture
def copy(tmp_path):
    """A rawframes copy (PNG) of one two-second clip (16 frames at 8 fps) of class 'drums', and the clip's folder."""
    write_video(tmp_path / "videos" / "drums" / "a.mp4", frames=16)
    extract(
        video_folder(tmp_path / "videos"), tmp_path / "copy", "train", settings=ExtractionSettings("png"), workers=1
    )
    return tmp_path / "copy", tmp_path / "copy" / "train" / "drums" / "a"


def test_extract_writes_the_rawframes_layout_and_the_frame_rates(copy):
    root, clip = copy
    frames = sorted(os.listdir(clip))
    assert frames[0] == "img_00001.png" and frames[-1] == "img_00016.png" and len(frames) == 16
    audio = soundfile.info(str(clip.parent / "a.wav"))
    assert audio.samplerate == 16000 and audio.channels == 1 and audio.frames == 32000
    assert json.loads((root / "frame_rates.json").read_text()) == {"train/drums/a": 8.0}
    source = extracted_frames(root, "train")
    assert source.classes == ["drums"] and source.dataset[0]["video"]["frame_rate"] == 8.0


def test_a_missing_frame_is_a_decode_error_naming_the_folder_and_the_gap(copy):
    root, clip = copy
    os.remove(clip / "img_00007.png")
    with pytest.raises(DecodeError, match=r"a: frames \[7\] of 1\.\.16 are missing"):
        read_clip(extracted_frames(root, "train").dataset[0]["video"], 4)


def test_a_damaged_frame_is_a_decode_error_naming_the_file(copy):
    root, clip = copy
    (clip / "img_00001.png").write_bytes(b"\x89PNG not really")
    with pytest.raises(DecodeError, match="img_00001.png: not a readable image"):
        read_clip(extracted_frames(root, "train").dataset[0]["video"], 4, clip_index=0, num_clips=3)


def test_a_damaged_or_vanished_audio_file_is_a_decode_error_naming_it(copy):
    root, clip = copy
    video = extracted_frames(root, "train").dataset[0]["video"]
    (clip.parent / "a.wav").write_bytes(b"RIFF....WAVEfmt nothing")
    with pytest.raises(DecodeError, match="a.wav: not a readable audio file"):
        read_clip(video, 4)
    os.remove(clip.parent / "a.wav")
    with pytest.raises(DecodeError, match="a.wav: the clip's audio file is missing"):
        read_clip(video, 4)  # not silence, though a clip without audio (none listed) has silence


def test_clips_without_an_audio_file_are_left_out_and_counted(copy):
    root, clip = copy
    shutil.copytree(clip, clip.parent / "b")
    source = extracted_frames(root, "train", frame_rate=8)
    assert len(source.dataset) == 1 and source.dropped == {"no audio file": 1}
    with pytest.raises(DecodeError, match="b: no audio file"):
        read_clip({"frames": str(clip.parent / "b"), "audio": "", "frame_rate": 8.0}, 4, require_audio=True)


def test_the_frame_rate_is_stated_or_read_from_a_file(copy):
    root, _ = copy
    os.remove(root / "frame_rates.json")
    with pytest.raises(ValueError, match="State the clips' frame rate"):
        extracted_frames(root, "train")
    assert extracted_frames(root, "train", frame_rate=12.5).dataset[0]["video"]["frame_rate"] == 12.5
    (root / "frame_rates.json").write_text("30")
    assert extracted_frames(root, "train").dataset[0]["video"]["frame_rate"] == 30.0
    (root / "frame_rates.json").write_text('{"train/drums/other": 25}')
    source = extracted_frames(root, "train")
    assert len(source.dataset) == 0 and source.dropped == {"no frame rate in frame_rates.json": 1}


def test_an_interrupted_extraction_goes_on_where_it_stopped(copy, tmp_path):
    root, clip = copy
    write_video(tmp_path / "videos" / "drums" / "b.mp4")
    stamp = os.stat(clip / "img_00001.png").st_mtime_ns
    (root / "train" / "drums" / ".partial-x").mkdir()  # what a killed worker leaves
    written, failed = extract(video_folder(tmp_path / "videos"), root, "train", workers=1)
    assert (written, failed) == (2, []) and os.stat(clip / "img_00001.png").st_mtime_ns == stamp
    assert sorted(json.loads((root / "frame_rates.json").read_text())) == ["train/drums/a", "train/drums/b"]
    source = extracted_frames(root, "train")  # the leftover folder is no clip
    assert [os.path.basename(video["frames"]) for video in source.dataset["video"]] == ["a", "b"]
    assert not source.dropped


def test_unreadable_videos_are_left_out_of_the_copy_and_named(tmp_path, capsys):
    write_video(tmp_path / "videos" / "train" / "drums" / "a.mp4")
    (tmp_path / "videos" / "train" / "drums" / "broken.mp4").write_bytes(b"not a video")
    data_command(["extract", "videofolder", str(tmp_path / "videos"), str(tmp_path / "copy"), "--workers", "2"])
    out = capsys.readouterr().out
    assert "1 clips of train" in out and "1 left out as unreadable" in out
    assert not (tmp_path / "copy" / "train" / "drums" / "broken").exists()
    assert len(extracted_frames(tmp_path / "copy", "train").dataset) == 1


@pytest.mark.slow
@pytest.mark.parametrize("layout", ["rawframes", "ezvsl"])
def test_the_tiny_run_trains_from_an_extracted_copy(avsynth, tmp_path, layout):
    train(tiny_run(tmp_path / "prepare", avsynth, "--max_steps", "1"))  # writes AVSynth once
    for split in ("train", "test"):
        data_command(["extract", "videofolder", avsynth, str(tmp_path / "copy"), "--split", split, "--layout", layout])
    expected = {"frames", "audio", "frame_rates.json"} if layout == "ezvsl" else {"train", "test", "frame_rates.json"}
    assert set(os.listdir(tmp_path / "copy")) == expected
    trainer = train(tiny_run(tmp_path / "run", tmp_path / "copy", "--dataset", "frames"))
    assert trainer.state.global_step == 6 and trainer.bad_files.skipped == 0
    assert (tmp_path / "run" / "model.safetensors").is_file()


def test_ezvsl_vggsound_frames_take_labels_and_split_from_the_csv_and_count_the_missing(tmp_path):
    """EZ-VSL's VGGSound layout as its users keep it: `frames/<id>_<start>/00001.jpg ...` and `audio/<id>_<start>.wav`,
    written by hand (not by `extract`), with no class folders and no frame-rate file."""
    rows = [("a", 0, "dog", "train"), ("b", 30, "dog", "train"), ("c", 10, "cat", "train"), ("d", 0, "cat", "test")]
    (tmp_path / "vggsound.csv").write_text("".join(f"{y},{s},{label},{split}\n" for y, s, label, split in rows))
    for youtube_id, start, *_ in rows:
        if youtube_id == "b":
            continue  # listed, never downloaded
        name = f"{youtube_id}_{start:06d}"
        (tmp_path / "frames" / name).mkdir(parents=True)
        for number in range(1, 11):
            Image.fromarray(np.full((24, 32, 3), 10 * number, np.uint8)).save(
                tmp_path / "frames" / name / f"{number:05d}.jpg"
            )
        (tmp_path / "audio").mkdir(exist_ok=True)
        soundfile.write(tmp_path / "audio" / f"{name}.wav", np.zeros(16000, np.float32), 16000)

    source = extracted_frames(tmp_path, "train", frame_rate=10, csv_file=tmp_path / "vggsound.csv")

    assert source.classes == ["cat", "dog"] and source.dataset["label"] == [1, 0]
    assert source.listed.as_dict()["classes"] == {"dog": {"listed": 2, "found": 1}, "cat": {"listed": 1, "found": 1}}
    clip = read_clip(source.dataset[0]["video"], 4, frame_stride=2, clip_index=0, num_clips=2)
    assert clip.duration == 1.0 and [int(frame.mean().round()) for frame in clip.frames] == [10, 30, 50, 70]


@pytest.mark.parametrize(
    "mode, extension", [("L", "jpg"), ("CMYK", "jpg"), ("RGBA", "png"), ("P", "png"), ("I;16", "png")]
)
def test_frames_of_any_mode_come_out_as_8_bit_rgb(tmp_path, mode, extension):
    grey = np.tile(np.arange(0, 256, 4, dtype=np.uint8), (48, 1))  # (48, 64): 0 .. 252 left to right
    image = Image.fromarray(grey.astype(np.uint16) * 257) if mode == "I;16" else Image.fromarray(grey).convert(mode)
    image.save(tmp_path / f"img_00001.{extension}")
    frame = read_frame(str(tmp_path / f"img_00001.{extension}"), (64, 48), None)
    assert frame.shape == (48, 64, 3) and frame.dtype == np.uint8
    assert np.abs(frame.astype(int) - grey[..., None]).mean() < 3  # JPEG's and the palette's rounding


def test_a_floating_point_frame_is_a_decode_error(tmp_path):
    Image.fromarray(np.zeros((4, 4), np.float32)).save(tmp_path / "img_00001.tiff")
    (tmp_path / "img_00001.tiff").rename(tmp_path / "img_00001.png")  # a TIFF named as a PNG: Pillow reads the data
    with pytest.raises(DecodeError, match="img_00001.png: its pixels are floating-point"):
        read_frame(str(tmp_path / "img_00001.png"), (4, 4), None)


def test_extract_reads_any_source_streamed_shards_and_parquet_too(tmp_path):
    for name in ("x", "y"):
        write_video(tmp_path / "videos" / "train" / "drums" / f"{name}.mp4")
    data_command(["prepare", "reshard", "videofolder", str(tmp_path / "videos"), str(tmp_path / "shards")])
    data_command(["prepare", "parquet", "videofolder", str(tmp_path / "videos"), str(tmp_path / "pq")])
    streamed = webdataset(str(tmp_path / "shards" / "train-*.tar"))
    parquet = datasets_source(str(tmp_path / "pq"), "train")
    assert extract(streamed, tmp_path / "from_shards", "train", workers=2) == (2, [])
    assert extract(parquet, tmp_path / "from_parquet", "train", workers=2) == (2, [])
    assert sorted(os.listdir(tmp_path / "from_shards" / "train" / "drums")) == [
        "000000000",
        "000000000.wav",
        "000000001",
        "000000001.wav",
    ]  # bytes have no file name: the row's index names the clip
    assert sorted(os.listdir(tmp_path / "from_parquet" / "train" / "drums")) == ["x", "x.wav", "y", "y.wav"]


def test_inspect_reads_an_extracted_copy_at_a_stated_frame_rate(copy, capsys):
    root, _ = copy
    os.remove(root / "frame_rates.json")
    data_command(["inspect", str(root), "--dataset", "frames", "--frame-rate", "8"])
    assert capsys.readouterr().out.startswith(f"{root} (train): 1 rows, 1 classes")


def test_mmaction2_flow_frames_beside_the_rgb_ones_are_not_read(copy):
    root, clip = copy
    for name in sorted(os.listdir(clip)):
        number = name.removeprefix("img_").removesuffix(".png")
        for kind in ("flow_x", "flow_y"):
            Image.fromarray(np.zeros((8, 8), np.uint8)).save(clip / f"{kind}_{number}.jpg")
    files = frame_files(str(clip))
    assert [os.path.basename(path) for path in files] == [f"img_{i:05d}.png" for i in range(1, 17)]
    for name in os.listdir(clip):
        if name.startswith("img_"):
            os.rename(clip / name, clip / name.replace("img_", "rgb_"))
    with pytest.raises(DecodeError, match="frames of several kinds"):
        frame_files(str(clip))


def test_audio_at_another_rate_and_in_stereo_is_resampled_and_averaged_to_mono(tmp_path):
    seconds = np.arange(44100 * 2) / 44100
    tone = 0.5 * np.sin(2 * np.pi * 440 * seconds)
    soundfile.write(tmp_path / "a.wav", np.stack([tone, tone], 1), 44100, "FLOAT")
    audio = read_audio(str(tmp_path / "a.wav"), 0.5, 16000, 16000)  # 0.5 s to 1.5 s
    expected = 0.5 * np.sin(2 * np.pi * 440 * (0.5 + np.arange(16000) / 16000))
    assert np.abs(audio[100:-100] - expected[100:-100]).max() < 0.01
    late = read_audio(str(tmp_path / "a.wav"), 1.5, 16000, 16000)  # half after the recording: silence
    assert np.abs(late[8100:]).max() == 0 and np.abs(late[:7900]).max() > 0.4
