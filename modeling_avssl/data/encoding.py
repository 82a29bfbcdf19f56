"""Writing frames and audio into a real container (h264 + AAC mp4 by default) with PyAV."""

import os
from fractions import Fraction

import av
import numpy as np


def write_clip(
    target: str | os.PathLike,
    frames: np.ndarray | None,
    fps: float,
    audio: np.ndarray | None = None,
    sample_rate: int = 16000,
    *,
    video_codec: str = "libx264",
    audio_codec: str = "aac",
    container_format: str | None = None,
    video_options: dict[str, str] | None = None,
) -> None:
    """Encodes uint8 `(T, H, W, 3)` RGB `frames` and float `audio` (`(samples,)` mono or `(channels, samples)`) in
    [-1, 1] into `target`, the two streams interleaved in time as real files are. Either may be None for a file
    without that stream. The container comes from the file name unless `container_format` is given."""
    with av.open(str(target), mode="w", format=container_format) as container:
        packets = []  # (time in seconds, encode call) of each frame, muxed in time order
        if frames is not None:
            video = container.add_stream(video_codec, rate=Fraction(fps).limit_denominator(1001))
            video.height, video.width = frames.shape[1:3]
            video.pix_fmt = "yuv420p"
            video.options = video_options or {}
            for index, image in enumerate(frames):
                frame = av.VideoFrame.from_ndarray(image, format="rgb24")
                frame.pts = index
                packets.append((index / fps, video, frame))
        if audio is not None:
            channels = np.atleast_2d(audio).astype(np.float32)
            sound = container.add_stream(audio_codec, rate=sample_rate)
            sound.layout = "mono" if len(channels) == 1 else "stereo"
            chunk = sound.codec_context.frame_size or 1024
            for start in range(0, channels.shape[1], chunk):
                frame = av.AudioFrame.from_ndarray(
                    np.ascontiguousarray(channels[:, start : start + chunk]), format="fltp", layout=sound.layout.name
                )
                frame.sample_rate, frame.pts = sample_rate, start
                packets.append((start / sample_rate, sound, frame))
        for _, stream, frame in sorted(packets, key=lambda packet: packet[0]):
            container.mux(stream.encode(frame))
        for stream in container.streams:
            container.mux(stream.encode())
