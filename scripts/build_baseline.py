"""Add the district's existing parks, squares and venues to data/projects.geojson.

Coverage of the existing situation means something only where the facilities that
already exist are in the data, not just the ones the plan names. This script places
the existing parks, squares, cultural and sports venues that public sources locate
(``data/sources/baseline/facilities.csv``: one row of cited facts per feature) as
features with ids 101 and up, ``status: existing`` (or, for one that was still being
built at the plan's date, Feb 2022, ``under_construction`` with a ``status_note``):

- ``stations``: at the mean of public-bicycle stations (NMSN/CitiBike, Baidu BD-09,
  ``data/sources/baseline/bike_stations.csv``, verbatim rows) named for the place;
- ``inside`` / ``north_edge``: at the centre, or the middle of the north edge, of
  another feature of the file that contains the place;
- ``square_at`` / ``square_ne_corner``: a square of the published area centred on,
  or with its north-east corner at, a bicycle station;
- ``canal_strip_east``: a strip on the canal's east bank (``P-RIVER-001``) between a
  station's latitude and a given one, as wide as the published area needs;
- ``square_west_edge_at``: a square of the published area whose west edge passes
  through a station, centred north-south on it;
- ``canal_bank_west``: a point 60 m west of the canal at a station's latitude;
- ``crossing_corner_square``: a square of the published area with one corner where two
  roads cross, each road a line fitted through the bicycle stations named for it
  (anchor ``<ids of road A>|<ids of road B>;<corner of the square at the crossing>``).

Each feature's ``location_accuracy_m`` is raised to its method's calibrated figure in
``data/location_methods.csv``. The script also refreshes the ``count`` column of
``data/baseline.csv`` (features per facility layer). ``--check`` rebuilds in memory and
exits 1 when the file's baseline features or counts differ.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import logging
import math
import sys

import shapely
from _projects_file import PROJECTS, REPO, dump_projects, locked_projects, write_atomic
from assign_location_methods import read_accuracies
from derive_schedule import schedule_from_period
from pyproj import Transformer
from shapely.geometry import LineString, Point, box, mapping, shape
from shapely.ops import substring

from gongshu_geo.core.crs import bd09_to_gcj02, gcj02_to_wgs84

logger = logging.getLogger("build_baseline")

SOURCES = REPO / "data" / "sources" / "baseline"
FACILITIES = SOURCES / "facilities.csv"
STATIONS = SOURCES / "bike_stations.csv"
BASELINE = REPO / "data" / "baseline.csv"
DISTRICT = REPO / "data" / "boundaries" / "district.geojson"

PREFIXES = ("PARK", "CULT", "SPRT")
FIRST_ID = 101
PLAN_REF = "— (现状设施, not a plan project; coverage baseline)"
CANAL = "P-RIVER-001"
BIKE_SOURCE = (
    "NMSN/CitiBike lib/baiduMarkers.js @ c42b82f3 (Hangzhou public-bicycle stations, "
    "Baidu BD-09, data of 2018 or older; converted with gongshu_geo.core.crs.bd09_to_gcj02 "
    "and gcj02_to_wgs84; rows kept in data/sources/baseline/bike_stations.csv)"
)
BANK_OFFSET_M = 60.0

_TO_M = Transformer.from_crs("EPSG:4326", "EPSG:4549", always_xy=True)
_TO_DEG = Transformer.from_crs("EPSG:4549", "EPSG:4326", always_xy=True)


def to_metric(geom):
    """Return a WGS 84 geometry in EPSG:4549 metres."""
    return shapely.transform(geom, lambda x, y: _TO_M.transform(x, y), interleaved=False)


def to_degrees(geom):
    """Return an EPSG:4549 geometry in WGS 84."""
    return shapely.transform(geom, lambda x, y: _TO_DEG.transform(x, y), interleaved=False)


def is_baseline_id(fid: str) -> bool:
    """Whether an id belongs to this script: P-PARK/CULT/SPRT with a number of 101 or more.

    >>> is_baseline_id("P-PARK-101"), is_baseline_id("P-PARK-014"), is_baseline_id("P-MSTN-120")
    (True, False, False)
    """
    parts = fid.split("-")
    return len(parts) == 3 and parts[1] in PREFIXES and int(parts[2]) >= FIRST_ID


def read_stations(path=STATIONS) -> dict[str, dict]:
    """Bicycle stations by id, with their WGS 84 position."""
    stations = {}
    with path.open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            gx, gy = bd09_to_gcj02(float(row["baiduX"]), float(row["baiduY"]))
            lon, lat = gcj02_to_wgs84(gx, gy)
            stations[row["stationId"]] = {**row, "lon": float(lon), "lat": float(lat)}
    return stations


def describe_station(station: dict) -> str:
    """How a location_source names a station, its coordinates and their conversion."""
    return (
        f"'{station['stationName']}' (id {station['stationId']}, BD-09 {station['baiduX']}, "
        f"{station['baiduY']} -> WGS 84 {station['lon']:.5f}, {station['lat']:.5f})"
    )


def _metric(lon: float, lat: float) -> Point:
    return Point(_TO_M.transform(lon, lat))


def _canal_x_at(canal_m: LineString, y: float) -> float:
    """Easting where the canal crosses northing ``y`` (the crossing nearest the middle)."""
    minx, _, maxx, _ = canal_m.bounds
    cut = canal_m.intersection(LineString([(minx - 1, y), (maxx + 1, y)]))
    points = [cut] if cut.geom_type == "Point" else list(getattr(cut, "geoms", []))
    if not points:
        raise ValueError(f"the canal {CANAL} does not cross northing {y:.0f}")
    return min(points, key=lambda p: abs(p.x - (minx + maxx) / 2)).x


def _strip_east(canal_m: LineString, south_y: float, north_y: float, area_m2: float):
    """Return a strip of ``area_m2`` east of the canal between two northings."""
    ends = [canal_m.project(Point(_canal_x_at(canal_m, y), y)) for y in (south_y, north_y)]
    reach = substring(canal_m, min(ends), max(ends))
    width = area_m2 / reach.length
    for _ in range(20):  # the canal is drawn south to north: its east bank is on the right
        strip = reach.buffer(-width, single_sided=True)
        width *= area_m2 / strip.area
    return strip


def _fit_line(points: list[Point]) -> tuple[tuple[float, float], tuple[float, float]]:
    """Return a point on, and the unit direction of, the least-squares line through points."""
    n = len(points)
    mx, my = sum(p.x for p in points) / n, sum(p.y for p in points) / n
    sxx = sum((p.x - mx) ** 2 for p in points)
    syy = sum((p.y - my) ** 2 for p in points)
    sxy = sum((p.x - mx) * (p.y - my) for p in points)
    angle = 0.5 * math.atan2(2 * sxy, sxx - syy)
    return (mx, my), (math.cos(angle), math.sin(angle))


def _crossing(road_a: list[Point], road_b: list[Point]) -> tuple[float, float]:
    """Where the lines fitted through two roads' stations cross."""
    (ax, ay), (adx, ady) = _fit_line(road_a)
    (bx, by), (bdx, bdy) = _fit_line(road_b)
    det = adx * (-bdy) - ady * (-bdx)
    t = ((bx - ax) * (-bdy) - (by - ay) * (-bdx)) / det
    return ax + t * adx, ay + t * ady


