"""Read and write Databento MBP-10 / MBP-1 files: DBN (``.dbn``, ``.dbn.zst``), Parquet, CSV.

Every reader returns a :class:`~myopic_sor.data.VenueData` with the canonical columns (see
:mod:`myopic_sor.data._schema`): int64 UTC ns timestamps, uint8 ASCII action/side codes,
float64 prices with NaN for "no price", int64 sizes and counts.  Databento's bookkeeping
columns ``rtype`` (checked), ``publisher_id``, ``instrument_id`` (used to resolve the symbol),
``ts_in_delta`` and ``ts_out`` have no place in :class:`VenueData` and are not returned.

Prices
    Databento stores prices as int64 fixed point, 1 unit = 1e-9 currency, with
    ``UNDEF_PRICE = 2**63 - 1`` for "no price".  They are converted once as
    ``price = px_fixed / 1e9`` (a correctly rounded division, so ``150250000000`` gives exactly
    the double nearest to 150.25, the same double a decimal "150.250000000" parses to) and
    ``UNDEF_PRICE`` becomes NaN.  Writers invert it with ``rint(price * 1e9)``, which is exact
    for prices below about 9e6 currency units, so write → read round trips are bit-exact.

Venue and symbol
    The venue is the ``venue=`` argument, else the DBN/Parquet metadata's dataset
    (``XNAS.ITCH`` → ``XNAS``), else the layout file name (``xnas-itch-20250402.mbp-10.dbn``).
    The symbol comes from the file (DBN symbol mappings, the ``symbol`` column), else from
    ``symbol=``, else from the layout folder (``<data_path>/AAPL/...``).  A file that holds several
    symbols raises :class:`DataFormatError` naming them unless ``symbol=`` picks one.
"""

from __future__ import annotations

import codecs
import datetime as dt
import io
import json
import logging
import re
import warnings
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal, TypeAlias

import databento_dbn
import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from myopic_sor._io import atomic_write, atomic_write_with
from myopic_sor._typing import PathLike
from myopic_sor.data._dbn import (
    DBN_MAGIC,
    RTYPE_MBP1,
    RTYPE_MBP10,
    RTYPE_SYMBOL_MAPPING,
    UNDEF_PRICE,
    WALK_BAD_LENGTH,
    WALK_OK,
    decode_mbp,
    encode_mbp,
    gather_records,
    is_zstd,
    mbp_dtype,
    read_dbn_stream,
    read_maybe_zstd,
    record_field,
    rtype_of_levels,
    split_header,
    verify_layout,
    walk_records,
    zstd_compress,
)
from myopic_sor.data._layout import dataset_to_venue, parse_layout_name, venue_to_dataset
from myopic_sor.data._schema import MAX_LEVELS, VenueData, _coerce, _level_dtype, level_column
from myopic_sor.exceptions import DataFormatError, DataNotFoundError, DataQualityWarning

__all__ = [
    "DatabentoFormat",
    "detect_databento_format",
    "read_databento",
    "read_dbn",
    "read_mbp_csv",
    "read_mbp_parquet",
    "write_venue",
]

logger = logging.getLogger(__name__)

DatabentoFormat: TypeAlias = Literal["dbn", "dbn.zst", "parquet", "csv", "csv.zst"]

#: Extensions, longest first so ``.dbn.zst`` wins over ``.dbn``.
_EXTENSIONS: Final[tuple[DatabentoFormat, ...]] = ("dbn.zst", "csv.zst", "parquet", "csv", "dbn")
_PARQUET_MAGIC: Final = b"PAR1"
_SCALE: Final = 1e9  # fixed-point units per currency unit
_U32_MAX: Final = 2**32 - 1
_ROW_GROUP_SIZE: Final = 100_000
_META_KEY: Final = b"myopic_sor"
_SUPPORTED: Final = "MBP-10 ('mbp-10') and MBP-1 ('mbp-1')"
_TS_COLUMNS: Final = ("ts_recv", "ts_event")
_REQUIRED_EVENT: Final = ("ts_event", "ts_recv", "action", "side", "price", "size")
_IGNORED: Final = frozenset({"rtype", "publisher_id", "instrument_id", "ts_in_delta", "ts_out"})


# -- shared helpers ----------------------------------------------------------------------------
def _format_of_name(path: Path) -> DatabentoFormat:
    name = path.name.lower()
    for ext in _EXTENSIONS:
        if name.endswith("." + ext):
            return ext
    raise DataFormatError(
        f"{path}: unknown extension; Databento files must end in "
        f"{', '.join('.' + e for e in _EXTENSIONS)} (rename the file or convert it)"
    )


def _existing_file(path: PathLike) -> Path:
    p = Path(path)
    if not p.exists():
        raise DataNotFoundError(f"{p}: no such file; check the path (and the data_path setting)")
    if not p.is_file():
        raise DataNotFoundError(f"{p}: is a directory, expected a Databento data file")
    if p.stat().st_size == 0:
        raise DataFormatError(
            f"{p}: empty file (0 bytes); the download or export did not complete, fetch it again"
        )
    return p


def detect_databento_format(path: PathLike) -> DatabentoFormat:
    """Tell the format of a Databento file from its name, confirmed by its first bytes.

    Parameters
    ----------
    path : str or os.PathLike
        A ``.dbn``, ``.dbn.zst``, ``.parquet``, ``.csv`` or ``.csv.zst`` file.

    Returns
    -------
    {"dbn", "dbn.zst", "parquet", "csv", "csv.zst"}
        The encoding actually found: a ``.dbn`` file that holds zstd data is ``"dbn.zst"`` and a
        ``.dbn.zst`` file that is not compressed is ``"dbn"`` (both are read the same way).

    Raises
    ------
    DataNotFoundError
        When the file does not exist.
    DataFormatError
        On an unknown extension, an empty file, or first bytes that contradict the extension
        (e.g. a ``.parquet`` file without the ``PAR1`` magic number).
    """
    p = _existing_file(path)
    fmt = _format_of_name(p)
    with p.open("rb") as fh:
        head = fh.read(8)
    if fmt in ("dbn", "dbn.zst"):
        if is_zstd(head):
            return "dbn.zst"
        if head.startswith(DBN_MAGIC):
            return "dbn"
        raise DataFormatError(
            f"{p}: not a DBN file (starts with {head!r}, expected b'DBN' or zstd data); the file "
            "is corrupt or mis-named"
        )
    if fmt == "parquet":
        if head.startswith(_PARQUET_MAGIC):
            return "parquet"
        raise DataFormatError(
            f"{p}: not a Parquet file (starts with {head!r}, expected b'PAR1'); the file is "
            "corrupt or mis-named"
        )
    return "csv.zst" if is_zstd(head) else "csv"


def _resolve_venue(venue: str | None, dataset: str | None, path: Path) -> str:
    if venue:
        return venue.strip().upper()
    if dataset:
        return dataset_to_venue(dataset)
    lf = parse_layout_name(path)
    if lf is not None:
        return lf.venue
    raise DataFormatError(
        f"{path}: cannot tell the venue (no dataset in the file and the name does not follow "
        "<dataset>-<YYYYMMDD>.mbp-10.<ext>); pass venue='XNAS' or rename the file like "
        "xnas-itch-20250402.mbp-10.dbn.zst"
    )


