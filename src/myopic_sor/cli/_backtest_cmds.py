"""Backtest commands of the ``myopic-sor`` CLI: ``compare`` and ``run``.

Both execute one parent order (side, quantity, window) on one day of data in any supported
format through :class:`~myopic_sor.backtest.Backtester`: the same data, router, exchange
settings and seed for every strategy. Results go to ``<out>/<config hash>/`` atomically.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from myopic_sor.cli._app import JsonOpt, _emit_json, _json_safe, _stderr_console, app
from myopic_sor.exceptions import ConfigError

if TYPE_CHECKING:
    from myopic_sor.backtest import ParentOrder
    from myopic_sor.config import MyopicSorConfig
    from myopic_sor.data import MarketData, SyntheticConfig
    from myopic_sor.scheduling import MyopicParameters

__all__ = ["batch_cmd", "compare_cmd", "report_cmd", "run_cmd", "run_parent"]

_DEFAULT_STRATEGIES = "myopic,traditional,twap,vwap,almgren_chriss,ow"
_TABLE = (  # narrow enough for an 80-column terminal; every figure is in --json
    ("avg_cost_per_share", "cost/sh", 4),
    ("implementation_shortfall_bps", "IS bps", 2),
    ("total_size", "filled", 0),
    ("num_decisions", "children", 0),
    ("passive_share", "passive", 2),
    ("catchup_shares", "catch-up", 0),
)


def command_config(
    quantity: int,
    start: str,
    end: str,
    config: Path | None,
    preset: str | None,
    overrides: list[str] | None,
    seed: int | None,
) -> MyopicSorConfig:
    """The configuration of a parent-order command: layers, ``--set``, the window and seed."""
    from myopic_sor.config import load_config

    if not math.isfinite(quantity) or quantity <= 0:
        raise ConfigError(f"--quantity must be a positive whole number of shares, got {quantity}")
    sets = [*(overrides or []), f"execution.start_time={start}", f"execution.end_time={end}"]
    if seed is not None:
        sets.append(f"seed={seed}")
    return load_config(config, preset=preset, overrides=sets)


def load_parent(
    paths: list[Path], cfg: MyopicSorConfig, *, side: str, quantity: int, date: str | None
) -> tuple[MarketData, ParentOrder]:
    """The day's data (regular hours) and the parent order over the configured window."""
    from myopic_sor.backtest import ParentOrder, parse_side
    from myopic_sor.data import load_market_data

    hours, ex = cfg.market_hours, cfg.execution
    md = load_market_data(
        *paths, day=date, start=hours.open, end=hours.close, timezone=hours.timezone
    )
    t0, t1 = md.session_bounds_ns(ex.start_time, ex.end_time)
    if t0 >= md.last_ts:
        raise ConfigError(
            f"the window {ex.start_time:%H:%M}-{ex.end_time:%H:%M} starts after the last event "
            f"of {md.symbol} {md.date}; choose a window inside the data"
        )
    return md, ParentOrder(md.symbol, parse_side(side), quantity, t0, t1)


def _reactive_parent(
    cfg: MyopicSorConfig, *, side: str, quantity: int, seed: int | None
) -> tuple[SyntheticConfig, ParentOrder, MyopicParameters]:
    """The default synthetic day as a reactive market, the parent over the configured window
    on its date, and the market's true impact parameters."""
    import datetime as dt

    import pandas as pd

    from myopic_sor.backtest import ParentOrder, parse_side
    from myopic_sor.data import SyntheticConfig
    from myopic_sor.scheduling import MyopicParameters

    syn = SyntheticConfig() if seed is None else SyntheticConfig(seed=seed)
    ex = cfg.execution

    def at(t: dt.time) -> int:
        return int(pd.Timestamp(dt.datetime.combine(syn.date, t)).tz_localize(syn.timezone).value)

    t0, t1 = at(ex.start_time), at(ex.end_time)
    lo, hi = syn.session_bounds_ns()
    if not lo < t0 < t1 <= hi:
        msg = (
            f"the window {ex.start_time:%H:%M}-{ex.end_time:%H:%M} must lie inside the synthetic "
            f"session {syn.session_start:%H:%M}-{syn.session_end:%H:%M}, after its open (the "
            "router and the forecaster need history)"
        )
        raise ConfigError(msg)
    params = MyopicParameters(
        lambda_value=syn.impact_lambda,
        beta=syn.beta_per_s * 3600,
        volatility=syn.sigma_daily,
        adv=syn.adv_shares,
    )
    return syn, ParentOrder(syn.symbol, parse_side(side), quantity, t0, t1), params


