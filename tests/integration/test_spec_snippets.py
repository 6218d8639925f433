"""The spec's remaining snippets ("Configuration Guide", "Usage Instructions" and "Output
Analysis Framework" of the user's spec) run as written against generated data in the spec's
layout, and what each one promises is checked: results keys and types, printed figures against
the results they print, what a run fills, the window and the λ it used.

The snippets are copies of the spec's code blocks, one per heading. ``test_copies_are_the_spec``
compares them with the spec's text (``docs/spec.md``, or ``$MYOPIC_SOR_SPEC``), so a change of
the spec fails here. Copies differ from the spec only by trailing whitespace.

The snippets run as one reader's interpreter session: names a snippet takes from the spec's
other snippets (``strategy_params``, the spec's imports) are in its namespace first
(:data:`SESSION`). Data: the 3 stocks x 3 days of ``conftest.workdir`` (09:30-10:00
sessions; windows to 16:00 trade the rest on the last books). "2. Batch Processing" holds a
``# ... other parameters`` placeholder: it is filled with the Single Stock Test's arguments and a
window ending with the data, to keep the file fast; "3. Parameter Optimization" runs as written
(the stock-day defaults to the configured or embedded one).
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import runpy
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from myopic_sor.config import load_config
from myopic_sor.scheduling import MyopicParameters, MyopicScheduler

pytestmark = pytest.mark.filterwarnings("ignore::myopic_sor.exceptions.MyopicSorWarning")

SPEC = Path(
    os.environ.get("MYOPIC_SOR_SPEC", Path(__file__).resolve().parents[2] / "docs" / "spec.md")
)

# heading (as in the spec) -> its code block, copied from the spec
SNIPPETS = {
    "1. Strategy Parameters": """\
strategy_params = {
    'S': 100,          # Total order size (shares)
    'T': 5,            # Time horizon (minutes)
    'f': 0.003,        # Fee rate (30 bps)
    'r': [0.003],      # Rebate rates per venue
    'theta': 0.0005,   # Market impact parameter
    'lambda_u': 0.05,  # Underfill penalty
    'lambda_o': 0.05,  # Overfill penalty
    'N': 1000          # Number of Monte Carlo simulations
}
""",
    "2. Myopic Parameters": """\
myopic_params = MyopicParameters(
    lambda_value=25000.0,  # Market impact coefficient (auto-estimated)
    beta=0.693,           # Impact decay (ln(2) for 1-hour half-life)
    volatility=0.01,      # Asset volatility (1%)
    adv=1000000.0,       # Average Daily Volume
    T=6.5,               # Trading session length (hours)
    Q_0=0.01             # Initial position normalization
)
""",
    "1. Basic Usage": """\
# Run with default settings
python main_myopic_final.py
""",
    "2. Custom Configuration": """\
from main_myopic_final import main
from myopic_sor_scheduler import MyopicParameters

# Customize parameters
strategy_params = {
    'S': 500,      # Larger order size
    'T': 10,       # Longer time horizon
    # ... other parameters
}

# Run with custom settings
results = main()
""",
    "3. Single Stock Test": """\
from main_myopic_final import run_job_with_myopic

# Test single stock
stock_results = run_job_with_myopic(
    stock="AAPL",
    day="2025-04-02",
    strategy_params=strategy_params,
    data_path="./data/",
    order_freq=120,
    start_time=("09", "30"),
    end_time=("16", "00"),
    lookup_duration=(0, 15),
    market_data_path="./data/",
    use_myopic=True
)
""",
    "1. Comparison Mode": """\
from main_myopic_final import compare_myopic_vs_traditional

# Compare approaches
comparison = compare_myopic_vs_traditional(
    stock="AAPL",
    day="2025-04-02",
    strategy_params=strategy_params,
    data_path="./data/",
    order_freq=120,
    start_time=("09", "30"),
    end_time=("16", "00"),
    lookup_duration=(0, 15),
    market_data_path="./data/"
)

print(f"Cost improvement: {comparison['improvement']['cost_improvement_pct']:.2f}%")
""",
    "2. Batch Processing": """\
# Process multiple stocks and days
stocks = ["AAPL", "MSFT", "GOOGL"]
days = ["2025-04-01", "2025-04-02", "2025-04-03"]

results = {}
for stock in stocks:
    for day in days:
        key = f"{stock}_{day}"
        results[key] = run_job_with_myopic(
            stock=stock,
            day=day,
            # ... other parameters
        )
""",
    "3. Parameter Optimization": """\
from myopic_sor_scheduler import MyopicScheduler, MyopicParameters

