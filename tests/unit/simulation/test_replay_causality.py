"""No look-ahead: changing the data after t changes no fill stamped at or before t."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from myopic_sor.data import MarketData, VenueData, generate_market_data
from myopic_sor.simulation import ConstantLatency, ReplayExchange

NS = 10**9


def _perturb_after(md: MarketData, t_cut: int, seed: int) -> MarketData:
    """The same data up to ``t_cut``; afterwards sizes, prices and trade sides scrambled."""
    rng = np.random.default_rng(seed)
    venues = {}
    for v in md:
        cols = {k: np.array(a, copy=True) for k, a in v.columns.items()}
        late = cols["ts_event"] > t_cut
        n = int(late.sum())
        for name, col in cols.items():
            if "_sz_" in name or name == "size":
                col[late] = rng.integers(0, 2000, n)
            elif "_px_" in name or name == "price":
                col[late] += 0.01 * rng.integers(-3, 4, n)
        cols["side"][late] = rng.choice(np.array([ord("A"), ord("B")], dtype=np.uint8), n)
        venues[v.venue] = VenueData(v.venue, v.symbol, cols, v.source)
    return MarketData(md.symbol, md.date, venues, md.timezone)


def _script(md: MarketData, ex: ReplayExchange, t_cut: int) -> pd.DataFrame:
    """The same orders whatever the data after t_cut: times fixed, prices from data <= t."""
    t0 = md.first_ts
    for k in range(8):
        t = t0 + (3 + 5 * k) * NS
        if t > t_cut:
            break
        ex.advance_to(t)
        for j, v in enumerate(md.venue_names):
            view = md[v].between(None, t)
            bid, ask = float(view.best_bid[-1]), float(view.best_ask[-1])
            ex.submit_limit(t, v, "buy", bid, 300, cancel_after_ns=(4 + j) * NS)
            ex.submit_limit(t, v, "sell", ask, 200)
            if k % 3 == 0:
                ex.submit_market(t, v, "buy" if j % 2 else "sell", 150)
    ex.advance_to(md.last_ts)
    f = ex.fills_frame()
    return f[f["ts_event"] <= t_cut].reset_index(drop=True)


@pytest.mark.parametrize("queue_model", ["risk-averse", "prob-power:2"])
def test_data_after_t_changes_nothing_before_t(queue_model: str) -> None:
    md, _ = generate_market_data(seed=8, session_end=dt.time(9, 31))
    t_cut = md.first_ts + 30 * NS
    changed = _perturb_after(md, t_cut, seed=1)
    cut = md.between(None, t_cut)
    out = []
    for data in (md, changed, cut):
        ex = ReplayExchange(data, queue_model=queue_model, latency=ConstantLatency(50_000))
        out.append(_script(md, ex, t_cut))
    assert len(out[0]) > 20
    pd.testing.assert_frame_equal(out[0], out[1])
    pd.testing.assert_frame_equal(out[0], out[2])
    # ... while the data after the cut do change what happens after it (the test can fail)
    after = []
    for data in (md, changed):
        ex = ReplayExchange(data, depth_policy=("penalty", 0.05))
        for v in md.venue_names:
            ex.submit_market(t_cut + 5 * NS, v, "buy", 500)
        after.append(ex.fills_frame())
    assert not after[0].equals(after[1])
