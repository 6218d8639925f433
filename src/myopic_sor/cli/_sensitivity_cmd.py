"""The ``sensitivity`` command of the ``myopic-sor`` CLI: one parameter swept, one parent order.

A thin shell over :func:`myopic_sor.analysis.sensitivity_analysis`: load one day (any supported
format) and the configuration as ``compare`` does, run the strategies on the same parent, data
and seed for each value of ``--param``, print the table and, under ``--out``, write it (CSV and
Parquet) with its plot (PNG) and a JSON summary to ``<out>/<config hash>/``, atomically. The
command is added to an app by :func:`register` (``register(app)`` in ``myopic_sor.cli``).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from myopic_sor.cli._app import JsonOpt, _emit_json, _stderr_console
from myopic_sor.cli._backtest_cmds import (
    ConfigOpt,
    DateOpt,
    EndOpt,
    LatencyOpt,
    PathsArg,
    PresetOpt,
    QtyOpt,
    QueueOpt,
    SeedOpt,
    SetOpt,
    SideOpt,
    StartOpt,
    _csv_writer,
    _plain,
)
from myopic_sor.exceptions import ConfigError

__all__ = ["parse_values", "register", "sensitivity", "sensitivity_cmd"]

_TABLE = (  # narrow enough for an 80-column terminal; every figure is in --json and the CSV
    ("avg_cost_per_share", "cost/sh", 4),
    ("implementation_shortfall_bps", "IS bps", 2),
    ("num_decisions", "children", 0),
    ("cost_improvement_pct", "vs trad %", 4),
    ("modelled_impact_cost", "model $", 1),
)


def parse_values(text: str) -> list[Any]:
    """``"v1,v2,..."`` into values (each read as YAML); commas inside ``[...]`` are kept, so
    ``"[0, 5],[0, 10]"`` is two lists."""
    import yaml

    items: list[str] = []
    depth, start = 0, 0
    for j, ch in enumerate(text):
        depth += {"[": 1, "]": -1}.get(ch, 0)
        if ch == "," and depth == 0:
            items.append(text[start:j])
            start = j + 1
    items.append(text[start:])
    if depth != 0 or any(not item.strip() for item in items):
        msg = f"--values {text!r}: expected V1,V2,... (e.g. --values 1000,25000,100000)"
        raise ConfigError(msg)
    try:
        return [yaml.safe_load(item) for item in items]
    except yaml.YAMLError as exc:
        raise ConfigError(f"--values {text!r}: cannot read a value ({exc})") from exc


def sensitivity(
    paths: list[Path],
    *,
    param: str,
    values: list[Any],
    side: str = "buy",
    quantity: int = 10_000,
    start: str = "10:00",
    end: str = "11:00",
    date: str | None = None,
    strategies: list[str] | None = None,
    metric: str = "avg_cost_per_share",
    config: Path | None = None,
    preset: str | None = None,
    overrides: list[str] | None = None,
    seed: int | None = None,
    queue_model: str = "risk-averse",
    latency_us: float = 0.0,
    out: Path | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Load the data and config as ``compare`` does, run the sweep, write the results under
    ``out``; return the summary (``rows``: the table as records)."""
    from myopic_sor._io import atomic_write_with, write_json_atomic
    from myopic_sor.analysis import arrival_mid, plot_sensitivity, sensitivity_analysis
    from myopic_sor.analysis._sensitivity import (
        SENSITIVITY_METRICS,
        lambda_note,
        resolve_param,
        sweep_configs,
    )
    from myopic_sor.backtest import parse_side
    from myopic_sor.backtest._compare import parse_strategy
    from myopic_sor.cli._backtest_cmds import command_config, load_parent
    from myopic_sor.config import config_hash

    # every input is checked before the data are read
    key = resolve_param(param)
    names = [parse_strategy(s).name for s in (strategies or ["myopic", "traditional"])]
    if metric not in SENSITIVITY_METRICS:
        raise ConfigError(f"--metric {metric!r}: choose from {', '.join(SENSITIVITY_METRICS)}")
    parse_side(side)
    cfg = command_config(quantity, start, end, config, preset, overrides, seed)
    sweep_configs(cfg, key, values)
    md, parent = load_parent(paths, cfg, side=side, quantity=quantity, date=date)
    t0 = parent.start_ns
    table = sensitivity_analysis(
        md,
        parent,
        key,
        values,
        strategies=names,
        config=cfg,
        seed=cfg.seed,
        queue_model=queue_model,
        latency_us=latency_us,
        progress=progress,
    )
    digest = config_hash(cfg)  # the base config: the swept key is in the file names
    summary: dict[str, Any] = {
        "symbol": md.symbol,
        "date": md.date.isoformat(),
        "data": [str(p) for p in paths],
        "parent": {"side": parent.side_name, "quantity": quantity, "start": start, "end": end},
        "arrival_mid": arrival_mid(md, t0),
        "param": key,
        "values": values,
        "strategies": names,
        "config_hash": digest,
        "seed": cfg.seed,
        "queue_model": queue_model,
        "latency_us": latency_us,
        "lambda_fixed": bool(table["lambda_fixed"].all()),
        "lambda_note": lambda_note(table),
        "rows": json.loads(table.to_json(orient="records")),
    }
    if out is not None:
        folder = out / digest
        folder.mkdir(parents=True, exist_ok=True)
        stem = f"sensitivity-{key.replace('.', '-')}"  # one dot, before the extension
        files = {
            "csv": folder / f"{stem}.csv",
            "parquet": folder / f"{stem}.parquet",
            "png": folder / f"{stem}.png",
            "json": folder / f"{stem}.json",
        }
        atomic_write_with(files["csv"], _csv_writer(table))
        atomic_write_with(files["parquet"], lambda p: table.to_parquet(p, index=False))
        plot_sensitivity(table, key, metric=metric, save_path=files["png"])
        summary["out"] = str(folder)
        summary["files"] = {k: str(v) for k, v in files.items()}
        write_json_atomic(files["json"], _plain(summary))
    return summary