def _layout_stock(path: Path) -> str | None:
    lf = parse_layout_name(path)
    return lf.stock if lf is not None and lf.stock else None


def _window(ts: npt.NDArray[np.int64], start_ns: int | None, end_ns: int | None) -> Any:
    """Selector for ``start_ns <= ts <= end_ns``: a slice when ``ts`` is sorted, else a mask."""
    if start_ns is None and end_ns is None:
        return slice(None)
    if ts.shape[0] < 2 or bool(np.all(ts[1:] >= ts[:-1])):
        lo = 0 if start_ns is None else int(np.searchsorted(ts, start_ns, side="left"))
        hi = ts.shape[0] if end_ns is None else int(np.searchsorted(ts, end_ns, side="right"))
        return slice(lo, max(lo, hi))
    mask = np.ones(ts.shape[0], dtype=bool)
    if start_ns is not None:
        mask &= ts >= start_ns
    if end_ns is not None:
        mask &= ts <= end_ns
    return mask


def _fixed_to_float(a: npt.NDArray[Any]) -> npt.NDArray[np.float64]:
    """int64 fixed point (1e-9) → float64 currency; ``UNDEF_PRICE`` → NaN."""
    out = a.astype(np.float64)
    out /= _SCALE
    undef = a == UNDEF_PRICE
    if undef.any():
        out[undef] = np.nan
    return out


def _float_to_fixed(px: npt.NDArray[np.float64], name: str, where: str) -> npt.NDArray[np.int64]:
    """float64 currency → int64 fixed point; NaN → ``UNDEF_PRICE``."""
    nan = np.isnan(px)
    scaled = px * _SCALE
    bad = ~nan & ~(np.abs(scaled) < 9.2e18)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise DataFormatError(
            f"{where}: column {name!r} row {i} holds {px[i]!r}, which has no Databento "
            "fixed-point encoding (finite prices below 9.2e9 only); fix or drop the row"
        )
    scaled[nan] = 0.0
    out = np.rint(scaled, out=scaled).astype(np.int64)
    out[nan] = UNDEF_PRICE
    return out


def _to_uint(
    a: npt.NDArray[Any], name: str, where: str, dtype: type[np.unsignedinteger[Any]], hi: int
) -> npt.NDArray[Any]:
    bad = (a < 0) | (a > hi)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise DataFormatError(
            f"{where}: column {name!r} row {i} holds {a[i]}, outside Databento's range 0..{hi}; "
            "fix the data before writing"
        )
    return a.astype(dtype)


def _select_symbol(
    symbols: Sequence[str], requested: str | None, path: Path, what: str = "symbols"
) -> str:
    """Pick the one symbol of a file, or check that ``requested`` is among several."""
    uniq = sorted(set(symbols))
    if requested is not None:
        if requested in uniq or not uniq:
            return requested
        raise DataFormatError(
            f"{path}: symbol {requested!r} not in the file, which holds {what} "
            f"{', '.join(uniq)}; pass one of them as symbol="
        )
    if len(uniq) == 1:
        return uniq[0]
    raise DataFormatError(
        f"{path}: the file holds several {what} ({', '.join(uniq)}); pass symbol= to pick one"
    )


# -- DBN ---------------------------------------------------------------------------------------
@dataclass(slots=True)
class _Interval:
    start_date: dt.date
    end_date: dt.date
    symbol: str


@dataclass(slots=True)
class _Mapping:
    raw_symbol: str
    intervals: Sequence[_Interval]


def _rtype_name(rtype: int) -> str:
    try:
        return str(databento_dbn.RType.from_int(int(rtype)).name).lower().replace("_", "-")
    except (ValueError, databento_dbn.DBNError):
        return f"rtype {rtype}"


def _metadata_symbols(
    md: databento_dbn.Metadata,
) -> dict[int, list[tuple[dt.date, dt.date, str]]]:
    """instrument_id → [(start_date, end_date, symbol)] from the metadata's symbol mappings."""
    out: dict[int, list[tuple[dt.date, dt.date, str]]] = {}
    for key, intervals in (md.mappings or {}).items():
        for iv in intervals:
            value = str(iv["symbol"])
            if value.isdigit() and not key.isdigit():
                iid, sym = int(value), key
            elif key.isdigit() and value and not value.isdigit():
                iid, sym = int(key), value
            else:
                continue
            out.setdefault(iid, []).append((iv["start_date"], iv["end_date"], sym))
    return out


def _pick_interval(intervals: list[tuple[dt.date, dt.date, str]], ts_ns: int) -> str | None:
    names = {s for _, _, s in intervals}
    if len(names) == 1:
        return next(iter(names))
    day = dt.datetime.fromtimestamp(ts_ns / 1e9, tz=dt.UTC).date()
    for start, end, sym in intervals:
        if start <= day < end:
            return sym
    return None


def _symbol_mapping_records(
    buf: npt.NDArray[np.uint8],
    offsets: npt.NDArray[np.int64],
    version: int,
    ts_out: bool,
    path: Path,
) -> dict[int, str]:
    """instrument_id → symbol from in-stream SymbolMappingMsg records (live files)."""
    if offsets.shape[0] == 0:
        return {}
    lengths = buf[offsets].astype(np.int64) * 4
    raw = b"".join(bytes(buf[o : o + n]) for o, n in zip(offsets, lengths, strict=True))
    dec = databento_dbn.DBNDecoder(has_metadata=False, ts_out=ts_out, input_version=version)
    try:
        msgs = dec.write_and_decode(raw)
    except databento_dbn.DBNError as exc:
        raise DataFormatError(f"{path}: corrupt symbol mapping record ({exc})") from exc
    out: dict[int, str] = {}
    for m in msgs:
        sym = getattr(m, "stype_out_symbol", "") or getattr(m, "stype_in_symbol", "")
        if sym and not str(sym).isdigit():
            out[int(getattr(m, "instrument_id", 0))] = str(sym)
    return out


