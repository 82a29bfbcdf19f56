"""Classify a video with a trained AVSSL model: the labels and scores of its most probable classes.

    python -m modeling_avssl.commands.predict VIDEO [--model DIR_OR_HUB_ID] [--top-k 5] [--clips 1] [--frame-stride N]

It runs the model's `video-classification` pipeline (`pipeline_avssl.AVSSLVideoClassificationPipeline`) on the model
and processor of the folder: `--clips` evenly spaced clips of the video (frames and the audio around them), their
softmax outputs averaged. A video without an audio stream is classified with silence as its audio (the fbank of a
zero waveform, as the test protocol does), and a warning says so.
"""

import argparse
import logging

from transformers import AutoModelForVideoClassification, AutoProcessor

from ..decoding import DecodeError
from ..pipeline_avssl import AVSSLVideoClassificationPipeline


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m modeling_avssl.commands.predict", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("video", help="a video file (mp4, avi, mkv, webm, ...)")
    parser.add_argument("--model", default="outputs/avsynth", help="a trained model's folder or Hub id")
    parser.add_argument("--top-k", type=int, default=5)
    parser.add_argument("--clips", type=int, default=1, help="evenly spaced clips whose predictions are averaged")
    parser.add_argument("--frame-stride", type=int, help="source frames between a clip's frames (the processor's)")
    args = parser.parse_args(argv)
    logging.basicConfig(format="%(levelname)s: %(message)s", level=logging.WARNING)
    model = AutoModelForVideoClassification.from_pretrained(args.model, trust_remote_code=True).eval()
    processor = AutoProcessor.from_pretrained(args.model, trust_remote_code=True)
    classify = AVSSLVideoClassificationPipeline(model=model, processor=processor)
    try:
        predictions = classify(args.video, top_k=args.top_k, num_clips=args.clips, frame_stride=args.frame_stride)
    except DecodeError as error:
        parser.error(str(error))
    for prediction in predictions:
        print(f"{prediction['score']:.3f}  {prediction['label']}")


if __name__ == "__main__":
    main()
