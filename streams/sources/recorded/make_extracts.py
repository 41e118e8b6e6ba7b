"""Regenerate the small recorded-data extracts shipped in this folder.

Run by hand from the repository root (the product never runs it and never reads the
full data sets at run time)::

    .venv/bin/python streams/sources/recorded/make_extracts.py [--data ../shared/data]

What it writes (gzipped, rows copied **byte for byte** from the originals, only cut to a
time window, so column names, number formatting and ``NA`` markers are the upstream
ones):

- ``nab/data/realTraffic/<file>.csv.gz`` - the 7 NAB realTraffic series from
  2015-08-31 00:00 (their last 17 days; every file ends on 2015-09-17).
- ``nab/data/realKnownCause/nyc_taxi.csv.gz`` - 2014-10-20 .. 2014-11-30 (NYC marathon
  and Thanksgiving anomaly windows inside).
- ``beijing_air/PRSA_Data_<site>_20130301-20170228.csv.gz`` - all 12 sites,
  2015-12-01 00:00 .. 2015-12-28 23:00 (the December 2015 heavy-smog episodes). The file
  name is the upstream one; the content is the window only.
- ``batadal/BATADAL_dataset04.csv.gz`` - 2016-09-10 00 .. 2016-10-14 23 (attacks 1-3).
- ``tep/d00_te.csv.gz`` and ``tep/d06_te.csv.gz`` - complete (960 rows each); the
  whitespace-separated ``.dat`` numbers are written unchanged as CSV cells under a
  header ``XMEAS(1)..XMEAS(41),XMV(1)..XMV(11)``.

Licences and attribution: ``ATTRIBUTION.md`` next to this script (NAB's MIT licence
is copied to ``nab/LICENSE.txt``).
"""

from __future__ import annotations

import argparse
import gzip
import shutil
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_DATA = HERE.parents[2].parent / "shared" / "data"

NAB_TRAFFIC = (
    "TravelTime_387",
    "TravelTime_451",
    "occupancy_6005",
    "occupancy_t4013",
    "speed_6005",
    "speed_7578",
    "speed_t4013",
)
BEIJING_SITES = (
    "Aotizhongxin",
    "Changping",
    "Dingling",
    "Dongsi",
    "Guanyuan",
    "Gucheng",
    "Huairou",
    "Nongzhanguan",
    "Shunyi",
    "Tiantan",
    "Wanliu",
    "Wanshouxigong",
)
TEP_FILES = ("d00_te", "d06_te")
TEP_HEADER = [f"XMEAS({i})" for i in range(1, 42)] + [f"XMV({i})" for i in range(1, 12)]


def _write_gz(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # mtime=0 keeps the gzip bytes reproducible run to run
    with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz:
        gz.write(data)


def _cut_lines(src: Path, keep) -> bytes:  # type: ignore[no-untyped-def]
    lines = src.read_bytes().splitlines(keepends=True)
    return lines[0] + b"".join(line for line in lines[1:] if keep(line))


def nab(data: Path, out: Path) -> None:
    for name in NAB_TRAFFIC:
        body = _cut_lines(
            data / "nab/data/realTraffic" / f"{name}.csv",
            lambda ln: ln[:19] >= b"2015-08-31 00:00:00",
        )
        _write_gz(out / "nab/data/realTraffic" / f"{name}.csv.gz", body)
    body = _cut_lines(
        data / "nab/data/realKnownCause/nyc_taxi.csv",
        lambda ln: b"2014-10-20 00:00:00" <= ln[:19] < b"2014-12-01 00:00:00",
    )
    _write_gz(out / "nab/data/realKnownCause/nyc_taxi.csv.gz", body)
    shutil.copyfile(data / "nab/LICENSE.txt", out / "nab/LICENSE.txt")


def beijing(data: Path, out: Path) -> None:
    def keep(line: bytes) -> bool:
        cells = line.split(b",")
        return cells[1] == b"2015" and cells[2] == b"12" and int(cells[3]) <= 28

    for site in BEIJING_SITES:
        name = f"PRSA_Data_{site}_20130301-20170228.csv"
        _write_gz(out / "beijing_air" / f"{name}.gz", _cut_lines(data / "beijing_air" / name, keep))


def batadal(data: Path, out: Path) -> None:
    def keep(line: bytes) -> bool:
        day, month, year = (int(x) for x in line[:8].decode().split("/"))
        return year == 16 and ((month == 9 and day >= 10) or (month == 10 and day <= 14))

    body = _cut_lines(data / "batadal/BATADAL_dataset04.csv", keep)
    _write_gz(out / "batadal/BATADAL_dataset04.csv.gz", body)


def tep(data: Path, out: Path) -> None:
    for name in TEP_FILES:
        rows = [",".join(TEP_HEADER)]
        for line in (data / "tep" / f"{name}.dat").read_text().splitlines():
            cells = line.split()
            if cells:
                if len(cells) != len(TEP_HEADER):
                    raise ValueError(f"{name}.dat: expected 52 columns, got {len(cells)}")
                rows.append(",".join(cells))
        _write_gz(out / "tep" / f"{name}.csv.gz", ("\n".join(rows) + "\n").encode())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA, help="full data sets root")
    ap.add_argument("--out", type=Path, default=HERE, help="where to write the extracts")
    args = ap.parse_args()
    for make in (nab, beijing, batadal, tep):
        make(args.data, args.out)
    total = sum(p.stat().st_size for p in args.out.rglob("*.gz"))
    print(f"extracts written to {args.out}: {total / 1e6:.2f} MB gzipped")


if __name__ == "__main__":
    main()
