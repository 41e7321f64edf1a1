"""Service areas of facilities and how much of each street they cover.

A service area is everything within a walking distance of a facility: as the
crow flies (``mode="distance"``, buffers) or along the walking network
(``mode="network"``, see :mod:`gongshu_geo.analysis.network`). The distances default to
the community life circle tiers of GB 50180-2018 (:data:`SERVICE_TIERS`).
Coverage is the share of each street's area, and of its people, inside a
service area. Every length and area is measured in EPSG:4549.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from rasterio import features

from gongshu_geo.analysis.access import (
    DistanceSurface,
    check_graph,
    compute_distance_surface,
    summarize_surface,
)
from gongshu_geo.analysis.grid import (
    DEFAULT_CELL_M,
    StudyArea,
    check_population_frame,
    make_study_area,
    population_counts,
)
from gongshu_geo.analysis.network import DEFAULT_BAND_M, network_service_areas_metric
from gongshu_geo.analysis.streets import make_street_table
from gongshu_geo.analysis.tables import share_of
from gongshu_geo.analysis.tiers import (  # noqa: F401  (the tiers stay importable from here)
    DEFAULT_SPEED_M_PER_MIN,
    SERVICE_TIERS,
    STANDARD_SOURCE,
    resolve_tiers,
    service_tiers,
)
from gongshu_geo.core import crs as _crs
from gongshu_geo.core.deprecated import deprecated_alias
from gongshu_geo.core.errors import InputError
from gongshu_geo.core.i18n import gettext as _
from gongshu_geo.data.io import filter_projects
from gongshu_geo.data.roles import check_roles
from gongshu_geo.data.schema import STATUSES, require_columns

if TYPE_CHECKING:
    from gongshu_geo.analysis.network import WalkGraph

logger = logging.getLogger(__name__)

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

#: How distances are measured.
MODES = ("distance", "network")
#: How coverage is counted: on the grid's cells (every path), or by exact polygon
#: overlay (a reference for checks; straight-line buffers or network bands).
METHODS = ("grid", "polygon")

#: Segments per quarter circle of a buffer: a circle's area is under-drawn by 0.16 %.
QUAD_SEGS = 16

#: The columns of :func:`compute_coverage`, in order.
COVERAGE_COLUMNS = [
    "street_code", "name", "facility", "minutes", "distance_m", "mode",
    "covered_area_share", "covered_pop_share", "covered_area_m2", "covered_pop",
    "street_area_m2", "population",
]  # fmt: skip

#: The columns that name a row of a coverage table.
ROW_KEYS = ["street_code", "name", "facility", "minutes", "distance_m", "mode"]


def select_facilities(
    projects: gpd.GeoDataFrame, layer: str, *, statuses: Sequence[str] | None = None
) -> gpd.GeoDataFrame:
    """Pick one facility layer out of the plan projects.

    Parameters
    ----------
    projects : geopandas.GeoDataFrame
        As read by :func:`gongshu_geo.data.io.read_projects`.
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
        raise InputError(
            _("unknown facility layer {layer!r}; expected one of {known}").format(
                layer=layer, known=known
            )
        )
    require_columns(projects, ["category", "status"], "projects", "Read them with read_projects()")
    if statuses is not None:
        statuses = [statuses] if isinstance(statuses, str) else list(statuses)
        unknown = [s for s in statuses if s not in STATUSES]
        if unknown:
            raise InputError(
                _("unknown status {unknown!r}; expected one of {statuses}").format(
                    unknown=unknown[0], statuses=", ".join(STATUSES)
                )
            )
    categories = FACILITY_LAYERS[layer]["categories"]
    selected = filter_projects(projects, categories=categories, statuses=statuses)
    if selected.empty:
        which = f" and status {', '.join(statuses)}" if statuses is not None else ""
        found = ", ".join(sorted(map(str, projects["category"].dropna().unique()))) or "none"
        raise InputError(
            _(
                "facility layer {layer!r} is empty for category {categories}{which}: "
                "none of the {n_projects} projects match (categories found: {found}); "
                "check the projects file or pass your own facilities GeoDataFrame"
            ).format(
                layer=layer,
                categories=", ".join(categories),
                which=which,
                n_projects=len(projects),
                found=found,
            )
        )
    selected.attrs["layer"] = layer
    logger.info(_("facility layer %s: %d projects"), layer, len(selected))
    return selected


