"""Projects x streets: which streets each project lies in, and how much of it.

The join is many-to-many, like a capital-projects database: a road crossing
three streets gives three rows, each with its share of the road's length. Shares
are measured in the metric CRS (EPSG:4549): length for lines, area for
polygons, and 1 for points. Whatever lies outside every street gets a row of
its own (``street_code`` empty, ``outside`` true), so a project's shares always
sum to 1 and nothing is dropped silently.
"""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gongshu_geo.core import crs as _crs
from gongshu_geo.core.errors import InputError
from gongshu_geo.core.i18n import gettext as _
from gongshu_geo.data.roles import check_roles

logger = logging.getLogger(__name__)

JOIN_COLUMNS = [
    "project_id",
    "project_name",
    "category",
    "status",
    "street_code",
    "street_name",
    "measure",
    "amount",
    "share",
    "outside",
]

_MEASURE = {
    "Point": "count",
    "MultiPoint": "count",
    "LineString": "length_m",
    "MultiLineString": "length_m",
    "Polygon": "area_m2",
    "MultiPolygon": "area_m2",
}


def _check_join_inputs(projects, streets):
    for frame, what, needed in (
        (projects, "projects", ("id", "name", "category", "status")),
        (streets, "streets", ("street_code", "name")),
    ):
        if not isinstance(frame, gpd.GeoDataFrame):
            raise InputError(
                _("{what} must be a GeoDataFrame; found {type}").format(
                    what=_(what), type=type(frame).__name__
                )
            )
        missing = [c for c in needed if c not in frame.columns]
        if missing:
            raise InputError(
                _('{what} has no column "{missing}"; expected columns {needed}').format(
                    what=_(what), missing=missing[0], needed=", ".join(needed)
                )
            )
        if frame.crs is None:
            raise InputError(
                _("{what} has no CRS; set one with .set_crs(...)").format(what=_(what))
            )


def _measure(geoms):
    kinds = shapely.get_type_id(geoms)
    out = np.ones(len(geoms))
    lines = np.isin(kinds, (1, 5))
    polys = np.isin(kinds, (3, 6))
    out[lines] = shapely.length(geoms[lines])
    out[polys] = shapely.area(geoms[polys])
    return out


def join_projects_to_streets(
    streets: gpd.GeoDataFrame, projects: gpd.GeoDataFrame
) -> gpd.GeoDataFrame:
    """Apportion every project over the streets it lies in.

    Parameters
    ----------
    streets : geopandas.GeoDataFrame
        Street polygons with ``street_code`` and ``name``.
    projects : geopandas.GeoDataFrame
        With ``id``, ``name``, ``category``, ``status`` and any geometries.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per (project, street) with columns :data:`JOIN_COLUMNS` and
        the project's whole geometry, in the projects' CRS. ``amount`` is
        metres, square metres or 1 (see ``measure``), ``share`` is the
        fraction of the project in that street; a row with ``outside`` true
        holds the part outside every street.

    Raises
    ------
    InputError
        When a column or the CRS is missing, or the frames are passed in the
        old order (projects first).

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import LineString, box
    >>> streets = gpd.GeoDataFrame({"street_code": ["A", "B"], "name": ["a", "b"]},
    ...     geometry=[box(0, 0, 100, 100), box(100, 0, 200, 100)], crs="EPSG:4549")
    >>> road = gpd.GeoDataFrame({"id": ["P-ROAD-001"], "name": ["r"], "category": ["road"],
    ...     "status": ["planned"]}, geometry=[LineString([(50, 50), (200, 50)])], crs="EPSG:4549")
    >>> joined = join_projects_to_streets(streets, road)
    >>> joined[["street_code", "share"]].round(3).values.tolist()
    [['A', 0.333], ['B', 0.667]]
    >>> type(joined).__name__, joined.crs.to_epsg()
    ('GeoDataFrame', 4549)
    """
    check_roles("join_projects_to_streets", streets, "streets, projects", projects=projects)
    joined = _apportion(streets, projects)
    n_out = joined.loc[joined["outside"], "_p"].nunique()
    if n_out:
        logger.info("%d projects lie wholly or partly outside the streets (see outside.csv)", n_out)
    logger.info(
        "joined %d projects to %d streets: %d rows", len(projects), len(streets), len(joined)
    )
    return joined.drop(columns="_p").reset_index(drop=True)


