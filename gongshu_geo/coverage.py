"""Service areas of facilities and how much of each street they cover.

A service area is everything within a walking distance of a facility: as the
crow flies (``mode="distance"``, buffers) or along the walking network
(``mode="network"``, see :mod:`gongshu_geo.network`). The distances default to
the community life circle tiers of GB 50180-2018 (:data:`SERVICE_TIERS`).
Coverage is the share of each street's area, and of its people, inside a
service area. Every length and area is measured in EPSG:4549.
"""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from . import crs as _crs
from ._errors import InputError
from .io import filter_projects
from .network import (
    DEFAULT_BAND_M,
    WalkGraph,
    _check_tiers,
    _metric_geometry,
    _network_areas_metric,
)
from .schema import STATUSES

logger = logging.getLogger(__name__)

#: Where the default tiers come from.
STANDARD_SOURCE = (
    "GB 50180-2018 城市居住区规划设计标准 (Standard for urban residential area planning and "
    "design): 5-, 10- and 15-minute community life circles, walking 300 m, 500 m and "
    "800-1000 m (the upper 1000 m is used)"
)

#: The GB 50180-2018 community life circle tiers: minutes of walking -> metres.
SERVICE_TIERS = (
    {"minutes": 5.0, "distance_m": 300.0, "source": STANDARD_SOURCE},
    {"minutes": 10.0, "distance_m": 500.0, "source": STANDARD_SOURCE},
    {"minutes": 15.0, "distance_m": 1000.0, "source": STANDARD_SOURCE},
)

#: Walking speed turning minutes into metres when the caller gives none: 60 m/min
#: (3.6 km/h), unhurried and within reach of older walkers; it gives the
#: standard's 300 m for 5 minutes.
DEFAULT_SPEED_M_PER_MIN = 60.0

#: Named facility layers: the project categories each one takes.
FACILITY_LAYERS = {
    "metro_station": {"categories": ("metro_station",), "label": "地铁站点"},
    "park": {"categories": ("park",), "label": "公园绿地"},
    "greenway": {"categories": ("greenway",), "label": "绿道"},
    "cultural_venue": {"categories": ("cultural_venue",), "label": "文化设施"},
    "sports_venue": {"categories": ("sports_venue",), "label": "体育设施"},
    "future_community": {"categories": ("future_community",), "label": "未来社区"},
    "public_service": {"categories": ("public_service",), "label": "公共服务设施"},
}

#: How service areas are drawn.
MODES = ("distance", "network")

#: Segments per quarter circle of a buffer: a circle's area is under-drawn by 0.16 %.
QUAD_SEGS = 16

#: The columns of :func:`compute_coverage`, in order.
COVERAGE_COLUMNS = [
    "street_code", "name", "facility", "minutes", "distance_m", "mode",
    "covered_area_share", "covered_pop_share", "covered_area_m2", "covered_pop",
    "street_area_m2", "population",
]  # fmt: skip

_ROW_KEYS = ["street_code", "name", "facility", "minutes", "distance_m", "mode"]


def service_tiers(*, minutes=None, distances_m=None, speed_m_per_min=None) -> pd.DataFrame:
    """Make the table of walking tiers: minutes and metres.

    Parameters
    ----------
    minutes : float or sequence of float, optional
        Minutes of walking. Without a speed, the standard's own minutes (5,
        10, 15) keep the standard's distances and others are walked at
        :data:`DEFAULT_SPEED_M_PER_MIN`.
    distances_m : float or sequence of float, optional
        Metres. Given alone, ``minutes`` is NaN unless a speed is given;
        given with ``minutes``, the two are paired in order.
    speed_m_per_min : float, optional
        Walking speed turning minutes into metres (or back).

    Returns
    -------
    pandas.DataFrame
        Columns ``minutes``, ``distance_m`` and ``source``, one row per tier,
        sorted by distance. With no argument, the GB 50180-2018 tiers.

    Examples
    --------
    >>> service_tiers()[["minutes", "distance_m"]].values.tolist()
    [[5.0, 300.0], [10.0, 500.0], [15.0, 1000.0]]
    >>> service_tiers(minutes=[5, 20])["distance_m"].tolist()
    [300.0, 1200.0]
    """
    speed = None if speed_m_per_min is None else _positive(speed_m_per_min, "speed_m_per_min")[0]
    standard = {t["minutes"]: t for t in SERVICE_TIERS}
    if minutes is None and distances_m is None:
        minutes = list(standard)
    elif minutes is not None and distances_m is not None and speed is not None:
        raise InputError("pass minutes with distances_m or with speed_m_per_min, not all three")
    mins = None if minutes is None else _positive(minutes, "minutes")
    dists = None if distances_m is None else _positive(distances_m, "distances_m")
    if dists is None:
        walk = speed or DEFAULT_SPEED_M_PER_MIN
        rows = [
            dict(standard[m]) if speed is None and m in standard
            else {"minutes": m, "distance_m": m * walk, "source": f"{m:g} min at {walk:g} m/min"}
            for m in mins
        ]  # fmt: skip
    elif mins is None:
        how = f" at {speed:g} m/min" if speed else ""
        rows = [{"minutes": d / speed if speed else np.nan, "distance_m": d,
                 "source": f"{d:g} m given{how}"} for d in dists]  # fmt: skip
    elif len(mins) != len(dists):
        raise InputError(
            f"minutes and distances_m are paired in order and must be equally long; "
            f"found {len(mins)} minutes and {len(dists)} distances"
        )
    else:
        rows = [
            {"minutes": m, "distance_m": d, "source": "given"}
            for m, d in zip(mins, dists, strict=True)
        ]
    tiers = pd.DataFrame(rows, columns=["minutes", "distance_m", "source"])
    if tiers["distance_m"].duplicated().any():
        raise InputError(f"tier distances must differ; found {tiers['distance_m'].tolist()} m")
    return tiers.sort_values("distance_m", ignore_index=True)