def _parent_date(parent: ParentOrder, cfg: MyopicSorConfig) -> str:
    """The parent's trading day in the market's time zone (ISO)."""
    import pandas as pd

    tz = cfg.market_hours.timezone
    return str(pd.Timestamp(parent.start_ns, tz="UTC").tz_convert(tz).date().isoformat())


@contextlib.contextmanager
def _strategy_bar(total: int, *, enabled: bool) -> Iterator[Callable[[str], None]]:
    """A transient progress bar on stderr over the strategies (nothing when disabled)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=_stderr_console(),
        transient=True,
        disable=not enabled,
    )
    task = bar.add_task("backtesting", total=total)
    started = False

    def step(name: str) -> None:
        nonlocal started
        if started:
            bar.advance(task)
        started = True
        bar.update(task, description=f"backtesting {name}")

    with bar:
        yield step


def run_parent(
    paths: list[Path],
    *,
    side: str,
    quantity: int,
    start: str,
    end: str,
    date: str | None,
    strategies: list[str],
    config: Path | None,
    preset: str | None,
    overrides: list[str] | None,
    seed: int | None,
    queue_model: str,
    latency_us: float,
    out: Path | None,
    show_progress: bool = False,
    reactive: bool = False,
) -> dict[str, Any]:
    """Load the data, run each strategy on the parent, write the results; return the summary
    (``show_progress``: a transient bar on stderr, one step per strategy). ``reactive``: no
    data; the strategies trade in the reactive synthetic market (the default day's config,
    seed ``seed`` or its own) and the myopic schedules use its true impact parameters."""
    from myopic_sor._io import atomic_write_with, write_json_atomic
    from myopic_sor.analysis import arrival_mid
    from myopic_sor.backtest import Backtester, causal_lambda, compare_strategies
    from myopic_sor.backtest._compare import parse_strategy
    from myopic_sor.config import config_hash
    from myopic_sor.scheduling import MyopicParameters

    names = [parse_strategy(s).name for s in strategies]  # fail fast on a typo
    cfg = command_config(quantity, start, end, config, preset, overrides, seed)
    market: MarketData | SyntheticConfig
    if reactive:
        if paths:
            msg = "--reactive trades in the synthetic market: give no DATA paths"
            raise ConfigError(msg)
        market, parent, params = _reactive_parent(cfg, side=side, quantity=quantity, seed=seed)
        lam, lam_source = params.lambda_value, "true λ of the reactive synthetic market"
        p0 = market.initial_price  # for Almgren-Chriss's σ only; the runs report the arrival
        data = [f"reactive synthetic market (seed {market.seed})"]
        queue_model = "FIFO of the synthetic market"
    else:
        if not paths:
            raise ConfigError("give DATA (files or a layout directory), or --reactive")
        market, parent = load_parent(paths, cfg, side=side, quantity=quantity, date=date)
        lam, lam_source = causal_lambda(market, parent.start_ns, cfg, None)
        params = dataclasses.replace(MyopicParameters.from_config(cfg.myopic), lambda_value=lam)
        p0 = arrival_mid(market, parent.start_ns)
        data = [str(p) for p in paths]
    engine = Backtester(market, cfg, queue_model=queue_model, latency_us=latency_us, seed=cfg.seed)
    results: dict[str, Any] = {}
    with _strategy_bar(len(names), enabled=show_progress) as step:
        for name in names:  # one at a time for the bar; each run starts from the same seed
            step(name)
            results.update(compare_strategies(engine, parent, [name], params, mid_price=p0))
    if reactive:
        p0 = next(iter(results.values())).metrics["arrival_price"]
    digest = config_hash(cfg)
    summary: dict[str, Any] = {
        "symbol": parent.symbol,
        "date": _parent_date(parent, cfg),
        "data": data,
        "parent": {
            "side": parent.side_name,
            "quantity": parent.quantity,
            "start": start,
            "end": end,
        },
        "arrival_mid": p0,
        "config_hash": digest,
        "seed": cfg.seed,
        "queue_model": queue_model,
        "latency_us": latency_us,
        "lambda": lam,
        "lambda_source": lam_source,
        "beta_per_hour": params.beta,
        "strategies": {},
    }
    for name, res in results.items():
        row = dict(res.summary())
        row["lookahead"] = bool(res.info.get("lookahead", False))
        row["latent_state"] = bool(res.info.get("latent_state", False))
        if reactive:
            row["impact_cost_true"] = res.metrics["impact_cost_true"]
            row["impact_cost_model"] = res.metrics["impact_cost_model"]
        summary["strategies"][name] = row
    if out is not None:
        folder = out / digest
        folder.mkdir(parents=True, exist_ok=True)
        for name, res in results.items():
            safe = name.replace(":", "-")
            atomic_write_with(folder / f"fills-{safe}.csv", _csv_writer(res.fills))
            write_json_atomic(folder / f"decisions-{safe}.json", _plain(res.decisions))
        write_json_atomic(folder / "summary.json", _plain(summary))
        write_json_atomic(folder / "config.json", cfg.model_dump(mode="json"))
        summary["out"] = str(folder)
    return summary


def _plain(obj: Any) -> Any:
    """JSON-ready copy: NaN → null, timestamps and other objects → their text."""
    return json.loads(json.dumps(_json_safe(obj), default=str, allow_nan=False))


def _csv_writer(frame: Any) -> Callable[[Path], None]:
    def write(path: Path) -> None:
        frame.to_csv(path, index=False)

    return write


def _print(summary: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    p = summary["parent"]
    title = (
        f"{summary['symbol']} {summary['date']}: {p['side']} {p['quantity']:,} shares "
        f"{p['start']}-{p['end']}, arrival mid {summary['arrival_mid']:.4f}, "
        f"λ = {summary['lambda']:.6g} ({summary['lambda_source']}), seed {summary['seed']}"
    )
    rows: list[list[str]] = []
    for name, row in summary["strategies"].items():
        label = f"{name} (LOOK-AHEAD)" if row.get("lookahead") else name
        label = f"{label} (LATENT STATE)" if row.get("latent_state") else label
        cells = [label]
        for key, _, nd in _TABLE:
            v = row.get(key)
            cells.append("-" if v is None else (f"{v:,.{nd}f}" if nd else f"{int(v):,}"))
        rows.append(cells)
    heads = ["strategy", *(head for _, head, _ in _TABLE)]
    table = Table(title=title)
    for j, head in enumerate(heads):
        # the figures never shrink into "221.5…": the strategy names fold instead
        width = max([len(head), *(len(r[j]) for r in rows)])
        if j == 0:
            table.add_column(head, overflow="fold")
        else:
            table.add_column(head, justify="right", no_wrap=True, min_width=width)
    for r in rows:
        table.add_row(*r)
    Console().print(table)
    if any(r.get("lookahead") for r in summary["strategies"].values()):
        typer.echo("LOOK-AHEAD rows use the realised future: a diagnostic bound, not achievable.")
    if any(r.get("latent_state") for r in summary["strategies"].values()):
        typer.echo(
            "LATENT STATE rows read the synthetic market's hidden drift: a diagnostic bound for "
            "forecasters on market data, not achievable."
        )
    if "out" in summary:
        typer.echo(f"fills, decisions and summary written to {summary['out']}")


PathsArg = Annotated[list[Path], typer.Argument(help="Files or a layout directory (one day).")]
DataArg = Annotated[
    list[Path] | None,
    typer.Argument(help="Files or a layout directory (one day); none with --reactive."),
]
ReactiveOpt = Annotated[
    bool,
    typer.Option(
        "--reactive",
        help="Trade in the reactive synthetic market (the default day; --seed picks another) "
        "instead of replaying DATA: our orders move its prices (ground truth).",
    ),
]
SideOpt = Annotated[str, typer.Option("--side", help="buy or sell.")]
QtyOpt = Annotated[int, typer.Option("--quantity", help="Parent size X, shares (> 0).")]
StartOpt = Annotated[str, typer.Option("--start", help="Window start HH:MM (market time).")]
EndOpt = Annotated[str, typer.Option("--end", help="Window end HH:MM (market time).")]
DateOpt = Annotated[str | None, typer.Option("--date", help="Day YYYY-MM-DD (data with several).")]
ConfigOpt = Annotated[Path | None, typer.Option("--config", help="YAML/JSON config file.")]
PresetOpt = Annotated[str | None, typer.Option("--preset", help="Config preset name.")]
SetOpt = Annotated[
    list[str] | None, typer.Option("--set", help="Override section.key=value (repeatable).")
]
SeedOpt = Annotated[int | None, typer.Option("--seed", help="Seed of the router's samples.")]
QueueOpt = Annotated[
    str, typer.Option("--queue-model", help="risk-averse or prob-power:N (replay queue model).")
]
LatencyOpt = Annotated[float, typer.Option("--latency-us", help="Order entry latency, µs.")]
OutOpt = Annotated[
    Path | None, typer.Option("--out", help="Write fills/decisions/summary under OUT/<hash>/.")
]


@app.command("compare")
def compare_cmd(
    paths: DataArg = None,
    side: SideOpt = "buy",
    quantity: QtyOpt = 10_000,
    start: StartOpt = "10:00",
    end: EndOpt = "11:00",
    date: DateOpt = None,
    strategies: Annotated[
        str, typer.Option("--strategies", help="Comma list: schedule[:router] (see notes).")
    ] = _DEFAULT_STRATEGIES,
    config: ConfigOpt = None,
    preset: PresetOpt = None,
    overrides: SetOpt = None,
    seed: SeedOpt = None,
    queue_model: QueueOpt = "risk-averse",
    latency_us: LatencyOpt = 0.0,
    out: OutOpt = None,
    reactive: ReactiveOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Run several strategies on the same parent order and compare their costs.

    Schedules: myopic (causal OFI alpha), myopic-zero, myopic-oracle (LOOK-AHEAD diagnostic),
    myopic-true (latent-drift diagnostic, --reactive only), traditional, twap, vwap,
    almgren_chriss, ow. Routers (after a colon): ck (Cont-Kukanov, default), market, passive —
    e.g. twap:market. Every strategy gets the same parent, data, router settings, exchange and
    seed; unfilled shares are bought (sold) at market at the end and reported as catch-up.
    With --reactive there is no DATA: each strategy trades in a fresh reactive synthetic market
    (the default day, or --seed K) whose prices our orders move, with its true λ and β.

    Example: myopic-sor compare ./data/AAPL --side buy --quantity 10000 --start 10:00 --end
    11:00 --strategies myopic,traditional,twap --json

    Example: myopic-sor compare --reactive --start 10:00 --end 10:30 --strategies
    myopic-zero,myopic-true,twap
    """
    summary = run_parent(
        paths or [],
        side=side,
        quantity=quantity,
        start=start,
        end=end,
        date=date,
        strategies=[s for s in strategies.split(",") if s.strip()],
        config=config,
        preset=preset,
        overrides=overrides,
        seed=seed,
        queue_model=queue_model,
        latency_us=latency_us,
        out=out,
        show_progress=not as_json,
        reactive=reactive,
    )
    if as_json:
        _emit_json(summary)
    else:
        _print(summary)


