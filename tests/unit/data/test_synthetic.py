"""Tests of the synthetic multi-venue market (myopic_sor.data._synthetic)."""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from myopic_sor.data._layout import layout_path, parse_layout_name
from myopic_sor.data._schema import SIDE_ASK, SIDE_BID, MarketData, VenueData
from myopic_sor.data._synthetic import (
    EventChunk,
    SyntheticConfig,
    SyntheticMarket,
    SyntheticVenueConfig,
    generate_market_data,
    lambda_tau,
)
from myopic_sor.exceptions import ConfigError, DataValidationError

NS = 1_000_000_000


def _cfg(minutes: int = 2, **kw: object) -> SyntheticConfig:
    end = (dt.datetime(2025, 4, 2, 9, 30) + dt.timedelta(minutes=minutes)).time()
    return SyntheticConfig(session_end=end, **kw)  # type: ignore[arg-type]


def _quiet_venues(n: int = 3) -> tuple[SyntheticVenueConfig, ...]:
    """Venues with no background market orders (impact then only comes from us)."""
    names = ("XNAS", "BATS", "ARCX")[:n]
    return tuple(
        SyntheticVenueConfig(name=x, activity_share=1.0, market_rate_per_s=0.0) for x in names
    )


def _assert_chunks_equal(a: EventChunk, b: EventChunk) -> None:
    assert len(a) == len(b)
    for name in a.__dataclass_fields__:
        x, y = getattr(a, name), getattr(b, name)
        if isinstance(x, np.ndarray):
            assert x.dtype == y.dtype, name
            assert np.array_equal(x, y, equal_nan=True), name


def _ols_slope(data: MarketData, cfg: SyntheticConfig, tau_s: float) -> float:
    t0, t1 = data.session_bounds_ns(cfg.session_start, cfg.session_end)
    edges = np.arange(t0, t1 + 1, int(tau_s * NS))
    mids = []
    flow = np.zeros(len(edges) - 1)
    for v in data:
        i = np.searchsorted(v.ts_event, edges, side="right") - 1
        mids.append(v.mid_price[np.maximum(i, 0)])
        m = v.trades_mask()
        q = np.where(v["side"][m] == SIDE_BID, 1.0, -1.0) * v["size"][m]
        b = np.searchsorted(edges, v.ts_event[m], side="right") - 1
        ok = (b >= 0) & (b < len(flow))
        flow += np.bincount(b[ok], weights=q[ok], minlength=len(flow))
    dp = np.diff(np.nanmean(np.vstack(mids), axis=0))
    x = flow * cfg.sigma_daily / cfg.adv_shares
    return float(np.polyfit(x, dp, 1)[0])


# -- config ---------------------------------------------------------------------------------------
def test_config_defaults_are_a_large_cap_day() -> None:
    cfg = SyntheticConfig()
    assert cfg.symbol == "AAPL"
    assert cfg.date == dt.date(2025, 4, 2)
    assert [v.name for v in cfg.venues] == ["XNAS", "BATS", "ARCX"]
    assert cfg.session_s == 23_400.0
    # a 1,000-share market order moves the fair price by 0.5..2 ticks
    ticks = cfg.lambda_per_share * 1000 / cfg.tick_size
    assert 0.5 <= ticks <= 2.0
    assert cfg.beta_per_s == pytest.approx(math.log(2) / cfg.impact_half_life_s)


def test_config_is_frozen_and_strict() -> None:
    with pytest.raises(ValidationError, match="impact_lamda"):
        SyntheticConfig(impact_lamda=1.0)  # type: ignore[call-arg]
    with pytest.raises(ValidationError, match="tick_size"):
        SyntheticConfig(tick_size=0.003)
    with pytest.raises(ValidationError, match="duplicate"):
        SyntheticConfig(
            venues=(SyntheticVenueConfig(name="XNAS"), SyntheticVenueConfig(name="XNAS"))
        )
    cfg = SyntheticConfig()
    with pytest.raises(ValidationError):
        cfg.seed = 3  # type: ignore[misc]


