"""Hand-made books for the simulator tests: every fill can be computed by hand.

The base book (3 levels): bids 9.99 x 300, 9.98 x 500, 9.97 x 700; asks 10.01 x 200,
10.02 x 400, 10.03 x 600. Times are given in seconds from 0 (the epoch; only differences
matter).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np

from myopic_sor.data import MarketData, VenueData

S = 1_000_000_000

BASE: dict[str, list[float]] = {
    "bid_px": [9.99, 9.98, 9.97],
    "bid_sz": [300, 500, 700],
    "ask_px": [10.01, 10.02, 10.03],
    "ask_sz": [200, 400, 600],
}


def row(ts: float, action: str = "A", **kw: Any) -> dict[str, Any]:
    """One event at ``ts`` seconds; the book after it is BASE with ``kw`` replacing sides."""
    r: dict[str, Any] = {"ts": ts, "action": action, "side": "B", "price": np.nan, "size": 0}
    r.update({k: list(v) for k, v in BASE.items()})
    r.update(kw)
    return r


def trade(ts: float, price: float, size: int, aggressor: str = "A", **kw: Any) -> dict[str, Any]:
    """A trade row (aggressor "A" = a sell hitting the bids, "B" = a buy lifting the asks)."""
    return row(ts, "T", side=aggressor, price=price, size=size, **kw)


def book(rows: list[dict[str, Any]], venue: str = "XNAS", levels: int = 3) -> VenueData:
    """A VenueData from rows made by :func:`row` (missing levels are empty)."""
    cols: dict[str, np.ndarray] = {
        "ts_event": np.array([round(r["ts"] * S) for r in rows], dtype=np.int64),
        "action": np.array([ord(r["action"]) for r in rows], dtype=np.uint8),
        "side": np.array([ord(r["side"]) for r in rows], dtype=np.uint8),
        "price": np.array([r["price"] for r in rows], dtype=np.float64),
        "size": np.array([r["size"] for r in rows], dtype=np.int64),
    }
    cols["ts_recv"] = cols["ts_event"].copy()
    for lvl in range(levels):
        for side in ("bid", "ask"):
            px = [r[f"{side}_px"][lvl] if lvl < len(r[f"{side}_px"]) else np.nan for r in rows]
            sz = [r[f"{side}_sz"][lvl] if lvl < len(r[f"{side}_sz"]) else 0 for r in rows]
            cols[f"{side}_px_{lvl:02d}"] = np.array(px, dtype=np.float64)
            cols[f"{side}_sz_{lvl:02d}"] = np.array(sz, dtype=np.int64)
    return VenueData(venue=venue, symbol="TEST", columns=cols)


def market(*venues: VenueData) -> MarketData:
    """A MarketData of the given venues."""
    return MarketData(symbol="TEST", date=dt.date(2025, 4, 2), venues={v.venue: v for v in venues})


def one_venue(rows: list[dict[str, Any]]) -> MarketData:
    """A single-venue (XNAS) MarketData."""
    return market(book(rows))
