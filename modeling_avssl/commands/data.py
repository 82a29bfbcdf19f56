"""Data commands.

python -m modeling_avssl.commands.data avsynth OUT --train N --test M --seed S [--classes bounce-circle ...]
python -m modeling_avssl.commands.data inspect PATH|HUB_ID [--split train]
python -m modeling_avssl.commands.data prepare split KIND PATH --shots 1 --seed 0 --out split.json [--split train]
python -m modeling_avssl.commands.data prepare reshard KIND PATH OUT [--split train] [--shard-size 500]
"""

import argparse
import time

from ..data.avsynth import CLASSES, AVSynthSpec, generate
from ..data.sources import SOURCE_KINDS, load_source


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m modeling_avssl.commands.data", description="AVSSL data commands.")
    commands = parser.add_subparsers(dest="command", required=True)
    avsynth = commands.add_parser("avsynth", help="write the AVSynth data set (mp4 videofolder + metadata.jsonl)")
    avsynth.add_argument("out", help="output folder")
    avsynth.add_argument("--train", type=int, default=1200, help="training clips (classes cycle)")
    avsynth.add_argument("--test", type=int, default=600, help="test clips")
    avsynth.add_argument("--seed", type=int, default=0)
    avsynth.add_argument(
        "--classes", nargs="+", default=list(CLASSES), metavar="MOTION-SHAPE", help="subset of classes"
    )
    inspect = commands.add_parser("inspect", help="videos per split and class, audio, durations, unreadable files")
    inspect.add_argument("path", help="a folder of videos, webdataset shards (folder or glob), or a Hub dataset id")
    inspect.add_argument("--split", default="train", help="split to stream from shards or the Hub")
    inspect.add_argument("--video-column", default="mp4", help="the video member of webdataset samples")
    prepare = commands.add_parser("prepare", help="write a labeled-split manifest or re-shard into webdataset tars")
    tasks = prepare.add_subparsers(dest="task", required=True)
    split = tasks.add_parser("split", help="choose k labeled samples per class and write them to a JSON manifest")
    reshard = tasks.add_parser("reshard", help="write a folder source as webdataset tar shards with integer keys")
    for task in (split, reshard):
        task.add_argument("kind", choices=SOURCE_KINDS)
        task.add_argument("path", help="the source's root (VGGSound: its video folder)")
        task.add_argument("--split", default="train")
        task.add_argument("--csv", help="VGGSound's vggsound.csv")
    split.add_argument("--shots", type=float, default=1, help="labeled samples per class, or a fraction below 1")
    split.add_argument("--seed", type=int, default=0)
    split.add_argument("--out", required=True, help="the manifest to write")
    reshard.add_argument("out", help="folder for the shards and classes.json")
    reshard.add_argument("--shard-size", type=int, default=500)
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
    elif args.command == "inspect":
        from ..data.inspection import inspect as inspect_path

        print(inspect_path(args.path, args.split, args.video_column).report(args.path))
    else:
        source = load_source(args.kind, args.path, args.split, **({"csv_file": args.csv} if args.csv else {}))
        if args.task == "split":
            from ..data.splits import labeled_split

            shots = int(args.shots) if args.shots >= 1 else args.shots
            by_index = sorted(
                (row["index"], row["label"]) for row in source.dataset.select_columns(["index", "label"])
            )
            labels = [label for _, label in by_index]
            chosen = labeled_split(labels, source.classes, shots, args.seed)
            chosen.save(args.out)
            print(f"{len(chosen.labeled)} labeled of {chosen.num_samples} samples ({shots} per class) -> {args.out}")
        else:
            from ..data.sharding import write_shards

            paths = write_shards(source, args.out, args.split, args.shard_size)
            print(f"wrote {len(source.dataset)} samples in {len(paths)} shards to {args.out}")


if __name__ == "__main__":
    main()
