"""The ``myopic-sor`` command line: a thin typer shell over the library.

Each command parses its options, calls one library function and prints the result (a rich table
for people, ``--json`` for programs). Library errors exit with code 2 and one line on stderr;
``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import json
import logging
import math
import sys
import traceback
import warnings
from pathlib import Path
from typing import Annotated, Any

import typer

from myopic_sor.exceptions import MyopicSorError

__all__ = ["app", "main"]

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
    help="Optimal trade execution: myopic scheduling + smart order routing + simulation.",
)
config_app = typer.Typer(no_args_is_help=True, help="Show and check configuration.")
app.add_typer(config_app, name="config")

JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON on stdout.")]


@app.callback()
def _root(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")] = False,
    verbose: Annotated[int, typer.Option("--verbose", "-v", count=True, help="More logs.")] = 0,
) -> None:
    """Optimal trade execution: myopic scheduling + smart order routing + simulation."""
    level = logging.WARNING if verbose == 0 else (logging.INFO if verbose == 1 else logging.DEBUG)
    from rich.logging import RichHandler

    root = logging.getLogger()
    handler = RichHandler(show_path=False, console=_stderr_console())
    handler.setFormatter(logging.Formatter("%(message)s"))
    root.addHandler(handler)
    root.setLevel(level)
    _RUN_STATE["handler"] = handler


def _stderr_console() -> Any:
    from rich.console import Console

    return Console(stderr=True)


def _format_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    line: str | None = None,
) -> str:
    return f"warning: {category.__name__}: {message}\n"


def _json_safe(obj: Any) -> Any:
    """Replace NaN and infinities by None, recursively: strict JSON has no NaN."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_json_safe(v) for v in obj]
    return obj


def _emit_json(obj: Any) -> None:
    text = json.dumps(_json_safe(obj), indent=2, default=str, allow_nan=False)
    sys.stdout.write(text + "\n")


# ----------------------------------------------------------------------------------------------
# version
@app.command()
def version(as_json: JsonOpt = False) -> None:
    """Print the installed version (and, with --json, those of the main dependencies).

    Example: myopic-sor version --json
    """
    from importlib.metadata import version as dist_version

    from myopic_sor import __version__

    if as_json:
        deps = ("numpy", "pandas", "pyarrow", "numba", "scipy", "databento-dbn", "pydantic")
        _emit_json(
            {
                "myopic_sor": __version__,
                "python": sys.version.split()[0],
                **{d: dist_version(d) for d in deps},
            }
        )
        return
    typer.echo(__version__)


# ----------------------------------------------------------------------------------------------
# config
@config_app.command("show")
def config_show(
    preset: Annotated[str | None, typer.Option(help="Named preset from parameters.json.")] = None,
    config: Annotated[Path | None, typer.Option("--config", "-c", help="YAML/JSON file.")] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", help="Override, e.g. --set strategy.S=500 (repeatable)."),
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="yaml or json.")] = "yaml",
    as_json: JsonOpt = False,
) -> None:
    """Print the effective configuration (defaults < preset < file < --set).

    Example: myopic-sor config show --preset conservative --set execution.order_freq=60
    """
    from myopic_sor.config import config_hash, config_to_dict, dump_config, load_config

    cfg = load_config(config, preset=preset, overrides=set_ or None)
    if as_json or fmt == "json":
        _emit_json({"hash": config_hash(cfg), "config": config_to_dict(cfg)})
        return
    typer.echo(dump_config(cfg, fmt="yaml"), nl=False)


@config_app.command("presets")
def config_presets(as_json: JsonOpt = False) -> None:
    """List the named presets shipped in parameters.json.

    Example: myopic-sor config presets
    """
    from myopic_sor.config import list_presets

    names = list_presets()
    if as_json:
        _emit_json(names)
    else:
        typer.echo("\n".join(names))


# ----------------------------------------------------------------------------------------------
# generate-data
def _parse_params(items: list[str] | None) -> dict[str, Any]:
    import yaml

    out: dict[str, Any] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise typer.BadParameter(f"{item!r}: expected FIELD=VALUE", param_hint="--param")
        parsed = yaml.safe_load(value) if value.strip() else value
        out[key.strip()] = value.strip() if ":" in value else parsed  # keep HH:MM as text
    return out


