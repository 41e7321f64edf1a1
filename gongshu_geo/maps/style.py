"""The drawing scheme shared by the web maps and the static PNG maps.

Colour encodes the project category, line and fill encode the status:

============================  ==================  =========================
status                        outline             fill
============================  ==================  =========================
existing (现状)               solid, thin         light (35 %)
completed (建成)              solid, thick        strong (60 %)
under_construction (在建)     dashed ``8 4``      faint (25 %)
planned (规划)                dotted ``2 5``      hollow (5 %; points white)
============================  ==================  =========================

Choropleth classes come from :mod:`mapclassify` (Fisher-Jenks, at most five
classes; one class per value when there are that few distinct values).
"""

from __future__ import annotations

import logging
import warnings

import numpy as np

from gongshu_geo.core.i18n import gettext as _
from gongshu_geo.data.schema import CATEGORIES, STATUSES

logger = logging.getLogger(__name__)

#: category -> (colour, English layer name)
CATEGORY_STYLE = {
    "park": ("#2e7d32", "Parks"),
    "greenway": ("#8bc34a", "Greenways"),
    "road": ("#424242", "Roads"),
    "metro_line": ("#d32f2f", "Metro lines"),
    "metro_station": ("#ad1457", "Metro stations"),
    "future_community": ("#1565c0", "Future communities"),
    "historic_district": ("#7b1fa2", "Historic districts"),
    "cultural_venue": ("#f9a825", "Cultural venues"),
    "sports_venue": ("#ef6c00", "Sports venues"),
    "public_service": ("#00838f", "Public services"),
    "development_block": ("#607d8b", "Development blocks"),
    "river": ("#0288d1", "Rivers"),
    "spoil_dock": ("#8d6e63", "Spoil docks (relocation)"),
}

#: status -> Leaflet path options (weight, dashArray, fillOpacity) and English name
STATUS_STYLE = {
    "existing": {"weight": 2, "dashArray": None, "fillOpacity": 0.35, "en": "existing"},
    "completed": {"weight": 3.5, "dashArray": None, "fillOpacity": 0.6, "en": "completed"},
    "under_construction": {
        "weight": 3,
        "dashArray": "8 4",
        "fillOpacity": 0.25,
        "en": "under construction",
    },
    "planned": {"weight": 2.5, "dashArray": "2 5", "fillOpacity": 0.05, "en": "planned"},
}

#: Sequential colours for choropleths (ColorBrewer YlGnBu, 5 classes).
SEQUENTIAL = ("#ffffcc", "#a1dab4", "#41b6c4", "#2c7fb8", "#253494")
#: Colour of streets with no value.
NO_DATA = "#d9d9d9"
#: Service-area tier colours, nearest first.
TIER_COLOURS = ("#1b7837", "#5aae61", "#a6dba0", "#d9f0d3")
#: Uncovered gaps.
GAP_COLOUR = "#d7301f"

#: Radius of project points, in CSS pixels (Leaflet ``CircleMarker``).
POINT_RADIUS_PX = 6
#: The district outline: a dark line, no fill.
DISTRICT_STYLE = {"color": "#222222", "weight": 3, "fill": False, "opacity": 0.9}
#: Street polygons: a grey outline over an almost clear fill.
STREET_STYLE = {"color": "#555555", "weight": 1.2, "fillColor": "#ffffff", "fillOpacity": 0.05}
#: Service areas of one tier (the colour is the tier's, from :data:`TIER_COLOURS`).
SERVICE_AREA_STYLE = {"weight": 1, "fillOpacity": 0.2}
#: Uncovered gaps of one tier: a dashed red outline over a faint red fill.
GAP_STYLE = {
    "color": GAP_COLOUR,
    "weight": 1.5,
    "dashArray": "4 3",
    "fillColor": GAP_COLOUR,
    "fillOpacity": 0.15,
}

assert set(CATEGORY_STYLE) == set(CATEGORIES), "every category needs a colour"
assert set(STATUS_STYLE) == set(STATUSES), "every status needs a style"


def category_label(category: str) -> str:
    """``"公园绿地 Parks"``: the Chinese label and the English name of a category."""
    if category in CATEGORIES:
        return f"{CATEGORIES[category][0]} {CATEGORY_STYLE[category][1]}"
    return str(category)


def status_label(status: str) -> str:
    """``"规划 planned"``."""
    if status in STATUSES:
        return f"{STATUSES[status]} {STATUS_STYLE[status]['en']}"
    return str(status)


