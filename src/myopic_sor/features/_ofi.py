"""Multi-level order-flow imbalance (Cont, Kukanov & Stoikov 2014), per event and per bucket."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from myopic_sor._typing import Float64Array1D, Float64Array2D, Int64Array1D
from myopic_sor.data import VenueData
from myopic_sor.features._common import check_levels, check_sorted, make_buckets
from myopic_sor.features._kernels import ofi_bucket_kernel, ofi_kernel

__all__ = ["OFIBuckets", "ofi_buckets", "order_flow_imbalance"]


def _matrices(
    venue: VenueData, n_levels: int
) -> tuple[Float64Array2D, Float64Array2D, Float64Array2D, Float64Array2D]:
    def mat(kind: str, side: str) -> Float64Array2D:
        cols = [venue[f"{side}_{kind}_{m:02d}"] for m in range(n_levels)]
        # Column-major: each level is one contiguous copy (row-major writes were strided).
        out = np.empty((len(venue), n_levels), dtype=np.float64, order="F")
        for m, c in enumerate(cols):
            out[:, m] = c
        return out

    return mat("px", "bid"), mat("sz", "bid"), mat("px", "ask"), mat("sz", "ask")


def order_flow_imbalance(venue: VenueData, levels: int | None = None) -> Float64Array2D:
    """Return the order-flow imbalance contribution ``e_n^m`` of every event and book level.

    Parameters
    ----------
    venue : VenueData
        One venue, ``ts_event`` sorted.
    levels : int, optional
        Number of book levels ``M`` (default: all the venue has).

    Returns
    -------
    numpy.ndarray
        float64 shares, shape ``(n_events, M)``. Row 0 is 0 (no previous book).

    Notes
    -----
    For level ``m`` with bid price/size ``Pb, qb`` and ask price/size ``Pa, qa`` after
    events ``n-1`` and ``n`` (Cont, Kukanov & Stoikov 2014, eq. 2; the multi-level version
    applies it to each level)::

        e_n^m = 1{Pb_n ≥ Pb_{n-1}} qb_n − 1{Pb_n ≤ Pb_{n-1}} qb_{n-1}
              − 1{Pa_n ≤ Pa_{n-1}} qa_n + 1{Pa_n ≥ Pa_{n-1}} qa_{n-1}

    Positive values are buying pressure (bids added or asks removed). An empty level (NaN
    price) is read as a bid at −∞ / an ask at +∞ with size 0: a level that appears
    contributes its whole size, one that disappears removes its previous size, and a level
    that stays empty contributes 0. A book clear (action R) therefore shows as the removal of
    all displayed depth, and the rebuild as its addition.

    References
    ----------
    R. Cont, A. Kukanov, S. Stoikov, "The price impact of order book events", Journal of
    Financial Econometrics 12(1), 2014.
    K. Xu, M. D. Gould, S. D. Howison, "Multi-level order-flow imbalance in a limit order
    book", Market Microstructure and Liquidity 4, 2019.
    """
    check_sorted(venue)
    n_levels = check_levels(venue, levels)
    bp, bs, ap, az = _matrices(venue, n_levels)
    out: Float64Array2D = ofi_kernel(bp, bs, ap, az)
    return out


@dataclass(frozen=True, slots=True)
class OFIBuckets:
    """Order-flow imbalance summed over fixed intervals.

    Attributes
    ----------
    start_ns : numpy.ndarray
        int64 UTC ns, start of each interval ``[start, start + bucket_ns)``.
    per_level : numpy.ndarray
        float64 shares, shape ``(n_buckets, M)``: ``OFI_k^m = Σ_{n in k} e_n^m``.
    depth : numpy.ndarray
        float64 shares, shape ``(n_buckets, M)``: mean over the bucket's events of
        ``(qb^m + qa^m) / 2`` after each event; NaN for a bucket with no events.
    aggregate : numpy.ndarray
        float64, depth-weighted sum ``Σ_m OFI_k^m / depth_k^m`` (dimensionless, each level's
        flow in units of its own average depth); levels with zero depth are left out, and an
        empty bucket is 0.
    n_events : numpy.ndarray
        int64 number of events in each bucket.
    """

    start_ns: Int64Array1D
    per_level: Float64Array2D
    depth: Float64Array2D
    aggregate: Float64Array1D
    n_events: Int64Array1D

    def __len__(self) -> int:
        return int(self.start_ns.shape[0])


def ofi_buckets(
    venue: VenueData,
    bucket_ns: int,
    *,
    levels: int | None = None,
    start_ns: int | None = None,
    end_ns: int | None = None,
) -> OFIBuckets:
    """Sum the multi-level order-flow imbalance over fixed intervals.

    Parameters
    ----------
    venue : VenueData
        One venue, ``ts_event`` sorted.
    bucket_ns : int
        Interval length, nanoseconds (``60_000_000_000`` for one minute).
    levels : int, optional
        Number of book levels ``M`` (default: all).
    start_ns, end_ns : int, optional
        UTC ns; buckets start at ``start_ns`` (default: the first event floored to a multiple of
        ``bucket_ns`` since the epoch, i.e. clock-aligned as pandas ``resample`` does) and the
        last bucket contains ``end_ns`` (default: the last event). Events outside are not counted.

    Returns
    -------
    OFIBuckets
        Every interval of the grid, empty ones included (OFI 0).

    Notes
    -----
    ``OFI_k^m = Σ_{n : t_n in bucket k} e_n^m`` with ``e_n^m`` from
    :func:`order_flow_imbalance` (the first event of the venue contributes 0). The aggregate
    weights each level by the inverse of its average depth in the bucket, the normalisation under
    which the CKS price response ``ΔP ≈ δ · OFI / (2 D)`` is comparable across levels::

        aggregate_k = Σ_m OFI_k^m / D_k^m,   D_k^m = mean_{n in k} (qb_n^m + qa_n^m) / 2

    References
    ----------
    R. Cont, A. Kukanov, S. Stoikov (2014), see :func:`order_flow_imbalance`.
    """
    check_sorted(venue)
    n_levels = check_levels(venue, levels)
    b = make_buckets(venue.ts_event, bucket_ns, start_ns, end_ns)
    bp, bs, ap, az = _matrices(venue, n_levels)
    per_level, depth_sum = ofi_bucket_kernel(b.index, b.n, bp, bs, ap, az)
    counts = b.count()
    depth = np.full_like(depth_sum, np.nan)
    has = counts > 0
    depth[has] = depth_sum[has] / counts[has, None]
    weighted = np.zeros_like(per_level)
    ok = has[:, None] & (depth_sum > 0)
    weighted[ok] = per_level[ok] / depth[ok]
    return OFIBuckets(
        start_ns=b.start_ns,
        per_level=per_level,
        depth=depth,
        aggregate=weighted.sum(axis=1),
        n_events=counts,
    )