def _generate(
    *,
    stock: str,
    day: str,
    venues: int,
    out: Path,
    fmt: str,
    seed: int | None,
    overrides: dict[str, Any],
) -> dict[str, Any]:
    """Generate one synthetic day with a progress display and write it; return a summary."""
    import time

    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from myopic_sor.data import SyntheticMarket, make_synthetic_config

    cfg = make_synthetic_config(stock, day, venues, **overrides)
    market = SyntheticMarket(cfg, seed=seed)
    t0 = time.perf_counter()
    columns = (TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn())
    with Progress(*columns, console=_stderr_console(), transient=True) as progress:
        task = progress.add_task(f"simulating {cfg.symbol} {cfg.date}", total=1.0)
        data = market.generate(
            progress=lambda done, total: progress.update(task, completed=done / total)
        )
        t_gen = time.perf_counter() - t0
        progress.update(task, description=f"writing {fmt} files under {out}", completed=0.0)
        paths = market.write(out, fmt=fmt)  # type: ignore[arg-type]
        progress.update(task, completed=1.0)
    truth = market.truth()
    return {
        "symbol": cfg.symbol,
        "date": cfg.date.isoformat(),
        "venues": {v.venue: len(v) for v in data},
        "n_events": data.n_events,
        "seed": truth.get("seed"),
        "generate_seconds": round(t_gen, 3),
        "total_seconds": round(time.perf_counter() - t0, 3),
        "files": [str(p) for p in paths],
        "truth": {
            "lambda": truth["impact"]["lambda"],
            "beta_per_s": truth["impact"]["beta_per_s"],
            "beta_per_hour": truth["impact"]["beta_per_hour"],
            "half_life_s": truth["impact"]["half_life_s"],
            "sigma_daily": truth["sigma_daily"],
            "adv_shares": truth["adv_shares"],
        },
    }


