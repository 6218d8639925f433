"""Helpers shared by the feature modules: input checks and fixed-interval buckets."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from myopic_sor._typing import BoolArray1D, Int64Array1D
from myopic_sor.data import VenueData
from myopic_sor.exceptions import ConfigError, DataValidationError

#: Two prices closer than this (currency per share) are the same price. Prices are converted
#: once from Databento's 1e-9 fixed point, so equal prices are bit-equal in practice; the
#: tolerance only guards against sources that went through decimal text.
PRICE_TOL = 1e-9


def check_sorted(venue: VenueData) -> None:
    ts = venue.ts_event
    if ts.shape[0] > 1:
        bad = np.flatnonzero(ts[1:] < ts[:-1])
        if bad.size:
            row = int(bad[0]) + 1
            raise DataValidationError(
                f"{venue.source or 'data'} (venue {venue.venue}): ts_event is not sorted, "
                f"row {row} ({int(ts[row])} ns) is earlier than row {row - 1} "
                f"({int(ts[row - 1])} ns); {bad.size} such row(s). Features need event time "
                "order: run myopic_sor.data.validate_venue (it stable-sorts) before computing them"
            )


def check_levels(venue: VenueData, levels: int | None) -> int:
    if levels is None:
        return venue.levels
    if not 1 <= levels <= venue.levels:
        raise ConfigError(
            f"levels={levels} is out of range for venue {venue.venue} "
            f"({venue.source or 'data'}), which has {venue.levels} book level(s); "
            f"pass 1..{venue.levels} or None for all"
        )
    return levels


@dataclass(frozen=True, slots=True)
class Buckets:
    """Fixed intervals ``[start_ns[k], start_ns[k] + bucket_ns)`` and each event's bucket."""

    start_ns: Int64Array1D
    index: Int64Array1D  # bucket of every event, -1 outside the grid
    inside: BoolArray1D

    @property
    def n(self) -> int:
        return int(self.start_ns.shape[0])

    def sum(self, values: npt.NDArray[np.generic]) -> npt.NDArray[np.float64]:
        """Per-bucket sums of a per-event 1-D or 2-D (events x columns) array."""
        idx = self.index[self.inside]
        vals = np.asarray(values)[self.inside]
        if vals.ndim == 1:
            return np.asarray(
                np.bincount(idx, weights=vals.astype(np.float64), minlength=self.n),
                dtype=np.float64,
            )
        out = np.zeros((self.n, vals.shape[1]), dtype=np.float64)
        for j in range(vals.shape[1]):
            out[:, j] = np.bincount(idx, weights=vals[:, j].astype(np.float64), minlength=self.n)
        return out

    def count(self) -> Int64Array1D:
        return np.bincount(self.index[self.inside], minlength=self.n).astype(np.int64)


def make_buckets(
    ts: Int64Array1D, bucket_ns: int, start_ns: int | None, end_ns: int | None
) -> Buckets:
    if isinstance(bucket_ns, bool) or int(bucket_ns) != bucket_ns or bucket_ns <= 0:
        raise ConfigError(f"bucket_ns must be a positive integer (nanoseconds), got {bucket_ns!r}")
    bucket_ns = int(bucket_ns)
    if start_ns is None:
        # Align to multiples of bucket_ns since the epoch, i.e. to clock minutes for 60 s buckets,
        # as pandas' resample does by default.
        start_ns = 0 if ts.shape[0] == 0 else int(ts[0]) // bucket_ns * bucket_ns
    if end_ns is None:
        end_ns = start_ns - 1 if ts.shape[0] == 0 else int(ts[-1])
    n = 0 if end_ns < start_ns else (int(end_ns) - int(start_ns)) // bucket_ns + 1
    starts = int(start_ns) + bucket_ns * np.arange(n, dtype=np.int64)
    offset = ts - np.int64(start_ns)
    inside = (offset >= 0) & (ts <= np.int64(end_ns))
    index = np.where(inside, offset // bucket_ns, -1).astype(np.int64)
    inside &= index < n
    return Buckets(start_ns=starts, index=index, inside=inside)
