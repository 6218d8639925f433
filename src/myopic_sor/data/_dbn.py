"""Low-level Databento Binary Encoding (DBN): MBP record layout, framing, zstd, encoding.

The records are read as raw bytes (8-byte aligned) and decoded in one pass by a numba kernel
(:func:`decode_mbp`) at the field offsets of :func:`mbp_dtype`, the packed structured dtype that
mirrors the C layout of ``databento_dbn.MBP10Msg`` / ``MBP1Msg``; the metadata header is decoded
and encoded by ``databento_dbn.Metadata`` itself.  The layout is checked against the library on
first use (:func:`verify_layout`), so a change of the binary layout in a future ``databento-dbn``
fails loudly instead of mis-parsing.

DBN stream (versions 1, 2 and 3; MBP records are identical in all three)::

    b"DBN" | version u8 | metadata length u32 LE | metadata | record | record | ...

Every record starts with a 16-byte header ``length u8`` (in 4-byte words), ``rtype u8``,
``publisher_id u16``, ``instrument_id u32``, ``ts_event u64``; live files interleave other record
types (symbol mappings, system messages), which are skipped by walking the ``length`` bytes.
"""

from __future__ import annotations

import functools
import io
import logging
import mmap
import struct
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any, Final

import databento_dbn
import numpy as np
import numpy.typing as npt
import zstandard
from numba import njit

from myopic_sor.exceptions import DataFormatError, MyopicSorError

__all__ = [
    "DBN_MAGIC",
    "RTYPE_MBP1",
    "RTYPE_MBP10",
    "RTYPE_SYMBOL_MAPPING",
    "UNDEF_PRICE",
    "ZSTD_MAGIC",
    "decode_mbp",
    "decode_mbp_py",
    "encode_mbp",
    "encode_mbp_py",
    "gather_records",
    "gather_records_py",
    "is_zstd",
    "mbp_dtype",
    "read_dbn_stream",
    "read_maybe_zstd",
    "split_header",
    "verify_layout",
    "walk_records",
    "walk_records_py",
    "zstd_frames_end",
]

logger = logging.getLogger(__name__)

DBN_MAGIC: Final = b"DBN"
ZSTD_MAGIC: Final = b"\x28\xb5\x2f\xfd"
#: Highest DBN version this reader understands (the MBP layout is the same in 1, 2 and 3).
MAX_DBN_VERSION: Final = 3
UNDEF_PRICE: Final = int(databento_dbn.UNDEF_PRICE)  # i64 max: "no price"
RTYPE_MBP1: Final = 1
RTYPE_MBP10: Final = 10
RTYPE_SYMBOL_MAPPING: Final = 22
HEADER_SIZE: Final = 16  # the smallest valid record is its header

_HEADER_FIELDS: Final = [
    ("length", "u1"),
    ("rtype", "u1"),
    ("publisher_id", "<u2"),
    ("instrument_id", "<u4"),
    ("ts_event", "<u8"),
]
_BODY_FIELDS: Final = [
    ("price", "<i8"),
    ("size", "<u4"),
    ("action", "S1"),
    ("side", "S1"),
    ("flags", "u1"),
    ("depth", "u1"),
    ("ts_recv", "<u8"),
    ("ts_in_delta", "<i4"),
    ("sequence", "<u4"),
]
_LEVEL_FIELDS: Final = [
    ("bid_px", "<i8"),
    ("ask_px", "<i8"),
    ("bid_sz", "<u4"),
    ("ask_sz", "<u4"),
    ("bid_ct", "<u4"),
    ("ask_ct", "<u4"),
]


@functools.cache
def mbp_dtype(levels: int, *, ts_out: bool = False) -> np.dtype[np.void]:
    """Packed little-endian structured dtype of one MBP record with ``levels`` book levels.

    ``levels`` is 10 for MBP-10 (368 bytes) and 1 for MBP-1 (80 bytes); ``ts_out=True`` appends
    the gateway send timestamp that live files carry (8 more bytes).
    """
    fields: list[tuple[str, str]] = [*_HEADER_FIELDS, *_BODY_FIELDS]
    for lvl in range(levels):
        fields += [(f"{name}_{lvl:02d}", fmt) for name, fmt in _LEVEL_FIELDS]
    if ts_out:
        fields.append(("ts_out", "<u8"))
    return np.dtype(fields)


