"""Numba kernels of the feature layer (event loops that cannot be vectorised).

Each kernel takes only contiguous numpy arrays and scalars, and has a plain-Python twin with the
same name and signature in :mod:`myopic_sor.features._python`; the parity tests run both on random
books and compare them element by element.
"""

from __future__ import annotations

import numpy as np
from numba import njit
from numba.extending import register_jitable

from myopic_sor._typing import BoolArray1D, Float64Array1D, Float64Array2D, Int64Array1D

__all__ = ["nbbo_kernel", "ofi_bucket_kernel", "ofi_kernel"]


@njit(cache=True)
def nbbo_kernel(  # noqa: PLR0917 - kernels take arrays positionally (numba has no kw-only)
    venue_index: Int64Array1D,
    bid_px: Float64Array1D,
    bid_sz: Int64Array1D,
    ask_px: Float64Array1D,
    ask_sz: Int64Array1D,
    n_venues: int,
) -> tuple[
    Float64Array1D, Float64Array1D, Int64Array1D, Int64Array1D, BoolArray1D, BoolArray1D
]:  # pragma: no cover - compiled; the twin in _python.py carries the coverage
    n = venue_index.shape[0]
    last_bid = np.full(n_venues, np.nan)
    last_ask = np.full(n_venues, np.nan)
    last_bsz = np.zeros(n_venues, dtype=np.int64)
    last_asz = np.zeros(n_venues, dtype=np.int64)
    best_bid = np.empty(n, dtype=np.float64)
    best_ask = np.empty(n, dtype=np.float64)
    bid_size = np.zeros(n, dtype=np.int64)
    ask_size = np.zeros(n, dtype=np.int64)
    bid_at = np.zeros((n, n_venues), dtype=np.bool_)
    ask_at = np.zeros((n, n_venues), dtype=np.bool_)
    for i in range(n):
        v = venue_index[i]
        last_bid[v] = bid_px[i]
        last_ask[v] = ask_px[i]
        last_bsz[v] = bid_sz[i]
        last_asz[v] = ask_sz[i]
        bb = np.nan
        ba = np.nan
        for k in range(n_venues):
            p = last_bid[k]
            if not np.isnan(p) and (np.isnan(bb) or p > bb):
                bb = p
            q = last_ask[k]
            if not np.isnan(q) and (np.isnan(ba) or q < ba):
                ba = q
        bs = 0
        az = 0
        for k in range(n_venues):
            if last_bid[k] == bb:  # False when either is NaN
                bs += last_bsz[k]
                bid_at[i, k] = True
            if last_ask[k] == ba:
                az += last_asz[k]
                ask_at[i, k] = True
        best_bid[i] = bb
        best_ask[i] = ba
        bid_size[i] = bs
        ask_size[i] = az
    return best_bid, best_ask, bid_size, ask_size, bid_at, ask_at


@register_jitable
def _level(px: float, sz: float, empty_px: float) -> tuple[float, float]:
    # An empty level is a bid at -inf / an ask at +inf with zero size.
    if np.isnan(px):
        return empty_px, 0.0
    return px, sz


@register_jitable
def _cks_term(  # noqa: PLR0917 - the eight book values of CKS (2014) eq. 2
    pb0: float, qb0: float, pa0: float, qa0: float, pb1: float, qb1: float, pa1: float, qa1: float
) -> float:
    e = 0.0
    if pb1 >= pb0:
        e += qb1
    if pb1 <= pb0:
        e -= qb0
    if pa1 <= pa0:
        e -= qa1
    if pa1 >= pa0:
        e += qa0
    return e


@njit(cache=True)
def ofi_kernel(
    bid_px: Float64Array2D,
    bid_sz: Float64Array2D,
    ask_px: Float64Array2D,
    ask_sz: Float64Array2D,
) -> Float64Array2D:  # pragma: no cover - compiled; the twin in _python.py carries the coverage
    n = bid_px.shape[0]
    n_levels = bid_px.shape[1]
    out = np.zeros((n, n_levels), dtype=np.float64)
    for m in range(n_levels):  # level-major: the inputs are column-major (see _ofi._matrices)
        pb0, qb0 = _level(bid_px[0, m], bid_sz[0, m], -np.inf) if n else (0.0, 0.0)
        pa0, qa0 = _level(ask_px[0, m], ask_sz[0, m], np.inf) if n else (0.0, 0.0)
        for i in range(1, n):
            pb1, qb1 = _level(bid_px[i, m], bid_sz[i, m], -np.inf)
            pa1, qa1 = _level(ask_px[i, m], ask_sz[i, m], np.inf)
            out[i, m] = _cks_term(pb0, qb0, pa0, qa0, pb1, qb1, pa1, qa1)
            pb0, qb0, pa0, qa0 = pb1, qb1, pa1, qa1
    return out


@njit(cache=True)
def ofi_bucket_kernel(  # noqa: PLR0917 - kernels take arrays positionally (numba has no kw-only)
    bucket: Int64Array1D,
    n_buckets: int,
    bid_px: Float64Array2D,
    bid_sz: Float64Array2D,
    ask_px: Float64Array2D,
    ask_sz: Float64Array2D,
) -> tuple[Float64Array2D, Float64Array2D]:  # pragma: no cover - compiled; twin in _python.py
    """Per-bucket sums of e_n^m and of the half depth (qb + qa)/2, without the (n, M) matrix.

    ``bucket[i]`` is the bucket of event i (-1: outside the grid). Inputs are column-major.
    """
    n = bid_px.shape[0]
    n_levels = bid_px.shape[1]
    ofi = np.zeros((n_buckets, n_levels), dtype=np.float64)
    depth = np.zeros((n_buckets, n_levels), dtype=np.float64)
    for m in range(n_levels):
        pb0, qb0, pa0, qa0 = -np.inf, 0.0, np.inf, 0.0
        for i in range(n):
            pb1, qb1 = _level(bid_px[i, m], bid_sz[i, m], -np.inf)
            pa1, qa1 = _level(ask_px[i, m], ask_sz[i, m], np.inf)
            k = bucket[i]
            if 0 <= k < n_buckets:
                if i > 0:  # the first event of the venue has no previous book: e = 0
                    ofi[k, m] += _cks_term(pb0, qb0, pa0, qa0, pb1, qb1, pa1, qa1)
                depth[k, m] += 0.5 * (qb1 + qa1)
            pb0, qb0, pa0, qa0 = pb1, qb1, pa1, qa1
    return ofi, depth