def _cell(v: Any, nd: int) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "-"
    if isinstance(v, bool) or not isinstance(v, int | float):
        return str(v)
    return f"{v:,.{nd}f}" if nd else f"{round(v):,}"


def _print(summary: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    p = summary["parent"]
    key = summary["param"]
    title = (
        f"{summary['symbol']} {summary['date']}: {p['side']} {p['quantity']:,} shares "
        f"{p['start']}-{p['end']}, sensitivity to {key}, seed {summary['seed']}"
    )
    rows: list[list[str]] = []
    for r in summary["rows"]:
        value = r["value"]
        shown = f"{value:,.6g}" if isinstance(value, float) else _cell(value, 0)
        label = f"{r['strategy']} (LOOK-AHEAD)" if r.get("lookahead") else str(r["strategy"])
        rows.append([shown, label, *(_cell(r.get(col), nd) for col, _, nd in _TABLE)])
    heads = ["value", "strategy", *(head for _, head, _ in _TABLE)]  # the title names the key
    table = Table(title=title)
    for j, head in enumerate(heads):
        # the figures never shrink into "219.1…": the strategy names fold instead
        if j == 1:
            table.add_column(head, overflow="fold")
        else:
            width = max([len(head), *(len(r[j]) for r in rows)])
            table.add_column(head, justify="right", no_wrap=True, min_width=width)
    for row in rows:
        table.add_row(*row)
    Console().print(table)
    typer.echo(summary["lambda_note"])
    if any(r.get("lookahead") for r in summary["rows"]):
        typer.echo("LOOK-AHEAD rows use the realised future: a diagnostic bound, not achievable.")
    if "out" in summary:
        typer.echo(f"table (CSV, Parquet), plot and summary written to {summary['out']}")


def sensitivity_cmd(
    paths: PathsArg,
    param: Annotated[
        str, typer.Option("--param", help="Config key to vary, e.g. myopic.lambda_value.")
    ],
    values: Annotated[str, typer.Option("--values", help="Comma list of values, in its unit.")],
    side: SideOpt = "buy",
    quantity: QtyOpt = 10_000,
    start: StartOpt = "10:00",
    end: EndOpt = "11:00",
    date: DateOpt = None,
    strategies: Annotated[
        str, typer.Option("--strategies", help="Comma list: schedule[:router], as compare.")
    ] = "myopic,traditional",
    metric: Annotated[
        str, typer.Option("--metric", help="Figure on the plot's y axis.")
    ] = "avg_cost_per_share",
    config: ConfigOpt = None,
    preset: PresetOpt = None,
    overrides: SetOpt = None,
    seed: SeedOpt = None,
    queue_model: QueueOpt = "risk-averse",
    latency_us: LatencyOpt = 0.0,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Write the table (CSV, Parquet) and plot under OUT/<hash>/."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Run the strategies on one parent order for each value of one config parameter.

    Same parent, data, router, exchange and seed for every value (as `compare`); prints one
    row per value × strategy: cost per share, shortfall, fill rate, children, improvement vs
    traditional and the myopic scheduler's modelled impact cost. Keys: any of strategy.*,
    myopic.*, execution.order_freq / lookup_duration, lambda_estimation.*, risk.* (a unique
    field name such as order_freq, or lambda, also works). With myopic.lambda_value λ is FIXED
    at each value, not estimated; otherwise it is estimated before the window, as in compare.

    Example: myopic-sor sensitivity ./data/AAPL --param myopic.lambda_value --values
    5000,25000,100000 --side buy --quantity 5000 --start 10:00 --end 10:30 --out out
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn

    vals = parse_values(values)
    names = [s for s in strategies.split(",") if s.strip()]
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    bar = Progress(*columns, console=_stderr_console(), transient=True, disable=as_json)
    tasks: list[TaskID] = []

    def tick(done: int, total: int) -> None:
        if not tasks:  # started at the first run: input errors print alone, with no bar
            bar.start()
            tasks.append(bar.add_task(f"{param}: value × strategy", total=total))
        bar.update(tasks[0], completed=done, total=total)

    try:
        summary = sensitivity(
            paths,
            param=param,
            values=vals,
            side=side,
            quantity=quantity,
            start=start,
            end=end,
            date=date,
            strategies=names,
            metric=metric,
            config=config,
            preset=preset,
            overrides=overrides,
            seed=seed,
            queue_model=queue_model,
            latency_us=latency_us,
            out=out,
            progress=tick,
        )
    finally:
        if tasks:  # Progress.stop prints a newline even when it never started
            bar.stop()
    if as_json:
        _emit_json(summary)
    else:
        _print(summary)


def register(app: typer.Typer) -> None:
    """Add the ``sensitivity`` command to ``app`` (``register(app)`` in ``myopic_sor.cli``)."""
    app.command("sensitivity")(sensitivity_cmd)