# -- determinism and parity ------------------------------------------------------------------
def test_same_seed_gives_identical_data_and_other_seed_differs() -> None:
    cfg = _cfg(2)
    a = SyntheticMarket(cfg, seed=7).advance_to(SyntheticMarket(cfg).session_end_ns)
    b = SyntheticMarket(cfg, seed=7).advance_to(SyntheticMarket(cfg).session_end_ns)
    c = SyntheticMarket(cfg, seed=8).advance_to(SyntheticMarket(cfg).session_end_ns)
    _assert_chunks_equal(a, b)
    assert len(a) > 1000
    assert len(a) != len(c) or not np.array_equal(a.price, c.price, equal_nan=True)


def _scripted_run(use_numba: bool) -> tuple[SyntheticMarket, list[EventChunk], list[object]]:
    cfg = _cfg(1)
    m = SyntheticMarket(cfg, seed=5, use_numba=use_numba)
    t0 = m.session_start_ns
    chunks = [m.advance_to(t0 + 5 * NS)]
    ask = m.best_price("ARCX", "ask")
    oid = m.place_limit_order("ARCX", "sell", ask, 200, t0 + 5 * NS)
    res = m.submit_market_order("BATS", "buy", 3000, t0 + 7 * NS)
    chunks.append(m.advance_to(t0 + 20 * NS))
    cancelled = m.cancel_limit_order(oid, t0 + 21 * NS)
    chunks.append(m.advance_to(t0 + 25 * NS))
    ev = m.pop_limit_order_events()
    return m, chunks, [res.prices, res.sizes, cancelled, ev.order_id, ev.size, ev.kind]


def test_numba_kernel_matches_python_twin() -> None:
    m_nb, chunks_nb, extra_nb = _scripted_run(True)
    m_py, chunks_py, extra_py = _scripted_run(False)
    for a, b in zip(chunks_nb, chunks_py, strict=True):
        _assert_chunks_equal(a, b)
    assert sum(len(c) for c in chunks_nb) > 500
    assert np.array_equal(m_nb.state.sec, m_py.state.sec, equal_nan=True)
    np.testing.assert_array_equal(m_nb.state.fstate, m_py.state.fstate)
    for x, y in zip(extra_nb, extra_py, strict=True):
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))


def test_chunking_does_not_change_the_path() -> None:
    cfg = _cfg(1)
    one = SyntheticMarket(cfg, seed=3)
    whole = one.advance_to(one.session_end_ns)
    many = SyntheticMarket(cfg, seed=3)
    parts = [many.advance_to(many.session_start_ns + k * 7_300_000_000) for k in range(1, 8)]
    parts.append(many.advance_to(many.session_end_ns))
    ts = np.concatenate([p.ts_event for p in parts])
    px = np.concatenate([p.price for p in parts])
    np.testing.assert_array_equal(ts, whole.ts_event)
    np.testing.assert_array_equal(px, whole.price)


def test_generate_with_progress_gives_the_same_data() -> None:
    cfg = _cfg(12)  # more than two five-minute slices
    plain = SyntheticMarket(cfg, seed=5).generate()
    calls: list[tuple[int, int]] = []
    sliced = SyntheticMarket(cfg, seed=5).generate(progress=lambda d, t: calls.append((d, t)))
    assert len(calls) == 3
    assert calls[-1][0] == calls[-1][1] == 12 * 60 * NS
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)
    for name in plain.venue_names:
        for col, arr in plain[name].columns.items():
            np.testing.assert_array_equal(arr, sliced[name][col], err_msg=f"{name}.{col}")


# -- invariants of the generated data -------------------------------------------------------------
@pytest.fixture(scope="module")
def five_minutes() -> tuple[MarketData, dict[str, object], SyntheticConfig]:
    cfg = _cfg(5)
    market = SyntheticMarket(cfg, seed=11)
    return market.generate(), market.truth(), cfg


