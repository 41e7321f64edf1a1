"""Accessibility surfaces: minutes to the nearest facility, for GIS, web maps and hexagons.

A :class:`~gongshu_geo.analysis.access.DistanceSurface` holds metres for every cell; here it
becomes what planners open:

- :func:`write_surface_geotiff`: a cloud-optimised GeoTIFF of minutes in EPSG:4549,
  with overviews, for QGIS;
- :func:`make_surface_image`: a PNG of the same minutes in classes, reprojected to Web
  Mercator, with its corners, for an image layer of a web map;
- :func:`aggregate_to_h3`: the mean and worst minutes and the people of every H3
  hexagon, a light vector layer and a table.

Minutes are metres walked at a speed (60 m/min by default, the speed that makes
the standard's 300 m five minutes). Cells outside every street, and cells that no
facility reaches within the surface's largest distance, have no value.
"""

from __future__ import annotations

import io
import logging
import os
import weakref
from collections.abc import Sequence
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gongshu_geo.analysis.access import DistanceSurface
from gongshu_geo.analysis.tiers import DEFAULT_SPEED_M_PER_MIN
from gongshu_geo.core import crs as _crs
from gongshu_geo.core.deprecated import deprecated_alias
from gongshu_geo.core.errors import InputError, MissingDependencyError
from gongshu_geo.core.i18n import gettext as _

logger = logging.getLogger(__name__)

#: Class breaks of the web image and its legend, minutes.
MINUTE_BREAKS = (5, 10, 15, 20, 30)
#: Colours of the classes, nearest first (light is far), then "farther".
MINUTE_COLOURS = ("#1a9850", "#91cf60", "#d9ef8b", "#fee08b", "#fc8d59", "#d73027")
#: H3 resolution of the hexagon layer: 9 is about 0.1 km^2, a few minutes' walk across.
DEFAULT_H3_RESOLUTION = 9


def compute_minutes(
    surface: DistanceSurface, *, speed_m_per_min: float = DEFAULT_SPEED_M_PER_MIN
) -> np.ndarray:
    """Turn a surface's metres into minutes of walking.

    Parameters
    ----------
    surface : DistanceSurface
    speed_m_per_min : float
        Walking speed.

    Returns
    -------
    numpy.ndarray
        ``(n_rows, n_cols)`` float32 minutes; NaN outside the streets and where
        no facility is within reach.
    """
    if not (np.isfinite(speed_m_per_min) and speed_m_per_min > 0):
        raise InputError(
            _("speed_m_per_min must be a positive number; found {speed_m_per_min!r}").format(
                speed_m_per_min=speed_m_per_min
            )
        )
    metres = surface.raster()
    minutes = np.where(np.isfinite(metres), metres / float(speed_m_per_min), np.nan)
    return minutes.astype(np.float32)


def write_surface_geotiff(
    surface: DistanceSurface,
    path: str | os.PathLike,
    *,
    speed_m_per_min: float = DEFAULT_SPEED_M_PER_MIN,
    description: str = "minutes to the nearest facility",
) -> Path:
    """Write the minutes as a cloud-optimised GeoTIFF in EPSG:4549, with overviews.

    Parameters
    ----------
    surface : DistanceSurface
    path : str or Path
        The ``.tif`` to write.
    speed_m_per_min : float
        Walking speed turning metres into minutes.
    description : str
        The band's description, as QGIS shows it.

    Returns
    -------
    pathlib.Path
    """
    import rasterio
    from rasterio.io import MemoryFile

    path = Path(path)
    minutes = compute_minutes(surface, speed_m_per_min=speed_m_per_min)
    grid = surface.grid
    profile = {
        "driver": "GTiff", "height": grid.n_rows, "width": grid.n_cols, "count": 1,
        "dtype": "float32", "crs": _crs.METRIC, "transform": grid.transform, "nodata": np.nan,
    }  # fmt: skip
    with MemoryFile() as mem:
        with mem.open(**profile) as dst:
            dst.write(minutes, 1)
            dst.set_band_description(1, description)
            dst.update_tags(
                units="minutes", mode=surface.mode, speed_m_per_min=f"{speed_m_per_min:g}",
                max_distance_m=f"{surface.max_distance_m:g}", band_m=f"{surface.band_m:g}",
            )  # fmt: skip
        with mem.open() as src, rasterio.open(
            path, "w", driver="COG", compress="DEFLATE", level=1, predictor=3,
            overview_resampling="average",
            blocksize=256, overview_count=max(1, int(np.log2(max(grid.shape) / 256)) + 1),
            **{k: v for k, v in src.profile.items() if k in ("crs", "transform", "nodata")},
            width=src.width, height=src.height, count=1, dtype="float32",
        ) as dst:  # fmt: skip
            dst.write(src.read(1), 1)
            dst.set_band_description(1, description)
            dst.update_tags(**src.tags())
    logger.info(_("wrote the surface %s (%d x %d cells)"), path, grid.n_cols, grid.n_rows)
    return path


