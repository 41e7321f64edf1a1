"""Where to build next: the candidate sites that bring the most people within reach.

Given candidate sites for a facility layer (parks, stations, ...), choose the
``n`` that together bring the most people within ``minutes`` of at least one
of them who are not already within ``minutes`` of an existing facility of that
layer: the maximal covering location problem (Church and ReVelle, 1974).

The work is in two steps that know nothing of each other:

1. **The coverage matrix** (:func:`_cover_matrix`): people live in the cells
   of the coverage grid (:func:`gongshu_geo.analysis.grid.make_study_area`, through
   :func:`gongshu_geo.analysis.popgrid.population_cells`: each street's population
   spread evenly over its cells, or a population layer's counts), at a
   coarser cell by default to keep the matrix small;
   a cell is within reach of a site when its centre is, as the crow flies
   (``mode="distance"``: the distance to the site's nearest point, so a
   polygon serves from its edge and covers its inside) or along the walking
   network (``mode="network"``: the straight line to the cell's nearest graph
   node plus that node's walk to the site, as
   :func:`gongshu_geo.analysis.points.compute_point_coverage` measures it; cells inside
   a polygon site are covered). The result is a sparse boolean matrix,
   candidates x cells, the cells' people, and which cells existing facilities
   already reach.
2. **Solving** it (:mod:`gongshu_geo.analysis.mclp`): exact with pulp and CBC when the
   problem is small, greedy with lazy evaluation beyond, ties broken by
   candidate id.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely

from gongshu_geo.analysis import mclp as _mclp
from gongshu_geo.analysis.popgrid import Cells, population_cells
from gongshu_geo.core import crs as _crs
from gongshu_geo.core.errors import InputError
from gongshu_geo.core.i18n import gettext as _
from gongshu_geo.data.candidates import check_candidates, default_candidates, read_candidates  # noqa: F401

if TYPE_CHECKING:
    from gongshu_geo.analysis.network import WalkGraph

logger = logging.getLogger(__name__)

#: Side of the population cells, metres (EPSG:4549).
DEFAULT_CELL_M = 25.0
#: What counts as already built.
GIVEN = ("existing", "plan")
#: People are counted in integer units of a millionth of a person, so that equal
#: coverage is exactly equal and ties fall to the candidate id (rounding each cell moves
#: the district's total by well under a person).
UNITS_PER_PERSON = 1_000_000
#: Columns of :attr:`SiteChoice.chosen`, in order (then the geometry).
CHOSEN_COLUMNS = [
    "rank", "id", "name", "new_covered_pop", "cum_new_covered_pop", "share", "cum_share",
    "covered_share", "alone_new_covered_pop",
]  # fmt: skip
#: Columns of :attr:`SiteChoice.candidates`, in order (then the geometry).
CANDIDATE_COLUMNS = ["id", "name", "alone_new_covered_pop", "alone_rank", "chosen_rank"]


# ---------------------------------------------------------------- the coverage matrix


def _cover_matrix(cells: Cells, sites, existing, *, distance_m, mode="distance", graph=None):
    """Which cells each candidate site reaches, and which existing facilities already reach.

    Parameters
    ----------
    cells : Cells
        From :func:`gongshu_geo.analysis.popgrid.population_cells` (or the shared grid).
    sites : numpy.ndarray
        Candidate geometries in EPSG:4549 (points or polygons).
    existing : numpy.ndarray
        Existing facility geometries in EPSG:4549 (any type; may be empty).
    distance_m : float
        Reach, metres.
    mode : {"distance", "network"}
    graph : WalkGraph, optional
        For ``mode="network"``.

    Returns
    -------
    (scipy.sparse.csr_matrix, numpy.ndarray)
        Boolean candidates x cells, and a boolean mask of the cells already reached.
    """
    if mode not in ("distance", "network"):
        raise InputError(
            _("mode must be one of distance, network; found {mode!r}").format(mode=mode)
        )
    points = shapely.points(cells.xy)
    tree = shapely.STRtree(points)
    shape = (len(sites), len(points))
    if mode == "distance":
        site, cell = tree.query(sites, predicate="dwithin", distance=distance_m)
        _pairs, done = tree.query(existing, predicate="dwithin", distance=distance_m)
    else:
        site, cell = _network_pairs(cells, sites, tree, distance_m, graph)
        _pairs, done = _network_pairs(cells, existing, tree, distance_m, graph, together=True)
    matrix = sp.csr_matrix((np.ones(len(site), dtype=bool), (site, cell)), shape=shape)
    covered = np.zeros(len(points), dtype=bool)
    covered[done] = True
    logger.info(
        _("coverage matrix: %d candidates x %d cells, %d pairs; %d cells already reached"),
        shape[0], shape[1], matrix.nnz, covered.sum(),
    )  # fmt: skip
    return matrix, covered


def _network_pairs(cells, geoms, tree, distance_m, graph, *, together=False):
    """(site, cell) pairs within ``distance_m`` along the graph; inside polygons too."""
    from scipy.spatial import cKDTree

    from gongshu_geo.analysis.access import check_graph
    from gongshu_geo.analysis.network import compute_node_distances

    graph = check_graph(graph)
    snap, node = cKDTree(graph.node_xy).query(cells.xy, k=1)
    order = np.argsort(node, kind="stable")
    starts = np.searchsorted(node[order], np.arange(graph.n_nodes + 1))
    polygons = np.flatnonzero(np.isin(shapely.get_type_id(geoms), [3, 6]))
    inside_site, inside_cell = tree.query(geoms[polygons], predicate="intersects")
    pairs = [(polygons[inside_site], inside_cell)]
    groups = [np.arange(len(geoms))] if together else [[k] for k in range(len(geoms))]
    for group in groups if len(geoms) else []:
        series = gpd.GeoSeries(geoms[group], crs=_crs.METRIC)
        dist = compute_node_distances(graph, series, max_distance_m=distance_m).to_numpy()
        reached = np.flatnonzero(dist <= distance_m)
        near = np.concatenate([order[starts[r] : starts[r + 1]] for r in reached] or [[]])
        near = near.astype(np.int64)
        near = near[snap[near] + dist[node[near]] <= distance_m]
        pairs.append((np.full(len(near), group[0] if not together else 0), near))
    site = np.concatenate([p[0] for p in pairs]).astype(np.int64)
    cell = np.concatenate([p[1] for p in pairs]).astype(np.int64)
    return site, cell


def _id_order(ids) -> np.ndarray:
    """Positions of ids in tie-break order: numerically if all are numbers, else as text."""
    values = pd.Series(ids)
    numeric = pd.to_numeric(values, errors="coerce")
    if numeric.notna().all():
        return np.lexsort((values.astype(str).to_numpy(), numeric.to_numpy()))
    return np.argsort(values.astype(str).to_numpy(), kind="stable")


# ---------------------------------------------------------------- choosing


@dataclass
class SiteChoice:
    """What :func:`choose_sites` found.

    Attributes
    ----------
    chosen : geopandas.GeoDataFrame
        The chosen sites in the order chosen, with :data:`CHOSEN_COLUMNS`:
        ``new_covered_pop`` the people a site adds to those before it and the
        existing facilities, ``cum_new_covered_pop`` the running total,
        ``share`` and ``cum_share`` the same as shares of the district's
        people, ``covered_share`` the district's share within reach once the
        site is built, ``alone_new_covered_pop`` what the site adds on its own.
    candidates : geopandas.GeoDataFrame
        Every candidate with :data:`CANDIDATE_COLUMNS`: ``alone_new_covered_pop``,
        ``alone_rank`` (1 = the best on its own) and ``chosen_rank`` (<NA> if not chosen).
    method : str
        ``"exact"`` (proven optimal) or ``"greedy"``.
    objective, upper_bound : float
        People newly within reach of the chosen sites, and the most any ``n``
        candidates could reach (equal for exact; for greedy Minoux's bound).
    guarantee : float or None
        Greedy only: 1 - 1/e, the share of the optimum greedy is proven to reach.
    population, already_covered_pop : float
        People in the cells, and those already within reach of existing facilities.
    layer, minutes, distance_m, mode, cell_m
        What was asked: the facility layer, the tier in minutes and metres, the
        distance mode and the side of the population cells.
    given : str
        ``"existing"`` or ``"plan"`` (what counted as built), ``"user"`` when the
        caller passed the existing facilities.
    seconds : float
        Time spent solving (not building the matrix).
    existing : geopandas.GeoDataFrame
        The facilities counted as built, EPSG:4326.
    new_cells : geopandas.GeoDataFrame
        Per rank, the cells the site newly reaches, dissolved (``new_covered_pop``,
        ``n_cells``), EPSG:4326.
    service_areas : geopandas.GeoDataFrame
        Per rank, the chosen site's service area (a buffer, or in network mode
        the reached ways widened as :func:`gongshu_geo.compute_service_areas`
        draws them), EPSG:4326.
    """

    chosen: gpd.GeoDataFrame
    candidates: gpd.GeoDataFrame
    method: str
    objective: float
    upper_bound: float
    guarantee: float | None
    population: float
    already_covered_pop: float
    layer: str
    minutes: float
    distance_m: float
    mode: str
    given: str
    cell_m: float
    seconds: float
    existing: gpd.GeoDataFrame = field(repr=False)
    new_cells: gpd.GeoDataFrame = field(repr=False)
    service_areas: gpd.GeoDataFrame = field(repr=False)

    def summary(self) -> str:
        """One line: method, people added, and for greedy the bound."""
        text = _(
            "{n} sites for {layer} ({minutes:g} min, {distance_m:g} m, {mode}): {people:,.0f} "
            "people newly within reach ({share:.1%} of {population:,.0f}); method {method}"
        ).format(
            n=len(self.chosen),
            layer=self.layer,
            minutes=self.minutes,
            distance_m=self.distance_m,
            mode=self.mode,
            people=self.objective,
            share=self.objective / self.population,
            population=self.population,
            method=self.method,
        )
        if self.method == "greedy":
            text += _(
                " (at least {guarantee:.1%} of the optimum; the optimum is at most {bound:,.0f})"
            ).format(guarantee=self.guarantee, bound=self.upper_bound)
        return text


def choose_sites(
    streets: gpd.GeoDataFrame,
    candidates: gpd.GeoDataFrame | None = None,
    *,
    layer: str = "park",
    existing: gpd.GeoDataFrame | None = None,
    projects: gpd.GeoDataFrame | None = None,
    categories=(),
    minutes: float = 10.0,
    speed_m_per_min: float | None = None,
    n: int = 3,
    mode: str = "distance",
    graph: WalkGraph | None = None,
    population: gpd.GeoDataFrame | None = None,
    population_field: str = "population",
    given: str = "existing",
    method: str = "auto",
    cell_m: float = DEFAULT_CELL_M,
    time_limit_s: float = 60.0,
) -> SiteChoice:
    """Choose the ``n`` candidate sites that bring the most people newly within reach.

    Parameters
    ----------
    streets : geopandas.GeoDataFrame
        ``street_code``, ``name``, ``population`` and polygons (:func:`gongshu_geo.read_streets`).
    candidates : geopandas.GeoDataFrame, optional
        Points or polygons with an ``id`` (and ``name``); by default the plan's
        development blocks and the polygons of ``categories`` (:func:`default_candidates`).
    layer : str
        The facility layer (:data:`gongshu_geo.analysis.coverage.FACILITY_LAYERS`) being placed.
    existing : geopandas.GeoDataFrame, optional
        Facilities already there; by default the layer's projects with status
        ``existing`` (``given="existing"``) or all of them (``given="plan"``).
    projects : geopandas.GeoDataFrame, optional
        Where the defaults come from; the packaged projects by default.
    categories : iterable of str
        Project categories whose polygons are candidates too.
    minutes : float
        The tier: minutes of walking, turned into metres as
        :func:`gongshu_geo.service_tiers` does (10 min = 500 m).
    speed_m_per_min : float, optional
        Walking speed; the standard's distances by default.
    n : int
        Sites to choose.
    mode : {"distance", "network"}
        Straight line, or along ``graph``.
    graph : WalkGraph, optional
        For ``mode="network"``.
    population : geopandas.GeoDataFrame, optional
        Points or polygons with counts in ``population_field``; by default each
        street's people spread evenly over it.
    population_field : str
        The count column of ``population``.
    given : {"existing", "plan"}
        What counts as built when ``existing`` is not given: ``"plan"`` asks
        "after the plan, where next?". The result's ``given`` is ``"user"`` when
        ``existing`` is given.
    method : {"auto", "exact", "greedy"}
        See :func:`gongshu_geo.analysis.mclp.solve`.
    cell_m : float
        Side of the population cells, metres.
    time_limit_s : float
        Time limit of each exact solve.

    Returns
    -------
    SiteChoice
    """
    from gongshu_geo.analysis.coverage import select_facilities, service_tiers

    n = int(n)
    if n < 1:
        raise InputError(_("n must be a positive number of sites; found {n!r}").format(n=n))
    if given not in GIVEN:
        raise InputError(
            _("given must be one of {given}; found {given2!r}").format(
                given=", ".join(GIVEN), given2=given
            )
        )
    if projects is None and (existing is None or candidates is None):
        from gongshu_geo.data.io import read_projects

        projects = read_projects()
    if candidates is None:
        candidates = default_candidates(projects, categories=categories)
    candidates = check_candidates(candidates)
    given_by_plan = existing is None
    if existing is None:
        statuses = "existing" if given == "existing" else None
        has = projects[projects["category"].isin(_layer_categories(layer))]
        if statuses is not None:
            has = has[has["status"] == statuses]
        existing = select_facilities(projects, layer, statuses=statuses) if len(has) else has
    tier = service_tiers(minutes=minutes, speed_m_per_min=speed_m_per_min).iloc[0]
    distance_m = float(tier["distance_m"])
    order = _id_order(candidates["id"])
    candidates = candidates.iloc[order].reset_index(drop=True)
    sites = np.asarray(candidates.to_crs(_crs.METRIC).geometry.values, dtype=object)
    have = np.asarray(_crs.to_metric(existing).geometry.values, dtype=object)
    have = have[~(shapely.is_missing(have) | shapely.is_empty(have))]
    cells = population_cells(
        streets, cell_m=cell_m, population=population, population_field=population_field
    )
    if not len(cells.pop):
        raise InputError(
            _(
                "nobody lives in the streets: their population is zero or unknown, and "
                "no population layer with people inside them was given"
            )
        )
    matrix, covered = _cover_matrix(
        cells, sites, have, distance_m=distance_m, mode=mode, graph=graph
    )
    units = np.rint(cells.pop * UNITS_PER_PERSON).astype(np.int64)
    open_units = np.where(covered, 0, units)
    solution = _mclp.solve(matrix, open_units, n, method=method, time_limit_s=time_limit_s)
    result = _result(candidates, cells, matrix, covered, open_units, solution)
    choice = SiteChoice(
        **result,
        method=solution.method,
        objective=solution.objective / UNITS_PER_PERSON,
        upper_bound=solution.upper_bound / UNITS_PER_PERSON,
        guarantee=solution.guarantee,
        population=float(cells.pop.sum()),
        already_covered_pop=float(cells.pop[covered].sum()),
        layer=layer,
        minutes=float(tier["minutes"]),
        distance_m=distance_m,
        mode=mode,
        given=given if given_by_plan else "user",
        cell_m=cells.cell_m,
        seconds=solution.seconds,
        existing=existing.to_crs(_crs.WGS84),
        service_areas=_service_areas(candidates, solution.chosen, distance_m, mode, graph),
    )
    logger.info(choice.summary())
    return choice


def _layer_categories(layer) -> tuple:
    from gongshu_geo.analysis.coverage import FACILITY_LAYERS

    if layer not in FACILITY_LAYERS:
        raise InputError(
            _("unknown facility layer {layer!r}; expected one of {facility_layers}").format(
                layer=layer, facility_layers=", ".join(FACILITY_LAYERS)
            )
        )
    return FACILITY_LAYERS[layer]["categories"]


def _result(candidates, cells, matrix, covered, open_units, solution) -> dict:
    total = cells.pop.sum()
    already = cells.pop[covered].sum()
    alone = np.asarray(matrix.astype(np.int64) @ open_units).ravel() / UNITS_PER_PERSON
    alone_rank = np.empty(len(alone), dtype=np.int64)
    alone_rank[np.lexsort((np.arange(len(alone)), -alone))] = np.arange(1, len(alone) + 1)
    chosen_rank = pd.array([pd.NA] * len(alone), dtype="Int64")
    for r, row in enumerate(solution.chosen, start=1):
        chosen_rank[row] = r
    every = candidates.assign(
        alone_new_covered_pop=alone, alone_rank=alone_rank, chosen_rank=chosen_rank
    )[[*CANDIDATE_COLUMNS, "geometry"]]
    gains = solution.gains / UNITS_PER_PERSON
    rows = list(solution.chosen)
    chosen = (
        candidates.iloc[rows]
        .reset_index(drop=True)
        .assign(
            rank=np.arange(1, len(rows) + 1),
            new_covered_pop=gains,
            cum_new_covered_pop=np.cumsum(gains),
        )
    )
    chosen["share"] = chosen["new_covered_pop"] / total
    chosen["cum_share"] = chosen["cum_new_covered_pop"] / total
    chosen["covered_share"] = (already + chosen["cum_new_covered_pop"]) / total
    chosen["alone_new_covered_pop"] = alone[rows]
    chosen = chosen[[*CHOSEN_COLUMNS, "geometry"]]
    new_cells = _new_cells(cells, matrix, covered, rows)
    return {"chosen": chosen, "candidates": every, "new_cells": new_cells}


def _new_cells(cells, matrix, covered, rows) -> gpd.GeoDataFrame:
    """Dissolve the cells each chosen site newly reaches, per rank, in EPSG:4326."""
    taken = covered.copy()
    out = []
    for r, row in enumerate(rows, start=1):
        new = matrix[row].indices[~taken[matrix[row].indices]]
        taken[new] = True
        area = shapely.coverage_union_all(cells.boxes(new)) if len(new) else shapely.Polygon()
        out.append({"rank": r, "new_covered_pop": float(cells.pop[new].sum()),
                    "n_cells": len(new), "geometry": area})  # fmt: skip
    frame = gpd.GeoDataFrame(out, columns=["rank", "new_covered_pop", "n_cells", "geometry"],
                             geometry="geometry", crs=_crs.METRIC)  # fmt: skip
    return frame.to_crs(_crs.WGS84)


def _service_areas(candidates, rows, distance_m, mode, graph) -> gpd.GeoDataFrame:
    """Each chosen site's service area (buffer, or reached ways), in EPSG:4326."""
    from gongshu_geo.analysis.coverage import compute_service_areas

    areas = []
    for row in rows:
        site = candidates.iloc[[row]]
        area = compute_service_areas(site, tiers=[distance_m], mode=mode, graph=graph)
        areas.append(area.geometry.iloc[0])
    chosen = candidates.iloc[list(rows)]
    return gpd.GeoDataFrame(
        {"rank": np.arange(1, len(rows) + 1), "id": chosen["id"].to_numpy(),
         "name": chosen["name"].to_numpy(), "distance_m": distance_m, "mode": mode},
        geometry=areas, crs=_crs.WGS84,
    )  # fmt: skip


# ---------------------------------------------------------------- writing
