"""The ``simulate`` command of the ``myopic-sor`` CLI: replay an orders file against market data.

A thin shell over :func:`myopic_sor.simulation.run_orders`: load one day (any supported
format), read the orders CSV, replay them with the chosen queue model, latency, fees and rebates
(from the configuration), and print every fill. The command is added to an app by
:func:`register` (``register(app)`` in ``myopic_sor.cli``).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Any

import typer

from myopic_sor.cli._app import JsonOpt, _emit_json
from myopic_sor.exceptions import ConfigError

__all__ = ["register", "simulate", "simulate_cmd"]


def simulate(
    paths: list[Path],
    *,
    orders: Path,
    queue_model: str = "risk-averse",
    latency_us: float | None = None,
    depth_penalty: float | None = None,
    date: str | None = None,
    symbol: str | None = None,
    config: Path | None = None,
    overrides: list[str] | None = None,
) -> dict[str, Any]:
    """Load the data and the orders, replay them, and return the JSON-ready summary.

    Parameters are the command's options. Fees and rebates per venue come from the
    configuration (``venues[].fee``/``rebate``, ``strategy.f``/``r``); the entry latency is
    ``latency_us`` for every venue, else each configured venue's ``latency_us`` (0 for venues
    the configuration does not list).

    Returns
    -------
    dict
        ``symbol``, ``date``, ``orders_file``, ``n_orders``, ``queue_model``, ``latency_us``
        (per venue), ``depth_policy``, ``fees``/``rebates`` (per venue), ``fills`` (one object
        per fill: ``ts_event`` int64 UTC ns, ``timestamp`` ISO-8601, ``venue``, ``side``,
        ``price``, ``size``, ``liquidity`` maker|taker, ``fee``, ``order_id``, ``catch_up``,
        ``penalty``), ``orders`` (the final state of each order, file order) and ``totals``.
    """
    import numpy as np
    import pandas as pd

    from myopic_sor.config import load_config
    from myopic_sor.data import load_market_data
    from myopic_sor.simulation import (
        ConstantLatency,
        LatencyModel,
        PerVenueLatency,
        queue_model_from_spec,
        read_orders,
        run_orders,
    )

    cfg = load_config(config, overrides=overrides or None)
    model = queue_model_from_spec(queue_model)  # fail fast on a typo, before loading data
    if latency_us is not None and not (math.isfinite(latency_us) and latency_us >= 0):
        raise ConfigError(
            f"--latency-us must be a finite number ≥ 0 microseconds, got {latency_us}"
        )
    if depth_penalty is not None and not (math.isfinite(depth_penalty) and depth_penalty >= 0):
        raise ConfigError(
            f"--depth-penalty must be a finite number ≥ 0 currency per share, got {depth_penalty}"
        )
    specs = read_orders(orders)
    md = load_market_data(*paths, symbol=symbol, day=date, timezone=cfg.market_hours.timezone)
    names = md.venue_names
    latency: LatencyModel
    if latency_us is not None:
        latency = ConstantLatency(round(latency_us * 1_000))
        lat_table = dict.fromkeys(names, latency_us)
    else:
        configured = {v.name: v.latency_us for v in cfg.venues}
        latency = PerVenueLatency.from_microseconds(configured, default_us=0.0)
        lat_table = {n: configured.get(n, 0.0) for n in names}
    fees, rebates = cfg.fee_per_venue(names), cfg.rebate_per_venue(names)
    policy: Any = "error" if depth_penalty is None else ("penalty", depth_penalty)
    ex, ids = run_orders(
        md, specs, queue_model=model, latency=latency, fees=fees, rebates=rebates,
        depth_policy=policy,
    )  # fmt: skip
    frame = ex.fills_frame()
    col = {c: frame[c].to_numpy() for c in frame.columns}
    fills = [
        {
            "ts_event": int(col["ts_event"][k]),
            "timestamp": pd.Timestamp(int(col["ts_event"][k]), unit="ns", tz="UTC").isoformat(),
            "venue": str(col["venue"][k]),
            "side": str(col["side"][k]),
            "price": float(col["price"][k]),
            "size": int(col["size"][k]),
            "liquidity": str(col["liquidity"][k]),
            "fee": float(col["fee"][k]),
            "order_id": int(col["order_id"][k]),
            "catch_up": bool(col["catch_up"][k]),
            "penalty": bool(col["penalty"][k]),
        }
        for k in range(len(frame))
    ]
    states = []
    for spec, oid in zip(specs, ids, strict=True):
        st = ex.order_status(oid)
        states.append(
            {
                "order_id": oid,
                "line": spec.line,
                "venue": st.venue,
                "side": st.side.label,
                "type": st.kind,
                "price": spec.price,
                "size": st.quantity,
                "filled": st.filled,
                "cancelled": st.cancelled,
                "leaves": st.leaves,
                "status": st.status,
                "reason": st.reason,
                "avg_price": st.avg_price,
            }
        )
    size = col["size"].astype(np.int64)
    fee = col["fee"].astype(np.float64)
    buy = col["side"] == "buy"
    totals = {
        "n_fills": len(fills),
        "filled_shares": int(size.sum()),
        "bought_shares": int(size[buy].sum()),
        "sold_shares": int(size[~buy].sum()),
        "fees_paid": float(fee[fee > 0].sum()),
        "rebates_received": float(-fee[fee < 0].sum()),
        "net_fees": float(fee.sum()),
    }
    return {
        "symbol": md.symbol,
        "date": md.date.isoformat(),
        "timezone": md.timezone,
        "data": [str(p) for p in paths],
        "orders_file": str(orders),
        "n_orders": len(specs),
        "queue_model": model.name,
        "latency_us": lat_table,
        "depth_policy": policy if isinstance(policy, str) else list(policy),
        "fees": dict(zip(names, fees, strict=True)),
        "rebates": dict(zip(names, rebates, strict=True)),
        "fills": fills,
        "orders": states,
        "totals": totals,
    }


def _print(res: dict[str, Any]) -> None:
    import pandas as pd
    from rich.console import Console
    from rich.table import Table

    con = Console()
    tz = res["timezone"]
    lat = ", ".join(f"{k} {v:g}" for k, v in res["latency_us"].items())
    table = Table(
        title=(
            f"{res['symbol']} {res['date']}: {res['n_orders']} order(s) from "
            f"{res['orders_file']}, queue {res['queue_model']}, latency µs {lat}"
        )
    )
    for col in ("time", "venue", "side", "price", "size", "liquidity", "fee", "order", "note"):
        table.add_column(col, justify="left" if col in ("venue", "side", "note") else "right")
    for f in res["fills"]:
        local = pd.Timestamp(f["ts_event"], unit="ns", tz="UTC").tz_convert(tz)
        note = " ".join(k for k in ("catch_up", "penalty") if f[k])
        table.add_row(
            local.strftime("%H:%M:%S.%f"),
            f["venue"],
            f["side"],
            f"{f['price']:,.4f}",
            f"{f['size']:,}",
            f["liquidity"],
            f"{f['fee']:+,.4f}",
            str(f["order_id"]),
            note,
        )
    con.print(table)
    t = res["totals"]
    con.print(
        f"{t['n_fills']} fill(s), {t['filled_shares']:,} shares (bought {t['bought_shares']:,}, "
        f"sold {t['sold_shares']:,}); fees {t['fees_paid']:,.4f}, rebates "
        f"{t['rebates_received']:,.4f}"
    )
    for o in res["orders"]:
        if o["leaves"] or o["status"] == "cancelled":
            con.print(
                f"order {o['order_id']} (line {o['line']}): {o['status']}"
                f"{' (' + o['reason'] + ')' if o['reason'] else ''}, filled {o['filled']:,} of "
                f"{o['size']:,}"
            )


def simulate_cmd(
    paths: Annotated[list[Path], typer.Argument(help="Files or a layout directory (one day).")],
    orders: Annotated[
        Path,
        typer.Option(
            "--orders",
            help="Orders CSV: ts, venue, side, type, price, size[, cancel_after_s, catch_up].",
        ),
    ],
    queue_model: Annotated[
        str, typer.Option("--queue-model", help="risk-averse, prob-power:N or prob-log.")
    ] = "risk-averse",
    latency_us: Annotated[
        float | None,
        typer.Option(
            "--latency-us",
            help="Entry latency on every venue, µs (default: the config's venues[].latency_us).",
        ),
    ] = None,
    depth_penalty: Annotated[
        float | None,
        typer.Option(
            "--depth-penalty",
            help="Fill market orders beyond the displayed depth at the deepest price ± this "
            "(currency/share) instead of failing.",
        ),
    ] = None,
    date: Annotated[str | None, typer.Option("--date", help="Day YYYY-MM-DD.")] = None,
    symbol: Annotated[str | None, typer.Option(help="Symbol to keep.")] = None,
    config: Annotated[Path | None, typer.Option("--config", "-c", help="YAML/JSON file.")] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", help="Override, e.g. --set venues.0.fee=0.003 (repeatable)."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Replay an orders file against market data and print every fill.

    Each order acts at its ts + the entry latency on the book recorded at that
    instant: market orders walk the displayed levels (VWAP; an error when the
    displayed depth runs out, unless --depth-penalty), limit orders queue at the
    back of their price level and fill by the queue model (risk-averse: only trades
    at our price advance us; prob-power:N: also an expected share of the
    cancellations), by a trade through their price, or when the other side reaches
    it. Taker fills pay the venue's fee, maker fills receive its rebate (config
    venues[].fee/rebate, strategy.f/r). Resting orders run to the end of the data.

    The orders CSV has one order per line: ts (ISO-8601 with a zone, or UTC ns),
    venue, side (buy/sell), type (market/limit), price (empty for market), size,
    and optionally cancel_after_s and catch_up (true: send the cancelled rest at
    market).

    Example: myopic-sor simulate ./data/AAPL --date 2025-04-02 --orders orders.csv --queue-model prob-power:2 --latency-us 50 --json
    """  # noqa: E501
    res = simulate(
        paths,
        orders=orders,
        queue_model=queue_model,
        latency_us=latency_us,
        depth_penalty=depth_penalty,
        date=date,
        symbol=symbol,
        config=config,
        overrides=set_,
    )
    if as_json:
        _emit_json(res)
        return
    _print(res)


def register(app: typer.Typer) -> None:
    """Add the ``simulate`` command to ``app`` (the lead calls ``register(app)`` in
    ``myopic_sor.cli``)."""
    app.command("simulate")(simulate_cmd)
