"""What the benchmarks share: figures (median and spread), progress bars, the process-wide settings."""

import statistics
import sys

from tqdm import tqdm


def median_and_spread(samples: list[float]) -> tuple[float, float]:
    """The median, and the p10–p90 spread (the width of the middle 80 % of the samples)."""
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[int(len(ordered) * 0.9) - 1] - ordered[len(ordered) // 10]


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def bar(total: float, description: str, unit: str = "it") -> tqdm:
    """A progress bar on stderr (the figures go to stdout)."""
    return tqdm(
        total=total,
        desc=f"   {description}",
        unit=unit,
        file=sys.stderr,
        leave=False,
        dynamic_ncols=True,
        mininterval=1.0,
    )


def tqdm_range(count: int, description: str):
    """range(count) with a progress bar."""
    with bar(count, description) as progress:
        for index in range(count):
            yield index
            progress.update(1)
