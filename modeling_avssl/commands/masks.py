"""A picture like the paper's Fig. 3 for a video: TubeToken and ASL-guided masks of one of its frames.

python -m modeling_avssl.commands.masks VIDEO --localizer DIR [--out masks.png] [--lam 0.33] [--frame-index 8]
"""

import argparse

from PIL import Image

from ..localizer.modeling_localizer import AVSSLLocalizer
from ..run.mask_picture import draw, frame_and_map


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m modeling_avssl.commands.masks", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("video", help="a video file with audio")
    parser.add_argument("--localizer", required=True, help="AVSSLLocalizer folder or Hub id")
    parser.add_argument("--out", default="masks.png")
    parser.add_argument("--lam", type=float, default=1 / 3, help="share of tokens each mask keeps (Beta(5,10) mean)")
    parser.add_argument("--frame-index", type=int, default=8)
    parser.add_argument("--grid", type=int, default=14)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    frame, localization = frame_and_map(args.video, AVSSLLocalizer.from_pretrained(args.localizer), args.frame_index)
    Image.fromarray(draw(frame, localization, args.lam, args.grid, seed=args.seed)).save(args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
