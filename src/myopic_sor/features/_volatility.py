"""Realised volatility (daily units) from a mid-price series, and average daily volume (ADV)."""

from __future__ import annotations

import datetime as dt
import logging
import warnings
from collections.abc import Sequence
from typing import Final

import numpy as np
import numpy.typing as npt

from myopic_sor._checks import require_positive
from myopic_sor._typing import Float64Array1D, Int64Array1D
from myopic_sor.data import ACTION_TRADE, MarketData, VenueData
from myopic_sor.exceptions import ConfigError, DataQualityWarning, DataValidationError
from myopic_sor.features._book import consolidated_book
from myopic_sor.features._common import check_sorted

__all__ = [
    "REGULAR_SESSION_END",
    "REGULAR_SESSION_START",
    "daily_volatility",
    "estimate_adv",
    "realized_volatility",
    "rolling_volatility",
    "single_day_adv",
    "traded_volume",
]

logger = logging.getLogger(__name__)

#: US equities regular trading hours, exchange local time (``MarketData.timezone``).
REGULAR_SESSION_START: Final = dt.time(9, 30)
REGULAR_SESSION_END: Final = dt.time(16, 0)

_NS: Final = 1_000_000_000


def _check_series(ts_ns: Int64Array1D, mid: Float64Array1D) -> tuple[Int64Array1D, Float64Array1D]:
    ts = np.ascontiguousarray(ts_ns, dtype=np.int64)
    m = np.ascontiguousarray(mid, dtype=np.float64)
    if ts.ndim != 1 or m.shape != ts.shape:
        raise DataValidationError(
            f"ts_ns and mid must be 1-D arrays of equal length, got {ts.shape} and {m.shape}"
        )
    if ts.shape[0] > 1 and bool(np.any(ts[1:] < ts[:-1])):
        row = int(np.flatnonzero(ts[1:] < ts[:-1])[0]) + 1
        raise DataValidationError(
            f"ts_ns is not sorted at row {row} ({int(ts[row])} ns < {int(ts[row - 1])} ns); "
            "sort the series (or validate the data) first"
        )
    return ts, m


def _session(start_ns: int, end_ns: int, sampling_s: float) -> tuple[int, float]:
    require_positive("sampling_s", sampling_s)
    if end_ns <= start_ns:
        raise ConfigError(f"session_end_ns ({end_ns}) must be after session_start_ns ({start_ns})")
    step_ns = round(sampling_s * _NS)
    if step_ns <= 0:
        raise ConfigError(f"sampling_s={sampling_s} is below one nanosecond")
    return step_ns, (end_ns - start_ns) / _NS


def _grid_returns(
    ts: Int64Array1D, mid: Float64Array1D, start_ns: int, end_ns: int, step_ns: int
) -> tuple[Int64Array1D, Float64Array1D]:
    """Log-returns of the previous-tick mid between consecutive grid points, keyed by grid end."""
    empty = (np.empty(0, np.int64), np.empty(0, np.float64))
    if ts.shape[0] == 0:
        return empty
    last = min(int(end_ns), int(ts[-1]))
    if last < start_ns:
        return empty
    n_grid = (last - int(start_ns)) // step_ns + 1
    grid = int(start_ns) + step_ns * np.arange(n_grid, dtype=np.int64)
    with np.errstate(invalid="ignore"):
        valid = np.flatnonzero(np.isfinite(mid) & (mid > 0))
    k = np.searchsorted(ts[valid], grid, side="right") - 1
    have = k >= 0
    log_mid = np.full(n_grid, np.nan)
    log_mid[have] = np.log(mid[valid[k[have]]])
    r = np.diff(log_mid)
    ok = np.isfinite(r)
    return grid[1:][ok], r[ok]


