r"""The spec's ``lookup`` routing mode: split ratios read from a table built on history.

:func:`build_lookup_table` replays a past day: every ``every_s`` seconds (default 60, one
sample per minute) it measures the router's inputs at that time from data up to that time only
(:func:`~myopic_sor.routing.router_inputs`), asks a :class:`~myopic_sor.routing.Router` how it
would split each of the given child ``sizes``, and averages the answers per bucket of

* **size** — the nearest of the ``sizes`` the table was built for (in log space);
* **queue depth** — ``Σ_k Q_k``, the shares displayed ahead of us at our touch over the
  routed venues (shares);
* **traded volume** — ``Σ_k E ξ_k`` per minute, the shares per minute leaving our touch on
  the routed venues according to their outflow laws
  (:func:`~myopic_sor.routing._inputs.outflow_rate`); with the default outflow source
  ``"traded"`` it is the volume traded at our touch per minute over the look-back.

A cell holds the mean market fraction ``M / S`` and the mean limit fraction ``L_k / S`` of
every venue (0 for a venue excluded at that time), and how many decisions it averages.
:class:`LookupRouter` implements :class:`~myopic_sor.routing.Router` from the table. The
volume is read from the outflow laws every router receives, so the table needs nothing the
Cont-Kukanov router does not get; ``route(..., recent_volume=...)`` may override it (same
units). Both sides are pooled by default: the routing problem is side-free (MATH.md §5, a sell
is the mirror image of a buy), and the features are measured on the side we rest on.

Files are written atomically (:mod:`myopic_sor._io`), as JSON or Parquet, never pickled, with
a versioned schema; a missing, corrupt or foreign file is a clear error naming the file.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.parquet as pq

from myopic_sor._io import atomic_write_with, write_json_atomic
from myopic_sor._rng import as_generator
from myopic_sor._typing import Float64Array, Float64Array1D, PathLike, SeedLike
from myopic_sor.config import MyopicSorConfig
from myopic_sor.data import MarketData
from myopic_sor.exceptions import (
    ConfigError,
    DataFormatError,
    DataNotFoundError,
    DataValidationError,
)
from myopic_sor.routing._base import Allocation, OutflowDistribution, Router, RoutingProblem
from myopic_sor.routing._cont_kukanov import (
    draw_outflows,
    expected_cost,
    round_to_target,
    underfill_probability,
)
from myopic_sor.routing._inputs import RouterOutflowKind, outflow_rate, router_inputs

__all__ = [
    "LOOKUP_SCHEMA",
    "LOOKUP_VERSION",
    "LookupRouter",
    "LookupTable",
    "build_lookup_table",
]

logger = logging.getLogger(__name__)

LOOKUP_SCHEMA = "myopic_sor.lookup_table"
LOOKUP_VERSION = 1
_NS = 1_000_000_000
_META_KEY = LOOKUP_SCHEMA.encode()


def _edges(name: str, values: Sequence[float] | Float64Array1D) -> Float64Array1D:
    e = np.asarray(values, dtype=np.float64).reshape(-1)
    if not np.all(np.isfinite(e)) or np.any(np.diff(e) <= 0.0):
        raise ConfigError(f"{name} must be finite and strictly increasing, got {e.tolist()}")
    e = e.copy()
    e.setflags(write=False)
    return e


def _json_clean(meta: Mapping[str, Any]) -> dict[str, Any]:
    try:
        out: dict[str, Any] = json.loads(json.dumps(dict(meta), allow_nan=False))
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"LookupTable.meta must be plain JSON (finite numbers): {exc}") from exc
    return out


@dataclass(frozen=True, slots=True, eq=False)
class LookupTable:
    """Average split ratios per (size, queue-depth, traded-volume) bucket.

    Parameters
    ----------
    venues : tuple of str
        Venues of the limit fractions, in order.
    sizes : numpy.ndarray
        Child sizes the table was built for, shares (> 0, increasing).
    depth_edges : numpy.ndarray
        Inner edges of the queue-depth buckets, shares (increasing); bucket j holds
        ``depth_edges[j−1] ≤ Σ Q_k < depth_edges[j]`` (open-ended at both ends), so there
        are ``len(depth_edges) + 1`` buckets.
    volume_edges : numpy.ndarray
        Inner edges of the traded-volume buckets, shares per minute, same convention.
    market : numpy.ndarray
        float64, shape ``(n_sizes, n_depth, n_volume)``: mean ``M / S`` of each cell.
    limit : numpy.ndarray
        float64, shape ``(n_sizes, n_depth, n_volume, n_venues)``: mean ``L_k / S``.
    count : numpy.ndarray
        int64, shape ``(n_sizes, n_depth, n_volume)``: decisions averaged (0: empty cell).
    horizon_ns : int
        Router horizon T_r the outflow laws were fitted for, ns (turns E ξ into a rate).
    meta : Mapping
        Plain-JSON provenance (symbol, date, window, sides, router, look-back...).

    Notes
    -----
    An empty cell is answered by the nearest non-empty one: smallest L1 distance in bucket
    indices ``|Δsize| + |Δdepth| + |Δvolume|``, ties to the cell with more decisions, then to
    the lowest indices (:meth:`lookup`).
    """

    venues: tuple[str, ...]
    sizes: Float64Array1D
    depth_edges: Float64Array1D
    volume_edges: Float64Array1D
    market: Float64Array
    limit: Float64Array
    count: npt.NDArray[np.int64]
    horizon_ns: int
    meta: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        venues = tuple(str(v) for v in self.venues)
        if not venues or len(set(venues)) != len(venues):
            raise ConfigError(f"LookupTable.venues must be distinct names, got {venues}")
        sizes = _edges("LookupTable.sizes", self.sizes)
        if sizes.size == 0 or sizes[0] <= 0.0:
            raise ConfigError(f"LookupTable.sizes must be > 0 shares, got {sizes.tolist()}")
        depth = _edges("LookupTable.depth_edges", self.depth_edges)
        volume = _edges("LookupTable.volume_edges", self.volume_edges)
        shape = (sizes.size, depth.size + 1, volume.size + 1)
        market = np.array(self.market, dtype=np.float64)
        limit = np.array(self.limit, dtype=np.float64)
        count = np.array(self.count, dtype=np.int64)
        if market.shape != shape or count.shape != shape:
            raise ConfigError(
                f"LookupTable: market {market.shape} and count {count.shape} must have shape "
                f"{shape} (sizes × depth buckets × volume buckets)"
            )
        if limit.shape != (*shape, len(venues)):
            raise ConfigError(
                f"LookupTable: limit has shape {limit.shape}, expected {(*shape, len(venues))}"
            )
        if np.any(count < 0) or not np.any(count > 0):
            raise ConfigError("LookupTable: counts must be ≥ 0 with at least one non-empty cell")
        ok = np.all(np.isfinite(market)) and np.all(np.isfinite(limit))
        if not ok or np.any(market < 0.0) or np.any(limit < 0.0):
            raise ConfigError("LookupTable: market and limit fractions must be finite and ≥ 0")
        horizon = int(self.horizon_ns)
        if horizon <= 0:
            raise ConfigError(f"LookupTable.horizon_ns must be > 0, got {self.horizon_ns}")
        for a in (market, limit, count):
            a.setflags(write=False)
        object.__setattr__(self, "venues", venues)
        object.__setattr__(self, "sizes", sizes)
        object.__setattr__(self, "depth_edges", depth)
        object.__setattr__(self, "volume_edges", volume)
        object.__setattr__(self, "market", market)
        object.__setattr__(self, "limit", limit)
        object.__setattr__(self, "count", count)
        object.__setattr__(self, "horizon_ns", horizon)
        object.__setattr__(self, "meta", _json_clean(self.meta))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, LookupTable):
            return NotImplemented
        return (
            self.venues == other.venues
            and self.horizon_ns == other.horizon_ns
            and dict(self.meta) == dict(other.meta)
            and all(
                np.array_equal(getattr(self, k), getattr(other, k))
                for k in ("sizes", "depth_edges", "volume_edges", "market", "limit", "count")
            )
        )

    __hash__ = None  # type: ignore[assignment]

    @property
    def shape(self) -> tuple[int, int, int]:
        """(sizes, depth buckets, volume buckets)."""
        s = self.count.shape
        return int(s[0]), int(s[1]), int(s[2])

    # -- lookup ---------------------------------------------------------------------------------
    def bucket(self, size: float, depth: float, volume: float) -> tuple[int, int, int]:
        """Cell indices of a child of ``size`` shares, queue depth (shares) and volume
        (shares per minute): the nearest size in log space (ties to the smaller), the depth
        and volume buckets by their edges."""
        for name, v in (("size", size), ("depth", depth), ("volume", volume)):
            if not math.isfinite(float(v)) or (name == "size" and v <= 0.0):
                raise ConfigError(f"LookupTable.bucket: {name}={v!r} must be finite (size > 0)")
        i = int(np.argmin(np.abs(np.log(self.sizes) - math.log(float(size)))))
        j = int(np.searchsorted(self.depth_edges, float(depth), side="right"))
        k = int(np.searchsorted(self.volume_edges, float(volume), side="right"))
        return i, j, k

    def nearest_filled(self, cell: tuple[int, int, int]) -> tuple[int, int, int]:
        """The non-empty cell nearest to ``cell`` (itself when it is filled; see Notes)."""
        filled = np.argwhere(self.count > 0)
        dist = np.abs(filled - np.asarray(cell)).sum(axis=1)
        counts = self.count[filled[:, 0], filled[:, 1], filled[:, 2]]
        # lexsort: last key primary -> distance, then more decisions, then lowest indices
        order = np.lexsort((filled[:, 2], filled[:, 1], filled[:, 0], -counts, dist))
        best = filled[order[0]]
        return int(best[0]), int(best[1]), int(best[2])

    def lookup(
        self, size: float, depth: float, volume: float
    ) -> tuple[float, Float64Array1D, tuple[int, int, int], bool]:
        """Return ``(market fraction, limit fractions, cell used, exact)`` for the features.

        ``exact`` is False when the features' own cell was empty and the nearest filled cell
        answered.
        """
        cell = self.bucket(size, depth, volume)
        used = self.nearest_filled(cell)
        lim: Float64Array1D = np.array(self.limit[used], dtype=np.float64)
        return float(self.market[used]), lim, used, used == cell

    # -- files ----------------------------------------------------------------------------------
    def _header(self) -> dict[str, Any]:
        return {
            "schema": LOOKUP_SCHEMA,
            "version": LOOKUP_VERSION,
            "venues": list(self.venues),
            "sizes": self.sizes.tolist(),
            "depth_edges": self.depth_edges.tolist(),
            "volume_edges": self.volume_edges.tolist(),
            "horizon_ns": self.horizon_ns,
            "meta": dict(self.meta),
        }

    def _cells(self) -> list[dict[str, Any]]:
        out = []
        for i, j, k in np.argwhere(self.count > 0):
            out.append(
                {
                    "size": int(i),
                    "depth": int(j),
                    "volume": int(k),
                    "count": int(self.count[i, j, k]),
                    "market": float(self.market[i, j, k]),
                    "limit": [float(x) for x in self.limit[i, j, k]],
                }
            )
        return out

    def to_json(self, path: PathLike) -> Path:
        """Write the table as JSON (atomically); return the path.

        The file holds the header (``schema``, ``version``, venues, sizes, edges, horizon,
        meta) and one record per non-empty cell (indices, count, market, limit).
        """
        p = Path(path)
        write_json_atomic(p, {**self._header(), "cells": self._cells()})
        return p

    def to_parquet(self, path: PathLike) -> Path:
        """Write the table as Parquet (atomically); return the path.

        One row per non-empty cell (``size``, ``depth``, ``volume`` indices, ``count``,
        ``market``, ``limit`` as a list in ``venues`` order); the header is the JSON value of
        the schema metadata key ``myopic_sor.lookup_table``.
        """
        p = Path(path)
        cells = self._cells()
        table = pa.table(
            {
                "size": pa.array([c["size"] for c in cells], type=pa.int64()),
                "depth": pa.array([c["depth"] for c in cells], type=pa.int64()),
                "volume": pa.array([c["volume"] for c in cells], type=pa.int64()),
                "count": pa.array([c["count"] for c in cells], type=pa.int64()),
                "market": pa.array([c["market"] for c in cells], type=pa.float64()),
                "limit": pa.array([c["limit"] for c in cells], type=pa.list_(pa.float64())),
            }
        )
        table = table.replace_schema_metadata({_META_KEY: json.dumps(self._header()).encode()})
        atomic_write_with(p, lambda tmp: pq.write_table(table, tmp))
        return p

    @classmethod
    def _from_parts(
        cls, header: Mapping[str, Any], cells: Sequence[Mapping[str, Any]], where: Path
    ) -> LookupTable:
        def bad(what: str) -> DataFormatError:
            return DataFormatError(f"{where}: not a valid lookup table ({what})")

        if not isinstance(header, Mapping) or header.get("schema") != LOOKUP_SCHEMA:
            found = header.get("schema") if isinstance(header, Mapping) else None
            raise bad(f"schema {found!r}, expected {LOOKUP_SCHEMA!r}")
        if header.get("version") != LOOKUP_VERSION:
            raise bad(
                f"schema version {header.get('version')!r}; this myopic-sor reads version "
                f"{LOOKUP_VERSION}: rebuild the table with build_lookup_table"
            )
        if not isinstance(header.get("venues"), list) or not header["venues"]:
            raise bad("no venues")
        try:
            venues = tuple(header["venues"])
            sizes = np.asarray(header["sizes"], dtype=np.float64)
            depth = np.asarray(header["depth_edges"], dtype=np.float64)
            volume = np.asarray(header["volume_edges"], dtype=np.float64)
            shape = (sizes.size, depth.size + 1, volume.size + 1)
            market = np.zeros(shape)
            limit = np.zeros((*shape, len(venues)))
            count = np.zeros(shape, dtype=np.int64)
            for c in cells:
                cell = (int(c["size"]), int(c["depth"]), int(c["volume"]))
                if not all(0 <= x < n for x, n in zip(cell, shape, strict=True)):
                    raise bad(f"cell {cell} outside the table's shape {shape}")
                if count[cell] != 0:
                    raise bad(f"cell {cell} listed twice")
                count[cell] = int(c["count"])
                market[cell] = float(c["market"])
                limit[cell] = np.asarray(c["limit"], dtype=np.float64)
            return cls(
                venues=venues,
                sizes=sizes,
                depth_edges=depth,
                volume_edges=volume,
                market=market,
                limit=limit,
                count=count,
                horizon_ns=int(header["horizon_ns"]),
                meta=header.get("meta") or {},
            )
        except DataFormatError:
            raise
        except (KeyError, TypeError, ValueError) as exc:
            raise bad(f"{type(exc).__name__}: {exc}") from exc

    @classmethod
    def from_json(cls, path: PathLike) -> LookupTable:
        """Read a table written by :meth:`to_json`.

        Raises
        ------
        DataNotFoundError
            No such file.
        DataFormatError
            Not JSON, or not a lookup table of this schema version (the message names the
            file).
        """
        p = Path(path)
        if not p.is_file():
            raise DataNotFoundError(f"{p}: no such lookup-table file")
        try:
            doc = json.loads(p.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise DataFormatError(f"{p}: not a JSON lookup table ({exc})") from exc
        if not isinstance(doc, dict):
            raise DataFormatError(f"{p}: not a valid lookup table (top level is not an object)")
        cells = doc.pop("cells", None)
        if not isinstance(cells, list):
            raise DataFormatError(f"{p}: not a valid lookup table (no list of 'cells')")
        return cls._from_parts(doc, cells, p)

    @classmethod
    def from_parquet(cls, path: PathLike) -> LookupTable:
        """Read a table written by :meth:`to_parquet` (errors as :meth:`from_json`)."""
        p = Path(path)
        if not p.is_file():
            raise DataNotFoundError(f"{p}: no such lookup-table file")
        try:
            table = pq.read_table(p)
        except (pa.ArrowException, OSError) as exc:
            raise DataFormatError(f"{p}: not a Parquet lookup table ({exc})") from exc
        raw = (table.schema.metadata or {}).get(_META_KEY)
        if raw is None:
            raise DataFormatError(
                f"{p}: not a valid lookup table (no {LOOKUP_SCHEMA!r} schema metadata)"
            )
        try:
            header = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise DataFormatError(f"{p}: corrupt lookup-table header ({exc})") from exc
        want = {"size", "depth", "volume", "count", "market", "limit"}
        if not want <= set(table.column_names):
            missing = sorted(want - set(table.column_names))
            raise DataFormatError(f"{p}: not a valid lookup table (missing columns {missing})")
        return cls._from_parts(header, table.to_pylist(), p)


# --------------------------------------------------------------------------------------------
# the router
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LookupRouter:
    """A :class:`~myopic_sor.routing.Router` that reads the split from a :class:`LookupTable`.

    Parameters
    ----------
    table : LookupTable
    n_samples : int, default 200
        Outflow draws used only to report the allocation's expected cost and underfill
        probability (as the other routers do); the split itself uses no randomness.

    Notes
    -----
    Features of the problem: its size S, queue depth ``Σ_k Q_k`` and traded volume — the
    ``recent_volume`` keyword when given (shares per minute), else ``Σ_k E ξ_k`` per minute
    from the outflow laws and the table's horizon. The cell's fractions give
    ``M = S · m`` and ``L_k = S · l_k`` for the problem's venues, matched by name; the limit
    share of a table venue absent from the problem (excluded now) is spread over the present
    venues in proportion to their own fractions (evenly when those are all 0), so the
    passive/aggressive mix of the table is kept; a cell placing less than S sends the rest at
    market. A whole-share S is rounded to whole shares
    (:func:`~myopic_sor.routing.round_to_target`); a fractional S is split as is.
    """

    table: LookupTable
    n_samples: int = 200

    def __post_init__(self) -> None:
        if isinstance(self.n_samples, bool) or int(self.n_samples) < 1:
            raise ConfigError(f"LookupRouter.n_samples must be ≥ 1, got {self.n_samples!r}")

    def route(
        self,
        problem: RoutingProblem,
        outflows: Sequence[OutflowDistribution],
        rng: np.random.Generator,
        *,
        recent_volume: float | None = None,
    ) -> Allocation:
        """Split ``problem.size`` by the table's cell for the problem's features."""
        if len(outflows) != problem.n_venues:
            msg = f"{len(outflows)} outflow laws for {problem.n_venues} venues; give one each"
            raise ConfigError(msg)
        S = problem.size
        depth = float(problem.queues.sum())
        volume = (
            outflow_rate(outflows, self.table.horizon_ns)
            if recent_volume is None
            else float(recent_volume)
        )
        m, lim, cell, exact = self.table.lookup(S, depth, volume)
        pos = {v: k for k, v in enumerate(self.table.venues)}
        here = np.array([lim[pos[v]] if v in pos else 0.0 for v in problem.venues])
        absent = float(sum(lim[k] for v, k in pos.items() if v not in problem.venues))
        if absent > 0.0:
            share = here / here.sum() if here.sum() > 0.0 else np.full(here.size, 1.0 / here.size)
            here = here + absent * share
        m = min(m, 1.0)
        m += max(1.0 - m - float(here.sum()), 0.0)  # a cell placing under S: the rest at market
        x_real = np.concatenate([[m * S], here * S])
        x = round_to_target(x_real, S) if S >= 1.0 and float(S).is_integer() else x_real
        xi = draw_outflows(outflows, int(self.n_samples), rng)
        info: dict[str, Any] = {
            "cell": cell,
            "exact_cell": exact,
            "cell_count": int(self.table.count[cell]),
            "queue_depth": depth,
            "volume_per_min": volume,
            "unrounded": [float(v) for v in x_real],
            "half_spread": problem.half_spread,
            "fee": problem.fee,
            "n_samples": int(self.n_samples),
        }
        return Allocation.from_vector(
            x,
            problem.venues,
            expected_cost=expected_cost(problem, x, xi),
            p_underfill=underfill_probability(problem, x, xi),
            method="lookup",
            info=info,
        )


# --------------------------------------------------------------------------------------------
# building from history
# --------------------------------------------------------------------------------------------


def _quantile_edges(values: Float64Array1D, n_buckets: int) -> Float64Array1D:
    if n_buckets < 1:
        raise ConfigError(f"n_buckets must be ≥ 1, got {n_buckets}")
    if n_buckets == 1 or values.size == 0:
        return np.zeros(0)
    q = np.quantile(values, np.arange(1, n_buckets) / n_buckets)
    edges: Float64Array1D = np.unique(q)
    return edges


def build_lookup_table(
    market_data: MarketData,
    router: Router,
    *,
    sizes: Sequence[float],
    sides: Sequence[int] = (1, -1),
    horizon_s: float | None = None,
    lookback_s: float | None = None,
    every_s: float = 60.0,
    start_ns: int | None = None,
    end_ns: int | None = None,
    depth_edges: Sequence[float] | None = None,
    volume_edges: Sequence[float] | None = None,
    n_buckets: int = 4,
    config: MyopicSorConfig | None = None,
    outflow_kind: RouterOutflowKind = "empirical",
    seed: SeedLike = None,
    **inputs: Any,
) -> LookupTable:
    """Build a lookup table by routing past decisions with causal inputs.

    Parameters
    ----------
    market_data : MarketData
        The history (one day).
    router : Router
        The router whose answers the table averages (e.g.
        :class:`~myopic_sor.routing.ContKukanovRouter`).
    sizes : sequence of float
        Child sizes to route at every decision time, shares (> 0; the size axis).
    sides : sequence of int, default (1, -1)
        Sides routed at every time (pooled in the table).
    horizon_s, lookback_s : float, optional
        Router horizon and look-back, seconds (default from ``config``).
    every_s : float, default 60
        Seconds between sampled decision times (one per minute by default).
    start_ns, end_ns : int, optional
        First and last decision time, UTC ns (default: a full look-back after the first event,
        and the last event).
    depth_edges, volume_edges : sequence of float, optional
        Inner bucket edges (shares; shares per minute). Default: the ``1/n_buckets``
        quantiles of the sampled values, so the buckets are about equally filled.
    n_buckets : int, default 4
        Buckets per axis when the edges are not given.
    config : MyopicSorConfig, optional
        As in :func:`~myopic_sor.routing.router_inputs` (fees, rebates, θ, penalties).
    outflow_kind : str, default "empirical"
        The outflow law the router gets.
    seed : int, Generator or None
        Randomness of the router (default ``config.seed``).
    **inputs
        Further keywords of :func:`~myopic_sor.routing.router_inputs` (``min_samples``,
        ``adverse``, ``outflow_source``...).

    Returns
    -------
    LookupTable

    Raises
    ------
    DataValidationError
        No decision time could be routed (every venue excluded every time).

    Notes
    -----
    At each time t and side the inputs are measured from ``ts_event ≤ t`` only
    (:func:`~myopic_sor.routing.router_inputs`), then every size is routed on them; a
    (time, side) at which every venue is excluded is skipped. ``meta['n_routed']`` and
    ``meta['n_skipped']`` count the (time, side) decisions, so the cells' counts add up to
    ``n_routed × len(sizes)``. The router's randomness is one generator for the whole build.
    """
    cfg = config if config is not None else MyopicSorConfig()
    hor = round((cfg.strategy.horizon_s if horizon_s is None else horizon_s) * _NS)
    look = round((cfg.execution.lookup_duration_s if lookback_s is None else lookback_s) * _NS)
    if hor <= 0 or look <= 0:
        raise ConfigError(f"horizon_s and lookback_s must be > 0, got {hor / _NS}, {look / _NS}")
    if not (math.isfinite(every_s) and every_s > 0.0):
        raise ConfigError(f"every_s must be > 0 seconds, got {every_s!r}")
    size_axis = np.unique(np.asarray(sizes, dtype=np.float64))
    if size_axis.size == 0 or not np.all(np.isfinite(size_axis)) or size_axis[0] <= 0.0:
        raise ConfigError(f"sizes must be positive share counts, got {list(sizes)}")
    side_list = sorted({int(s) for s in sides}, reverse=True)
    if not side_list or any(s not in (1, -1) for s in side_list):
        raise ConfigError(f"sides must be drawn from (1, -1), got {list(sides)}")
    rng = as_generator(cfg.seed if seed is None else seed)
    t0 = market_data.first_ts + look if start_ns is None else int(start_ns)
    t1 = market_data.last_ts if end_ns is None else int(end_ns)
    step = round(every_s * _NS)
    times = np.arange(t0, t1 + 1, step, dtype=np.int64)
    if times.size == 0:
        raise ConfigError(f"no decision time in [{t0}, {t1}] ns; check start_ns and end_ns")
    venues = tuple(market_data.venue_names)
    vidx = {v: k for k, v in enumerate(venues)}
    rows_i: list[int] = []
    feats: list[tuple[float, float]] = []
    splits: list[Float64Array1D] = []
    routed = skipped = 0
    for t in times:
        for side in side_list:
            try:
                ri = router_inputs(
                    market_data,
                    int(t),
                    float(size_axis[0]),
                    side,
                    config=cfg,
                    lookback_ns=look,
                    horizon_ns=hor,
                    outflow_kind=outflow_kind,
                    **inputs,
                )
            except DataValidationError as exc:
                skipped += 1
                logger.debug("lookup table: decision at %d skipped: %s", int(t), exc)
                continue
            routed += 1
            depth, volume = ri.queue_depth, ri.outflow_rate
            for i, s in enumerate(size_axis):
                problem = dataclasses.replace(ri.problem, size=float(s))
                alloc = router.route(problem, ri.outflows, rng)
                row = np.zeros(1 + len(venues))
                row[0] = alloc.market / s
                for name, qty in zip(alloc.venues, alloc.limit, strict=True):
                    row[1 + vidx[name]] = qty / s
                rows_i.append(i)
                feats.append((depth, volume))
                splits.append(row)
    if not splits:
        msg = (
            f"lookup table for {market_data.symbol} {market_data.date}: none of the "
            f"{times.size * len(side_list)} decisions could be routed (every venue excluded); "
            "lengthen the data or shorten the look-back"
        )
        raise DataValidationError(msg)
    f = np.asarray(feats, dtype=np.float64)
    d_edges = (
        _quantile_edges(f[:, 0], n_buckets) if depth_edges is None else _edges("depth", depth_edges)
    )
    v_edges = (
        _quantile_edges(f[:, 1], n_buckets)
        if volume_edges is None
        else _edges("volume", volume_edges)
    )
    shape = (size_axis.size, d_edges.size + 1, v_edges.size + 1)
    sums = np.zeros((*shape, 1 + len(venues)))
    count = np.zeros(shape, dtype=np.int64)
    j = np.searchsorted(d_edges, f[:, 0], side="right")
    k = np.searchsorted(v_edges, f[:, 1], side="right")
    for n, i in enumerate(rows_i):
        sums[i, j[n], k[n]] += splits[n]
        count[i, j[n], k[n]] += 1
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(count[..., None] > 0, sums / np.maximum(count, 1)[..., None], 0.0)
    logger.info(
        "lookup table: %d decisions routed (x %d sizes), %d skipped, %d of %d cells filled",
        routed,
        size_axis.size,
        skipped,
        int((count > 0).sum()),
        count.size,
    )
    meta = {
        "symbol": market_data.symbol,
        "date": market_data.date.isoformat(),
        "router": type(router).__name__,
        "outflow_kind": outflow_kind,
        "sides": side_list,
        "lookback_ns": look,
        "every_s": float(every_s),
        "start_ns": int(times[0]),
        "end_ns": int(times[-1]),
        "n_routed": routed,
        "n_skipped": skipped,
        "volume_axis": "sum of E[outflow] at our touch, shares per minute",
        "depth_axis": "sum of queues ahead at our touch, shares",
    }
    return LookupTable(
        venues=venues,
        sizes=size_axis,
        depth_edges=d_edges,
        volume_edges=v_edges,
        market=mean[..., 0],
        limit=mean[..., 1:],
        count=count,
        horizon_ns=hor,
        meta=meta,
    )
