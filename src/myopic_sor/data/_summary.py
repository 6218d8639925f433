"""Per-venue summaries of loaded market data (what ``myopic-sor inspect-data`` prints)."""

from __future__ import annotations

import datetime as dt
import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from myopic_sor._typing import PathLike
from myopic_sor.data._schema import ACTION_TRADE, MarketData, VenueData
from myopic_sor.data._validate import ValidationReport, validate_market_data
from myopic_sor.exceptions import DataQualityWarning

__all__ = ["inspect_market_data", "summarize_market_data", "summarize_venue"]


def _iso(ts_ns: int, tz: str) -> str:
    return pd.Timestamp(ts_ns, unit="ns", tz="UTC").tz_convert(tz).isoformat()


def _stats(x: np.ndarray) -> dict[str, float | None]:
    x = x[np.isfinite(x)]
    if x.size == 0:
        return {"mean": None, "median": None, "p05": None, "p95": None, "max": None}
    q05, q50, q95 = np.quantile(x, [0.05, 0.5, 0.95])
    return {
        "mean": float(x.mean()),
        "median": float(q50),
        "p05": float(q05),
        "p95": float(q95),
        "max": float(x.max()),
    }


def summarize_venue(vd: VenueData, *, timezone: str = "America/New_York") -> dict[str, Any]:
    """Summarise one venue: rows, time span, trades, traded volume, spread and depth statistics.

    Parameters
    ----------
    vd : VenueData
    timezone : str
        Time zone of the printed local timestamps.

    Returns
    -------
    dict
        ``rows``, ``first_ts``/``last_ts`` (ISO 8601 in ``timezone``), ``first_ts_ns``/
        ``last_ts_ns`` (UTC ns), ``trades``, ``traded_volume`` (shares), ``levels``,
        ``actions`` (count per action letter), ``spread`` and ``spread_bps`` statistics over
        two-sided book rows, ``depth_bid``/``depth_ask`` (touch size statistics, shares) and
        ``one_sided_rows``.
    """
    n = len(vd)
    out: dict[str, Any] = {"venue": vd.venue, "symbol": vd.symbol, "source": vd.source, "rows": n}
    if n == 0:
        out.update(first_ts=None, last_ts=None, trades=0, traded_volume=0)
        return out
    ts = vd.ts_event
    action = vd["action"]
    trades = action == ACTION_TRADE
    bid, ask = vd.best_bid, vd.best_ask
    two_sided = np.isfinite(bid) & np.isfinite(ask)
    spread = (ask - bid)[two_sided]
    mid = (0.5 * (ask + bid))[two_sided]
    letters, counts = np.unique(action, return_counts=True)
    out.update(
        first_ts=_iso(int(ts.min()), timezone),
        last_ts=_iso(int(ts.max()), timezone),
        first_ts_ns=int(ts.min()),
        last_ts_ns=int(ts.max()),
        trades=int(trades.sum()),
        traded_volume=int(vd["size"][trades].sum()),
        levels=vd.levels,
        actions={chr(int(a)): int(c) for a, c in zip(letters, counts, strict=True)},
        one_sided_rows=int((~two_sided).sum()),
        spread=_stats(spread),
        spread_bps=_stats(1e4 * spread / mid),
        depth_bid=_stats(vd["bid_sz_00"][two_sided].astype(np.float64)),
        depth_ask=_stats(vd["ask_sz_00"][two_sided].astype(np.float64)),
    )
    return out


def summarize_market_data(
    md: MarketData, quality: Mapping[str, Mapping[str, Any]] | None = None
) -> dict[str, Any]:
    """Summarise every venue of ``md``; ``quality`` adds per-venue data-quality counts.

    Returns
    -------
    dict
        ``symbol``, ``date``, ``timezone``, ``n_events`` and ``venues`` (venue → the dict of
        :func:`summarize_venue`, with ``quality`` when given).
    """
    venues: dict[str, Any] = {}
    for name, vd in md.venues.items():
        s = summarize_venue(vd, timezone=md.timezone)
        if quality is not None and name in quality:
            s["quality"] = dict(quality[name])
        venues[name] = s
    return {
        "symbol": md.symbol,
        "date": md.date.isoformat(),
        "timezone": md.timezone,
        "n_events": md.n_events,
        "venues": venues,
    }


def inspect_market_data(
    *paths: PathLike,
    symbol: str | None = None,
    day: dt.date | str | None = None,
    start: dt.time | str | None = None,
    end: dt.time | str | None = None,
    venue: str | None = None,
    timezone: str = "America/New_York",
    repair: bool = False,
) -> dict[str, Any]:
    """Load any supported input, validate it and summarise every venue.

    Data-quality warnings raised while validating are collected into the result (``warnings``)
    rather than lost; hard validation errors raise as in :func:`load_market_data`.

    Returns
    -------
    dict
        The :func:`summarize_market_data` dict with per-venue ``quality`` (the validation report)
        and a top-level ``warnings`` list.
    """
    from myopic_sor.data._load import load_market_data

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", DataQualityWarning)
        md = load_market_data(
            *paths, symbol=symbol, day=day, start=start, end=end, venue=venue,
            timezone=timezone, validate=False,
        )  # fmt: skip
        md, reports = validate_market_data(md, repair=repair)
    quality = {name: _quality_counts(rep) for name, rep in reports.items()}
    out = summarize_market_data(md, quality)
    out["warnings"] = [str(w.message) for w in caught if issubclass(w.category, DataQualityWarning)]
    for w in caught:  # anything that is not a data-quality warning goes back to the caller
        if not issubclass(w.category, DataQualityWarning):
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return out


def _quality_counts(report: ValidationReport) -> dict[str, Any]:
    """Per-check counts of a validation report, and ``issues``: the non-zero warnings/errors."""
    counts = {name: check.count for name, check in report.checks.items()}
    return {
        "ok": report.ok,
        "repaired": report.repaired,
        "rows_in": report.n_rows_in,
        "rows_out": report.n_rows_out,
        "counts": counts,
        # info-level counts (several events in one ns) are normal and not listed as issues
        "issues": {
            k: c.count for k, c in report.checks.items() if c.count and c.severity != "info"
        },
    }
