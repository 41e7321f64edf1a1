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

from . import crs as _crs
from ._errors import InputError

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
    """Spread people over grid cells clipped to the streets.

    Without ``population`` each street's ``population`` is spread evenly over its
    area; with it, points add their count to the cell they fall in and polygons
    are apportioned by the area of each cell they overlap (inside the streets).
    """
    cell_m = float(cell_m)
    if not np.isfinite(cell_m) or cell_m <= 0:
        raise InputError(f"cell_m must be a positive number of metres; found {cell_m!r}")
    if not isinstance(streets, gpd.GeoDataFrame) or streets.empty:
        raise InputError(f"streets must be a GeoDataFrame of polygons; found {type(streets)}")
    geoms = np.asarray(_crs.to_metric(streets).geometry.values, dtype=object)
    minx, miny, maxx, maxy = shapely.total_bounds(geoms)
    x0, y0 = np.floor(minx / cell_m) * cell_m, np.floor(miny / cell_m) * cell_m
    nx, ny = int(np.ceil((maxx - x0) / cell_m)), int(np.ceil((maxy - y0) / cell_m))
    grid = np.zeros((ny, nx))
    if population is None:
        if "population" not in streets.columns:
            raise InputError(
                'streets need a "population" column (read_streets() adds it) or pass a '
                "population layer"
            )
        people = pd.to_numeric(streets["population"], errors="coerce").to_numpy(dtype=float)
        for k in np.flatnonzero(~(people >= 0)):
            logger.warning("street #%d has no population: nobody is counted there", k)
        for k, geom in enumerate(geoms):
            if people[k] > 0 and geom.area > 0:
                _add_area(grid, geom, people[k] / geom.area, x0, y0, cell_m)
    else:
        _add_population_layer(grid, population, population_field, geoms, x0, y0, cell_m)
    iy, ix = np.nonzero(grid > 0)
    xy = np.column_stack([x0 + (ix + 0.5) * cell_m, y0 + (iy + 0.5) * cell_m])
    logger.info("%d populated cells of %g m, %.0f people", len(xy), cell_m, grid.sum())
    return Cells(xy, grid[iy, ix], cell_m)


def _window(geom, x0, y0, cell_m, shape):
    """Rows and columns of the grid cells overlapping a geometry's bounds."""
    bx0, by0, bx1, by1 = shapely.bounds(geom)
    ix = np.arange(max(int((bx0 - x0) // cell_m), 0), min(int((bx1 - x0) // cell_m) + 1, shape[1]))
    iy = np.arange(max(int((by0 - y0) // cell_m), 0), min(int((by1 - y0) // cell_m) + 1, shape[0]))
    gx, gy = np.meshgrid(ix, iy)
    return gy.ravel(), gx.ravel()


def _add_area(grid, geom, density, x0, y0, cell_m) -> None:
    """Add ``density`` times the area of each cell that lies inside ``geom``."""
    iy, ix = _window(geom, x0, y0, cell_m, grid.shape)
    boxes = shapely.box(x0 + ix * cell_m, y0 + iy * cell_m,
                        x0 + (ix + 1) * cell_m, y0 + (iy + 1) * cell_m)  # fmt: skip
    shapely.prepare(geom)
    hit = shapely.intersects(geom, boxes)
    iy, ix, boxes = iy[hit], ix[hit], boxes[hit]
    inside = shapely.contains_properly(geom, boxes)
    area = np.full(len(boxes), cell_m * cell_m)
    area[~inside] = shapely.area(shapely.intersection(boxes[~inside], geom))
    np.add.at(grid, (iy, ix), density * area)


def _add_population_layer(grid, population, field, street_geoms, x0, y0, cell_m) -> None:
    if not isinstance(population, gpd.GeoDataFrame) or field not in population.columns:
        found = list(getattr(population, "columns", [])) or type(population).__name__
        raise InputError(
            f'population must be a GeoDataFrame with a "{field}" count column (name it with '
            f"population_field=...); found {found}"
        )
    counts = pd.to_numeric(population[field], errors="coerce").to_numpy(dtype=float)
    geoms = np.asarray(_crs.to_metric(population).geometry.values, dtype=object)
    kind = shapely.get_type_id(geoms)
    for k in np.flatnonzero(~(counts >= 0) | ~np.isin(kind, [0, 3, 6]))[:1]:
        found = population[field].iloc[k] if not counts[k] >= 0 else geoms[k].geom_type
        what = f'"{field}" a non-negative number' if not counts[k] >= 0 else "a Point or Polygon"
        raise InputError(f"population row #{k}: must be {what}; found {found!r}")
    district = shapely.union_all(street_geoms)
    shapely.prepare(district)
    point = kind == 0
    xy = shapely.get_coordinates(geoms[point])
    inside = shapely.intersects_xy(district, xy[:, 0], xy[:, 1])
    if (~inside).any():
        logger.warning("%d population points lie outside every street", int((~inside).sum()))
    ix = np.clip(((xy[inside, 0] - x0) // cell_m).astype(np.int64), 0, grid.shape[1] - 1)
    iy = np.clip(((xy[inside, 1] - y0) // cell_m).astype(np.int64), 0, grid.shape[0] - 1)
    np.add.at(grid, (iy, ix), counts[point][inside])
    for k in np.flatnonzero(~point):
        whole = shapely.area(geoms[k])
        part = shapely.intersection(geoms[k], district)
        if whole > 0 and counts[k] > 0 and not part.is_empty:
            _add_area(grid, part, counts[k] / whole, x0, y0, cell_m)
