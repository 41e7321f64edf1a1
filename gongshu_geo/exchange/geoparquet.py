"""GeoParquet 1.1 export: one file per layer, with a bbox covering column.

The ``bbox`` struct column (``xmin``, ``ymin``, ``xmax``, ``ymax``) is declared
as the geometry's covering in the ``geo`` metadata, so readers such as DuckDB,
GDAL >= 3.9 and geopandas can skip row groups by extent without decoding the
geometries. Tables without geometry are written as plain Parquet.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from gongshu_geo.core.atomic import atomic_path, ensure_dir
from gongshu_geo.core.errors import MissingDependencyError
from gongshu_geo.core.i18n import gettext as _

logger = logging.getLogger(__name__)

#: GeoParquet version written.
GEOPARQUET_VERSION = "1.1.0"


def write_geoparquet(prepared, out: Path, *, crs, codec, themes) -> list[Path]:
    """Write each prepared layer as ``<name><tag>.parquet`` (an ``export_layers`` writer).

    Parameters
    ----------
    prepared : dict
        Layer name -> frame already in the export CRS.
    out : Path
        Output folder.
    crs : str
        The export CRS name (GCJ-02 files say EPSG:4326 and carry ``_gcj02`` in
        their names, as the CSV export does).
    codec, themes
        Unused: Parquet text is always UTF-8.

    Returns
    -------
    list of Path
    """
    from gongshu_geo.exchange import fields

    try:
        import pyarrow  # noqa: F401
    except ImportError as exc:
        raise MissingDependencyError(
            _("GeoParquet export needs pyarrow: pip install 'gongshu-geo[scale]' (or pyarrow)")
        ) from exc
    ensure_dir(out)
    tag = fields.crs_tag(crs)
    written = []
    for name, frame in prepared.items():
        spatial = fields.is_spatial(frame)
        target = out / f"{name}{tag if spatial else ''}.parquet"
        with atomic_path(target) as tmp:
            if spatial:
                frame.to_parquet(
                    tmp,
                    index=False,
                    schema_version=GEOPARQUET_VERSION,
                    write_covering_bbox=True,
                )
            else:
                pd.DataFrame(frame).to_parquet(tmp, index=False)
        written.append(target)
    return written
