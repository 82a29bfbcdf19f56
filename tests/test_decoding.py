"""Behaviour of `load_clip` on real containers the tests write with PyAV: what decodes, and what raises DecodeError."""

from fractions import Fraction

import av
import numpy as np
import pytest
import torch

from modeling_avssl import decoding
from modeling_avssl.data import Clip, DecodeError, load_clip, write_clip


FPS = 10
SECONDS = 3


def counting_frames(num_frames: int = FPS * SECONDS, size: tuple[int, int] = (48, 64)) -> np.ndarray:
    """Uniform grey frames whose level is 8 x the frame index, so a decoded frame tells which one it is."""
    levels = (8 * np.arange(num_frames)).clip(0, 255).astype(np.uint8)
    return np.broadcast_to(levels[:, None, None, None], (num_frames, *size, 3)).copy()


def frame_indices(clip: Clip) -> list[int]:
    return [round(float(frame.mean()) / 8) for frame in clip.frames]


def tone(seconds: float, sample_rate: int, channels: int = 1, amplitude: float = 0.5, hz: float = 440.0) -> np.ndarray:
    t = np.arange(int(seconds * sample_rate)) / sample_rate
    return np.repeat((amplitude * np.sin(2 * np.pi * hz * t))[None], channels, axis=0).astype(np.float32)


