"""Tile providers for the web maps, and the datum each one draws in.

Chinese web maps (AMap / 高德) draw in GCJ-02, shifted by about 500 m from
WGS 84 around Hangzhou; OpenStreetMap, CARTO and 天地图 (Tianditu, CGCS2000,
within centimetres of WGS 84) do not. :mod:`gongshu_geo.maps.web` reads
:attr:`Basemap.datum` and shifts every overlay to GCJ-02 when, and only when,
the basemap needs it.

=================  ===========================================  ========
name               tiles                                        datum
=================  ===========================================  ========
``osm``            OpenStreetMap.Mapnik (xyzservices)           WGS84
``carto``          CartoDB.Positron (xyzservices)               WGS84
``amap``           高德 vector tiles (xyzservices Gaode.Normal)   GCJ-02
``amap-satellite`` 高德 satellite (xyzservices Gaode.Satellite)   GCJ-02
``tianditu``       天地图 vec + cva annotation; needs a key       WGS84
``none``           no tiles, a plain background                 WGS84
=================  ===========================================  ========
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass

from gongshu_geo.core.errors import InputError
from gongshu_geo.core.i18n import N_
from gongshu_geo.core.i18n import gettext as _

logger = logging.getLogger(__name__)

WGS84_DATUM = "WGS84"
GCJ02_DATUM = "GCJ-02"

#: Environment variable read (at call time) for the 天地图 key.
TIANDITU_KEY_ENV = "TIANDITU_KEY"
#: Environment variable read (at call time) for an optional CARTO key.
CARTO_KEY_ENV = "CARTO_API_KEY"

_TIANDITU_URL = (
    "https://t{{s}}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
    "&LAYER={layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles"
    "&TILEMATRIX={{z}}&TILEROW={{y}}&TILECOL={{x}}&tk={key}"
)
_TIANDITU_ATTRIBUTION = '&copy; <a href="https://www.tianditu.gov.cn/">天地图 Tianditu</a>'
_TIANDITU_HELP = N_(
    'basemap "tianditu" needs a 天地图 (Tianditu) API key: register for a free '
    '"browser" (浏览器端) key at https://console.tianditu.gov.cn/ and pass it with '
    "tianditu_key=... (command line: --tianditu-key KEY) or set the environment variable "
    "{env}; or choose another basemap"
)

_ORDER = ("osm", "carto", "amap", "amap-satellite", "tianditu", "none")


@dataclass(frozen=True)
class Basemap:
    """A tile source and the datum its tiles are drawn in.

    Attributes
    ----------
    name : str
        Short name, e.g. ``"osm"``.
    tiles_url : str or None
        Leaflet URL template; ``None`` for the plain background.
    attribution : str
        HTML attribution the provider asks for.
    datum : str
        ``"WGS84"`` or ``"GCJ-02"``: the datum overlays must be drawn in.
    subdomains : tuple of str
        Values of ``{s}`` in the template.
    max_zoom : int
        Deepest zoom level with tiles.
    label : str
        Name shown in the layer control.
    overlay_url : str or None
        A second, transparent tile layer (Tianditu's annotation ``cva``).
    """

    name: str
    tiles_url: str | None
    attribution: str
    datum: str
    subdomains: tuple[str, ...] = ()
    max_zoom: int = 19
    label: str = ""
    overlay_url: str | None = None

    @property
    def needs_gcj02(self) -> bool:
        """Whether overlays must be shifted to GCJ-02 to line up with the tiles."""
        return self.datum == GCJ02_DATUM


def _xyz(provider) -> dict:
    """URL template and metadata of an xyzservices provider, without its warnings."""
    url = provider["url"]
    if "{variant}" in url:
        url = url.replace("{variant}", provider["variant"])
    return {
        "url": url,
        "attribution": provider.get("html_attribution", provider.get("attribution", "")),
        "max_zoom": int(provider.get("max_zoom", 19)),
        "subdomains": tuple(provider.get("subdomains", "")),
    }


def _osm() -> Basemap:
    import xyzservices.providers as xyz

    p = _xyz(xyz.OpenStreetMap.Mapnik)
    return Basemap(
        "osm",
        p["url"],
        p["attribution"],
        WGS84_DATUM,
        p["subdomains"],
        p["max_zoom"],
        "OpenStreetMap",
    )


def _carto() -> Basemap:
    import xyzservices.providers as xyz

    p = _xyz(xyz.CartoDB.Positron)
    key = os.environ.get(CARTO_KEY_ENV)
    url = p["url"].replace("{apikey}", key) if key else p["url"].removesuffix("?key={apikey}")
    if not key:
        logger.info(
            _("CARTO tiles may ask for an API key; set %s if they do not load"), CARTO_KEY_ENV
        )
    return Basemap(
        "carto",
        url,
        p["attribution"],
        WGS84_DATUM,
        p["subdomains"] or tuple("abcd"),
        p["max_zoom"],
        "CARTO Positron",
    )


def _amap(satellite: bool) -> Basemap:
    import xyzservices.providers as xyz

    p = _xyz(xyz.Gaode.Satellite if satellite else xyz.Gaode.Normal)
    # xyzservices gives one http:// host; AMap serves the same tiles over https on 01-04.
    url = p["url"].replace("http://", "https://", 1)
    url = url.replace("webrd01.", "webrd0{s}.").replace("webst01.", "webst0{s}.")
    name, label = (
        ("amap-satellite", "高德卫星 AMap satellite") if satellite else ("amap", "高德 AMap")
    )
    return Basemap(
        name,
        url,
        p["attribution"],
        GCJ02_DATUM,
        ("1", "2", "3", "4"),
        min(p["max_zoom"], 18),
        label,
    )


def _tianditu(key: str) -> Basemap:
    return Basemap(
        "tianditu",
        _TIANDITU_URL.format(layer="vec", key=key),
        _TIANDITU_ATTRIBUTION,
        WGS84_DATUM,
        tuple(str(i) for i in range(8)),
        18,
        "天地图 Tianditu",
        overlay_url=_TIANDITU_URL.format(layer="cva", key=key),
    )


def _none() -> Basemap:
    return Basemap("none", None, "", WGS84_DATUM, (), 19, "无底图 no basemap")


def _tianditu_key(tianditu_key):
    return tianditu_key or os.environ.get(TIANDITU_KEY_ENV) or None


def list_basemaps(*, tianditu_key: str | None = None) -> list[str]:
    """Names of the basemaps that can be used now.

    ``"tianditu"`` is offered only when a key is passed or set in the
    environment variable ``TIANDITU_KEY``.

    Parameters
    ----------
    tianditu_key : str, optional
        A 天地图 API key.

    Returns
    -------
    list of str

    Examples
    --------
    >>> "amap" in list_basemaps()
    True
    """
    key = _tianditu_key(tianditu_key)
    return [name for name in _ORDER if name != "tianditu" or key]


def get_basemap(name: str, *, tianditu_key: str | None = None) -> Basemap:
    """Look up a basemap by name.

    Parameters
    ----------
    name : str
        One of :func:`list_basemaps` (``osm``, ``carto``, ``amap``,
        ``amap-satellite``, ``tianditu``, ``none``); case-insensitive, ``_``
        accepted for ``-``.
    tianditu_key : str, optional
        The 天地图 key; defaults to the environment variable ``TIANDITU_KEY``.

    Returns
    -------
    Basemap

    Raises
    ------
    InputError
        For an unknown name, or ``"tianditu"`` without a key.

    Examples
    --------
    >>> get_basemap("amap").datum
    'GCJ-02'
    >>> get_basemap("osm").datum
    'WGS84'
    """
    if isinstance(name, Basemap):
        return name
    key = str(name).strip().lower().replace("_", "-")
    if key == "tianditu":
        token = _tianditu_key(tianditu_key)
        if not token:
            raise InputError(_(_TIANDITU_HELP).format(env=TIANDITU_KEY_ENV))
        return _tianditu(token)
    builders = {
        "osm": _osm,
        "carto": _carto,
        "amap": lambda: _amap(False),
        "amap-satellite": lambda: _amap(True),
        "none": _none,
    }
    if key not in builders:
        raise InputError(
            _("unknown basemap {name!r}: expected one of {order} (tianditu needs a key)").format(
                name=name, order=", ".join(_ORDER)
            )
        )
    return builders[key]()
