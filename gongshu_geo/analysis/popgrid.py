"""People on a regular grid in EPSG:4549 clipped to the streets, for site selection.

One function, :func:`population_cells`, with a small interface (streets, a cell
size, optionally a population layer; out come cell centres and their people), so
that a shared grid can take its place. Without a population layer each street's
``population`` is spread evenly over its area, so a cell cut by a street edge
holds the people of the part inside; with one, points add their count to the
cell they fall in and polygons are apportioned by area, inside the streets only.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gongshu_geo.core.errors import InputError
from gongshu_geo.core.i18n import gettext as _

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Cells:
    """People on a regular grid in EPSG:4549.

    Attributes
    ----------
    xy : numpy.ndarray
        ``(k, 2)`` cell centres, metres.
    pop : numpy.ndarray
        People per cell (only cells with people are kept).
    cell_m : float
        Side of a cell.
    """

    xy: np.ndarray
    pop: np.ndarray
    cell_m: float

    def boxes(self, rows=None) -> np.ndarray:
        """Return the cells' squares (EPSG:4549), all or the given rows."""
        xy = self.xy if rows is None else self.xy[rows]
        h = self.cell_m / 2
        return shapely.box(xy[:, 0] - h, xy[:, 1] - h, xy[:, 0] + h, xy[:, 1] + h)


def population_cells(streets, *, cell_m, population=None, population_field="population"):
    """Take the people of the coverage grid's cells, for site selection.

    The cells are those of :func:`gongshu_geo.analysis.grid.make_study_area`, the grid every
    coverage number is counted on: each street's population spread evenly over its
    cells, or a population layer's points counted in their cells and polygons spread
    over the cells whose centres they hold. Only cells with people are kept.
    """
    from gongshu_geo.analysis.grid import make_study_area

    if isinstance(streets, gpd.GeoDataFrame) and population is None:
        if "population" not in streets.columns:
            raise InputError(
                _(
                    'streets need a "population" column (read_streets() adds it) or pass a '
                    "population layer"
                )
            )
        people = pd.to_numeric(streets["population"], errors="coerce").to_numpy(dtype=float)
        for k in np.flatnonzero(~(people >= 0)):
            logger.warning(_("street #%d has no population: nobody is counted there"), k)
    area = make_study_area(
        streets, cell_m=cell_m, population=population, population_field=population_field
    )
    pop = area.cell_pop.copy()
    np.add.at(pop, area.point_cell, area.point_pop)
    keep = np.flatnonzero(pop > 0)
    xy = area.grid.centres(keep)
    logger.info(_("%d populated cells of %g m, %.0f people"), len(xy), area.grid.cell_m, pop.sum())
    return Cells(xy, pop[keep], float(area.grid.cell_m))