def path_style(category: str, status: str, *, fill: bool = True) -> dict:
    """Leaflet path options for a project of this category and status.

    ``fill=False`` for lines, which Leaflet would otherwise close and fill.
    """
    colour = CATEGORY_STYLE.get(category, ("#333333", ""))[0]
    spec = STATUS_STYLE.get(status, STATUS_STYLE["existing"])
    style = {
        "color": colour,
        "fillColor": colour,
        "weight": spec["weight"],
        "opacity": 0.95,
        "fillOpacity": spec["fillOpacity"],
        "fill": fill,
    }
    if spec["dashArray"]:
        style["dashArray"] = spec["dashArray"]
    return style


def point_style(category: str, status: str) -> dict:
    """Circle-marker options: planned points are white rings, the rest filled."""
    style = path_style(category, status)
    style["weight"] = 2.5
    if status == "planned":
        style.update(fillColor="#ffffff", fillOpacity=0.85)
    elif status == "under_construction":
        style.update(fillOpacity=0.45)
    else:
        style.update(fillOpacity=0.9, weight=1.5)
    return style


def tier_colour(index: int) -> str:
    """Colour of the ``index``-th tier counted from the nearest (0 = 5 minutes by default)."""
    return TIER_COLOURS[min(max(index, 0), len(TIER_COLOURS) - 1)]


def service_area_style(index: int) -> dict:
    """Leaflet path options of the ``index``-th tier's service area, nearest first."""
    colour = tier_colour(index)
    return {"color": colour, "fillColor": colour, **SERVICE_AREA_STYLE}


def classify(values, *, k: int = 5):
    """Class breaks for a choropleth.

    Parameters
    ----------
    values : array-like of float
        NaN values are left out of the classification.
    k : int
        Largest number of classes.

    Returns
    -------
    bins : list of float
        Upper bound of each class, ascending (empty when no value is finite).
    method : str
        ``"FisherJenks"``, ``"unique values"`` or ``"none"``.
    """
    values = np.asarray(values, dtype=float)
    finite = values[np.isfinite(values)]
    unique = np.unique(finite)
    if unique.size == 0:
        return [], "none"
    if unique.size <= k:
        return [float(v) for v in unique], "unique values"
    import mapclassify

    with warnings.catch_warnings():
        # a performance notice only: the pure-Python path is exact and fast for 18 streets
        warnings.filterwarnings("ignore", message="Numba not installed", category=UserWarning)
        classifier = mapclassify.FisherJenks(finite, k=k)
    return [float(b) for b in classifier.bins], "FisherJenks"


def class_index(value, bins) -> int | None:
    """Index of the class holding ``value`` (``None`` for NaN or no classes)."""
    if value is None or not np.isfinite(value) or not bins:
        return None
    return int(min(np.searchsorted(np.asarray(bins), value, side="left"), len(bins) - 1))


def class_colours(n: int) -> list[str]:
    """``n`` colours (at most five) spread over :data:`SEQUENTIAL`."""
    if n <= 0:
        return []
    if n == 1:
        return [SEQUENTIAL[2]]
    picks = np.linspace(0, len(SEQUENTIAL) - 1, n).round().astype(int)
    return [SEQUENTIAL[i] for i in picks]


def class_labels(bins, *, percent: bool = False, method: str = "FisherJenks") -> list[str]:
    """Readable ranges for the legend, e.g. ``"20%–45%"`` or ``"3"``."""

    def fmt(v):
        if percent:
            return f"{v * 100:.0f}%"
        return f"{v:,.0f}" if abs(v) >= 100 else f"{v:,.3g}"

    if method == "unique values":
        return [fmt(b) for b in bins]
    labels, low = [], None
    for b in bins:
        labels.append(f"≤ {fmt(b)}" if low is None else f"{fmt(low)}–{fmt(b)}")
        low = b
    return labels


def finite_or_none(value) -> float | None:
    """``value`` as a float, or ``None`` when missing, not a number or infinite."""
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return value if np.isfinite(value) else None


def geometry_kind(gdf):
    """``"point"``, ``"line"`` or ``"polygon"`` for each row (multi-parts included)."""
    return gdf.geom_type.map(
        lambda t: "point" if "Point" in t else "line" if "LineString" in t else "polygon"
    )


#: Coverage columns mapped, in order of preference.
COVERAGE_COLUMNS = ("covered_pop_share", "covered_area_share")


def coverage_value_column(coverage) -> str:
    """Choose the share to map: population covered when known, else area covered."""
    import pandas as pd

    present = [c for c in COVERAGE_COLUMNS if c in coverage.columns]
    for column in present:
        if pd.to_numeric(coverage[column], errors="coerce").notna().any():
            return column
    if present:
        return present[0]
    from gongshu_geo.core.errors import InputError

    raise InputError(
        _(
            "coverage: expected a covered_pop_share (or covered_area_share) column; "
            "it has {columns}"
        ).format(columns=", ".join(map(str, coverage.columns)))
    )
