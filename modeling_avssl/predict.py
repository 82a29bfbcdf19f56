"""Classify a video with a trained AVSSL model: the labels and scores of its most probable classes.

    python -m modeling_avssl.predict VIDEO [--model DIR_OR_HUB_ID] [--top-k 5] [--clips 1] [--frame-stride 4]

The model and its processor load with `AutoModelForVideoClassification` / `AutoProcessor`; `--clips` evenly spaced
clips of the video (frames and the audio around them) are read as the test protocol reads them, and their softmax
outputs averaged. A video without an audio stream is classified with silence as its audio (the fbank of a zero
waveform, as the test protocol does), and a warning says so.
"""

import argparse
import logging
import os

from transformers import AutoModelForVideoClassification, AutoProcessor

from .data import DecodeError
from .data.collation import ClipTransform
from .data.decoding import describe
from .evaluation import test_views, video_probabilities


logger = logging.getLogger(__name__)


def predict(
    video: str | os.PathLike | bytes, model, processor, top_k: int = 5, clips: int = 1, frame_stride: int = 4
) -> list[tuple[str, float]]:
    """The `top_k` most probable labels of `video` with their probabilities, best first: `clips` evenly spaced
    clips, each as the centre crop the test protocol takes (`evaluation.test_views`). An audio-visual model hears
    silence from a video without audio, with a warning."""
    config = model.config
    transform = ClipTransform.from_processor(processor, config.video_input_shape[0], frame_stride, strong=False)
    views = test_views(video, transform, clips, crops=1)
    if config.is_audio_visual and not views["has_audio"]:
        logger.warning("%s has no audio stream: classified with silence as its audio", describe(video))
    scores, labels = video_probabilities(model, [views])[0].topk(min(top_k, config.num_labels))
    return [(config.id2label[int(label)], float(score)) for score, label in zip(scores, labels)]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m modeling_avssl.predict", description=__doc__.split("\n\n")[0])
    parser.add_argument("video", help="a video file (mp4, avi, mkv, webm, ...)")
    parser.add_argument("--model", default="outputs/avsynth", help="a trained model's folder or Hub id")
    parser.add_argument("--top-k", type=int, default=5)
    parser.add_argument("--clips", type=int, default=1, help="evenly spaced clips whose predictions are averaged")
    parser.add_argument("--frame-stride", type=int, default=4, help="source frames between a clip's frames")
    args = parser.parse_args(argv)
    logging.basicConfig(format="%(levelname)s: %(message)s", level=logging.WARNING)
    model = AutoModelForVideoClassification.from_pretrained(args.model, trust_remote_code=True).eval()
    processor = AutoProcessor.from_pretrained(args.model, trust_remote_code=True)
    try:
        predictions = predict(args.video, model, processor, args.top_k, args.clips, args.frame_stride)
    except DecodeError as error:
        parser.error(str(error))
    for label, score in predictions:
        print(f"{score:.3f}  {label}")


if __name__ == "__main__":
    main()
