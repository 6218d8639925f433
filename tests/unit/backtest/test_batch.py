"""Batch runs: resumable, failures recorded, sequential / joblib / Dask give the same results."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pytest

from myopic_sor.backtest import batch_items, run_batch, summarise_batch
from myopic_sor.data import SyntheticConfig, SyntheticMarket

BASE = {
    "S": 1000,
    "T": 2,
    "N": 200,
    "order_freq": 60,
    "start_time": ("09", "50"),
    "end_time": ("09", "56"),
    "lookup_duration": (0, 10),
}


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("batch-data")
    market = SyntheticMarket(SyntheticConfig(session_end=dt.time(10, 0)), seed=6)
    market.generate()
    market.write(path)
    return path


def test_items_are_the_product() -> None:
    items = batch_items(["A", "B"], ["2025-04-01", "2025-04-02"], {"N": [100, 200], "T": [1]})
    assert len(items) == 8
    assert items[0].key == "A_2025-04-01_N=100_T=1"
    assert len({i.key for i in items}) == 8


def test_sequential_batch_records_failures_and_resumes(root: Path, tmp_path: Path) -> None:
    items = batch_items(["AAPL", "MSFT"], ["2025-04-02"], {"N": [200]})
    seen: list[tuple[int, int]] = []
    table = run_batch(
        items, root, tmp_path, base_params=BASE, progress=lambda d, t: seen.append((d, t))
    )
    assert seen == [(1, 2), (2, 2)]
    status = dict(zip(table["key"], table["status"], strict=True))
    assert status["AAPL_2025-04-02_N=200"] == "done"
    assert status["MSFT_2025-04-02_N=200"] == "failed"  # no MSFT data: recorded, not raised
    err = json.loads((tmp_path / "items" / "MSFT_2025-04-02_N=200.error.json").read_text())
    assert "MSFT" in err["error"]
    done = tmp_path / "items" / "AAPL_2025-04-02_N=200.json"
    rec = json.loads(done.read_text())
    assert rec["myopic"]["total_size"] == 1000
    assert rec["traditional"]["total_size"] == 1000
    stamp = done.stat().st_mtime_ns
    again = run_batch(items, root, tmp_path, base_params=BASE)
    assert done.stat().st_mtime_ns == stamp  # finished items are skipped on a re-run
    assert (tmp_path / "summary.csv").exists()
    assert again.iloc[-1]["key"] == "ALL"
    assert summarise_batch(tmp_path).equals(again)


def test_dask_and_joblib_give_the_sequential_results(root: Path, tmp_path: Path) -> None:
    from dask.distributed import Client, LocalCluster

    items = batch_items(["AAPL"], ["2025-04-02"], {"N": [200]})
    run_batch(items, root, tmp_path / "seq", base_params=BASE)
    with (
        LocalCluster(n_workers=1, processes=False, dashboard_address=None) as cluster,
        Client(cluster) as client,
    ):
        run_batch(
            items, root, tmp_path / "dask", base_params=BASE, executor="dask", scheduler=client
        )
    run_batch(items, root, tmp_path / "jl", base_params=BASE, executor="processes", n_jobs=1)
    key = items[0].key
    recs = [
        json.loads((tmp_path / d / "items" / f"{key}.json").read_text())
        for d in ("seq", "dask", "jl")
    ]
    assert recs[0] == recs[1] == recs[2]


def test_summary_reports_the_cost_volatility_of_each_arm(root: Path, tmp_path: Path) -> None:
    items = batch_items(["AAPL"], ["2025-04-02"], {"N": [100, 200]})
    table = run_batch(items, root, tmp_path, base_params=BASE)
    recs = [json.loads(p.read_text()) for p in sorted((tmp_path / "items").glob("*.json"))]
    assert len(recs) == 2
    for arm in ("myopic", "traditional"):
        bps = [r[arm]["implementation_shortfall_bps"] for r in recs]
        want = float(np.std(bps, ddof=1))
        assert table.iloc[-1][f"{arm}_cost_volatility_bps"] == pytest.approx(want, rel=1e-9)
