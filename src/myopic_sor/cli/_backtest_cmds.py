"""Backtest commands of the ``myopic-sor`` CLI: ``compare`` and ``run``.

Both execute one parent order (side, quantity, window) on one day of data in any supported
format through :class:`~myopic_sor.backtest.Backtester`: the same data, router, exchange
settings and seed for every strategy. Results go to ``<out>/<config hash>/`` atomically.
"""

from __future__ import annotations

import contextlib
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
    from myopic_sor.data import MarketData

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
) -> dict[str, Any]:
    """Load the data, run each strategy on the parent, write the results; return the summary
    (``show_progress``: a transient bar on stderr, one step per strategy)."""
    from myopic_sor._io import atomic_write_with, write_json_atomic
    from myopic_sor.analysis import arrival_mid
    from myopic_sor.backtest import Backtester, causal_lambda, compare_strategies
    from myopic_sor.backtest._compare import parse_strategy
    from myopic_sor.config import config_hash
    from myopic_sor.scheduling import MyopicParameters

    names = [parse_strategy(s).name for s in strategies]  # fail fast on a typo
    cfg = command_config(quantity, start, end, config, preset, overrides, seed)
    md, parent = load_parent(paths, cfg, side=side, quantity=quantity, date=date)
    t0 = parent.start_ns
    lam, lam_source = causal_lambda(md, t0, cfg, None)
    base = MyopicParameters.from_config(cfg.myopic)
    params = MyopicParameters(
        lambda_value=lam, beta=base.beta, volatility=base.volatility, adv=base.adv, T=base.T
    )
    engine = Backtester(md, cfg, queue_model=queue_model, latency_us=latency_us, seed=cfg.seed)
    p0 = arrival_mid(md, t0)
    results: dict[str, Any] = {}
    with _strategy_bar(len(names), enabled=show_progress) as step:
        for name in names:  # one at a time for the bar; each run starts from the same seed
            step(name)
            results.update(compare_strategies(engine, parent, [name], params, mid_price=p0))
    digest = config_hash(cfg)
    summary: dict[str, Any] = {
        "symbol": md.symbol,
        "date": md.date.isoformat(),
        "data": [str(p) for p in paths],
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
    if "out" in summary:
        typer.echo(f"fills, decisions and summary written to {summary['out']}")


PathsArg = Annotated[list[Path], typer.Argument(help="Files or a layout directory (one day).")]
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
    paths: PathsArg,
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
    as_json: JsonOpt = False,
) -> None:
    """Run several strategies on the same parent order and compare their costs.

    Schedules: myopic (causal OFI alpha), myopic-zero, myopic-oracle (LOOK-AHEAD diagnostic),
    traditional, twap, vwap, almgren_chriss, ow. Routers (after a colon): ck (Cont-Kukanov,
    default), market, passive — e.g. twap:market. Every strategy gets the same parent, data,
    router settings, exchange and seed; unfilled shares are bought (sold) at market at the end
    and reported as catch-up.

    Example: myopic-sor compare ./data/AAPL --side buy --quantity 10000 --start 10:00 --end
    11:00 --strategies myopic,traditional,twap --json
    """
    summary = run_parent(
        paths,
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
    )
    if as_json:
        _emit_json(summary)
    else:
        _print(summary)


@app.command("run")
def run_cmd(
    paths: PathsArg,
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
