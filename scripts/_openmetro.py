"""Read the raw metro files kept under data/sources/ (Naptie/openmetro and others).

Shared by ``build_metro.py`` and ``calibrate_locations.py``: the station records
as stored upstream, their WGS 84 positions (converted out of GCJ-02 with
:func:`gongshu_geo.core.crs.gcj02_to_wgs84`) and their distance to the district.
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

SOURCES = REPO / "data" / "sources"
OPENMETRO = SOURCES / "openmetro"
METRO = SOURCES / "metro"
DISTRICT = REPO / "data" / "boundaries" / "district.geojson"
METHODS = REPO / "data" / "location_methods.csv"
METRIC = "EPSG:4549"

#: Where the openmetro files were read: repository, path and the commit read_file gave.
UPSTREAM = {
    "stations": "Naptie/openmetro data/cn-hangzhou/stations.json @ 24e90d8",
    "segments": "Naptie/openmetro data/cn-hangzhou/segments.json @ 04afb65",
    "lines": "Naptie/openmetro data/cn-hangzhou/lines.json @ 505e8b5",
}


def read_records(name: str) -> list[dict]:
    """Return the ``records`` of ``data/sources/openmetro/<name>.json``."""
    path = OPENMETRO / f"{name}.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    records = data.get("records")
    if not isinstance(records, list):
        raise ValueError(f"{path}: expected a 'records' list; found {type(records).__name__}")
    return records


def read_csv(path: Path) -> list[dict]:
    """Read a UTF-8 CSV file into a list of row dicts."""
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def base_name(name: str) -> str:
    """Station name without a trailing 站 (东新园站 -> 东新园; 城站 stays)."""
    return name[:-1] if name.endswith("站") and len(name) > 2 else name


def line_number(name: str) -> int:
    """Return the number of a line name such as ``10号线``."""
    digits = "".join(ch for ch in name if ch.isdigit())
    if not digits:
        raise ValueError(f"line name {name!r} has no number")
    return int(digits)


def station_positions(records: list[dict]):
    """WGS 84 lon/lat arrays for station records stored in GCJ-02."""
    import numpy as np

    from gongshu_geo.core.crs import gcj02_to_wgs84

    bad = [r["id"] for r in records if r["location"].get("crs") != "gcj02"]
    if bad:
        raise ValueError(f"stations.json: expected crs 'gcj02'; found another datum for {bad}")
    lon = np.array([r["location"]["lon"] for r in records], dtype=float)
    lat = np.array([r["location"]["lat"] for r in records], dtype=float)
    return gcj02_to_wgs84(lon, lat)


def read_outline():
    """Read the district outline, in the metric CRS."""
    import geopandas as gpd

    return gpd.read_file(DISTRICT).to_crs(METRIC).geometry.union_all()


def distances_to_district(lon, lat):
    """Metres (EPSG:4549) from each WGS 84 point to the district; 0 inside it."""
    import geopandas as gpd

    points = gpd.GeoSeries(gpd.points_from_xy(lon, lat), crs="EPSG:4326").to_crs(METRIC)
    return points.distance(read_outline()).to_numpy()
