"""The spec's event-time DataFrame: flows, consolidated quotes, volatility and ADV."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Final

import numpy as np
import pandas as pd

from myopic_sor._checks import require_positive
from myopic_sor.data import ACTION_TRADE, MarketData
from myopic_sor.features._book import consolidated_book
from myopic_sor.features._common import check_sorted
from myopic_sor.features._flow import _trade_flow, _warn_unknown_aggressor
from myopic_sor.features._volatility import (
    REGULAR_SESSION_END,
    REGULAR_SESSION_START,
    _bounds,
    _venue,
    rolling_volatility,
)

__all__ = ["SPEC_FRAME_COLUMNS", "spec_frame"]

logger = logging.getLogger(__name__)

#: Columns of :func:`spec_frame`, in order.
SPEC_FRAME_COLUMNS: Final = (
    "ts_event",
    "bid_fill",
    "ask_fill",
    "signed_volume",
    "best_bid",
    "best_ask",
    "mid_price",
    "Volatility",
    "ADV",
)


def spec_frame(
    md: MarketData,
    *,
    volatility: float | None = None,
    adv: float | None = None,
    venue: str | None = None,
    session_start: dt.time = REGULAR_SESSION_START,
    session_end: dt.time = REGULAR_SESSION_END,
    sampling_s: float = 60.0,
    window_s: float = 1800.0,
    min_returns: int = 5,
) -> pd.DataFrame:
    """Build the spec's market-data frame, one row per event in merged event time.

    Parameters
    ----------
    md : MarketData
        One symbol, one day, every venue's ``ts_event`` sorted.
    volatility : float, optional
        Daily return volatility (0.01 = 1 %). When None, the causal rolling estimate of
        :func:`rolling_volatility` on the frame's mid.
    adv : float, optional
        Average daily volume, shares: from several past days (:func:`estimate_adv`) or from
        the configuration. When None, the configured default ``myopic.adv`` (one day cannot
        give its own ADV without looking ahead; :func:`single_day_adv` computes that
        whole-day figure for diagnostics only).
    venue : str, optional
        Restrict to one venue's events and quotes; default: all venues, consolidated.
    session_start, session_end : datetime.time
        Session in exchange local time for the volatility grid
        (default 09:30-16:00).
    sampling_s, window_s : float
        Volatility grid step and look-back window, seconds (defaults 60 and 1800).
    min_returns : int, default 5
        Grid returns needed in the window before the rolling volatility is reported.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`SPEC_FRAME_COLUMNS`:

        * ``ts_event``: datetime64[ns, UTC];
        * ``bid_fill`` / ``ask_fill``: int64 shares, buyer-/seller-initiated trade volume of the
          row (0 on non-trade rows and on trades of unknown aggressor);
        * ``signed_volume``: ``bid_fill - ask_fill``, positive for buying pressure;
        * ``best_bid`` / ``best_ask``: float64, the consolidated best bid / ask after the row
          (the venue's own touch with ``venue=``), NaN while a side is empty;
        * ``mid_price``: ``(best_bid + best_ask) / 2``;
        * ``Volatility``: float64 σ_daily (return units); the rolling estimate is NaN before
          the open, until ``min_returns`` grid returns are in the window, and from
          ``window_s`` after the close;
        * ``ADV``: float64 shares per day, constant.

    Warns
    -----
    DataQualityWarning
        Trades with an unknown aggressor (counted once over all venues).

    Notes
    -----
    Rows are the venues' events merged by time, stable on equal timestamps with venues in
    name order (:func:`merge_events`); every quote column at row ``i`` depends on rows
    ``0..i`` only, so ``df.resample("1min", on="ts_event").agg({"signed_volume": "sum",
    "mid_price": "last"})`` is free of look-ahead, as is the rolling ``Volatility``.

    Examples
    --------
    >>> df = spec_frame(md, adv=1_000_000)  # doctest: +SKIP
    >>> bars = df.resample("1min", on="ts_event").agg(
    ...     {"signed_volume": "sum", "mid_price": "last", "Volatility": "last", "ADV": "last"}
    ... )  # doctest: +SKIP
    """
    lo, hi = _bounds(md, session_start, session_end)
    if venue is not None:
        v = _venue(md, venue)
        check_sorted(v)
        ts = v.ts_event
        best_bid = np.array(v.best_bid, dtype=np.float64)
        best_ask = np.array(v.best_ask, dtype=np.float64)
        flow = _trade_flow(v)
        bid_fill, ask_fill = flow.bid_fill, flow.ask_fill
        n_unknown, unknown_volume = flow.n_unknown, flow.unknown_volume
        n_trades = int(np.count_nonzero(v["action"] == ACTION_TRADE))
        where = f"{md.symbol} {md.date} venue {venue}"
    else:
        book = consolidated_book(md)
        ts = book.ts_event
        best_bid, best_ask = book.best_bid, book.best_ask
        flows = {name: _trade_flow(md[name]) for name in book.venues}
        bid_fill = book.events.gather({k: f.bid_fill for k, f in flows.items()}).astype(np.int64)
        ask_fill = book.events.gather({k: f.ask_fill for k, f in flows.items()}).astype(np.int64)
        n_unknown = sum(f.n_unknown for f in flows.values())
        unknown_volume = sum(f.unknown_volume for f in flows.values())
        n_trades = sum(int(np.count_nonzero(x["action"] == ACTION_TRADE)) for x in md)
        where = f"{md.symbol} {md.date} ({len(md)} venues)"
    _warn_unknown_aggressor(where, n_unknown, unknown_volume, n_trades)

    mid = 0.5 * (best_bid + best_ask)
    if volatility is None:
        vol = rolling_volatility(
            ts,
            mid,
            session_start_ns=lo,
            session_end_ns=hi,
            sampling_s=sampling_s,
            window_s=window_s,
            min_returns=min_returns,
        )
    else:
        require_positive("volatility", volatility)
        vol = np.full(ts.shape[0], float(volatility))
    if adv is None:
        # One day cannot tell its own ADV without looking ahead (its volume is known only at
        # the close), so the configured value is used; single_day_adv() is there, labelled,
        # for diagnostics.
        from myopic_sor.config import default_config

        adv = default_config().myopic.adv
        logger.info("%s: ADV not given, using the configured myopic.adv = %.6g", where, adv)
    else:
        require_positive("adv", adv)

    return pd.DataFrame(
        {
            "ts_event": pd.to_datetime(ts, unit="ns", utc=True),
            "bid_fill": bid_fill.astype(np.int64),
            "ask_fill": ask_fill.astype(np.int64),
            "signed_volume": (bid_fill - ask_fill).astype(np.int64),
            "best_bid": best_bid,
            "best_ask": best_ask,
            "mid_price": mid,
            "Volatility": vol,
            "ADV": np.full(ts.shape[0], float(adv)),
        },
        columns=list(SPEC_FRAME_COLUMNS),
    )