def _parse_records(
    body: npt.NDArray[np.uint8],
    md: databento_dbn.Metadata,
    version: int,
    body_offset: int,
    path: Path,
) -> tuple[npt.NDArray[np.uint8], int, dict[int, str]]:
    """Return the MBP records of ``body`` as a ``(n, record_size)`` uint8 array, the levels,
    and the instrument_id → symbol map of any in-stream symbol mapping records."""
    schema = md.schema
    ts_out = bool(md.ts_out)
    if schema is not None and str(schema) not in ("mbp-10", "mbp-1"):
        raise DataFormatError(
            f"{path}: DBN schema {str(schema)!r} is not supported; this reader takes {_SUPPORTED} "
            "order-book files (request schema='mbp-10' from Databento)"
        )
    if schema is not None:
        levels = 10 if str(schema) == "mbp-10" else 1
        size = mbp_dtype(levels, ts_out=ts_out).itemsize
        if body.shape[0] % size == 0:  # fast path: a homogeneous historical file
            recs = body.reshape(-1, size)
            if bool(np.all(recs[:, 0] == size // 4)) and bool(
                np.all(recs[:, 1] == rtype_of_levels(levels))
            ):
                return recs, levels, {}
    # general path: walk the length bytes, keep the MBP records, read the symbol mappings
    offsets, stop, status = walk_records(body)
    if status != WALK_OK:
        what = (
            "a record length below the 16-byte header (corrupt data)"
            if status == WALK_BAD_LENGTH
            else f"a partial last record ({body.shape[0] - stop} of {int(body[stop]) * 4} bytes)"
        )
        raise DataFormatError(
            f"{path}: truncated or corrupt DBN at byte {body_offset + stop} of the decompressed "
            f"stream: {what} after {offsets.shape[0]} complete records; the download or copy "
            "was cut short, fetch the file again"
        )
    rtypes = body[offsets + 1]
    if schema is None:
        present = set(np.unique(rtypes).tolist())
        if RTYPE_MBP10 in present and RTYPE_MBP1 in present:
            raise DataFormatError(
                f"{path}: the stream mixes MBP-10 and MBP-1 records; split it by schema first"
            )
        if RTYPE_MBP10 in present:
            levels = 10
        elif RTYPE_MBP1 in present:
            levels = 1
        else:
            found = ", ".join(sorted(_rtype_name(r) for r in present)) or "no records"
            raise DataFormatError(
                f"{path}: no MBP records in the stream (found {found}); this reader takes "
                f"{_SUPPORTED} order-book data"
            )
    size = mbp_dtype(levels, ts_out=ts_out).itemsize
    keep = offsets[rtypes == rtype_of_levels(levels)]
    lengths = body[keep].astype(np.int64) * 4
    wrong = lengths != size
    if wrong.any():
        i = int(np.flatnonzero(wrong)[0])
        raise DataFormatError(
            f"{path}: MBP record at byte {body_offset + int(keep[i])} is {int(lengths[i])} bytes, "
            f"expected {size} for {'MBP-10' if levels == 10 else 'MBP-1'}"
            f"{' with ts_out' if ts_out else ''}; the file is corrupt"
        )
    n_other = offsets.shape[0] - keep.shape[0]
    if n_other:
        logger.info("%s: skipped %d non-MBP records (symbol mappings, system ...)", path, n_other)
    mapping = _symbol_mapping_records(
        body, offsets[rtypes == RTYPE_SYMBOL_MAPPING], version, ts_out, path
    )
    return gather_records(body, keep, size), levels, mapping


def read_dbn(
    path: PathLike,
    *,
    symbol: str | None = None,
    venue: str | None = None,
    start_ns: int | None = None,
    end_ns: int | None = None,
) -> VenueData:
    """Read a Databento MBP-10 or MBP-1 DBN file (``.dbn`` or ``.dbn.zst``).

    Parameters
    ----------
    path : str or os.PathLike
        The file; zstd compression is detected from the content.
    symbol : str, optional
        The symbol to keep when the file holds several instruments; also names the symbol when
        the file has no symbology.
    venue : str, optional
        Venue name; default from the metadata's dataset (``XNAS.ITCH`` → ``XNAS``), else from
        the layout file name.
    start_ns, end_ns : int, optional
        Keep only ``start_ns <= ts_event <= end_ns`` (UTC ns, both inclusive).

    Returns
    -------
    VenueData
        One row per MBP record, in file order (Databento sorts by ``ts_recv``), with ``flags``,
        ``sequence`` and the ``bid_ct_NN``/``ask_ct_NN`` counts.

    Raises
    ------
    DataNotFoundError
        When the file does not exist.
    DataFormatError
        On an empty, corrupt or truncated file (a partial last record is an error naming its
        byte offset, never silently dropped), a schema other than MBP-10/MBP-1, or several
        symbols without ``symbol=``.

    Notes
    -----
    The metadata is decoded by ``databento_dbn.Metadata.decode``; the records by a one-pass
    numba kernel over the raw bytes, whose layout is verified against ``databento_dbn`` on
    first use (the MBP layout is the same in DBN 1, 2 and 3).  Streams whose metadata has no
    schema (live data) are walked record by record: symbol mapping and system records are
    skipped (symbol mappings also name the instruments) and the MBP records gathered.  Prices
    are ``px_fixed / 1e9``, with ``UNDEF_PRICE`` (``2**63 - 1``) as NaN.  Time windows select
    by binary search when ``ts_event`` is sorted, else by a mask.
    """
    verify_layout()
    p = _existing_file(path)
    raw = read_dbn_stream(p)
    if raw.shape[0] == 0:
        raise DataFormatError(f"{p}: the compressed file decompresses to nothing; fetch it again")
    md, version, body_offset = split_header(raw.data, p)
    body = raw[body_offset:]
    recs, levels, live_map = _parse_records(body, md, version, body_offset, p)
    if recs.shape[0] == 0:
        raise DataFormatError(
            f"{p}: no MBP records after the metadata (an empty query result); pick another day "
            "or symbol"
        )

    _one_publisher(record_field(recs, "publisher_id"), p)
    # symbol: instrument_id → symbol from the metadata mappings and in-stream mapping records
    iid = record_field(recs, "instrument_id")
    first = int(iid[0])
    iids = [first] if bool(np.all(iid == first)) else [int(v) for v in np.unique(iid)]
    md_map = _metadata_symbols(md)
    ts_first = int(record_field(recs, "ts_event")[0])
    names: dict[int, str | None] = {}
    for i in iids:
        if i in live_map:
            names[i] = live_map[i]
        elif i in md_map:
            names[i] = _pick_interval(md_map[i], ts_first)
        else:
            names[i] = None
    query_symbols = [s for s in (md.symbols or []) if s and s != "ALL_SYMBOLS"]
    rows: npt.NDArray[np.int64] | None = None
    if len(iids) == 1:
        found = names[first]
        if found is None and len(query_symbols) == 1:
            found = query_symbols[0]
        if found is not None and symbol is not None and found != symbol:
            raise DataFormatError(
                f"{p}: the file holds {found!r} (instrument_id {first}), not {symbol!r}; pass "
                f"symbol={found!r} or load the right file"
            )
        sym = found or symbol or _layout_stock(p)
        if sym is None:
            raise DataFormatError(
                f"{p}: instrument_id {first} has no symbol mapping in the file; pass symbol="
            )
    else:
        labels = {i: (n if n is not None else f"instrument_id {i}") for i, n in names.items()}
        sym = _select_symbol(list(labels.values()), symbol, p, what="instruments")
        chosen = np.array([i for i, n in labels.items() if n == sym], dtype=np.uint32)
        rows = np.flatnonzero(np.isin(iid, chosen)).astype(np.int64)

    if start_ns is not None or end_ns is not None:
        ts_all = record_field(recs, "ts_event").astype(np.int64)
        if rows is None:
            win = _window(ts_all, start_ns, end_ns)
            rows = (
                np.arange(win.start, win.stop, dtype=np.int64)
                if isinstance(win, slice)
                else np.flatnonzero(win).astype(np.int64)
            )
        else:
            win = _window(ts_all[rows], start_ns, end_ns)
            rows = rows[win]
    if rows is None:
        rows = np.arange(recs.shape[0], dtype=np.int64)
    cols = decode_mbp(recs, rows, levels)
    return VenueData(
        venue=_resolve_venue(venue, md.dataset, p), symbol=sym, columns=cols, source=str(p)
    )


# -- tabular (Parquet, CSV) ---------------------------------------------------------------------
def _levels_of(names: Sequence[str], path: Path) -> tuple[int, bool]:
    have = set(names)
    levels = 0
    while levels < MAX_LEVELS and level_column("px", "bid", levels) in have:
        levels += 1
    if levels == 0:
        raise DataFormatError(
            f"{path}: missing required column 'bid_px_00'; an MBP-10/MBP-1 export has "
            "bid_px_NN, ask_px_NN, bid_sz_NN, ask_sz_NN (and bid_ct_NN, ask_ct_NN) for each level "
            "(is this a trades/mbo file? only mbp-10 and mbp-1 are supported)"
        )
    counts = level_column("ct", "bid", 0) in have
    for lvl in range(levels):
        for side in ("bid", "ask"):
            for kind in ("px", "sz", *(("ct",) if counts else ())):
                name = level_column(kind, side, lvl)
                if name not in have:
                    raise DataFormatError(
                        f"{path}: missing required column {name!r} (levels 0..{levels - 1} "
                        "are present); the export is incomplete"
                    )
    return levels, counts


def _check_rtype(rtype: npt.NDArray[Any], levels: int, path: Path) -> None:
    uniq = np.unique(rtype)
    want = rtype_of_levels(levels) if levels in (1, 10) else None
    bad = [int(r) for r in uniq if int(r) not in (RTYPE_MBP1, RTYPE_MBP10)]
    if bad:
        names = ", ".join(_rtype_name(r) for r in bad)
        raise DataFormatError(
            f"{path}: rtype {bad} ({names}) is not supported; this reader takes {_SUPPORTED} "
            "order-book data"
        )
    if want is not None and any(int(r) != want for r in uniq):
        raise DataFormatError(
            f"{path}: rtype {sorted(int(r) for r in uniq)} does not match the {levels} book "
            f"level(s) in the columns (MBP-10 is rtype 10, MBP-1 is rtype 1)"
        )


def _char_codes(col: pa.ChunkedArray, name: str, path: Path) -> npt.NDArray[np.uint8]:
    """One-character string/dictionary/integer column → uint8 ASCII codes."""
    if col.null_count:
        i = int(np.flatnonzero(col.is_null().to_numpy(zero_copy_only=False))[0])
        raise DataFormatError(f"{path}: column {name!r} row {i} is empty; expected one letter")
    if pa.types.is_integer(col.type):
        return np.asarray(col.to_numpy(), dtype=np.uint8)
    if not pa.types.is_dictionary(col.type):
        col = col.dictionary_encode()
    parts: list[npt.NDArray[np.uint8]] = []
    for chunk in col.chunks:
        values = [str(v) for v in chunk.dictionary.to_pylist()]
        if any(len(v) != 1 for v in values):
            used = np.unique(np.asarray(chunk.indices.to_numpy(zero_copy_only=False)))
            bad = [values[int(i)] for i in used if len(values[int(i)]) != 1]
            if bad:
                raise DataFormatError(
                    f"{path}: column {name!r} holds {bad[0]!r}; expected one letter "
                    "(A, C, M, R, T, F, N for action; A, B, N for side)"
                )
        table = np.frombuffer("".join(v[:1] or "\0" for v in values).encode("latin-1"), np.uint8)
        parts.append(table[np.asarray(chunk.indices.to_numpy(zero_copy_only=False))])
    return np.concatenate(parts) if parts else np.empty(0, dtype=np.uint8)


def _symbol_codes(col: pa.ChunkedArray) -> tuple[list[str], npt.NDArray[np.int64] | None]:
    """Distinct symbols of a column and, when there are several, each row's index into them."""
    if not pa.types.is_dictionary(col.type):
        col = col.dictionary_encode()
    col = col.unify_dictionaries()
    if col.num_chunks == 0:
        return [], None
    values = [str(v) for v in col.chunk(0).dictionary.to_pylist()]
    idx = np.concatenate(
        [np.asarray(c.indices.to_numpy(zero_copy_only=False), dtype=np.int64) for c in col.chunks]
    )
    used = np.unique(idx)
    if used.shape[0] == 1:
        return [values[int(used[0])]], None
    return values, idx


def _ts_ns(col: pa.ChunkedArray, name: str, path: Path) -> npt.NDArray[np.int64]:
    if col.null_count:
        i = int(np.flatnonzero(col.is_null().to_numpy(zero_copy_only=False))[0])
        raise DataFormatError(f"{path}: column {name!r} row {i} is empty; expected a timestamp")
    t = col.type
    if pa.types.is_timestamp(t):
        if t.unit != "ns":
            col = col.cast(pa.timestamp("ns", tz=t.tz))
        col = col.cast(pa.int64())
    elif not pa.types.is_integer(t):
        raise DataFormatError(
            f"{path}: column {name!r} has type {t}; expected integer UTC ns or a timestamp"
        )
    return np.asarray(col.to_numpy(), dtype=np.int64)


def _prices(col: pa.ChunkedArray, name: str, path: Path) -> npt.NDArray[np.float64]:
    t = col.type
    if pa.types.is_floating(t) or pa.types.is_decimal(t):
        arr = col.cast(pa.float64()).to_numpy(zero_copy_only=False)
        return np.asarray(arr, dtype=np.float64)  # nulls come out as NaN
    if pa.types.is_integer(t):
        if col.null_count:
            col = col.fill_null(UNDEF_PRICE)
        return _fixed_to_float(np.asarray(col.to_numpy(), dtype=np.int64))
    bad = _first_non_numeric(col)
    raise DataFormatError(
        f"{path}: column {name!r} is not numeric ({t}); row {bad[0]} holds {bad[1]!r}. Prices "
        "must be decimal currency or Databento fixed-point integers"
    )


def _first_non_numeric(col: pa.ChunkedArray) -> tuple[int, str]:
    s = col.cast(pa.string())
    ok = pc.match_substring_regex(s, r"^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$")
    ok = pc.or_kleene(ok, pc.is_null(s))
    bad = np.flatnonzero(~np.asarray(ok.to_numpy(zero_copy_only=False), dtype=bool))
    if bad.shape[0] == 0:
        return -1, ""
    i = int(bad[0])
    return i, str(s[i].as_py())


def _ints(col: pa.ChunkedArray, name: str, path: Path) -> npt.NDArray[Any]:
    if col.null_count:
        i = int(np.flatnonzero(col.is_null().to_numpy(zero_copy_only=False))[0])
        raise DataFormatError(f"{path}: column {name!r} row {i} is empty; expected an integer")
    if not pa.types.is_integer(col.type):
        if pa.types.is_floating(col.type):
            arr = np.asarray(col.to_numpy(), dtype=np.float64)
            frac = arr != np.round(arr)
            if frac.any():
                i = int(np.flatnonzero(frac)[0])
                raise DataFormatError(
                    f"{path}: column {name!r} row {i} holds {arr[i]}; expected an integer"
                )
            return arr.astype(np.int64)
        i, v = _first_non_numeric(col)
        raise DataFormatError(
            f"{path}: column {name!r} is not numeric ({col.type}); row {i} holds {v!r}"
        )
    return np.asarray(col.to_numpy())


def _one_publisher(ids: npt.NDArray[Any], path: Path) -> None:
    """One file is one venue: records of several publishers would interleave their books."""
    if ids.shape[0] == 0:
        return
    first = ids[0]
    if bool(np.all(ids == first)):
        return
    pubs = [str(int(v)) for v in np.unique(ids)]
    raise DataFormatError(
        f"{path}: records of {len(pubs)} publishers (publisher_id {', '.join(pubs[:8])}); one "
        "file must hold one venue's book: split it by publisher_id (one file per venue) and "
        "pass them together"
    )


def _from_table(
    table: pa.Table,
    path: Path,
    *,
    symbol: str | None,
    venue: str | None,
    dataset: str | None,
    file_symbol: str | None,
    start_ns: int | None,
    end_ns: int | None,
) -> VenueData:
    names = table.column_names
    levels, counts = _levels_of(names, path)
    if "publisher_id" in names:
        _one_publisher(_ints(table["publisher_id"], "publisher_id", path), path)
    if "rtype" in names:
        _check_rtype(_ints(table["rtype"], "rtype", path), levels, path)
    # symbol
    sel: Any = slice(None)
    if "symbol" in names and table.num_rows:
        syms, codes = _symbol_codes(table["symbol"])
        sym = _select_symbol(syms, symbol, path)
        if codes is not None:
            sel = codes == syms.index(sym)
    else:
        sym_opt = symbol or file_symbol or _layout_stock(path)
        if sym_opt is None:
            raise DataFormatError(
                f"{path}: no 'symbol' column and no symbol in the file name; pass symbol="
            )
        sym = sym_opt
    ts_event = _ts_ns(table["ts_event"], "ts_event", path)
    if not isinstance(sel, slice):
        ts_event = ts_event[sel]
    win = _window(ts_event, start_ns, end_ns)

    def take(a: npt.NDArray[Any]) -> npt.NDArray[Any]:
        if not isinstance(sel, slice):
            a = a[sel]
        out: npt.NDArray[Any] = a[win]
        return out

    cols: dict[str, npt.NDArray[Any]] = {
        "ts_event": ts_event[win],
        "ts_recv": take(_ts_ns(table["ts_recv"], "ts_recv", path)),
        "action": take(_char_codes(table["action"], "action", path)),
        "side": take(_char_codes(table["side"], "side", path)),
        "price": take(_prices(table["price"], "price", path)),
        "size": take(_ints(table["size"], "size", path)),
    }
    for name in ("depth", "flags", "sequence", "status"):
        if name in names:
            cols[name] = take(_ints(table[name], name, path))
    # each side's levels of one kind as the rows of one (levels, n) block: the same memory as
    # separate columns, and the replay kernel reads them as one 2-D view (no per-level tuple)
    blocks: dict[tuple[str, str], npt.NDArray[Any]] = {}

    def level(kind: str, side: str, lvl: int, values: npt.NDArray[Any]) -> npt.NDArray[Any]:
        name = level_column(kind, side, lvl)
        want = _level_dtype(name)  # the canonical dtype, so VenueData keeps the rows uncopied
        values = _coerce(name, values, want, str(path))
        block = blocks.get((kind, side))
        if block is None:
            block = blocks[(kind, side)] = np.empty((levels, values.shape[0]), want)
        block[lvl] = values
        row: npt.NDArray[Any] = block[lvl]
        return row

    for lvl in range(levels):
        for side in ("bid", "ask"):
            px = level_column("px", side, lvl)
            cols[px] = level("px", side, lvl, take(_prices(table[px], px, path)))
            for kind in ("sz", "ct") if counts else ("sz",):
                name = level_column(kind, side, lvl)
                cols[name] = level(kind, side, lvl, take(_ints(table[name], name, path)))
    known = set(cols) | _IGNORED | {"symbol"}
    extra = [c for c in names if c not in known]
    if extra:
        logger.info("%s: ignored columns not in the canonical schema: %s", path, extra)
    return VenueData(
        venue=_resolve_venue(venue, dataset, path), symbol=sym, columns=cols, source=str(path)
    )


def _wanted_columns(names: Sequence[str]) -> list[str]:
    levels = [c for c in names if re.fullmatch(r"(bid|ask)_(px|sz|ct)_\d\d", c)]
    event = ["rtype", "publisher_id", "symbol", "depth", "flags", "sequence", "status"]
    event += list(_REQUIRED_EVENT)
    return [c for c in names if c in event] + levels


# -- Parquet -------------------------------------------------------------------------------------
def _parquet_filter_value(t: pa.DataType, ns: int, *, upper: bool) -> Any:
    if pa.types.is_timestamp(t):
        per = {"s": 10**9, "ms": 10**6, "us": 10**3, "ns": 1}[t.unit]
        v = ns // per if upper else -(-ns // per)
        return pa.scalar(v, type=pa.int64()).cast(t)
    if pa.types.is_unsigned_integer(t):
        return pa.scalar(max(ns, 0), type=t)
    return pa.scalar(ns, type=pa.int64()).cast(t)


def read_mbp_parquet(
    path: PathLike,
    *,
    symbol: str | None = None,
    venue: str | None = None,
    start_ns: int | None = None,
    end_ns: int | None = None,
) -> VenueData:
    """Read an MBP-10 / MBP-1 Parquet file as Databento's client exports it (or as
    :func:`write_venue` writes it).

    Parameters
    ----------
    path : str or os.PathLike
        The ``.parquet`` file.
    symbol : str, optional
        The symbol to keep when the ``symbol`` column holds several; names the symbol when the
        file has no ``symbol`` column.
    venue : str, optional
        Venue name; default from the file's metadata, else from the layout file name.
    start_ns, end_ns : int, optional
        Keep only ``start_ns <= ts_event <= end_ns`` (UTC ns, inclusive).  The window is pushed
        down to Parquet as a filter on ``ts_event``, so row groups outside it are not read.

    Returns
    -------
    VenueData

    Raises
    ------
    DataNotFoundError
        When the file does not exist.
    DataFormatError
        On an empty, truncated or corrupt file, a missing column (named), non-numeric prices,
        an rtype other than MBP-10/MBP-1, or several symbols without ``symbol=``.

    Notes
    -----
    Accepted shapes (``DBNStore.to_parquet`` and ``DBNStore.to_df().to_parquet``): timestamps
    as ``timestamp[ns, tz=UTC]`` (``pretty_ts=True``) or integer ns; ``ts_recv`` as a column or
    as the pandas index; prices as float currency (``price_type="float"``) or int64 fixed point
    (``price_type="fixed"``, decided by the column type); ``action``/``side`` as strings.
    """
    p = _existing_file(path)
    detect_databento_format(p)
    try:
        pf = pq.ParquetFile(p)
        schema = pf.schema_arrow
    except (pa.ArrowInvalid, OSError) as exc:
        raise DataFormatError(
            f"{p}: truncated or corrupt Parquet ({exc}); write or download the file again"
        ) from exc
    names = list(schema.names)
    rename: dict[str, str] = {}
    if "ts_recv" not in names and "__index_level_0__" in names:
        rename["__index_level_0__"] = "ts_recv"
    meta: dict[str, Any] = {}
    raw_meta = schema.metadata or {}
    if _META_KEY in raw_meta:
        try:
            meta = json.loads(raw_meta[_META_KEY])
        except ValueError:
            meta = {}
    present = [rename.get(n, n) for n in names]
    for req in _REQUIRED_EVENT:
        if req not in present:
            raise DataFormatError(
                f"{p}: missing required column {req!r}; a Databento MBP export has "
                f"{', '.join(_REQUIRED_EVENT)} and the book levels"
            )
    _levels_of(present, p)
    columns = [n for n in names if rename.get(n, n) in set(_wanted_columns(present))]
    filters: list[tuple[str, str, Any]] = []
    ts_type = schema.field("ts_event").type
    if start_ns is not None:
        filters.append(("ts_event", ">=", _parquet_filter_value(ts_type, start_ns, upper=False)))
    if end_ns is not None:
        filters.append(("ts_event", "<=", _parquet_filter_value(ts_type, end_ns, upper=True)))
    dict_cols = [c for c in ("action", "side", "symbol") if c in names]
    try:
        table = pq.read_table(
            p,
            columns=columns,
            filters=filters or None,
            read_dictionary=[c for c in dict_cols if pa.types.is_string(schema.field(c).type)],
        )
    except (pa.ArrowInvalid, pa.ArrowTypeError, OSError) as exc:
        raise DataFormatError(
            f"{p}: truncated or corrupt Parquet ({exc}); write or download the file again"
        ) from exc
    if rename:
        table = table.rename_columns([rename.get(n, n) for n in table.column_names])
    if pf.metadata.num_rows == 0:
        raise DataFormatError(f"{p}: no rows; the export is empty")
    return _from_table(
        table,
        p,
        symbol=symbol,
        venue=venue,
        dataset=meta.get("dataset"),
        file_symbol=meta.get("symbol"),
        start_ns=start_ns,
        end_ns=end_ns,
    )


# -- CSV -----------------------------------------------------------------------------------------
_DECIMAL_RE: Final = re.compile(r"[.eEnN]")
_FIXED_MIN: Final = 10_000_000  # 0.01 in Databento fixed point (1e-9)


def _csv_types(sample: pa.Table, names: Sequence[str], path: Path) -> dict[str, pa.DataType]:
    """Explicit column types, deciding pretty/fixed prices and timestamps from sample values."""

    def values(name: str) -> list[str]:
        if name not in sample.column_names:
            return []
        return [v for v in sample[name].to_pylist() if v not in (None, "")]

    pretty_ts = any(not v.strip().isdigit() for n in _TS_COLUMNS for v in values(n))
    px_names = [n for n in names if n == "price" or re.fullmatch(r"(bid|ask)_px_\d\d", n)]
    px_values = [v for n in px_names for v in values(n)]
    decimal_px = (
        not px_values
        or any(_DECIMAL_RE.search(v) for v in px_values)
        # whole-number prices: fixed point (1e-9) puts any price of a cent or more at >= 1e7,
        # so smaller integers are whole currency units (a re-saved sheet, a whole-dollar stock)
        or max(abs(int(v)) for v in px_values if v.lstrip("-").isdigit()) < _FIXED_MIN
    )
    types: dict[str, pa.DataType] = {}
    for n in names:
        if n in _TS_COLUMNS:
            types[n] = pa.timestamp("ns", tz="UTC") if pretty_ts else pa.int64()
        elif n in px_names:
            types[n] = pa.float64() if decimal_px else pa.int64()
        elif n in ("action", "side", "symbol"):
            types[n] = pa.dictionary(pa.int32(), pa.string())
        elif n in ("depth", "flags", "rtype", "status"):
            types[n] = pa.uint8()
        elif n == "sequence":
            types[n] = pa.uint64()
        else:
            types[n] = pa.int64()
    logger.debug(
        "%s: CSV with %s timestamps and %s prices",
        path,
        "ISO-8601" if pretty_ts else "integer ns",
        "decimal" if decimal_px else "fixed-point",
    )
    return types


def read_mbp_csv(
    path: PathLike,
    *,
    symbol: str | None = None,
    venue: str | None = None,
    start_ns: int | None = None,
    end_ns: int | None = None,
) -> VenueData:
    """Read an MBP-10 / MBP-1 CSV as Databento exports it (``.csv`` or ``.csv.zst``).

    Parameters
    ----------
    path : str or os.PathLike
        The CSV file; zstd compression is detected from the content.
    symbol : str, optional
        The symbol to keep when the ``symbol`` column holds several; names the symbol when there
        is no ``symbol`` column.
    venue : str, optional
        Venue name; default from the layout file name.
    start_ns, end_ns : int, optional
        Keep only ``start_ns <= ts_event <= end_ns`` (UTC ns, inclusive).

    Returns
    -------
    VenueData

    Raises
    ------
    DataNotFoundError
        When the file does not exist.
    DataFormatError
        On an empty file, a header without rows, a missing column (named), a value that does
        not parse (column, row and value named), corrupt zstd, or several symbols without
        ``symbol=``.

    Notes
    -----
    Both of Databento's encodings are read, detected from the first rows: fixed point
    (integer prices in units of 1e-9, ``9223372036854775807`` for "no price", integer ns
    timestamps) and ``pretty_px``/``pretty_ts`` (decimal prices, empty for "no price";
    ISO-8601 timestamps such as ``2025-04-02T13:30:00.000123456Z``, parsed exactly to the ns).
    Prices are decimal when any sampled price holds a ``.`` or an exponent, when every
    sampled price is empty, or when the sampled prices are integers all below 1e7 (fixed point
    puts any price of a cent or more at 1e7 or above, so these are whole currency units);
    otherwise fixed point.  Parsing is done by ``pyarrow.csv`` with
    explicit column types, never row by row in Python.
    """
    p = _existing_file(path)
    fmt = detect_databento_format(p)
    data = read_maybe_zstd(p) if fmt == "csv.zst" else p.read_bytes()
    if data.startswith(codecs.BOM_UTF8):  # spreadsheet exports often start with a BOM
        data = data[len(codecs.BOM_UTF8) :]
    if not data[:65536].strip():
        raise DataFormatError(f"{p}: empty CSV (no header, no rows); export the data again")
    header_end = data.find(b"\n")
    header = (data if header_end < 0 else data[:header_end]).decode("utf-8", "replace")
    names = [h.strip().strip('"') for h in header.strip().split(",")]
    no_rows_msg = (
        f"{p}: no rows (the CSV has only the header {header.strip()[:80]!r}); the export "
        "is empty, pick another day or symbol"
    )
    if header_end < 0 or not data[header_end + 1 : header_end + 65537].strip():
        raise DataFormatError(no_rows_msg)
    ts_present = list(names)
    if "ts_recv" not in ts_present and names and names[0] in ("", "index"):
        ts_present[0] = "ts_recv"
    for req in _REQUIRED_EVENT:
        if req not in ts_present:
            raise DataFormatError(
                f"{p}: missing required column {req!r} (header: {header.strip()[:120]!r}); a "
                f"Databento MBP export has {', '.join(_REQUIRED_EVENT)} and the book levels"
            )
    _levels_of(ts_present, p)
    wanted = _wanted_columns(ts_present)
    cut = data.rfind(b"\n", 0, 1 << 18)
    sample_bytes = data[: cut + 1] if cut > header_end else data
    read_opts = pacsv.ReadOptions(column_names=ts_present, skip_rows=1, block_size=1 << 22)
    try:
        sample = pacsv.read_csv(
            io.BytesIO(sample_bytes),
            read_options=read_opts,
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(wanted, pa.string()), include_columns=wanted
            ),
        )
    except pa.ArrowInvalid as exc:
        raise DataFormatError(f"{p}: malformed CSV ({exc})") from exc
    types = _csv_types(sample, wanted, p)
    convert = pacsv.ConvertOptions(
        column_types=types,
        include_columns=wanted,
        strings_can_be_null=True,
        quoted_strings_can_be_null=True,
    )
    try:
        table = pacsv.read_csv(io.BytesIO(data), read_options=read_opts, convert_options=convert)
    except pa.ArrowInvalid as exc:
        raise _csv_error(exc=exc, data=data, read_opts=read_opts, types=types, path=p) from exc
    if table.num_rows == 0:
        raise DataFormatError(no_rows_msg)
    return _from_table(
        table,
        p,
        symbol=symbol,
        venue=venue,
        dataset=None,
        file_symbol=None,
        start_ns=start_ns,
        end_ns=end_ns,
    )


