"""The decoder against its fuzz corpus: every clean case and many damaged copies, at many clip positions.

    python benchmarks/decode_fuzz.py [--mutations 24] [--starts 10] [--seed 0] [--keep DIR]

Writes the cases of `media_corpus` (clean ones, the NaN-audio one, and `--mutations` damaged
copies of each clean one: truncated, bytes replaced, a span zeroed, concatenated), then calls `load_clip` on each
at the 5 test positions and `--starts` random training starts. A clean case must give the frames and audio of its
no-seek decode, placed where they were written; the NaN case that or `DecodeError` (when the clip's window holds
the NaN); anything that is not a regular file must raise `DecodeError`; a damaged file must give either
`DecodeError` naming it or a clip whose frames are those of its own no-seek decode (or of the original's, where
that one stops at the damage). Prints the count of each outcome and every call that had another one (a wrong clip,
another exception, more than 60 s); a crash of the process is a failure too. `tests/test_decoding_corpus.py` runs
a small version of the same.
"""

import argparse
import collections
import os
import signal
import sys
import tempfile
import time

import numpy as np

from modeling_avssl.decoding import DecodeError, load_clip


sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests"))
import media_corpus  # noqa: E402  (the tests' corpus of media files whose every frame and sample is known)


NUM_FRAMES, FRAME_STRIDE, AUDIO_SECONDS = 8, 2, 2.0


class _Timeout(Exception):
    pass


def _alarm(signum, frame):
    raise _Timeout()


def positions(starts: int, seed: int) -> list[dict]:
    """The clip positions tried on every input: the 5 test clips and `starts` random training starts."""
    return [dict(clip_index=k, num_clips=5) for k in range(5)] + [
        dict(training=True, rng=np.random.default_rng([seed, s])) for s in range(starts)
    ]


def outcome(path: str, case: media_corpus.MediaCase, reference, position: dict, original=None) -> tuple[str, str]:
    """(kind, detail) of one `load_clip` call: correct, decode_error, wrong, exception or timeout. A damaged file
    (`original` is the no-seek decode of the file it was made from) is right when its frames are those of its own
    no-seek decode or, where that stops at the damage, of the original."""
    damaged = original is not None
    signal.alarm(60)
    try:
        clip = load_clip(path, NUM_FRAMES, frame_stride=FRAME_STRIDE, audio_seconds=AUDIO_SECONDS, **position)
    except DecodeError as error:
        return ("decode_error", "") if path in str(error) else ("wrong", f"DecodeError without the path: {error}")
    except _Timeout:
        return "timeout", ""
    except Exception as error:  # noqa: BLE001 - counting every other outcome is the point
        return "exception", f"{type(error).__name__}: {error}"
    finally:
        signal.alarm(0)
    if damaged:
        references = [r for r in (reference, original) if r is not None]
        problems = media_corpus.damaged_clip_problems(case, clip, references, NUM_FRAMES, FRAME_STRIDE)
    elif reference is None:
        return "wrong", "a clip from an input that must be refused"
    else:
        problems = media_corpus.clip_problems(case, reference, clip, NUM_FRAMES, FRAME_STRIDE, AUDIO_SECONDS)
    return ("wrong", "; ".join(problems)) if problems else ("correct", "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mutations", type=int, default=24, help="damaged copies of each clean case")
    parser.add_argument("--starts", type=int, default=10, help="random training starts per input")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--keep", help="write the corpus here and keep it (default: a temporary folder)")
    args = parser.parse_args()
    signal.signal(signal.SIGALRM, _alarm)
    directory = args.keep or tempfile.mkdtemp(prefix="decode_fuzz_")
    os.makedirs(directory, exist_ok=True)
    rng = np.random.default_rng(args.seed)
    counts, inputs, by_group, failures = collections.Counter(), collections.Counter(), collections.Counter(), []
    began = time.perf_counter()

    def run(path: str, case: media_corpus.MediaCase, original=None, refuse: bool = False):
        try:
            reference = None if refuse else media_corpus.decode_reference(path)
        except Exception:  # noqa: BLE001 - a file the reference cannot open either
            reference = None
        group = "damaged" if original is not None else "refused" if refuse else "clean"
        inputs[group] += 1
        for position in positions(args.starts, args.seed):
            kind, detail = outcome(path, case, reference, position, original)
            if refuse and kind == "correct":
                kind, detail = "wrong", "a clip from an input that must be refused"
            counts[kind] += 1
            by_group[group, kind] += 1
            if kind in ("wrong", "exception", "timeout"):
                failures.append(f"{os.path.basename(path)} {position.get('clip_index', 'train')}: {kind} {detail}")
        return reference

    for case in media_corpus.clean_cases():
        path = media_corpus.write_case(case, directory)
        original = run(path, case)
        with open(path, "rb") as file:
            data = file.read()
        for name, mutated in media_corpus.mutations(data, rng, args.mutations):
            stem, extension = os.path.splitext(case.name)
            mutated_path = os.path.join(directory, f"{stem}.{name}{extension}")
            with open(mutated_path, "wb") as file:
                file.write(mutated)
            run(mutated_path, case, original)
    for case in media_corpus.bad_cases():
        run(media_corpus.write_case(case, directory), case)
    fifo = os.path.join(directory, "fifo.mp4")
    os.mkfifo(fifo)
    run(fifo, media_corpus.clean_cases()[0], refuse=True)
    run(directory, media_corpus.clean_cases()[0], refuse=True)

    calls = sum(counts.values())
    print(
        f"inputs: {dict(inputs)} ({sum(inputs.values())}), load_clip calls: {calls}, "
        f"{time.perf_counter() - began:.0f} s"
    )
    kinds = ("correct", "decode_error", "wrong", "exception", "timeout")
    print(f"  {'':<13}{'all':>7}" + "".join(f"{group:>9}" for group in inputs))
    for kind in kinds:
        print(f"  {kind:<13}{counts[kind]:>7}" + "".join(f"{by_group[group, kind]:>9}" for group in inputs))
    for failure in failures:
        print("  ", failure)


if __name__ == "__main__":
    main()
