"""Reports of a comparison: self-contained HTML (plots embedded, no network), Markdown, text.

Input is a results folder written by ``myopic-sor compare --out`` (``summary.json``,
``config.json``, ``fills-<strategy>.csv``): the report states the data, the parent order, the
parameters (λ and its source, β, the config hash), the seed, and labels any look-ahead
diagnostic. Plots: cumulative shares filled by strategy over the window, and the cost
breakdown per share (price paid vs arrival, fees, rebates) by strategy.
"""

from __future__ import annotations

import base64
import html
import io
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from myopic_sor._io import atomic_write_with
from myopic_sor._typing import PathLike
from myopic_sor.exceptions import DataNotFoundError

__all__ = ["load_results", "write_report"]

_COLUMNS = (
    ("avg_cost_per_share", "avg cost/sh", 4),
    ("implementation_shortfall_bps", "IS bps", 2),
    ("total_size", "filled", 0),
    ("num_decisions", "children", 0),
    ("passive_share", "passive", 3),
    ("catchup_shares", "catch-up", 0),
    ("fees", "fees", 2),
    ("rebates", "rebates", 2),
)


def load_results(folder: PathLike) -> tuple[dict[str, Any], dict[str, pd.DataFrame]]:
    """Read ``summary.json`` and the ``fills-*.csv`` of a ``compare --out`` folder."""
    path = Path(folder)
    summary_path = path / "summary.json"
    if not summary_path.exists():
        msg = (
            f"{summary_path} not found: give the folder `myopic-sor compare --out DIR` wrote "
            "(DIR/<config hash>/)"
        )
        raise DataNotFoundError(msg)
    summary = json.loads(summary_path.read_text(encoding="utf-8"))
    fills: dict[str, pd.DataFrame] = {}
    for name in summary.get("strategies", {}):
        f = path / f"fills-{name.replace(':', '-')}.csv"
        if f.exists():
            fills[name] = pd.read_csv(f)
    return summary, fills


def _cell(v: Any, nd: int) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "n/a"
    return f"{v:,.{nd}f}" if nd else f"{int(v):,}"


def _rows(summary: dict[str, Any]) -> list[list[str]]:
    rows = []
    for name, row in summary.get("strategies", {}).items():
        label = f"{name} (LOOK-AHEAD)" if row.get("lookahead") else name
        label = f"{label} (LATENT STATE)" if row.get("latent_state") else label
        rows.append([label, *(_cell(row.get(k), nd) for k, _, nd in _COLUMNS)])
    return rows


def _facts(summary: dict[str, Any]) -> list[str]:
    p = summary.get("parent", {})
    return [
        f"Data: {summary.get('symbol')} {summary.get('date')} from "
        f"{', '.join(summary.get('data', []))}",
        f"Parent: {p.get('side')} {p.get('quantity'):,} shares {p.get('start')}-{p.get('end')}; "
        f"arrival mid {_cell(summary.get('arrival_mid'), 4)}",
        f"Impact: λ = {_cell(summary.get('lambda'), 2)} ({summary.get('lambda_source')}), "
        f"β = {_cell(summary.get('beta_per_hour'), 4)} per hour",
        f"Config hash {summary.get('config_hash')}, seed {summary.get('seed')}, queue model "
        f"{summary.get('queue_model')}, latency {summary.get('latency_us')} µs",
    ]


def _png(fig: Figure) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _plots(summary: dict[str, Any], fills: dict[str, pd.DataFrame]) -> dict[str, Figure]:
    figs: dict[str, Figure] = {}
    fig = Figure(figsize=(8, 4))
    ax = fig.subplots()
    for name, f in fills.items():
        if len(f):
            t = pd.to_datetime(f["ts_event"].to_numpy(dtype=np.int64), unit="ns", utc=True)
            order = np.argsort(t.to_numpy(), kind="stable")
            ax.step(t[order], f["size"].to_numpy()[order].cumsum(), where="post", label=name)
    ax.set_ylabel("shares filled")
    ax.set_title("cumulative fills")
    if fills:
        ax.legend(loc="best", fontsize=8)
    fig.tight_layout()
    figs["cumulative_fills"] = fig
    fig = Figure(figsize=(8, 4))
    ax = fig.subplots()
    names = list(summary.get("strategies", {}))
    parts = {  # MATH.md §8 split of the cost vs arrival (analysis.cost_breakdown)
        "spread (crossing, book walk)": "spread_cost_per_share",
        "timing (mid move: impact, drift)": "timing_cost_per_share",
        "fees": "fees_per_share",
    }
    x = np.arange(len(names))
    pos, neg = np.zeros(len(names)), np.zeros(len(names))
    for label, key in parts.items():
        v = np.array([float(summary["strategies"][n].get(key) or 0.0) for n in names])
        bottom = np.where(v >= 0, pos, neg)
        ax.bar(x, v, bottom=bottom, label=label)
        pos, neg = pos + np.maximum(v, 0), neg + np.minimum(v, 0)
    reb = -np.array(
        [float(summary["strategies"][n].get("rebates_per_share") or 0.0) for n in names]
    )
    ax.bar(x, reb, bottom=neg, label="rebates")
    total = [float(summary["strategies"][n].get("cost_vs_arrival") or math.nan) for n in names]
    catch = [float(summary["strategies"][n].get("catchup_cost_per_share") or 0.0) for n in names]
    ax.scatter(x, total, color="black", marker="D", zorder=3, label="total vs arrival")
    ax.scatter(x, catch, color="red", marker="x", zorder=3, label="of which catch-up")
    ax.axhline(0.0, color="grey", linewidth=0.8)
    ax.set_xticks(x, names, rotation=30, ha="right", fontsize=8)
    ax.set_ylabel("currency per share")
    ax.set_title("cost breakdown per share (vs arrival mid)")
    ax.legend(loc="best", fontsize=7)
    fig.tight_layout()
    figs["cost_breakdown"] = fig
    return figs