def _csv_error(
    *,
    exc: pa.ArrowInvalid,
    data: bytes,
    read_opts: pacsv.ReadOptions,
    types: Mapping[str, pa.DataType],
    path: Path,
) -> DataFormatError:
    """Turn pyarrow's conversion error into one naming the column, the first bad row and value."""
    msg = str(exc)
    m_col = re.search(r"CSV column #(\d+)", msg)
    m_val = re.search(r"invalid value '(.*)'", msg) or re.search(r"in '(.*)'", msg)
    if m_col is None:
        return DataFormatError(f"{path}: malformed CSV ({msg})")
    name = read_opts.column_names[int(m_col.group(1))]
    where = ""
    if m_val is not None:
        col = pacsv.read_csv(
            io.BytesIO(data),
            read_options=read_opts,
            convert_options=pacsv.ConvertOptions(
                column_types={name: pa.string()}, include_columns=[name]
            ),
        )[name]
        hits = np.flatnonzero(
            np.asarray(pc.equal(col, m_val.group(1)).to_numpy(zero_copy_only=False), dtype=bool)
        )
        if hits.shape[0]:
            row = int(hits[0])
            where = f" row {row} (line {row + 2})"
    value = repr(m_val.group(1)) if m_val else "a value"
    expected = types.get(name)
    if name == "price" or "_px_" in name:
        kind = (
            "a decimal price"
            if expected == pa.float64()
            else "a fixed-point integer price (the first rows had only integers; do not mix "
            "fixed-point and decimal prices)"
        )
    elif name in _TS_COLUMNS:
        kind = "a timestamp in the format of the first rows (integer ns or ISO-8601)"
        if "zone offset" in msg:
            kind = "an ISO-8601 timestamp with a zone (…Z or …+00:00); Databento writes UTC"
    else:
        kind = f"a value of type {expected}"
    return DataFormatError(
        f"{path}: column {name!r}{where} holds {value}, expected {kind}; fix or remove that row"
    )


