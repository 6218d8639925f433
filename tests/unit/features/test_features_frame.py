"""The spec's frame, realised volatility (daily and rolling) and ADV."""

from __future__ import annotations

import datetime as dt
import logging
import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
import pytest

from myopic_sor.data import MarketData, VenueData
from myopic_sor.exceptions import (
    ConfigError,
    DataQualityWarning,
    DataValidationError,
)
from myopic_sor.features import (
    SPEC_FRAME_COLUMNS,
    daily_volatility,
    estimate_adv,
    realized_volatility,
    rolling_volatility,
    single_day_adv,
    spec_frame,
    traded_volume,
)

NAN = float("nan")
S = 1_000_000_000
DAY = dt.date(2024, 3, 5)
OPEN = int(pd.Timestamp("2024-03-05 09:30", tz="America/New_York").value)
SESSION_S = 6.5 * 3600


def make_venue(
    name: str,
    t_s: Sequence[float],
    bid: Sequence[tuple[float, int]],
    ask: Sequence[tuple[float, int]],
    *,
    action: str | None = None,
    side: str | None = None,
    price: Sequence[float] | None = None,
    size: Sequence[int] | None = None,
) -> VenueData:
    """One-level venue; times in seconds after the 09:30 open."""
    n = len(t_s)
    ts = OPEN + np.round(np.asarray(t_s, dtype=np.float64) * S).astype(np.int64)
    cols = {
        "ts_event": ts,
        "ts_recv": ts,
        "action": np.frombuffer((action or "N" * n).encode(), dtype=np.uint8),
        "side": np.frombuffer((side or "N" * n).encode(), dtype=np.uint8),
        "price": np.asarray(price if price is not None else [NAN] * n, dtype=np.float64),
        "size": np.asarray(size if size is not None else [0] * n, dtype=np.int64),
        "bid_px_00": np.array([b[0] for b in bid], dtype=np.float64),
        "bid_sz_00": np.array([b[1] for b in bid], dtype=np.int64),
        "ask_px_00": np.array([a[0] for a in ask], dtype=np.float64),
        "ask_sz_00": np.array([a[1] for a in ask], dtype=np.int64),
    }
    return VenueData(name, "TEST", cols, source=f"test:{name}")


def market(*venues: VenueData) -> MarketData:
    return MarketData("TEST", DAY, {v.venue: v for v in venues})


def _two_venues() -> MarketData:
    xa = make_venue(
        "XA",
        [0, 2],
        bid=[(10.00, 100)] * 2,
        ask=[(10.02, 100)] * 2,
        action="NT",
        side="NB",
        price=[NAN, 10.02],
        size=[0, 40],
    )
    xb = make_venue(
        "XB",
        [1, 2, 2],
        bid=[(10.01, 50)] * 3,
        ask=[(10.03, 10)] * 3,
        action="NTT",
        side="NAN",
        price=[NAN, 10.01, 10.01],
        size=[0, 25, 5],
    )
    return market(xa, xb)


# -- spec frame -----------------------------------------------------------------------------------


def test_spec_frame_hand_case() -> None:
    with pytest.warns(DataQualityWarning, match=r"1 of 3 trade\(s\) \(5 shares\)"):
        df = spec_frame(_two_venues(), volatility=0.02, adv=1e6)
    assert tuple(df.columns) == SPEC_FRAME_COLUMNS
    assert str(df["ts_event"].dtype) == "datetime64[ns, UTC]"
    assert df["ts_event"].is_monotonic_increasing
    assert df["ts_event"].iloc[0] == pd.Timestamp("2024-03-05 14:30", tz="UTC")
    assert df["bid_fill"].tolist() == [0, 0, 40, 0, 0]
    assert df["ask_fill"].tolist() == [0, 0, 0, 25, 0]
    assert df["signed_volume"].tolist() == [0, 0, 40, -25, 0]
    assert df["signed_volume"].dtype == np.int64
    assert df["best_bid"].tolist() == [10.00, 10.01, 10.01, 10.01, 10.01]
    assert df["best_ask"].tolist() == [10.02] * 5
    np.testing.assert_allclose(df["mid_price"], [10.01] + [10.015] * 4, atol=1e-12)
    assert (df["Volatility"] == 0.02).all()
    assert (df["ADV"] == 1e6).all()
    # The way the spec's users consume it:
    bars = df.resample("1min", on="ts_event").agg(
        {"signed_volume": "sum", "mid_price": "last", "Volatility": "last", "ADV": "last"}
    )
    assert bars["signed_volume"].tolist() == [15]


def test_spec_frame_single_venue() -> None:
    df = spec_frame(_two_venues(), venue="XA", volatility=0.01, adv=5e5)
    assert df["signed_volume"].tolist() == [0, 40]
    assert df["best_bid"].tolist() == [10.00, 10.00]
    with pytest.raises(ConfigError, match=r"venue='XZ' is not in the data; have XA, XB"):
        spec_frame(_two_venues(), venue="XZ", volatility=0.01, adv=5e5)


