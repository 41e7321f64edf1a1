"""Named coordinate reference systems and the GCJ-02 datum shift.

gongshu_geo stores every geometry in WGS 84 (EPSG:4326, as RFC 7946 asks of
GeoJSON) and measures lengths and areas in CGCS2000 / 3-degree Gauss-Kruger
CM 120E (EPSG:4549), the metric CRS that Chinese survey data for Hangzhou uses.

GCJ-02 is the obfuscated datum that AMap (高德) and other Chinese web maps draw
in. It has no EPSG code and cannot be detected from a file: it only appears
where a caller names it, and the conversion is always explicit.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import geopandas as gpd
    from numpy.typing import ArrayLike

from gongshu_geo.core.errors import CRSError
from gongshu_geo.core.i18n import gettext as _

logger = logging.getLogger(__name__)

#: WGS 84 geographic, the canonical CRS of the packaged data.
WGS84 = "EPSG:4326"
#: CGCS2000 geographic, China's national datum (differs from WGS 84 by centimetres).
CGCS2000 = "EPSG:4490"
#: CGCS2000 / 3-degree Gauss-Kruger CM 120E: metres, used for every area and length.
METRIC = "EPSG:4549"
#: The name by which callers ask for the GCJ-02 datum shift.
GCJ02 = "GCJ-02"

#: CRS names accepted by exporters and readers, with a short description.
NAMED_CRS = {
    WGS84: "WGS 84 (GPS, OpenStreetMap, GeoJSON)",
    CGCS2000: "CGCS2000 geographic (national datum)",
    METRIC: "CGCS2000 / 3-degree Gauss-Kruger CM 120E (metres)",
    GCJ02: "GCJ-02 (AMap / Tencent web maps; WGS 84 shifted by ~500 m here)",
}

# Krasovsky 1940 ellipsoid parameters used by the published GCJ-02 formula.
_A = 6378245.0
_EE = 0.00669342162296594323

# Rough bounds of China outside which web maps apply no shift.
_CHINA_LON = (72.004, 137.8347)
_CHINA_LAT = (0.8293, 55.8271)


def normalize_crs_name(crs) -> str:
    """Return the canonical spelling of a CRS name, GCJ-02 included.

    Parameters
    ----------
    crs : str or pyproj.CRS
        ``"GCJ-02"`` (any case, with or without the hyphen) or anything
        :class:`pyproj.CRS` understands.

    Returns
    -------
    str
        ``"GCJ-02"`` or an ``"EPSG:nnnn"`` / WKT string.
    """
    if isinstance(crs, str) and crs.replace("-", "").replace("_", "").upper() == "GCJ02":
        return GCJ02
    from pyproj import CRS
    from pyproj.exceptions import CRSError as ProjCRSError

    try:
        parsed = CRS.from_user_input(crs)
    except ProjCRSError as exc:
        raise CRSError(
            _(
                "unknown CRS {crs!r}: expected one of {named_crs} or any EPSG code / WKT "
                "that PROJ understands"
            ).format(crs=crs, named_crs=", ".join(NAMED_CRS))
        ) from exc
    epsg = parsed.to_epsg()
    return f"EPSG:{epsg}" if epsg else parsed.to_wkt()


def _in_china(lon, lat):
    return (
        (lon >= _CHINA_LON[0])
        & (lon <= _CHINA_LON[1])
        & (lat >= _CHINA_LAT[0])
        & (lat <= _CHINA_LAT[1])
    )


def _shift(lon, lat):
    """Compute the GCJ-02 offset (dlon, dlat) in degrees at WGS 84 positions."""
    x = lon - 105.0
    y = lat - 35.0
    sqrt_abs_x = np.sqrt(np.abs(x))
    wave_x = 20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sqrt_abs_x
    dlat += wave_x * 2.0 / 3.0
    dlat += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    dlat += (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sqrt_abs_x
    dlon += wave_x * 2.0 / 3.0
    dlon += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    dlon += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    rad_lat = np.radians(lat)
    magic = 1.0 - _EE * np.sin(rad_lat) ** 2
    sqrt_magic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrt_magic) * np.pi)
    dlon = (dlon * 180.0) / (_A / sqrt_magic * np.cos(rad_lat) * np.pi)
    return dlon, dlat


def wgs84_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Shift WGS 84 longitudes and latitudes to GCJ-02.

    Parameters
    ----------
    lon, lat : float or array-like
        WGS 84 degrees. Positions outside China are returned unchanged, as
        Chinese web maps do.

    Returns
    -------
    tuple of numpy.ndarray
        GCJ-02 longitudes and latitudes (scalars in, 0-d arrays out).

    Examples
    --------
    >>> lon, lat = wgs84_to_gcj02(120.15, 30.32)
    >>> round(float(lon) - 120.15, 4), round(float(lat) - 30.32, 4)
    (0.0047, -0.0023)
    """
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    dlon, dlat = _shift(lon, lat)
    inside = _in_china(lon, lat)
    return np.where(inside, lon + dlon, lon), np.where(inside, lat + dlat, lat)


