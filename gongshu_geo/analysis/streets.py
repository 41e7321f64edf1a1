"""The one street table every analysis shares.

Join, coverage on polygons, coverage on the grid, point coverage and the Dask
engine all take their streets through :func:`make_street_table`: the same
checks, the same metric geometries, the same population column, and the same
rule for a point on an edge that two streets share: **it belongs to the street
with the lowest code** (codes compare as strings), whatever the order of the
layer. Users' layers come in any order, so a rule on codes gives the same
answer for the same streets.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import cached_property

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gongshu_geo.core import crs as _crs
from gongshu_geo.core.errors import InputError
from gongshu_geo.core.i18n import gettext as _

logger = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)
class StreetTable:
    """Streets checked once: attributes in layer order and polygons in EPSG:4549.

    Parameters
    ----------
    frame : pandas.DataFrame
        ``street_code``, ``name``, ``street_area_m2`` and ``population`` (NaN
        where unknown), one row per street in the layer's order.
    geoms : numpy.ndarray
        The streets' (Multi)Polygons in EPSG:4549, in the same order.
    """

    frame: pd.DataFrame
    geoms: np.ndarray

    def __len__(self) -> int:
        return len(self.geoms)

    @cached_property
    def code_order(self) -> np.ndarray:
        """Positions of the streets sorted by code: the order that wins shared edges."""
        return np.argsort(self.frame["street_code"].astype(str).to_numpy(), kind="stable")

    @cached_property
    def bounds(self) -> np.ndarray:
        """``(n, 4)`` bounding boxes in metres."""
        return shapely.bounds(self.geoms)

    def locate(self, xy) -> np.ndarray:
        """Find the street holding each point.

        Parameters
        ----------
        xy : array-like
            ``(n, 2)`` coordinates in EPSG:4549.

        Returns
        -------
        numpy.ndarray
            Street positions (rows of :attr:`frame`), ``-1`` outside every
            street; a point on a shared edge gets the lowest street code.

        Examples
        --------
        >>> from shapely import box
        >>> streets = gpd.GeoDataFrame({"street_code": ["B", "A"]},
        ...     geometry=[box(0, 0, 10, 10), box(10, 0, 20, 10)], crs="EPSG:4549")
        >>> make_street_table(streets).locate([[5, 5], [10, 5], [30, 5]]).tolist()
        [0, 1, -1]
        """
        xy = np.asarray(xy, dtype=float).reshape(-1, 2)
        street = np.full(len(xy), -1, dtype=np.int64)
        if not len(xy) or not len(self):
            return street
        # Points are bucketed in a grid of about four cells per street, so each
        # street tests only the points of the cells its bounding box overlaps.
        bounds = self.bounds
        side = int(np.ceil(2 * np.sqrt(len(self))))
        x0, y0 = bounds[:, 0].min(), bounds[:, 1].min()
        size = max(bounds[:, 2].max() - x0, bounds[:, 3].max() - y0, 1e-9) / side

        def cell(v, origin):
            return np.clip(np.floor((v - origin) / size), 0, side - 1).astype(np.int64)

        ids = cell(xy[:, 1], y0) * side + cell(xy[:, 0], x0)
        order = np.argsort(ids, kind="stable")
        starts = np.searchsorted(ids[order], np.arange(side * side + 1))
        cx0, cx1 = cell(bounds[:, 0], x0), cell(bounds[:, 2], x0)
        cy0, cy1 = cell(bounds[:, 1], y0), cell(bounds[:, 3], y0)
        for k in self.code_order:
            rows = np.arange(cy0[k], cy1[k] + 1) * side
            cand = np.concatenate(
                [order[starts[r + cx0[k]] : starts[r + cx1[k] + 1]] for r in rows]
            )
            cand = cand[street[cand] < 0]
            if len(cand):
                shapely.prepare(self.geoms[k])
                hit = shapely.intersects_xy(self.geoms[k], xy[cand, 0], xy[cand, 1])
                street[cand[hit]] = k
        return street


def make_street_table(streets: gpd.GeoDataFrame, *, require_name: bool = False) -> StreetTable:
    """Check a street layer and put it in the form every analysis uses.

    Parameters
    ----------
    streets : geopandas.GeoDataFrame
        ``street_code`` (unique), optionally ``name`` and ``population``, and
        (Multi)Polygons with a CRS.
    require_name : bool
        Refuse a layer without a ``name`` column.

    Returns
    -------
    StreetTable

    Raises
    ------
    InputError
        When it is not a GeoDataFrame, a column is missing, a code repeats, or
        a geometry is not a polygon.
    """
    needed = ["street_code", "name"] if require_name else ["street_code"]
    if not isinstance(streets, gpd.GeoDataFrame):
        raise InputError(
            _("streets must be a GeoDataFrame with {needed} and polygons; found {type}").format(
                needed=", ".join(needed), type=type(streets).__name__
            )
        )
    missing = [c for c in needed if c not in streets.columns]
    if missing:
        found = ", ".join(map(str, streets.columns))
        raise InputError(
            _(
                'streets: column "{missing}" is missing; found {found}. Read them with '
                "read_streets()"
            ).format(missing=missing[0], found=found)
        )
    geoms = np.asarray(_crs.to_metric(streets).geometry.values, dtype=object)
    bad = np.flatnonzero(shapely.is_missing(geoms) | ~np.isin(shapely.get_type_id(geoms), [3, 6]))
    if len(bad) == 0:
        bad = np.flatnonzero(shapely.is_empty(geoms))
    if len(bad):
        k = bad[0]
        found = getattr(geoms[k], "geom_type", "nothing") or "nothing"
        raise InputError(
            _("street #{k} ({code!r}): must be a Polygon or MultiPolygon; found {value}").format(
                k=k,
                code=streets["street_code"].iloc[k],
                value="an empty geometry" if found == "Polygon" else found,
            )
        )
    codes = streets["street_code"]
    dup = codes.duplicated()
    if dup.any():
        raise InputError(
            _("street_code must be unique; {found!r} appears twice").format(
                found=codes[dup].iloc[0]
            )
        )
    names = streets["name"] if "name" in streets.columns else pd.Series(None, index=streets.index)
    pop = streets.get("population", pd.Series(np.nan, index=streets.index))
    frame = pd.DataFrame(
        {
            "street_code": codes.to_numpy(),
            "name": names.to_numpy(),
            "street_area_m2": shapely.area(geoms),
            "population": pd.to_numeric(pop, errors="coerce").astype(float).to_numpy(),
        }
    )
    return StreetTable(frame, geoms)