@pytest.fixture(scope="module")
def media(tmp_path_factory):
    """One file per case, written once for the module."""
    folder = tmp_path_factory.mktemp("media")
    frames = counting_frames()
    files = {}

    def write(name, *args, **kwargs):
        files[name] = folder / name
        write_clip(files[name], *args, **kwargs)

    write("aac.mp4", frames, FPS, tone(SECONDS, 16000))
    mpeg4 = {"video_codec": "mpeg4", "video_options": {"b": "2000000"}}
    write("mpeg4_pcm_s16_22k.avi", frames, FPS, tone(SECONDS, 22050), 22050, audio_codec="pcm_s16le", **mpeg4)
    write(
        "vp9_opus_48k.webm", frames, FPS, tone(SECONDS, 48000), 48000, video_codec="libvpx-vp9", audio_codec="libopus"
    )
    write("h264_mp3_44k.mkv", frames, FPS, tone(SECONDS, 44100), 44100, audio_codec="libmp3lame")
    write("aac_8k.mp4", frames, FPS, tone(SECONDS, 8000), 8000)
    write("stereo_44k.mp4", frames, FPS, tone(SECONDS, 44100, channels=2), 44100)
    write("silent.mp4", frames, FPS)
    write("audio_only.m4a", None, FPS, tone(SECONDS, 16000))
    write("one_frame.mp4", frames[5:6], FPS, tone(SECONDS, 16000))
    burst = np.zeros((1, SECONDS * 16000), np.float32)
    burst[:, 16000:24000] = tone(0.5, 16000)  # sound only from 1.0 s to 1.5 s
    write("burst.mp4", frames, FPS, burst)

    for whole in ("aac.mp4", "h264_mp3_44k.mkv"):  # mp4 keeps its index at the end, mkv at the start
        data = files[whole].read_bytes()
        for percent in (10, 50, 90):
            name = f"truncated_{percent}_{whole}"
            files[name] = folder / name
            files[name].write_bytes(data[: len(data) * percent // 100])
    files["random.mp4"] = folder / "random.mp4"
    files["random.mp4"].write_bytes(np.random.default_rng(0).integers(0, 256, 5000, dtype=np.uint8).tobytes())
    files["empty.mp4"] = folder / "empty.mp4"
    files["empty.mp4"].write_bytes(b"")
    return files


@pytest.mark.parametrize(
    "name",
    ["aac.mp4", "mpeg4_pcm_s16_22k.avi", "vp9_opus_48k.webm", "h264_mp3_44k.mkv", "aac_8k.mp4", "stereo_44k.mp4"],
)
def test_containers_with_video_and_audio_decode_to_frames_and_mono_float32_audio(media, name):
    clip = load_clip(media[name], 8, audio_seconds=2.0, sample_rate=16000, require_audio=True)

    assert clip.frames.dtype == np.uint8 and clip.frames.shape == (8, 48, 64, 3)
    assert clip.audio.dtype == np.float32 and clip.audio.shape == (32000,)
    assert clip.has_audio and clip.fps == pytest.approx(FPS) and clip.sample_rate == 16000
    assert clip.duration == pytest.approx(SECONDS, abs=0.1)
    # the centre clip of 8 frames in a 30-frame video starts at frame 11
    assert frame_indices(clip) == list(range(11, 19))
    # a 0.5-amplitude tone, whatever the rate, channels or sample format of the source
    assert np.abs(clip.audio[4000:28000]).max() == pytest.approx(0.5, abs=0.06)


def test_stereo_is_averaged_to_mono_and_keeps_its_amplitude(media):
    clip = load_clip(media["stereo_44k.mp4"], 4, audio_seconds=1.0)
    spectrum = np.abs(np.fft.rfft(clip.audio))
    assert np.argmax(spectrum) == pytest.approx(440, abs=2)  # 1 s at 16 kHz: one bin per Hz
    assert np.abs(clip.audio).max() == pytest.approx(0.5, abs=0.05)


def test_frame_stride_and_evaluation_clips_are_evenly_spaced(media):
    clips = [load_clip(media["aac.mp4"], 5, frame_stride=2, clip_index=i, num_clips=3) for i in range(3)]
    # a 10-frame span in a 30-frame video: starts at 0, 10 and 20
    assert [frame_indices(clip) for clip in clips] == [
        list(range(0, 10, 2)),
        list(range(10, 20, 2)),
        list(range(20, 30, 2)),
    ]
    with pytest.raises(ValueError, match=r"clip_index must be in \[0, 3\)"):
        load_clip(media["aac.mp4"], 5, clip_index=3, num_clips=3)


def test_training_clips_start_at_a_random_position_drawn_from_the_rng(media):
    starts = [
        load_clip(media["aac.mp4"], 4, training=True, rng=np.random.default_rng(seed)).start for seed in range(6)
    ]
    assert len(set(starts)) > 1 and all(0 <= s <= SECONDS - 0.4 for s in starts)
    again = load_clip(media["aac.mp4"], 4, training=True, rng=np.random.default_rng(3))
    assert again.start == starts[3]
    assert frame_indices(again)[0] == pytest.approx(again.start * FPS, abs=1)


def test_the_audio_window_is_centred_on_the_clip(media):
    # the centre 1 s clip of the 3 s video covers 1.0-2.0 s; a 2 s window around it covers 0.5-2.5 s,
    # so the burst at 1.0-1.5 s lands in the window's 0.5-1.0 s
    clip = load_clip(media["burst.mp4"], 10, audio_seconds=2.0)
    loud = np.flatnonzero(np.abs(clip.audio) > 0.1) / 16000
    assert loud.min() == pytest.approx(0.5, abs=0.05) and loud.max() == pytest.approx(1.0, abs=0.05)


def test_the_audio_window_is_zero_padded_beyond_the_recording(media):
    clip = load_clip(media["aac.mp4"], 10, clip_index=0, num_clips=3, audio_seconds=3.0)  # window -1.0 .. 2.0 s
    assert not clip.audio[:15000].any()
    assert np.abs(clip.audio[17000:]).max() > 0.4


def test_a_video_without_audio_gives_silence_unless_audio_is_required(media):
    clip = load_clip(media["silent.mp4"], 4, audio_seconds=1.0)
    assert not clip.has_audio and clip.audio.shape == (16000,) and not clip.audio.any()
    with pytest.raises(DecodeError, match="silent.mp4: no audio stream"):
        load_clip(media["silent.mp4"], 4, require_audio=True)


def test_a_video_shorter_than_the_clip_repeats_its_last_frame(media):
    clip = load_clip(media["one_frame.mp4"], 6)
    assert clip.frames.shape[0] == 6 and frame_indices(clip) == [5] * 6

    long_clip = load_clip(media["aac.mp4"], 20, frame_stride=2)  # 40 frames asked of 30
    assert frame_indices(long_clip)[:15] == list(range(0, 30, 2)) and frame_indices(long_clip)[15:] == [29] * 5


def test_bytes_decode_like_the_file(media):
    from_path = load_clip(media["aac.mp4"], 4)
    from_bytes = load_clip(media["aac.mp4"].read_bytes(), 4)
    np.testing.assert_array_equal(from_bytes.frames, from_path.frames)
    np.testing.assert_array_equal(from_bytes.audio, from_path.audio)


@pytest.mark.parametrize(
    "name, cause",
    [
        ("audio_only.m4a", "no video stream"),
        ("random.mp4", "not a readable media container"),
        ("empty.mp4", "not a readable media container"),
    ],
)
def test_unusable_sources_raise_a_decode_error_naming_the_source_and_cause(media, name, cause):
    for source, shown in ((media[name], name), (media[name].read_bytes(), "bytes>")):
        with pytest.raises(DecodeError, match=f"{shown}: {cause}") as raised:
            load_clip(source, 4)
        assert isinstance(raised.value, ValueError)


@pytest.mark.parametrize("whole", ["aac.mp4", "h264_mp3_44k.mkv"])
@pytest.mark.parametrize("percent", [10, 50, 90])
@pytest.mark.parametrize("clip_index", [0, 1, 2])
def test_a_truncated_file_decodes_what_it_holds_or_raises_a_decode_error(media, whole, percent, clip_index):
    name = f"truncated_{percent}_{whole}"
    try:
        clip = load_clip(media[name], 5, clip_index=clip_index, num_clips=3, require_audio=True)
    except DecodeError as error:
        assert name in str(error)
    else:
        assert clip.frames.shape == (5, 48, 64, 3)
        assert set(frame_indices(clip)) <= set(range(30))


def test_a_clip_past_the_end_of_truncated_data_is_taken_from_the_start_with_a_warning(media, caplog):
    name = "truncated_50_h264_mp3_44k.mkv"  # the header says 3 s, the data holds about half
    with caplog.at_level("WARNING", logger="modeling_avssl.decoding"):
        clip = load_clip(media[name], 5, clip_index=2, num_clips=3)
    assert clip.start == 0 and frame_indices(clip) == [0, 1, 2, 3, 4]
    assert name in caplog.text and "taking the clip at the start" in caplog.text


def textured_frames(size: tuple[int, int], num_frames: int = 20) -> np.ndarray:
    """Frames `(T, height, width, 3)` of smooth colour gradients that move, so that scaled frames can be compared."""
    height, width = size
    ys, xs = np.mgrid[0:height, 0:width] / max(size)
    frames = [
        np.stack([np.sin(6 * xs + 0.2 * i), np.cos(5 * ys - 0.1 * i), np.sin(4 * (xs + ys))], axis=-1)
        for i in range(num_frames)
    ]
    return ((np.stack(frames) + 1) * 127.5).astype(np.uint8)


def test_frames_are_scaled_down_to_the_short_side_asked_for_as_they_are_converted(tmp_path):
    path = tmp_path / "wide.mp4"
    write_clip(path, textured_frames((180, 320)), FPS)
    full = load_clip(path, 4, clip_index=0)
    scaled = load_clip(path, 4, clip_index=0, short_side=90)
    assert full.frames.shape == (4, 180, 320, 3) and scaled.frames.shape == (4, 90, 160, 3)  # the aspect kept
    resized = torch.nn.functional.interpolate(
        torch.from_numpy(full.frames).permute(0, 3, 1, 2).float(), size=(90, 160), mode="bilinear", antialias=True
    )
    assert (resized - torch.from_numpy(scaled.frames).permute(0, 3, 1, 2).float()).abs().mean() < 2.0
    assert load_clip(path, 4, clip_index=0, short_side=400).frames.shape == full.frames.shape  # never scaled up


def test_frames_or_audio_channels_beyond_the_limits_are_refused_naming_the_file(media, monkeypatch):
    monkeypatch.setattr(decoding, "MAX_FRAME_PIXELS", 64 * 48 - 1)
    with pytest.raises(DecodeError, match="aac.mp4: its frames are 64x48, beyond the 3,071 pixels allowed"):
        load_clip(media["aac.mp4"], 4)
    monkeypatch.setattr(decoding, "MAX_FRAME_PIXELS", 64 * 48)
    monkeypatch.setattr(decoding, "MAX_AUDIO_CHANNELS", 1)
    with pytest.raises(DecodeError, match="stereo_44k.mp4: its audio has 2 channels, beyond the 1 allowed"):
        load_clip(media["stereo_44k.mp4"], 4)
    assert load_clip(media["aac.mp4"], 4).frames.shape == (4, 48, 64, 3)


def write_rate_change(path) -> None:
    """An MPEG-TS whose MP2 audio, a 440 Hz tone in one phase throughout, is 44.1 kHz for 2 s and 48 kHz after (two
    recordings' packets in one stream: each MPEG audio frame states its own rate), beside 4 s of video."""
    with av.open(str(path), "w", format="mpegts") as container:
        video = container.add_stream("mpeg2video", rate=25)
        video.width, video.height, video.pix_fmt = 64, 48, "yuv420p"
        audio = container.add_stream("mp2", rate=44100)
        audio.layout, audio.codec_context.format = "stereo", "s16"
        later = av.CodecContext.create("mp2", "w")
        later.sample_rate, later.layout, later.format = 48000, "stereo", "s16"
        later.time_base = Fraction(1, 48000)
        later.open()
        packets = [
            (i / 25, p)
            for i, f in enumerate(textured_frames((48, 64), 100))
            for p in video.encode(av.VideoFrame.from_ndarray(f, format="rgb24"))
        ] + [(4.0, p) for p in video.encode()]
        for rate, encoder, start in ((44100, audio.codec_context, 0.0), (48000, later, 2.0)):
            wave = (0.3 * np.sin(2 * np.pi * 440 * (start + np.arange(2 * rate) / rate)) * 32767).astype(np.int16)
            frames = []
            for first in range(0, len(wave) - 1152 + 1, 1152):
                frame = av.AudioFrame.from_ndarray(np.repeat(wave[first : first + 1152], 2)[None], layout="stereo")
                frame.sample_rate, frame.pts, frame.time_base = rate, first, Fraction(1, rate)
                frames.append(frame)
            for frame in [*frames, None]:
                for packet in encoder.encode(frame):
                    when = start + packet.pts / rate
                    packet.stream, packet.time_base = audio, Fraction(1, 90000)
                    packet.pts = packet.dts = round(when * 90000)
                    packets.append((when, packet))
        for _, packet in sorted(packets, key=lambda item: item[0]):
            container.mux(packet)


def test_audio_whose_sample_rate_changes_mid_stream_keeps_every_sample_in_its_place(tmp_path):
    write_rate_change(tmp_path / "rates.ts")
    with av.open(str(tmp_path / "rates.ts")) as container:
        assert {frame.sample_rate for frame in container.decode(audio=0)} == {44100, 48000}
    clip = load_clip(tmp_path / "rates.ts", 8, frame_stride=2, audio_seconds=3.0, clip_index=1, num_clips=3)
    times = clip.start + 8 * 2 / 25 / 2 - 1.5 + np.arange(len(clip.audio)) / clip.sample_rate
    for low, high in ((0.6, 1.9), (2.1, 3.4)):  # each side of the change, on the clock the video is on
        inside = (times > low) & (times < high)
        assert np.corrcoef(clip.audio[inside], np.sin(2 * np.pi * 440 * times[inside]))[0, 1] > 0.99