def test_single_day_adv_scales_the_day() -> None:
    md = _two_venues()
    # 70 shares over the observed 2 s of a 6.5 h session.
    assert single_day_adv(md) == pytest.approx(70 * SESSION_S / 2)
    assert single_day_adv(md, venue="XB") == pytest.approx(30 * SESSION_S / 1)  # 1 s seen


def test_spec_frame_without_adv_uses_the_configured_one(caplog: pytest.LogCaptureFixture) -> None:
    """No look-ahead: one day's own volume is known only at its close, so it is not used."""
    from myopic_sor.config import default_config

    with caplog.at_level(logging.INFO), pytest.warns(DataQualityWarning):
        df = spec_frame(_two_venues(), volatility=0.02)
    assert (df["ADV"] == default_config().myopic.adv).all()
    assert "ADV not given" in caplog.text


def test_spec_frame_rejects_bad_constants() -> None:
    with pytest.warns(DataQualityWarning), pytest.raises(ConfigError, match="volatility"):
        spec_frame(_two_venues(), volatility=-0.01, adv=1e6)
    with pytest.warns(DataQualityWarning), pytest.raises(ConfigError, match="adv"):
        spec_frame(_two_venues(), volatility=0.01, adv=0.0)


def test_spec_frame_with_an_empty_venue() -> None:
    empty = make_venue("XC", [], [], [])
    xa = make_venue("XA", [0, 1], [(10.0, 1)] * 2, [(10.1, 1)] * 2)
    df = spec_frame(market(xa, empty), volatility=0.01, adv=1e6)
    assert len(df) == 2
    assert df["best_bid"].tolist() == [10.0, 10.0]


def _random_day(seed: int, n: int = 3000, minutes: int = 60) -> MarketData:
    rng = np.random.default_rng(seed)
    venues = []
    for name in ("XA", "XB"):
        t = np.sort(rng.uniform(0, minutes * 60, n))
        mid = 50 * np.exp(np.cumsum(rng.normal(0, 2e-4, n)))
        bid = [
            (round(m - 0.01, 2), int(s)) for m, s in zip(mid, rng.integers(1, 9, n), strict=True)
        ]
        ask = [
            (round(m + 0.01, 2), int(s)) for m, s in zip(mid, rng.integers(1, 9, n), strict=True)
        ]
        venues.append(make_venue(name, t.tolist(), bid, ask))
    return market(*venues)


def test_rolling_volatility_in_frame_is_causal() -> None:
    md = _random_day(3)
    base = spec_frame(md, adv=1e6, window_s=600.0)
    i = 4000
    assert np.isfinite(base["Volatility"].iloc[i])
    t_i = base["ts_event"].iloc[i].value
    changed = []
    rng = np.random.default_rng(11)
    for v in md:
        after = v.ts_event > t_i  # strictly later rows (none shares t_i in this data)
        shock = 1 + rng.uniform(-0.01, 0.01, len(v))
        cols = dict(v.columns)
        cols["bid_px_00"] = np.where(after, v.best_bid * shock, v.best_bid)
        cols["ask_px_00"] = np.where(after, v.best_ask * shock, v.best_ask)
        changed.append(VenueData(v.venue, "TEST", cols))
    mod = spec_frame(market(*changed), adv=1e6, window_s=600.0)
    pd.testing.assert_frame_equal(mod.iloc[: i + 1], base.iloc[: i + 1])
    assert not np.allclose(mod["Volatility"].iloc[-1], base["Volatility"].iloc[-1])


def test_rolling_volatility_is_causal_on_equal_timestamps() -> None:
    """A later row at the same timestamp as a grid point must not change earlier rows."""
    t = [0.0, 60.0, 60.0, 120.0]
    v = make_venue("XA", t, [(99.99, 1)] * 4, [(100.01, 1)] * 4)
    md = market(v)
    ts, mid = v.ts_event, v.mid_price
    lo, hi = md.session_bounds_ns(dt.time(9, 30), dt.time(16, 0))
    base = rolling_volatility(
        ts, mid, session_start_ns=lo, session_end_ns=hi, min_returns=1, window_s=600
    )
    mid2 = mid.copy()
    mid2[2] = 101.0  # row 2 shares t = 60 s with row 1
    mod = rolling_volatility(
        ts, mid2, session_start_ns=lo, session_end_ns=hi, min_returns=1, window_s=600
    )
    np.testing.assert_array_equal(mod[:2], base[:2])
    assert mod[3] != base[3]


# -- volatility -----------------------------------------------------------------------------------


def _vol_venue() -> VenueData:
    # Mid 100 at 0 s, 101 at 60 s, 100 at 150 s and at 180 s.
    return make_venue(
        "XA",
        [0, 60, 150, 180],
        bid=[(99.99, 1), (100.99, 1), (99.99, 1), (99.99, 1)],
        ask=[(100.01, 1), (101.01, 1), (100.01, 1), (100.01, 1)],
    )