# -- dispatch ------------------------------------------------------------------------------------
def read_databento(
    path: PathLike,
    *,
    symbol: str | None = None,
    venue: str | None = None,
    start_ns: int | None = None,
    end_ns: int | None = None,
) -> VenueData:
    """Read any Databento MBP-10/MBP-1 file, choosing the reader by :func:`detect_databento_format`.

    Parameters are those of :func:`read_dbn`, :func:`read_mbp_parquet` and :func:`read_mbp_csv`.
    """
    fmt = detect_databento_format(path)
    kwargs: dict[str, Any] = {
        "symbol": symbol,
        "venue": venue,
        "start_ns": start_ns,
        "end_ns": end_ns,
    }
    if fmt in ("dbn", "dbn.zst"):
        return read_dbn(path, **kwargs)
    if fmt == "parquet":
        return read_mbp_parquet(path, **kwargs)
    return read_mbp_csv(path, **kwargs)


# -- writers -------------------------------------------------------------------------------------
def _instrument_id(symbol: str) -> int:
    """A stable synthetic instrument_id for a symbol (CRC-32, never 0)."""
    return (zlib.crc32(symbol.encode("utf-8")) & 0x7FFFFFFF) or 1


@dataclass(frozen=True, slots=True)
class _Export:
    """The Databento-shaped columns of a VenueData, in Databento's column order."""

    levels: int
    columns: dict[str, npt.NDArray[Any]]  # fixed-point int64 prices, int64 ns timestamps


