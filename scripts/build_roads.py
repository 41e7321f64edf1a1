"""Rebuild the road features of data/projects.geojson from the raw sources.

Sources (all under ``data/sources/roads/``, see the README there):

- ``roads.csv``: one row per road feature: its vertices in order, the extent the
  sources give ("A路 from B路 to C路"), the published length and its source;
- ``bike_stations.csv``: a verbatim subset of the public-bicycle stations of
  NMSN/CitiBike (``lib/baiduMarkers.js``, Baidu BD-09), anchors named for a road or
  for a crossing of two;
- ``points.csv``: points derived from anchors and published facts (the crossing of
  two anchored roads, a published length laid off from a named end, where a road
  meets the district outline, a shared street edge that a boundary description
  names), and the few vertices that are still estimates from general knowledge;
- ``../openmetro/stations.json``: metro stations whose description names the
  crossing they lie at (AMap positions, GCJ-02).

A vertex token is ``bike:<stationId>``, ``metro:<openmetro id>`` or
``pt:<point_id>``. Every anchor is converted to WGS 84 with :mod:`gongshu_geo.core.crs`
and all geometry is worked out in EPSG:4549. A feature's ``location_method`` is the
weakest method among its vertices (bicycle and metro anchors: ``named_crossing``; a
street edge: ``street_boundary``; anything laid off or estimated: ``text_only``) and
its ``location_accuracy_m`` that method's calibrated figure in
``data/location_methods.csv``.

Only the road features listed in ``roads.csv`` are rewritten (geometry,
``location_source``, ``location_method``, ``location_accuracy_m``, ``notes``);
every other feature and property stays as it is. The rewrite happens under the lock
of ``_projects_file``. ``--check`` rebuilds in memory and exits 1 when the committed
file differs.
"""

from __future__ import annotations

import csv
import json
import logging
import math
import sys
from pathlib import Path

from _projects_file import PROJECTS, REPO, run_rebuild

logger = logging.getLogger("build_roads")

SOURCES = REPO / "data" / "sources"
ROADS_DIR = SOURCES / "roads"
ROADS_CSV = ROADS_DIR / "roads.csv"
POINTS_CSV = ROADS_DIR / "points.csv"
BIKES_CSV = ROADS_DIR / "bike_stations.csv"
STATIONS_JSON = SOURCES / "openmetro" / "stations.json"
DISTRICT = REPO / "data" / "boundaries" / "district.geojson"
STREETS = REPO / "data" / "boundaries" / "streets.geojson"
METHODS = REPO / "data" / "location_methods.csv"
METRIC = "EPSG:4549"
BIKE_SOURCE = "NMSN/CitiBike lib/baiduMarkers.js @ c42b82f3ab24edb176d00cb9304d8c8aec3580aa"
METRO_SOURCE = "Naptie/openmetro data/cn-hangzhou/stations.json @ 24e90d8"
#: Kinds of derived point whose position rests on an assumed course.
ASSUMED_KINDS = ("est", "extend", "offset", "outline")
#: A shared street edge is the part of one street's boundary this close to the other.
EDGE_BUFFER_M = 5.0
#: How far a ray is followed to meet the district outline, metres.
RAY_M = 20000.0


def _read_csv(path: Path) -> list[dict]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def read_accuracies(path: Path = METHODS) -> dict[str, int]:
    """Calibrated accuracy (metres) of each method that has one."""
    return {r["method"]: int(r["accuracy_m"]) for r in _read_csv(path) if r["accuracy_m"]}


