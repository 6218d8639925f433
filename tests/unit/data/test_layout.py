"""The spec's directory layout."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from myopic_sor.data._layout import (
    dataset_to_venue,
    discover,
    layout_path,
    parse_layout_name,
    venue_to_dataset,
)
from myopic_sor.exceptions import DataNotFoundError

DAY = dt.date(2025, 4, 2)


def test_names_round_trip() -> None:
    p = layout_path("/d", "aapl", "XNAS", DAY, ext="dbn.zst")
    assert p.as_posix() == "/d/AAPL/xnas-itch-20250402.mbp-10.dbn.zst"
    lf = parse_layout_name(p)
    assert lf is not None
    assert (lf.stock, lf.venue, lf.date, lf.ext, lf.dataset) == (
        "AAPL", "XNAS", DAY, "dbn.zst", "xnas-itch",
    )  # fmt: skip
    assert dataset_to_venue("XNAS.ITCH") == dataset_to_venue("xnas-itch") == "XNAS"
    assert venue_to_dataset("arcx") == "ARCX.PILLAR"
    assert parse_layout_name("notes.txt") is None
    assert parse_layout_name("xnas-itch-20251399.mbp-10.csv") is None  # not a date


def _touch(root: Path, *names: str) -> None:
    for n in names:
        p = root / n
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(b"x")


def test_discover_picks_stock_day_and_preferred_format(tmp_path: Path) -> None:
    _touch(
        tmp_path,
        "AAPL/xnas-itch-20250402.mbp-10.csv",
        "AAPL/xnas-itch-20250402.mbp-10.parquet",
        "AAPL/bats-pitch-20250402.mbp-10.dbn.zst",
        "AAPL/bats-pitch-20250403.mbp-10.dbn.zst",
        "AAPL/README.md",
        "MSFT/xnas-itch-20250402.mbp-10.parquet",
    )
    files = discover(tmp_path, "AAPL", DAY)
    assert [(f.venue, f.ext) for f in files] == [("BATS", "dbn.zst"), ("XNAS", "parquet")]
    assert len(discover(tmp_path / "AAPL", "AAPL")) == 3
    assert {f.stock for f in discover(tmp_path)} == {"AAPL", "MSFT"}


def test_discover_errors_name_what_was_expected(tmp_path: Path) -> None:
    with pytest.raises(DataNotFoundError, match="no such directory"):
        discover(tmp_path / "missing")
    with pytest.raises(DataNotFoundError, match="GOOGL"):
        discover(tmp_path, "GOOGL")
    (tmp_path / "AAPL").mkdir()
    with pytest.raises(DataNotFoundError, match="20250402"):
        discover(tmp_path, "AAPL", DAY)