@app.command("run")
def run_cmd(
    paths: DataArg = None,
    strategy: Annotated[str, typer.Option("--strategy", help="schedule[:router].")] = "myopic",
    side: SideOpt = "buy",
    quantity: QtyOpt = 10_000,
    start: StartOpt = "10:00",
    end: EndOpt = "11:00",
    date: DateOpt = None,
    config: ConfigOpt = None,
    preset: PresetOpt = None,
    overrides: SetOpt = None,
    seed: SeedOpt = None,
    queue_model: QueueOpt = "risk-averse",
    latency_us: LatencyOpt = 0.0,
    out: OutOpt = None,
    reactive: ReactiveOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Run one strategy on a parent order and print its costs (see `compare`).

    Example: myopic-sor run ./data/AAPL --strategy myopic --side sell --quantity 5000 --start
    14:00 --end 15:30 --out out
    """
    if "," in strategy:
        raise ConfigError(f"--strategy {strategy!r}: one name; use `compare` for several")
    compare_cmd(
        paths,
        side=side,
        quantity=quantity,
        start=start,
        end=end,
        date=date,
        strategies=strategy,
        config=config,
        preset=preset,
        overrides=overrides,
        seed=seed,
        queue_model=queue_model,
        latency_us=latency_us,
        out=out,
        reactive=reactive,
        as_json=as_json,
    )


def _grid(items: list[str] | None) -> dict[str, list[Any]]:
    """``--grid key=v1,v2`` (repeatable) into ``{key: [v1, v2]}`` (values parsed as YAML)."""
    import yaml

    grid: dict[str, list[Any]] = {}
    for item in items or []:
        key, sep, values = item.partition("=")
        if not sep or not key.strip() or not values.strip():
            raise ConfigError(f"--grid {item!r}: expected KEY=V1,V2,... (e.g. N=500,1000)")
        grid[key.strip()] = [yaml.safe_load(v) for v in values.split(",")]
    return grid


@app.command("batch")
def batch_cmd(
    data: Annotated[Path, typer.Argument(help="Root of the spec layout (one folder per stock).")],
    stocks: Annotated[str, typer.Option("--stocks", help="Comma list of symbols.")],
    days: Annotated[str, typer.Option("--days", help="Comma list of days YYYY-MM-DD.")],
    out: Annotated[Path, typer.Option("--out", help="Results folder (resumable).")] = Path(
        "out/batch"
    ),
    grid: Annotated[
        list[str] | None, typer.Option("--grid", help="KEY=V1,V2 over strategy params.")
    ] = None,
    quantity: Annotated[int, typer.Option("--quantity", help="Parent size S, shares.")] = 1000,
    start: StartOpt = "09:30",
    end: EndOpt = "16:00",
    order_freq: Annotated[float, typer.Option("--order-freq", help="Decision step, s.")] = 120.0,
    executor: Annotated[
        str, typer.Option("--executor", help="sequential, processes (joblib) or dask.")
    ] = "sequential",
    workers: Annotated[int, typer.Option("--workers", help="Local processes.")] = 2,
    scheduler: Annotated[
        str | None, typer.Option("--scheduler", help="Dask scheduler, tcp://host:8786.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Compare myopic and traditional over stocks × days × a parameter grid.

    Every finished item is written to OUT/items/<key>.json and skipped on a re-run; a failing
    item is recorded in <key>.error.json and the others go on. Prints the summary: per item
    the two average costs and the improvement, then the mean, std and t-stat across items.

    Example: myopic-sor batch ./data --stocks AAPL,MSFT --days 2025-04-01,2025-04-02 --grid
    N=500,1000 --executor processes --workers 2 --out out/batch
    """
    from rich.progress import Progress

    from myopic_sor.backtest import batch_items, run_batch

    if executor not in ("sequential", "processes", "dask"):
        raise ConfigError(f"--executor {executor!r}: use sequential, processes or dask")
    if executor == "dask" and scheduler is None:
        raise ConfigError("--executor dask needs --scheduler tcp://host:8786")
    items = batch_items(
        [s.strip() for s in stocks.split(",") if s.strip()],
        [d.strip() for d in days.split(",") if d.strip()],
        _grid(grid),
    )
    base = {"S": quantity, "order_freq": order_freq, "start_time": start, "end_time": end}
    with Progress(transient=True, disable=as_json) as bar:
        task = bar.add_task("batch", total=len(items))
        table = run_batch(
            items,
            data,
            out,
            base_params=base,
            executor=executor,  # type: ignore[arg-type]
            n_jobs=workers,
            scheduler=scheduler,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
        )
    rows = json.loads(table.to_json(orient="records")) if len(table) else []
    if as_json:
        _emit_json({"out": str(out), "items": rows})
        return
    from rich.console import Console
    from rich.table import Table

    view = Table(title=f"batch: {len(items)} item(s), results in {out}")
    for col in ("key", "status", "myopic avg", "trad avg", "improvement %", "t-stat"):
        view.add_column(col)
    for r in rows:
        view.add_row(
            str(r.get("key")),
            str(r.get("status")),
            _cell(r.get("myopic_avg_cost")),
            _cell(r.get("traditional_avg_cost")),
            _cell(r.get("cost_improvement_pct")),
            _cell(r.get("cost_improvement_pct_t_stat")),
        )
    Console().print(view)


def _cell(v: Any) -> str:
    return "-" if v is None or (isinstance(v, float) and not math.isfinite(v)) else f"{v:,.4f}"


@app.command("report")
def report_cmd(
    results: Annotated[Path, typer.Argument(help="A `compare --out` folder: OUT/<config hash>.")],
    out: Annotated[
        Path | None, typer.Option("--out", help="Where to write (default: RESULTS).")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Write report.html (plots embedded, no network), report.md and report.txt for the results
    of `compare --out`: data, parent, parameters, seed, the cost table, cumulative fills and the
    cost breakdown; look-ahead diagnostics are labelled.

    Example: myopic-sor report out/d8eb6aa31710
    """
    from myopic_sor.analysis import write_report

    paths = write_report(results, out)
    if as_json:
        _emit_json({k: str(v) for k, v in paths.items()})
        return
    for kind, path in paths.items():
        typer.echo(f"{kind:5s} {path}")
