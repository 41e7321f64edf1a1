"""Careful reading of GeoJSON text, one feature at a time.

GDAL-based readers stop at the first broken feature, or silently coerce it.
Planners' hand-edited files deserve better: this module parses the JSON itself
and reports every problem with the file, the feature (id and index), the field,
what was expected and what was found.
"""

from __future__ import annotations

import json
import math
import sys

import shapely
from shapely.geometry import shape
from shapely.validation import explain_validity

from gongshu_geo.core.errors import InputError
from gongshu_geo.data.schema import BBOX_TOLERANCE_DEG, DISTRICT_BBOX, coerce_id, feature_label

GEOMETRY_TYPES = (
    "Point",
    "MultiPoint",
    "LineString",
    "MultiLineString",
    "Polygon",
    "MultiPolygon",
)


def decode_text(raw: bytes, source: str, *, encoding: str | None = None) -> str:
    """Decode file bytes, explaining a GBK file read as UTF-8."""
    if not raw.strip():
        raise InputError("the file is empty; expected a GeoJSON FeatureCollection", source=source)
    if encoding:
        try:
            return raw.decode(encoding)
        except (UnicodeDecodeError, LookupError) as exc:
            raise InputError(f"cannot be decoded as {encoding}: {exc}", source=source) from exc
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        try:
            raw.decode("gb18030")
        except UnicodeDecodeError:
            hint = "re-save it as UTF-8"
        else:
            hint = (
                "it looks GBK/GB18030-encoded (common for files saved on Chinese Windows); "
                "re-save it as UTF-8 or pass --encoding gbk"
            )
        raise InputError(
            f"is not valid UTF-8 (byte {exc.start}: {raw[exc.start : exc.start + 2]!r}); {hint}",
            source=source,
        ) from exc


def load_feature_collection(text: str, source: str) -> list:
    """Parse JSON text and return its list of features, or raise InputError."""
    try:
        data = json.loads(text)
    except RecursionError as exc:
        raise InputError(
            "is JSON nested too deeply to read (more than about "
            f"{sys.getrecursionlimit()} arrays or objects inside each other, where GeoJSON "
            "needs about ten); the file is broken or not GeoJSON",
            source=source,
        ) from exc
    except json.JSONDecodeError as exc:
        raise InputError(
            f"is not JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}); "
            "expected a GeoJSON FeatureCollection",
            source=source,
        ) from exc
    if not isinstance(data, dict) or "type" not in data:
        found = type(data).__name__ if not isinstance(data, dict) else 'an object without "type"'
        raise InputError(
            f'is JSON but not GeoJSON: expected an object with "type": "FeatureCollection"; '
            f"found {found}",
            source=source,
        )
    if data["type"] != "FeatureCollection":
        raise InputError(
            f'is JSON but not a GeoJSON FeatureCollection: "type" is {data["type"]!r}',
            source=source,
        )
    features = data.get("features")
    if not isinstance(features, list):
        raise InputError(
            f'"features" must be a list of GeoJSON features; found {type(features).__name__}',
            source=source,
        )
    if not features:
        raise InputError(
            "the FeatureCollection has no features; expected at least one", source=source
        )
    return features


def _walk_positions(coords, depth):
    """Yield every position of a coordinates array nested ``depth`` deep."""
    if depth == 0:
        yield coords
        return
    if not isinstance(coords, list):
        raise TypeError(f"expected a list at nesting depth {depth}, found {type(coords).__name__}")
    for item in coords:
        yield from _walk_positions(item, depth - 1)


_DEPTH = {
    "Point": 0,
    "MultiPoint": 1,
    "LineString": 1,
    "MultiLineString": 2,
    "Polygon": 2,
    "MultiPolygon": 3,
}


def check_coordinates(geom: dict, label: str, *, bbox=DISTRICT_BBOX) -> list[str]:
    """Problems with the raw coordinates of a GeoJSON geometry object."""
    gtype = geom.get("type")
    try:
        positions = list(_walk_positions(geom.get("coordinates"), _DEPTH[gtype]))
    except TypeError as exc:
        return [f'{label}: "coordinates" of a {gtype} are malformed ({exc})']
    if not positions:
        return [f"{label}: the {gtype} has no coordinates"]
    for pos in positions:
        if not isinstance(pos, list) or len(pos) < 2:
            return [f"{label}: a position must be [longitude, latitude]; found {pos!r}"]
        lon, lat = pos[0], pos[1]
        if isinstance(lon, str) or isinstance(lat, str):
            return [
                f"{label}: coordinates must be numbers; found text {pos[:2]!r} "
                "(remove the quotes around the numbers)"
            ]
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (lon, lat)):
            return [f"{label}: coordinates must be numbers; found {pos[:2]!r}"]
        if not (math.isfinite(lon) and math.isfinite(lat)):
            return [
                f"{label}: coordinates must be finite numbers; found {pos[:2]!r} (NaN or Infinity)"
            ]
    lons = [p[0] for p in positions]
    lats = [p[1] for p in positions]
    minx, miny, maxx, maxy = bbox
    tol = BBOX_TOLERANCE_DEG
    lon_c, lat_c = sum(lons) / len(lons), sum(lats) / len(lats)
    inside = minx - tol <= lon_c <= maxx + tol and miny - tol <= lat_c <= maxy + tol
    if not inside:
        swapped = minx - tol <= lat_c <= maxx + tol and miny - tol <= lon_c <= maxy + tol
        if swapped:
            return [
                f"{label}: latitude and longitude appear swapped (first position "
                f"{positions[0][:2]!r}); GeoJSON positions are [longitude, latitude]"
            ]
        if max(map(abs, lons)) > 180 or max(map(abs, lats)) > 90:
            return [
                f"{label}: coordinates {positions[0][:2]!r} are not longitude/latitude degrees; "
                "they look like metres in a projected CRS (e.g. EPSG:4549). GeoJSON must be "
                "WGS 84: reproject the file (e.g. ogr2ogr -t_srs EPSG:4326) or read it with its CRS"
            ]
        return [
            f"{label}: coordinates {positions[0][:2]!r} lie far outside Gongshu District "
            f"(expected longitude {minx}..{maxx}, latitude {miny}..{maxy}); check the CRS "
            "and the order of the numbers"
        ]
    return []


