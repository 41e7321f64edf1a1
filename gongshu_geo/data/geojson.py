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
from gongshu_geo.core.i18n import gettext as _
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
        raise InputError(
            _("the file is empty; expected a GeoJSON FeatureCollection"), source=source
        )
    if encoding:
        try:
            return raw.decode(encoding)
        except (UnicodeDecodeError, LookupError) as exc:
            raise InputError(
                _("cannot be decoded as {encoding}: {exc}").format(encoding=encoding, exc=exc),
                source=source,
            ) from exc
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        try:
            raw.decode("gb18030")
        except UnicodeDecodeError:
            hint = _("re-save it as UTF-8")
        else:
            hint = _(
                "it looks GBK/GB18030-encoded (common for files saved on Chinese Windows); "
                "re-save it as UTF-8 or pass --encoding gbk"
            )
        raise InputError(
            _("is not valid UTF-8 (byte {start}: {raw!r}); {hint}").format(
                start=exc.start, raw=raw[exc.start : exc.start + 2], hint=hint
            ),
            source=source,
        ) from exc


def load_feature_collection(text: str, source: str) -> list:
    """Parse JSON text and return its list of features, or raise InputError."""
    try:
        data = json.loads(text)
    except RecursionError as exc:
        raise InputError(
            _(
                "is JSON nested too deeply to read (more than about {limit} "
                "arrays or objects inside each other, where GeoJSON needs about ten); "
                "the file is broken or not GeoJSON"
            ).format(limit=sys.getrecursionlimit()),
            source=source,
        ) from exc
    except json.JSONDecodeError as exc:
        raise InputError(
            _(
                "is not JSON (line {lineno}, column {colno}: {msg}); expected a GeoJSON "
                "FeatureCollection"
            ).format(lineno=exc.lineno, colno=exc.colno, msg=exc.msg),
            source=source,
        ) from exc
    if not isinstance(data, dict) or "type" not in data:
        found = type(data).__name__ if not isinstance(data, dict) else 'an object without "type"'
        raise InputError(
            _(
                'is JSON but not GeoJSON: expected an object with "type": '
                '"FeatureCollection"; found {found}'
            ).format(found=found),
            source=source,
        )
    if data["type"] != "FeatureCollection":
        raise InputError(
            _('is JSON but not a GeoJSON FeatureCollection: "type" is {type!r}').format(
                type=data["type"]
            ),
            source=source,
        )
    features = data.get("features")
    if not isinstance(features, list):
        raise InputError(
            _('"features" must be a list of GeoJSON features; found {type}').format(
                type=type(features).__name__
            ),
            source=source,
        )
    if not features:
        raise InputError(
            _("the FeatureCollection has no features; expected at least one"), source=source
        )
    return features


