"""The project schema: categories, statuses, required properties, and validation.

Validation gathers *every* problem before it raises, so a planner fixing a
hand-edited file sees the whole list at once. Each problem names the feature by
its id and its position (``#index``, counting from 0), the field, what was
expected and what was found.
"""

from __future__ import annotations

import math
import re

from gongshu_geo.core.errors import InputError, ValidationError
from gongshu_geo.core.i18n import gettext as _
from gongshu_geo.core.problems import Problem

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

#: The years a schedule may name (``start_year``, ``end_year``, ``status_log`` dates).
SCHEDULE_YEARS = (2000, 2050)
_LOG_DATE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")

#: Optional numeric targets the plan states for a single feature.
OPTIONAL_NUMERIC = ("target_length_km", "target_area_m2", "target_count")

#: The packaged data's id convention, ``P-<CATEGORY PREFIX>-NNN`` (three or more digits).
#: A user's own file needs only unique, non-empty ids; the convention is checked there
#: only on request (``--strict``), and then as a warning.
ID_PATTERN = re.compile(r"^P-[A-Z]+-\d{3,}$")

#: A generous box around Gongshu District (WGS 84), for "far outside" checks.
DISTRICT_BBOX = (120.05, 30.20, 120.30, 30.45)  # minx, miny, maxx, maxy
#: How far beyond that box a coordinate may lie before it is an error, in degrees.
BBOX_TOLERANCE_DEG = 0.15


def feature_label(fid, index) -> str:
    """How problems name a feature: ``feature "P-PARK-001" (#3)``."""
    if fid is None or (isinstance(fid, float) and math.isnan(fid)) or fid == "":
        return _("feature #{index}").format(index=index)
    return _('feature "{id}" (#{index})').format(id=fid, index=index)


def _one_of(values) -> str:
    return ", ".join(values)