def _export(vd: VenueData, where: str) -> _Export:
    n = len(vd)
    levels = 1 if vd.levels == 1 else 10
    cols: dict[str, npt.NDArray[Any]] = {}
    cols["ts_recv"] = np.asarray(vd["ts_recv"], dtype=np.int64)
    cols["ts_event"] = np.asarray(vd["ts_event"], dtype=np.int64)
    for name in ("ts_recv", "ts_event"):
        if n and int(cols[name].min()) < 0:
            raise DataFormatError(f"{where}: column {name!r} has negative ns; cannot write DBN")
    cols["rtype"] = np.full(n, rtype_of_levels(levels), dtype=np.uint8)
    cols["publisher_id"] = np.zeros(n, dtype=np.uint16)
    cols["instrument_id"] = np.full(n, _instrument_id(vd.symbol), dtype=np.uint32)
    cols["action"] = np.asarray(vd["action"], dtype=np.uint8)
    cols["side"] = np.asarray(vd["side"], dtype=np.uint8)
    cols["depth"] = np.asarray(vd["depth"], dtype=np.uint8)
    cols["price"] = _float_to_fixed(np.asarray(vd["price"], dtype=np.float64), "price", where)
    cols["size"] = _to_uint(np.asarray(vd["size"]), "size", where, np.uint32, _U32_MAX)
    flags = vd.columns.get("flags")
    cols["flags"] = np.zeros(n, np.uint8) if flags is None else np.asarray(flags, np.uint8)
    cols["ts_in_delta"] = np.zeros(n, dtype=np.int32)
    seq = vd.columns.get("sequence")
    cols["sequence"] = (
        np.zeros(n, np.uint32)
        if seq is None
        else _to_uint(np.asarray(seq), "sequence", where, np.uint32, _U32_MAX)
    )
    zeros_u4 = np.zeros(n, dtype=np.uint32)
    undef = np.full(n, UNDEF_PRICE, dtype=np.int64)
    for lvl in range(levels):
        have = lvl < vd.levels
        for side in ("bid", "ask"):
            name = level_column("px", side, lvl)
            cols[name] = (
                _float_to_fixed(np.asarray(vd[name], dtype=np.float64), name, where)
                if have
                else undef
            )
        for side in ("bid", "ask"):
            name = level_column("sz", side, lvl)
            cols[name] = (
                _to_uint(np.asarray(vd[name]), name, where, np.uint32, _U32_MAX)
                if have
                else zeros_u4
            )
        for side in ("bid", "ask"):
            name = level_column("ct", side, lvl)
            cols[name] = (
                _to_uint(np.asarray(vd[name]), name, where, np.uint32, _U32_MAX)
                if have and vd.has_counts
                else zeros_u4
            )
    return _Export(levels=levels, columns=cols)


