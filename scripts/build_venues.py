"""Re-derive the plan's cultural and sports venues in data/projects.geojson from cited facts.

Each of the plan's venues (``P-CULT-001``…``008``, ``P-SPRT-001``…``004``) has one row in
``data/sources/venues/venues.csv``: the evidence (quotes with their pages), how the
geometry follows from it, its method and accuracy. The placements:

- ``point``: the stated WGS 84 ``lon``/``lat`` (an earlier estimate from text, said so);
- ``at_feature``: at the point of another feature of the file (a metro station whose
  description names the venue or its area);
- ``stations``: at the mean of public-bicycle stations named for the place
  (``data/sources/baseline/bike_stations.csv``, as in ``build_baseline.py``);
- ``quadrant``: the centre of one quarter (``se``, ``sw``, ``ne``, ``nw``) of another
  feature's polygon, cut through its centroid;
- ``half``: the centre of the ``south`` or ``north`` half of another feature's polygon,
  cut at its centroid's northing;
- ``corner_circle``: a disc of the published area inside a polygon's corner (``sw``…),
  touching both of the corner's edges;
- ``square_west_of``: a square of the published area whose east edge passes through
  another feature's point, centred north-south on it;
- ``square_around``: a square of the published area centred on another feature;
- ``canal_bank_south_of``: a point ``east_m`` east of the canal (``P-RIVER-001``),
  ``south_m`` south of where another line feature (a branch river) meets it
  (anchor ``<id>;<south_m>;<east_m>``);
- ``canal_square_north_of``: a square of the published area on the canal's east bank,
  its west edge on the canal and its south edge where another line feature meets it.

Only geometry, ``location_source``, ``location_method``, ``location_accuracy_m``,
``area_m2_source`` and ``notes`` are written; status, years and plan references stay as
they are. ``location_accuracy_m`` is never below the method's calibrated figure in
``data/location_methods.csv``. Run after ``build_baseline.py`` (the 京杭大运河博物馆 is
placed in the baseline's 运河文化广场). ``--check`` rebuilds in memory and exits 1 when
the file's venues differ.
"""

from __future__ import annotations

import argparse
import csv
import logging
import math
import sys

from _projects_file import PROJECTS, REPO, dump_projects, locked_projects, write_atomic
from assign_location_methods import read_accuracies
from build_baseline import (
    CANAL,
    _canal_x_at,
    _check_in_district,
    _round_geometry,
    place,
    read_stations,
    to_metric,
)
from shapely import affinity
from shapely.geometry import Point, Polygon, box, shape

logger = logging.getLogger("build_venues")

VENUES = REPO / "data" / "sources" / "venues" / "venues.csv"
_SIGNS = {"se": (1, -1), "sw": (-1, -1), "ne": (1, 1), "nw": (-1, 1)}


def read_rows(path=VENUES) -> list[dict]:
    """Return the venue fact rows, in file order."""
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _parent(features: dict, anchor: str):
    fid = anchor.split(";")[0]
    return fid, to_metric(shape(features[fid]["geometry"]))


def _quadrant(poly, corner: str) -> Point:
    sx, sy = _SIGNS[corner]
    c = poly.centroid
    minx, miny, maxx, maxy = poly.bounds
    xs = sorted((c.x, c.x + sx * (maxx - minx)))
    ys = sorted((c.y, c.y + sy * (maxy - miny)))
    quarter = box(xs[0], ys[0], xs[1], ys[1])
    return poly.intersection(quarter).centroid


def _half(poly, side: str) -> Point:
    c = poly.centroid
    minx, miny, maxx, maxy = poly.bounds
    cut = box(minx, miny, maxx, c.y) if side == "south" else box(minx, c.y, maxx, maxy)
    return poly.intersection(cut).centroid


def _corner_circle(poly: Polygon, corner: str, area_m2: float):
    """Return a disc of ``area_m2`` inside a polygon's corner, tangent to both its edges."""
    sx, sy = _SIGNS[corner]
    ring = list(poly.exterior.coords)[:-1]
    i = max(range(len(ring)), key=lambda k: sx * ring[k][0] + sy * ring[k][1])
    v = ring[i]
    a, b = ring[i - 1], ring[(i + 1) % len(ring)]
    u = [(p[0] - v[0], p[1] - v[1]) for p in (a, b)]
    u = [(x / math.hypot(x, y), y / math.hypot(x, y)) for x, y in u]
    angle = math.acos(max(-1.0, min(1.0, u[0][0] * u[1][0] + u[0][1] * u[1][1])))
    bis = (u[0][0] + u[1][0], u[0][1] + u[1][1])
    norm = math.hypot(*bis)
    r = math.sqrt(area_m2 / math.pi)
    d = r / math.sin(angle / 2)
    centre = Point(v[0] + bis[0] / norm * d, v[1] + bis[1] / norm * d)
    disc = centre.buffer(r, quad_segs=32)
    return _scaled(disc, area_m2)


