"""The myopic run's frame cache: growing cuts of one frame convert to exactly what a fresh
conversion gives, a different or rewritten frame is converted afresh, and ZeroAlpha's
shortcut decides as the forecaster's own zero curve does."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest

from myopic_sor.alpha import ZeroAlpha
from myopic_sor.config import RiskConfig
from myopic_sor.data import MarketData, generate_market_data
from myopic_sor.exceptions import DataValidationError
from myopic_sor.features import spec_frame
from myopic_sor.scheduling import MyopicParameters, MyopicScheduler
from myopic_sor.scheduling._myopic import _Frame, _frame, _FrameCache

NS = 1_000_000_000
T0 = 1_743_600_600 * NS


def _random_frame(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    ts = T0 + np.cumsum(rng.integers(0, 3 * NS, n))
    mid = 10.0 + rng.normal(0, 0.01, n)
    mid[rng.random(n) < 0.1] = np.nan
    mid[rng.random(n) < 0.02] = -1.0  # not a price: left out like NaN
    return pd.DataFrame(
        {
            "ts_event": pd.to_datetime(ts, unit="ns", utc=True),
            # fractional, some negative: the running sum must continue bit for bit
            "bid_fill": rng.normal(50.0, 80.0, n),
            "ask_fill": rng.exponential(37.3, n),
            "mid_price": mid,
        }
    )


def _reference(df: pd.DataFrame) -> _Frame:
    """The conversion straight from pandas, row 0 to the end (as before the cache)."""
    ts = df["ts_event"].to_numpy(dtype="datetime64[ns]").view(np.int64)
    mid = df["mid_price"].to_numpy(dtype=np.float64, na_value=np.nan)
    ok = np.isfinite(mid) & (mid > 0)
    vol = df["bid_fill"].to_numpy(dtype=np.float64, na_value=0.0) + df["ask_fill"].to_numpy(
        dtype=np.float64, na_value=0.0
    )
    return _Frame(ts[ok], mid[ok], ts, np.cumsum(np.maximum(vol, 0.0)))


def _same(a: _Frame, b: _Frame) -> None:
    assert a.ts_ns.tobytes() == b.ts_ns.tobytes()
    assert a.mid.tobytes() == b.mid.tobytes()
    for x, y in ((a.vol_ts_ns, b.vol_ts_ns), (a.cum_vol, b.cum_vol)):
        assert x is not None
        assert y is not None
        assert x.tobytes() == y.tobytes()


def test_growing_cuts_convert_as_fresh_frames() -> None:
    df = _random_frame(5_000)
    cache = _FrameCache()
    for k in (0, 1, 2, 17, 17, 1_000, 1_001, 3_333, 5_000):
        cut = df.iloc[:k]
        got = cache.convert(cut)
        _same(got, _reference(cut))
    assert cache._n == 5_000  # extended, not rebuilt: the same frame throughout


def test_other_frames_and_shorter_cuts_are_converted_afresh() -> None:
    a, b = _random_frame(2_000, seed=1), _random_frame(2_000, seed=2)
    cache = _FrameCache()
    cache.convert(a.iloc[:1_500])
    # nullable columns (pd.NA: no volume, no price) are copied by pandas at every lookup
    c = b.astype({"bid_fill": "Float64", "mid_price": "Float64"})
    c.loc[c.index[::7], ["bid_fill", "mid_price"]] = pd.NA
    c["ask_fill"] = np.arange(len(c)) % 50  # integer shares
    cuts = (b.iloc[:1_000], b.iloc[:1_200], a.iloc[:700], a.iloc[:300], a.iloc[::2])
    for cut in (*cuts, c.iloc[:900], c.iloc[:1_900]):
        _same(cache.convert(cut), _reference(cut))


def test_a_write_to_the_frame_is_seen() -> None:
    """Copy-on-write (pandas ≥ 3) moves a written frame to new memory: a new frame here."""
    if int(pd.__version__.split(".")[0]) < 3:
        pytest.skip("pandas < 3: writes to a frame may land in the memory of its cuts")
    df = _random_frame(1_000, seed=3)
    cache = _FrameCache()
    cache.convert(df.iloc[:500])
    df.loc[10, "mid_price"] = 123.0  # a row the cache already converted
    df.loc[10, "bid_fill"] = 1e6
    cut = df.iloc[:800]
    got = cache.convert(cut)
    _same(got, _reference(cut))
    assert 123.0 in got.mid


def test_unsorted_new_rows_name_their_row() -> None:
    df = _random_frame(100, seed=4)
    ts = df["ts_event"].to_numpy().copy()
    ts[60] = ts[40]
    df["ts_event"] = ts
    cache = _FrameCache()
    cache.convert(df.iloc[:50])
    with pytest.raises(DataValidationError, match="row 60 is before row 59"):
        _frame(df.iloc[:80])
    with pytest.raises(DataValidationError, match="row 60 is before row 59"):
        cache.convert(df.iloc[:80])
    _same(cache.convert(df.iloc[:55]), _reference(df.iloc[:55]))


class _PlainZero(ZeroAlpha):
    """ZeroAlpha through the forecaster's own fit and predict (the shortcut is for the class
    itself only)."""


@pytest.fixture(scope="module")
def md() -> MarketData:
    data, _ = generate_market_data(seed=3, session_end=dt.time(9, 45))
    return data


def test_run_on_growing_cuts_and_the_zero_shortcut_decide_as_before(md: MarketData) -> None:
    frame = spec_frame(md, volatility=0.01, adv=2e5)
    t0 = md.first_ts + 3 * 60 * NS
    t1 = t0 + 10 * 60 * NS
    params = MyopicParameters(lambda_value=800.0, beta=4.0, volatility=0.01, adv=2e5)
    risk = RiskConfig(participation_cap=0.05)
    fast = MyopicScheduler(params, risk=risk, eval_every_s=5.0).start(t0, t1, 3_000)
    slow = MyopicScheduler(params, risk=risk, alpha=_PlainZero(), eval_every_s=5.0)
    whole = _frame(frame)
    ref = slow.start(t0, t1, 3_000)
    ts = frame["ts_event"].to_numpy(dtype="datetime64[ns]").view(np.int64)
    capped = 0
    for t in fast.times_ns:
        cut = frame.iloc[: int(np.searchsorted(ts, t, side="right"))]
        a = fast.step(int(t), frame=cut, market_data=md)
        b = ref.step(int(t), frame=whole, market_data=md)
        assert a.keys() == b.keys()
        for key, value in a.items():  # NaN (ν of the last decision) equals NaN here
            nan = isinstance(value, float) and math.isnan(value)
            assert value == b[key] or (nan and math.isnan(b[key])), key
        capped += "participation" in a["binding"]
    assert capped  # the volume cap, read from the converted cuts, was in play
    assert fast._frames._n == len(frame.iloc[: int(np.searchsorted(ts, t1, side="right"))])
