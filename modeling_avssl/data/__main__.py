"""Data commands.

python -m modeling_avssl.data avsynth OUT --train N --test M --seed S [--classes bounce-circle slide-square ...]
"""

import argparse
import time

from .avsynth import CLASSES, AVSynthSpec, generate


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m modeling_avssl.data", description="AVSSL data commands.")
    commands = parser.add_subparsers(dest="command", required=True)
    avsynth = commands.add_parser("avsynth", help="write the AVSynth data set (mp4 videofolder + metadata.jsonl)")
    avsynth.add_argument("out", help="output folder")
    avsynth.add_argument("--train", type=int, default=1200, help="training clips (classes cycle)")
    avsynth.add_argument("--test", type=int, default=600, help="test clips")
    avsynth.add_argument("--seed", type=int, default=0)
    avsynth.add_argument(
        "--classes", nargs="+", default=list(CLASSES), metavar="MOTION-SHAPE", help="subset of classes"
    )
    args = parser.parse_args(argv)

    if args.command == "avsynth":
        start = time.perf_counter()
        metadata = generate(
            args.out, args.train, args.test, args.seed, AVSynthSpec(classes=tuple(args.classes)), progress=True
        )
        print(
            f"wrote {args.train} train + {args.test} test clips of {len(args.classes)} classes and {metadata} "
            f"in {time.perf_counter() - start:.0f} s"
        )


if __name__ == "__main__":
    main()
