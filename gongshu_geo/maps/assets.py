"""Making saved web maps self-contained and reproducible.

Leaflet's JavaScript and CSS are read at run time from the installed
``xstatic-leaflet`` package (never copied into this repository) and written into
the HTML, with the CSS's images as ``data:`` URIs, so that a map opens offline
and from a USB stick. folium's random element ids are replaced by sequential
ones so that the same inputs give byte-identical files.
"""

from __future__ import annotations

import base64
import logging
import re
from pathlib import Path

from gongshu_geo.core.errors import MissingDependencyError
from gongshu_geo.core.i18n import gettext as _

logger = logging.getLogger(__name__)

#: Hosts of the JavaScript/CSS CDNs folium links to.
CDN_HOSTS = (
    "cdn.jsdelivr.net",
    "cdnjs.cloudflare.com",
    "bootstrapcdn.com",
    "unpkg.com",
    "code.jquery.com",
)

_SCRIPT_LINK = re.compile(r'<script\s+src="(?P<url>https?://[^"]+)"\s*>\s*</script>')
_CSS_LINK = re.compile(r'<link\s+rel="stylesheet"\s+href="(?P<url>https?://[^"]+)"\s*/?>')
_CSS_URL = re.compile(r"url\((?P<q>['\"]?)(?P<ref>images/[^'\")]+)(?P=q)\)")
_FOLIUM_ID = re.compile(r"(?<=_)[0-9a-f]{32}(?![0-9A-Za-z])")
_UNICODE_ESCAPE = re.compile(r"(\\+)u([0-9a-fA-F]{4})")
_SOURCE_MAP = re.compile(r"^//# sourceMappingURL=.*$", re.MULTILINE)


def leaflet_dir() -> Path:
    """Folder of the installed xstatic-leaflet files (``leaflet.js``, ``leaflet.css``)."""
    try:
        import xstatic.pkg.leaflet as xleaflet
    except ImportError as exc:
        raise MissingDependencyError(
            _(
                "self-contained maps need Leaflet from the xstatic-leaflet package: pip "
                "install xstatic-leaflet (or save with inline_assets=False / --cdn)"
            )
        ) from exc
    base = Path(xleaflet.BASE_DIR)
    if not (base / "leaflet.js").is_file() or not (base / "leaflet.css").is_file():
        raise MissingDependencyError(
            _(
                "{base}: leaflet.js or leaflet.css is missing; reinstall with pip "
                "install --force-reinstall xstatic-leaflet"
            ).format(base=base)
        )
    return base


def leaflet_version() -> str:
    """Version of the installed xstatic-leaflet files."""
    import xstatic.pkg.leaflet as xleaflet

    return str(xleaflet.VERSION)


def leaflet_js() -> str:
    """Leaflet's minified JavaScript, ready to sit inside a ``<script>`` element."""
    text = (leaflet_dir() / "leaflet.js").read_text(encoding="utf-8")
    text = _SOURCE_MAP.sub("", text)
    return text.replace("</script", "<\\/script")


def leaflet_css() -> str:
    """Leaflet's CSS with its images embedded as ``data:`` URIs."""
    base = leaflet_dir()
    text = (base / "leaflet.css").read_text(encoding="utf-8")

    def embed(match):
        image = base / match.group("ref")
        if not image.is_file():
            return match.group(0)
        data = base64.b64encode(image.read_bytes()).decode("ascii")
        return f'url("data:image/png;base64,{data}")'

    return _CSS_URL.sub(embed, text).replace("</style", "<\\/style")


def _jquery_js() -> str | None:
    try:
        import xstatic.pkg.jquery as xjquery
    except ImportError:
        return None
    candidates = sorted(Path(xjquery.BASE_DIR).glob("jquery*.min.js"))
    return candidates[0].read_text(encoding="utf-8") if candidates else None


def inline_assets(html: str) -> str:
    """Replace links to Leaflet (and jQuery, when installed) by their contents.

    Links this function cannot inline are kept; a warning is logged naming
    them, because the file then needs the internet to display.

    Parameters
    ----------
    html : str
        A rendered folium page.

    Returns
    -------
    str
    """
    inlined = {}

    def script(match):
        url = match.group("url")
        name = url.rsplit("/", 1)[-1]
        if name == "leaflet.js":
            body, what = (
                leaflet_js(),
                f"Leaflet {leaflet_version()} (BSD-2-Clause) from xstatic-leaflet",
            )
        elif name.startswith("jquery") and name.endswith(".js") and (body := _jquery_js()):
            what = "jQuery (MIT) from xstatic-jquery"
        else:
            return match.group(0)
        inlined[url] = what
        return f"<script>/* {what} */\n{body}</script>"

    def stylesheet(match):
        url = match.group("url")
        if url.rsplit("/", 1)[-1] != "leaflet.css":
            return match.group(0)
        what = f"Leaflet {leaflet_version()} CSS (BSD-2-Clause) from xstatic-leaflet"
        inlined[url] = what
        return f"<style>/* {what} */\n{leaflet_css()}</style>"

    html = _SCRIPT_LINK.sub(script, html)
    html = _CSS_LINK.sub(stylesheet, html)
    for url in inlined:
        version = re.search(r"leaflet@([\d.]+)", url)
        if version and version.group(1) != leaflet_version():
            logger.info(
                _("folium asks for Leaflet %s; inlining the installed %s"),
                version.group(1),
                leaflet_version(),
            )
    remaining = external_assets(html)
    if remaining:
        logger.warning(
            _(
                "the map still links %d external file(s) and needs "
                "the internet to display fully: %s"
            ),
            len(remaining),
            ", ".join(remaining),
        )
    return html


def external_assets(html: str) -> list[str]:
    """URLs of the scripts and stylesheets a page loads from the network."""
    return [m.group("url") for m in _SCRIPT_LINK.finditer(html)] + [
        m.group("url") for m in _CSS_LINK.finditer(html)
    ]


def unescape_text(page: str) -> str:
    r"""Write ``\uXXXX`` escapes of printable non-ASCII characters as UTF-8.

    folium's JSON escapes every Chinese character as six bytes; the page is
    UTF-8, so the characters themselves are a third of the size. The escapes
    that keep a script safe (``<``, ``>``, ``&``, quotes, control characters,
    U+2028/2029, surrogates) are left as they are.
    """

    def decode(match):
        backslashes, code = match.group(1), int(match.group(2), 16)
        if (
            len(backslashes) % 2 == 0
            or code < 0xA0
            or 0xD800 <= code <= 0xDFFF
            or code in (0x2028, 0x2029)
        ):
            return match.group(0)
        return backslashes[:-1] + chr(code)

    return _UNICODE_ESCAPE.sub(decode, page)


def number_ids(page: str) -> str:
    """Replace folium's random element ids by sequential ones, in order of appearance.

    folium names its JavaScript variables and ``<div>`` ids ``<kind>_<uuid4
    hex>``; numbering them instead makes two renderings of the same map
    byte-identical. Only 32-hex-digit runs right after an underscore are
    touched, which is where folium puts them.
    """
    numbers: dict[str, str] = {}

    def number(match):
        return numbers.setdefault(match.group(0), f"{len(numbers):04d}")

    return _FOLIUM_ID.sub(number, page)