def rtype_of_levels(levels: int) -> int:
    """DBN rtype of an MBP record with ``levels`` levels (1 → 1, 10 → 10)."""
    return RTYPE_MBP10 if levels == 10 else RTYPE_MBP1


@functools.cache
def verify_layout() -> None:
    """Check :func:`mbp_dtype` against ``databento_dbn`` by encoding and parsing one record each.

    Raises
    ------
    MyopicSorError
        When the installed ``databento-dbn`` lays MBP records out differently (the message names
        the field), which would make the fast parser wrong.
    """
    for levels, cls in ((10, databento_dbn.MBP10Msg), (1, databento_dbn.MBP1Msg)):
        pairs = [
            databento_dbn.BidAskPair(
                bid_px=100_000_000_000 + lvl,
                ask_px=200_000_000_000 + lvl,
                bid_sz=1000 + lvl,
                ask_sz=2000 + lvl,
                bid_ct=30 + lvl,
                ask_ct=40 + lvl,
            )
            for lvl in range(levels)
        ]
        fields: dict[str, Any] = {
            "publisher_id": 513,
            "instrument_id": 70_000,
            "ts_event": 1_743_600_600_000_000_001,
            "price": 150_250_000_001,
            "size": 77,
            "action": databento_dbn.Action.TRADE,
            "side": databento_dbn.Side.ASK,
            "depth": 3,
            "ts_recv": 1_743_600_600_000_000_002,
            "flags": 130,
            "ts_in_delta": -5,
            "sequence": 4_000_000_000,
            "levels": pairs if levels == 10 else pairs[0],
        }
        msg = cls(**fields)
        raw = bytes(msg)
        dtype = mbp_dtype(levels)
        if len(raw) != dtype.itemsize or msg.record_size() != dtype.itemsize:
            raise MyopicSorError(
                f"databento_dbn {cls.__name__} is {len(raw)} bytes, the fast parser expects "
                f"{dtype.itemsize}; pin databento-dbn to a version with the DBN v1-v3 MBP layout"
            )
        rec = np.frombuffer(raw, dtype=dtype)[0]
        expected: dict[str, object] = {
            "length": dtype.itemsize // 4,
            "rtype": rtype_of_levels(levels),
            "publisher_id": 513,
            "instrument_id": 70_000,
            "ts_event": 1_743_600_600_000_000_001,
            "price": 150_250_000_001,
            "size": 77,
            "action": b"T",
            "side": b"A",
            "flags": 130,
            "depth": 3,
            "ts_recv": 1_743_600_600_000_000_002,
            "ts_in_delta": -5,
            "sequence": 4_000_000_000,
        }
        for lvl in range(levels):
            expected |= {
                f"bid_px_{lvl:02d}": 100_000_000_000 + lvl,
                f"ask_px_{lvl:02d}": 200_000_000_000 + lvl,
                f"bid_sz_{lvl:02d}": 1000 + lvl,
                f"ask_sz_{lvl:02d}": 2000 + lvl,
                f"bid_ct_{lvl:02d}": 30 + lvl,
                f"ask_ct_{lvl:02d}": 40 + lvl,
            }
        for name, want in expected.items():
            got = rec[name]
            if (got.item() if hasattr(got, "item") else got) != want:
                raise MyopicSorError(
                    f"databento_dbn {cls.__name__} field {name!r} decodes as {got!r}, expected "
                    f"{want!r}: the MBP layout changed; pin databento-dbn"
                )


# -- record framing ----------------------------------------------------------------------------
# status codes of the walk
WALK_OK: Final = 0
WALK_BAD_LENGTH: Final = 1  # length byte below the 16-byte header: corrupt
WALK_TRUNCATED: Final = 2  # the last record runs past the end of the data


