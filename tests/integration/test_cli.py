"""The command line as a user runs it: generate-data, inspect-data on every input kind, config."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import numpy as np
import pytest

from myopic_sor.cli import main
from myopic_sor.data import load_market_data, write_venue


def run(capsys: pytest.CaptureFixture[str], *args: str) -> dict:  # type: ignore[type-arg]
    with pytest.raises(SystemExit) as info:
        main([*args, "--json"])
    assert info.value.code == 0, capsys.readouterr().err
    return json.loads(capsys.readouterr().out)


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:  # type: ignore[type-arg]
    out = tmp_path_factory.mktemp("gen")
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf), pytest.raises(SystemExit):
        main(
            [
                "generate-data",
                "--stock",
                "MSFT",
                "--day",
                "2025-04-03",
                "--venues",
                "2",
                "--out",
                str(out),
                "--seed",
                "11",
                "--end",
                "09:40",
                "--lambda",
                "30000",
                "--half-life-s",
                "120",
                "--format",
                "dbn.zst",
                "--json",
            ]
        )
    return out, json.loads(buf.getvalue())


def test_generate_data_writes_the_layout_and_truth(generated: tuple[Path, dict]) -> None:  # type: ignore[type-arg]
    out, summary = generated
    files = sorted(p.name for p in (out / "MSFT").iterdir())
    assert files == [
        "alpha-20250403.parquet",
        "bats-pitch-20250403.mbp-10.dbn.zst",
        "truth-20250403.json",
        "xnas-itch-20250403.mbp-10.dbn.zst",
    ]
    truth = json.loads((out / "MSFT" / "truth-20250403.json").read_text())
    assert truth["impact"]["lambda"] == 30000.0
    assert truth["impact"]["half_life_s"] == 120.0
    assert truth["impact"]["beta_per_hour"] == pytest.approx(3600 * np.log(2) / 120)
    assert truth["seed"] == 11
    assert summary["n_events"] == sum(summary["venues"].values()) > 10_000
    assert summary["truth"]["lambda"] == 30000.0


def test_inspect_data_json_on_a_layout_dir(
    generated: tuple[Path, dict],  # type: ignore[type-arg]
    capsys: pytest.CaptureFixture[str],
) -> None:
    out, summary = generated
    res = run(capsys, "inspect-data", str(out), "--date", "2025-04-03")
    assert res["symbol"] == "MSFT"
    assert set(res["venues"]) == {"BATS", "XNAS"}
    for name, v in res["venues"].items():
        assert v["rows"] == summary["venues"][name]
        assert {"rows", "first_ts", "last_ts", "trades", "traded_volume"} <= set(v)
        assert v["first_ts"].startswith("2025-04-03T09:3")
        assert v["trades"] > 0
        assert v["traded_volume"] > 0
        assert v["quality"]["ok"] is True
    # a window reads less
    part = run(capsys, "inspect-data", str(out / "MSFT"), "--start", "09:32", "--end", "09:33")
    assert 0 < part["n_events"] < res["n_events"]
    assert part["venues"]["XNAS"]["first_ts"] >= "2025-04-03T09:32"


def test_inspect_data_on_one_file_of_each_databento_format(
    generated: tuple[Path, dict],  # type: ignore[type-arg]
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    out, _ = generated
    md = load_market_data(out / "MSFT")
    xnas = md["XNAS"].between(None, md["XNAS"].ts_event[5000])
    results = []
    for ext in ("parquet", "csv", "dbn"):
        path = tmp_path / f"xnas-itch-20250403.mbp-10.{ext}"
        write_venue(xnas, path)
        res = run(capsys, "inspect-data", str(path))
        results.append(res["venues"]["XNAS"])
    assert {r["rows"] for r in results} == {len(xnas)}
    assert len({(r["trades"], r["traded_volume"], r["first_ts"]) for r in results}) == 1


LOBSTER_MESSAGES = """34200.004241176,1,16113575,18,5853300,1
34200.005799120,1,16113584,18,5853200,1
34200.006887159,4,16113575,10,5853300,1
34200.007000000,3,16113584,18,5853200,1
"""
LOBSTER_BOOK = """5859400,200,5853300,18,5859800,200,5853000,150
5859400,200,5853300,18,5859800,200,5853200,18
5859400,200,5853300,8,5859800,200,5853200,18
5859400,200,5853300,8,5859800,200,5853000,150
"""


def test_inspect_data_on_a_lobster_pair(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    msg = tmp_path / "AAPL_2012-06-21_34200000_57600000_message_2.csv"
    book = tmp_path / "AAPL_2012-06-21_34200000_57600000_orderbook_2.csv"
    msg.write_text(LOBSTER_MESSAGES)
    book.write_text(LOBSTER_BOOK)
    res = run(capsys, "inspect-data", str(book), str(msg))  # any order
    assert res["symbol"] == "AAPL"
    assert res["date"] == "2012-06-21"
    v = res["venues"]["XNAS"]
    assert v["rows"] == 4
    assert v["trades"] == 1
    assert v["traded_volume"] == 10
    assert v["first_ts"] == "2012-06-21T09:30:00.004241176-04:00"


def test_inspect_data_on_taq_quotes_then_trades(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    quotes = tmp_path / "quotes.csv"
    trades = tmp_path / "trades.csv"
    quotes.write_text(
        "DATE,TIME_M,EX,SYM_ROOT,BID,BIDSIZ,ASK,ASKSIZ\n"
        "20250402,09:30:00.000001,Q,AAPL,100.00,3,100.02,2\n"
        "20250402,09:30:00.000002,P,AAPL,100.00,1,100.03,4\n"
        "20250402,09:30:01.000000,Q,AAPL,100.01,3,100.02,2\n"
    )
    trades.write_text(
        "DATE,TIME_M,EX,SYM_ROOT,SIZE,PRICE\n"
        "20250402,09:30:00.500000,Q,AAPL,100,100.02\n"
        "20250402,09:30:02.000000,P,AAPL,300,100.00\n"
        "20250402,09:30:03.000000,D,AAPL,50,100.01\n"
    )
    res = run(capsys, "inspect-data", str(quotes), str(trades))
    assert set(res["venues"]) == {"XNAS", "ARCX", "FINN"}
    assert res["venues"]["XNAS"]["trades"] == 1
    assert res["venues"]["XNAS"]["rows"] == 3
    assert res["venues"]["ARCX"]["traded_volume"] == 300
    assert res["venues"]["FINN"]["trades"] == 1


def test_config_show(capsys: pytest.CaptureFixture[str]) -> None:
    res = run(capsys, "config", "show", "--preset", "spec", "--set", "strategy.S=500")
    assert res["config"]["strategy"]["S"] == 500
    assert res["config"]["myopic"]["lambda_value"] == 25000.0
    assert len(res["hash"]) == 12
    with pytest.raises(SystemExit):
        main(["config", "show"])
    text = capsys.readouterr().out
    assert "lambda_value: 25000.0" in text
    assert "config_hash" in text


def test_config_errors_exit_2_naming_the_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("strategy:\n  lamda_u: 0.1\n")
    with pytest.raises(SystemExit) as info:
        main(["config", "show", "--config", str(bad)])
    assert info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0
    assert "strategy.lamda_u" in err
    assert "lambda_u" in err
    with pytest.raises(SystemExit) as info:
        main(["config", "show", "--preset", "nope"])
    assert info.value.code == 2
    assert "nope" in capsys.readouterr().err


def test_every_command_has_help_with_an_example(capsys: pytest.CaptureFixture[str]) -> None:
    for cmd in (["demo"], ["generate-data"], ["inspect-data"], ["config", "show"]):
        with pytest.raises(SystemExit) as info:
            main([*cmd, "--help"])
        assert info.value.code == 0
        assert "Example: myopic-sor" in capsys.readouterr().out


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    import myopic_sor

    out = run(capsys, "version")  # run() adds --json
    assert out["myopic_sor"] == myopic_sor.__version__
    assert set(out) >= {"python", "numpy", "numba", "databento-dbn"}
    with pytest.raises(SystemExit) as info:
        main(["version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.strip() == myopic_sor.__version__


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::myopic_sor.exceptions.MyopicSorWarning")
def test_demo_runs_the_main_job(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # the README's main command: the default day, every strategy, the report
    out = run(capsys, "demo", "--out", str(tmp_path / "demo"), "--format", "dbn")
    comparison = out["comparison"]
    assert set(comparison["strategies"]) == {
        "myopic", "traditional", "twap", "vwap", "almgren_chriss", "ow",
    }  # fmt: skip
    for row in comparison["strategies"].values():
        assert row["total_size"] == 10_000
    page = Path(out["report"]["html"]).read_text(encoding="utf-8")
    assert page.count("data:image/png;base64,") >= 3
    assert Path(out["report"]["md"]).exists()
    assert Path(out["report"]["txt"]).exists()