def gcj02_to_wgs84(
    lon: ArrayLike, lat: ArrayLike, *, tol_deg: float = 1e-10, max_iter: int = 30
) -> tuple[np.ndarray, np.ndarray]:
    """Invert :func:`wgs84_to_gcj02` by fixed-point iteration.

    The shift varies slowly, so each iteration gains several digits; after a
    handful the round trip is exact to far below a millimetre.

    Parameters
    ----------
    lon, lat : float or array-like
        GCJ-02 degrees.
    tol_deg : float
        Stop when no position moves by more than this many degrees.
    max_iter : int
        Upper bound on iterations.

    Returns
    -------
    tuple of numpy.ndarray
        WGS 84 longitudes and latitudes.
    """
    glon = np.asarray(lon, dtype=float)
    glat = np.asarray(lat, dtype=float)
    wlon, wlat = glon.copy(), glat.copy()
    for _step in range(max_iter):
        flon, flat = wgs84_to_gcj02(wlon, wlat)
        elon, elat = flon - glon, flat - glat
        wlon = wlon - elon
        wlat = wlat - elat
        if (
            np.nanmax(np.abs(np.concatenate([np.ravel(elon), np.ravel(elat)])), initial=0.0)
            < tol_deg
        ):
            break
    return wlon, wlat


# BD-09 (Baidu) adds a rotation-and-scale perturbation, of 3000 cycles per turn, on top of
# GCJ-02, and an offset of (0.0065, 0.006) degrees.
_BD_WAVE = np.pi * 3000.0 / 180.0
_BD_DLON = 0.0065
_BD_DLAT = 0.006


def bd09_to_gcj02(lon, lat):
    """Convert Baidu BD-09 longitudes and latitudes to GCJ-02.

    BD-09 is GCJ-02 with a further published perturbation; this inverts it in
    closed form (to well under a metre). Chain with :func:`gcj02_to_wgs84` for
    WGS 84.

    Parameters
    ----------
    lon, lat : float or array-like
        BD-09 degrees.

    Returns
    -------
    tuple of numpy.ndarray
        GCJ-02 longitudes and latitudes.

    Examples
    --------
    >>> lon, lat = bd09_to_gcj02(116.404, 39.915)
    >>> round(float(lon), 6), round(float(lat), 6)
    (116.397627, 39.908657)
    """
    x = np.asarray(lon, dtype=float) - _BD_DLON
    y = np.asarray(lat, dtype=float) - _BD_DLAT
    radius = np.hypot(x, y) - 0.00002 * np.sin(y * _BD_WAVE)
    angle = np.arctan2(y, x) - 0.000003 * np.cos(x * _BD_WAVE)
    return radius * np.cos(angle), radius * np.sin(angle)


def _transform_coords(func):
    def apply(coords):
        lon, lat = func(coords[:, 0], coords[:, 1])
        out = coords.copy()
        out[:, 0] = lon
        out[:, 1] = lat
        return out

    return apply