def test_realized_volatility_hand_case() -> None:
    md = market(_vol_venue())
    # Grid 0, 60, 120, 180 s: mids 100, 101, 101, 100; returns ln 1.01, 0, -ln 1.01; the 180 s
    # observed are scaled to the 300 s session.
    want = math.sqrt(2 * math.log(1.01) ** 2) * math.sqrt(300 / 180)
    got = daily_volatility(md, session_end=dt.time(9, 35))
    assert got == pytest.approx(want, rel=1e-12)
    assert daily_volatility(md, venue="XA", session_end=dt.time(9, 35)) == pytest.approx(want)
    # A coarser grid (0, 120 s) sees one return ln(101/100) over 120 s.
    got2 = daily_volatility(md, session_end=dt.time(9, 35), sampling_s=120)
    assert got2 == pytest.approx(math.log(1.01) * math.sqrt(300 / 120), rel=1e-12)


def test_rolling_volatility_hand_case() -> None:
    v = _vol_venue()
    lo = OPEN
    hi = OPEN + 300 * S
    at = np.array([OPEN + 60 * S, OPEN + 60 * S + 1, OPEN + 180 * S, OPEN + 240 * S])
    got = rolling_volatility(
        v.ts_event,
        v.mid_price,
        session_start_ns=lo,
        session_end_ns=hi,
        window_s=120,
        min_returns=1,
        at_ns=at,
    )
    lr = math.log(1.01)
    assert np.isnan(got[0])  # the return ending at 60 s is not strictly before 60 s
    assert got[1] == pytest.approx(lr * math.sqrt(300 / 60), rel=1e-12)
    assert got[2] == pytest.approx(math.sqrt(lr**2 * 300 / 120), rel=1e-12)  # ends 60, 120
    assert got[3] == pytest.approx(math.sqrt(lr**2 * 300 / 120), rel=1e-12)  # ends 120, 180
    strict = rolling_volatility(
        v.ts_event,
        v.mid_price,
        session_start_ns=lo,
        session_end_ns=hi,
        window_s=120,
        min_returns=3,
        at_ns=at,
    )
    assert np.isnan(strict).all()


def test_volatility_skips_invalid_mids() -> None:
    v = make_venue(
        "XA",
        [0, 30, 60, 120],
        bid=[(99.99, 1), (NAN, 0), (99.99, 1), (100.99, 1)],
        ask=[(100.01, 1), (100.01, 1), (100.01, 1), (101.01, 1)],
    )
    sigma = realized_volatility(
        v.ts_event, v.mid_price, session_start_ns=OPEN, session_end_ns=OPEN + 120 * S
    )
    # Grid 0, 60, 120: mids 100, 100, 101 (the one-sided book at 30 s is skipped).
    assert sigma == pytest.approx(math.log(1.01))


def test_volatility_errors() -> None:
    v = _vol_venue()
    with pytest.raises(DataValidationError, match="no mid-price return"):
        realized_volatility(
            v.ts_event, v.mid_price, session_start_ns=OPEN + 400 * S, session_end_ns=OPEN + 900 * S
        )
    with pytest.raises(ConfigError, match="sampling_s"):
        realized_volatility(
            v.ts_event, v.mid_price, session_start_ns=OPEN, session_end_ns=OPEN + S, sampling_s=0
        )
    with pytest.raises(ConfigError, match="must be after"):
        realized_volatility(v.ts_event, v.mid_price, session_start_ns=OPEN, session_end_ns=OPEN)
    with pytest.raises(DataValidationError, match="not sorted at row 1"):
        realized_volatility(
            v.ts_event[::-1], v.mid_price, session_start_ns=OPEN, session_end_ns=OPEN + S
        )
    with pytest.raises(DataValidationError, match="equal length"):
        realized_volatility(
            v.ts_event, v.mid_price[:2], session_start_ns=OPEN, session_end_ns=OPEN + S
        )


# -- volume and ADV -------------------------------------------------------------------------------


def test_traded_volume_bounds() -> None:
    md = _two_venues()
    assert traded_volume(md) == 70
    assert traded_volume(md["XB"]) == 30
    assert traded_volume(md, end_ns=OPEN + S) == 0
    assert traded_volume(md, start_ns=OPEN + 2 * S, end_ns=OPEN + 2 * S) == 70


def test_single_day_adv_without_session_data() -> None:
    v = make_venue("XA", [-100, -50], [(10.0, 1)] * 2, [(10.1, 1)] * 2)
    with pytest.raises(DataValidationError, match="no event inside the session"):
        single_day_adv(market(v))


def test_estimate_adv() -> None:
    assert estimate_adv([1.2e6, 0.9e6, 1.05e6]) == pytest.approx(1.05e6)
    assert estimate_adv(np.array([3.0, 5.0])) == 4.0
    assert estimate_adv([1.2e6], fallback=1e6) == 1e6
    assert estimate_adv([], fallback=1e6) == 1e6
    with pytest.warns(DataQualityWarning, match="1 day"):
        assert estimate_adv([7e5]) == 7e5
    with pytest.raises(DataValidationError, match="no daily volume"):
        estimate_adv([])
    with pytest.raises(DataValidationError, match=r"days_volumes\[1\]"):
        estimate_adv([1e6, -5.0])
    with pytest.raises(DataValidationError, match="is 0"):
        estimate_adv([0.0, 0.0])
    with pytest.raises(ConfigError, match="fallback"):
        estimate_adv([], fallback=-1.0)