class Anchors:
    """Resolve vertex tokens to EPSG:4549 coordinates, a method and a description."""

    def __init__(self) -> None:
        from pyproj import Transformer

        self._to_metric = Transformer.from_crs("EPSG:4326", METRIC, always_xy=True)
        self._to_wgs = Transformer.from_crs(METRIC, "EPSG:4326", always_xy=True)
        self.bikes = {r["stationId"]: r for r in _read_csv(BIKES_CSV)}
        records = json.loads(STATIONS_JSON.read_text(encoding="utf-8"))["records"]
        self.metro = {r["id"]: r for r in records}
        self.points = {r["point_id"]: r for r in _read_csv(POINTS_CSV)}
        self.accuracy = read_accuracies()
        self._cache: dict[str, tuple[list, str, str]] = {}

    def to_wgs84(self, x: float, y: float) -> tuple[float, float]:
        """Return lon, lat of an EPSG:4549 position."""
        return self._to_wgs.transform(x, y)

    def _metric(self, lon: float, lat: float) -> tuple[float, float]:
        return self._to_metric.transform(lon, lat)

    def resolve(self, token: str) -> tuple[list, str, str]:
        """Return ``(coords, method, description)`` for one vertex token."""
        if token not in self._cache:
            self._cache[token] = self._resolve(token)
        return self._cache[token]

    def point(self, token: str) -> tuple[float, float]:
        """Return the single position of a token (an edge token gives its last vertex)."""
        return self.resolve(token)[0][-1]

    def _resolve(self, token: str) -> tuple[list, str, str]:
        from gongshu_geo.core.crs import bd09_to_gcj02, gcj02_to_wgs84

        kind, _, key = token.partition(":")
        if kind == "bike":
            row = self.bikes[key]
            lon, lat = bd09_to_gcj02(float(row["baiduX"]), float(row["baiduY"]))
            lon, lat = gcj02_to_wgs84(lon, lat)
            text = f"bicycle station {key} {row['stationName']} ({BIKE_SOURCE}, BD-09)"
            return [self._metric(float(lon), float(lat))], "named_crossing", text
        if kind == "metro":
            rec = self.metro[key]
            loc = rec["location"]
            lon, lat = gcj02_to_wgs84(loc["lon"], loc["lat"])
            where = _crossing_clause(rec["extras"].get("description", ""))
            text = f"metro {rec['name']} ({METRO_SOURCE}, GCJ-02: '{where}')"
            return [self._metric(float(lon), float(lat))], "named_crossing", text
        if kind == "pt":
            return self._derived(self.points[key])
        raise ValueError(
            f"{ROADS_CSV}: unknown vertex token {token!r}; expected bike:, metro:, pt:"
        )

    def _weakest(self, methods: list[str]) -> str:
        return max(methods, key=lambda m: self.accuracy.get(m, 0))

    def _methods(self, tokens: list[str]) -> list[str]:
        return [self.resolve(t)[1] for t in tokens]

    def _derived(self, row: dict) -> tuple[list, str, str]:
        kind, args = row["kind"], row["args"].split()
        text = f"{row['point_id']}: {row['how']} [{row['source']}]"
        if kind == "est":
            lon, lat = float(args[0]), float(args[1])
            return [self._metric(lon, lat)], "text_only", text
        if kind == "extend":
            (ax, ay), (bx, by) = self.point(args[0]), self.point(args[1])
            d = math.hypot(bx - ax, by - ay)
            k = float(row["km"]) * 1000.0 / d
            return [(bx + (bx - ax) * k, by + (by - ay) * k)], "text_only", text
        if kind == "offset":
            x, y = self.point(args[0])
            bearing, dist = math.radians(float(args[1])), float(row["km"]) * 1000.0
            return [(x + dist * math.sin(bearing), y + dist * math.cos(bearing))], "text_only", text
        if kind == "outline":
            return [self._outline_crossing(args[0], args[1])], "text_only", text
        if kind == "latitude":
            (ax, ay), (bx, by) = self.point(args[0]), self.point(args[1])
            y = self.point(args[2])[1]
            x = ax + (y - ay) * (bx - ax) / (by - ay)
            return [(x, y)], self._weakest(self._methods(args)), text
        if kind == "lines":
            p = _intersect(*(self.point(a) for a in args))
            return [p], self._weakest(self._methods(args)), text
        if kind == "edge":
            coords = self._edge(args[0], args[1], args[2], args[3])
            return coords, self._weakest(["street_boundary", *self._methods(args[3:])]), text
        raise ValueError(f"{POINTS_CSV}: point {row['point_id']!r}: unknown kind {kind!r}")

    def _outline_crossing(self, a: str, b: str) -> tuple[float, float]:
        import geopandas as gpd
        from shapely.geometry import LineString, Point

        outline = gpd.read_file(DISTRICT).to_crs(METRIC).union_all().boundary
        (ax, ay), (bx, by) = self.point(a), self.point(b)
        d = math.hypot(bx - ax, by - ay)
        far = (ax + (bx - ax) / d * RAY_M, ay + (by - ay) / d * RAY_M)
        hits = LineString([(ax, ay), far]).intersection(outline)
        points = list(getattr(hits, "geoms", [hits]))
        if not points or hits.is_empty:
            raise ValueError(f"{POINTS_CSV}: the ray from {a} through {b} never meets the outline")
        nearest = min(points, key=lambda p: p.distance(Point(ax, ay)))
        return nearest.x, nearest.y

    def _edge(self, street_a: str, street_b: str, start: str, end: str) -> list:
        import geopandas as gpd
        import shapely
        from shapely.geometry import Point
        from shapely.ops import substring

        streets = gpd.read_file(STREETS).to_crs(METRIC)
        polys = dict(zip(streets["name"], streets.geometry, strict=True))
        shared = polys[street_a].boundary.intersection(polys[street_b].buffer(EDGE_BUFFER_M))
        edge = shapely.line_merge(shared)
        if edge.geom_type != "LineString":
            edge = max(edge.geoms, key=lambda g: g.length)
        if start != "south":
            raise ValueError(f"{POINTS_CSV}: edge start must be 'south'; found {start!r}")
        if edge.coords[0][1] > edge.coords[-1][1]:
            edge = shapely.reverse(edge)
        stop = edge.project(Point(self.point(end)))
        return [tuple(c) for c in substring(edge, 0.0, stop).coords]