def test_generated_data_invariants(
    five_minutes: tuple[MarketData, dict[str, object], SyntheticConfig],
) -> None:
    data, _, cfg = five_minutes
    assert data.venue_names == ("ARCX", "BATS", "XNAS")
    tpu = round(1 / cfg.tick_size)
    for v in data:
        assert isinstance(v, VenueData)
        assert v.levels == 10
        assert v.has_counts
        ts = v.ts_event
        assert np.all(np.diff(ts) >= 0)
        lo, hi = data.session_bounds_ns(cfg.session_start, cfg.session_end)
        assert ts[0] >= lo
        assert ts[-1] <= hi
        assert np.all(v["ts_recv"] > ts)
        bid, ask = v.best_bid, v.best_ask
        # a side is empty only right after a rare sweep of every internal level
        empty = np.isnan(bid) | np.isnan(ask)
        assert np.all(v.trades_mask()[empty])
        assert empty.mean() < 1e-3
        assert np.all(bid[~empty] < ask[~empty])
        for side in ("bid", "ask"):
            assert np.all(v.level_matrix("sz", side) >= 0)
            px = v.level_matrix("px", side)
            ok = ~np.isnan(px)
            np.testing.assert_allclose(px[ok] * tpu, np.round(px[ok] * tpu), atol=1e-6)
            # levels are strictly ordered away from the touch
            step = np.diff(px, axis=1)
            good = ~np.isnan(step)
            assert np.all(step[good] < 0) if side == "bid" else np.all(step[good] > 0)
        assert np.all(v["size"] > 0)
        # every trade executes at the touch of the book just before it (levels walked in order)
        t_idx = np.flatnonzero(v.trades_mask())
        t_idx = t_idx[t_idx > 0]
        buy = v["side"][t_idx] == SIDE_BID
        prev_touch = np.where(buy, ask[t_idx - 1], bid[t_idx - 1])
        np.testing.assert_allclose(v["price"][t_idx], prev_touch, rtol=0, atol=1e-9)
        assert set(np.unique(v["side"][v.trades_mask()])) <= {SIDE_BID, SIDE_ASK}


def test_event_counts_follow_activity_share(
    five_minutes: tuple[MarketData, dict[str, object], SyntheticConfig],
) -> None:
    data, truth, cfg = five_minutes
    shares = {v.name: v.activity_share for v in cfg.venues}
    total = sum(shares.values())
    n_orders = {}
    for v in data:
        first_fill = v.trades_mask() & (v["depth"] == 0)
        n_orders[v.venue] = int(first_fill.sum())
    all_orders = sum(n_orders.values())
    for name, n in n_orders.items():
        assert n / all_orders == pytest.approx(shares[name] / total, rel=0.2)
    counts = truth["event_counts"]
    assert isinstance(counts, dict)
    for v in data:
        assert counts[v.venue]["total"] == len(v)
        assert counts[v.venue]["trade"] == int(v.trades_mask().sum())


# -- reactivity: our orders go through the same impact model ---------------------------------
def test_market_order_moves_price_by_lambda_u_and_decays() -> None:
    cfg = _cfg(6, venues=_quiet_venues(), sigma_daily=0.015, flow_tilt=0.0)
    m = SyntheticMarket(cfg, seed=2)
    t = m.session_start_ns + 30 * NS
    m.advance_to(t)
    res = m.submit_market_order("XNAS", "buy", 10_000, t)
    assert res.executed == 10_000
    assert res.unfilled == 0
    jump = res.impact_after - res.impact_before
    u = 10_000 * cfg.sigma_daily / cfg.adv_shares
    assert jump == pytest.approx(cfg.impact_lambda * u, rel=1e-12)
    assert res.fair_after - res.fair_before == pytest.approx(jump, rel=1e-9)
    # fills walk the ask side from the touch upwards, VWAP in between
    assert np.all(np.diff(res.prices) > 0)
    assert res.sizes.sum() == 10_000
    assert res.prices[0] <= res.avg_price <= res.prices[-1]
    # every venue's book re-centres on the new fair price (one shared fair price)
    chunk = m.advance_to(t)
    assert chunk.own.sum() == len(res.prices)
    for vi in range(3):
        rows = np.flatnonzero(chunk.venue == vi)
        mid = 0.5 * (chunk.bid_px[rows[-1], 0] + chunk.ask_px[rows[-1], 0])
        assert abs(mid - res.fair_after) <= 1.5 * cfg.tick_size
    # no other market orders: the impact decays as exp(-beta t)
    m.advance_to(t + 300 * NS)
    path = m.latent_path()
    after = path[(path["ts_event"] > t) & (path["ts_event"] <= t + 300 * NS)]
    dt_s = (after["ts_event"].to_numpy() - t) / NS
    expected = res.impact_after * np.exp(-cfg.beta_per_s * dt_s)
    np.testing.assert_allclose(after["impact"].to_numpy(), expected, rtol=1e-9)
    half = path.loc[path["ts_event"] == t + int(cfg.impact_half_life_s) * NS, "impact"]
    assert float(half.iloc[0]) == pytest.approx(0.5 * res.impact_after, rel=1e-9)


