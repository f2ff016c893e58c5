"""Log-linear latency buckets (HdrHistogram's layout): how the child summarises the steps it gives no row of
their own, and how the analysis merges those summaries and reads quantiles from them.

A latency is counted in whole nanoseconds. Below 2 * SUB_BUCKETS ns every nanosecond has its bucket; above,
each power of two is cut into SUB_BUCKETS equal buckets, so no bucket is wider than 1/SUB_BUCKETS of its
lower bound. A quantile read from merged counts is its bucket's midpoint: within RELATIVE_ERROR (0.39%) of the
exact order statistic, or within half a nanosecond below 256 ns. Buckets merge by adding counts, so a span's
percentiles come from its blocks' counts without the steps themselves.

Part of the run folder's format (docs/run-folder.md): changing SUB_BUCKET_BITS changes what the bucket
numbers in latency_blocks.csv mean, and needs a new RUN_FOLDER_FORMAT.
"""

from __future__ import annotations

import numpy as np

SUB_BUCKET_BITS = 7
SUB_BUCKETS = 1 << SUB_BUCKET_BITS  # 128 buckets per power of two
_UNIT_BUCKETS = 2 * SUB_BUCKETS  # values below this many ns get a bucket each
# The midpoint of a bucket is within half its width, 1/(2 * SUB_BUCKETS) of its lower bound, of any value in it.
RELATIVE_ERROR = 1 / (2 * SUB_BUCKETS)
NS_PER_MS = 1e6


def bucket_index(nanoseconds: np.ndarray) -> np.ndarray:
    """The bucket of each latency (whole nanoseconds, >= 0; float or int input), as int64."""
    values = np.maximum(np.rint(np.asarray(nanoseconds, dtype=np.float64)), 0.0)
    _, exponent = np.frexp(values)  # exponent = bit length of the integer value (0 for 0)
    shift = np.maximum(exponent.astype(np.int64) - (SUB_BUCKET_BITS + 1), 0)
    return shift * SUB_BUCKETS + np.right_shift(values.astype(np.int64), shift)


def bucket_bounds_ns(index: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(lowest, highest) whole nanosecond value each bucket holds."""
    index = np.asarray(index, dtype=np.int64)
    shift = np.maximum(np.right_shift(index, SUB_BUCKET_BITS) - 1, 0)
    low = np.left_shift(index - shift * SUB_BUCKETS, shift)
    return low, low + np.left_shift(np.int64(1), shift) - 1


def bucket_value_ms(index: np.ndarray) -> np.ndarray:
    """The value a bucket stands for: the midpoint of the latencies that round into it, in milliseconds."""
    low, high = bucket_bounds_ns(index)
    return (low + high) / 2.0 / NS_PER_MS


def bin_counts(latency_ms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(bucket, count) of a set of latencies in ms, buckets ascending and counts > 0."""
    if len(latency_ms) == 0:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    buckets, counts = np.unique(bucket_index(np.asarray(latency_ms, dtype=np.float64) * NS_PER_MS),
                                return_counts=True)
    return buckets.astype(np.int64), counts.astype(np.int64)


def quantiles_from_counts(buckets: np.ndarray, counts: np.ndarray, fractions) -> np.ndarray:
    """Quantiles (fractions in [0, 1]) of merged counts, in ms; NaN for no counts.

    Ranks as numpy's default percentile (linear between the order statistics at fraction * (n - 1)), each
    order statistic read as its bucket's midpoint: on values that sit at bucket midpoints it equals
    np.percentile, and otherwise it is within RELATIVE_ERROR of it.
    """
    fractions = np.atleast_1d(np.asarray(fractions, dtype=float))
    buckets = np.asarray(buckets, dtype=np.int64)
    counts = np.asarray(counts, dtype=np.int64)
    keep = counts > 0
    buckets, counts = buckets[keep], counts[keep]
    if buckets.size == 0:
        return np.full(fractions.shape, np.nan)
    order = np.argsort(buckets, kind="stable")
    buckets, counts = buckets[order], counts[order]
    cumulative = np.cumsum(counts)
    position = fractions * (cumulative[-1] - 1)
    below = np.floor(position)
    values = bucket_value_ms(buckets)
    low = values[np.searchsorted(cumulative, below, side="right")]
    high = values[np.searchsorted(cumulative, np.minimum(below + 1, cumulative[-1] - 1), side="right")]
    return low + (position - below) * (high - low)
