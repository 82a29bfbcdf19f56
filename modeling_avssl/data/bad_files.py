"""The bad-file policy of a training run: skip and count each file that cannot be decoded, stop when too many are.

A single broken or silent file never ends a run: it is skipped with a warning that names it. But when more than
`max_fraction` of the last `window` samples were bad, the data itself is wrong (a wrong folder, a missing codec,
audio-less videos where audio is required) and training on what is left would be silent garbage, so the run stops
with a message that says so.
"""

import logging
from collections import Counter, deque


logger = logging.getLogger(__name__)

MIN_SAMPLES = 50  # the share is checked once this many samples (or a whole window) were read, so short runs too
MAX_REPLACEMENTS = 20  # bad files in a row one sample may replace before the data is taken to be wrong


class TooManyBadFiles(RuntimeError):
    """More than the allowed fraction of recent samples could not be decoded."""


def too_many_in_a_row(bad_files: list[tuple[str, str]]) -> TooManyBadFiles:
    """The error for a sample that found no decodable file in `MAX_REPLACEMENTS` tries, naming the last ones."""
    listed = "; ".join(f"{source}: {cause}" for source, cause in bad_files[-3:])
    return TooManyBadFiles(
        f"{len(bad_files)} files in a row could not be decoded (the last: {listed}); the data is wrong. Check it "
        "with `python -m modeling_avssl.commands.data inspect PATH`."
    )


class BadFileMonitor:
    """Counts good and bad samples of the batches a process reads.

    Args:
        max_fraction: the largest share of bad samples tolerated in a window.
        window: how many recent samples the share is measured over; the check starts once `MIN_SAMPLES` (or the whole
            window, if smaller) were read, over the samples read so far.
    """

    def __init__(self, max_fraction: float = 0.1, window: int = 500):
        if not 0 <= max_fraction <= 1:
            raise ValueError(f"max_fraction must be in [0, 1], got {max_fraction}")
        self.max_fraction, self.window = max_fraction, window
        self.recent: deque[bool] = deque(maxlen=window)
        self.seen = 0
        self.reasons: Counter[str] = Counter()

    def update(self, num_good: int, bad_files: list[tuple[str, str]]) -> None:
        """Records one batch: `num_good` decoded samples and the `(source, cause)` of each bad one (a `DecodeError`'s
        fields); raises `TooManyBadFiles` when the window holds too many bad ones."""
        for source, cause in bad_files:
            logger.warning("skipping a bad file: %s: %s", source, cause)
            self.reasons[cause.split(" (")[0]] += 1  # the kind of failure, without FFmpeg's details
        self.recent.extend([True] * num_good + [False] * len(bad_files))
        self.seen += num_good + len(bad_files)
        bad, recent = self.recent.count(False), len(self.recent)
        if recent >= min(self.window, MIN_SAMPLES) and bad > self.max_fraction * recent:
            raise TooManyBadFiles(
                f"{bad} of the last {recent} samples could not be decoded (more than {self.max_fraction:.0%}); "
                f"stopping rather than training on what is left. {self.summary()} Check the data "
                "(`python -m modeling_avssl.commands.data inspect PATH`) or raise `max_bad_fraction`."
            )

    @property
    def skipped(self) -> int:
        return sum(self.reasons.values())

    def summary(self) -> str:
        """One line: how many samples were skipped, of how many, and why."""
        if not self.skipped:
            return f"No bad files in {self.seen} samples."
        counts = sorted(self.reasons.items(), key=lambda item: (-item[1], item[0]))
        reasons = ", ".join(f"{count} {reason}" for reason, count in counts)
        return f"Skipped {self.skipped} bad files of {self.seen} samples ({reasons})."