# Test different lambda values
lambda_values = [10000, 15000, 20000, 25000, 30000]
results = {}

for lambda_val in lambda_values:
    params = MyopicParameters(lambda_value=lambda_val, beta=0.693, volatility=0.01, adv=1000000)
    scheduler = MyopicScheduler(params)

    # Run backtest with this lambda
    result = enhanced_backtest_with_myopic(
        # ... parameters
        myopic_params=params
    )

    results[lambda_val] = result
""",
    "1. Results Structure Design": """\
results = {
    'total_cost': float,             # Total execution cost
    'total_size': int,               # Total shares traded
    'avg_cost_per_share': float,     # Average cost per share
    'num_decisions': int,            # Number of trading decisions
    'myopic_enabled': bool,          # Whether myopic was used
    'lambda_used': float,            # Lambda parameter used
    'results': list                  # Detailed trade-by-trade results
}
""",
    "2. Performance Metrics Framework": """\
# Access performance metrics
print(f"Average cost per share: ${results['avg_cost_per_share']:.4f}")
print(f"Total execution cost: ${results['total_cost']:.2f}")
print(f"Number of decisions: {results['num_decisions']}")
print(f"Fill rate: {results['total_size']/strategy_params['S']*100:.1f}%")
""",
    "3. Comparison Analysis Framework": """\
# Analyze improvement potential
if 'improvement' in comparison:
    improvement = comparison['improvement']['cost_improvement_pct']
    print(f"Potential cost improvement with myopic: {improvement:.2f}%")

    if improvement > 0:
        print("✅ Myopic scheduling shows potential benefit")
    else:
        print("❌ Traditional approach may be preferred")
""",
}

# What the snippets use from the spec's other snippets: `strategy_params` ("1. Strategy
# Parameters") and the spec's imports; the spec calls enhanced_backtest_with_myopic ("3. Parameter
# Optimization", "Error Recovery") without importing it: main_myopic_final exports it.
SESSION = """\
from main_myopic_final import compare_myopic_vs_traditional, enhanced_backtest_with_myopic
from main_myopic_final import main, run_job_with_myopic
from myopic_sor_scheduler import MyopicParameters, MyopicScheduler
"""

DAY = "2025-04-02"
STOCKS = ["AAPL", "MSFT", "GOOGL"]
DAYS = ["2025-04-01", "2025-04-02", "2025-04-03"]


def spec_block(text: str, heading: str) -> str:
    """The first code block under the one heading titled ``heading``, trailing blanks off."""
    lines = text.splitlines()
    at = [i for i, line in enumerate(lines) if re.fullmatch(rf"#+ {re.escape(heading)}", line)]
    assert len(at) == 1, f"{len(at)} headings {heading!r} in {SPEC}"
    i = at[0] + 1
    while not lines[i].startswith("```"):
        assert not lines[i].startswith("#"), f"no code block under {heading!r}"
        i += 1
    j = lines.index("```", i + 1)
    return "".join(line.rstrip() + "\n" for line in lines[i + 1 : j])


def session(workdir: Path) -> dict[str, Any]:
    """A fresh namespace holding what the snippets take from the spec's other snippets."""
    ns: dict[str, Any] = {"__name__": "__spec_session__"}
    run(SESSION + SNIPPETS["1. Strategy Parameters"], ns, workdir)
    return ns


def run(code: str, ns: dict[str, Any], workdir: Path) -> str:
    """Exec ``code`` in ``ns`` from ``workdir`` (the snippets read ``./data/``); return stdout."""
    buf = io.StringIO()
    with contextlib.chdir(workdir), contextlib.redirect_stdout(buf):
        exec(compile(code, "<spec snippet>", "exec"), ns)
    return buf.getvalue()


def number(pattern: str, out: str) -> float:
    """The number printed by the line ``pattern`` (a regex with one group)."""
    found = re.findall(pattern, out)
    assert len(found) == 1, f"{pattern!r} printed {len(found)} times in:\n{out}"
    return float(found[0].replace(",", ""))


def improvement_pct(comparison: dict[str, Any]) -> float:
    """(traditional - myopic) / traditional average price x 100, for a buy (recomputed)."""
    myo = comparison["myopic"]["avg_cost_per_share"]
    trad = comparison["traditional"]["avg_cost_per_share"]
    return float((trad - myo) / trad * 100.0)


