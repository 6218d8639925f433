"""The model commands as a user runs them: the ``schedule`` what-if and ``estimate-lambda``."""

from __future__ import annotations

import contextlib
import io
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import myopic_sor.cli._model_cmds  # noqa: F401  (registers the commands until __init__ does)
from myopic_sor.alpha import exp_decay_curve
from myopic_sor.cli import main
from myopic_sor.cli._model_cmds import largest_remainder, parse_alpha_spec
from myopic_sor.data import lambda_tau
from myopic_sor.exceptions import ConfigError, ConvergenceWarning


def _reject_nan(name: str) -> Any:
    raise AssertionError(f"non-standard JSON constant {name} in the output")


def run(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    with pytest.raises(SystemExit) as info:
        main([*args, "--json"])
    captured = capsys.readouterr()
    assert info.value.code == 0, captured.err
    out: dict[str, Any] = json.loads(captured.out, parse_constant=_reject_nan)
    return out


def ow_discrete(X: float, N: int, beta: float, T: float) -> np.ndarray:
    """MATH.md §3 discrete check: N+1 equally spaced trades, a = exp(−βT/N)."""
    a = math.exp(-beta * T / N)
    den = 2.0 + (N - 1) * (1.0 - a)
    q = np.full(N + 1, X * (1.0 - a) / den)
    q[0] = q[-1] = X / den
    return q


def impact_recursion(t: np.ndarray, q: np.ndarray, lam: float, beta: float) -> np.ndarray:
    """Impact just after each trade, I_n^+ = e^{−βΔ} I_{n−1}^+ + λ q_n, by a plain loop."""
    out = np.empty_like(q)
    level = 0.0
    for n in range(q.shape[0]):
        if n:
            level *= math.exp(-beta * (t[n] - t[n - 1]))
        level += lam * q[n]
        out[n] = level
    return out


SCHED = ("schedule", "--lambda", "0.001", "--beta", "0.5", "--horizon", "10")


# ----------------------------------------------------------------------------------------------
# schedule


@pytest.mark.parametrize(("X", "N"), [(10_000.0, 10), (-2_500.0, 4), (777.0, 1)])
def test_zero_alpha_equals_the_ow_discrete_closed_form(
    capsys: pytest.CaptureFixture[str], X: float, N: int
) -> None:
    res = run(capsys, *SCHED, "--quantity", str(X), "--steps", str(N), "--alpha", "zero",
              "--no-round")  # fmt: skip
    expected = ow_discrete(X, N, 0.5, 10.0)
    q = np.array(res["quantities"])
    np.testing.assert_allclose(q, expected, rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(res["times"], np.linspace(0.0, 10.0, N + 1), rtol=0, atol=0)
    assert len(res["impact"]) == N + 1
    np.testing.assert_allclose(
        res["impact"], impact_recursion(np.array(res["times"]), q, 0.001, 0.5), rtol=1e-12
    )
    # continuous closed form: blocks X/(2 + βT), rate βX/(2 + βT)
    assert res["start_block"] == pytest.approx(X / 7.0, rel=1e-9)
    assert res["end_block"] == pytest.approx(X / 7.0, rel=1e-9)
    np.testing.assert_allclose(res["rate"], 0.5 * X / 7.0, rtol=1e-9)
    # expected cost of the OW optimum with α = 0: (λ/2) qᵀGq
    t = np.linspace(0.0, 10.0, N + 1)
    G = np.exp(-0.5 * np.abs(t[:, None] - t[None, :]))
    assert res["expected_cost"] == pytest.approx(0.0005 * expected @ G @ expected, rel=1e-10)
    assert res["nu"] == pytest.approx(0.001 * X * 2 / 7.0, rel=1e-9)  # ν = 2λX/(2 + βT)
    assert res["params"] == {
        "lambda": 0.001, "beta": 0.5, "horizon": 10.0, "steps": N, "n_trades": N + 1,
        "quantity": X, "pure_alpha": False, "rounded": False,
        "alpha": {"kind": "zero", "amplitude": 0.0, "tau": None},
    }  # fmt: skip


def test_rounding_is_largest_remainder_of_the_exact_schedule(
    capsys: pytest.CaptureFixture[str],
) -> None:
    res = run(capsys, *SCHED, "--quantity", "10000", "--steps", "10", "--alpha", "zero")
    expected = ow_discrete(10_000.0, 10, 0.5, 10.0)
    q = res["quantities"]
    assert all(isinstance(v, int) for v in q)
    assert sum(q) == 10_000 == res["total_quantity"]
    assert np.all(np.abs(np.array(q) - expected) < 1.0)
    # floor everywhere, plus one share on the largest fractional parts
    floors = np.floor(expected)
    k = 10_000 - int(floors.sum())
    top = set(np.argsort(-(expected - floors), kind="stable")[:k].tolist())
    assert q == [int(f) + (1 if i in top else 0) for i, f in enumerate(floors)]
    # the cost is that of the rounded schedule, slightly above the exact optimum
    assert res["expected_cost"] >= res["expected_cost_unrounded"] - 1e-9
    assert res["expected_cost"] == pytest.approx(res["expected_cost_unrounded"], rel=1e-4)


def test_largest_remainder_keeps_signed_sums_exact() -> None:
    q = np.array([-3.7, 1.2, 4.5, -0.25, 0.25])
    out = largest_remainder(q, 2)
    assert out.tolist() == [-4, 1, 5, 0, 0]
    assert int(out.sum()) == 2
    with pytest.raises(ConfigError, match="--no-round"):
        largest_remainder(q, 40)


def test_expdecay_alpha_is_the_documented_curve_and_the_schedule_is_optimal(
    capsys: pytest.CaptureFixture[str],
) -> None:
    A, tau, T, N, lam, beta, X = 0.004, 20.0, 60.0, 12, 1e-6, 0.05, 10_000.0
    res = run(capsys, "schedule", "--lambda", str(lam), "--beta", str(beta), "--horizon",
              str(T), "--quantity", "10000", "--steps", str(N), "--alpha",
              f"expdecay:{A}:{tau}", "--no-round")  # fmt: skip
    t = np.array(res["times"])
    alpha = np.array(res["alpha"])
    np.testing.assert_allclose(alpha, A * (np.exp(-t / tau) - math.exp(-T / tau)), atol=1e-15)
    # the library's own constructor of this curve agrees (times in seconds from 0)
    curve = exp_decay_curve(0, T, A, tau, step_s=T / N)
    np.testing.assert_allclose(alpha, curve(t), atol=1e-12)
    q = np.array(res["quantities"])
    assert q.sum() == pytest.approx(X, rel=1e-12)
    # KKT of min −q·α + (λ/2) qᵀGq s.t. Σq = X: λ G q − α is the same on every slot
    G = np.exp(-beta * np.abs(t[:, None] - t[None, :]))
    grad = lam * G @ q - alpha
    assert np.ptp(grad) < 1e-12 * np.abs(alpha).max()
    # a positive drift makes a buyer front-load relative to the OW schedule
    assert q[0] > ow_discrete(X, N, beta, T)[0]
    # cost by the quadratic form
    assert res["expected_cost"] == pytest.approx(-q @ alpha + 0.5 * lam * q @ G @ q, rel=1e-10)
    terms = res["expected_cost_terms"]
    assert terms["alpha"] + terms["impact"] + terms["self_impact"] == pytest.approx(
        res["expected_cost"], rel=1e-12
    )


def test_discrete_schedule_converges_to_the_continuous_blocks(
    capsys: pytest.CaptureFixture[str],
) -> None:
    res = run(capsys, "schedule", "--lambda", "1e-6", "--beta", "0.05", "--horizon", "60",
              "--quantity", "10000", "--steps", "3000", "--alpha", "expdecay:0.004:20",
              "--no-round")  # fmt: skip
    q = np.array(res["quantities"])
    assert q[0] == pytest.approx(res["start_block"], rel=2e-3)
    assert q[-1] == pytest.approx(res["end_block"], rel=2e-3)
    dt = 60.0 / 3000
    np.testing.assert_allclose(q[1:-1] / dt, np.array(res["rate"][1:-1]), rtol=0.02)
    blocks_and_rate = res["start_block"] + res["end_block"] + np.sum(q[1:-1])
    assert blocks_and_rate == pytest.approx(10_000.0, rel=1e-3)


def test_pure_alpha_without_quantity(capsys: pytest.CaptureFixture[str]) -> None:
    res = run(capsys, "schedule", "--lambda", "1e-6", "--beta", "0.05", "--horizon", "60",
              "--steps", "6", "--alpha", "expdecay:0.004:20", "--no-round")  # fmt: skip
    assert res["nu"] == 0.0
    assert res["params"]["pure_alpha"] is True
    assert res["params"]["quantity"] is None
    t, q, alpha = (np.array(res[k]) for k in ("times", "quantities", "alpha"))
    G = np.exp(-0.05 * np.abs(t[:, None] - t[None, :]))
    np.testing.assert_allclose(1e-6 * G @ q, alpha, atol=1e-15)  # ν = 0: λ G q = α
    rounded = run(capsys, "schedule", "--lambda", "1e-6", "--beta", "0.05", "--horizon", "60",
                  "--steps", "6", "--alpha", "expdecay:0.004:20")  # fmt: skip
    assert sum(rounded["quantities"]) == round(q.sum()) == rounded["total_quantity"]
    zero = run(capsys, *SCHED, "--steps", "5")  # no view, no quantity: nothing to do
    assert zero["quantities"] == [0] * 6
    assert zero["expected_cost"] == 0.0


def test_schedule_table_for_people(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main([*SCHED, "--quantity", "700", "--steps", "50"])
    out = capsys.readouterr().out
    assert info.value.code == 0
    assert "Optimal schedule" in out
    assert "expected cost C(q)" in out
    assert "…" in out  # long schedules show their head and tail
    assert "continuous blocks     start 100, end 100" in out  # X/(2 + βT) = 700/7


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--lambda", "0"], "--lambda must be a finite number > 0"),
        (["--lambda", "-1"], "--lambda must be"),
        (["--beta", "0"], "--beta must be"),
        (["--horizon", "-5"], "--horizon must be"),
        (["--steps", "0"], "--steps must be between 1"),
        (["--alpha", "expdecay:0.1"], "is not a valid SPEC"),
        (["--alpha", "linear:1:2"], "is not a valid SPEC"),
        (["--alpha", "expdecay:x:2"], "must be numbers"),
        (["--alpha", "expdecay:0.1:0"], "TAU must be a finite number > 0"),
        (["--alpha", "expdecay:0.1:-3"], "TAU must be"),
        (["--alpha", "expdecay:nan:3"], "amplitude A must be a finite"),
        (["--quantity", "0"], "--quantity must be a finite non-zero"),
        (["--quantity", "10.5"], "not a whole number of shares"),
    ],
)
def test_schedule_bad_input_exits_2_with_one_line(
    capsys: pytest.CaptureFixture[str], args: list[str], needle: str
) -> None:
    base = {"--lambda": "1", "--beta": "1", "--horizon": "1", "--steps": "4", "--quantity": "100"}
    base.update(dict(zip(args[::2], args[1::2], strict=True)))
    argv = ["schedule", *(x for kv in base.items() for x in kv)]
    with pytest.raises(SystemExit) as info:
        main([*argv, "--json"])
    err = capsys.readouterr()
    assert info.value.code == 2
    assert err.out == ""
    lines = err.err.strip().splitlines()
    assert len(lines) == 1, err.err
    assert lines[0].startswith("myopic-sor: error: ")
    assert needle in lines[0]


def test_parse_alpha_spec() -> None:
    assert parse_alpha_spec(" ZERO ").kind == "zero"
    s = parse_alpha_spec("expdecay:-0.5:1e3")
    assert (s.kind, s.amplitude, s.tau) == ("expdecay", -0.5, 1000.0)
    a, da, d2a = s.curves(100.0)
    t = np.array([0.0, 50.0, 100.0])
    np.testing.assert_allclose(a(t), -0.5 * (np.exp(-t / 1e3) - math.exp(-0.1)))
    np.testing.assert_allclose(da(t), 0.5e-3 * np.exp(-t / 1e3))
    np.testing.assert_allclose(d2a(t), -0.5e-6 * np.exp(-t / 1e3))
    assert a(t)[-1] == 0.0


# ----------------------------------------------------------------------------------------------
# estimate-lambda

ADV = 500_000.0


@pytest.fixture(scope="module")
def day(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """A 30-minute synthetic day (ADV 500k shares: strong impact signal), via generate-data."""
    out = tmp_path_factory.mktemp("gen")
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf), pytest.raises(SystemExit) as info:
        main(["generate-data", "--stock", "AAPL", "--day", "2025-04-02", "--venues", "2",
              "--out", str(out), "--seed", "3", "--end", "10:00", "--adv", str(ADV),
              "--lambda", "25000", "--half-life-s", "300", "--json"])  # fmt: skip
    assert info.value.code == 0
    return out / "AAPL", json.loads(buf.getvalue())["truth"]


def test_estimate_lambda_recovers_the_truth(
    day: tuple[Path, dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    path, truth = day
    sigma = truth["sigma_daily"]
    res = run(capsys, "estimate-lambda", str(path), "--date", "2025-04-02", "--periods",
              "1,5,10", "--joint", "--volatility", str(sigma), "--adv", str(ADV))  # fmt: skip
    assert (res["symbol"], res["date"]) == ("AAPL", "2025-04-02")
    assert (res["volatility"], res["adv"]) == (sigma, ADV)
    assert (res["volatility_source"], res["adv_source"]) == ("--volatility", "--adv")
    assert list(res["periods"]) == ["1s", "5s", "10s"]
    lam, beta = truth["lambda"], truth["beta_per_s"]
    for label, tau, n_min in (("1s", 1.0, 1700), ("5s", 5.0, 340), ("10s", 10.0, 170)):
        e = res["periods"][label]
        assert {"lambda", "r2", "t_stat", "n"} <= set(e)
        assert e["reason"] is None
        assert e["lambda"] == pytest.approx(lambda_tau(lam, beta, tau), rel=0.10)
        assert 0.3 < e["r2"] < 1.0
        assert e["t_stat"] > 10
        assert n_min <= e["n"] <= 1800 / tau
    # default preferred periods 60s, 30s, 10s: only 10s was estimated, and it passes
    sel = res["selected"]
    assert sel["period"] == "10s"
    assert sel["lambda"] == res["periods"]["10s"]["lambda"]
    assert "first preferred period" in sel["reason"]
    j = res["joint"]
    assert j["lambda"] == pytest.approx(lam, rel=0.10)
    assert j["beta_per_s"] == pytest.approx(beta, rel=0.5)
    assert j["half_life_s"] == pytest.approx(math.log(2) / j["beta_per_s"])
    assert 0.3 < j["r2"] < 1.0
    assert 0.3 < j["r2_in"] < 1.0


def test_estimate_lambda_takes_sigma_adv_and_periods_from_the_config(
    day: tuple[Path, dict[str, Any]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path, truth = day
    cfg = tmp_path / "cfg.yaml"
    cfg.write_text(
        f"myopic:\n  volatility: {truth['sigma_daily']}\n  adv: {ADV}\n"
        "lambda_estimation:\n  agg_periods: [2, 5]\n  preferred_periods: ['5s']\n"
    )
    res = run(capsys, "estimate-lambda", str(path), "--config", str(cfg))
    assert res["adv"] == ADV
    assert res["adv_source"] == "config myopic.adv"
    assert res["volatility"] == truth["sigma_daily"]
    assert list(res["periods"]) == ["2s", "5s"]
    assert res["selected"]["period"] == "5s"
    assert "joint" not in res
    # a window of the session reads fewer buckets
    part = run(capsys, "estimate-lambda", str(path), "--config", str(cfg), "--start", "09:30",
               "--end", "09:45")  # fmt: skip
    assert part["periods"]["5s"]["n"] < res["periods"]["5s"]["n"]
    assert part["periods"]["5s"]["n"] <= 15 * 60 / 5


def test_estimate_lambda_without_a_usable_preferred_period_falls_back(
    day: tuple[Path, dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    path, truth = day
    # 30 minutes hold at most 15 two-minute changes (< 30): 120s has no estimate, and no
    # preferred period (60s, 30s, 10s) is run.
    with (
        pytest.warns(ConvergenceWarning, match="no preferred period passes") as record,
        pytest.raises(SystemExit) as info,
    ):
        main(["estimate-lambda", str(path), "--periods", "2,120", "--volatility",
              str(truth["sigma_daily"]), "--adv", str(ADV), "--json"])  # fmt: skip
    captured = capsys.readouterr()
    assert info.value.code == 0, captured.err
    assert any("fallback_lambda = 25000" in str(w.message) for w in record)
    res = json.loads(captured.out, parse_constant=_reject_nan)
    e = res["periods"]["120s"]
    assert e["lambda"] is None  # strict JSON: null, never NaN
    assert e["r2"] is None
    assert "too little data" in e["reason"]
    assert res["selected"]["period"] == "fallback"
    assert res["selected"]["lambda"] == 25_000.0


def test_estimate_lambda_human_output(
    day: tuple[Path, dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    path, truth = day
    with pytest.raises(SystemExit) as info:
        main(["estimate-lambda", str(path), "--periods", "1,10", "--volatility",
              str(truth["sigma_daily"]), "--adv", str(ADV)])  # fmt: skip
    out = capsys.readouterr().out
    assert info.value.code == 0
    assert "selected λ" in out
    assert "from 10s" in out
    assert "1s" in out


def test_estimate_lambda_plot(
    day: tuple[Path, dict[str, Any]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path, truth = day
    plot = tmp_path / "plots" / "lambda.png"
    with pytest.raises(SystemExit) as info:
        main(["estimate-lambda", str(path), "--periods", "1,10,60", "--volatility",
              str(truth["sigma_daily"]), "--adv", str(ADV), "--plot", str(plot),
              "--json"])  # fmt: skip
    assert info.value.code == 0
    res = json.loads(capsys.readouterr().out)
    assert res["plot"] == str(plot)
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--periods", "1,abc"], "--periods: 'abc' is not a period"),
        (["--periods", ","], "--periods ',' is empty"),
        (["--adv", "0"], "--adv must be a finite number > 0"),
        (["--volatility", "-0.1"], "--volatility must be"),
        (["--volatility", "0.02", "--rolling-volatility"], "not both"),
    ],
)
def test_estimate_lambda_bad_input(
    day: tuple[Path, dict[str, Any]],
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    needle: str,
) -> None:
    path, _ = day
    with pytest.raises(SystemExit) as info:
        main(["estimate-lambda", str(path), *args, "--json"])
    err = capsys.readouterr().err
    assert info.value.code == 2
    assert len(err.strip().splitlines()) == 1
    assert needle in err


def test_estimate_lambda_missing_data_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as info:
        main(["estimate-lambda", str(tmp_path / "nothing-here"), "--json"])
    assert info.value.code == 2
    assert capsys.readouterr().err.startswith("myopic-sor: error: ")


def test_help_has_an_example(capsys: pytest.CaptureFixture[str]) -> None:
    for cmd in ("schedule", "estimate-lambda"):
        with pytest.raises(SystemExit) as info:
            main([cmd, "--help"])
        assert info.value.code == 0
        out = capsys.readouterr().out
        assert f"Example: myopic-sor {cmd}" in out
        assert "🅰" not in out  # rich must not turn ':A:' into an emoji