def _crossing_clause(description: str) -> str:
    """Return the clause of a station description that names its crossing (else the first)."""
    clauses = [c for c in description.replace("。", "，").split("，") if c]
    for clause in clauses:
        if any(word in clause for word in ("交叉", "交汇", "路口", "交界", "交接")):
            return clause[:40]
    return clauses[0][:40] if clauses else ""


def _intersect(p1, p2, p3, p4) -> tuple[float, float]:
    """Crossing of the line p1-p2 with the line p3-p4 (both extended)."""
    (x1, y1), (x2, y2), (x3, y3), (x4, y4) = p1, p2, p3, p4
    den = (x1 - x2) * (y3 - y4) - (y1 - y2) * (x3 - x4)
    t = ((x1 - x3) * (y3 - y4) - (y1 - y3) * (x3 - x4)) / den
    return x1 + t * (x2 - x1), y1 + t * (y2 - y1)


def build_road(row: dict, anchors: Anchors, accuracy: dict[str, int]) -> dict:
    """Return the geometry and the location properties of one road row."""
    coords, methods, texts = [], [], []
    for token in row["vertices"].split():
        pts, method, text = anchors.resolve(token)
        for p in pts:
            if not coords or math.hypot(p[0] - coords[-1][0], p[1] - coords[-1][1]) > 0.5:
                coords.append(p)
        methods.append(method)
        texts.append(text)
    if len(coords) < 2:
        raise ValueError(f"{ROADS_CSV}: {row['id']} has fewer than two distinct vertices")
    method = max(methods, key=lambda m: accuracy.get(m, 0))
    lonlat = [[round(v, 6) for v in anchors.to_wgs84(x, y)] for x, y in coords]
    source = f"{row['extent']}. Vertices in order: " + "; ".join(texts)
    if row["length_source"]:
        source += f". Published length {row['length_km'] or '?'} km: {row['length_source']}"
    return {
        "geometry": {"type": "LineString", "coordinates": lonlat},
        "location_source": source,
        "location_method": method,
        "location_accuracy_m": accuracy[method],
        "notes": row["notes"],
    }


def rebuild(data: dict) -> dict:
    """Return a copy of the collection with the road features rebuilt."""
    import copy

    accuracy = read_accuracies()
    anchors = Anchors()
    rows = {r["id"]: r for r in _read_csv(ROADS_CSV)}
    out = copy.deepcopy(data)
    found = set()
    for feature in out["features"]:
        props = feature["properties"]
        row = rows.get(props["id"])
        if row is None:
            continue
        if props["category"] != "road":
            raise ValueError(f"{ROADS_CSV}: {props['id']} is a {props['category']}, not a road")
        built = build_road(row, anchors, accuracy)
        feature["geometry"] = built.pop("geometry")
        props.update(built)
        found.add(props["id"])
    missing = sorted(set(rows) - found)
    if missing:
        raise ValueError(f"{ROADS_CSV}: rows without a feature in {PROJECTS.name}: {missing}")
    logger.info("rebuilt %d road features", len(found))
    return out


def main(argv=None) -> int:
    """Rebuild (or with ``--check`` verify) the road features."""
    return run_rebuild(
        rebuild, what="road features", argv=argv, description=__doc__.splitlines()[0]
    )


if __name__ == "__main__":
    sys.exit(main())