def place(row: dict, stations: dict, features: dict) -> tuple:
    """Return the metric geometry of one row and the text naming its anchors."""
    kind, anchor = row["placement"], row["anchor"]
    area = float(row["area_m2"]) if row["area_m2"] else None
    canal_m = to_metric(shape(features[CANAL]["geometry"]))
    if kind == "inside" or kind == "north_edge":
        parent = to_metric(shape(features[anchor]["geometry"]))
        if kind == "inside":
            c = parent.centroid
            return (c if parent.contains(c) else parent.representative_point()), ""
        ring = list(parent.exterior.coords)[:-1]
        top = max(zip(ring, ring[1:] + ring[:1], strict=True), key=lambda e: e[0][1] + e[1][1])
        return Point((top[0][0] + top[1][0]) / 2, (top[0][1] + top[1][1]) / 2), ""
    if kind == "crossing_corner_square":
        roads, corner = anchor.split(";")
        groups = [[stations[i] for i in ids.split("+")] for ids in roads.split("|")]
        x, y = _crossing(*[[_metric(s["lon"], s["lat"]) for s in g] for g in groups])
        side = math.sqrt(area)
        sx, sy = {"nw": (1, -1), "ne": (-1, -1), "sw": (1, 1), "se": (-1, 1)}[corner]
        xs, ys = sorted((x, x + sx * side)), sorted((y, y + sy * side))
        where = "; ".join(describe_station(st) for g in groups for st in g)
        return box(xs[0], ys[0], xs[1], ys[1]), f"{where} of {BIKE_SOURCE}"
    if kind == "canal_strip_east":  # anchor: "<station id of the south end>;<north latitude>"
        south_id, north_lat = anchor.split(";")
        south = stations[south_id]
        north_y = _metric(south["lon"], float(north_lat)).y
        strip = _strip_east(canal_m, _metric(south["lon"], south["lat"]).y, north_y, area)
        return strip, f"{describe_station(south)} of {BIKE_SOURCE}"
    used = [stations[i] for i in anchor.split("+")]
    where = "; ".join(describe_station(s) for s in used) + f" of {BIKE_SOURCE}"
    pts = [_metric(s["lon"], s["lat"]) for s in used]
    p = Point(sum(q.x for q in pts) / len(pts), sum(q.y for q in pts) / len(pts))
    if kind == "stations":
        return p, where
    if kind == "square_at":
        s = math.sqrt(area) / 2
        return box(p.x - s, p.y - s, p.x + s, p.y + s), where
    if kind == "square_ne_corner":
        s = math.sqrt(area)
        return box(p.x - s, p.y - s, p.x, p.y), where
    if kind == "square_west_edge_at":
        s = math.sqrt(area)
        return box(p.x, p.y - s / 2, p.x + s, p.y + s / 2), where
    if kind == "canal_bank_west":
        return Point(_canal_x_at(canal_m, p.y) - BANK_OFFSET_M, p.y), where
    raise ValueError(f"{FACILITIES}: row {row['id']}: unknown placement {kind!r}")