def walk_records_py(buf: npt.NDArray[np.uint8]) -> tuple[npt.NDArray[np.int64], int, int]:
    """Plain-Python twin of :func:`walk_records` (used by the parity test)."""
    n = buf.shape[0]
    count = 0
    pos = 0
    status = WALK_OK
    while pos < n:
        length = int(buf[pos]) * 4
        if length < HEADER_SIZE:
            status = WALK_BAD_LENGTH
            break
        if pos + length > n:
            status = WALK_TRUNCATED
            break
        count += 1
        pos += length
    offsets = np.empty(count, dtype=np.int64)
    p = 0
    for i in range(count):
        offsets[i] = p
        p += int(buf[p]) * 4
    return offsets, int(pos), status


_walk_records_nb = njit(cache=True)(walk_records_py)


def walk_records(buf: npt.NDArray[np.uint8]) -> tuple[npt.NDArray[np.int64], int, int]:
    """Find the start of every record in a DBN record stream by following the length bytes.

    Parameters
    ----------
    buf : numpy.ndarray of uint8
        The bytes after the metadata, contiguous.

    Returns
    -------
    offsets : numpy.ndarray of int64
        Byte offset of each complete record in ``buf``.
    stop : int
        Byte offset where the walk stopped (``len(buf)`` when every byte was consumed).
    status : int
        ``WALK_OK`` (0), ``WALK_BAD_LENGTH`` (1, a length below the 16-byte header at ``stop``)
        or ``WALK_TRUNCATED`` (2, the record at ``stop`` runs past the end).
    """
    offsets, stop, status = _walk_records_nb(np.ascontiguousarray(buf, dtype=np.uint8))
    return offsets, int(stop), int(status)


def gather_records_py(
    buf: npt.NDArray[np.uint8], offsets: npt.NDArray[np.int64], size: int
) -> npt.NDArray[np.uint8]:
    """Plain-Python twin of :func:`gather_records` (used by the parity test)."""
    out = np.empty((offsets.shape[0], size), dtype=np.uint8)
    for i in range(offsets.shape[0]):
        start = int(offsets[i])
        out[i, :] = buf[start : start + size]
    return out


_gather_records_nb = njit(cache=True)(gather_records_py)


def gather_records(
    buf: npt.NDArray[np.uint8], offsets: npt.NDArray[np.int64], size: int
) -> npt.NDArray[np.uint8]:
    """Copy ``size`` bytes at each offset into a contiguous ``(len(offsets), size)`` array."""
    out: npt.NDArray[np.uint8] = _gather_records_nb(
        np.ascontiguousarray(buf, dtype=np.uint8),
        np.ascontiguousarray(offsets, dtype=np.int64),
        int(size),
    )
    return out


# -- record decoding ---------------------------------------------------------------------------
# Word offsets inside an MBP record (every 8-byte field is 8-aligned, every 4-byte field
# 4-aligned): q = int64 words, d = uint32 words, b = bytes.
_Q_TS_EVENT: Final = 1
_Q_PRICE: Final = 2
_Q_TS_RECV: Final = 4
_D_INSTRUMENT_ID: Final = 1
_D_SIZE: Final = 6
_D_SEQUENCE: Final = 11
_B_ACTION: Final = 28  # then side, flags, depth
_Q_LEVEL0: Final = 6  # bid_px_00; a level is 4 int64 words / 8 uint32 words
_D_LEVEL0: Final = 16  # bid_sz_00


def decode_mbp_py(  # noqa: PLR0917 (numba kernels take positional arrays)
    q: npt.NDArray[np.int64],
    d: npt.NDArray[np.uint32],
    b: npt.NDArray[np.uint8],
    rows: npt.NDArray[np.int64],
    levels: int,
    ts: npt.NDArray[np.int64],
    px: npt.NDArray[np.float64],
    ints: npt.NDArray[np.int64],
    small: npt.NDArray[np.uint8],
    seq: npt.NDArray[np.uint64],
) -> None:
    """Plain-Python twin of the numba kernel behind :func:`decode_mbp` (parity test)."""
    nan = np.nan
    for k in range(rows.shape[0]):
        i = rows[k]
        ts[0, k] = q[i, _Q_TS_EVENT]
        ts[1, k] = q[i, _Q_TS_RECV]
        v = q[i, _Q_PRICE]
        px[0, k] = nan if v == UNDEF_PRICE else v / 1e9
        ints[0, k] = d[i, _D_SIZE]
        for j in range(4):
            small[j, k] = b[i, _B_ACTION + j]
        seq[k] = d[i, _D_SEQUENCE]
        for lvl in range(levels):
            for s in range(2):
                v = q[i, _Q_LEVEL0 + 4 * lvl + s]
                px[1 + 2 * lvl + s, k] = nan if v == UNDEF_PRICE else v / 1e9
            for s in range(4):
                ints[1 + 4 * lvl + s, k] = d[i, _D_LEVEL0 + 8 * lvl + s]