def _positive(values, name) -> list[float]:
    found = np.atleast_1d(np.asarray(values, dtype=object)).tolist()
    try:
        out = [float(x) for x in found]
    except (TypeError, ValueError):
        out = []
    if not out or not all(np.isfinite(x) and x > 0 for x in out):
        raise InputError(f"{name} must be positive numbers; found {found!r}")
    return out


def select_facilities(projects, layer: str, *, statuses=None) -> gpd.GeoDataFrame:
    """Pick one facility layer out of the plan projects.

    Parameters
    ----------
    projects : geopandas.GeoDataFrame
        As read by :func:`gongshu_geo.io.read_projects`.
    layer : str
        A key of :data:`FACILITY_LAYERS`, e.g. ``"metro_station"``.
    statuses : str or iterable of str, optional
        Keep only these statuses (``existing``, ``completed``, ...); all by default.

    Returns
    -------
    geopandas.GeoDataFrame
        The selected projects (index kept), with ``attrs["layer"]`` set.
    """
    if layer not in FACILITY_LAYERS:
        known = ", ".join(FACILITY_LAYERS)
        raise InputError(f"unknown facility layer {layer!r}; expected one of {known}")
    _require_columns(projects, ["category", "status"], "projects", "Read them with read_projects()")
    if statuses is not None:
        statuses = [statuses] if isinstance(statuses, str) else list(statuses)
        unknown = [s for s in statuses if s not in STATUSES]
        if unknown:
            raise InputError(
                f"unknown status {unknown[0]!r}; expected one of {', '.join(STATUSES)}"
            )
    categories = FACILITY_LAYERS[layer]["categories"]
    selected = filter_projects(projects, categories=categories, statuses=statuses)
    if selected.empty:
        which = f" and status {', '.join(statuses)}" if statuses is not None else ""
        found = ", ".join(sorted(map(str, projects["category"].dropna().unique()))) or "none"
        raise InputError(
            f"facility layer {layer!r} is empty for category {', '.join(categories)}{which}: none "
            f"of the {len(projects)} projects match (categories found: {found}); check the "
            "projects file or pass your own facilities GeoDataFrame"
        )
    selected.attrs["layer"] = layer
    logger.info("facility layer %s: %d projects", layer, len(selected))
    return selected


def _require_columns(frame, columns, what, fix) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        found = ", ".join(map(str, frame.columns))
        raise InputError(f'{what}: column "{missing[0]}" is missing; found {found}. {fix}')


def _facility_geoms(facilities) -> np.ndarray:
    geoms = _metric_geometry(facilities, "facilities")
    if not len(geoms):
        logger.info("no facilities: nothing is covered")
    return geoms


def _resolve_tiers(tiers) -> pd.DataFrame:
    """Return checked tiers: the standard's by default, or from metres, or a frame."""
    if tiers is None:
        return service_tiers()
    if not isinstance(tiers, pd.DataFrame):
        return service_tiers(distances_m=tiers)
    return _check_tiers(tiers)


def _service_areas_metric(geoms, tiers, mode, graph, band_m) -> gpd.GeoDataFrame:
    if mode not in MODES:
        raise InputError(f"mode must be one of {', '.join(MODES)}; found {mode!r}")
    if mode == "network":
        if not isinstance(graph, WalkGraph):
            raise InputError(
                "mode='network' needs a walking graph: pass graph=read_graph('walk.graphml') "
                f"(see download_walking_graph); found {type(graph).__name__}"
            )
        return _network_areas_metric(graph, geoms, tiers, band_m)
    radii = tiers["distance_m"].astype(float)
    areas = [shapely.union_all(shapely.buffer(geoms, d, quad_segs=QUAD_SEGS)) for d in radii]
    columns = {"minutes": tiers["minutes"].to_numpy(), "distance_m": radii.to_numpy(), "mode": mode}
    return gpd.GeoDataFrame(columns, geometry=areas, crs=_crs.METRIC)


