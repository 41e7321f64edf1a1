"""Measure how far three placement methods put a place from where it really is.

Writes this script's rows of ``data/location_methods.csv`` (``source_coordinates``,
``named_crossing``, ``text_only``); other rows belong to other scripts and are kept
as they are. Every figure is measured on metro stations, whose true position the AMap
subway coordinates of Naptie/openmetro give (``data/sources/openmetro``, converted
out of GCJ-02), against an independent way of placing them:

- ``source_coordinates``: Wikipedia's WGS 84 infobox coordinates of nine stations
  (``sources/metro/wikipedia_station_coordinates.csv``) against the converted AMap
  ones. Both sources err, so this bounds the error of either.
- ``named_crossing``: the station put at the road crossing its own description names
  (莫干山路与隐秀路交叉口), the crossing's position being the mean of the public-bicycle
  stations named for both roads (``sources/citibike``, Baidu BD-09, converted with
  :func:`gongshu_geo.core.crs.bd09_to_gcj02`). A road's generic suffix may differ between
  the two names (萍水街 / 萍水路), as it does when a person matches names by eye.
- ``text_only``: the station positions of the earlier data (commit 7774235,
  ``sources/metro/stations_before_amap.csv``) that were estimated from text and
  general knowledge, not taken from coordinates.

``accuracy_m`` is the 90th percentile rounded up (to 10 m below 100 m, to 50 m above):
the least accuracy a feature placed by the method may state.
``--check`` recomputes the rows and exits 1 when the CSV holds other figures.
"""

from __future__ import annotations

import argparse
import csv
import io
import logging
import math
import re
import sys

from _openmetro import METHODS, METRO, SOURCES, read_csv, read_records, station_positions
from _projects_file import LOCK, write_atomic

logger = logging.getLogger("calibrate_locations")

FIELDS = ["method", "n", "median_m", "p90_m", "accuracy_m", "calibrated_on", "how"]
#: The methods this script calibrates, in the order they appear in the table.
OWN = ("source_coordinates", "named_crossing", "text_only")

_ROAD = r"(?:(?![与和、])[\u4e00-\u9fa5]){1,8}?(?:大道|路|街|巷|线)"
_CROSSING = re.compile(
    rf"({_ROAD})(?:与|和|、)({_ROAD})(?:的)?"
    r"(?:交叉路口|交叉口|交汇处|交汇口|交界处|十字路口|十字交叉口|丁字交叉口|路口|交接处)"
)
#: Words that may precede the first road name in a description ("车站位于拱墅区…").
_LEAD_INS = ("街道", "境内的", "坐落于", "位于", "于", "区", "镇", "站")
_SUFFIXES = ("大道", "路", "街", "巷", "线")


def round_up(value_m: float) -> int:
    """Round a distance up to a sensible step: 10 m below 100 m, 50 m above.

    >>> round_up(13.6), round_up(186.0), round_up(1020.3)
    (20, 200, 1050)
    """
    step = 10 if value_m < 100 else 50
    return int(math.ceil(value_m / step) * step)


def named_crossing(description: str) -> tuple[str, str] | None:
    """Return the two roads of the first crossing a description names, or None.

    >>> named_crossing("北大桥站位于杭州市拱墅区境内，莫干山路与隐秀路交叉口。")
    ('莫干山路', '隐秀路')
    """
    match = _CROSSING.search(description)
    if not match:
        return None
    roads = []
    for road in match.groups():
        for lead_in in _LEAD_INS:
            if lead_in in road:
                road = road.rsplit(lead_in, 1)[1]
        roads.append(road)
    return roads[0], roads[1]


def road_stem(road: str) -> str:
    """Strip a road name of its generic suffix (萍水街 -> 萍水) when two characters remain."""
    for suffix in _SUFFIXES:
        if road.endswith(suffix) and len(road) - len(suffix) >= 2:
            return road[: -len(suffix)]
    return road


def _metres(lon1, lat1, lon2, lat2):
    from pyproj import Geod

    return Geod(ellps="WGS84").inv(lon1, lat1, lon2, lat2)[2]


def _truth() -> dict[str, tuple[float, float]]:
    """Return the converted AMap position of every stored station, by base name."""
    from _openmetro import base_name

    records = read_records("stations") + read_records("calibration_stations")
    lon, lat = station_positions(records)
    return {
        base_name(r["name"]): (float(x), float(y))
        for r, x, y in zip(records, lon, lat, strict=True)
    }


def source_coordinate_errors(truth) -> dict[str, float]:
    """Metres between Wikipedia's and AMap's position of each referenced station."""
    rows = read_csv(METRO / "wikipedia_station_coordinates.csv")
    return {r["name"]: _metres(float(r["lon"]), float(r["lat"]), *truth[r["name"]]) for r in rows}


