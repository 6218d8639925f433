"""Orders files (the ``simulate`` command's input) and simulate_orders on a hand-made book."""

from __future__ import annotations

from pathlib import Path

import pytest
from _books import S, one_venue, row, trade

from myopic_sor.exceptions import DataFormatError, DataNotFoundError, DataValidationError
from myopic_sor.simulation import OrderSpec, Side, read_orders, simulate_orders

HEADER = "ts,venue,side,type,price,size,cancel_after_s,catch_up"


def _write(tmp_path: Path, *lines: str, name: str = "orders.csv") -> Path:
    p = tmp_path / name
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return p


def test_read_orders_accepts_every_documented_form(tmp_path: Path) -> None:
    p = _write(
        tmp_path,
        "\ufeff" + HEADER,
        "1970-01-01T00:00:01Z,XNAS,buy,market,,300,,",
        "",
        "1970-01-01T01:00:02+01:00,XNAS,SELL,Limit,10.01,200,2.5,true",
        "3000000000,XNAS,-1,limit,10.02,100,,false",
    )
    got = read_orders(p)
    assert got == (
        OrderSpec(1 * S, "XNAS", Side.BUY, "market", 300, line=2),
        OrderSpec(2 * S, "XNAS", Side.SELL, "limit", 200, 10.01, 2_500_000_000, True, line=4),
        OrderSpec(3 * S, "XNAS", Side.SELL, "limit", 100, 10.02, line=5),
    )
    only_required = _write(tmp_path, "ts,venue,side,type,price,size", "1,XNAS,buy,market,,1",
                           name="b.csv")  # fmt: skip
    assert read_orders(only_required)[0].size == 1
    assert read_orders(_write(tmp_path, HEADER, name="c.csv")) == ()


@pytest.mark.parametrize(
    ("line", "column", "fix"),
    [
        ("2025-04-02T10:00:00,XNAS,buy,market,,1,,", "ts", "time zone"),
        ("yesterday,XNAS,buy,market,,1,,", "ts", "ISO-8601"),
        (",XNAS,buy,market,,1,,", "ts", "ISO-8601"),
        ("1,,buy,market,,1,,", "venue", "venue name"),
        ("1,XNAS,hold,market,,1,,", "side", "buy or sell"),
        ("1,XNAS,buy,stop,,1,,", "type", "market or limit"),
        ("1,XNAS,buy,market,,0,,", "size", "shares"),
        ("1,XNAS,buy,market,,1.5,,", "size", "shares"),
        ("1,XNAS,buy,market,10.0,1,,", "price", "empty for market orders"),
        ("1,XNAS,buy,limit,,1,,", "price", "limit price"),
        ("1,XNAS,buy,limit,-3,1,,", "price", "limit price > 0"),
        ("1,XNAS,buy,market,,1,5,", "cancel_after_s", "empty for market orders"),
        ("1,XNAS,buy,limit,9.9,1,0,", "cancel_after_s", "> 0"),
        ("1,XNAS,buy,limit,9.9,1,x,", "cancel_after_s", "seconds"),
        ("1,XNAS,buy,limit,9.9,1,,true", "catch_up", "cancel_after_s"),
        ("1,XNAS,buy,limit,9.9,1,5,maybe", "catch_up", "true or false"),
    ],
)
def test_bad_rows_name_file_line_column_and_fix(
    tmp_path: Path, line: str, column: str, fix: str
) -> None:
    p = _write(tmp_path, HEADER, "1,XNAS,buy,market,,1,,", line)
    with pytest.raises(DataFormatError) as info:
        read_orders(p)
    msg = str(info.value)
    assert str(p) in msg
    assert "line 3" in msg
    assert f"column {column!r}" in msg
    assert fix in msg


def test_bad_files(tmp_path: Path) -> None:
    with pytest.raises(DataNotFoundError, match="not found"):
        read_orders(tmp_path / "nope.csv")
    with pytest.raises(DataFormatError, match="empty file"):
        read_orders(_write(tmp_path, ""))
    with pytest.raises(DataFormatError, match="missing column"):
        read_orders(_write(tmp_path, "ts,venue,side,price,size"))
    with pytest.raises(DataFormatError, match="unknown column"):
        read_orders(_write(tmp_path, HEADER + ",comment"))
    with pytest.raises(DataFormatError, match="line 2: 3 fields"):
        read_orders(_write(tmp_path, HEADER, "1,XNAS,buy"))
    p = tmp_path / "latin.csv"
    p.write_bytes(HEADER.encode() + b"\n1,X\xe9NAS,buy,market,,1,,\n")
    with pytest.raises(DataFormatError, match="UTF-8"):
        read_orders(p)


def test_simulate_orders_on_a_hand_made_book(tmp_path: Path) -> None:
    md = one_venue([row(0.0), trade(2.0, 9.99, 350), row(30.0)])
    p = _write(
        tmp_path,
        HEADER,
        "1000000000,XNAS,buy,limit,9.99,100,20,true",  # 50 by the queue, 50 caught up
        "500000000,XNAS,buy,market,,250,,",  # sent first in time: 200 @ 10.01, 50 @ 10.02
    )
    f = simulate_orders(md, read_orders(p), fees=0.003, rebates=0.002)
    assert f["order_id"].tolist() == [0, 0, 1, 1]  # ids in time order
    assert f["ts_event"].tolist() == [S // 2, S // 2, 2 * S, 21 * S]
    assert f["size"].tolist() == [200, 50, 50, 50]
    # the catch-up pays 10.02: the 10.01 ask still shows the 200 our market order took
    # (its recorded size never changed), so that liquidity is still gone
    assert f["price"].tolist() == [10.01, 10.02, 9.99, 10.02]
    assert f["liquidity"].tolist() == ["taker", "taker", "maker", "taker"]
    assert f["catch_up"].tolist() == [False, False, False, True]
    assert f["fee"].tolist() == pytest.approx([0.6, 0.15, -0.1, 0.15])
    bad = (OrderSpec(S, "BATS", Side.BUY, "market", 1, line=7),)
    with pytest.raises(DataValidationError, match="line 7: order on unknown venue 'BATS'"):
        simulate_orders(md, bad)
