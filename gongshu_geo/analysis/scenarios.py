"""Coverage scenarios: district totals, existing versus plan, and the network penalty.

Built on :mod:`gongshu_geo.analysis.coverage`: these functions take and return its
coverage tables.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

import geopandas as gpd
import pandas as pd

from gongshu_geo.analysis.coverage import (
    COVERAGE_COLUMNS,
    FROM_COVERAGE,
    ROW_KEYS,
    compute_coverage,
    select_facilities,
)
from gongshu_geo.analysis.network import DEFAULT_BAND_M
from gongshu_geo.analysis.tables import share_of
from gongshu_geo.core.errors import InputError
from gongshu_geo.core.i18n import gettext as _
from gongshu_geo.data.roles import check_roles
from gongshu_geo.data.schema import require_columns

if TYPE_CHECKING:
    from gongshu_geo.analysis.network import WalkGraph

logger = logging.getLogger(__name__)


def summarize_coverage(coverage: pd.DataFrame) -> pd.DataFrame:
    """Total a coverage table over the district, weighted by area and by population.

    Parameters
    ----------
    coverage : pandas.DataFrame
        From :func:`compute_coverage` or :func:`compare_scenarios`.

    Returns
    -------
    pandas.DataFrame
        One row per scenario (if any), facility, mode and tier: ``streets``,
        ``street_area_m2``, ``covered_area_m2``, ``covered_area_share``
        (area-weighted), ``population``, ``covered_pop``,
        ``covered_pop_share`` (population-weighted, over the streets whose
        population is known) and ``streets_without_population``.
    """
    require_columns(coverage, COVERAGE_COLUMNS, "coverage", FROM_COVERAGE)
    keys = [c for c in ["scenario", *ROW_KEYS[2:]] if c in coverage.columns]
    known = coverage["population"].notna()
    table = coverage.assign(covered_pop=coverage["covered_pop"].where(known), _unknown=~known)
    out = table.groupby(keys, dropna=False, sort=False).agg(
        streets=("street_code", "size"),
        street_area_m2=("street_area_m2", "sum"),
        covered_area_m2=("covered_area_m2", "sum"),
        population=("population", lambda s: s.sum(min_count=1)),
        covered_pop=("covered_pop", lambda s: s.sum(min_count=1)),
        streets_without_population=("_unknown", "sum"),
    )
    out.insert(3, "covered_area_share", share_of(out["covered_area_m2"], out["street_area_m2"]))
    out.insert(6, "covered_pop_share", share_of(out["covered_pop"], out["population"]))
    return out.reset_index()


def compare_scenarios(
    streets: gpd.GeoDataFrame,
    projects: gpd.GeoDataFrame,
    layer: str,
    *,
    tiers: pd.DataFrame | float | Sequence[float] | None = None,
    mode: str = "distance",
    graph: WalkGraph | None = None,
    population: gpd.GeoDataFrame | None = None,
    population_field: str = "population",
    band_m: float = DEFAULT_BAND_M,
) -> pd.DataFrame:
    """Measure coverage today and once the plan is built, per street and tier.

    Scenario ``"existing"`` uses the layer's projects whose status is
    ``existing``; scenario ``"plan"`` adds those completed, under construction
    and planned. A layer with nothing existing yet is covered nowhere today.

    Parameters
    ----------
    streets : geopandas.GeoDataFrame
    projects : geopandas.GeoDataFrame
        As read by :func:`gongshu_geo.data.io.read_projects`.
    layer : str
        A key of :data:`FACILITY_LAYERS`.
    tiers, mode, graph, population, population_field, band_m
        As for :func:`compute_coverage`.

    Returns
    -------
    pandas.DataFrame
        A ``scenario`` column, then :data:`COVERAGE_COLUMNS`; see
        :func:`compute_plan_gain` for what the plan adds.
    """
    check_roles("compare_scenarios", streets, "streets, projects, layer", projects=projects)
    plan = select_facilities(projects, layer)
    options = {"facility": layer, "tiers": tiers, "mode": mode, "graph": graph, "band_m": band_m,
               "population": population, "population_field": population_field}  # fmt: skip
    frames = []
    for scenario, facilities in (("existing", plan[plan["status"] == "existing"]), ("plan", plan)):
        logger.info(_("scenario %s: %d %s facilities"), scenario, len(facilities), layer)
        frames.append(compute_coverage(streets, facilities, **options).assign(scenario=scenario))
    both = pd.concat(frames, ignore_index=True)
    return both[["scenario", *COVERAGE_COLUMNS]]


def compute_plan_gain(comparison: pd.DataFrame) -> pd.DataFrame:
    """Count the people and area newly within each tier once the plan is built.

    Parameters
    ----------
    comparison : pandas.DataFrame
        From :func:`compare_scenarios`.

    Returns
    -------
    pandas.DataFrame
        Per street and tier: ``population``, ``covered_pop_existing``,
        ``covered_pop_plan``, ``new_covered_pop`` (plan minus existing), and
        the same three for ``covered_area_share``.
    """
    require_columns(comparison, ["scenario", *COVERAGE_COLUMNS], "comparison", FROM_COVERAGE)
    found = set(comparison["scenario"])
    if not {"existing", "plan"} <= found:
        found = ", ".join(sorted(map(str, found)))
        raise InputError(
            _("comparison needs scenarios existing and plan; found {found}").format(found=found)
        )
    values = ["covered_pop", "covered_area_share"]
    before = comparison.loc[comparison["scenario"] == "existing", ROW_KEYS + values]
    after = comparison.loc[comparison["scenario"] == "plan", ROW_KEYS + ["population", *values]]
    out = after.merge(before, on=ROW_KEYS, how="left", suffixes=("_plan", "_existing"))
    for value in values:
        out[f"new_{value}"] = out[f"{value}_plan"] - out[f"{value}_existing"]
    ordered = [f"{v}_{s}" for v in values for s in ("existing", "plan")]
    return out[[*ROW_KEYS, "population", *ordered[:2], "new_covered_pop", *ordered[2:],
                "new_covered_area_share"]]  # fmt: skip


def compute_network_penalty(distance_cov: pd.DataFrame, network_cov: pd.DataFrame) -> pd.DataFrame:
    """Measure how much coverage the walking network loses against straight lines.

    Parameters
    ----------
    distance_cov, network_cov : pandas.DataFrame
        :func:`compute_coverage` results with ``mode`` ``"distance"`` and
        ``"network"`` for the same streets, facility layer and tiers.

    Returns
    -------
    pandas.DataFrame
        Per street and tier (and scenario, if both have one): both area and
        population shares, and ``area_share_penalty`` / ``pop_share_penalty``,
        the straight-line share minus the network share.
    """
    for frame, mode, what in (
        (distance_cov, "distance", "distance_cov"),
        (network_cov, "network", "network_cov"),
    ):
        require_columns(frame, COVERAGE_COLUMNS, what, FROM_COVERAGE)
        found = set(frame["mode"])
        if found != {mode}:
            found = ", ".join(sorted(map(str, found)))
            raise InputError(
                _("{what} must hold mode {mode!r} rows only; found {found}").format(
                    what=_(what), mode=mode, found=found
                )
            )
    keys = ["scenario"] if "scenario" in distance_cov and "scenario" in network_cov else []
    keys += [k for k in ROW_KEYS if k != "mode"]
    values = ["covered_area_share", "covered_pop_share"]
    out = distance_cov[keys + values].merge(
        network_cov[keys + values], on=keys, how="inner", suffixes=("_distance", "_network")
    )
    if len(out) != len(distance_cov):
        logger.warning(
            _("%d distance rows have no network row to compare with"), len(distance_cov) - len(out)
        )
    out["area_share_penalty"] = (
        out["covered_area_share_distance"] - out["covered_area_share_network"]
    )
    out["pop_share_penalty"] = out["covered_pop_share_distance"] - out["covered_pop_share_network"]
    return out
