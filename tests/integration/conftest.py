"""Shared data of the integration tests: the spec's layout with 3 stocks × 3 days."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from myopic_sor.data import SyntheticConfig, SyntheticMarket

STOCKS = {"AAPL": 220.0, "MSFT": 390.0, "GOOGL": 160.0}
DAYS = ["2025-04-01", "2025-04-02", "2025-04-03"]


@pytest.fixture(scope="session")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding ``./data/<STOCK>/<dataset>-<YYYYMMDD>.mbp-10.parquet`` for the spec's
    examples and snippets: short synthetic sessions (09:30-10:00), one seed per stock-day."""
    root = tmp_path_factory.mktemp("examples")
    for k, (stock, price) in enumerate(STOCKS.items()):
        for j, day in enumerate(DAYS):
            cfg = SyntheticConfig(
                symbol=stock,
                date=dt.date.fromisoformat(day),
                initial_price=price,
                session_end=dt.time(10, 0),
            )
            market = SyntheticMarket(cfg, seed=100 * k + j)
            market.generate()
            market.write(root / "data")
    return root
