"""Databento MBP-10 / MBP-1 readers and writers, checked against the official DBN encoder."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import databento_dbn as dbn
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.dataset as pads
import pyarrow.parquet as pq
import pytest
import zstandard

from myopic_sor.data._databento import (
    detect_databento_format,
    read_databento,
    read_dbn,
    read_mbp_csv,
    read_mbp_parquet,
    write_venue,
)
from myopic_sor.data._dbn import (
    WALK_BAD_LENGTH,
    WALK_OK,
    WALK_TRUNCATED,
    decode_mbp,
    decode_mbp_py,
    encode_mbp,
    encode_mbp_py,
    gather_records,
    gather_records_py,
    mbp_dtype,
    verify_layout,
    walk_records,
    walk_records_py,
)
from myopic_sor.data._schema import VenueData
from myopic_sor.exceptions import DataFormatError, DataNotFoundError, DataQualityWarning

T0 = 1_743_600_600_000_000_000  # 2025-04-02 13:30:00 UTC
UNDEF = dbn.UNDEF_PRICE
ACTIONS = [dbn.Action.ADD, dbn.Action.CANCEL, dbn.Action.MODIFY, dbn.Action.TRADE]
SIDES = [dbn.Side.BID, dbn.Side.ASK, dbn.Side.NONE]


# -- fixtures built with the official encoder ----------
@dataclass
class _Interval:
    start_date: dt.date
    end_date: dt.date
    symbol: str


@dataclass
class _Mapping:
    raw_symbol: str
    intervals: Sequence[_Interval]


def _metadata(
    *,
    schema: Any = dbn.Schema.MBP_10,
    dataset: str = "XNAS.ITCH",
    symbols: dict[str, int] | None = None,
    version: int | None = None,
    ts_out: bool = False,
) -> bytes:
    symbols = {"AAPL": 7} if symbols is None else symbols
    kw: dict[str, Any] = {
        "dataset": dataset,
        "start": T0,
        "stype_in": dbn.SType.RAW_SYMBOL,
        "stype_out": dbn.SType.INSTRUMENT_ID,
        "schema": schema,
        "symbols": list(symbols),
        "mappings": [
            _Mapping(s, [_Interval(dt.date(2025, 4, 2), dt.date(2025, 4, 3), str(i))])
            for s, i in symbols.items()
        ],
        "end": T0 + 10**12,
        "ts_out": ts_out,
    }
    if version is not None:
        kw["version"] = version
    return bytes(dbn.Metadata(**kw).encode())


def _price(rng: np.random.Generator, undef_p: float = 0.1) -> int:
    if rng.random() < undef_p:
        return int(UNDEF)
    return int(rng.integers(100_000, 200_000)) * 1_000_000  # $100.000 .. $199.999


def _messages(
    n: int,
    rng: np.random.Generator,
    *,
    levels: int = 10,
    iids: Sequence[int] = (7,),
    ts_out: bool = False,
) -> list[Any]:
    msgs = []
    ts = T0 + np.cumsum(rng.integers(1, 10_000, n))
    for k in range(n):
        pairs = [
            dbn.BidAskPair(
                bid_px=_price(rng),
                ask_px=_price(rng),
                bid_sz=int(rng.integers(0, 10_000)),
                ask_sz=int(rng.integers(0, 10_000)),
                bid_ct=int(rng.integers(0, 100)),
                ask_ct=int(rng.integers(0, 100)),
            )
            for _ in range(levels)
        ]
        kw: dict[str, Any] = {
            "publisher_id": 2,
            "instrument_id": int(iids[k % len(iids)]),
            "ts_event": int(ts[k]),
            "price": _price(rng, 0.2),
            "size": int(rng.integers(0, 2**32 - 1)),
            "action": ACTIONS[int(rng.integers(len(ACTIONS)))],
            "side": SIDES[int(rng.integers(len(SIDES)))],
            "depth": int(rng.integers(0, levels)),
            "ts_recv": int(ts[k]) + int(rng.integers(0, 1000)),
            "flags": int(rng.integers(0, 256)),
            "ts_in_delta": int(rng.integers(-1000, 1000)),
            "sequence": int(rng.integers(0, 2**32)),
            "levels": pairs if levels == 10 else pairs[0],
        }
        if ts_out:
            kw["ts_out"] = int(ts[k]) + 5000
        cls = dbn.MBP10Msg if levels == 10 else dbn.MBP1Msg
        msgs.append(cls(**kw))
    return msgs


def _dbn_file(path: Path, msgs: Sequence[Any], **md: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(_metadata(**md) + b"".join(bytes(m) for m in msgs))
    return path


def _official_records(path: Path) -> list[Any]:
    dec = dbn.DBNDecoder()
    out = dec.write_and_decode(path.read_bytes())
    return [r for r in out if isinstance(r, dbn.MBP10Msg | dbn.MBP1Msg)]


def _fixed(v: int) -> float:
    return float("nan") if v == UNDEF else v / 1e9


def _assert_matches_official(vd: VenueData, recs: Sequence[Any], levels: int) -> None:
    assert len(vd) == len(recs)
    assert vd.levels == levels
    assert vd.has_counts
    want: dict[str, list[Any]] = {k: [] for k in vd.columns}
    for r in recs:
        want["ts_event"].append(r.ts_event)
        want["ts_recv"].append(r.ts_recv)
        want["action"].append(ord(str(r.action)))
        want["side"].append(ord(str(r.side)))
        want["depth"].append(r.depth)
        want["price"].append(_fixed(r.price))
        want["size"].append(r.size)
        want["flags"].append(int(r.flags))
        want["sequence"].append(r.sequence)
        for lvl, pair in enumerate(r.levels):
            for side in ("bid", "ask"):
                want[f"{side}_px_{lvl:02d}"].append(_fixed(getattr(pair, f"{side}_px")))
                want[f"{side}_sz_{lvl:02d}"].append(getattr(pair, f"{side}_sz"))
                want[f"{side}_ct_{lvl:02d}"].append(getattr(pair, f"{side}_ct"))
    for name, values in want.items():
        got = vd[name]
        exp = np.asarray(values, dtype=got.dtype)
        np.testing.assert_array_equal(got, exp, err_msg=name)


def _assert_same(a: VenueData, b: VenueData) -> None:
    assert (a.venue, a.symbol, len(a)) == (b.venue, b.symbol, len(b))
    assert set(a.columns) == set(b.columns), set(a.columns) ^ set(b.columns)
    for name in a.columns:
        assert a[name].dtype == b[name].dtype, name
        np.testing.assert_array_equal(a[name], b[name], err_msg=name)


def _venue(n: int, rng: np.random.Generator, levels: int = 10, **extra: Any) -> VenueData:
    ts = T0 + np.cumsum(rng.integers(1, 50_000, n))
    cols: dict[str, Any] = {
        "ts_event": ts,
        "ts_recv": ts + rng.integers(0, 1000, n),
        "action": rng.choice(np.frombuffer(b"ACMRTFN", np.uint8), n),
        "side": rng.choice(np.frombuffer(b"ABN", np.uint8), n),
        "depth": rng.integers(0, levels, n).astype(np.uint8),
        "price": rng.integers(10_000, 20_000, n) / 100.0,
        "size": rng.integers(0, 5000, n),
        "flags": rng.integers(0, 256, n).astype(np.uint8),
        "sequence": rng.integers(0, 2**32, n).astype(np.uint64),
    }
    cols["price"][rng.random(n) < 0.2] = np.nan
    for lvl in range(levels):
        for side in ("bid", "ask"):
            px = rng.integers(1_000_000, 2_000_000, n) / 10_000.0
            px[rng.random(n) < 0.1] = np.nan
            cols[f"{side}_px_{lvl:02d}"] = px
            cols[f"{side}_sz_{lvl:02d}"] = rng.integers(0, 10_000, n)
            cols[f"{side}_ct_{lvl:02d}"] = rng.integers(0, 60, n)
    cols.update(extra)
    return VenueData(venue="XNAS", symbol="AAPL", columns=cols, source="test")


def _layout(tmp_path: Path, ext: str, schema: str = "mbp-10") -> Path:
    return tmp_path / "AAPL" / f"xnas-itch-20250402.{schema}.{ext}"


# -- layout and kernels ----------
def test_record_layout_matches_databento_dbn() -> None:
    verify_layout()
    assert mbp_dtype(10).itemsize == dbn.MBP10Msg.size_hint == 368
    assert mbp_dtype(1).itemsize == dbn.MBP1Msg.size_hint == 80
    for levels, cls in ((10, dbn.MBP10Msg), (1, dbn.MBP1Msg)):
        lib = [(n, np.dtype(f).str) for n, f in cls._dtypes if n != "ts_out"]
        mine = [(n, mbp_dtype(levels).fields[n][0].str) for n in mbp_dtype(levels).names or ()]
        assert mine == lib


@pytest.mark.parametrize("levels", [10, 1])
def test_mbp_bytes_identical_in_dbn_versions_1_2_3(levels: int) -> None:
    rng = np.random.default_rng(1)
    raw = b"".join(bytes(m) for m in _messages(20, rng, levels=levels))
    decoded = []
    for version in (1, 2, 3):
        dec = dbn.DBNDecoder(has_metadata=False, input_version=version)
        decoded.append([bytes(r) for r in dec.write_and_decode(raw)])
    assert decoded[0] == decoded[1] == decoded[2]
    assert b"".join(decoded[0]) == raw


def _random_stream(rng: np.random.Generator, n: int) -> np.ndarray:
    parts = []
    for _ in range(n):
        words = int(rng.integers(4, 40))
        rec = rng.integers(0, 256, words * 4).astype(np.uint8)
        rec[0] = words
        parts.append(rec)
    return np.concatenate(parts)


def test_walk_and_gather_kernels_match_python_twins() -> None:
    rng = np.random.default_rng(2)
    buf = _random_stream(rng, 300)
    cases = {
        "ok": buf,
        "truncated": buf[:-3],
        "bad_length": np.concatenate([buf, np.array([2, 0, 0, 0], dtype=np.uint8)]),
    }
    expected_status = {"ok": WALK_OK, "truncated": WALK_TRUNCATED, "bad_length": WALK_BAD_LENGTH}
    for name, data in cases.items():
        off_nb, stop_nb, st_nb = walk_records(data)
        off_py, stop_py, st_py = walk_records_py(data)
        np.testing.assert_array_equal(off_nb, off_py)
        assert (stop_nb, st_nb) == (stop_py, st_py)
        assert st_nb == expected_status[name]
    offsets, _, _ = walk_records(buf)
    assert offsets.shape[0] == 300
    pick = offsets[::3]
    np.testing.assert_array_equal(gather_records(buf, pick, 16), gather_records_py(buf, pick, 16))


def test_decode_kernel_matches_python_twin() -> None:
    rng = np.random.default_rng(3)
    recs = np.frombuffer(b"".join(bytes(m) for m in _messages(50, rng)), dtype=np.uint8).reshape(
        -1, 368
    )
    rows = np.array([5, 0, 49, 7, 7], dtype=np.int64)
    cols = decode_mbp(recs.copy(), rows, 10)
    q = recs.copy().view(np.int64)
    d = recs.copy().view(np.uint32)
    ts = np.empty((2, 5), np.int64)
    px = np.empty((21, 5), np.float64)
    ints = np.empty((41, 5), np.int64)
    small = np.empty((4, 5), np.uint8)
    seq = np.empty(5, np.uint64)
    decode_mbp_py(q, d, recs, rows, 10, ts, px, ints, small, seq)
    np.testing.assert_array_equal(cols["ts_event"], ts[0])
    np.testing.assert_array_equal(cols["price"], px[0])
    np.testing.assert_array_equal(cols["ask_px_09"], px[20])
    np.testing.assert_array_equal(cols["ask_ct_09"], ints[40])
    np.testing.assert_array_equal(cols["depth"], small[3])
    np.testing.assert_array_equal(cols["sequence"], seq)


def test_encode_kernel_reproduces_official_bytes() -> None:
    rng = np.random.default_rng(31)
    for levels in (10, 1):
        msgs = _messages(60, rng, levels=levels)
        for m in msgs:
            m.ts_in_delta = 0  # the writer leaves ts_in_delta at 0
        cols: dict[str, Any] = {
            "ts_event": np.array([m.ts_event for m in msgs], np.int64),
            "ts_recv": np.array([m.ts_recv for m in msgs], np.int64),
            "price": np.array([m.price for m in msgs], np.int64),
            "size": np.array([m.size for m in msgs], np.uint32),
            "sequence": np.array([m.sequence for m in msgs], np.uint32),
            "action": np.array([ord(str(m.action)) for m in msgs], np.uint8),
            "side": np.array([ord(str(m.side)) for m in msgs], np.uint8),
            "flags": np.array([int(m.flags) for m in msgs], np.uint8),
            "depth": np.array([m.depth for m in msgs], np.uint8),
        }
        for lvl in range(levels):
            for side in ("bid", "ask"):
                for kind, dtype in (("px", np.int64), ("sz", np.uint32), ("ct", np.uint32)):
                    cols[f"{side}_{kind}_{lvl:02d}"] = np.array(
                        [getattr(m.levels[lvl], f"{side}_{kind}") for m in msgs], dtype
                    )
        rtype = 10 if levels == 10 else 1
        out = encode_mbp(cols, levels, rtype=rtype, publisher_id=2, instrument_id=7)
        assert out.tobytes() == b"".join(bytes(m) for m in msgs)
        # the numba kernel and its plain-Python twin agree
        twin = np.zeros_like(out)
        size = out.shape[1]
        head = np.array([(size // 4) | (rtype << 8) | (2 << 16), 7], dtype=np.uint32)
        px_names = ["price"] + [
            f"{s}_px_{lvl:02d}" for lvl in range(levels) for s in ("bid", "ask")
        ]
        int_names = ["size"] + [
            f"{s}_{k}_{lvl:02d}"
            for lvl in range(levels)
            for k in ("sz", "ct")
            for s in ("bid", "ask")
        ]
        encode_mbp_py(
            twin.view(np.int64), twin.view(np.uint32), twin, head, levels,
            np.stack([cols["ts_event"], cols["ts_recv"]]),
            np.stack([cols[c] for c in px_names]),
            np.stack([cols[c] for c in int_names]),
            np.stack([cols[c] for c in ("action", "side", "flags", "depth")]),
            cols["sequence"],
        )  # fmt: skip
        np.testing.assert_array_equal(twin, out)


# -- DBN reader against the official decoder ----------
@pytest.mark.parametrize("version", [1, 2, 3])
@pytest.mark.parametrize("levels", [10, 1])
def test_read_dbn_parity_with_official_decoder(tmp_path: Path, version: int, levels: int) -> None:
    rng = np.random.default_rng(version * 10 + levels)
    schema = dbn.Schema.MBP_10 if levels == 10 else dbn.Schema.MBP_1
    path = _dbn_file(
        tmp_path / f"f.{levels}.dbn", _messages(300, rng, levels=levels), schema=schema,
        version=version,
    )  # fmt: skip
    assert path.read_bytes()[3] == version
    vd = read_dbn(path)
    assert (vd.venue, vd.symbol) == ("XNAS", "AAPL")
    _assert_matches_official(vd, _official_records(path), levels)
    assert np.isnan(vd["bid_px_00"]).any()  # UNDEF_PRICE became NaN


def test_read_dbn_zst_equals_plain(tmp_path: Path) -> None:
    rng = np.random.default_rng(4)
    plain = _dbn_file(tmp_path / "a.dbn", _messages(100, rng))
    packed = tmp_path / "a.dbn.zst"
    cctx = zstandard.ZstdCompressor()
    data = plain.read_bytes()
    # two frames, as a concatenation of downloads would produce
    packed.write_bytes(cctx.compress(data[:1000]) + cctx.compress(data[1000:]))
    assert detect_databento_format(packed) == "dbn.zst"
    _assert_same(read_dbn(plain), read_dbn(packed))


def test_read_dbn_zst_with_skippable_frame_and_ts_out(tmp_path: Path) -> None:
    rng = np.random.default_rng(30)
    msgs = _messages(40, rng, ts_out=True)
    plain = tmp_path / "h.dbn"
    plain.write_bytes(_metadata(ts_out=True) + b"".join(bytes(m) for m in msgs))
    skippable = (0x184D2A50).to_bytes(4, "little") + (5).to_bytes(4, "little") + b"12345"
    packed = tmp_path / "h.dbn.zst"
    packed.write_bytes(skippable + zstandard.ZstdCompressor().compress(plain.read_bytes()))
    vd = read_dbn(packed)
    _assert_matches_official(vd, _official_records(plain), 10)


def test_read_dbn_live_stream_skips_other_records(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    msgs = _messages(60, rng, iids=(7, 8), ts_out=True)
    mapping = [
        dbn.SymbolMappingMsg(
            publisher_id=2, instrument_id=iid, ts_event=T0, stype_in=dbn.SType.RAW_SYMBOL,
            stype_in_symbol=sym, stype_out=dbn.SType.RAW_SYMBOL, stype_out_symbol=sym,
            start_ts=T0, end_ts=T0 + 10**12, ts_out=T0,
        )
        for iid, sym in ((7, "AAPL"), (8, "MSFT"))
    ]  # fmt: skip
    system = dbn.SystemMsg(ts_event=T0, msg="Heartbeat", ts_out=T0)
    stream = [*mapping, *msgs[:30], system, *msgs[30:], system]
    path = tmp_path / "live.dbn"
    path.write_bytes(
        _metadata(schema=None, symbols={}, ts_out=True) + b"".join(bytes(m) for m in stream)
    )
    with pytest.raises(DataFormatError, match=r"AAPL, MSFT"):
        read_dbn(path)
    vd = read_dbn(path, symbol="MSFT")
    official = [r for r in _official_records(path) if r.instrument_id == 8]
    _assert_matches_official(vd, official, 10)
    assert vd.symbol == "MSFT"


def test_read_dbn_several_instruments(tmp_path: Path) -> None:
    rng = np.random.default_rng(6)
    path = _dbn_file(
        tmp_path / "two.dbn", _messages(40, rng, iids=(7, 9)), symbols={"AAPL": 7, "MSFT": 9}
    )
    with pytest.raises(DataFormatError, match=r"several instruments \(AAPL, MSFT\)"):
        read_dbn(path)
    aapl = read_dbn(path, symbol="AAPL")
    assert aapl.symbol == "AAPL"
    _assert_matches_official(aapl, [r for r in _official_records(path) if r.instrument_id == 7], 10)
    with pytest.raises(DataFormatError, match=r"'TSLA' not in the file"):
        read_dbn(path, symbol="TSLA")


def test_read_dbn_symbol_sources(tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    msgs = _messages(5, rng)
    one = _dbn_file(tmp_path / "one.dbn", msgs)
    with pytest.raises(DataFormatError, match=r"holds 'AAPL' \(instrument_id 7\), not 'MSFT'"):
        read_dbn(one, symbol="MSFT")
    unmapped = _dbn_file(tmp_path / "none.dbn", msgs, symbols={})
    with pytest.raises(DataFormatError, match="instrument_id 7 has no symbol mapping"):
        read_dbn(unmapped)
    assert read_dbn(unmapped, symbol="IBM").symbol == "IBM"
    in_layout = _dbn_file(_layout(tmp_path, "dbn"), msgs, symbols={}, dataset="")
    vd = read_dbn(in_layout)
    assert (vd.symbol, vd.venue) == ("AAPL", "XNAS")


def test_read_dbn_venue(tmp_path: Path) -> None:
    rng = np.random.default_rng(8)
    path = _dbn_file(tmp_path / "x.dbn", _messages(5, rng), dataset="BATS.PITCH")
    assert read_dbn(path).venue == "BATS"
    assert read_dbn(path, venue="edgx").venue == "EDGX"
    no_ds = _dbn_file(tmp_path / "y.dbn", _messages(5, rng), dataset="")
    with pytest.raises(DataFormatError, match="cannot tell the venue"):
        read_dbn(no_ds)


def test_read_dbn_time_window(tmp_path: Path) -> None:
    rng = np.random.default_rng(9)
    path = _dbn_file(tmp_path / "w.dbn", _messages(200, rng))
    full = read_dbn(path)
    lo, hi = int(full.ts_event[50]), int(full.ts_event[120])
    _assert_same(read_dbn(path, start_ns=lo, end_ns=hi), full.between(lo, hi))
    assert len(read_dbn(path, start_ns=lo, end_ns=hi)) == 71  # both ends inclusive
    _assert_same(read_dbn(path, end_ns=hi), full.between(None, hi))


def test_read_dbn_time_window_unsorted_uses_mask(tmp_path: Path) -> None:
    rng = np.random.default_rng(10)
    msgs = _messages(100, rng)
    msgs = [msgs[i] for i in rng.permutation(100)]  # ts_event out of order
    path = _dbn_file(tmp_path / "u.dbn", msgs)
    full = read_dbn(path)
    lo, hi = int(np.quantile(full.ts_event, 0.3)), int(np.quantile(full.ts_event, 0.6))
    keep = (full.ts_event >= lo) & (full.ts_event <= hi)
    _assert_same(read_dbn(path, start_ns=lo, end_ns=hi), full.take(keep))


# -- writers and round trips ----------
@pytest.mark.parametrize("ext", ["dbn", "dbn.zst", "parquet", "csv", "csv.zst"])
@pytest.mark.parametrize("levels", [10, 1])
def test_round_trip_every_format(tmp_path: Path, ext: str, levels: int) -> None:
    rng = np.random.default_rng(11)
    vd = _venue(400, rng, levels=levels)
    schema = "mbp-10" if levels == 10 else "mbp-1"
    path = write_venue(vd, _layout(tmp_path, ext, schema))
    assert path.exists()
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temp file left
    back = read_databento(path)
    _assert_same(vd.take(slice(None)), back)
    lo, hi = int(vd.ts_event[100]), int(vd.ts_event[250])
    _assert_same(read_databento(path, start_ns=lo, end_ns=hi), vd.between(lo, hi))


@pytest.mark.parametrize("ext", ["dbn", "dbn.zst"])
def test_written_dbn_decodes_with_official_decoder(tmp_path: Path, ext: str) -> None:
    rng = np.random.default_rng(12)
    vd = _venue(150, rng)
    path = write_venue(vd, tmp_path / f"out.{ext}", dataset="XNAS.ITCH")
    compression = dbn.Compression.ZSTD if ext.endswith("zst") else dbn.Compression.NONE
    dec = dbn.DBNDecoder(compression=compression)
    out = dec.write_and_decode(path.read_bytes())
    md, recs = out[0], out[1:]
    assert isinstance(md, dbn.Metadata)
    assert (md.dataset, md.schema, md.symbols) == ("XNAS.ITCH", "mbp-10", ["AAPL"])
    _assert_matches_official(vd, recs, 10)


def test_write_pads_levels_and_counts(tmp_path: Path) -> None:
    rng = np.random.default_rng(13)
    full = _venue(50, rng, levels=3)
    cols = {k: v for k, v in full.columns.items() if "_ct_" not in k}
    vd = VenueData(venue="XNAS", symbol="AAPL", columns=cols)
    back = read_dbn(write_venue(vd, tmp_path / "p.dbn"))
    assert back.levels == 10
    np.testing.assert_array_equal(back["bid_px_02"], vd["bid_px_02"])
    assert np.isnan(back["ask_px_09"]).all()
    assert (back["bid_ct_00"] == 0).all()
    assert (back["ask_sz_05"] == 0).all()


def test_status_column_kept_in_parquet_warned_in_dbn(tmp_path: Path) -> None:
    rng = np.random.default_rng(14)
    status = np.zeros(30, dtype=np.uint8)
    status[10:20] = 1
    vd = _venue(30, rng, status=status)
    back = read_mbp_parquet(write_venue(vd, tmp_path / "s.parquet"), venue="XNAS")
    np.testing.assert_array_equal(back["status"], status)
    with pytest.warns(DataQualityWarning, match="10 non-zero of 30 rows"):
        write_venue(vd, tmp_path / "s.dbn")


def test_write_errors_leave_no_file(tmp_path: Path) -> None:
    rng = np.random.default_rng(15)
    vd = _venue(10, rng)
    bad = dict(vd.columns)
    bad["size"] = np.full(10, 2**40)
    bad_vd = VenueData(venue="XNAS", symbol="AAPL", columns=bad)
    for ext in ("dbn", "parquet", "csv"):
        with pytest.raises(DataFormatError, match=r"column 'size' row 0 .* outside"):
            write_venue(bad_vd, tmp_path / "out" / f"x.{ext}")
    assert list((tmp_path / "out").iterdir()) == [] if (tmp_path / "out").exists() else True
    with pytest.raises(DataFormatError, match="unknown extension"):
        write_venue(vd, tmp_path / "x.feather")
    target = tmp_path / "keep.dbn"
    write_venue(vd, target)
    before = target.read_bytes()
    with pytest.raises(DataFormatError):
        write_venue(bad_vd, target)
    assert target.read_bytes() == before  # atomic: the old file is untouched


def test_write_is_atomic_when_writing_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import myopic_sor.data._databento as mod

    rng = np.random.default_rng(29)
    vd = _venue(20, rng)
    target = write_venue(vd, tmp_path / "keep.dbn.zst")
    before = target.read_bytes()

    def half_then_fail(parts: Any, fh: Any, level: int = 3) -> None:
        fh.write(bytes(parts[0])[:100])
        raise OSError("disk full")

    monkeypatch.setattr(mod, "zstd_compress", half_then_fail)
    with pytest.raises(OSError, match="disk full"):
        write_venue(_venue(30, rng), target)
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["keep.dbn.zst"]  # temp file removed


# -- Parquet ----------
def _databento_frame(vd: VenueData, *, fixed: bool) -> pd.DataFrame:
    """The frame ``DBNStore.to_df()`` gives (ts_recv as the index)."""
    n = len(vd)
    data: dict[str, Any] = {
        "ts_event": vd["ts_event"].astype(np.uint64)
        if fixed
        else pd.to_datetime(vd["ts_event"], unit="ns", utc=True),
        "rtype": np.full(n, 10, np.uint8),
        "publisher_id": np.full(n, 2, np.uint16),
        "instrument_id": np.full(n, 7, np.uint32),
        "action": vd["action"].view("S1").astype(str),
        "side": vd["side"].view("S1").astype(str),
        "depth": vd["depth"],
        "price": vd["price"],
        "size": vd["size"].astype(np.uint32),
        "flags": vd["flags"],
        "ts_in_delta": np.zeros(n, np.int32),
        "sequence": vd["sequence"].astype(np.uint32),
    }
    for lvl in range(vd.levels):
        for side in ("bid", "ask"):
            data[f"{side}_px_{lvl:02d}"] = vd[f"{side}_px_{lvl:02d}"]
        for kind in ("sz", "ct"):
            for side in ("bid", "ask"):
                data[f"{side}_{kind}_{lvl:02d}"] = vd[f"{side}_{kind}_{lvl:02d}"].astype(np.uint32)
    if fixed:
        for name in [c for c in data if c == "price" or "_px_" in c]:
            px = np.asarray(data[name])
            ints = np.rint(np.nan_to_num(px) * 1e9).astype(np.int64)
            ints[np.isnan(px)] = UNDEF
            data[name] = ints
    data["symbol"] = np.full(n, vd.symbol, dtype=object)
    index = (
        pd.Index(vd["ts_recv"].astype(np.uint64), name="ts_recv")
        if fixed
        else pd.DatetimeIndex(pd.to_datetime(vd["ts_recv"], unit="ns", utc=True), name="ts_recv")
    )
    return pd.DataFrame(data, index=index)


@pytest.mark.parametrize("fixed", [False, True])
def test_read_databento_exported_parquet(tmp_path: Path, fixed: bool) -> None:
    rng = np.random.default_rng(16)
    vd = _venue(300, rng)
    df = _databento_frame(vd, fixed=fixed)
    path = tmp_path / "AAPL" / "xnas-itch-20250402.mbp-10.parquet"
    path.parent.mkdir()
    pq.write_table(pa.Table.from_pandas(df), path)  # as DBNStore.to_parquet does
    schema = pq.read_schema(path)
    assert schema.names[-1] == "ts_recv"  # the index, stored last
    _assert_same(read_mbp_parquet(path), vd)
    lo, hi = int(vd.ts_event[10]), int(vd.ts_event[200])
    _assert_same(read_mbp_parquet(path, start_ns=lo, end_ns=hi), vd.between(lo, hi))
    # an unnamed index (to_df().reset_index(drop=True) is not used by Databento, but pandas
    # users write it) is taken as ts_recv when there is no ts_recv column
    unnamed = tmp_path / "AAPL" / "xnas-itch-20250403.mbp-10.parquet"
    pq.write_table(pa.Table.from_pandas(df.rename_axis(None)), unnamed)
    assert "__index_level_0__" in pq.read_schema(unnamed).names
    _assert_same(read_mbp_parquet(unnamed), vd)


def test_parquet_window_pushdown_prunes_row_groups(tmp_path: Path) -> None:
    rng = np.random.default_rng(17)
    vd = _venue(250_001, rng, levels=1)
    path = write_venue(vd, _layout(tmp_path, "parquet", "mbp-1"))
    meta = pq.ParquetFile(path).metadata
    assert meta.num_row_groups == 3
    lo, hi = int(vd.ts_event[120_000]), int(vd.ts_event[130_000])
    col = pads.field("ts_event")
    ts_type = pa.timestamp("ns", tz="UTC")
    expr = (col >= pa.scalar(lo, pa.int64()).cast(ts_type)) & (
        col <= pa.scalar(hi, pa.int64()).cast(ts_type)
    )
    fragment = next(iter(pads.dataset(path).get_fragments()))
    assert len(fragment.split_by_row_group(expr)) == 1  # statistics prune 2 of 3 groups
    got = read_mbp_parquet(path, start_ns=lo, end_ns=hi)
    _assert_same(got, vd.between(lo, hi))
    assert len(got) == 10_001


# -- CSV -------------------------------------------------------------
@pytest.mark.parametrize("pretty_px", [True, False])
@pytest.mark.parametrize("pretty_ts", [True, False])
@pytest.mark.parametrize("levels", [10, 1])
def test_read_official_csv_variants(
    tmp_path: Path, pretty_px: bool, pretty_ts: bool, levels: int
) -> None:
    rng = np.random.default_rng(18)
    schema = dbn.Schema.MBP_10 if levels == 10 else dbn.Schema.MBP_1
    path = _dbn_file(tmp_path / "src.dbn", _messages(200, rng, levels=levels), schema=schema)
    out = io.BytesIO()
    tc = dbn.Transcoder(
        out, dbn.Encoding.CSV, dbn.Compression.NONE, pretty_px=pretty_px, pretty_ts=pretty_ts,
        map_symbols=True,
    )  # fmt: skip
    tc.write(path.read_bytes())
    tc.flush()
    csv = tmp_path / "out.csv"
    csv.write_bytes(out.getvalue())
    first_row = out.getvalue().split(b"\n")[1].decode()
    assert ("T13:" in first_row) is pretty_ts
    got = read_mbp_csv(csv, venue="XNAS")
    _assert_same(got, read_dbn(path))


def test_read_official_csv_zst(tmp_path: Path) -> None:
    rng = np.random.default_rng(19)
    path = _dbn_file(tmp_path / "src.dbn", _messages(50, rng))
    out = io.BytesIO()
    tc = dbn.Transcoder(out, dbn.Encoding.CSV, dbn.Compression.ZSTD, map_symbols=True)
    tc.write(path.read_bytes())
    tc.flush()
    del tc  # the zstd frame is finished when the transcoder is dropped
    csv = _layout(tmp_path, "csv.zst")
    csv.parent.mkdir()
    csv.write_bytes(out.getvalue())
    assert detect_databento_format(csv) == "csv.zst"
    _assert_same(read_mbp_csv(csv), read_dbn(path))


def test_csv_pretty_timestamps_exact_to_the_ns(tmp_path: Path) -> None:
    rng = np.random.default_rng(20)
    vd = _venue(3, rng, levels=1)
    path = write_venue(vd, tmp_path / "AAPL" / "xnas-itch-20250402.mbp-1.csv")
    lines = path.read_text().splitlines()
    header = lines[0].split(",")
    rows = [r.split(",") for r in lines[1:]]
    rows[0][header.index("ts_event")] = "2025-04-02T13:30:00.000123456Z"
    rows[0][header.index("ts_recv")] = "2025-04-02T13:30:00.999999999Z"
    for r in rows[1:]:
        for name in ("ts_event", "ts_recv"):
            r[header.index(name)] = (
                pd.Timestamp(int(r[header.index(name)]), tz="UTC").strftime("%Y-%m-%dT%H:%M:%S.%f")
                + f"{int(r[header.index(name)]) % 1000:03d}Z"
            )
    path.write_text("\n".join([",".join(header)] + [",".join(r) for r in rows]) + "\n")
    got = read_mbp_csv(path)
    assert int(got["ts_event"][0]) == T0 + 123_456
    assert int(got["ts_recv"][0]) == T0 + 999_999_999
    np.testing.assert_array_equal(got["ts_event"][1:], vd["ts_event"][1:])


def test_csv_mixed_symbols(tmp_path: Path) -> None:
    rng = np.random.default_rng(21)
    path = write_venue(_venue(20, rng, levels=1), tmp_path / "m.csv")
    text = path.read_text().splitlines()
    text = [text[0]] + [
        line.rsplit(",", 1)[0] + (",MSFT" if i % 2 else ",AAPL") for i, line in enumerate(text[1:])
    ]
    path.write_text("\n".join(text) + "\n")
    with pytest.raises(DataFormatError, match=r"several symbols \(AAPL, MSFT\).*symbol="):
        read_mbp_csv(path, venue="XNAS")
    msft = read_mbp_csv(path, venue="XNAS", symbol="MSFT")
    assert (msft.symbol, len(msft)) == ("MSFT", 10)


# -- bad inputs ----------
@pytest.mark.parametrize("reader", [read_dbn, read_mbp_parquet, read_mbp_csv, read_databento])
def test_missing_file(tmp_path: Path, reader: Any) -> None:
    with pytest.raises(DataNotFoundError, match=r"nope\.dbn: no such file"):
        reader(tmp_path / "nope.dbn")


@pytest.mark.parametrize("ext", ["dbn", "dbn.zst", "parquet", "csv", "csv.zst"])
def test_empty_file(tmp_path: Path, ext: str) -> None:
    path = tmp_path / f"e.{ext}"
    path.write_bytes(b"")
    with pytest.raises(DataFormatError, match=r"empty file \(0 bytes\)"):
        read_databento(path)


def test_unknown_extension(tmp_path: Path) -> None:
    path = tmp_path / "data.feather"
    path.write_bytes(b"x")
    with pytest.raises(DataFormatError, match=r"unknown extension.*\.dbn\.zst"):
        detect_databento_format(path)


def test_csv_header_only(tmp_path: Path) -> None:
    path = tmp_path / "h.csv"
    path.write_text("ts_recv,ts_event,action,side,price,size,bid_px_00,ask_px_00\n")
    with pytest.raises(DataFormatError, match="no rows"):
        read_mbp_csv(path, venue="XNAS", symbol="AAPL")


def test_missing_column_is_named(tmp_path: Path) -> None:
    rng = np.random.default_rng(22)
    vd = _venue(10, rng, levels=1)
    csv = write_venue(vd, tmp_path / "c.csv")
    lines = csv.read_text().splitlines()
    header = lines[0].split(",")
    drop = header.index("ask_sz_00")
    csv.write_text(
        "\n".join(",".join(x for j, x in enumerate(r.split(",")) if j != drop) for r in lines)
    )
    with pytest.raises(DataFormatError, match="missing required column 'ask_sz_00'"):
        read_mbp_csv(csv, venue="XNAS")
    pqt = write_venue(vd, tmp_path / "c.parquet")
    table = pq.read_table(pqt).drop_columns(["side"])
    pq.write_table(table, pqt)
    with pytest.raises(DataFormatError, match="missing required column 'side'"):
        read_mbp_parquet(pqt, venue="XNAS")


@pytest.mark.parametrize("fixed_px", [True, False])
def test_non_numeric_price_names_column_and_row(tmp_path: Path, fixed_px: bool) -> None:
    rng = np.random.default_rng(23)
    vd = _venue(40, rng, levels=1)
    path = write_venue(vd, tmp_path / "n.csv")
    lines = path.read_text().splitlines()
    header = lines[0].split(",")
    col = header.index("bid_px_00")
    rows = [r.split(",") for r in lines[1:]]
    if not fixed_px:
        for r in rows:
            v = int(r[col])
            r[col] = "" if v == UNDEF else f"{v / 1e9:.9f}"
    rows[29][col] = "abc"
    path.write_text("\n".join([lines[0]] + [",".join(r) for r in rows]) + "\n")
    with pytest.raises(DataFormatError, match=r"column 'bid_px_00' row 29 \(line 31\) holds 'abc'"):
        read_mbp_csv(path, venue="XNAS")


@pytest.mark.parametrize(
    ("schema", "msg"),
    [
        (
            dbn.Schema.TRADES,
            dbn.TradeMsg(
                publisher_id=2, instrument_id=7, ts_event=T0, price=10**11, size=1,
                action=dbn.Action.TRADE, side=dbn.Side.BID, depth=0, ts_recv=T0,
            ),
        ),
        (
            dbn.Schema.MBO,
            dbn.MBOMsg(
                publisher_id=2, instrument_id=7, ts_event=T0, order_id=1, price=10**11, size=1,
                channel_id=0, action=dbn.Action.ADD, side=dbn.Side.BID, ts_recv=T0,
            ),
        ),
    ],
)  # fmt: skip
def test_dbn_other_schema(tmp_path: Path, schema: Any, msg: Any) -> None:
    path = tmp_path / "t.dbn"
    path.write_bytes(_metadata(schema=schema) + bytes(msg) * 3)
    with pytest.raises(DataFormatError, match=rf"schema '{schema}' is not supported.*'mbp-10'"):
        read_dbn(path)


def test_truncated_dbn_names_offset(tmp_path: Path) -> None:
    rng = np.random.default_rng(24)
    path = _dbn_file(tmp_path / "t.dbn", _messages(10, rng))
    data = path.read_bytes()
    md_len = len(_metadata())
    path.write_bytes(data[:-100])
    offset = md_len + 9 * 368
    with pytest.raises(
        DataFormatError, match=rf"truncated or corrupt DBN at byte {offset}.*9 comp"
    ):
        read_dbn(path)
    path.write_bytes(data[:20])
    with pytest.raises(DataFormatError, match="truncated DBN metadata"):
        read_dbn(path)


def test_corrupt_and_truncated_zstd(tmp_path: Path) -> None:
    rng = np.random.default_rng(25)
    raw = _metadata() + b"".join(bytes(m) for m in _messages(30, rng))
    packed = zstandard.ZstdCompressor(write_checksum=True).compress(raw)
    path = tmp_path / "z.dbn.zst"
    path.write_bytes(packed[: len(packed) // 2])
    with pytest.raises(DataFormatError, match="truncated or corrupt zstd stream"):
        read_dbn(path)
    broken = bytearray(packed)
    broken[len(broken) // 2 : len(broken) // 2 + 40] = b"\xff" * 40
    path.write_bytes(bytes(broken))
    with pytest.raises(DataFormatError, match="corrupt zstd data"):
        read_dbn(path)


def test_truncated_and_corrupt_parquet(tmp_path: Path) -> None:
    rng = np.random.default_rng(26)
    path = write_venue(_venue(50, rng), tmp_path / "t.parquet")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(DataFormatError, match="truncated or corrupt Parquet"):
        read_mbp_parquet(path)
    path.write_bytes(b"not parquet at all")
    with pytest.raises(DataFormatError, match="not a Parquet file"):
        read_mbp_parquet(path)


def test_parquet_of_trades_rtype(tmp_path: Path) -> None:
    rng = np.random.default_rng(27)
    path = write_venue(_venue(5, rng, levels=1), tmp_path / "r.parquet")
    table = pq.read_table(path)
    idx = table.column_names.index("rtype")
    table = table.set_column(idx, "rtype", pa.array(np.zeros(5, np.uint8)))
    pq.write_table(table, path)
    with pytest.raises(DataFormatError, match=r"rtype \[0\] \(mbp-0\) is not supported"):
        read_mbp_parquet(path, venue="XNAS")


def test_detect_format_checks_content(tmp_path: Path) -> None:
    rng = np.random.default_rng(28)
    vd = _venue(5, rng)
    plain = write_venue(vd, tmp_path / "a.dbn")
    misnamed = tmp_path / "b.dbn.zst"
    misnamed.write_bytes(plain.read_bytes())
    assert detect_databento_format(misnamed) == "dbn"
    _assert_same(read_dbn(misnamed, venue="XNAS"), read_dbn(plain))
    csv = tmp_path / "c.dbn"
    csv.write_text("ts_recv,ts_event\n1,2\n")
    with pytest.raises(DataFormatError, match="not a DBN file"):
        detect_databento_format(csv)
    with pytest.raises(DataFormatError, match=r"not a DBN stream \(starts with b'ts_recv,'"):
        read_dbn(csv)


def test_a_file_of_several_publishers_is_refused(tmp_path: Path) -> None:
    # a multi-publisher export interleaves several venues' books: never merged into one venue
    rng = np.random.default_rng(17)
    df = _databento_frame(_venue(40, rng), fixed=True)
    df["publisher_id"] = np.where(np.arange(40) % 2 == 0, 2, 39).astype(np.uint16)
    path = tmp_path / "AAPL" / "dbeq-basic-20250402.mbp-10.parquet"
    path.parent.mkdir()
    pq.write_table(pa.Table.from_pandas(df), path)
    with pytest.raises(DataFormatError, match=r"2 publishers \(publisher_id 2, 39\).*split it"):
        read_mbp_parquet(path)


def test_parquet_levels_share_one_block_per_side_and_kind(tmp_path: Path) -> None:
    # each side's levels of one kind are the rows of one block: the replay reads them as one
    # 2-D view (its fast path), and the values are the file's
    from myopic_sor.simulation._replay import _levels

    rng = np.random.default_rng(18)
    vd = _venue(50, rng)
    back = read_mbp_parquet(write_venue(vd, tmp_path / "b.parquet"), venue="XNAS")
    _assert_same(back, vd)
    for kind in ("px", "sz", "ct"):
        for side in ("bid", "ask"):
            cols = [back[f"{side}_{kind}_{lvl:02d}"] for lvl in range(back.levels)]
            view = _levels(cols)
            assert isinstance(view, np.ndarray), (kind, side)
            assert view.shape == (back.levels, 50)
            np.testing.assert_array_equal(view, np.vstack(cols))
