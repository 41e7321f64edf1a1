"""Whether a user's layer lies where the study area is, before anything is measured.

Two checks, both cheap (bounding boxes and point-in-polygon tests, no buffering):

- :func:`check_coordinate_range` refuses coordinates that cannot be right in the
  layer's CRS (NaN, infinite, or beyond ±180°/±90° in a geographic CRS) before
  any reprojection or geometry operation sees them; GEOS is not safe with them.
- :func:`check_layer_extent` refuses a facility or population layer whose
  features lie mostly or wholly outside the streets: a CSV with ``lon`` and
  ``lat`` swapped, or a layer in another CRS than it says, would otherwise give
  zero coverage everywhere without a word. The message gives the bounding box
  found and the likely cause.
"""

from __future__ import annotations

import logging

import numpy as np
import shapely
from pyproj import CRS, Transformer

from gongshu_geo.core import crs as _crs
from gongshu_geo.core.errors import InputError
from gongshu_geo.core.i18n import gettext as _

logger = logging.getLogger(__name__)

#: Features of a layer may lie this far outside the streets and still count as inside:
#: a facility just beyond the boundary serves the streets (the widest tier is 1 km).
STUDY_AREA_MARGIN_M = 2000.0
#: A layer with fewer of its features inside the study area than this is refused.
MIN_INSIDE_SHARE = 0.5

#: CRSs tried when the declared one puts the layer outside: the usual Chinese frames.
_CANDIDATE_CRS = {
    "EPSG:4326": "WGS 84 longitude/latitude",
    "EPSG:4549": "CGCS2000 / Gauss-Kruger CM 120E metres",
    "EPSG:4527": "CGCS2000 / Gauss-Kruger zone 40 metres (with the zone number in x)",
    "EPSG:3857": "Web Mercator metres",
    "EPSG:32651": "UTM zone 51N metres",
    "EPSG:32650": "UTM zone 50N metres",
}


def _bounds(gdf) -> np.ndarray:
    return shapely.bounds(np.asarray(gdf.geometry.values))


def check_coordinate_range(gdf, *, source: str, what: str = "layer") -> None:
    """Refuse missing, non-finite or impossible coordinates before any geometry operation.

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame
        A layer in its own CRS (not yet reprojected).
    source : str
        How messages name the file.
    what : str
        What the layer is (``"facility layer"``).

    Raises
    ------
    InputError
        Naming the first bad feature (counting from 0) and what was found.
    """
    if len(gdf) == 0:
        return
    bounds = _bounds(gdf)
    missing = np.isnan(bounds).all(axis=1)
    if missing.any():
        k = int(np.flatnonzero(missing)[0])
        raise InputError(
            _(
                "{source}: feature #{k} of the {what} has no geometry ({count} such "
                "features); drop or fix them"
            ).format(source=source, k=k, what=_(what), count=int(missing.sum()))
        )
    coords, owner = shapely.get_coordinates(np.asarray(gdf.geometry.values), return_index=True)
    finite = np.isfinite(coords).all(axis=1)
    if not finite.all():
        bad_feature = int(owner[np.flatnonzero(~finite)[0]])
        raise InputError(
            _(
                "{source}: feature #{bad_feature} of the {what} has coordinates that are "
                "not finite numbers (NaN or infinity); fix or drop it"
            ).format(source=source, bad_feature=bad_feature, what=_(what))
        )
    crs = gdf.crs
    if crs is not None and CRS.from_user_input(crs).is_geographic:
        lon_bad = (bounds[:, 0] < -180) | (bounds[:, 2] > 180)
        lat_bad = (bounds[:, 1] < -90) | (bounds[:, 3] > 90)
        bad = np.flatnonzero(lon_bad | lat_bad)
        if len(bad):
            k = int(bad[0])
            x0, y0 = bounds[:, :2].min(axis=0)
            x1, y1 = bounds[:, 2:].max(axis=0)
            swapped_ok = -90 <= x0 and x1 <= 90 and -180 <= y0 and y1 <= 180
            if swapped_ok:
                hint = _(
                    "longitude and latitude look swapped: put longitude in lon/x, latitude in lat/y"
                )
            elif np.abs(bounds[bad]).max() > 1000:
                hint = _(
                    "they look like metres of a projected CRS (e.g. EPSG:4549): give the layer "
                    "its real CRS (e.g. a .prj file beside a Shapefile)"
                )
            else:
                hint = _("fix or drop those features")
            raise InputError(
                _(
                    "{source}: {n_bad} of the {n_gdf} features of the {what} (the first: "
                    "#{k}) have coordinates beyond longitude -180..180 / latitude -90..90, "
                    "impossible in its CRS ({name}, degrees): found bounding box x "
                    "{x0:.6g}..{x1:.6g}, y {y0:.6g}..{y1:.6g}; {hint}"
                ).format(
                    source=source,
                    n_bad=len(bad),
                    n_gdf=len(gdf),
                    what=_(what),
                    k=k,
                    name=CRS.from_user_input(crs).name,
                    x0=x0,
                    x1=x1,
                    y0=y0,
                    y1=y1,
                    hint=hint,
                )
            )


def _centres(bounds: np.ndarray) -> np.ndarray:
    return np.column_stack([(bounds[:, 0] + bounds[:, 2]) / 2, (bounds[:, 1] + bounds[:, 3]) / 2])


def _share_inside(xy: np.ndarray, area) -> float:
    if not len(xy):
        return 0.0
    ok = np.isfinite(xy).all(axis=1)
    inside = np.zeros(len(xy), dtype=bool)
    inside[ok] = shapely.contains_xy(area, xy[ok, 0], xy[ok, 1])
    return float(inside.mean())


