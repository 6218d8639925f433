"""The sensitivity command as a user runs it: one key swept over one parent order."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from myopic_sor.cli import main
from myopic_sor.data import SyntheticConfig, SyntheticMarket

COMMON = (
    "--quantity",
    "1200",
    "--start",
    "09:50",
    "--end",
    "09:56",
    "--set",
    "execution.order_freq=60",
    "--set",
    "strategy.N=200",
    "--set",
    "strategy.T=2",
)


@pytest.fixture(scope="module")
def layout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("sensitivity-data")
    market = SyntheticMarket(SyntheticConfig(session_end=dt.time(10, 0)), seed=4)
    market.generate()
    market.write(root)
    return root / "AAPL"


def _reject_nan(name: str) -> Any:
    raise AssertionError(f"non-standard JSON constant {name} in the output")


def ok(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    with pytest.raises(SystemExit) as info:
        main(list(args))
    captured = capsys.readouterr()
    assert info.value.code == 0, captured.err
    return captured.out


def fails(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    with pytest.raises(SystemExit) as info:
        main(list(args))
    err = capsys.readouterr().err
    assert info.value.code == 2
    assert len(err.strip().splitlines()) == 1, err
    return err


def test_lambda_sweep_prints_the_table_and_writes_csv_parquet_plot(
    capsys: pytest.CaptureFixture[str], layout: Path, tmp_path: Path
) -> None:
    printed = ok(
        capsys,
        "sensitivity",
        str(layout),
        "--param",
        "myopic.lambda_value",
        "--values",
        "1000,200000",
        *COMMON,
        "--out",
        str(tmp_path),
    )
    text = " ".join(printed.split())  # rich wraps the title to the terminal's width
    assert "sensitivity to myopic.lambda_value" in text
    assert "λ FIXED at each swept value (not estimated)" in text
    assert "200,000" in text
    folder = next(tmp_path.iterdir())
    files = {p.suffix: p for p in folder.iterdir()}
    assert sorted(p.name for p in files.values()) == [
        f"sensitivity-myopic-lambda_value.{ext}" for ext in ("csv", "json", "parquet", "png")
    ]
    table = pd.read_csv(files[".csv"])
    assert list(table["strategy"]) == ["myopic", "traditional"] * 2
    assert list(table["value"]) == [1000, 1000, 200000, 200000]
    assert (table["lambda"] == table["value"]).all()
    assert table["lambda_fixed"].all()
    myo = table[table["strategy"] == "myopic"]["modelled_impact_cost"].to_numpy()
    assert myo[1] > myo[0]  # a larger fixed λ prices the same children's impact higher
    pd.testing.assert_frame_equal(pd.read_parquet(files[".parquet"]), table)
    assert files[".png"].read_bytes()[:4] == b"\x89PNG"
    summary = json.loads(files[".json"].read_text())
    assert summary["config_hash"] == folder.name
    assert summary["lambda_fixed"] is True
    assert len(summary["rows"]) == 4


def test_json_output_with_an_estimated_lambda(
    capsys: pytest.CaptureFixture[str], layout: Path
) -> None:
    out = json.loads(
        ok(
            capsys,
            "sensitivity",
            str(layout),
            "--param",
            "order_freq",
            "--values",
            "60,120",
            "--strategies",
            "traditional,twap",
            "--side",
            "sell",
            *COMMON,
            "--seed",
            "9",
            "--json",
        ),
        parse_constant=_reject_nan,
    )
    assert out["param"] == "execution.order_freq"
    assert out["values"] == [60, 120]
    assert out["seed"] == 9
    assert out["parent"]["side"] == "sell"
    assert out["lambda_fixed"] is False
    assert out["lambda_note"].startswith("λ estimated causally")
    rows = {(r["value"], r["strategy"]): r for r in out["rows"]}
    assert len(rows) == 4
    assert rows[(60, "traditional")]["num_decisions"] == 6  # 360 s / 60 s
    assert rows[(120, "traditional")]["num_decisions"] == 3
    assert rows[(60, "traditional")]["cost_improvement_pct"] is None  # no NaN in JSON
    assert rows[(60, "twap")]["cost_improvement_pct"] is not None
    assert all(r["total_size"] == 1200 for r in out["rows"])
    assert "out" not in out


def test_bad_key_value_or_metric_exit_2_with_one_line(
    capsys: pytest.CaptureFixture[str], layout: Path
) -> None:
    err = fails(capsys, "sensitivity", str(layout), "--param", "myopic.gamma", "--values", "1")
    assert "'myopic.gamma'" in err
    assert "myopic.lambda_value" in err  # the valid choices are listed
    assert "execution.order_freq" in err
    err = fails(capsys, "sensitivity", str(layout), "--param", "beta", "--values", "1,-2")
    assert "myopic.beta=-2" in err
    assert "greater than 0" in err
    assert "V1,V2" in fails(capsys, "sensitivity", str(layout), "--param", "beta", "--values", "1,")
    err = fails(
        capsys, "sensitivity", str(layout), "--param", "beta", "--values", "1", "--metric", "x"
    )
    assert "avg_cost_per_share" in err
    assert "fixed" in fails(
        capsys, "sensitivity", str(layout), "--param", "strategy.S", "--values", "10"
    )


def test_help_shows_an_example(capsys: pytest.CaptureFixture[str]) -> None:
    text = ok(capsys, "sensitivity", "--help")
    assert "Example: myopic-sor sensitivity" in text
    assert "--param" in text
    assert "--values" in text