def classify_minutes(minutes: np.ndarray, breaks=MINUTE_BREAKS) -> np.ndarray:
    """Class of each cell: 0 up to the first break, ..., ``len(breaks)`` beyond; -1 no value."""
    cls = np.searchsorted(np.asarray(breaks, dtype=float), minutes, side="left")
    return np.where(np.isfinite(minutes), cls, -1)


def make_surface_image(
    surface: DistanceSurface,
    *,
    speed_m_per_min: float = DEFAULT_SPEED_M_PER_MIN,
    gcj02: bool = False,
    max_pixels: int = 600_000,
) -> tuple[bytes, list]:
    """Draw the minutes in classes as a PNG for a web map's image layer.

    Parameters
    ----------
    surface : DistanceSurface
    speed_m_per_min : float
        Walking speed.
    gcj02 : bool
        Shift the image's corners to GCJ-02, for AMap and other Chinese basemaps
        (the shift is taken at the image's centre: it changes by well under a metre
        per kilometre here).
    max_pixels : int
        Coarsen the image until it has at most this many pixels.

    Returns
    -------
    tuple
        The PNG's bytes, and its bounds ``[[south, west], [north, east]]`` in
        degrees, as :class:`folium.raster_layers.ImageOverlay` takes them.
    """
    from matplotlib.colors import to_rgba
    from PIL import Image

    minutes = compute_minutes(surface, speed_m_per_min=speed_m_per_min)
    grid = surface.grid
    index, transform = _mercator_index(grid, max_pixels)
    height, width = index.shape
    merc = np.where(index >= 0, minutes.ravel()[index.clip(0)], np.nan)
    palette = np.array([[round(c * 255) for c in to_rgba(h, 0.72)] for h in MINUTE_COLOURS])
    cls = classify_minutes(merc)
    rgba = np.zeros((height, width, 4), dtype=np.uint8)
    rgba[cls >= 0] = palette[cls[cls >= 0]]
    buf = io.BytesIO()
    Image.fromarray(rgba, "RGBA").save(buf, format="PNG")
    west, north = transform.c, transform.f
    east, south = west + transform.a * width, north + transform.e * height
    corners = gpd.GeoSeries(shapely.points([(west, south), (east, north)]), crs="EPSG:3857")
    (w, s), (e, n) = shapely.get_coordinates(corners.to_crs(_crs.WGS84).values)
    if gcj02:
        from gongshu_geo.core.crs import wgs84_to_gcj02

        cx, cy = (w + e) / 2, (s + n) / 2
        gx, gy = wgs84_to_gcj02(np.array([cx]), np.array([cy]))
        dx, dy = float(gx[0] - cx), float(gy[0] - cy)
        w, e, s, n = w + dx, e + dx, s + dy, n + dy
    return buf.getvalue(), [[float(s), float(w)], [float(n), float(e)]]


_MERCATOR: dict = {}


def _mercator_index(grid, max_pixels):
    """For every pixel of a Web Mercator image over the grid, the cell at its centre.

    Nearest-neighbour resampling, worked out once per grid and image size (every
    layer of a build shares the grid) and kept for the next call.
    """
    key = (grid, int(max_pixels))
    if key not in _MERCATOR:
        from affine import Affine
        from pyproj import Transformer

        xmin, ymin, xmax, ymax = grid.bounds
        scale = max(1.0, np.sqrt(grid.size / max_pixels))
        to_merc = Transformer.from_crs(_crs.METRIC, "EPSG:3857", always_xy=True)
        mx0, my0, mx1, my1 = to_merc.transform_bounds(xmin, ymin, xmax, ymax, densify_pts=21)
        width = max(1, int(grid.n_cols / scale))
        height = max(1, int(grid.n_rows / scale))
        transform = Affine((mx1 - mx0) / width, 0.0, mx0, 0.0, -(my1 - my0) / height, my1)
        col, row = np.meshgrid(np.arange(width) + 0.5, np.arange(height) + 0.5)
        x = mx0 + col.ravel() * transform.a
        y = my1 + row.ravel() * transform.e
        back = Transformer.from_crs("EPSG:3857", _crs.METRIC, always_xy=True)
        gx, gy = back.transform(x, y)
        index = grid.cell_of(np.column_stack([gx, gy])).reshape(height, width)
        if len(_MERCATOR) > 8:
            _MERCATOR.clear()
        _MERCATOR[key] = (index, transform)
    return _MERCATOR[key]