_decode_mbp_nb = njit(cache=True)(decode_mbp_py)


def decode_mbp(
    recs: npt.NDArray[np.uint8], rows: npt.NDArray[np.int64], levels: int
) -> dict[str, npt.NDArray[Any]]:
    """Decode the MBP records ``recs[rows]`` into contiguous canonical columns in one pass.

    Parameters
    ----------
    recs : numpy.ndarray of uint8, shape (n, record_size)
        Raw records, C-contiguous and 8-byte aligned.
    rows : numpy.ndarray of int64
        The records to decode, in output order.
    levels : int
        Book levels per record (10 or 1).

    Returns
    -------
    dict of str to numpy.ndarray
        ``ts_event``, ``ts_recv`` (int64 ns), ``price`` and ``{bid,ask}_px_NN`` (float64,
        ``px / 1e9``, NaN for ``UNDEF_PRICE``), ``size``, ``{bid,ask}_{sz,ct}_NN`` (int64),
        ``action``, ``side``, ``flags``, ``depth`` (uint8), ``sequence`` (uint64).

    Notes
    -----
    A column-by-column strided copy reads every record once per column (66 passes over the
    data for MBP-10); this kernel reads each record once, which is what makes DBN decoding run
    at memory speed.
    """
    size = recs.shape[1]
    if size % 8 or recs.ctypes.data % 8 or not recs.flags.c_contiguous:
        recs = np.ascontiguousarray(recs).copy()
    q = recs.view(np.int64)
    d = recs.view(np.uint32)
    m = rows.shape[0]
    ts = np.empty((2, m), dtype=np.int64)
    px = np.empty((1 + 2 * levels, m), dtype=np.float64)
    ints = np.empty((1 + 4 * levels, m), dtype=np.int64)
    small = np.empty((4, m), dtype=np.uint8)
    seq = np.empty(m, dtype=np.uint64)
    _decode_mbp_nb(
        q, d, recs, np.ascontiguousarray(rows, np.int64), levels, ts, px, ints, small, seq
    )
    cols: dict[str, npt.NDArray[Any]] = {
        "ts_event": ts[0],
        "ts_recv": ts[1],
        "action": small[0],
        "side": small[1],
        "flags": small[2],
        "depth": small[3],
        "price": px[0],
        "size": ints[0],
        "sequence": seq,
    }
    for lvl in range(levels):
        for s, side in enumerate(("bid", "ask")):
            cols[f"{side}_px_{lvl:02d}"] = px[1 + 2 * lvl + s]
            cols[f"{side}_sz_{lvl:02d}"] = ints[1 + 4 * lvl + s]
            cols[f"{side}_ct_{lvl:02d}"] = ints[3 + 4 * lvl + s]
    return cols


