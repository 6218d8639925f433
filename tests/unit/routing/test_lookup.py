"""Lookup tables: buckets, nearest-cell fallback, the lookup router, files, building on history."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from myopic_sor.data import MarketData, VenueData, generate_market_data
from myopic_sor.exceptions import ConfigError, DataFormatError, DataNotFoundError
from myopic_sor.routing._base import Allocation, OutflowDistribution, Router, RoutingProblem
from myopic_sor.routing._cont_kukanov import draw_outflows, expected_cost
from myopic_sor.routing._lookup import (
    LOOKUP_SCHEMA,
    LOOKUP_VERSION,
    LookupRouter,
    LookupTable,
    build_lookup_table,
)
from myopic_sor.routing._outflow import ExponentialOutflow

NS = 1_000_000_000
VENUES = ("ARCX", "BATS", "XNAS")


def _table() -> LookupTable:
    """sizes (100, 1000) × depth (<1000, <5000, ≥5000) × volume (<500, ≥500)."""
    shape = (2, 3, 2)
    market = np.zeros(shape)
    limit = np.zeros((*shape, 3))
    count = np.zeros(shape, dtype=np.int64)
    market[0, 1, 1], limit[0, 1, 1], count[0, 1, 1] = 0.25, [0.3, 0.25, 0.2], 4
    market[0, 1, 0], limit[0, 1, 0], count[0, 1, 0] = 1.0, [0.0, 0.0, 0.0], 2
    market[1, 2, 1], limit[1, 2, 1], count[1, 2, 1] = 0.5, [0.0, 0.5, 0.0], 1
    market[1, 0, 0], limit[1, 0, 0], count[1, 0, 0] = 0.0, [0.0, 0.0, 1.0], 3
    return LookupTable(
        venues=VENUES,
        sizes=np.array([100.0, 1000.0]),
        depth_edges=np.array([1000.0, 5000.0]),
        volume_edges=np.array([500.0]),
        market=market,
        limit=limit,
        count=count,
        horizon_ns=60 * NS,
        meta={"note": "hand-made", "sides": (1, -1)},
    )


def test_buckets_follow_the_edges_and_log_nearest_size() -> None:
    t = _table()
    assert t.shape == (2, 3, 2)
    assert t.bucket(300, 999, 499.9) == (0, 0, 0)  # log 3 < log(10/3): size 100
    assert t.bucket(320, 1000, 500) == (1, 1, 1)  # an edge belongs to the bucket above it
    assert t.bucket(5, 5000, 1e9) == (0, 2, 1)
    with pytest.raises(ConfigError, match="size"):
        t.bucket(0, 10, 10)


def test_empty_cells_fall_back_to_the_nearest_filled_one() -> None:
    t = _table()
    assert t.nearest_filled((0, 1, 1)) == (0, 1, 1)  # filled: itself
    assert t.nearest_filled((0, 0, 1)) == (0, 1, 1)  # one step in depth
    # (0, 0, 0) is one step from (0, 1, 0) [2 decisions] and from (1, 0, 0) [3]: more wins
    assert t.nearest_filled((0, 0, 0)) == (1, 0, 0)
    m, lim, used, exact = t.lookup(100, 10, 10)
    assert (m, lim.tolist(), used, exact) == (0.0, [0.0, 0.0, 1.0], (1, 0, 0), False)
    m, lim, used, exact = t.lookup(100, 2000, 900)
    assert (m, used, exact) == (0.25, (0, 1, 1), True)


def _problem(venues: tuple[str, ...], size: float, queues: Sequence[float]) -> RoutingProblem:
    return RoutingProblem(
        size=size,
        half_spread=0.005,
        fee=0.003,
        rebates=np.full(len(venues), 0.002),
        queues=np.array(queues, dtype=float),
        venues=venues,
    )


def test_lookup_router_splits_by_the_cell_and_spreads_absent_venues() -> None:
    router = LookupRouter(_table(), n_samples=500)
    assert isinstance(router, Router)
    problem = _problem(("BATS", "XNAS"), 180, [1500, 1000])  # ARCX excluded now
    laws = [ExponentialOutflow(300.0), ExponentialOutflow(400.0)]  # 700 shares / minute
    alloc = router.route(problem, laws, np.random.default_rng(0))
    # cell (0, 1, 1): M = 0.25, L = (0.3, 0.25, 0.2); ARCX's 0.3 goes 5:4 to BATS and XNAS
    assert alloc.method == "lookup"
    assert alloc.venues == ("BATS", "XNAS")
    assert (alloc.market, alloc.limit) == (45.0, (75.0, 60.0))
    assert alloc.info["cell"] == (0, 1, 1)
    assert alloc.info["exact_cell"] is True
    assert alloc.info["volume_per_min"] == pytest.approx(700.0)
    assert (alloc.info["half_spread"], alloc.info["fee"]) == (0.005, 0.003)
    xi = draw_outflows(laws, 500, np.random.default_rng(0))
    assert alloc.expected_cost == expected_cost(problem, np.array([45.0, 75.0, 60.0]), xi)
    # a low recent volume given explicitly picks the (0, 1, 0) cell: all at market
    low = router.route(problem, laws, np.random.default_rng(0), recent_volume=100.0)
    assert (low.market, low.limit, low.info["cell"]) == (180.0, (0.0, 0.0), (0, 1, 0))
    # a size nearer 1000 reads the empty (1, 1, 1) cell, answered by its nearest (0, 1, 1)
    big = router.route(dataclasses.replace(problem, size=600.0), laws, np.random.default_rng(0))
    assert (big.info["cell"], big.info["exact_cell"]) == ((0, 1, 1), False)
    assert big.market == 150.0
    # a fractional size is split as is (no rounding)
    frac = router.route(dataclasses.replace(problem, size=180.5), laws, np.random.default_rng(0))
    assert frac.market == 0.25 * 180.5
    assert frac.total == pytest.approx(180.5)
    # a venue unknown to the table gets nothing; nothing to spread -> evenly if all are 0
    odd = _problem(("EDGX",), 1000, [100])
    alloc = router.route(odd, [ExponentialOutflow(1.0)], np.random.default_rng(0))
    # cell (1, 0, 0): everything on XNAS, which is absent: spread over EDGX
    assert (alloc.market, alloc.limit) == (0.0, (1000.0,))
    with pytest.raises(ConfigError, match="outflow laws"):
        router.route(problem, laws[:1], np.random.default_rng(0))


def test_json_and_parquet_round_trips_are_exact(tmp_path: Path) -> None:
    t = _table()
    pj = t.to_json(tmp_path / "table.json")
    pp = t.to_parquet(tmp_path / "sub" / "table.parquet")
    a, b = LookupTable.from_json(pj), LookupTable.from_parquet(pp)
    assert a == t
    assert b == t
    assert a == b
    assert a.meta == {"note": "hand-made", "sides": [1, -1]}
    doc = json.loads(pj.read_text())
    assert (doc["schema"], doc["version"]) == (LOOKUP_SCHEMA, LOOKUP_VERSION)
    assert len(doc["cells"]) == 4
    header = json.loads(pq.read_schema(pp).metadata[LOOKUP_SCHEMA.encode()])
    assert header["version"] == LOOKUP_VERSION
    assert not list(tmp_path.glob(".*.tmp"))  # atomic writes leave no temporary file
    other = LookupTable.from_json(pj)
    object.__setattr__(other, "horizon_ns", 1)
    assert other != t


def test_bad_files_give_clear_errors_naming_the_file(tmp_path: Path) -> None:
    t = _table()
    good = t.to_json(tmp_path / "good.json")
    with pytest.raises(DataNotFoundError, match=r"missing.json"):
        LookupTable.from_json(tmp_path / "missing.json")
    broken = tmp_path / "broken.json"
    broken.write_text('{"schema": "myopic_sor.lookup_table", "vers')
    with pytest.raises(DataFormatError, match=r"broken.json"):
        LookupTable.from_json(broken)
    doc = json.loads(good.read_text())
    for key, value, what in (
        ("version", 99, "version 99"),
        ("schema", "something.else", "schema 'something.else'"),
        ("sizes", [100.0], "outside the table's shape"),
        ("venues", [], "no venues"),
    ):
        bad = tmp_path / f"bad_{key}.json"
        bad.write_text(json.dumps({**doc, key: value}))
        with pytest.raises(DataFormatError, match=f"bad_{key}.json.*{what}"):
            LookupTable.from_json(bad)
    junk = tmp_path / "junk.parquet"
    junk.write_bytes(b"PAR1 not really parquet")
    with pytest.raises(DataFormatError, match=r"junk.parquet"):
        LookupTable.from_parquet(junk)
    with pytest.raises(DataFormatError, match=r"good.json"):
        LookupTable.from_parquet(good)
    plain = tmp_path / "plain.parquet"
    pq.write_table(pa.table({"x": [1, 2]}), plain)
    with pytest.raises(DataFormatError, match=r"plain.parquet.*schema metadata"):
        LookupTable.from_parquet(plain)
    with pytest.raises(DataFormatError, match=r"plain.parquet"):
        LookupTable.from_json(plain)


def test_table_rejects_inconsistent_arrays() -> None:
    t = _table()
    with pytest.raises(ConfigError, match="shape"):
        LookupTable(VENUES, t.sizes, t.depth_edges, np.zeros(0), t.market, t.limit, t.count, NS)
    with pytest.raises(ConfigError, match="non-empty cell"):
        LookupTable(
            VENUES, t.sizes, t.depth_edges, t.volume_edges, t.market, t.limit, 0 * t.count, NS
        )
    with pytest.raises(ConfigError, match="increasing"):
        LookupTable(VENUES, t.sizes[::-1], t.depth_edges, t.volume_edges, t.market, t.limit,
                    t.count, NS)  # fmt: skip


# --------------------------------------------------------------------------------------------
# building from history
# --------------------------------------------------------------------------------------------


class ThresholdRouter:
    """All at market when Σ Q_k ≥ depth, else all resting on the venue with the longest
    queue; records the depth of every problem it sees."""

    def __init__(self, depth: float) -> None:
        self.depth = depth
        self.seen: list[float] = []

    def route(
        self,
        problem: RoutingProblem,
        outflows: Sequence[OutflowDistribution],
        rng: np.random.Generator,
    ) -> Allocation:
        d = float(problem.queues.sum())
        self.seen.append(d)
        lim = np.zeros(problem.n_venues)
        if d >= self.depth:
            return Allocation(problem.size, tuple(lim), 0.0, 0.0, "t", problem.venues)
        lim[int(np.argmax(problem.queues))] = problem.size
        return Allocation(0.0, tuple(lim), 0.0, 0.0, "t", problem.venues)


@pytest.fixture(scope="module")
def md() -> MarketData:
    data, _ = generate_market_data(seed=11, session_end=dt.time(9, 45))
    return data


def _future_rewritten(md: MarketData, t: int) -> MarketData:
    venues = {}
    for v in md:
        cols = {k: np.array(a) for k, a in v.columns.items()}
        after = cols["ts_event"] > t
        cols["bid_sz_00"][after] += 100_000
        cols["ask_sz_00"][after] = 1
        venues[v.venue] = VenueData(v.venue, v.symbol, cols, v.source)
    return MarketData(md.symbol, md.date, venues, md.timezone)


def test_build_averages_the_router_per_bucket_from_causal_inputs(md: MarketData) -> None:
    kw: dict[str, Any] = {
        "sizes": [200, 1000],
        "horizon_s": 60.0,
        "lookback_s": 240.0,
        "every_s": 60.0,
    }
    probe = ThresholdRouter(np.inf)
    table = build_lookup_table(md, probe, n_buckets=2, seed=1, **kw)
    n_times = len(range(md.first_ts + 240 * NS, md.last_ts + 1, 60 * NS))
    assert table.meta["n_routed"] + table.meta["n_skipped"] == 2 * n_times  # two sides
    assert int(table.count.sum()) == 2 * table.meta["n_routed"] == len(probe.seen)  # two sizes
    assert table.depth_edges.tolist() == [float(np.median(probe.seen))]  # quantile edges
    assert table.venues == md.venue_names
    assert table.horizon_ns == 60 * NS
    # with an edge at the router's threshold, one side of it is all market, the other all limit
    cut = float(np.median(probe.seen))
    table = build_lookup_table(
        md, ThresholdRouter(cut), depth_edges=[cut], volume_edges=[], seed=1, **kw
    )
    filled = table.count > 0
    assert np.all(table.market[:, 1][filled[:, 1]] == 1.0)
    assert np.all(table.market[:, 0][filled[:, 0]] == 0.0)
    assert np.allclose(table.limit[:, 0].sum(axis=-1)[filled[:, 0]], 1.0)
    assert filled[:, 0].any()
    assert filled[:, 1].any()
    # data after the last decision time changes nothing
    end = table.meta["end_ns"]
    again = build_lookup_table(
        _future_rewritten(md, end),
        ThresholdRouter(cut),
        depth_edges=[cut],
        volume_edges=[],
        seed=1,
        end_ns=end,
        **kw,
    )
    assert again == table
    # and the table routes: a problem deep in the book goes to market
    problem = _problem(md.venue_names, 1000, [cut, cut, cut])
    laws = [ExponentialOutflow(10.0)] * 3
    alloc = LookupRouter(table).route(problem, laws, np.random.default_rng(0))
    assert alloc.market == 1000.0
