"""The project schema: categories, statuses, required properties, and validation.

Validation gathers *every* problem before it raises, so a planner fixing a
hand-edited file sees the whole list at once. Each problem names the feature by
its id and its position (``#index``, counting from 0), the field, what was
expected and what was found.
"""

from __future__ import annotations

import math
import re

from ._errors import ValidationError

#: category -> (Chinese label, id prefix, allowed geometry types)
CATEGORIES = {
    "park": ("公园绿地", "PARK", ("Polygon", "MultiPolygon", "Point")),
    "greenway": ("绿道", "GWAY", ("LineString", "MultiLineString")),
    "road": ("道路", "ROAD", ("LineString", "MultiLineString")),
    "metro_line": ("地铁线路", "MLINE", ("LineString", "MultiLineString")),
    "metro_station": ("地铁站点", "MSTN", ("Point",)),
    "future_community": ("未来社区", "FCOM", ("Polygon", "MultiPolygon", "Point")),
    "historic_district": ("历史文化街区", "HIST", ("Polygon", "MultiPolygon", "Point")),
    "cultural_venue": ("文化设施", "CULT", ("Point", "Polygon", "MultiPolygon")),
    "sports_venue": ("体育设施", "SPRT", ("Point", "Polygon", "MultiPolygon")),
    "public_service": ("公共服务设施", "PUBS", ("Point", "Polygon", "MultiPolygon")),
    "development_block": ("重点区块", "BLOCK", ("Polygon", "MultiPolygon", "Point")),
    "river": ("河道", "RIVER", ("LineString", "MultiLineString")),
    "spoil_dock": ("渣土码头搬迁", "DOCK", ("Point", "Polygon", "MultiPolygon")),
}

#: status -> Chinese label
STATUSES = {
    "planned": "规划",
    "under_construction": "在建",
    "completed": "建成(十四五期间)",
    "existing": "现状",
}

#: Properties every feature must carry, with their Python types.
REQUIRED_PROPERTIES = {
    "id": str,
    "name": str,
    "name_en": str,
    "category": str,
    "subcategory": str,
    "status": str,
    "period": str,
    "plan_ref": str,
    "location_source": str,
    "location_accuracy_m": (int, float),
}

#: How a feature's geometry was placed (``location_method``), from the strongest evidence
#: to the weakest. Each method's accuracy is calibrated in ``data/location_methods.csv``.
LOCATION_METHODS = {
    "source_coordinates": "coordinates taken from a source, converted to WGS 84",
    "named_crossing": "at a named road crossing, through an anchor at that crossing",
    "described_extent": "a published extent (东至…南至…) or a named course",
    "address": "from a street address",
    "street_boundary": "along an edge of the street polygons",
    "text_only": "from the text and general knowledge, no coordinate evidence",
}

#: Optional numeric targets the plan states for a single feature.
OPTIONAL_NUMERIC = ("target_length_km", "target_area_m2", "target_count")

ID_PATTERN = re.compile(r"^P-[A-Z]+-\d{3,}$")

#: A generous box around Gongshu District (WGS 84), for "far outside" checks.
DISTRICT_BBOX = (120.05, 30.20, 120.30, 30.45)  # minx, miny, maxx, maxy
#: How far beyond that box a coordinate may lie before it is an error, in degrees.
BBOX_TOLERANCE_DEG = 0.15


def feature_label(fid, index) -> str:
    """How problems name a feature: ``feature "P-PARK-001" (#3)``."""
    if fid is None or (isinstance(fid, float) and math.isnan(fid)) or fid == "":
        return f"feature #{index}"
    return f'feature "{fid}" (#{index})'


def _one_of(values) -> str:
    return ", ".join(values)


def check_properties(props: dict, index: int, *, seen_ids: dict | None = None) -> list[str]:
    """Return the problems with one feature's properties (empty when valid).

    Parameters
    ----------
    props : dict
        The feature's properties.
    index : int
        Its position in the file, counting from 0.
    seen_ids : dict, optional
        id -> first index, shared across calls to detect duplicates.
    """
    problems = []
    fid = props.get("id")
    label = feature_label(fid, index)
    for field, kind in REQUIRED_PROPERTIES.items():
        value = props.get(field)
        if value is None or (isinstance(value, float) and math.isnan(value)) or value == "":
            problems.append(f'{label}: required property "{field}" is missing')
            continue
        if isinstance(value, bool) or not isinstance(value, kind):
            expected = "a number" if kind == (int, float) else "text"
            problems.append(
                f'{label}: "{field}" must be {expected}; found {value!r} ({type(value).__name__})'
            )
    if isinstance(fid, str) and fid and not ID_PATTERN.match(fid):
        problems.append(
            f'{label}: "id" must look like P-PARK-001 '
            f"(P-, capital letters, -, three or more digits); found {fid!r}"
        )
    category = props.get("category")
    if isinstance(category, str) and category and category not in CATEGORIES:
        problems.append(
            f'{label}: "category" must be one of {_one_of(CATEGORIES)}; found {category!r}'
        )
    elif category in CATEGORIES and isinstance(fid, str) and ID_PATTERN.match(fid):
        prefix = CATEGORIES[category][1]
        if fid.split("-")[1] != prefix:
            problems.append(
                f'{label}: "id" of a {category} must start with P-{prefix}-; found {fid!r}'
            )
    status = props.get("status")
    if isinstance(status, str) and status and status not in STATUSES:
        problems.append(f'{label}: "status" must be one of {_one_of(STATUSES)}; found {status!r}')
    method = props.get("location_method")
    if method is not None and method not in LOCATION_METHODS:
        problems.append(
            f'{label}: "location_method" must be one of {_one_of(LOCATION_METHODS)}; '
            f"found {method!r}"
        )
    acc = props.get("location_accuracy_m")
    if isinstance(acc, (int, float)) and not isinstance(acc, bool):
        if not math.isfinite(acc) or acc <= 0:
            problems.append(
                f'{label}: "location_accuracy_m" must be a positive number of metres; found {acc!r}'
            )
    for field in OPTIONAL_NUMERIC:
        value = props.get(field)
        if value is None or (isinstance(value, float) and math.isnan(value)):
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            problems.append(
                f'{label}: "{field}" must be a non-negative number when given; found {value!r}'
            )
    if seen_ids is not None and isinstance(fid, str) and fid:
        if fid in seen_ids:
            problems.append(
                f'{label}: duplicate "id" {fid!r}, first used by feature #{seen_ids[fid]}; '
                "every id must be unique"
            )
        else:
            seen_ids[fid] = index
    return problems


def check_geometry_type(category, geom_type, label) -> list[str]:
    """Problems when a geometry type does not fit the feature's category."""
    if category not in CATEGORIES or geom_type is None:
        return []
    allowed = CATEGORIES[category][2]
    if geom_type not in allowed:
        return [
            f"{label}: a {category} must be a {' or '.join(allowed)} geometry; found {geom_type}"
        ]
    return []


def raise_if_problems(problems, source) -> None:
    """Raise one :class:`ValidationError` listing every problem, if there are any."""
    if problems:
        raise ValidationError(problems, source=source)