def realized_volatility(
    ts_ns: Int64Array1D,
    mid: Float64Array1D,
    *,
    session_start_ns: int,
    session_end_ns: int,
    sampling_s: float = 60.0,
) -> float:
    """Estimate the daily return volatility from intraday mid log-returns on a regular grid.

    Parameters
    ----------
    ts_ns : numpy.ndarray
        int64 UTC ns, sorted.
    mid : numpy.ndarray
        float64 mid prices (currency per share) aligned to ``ts_ns``; NaN or non-positive values
        are skipped (the previous valid mid is used).
    session_start_ns, session_end_ns : int
        UTC ns bounds of the trading session.
    sampling_s : float, default 60
        Grid step, seconds.

    Returns
    -------
    float
        σ_daily in return units (0.01 = 1 % per day).

    Raises
    ------
    DataValidationError
        When the series gives no return inside the session.

    Notes
    -----
    Grid ``g_j = session_start + j·Δ`` up to ``min(session_end, last event)``; the mid at
    ``g_j`` is the last valid mid at or before ``g_j`` (previous tick). With
    ``r_j = ln(m_{g_j} / m_{g_{j-1}})`` over the ``N`` grid steps where both mids exist::

        σ_daily = sqrt(Σ_j r_j²) · sqrt(session_seconds / (N · Δ))

    The second factor scales the observed part of the session to the full session, so a half
    day of data gives a full-day σ. Sampling at 60 s keeps the bid-ask bounce small for liquid
    stocks; use a coarser ``sampling_s`` for illiquid ones.
    """
    ts, m = _check_series(ts_ns, mid)
    step_ns, session_s = _session(session_start_ns, session_end_ns, sampling_s)
    _, r = _grid_returns(ts, m, session_start_ns, session_end_ns, step_ns)
    if r.shape[0] == 0:
        raise DataValidationError(
            f"no mid-price return on the {sampling_s} s grid inside the session "
            f"[{session_start_ns}, {session_end_ns}] ns ({ts.shape[0]} events); the data do not "
            "cover the session or have no valid mid: pass the volatility explicitly"
        )
    observed_s = r.shape[0] * step_ns / _NS
    return float(np.sqrt(np.sum(r * r) * session_s / observed_s))


def rolling_volatility(
    ts_ns: Int64Array1D,
    mid: Float64Array1D,
    *,
    session_start_ns: int,
    session_end_ns: int,
    sampling_s: float = 60.0,
    window_s: float = 1800.0,
    min_returns: int = 5,
    at_ns: Int64Array1D | None = None,
) -> Float64Array1D:
    """Estimate the daily volatility causally, from the past ``window_s`` seconds only.

    Parameters
    ----------
    ts_ns, mid : numpy.ndarray
        As in :func:`realized_volatility`.
    session_start_ns, session_end_ns : int
        UTC ns bounds of the session.
    sampling_s : float, default 60
        Grid step, seconds.
    window_s : float, default 1800
        Look-back window, seconds.
    min_returns : int, default 5
        Fewer grid returns in the window give NaN.
    at_ns : numpy.ndarray, optional
        int64 UTC ns query times (default: ``ts_ns``).

    Returns
    -------
    numpy.ndarray
        float64 σ_daily (return units) at each query time; NaN before the session has
        ``min_returns`` returns in the window (and from ``window_s`` after the close on).

    Notes
    -----
    The grid returns of :func:`realized_volatility`; at time ``t`` the estimate uses the
    ``N_t`` returns whose grid end ``g_j`` satisfies ``t − window_s ≤ g_j < t``::

        σ_t = sqrt(Σ r_j² · session_seconds / (N_t · Δ))

    A return ending at ``g_j < t`` uses mids of events with ``ts ≤ g_j < t`` only, so the value
    at an event never depends on that event or on any later one (no look-ahead), even when
    several events share a timestamp.
    """
    ts, m = _check_series(ts_ns, mid)
    step_ns, session_s = _session(session_start_ns, session_end_ns, sampling_s)
    require_positive("window_s", window_s)
    if min_returns < 1:
        raise ConfigError(f"min_returns must be at least 1, got {min_returns}")
    at = ts if at_ns is None else np.ascontiguousarray(at_ns, dtype=np.int64)
    ends, r = _grid_returns(ts, m, session_start_ns, session_end_ns, step_ns)
    csum = np.concatenate(([0.0], np.cumsum(r * r)))
    hi = np.searchsorted(ends, at, side="left")
    lo = np.searchsorted(ends, at - np.int64(round(window_s * _NS)), side="left")
    count = hi - lo
    out = np.full(at.shape[0], np.nan)
    ok = count >= min_returns
    out[ok] = np.sqrt((csum[hi[ok]] - csum[lo[ok]]) * session_s / (count[ok] * step_ns / _NS))
    return out


