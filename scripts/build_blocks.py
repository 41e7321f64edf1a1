"""Rebuild the development blocks and future communities that a source bounds or places.

Inputs, all under ``data/sources/``:

``blocks/blocks.csv``
    One row per feature this script owns: the published extent (东至…南至…) and area
    with their pages, the placement method and its accuracy, and a note.
``blocks/sides.csv``
    How each side of a polygon is placed, one row per side:

    - ``anchors``: a line through the public-bicycle stations named for the road
      (``blocks/bike_stations.csv``, a verbatim subset of NMSN/CitiBike
      ``lib/baiduMarkers.js``, Baidu BD-09), ordered along their main axis and
      extended straight beyond the ends;
    - ``edge``: a river that is a street's edge: the named streets of
      ``boundaries/streets.geojson`` are cut away (``within``: all but the named
      streets are);
    - ``outline``: the district outline (``boundaries/district.geojson``);
    - ``station_parallel`` / ``station_perp``: a straight line through a metro station
      (``openmetro/stations.json``, AMap, GCJ-02) parallel or at right angles to
      another side;
    - ``feature``: a line of this file (the canal), keeping the part of the district
      on the side of a named station;
    - ``same``: a side already placed for another block;
    - ``fit_perp``: a side no source anchors: a straight line at right angles to
      another side, moved until the polygon has the published area;
    - ``rect``: a small site: a rectangle on the named side, its far side through an
      anchor, centred on that anchor and as wide as the published area needs.

    Blocks given street by street (``STREET_BLOCKS``), ``buffer:<line>:<metres>``
    geometries (a belt the plan bounds by its distance from a line) and
    ``point:<station>[;<station>…]`` geometries (a block placed at the station, or the
    mean of the stations, whose description names it) need no sides.

Everything is measured in EPSG:4549; conversions use ``gongshu_geo.core.crs``. The script
rewrites only its own features (their geometry, ``location_source``,
``location_accuracy_m``, ``location_method``, ``area_m2_source`` and ``notes``; a new
feature gets all its properties) under the lock of ``_projects_file``. ``--check``
rebuilds in memory and exits 1 when the committed file differs.
"""

from __future__ import annotations

