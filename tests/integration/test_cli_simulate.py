"""``myopic-sor simulate`` as a user runs it: files on disk, an orders CSV, JSON or a table.

The command is added with ``myopic_sor.cli._sim_cmds.register`` to a fresh app here, so the
test does not depend on how the main app wires it.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from myopic_sor.cli._sim_cmds import register
from myopic_sor.data import SyntheticConfig, SyntheticMarket, load_market_data
from myopic_sor.exceptions import ConfigError, DataFormatError
from myopic_sor.simulation import PerVenueLatency, read_orders, simulate_orders

NS = 10**9


def _app() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def _root() -> None:  # a group, so the command is called by name
        """Test app."""

    register(app)
    return app


@pytest.fixture(scope="module")
def day(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sim")
    mkt = SyntheticMarket(SyntheticConfig(session_end=dt.time(9, 32)), seed=21)
    mkt.write(out, fmt="parquet")
    return out / "AAPL"


def _orders(day: Path, tmp_path: Path) -> Path:
    md = load_market_data(day, day="2025-04-02")
    t0 = md.first_ts
    bid = float(md["BATS"].between(None, t0 + 20 * NS).best_bid[-1])
    lines = [
        "ts,venue,side,type,price,size,cancel_after_s,catch_up",
        f"{pd.Timestamp(t0 + 10 * NS, tz='UTC').isoformat()},XNAS,buy,market,,700,,",
        f"{t0 + 20 * NS},BATS,buy,limit,{bid},400,30,true",
        f"{pd.Timestamp(t0 + 25 * NS, tz='UTC').tz_convert('America/New_York').isoformat()},"
        "ARCX,sell,market,,300,,",
    ]
    p = tmp_path / "orders.csv"
    p.write_text("\n".join(lines) + "\n")
    return p


def _json(result: Any) -> dict[str, Any]:
    assert result.exit_code == 0, result.output
    out: dict[str, Any] = json.loads(result.stdout)
    return out


def test_simulate_json_lists_every_fill(day: Path, tmp_path: Path) -> None:
    orders = _orders(day, tmp_path)
    runner = CliRunner()
    args = ["simulate", str(day), "--orders", str(orders), "--date", "2025-04-02", "--json"]
    res = _json(runner.invoke(_app(), [*args, "--queue-model", "prob-power:2"]))
    fills = res["fills"]
    assert {"ts_event", "venue", "side", "price", "size", "liquidity", "fee", "order_id"} <= set(
        fills[0]
    )
    by_order: dict[int, int] = {}
    for f in fills:
        by_order[f["order_id"]] = by_order.get(f["order_id"], 0) + f["size"]
        assert f["liquidity"] in ("maker", "taker")
        assert (f["fee"] > 0) == (f["liquidity"] == "taker")
    assert by_order == {0: 700, 1: 400, 2: 300}  # the limit order ends filled or caught up
    assert [o["status"] for o in res["orders"]] == ["filled"] * 3
    assert res["queue_model"] == "prob-power:2"
    assert res["latency_us"] == {"ARCX": 100.0, "BATS": 75.0, "XNAS": 50.0}  # config venues
    assert res["totals"]["filled_shares"] == 1400
    assert res["totals"]["bought_shares"] == 1100
    # the same replay through the library gives the same fills
    md = load_market_data(day, day="2025-04-02")
    lat = PerVenueLatency.from_microseconds({"XNAS": 50, "BATS": 75, "ARCX": 100})
    lib = simulate_orders(
        md, read_orders(orders), queue_model="prob-power:2", latency=lat,
        fees=0.003, rebates=0.002,
    )  # fmt: skip
    assert lib["size"].tolist() == [f["size"] for f in fills]
    assert lib["price"].tolist() == pytest.approx([f["price"] for f in fills])
    assert lib["ts_event"].tolist() == [f["ts_event"] for f in fills]
    # a constant latency for every venue shifts the market orders' times
    res2 = _json(runner.invoke(_app(), [*args, "--latency-us", "250"]))
    first = res2["fills"][0]
    assert first["ts_event"] == md.first_ts + 10 * NS + 250_000
    assert res2["latency_us"] == {"ARCX": 250.0, "BATS": 250.0, "XNAS": 250.0}


def test_simulate_prints_a_table(day: Path, tmp_path: Path) -> None:
    orders = _orders(day, tmp_path)
    result = CliRunner().invoke(_app(), ["simulate", str(day), "--orders", str(orders)])
    assert result.exit_code == 0, result.output
    assert "XNAS" in result.stdout
    assert "taker" in result.stdout
    assert "1,400 shares" in result.stdout


def test_simulate_errors_name_the_problem(day: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("ts,venue,side,type,price,size\n1,XNAS,buy,market,,0\n")
    runner = CliRunner()
    result = runner.invoke(_app(), ["simulate", str(day), "--orders", str(bad)])
    assert isinstance(result.exception, DataFormatError)
    assert "line 2, column 'size'" in str(result.exception)
    orders = _orders(day, tmp_path)
    result = runner.invoke(
        _app(), ["simulate", str(day), "--orders", str(orders), "--queue-model", "fifo"]
    )
    assert isinstance(result.exception, ConfigError)
    result = runner.invoke(_app(), ["simulate", str(day)])
    assert result.exit_code == 2  # --orders is required (a usage error)
