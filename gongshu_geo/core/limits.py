"""How big an input may be before it is refused, checked before a byte is read.

Every reader except the GeoParquet population reader (which streams row groups)
holds a whole file in memory, and parsing takes several times the file's size.
A file above the limit is refused up front with a message saying so, instead of
being half-read into swap. The limit is :data:`DEFAULT_MAX_INPUT_MB` megabytes,
or the ``GONGSHU_GEO_MAX_INPUT_MB`` environment variable.
"""

from __future__ import annotations

import os
from pathlib import Path

from gongshu_geo.core.errors import InputError
from gongshu_geo.core.i18n import N_
from gongshu_geo.core.i18n import gettext as _

#: The largest input file read into memory, in megabytes (10^6 bytes).
DEFAULT_MAX_INPUT_MB = 1000
ENV_MAX_INPUT_MB = "GONGSHU_GEO_MAX_INPUT_MB"

#: The files that make up one Shapefile, counted together.
_SHAPEFILE_PARTS = (".shp", ".dbf", ".shx")


def max_input_bytes() -> int:
    """Return the size limit in bytes (``GONGSHU_GEO_MAX_INPUT_MB`` or the default)."""
    text = os.environ.get(ENV_MAX_INPUT_MB)
    if not text:
        return DEFAULT_MAX_INPUT_MB * 1_000_000
    try:
        megabytes = float(text)
    except ValueError:
        megabytes = -1.0
    if not megabytes > 0:
        raise InputError(
            _(
                "{env_max_input_mb}={text!r}: must be a positive number of megabytes, e.g. 4000"
            ).format(env_max_input_mb=ENV_MAX_INPUT_MB, text=text)
        )
    return int(megabytes * 1_000_000)


def input_size(path) -> int:
    """Bytes of a file as a reader takes it in: a Shapefile with its .dbf and .shx."""
    path = Path(path)
    if path.is_dir():
        return 0  # a File Geodatabase or a folder: GDAL reads it piece by piece
    if path.suffix.lower() == ".shp":
        parts = [path.with_suffix(ext) for ext in _SHAPEFILE_PARTS]
        return sum(p.stat().st_size for p in parts if p.exists())
    return path.stat().st_size


#: The default ``what``, for the catalog; messages translate ``what`` where they name it.
_DEFAULT_WHAT = N_("file")


def check_input_size(path, source=None, *, what: str = "file") -> None:
    """Refuse a file larger than :func:`max_input_bytes`, before reading any of it.

    Parameters
    ----------
    path : str or Path
        An existing file.
    source : str, optional
        How the message names it (default: the path).
    what : str
        What the file is, for the message (``"projects file"``).

    Raises
    ------
    InputError
        Naming the file, its size and the limit, and what to do.
    """
    try:
        size = input_size(path)
    except OSError:
        return  # the reader reports a missing or unreadable file in its own words
    limit = max_input_bytes()
    if size > limit:
        raise InputError(
            _(
                "{value}: the {what} is {size:.2f} GB, more than the {limit:.2f} GB "
                "gongshu-geo reads into memory at once (reading takes several times the "
                "file's size); it was not read. Split it or clip it to the study area, "
                "use GeoParquet with coverage-points (read in chunks), or raise the "
                "limit with {env_max_input_mb}=<megabytes> where the memory is there"
            ).format(
                value=source or path,
                what=_(what),
                size=size / 1000000000.0,
                limit=limit / 1000000000.0,
                env_max_input_mb=ENV_MAX_INPUT_MB,
            )
        )


def read_bytes_bounded(path, source=None, *, what: str = "file") -> bytes:
    """Read a whole file after :func:`check_input_size`."""
    check_input_size(path, source, what=what)
    return Path(path).read_bytes()