import csv
import json
import logging
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
for path in (REPO, REPO / "scripts"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from _projects_file import run_rebuild  # noqa: E402
from derive_schedule import schedule_from_period  # noqa: E402

logger = logging.getLogger("build_blocks")

SOURCES = REPO / "data" / "sources"
BLOCKS_CSV = SOURCES / "blocks" / "blocks.csv"
SIDES_CSV = SOURCES / "blocks" / "sides.csv"
BIKES_CSV = SOURCES / "blocks" / "bike_stations.csv"
STATIONS_JSON = SOURCES / "openmetro" / "stations.json"
STREETS = REPO / "data" / "boundaries" / "streets.geojson"
DISTRICT = REPO / "data" / "boundaries" / "district.geojson"
METRIC = "EPSG:4549"
#: How far an anchored line is carried straight beyond its end anchors, metres.
EXTEND_M = 30_000.0
#: A fitted side is placed until the polygon's area is within this share of the target.
FIT_TOLERANCE = 1e-5
#: Grid the metric geometries are snapped to before overlays, metres.
GRID_M = 0.01
BIKE_SOURCE = (
    "NMSN/CitiBike lib/baiduMarkers.js @ c42b82f3ab24edb176d00cb9304d8c8aec3580aa "
    "(Hangzhou public-bicycle stations, Baidu BD-09; converted with gongshu_geo.core.crs."
    "bd09_to_gcj02 and gcj02_to_wgs84)"
)
STATION_SOURCE = (
    "Naptie/openmetro data/cn-hangzhou/stations.json @ 24e90d8 (AMap, GCJ-02, converted "
    "with gongshu_geo.core.crs.gcj02_to_wgs84)"
)
STREETS_SOURCE = (
    "data/boundaries/streets.geojson (LonelyFarer/zjProvince @ 2a88554 fitted to the AMap outline)"
)
#: Properties of a feature this script writes; everything else is left as it is.
OWNED = (
    "location_source",
    "location_accuracy_m",
    "location_method",
    "area_m2_source",
    "notes",
)
#: Features this script adds (not in the earlier data), with their plan properties.
NEW_FEATURES = {
    "P-BLOCK-030": {
        "name": "大运河文化产业带",
        "name_en": "Grand Canal Cultural Industry Belt",
        "category": "development_block",
        "subcategory": "industrial_belt",
        "status": "planned",
        "period": "2021-2025",
        "plan_ref": "第一章 第五节; 第二章 第八节",
    },
    "P-FCOM-005": {
        "name": "万家星城",
        "name_en": "Wanjia Xingcheng Future Community",
        "category": "future_community",
        "subcategory": "community",
        "status": "planned",
        "period": "2021-2025",
        "plan_ref": "第三章 第十四节",
    },
    "P-BLOCK-029": {
        "name": "汽车互联网小镇",
        "name_en": "Automotive Internet Town",
        "category": "development_block",
        "subcategory": "characteristic_town",
        "status": "planned",
        "period": "2021-2025",
        "plan_ref": "第二章 第八节",
    },
}


def _to_metric():
    from pyproj import Transformer

    return Transformer.from_crs("EPSG:4326", METRIC, always_xy=True)


def _to_wgs84():
    from pyproj import Transformer

    return Transformer.from_crs(METRIC, "EPSG:4326", always_xy=True)


def _project(geom, transformer):
    """Return ``geom`` with every coordinate passed through a pyproj transformer."""
    import numpy as np
    import shapely

    return shapely.transform(
        geom, lambda xy: np.column_stack(transformer.transform(xy[:, 0], xy[:, 1]))
    )


def read_rows(path: Path) -> list[dict]:
    """Return the rows of one of the CSV inputs."""
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def read_bikes(path: Path = BIKES_CSV) -> dict:
    """Return ``stationId -> (name, Point in EPSG:4549)`` for the bicycle stations."""
    from shapely.geometry import Point

    from gongshu_geo.core.crs import bd09_to_gcj02, gcj02_to_wgs84

    to_metric = _to_metric()
    out = {}
    for row in read_rows(path):
        gx, gy = bd09_to_gcj02(float(row["baiduX"]), float(row["baiduY"]))
        lon, lat = gcj02_to_wgs84(gx, gy)
        out[row["stationId"]] = (row["stationName"], Point(to_metric.transform(lon, lat)))
    return out


def read_stations(path: Path = STATIONS_JSON) -> dict:
    """Return ``station id -> (name, Point in EPSG:4549, (lon, lat) WGS 84)``."""
    from shapely.geometry import Point

    from gongshu_geo.core.crs import gcj02_to_wgs84

    to_metric = _to_metric()
    out = {}
    for record in json.loads(path.read_text(encoding="utf-8"))["records"]:
        loc = record["location"]
        if loc["crs"] != "gcj02":
            raise ValueError(f"{path}: station {record['id']!r}: expected crs gcj02")
        lon, lat = gcj02_to_wgs84(loc["lon"], loc["lat"])
        out[record["id"]] = (record["name"], Point(to_metric.transform(lon, lat)), (lon, lat))
    return out


def _read_metric(path: Path, key: str | None = None):
    import geopandas as gpd
    import shapely

    frame = gpd.read_file(path).to_crs(METRIC)
    geoms = shapely.set_precision(shapely.make_valid(frame.geometry.values), GRID_M)
    if key is None:
        return shapely.union_all(geoms)
    return {str(k).removesuffix("街道"): g for k, g in zip(frame[key], geoms, strict=True)}


def _axis(points: list):
    """Return the unit vector of the points' main axis, pointing east (or north when vertical)."""
    import numpy as np

    xy = np.array([[p.x, p.y] for p in points])
    axis = np.linalg.svd(xy - xy.mean(axis=0), full_matrices=False)[2][0]
    if axis[0] < 0 or (axis[0] == 0 and axis[1] < 0):
        axis = -axis
    return axis, xy.mean(axis=0)


def _anchored_line(points: list):
    """Line through the points in order along their main axis, carried on past both ends."""
    import numpy as np
    from shapely.geometry import LineString

    axis, centre = _axis(points)
    xy = np.array([[p.x, p.y] for p in points])
    xy = xy[np.argsort((xy - centre) @ axis)]
    return LineString([xy[0] - EXTEND_M * axis, *xy, xy[-1] + EXTEND_M * axis])


def _straight_line(point, direction):
    from shapely.geometry import LineString

    x, y = point
    dx, dy = direction
    return LineString(
        [(x - EXTEND_M * dx, y - EXTEND_M * dy), (x + EXTEND_M * dx, y + EXTEND_M * dy)]
    )


def _half(line, side: str, frame):
    """Return the part of ``frame`` on the block's side of a line that bounds it on ``side``."""
    from shapely.geometry import Polygon
    from shapely.ops import split

    pieces = list(split(frame, line).geoms)
    if len(pieces) < 2:  # the line misses the frame: all of it, or none, is on the block's side
        c = frame.centroid
        q = line.interpolate(line.project(c))
        dx, dy = c.x - q.x, c.y - q.y
        inside = {"N": dy < 0, "S": dy > 0, "E": dx < 0, "W": dx > 0}[side]
        return frame if inside else Polygon()
    pick = {
        "N": lambda g: -g.centroid.y,
        "S": lambda g: g.centroid.y,
        "E": lambda g: -g.centroid.x,
        "W": lambda g: g.centroid.x,
    }[side]
    import shapely

    return _largest(shapely.set_precision(max(pieces, key=pick), GRID_M))


def _largest(geom):
    """Return the largest polygon of a geometry that may be a collection of several kinds."""
    from shapely.geometry import Polygon

    parts = [
        g for g in getattr(geom, "geoms", [geom]) if g.geom_type in ("Polygon", "MultiPolygon")
    ]
    polygons = [p for g in parts for p in getattr(g, "geoms", [g])]
    return max(polygons, key=lambda g: g.area) if polygons else Polygon()


class _Context:
    """The sources every block is built from, read once."""

    def __init__(self, projects: dict):
        from shapely.geometry import shape

        self.bikes = read_bikes()
        self.stations = read_stations()
        self.streets = _read_metric(STREETS, "name")
        self.district = _read_metric(DISTRICT)
        self.frame = self.district.envelope.buffer(10_000.0).envelope
        to_metric = _to_metric()
        self.lines = {}
        for feature in projects["features"]:
            geom = feature["geometry"]
            if geom and geom["type"] in ("LineString", "MultiLineString"):
                self.lines[feature["properties"]["id"]] = _project(shape(geom), to_metric)
        self.placed = {}  # "ID:SIDE" -> line, for sides shared between blocks

    def anchor_points(self, ref: str) -> list:
        return [self.bikes[i][1] for i in ref.split(";")]


def _side_axis(ctx: _Context, block_sides: dict, letter: str):
    row = block_sides[letter][0]
    if row["kind"] != "anchors":
        raise ValueError(
            f"{SIDES_CSV}: {row['id']} side {letter} must be anchored to give a direction"
        )
    return _axis(ctx.anchor_points(row["ref"]))


def _keep(ctx: _Context, row: dict, block_sides: dict):
    """Return the region a side keeps, or None for the outline (already the start)."""
    import numpy as np

    kind, ref, side = row["kind"], row["ref"], row["side"]
    if kind == "outline":
        return None
    if kind == "edge":
        import shapely

        far = shapely.union_all([ctx.streets[name] for name in ref.split(";")])
        return shapely.difference(ctx.frame, far, grid_size=GRID_M)
    if kind == "within":
        import shapely

        return shapely.union_all([ctx.streets[name] for name in ref.split(";")])
    if kind == "anchors":
        line = _anchored_line(ctx.anchor_points(ref))
    elif kind in ("station_parallel", "station_perp"):
        station, other = ref.split("@")
        axis, _ = _side_axis(ctx, block_sides, other)
        if kind == "station_perp":
            axis = np.array([-axis[1], axis[0]])
        point = ctx.stations[station][1]
        line = _straight_line((point.x, point.y), axis)
    elif kind == "same":
        line = ctx.placed[ref]
    elif kind == "feature":
        from shapely.ops import split

        fid, station = ref.split("@")
        seed = ctx.stations[station][1]
        pieces = [g for g in split(ctx.district, ctx.lines[fid]).geoms if g.contains(seed)]
        if not pieces:
            raise ValueError(f"{SIDES_CSV}: {row['id']}: {station} is on no side of {fid}")
        return pieces[0]
    else:
        raise ValueError(f"{SIDES_CSV}: {row['id']} side {side}: unknown kind {kind!r}")
    ctx.placed[f"{row['id']}:{side}"] = line
    return _half(line, side, ctx.frame)


def _fit(ctx: _Context, base, row: dict, block_sides: dict, target_m2: float):
    """Place an unanchored side so that the polygon has ``target_m2``; return the polygon."""
    import numpy as np
    import shapely

    axis, centre = _side_axis(ctx, block_sides, row["ref"])
    direction = np.array([-axis[1], axis[0]])  # at right angles to the reference side

    def polygon(t):  # the side, moved ``t`` metres along the reference side
        line = _straight_line(tuple(centre + t * axis), direction)
        half = _half(line, row["side"], ctx.frame)
        return _largest(shapely.intersection(base, half, grid_size=GRID_M)), line

    lo, hi = -20_000.0, 20_000.0
    grows = polygon(hi)[0].area >= polygon(lo)[0].area
    reach = polygon(hi if grows else lo)
    if reach[0].area < target_m2:  # the other sides leave less land than published
        logger.info("%s: the %s side cannot reach the published area", row["id"], row["side"])
        ctx.placed[f"{row['id']}:{row['side']}"] = reach[1]
        return reach[0]
    for _ in range(80):
        mid = (lo + hi) / 2
        area = polygon(mid)[0].area
        if abs(area - target_m2) <= FIT_TOLERANCE * target_m2:
            break
        if (area < target_m2) == grows:
            lo = mid
        else:
            hi = mid
    geom, line = polygon(mid)
    ctx.placed[f"{row['id']}:{row['side']}"] = line
    return geom


def _rect(ctx: _Context, block_sides: dict, row: dict, target_m2: float):
    """Return a site on the anchored side, its far side through an anchor, of the target area."""
    import numpy as np
    from shapely.geometry import Polygon

    axis, _ = _side_axis(ctx, block_sides, "N")
    road = _anchored_line(ctx.anchor_points(block_sides["N"][0]["ref"]))
    anchor = ctx.bikes[row["ref"]][1]
    foot = road.interpolate(road.project(anchor))
    depth_vec = np.array([anchor.x - foot.x, anchor.y - foot.y])
    depth = float(np.hypot(*depth_vec))
    half_width = target_m2 / depth / 2
    f = np.array([foot.x, foot.y])
    corners = [f - half_width * axis, f + half_width * axis]
    corners += [corners[1] + depth_vec, corners[0] + depth_vec]
    return Polygon(corners)


def build_geometry(ctx: _Context, block: dict, sides: list[dict]):
    """Return the block's geometry in EPSG:4549."""
    import shapely

    if block["geometry"].startswith("point:"):
        from shapely.geometry import MultiPoint

        ids = block["geometry"].split(":", 1)[1].split(";")
        return MultiPoint([ctx.stations[i][1] for i in ids]).centroid
    block_sides = {}
    for row in sides:
        block_sides.setdefault(row["side"], []).append(row)
    target = float(block["area_m2"]) if block["area_m2"] else None
    rect = [r for r in sides if r["kind"] == "rect"]
    if rect:
        return _rect(ctx, block_sides, rect[0], target)
    geom = ctx.district
    fitted = []
    for row in sides:
        if row["kind"] == "fit_perp":
            fitted.append(row)
            continue
        keep = _keep(ctx, row, block_sides)
        if keep is not None:
            geom = _largest(
                shapely.intersection(
                    geom,
                    _largest(keep) if keep.geom_type != "MultiPolygon" else keep,
                    grid_size=GRID_M,
                )
            )
    geom = _largest(shapely.make_valid(geom))
    for row in fitted:
        geom = _fit(ctx, geom, row, block_sides, target)
    return geom


def _street_union(ctx: _Context, names: list[str]):
    import shapely

    return shapely.union_all([ctx.streets[n] for n in names])


def _to_geojson(geom) -> dict:
    import shapely
    from shapely.geometry import mapping
    from shapely.ops import orient

    wgs = _project(geom, _to_wgs84())
    wgs = shapely.set_precision(wgs, 1e-6)
    if wgs.geom_type == "Polygon":
        wgs = orient(wgs)
    elif wgs.geom_type == "MultiPolygon":
        wgs = type(wgs)([orient(p) for p in wgs.geoms])
    out = mapping(wgs)
    return json.loads(json.dumps(out))  # tuples -> lists, as the file stores them


def _describe(block: dict, sides: list[dict], area_m2: float | None) -> tuple[str, str]:
    """Return ``location_source`` and ``notes`` for a block."""
    source = f"extent '{block['extent_quote']}' ({block['extent_source']})"
    if block["area_quote"]:
        source += f"; area '{block['area_quote']}' ({block['area_source']})"
    if block["geometry"].startswith("point:"):
        where = "that station's AMap position"
        if ";" in block["geometry"]:
            where = "the mean of those stations' AMap positions"
        source += f"; point = {where}, " + STATION_SOURCE
    elif block["geometry"].startswith("buffer:"):
        _, line_id, width = block["geometry"].split(":")
        source += f"; polygon = {line_id} buffered by {width} m, inside {DISTRICT.name}"
    elif block["method"] == "street_boundary":
        source += f"; polygon = the union of those streets in {STREETS_SOURCE}"
    else:
        how = "; ".join(f"{r['side']}: {r['note']}" for r in sides)
        source += (
            f"; polygon built by scripts/build_blocks.py, sides: {how}. Anchors: {BIKE_SOURCE}; "
            f"stations: {STATION_SOURCE}; street edges and outline: {STREETS_SOURCE}"
        )
    notes = block["notes"]
    if area_m2 is not None and block["area_m2"]:
        published = float(block["area_m2"])
        diff = 100 * (area_m2 - published) / published
        notes += (
            f" Polygon {area_m2 / 1e6:.3f} km² in EPSG:4549 against {published / 1e6:.3f} km² "
            f"published ({diff:+.1f} %)."
        )
    elif area_m2 is not None:
        notes += f" Polygon {area_m2 / 1e6:.3f} km² in EPSG:4549 (no published area)."
    return source, notes


STREET_BLOCKS = {"P-BLOCK-014": ["天水", "武林", "长庆", "朝晖", "米市巷"]}


def rebuild(data: dict) -> dict:
    """Return a copy of the collection with this script's features rebuilt."""
    import copy

    from shapely.geometry import shape

    data = copy.deepcopy(data)
    ctx = _Context(data)
    sides = read_rows(SIDES_CSV)
    by_id = {f["properties"]["id"]: f for f in data["features"]}
    to_metric = _to_metric()
    for block in read_rows(BLOCKS_CSV):
        fid = block["id"]
        own = [r for r in sides if r["id"] == fid]
        if fid in STREET_BLOCKS:
            geom = _street_union(ctx, STREET_BLOCKS[fid])
        elif block["geometry"].startswith("buffer:"):
            _, line_id, width = block["geometry"].split(":")
            geom = _largest(ctx.lines[line_id].buffer(float(width)).intersection(ctx.district))
        else:
            geom = build_geometry(ctx, block, own)
        geometry = _to_geojson(geom)
        shipped = _project(shape(geometry), to_metric)
        area = shipped.area if shipped.geom_type != "Point" else None
        source, notes = _describe(block, own, area)
        feature = by_id.get(fid)
        if feature is None:
            props = {"id": fid, **NEW_FEATURES[fid]}
            props.update(schedule_from_period(props))
            feature = {"type": "Feature", "properties": props, "geometry": None}
            data["features"].append(feature)
            by_id[fid] = feature
        props = feature["properties"]
        props.pop("area_m2_source", None)
        values = {
            "location_source": source,
            "location_accuracy_m": int(block["accuracy_m"]),
            "location_method": block["method"],
            "notes": notes,
        }
        if block["area_quote"] and area is not None:
            values["area_m2_source"] = f"{block['area_quote']} ({block['area_source']})"
        props.update(values)
        feature["geometry"] = geometry
        logger.info("%s %s: %s", fid, props["name"], geometry["type"])
    data["features"] = _in_id_order(data["features"])
    return data


def _in_id_order(features: list[dict]) -> list[dict]:
    """Put each added feature right after the feature of its prefix with the next lower id.

    The other scripts keep their own features where they are (the baseline ones last),
    so an added block goes beside its kind rather than at the end of the file.
    """
    added = [f for f in features if f["properties"]["id"] in NEW_FEATURES]
    out = [f for f in features if f["properties"]["id"] not in NEW_FEATURES]
    for feature in sorted(added, key=lambda f: f["properties"]["id"]):
        fid = feature["properties"]["id"]
        prefix = fid.rsplit("-", 1)[0]
        before = [
            i
            for i, f in enumerate(out)
            if f["properties"]["id"].rsplit("-", 1)[0] == prefix and f["properties"]["id"] < fid
        ]
        out.insert(before[-1] + 1 if before else len(out), feature)
    return out


def main(argv=None) -> int:
    """Rebuild (or with ``--check`` verify) the development blocks placed from sources."""
    return run_rebuild(
        rebuild, what="block features", argv=argv, description=__doc__.splitlines()[0]
    )


if __name__ == "__main__":
    sys.exit(main())
