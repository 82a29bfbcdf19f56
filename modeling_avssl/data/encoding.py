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
    [-1, 1] into `target`. Either may be None for a file without that stream. The container comes from the file
    name unless `container_format` is given."""
    with av.open(str(target), mode="w", format=container_format) as container:
        video_stream = audio_stream = None
        if frames is not None:
            video_stream = container.add_stream(video_codec, rate=Fraction(fps).limit_denominator(1001))
            video_stream.height, video_stream.width = frames.shape[1:3]
            video_stream.pix_fmt = "yuv420p"
            video_stream.options = video_options or {}
        if audio is not None:
            channels = np.atleast_2d(audio).astype(np.float32)
            audio_stream = container.add_stream(audio_codec, rate=sample_rate)
            audio_stream.layout = "mono" if len(channels) == 1 else "stereo"
        if video_stream is not None:
            for image in frames:
                container.mux(video_stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")))
            container.mux(video_stream.encode())
        if audio_stream is not None:
            chunk = audio_stream.codec_context.frame_size or 1024
            layout = audio_stream.layout.name
            for start in range(0, channels.shape[1], chunk):
                frame = av.AudioFrame.from_ndarray(
                    np.ascontiguousarray(channels[:, start : start + chunk]), format="fltp", layout=layout
                )
                frame.sample_rate, frame.pts = sample_rate, start
                container.mux(audio_stream.encode(frame))
            container.mux(audio_stream.encode())