def _records(ex: _Export) -> npt.NDArray[np.uint8]:
    c = ex.columns
    return encode_mbp(
        c,
        ex.levels,
        rtype=rtype_of_levels(ex.levels),
        publisher_id=int(c["publisher_id"][0]) if c["publisher_id"].shape[0] else 0,
        instrument_id=int(c["instrument_id"][0]) if c["instrument_id"].shape[0] else 0,
    )


def _dbn_metadata(vd: VenueData, dataset: str, levels: int) -> databento_dbn.Metadata:
    ts = vd.ts_event
    start = int(ts.min()) if len(vd) else 0
    end = int(ts.max()) + 1 if len(vd) else 1
    day0 = dt.datetime.fromtimestamp(start / 1e9, tz=dt.UTC).date()
    day1 = dt.datetime.fromtimestamp((end - 1) / 1e9, tz=dt.UTC).date() + dt.timedelta(days=1)
    iid = _instrument_id(vd.symbol)
    fields: dict[str, Any] = {
        "dataset": dataset,
        "start": start,
        "stype_in": databento_dbn.SType.RAW_SYMBOL,
        "stype_out": databento_dbn.SType.INSTRUMENT_ID,
        "schema": databento_dbn.Schema.MBP_10 if levels == 10 else databento_dbn.Schema.MBP_1,
        "symbols": [vd.symbol],
        "mappings": [_Mapping(vd.symbol, [_Interval(day0, day1, str(iid))])],
        "end": end,
    }
    return databento_dbn.Metadata(**fields)