def _facility_geoms(facilities) -> np.ndarray:
    geoms = _crs.metric_geometries(facilities, "facilities")
    if not len(geoms):
        logger.info(_("no facilities: nothing is covered"))
    return geoms


def _check_choice(value, allowed, name) -> str:
    if value not in allowed:
        raise InputError(
            _("{name} must be one of {allowed}; found {value!r}").format(
                name=name, allowed=", ".join(allowed), value=value
            )
        )
    return value


def _polygon_areas_metric(geoms, tiers, mode, graph, band_m) -> gpd.GeoDataFrame:
    """Exact service areas: dissolved buffers, or the network's widened reached ways."""
    if mode == "network":
        graph = check_graph(graph)
        return network_service_areas_metric(graph, geoms, tiers, band_m)
    radii = tiers["distance_m"].astype(float)
    areas = [shapely.union_all(shapely.buffer(geoms, d, quad_segs=QUAD_SEGS)) for d in radii]
    columns = {"minutes": tiers["minutes"].to_numpy(), "distance_m": radii.to_numpy(), "mode": mode}
    return gpd.GeoDataFrame(columns, geometry=areas, crs=_crs.METRIC)


def vectorize_surface(
    surface: DistanceSurface,
    tiers: pd.DataFrame | float | Sequence[float] | None,
    *,
    simplify: bool = True,
) -> gpd.GeoDataFrame:
    """Draw the service area of each tier from a distance surface's cells.

    Parameters
    ----------
    surface : DistanceSurface
        From :func:`gongshu_geo.analysis.access.compute_distance_surface`.
    tiers : pandas.DataFrame or sequence of float, optional
        As for :func:`compute_coverage`.
    simplify : bool
        Smooth the cells' staircase outline within half a cell.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``minutes``, ``distance_m``, ``mode``; one (Multi)Polygon per
        tier made of the cells within the tier's distance, in EPSG:4549. These
        are the very cells the coverage table counts (their outline within
        half a cell when ``simplify``).
    """
    tiers = resolve_tiers(tiers)
    grid = surface.grid
    metres = surface.raster()
    areas = []
    for budget in tiers["distance_m"]:
        mask = metres <= budget
        parts = [
            shapely.geometry.shape(g)
            for g, _ in features.shapes(
                mask.astype("uint8"), mask=mask, transform=grid.transform, connectivity=4
            )
        ]
        if len(parts) == 1:
            area = parts[0]
        else:
            area = shapely.multipolygons(parts) if parts else shapely.Polygon()
        # the cells' staircase, smoothed within half a cell: light to draw, and no
        # point of it moves farther than that from the cells the tables count
        areas.append(shapely.simplify(area, grid.cell_m / 2) if simplify else area)
    columns = {
        "minutes": tiers["minutes"].to_numpy(),
        "distance_m": tiers["distance_m"].to_numpy(),
        "mode": surface.mode,
    }
    return gpd.GeoDataFrame(columns, geometry=areas, crs=_crs.METRIC)


def _area_around(facilities, tiers, band_m, cell_m) -> StudyArea:
    """Make a study area of one box around the facilities, as far as the largest tier reaches."""
    geoms = _facility_geoms(facilities)
    reach = float(tiers["distance_m"].max()) + band_m + cell_m
    xmin, ymin, xmax, ymax = shapely.total_bounds(geoms) if len(geoms) else (0, 0, 1, 1)
    box = shapely.box(xmin - reach, ymin - reach, xmax + reach, ymax + reach)
    frame = gpd.GeoDataFrame({"street_code": ["_"]}, geometry=[box], crs=_crs.METRIC)
    return make_study_area(frame, cell_m=cell_m)