def test_limit_order_queue_fill_and_cancel() -> None:
    # a still price: no diffusion, no drift, no impact (only the queue mechanics move)
    cfg = _cfg(2, venues=_quiet_venues(2), sigma_daily=1e-7, alpha_sd=1e-9, impact_lambda=0.0)
    m = SyntheticMarket(cfg, seed=4)
    t = m.session_start_ns + 10 * NS
    m.advance_to(t)
    bid = m.best_price("BATS", "bid")
    oid = m.place_limit_order("BATS", "buy", bid, 300, t)
    st = m.limit_order_status(oid)
    assert st.status == "resting"
    ahead = st.queue_ahead
    assert ahead > 0
    assert ahead == int(ahead)
    res = m.submit_market_order("BATS", "sell", int(ahead) + 100, t)
    assert res.prices[0] == bid
    ev = m.pop_limit_order_events()
    assert list(ev.kind) == [1]
    assert list(ev.size) == [100]
    assert ev.price[0] == bid
    st = m.limit_order_status(oid)
    assert (st.remaining, st.status, st.queue_ahead) == (200, "resting", 0.0)
    # our shares are displayed and background cancels never remove them
    m.advance_to(t + 20 * NS)
    assert m.limit_order_status(oid).remaining == 200
    assert m.cancel_limit_order(oid, t + 20 * NS) == 200
    ev = m.pop_limit_order_events()
    assert list(ev.kind) == [4]
    assert m.limit_order_status(oid).status == "cancelled"
    assert m.cancel_limit_order(oid, t + 21 * NS) == 0


def test_limit_order_is_picked_off_when_our_market_order_moves_the_price() -> None:
    cfg = _cfg(2, venues=_quiet_venues(2))
    m = SyntheticMarket(cfg, seed=4)
    t = m.session_start_ns + 10 * NS
    m.advance_to(t)
    ask = m.best_price("XNAS", "ask")
    oid = m.place_limit_order("XNAS", "sell", ask, 100, t)
    # a large buy on the OTHER venue moves the shared fair price several ticks up
    res = m.submit_market_order("BATS", "buy", 8_000, t)
    assert res.unfilled == 0
    assert res.fair_after - res.fair_before > 3 * cfg.tick_size
    st = m.limit_order_status(oid)
    assert st.status == "filled"
    ev = m.pop_limit_order_events()
    assert list(ev.kind) == [2]
    assert ev.price[0] == ask


def test_bad_requests_raise_with_context() -> None:
    m = SyntheticMarket(_cfg(1), seed=1)
    t = m.session_start_ns + NS
    m.advance_to(t)
    with pytest.raises(ConfigError, match="marketable"):
        m.place_limit_order("XNAS", "buy", m.best_price("XNAS", "ask"), 100, t)
    with pytest.raises(ConfigError, match="unknown venue"):
        m.submit_market_order("XNYS", 1, 100, t)
    with pytest.raises(ConfigError, match="tick grid"):
        m.place_limit_order("XNAS", "buy", 100.005, 100, t)
    with pytest.raises(DataValidationError, match="before the market clock"):
        m.advance_to(t - 1)
    with pytest.raises(DataValidationError, match="after the session end"):
        m.advance_to(m.session_end_ns + 1)


# -- the lab: λ is recoverable --------------------------------------------------------------------
def test_lambda_recovered_by_bucket_ols() -> None:
    cfg = _cfg(120)
    market = SyntheticMarket(cfg, seed=21)
    data = market.generate()
    truth = market.truth()
    tau = 10.0
    expected = truth["impact"]["lambda_tau"]["10"]
    assert expected == pytest.approx(lambda_tau(cfg.impact_lambda, cfg.beta_per_s, tau))
    est = _ols_slope(data, cfg, tau)
    assert est == pytest.approx(expected, rel=0.3)
    # total traded volume is consistent with the ADV (per second of a 6.5 h day)
    vol = sum(truth["volume_shares"].values())
    assert vol == pytest.approx(cfg.adv_shares * cfg.session_s / cfg.day_length_s, rel=0.15)