@app.command("generate-data")
def generate_data(
    stock: Annotated[str, typer.Option(help="Symbol.")] = "AAPL",
    day: Annotated[str, typer.Option(help="Trading day YYYY-MM-DD.")] = "2025-04-02",
    venues: Annotated[int, typer.Option(help="Number of venues (1-7).")] = 3,
    out: Annotated[Path, typer.Option(help="Root of the spec layout.")] = Path("data"),
    fmt: Annotated[str, typer.Option("--format", help="parquet, csv, dbn.zst or dbn.")] = (
        "parquet"
    ),
    seed: Annotated[int | None, typer.Option(help="Random seed (default: fixed).")] = None,
    impact_lambda: Annotated[
        float | None, typer.Option("--lambda", help="OW impact λ (price per unit q·σ/ADV).")
    ] = None,
    half_life_s: Annotated[
        float | None, typer.Option("--half-life-s", help="Impact half-life, seconds.")
    ] = None,
    beta_per_hour: Annotated[
        float | None, typer.Option("--beta", help="Impact decay β per hour (instead of half-life).")
    ] = None,
    volatility: Annotated[float | None, typer.Option(help="Daily volatility σ.")] = None,
    adv: Annotated[float | None, typer.Option(help="ADV, shares/day (sets traded volume).")] = None,
    activity: Annotated[
        float, typer.Option(help="Multiplier on limit-order arrivals (book event count).")
    ] = 1.0,
    start: Annotated[str | None, typer.Option(help="Session start HH:MM.")] = None,
    end: Annotated[str | None, typer.Option(help="Session end HH:MM.")] = None,
    param: Annotated[
        list[str] | None,
        typer.Option("--param", help="Any SyntheticConfig field, e.g. --param flow_tilt=0.1."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Generate a synthetic multi-venue day in the spec's layout, with its ground truth.

    Writes <out>/<STOCK>/<dataset>-<YYYYMMDD>.mbp-10.<ext> per venue, plus truth-<YYYYMMDD>.json
    (λ, β, σ, ADV, the alpha process, per-venue parameters) and alpha-<YYYYMMDD>.parquet.

    Example: myopic-sor generate-data --stock AAPL --day 2025-04-02 --venues 3 --out ./data
    """
    import math

    overrides = _parse_params(param)
    if impact_lambda is not None:
        overrides["impact_lambda"] = impact_lambda
    if half_life_s is not None and beta_per_hour is not None:
        raise typer.BadParameter("give --half-life-s or --beta, not both")
    if half_life_s is not None:
        overrides["impact_half_life_s"] = half_life_s
    if beta_per_hour is not None:
        if beta_per_hour <= 0:
            raise typer.BadParameter("must be > 0", param_hint="--beta")
        overrides["impact_half_life_s"] = 3600.0 * math.log(2.0) / beta_per_hour
    if volatility is not None:
        overrides["sigma_daily"] = volatility
    if adv is not None:
        overrides["adv_shares"] = adv
    if activity != 1.0:
        if activity <= 0:
            raise typer.BadParameter("must be > 0", param_hint="--activity")
        from myopic_sor.data import SyntheticConfig

        overrides["limit_rate_per_s"] = SyntheticConfig().limit_rate_per_s * activity
    if start is not None:
        overrides["session_start"] = start
    if end is not None:
        overrides["session_end"] = end
    summary = _generate(
        stock=stock, day=day, venues=venues, out=out, fmt=fmt, seed=seed, overrides=overrides
    )
    if as_json:
        _emit_json(summary)
        return
    typer.echo(
        f"wrote {summary['n_events']:,} events of {summary['symbol']} {summary['date']} "
        f"({', '.join(f'{k} {v:,}' for k, v in summary['venues'].items())}) "
        f"in {summary['total_seconds']:.1f} s:"
    )
    for f in summary["files"]:
        typer.echo(f"  {f}")


# ----------------------------------------------------------------------------------------------
# demo
@app.command()
def demo(
    out: Annotated[Path, typer.Option(help="Output folder.")] = Path("out/demo"),
    seed: Annotated[int | None, typer.Option(help="Random seed (default: fixed).")] = None,
    fmt: Annotated[str, typer.Option("--format", help="parquet, csv, dbn.zst or dbn.")] = (
        "parquet"
    ),
    quantity: Annotated[int, typer.Option(help="Parent size, shares.")] = 10_000,
    as_json: JsonOpt = False,
) -> None:
    """Run the main job on the embedded default: a synthetic 3-venue AAPL day, then the
    myopic-vs-traditional comparison on it.

    Generates the default synthetic day (fixed seed, documented parameters) into
    <out>/data in the spec's layout, loads it back through the same loaders real files use,
    validates it, then buys QUANTITY shares between 10:00 and 11:00 with every strategy
    (myopic, traditional, TWAP, VWAP, Almgren-Chriss, OW; the same router, exchange and seed)
    and writes fills, decisions, the summary and the report (report.html with its plots
    embedded, report.md, report.txt) under <out>/results/<config hash>/.

    Example: myopic-sor demo
    """
    from myopic_sor.cli._backtest_cmds import _print, run_parent
    from myopic_sor.data import inspect_market_data

    gen = _generate(
        stock="AAPL", day="2025-04-02", venues=3, out=out / "data", fmt=fmt, seed=seed,
        overrides={},
    )  # fmt: skip
    layout = out / "data" / gen["symbol"]
    summary = inspect_market_data(layout, day=gen["date"])
    summary["generated"] = gen
    comparison = run_parent(
        [layout],
        side="buy",
        quantity=quantity,
        start="10:00",
        end="11:00",
        date=gen["date"],
        strategies=["myopic", "traditional", "twap", "vwap", "almgren_chriss", "ow"],
        config=None,
        preset=None,
        overrides=None,
        seed=None,
        queue_model="risk-averse",
        latency_us=0.0,
        out=out / "results",
        show_progress=not as_json,
    )
    summary["comparison"] = comparison
    from myopic_sor.analysis import write_report

    report = write_report(comparison["out"])
    summary["report"] = {kind: str(path) for kind, path in report.items()}
    if as_json:
        _emit_json(summary)
        return
    typer.echo(
        f"generated {gen['n_events']:,} events in {gen['generate_seconds']:.1f} s "
        f"(seed {gen['seed']}); files under {out / 'data'}"
    )
    truth = gen["truth"]
    typer.echo(
        "ground truth: "
        + ", ".join(f"{k}={v:.6g}" for k, v in truth.items() if isinstance(v, int | float))
    )
    _print_summary(summary)
    _print(comparison)
    typer.echo(f"report: {report['html']} (also .md and .txt)")


# ----------------------------------------------------------------------------------------------
# inspect-data
@app.command("inspect-data")
def inspect_data(
    paths: Annotated[list[Path], typer.Argument(help="Files or a layout directory.")],
    symbol: Annotated[str | None, typer.Option(help="Symbol to keep.")] = None,
    date: Annotated[str | None, typer.Option("--date", help="Day YYYY-MM-DD.")] = None,
    start: Annotated[str | None, typer.Option(help="Local start time HH:MM.")] = None,
    end: Annotated[str | None, typer.Option(help="Local end time HH:MM.")] = None,
    venue: Annotated[str | None, typer.Option(help="Venue name for a lone file.")] = None,
    tz: Annotated[str, typer.Option("--tz", help="Exchange time zone.")] = "America/New_York",
    repair: Annotated[bool, typer.Option(help="Sort unsorted rows, drop duplicates.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Load any supported input and print per-venue rows, time span, trades, spread, depth and
    data-quality counts.

    Inputs: Databento MBP-10/MBP-1 (.dbn, .dbn.zst, .parquet, .csv), a LOBSTER message file and
    its orderbook file, TAQ quotes then trades, or a directory in the spec's layout.

    Example: myopic-sor inspect-data ./data/AAPL --date 2025-04-02 --json
    """
    from myopic_sor.data import inspect_market_data

    summary = inspect_market_data(
        *paths, symbol=symbol, day=date, start=start, end=end, venue=venue, timezone=tz,
        repair=repair,
    )  # fmt: skip
    if as_json:
        _emit_json(summary)
        return
    _print_summary(summary)


def _fmt(x: Any, nd: int = 4) -> str:
    if x is None:
        return "-"
    if isinstance(x, float):
        return f"{x:,.{nd}f}"
    if isinstance(x, int):
        return f"{x:,}"
    return str(x)


def _local(ts_ns: int | None, tz: str) -> str:
    import pandas as pd

    if ts_ns is None:
        return "-"
    return pd.Timestamp(ts_ns, unit="ns", tz="UTC").tz_convert(tz).strftime("%H:%M:%S.%f")


def _print_summary(summary: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    con = Console()
    con.print(
        f"[bold]{summary['symbol']}[/bold] {summary['date']} ({summary['timezone']}): "
        f"{summary['n_events']:,} events in {len(summary['venues'])} venue(s)"
    )
    venues = summary["venues"]
    tz = summary["timezone"]
    t = Table(show_header=True)
    t.add_column("")
    for name in venues:
        t.add_column(name, justify="right")

    def stat(key: str, field: str, nd: int = 4) -> list[str]:
        return [_fmt((v.get(key) or {}).get(field), nd) for v in venues.values()]

    rows: list[tuple[str, list[str]]] = [
        ("rows", [_fmt(v["rows"]) for v in venues.values()]),
        ("first event", [_local(v.get("first_ts_ns"), tz) for v in venues.values()]),
        ("last event", [_local(v.get("last_ts_ns"), tz) for v in venues.values()]),
        ("trades", [_fmt(v["trades"]) for v in venues.values()]),
        ("traded volume", [_fmt(v["traded_volume"]) for v in venues.values()]),
        ("book levels", [_fmt(v.get("levels")) for v in venues.values()]),
        ("spread median ($)", stat("spread", "median")),
        ("spread p95 ($)", stat("spread", "p95")),
        ("spread median (bps)", stat("spread_bps", "median", 2)),
        ("bid depth median", stat("depth_bid", "median", 0)),
        ("ask depth median", stat("depth_ask", "median", 0)),
        ("one-sided rows", [_fmt(v.get("one_sided_rows")) for v in venues.values()]),
    ]
    issues = [(v.get("quality") or {}).get("issues", {}) for v in venues.values()]
    for check in sorted({k for d in issues for k in d}):
        rows.append((f"quality: {check}", [_fmt(d.get(check, 0)) for d in issues]))
    if not any(issues):
        rows.append(("quality", ["ok"] * len(venues)))
    for label, cells in rows:
        t.add_row(label, *cells)
    con.print(t)
    for w in summary.get("warnings", []):
        con.print(f"[yellow]warning:[/yellow] {w}")


# ----------------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> None:
    """Run the CLI: library errors exit 2 with one line; ``--debug`` shows the traceback.

    Usage errors are click's own (usage + message, exit 2); success exits 0.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    if debug:  # accepted anywhere on the line, not only before the command
        args = ["--debug", *(a for a in args if a != "--debug")]
    # the CLI's logging and warning display last for this run only (tests call main in-process)
    root = logging.getLogger()
    # replacing formatwarning (not showwarning) keeps warnings.catch_warnings(record=True) working
    saved_level, saved_format = root.level, warnings.formatwarning
    warnings.formatwarning = _format_warning
    try:
        _run(args, debug)
    finally:
        warnings.formatwarning = saved_format
        handler = _RUN_STATE.pop("handler", None)
        if handler is not None:
            root.removeHandler(handler)
        root.setLevel(saved_level)


_RUN_STATE: dict[str, logging.Handler] = {}


def _run(args: list[str], debug: bool) -> None:
    try:
        app(args=args, prog_name="myopic-sor")
    except (MyopicSorError, OSError) as exc:
        if debug:
            traceback.print_exc()
        else:
            msg = " ".join(str(exc).split())
            sys.stderr.write(f"myopic-sor: error: {msg}\n")
        raise SystemExit(2) from None
    except Exception as exc:
        if debug:
            traceback.print_exc()
        else:
            sys.stderr.write(
                f"myopic-sor: internal error: {type(exc).__name__}: {exc} "
                "(rerun with --debug for the traceback and report it)\n"
            )
        raise SystemExit(1) from None
