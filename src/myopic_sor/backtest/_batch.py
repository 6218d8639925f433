"""Batch runs: stocks × days × parameter grids through one executor interface.

Each item is one :func:`~myopic_sor.backtest.compare_myopic_vs_traditional` on one stock-day
with one point of the parameter grid. Items run sequentially, in local processes (joblib) or
on a Dask cluster (``scheduler="tcp://host:8786"``, or a ``LocalCluster`` in tests). Each
finished item is written atomically to ``<out>/items/<key>.json`` and skipped on a re-run
(resumable); a failing item writes ``<key>.error.json`` with its error and never stops the
others. :func:`summarise_batch` gives the table across items: mean, standard deviation and
t-statistic of the improvement.
"""

from __future__ import annotations

import itertools
import json
import logging
import math
import traceback
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from myopic_sor._io import atomic_write_with, write_json_atomic
from myopic_sor._typing import PathLike
from myopic_sor.analysis import cost_volatility
from myopic_sor.exceptions import ConfigError

__all__ = ["BatchItem", "batch_items", "run_batch", "summarise_batch"]

logger = logging.getLogger(__name__)

Executor = Literal["sequential", "processes", "dask"]


@dataclass(frozen=True)
class BatchItem:
    """One stock-day with one parameter point (``params`` overrides ``strategy_params`` keys,
    and ``order_freq``, ``start_time``, ``end_time``, ``lookup_duration``)."""

    stock: str
    day: str
    params: Mapping[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        """A file-safe name: ``STOCK_DAY`` plus the grid point."""
        extra = "_".join(f"{k}={v}" for k, v in sorted(self.params.items()))
        raw = f"{self.stock}_{self.day}" + (f"_{extra}" if extra else "")
        return "".join(c if c.isalnum() or c in "._=-" else "-" for c in raw)


def batch_items(
    stocks: Sequence[str], days: Sequence[str], grid: Mapping[str, Sequence[Any]] | None = None
) -> list[BatchItem]:
    """Every stock × day × grid point (the grid's keys vary together as a product)."""
    grid = dict(grid or {})
    keys = sorted(grid)
    combos = itertools.product(*(grid[k] for k in keys))
    points = [dict(zip(keys, combo, strict=True)) for combo in combos]
    return [BatchItem(s, d, p) for s in stocks for d in days for p in (points or [{}])]


_RUN_KEYS = {"order_freq", "start_time", "end_time", "lookup_duration", "side", "alpha", "seed"}


def _run_item(item: BatchItem, data_path: str, base: Mapping[str, Any]) -> dict[str, Any]:
    """Run one comparison; return a JSON-ready summary (no DataFrames)."""
    import warnings

    from myopic_sor.backtest._spec import compare_myopic_vs_traditional

    kw = {**base, **item.params}
    run_kw = {k: kw.pop(k) for k in list(kw) if k in _RUN_KEYS}
    strategy_params = kw
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # forecaster fallbacks: counted in the results' info
        comp = compare_myopic_vs_traditional(
            item.stock,
            item.day,
            strategy_params,
            data_path,
            run_kw.pop("order_freq", 120),
            run_kw.pop("start_time", ("09", "30")),
            run_kw.pop("end_time", ("16", "00")),
            tuple(run_kw.pop("lookup_duration", (0, 15))),
            **run_kw,
        )

    def side(res: Mapping[str, Any]) -> dict[str, Any]:
        m = res["metrics"]
        return {
            "avg_cost_per_share": res["avg_cost_per_share"],
            "total_cost": res["total_cost"],
            "total_size": res["total_size"],
            "num_decisions": res["num_decisions"],
            "implementation_shortfall_bps": m["implementation_shortfall_bps"],
            "cost_vs_arrival": m.get("cost_vs_arrival"),
            "slippage_vs_vwap_bps": m.get("slippage_vs_vwap_bps"),
            "fill_rate": m.get("fill_rate"),
            "passive_share": m["passive_share"],
            "lambda_used": res["lambda_used"],
            "fallback_reason": res.get("fallback_reason"),
        }

    return {
        "key": item.key,
        "stock": item.stock,
        "day": item.day,
        "params": dict(item.params),
        "myopic": side(comp["myopic"]),
        "traditional": side(comp["traditional"]),
        "improvement": comp["improvement"],
    }


def _plain(obj: Any) -> Any:
    return json.loads(json.dumps(obj, default=str, allow_nan=True).replace("NaN", "null"))


def _task(item: BatchItem, data_path: str, base: Mapping[str, Any], out: str) -> dict[str, Any]:
    """Run and persist one item (executed on a worker); errors are recorded, not raised."""
    folder = Path(out) / "items"
    try:
        result = _run_item(item, data_path, base)
        write_json_atomic(folder / f"{item.key}.json", _plain(result))
        err = folder / f"{item.key}.error.json"
        if err.exists():
            err.unlink()
        return {"key": item.key, "status": "done"}
    except Exception as exc:  # one bad item must not lose the others
        record = {
            "key": item.key,
            "stock": item.stock,
            "day": item.day,
            "params": dict(item.params),
            "error": f"{type(exc).__name__}: {exc}",
            "traceback": traceback.format_exc(),
        }
        write_json_atomic(folder / f"{item.key}.error.json", _plain(record))
        return {"key": item.key, "status": "failed", "error": record["error"]}


def run_batch(
    items: Iterable[BatchItem],
    data_path: PathLike,
    out: PathLike,
    *,
    base_params: Mapping[str, Any] | None = None,
    executor: Executor = "sequential",
    n_jobs: int = 2,
    scheduler: str | Any | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> pd.DataFrame:
    """Run the items not finished yet under ``out``; return the summary across all items.

    Parameters
    ----------
    items : iterable of BatchItem
    data_path : path
        Root of the spec layout holding every stock.
    out : path
        Results folder (``items/<key>.json``, ``items/<key>.error.json``, ``summary.csv``).
    base_params : dict, optional
        ``strategy_params`` keys and run settings shared by every item.
    executor : {"sequential", "processes", "dask"}
        Where items run: here, local processes (joblib, ``n_jobs`` workers) or a Dask cluster.
    scheduler : str or distributed.Client, optional
        Dask scheduler address (``tcp://host:8786``) or a client; required for ``"dask"``.
    progress : callable, optional
        ``progress(done, total)`` after each finished item (sequential and Dask).

    Returns
    -------
    pandas.DataFrame
        :func:`summarise_batch` of ``out``.
    """
    all_items = list(items)
    folder = Path(out) / "items"
    folder.mkdir(parents=True, exist_ok=True)
    todo = [it for it in all_items if not (folder / f"{it.key}.json").exists()]
    skipped = len(all_items) - len(todo)
    if skipped:
        logger.info("batch: %d of %d items already done under %s", skipped, len(all_items), out)
    base = dict(base_params or {})
    data, dest = str(data_path), str(out)
    total = len(todo)
    if executor == "sequential":
        for i, it in enumerate(todo):
            _task(it, data, base, dest)
            if progress is not None:
                progress(i + 1, total)
    elif executor == "processes":
        from joblib import Parallel, delayed

        Parallel(n_jobs=n_jobs)(delayed(_task)(it, data, base, dest) for it in todo)
    elif executor == "dask":
        from dask.distributed import Client, as_completed

        if scheduler is None:
            raise ConfigError("executor='dask' needs scheduler= (tcp://host:8786 or a Client)")
        # distributed ships no type hints: the three calls below are checked by the tests
        client = scheduler if isinstance(scheduler, Client) else Client(scheduler)  # type: ignore[no-untyped-call]
        try:
            futures = [client.submit(_task, it, data, base, dest, pure=False) for it in todo]
            for i, fut in enumerate(as_completed(futures)):  # type: ignore[no-untyped-call]
                fut.result()
                if progress is not None:
                    progress(i + 1, total)
        finally:
            if not isinstance(scheduler, Client):
                client.close()  # type: ignore[no-untyped-call]
    else:
        raise ConfigError(f"executor={executor!r}: use sequential, processes or dask")
    return summarise_batch(out)


def summarise_batch(out: PathLike) -> pd.DataFrame:
    """One row per finished or failed item under ``out``, plus ``ALL`` (mean, std, t-stat of
    the improvement across finished items); written to ``<out>/summary.csv``.

    Columns: ``key``, ``stock``, ``day``, ``status``, ``myopic_avg_cost``,
    ``traditional_avg_cost``, ``cost_improvement_pct``, ``shortfall_improvement_bps``,
    ``error``; the ``ALL`` row holds the mean, with ``std`` and ``t_stat`` columns
    (``mean / (std / √n)``; NaN for fewer than two items) and
    ``myopic_cost_volatility_bps`` / ``traditional_cost_volatility_bps``, the standard
    deviation of each arm's implementation shortfall across items
    (:func:`~myopic_sor.analysis.cost_volatility`).
    """
    folder = Path(out) / "items"
    rows: list[dict[str, Any]] = []
    recs: dict[str, list[dict[str, Any]]] = {"myopic": [], "traditional": []}
    for path in sorted(folder.glob("*.json")):
        rec = json.loads(path.read_text(encoding="utf-8"))
        if path.name.endswith(".error.json"):
            rows.append(
                {"key": rec["key"], "stock": rec["stock"], "day": rec["day"], "status": "failed",
                 "error": rec["error"]}
            )  # fmt: skip
            continue
        imp = rec.get("improvement") or {}
        for arm, runs in recs.items():
            runs.append(rec[arm])
        rows.append(
            {
                "key": rec["key"],
                "stock": rec["stock"],
                "day": rec["day"],
                "status": "done",
                "myopic_avg_cost": rec["myopic"]["avg_cost_per_share"],
                "traditional_avg_cost": rec["traditional"]["avg_cost_per_share"],
                "cost_improvement_pct": imp.get("cost_improvement_pct"),
                "shortfall_improvement_bps": imp.get("shortfall_improvement_bps"),
                "error": None,
            }
        )
    table = pd.DataFrame(rows)
    if not len(table):
        return table
    done = table[table["status"] == "done"]
    stats: dict[str, Any] = {"key": "ALL", "status": f"{len(done)} done"}
    for col in ("cost_improvement_pct", "shortfall_improvement_bps"):
        vals = pd.to_numeric(done.get(col, pd.Series(dtype=float)), errors="coerce").dropna()
        n = len(vals)
        mean = float(vals.mean()) if n else math.nan
        sd = float(vals.std(ddof=1)) if n > 1 else math.nan
        stats[col] = mean
        stats[f"{col}_std"] = sd
        stats[f"{col}_t_stat"] = mean / (sd / math.sqrt(n)) if n > 1 and sd > 0 else math.nan
    for arm, runs in recs.items():  # the spec's cost volatility: std of the shortfall, bps
        stats[f"{arm}_cost_volatility_bps"] = cost_volatility(runs)["cost_volatility_bps"]
    table = pd.concat([table, pd.DataFrame([stats])], ignore_index=True)
    atomic_write_with(Path(out) / "summary.csv", lambda p: table.to_csv(p, index=False))
    return table
