"""The spec's on-disk layout: ``<data_path>/<STOCK>/<dataset>-<YYYYMMDD>.mbp-10.<ext>``.

One file per venue; the venue is named from the dataset (``xnas-itch`` → ``XNAS``), as Databento
names datasets (``XNAS.ITCH``, ``BATS.PITCH``, ``ARCX.PILLAR``, ...).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from myopic_sor._typing import PathLike
from myopic_sor.exceptions import DataNotFoundError

__all__ = [
    "DATASET_OF_VENUE",
    "LAYOUT_EXTENSIONS",
    "LayoutFile",
    "dataset_to_venue",
    "discover",
    "layout_path",
    "parse_layout_name",
    "venue_to_dataset",
]

#: Extensions the layout accepts, longest first so ``.dbn.zst`` wins over ``.zst``.
LAYOUT_EXTENSIONS: Final = ("dbn.zst", "csv.zst", "parquet", "csv", "dbn")

#: Databento dataset of common US equity venues (used when writing synthetic data).
DATASET_OF_VENUE: Final = {
    "XNAS": "XNAS.ITCH",
    "XBOS": "XBOS.ITCH",
    "XPSX": "XPSX.ITCH",
    "BATS": "BATS.PITCH",
    "BATY": "BATY.PITCH",
    "EDGA": "EDGA.PITCH",
    "EDGX": "EDGX.PITCH",
    "XNYS": "XNYS.PILLAR",
    "ARCX": "ARCX.PILLAR",
    "XASE": "XASE.PILLAR",
    "XCHI": "XCHI.PILLAR",
    "XCIS": "XCIS.PILLAR",
    "IEXG": "IEXG.TOPS",
    "MEMX": "MEMX.MEMOIR",
    "EPRL": "EPRL.DOM",
}

_NAME_RE: Final = re.compile(
    r"^(?P<dataset>[a-z0-9]+(?:-[a-z0-9]+)?)-(?P<date>\d{8})\.(?P<schema>mbp-10|mbp-1)\."
    r"(?P<ext>dbn\.zst|csv\.zst|parquet|csv|dbn)$"
)


def dataset_to_venue(dataset: str) -> str:
    """Venue name of a Databento dataset: ``"xnas-itch"`` or ``"XNAS.ITCH"`` → ``"XNAS"``."""
    return re.split(r"[.\-]", dataset.strip())[0].upper()


def venue_to_dataset(venue: str) -> str:
    """Databento dataset of a venue (``"XNAS"`` → ``"XNAS.ITCH"``); unknown venues get ``.MBP``."""
    return DATASET_OF_VENUE.get(venue.upper(), f"{venue.upper()}.MBP")


def layout_path(
    data_path: PathLike,
    stock: str,
    venue_or_dataset: str,
    day: dt.date,
    *,
    ext: str = "parquet",
    schema: str = "mbp-10",
) -> Path:
    """Path of one venue-day file in the spec's layout.

    Examples
    --------
    >>> import datetime as dt
    >>> layout_path("data", "AAPL", "XNAS", dt.date(2025, 4, 2)).as_posix()
    'data/AAPL/xnas-itch-20250402.mbp-10.parquet'
    """
    dataset = venue_or_dataset if "." in venue_or_dataset else venue_to_dataset(venue_or_dataset)
    stem = dataset.lower().replace(".", "-")
    return Path(data_path) / stock.upper() / f"{stem}-{day:%Y%m%d}.{schema}.{ext.lstrip('.')}"


@dataclass(frozen=True, slots=True)
class LayoutFile:
    """One file found in the layout."""

    path: Path
    stock: str
    dataset: str
    venue: str
    date: dt.date
    schema: str
    ext: str


def parse_layout_name(path: PathLike) -> LayoutFile | None:
    """Parse a layout file name; return None when the name does not follow the layout."""
    p = Path(path)
    m = _NAME_RE.match(p.name.lower())
    if m is None:
        return None
    try:
        day = dt.datetime.strptime(m["date"], "%Y%m%d").date()
    except ValueError:
        return None
    return LayoutFile(
        path=p,
        stock=p.parent.name.upper(),
        dataset=m["dataset"],
        venue=dataset_to_venue(m["dataset"]),
        date=day,
        schema=m["schema"],
        ext=m["ext"],
    )


def discover(
    data_path: PathLike, stock: str | None = None, day: dt.date | None = None
) -> list[LayoutFile]:
    """Find venue files in the layout, optionally for one stock and/or one day.

    ``data_path`` may be the root (``<data_path>/<STOCK>/...``) or a stock folder itself.
    When a venue has the same day in several formats, the first of :data:`LAYOUT_EXTENSIONS`
    order (DBN zst, CSV zst, Parquet, CSV, DBN) is taken.

    Raises
    ------
    DataNotFoundError
        When the folder does not exist or holds no matching file (the message says what was
        looked for and the expected name pattern).
    """
    root = Path(data_path)
    if not root.is_dir():
        raise DataNotFoundError(f"{root}: no such directory; expected <data_path>/<STOCK>/")
    folders: list[Path]
    if stock is not None and (root / stock.upper()).is_dir():
        folders = [root / stock.upper()]
    elif stock is not None and root.name.upper() == stock.upper():
        folders = [root]
    elif stock is None:
        folders = [root, *sorted(p for p in root.iterdir() if p.is_dir())]
    else:
        raise DataNotFoundError(
            f"{root}: no folder {stock.upper()!r}; expected {root}/{stock.upper()}/"
            "<dataset>-<YYYYMMDD>.mbp-10.<parquet|csv|dbn|dbn.zst>"
        )
    chosen: dict[tuple[str, str, dt.date], LayoutFile] = {}
    for folder in folders:
        for f in sorted(folder.iterdir()):
            lf = parse_layout_name(f)
            if lf is None or not f.is_file() or (day is not None and lf.date != day):
                continue
            key = (lf.stock, lf.venue, lf.date)
            prev = chosen.get(key)
            if prev is None or LAYOUT_EXTENSIONS.index(lf.ext) < LAYOUT_EXTENSIONS.index(prev.ext):
                chosen[key] = lf
    if not chosen:
        what = f" for {stock.upper()}" if stock else ""
        when = f" on {day:%Y-%m-%d} ({day:%Y%m%d})" if day else ""
        raise DataNotFoundError(
            f"{root}: no market data files{what}{when}; expected names like "
            "<STOCK>/xnas-itch-20250402.mbp-10.parquet (generate some with "
            "`myopic-sor generate-data`)"
        )
    return sorted(chosen.values(), key=lambda lf: (lf.stock, lf.date, lf.venue))