def to_gcj02(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Return a copy of a GeoDataFrame with its geometries shifted to GCJ-02.

    The input is first brought to WGS 84. The result keeps the CRS label
    EPSG:4326 because GCJ-02 has no CRS of its own; its ``attrs["datum"]`` is
    set to ``"GCJ-02"`` so that later steps and exporters can tell.

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame
        Any frame with a CRS.

    Returns
    -------
    geopandas.GeoDataFrame
    """
    import shapely

    _require_crs(gdf)
    if gdf.attrs.get("datum") == GCJ02:
        raise CRSError(_("frame is already in GCJ-02; shifting it twice would be wrong by ~500 m"))
    out = gdf.to_crs(WGS84)
    out = out.set_geometry(
        shapely.transform(out.geometry.values, _transform_coords(wgs84_to_gcj02))
    )
    out.attrs["datum"] = GCJ02
    return out


def from_gcj02(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Return a copy of a GeoDataFrame whose GCJ-02 coordinates are made WGS 84.

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame
        Longitudes and latitudes in GCJ-02 (its CRS, if set, must be geographic).

    Returns
    -------
    geopandas.GeoDataFrame
        In EPSG:4326.
    """
    import shapely

    if gdf.crs is not None and not gdf.crs.is_geographic:
        raise CRSError(
            _(
                "GCJ-02 coordinates must be longitude/latitude degrees; the frame's CRS "
                "is {crs} (projected)"
            ).format(crs=gdf.crs.to_string())
        )
    out = gdf.copy()
    out = out.set_geometry(
        shapely.transform(out.geometry.values, _transform_coords(gcj02_to_wgs84)), crs=WGS84
    )
    out.attrs = {k: v for k, v in gdf.attrs.items() if k != "datum"}
    return out


def to_crs_named(gdf: gpd.GeoDataFrame, crs: str) -> gpd.GeoDataFrame:
    """Reproject to a named CRS, GCJ-02 included.

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame
    crs : str
        ``"GCJ-02"`` or anything :func:`normalize_crs_name` accepts.

    Returns
    -------
    geopandas.GeoDataFrame
    """
    name = normalize_crs_name(crs)
    if name == GCJ02:
        return to_gcj02(gdf)
    _require_crs(gdf)
    return gdf.to_crs(name)


def to_metric(gdf):
    """Reproject to the metric CRS (EPSG:4549) used for all areas and lengths."""
    _require_crs(gdf)
    if gdf.attrs.get("datum") == GCJ02:
        raise CRSError(_("GCJ-02 coordinates cannot be measured; convert with from_gcj02() first"))
    return gdf.to_crs(METRIC)


def _require_crs(gdf):
    if gdf.crs is None:
        raise CRSError(
            _(
                "the frame has no CRS: set one with gdf.set_crs(...) or, on the command "
                "line, pass --crs (e.g. --crs EPSG:4549)"
            )
        )


def metric_geometries(frame, what: str = "facilities") -> np.ndarray:
    """Return the geometries of a frame in EPSG:4549, refusing missing or empty ones.

    Parameters
    ----------
    frame : geopandas.GeoDataFrame or geopandas.GeoSeries
        With a CRS.
    what : str
        What the frame is, for the error message.

    Returns
    -------
    numpy.ndarray
        Shapely geometries in metres.
    """
    import geopandas as gpd
    import shapely

    from gongshu_geo.core.errors import InputError

    if not isinstance(frame, (gpd.GeoDataFrame, gpd.GeoSeries)):
        kind = type(frame).__name__
        raise InputError(
            _("{what} must be a GeoDataFrame or GeoSeries with a CRS; found {kind}").format(
                what=_(what), kind=kind
            )
        )
    geoms = np.asarray(to_metric(frame).geometry.values, dtype=object)
    bad = np.flatnonzero(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    if len(bad):
        label = f"{what}: row #{bad[0]} (index {frame.index[bad[0]]!r})"
        raise InputError(_("{label} has no geometry; drop empty rows first").format(label=label))
    return geoms