def _string_array(codes: npt.NDArray[np.uint8]) -> pa.Array:
    n = codes.shape[0]
    offsets = np.arange(n + 1, dtype=np.int32)
    return pa.Array.from_buffers(
        pa.string(), n, [None, pa.py_buffer(offsets), pa.py_buffer(codes.tobytes())]
    )


def _arrow_table(vd: VenueData, ex: _Export, dataset: str, *, fixed: bool) -> pa.Table:
    """Databento-shaped table: fixed-point ints (CSV) or float prices and UTC timestamps."""
    arrays: dict[str, pa.Array] = {}
    for name, col in ex.columns.items():
        if name in _TS_COLUMNS:
            a = pa.array(col, type=pa.int64())
            arrays[name] = a if fixed else a.cast(pa.timestamp("ns", tz="UTC"))
        elif name in ("action", "side"):
            arrays[name] = _string_array(col)
        elif name == "price" or re.fullmatch(r"(bid|ask)_px_\d\d", name):
            arrays[name] = pa.array(col if fixed else _fixed_to_float(col))
        else:
            arrays[name] = pa.array(col)
    if "status" in vd.columns:
        arrays["status"] = pa.array(np.asarray(vd["status"], dtype=np.uint8))
    arrays["symbol"] = pa.repeat(pa.scalar(vd.symbol, pa.string()), len(vd))
    meta = {
        "dataset": dataset,
        "venue": vd.venue,
        "symbol": vd.symbol,
        "schema": "mbp-10" if ex.levels == 10 else "mbp-1",
        "source": vd.source,
    }
    table = pa.table(arrays)
    return table.replace_schema_metadata({_META_KEY: json.dumps(meta).encode()})


def write_venue(vd: VenueData, path: PathLike, *, dataset: str | None = None) -> Path:
    """Write a :class:`VenueData` as a Databento-shaped MBP file, atomically.

    Parameters
    ----------
    vd : VenueData
        The book and events of one venue.
    path : str or os.PathLike
        Destination; the extension picks the format: ``.parquet``, ``.csv``, ``.csv.zst``,
        ``.dbn`` or ``.dbn.zst``.  Parent folders are created.
    dataset : str, optional
        Databento dataset code stored in the file (DBN metadata, Parquet metadata), default
        from the venue (``XNAS`` → ``XNAS.ITCH``, see
        :func:`myopic_sor.data._layout.venue_to_dataset`).

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    DataFormatError
        On an unknown extension, or values Databento's types cannot hold (negative or
        > 2**32 - 1 sizes, counts or sequence numbers; infinite prices).

    Notes
    -----
    The shape is Databento's MBP-1 when ``vd.levels == 1`` and MBP-10 otherwise (levels beyond
    ``vd.levels`` are written empty: NaN/``UNDEF_PRICE`` prices, zero sizes).  Columns: ``ts_recv,
    ts_event, rtype, publisher_id, instrument_id, action, side, depth, price, size, flags,
    ts_in_delta, sequence``, the levels ``bid_px_NN, ask_px_NN, bid_sz_NN, ask_sz_NN, bid_ct_NN,
    ask_ct_NN``, then ``symbol`` (text formats).  Missing optional data is written as Databento
    would: zero counts, flags and sequence.  ``publisher_id`` is 0 (unknown) and
    ``instrument_id`` a stable CRC-32 of the symbol, mapped to it in the DBN metadata.

    * Parquet: the shape of ``DBNStore.to_parquet()`` defaults: ``timestamp[ns, tz=UTC]``
      timestamps, float64 prices (NaN for no price), string action/side/symbol, zstd
      compression, row groups of 100,000 rows with statistics (so time windows prune row
      groups); a ``status`` column is kept when present.  Dataset, venue and symbol are stored
      in the schema metadata under ``myopic_sor``.
    * CSV: Databento's fixed-point encoding (integer 1e-9 prices, ``UNDEF_PRICE`` for no price,
      integer ns timestamps).
    * DBN: the current DBN version, metadata encoded by ``databento_dbn.Metadata.encode``.  A
      ``status`` column has no DBN field and is dropped with a :class:`DataQualityWarning`.

    The file is written to a temporary name in the same folder and moved into place with
    ``os.replace``, so a crash never leaves a partial file under ``path``.
    """
    p = Path(path)
    fmt = _format_of_name(p)
    ds = dataset or venue_to_dataset(vd.venue)
    where = f"writing {p} (venue {vd.venue})"
    ex = _export(vd, where)
    if fmt in ("dbn", "dbn.zst"):
        if "status" in vd.columns:
            n_set = int(np.count_nonzero(vd["status"]))
            warnings.warn(
                f"{p}: DBN has no trading-status field; the status column ({n_set} non-zero of "
                f"{len(vd)} rows) is not written (use .parquet to keep it)",
                DataQualityWarning,
                stacklevel=2,
            )
        header = bytes(_dbn_metadata(vd, ds, ex.levels).encode())
        records = _records(ex)
        with atomic_write(p) as fh:
            if fmt == "dbn.zst":
                zstd_compress([header, records.data], fh)
            else:
                fh.write(header)
                fh.write(records.data)
        return p
    if fmt == "parquet":
        table = _arrow_table(vd, ex, ds, fixed=False)
        atomic_write_with(
            p,
            lambda tmp: pq.write_table(
                table,
                tmp,
                row_group_size=_ROW_GROUP_SIZE,
                compression="zstd",
                write_statistics=True,
            ),
        )
        return p
    table = _arrow_table(vd, ex, ds, fixed=True).replace_schema_metadata(None)
    opts = pacsv.WriteOptions(include_header=False, quoting_style="none")
    header = (",".join(table.column_names) + "\n").encode()  # pyarrow would quote the names
    with atomic_write(p) as fh:
        if fmt == "csv.zst":
            sink = io.BytesIO()
            sink.write(header)
            pacsv.write_csv(table, sink, write_options=opts)
            zstd_compress([sink.getbuffer()], fh)
        else:
            fh.write(header)
            pacsv.write_csv(table, fh, write_options=opts)
    return p