def _scaled(geom, area_m2: float):
    """Scale a polygon about its centroid so that its area is ``area_m2``."""
    f = math.sqrt(area_m2 / geom.area)
    return affinity.scale(geom, f, f, origin=geom.centroid)


def _mouth_y(canal, branch) -> float:
    """Northing of the end of ``branch`` that is nearest the canal."""
    ends = [Point(branch.coords[0]), Point(branch.coords[-1])]
    return min(ends, key=canal.distance).y


def locate(row: dict, stations: dict, features: dict):
    """Return the metric geometry of one venue row and any text naming its anchors."""
    kind, anchor = row["placement"], row["anchor"]
    area = float(row["area_m2"]) if row["area_m2"] else None
    if kind == "point":
        return to_metric(Point(float(row["lon"]), float(row["lat"]))), ""
    if kind == "stations":
        return place(row, stations, features)
    _, parent = _parent(features, anchor)
    part = anchor.split(";")[1] if ";" in anchor else ""
    if kind.startswith("canal_"):
        canal = to_metric(shape(features[CANAL]["geometry"]))
        y0 = _mouth_y(canal, parent)
        if kind == "canal_bank_south_of":
            south_m, east_m = (float(v) for v in anchor.split(";")[1:])
            y = y0 - south_m
            return Point(_canal_x_at(canal, y) + east_m, y), ""
        if kind == "canal_square_north_of":
            s = math.sqrt(area)
            x = _canal_x_at(canal, y0 + s / 2)
            return box(x, y0, x + s, y0 + s), ""
    if kind == "at_feature":
        return parent.centroid, ""
    if kind == "quadrant":
        return _quadrant(parent, part), ""
    if kind == "half":
        return _half(parent, part), ""
    if kind == "corner_circle":
        return _corner_circle(parent, part, area), ""
    s = math.sqrt(area)
    c = parent.centroid
    if kind == "square_west_of":
        return box(c.x - s, c.y - s / 2, c.x, c.y + s / 2), ""
    if kind == "square_around":
        return box(c.x - s / 2, c.y - s / 2, c.x + s / 2, c.y + s / 2), ""
    raise ValueError(f"{VENUES}: row {row['id']}: unknown placement {kind!r}")


def build_venues(data: dict, accuracy: dict[str, int]) -> dict[str, dict]:
    """Return the re-derived venue features by id."""
    features = {f["properties"]["id"]: f for f in data["features"]}
    stations = read_stations()
    out = {}
    for row in read_rows():
        old = features[row["id"]]
        geom_m, where = locate(row, stations, features)
        source = row["location_source"] + (f": {where}" if where else "")
        props = dict(old["properties"])
        props.pop("area_m2_source", None)
        method = row["method"]
        props.update(
            location_source=source,
            location_method=method,
            location_accuracy_m=max(int(row["accuracy_m"]), accuracy.get(method, 0)),
            notes=row["notes"],
        )
        if geom_m.geom_type == "Polygon":
            props["area_m2_source"] = row["area_m2_source"]
        out[row["id"]] = {
            "type": "Feature",
            "properties": props,
            "geometry": _round_geometry(geom_m),
        }
    _check_in_district(list(out.values()))
    return out


def merged(data: dict, venues: dict[str, dict]) -> dict:
    """Return the collection with its venue features replaced, in place in the order."""
    return {
        **data,
        "features": [venues.get(f["properties"]["id"], f) for f in data["features"]],
    }


def main(argv=None) -> int:
    """Rebuild (or with ``--check`` compare) the plan's venues."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare, do not write")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    with locked_projects() as data:
        venues = build_venues(data, read_accuracies())
        text = dump_projects(merged(data, venues))
        if args.check:
            if PROJECTS.read_text(encoding="utf-8") != text:
                logger.error("venues differ from what build_venues.py builds; run it, no --check")
                return 1
            logger.info("venues up to date (%d features)", len(venues))
            return 0
        write_atomic(PROJECTS, text)
    logger.info("wrote %d venues", len(venues))
    return 0


if __name__ == "__main__":
    sys.exit(main())