def encode_mbp_py(  # noqa: PLR0917 (numba kernels take positional arrays)
    q: npt.NDArray[np.int64],
    d: npt.NDArray[np.uint32],
    b: npt.NDArray[np.uint8],
    head: npt.NDArray[np.uint32],
    levels: int,
    ts: npt.NDArray[np.int64],
    px: npt.NDArray[np.int64],
    ints: npt.NDArray[np.uint32],
    small: npt.NDArray[np.uint8],
    seq: npt.NDArray[np.uint32],
) -> None:
    """Plain-Python twin of the numba kernel behind :func:`encode_mbp` (parity test)."""
    for i in range(ts.shape[1]):
        d[i, 0] = head[0]
        d[i, _D_INSTRUMENT_ID] = head[1]
        q[i, _Q_TS_EVENT] = ts[0, i]
        q[i, _Q_TS_RECV] = ts[1, i]
        q[i, _Q_PRICE] = px[0, i]
        d[i, _D_SIZE] = ints[0, i]
        for j in range(4):
            b[i, _B_ACTION + j] = small[j, i]
        d[i, _D_SEQUENCE] = seq[i]
        for lvl in range(levels):
            for s in range(2):
                q[i, _Q_LEVEL0 + 4 * lvl + s] = px[1 + 2 * lvl + s, i]
            for s in range(4):
                d[i, _D_LEVEL0 + 8 * lvl + s] = ints[1 + 4 * lvl + s, i]


_encode_mbp_nb = njit(cache=True)(encode_mbp_py)


