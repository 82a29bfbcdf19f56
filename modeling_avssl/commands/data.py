"""Data commands.

python -m modeling_avssl.commands.data avsynth OUT --train N --test M --seed S [--classes bounce-circle ...]
python -m modeling_avssl.commands.data inspect PATH|HUB_ID [--split train] [--dataset KIND [--csv CSV] [--frame-rate]]
python -m modeling_avssl.commands.data prepare split KIND PATH --shots 1 --seed 0 --out split.json [--split train]
python -m modeling_avssl.commands.data prepare reshard KIND PATH OUT [--split train] [--shard-size 500]
python -m modeling_avssl.commands.data prepare parquet KIND PATH OUT [--split train] [--shard-size 500]
python -m modeling_avssl.commands.data extract KIND PATH OUT [--split train] [--layout rawframes|ezvsl] [--format jpg]
"""

import argparse
import os
import time

from ..data.avsynth import CLASSES, AVSynthSpec, generate
from ..data.extraction import LAYOUTS, ExtractionSettings
from ..data.extraction import extract as extract_source
from ..data.sources import SOURCE_KINDS, VideoSource, load_source


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
    inspect.add_argument(
        "--dataset", choices=SOURCE_KINDS, help="read PATH as this source: its rows, listed clips found, left out"
    )
    inspect.add_argument("--csv", help="VGGSound's vggsound.csv (with --dataset vggsound or frames)")
    inspect.add_argument("--frame-rate", type=float, help="with --dataset frames: the clips' frame rate")
    prepare = commands.add_parser("prepare", help="write a labeled-split manifest, or the data in another form")
    tasks = prepare.add_subparsers(dest="task", required=True)
    split = tasks.add_parser("split", help="choose k labeled samples per class and write them to a JSON manifest")
    reshard = tasks.add_parser("reshard", help="write a folder source as webdataset tar shards with integer keys")
    parquet = tasks.add_parser("parquet", help="write a folder source as a datasets data set of parquet files")
    extract = commands.add_parser("extract", help="write a source as pre-extracted frames and audio files")
    for task in (split, reshard, parquet, extract):
        task.add_argument("kind", choices=SOURCE_KINDS)
        task.add_argument("path", help="the source's root (VGGSound: its video folder)")
        task.add_argument("--split", default="train")
        task.add_argument("--csv", help="VGGSound's vggsound.csv")
    split.add_argument("--shots", type=float, default=1, help="labeled samples per class, or a fraction below 1")
    split.add_argument("--seed", type=int, default=0)
    split.add_argument("--out", required=True, help="the manifest to write")
    reshard.add_argument("out", help="folder for the shards and classes.json")
    parquet.add_argument("out", help="folder of the data set (its parquet files go to OUT/data)")
    for task in (reshard, parquet):
        task.add_argument("--shard-size", type=int, default=500)
    extract.add_argument("out", help="folder of the extracted copy")
    extract.add_argument("--layout", choices=LAYOUTS, default="rawframes")
    extract.add_argument("--format", choices=("jpg", "png"), default="jpg", help="the frames' image format")
    extract.add_argument("--quality", type=int, default=95, help="JPEG quality")
    extract.add_argument("--short-side", type=int, help="scale frames down to this short side (default: as decoded)")
    extract.add_argument("--sample-rate", type=int, default=16000, help="the audio files' sample rate (mono)")
    extract.add_argument("--audio-format", choices=("wav", "flac"), default="wav")
    extract.add_argument("--workers", type=int, default=os.cpu_count(), help="processes (default: every core)")
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
    elif args.command == "inspect" and args.dataset:
        from ..data.inspection import listing_report

        source = source_of(args, args.dataset)
        print(listing_report(source, f"{args.path} ({args.split})"))
    elif args.command == "inspect":
        from ..data.inspection import inspect as inspect_path

        print(inspect_path(args.path, args.split, args.video_column).report(args.path))
    elif args.command == "extract":
        source = source_of(args, args.kind)
        settings = ExtractionSettings(args.format, args.quality, args.short_side, args.sample_rate, args.audio_format)
        start = time.perf_counter()
        written, failed = extract_source(
            source, args.out, args.split, layout=args.layout, settings=settings, workers=args.workers
        )
        print(
            f"{written} clips of {args.split} in {args.out} ({args.layout}), {len(failed)} left out as unreadable, "
            f"in {time.perf_counter() - start:.0f} s"
        )
    else:
        source = source_of(args, args.kind)
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
        elif args.task == "reshard":
            from ..data.sharding import write_shards

            paths = write_shards(source, args.out, args.split, args.shard_size)
            print(f"wrote {len(source.dataset)} samples in {len(paths)} shards to {args.out}")
        else:
            from ..data.datasets_form import write_parquet

            paths = write_parquet(source, args.out, args.split, args.shard_size)
            print(f"wrote {len(source.dataset)} samples in {len(paths)} parquet files to {args.out}/data")


def source_of(args: argparse.Namespace, kind: str) -> VideoSource:
    """The source `kind` at `args.path`, split `args.split`, with VGGSound's CSV where `args.csv` names it and the
    frame rate of extracted clips where `args.frame_rate` states it."""
    options = {"csv_file": args.csv, "frame_rate": getattr(args, "frame_rate", None)}
    return load_source(kind, args.path, args.split, **{name: value for name, value in options.items() if value})


if __name__ == "__main__":
    main()