def check_run(
    res: dict[str, Any], *, stock: str, day: str, size: int, myopic: bool, end: str = "16:00"
) -> None:
    """One run's results: the parent filled exactly over the 09:30-``end`` window of ``day``."""
    assert res["myopic_enabled"] is myopic
    assert "fallback_reason" not in res, res.get("fallback_reason")
    assert res["total_size"] == size
    assert res["parent"]["symbol"] == stock
    assert res["parent"]["quantity"] == size
    t0 = pd.Timestamp(res["parent"]["start"]).tz_convert("America/New_York")
    t1 = pd.Timestamp(res["parent"]["end"]).tz_convert("America/New_York")
    assert (str(t0.date()), t0.strftime("%H:%M"), t1.strftime("%H:%M")) == (
        day,
        "09:30",
        end,
    )
    assert res["total_cost"] == pytest.approx(res["avg_cost_per_share"] * res["total_size"])
    assert res["num_decisions"] == sum(1 for d in res["results"] if d["quantity"] != 0)


@pytest.fixture(scope="module")
def single_stock(workdir: Path) -> dict[str, Any]:
    """The namespace after "3. Single Stock Test" (run once: later snippets read it)."""
    ns = session(workdir)
    run(SNIPPETS["3. Single Stock Test"], ns, workdir)
    return ns


@pytest.fixture(scope="module")
def comparison_mode(workdir: Path) -> tuple[dict[str, Any], str]:
    """The namespace and printout of "1. Comparison Mode" (run once)."""
    ns = session(workdir)
    out = run(SNIPPETS["1. Comparison Mode"], ns, workdir)
    return ns, out


def test_copies_are_the_spec() -> None:
    if not SPEC.exists():
        pytest.skip(f"the spec is not at {SPEC} (set MYOPIC_SOR_SPEC to compare the copies)")
    text = SPEC.read_text(encoding="utf-8")
    for heading, code in SNIPPETS.items():
        assert spec_block(text, heading) == code, f"the spec's {heading!r} changed"


def test_strategy_and_myopic_parameters_are_the_defaults(workdir: Path) -> None:
    ns = session(workdir)
    run(SNIPPETS["2. Myopic Parameters"], ns, workdir)
    cfg = load_config()
    # the spec's values are the shipped defaults: merging them changes nothing
    assert load_config(overrides={"strategy": ns["strategy_params"]}) == cfg
    assert ns["myopic_params"] == MyopicParameters.from_config(cfg.myopic)
    assert ns["myopic_params"].to_impact_params().lambda_per_share == pytest.approx(25000 * 1e-8)