def _schedule_plots(folder: Path, summary: dict[str, Any]) -> dict[str, Figure]:
    """The myopic strategies' schedules (children over the mid, the modelled impact and the
    alpha at each decision), from the ``decisions-*.json`` a ``compare --out`` wrote."""
    from myopic_sor.analysis._analyzer import MyopicAnalyzer

    figs: dict[str, Figure] = {}
    for name in summary.get("strategies", {}):
        path = folder / f"decisions-{name.replace(':', '-')}.json"
        if not name.startswith("myopic") or not path.exists():
            continue
        rows = json.loads(path.read_text(encoding="utf-8"))
        row = summary["strategies"][name]
        tag = " (LOOK-AHEAD diagnostic)" if row.get("lookahead") else ""
        tag += " (LATENT STATE diagnostic)" if row.get("latent_state") else ""
        results = {"results": rows, "strategy": name + tag, "lambda_used": summary.get("lambda")}
        figs[f"schedule_{name}"] = MyopicAnalyzer().create_schedule_visualization(results)
    return figs


def write_report(folder: PathLike, out: PathLike | None = None) -> dict[str, Path]:
    """Write ``report.html`` (plots embedded), ``report.md`` and ``report.txt``.

    Parameters
    ----------
    folder : path
        A ``compare --out`` results folder (``DIR/<config hash>/``).
    out : path, optional
        Where to write (default: ``folder``).

    Returns
    -------
    dict
        ``{"html": path, "md": path, "txt": path}``.
    """
    summary, fills = load_results(folder)
    dest = Path(out) if out is not None else Path(folder)
    dest.mkdir(parents=True, exist_ok=True)
    heads = ["strategy", *(h for _, h, _ in _COLUMNS)]
    rows = _rows(summary)
    facts = _facts(summary)
    rows_all = summary.get("strategies", {}).values()
    warn = " ".join(
        text
        for flag, text in (
            (
                "lookahead",
                "LOOK-AHEAD rows use the realised future: a diagnostic bound, not an "
                "achievable result.",
            ),
            (
                "latent_state",
                "LATENT STATE rows read the synthetic market's hidden drift: a diagnostic "
                "bound for forecasters on market data.",
            ),
        )
        if any(r.get(flag) for r in rows_all)
    )
    title = f"Execution comparison: {summary.get('symbol')} {summary.get('date')}"
    widths = [max([len(h), *(len(r[j]) for r in rows)]) for j, h in enumerate(heads)]
    txt_lines = [title, "=" * len(title), *facts, ""]
    txt_lines.append("  ".join(h.ljust(w) for h, w in zip(heads, widths, strict=True)))
    txt_lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    if warn:
        txt_lines += ["", warn]
    text = "\n".join(txt_lines) + "\n"
    md_lines = [f"# {title}", "", *(f"- {f}" for f in facts), ""]
    md_lines.append("| " + " | ".join(heads) + " |")
    md_lines.append("|" + "|".join(" --- " for _ in heads) + "|")
    md_lines += ["| " + " | ".join(r) + " |" for r in rows]
    if warn:
        md_lines += ["", f"**{warn}**"]
    markdown = "\n".join(md_lines) + "\n"
    figs = _plots(summary, fills)
    figs.update(_schedule_plots(Path(folder), summary))
    imgs = "".join(
        f'<h2>{html.escape(k.replace("_", " "))}</h2><img alt="{html.escape(k)}" '
        f'src="data:image/png;base64,{_png(f)}"/>'
        for k, f in figs.items()
    )
    table = "<table><tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in heads) + "</tr>"
    table += "".join(
        "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>" for r in rows
    )
    table += "</table>"
    page = (
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title><style>body{{font-family:sans-serif;margin:2em}}"
        "table{border-collapse:collapse}td,th{border:1px solid #999;padding:4px 8px;"
        "text-align:right}td:first-child{text-align:left}</style></head><body>"
        f"<h1>{html.escape(title)}</h1><ul>"
        + "".join(f"<li>{html.escape(f)}</li>" for f in facts)
        + f"</ul>{table}"
        + (f"<p><strong>{html.escape(warn)}</strong></p>" if warn else "")
        + imgs
        + "</body></html>\n"
    )
    paths = {"html": dest / "report.html", "md": dest / "report.md", "txt": dest / "report.txt"}
    for kind, content in (("html", page), ("md", markdown), ("txt", text)):

        def write(p: Path, c: str = content) -> None:
            p.write_text(c, encoding="utf-8")

        atomic_write_with(paths[kind], write)
    return paths