def aggregate_to_h3(
    surface: DistanceSurface,
    *,
    resolution: int = DEFAULT_H3_RESOLUTION,
    speed_m_per_min: float = DEFAULT_SPEED_M_PER_MIN,
    tiers: pd.DataFrame | float | Sequence[float] | None = None,
) -> gpd.GeoDataFrame:
    """Sum a surface up into H3 hexagons.

    Cells are taken in blocks of about 50 m, and each block falls in the hexagon
    that holds its centre (a hexagon of resolution 9 is about 350 m across), so
    cells within 35 m of a hexagon's edge may count in its neighbour.

    Parameters
    ----------
    surface : DistanceSurface
    resolution : int
        H3 resolution (0-15).
    speed_m_per_min : float
        Walking speed.
    tiers : pandas.DataFrame or sequence of float, optional
        Add, per tier, the share of the hexagon's people within its distance
        (``pop_share_<distance>m``).

    Returns
    -------
    geopandas.GeoDataFrame
        ``h3``, ``cells``, ``population``, ``minutes_mean`` (area mean over
        reached cells), ``minutes_max``, ``reached_share`` (cells with a value)
        and the tier shares, with hexagon polygons in EPSG:4326.
    """
    try:
        import h3
    except ImportError as exc:  # pragma: no cover - h3 is a dependency
        raise MissingDependencyError(_("the hexagon layer needs h3: pip install h3")) from exc
    from gongshu_geo.analysis.tiers import resolve_tiers

    area = surface.area
    inside = area.inside
    codes, which = _hexagons_of(area, resolution, h3)
    metres = surface.metres[inside]
    reached = np.isfinite(metres)
    minutes = np.where(reached, metres / float(speed_m_per_min), 0.0)
    n = len(codes)
    cells = np.bincount(which, minlength=n)
    n_reached = np.bincount(which, weights=reached, minlength=n)
    people = area.cell_pop[inside]
    out = pd.DataFrame({
        "h3": codes,
        "cells": cells,
        "population": np.bincount(which, weights=people, minlength=n),
        "minutes_mean": np.divide(np.bincount(which, weights=minutes, minlength=n), n_reached,
                                  out=np.full(n, np.nan), where=n_reached > 0),
        "reached_share": n_reached / cells,
    })  # fmt: skip
    worst = np.full(n, -np.inf)
    np.maximum.at(worst, which[reached], minutes[reached])
    out["minutes_max"] = np.where(np.isfinite(worst), worst, np.nan)
    for row in resolve_tiers(tiers).itertuples():
        within = np.bincount(which, weights=people * (metres <= row.distance_m), minlength=n)
        out[f"pop_share_{row.distance_m:g}m"] = np.divide(
            within, out["population"], out=np.full(n, np.nan), where=out["population"] > 0
        )
    return gpd.GeoDataFrame(out, geometry=_hexagon_polygons(area, resolution, h3), crs=_crs.WGS84)


_HEXAGONS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _hexagon_polygons(area, resolution, h3):
    """Draw the hexagons of :func:`_hexagons_of` as polygons, kept per area."""
    cached = _HEXAGONS.setdefault(area, {})
    key = ("polygons", resolution)
    if key not in cached:
        codes, _ = _hexagons_of(area, resolution, h3)
        cached[key] = np.array(
            [shapely.Polygon([(x, y) for y, x in h3.cell_to_boundary(c)]) for c in codes],
            dtype=object,
        )
    return cached[key]


def _hexagons_of(area, resolution, h3):
    """H3 codes of a study area's inside cells, by blocks of about 50 m; kept per area."""
    cached = _HEXAGONS.setdefault(area, {})
    if resolution not in cached:
        from pyproj import Transformer

        grid = area.grid
        k = max(1, int(round(50.0 / grid.cell_m)))
        row, col = np.divmod(area.inside, grid.n_cols)
        block = (row // k) * ((grid.n_cols + k - 1) // k) + col // k
        blocks, which = np.unique(block, return_inverse=True)
        b_row, b_col = np.divmod(blocks, (grid.n_cols + k - 1) // k)
        x = grid.x0 + (np.minimum(b_col * k + k / 2, grid.n_cols)) * grid.cell_m
        y = grid.y1 - (np.minimum(b_row * k + k / 2, grid.n_rows)) * grid.cell_m
        lon, lat = Transformer.from_crs(_crs.METRIC, _crs.WGS84, always_xy=True).transform(x, y)
        hexes = np.array(
            [h3.latlng_to_cell(b, a, resolution) for a, b in zip(lon, lat, strict=True)]
        )
        codes, per_block = np.unique(hexes, return_inverse=True)
        cached[resolution] = (codes, per_block[which])
    return cached[resolution]


minutes_of = deprecated_alias(compute_minutes, "minutes_of")
surface_image = deprecated_alias(make_surface_image, "surface_image")