def _bounds(md: MarketData, start: dt.time, end: dt.time) -> tuple[int, int]:
    lo, hi = md.session_bounds_ns(start, end)
    if hi <= lo:
        raise ConfigError(f"session end {end} must be after session start {start}")
    return lo, hi


def daily_volatility(
    md: MarketData,
    *,
    venue: str | None = None,
    session_start: dt.time = REGULAR_SESSION_START,
    session_end: dt.time = REGULAR_SESSION_END,
    sampling_s: float = 60.0,
) -> float:
    """Estimate the day's return volatility from the consolidated (or one venue's) mid.

    Parameters
    ----------
    md : MarketData
    venue : str, optional
        Use this venue's mid instead of the consolidated (NBBO) mid.
    session_start, session_end : datetime.time
        Session in exchange local time (default 09:30-16:00).
    sampling_s : float, default 60
        Grid step, seconds.

    Returns
    -------
    float
        σ_daily, return units; see :func:`realized_volatility` for the estimator.
    """
    lo, hi = _bounds(md, session_start, session_end)
    ts, mid = _mid_series(md, venue)
    return realized_volatility(
        ts, mid, session_start_ns=lo, session_end_ns=hi, sampling_s=sampling_s
    )


def _mid_series(md: MarketData, venue: str | None) -> tuple[Int64Array1D, Float64Array1D]:
    if venue is None:
        book = consolidated_book(md)
        return book.ts_event, book.mid_price
    v = _venue(md, venue)
    check_sorted(v)
    return v.ts_event, v.mid_price


def _venue(md: MarketData, venue: str) -> VenueData:
    if venue not in md.venues:
        raise ConfigError(f"venue={venue!r} is not in the data; have {', '.join(md.venue_names)}")
    return md.venues[venue]


def traded_volume(
    data: MarketData | VenueData, *, start_ns: int | None = None, end_ns: int | None = None
) -> int:
    """Return the shares traded (action ``T``) with ``start_ns <= ts_event <= end_ns``.

    Parameters
    ----------
    data : MarketData or VenueData
        All venues are summed for a ``MarketData``.
    start_ns, end_ns : int, optional
        Inclusive UTC ns bounds (default: everything).

    Returns
    -------
    int
        Shares, every aggressor side included.

    Notes
    -----
    Each venue's feed prints the trades executed on that venue, so the sum over venues is the
    volume of those venues. Do not add a consolidated-tape or TRF feed to the same
    ``MarketData``: its prints repeat the exchanges' ones.
    """
    venues = list(data) if isinstance(data, MarketData) else [data]
    total = 0
    for v in venues:
        ts = v.ts_event
        keep = v["action"] == ACTION_TRADE
        if start_ns is not None:
            keep &= ts >= start_ns
        if end_ns is not None:
            keep &= ts <= end_ns
        total += int(v["size"][keep].sum())
    return total