# -- truth and writing ----------------------------------------------------------------------------
def test_truth_and_layout_written(tmp_path: Path) -> None:
    cfg = _cfg(1)
    market = SyntheticMarket(cfg, seed=9)
    paths = market.write(tmp_path, fmt="parquet")
    data = market.generate()
    venue_files = paths[:-2]
    assert {p.name for p in venue_files} == {
        "xnas-itch-20250402.mbp-10.parquet",
        "bats-pitch-20250402.mbp-10.parquet",
        "arcx-pillar-20250402.mbp-10.parquet",
    }
    for p in venue_files:
        lf = parse_layout_name(p)
        assert lf is not None
        assert p == layout_path(tmp_path, "AAPL", lf.venue, cfg.date)
        back = pd.read_parquet(p)
        assert len(back) == len(data[lf.venue])
    alpha_path, truth_path = paths[-2:]
    assert truth_path == tmp_path / "AAPL" / "truth-20250402.json"
    truth = json.loads(truth_path.read_text())
    imp = truth["impact"]
    assert imp["lambda"] == cfg.impact_lambda
    assert imp["beta_per_s"] == pytest.approx(math.log(2) / cfg.impact_half_life_s)
    assert imp["beta_per_hour"] == pytest.approx(imp["beta_per_s"] * 3600)
    assert imp["half_life_s"] == cfg.impact_half_life_s
    for tau in ("1", "10", "60", "300"):
        assert imp["lambda_tau"][tau] == pytest.approx(
            lambda_tau(cfg.impact_lambda, imp["beta_per_s"], float(tau))
        )
    assert truth["sigma_daily"] == cfg.sigma_daily
    assert truth["adv_shares"] == cfg.adv_shares
    assert truth["seed"] == 9
    assert truth["venues"]["BATS"]["fee_per_share"] == cfg.venues[1].fee_per_share
    assert truth["events_total"] == data.n_events
    assert truth["alpha_path_file"] == alpha_path.name
    path = pd.read_parquet(alpha_path)
    assert len(path) == 61
    kappa = truth["alpha"]["kappa_per_s"]
    remaining = cfg.session_s - path["t_s"].to_numpy()
    np.testing.assert_allclose(
        path["alpha"], path["mu"] * -np.expm1(-kappa * remaining) / kappa, rtol=1e-12
    )
    np.testing.assert_allclose(path["fair_price"], path["s0"] + path["impact"])
    assert not list(tmp_path.glob("AAPL/*.tmp"))


def test_written_layout_loads_back_identically(tmp_path: Path) -> None:
    from myopic_sor.data._load import load_market_data

    market = SyntheticMarket(_cfg(1), seed=12)
    market.write(tmp_path, fmt="dbn.zst")
    back = load_market_data(tmp_path / "AAPL")
    data = market.generate()
    assert back.venue_names == data.venue_names
    for v in data:
        b = back[v.venue]
        assert len(b) == len(v)
        for name in ("ts_event", "action", "side", "price", "size", "bid_px_00", "ask_ct_09"):
            np.testing.assert_array_equal(b[name], v[name])


def test_generate_market_data_convenience() -> None:
    data, truth = generate_market_data(
        "MSFT", "2025-03-03", venues=2, seed=1, session_end=dt.time(9, 31)
    )
    assert data.symbol == "MSFT"
    assert data.date == dt.date(2025, 3, 3)
    assert data.venue_names == ("BATS", "XNAS")
    assert truth["symbol"] == "MSFT"
    with pytest.raises(ConfigError, match="impact_lamda"):
        generate_market_data(seed=1, impact_lamda=3.0)


def test_rows_only_for_displayed_levels(
    five_minutes: tuple[MarketData, dict[str, object], SyntheticConfig],
) -> None:
    data, _, cfg = five_minutes
    for vd in data:
        action = vd["action"]
        book_event = action != ord("T")
        assert (vd["depth"][book_event] < cfg.levels).all()
        # every add/cancel row changes the displayed book (else it would be a hidden event)
        changed = np.zeros(len(vd), dtype=bool)
        for name in vd.columns:
            if name.startswith(("bid_", "ask_")):
                col = vd[name]
                diff = col[1:] != col[:-1]
                if col.dtype.kind == "f":
                    diff &= ~(np.isnan(col[1:]) & np.isnan(col[:-1]))
                changed[1:] |= diff
        assert changed[1:][book_event[1:]].all()