def _study_area(streets, margin_m: float):
    """Return the streets' outline widened by ``margin_m``, in WGS 84 (one prepared polygon)."""
    metric = _crs.to_metric(streets)
    outline = shapely.union_all(np.asarray(metric.geometry.values)).buffer(margin_m)
    to_wgs84 = Transformer.from_crs(_crs.METRIC, _crs.WGS84, always_xy=True)
    area = shapely.transform(
        outline, lambda c: np.column_stack(to_wgs84.transform(c[:, 0], c[:, 1]))
    )
    shapely.prepare(area)
    return area


def _likely_cause(raw_xy, area, declared) -> str:
    """Return, as a hint, the reading of the raw coordinates that puts them inside."""
    swapped = raw_xy[:, ::-1]
    hints = []
    for code, name in _CANDIDATE_CRS.items():
        try:
            to_wgs84 = Transformer.from_crs(code, _crs.WGS84, always_xy=True)
        except Exception:  # noqa: BLE001 - PROJ without this CRS: skip the hint
            continue
        for xy, flipped in ((raw_xy, False), (swapped, True)):
            with np.errstate(all="ignore"):
                lon, lat = to_wgs84.transform(xy[:, 0], xy[:, 1])
            if _share_inside(np.column_stack([lon, lat]), area) >= MIN_INSIDE_SHARE:
                if flipped and code == declared:
                    axes = _("longitude and latitude") if code == "EPSG:4326" else _("x and y")
                    return _(
                        "{axes} look swapped: exchanged, the features fall inside (put "
                        "longitude or easting in lon/x, latitude or northing in lat/y)"
                    ).format(axes=axes)
                if code != declared:
                    if flipped:
                        fit = _(
                            "the coordinates fit {code} ({name}), with x and y swapped, not the "
                            "layer's {declared}: give the layer its real CRS (e.g. a .prj file)"
                        )
                    else:
                        fit = _(
                            "the coordinates fit {code} ({name}), not the layer's "
                            "{declared}: give the layer its real CRS (e.g. a .prj file)"
                        )
                    hints.append(fit.format(code=code, name=name, declared=declared))
    if hints:
        return hints[0]
    return _(
        "check the layer's CRS and the order of its coordinates, or clip the layer to the "
        "study area"
    )


def check_layer_extent(
    layer,
    streets,
    *,
    source: str,
    what: str = "facility layer",
    skip_invalid: bool = False,
    margin_m: float = STUDY_AREA_MARGIN_M,
    min_inside_share: float = MIN_INSIDE_SHARE,
    skip_option: str | None = "--skip-invalid",
) -> str | None:
    """Refuse a layer whose features lie mostly or wholly outside the streets.

    A feature counts as inside when the centre of its bounding box lies within
    the streets widened by ``margin_m``.

    Parameters
    ----------
    layer : geopandas.GeoDataFrame
        The user's layer, in its own CRS (checked with
        :func:`check_coordinate_range` first).
    streets : geopandas.GeoDataFrame
        The study area's streets.
    source : str
        How messages name the file.
    what : str
        What the layer is, for the message.
    skip_invalid : bool
        Return the problem as a warning (also logged) instead of raising.
    margin_m : float
        How far outside the streets a feature may lie.
    min_inside_share : float
        The share of features that must lie inside.
    skip_option : str, optional
        The command-line option that measures such a layer anyway, for the message.

    Returns
    -------
    str or None
        None when the layer lies inside; with ``skip_invalid``, the warning.

    Raises
    ------
    InputError
        Naming the file, how many features lie outside, the bounding box found,
        the streets' and the likely cause (swapped longitude and latitude, or
        another CRS).
    """
    check_coordinate_range(layer, source=source, what=what)
    if len(layer) == 0 or layer.crs is None:
        return None
    declared = CRS.from_user_input(layer.crs)
    raw = _centres(_bounds(layer))
    to_wgs84 = Transformer.from_crs(declared, _crs.WGS84, always_xy=True)
    with np.errstate(all="ignore"):
        xy = np.column_stack(to_wgs84.transform(raw[:, 0], raw[:, 1]))
    area = _study_area(streets, margin_m)
    share = _share_inside(xy, area)
    if share >= min_inside_share:
        return None
    code = declared.to_string()
    found = _box_text(raw, code)
    sx0, sy0, sx1, sy1 = streets.to_crs(_crs.WGS84).total_bounds
    n_out = int(round((1 - share) * len(layer)))
    message = _(
        "{source}: {n_out} of the {n} features of the {what} lie outside the study "
        "area (the streets plus {margin_km:g} km): found {found}, where the streets span "
        "longitude {sx0:.3f}..{sx1:.3f}, latitude {sy0:.3f}..{sy1:.3f}. "
    ).format(
        source=source,
        n_out=n_out,
        n=len(layer),
        what=_(what),
        margin_km=margin_m / 1000,
        found=found,
        sx0=sx0,
        sx1=sx1,
        sy0=sy0,
        sy1=sy1,
    ) + _capitalized(_likely_cause(raw, area, code))
    if not skip_invalid:
        raise InputError(
            message
            + (
                _("; or pass {option} to measure it anyway").format(option=skip_option)
                if skip_option
                else ""
            )
        )
    logger.warning(_("%s (measured anyway: --skip-invalid)"), message)
    return message


def _capitalized(text: str) -> str:
    return text[:1].upper() + text[1:]


def _box_text(raw, code) -> str:
    x0, y0 = np.nanmin(raw, axis=0)
    x1, y1 = np.nanmax(raw, axis=0)
    return f"x {x0:.6g}..{x1:.6g}, y {y0:.6g}..{y1:.6g} in {code}"