def encode_mbp(
    columns: dict[str, npt.NDArray[Any]],
    levels: int,
    *,
    rtype: int,
    publisher_id: int,
    instrument_id: int,
) -> npt.NDArray[np.uint8]:
    """Encode Databento-typed columns into raw MBP records, one pass per record.

    Parameters
    ----------
    columns : dict of str to numpy.ndarray
        ``ts_event``, ``ts_recv`` (int64 ns), ``price``, ``{bid,ask}_px_NN`` (int64 fixed
        point), ``size``, ``sequence``, ``{bid,ask}_{sz,ct}_NN`` (uint32), ``action``, ``side``,
        ``flags``, ``depth`` (uint8).
    levels : int
        10 (MBP-10) or 1 (MBP-1).
    rtype, publisher_id, instrument_id : int
        Header fields, the same for every record.

    Returns
    -------
    numpy.ndarray of uint8, shape (n, record_size)
        The records (``ts_in_delta`` is 0), ready to follow the DBN metadata.
    """
    size = mbp_dtype(levels).itemsize
    n = columns["ts_event"].shape[0]
    out = np.zeros((n, size), dtype=np.uint8)
    head = np.array(
        [(size // 4) | (rtype << 8) | (publisher_id << 16), instrument_id], dtype=np.uint32
    )
    ts = np.stack([columns["ts_event"], columns["ts_recv"]]).astype(np.int64, copy=False)
    px_names = ["price"] + [f"{s}_px_{lvl:02d}" for lvl in range(levels) for s in ("bid", "ask")]
    int_names = ["size"] + [
        f"{s}_{k}_{lvl:02d}" for lvl in range(levels) for k in ("sz", "ct") for s in ("bid", "ask")
    ]
    px = np.stack([columns[c] for c in px_names]).astype(np.int64, copy=False)
    ints = np.stack([columns[c] for c in int_names]).astype(np.uint32, copy=False)
    small = np.stack([columns[c] for c in ("action", "side", "flags", "depth")]).astype(
        np.uint8, copy=False
    )
    seq = np.ascontiguousarray(columns["sequence"], dtype=np.uint32)
    _encode_mbp_nb(
        out.view(np.int64), out.view(np.uint32), out, head, levels, ts, px, ints, small, seq
    )
    return out


def record_field(recs: npt.NDArray[np.uint8], name: str) -> npt.NDArray[Any]:
    """One header field of raw records as a strided view: ``ts_event`` (uint64),
    ``instrument_id`` (uint32), ``publisher_id`` (uint16), ``length`` or ``rtype`` (uint8)."""
    if name == "ts_event":
        return recs[:, 8:16].view(np.uint64)[:, 0] if recs.shape[0] else np.empty(0, np.uint64)
    if name == "instrument_id":
        return recs[:, 4:8].view(np.uint32)[:, 0] if recs.shape[0] else np.empty(0, np.uint32)
    if name == "length":
        return recs[:, 0]
    if name == "rtype":
        return recs[:, 1]
    if name == "publisher_id":
        return recs[:, 2:4].view(np.uint16)[:, 0] if recs.shape[0] else np.empty(0, np.uint16)
    raise KeyError(name)


# -- header and compression --------------------------------------------------------------------
def split_header(raw: bytes | memoryview, path: Path) -> tuple[databento_dbn.Metadata, int, int]:
    """Decode the DBN metadata at the start of ``raw``.

    Returns
    -------
    metadata : databento_dbn.Metadata
    version : int
        The DBN version byte of the file (1, 2 or 3), before any upgrade.
    body_offset : int
        Offset of the first record.

    Raises
    ------
    DataFormatError
        When ``raw`` does not start with a complete DBN header.
    """
    if len(raw) < 8 or bytes(raw[:3]) != DBN_MAGIC:
        head = bytes(raw[:8])
        raise DataFormatError(
            f"{path}: not a DBN stream (starts with {head!r}, expected b'DBN'); the file is "
            "corrupt or has the wrong extension (Parquet starts with b'PAR1', zstd with "
            "b'\\x28\\xb5\\x2f\\xfd')"
        )
    version = int(raw[3])
    if not 1 <= version <= MAX_DBN_VERSION:
        raise DataFormatError(
            f"{path}: DBN version {version} is not supported (this reader handles DBN 1 to "
            f"{MAX_DBN_VERSION}); convert it with the databento CLI/client or upgrade myopic-sor"
        )
    (md_len,) = struct.unpack_from("<I", raw, 4)
    body_offset = 8 + int(md_len)
    if body_offset > len(raw):
        raise DataFormatError(
            f"{path}: truncated DBN metadata ({len(raw)} bytes, the header announces "
            f"{body_offset}); download the file again"
        )
    try:
        metadata = databento_dbn.Metadata.decode(bytes(raw[:body_offset]))
    except databento_dbn.DBNError as exc:
        raise DataFormatError(
            f"{path}: corrupt DBN metadata ({exc}); download the file again"
        ) from exc
    return metadata, version, body_offset


_SKIPPABLE_MAGIC_MASK: Final = 0xFFFFFFF0
_SKIPPABLE_MAGIC: Final = 0x184D2A50


def zstd_frames_end(data: bytes | memoryview) -> tuple[int, int | None]:
    """Walk the zstd frame and block headers of ``data`` without decompressing (RFC 8878).

    Returns
    -------
    end : int
        Offset where the walk stopped: ``len(data)`` when every frame is complete, else the
        start of the frame that runs past the end (a truncated stream) or of unknown bytes.
    content_size : int or None
        Sum of the frames' declared content sizes, None when a frame does not declare it.
    """
    n = len(data)
    pos = 0
    total: int | None = 0
    while pos < n:
        start = pos
        if n - pos < 8:
            return start, total
        (magic,) = struct.unpack_from("<I", data, pos)
        if magic & _SKIPPABLE_MAGIC_MASK == _SKIPPABLE_MAGIC:
            (size,) = struct.unpack_from("<I", data, pos + 4)
            pos += 8 + int(size)
            if pos > n:
                return start, total
            continue
        if magic != 0xFD2FB528:
            return start, total
        fhd = data[pos + 4]
        single = bool(fhd & 0x20)
        fcs_len = (1 if single else 0, 2, 4, 8)[fhd >> 6]
        did_len = (0, 1, 2, 4)[fhd & 0x3]
        pos += 5 + (0 if single else 1) + did_len
        if pos + fcs_len > n:
            return start, total
        if fcs_len and total is not None:
            fcs = int.from_bytes(bytes(data[pos : pos + fcs_len]), "little")
            total += fcs + (256 if fcs_len == 2 else 0)
        else:
            total = None
        pos += fcs_len
        while True:
            if pos + 3 > n:
                return start, total
            header = int.from_bytes(bytes(data[pos : pos + 3]), "little")
            block_type = (header >> 1) & 0x3
            block_size = header >> 3
            pos += 3 + (1 if block_type == 1 else block_size)
            if pos > n:
                return start, total
            if header & 1:
                break
        pos += 4 if fhd & 0x4 else 0
        if pos > n:
            return start, total
    return pos, total


def _zstd_into(data: bytes, path: Path, *, align_dbn: bool) -> npt.NDArray[np.uint8]:
    """Decompress ``data`` (one or more zstd frames) into one numpy buffer.

    With ``align_dbn``, the buffer is offset so that the first DBN record lands on an 8-byte
    boundary.  Truncated streams are detected by :func:`zstd_frames_end` (the decompressor
    itself stops silently at the end of its input); corrupt blocks raise in the decompressor.
    """
    end, content = zstd_frames_end(data)
    if end != len(data):
        raise DataFormatError(
            f"{path}: truncated or corrupt zstd stream (the frame at compressed byte {end} is "
            f"incomplete or unknown, {len(data)} bytes in all); the download or copy was cut "
            "short, fetch the file again"
        )
    dctx = zstandard.ZstdDecompressor()
    try:
        reader = dctx.stream_reader(io.BytesIO(data), read_across_frames=True)
        head = reader.read(8)
        shift = _body_shift(head) if align_dbn else 0
        cap = content if content is not None else max(8 * len(data), 1 << 20)
        buf = np.empty(shift + max(cap, len(head)) + 1, dtype=np.uint8)
        buf[shift : shift + len(head)] = np.frombuffer(head, dtype=np.uint8)
        pos = shift + len(head)
        while True:
            if pos == buf.shape[0]:
                grown = np.empty(2 * buf.shape[0], dtype=np.uint8)
                grown[:pos] = buf[:pos]
                buf = grown
            got = reader.readinto(buf[pos:].data)
            if not got:
                break
            pos += got
    except zstandard.ZstdError as exc:
        raise DataFormatError(
            f"{path}: corrupt zstd data ({exc}); download the file again or check it with `zstd -t`"
        ) from exc
    return buf[shift:pos]


def is_zstd(head: bytes) -> bool:
    """True when ``head`` starts with a zstd frame or a zstd skippable frame."""
    if len(head) < 4:
        return False
    (magic,) = struct.unpack_from("<I", head, 0)
    return head[:4] == ZSTD_MAGIC or magic & _SKIPPABLE_MAGIC_MASK == _SKIPPABLE_MAGIC


def read_maybe_zstd(path: Path) -> bytes:
    """Return the bytes of ``path``, decompressed when it starts with the zstd magic number."""
    with path.open("rb") as fh:
        data = fh.read()
    if is_zstd(data[:4]):
        return _zstd_into(data, path, align_dbn=False).tobytes()
    return data


def _body_shift(head: bytes) -> int:
    """Leading pad that puts the first record of a DBN stream starting with ``head`` on an
    8-byte boundary (0 when ``head`` is not a DBN header)."""
    if len(head) < 8 or head[:3] != DBN_MAGIC:
        return 0
    (md_len,) = struct.unpack_from("<I", head, 4)
    return (-(8 + int(md_len))) % 8


def read_dbn_stream(path: Path) -> npt.NDArray[np.uint8]:
    """Read a DBN stream (zstd-decompressed when compressed) into a uint8 array whose records
    start on an 8-byte boundary, so they can be viewed as int64/uint32 words without a copy.

    An uncompressed file whose records are already aligned is memory-mapped (read-only).
    """
    with path.open("rb") as fh:
        head = fh.read(8)
        fh.seek(0)
        if is_zstd(head):
            return _zstd_into(fh.read(), path, align_dbn=True)
        size = path.stat().st_size
        shift = _body_shift(head)
        if shift == 0 and size >= 8:
            # records already 8-aligned in the file: map it instead of copying it (the decoded
            # columns are new arrays, so the map is released once decoding is done)
            return np.frombuffer(mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ), np.uint8)
        buf = np.empty(size + shift, dtype=np.uint8)
        got = fh.readinto(buf[shift:].data)
        return buf[shift : shift + got]


def zstd_compress(parts: Sequence[bytes | memoryview], fh: IO[bytes], level: int = 3) -> None:
    """Write the concatenation of ``parts`` to ``fh`` as one zstd frame with a checksum."""
    cctx = zstandard.ZstdCompressor(level=level, write_checksum=True)
    with cctx.stream_writer(fh, closefd=False) as writer:
        for part in parts:
            writer.write(part)