def test_basic_usage_runs_main_from_the_shell(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = SNIPPETS["1. Basic Usage"]
    (module,) = re.findall(r"^python (\w+)\.py$", code, re.M)
    # `python -m module` in this process (what `python -m` runs, without a new interpreter)
    with contextlib.chdir(workdir):
        runpy.run_module(module, run_name="__main__", alter_sys=True)
    out = capsys.readouterr().out
    # the default run: the myopic-vs-traditional comparison of the default stock-day, printed
    assert "AAPL" in out
    assert DAY in out
    assert "improvement" in out.lower()


def test_custom_configuration_runs_the_default_comparison(
    workdir: Path, comparison_mode: tuple[dict[str, Any], str]
) -> None:
    ns = session(workdir)
    run(SNIPPETS["2. Custom Configuration"], ns, workdir)
    results = ns["results"]
    assert list(results) == [f"AAPL_{DAY}"]
    comp = results[f"AAPL_{DAY}"]
    assert set(comp) >= {"myopic", "traditional", "improvement", "stock", "comparison_date"}
    assert (comp["stock"], comp["comparison_date"]) == ("AAPL", DAY)
    # the snippet's strategy_params never reach main() (the spec calls it without arguments):
    # main() runs the configured defaults, i.e. exactly the Comparison Mode snippet's run
    size = load_config().strategy.S
    check_run(comp["myopic"], stock="AAPL", day=DAY, size=size, myopic=True)
    check_run(comp["traditional"], stock="AAPL", day=DAY, size=size, myopic=False)
    assert comp["improvement"] == comparison_mode[0]["comparison"]["improvement"]


def test_single_stock_test(single_stock: dict[str, Any]) -> None:
    stock, res = single_stock["stock_results"]
    assert stock == "AAPL"
    check_run(res, stock="AAPL", day=DAY, size=single_stock["strategy_params"]["S"], myopic=True)
    # λ estimated on data before the window only: the previous day in ./data/
    assert res["lambda_source"].startswith("previous day 2025-04-01")
    assert res["lambda_used"] > 0


def test_results_structure_design(workdir: Path, single_stock: dict[str, Any]) -> None:
    ns = session(workdir)
    run(SNIPPETS["1. Results Structure Design"], ns, workdir)
    schema = ns["results"]  # key -> the type the spec documents
    _, res = single_stock["stock_results"]
    wrong = {k: type(res.get(k)).__name__ for k, t in schema.items() if not isinstance(res[k], t)}
    assert not wrong, f"keys missing or of another type than the spec's: {wrong}"


def test_performance_metrics_framework(workdir: Path, single_stock: dict[str, Any]) -> None:
    ns = dict(single_stock)
    ns["results"] = single_stock["stock_results"][1]  # `stock, results = run_job...` (Example 1)
    out = run(SNIPPETS["2. Performance Metrics Framework"], ns, workdir)
    res = ns["results"]
    avg = number(r"Average cost per share: \$([\d.,]+)\n", out)
    total = number(r"Total execution cost: \$([\d.,]+)\n", out)
    assert avg == pytest.approx(res["avg_cost_per_share"], abs=5e-5)
    assert total == pytest.approx(avg * res["total_size"], abs=0.005 + 5e-5 * res["total_size"])
    assert number(r"Number of decisions: (\d+)\n", out) == res["num_decisions"] > 0
    assert number(r"Fill rate: ([\d.]+)%\n", out) == 100.0
    # a price per share, not a total or a price in cents: near the data's price
    assert avg == pytest.approx(220.0, rel=0.05)  # conftest: AAPL starts at 220


def test_comparison_mode(comparison_mode: tuple[dict[str, Any], str]) -> None:
    ns, out = comparison_mode
    comparison = ns["comparison"]
    size = ns["strategy_params"]["S"]
    check_run(comparison["myopic"], stock="AAPL", day=DAY, size=size, myopic=True)
    check_run(comparison["traditional"], stock="AAPL", day=DAY, size=size, myopic=False)
    printed = number(r"^Cost improvement: (-?[\d.]+)%$", out)
    assert printed == round(improvement_pct(comparison), 2)


def test_comparison_analysis_framework(
    workdir: Path, comparison_mode: tuple[dict[str, Any], str]
) -> None:
    ns = dict(comparison_mode[0])
    out = run(SNIPPETS["3. Comparison Analysis Framework"], ns, workdir)
    pct = improvement_pct(ns["comparison"])
    assert number(r"Potential cost improvement with myopic: (-?[\d.]+)%", out) == round(pct, 2)
    verdict = "✅ Myopic scheduling shows potential benefit" if pct > 0 else "❌ Traditional"
    assert verdict in out
    assert out.count("✅") + out.count("❌") == 1


def test_batch_processing(workdir: Path) -> None:
    placeholder = "            # ... other parameters\n"
    code = SNIPPETS["2. Batch Processing"]
    assert code.count(placeholder) == 1
    # As written (the defaults: a 09:30-16:00 window) the nine runs take ~17 s of CPU; the
    # Single Stock Test's arguments with the window ending with the data (10:00) take ~5 s.
    filled = (
        "            strategy_params=strategy_params,\n"
        '            data_path="./data/",\n'
        '            end_time=("10", "00"),\n'
    )
    ns = session(workdir)
    run(code.replace(placeholder, filled), ns, workdir)
    results = ns["results"]
    assert list(results) == [f"{s}_{d}" for s in STOCKS for d in DAYS]
    size = ns["strategy_params"]["S"]
    for key, (stock, res) in results.items():
        day = key.split("_")[1]
        assert stock == key.split("_")[0]
        check_run(res, stock=stock, day=day, size=size, myopic=True, end="10:00")
        # causal λ: the first day has no earlier data, the others use the day before
        first = day == DAYS[0]
        assert res["lambda_source"].startswith("fallback" if first else "previous day"), key


def _check_lambda_sweep(ns: dict[str, Any], size: int) -> None:
    results = ns["results"]
    assert list(results) == ns["lambda_values"]
    for lam, res in results.items():
        assert res["myopic_enabled"] is True
        assert (res["lambda_used"], res["lambda_source"]) == (lam, "myopic_params")
        assert res["myopic_params"]["lambda_value"] == lam
        assert res["total_size"] == size
    assert isinstance(ns["scheduler"], MyopicScheduler)
    assert ns["scheduler"].params == ns["params"]


def test_parameter_optimization_as_written(workdir: Path) -> None:
    ns = session(workdir)
    run(SNIPPETS["3. Parameter Optimization"], ns, workdir)
    _check_lambda_sweep(ns, load_config().strategy.S)