def _round_geometry(geom_m) -> dict:
    geom = to_degrees(geom_m)
    gj = mapping(geom)
    if gj["type"] == "Point":
        return {"type": "Point", "coordinates": [round(v, 6) for v in gj["coordinates"]]}
    ring = [[round(x, 6), round(y, 6)] for x, y in gj["coordinates"][0]]
    return {"type": "Polygon", "coordinates": [ring]}


def build_features(data: dict, accuracy: dict[str, int]) -> list[dict]:
    """Build the baseline features from the facts table and the file's other features."""
    features = {f["properties"]["id"]: f for f in data["features"]}
    stations = read_stations()
    with FACILITIES.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    out = []
    for row in rows:
        geom_m, where = place(row, stations, features)
        source = row["location_source"]
        if where:
            lead = "placed at " if source else "placed at the public-bicycle station named for it: "
            source = f"{source}; {lead}{where}" if source else lead + where
        if row["placement"] in ("inside", "north_edge"):
            parent = features[row["anchor"]]["properties"]
            source += f" ({row['anchor']} is placed by {parent['location_method']})"
        method = row["method"]
        props = {
            "id": row["id"],
            "name": row["name"],
            "name_en": row["name_en"],
            "category": row["category"],
            "subcategory": row["subcategory"],
            "status": row["status"],
            "period": row["period"],
            "plan_ref": PLAN_REF,
            "location_method": method,
            "location_accuracy_m": max(int(row["accuracy_m"]), accuracy.get(method, 0)),
            "location_source": source,
        }
        if geom_m.geom_type == "Polygon":
            props["area_m2_source"] = row["area_m2_source"]
        if row["status_note"]:
            props["status_note"] = row["status_note"]
        props["notes"] = row["notes"]
        props.update(schedule_from_period(props))
        feature = {"type": "Feature", "properties": props, "geometry": _round_geometry(geom_m)}
        out.append(feature)
        features[row["id"]] = feature  # later rows may be placed inside this one
    _check_in_district(out)
    return out


def _check_in_district(features: list[dict]) -> None:
    outline = shape(json.loads(DISTRICT.read_text(encoding="utf-8"))["features"][0]["geometry"])
    outside = [
        f["properties"]["id"] for f in features if not outline.intersects(shape(f["geometry"]))
    ]
    if outside:
        raise ValueError(f"{FACILITIES}: feature(s) {', '.join(outside)} lie outside the district")


def merged(data: dict, new: list[dict]) -> dict:
    """Return the collection with its baseline features replaced by ``new``."""
    kept = [f for f in data["features"] if not is_baseline_id(f["properties"]["id"])]
    return {**data, "features": kept + new}


def baseline_text(data: dict, path=BASELINE) -> str:
    """``data/baseline.csv`` with each layer's ``count`` set to its features in ``data``."""
    with path.open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        fields, rows = reader.fieldnames, list(reader)
    for row in rows:
        row["count"] = str(
            sum(f["properties"]["category"] == row["layer"] for f in data["features"])
        )
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


def main(argv=None) -> int:
    """Build (or with ``--check`` compare) the baseline features and layer counts."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare, do not write")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    accuracy = read_accuracies()
    with locked_projects() as data:
        new = build_features(data, accuracy)
        result = merged(data, new)
        text, counts = dump_projects(result), baseline_text(result)
        if args.check:
            same = PROJECTS.read_text(encoding="utf-8") == text
            same_counts = BASELINE.read_text(encoding="utf-8") == counts
            if not (same and same_counts):
                logger.error(
                    "%s differ from what build_baseline.py builds; run it without --check",
                    "projects.geojson" if not same else "baseline.csv counts",
                )
                return 1
            logger.info("baseline features and counts up to date (%d features)", len(new))
            return 0
        write_atomic(PROJECTS, text)
        write_atomic(BASELINE, counts)
    logger.info("wrote %d baseline features and the layer counts", len(new))
    return 0


if __name__ == "__main__":
    sys.exit(main())