def compute_service_areas(
    facilities: gpd.GeoDataFrame | gpd.GeoSeries,
    *,
    tiers: pd.DataFrame | float | Sequence[float] | None = None,
    mode: str = "distance",
    graph: WalkGraph | None = None,
    band_m: float = DEFAULT_BAND_M,
    streets: gpd.GeoDataFrame | None = None,
    cell_m: float = DEFAULT_CELL_M,
    method: str = "grid",
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
        Straight-line distance, or walking along ``graph``.
    graph : WalkGraph, optional
        Needed for ``mode="network"``.
    band_m : float
        Network mode: half-width of the band around reached ways.
    streets : geopandas.GeoDataFrame, optional
        Clip to these streets (the grid lies over them); without, the grid
        covers everything the largest tier reaches.
    cell_m : float
        Cell size of the grid, metres.
    method : {"grid", "polygon"}
        Cells of the grid (what coverage counts), or exact polygons (buffers,
        or widened reached ways), not clipped.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``minutes``, ``distance_m``, ``mode``; geometry in EPSG:4326.
    """
    tiers = resolve_tiers(tiers)
    _check_choice(mode, MODES, "mode")
    if _check_choice(method, METHODS, "method") == "polygon":
        areas = _polygon_areas_metric(_facility_geoms(facilities), tiers, mode, graph, band_m)
        return areas.to_crs(_crs.WGS84)
    if streets is None:
        area = _area_around(facilities, tiers, band_m, cell_m)
    else:
        area = make_study_area(streets, cell_m=cell_m)
    surface = compute_distance_surface(
        area, facilities, mode=mode, graph=graph, band_m=band_m,
        max_distance_m=float(tiers["distance_m"].max()),
        exact_at=tiers["distance_m"].tolist(),
    )  # fmt: skip
    return vectorize_surface(surface, tiers).to_crs(_crs.WGS84)


def _population_parts(population, field, street_table):
    """Split a population layer by street into ``(street, part, count, whole_area)`` arrays.

    Points keep their count (``whole_area`` NaN); polygons are cut by the streets.
    """
    check_population_frame(population, field)
    street_geoms = street_table.geoms
    geoms = np.asarray(_crs.to_metric(population).geometry.values)
    counts, kind = population_counts(population, field, geoms)
    src, street = shapely.STRtree(street_geoms).query(geoms, predicate="intersects")
    rank = np.empty(len(street_geoms), dtype=np.int64)
    rank[street_table.code_order] = np.arange(len(street_geoms))
    order = np.lexsort((rank[street], src))
    src, street = src[order], street[order]
    point = kind[src] == 0
    # A point on a shared edge belongs to the street with the lowest code.
    keep = ~pd.Series(src).duplicated().to_numpy() | ~point
    src, street, point = src[keep], street[keep], point[keep]
    lost = len(np.setdiff1d(np.flatnonzero(kind == 0), src))
    if lost:
        logger.warning(_("%d population points lie outside every street and are not counted"), lost)
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
    inside[poly] *= np.nan_to_num(share_of(shapely.area(part), whole[poly]))
    return np.bincount(street, weights=inside, minlength=n_streets)


def compute_coverage(
    streets: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame | gpd.GeoSeries,
    *,
    facility: str | None = None,
    tiers: pd.DataFrame | float | Sequence[float] | None = None,
    mode: str = "distance",
    graph: WalkGraph | None = None,
    population: gpd.GeoDataFrame | None = None,
    population_field: str = "population",
    band_m: float = DEFAULT_BAND_M,
    method: str = "grid",
    cell_m: float = DEFAULT_CELL_M,
    area: StudyArea | None = None,
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
        Straight-line or walking-network distance.
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
    method : {"grid", "polygon"}
        Count cells of a grid (the default: one pass for every tier, see
        :mod:`gongshu_geo.analysis.access`), or overlay exact polygons (a reference).
    cell_m : float
        Grid cell size, metres.
    area : StudyArea, optional
        A study area made once by :func:`gongshu_geo.analysis.grid.make_study_area` and
        reused for several layers (``streets``, ``population`` and ``cell_m``
        are then taken from it).

    Returns
    -------
    pandas.DataFrame
        One row per tier and street with :data:`COVERAGE_COLUMNS`. Shares are
        in [0, 1]; ``covered_pop_share`` is NaN where a street's population is
        unknown or zero.
    """
    check_roles("compute_coverage", streets, "streets, facilities", facilities=facilities)
    tiers = resolve_tiers(tiers)
    _check_choice(mode, MODES, "mode")
    facility = facility or getattr(facilities, "attrs", {}).get("layer", "facilities")
    if _check_choice(method, METHODS, "method") == "polygon":
        return _polygon_coverage(
            streets, facilities, facility, tiers, mode, graph, population, population_field, band_m
        )
    if area is None:
        area = make_study_area(
            streets, cell_m=cell_m, population=population, population_field=population_field
        )
    surface = compute_distance_surface(
        area, facilities, mode=mode, graph=graph, band_m=band_m,
        max_distance_m=float(tiers["distance_m"].max()),
        exact_at=tiers["distance_m"].tolist(),
    )  # fmt: skip
    return compute_surface_coverage(surface, tiers, facility=facility)


def compute_surface_coverage(
    surface: DistanceSurface, tiers: pd.DataFrame | float | Sequence[float] | None, *, facility: str
) -> pd.DataFrame:
    """Turn a distance surface into the coverage table, per tier and street.

    Parameters
    ----------
    surface : DistanceSurface
    tiers : pandas.DataFrame or sequence of float, optional
        As for :func:`compute_coverage`.
    facility : str
        Label of the ``facility`` column.

    Returns
    -------
    pandas.DataFrame
        :data:`COVERAGE_COLUMNS`, as :func:`compute_coverage` returns.
    """
    out = summarize_surface(surface, resolve_tiers(tiers))
    out = out.assign(facility=facility, mode=surface.mode)
    return out[COVERAGE_COLUMNS]


def _polygon_coverage(
    streets, facilities, facility, tiers, mode, graph, population, population_field, band_m
) -> pd.DataFrame:
    st = make_street_table(streets, require_name=True)
    table, street_geoms = st.frame.copy(), st.geoms
    geoms = _facility_geoms(facilities)
    areas = _polygon_areas_metric(geoms, tiers, mode, graph, band_m)
    people = None
    if population is not None:
        people = _population_parts(population, population_field, st)
        table["population"] = _people_in(people, None, len(table))
    frames = []
    for row in areas.itertuples():
        covered = shapely.area(shapely.intersection(street_geoms, row.geometry))
        out = table.assign(
            facility=facility, minutes=row.minutes, distance_m=row.distance_m, mode=mode
        )
        out["covered_area_m2"] = covered
        out["covered_area_share"] = share_of(covered, out["street_area_m2"])
        if people is None:
            out["covered_pop"] = out["population"] * out["covered_area_share"]
            out["covered_pop_share"] = out["covered_area_share"]
        else:
            out["covered_pop"] = _people_in(people, row.geometry, len(table))
            out["covered_pop_share"] = share_of(out["covered_pop"], out["population"])
        frames.append(out[COVERAGE_COLUMNS])
    logger.info(
        _("coverage of %d streets by %s (%s, polygons, %d tiers)"),
        len(table), facility, mode, len(areas),
    )  # fmt: skip
    return pd.concat(frames, ignore_index=True)


def compute_gaps(streets: gpd.GeoDataFrame, service_areas: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
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
    st = make_street_table(streets, require_name=True)
    table, street_geoms = st.frame, st.geoms
    require_columns(
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


#: How to get a coverage table, for error messages.
FROM_COVERAGE = "Pass the table that compute_coverage() or compare_scenarios() returns"


coverage_table = deprecated_alias(compute_surface_coverage, "coverage_table")