def single_day_adv(
    md: MarketData,
    *,
    venue: str | None = None,
    session_start: dt.time = REGULAR_SESSION_START,
    session_end: dt.time = REGULAR_SESSION_END,
) -> float:
    """Estimate ADV from one day: its session volume scaled to the full session.

    Parameters
    ----------
    md : MarketData
    venue : str, optional
        Count only this venue's trades.
    session_start, session_end : datetime.time
        Session in exchange local time (default 09:30-16:00).

    Returns
    -------
    float
        Shares per day.

    Raises
    ------
    DataValidationError
        When the data do not overlap the session.

    Notes
    -----
    ``ADV = V_session · session_seconds / observed_seconds`` where ``V_session`` counts trades
    inside the session and ``observed_seconds`` is the overlap of ``[first event, last event]``
    with the session. This is a single-day fallback: it uses the whole day, including what
    happens after any decision time, and one day's volume is a noisy ADV. Prefer
    :func:`estimate_adv` over previous days, or the configured ADV.
    """
    lo, hi = _bounds(md, session_start, session_end)
    data: MarketData | VenueData = md if venue is None else _venue(md, venue)
    nonempty = [v for v in (list(data) if isinstance(data, MarketData) else [data]) if len(v)]
    first = min((int(v.ts_event[0]) for v in nonempty), default=hi)
    last = max((int(v.ts_event[-1]) for v in nonempty), default=lo)
    observed_ns = min(last, hi) - max(first, lo)
    if observed_ns <= 0:
        raise DataValidationError(
            f"{md.symbol} {md.date}: no event inside the session {session_start}-{session_end} "
            f"{md.timezone}; cannot estimate ADV from this day, pass adv explicitly"
        )
    volume = traded_volume(data, start_ns=lo, end_ns=hi)
    return float(volume * (hi - lo) / observed_ns)


def estimate_adv(
    days_volumes: Sequence[float] | npt.NDArray[np.number[npt.NBitBase]],
    *,
    fallback: float | None = None,
    min_days: int = 2,
) -> float:
    """Estimate the average daily volume from the traded volume of several days.

    Parameters
    ----------
    days_volumes : sequence of float
        Shares traded on each day of the look-back window (e.g. :func:`traded_volume` of each
        day's ``MarketData`` over its session). The window is the caller's: to stay causal it
        must end before the day being traded (typically the previous 20 sessions).
    fallback : float, optional
        ADV to use when fewer than ``min_days`` days are given (the configured ADV, shares/day).
    min_days : int, default 2
        Days needed to estimate from data.

    Returns
    -------
    float
        Shares per day: the mean of ``days_volumes`` when there are ``min_days`` or more, else
        ``fallback``.

    Raises
    ------
    DataValidationError
        A volume is negative or not finite, no day is given and no fallback either, or the
        mean is 0.

    Warns
    -----
    DataQualityWarning
        Fewer than ``min_days`` days and no fallback: the mean of what was given is returned.

    Examples
    --------
    >>> estimate_adv([1.2e6, 0.9e6, 1.05e6])
    1050000.0
    >>> estimate_adv([1.2e6], fallback=1e6)
    1000000.0
    """
    vols = np.asarray(days_volumes, dtype=np.float64).ravel()
    bad = np.flatnonzero(~np.isfinite(vols) | (vols < 0))
    if bad.size:
        raise DataValidationError(
            f"days_volumes[{int(bad[0])}] = {vols[bad[0]]!r} is not a volume; daily volumes "
            "must be finite and non-negative shares"
        )
    if vols.size < min_days:
        if fallback is not None:
            require_positive("fallback", fallback)
            logger.info(
                "ADV: %d day(s) given (< min_days=%d), using the fallback %.6g",
                vols.size,
                min_days,
                fallback,
            )
            return float(fallback)
        if vols.size == 0:
            raise DataValidationError(
                "estimate_adv got no daily volume and no fallback; pass the volumes of previous "
                "days or the configured ADV as fallback"
            )
        warnings.warn(
            f"ADV estimated from {vols.size} day(s) only (min_days={min_days}); pass more days "
            "or the configured ADV as fallback",
            DataQualityWarning,
            stacklevel=2,
        )
    adv = float(vols.mean())
    if adv <= 0:
        raise DataValidationError(
            f"mean daily volume over {vols.size} day(s) is 0; ADV must be positive"
        )
    return adv