def _apportion(streets, projects) -> gpd.GeoDataFrame:
    """Apportion the projects; the rows keep ``_p``, the position of their project."""
    _check_join_inputs(projects, streets)
    p = _crs.to_metric(projects)
    s = _crs.to_metric(streets)
    pgeoms = p.geometry.values
    sgeoms = s.geometry.values
    total = _measure(pgeoms)
    pi, si = s.sindex.query(pgeoms, predicate="intersects")
    parts = shapely.intersection(pgeoms[pi], sgeoms[si])
    kinds = shapely.get_type_id(pgeoms[pi])
    amount = np.where(np.isin(kinds, (0, 4)), 1.0, 0.0)
    line_mask = np.isin(kinds, (1, 5))
    poly_mask = np.isin(kinds, (3, 6))
    amount[line_mask] = shapely.length(parts[line_mask])
    amount[poly_mask] = shapely.area(parts[poly_mask])
    rows = pd.DataFrame({"_p": pi, "_s": si, "amount": amount})
    # A point on a shared edge touches two streets: it belongs to the lowest code.
    point_rows = np.isin(kinds, (0, 4))
    if point_rows.any():
        pts = rows[point_rows].assign(_code=s["street_code"].values[rows["_s"][point_rows]])
        pts = pts.sort_values(["_p", "_code"]).drop_duplicates("_p").drop(columns="_code")
        rows = pd.concat([rows[~point_rows], pts])
    rows = rows[rows["amount"] > 0]
    inside = rows.groupby("_p")["amount"].sum().reindex(range(len(p)), fill_value=0.0)
    outside_amount = np.clip(total - inside.to_numpy(), 0.0, None)
    tol = np.where(np.isin(shapely.get_type_id(pgeoms), (0, 4)), 0.5, 1e-6 * np.maximum(total, 1.0))
    out_idx = np.flatnonzero(outside_amount > tol)
    outside_rows = pd.DataFrame({"_p": out_idx, "_s": -1, "amount": outside_amount[out_idx]})
    rows = pd.concat([rows, outside_rows], ignore_index=True)
    rows["share"] = rows["amount"] / np.where(total[rows["_p"]] > 0, total[rows["_p"]], 1.0)
    # Normalise tiny float drift so that shares of one project sum to exactly 1.
    rows["share"] = rows["share"] / rows.groupby("_p")["share"].transform("sum")
    joined = gpd.GeoDataFrame(
        {
            "project_id": p["id"].values[rows["_p"]],
            "project_name": p["name"].values[rows["_p"]],
            "category": p["category"].values[rows["_p"]],
            "status": p["status"].values[rows["_p"]],
            "street_code": np.where(
                rows["_s"] >= 0, s["street_code"].values[rows["_s"].clip(0)], None
            ),
            "street_name": np.where(rows["_s"] >= 0, s["name"].values[rows["_s"].clip(0)], None),
            "measure": [_MEASURE.get(t, "count") for t in p.geometry.geom_type.values[rows["_p"]]],
            "amount": rows["amount"].to_numpy(),
            "share": rows["share"].to_numpy(),
            "outside": (rows["_s"] < 0).to_numpy(),
            "_p": rows["_p"].to_numpy(),
        },
        geometry=projects.geometry.values[rows["_p"].to_numpy()],
        crs=projects.crs,
    )
    return joined.sort_values(["_p", "outside", "street_code"])