def check_rings_closed(geom: dict, label: str) -> list[str]:
    """Problems with polygon rings whose first and last positions differ."""
    gtype = geom.get("type")
    if gtype == "Polygon":
        polys = [geom["coordinates"]]
    elif gtype == "MultiPolygon":
        polys = geom["coordinates"]
    else:
        return []
    problems = []
    for poly in polys:
        for ring in poly:
            if len(ring) < 4:
                problems.append(
                    f"{label}: a polygon ring needs at least 4 positions (first repeated last); "
                    f"found {len(ring)}"
                )
            elif ring[0][:2] != ring[-1][:2]:
                problems.append(
                    f"{label}: a polygon ring is not closed (starts at {ring[0][:2]!r}, ends at "
                    f"{ring[-1][:2]!r}); repeat the first position at the end, "
                    "or use --fix-geometry"
                )
    return problems


def close_rings(geom: dict) -> dict:
    """Return a copy of a GeoJSON geometry with every polygon ring closed."""
    gtype = geom.get("type")
    if gtype not in ("Polygon", "MultiPolygon"):
        return geom
    polys = [geom["coordinates"]] if gtype == "Polygon" else geom["coordinates"]
    fixed = [[ring if ring[0] == ring[-1] else ring + [ring[0]] for ring in poly] for poly in polys]
    return {"type": gtype, "coordinates": fixed[0] if gtype == "Polygon" else fixed}


def parse_feature(feature, index: int, *, fix_geometry: bool = False):
    """Return (properties, shapely geometry or None, problems, fixes) for one raw feature."""
    if not isinstance(feature, dict) or feature.get("type") != "Feature":
        return (
            {},
            None,
            [f"feature #{index}: expected a GeoJSON Feature object; found {feature!r:.60}"],
            [],
        )
    props = feature.get("properties")
    if props is None:
        props = {}
    if not isinstance(props, dict):
        return (
            {},
            None,
            [f'feature #{index}: "properties" must be an object; found {props!r:.60}'],
            [],
        )
    props = dict(props)
    if "id" not in props and isinstance(feature.get("id"), (str, int)):
        props["id"] = feature["id"]  # RFC 7946 allows a string or a number
    if "id" in props:
        props["id"] = coerce_id(props["id"])
    label = feature_label(props.get("id"), index)
    geom = feature.get("geometry")
    if "geometry" not in feature:
        return (
            props,
            None,
            [f'{label}: has no "geometry" member; every project needs a location'],
            [],
        )
    if geom is None:
        return props, None, [f"{label}: geometry is null; every project needs a location"], []
    if not isinstance(geom, dict) or geom.get("type") not in GEOMETRY_TYPES:
        found = geom.get("type") if isinstance(geom, dict) else geom
        return (
            props,
            None,
            [
                f"{label}: unknown geometry type {found!r}; expected one of "
                f"{', '.join(GEOMETRY_TYPES)}"
            ],
            [],
        )
    problems = check_coordinates(geom, label)
    if problems:
        return props, None, problems, []
    fixes = []
    ring_problems = check_rings_closed(geom, label)
    if ring_problems:
        if not fix_geometry:
            return props, None, ring_problems, []
        geom = close_rings(geom)
        fixes.append(f"{label}: closed an unclosed polygon ring")
    try:
        shp = shape(geom)
    except (ValueError, TypeError, shapely.errors.GEOSException) as exc:
        return props, None, [f"{label}: geometry cannot be built ({exc})"], []
    if not shp.is_valid:
        reason = explain_validity(shp)
        if not fix_geometry:
            return (
                props,
                None,
                [
                    f"{label}: invalid {shp.geom_type} ({reason}); fix it in a GIS or pass "
                    "--fix-geometry to repair it with shapely.make_valid"
                ],
                [],
            )
        repaired = shapely.make_valid(shp)
        if repaired.geom_type == "GeometryCollection":
            polys = [g for g in repaired.geoms if g.geom_type in ("Polygon", "MultiPolygon")]
            repaired = shapely.unary_union(polys) if polys else repaired
        fixes.append(
            f"{label}: repaired invalid {shp.geom_type} ({reason}) with make_valid; "
            f"area {shp.area:.3g} -> {repaired.area:.3g} deg², now {repaired.geom_type}"
        )
        shp = repaired
    return props, shp, [], fixes