def _walk_positions(coords, depth):
    """Yield every position of a coordinates array nested ``depth`` deep."""
    if depth == 0:
        yield coords
        return
    if not isinstance(coords, list):
        raise TypeError(
            _("expected a list at nesting depth {depth}, found {type}").format(
                depth=depth, type=type(coords).__name__
            )
        )
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
        return [
            _('{label}: "coordinates" of a {gtype} are malformed ({exc})').format(
                label=label, gtype=gtype, exc=exc
            )
        ]
    if not positions:
        return [_("{label}: the {gtype} has no coordinates").format(label=label, gtype=gtype)]
    for pos in positions:
        if not isinstance(pos, list) or len(pos) < 2:
            return [
                _("{label}: a position must be [longitude, latitude]; found {pos!r}").format(
                    label=label, pos=pos
                )
            ]
        lon, lat = pos[0], pos[1]
        if isinstance(lon, str) or isinstance(lat, str):
            return [
                _(
                    "{label}: coordinates must be numbers; found text {pos!r} (remove the "
                    "quotes around the numbers)"
                ).format(label=label, pos=pos[:2])
            ]
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (lon, lat)):
            return [
                _("{label}: coordinates must be numbers; found {pos!r}").format(
                    label=label, pos=pos[:2]
                )
            ]
        if not (math.isfinite(lon) and math.isfinite(lat)):
            return [
                _(
                    "{label}: coordinates must be finite numbers; found {pos!r} (NaN or Infinity)"
                ).format(label=label, pos=pos[:2])
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
                _(
                    "{label}: latitude and longitude appear swapped (first position "
                    "{positions!r}); GeoJSON positions are [longitude, latitude]"
                ).format(label=label, positions=positions[0][:2])
            ]
        if max(map(abs, lons)) > 180 or max(map(abs, lats)) > 90:
            return [
                _(
                    "{label}: coordinates {positions!r} are not longitude/latitude degrees; "
                    "they look like metres in a projected CRS (e.g. EPSG:4549). GeoJSON must "
                    "be WGS 84: reproject the file (e.g. ogr2ogr -t_srs EPSG:4326) or read "
                    "it with its CRS"
                ).format(label=label, positions=positions[0][:2])
            ]
        return [
            _(
                "{label}: coordinates {positions!r} lie far outside Gongshu District "
                "(expected longitude {minx}..{maxx}, latitude {miny}..{maxy}); check the "
                "CRS and the order of the numbers"
            ).format(
                label=label, positions=positions[0][:2], minx=minx, maxx=maxx, miny=miny, maxy=maxy
            )
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
                    _(
                        "{label}: a polygon ring needs at least 4 positions (first repeated "
                        "last); found {n_ring}"
                    ).format(label=label, n_ring=len(ring))
                )
            elif ring[0][:2] != ring[-1][:2]:
                problems.append(
                    _(
                        "{label}: a polygon ring is not closed (starts at {ring!r}, ends at "
                        "{ring2!r}); repeat the first position at the end, or use --fix-geometry"
                    ).format(label=label, ring=ring[0][:2], ring2=ring[-1][:2])
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
            [
                _(
                    "feature #{index}: expected a GeoJSON Feature object; found {feature!r:.60}"
                ).format(index=index, feature=feature)
            ],
            [],
        )
    props = feature.get("properties")
    if props is None:
        props = {}
    if not isinstance(props, dict):
        return (
            {},
            None,
            [
                _('feature #{index}: "properties" must be an object; found {props!r:.60}').format(
                    index=index, props=props
                )
            ],
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
            [
                _('{label}: has no "geometry" member; every project needs a location').format(
                    label=label
                )
            ],
            [],
        )
    if geom is None:
        return (
            props,
            None,
            [_("{label}: geometry is null; every project needs a location").format(label=label)],
            [],
        )
    if not isinstance(geom, dict) or geom.get("type") not in GEOMETRY_TYPES:
        found = geom.get("type") if isinstance(geom, dict) else geom
        return (
            props,
            None,
            [
                _(
                    "{label}: unknown geometry type {found!r}; expected one of {geometry_types}"
                ).format(label=label, found=found, geometry_types=", ".join(GEOMETRY_TYPES))
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
        fixes.append(_("{label}: closed an unclosed polygon ring").format(label=label))
    try:
        shp = shape(geom)
    except (ValueError, TypeError, shapely.errors.GEOSException) as exc:
        return (
            props,
            None,
            [_("{label}: geometry cannot be built ({exc})").format(label=label, exc=exc)],
            [],
        )
    if not shp.is_valid:
        reason = explain_validity(shp)
        if not fix_geometry:
            return (
                props,
                None,
                [
                    _(
                        "{label}: invalid {geom_type} ({reason}); fix it in a GIS or pass "
                        "--fix-geometry to repair it with shapely.make_valid"
                    ).format(label=label, geom_type=shp.geom_type, reason=reason)
                ],
                [],
            )
        repaired = shapely.make_valid(shp)
        if repaired.geom_type == "GeometryCollection":
            polys = [g for g in repaired.geoms if g.geom_type in ("Polygon", "MultiPolygon")]
            repaired = shapely.unary_union(polys) if polys else repaired
        fixes.append(
            _(
                "{label}: repaired invalid {geom_type} ({reason}) with make_valid; area "
                "{area:.3g} -> {area2:.3g} deg², now {geom_type2}"
            ).format(
                label=label,
                geom_type=shp.geom_type,
                reason=reason,
                area=shp.area,
                area2=repaired.area,
                geom_type2=repaired.geom_type,
            )
        )
        shp = repaired
    return props, shp, [], fixes