def flag_outside(streets: gpd.GeoDataFrame, projects: gpd.GeoDataFrame) -> pd.Series:
    """Flag the projects that lie wholly or partly outside every street.

    Parameters
    ----------
    streets : geopandas.GeoDataFrame
        Street polygons with ``street_code`` and ``name``.
    projects : geopandas.GeoDataFrame
        As for :func:`join_projects_to_streets`.

    Returns
    -------
    pandas.Series
        Boolean, named ``outside`` and aligned with ``projects.index``: true
        where some of the project (length, area, or the point itself) lies
        outside every street. :func:`summarize_outside` gives the shares.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point, box
    >>> streets = gpd.GeoDataFrame({"street_code": ["A"], "name": ["a"]},
    ...     geometry=[box(0, 0, 100, 100)], crs="EPSG:4549")
    >>> sites = gpd.GeoDataFrame({"id": ["P-1", "P-2"], "name": ["in", "out"],
    ...     "category": ["park"] * 2, "status": ["planned"] * 2},
    ...     geometry=[Point(50, 50), Point(150, 50)], index=[10, 20], crs="EPSG:4549")
    >>> flag_outside(streets, sites).to_dict()
    {10: False, 20: True}
    """
    check_roles("flag_outside", streets, "streets, projects", projects=projects)
    joined = _apportion(streets, projects)
    flags = np.isin(np.arange(len(projects)), joined.loc[joined["outside"], "_p"].to_numpy())
    return pd.Series(flags, index=projects.index, name="outside", dtype=bool)


def summarize_outside(joined: pd.DataFrame) -> pd.DataFrame:
    """Summarize the projects with any part outside the streets: the share outside.

    Parameters
    ----------
    joined : pandas.DataFrame
        From :func:`join_projects_to_streets`.

    Returns
    -------
    pandas.DataFrame
        ``project_id, project_name, category, outside_share, outside_amount,
        measure``: one row per project that lies partly or wholly outside.
    """
    out = joined[joined["outside"]]
    return pd.DataFrame(
        out[["project_id", "project_name", "category", "share", "amount", "measure"]]
        .rename(columns={"share": "outside_share", "amount": "outside_amount"})
        .reset_index(drop=True)
    )


def summarize_streets(
    streets: gpd.GeoDataFrame, projects: gpd.GeoDataFrame, joined: pd.DataFrame | None = None
) -> gpd.GeoDataFrame:
    """Per-street statistics: project counts, road length, park area, stations.

    A project counts once in every street it touches (counts therefore add up
    to more than the number of projects); lengths and areas are apportioned.

    Parameters
    ----------
    streets : geopandas.GeoDataFrame
        As read by :func:`gongshu_geo.read_streets`, with ``population``.
    projects : geopandas.GeoDataFrame
        As read by :func:`gongshu_geo.read_projects`.
    joined : pandas.DataFrame, optional
        From :func:`join_projects_to_streets`; joined here when not given.

    Returns
    -------
    geopandas.GeoDataFrame
        The streets (EPSG:4326) with ``n_projects``, ``n_<category>``,
        ``n_status_<status>``, ``road_km``, ``park_area_m2``,
        ``n_metro_stations``, ``geometry_area_km2`` and
        ``park_m2_per_person``.
    """
    from gongshu_geo.data.schema import CATEGORIES, STATUSES

    check_roles("summarize_streets", streets, "streets, projects", projects=projects)
    if joined is None:
        joined = join_projects_to_streets(streets, projects)
    inside = joined[~joined["outside"]]
    by_street = inside.groupby("street_code")
    out = streets.to_crs(_crs.WGS84).copy()
    code = out["street_code"]
    out["n_projects"] = code.map(by_street["project_id"].nunique()).fillna(0).astype(int)
    for cat in CATEGORIES:
        counts = inside[inside["category"] == cat].groupby("street_code")["project_id"].nunique()
        out[f"n_{cat}"] = code.map(counts).fillna(0).astype(int)
    for status in STATUSES:
        counts = inside[inside["status"] == status].groupby("street_code")["project_id"].nunique()
        out[f"n_status_{status}"] = code.map(counts).fillna(0).astype(int)
    roads = inside[(inside["category"] == "road") & (inside["measure"] == "length_m")]
    out["road_km"] = code.map(roads.groupby("street_code")["amount"].sum() / 1000).fillna(0.0)
    parks = inside[(inside["category"] == "park") & (inside["measure"] == "area_m2")]
    out["park_area_m2"] = code.map(parks.groupby("street_code")["amount"].sum()).fillna(0.0)
    out["n_metro_stations"] = out["n_metro_station"]
    out["geometry_area_km2"] = _crs.to_metric(out).area.to_numpy() / 1e6
    pop = pd.to_numeric(out.get("population"), errors="coerce") if "population" in out else np.nan
    out["park_m2_per_person"] = out["park_area_m2"] / pop
    return out