def compute_service_areas(
    facilities, *, tiers=None, mode: str = "distance", graph=None, band_m: float = DEFAULT_BAND_M
) -> gpd.GeoDataFrame:
    """Dissolve the service area of a facility layer, one per tier.

    Parameters
    ----------
    facilities : geopandas.GeoDataFrame
        Points, lines or polygons with a CRS (e.g. from :func:`select_facilities`);
        lines and polygons serve from their edge.
    tiers : pandas.DataFrame or sequence of float, optional
        From :func:`service_tiers`, or metres; the GB 50180-2018 tiers by default.
    mode : {"distance", "network"}
        Straight-line buffers, or walking along ``graph``.
    graph : WalkGraph, optional
        Needed for ``mode="network"``.
    band_m : float
        Network mode: half-width of the band around reached ways.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``minutes``, ``distance_m``, ``mode``; geometry in EPSG:4326.
    """
    tiers = _resolve_tiers(tiers)
    areas = _service_areas_metric(_facility_geoms(facilities), tiers, mode, graph, band_m)
    return areas.to_crs(_crs.WGS84)


def _street_table(streets) -> tuple[pd.DataFrame, np.ndarray]:
    if not isinstance(streets, gpd.GeoDataFrame):
        raise InputError(f"streets must be a GeoDataFrame; found {type(streets).__name__}")
    _require_columns(streets, ["street_code", "name"], "streets", "Read them with read_streets()")
    geoms = np.asarray(_crs.to_metric(streets).geometry.values)
    bad = np.flatnonzero(~np.isin(shapely.get_type_id(geoms), [3, 6]))
    if len(bad):
        found = getattr(geoms[bad[0]], "geom_type", "nothing")
        label = f'street "{streets["name"].iloc[bad[0]]}" (#{bad[0]})'
        raise InputError(f"{label}: must be a Polygon or MultiPolygon; found {found}")
    pop = streets.get("population", pd.Series(np.nan, index=streets.index))
    table = pd.DataFrame({
        "street_code": streets["street_code"].to_numpy(),
        "name": streets["name"].to_numpy(),
        "street_area_m2": shapely.area(geoms),
        "population": pd.to_numeric(pop, errors="coerce").astype(float).to_numpy(),
    })  # fmt: skip
    return table, geoms


def _population_parts(population, field, street_geoms):
    """Split a population layer by street into ``(street, part, count, whole_area)`` arrays.

    Points keep their count (``whole_area`` NaN); polygons are cut by the streets.
    """
    if not isinstance(population, gpd.GeoDataFrame) or field not in population.columns:
        found = list(getattr(population, "columns", [])) or type(population).__name__
        raise InputError(
            f'population must be a GeoDataFrame with a "{field}" count column (name it with '
            f"population_field=...); found {found}"
        )
    counts = pd.to_numeric(population[field], errors="coerce").to_numpy(dtype=float)
    geoms = np.asarray(_crs.to_metric(population).geometry.values)
    kind = shapely.get_type_id(geoms)
    for k in np.flatnonzero(~(counts >= 0) | ~np.isin(kind, [0, 3, 6]))[:1]:
        if not counts[k] >= 0:
            found = population[field].iloc[k]
            raise InputError(
                f'population row #{k}: "{field}" must be a non-negative number; found {found!r}'
            )
        raise InputError(
            f"population row #{k}: must be a Point or Polygon; found {geoms[k].geom_type}"
        )
    src, street = shapely.STRtree(street_geoms).query(geoms, predicate="intersects")
    order = np.lexsort((street, src))
    src, street = src[order], street[order]
    point = kind[src] == 0
    # A point on a shared edge belongs to the first of its streets in the layer's order.
    keep = ~pd.Series(src).duplicated().to_numpy() | ~point
    src, street, point = src[keep], street[keep], point[keep]
    lost = len(np.setdiff1d(np.flatnonzero(kind == 0), src))
    if lost:
        logger.warning("%d population points lie outside every street and are not counted", lost)
    parts = np.where(point, geoms[src], shapely.intersection(geoms[src], street_geoms[street]))
    whole = np.where(point, np.nan, shapely.area(geoms[src]))
    return street, parts, counts[src], whole


def _people_in(people, area, n_streets) -> np.ndarray:
    """People per street inside ``area`` (the whole street when None)."""
    street, parts, counts, whole = people
    inside = counts.copy()
    point, poly = np.isnan(whole), ~np.isnan(whole)
    if area is not None:
        inside[point] *= shapely.covers(area, parts[point])
    part = parts[poly] if area is None else shapely.intersection(parts[poly], area)
    inside[poly] *= np.nan_to_num(_ratio(shapely.area(part), whole[poly]))
    return np.bincount(street, weights=inside, minlength=n_streets)


