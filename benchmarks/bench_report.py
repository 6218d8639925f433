"""Benchmark: report generation (``write_report``) on a ``compare --out`` results folder.

Generates one synthetic 3-venue day in the spec's layout (09:30 to ``--session-end``), runs
``myopic-sor compare`` on it with ``--out`` (in this process, through the CLI's ``main``; the
default strategy set unless ``--strategies``), then times
:func:`myopic_sor.analysis.write_report` on that folder: the first call (matplotlib's first
figure and font set-up included) and the best and median of ``--repeat`` further calls.

Checks (exit 1 on failure): ``report.html``, ``report.md`` and ``report.txt`` exist and are not
empty; the HTML embeds its plots (one ``data:image/png;base64`` image per plot, every ``src``
and ``href`` a ``data:`` URI, no ``http://``, ``https://`` or protocol-relative ``//`` URL, no
``<script>`` or ``<link>``); each report names every strategy of the comparison.

Timings are wall times on a shared machine: noisy.

Usage::

    python benchmarks/bench_report.py [--repeat 5] [--session-end 11:00] [--quantity 5000]
                                      [--start 10:00] [--end 10:45] [--strategies LIST]
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import io
import json
import re
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

from myopic_sor.analysis import write_report
from myopic_sor.cli import main as cli_main
from myopic_sor.data import SyntheticConfig, SyntheticMarket

N_FIXED_PLOTS = 2  # cumulative fills, cost breakdown; plus one schedule per myopic strategy


def compare_out(layout: Path, out: Path, args: argparse.Namespace) -> Path:
    """Run ``myopic-sor compare ... --out OUT --json``; return the results folder it wrote."""
    argv = [
        "compare",
        str(layout),
        "--quantity",
        str(args.quantity),
        "--start",
        args.start,
        "--end",
        args.end,
        "--out",
        str(out),
        "--json",
    ]
    if args.strategies:
        argv += ["--strategies", args.strategies]
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the CLI prints its own warnings to stderr
        try:
            cli_main(argv)
        except SystemExit as exc:
            if exc.code not in (0, None):
                raise RuntimeError(f"compare exited {exc.code}: {buf.getvalue()}") from exc
    return Path(json.loads(buf.getvalue())["out"])


def n_plots(names: list[str]) -> int:
    """Plots the report embeds for these strategies."""
    return N_FIXED_PLOTS + sum(1 for n in names if n.startswith("myopic"))


def check_html(page: str, expected: int) -> list[str]:
    """What is wrong with the HTML's self-containment (empty list: nothing)."""
    problems = []
    n_img = page.count("data:image/png;base64,")
    if n_img != expected:
        problems.append(f"{n_img} embedded PNG images, expected {expected}")
    for attr, value in re.findall(r"""\b(src|href)\s*=\s*["']?([^"'\s>]*)""", page, re.I):
        if not value.startswith("data:"):
            problems.append(f"{attr}={value[:60]!r} is not embedded")
    for pattern in ("http://", "https://", "url(//", '"//', "'//", "<script", "<link"):
        if pattern in page.lower():
            problems.append(f"{pattern!r} in the page (external resource)")
    return problems


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5, help="timed calls after the first")
    ap.add_argument("--session-end", default="11:00", help="end of the generated session")
    ap.add_argument("--quantity", type=int, default=5000, help="parent size, shares")
    ap.add_argument("--start", default="10:00", help="window start HH:MM")
    ap.add_argument("--end", default="10:45", help="window end HH:MM")
    ap.add_argument("--strategies", default="", help="compare's --strategies (default: its set)")
    args = ap.parse_args()
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        cfg = SyntheticConfig(session_end=dt.time.fromisoformat(args.session_end))
        market = SyntheticMarket(cfg)
        data = market.generate()
        market.write(Path(tmp) / "data")
        print(
            f"data: {cfg.symbol} {cfg.date}, 3 venues, 09:30-{args.session_end}, "
            f"{data.n_events:,} events, generated in {time.perf_counter() - t:.1f} s"
        )
        t = time.perf_counter()
        folder = compare_out(Path(tmp) / "data" / cfg.symbol, Path(tmp) / "out", args)
        summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
        names = list(summary["strategies"])
        n_fills = sum(
            len((folder / f"fills-{n.replace(':', '-')}.csv").read_text().splitlines()) - 1
            for n in names
        )
        print(
            f"compare --out: buy {args.quantity:,} {args.start}-{args.end}, {len(names)} "
            f"strategies ({', '.join(names)}), {n_fills:,} fills, in "
            f"{time.perf_counter() - t:.1f} s -> {folder.name}/"
        )
        t = time.perf_counter()
        paths = write_report(folder)
        first = time.perf_counter() - t
        times = []
        for _ in range(args.repeat):
            t = time.perf_counter()
            paths = write_report(folder)
            times.append(time.perf_counter() - t)
        print(f"\n{'write_report':<14}{'first s':>9}{'best s':>9}{'median s':>10}  runs")
        print(
            f"{'':<14}{first:>9.3f}{min(times):>9.3f}{statistics.median(times):>10.3f}  "
            f"{len(times)} after the first"
        )
        for kind in ("html", "md", "txt"):
            path = paths[kind]
            size = path.stat().st_size if path.exists() else 0
            text = path.read_text(encoding="utf-8") if size else ""
            missing = [n for n in names if n not in text]
            good = size > 0 and not missing
            ok &= good
            print(
                f"  {path.name:<12}{size / 1e3:>9.1f} kB"
                + ("" if size else "  MISSING OR EMPTY")
                + (f"  strategies not named: {missing}" if missing else "")
            )
        problems = check_html(paths["html"].read_text(encoding="utf-8"), n_plots(names))
        for problem in problems:
            print(f"  report.html: {problem}")
        ok &= not problems
        if not problems:
            print(f"  report.html: {n_plots(names)} plots embedded as data URIs, no external URL")
    print("OK" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
