"""A Gradio app, as a Hugging Face Space would run it: a video's top-k labels, the localization map over one of its
frames, and one ASL-guided mask beside a TubeToken mask (the paper's Fig. 3 for the user's own clip).

    python -m modeling_avssl.commands.demo --model DIR_OR_HUB_ID [--localizer DIR_OR_HUB_ID] [--examples VIDEO ...]

The labels come from the model's `video-classification` pipeline; the map and the masks from the localizer (by
default the one shipped in `pretrained/avsynth_localizer`, when it is there), drawn on the model's token grid. Needs
the `demo` extra (`pip install -e ".[demo]"`).
"""

import argparse
import os

import numpy as np
from transformers import AutoModelForVideoClassification, AutoProcessor

from ..decoding import DecodeError, probe
from ..localizer.modeling_localizer import AVSSLLocalizer
from ..pipeline_avssl import AVSSLVideoClassificationPipeline
from ..run.mask_picture import draw, enlarged, frame_and_map, overlay


try:
    import gradio as gr
except ImportError as error:  # an extra, as the docstring says
    raise ImportError('The demo needs Gradio: pip install -e ".[demo]" (or "avssl[demo]").') from error


SHIPPED_LOCALIZER = os.path.join(
    os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "pretrained", "avsynth_localizer"
)


def analyse(
    video: str,
    classify: AVSSLVideoClassificationPipeline,
    localizer: AVSSLLocalizer | None,
    num_clips: int = 1,
    lam: float = 1 / 3,
    frame_index: int = 8,
    top_k: int = 5,
) -> tuple[dict[str, float], np.ndarray | None, np.ndarray | None, str]:
    """`({label: score}, map over the frame, Fig. 3 panel, note)` for one video file; the pictures are None
    without a localizer. Raises `gr.Error` naming a file that cannot be decoded."""
    if not video:
        raise gr.Error("Upload or pick a video first.")
    notes = []
    try:
        if not probe(video).has_audio:
            notes.append("This video has no audio stream: the model and the localizer heard silence.")
        scores = {p["label"]: p["score"] for p in classify(video, top_k=top_k, num_clips=int(num_clips))}
        if localizer is None:
            return scores, None, None, " ".join([*notes, "No localizer was given (`--localizer`): labels only."])
        frame, localization = frame_and_map(video, localizer, frame_index)
    except DecodeError as error:
        raise gr.Error(str(error)) from error
    frame, grid = enlarged(frame), classify.model.config.video_token_grid[1]
    return scores, overlay(frame, localization), draw(frame, localization, lam, grid), " ".join(notes)


def build_demo(
    classify: AVSSLVideoClassificationPipeline,
    localizer: AVSSLLocalizer | None,
    examples: list[str] = (),
    top_k: int = 5,
    frame_index: int = 8,
) -> gr.Blocks:
    """The app: a video in; the labels, the map over its frame `frame_index` and the masks out."""

    def run(video, num_clips, lam):
        return analyse(video, classify, localizer, num_clips, lam, frame_index, top_k)

    with gr.Blocks(title="AVSSL: audio-visual action recognition") as demo:
        gr.Markdown(
            "# AVSSL\nClassify a video with its sound, see where the sound is (the localization map), and the "
            "tokens an ASL-guided mask keeps beside a TubeToken mask: frame or map, masked frame, mask, mean of 255 "
            "masks."
        )
        with gr.Row():
            with gr.Column(scale=2):
                video = gr.Video(label="Video (with its sound)", sources=["upload"], height=280, elem_id="video")
                num_clips = gr.Slider(1, 5, value=1, step=1, label="Clips averaged")
                lam = gr.Slider(0.1, 0.9, value=1 / 3, label="Share of tokens a mask keeps (lambda)")
                button = gr.Button("Classify", variant="primary", elem_id="classify")
                if examples:
                    gr.Examples(examples=[[path] for path in examples], inputs=video)
            with gr.Column(scale=3):
                labels = gr.Label(num_top_classes=top_k, label="Labels", elem_id="labels")
                note = gr.Markdown(elem_id="note")
                heat_map = gr.Image(label="Localization map over the frame", height=240, elem_id="map")
                masks = gr.Image(label="TubeToken (top row) and ASL-guided (bottom row) masks", elem_id="masks")
        button.click(run, inputs=[video, num_clips, lam], outputs=[labels, heat_map, masks, note])
    return demo


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m modeling_avssl.commands.demo", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--model", default="outputs/avsynth", help="a trained model's folder or Hub id")
    parser.add_argument("--localizer", default=None, help="an AVSSLLocalizer folder or Hub id (default: the shipped)")
    parser.add_argument("--examples", nargs="*", default=[], help="videos offered as examples")
    parser.add_argument("--top-k", type=int, default=5)
    parser.add_argument("--frame-index", type=int, default=8, help="the frame the map and masks are drawn on")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=7860)
    args = parser.parse_args(argv)
    model = AutoModelForVideoClassification.from_pretrained(args.model, trust_remote_code=True).eval()
    processor = AutoProcessor.from_pretrained(args.model, trust_remote_code=True)
    classify = AVSSLVideoClassificationPipeline(model=model, processor=processor)
    localizer_path = args.localizer or (SHIPPED_LOCALIZER if os.path.isdir(SHIPPED_LOCALIZER) else None)
    localizer = AVSSLLocalizer.from_pretrained(localizer_path).eval() if localizer_path else None
    demo = build_demo(classify, localizer, args.examples, args.top_k, args.frame_index)
    demo.launch(server_name=args.host, server_port=args.port)


if __name__ == "__main__":
    main()
