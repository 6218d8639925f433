"""Plain-Python twins of :mod:`myopic_sor.features._kernels` (same names, same signatures).

They are written for reading, not for speed: the parity tests check that the compiled kernels
compute exactly what these loops compute.
"""

from __future__ import annotations

import math

import numpy as np

from myopic_sor._typing import BoolArray1D, Float64Array1D, Float64Array2D, Int64Array1D

__all__ = ["nbbo_kernel", "ofi_kernel"]


def nbbo_kernel(  # noqa: PLR0917 - kernels take arrays positionally (numba has no kw-only)
    venue_index: Int64Array1D,
    bid_px: Float64Array1D,
    bid_sz: Int64Array1D,
    ask_px: Float64Array1D,
    ask_sz: Int64Array1D,
    n_venues: int,
) -> tuple[Float64Array1D, Float64Array1D, Int64Array1D, Int64Array1D, BoolArray1D, BoolArray1D]:
    n = int(venue_index.shape[0])
    # Last quote of every venue: (bid, bid size, ask, ask size); None before its first event.
    quotes: list[tuple[float, int, float, int] | None] = [None] * n_venues
    best_bid = np.empty(n, dtype=np.float64)
    best_ask = np.empty(n, dtype=np.float64)
    bid_size = np.zeros(n, dtype=np.int64)
    ask_size = np.zeros(n, dtype=np.int64)
    bid_at = np.zeros((n, n_venues), dtype=np.bool_)
    ask_at = np.zeros((n, n_venues), dtype=np.bool_)
    for i in range(n):
        quotes[int(venue_index[i])] = (
            float(bid_px[i]),
            int(bid_sz[i]),
            float(ask_px[i]),
            int(ask_sz[i]),
        )
        bids = [q[0] for q in quotes if q is not None and not math.isnan(q[0])]
        asks = [q[2] for q in quotes if q is not None and not math.isnan(q[2])]
        bb = max(bids) if bids else math.nan
        ba = min(asks) if asks else math.nan
        for k, q in enumerate(quotes):
            if q is None:
                continue
            if q[0] == bb:
                bid_size[i] += q[1]
                bid_at[i, k] = True
            if q[2] == ba:
                ask_size[i] += q[3]
                ask_at[i, k] = True
        best_bid[i] = bb
        best_ask[i] = ba
    return best_bid, best_ask, bid_size, ask_size, bid_at, ask_at


def ofi_kernel(
    bid_px: Float64Array2D,
    bid_sz: Float64Array2D,
    ask_px: Float64Array2D,
    ask_sz: Float64Array2D,
) -> Float64Array2D:
    n, n_levels = bid_px.shape
    out = np.zeros((n, n_levels), dtype=np.float64)

    def level(px: float, sz: float, empty_px: float) -> tuple[float, float]:
        return (empty_px, 0.0) if math.isnan(px) else (px, sz)

    for i in range(1, n):
        for m in range(n_levels):
            pb_prev, qb_prev = level(bid_px[i - 1, m], bid_sz[i - 1, m], -math.inf)
            pb, qb = level(bid_px[i, m], bid_sz[i, m], -math.inf)
            pa_prev, qa_prev = level(ask_px[i - 1, m], ask_sz[i - 1, m], math.inf)
            pa, qa = level(ask_px[i, m], ask_sz[i, m], math.inf)
            out[i, m] = (
                (pb >= pb_prev) * qb
                - (pb <= pb_prev) * qb_prev
                - (pa <= pa_prev) * qa
                + (pa >= pa_prev) * qa_prev
            )
    return out


def ofi_bucket_kernel(  # noqa: PLR0917 - mirrors the compiled kernel's positional signature
    bucket: Int64Array1D,
    n_buckets: int,
    bid_px: Float64Array2D,
    bid_sz: Float64Array2D,
    ask_px: Float64Array2D,
    ask_sz: Float64Array2D,
) -> tuple[Float64Array2D, Float64Array2D]:
    n_levels = bid_px.shape[1]
    ofi = np.zeros((n_buckets, n_levels), dtype=np.float64)
    depth = np.zeros((n_buckets, n_levels), dtype=np.float64)
    e = ofi_kernel(bid_px, bid_sz, ask_px, ask_sz)
    for i, k in enumerate(bucket):
        if not 0 <= k < n_buckets:
            continue
        for m in range(n_levels):
            qb = 0.0 if math.isnan(bid_px[i, m]) else bid_sz[i, m]
            qa = 0.0 if math.isnan(ask_px[i, m]) else ask_sz[i, m]
            ofi[k, m] += e[i, m]
            depth[k, m] += 0.5 * (qb + qa)
    return ofi, depth