def _ratio(part, whole) -> np.ndarray:
    part, whole = np.asarray(part, dtype=float), np.asarray(whole, dtype=float)
    return np.clip(np.divide(part, whole, out=np.full(len(part), np.nan), where=whole > 0), 0, 1)


def compute_coverage(
    streets,
    facilities,
    *,
    facility: str | None = None,
    tiers=None,
    mode: str = "distance",
    graph=None,
    population=None,
    population_field: str = "population",
    band_m: float = DEFAULT_BAND_M,
) -> pd.DataFrame:
    """Measure the share of each street's area and people within reach of a facility layer.

    Parameters
    ----------
    streets : geopandas.GeoDataFrame
        ``street_code``, ``name``, optionally ``population``, polygons with a CRS.
    facilities : geopandas.GeoDataFrame
        Points, lines or polygons with a CRS; may be empty (nothing covered).
    facility : str, optional
        Label for the ``facility`` column; by default the layer name that
        :func:`select_facilities` stored, else ``"facilities"``.
    tiers : pandas.DataFrame or sequence of float, optional
        From :func:`service_tiers`, or metres; GB 50180-2018 by default.
    mode : {"distance", "network"}
        Straight-line or walking-network service areas.
    graph : WalkGraph, optional
        Needed for ``mode="network"``.
    population : geopandas.GeoDataFrame, optional
        Where people live: points are counted, polygons apportioned by area.
        Without it, people are spread evenly over each street, so the covered
        share of people equals the covered share of area.
    population_field : str
        The count column of ``population``.
    band_m : float
        Network mode: half-width of the band around reached ways.

    Returns
    -------
    pandas.DataFrame
        One row per tier and street with :data:`COVERAGE_COLUMNS`. Shares are
        in [0, 1]; ``covered_pop_share`` is NaN where a street's population is
        unknown or zero.
    """
    table, street_geoms = _street_table(streets)
    geoms = _facility_geoms(facilities)
    areas = _service_areas_metric(geoms, _resolve_tiers(tiers), mode, graph, band_m)
    facility = facility or facilities.attrs.get("layer", "facilities")
    people = None
    if population is not None:
        people = _population_parts(population, population_field, street_geoms)
        table["population"] = _people_in(people, None, len(table))
    frames = []
    for row in areas.itertuples():
        covered = shapely.area(shapely.intersection(street_geoms, row.geometry))
        out = table.assign(
            facility=facility, minutes=row.minutes, distance_m=row.distance_m, mode=mode
        )
        out["covered_area_m2"] = covered
        out["covered_area_share"] = _ratio(covered, out["street_area_m2"])
        if people is None:
            out["covered_pop"] = out["population"] * out["covered_area_share"]
            out["covered_pop_share"] = out["covered_area_share"]
        else:
            out["covered_pop"] = _people_in(people, row.geometry, len(table))
            out["covered_pop_share"] = _ratio(out["covered_pop"], out["population"])
        frames.append(out[COVERAGE_COLUMNS])
    logger.info(
        "coverage of %d streets by %s (%s, %d tiers)", len(table), facility, mode, len(areas)
    )
    return pd.concat(frames, ignore_index=True)


def compute_gaps(streets, service_areas) -> gpd.GeoDataFrame:
    """Cut out the parts of each street outside the service area, per tier.

    Parameters
    ----------
    streets : geopandas.GeoDataFrame
        ``street_code``, ``name``, polygons with a CRS.
    service_areas : geopandas.GeoDataFrame
        From :func:`compute_service_areas`.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``street_code``, ``name``, ``minutes``, ``distance_m``,
        ``uncovered_area_m2`` (EPSG:4549) and the uncovered geometry (empty
        where the street is fully covered), in EPSG:4326.
    """
    table, street_geoms = _street_table(streets)
    _require_columns(
        service_areas,
        ["minutes", "distance_m"],
        "service_areas",
        "Make them with compute_service_areas()",
    )
    areas = _crs.to_metric(service_areas)
    frames = []
    for minutes, distance, area in zip(
        areas["minutes"], areas["distance_m"], areas.geometry, strict=True
    ):
        gaps = shapely.difference(street_geoms, area)
        columns = table[["street_code", "name"]].assign(minutes=minutes, distance_m=distance)
        columns["uncovered_area_m2"] = shapely.area(gaps)
        frames.append(gpd.GeoDataFrame(columns, geometry=gaps, crs=_crs.METRIC))
    return pd.concat(frames, ignore_index=True).to_crs(_crs.WGS84)


_FROM_COVERAGE = "Pass the table that compute_coverage() or compare_scenarios() returns"
