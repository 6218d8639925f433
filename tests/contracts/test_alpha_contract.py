"""Conformance suite run over every alpha forecaster (MATH.md §2: α from data up to t only)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import numpy as np
import pytest

from myopic_sor.alpha import (
    LOOKAHEAD_LABEL,
    AlphaCurve,
    Forecaster,
    OFIRegressionAlpha,
    OracleAlpha,
    TrueAlpha,
    ZeroAlpha,
)
from myopic_sor.data import MarketData, SyntheticMarket, VenueData, make_synthetic_config
from myopic_sor.exceptions import ConfigError, NotFittedError

S = 1_000_000_000


@pytest.fixture(scope="module")
def market() -> SyntheticMarket:
    cfg = make_synthetic_config(
        session_end=dt.time(9, 45), flow_tilt=1.0, sigma_daily=0.003, alpha_sd=0.5
    )
    m = SyntheticMarket(cfg, seed=7)
    m.generate()
    return m


@pytest.fixture(scope="module")
def md(market: SyntheticMarket) -> MarketData:
    return market.generate()


Factory = Callable[[SyntheticMarket], Forecaster]

FACTORIES: dict[str, Factory] = {
    "zero": lambda m: ZeroAlpha(),
    "ofi": lambda m: OFIRegressionAlpha(
        lookback_s=300, bucket_s=5, horizons_s=(5, 15, 30, 60), windows_s=(5, 30, 120)
    ),
    "ofi-fixed": lambda m: OFIRegressionAlpha(
        lookback_s=300, bucket_s=5, horizons_s=(5, 15, 30, 60), windows_s=(5, 30), rolling=False
    ),
    "true": TrueAlpha.from_market,
    "oracle-latent": OracleAlpha.from_market,
    "oracle-mid": lambda m: OracleAlpha(),
}
CAUSAL = [k for k in FACTORIES if not k.startswith("oracle")]


def _alter_after(md: MarketData, t_ns: int) -> MarketData:
    """Every event after t gets different prices and sizes (and a later one is dropped)."""
    venues = {}
    for name, v in md.venues.items():
        after = v.ts_event > t_ns
        cols = {}
        for col, arr in v.columns.items():
            a = np.array(arr, copy=True)
            if col.endswith(("_px_00", "_px_01", "_px_02")) or col == "price":
                a[after] = a[after] + 0.37
            elif "_sz_" in col or col == "size":
                a[after] = a[after] * 3 + 1
            cols[col] = a
        keep = ~after | (np.arange(len(v)) % 5 != 0)
        venues[name] = VenueData(name, v.symbol, {k: a[keep] for k, a in cols.items()}, v.source)
    return MarketData(md.symbol, md.date, venues, md.timezone)


@pytest.mark.parametrize("key", list(FACTORIES))
def test_protocol_flags_and_fit_contract(key: str, market: SyntheticMarket, md: MarketData) -> None:
    f = FACTORIES[key](market)
    assert isinstance(f, Forecaster)
    assert isinstance(f.lookahead, bool)
    assert isinstance(f.uses_latent_state, bool)
    assert f.lookahead == key.startswith("oracle")
    assert f.uses_latent_state == (key == "true")
    t = md.first_ts + 400 * S
    with pytest.raises(NotFittedError):
        f.predict(md, t, t + 60 * S)
    assert f.fit(md, t) is f


@pytest.mark.parametrize("key", list(FACTORIES))
def test_curve_contract(key: str, market: SyntheticMarket, md: MarketData) -> None:
    f = FACTORIES[key](market).fit(md, md.first_ts + 400 * S)
    t = md.first_ts + 450 * S
    curve = f.predict(md, t, t + 240 * S)
    assert isinstance(curve, AlphaCurve)
    assert curve.t0_ns == t
    assert curve.horizon_end_ns == t + 240 * S
    assert curve.times_s[0] == 0.0
    assert curve.horizon_s == pytest.approx(240.0)
    assert curve(240.0) == 0.0
    s = np.linspace(0.0, 240.0, 97)
    for values in (curve(s), curve.d1(s), curve.d2(s)):
        assert np.all(np.isfinite(values))
    assert curve.lookahead == f.lookahead
    assert curve.uses_latent_state == f.uses_latent_state
    assert (LOOKAHEAD_LABEL in repr(curve)) == f.lookahead
    assert (LOOKAHEAD_LABEL in repr(f)) == f.lookahead
    with pytest.raises(ConfigError, match="horizon is already over"):
        f.predict(md, t, t - S)
    zero_h = f.predict(md, t, t)
    assert zero_h.horizon_s == 0.0
    assert zero_h(0.0) == 0.0


@pytest.mark.parametrize("key", CAUSAL)
def test_causal_forecasters_ignore_the_future(
    key: str, market: SyntheticMarket, md: MarketData
) -> None:
    t_fit = md.first_ts + 400 * S
    for t in (md.first_ts + 430 * S + 123_456, md.first_ts + 600 * S):
        full = FACTORIES[key](market).fit(md, t_fit).predict(md, t, t + 300 * S)
        for other in (md.between(None, t), _alter_after(md, t)):
            g = FACTORIES[key](market).fit(other, t_fit).predict(other, t, t + 300 * S)
            np.testing.assert_array_equal(g.times_s, full.times_s)
            np.testing.assert_array_equal(g.alpha, full.alpha)
            np.testing.assert_array_equal(g.d1(g.times_s), full.d1(full.times_s))
            np.testing.assert_array_equal(g.d2(g.times_s), full.d2(full.times_s))


def test_the_causality_check_catches_the_oracle(market: SyntheticMarket, md: MarketData) -> None:
    # The same check, run on the realised-mid oracle, must see the future change its curve.
    t = md.first_ts + 430 * S
    oracle = OracleAlpha().fit(md, t)
    full = oracle.predict(md, t, t + 300 * S)
    altered = oracle.predict(_alter_after(md, t), t, t + 300 * S)
    assert not np.array_equal(full.alpha, altered.alpha)
    assert full.lookahead
    assert altered.lookahead