def coerce_id(value):
    """Return a feature id as text: integers (and whole floats, as GDAL reads them) become strings.

    Text is stripped of surrounding spaces; anything else is returned as it is,
    for :func:`check_properties` to report.
    """
    if isinstance(value, bool):
        return value
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        value = int(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return value.strip()
    return value


def check_id_convention(props: dict, index: int) -> list[str]:
    """Problems with the packaged data's id convention, ``P-<PREFIX>-NNN``.

    The prefix must be the category's (``P-PARK-`` for a park) and the number
    have three or more digits (``P-PARK-1000`` is fine).
    """
    fid = props.get("id")
    if not isinstance(fid, str) or not fid:
        return []
    label = feature_label(fid, index)
    parts = {"index": index, "fid": fid, "field": "id", "found": repr(fid)}
    if not ID_PATTERN.match(fid):
        return [
            Problem(
                _(
                    '{label}: "id" must look like P-PARK-001 (P-, capital letters, -, three '
                    "or more digits); found {fid!r}"
                ).format(label=label, fid=fid),
                expected="P-<CATEGORY>-NNN",
                kind=_('"id" does not follow the P-<CATEGORY>-NNN convention'),
                **parts,
            )
        ]
    category = props.get("category")
    if category in CATEGORIES:
        prefix = CATEGORIES[category][1]
        if fid.split("-")[1] != prefix:
            return [
                Problem(
                    _(
                        '{label}: "id" of a {category} must start with P-{prefix}-; found {fid!r}'
                    ).format(label=label, category=category, prefix=prefix, fid=fid),
                    expected=f"P-{prefix}-NNN",
                    kind=_('"id" prefix does not match the category'),
                    **parts,
                )
            ]
    return []


def check_properties(
    props: dict, index: int, *, seen_ids: dict | None = None, id_convention: bool = True
) -> list[str]:
    """Return the problems with one feature's properties (empty when valid).

    Parameters
    ----------
    props : dict
        The feature's properties (ids already passed through :func:`coerce_id`).
    index : int
        Its position in the file, counting from 0.
    seen_ids : dict, optional
        id -> first index, shared across calls to detect duplicates.
    id_convention : bool
        Also require the packaged data's ``P-<PREFIX>-NNN`` ids
        (:func:`check_id_convention`). A user's own file needs only a unique,
        non-empty id.
    """
    problems = []
    fid = props.get("id")
    label = feature_label(fid, index)
    for field, kind in REQUIRED_PROPERTIES.items():
        value = props.get(field)
        if value is None or (isinstance(value, float) and math.isnan(value)) or value == "":
            problems.append(
                Problem(
                    _('{label}: required property "{field}" is missing').format(
                        label=label, field=field
                    ),
                    index=index,
                    fid=fid if isinstance(fid, str) else None,
                    field=field,
                    expected="a value",
                    found="nothing",
                )
            )
            continue
        if isinstance(value, bool) or not isinstance(value, kind):
            expected = _("a number") if kind == (int, float) else _("text")
            if field == "id":
                expected = _("text or a whole number")
            problems.append(
                Problem(
                    _('{label}: "{field}" must be {expected}; found {value!r} ({type})').format(
                        label=label,
                        field=field,
                        expected=expected,
                        value=value,
                        type=type(value).__name__,
                    ),
                    index=index,
                    field=field,
                    expected=expected,
                    found=f"{value!r:.80}",
                )
            )
    if id_convention:
        problems += check_id_convention(props, index)
    category = props.get("category")
    if isinstance(category, str) and category and category not in CATEGORIES:
        problems.append(
            _('{label}: "category" must be one of {one_of}; found {category!r}').format(
                label=label, one_of=_one_of(CATEGORIES), category=category
            )
        )
    status = props.get("status")
    if isinstance(status, str) and status and status not in STATUSES:
        problems.append(
            _('{label}: "status" must be one of {one_of}; found {status!r}').format(
                label=label, one_of=_one_of(STATUSES), status=status
            )
        )
    method = props.get("location_method")
    if method is not None and method not in LOCATION_METHODS:
        problems.append(
            _('{label}: "location_method" must be one of {one_of}; found {method!r}').format(
                label=label, one_of=_one_of(LOCATION_METHODS), method=method
            )
        )
    acc = props.get("location_accuracy_m")
    if isinstance(acc, (int, float)) and not isinstance(acc, bool):
        if not math.isfinite(acc) or acc <= 0:
            problems.append(
                _(
                    '{label}: "location_accuracy_m" must be a positive number of metres; '
                    "found {acc!r}"
                ).format(label=label, acc=acc)
            )
    for field in OPTIONAL_NUMERIC:
        value = props.get(field)
        if value is None or (isinstance(value, float) and math.isnan(value)):
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            problems.append(
                _(
                    '{label}: "{field}" must be a non-negative number when given; found {value!r}'
                ).format(label=label, field=field, value=value)
            )
    problems += check_schedule(props, label)
    if seen_ids is not None and isinstance(fid, str) and fid:
        if fid in seen_ids:
            problems.append(
                Problem(
                    _(
                        '{label}: duplicate "id" {fid!r}, first used by feature #{first}; '
                        "every id must be unique"
                    ).format(label=label, fid=fid, first=seen_ids[fid]),
                    index=index,
                    fid=fid,
                    field="id",
                    expected="a unique id",
                    found=f"{fid!r}, also used by feature #{seen_ids[fid]}",
                    kind=_('duplicate "id"'),
                )
            )
        else:
            seen_ids[fid] = index
    return problems


def _year(value):
    """Return ``value`` as an integral year, or None when it is not one."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if isinstance(value, float) and (not math.isfinite(value) or not value.is_integer()):
        return None
    return int(value)


def parse_status_log(value) -> list | None:
    """Return a status log as a list of entries, from a list or its JSON text.

    GeoJSON holds the log as a list; GeoPackage and Shapefile hold it as JSON
    text. Returns None for no log; raises ValueError when it is neither.
    """
    import json

    if value is None or (isinstance(value, float) and math.isnan(value)) or value == "":
        return None
    if isinstance(value, str):
        value = json.loads(value)
    if not isinstance(value, list):
        raise ValueError(_("a list of entries; found {type}").format(type=type(value).__name__))
    return value


def check_schedule(props: dict, label: str) -> list[str]:
    """Problems with a feature's ``start_year``, ``end_year`` and ``status_log``.

    Years are whole numbers within :data:`SCHEDULE_YEARS`, ``start_year`` is not
    after ``end_year``; each log entry has a ``date`` (``YYYY``, ``YYYY-MM`` or
    ``YYYY-MM-DD``), a known ``status`` and a ``source``, the dates are in order,
    and the feature's ``status`` is the latest entry's.
    """
    problems = []
    lo, hi = SCHEDULE_YEARS
    years = {}
    for field in ("start_year", "end_year"):
        value = props.get(field)
        if value is None or (isinstance(value, float) and math.isnan(value)):
            continue
        year = _year(value)
        if year is None or not lo <= year <= hi:
            problems.append(
                _(
                    '{label}: "{field}" must be a whole year from {lo} to {hi}; found {value!r}'
                ).format(label=label, field=field, lo=lo, hi=hi, value=value)
            )
        else:
            years[field] = year
    if len(years) == 2 and years["start_year"] > years["end_year"]:
        problems.append(
            _(
                '{label}: "start_year" must not be after "end_year"; found {start_year} '
                "> {end_year}"
            ).format(label=label, start_year=years["start_year"], end_year=years["end_year"])
        )
    try:
        log = parse_status_log(props.get("status_log"))
    except ValueError as exc:
        return problems + [_('{label}: "status_log" must be {exc}').format(label=label, exc=exc)]
    if not log:
        return problems
    previous = None
    for i, entry in enumerate(log):
        where = _('{label}: "status_log" entry {number}').format(label=label, number=i + 1)
        if not isinstance(entry, dict):
            problems.append(
                _("{where} must be an object with date, status, source; found {entry!r}").format(
                    where=where, entry=entry
                )
            )
            continue
        date = str(entry.get("date", ""))
        match = _LOG_DATE.match(date)
        if not match or not lo <= int(match.group(1)) <= hi:
            problems.append(
                _(
                    '{where}: "date" must be YYYY, YYYY-MM or YYYY-MM-DD from {lo} to {hi}; '
                    "found {found!r}"
                ).format(where=where, lo=lo, hi=hi, found=entry.get("date"))
            )
        elif previous is not None and date < previous:
            problems.append(
                _("{where}: dates must be in order; found {date!r} after {previous!r}").format(
                    where=where, date=date, previous=previous
                )
            )
        else:
            previous = date
        if entry.get("status") not in STATUSES:
            problems.append(
                _('{where}: "status" must be one of {one_of}; found {found!r}').format(
                    where=where, one_of=_one_of(STATUSES), found=entry.get("status")
                )
            )
        if not isinstance(entry.get("source"), str) or not entry.get("source"):
            problems.append(
                _('{where}: "source" must name where the status comes from').format(where=where)
            )
    last = log[-1].get("status") if isinstance(log[-1], dict) else None
    if last in STATUSES and props.get("status") in STATUSES and props["status"] != last:
        problems.append(
            _(
                '{label}: "status" must be the latest "status_log" entry\'s, {last!r}; '
                "found {status!r}"
            ).format(label=label, last=last, status=props["status"])
        )
    return problems


def check_geometry_type(category, geom_type, label) -> list[str]:
    """Problems when a geometry type does not fit the feature's category."""
    if category not in CATEGORIES or geom_type is None:
        return []
    allowed = CATEGORIES[category][2]
    if geom_type not in allowed:
        return [
            _("{label}: a {category} must be a {allowed} geometry; found {geom_type}").format(
                label=label, category=category, allowed=_(" or ").join(allowed), geom_type=geom_type
            )
        ]
    return []


def raise_if_problems(problems, source) -> None:
    """Raise one :class:`ValidationError` listing every problem, if there are any."""
    if problems:
        raise ValidationError(problems, source=source)


def require_columns(frame, columns, what: str, fix: str = "", *, geometry: bool = False) -> None:
    """Refuse a table that lacks a column, naming it and what was found.

    Parameters
    ----------
    frame : pandas.DataFrame
    columns : sequence of str
        The columns it needs.
    what : str
        What the table is, for the message (``"streets"``, ``"coverage"``...).
    fix : str
        How to get a right one, appended to the message.
    geometry : bool
        Also require a GeoDataFrame with a CRS.

    Raises
    ------
    InputError
        ``<what>: column "<name>" is missing; found <columns>. <fix>``

    Examples
    --------
    >>> import pandas as pd
    >>> require_columns(pd.DataFrame({"a": [1]}), ["a"], "t")
    """
    if geometry and (not hasattr(frame, "geometry") or frame.crs is None):
        if hasattr(frame, "geometry"):
            message = _("{what}: expected a GeoDataFrame with a CRS; found {type} without a CRS")
        else:
            message = _("{what}: expected a GeoDataFrame with a CRS; found {type}")
        raise InputError(message.format(what=_(what), type=type(frame).__name__))
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        found = ", ".join(map(str, frame.columns))
        message = _('{what}: column "{column}" is missing; found {found}.').format(
            what=_(what), column=missing[0], found=found
        )
        raise InputError(f"{message} {fix}".strip())