def crossing_anchor_errors(truth) -> dict[str, float]:
    """Metres between each station and the bicycle stations at its named crossing."""
    import numpy as np
    from _openmetro import base_name

    from gongshu_geo.core.crs import bd09_to_gcj02, gcj02_to_wgs84

    bikes = read_csv(SOURCES / "citibike" / "stations_at_crossings.csv")
    errors = {}
    for record in read_records("stations"):
        roads = named_crossing(record["extras"].get("description", ""))
        if roads is None:
            continue
        stems = [road_stem(r) for r in roads]
        named = [b for b in bikes if all(s in b["stationName"] for s in stems)]
        if not named:
            continue
        glon, glat = bd09_to_gcj02(
            [float(b["baiduX"]) for b in named], [float(b["baiduY"]) for b in named]
        )
        wlon, wlat = gcj02_to_wgs84(glon, glat)
        anchor = float(np.mean(wlon)), float(np.mean(wlat))
        errors[base_name(record["name"])] = _metres(*anchor, *truth[base_name(record["name"])])
    return errors


def earlier_estimate_errors(truth, *, estimates_only: bool = True) -> dict[str, float]:
    """Metres between the earlier data's station positions and AMap's.

    With ``estimates_only`` the six positions taken from Wikipedia coordinates are
    left out, keeping those the earlier ``location_source`` calls approximate.
    """
    errors = {}
    for row in read_csv(METRO / "stations_before_amap.csv"):
        from_coordinates = row["location_source"].startswith("Wikipedia")
        if estimates_only and (from_coordinates or "approximate" not in row["location_source"]):
            continue
        name = row["name"]
        errors[name] = _metres(float(row["lon"]), float(row["lat"]), *truth[name])
    return errors


def _row(method: str, errors: dict[str, float], calibrated_on: str, how: str) -> dict:
    import numpy as np

    values = np.array(sorted(errors.values()))
    p90 = float(np.percentile(values, 90))
    return {
        "method": method,
        "n": len(values),
        "median_m": round(float(np.median(values)), 1),
        "p90_m": round(p90, 1),
        "accuracy_m": round_up(p90),
        "calibrated_on": calibrated_on,
        "how": how,
    }


def calibrate() -> list[dict]:
    """Measure the three methods; return their table rows."""
    import numpy as np

    truth = _truth()
    src = source_coordinate_errors(truth)
    crossing = crossing_anchor_errors(truth)
    every = earlier_estimate_errors(truth, estimates_only=False)
    estimates = earlier_estimate_errors(truth)
    all_median = float(np.median(list(every.values())))
    all_p90 = float(np.percentile(list(every.values()), 90))
    rows = [
        _row(
            "source_coordinates",
            src,
            "metro stations (Wikipedia vs AMap)",
            "Wikipedia WGS 84 infobox coordinates of 9 stations vs the AMap subway "
            "coordinates of Naptie/openmetro converted from GCJ-02: the disagreement of "
            "two independent sources, so an upper bound; the largest gaps are Wikipedia "
            "coordinates given to the second or to 4 decimals",
        ),
        _row(
            "named_crossing",
            crossing,
            "metro stations at the crossing their description names",
            "station put at the mean of the public-bicycle stations (NMSN/CitiBike, BD-09 "
            "-> GCJ-02 -> WGS 84) named for both roads of its crossing, vs its AMap "
            "position; errors include misnamed or misplaced bicycle stations",
        ),
        _row(
            "text_only",
            estimates,
            "metro stations of the earlier data placed from text",
            "station positions of the earlier data (7774235) estimated from text and "
            "general knowledge vs their AMap positions; all "
            f"{len(every)} earlier stations, the 6 from Wikipedia included: median "
            f"{all_median:.0f} m, p90 {all_p90:.0f} m. Stations lie on named roads, so "
            "places with vaguer descriptions may be placed worse",
        ),
    ]
    for row in rows:
        logger.info(
            "%s: n=%d median %.1f m p90 %.1f m",
            row["method"],
            row["n"],
            row["median_m"],
            row["p90_m"],
        )
    return rows


def merge_rows(own: list[dict], existing: list[dict]) -> str:
    """Return the table text with this script's rows replaced and every other row kept."""
    by_method = {r["method"]: r for r in own}
    out, seen = [], set()
    for row in existing:
        if row["method"] in by_method:
            out.append(by_method[row["method"]])
            seen.add(row["method"])
        else:
            out.append(row)
    missing = [r for r in own if r["method"] not in seen]
    out = missing + out
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=FIELDS, lineterminator="\n")
    writer.writeheader()
    for row in out:
        writer.writerow({k: row.get(k, "") for k in FIELDS})
    return buf.getvalue()


def read_methods() -> list[dict]:
    """Return the current table rows (empty when the file does not exist yet)."""
    return read_csv(METHODS) if METHODS.exists() else []


def main(argv=None) -> int:
    """Recompute this script's rows of the table (or with ``--check`` verify them)."""
    import fcntl

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    own = calibrate()
    with LOCK.open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        current = read_methods()
        text = merge_rows(own, current)
        if args.check:
            committed = METHODS.read_text(encoding="utf-8") if METHODS.exists() else ""
            same = {
                r["method"]: r for r in csv.DictReader(io.StringIO(committed)) if r["method"] in OWN
            } == {r["method"]: r for r in csv.DictReader(io.StringIO(text)) if r["method"] in OWN}
            logger.info("calibration rows %s", "up to date" if same else "out of date: rerun")
            return 0 if same else 1
        write_atomic(METHODS, text)
    logger.info("wrote %d rows to %s", len(own), METHODS)
    return 0


if __name__ == "__main__":
    sys.exit(main())
