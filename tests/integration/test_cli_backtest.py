"""The route what-if and the compare / run commands as a user runs them."""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path
from typing import Any

import pytest

from myopic_sor.cli import main
from myopic_sor.data import SyntheticConfig, SyntheticMarket


def _reject_nan(name: str) -> Any:
    raise AssertionError(f"non-standard JSON constant {name} in the output")


def run(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    with pytest.raises(SystemExit) as info:
        main([*args, "--json"])
    captured = capsys.readouterr()
    assert info.value.code == 0, captured.err
    out: dict[str, Any] = json.loads(captured.out, parse_constant=_reject_nan)
    return out


def fails(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    with pytest.raises(SystemExit) as info:
        main(list(args))
    err = capsys.readouterr().err
    assert info.value.code == 2
    assert len(err.strip().splitlines()) == 1, err
    return err


def test_route_one_venue_is_the_closed_form(capsys: pytest.CaptureFixture[str]) -> None:
    out = run(
        capsys,
        "route",
        "--size",
        "1000",
        "--queue",
        "500",
        "--half-spread",
        "0.01",
        "--fee",
        "0.003",
        "--rebate",
        "0.002",
        "--theta",
        "0.0005",
        "--lambda-u",
        "0.05",
        "--lambda-o",
        "0.05",
        "--outflow",
        "exp:1500",
    )
    assert out["method"] == "closed_form"
    p_star = (2 * 0.01 + 0.003 + 0.002) / (0.01 + 0.002 + 0.05 + 0.0005)
    assert out["p_star"] == pytest.approx(p_star)
    lim = -1500.0 * math.log(1 - p_star) - 500.0  # F^-1(p*) - Q for the exponential
    assert out["limit"] == [round(lim)]
    assert out["market"] + out["limit"][0] == 1000
    assert set(out) >= {"market", "limit", "expected_cost", "p_underfill", "method"}


def test_route_several_venues_and_bad_input(capsys: pytest.CaptureFixture[str]) -> None:
    out = run(
        capsys,
        "route",
        "--size",
        "500",
        "--queue",
        "2000,800",
        "--half-spread",
        "0.005",
        "--rebate",
        "0.002,0.0025",
        "--outflow",
        "exp:3000,exp:1500",
        "--seed",
        "3",
    )
    assert out["method"] == "sa"
    assert len(out["limit"]) == 2
    assert out["market"] + sum(out["limit"]) >= 500
    assert 0.0 <= out["p_underfill"] <= 1.0
    assert "one each" in fails(
        capsys,
        "route",
        "--size",
        "5",
        "--queue",
        "1,2",
        "--half-spread",
        "0.01",
        "--outflow",
        "exp:3",
    )
    assert "exp:MEAN" in fails(
        capsys,
        "route",
        "--size",
        "5",
        "--queue",
        "1",
        "--half-spread",
        "0.01",
        "--outflow",
        "gamma:3",
    )
    assert "size" in fails(capsys, "route", "--size", "0", "--queue", "1", "--half-spread", "0.01")


@pytest.fixture(scope="module")
def layout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("cli-data")
    market = SyntheticMarket(SyntheticConfig(session_end=dt.time(10, 10)), seed=4)
    market.generate()
    market.write(root)
    return root / "AAPL"


def test_compare_prints_every_strategy_and_writes_results(
    capsys: pytest.CaptureFixture[str], layout: Path, tmp_path: Path
) -> None:
    out = run(
        capsys,
        "compare",
        str(layout),
        "--side",
        "sell",
        "--quantity",
        "2000",
        "--start",
        "09:50",
        "--end",
        "10:00",
        "--strategies",
        "myopic-zero,traditional,twap:market,myopic-oracle",
        "--seed",
        "5",
        "--set",
        "execution.order_freq=60",
        "--set",
        "strategy.T=2",
        "--set",
        "strategy.N=200",
        "--out",
        str(tmp_path),
    )
    rows = out["strategies"]
    assert list(rows) == ["myopic-zero", "traditional", "twap:market", "myopic-oracle"]
    for name, row in rows.items():
        for key in (
            "avg_cost_per_share",
            "total_cost",
            "total_size",
            "num_decisions",
            "implementation_shortfall_bps",
            "fill_rate",
        ):
            assert row[key] is not None, (name, key)
        assert row["total_size"] == 2000
        assert row["overfill_shares"] == 0
    assert rows["myopic-oracle"]["lookahead"] is True
    assert rows["traditional"]["lookahead"] is False
    folder = Path(out["out"])
    assert folder.parent == tmp_path
    assert (folder / "summary.json").exists()
    assert (folder / "fills-twap-market.csv").exists()
    decisions = json.loads((folder / "decisions-traditional.json").read_text())
    assert sum(d["quantity"] for d in decisions) == -2000
    assert out["seed"] == 5


def test_run_and_its_errors(capsys: pytest.CaptureFixture[str], layout: Path) -> None:
    out = run(
        capsys,
        "run",
        str(layout),
        "--strategy",
        "twap",
        "--quantity",
        "1000",
        "--start",
        "09:50",
        "--end",
        "09:58",
        "--set",
        "execution.order_freq=60",
        "--set",
        "strategy.N=200",
    )
    assert list(out["strategies"]) == ["twap"]
    assert "unknown strategy" in fails(capsys, "run", str(layout), "--strategy", "magic")
    assert "side" in fails(
        capsys,
        "run",
        str(layout),
        "--side",
        "hold",
        "--quantity",
        "10",
        "--start",
        "09:50",
        "--end",
        "09:55",
    )
    assert "quantity" in fails(capsys, "run", str(layout), "--quantity", "0")


def test_batch_command_runs_and_resumes(
    capsys: pytest.CaptureFixture[str], layout: Path, tmp_path: Path
) -> None:
    args = (
        "batch",
        str(layout.parent),
        "--stocks",
        "AAPL,ZZZZ",
        "--days",
        "2025-04-02",
        "--grid",
        "N=200",
        "--quantity",
        "800",
        "--start",
        "09:50",
        "--end",
        "09:55",
        "--order-freq",
        "60",
        "--out",
        str(tmp_path),
    )
    out = run(capsys, *args)
    rows = {r["key"]: r for r in out["items"]}
    assert rows["AAPL_2025-04-02_N=200"]["status"] == "done"
    assert rows["ZZZZ_2025-04-02_N=200"]["status"] == "failed"
    assert rows["ALL"]["status"] == "1 done"
    again = run(capsys, *args)
    assert again["items"] == out["items"]
    assert "KEY=V1" in fails(
        capsys,
        "batch",
        str(layout.parent),
        "--stocks",
        "AAPL",
        "--days",
        "2025-04-02",
        "--grid",
        "N",
    )


def test_report_from_compare_results(
    capsys: pytest.CaptureFixture[str], layout: Path, tmp_path: Path
) -> None:
    out = run(
        capsys,
        "compare",
        str(layout),
        "--quantity",
        "600",
        "--start",
        "09:50",
        "--end",
        "09:54",
        "--strategies",
        "twap,myopic-oracle",
        "--set",
        "execution.order_freq=60",
        "--set",
        "strategy.N=200",
        "--out",
        str(tmp_path),
    )
    paths = run(capsys, "report", out["out"])
    page = Path(paths["html"]).read_text()
    # fills, cost breakdown and the myopic schedule embedded
    assert page.count("data:image/png;base64,") == 3
    assert "schedule myopic-oracle" in page
    assert "http" not in page  # self-contained: nothing fetched
    assert "LOOK-AHEAD" in page
    text = Path(paths["txt"]).read_text()
    assert "seed 42" in text
    assert f"Config hash {out['config_hash']}" in text
    md = Path(paths["md"]).read_text()
    assert md.startswith("# Execution comparison: AAPL 2025-04-02")
    assert "| twap |" in md
    assert "not found" in fails(capsys, "report", str(tmp_path / "nothing"))


def test_compare_on_the_reactive_market(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = run(
        capsys,
        "compare",
        "--reactive",
        "--seed",
        "5",
        "--quantity",
        "2000",
        "--start",
        "09:40",
        "--end",
        "09:46",
        "--strategies",
        "myopic-zero:market,myopic-true:market,twap:market",
        "--set",
        "execution.order_freq=60",
        "--set",
        "execution.lookup_duration=[0, 5]",
        "--out",
        str(tmp_path),
    )
    assert out["data"] == ["reactive synthetic market (seed 5)"]
    assert out["lambda_source"] == "true λ of the reactive synthetic market"
    rows = out["strategies"]
    for row in rows.values():
        assert row["total_size"] == 2000
        assert row["impact_cost_true"] is not None
    assert rows["myopic-true:market"]["latent_state"] is True
    assert rows["twap:market"]["latent_state"] is False
    # zero alpha with the true parameters: the model's cost of our own trades is positive
    assert rows["myopic-zero:market"]["impact_cost_model"] > 0
    page = Path(run(capsys, "report", out["out"])["html"]).read_text()
    assert "LATENT STATE" in page
    assert "give no DATA" in fails(capsys, "compare", str(tmp_path), "--reactive")
    assert "or --reactive" in fails(capsys, "compare")
    assert "inside the synthetic session" in fails(
        capsys, "compare", "--reactive", "--start", "09:30", "--end", "09:40"
    )
