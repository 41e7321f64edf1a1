"""ArcGIS File Geodatabase (``.gdb``) export through GDAL's OpenFileGDB driver.

One feature class per layer and geometry family (a feature class holds one
geometry type), the join tables as non-spatial tables, full field names (no
10-byte limit), Chinese field aliases, and coded-value domains for
``category`` and ``status``. Aliases and domains are set through the GDAL
library pyogrio loads (see :mod:`gongshu_geo.exchange.gdal`), because pyogrio itself
has no API for them; without a GDAL >= 3.7 the geodatabase is written without
them and a warning says so.

A geodatabase is a folder: it is written beside the target and swapped into
place when complete, so a failed export leaves the previous one intact.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from gongshu_geo.core.atomic import ensure_dir
from gongshu_geo.core.errors import OutputError
from gongshu_geo.core.i18n import gettext as _
from gongshu_geo.data.schema import CATEGORIES, STATUSES

logger = logging.getLogger(__name__)

#: Default base name of the exported geodatabase.
GDB_NAME = "gongshu_geo"
#: Coded-value domains: name -> (description, {code: label}).
DOMAINS = {
    "gongshu_category": (
        "规划项目类别 Plan project category",
        {code: label for code, (label, _, _) in CATEGORIES.items()},
    ),
    "gongshu_status": ("项目状态 Project status", dict(STATUSES)),
}
#: Field -> the domain it takes its codes from.
DOMAIN_FIELDS = {"category": "gongshu_category", "status": "gongshu_status"}

_INT32 = np.iinfo(np.int32)


def write_gdb(prepared, out: Path, *, crs, codec, themes) -> list[Path]:
    """Write prepared layers into one File Geodatabase (an ``export_layers`` writer).

    Parameters
    ----------
    prepared : dict
        Layer name -> frame already in the export CRS.
    out : Path
        A path ending in ``.gdb`` names the geodatabase itself; otherwise it is
        ``gongshu_geo.exchange.gdb`` (with the CRS tag) inside that folder.
    crs : str
        The export CRS name.
    codec : str
        Unused: geodatabase text is always UTF-8.
    themes : dict
        Written name -> theme (for the layer aliases).

    Returns
    -------
    list of Path
        The geodatabase folder.
    """
    import pyogrio

    from gongshu_geo.exchange import fields as _fields
    from gongshu_geo.exchange.gdal import apply_field_schema, gdal_schema_support

    target = out if out.suffix.lower() == ".gdb" else out / f"{GDB_NAME}{_fields.crs_tag(crs)}.gdb"
    supported, why = gdal_schema_support()
    if not supported:
        logger.warning(_("%s: written without field aliases and domains: %s"), target.name, why)
    fields, used_domains = {}, set()
    with _atomic_dir(target) as tmp:
        for name, frame in prepared.items():
            if not _fields.is_spatial(frame):
                table = _gdb_types(frame, name)
                pyogrio.write_dataframe(table, tmp, layer=name, driver="OpenFileGDB")
                fields[name] = _field_schema(table.columns, used_domains)
                continue
            alias = layer_alias(themes[name], crs)
            for part_name, (part, _family) in _fields.split_by_family(frame, name).items():
                pyogrio.write_dataframe(
                    _gdb_types(part, part_name),
                    tmp,
                    layer=part_name,
                    driver="OpenFileGDB",
                    layer_options={"LAYER_ALIAS": alias},
                )
                fields[part_name] = _field_schema(part.columns, used_domains)
        if supported:
            domains = {n: d for n, d in DOMAINS.items() if n in used_domains}
            apply_field_schema(tmp, domains=domains, fields=fields)
    logger.info(_("wrote %d tables into %s"), len(fields), target)
    return [target]


def layer_alias(theme, crs) -> str:
    """Return the alias ArcGIS shows for a layer: its title, and the datum if GCJ-02."""
    from gongshu_geo.core import crs as _crs
    from gongshu_geo.exchange.fields import layer_title

    return layer_title(theme) + (" [GCJ-02, not WGS 84]" if crs == _crs.GCJ02 else "")


def _field_schema(columns, used_domains) -> dict:
    from gongshu_geo.exchange.fields import FIELD_LABELS

    schema = {}
    for column in columns:
        if column == "geometry":
            continue
        alias, domain = FIELD_LABELS.get(column), DOMAIN_FIELDS.get(column)
        if alias or domain:
            schema[column] = (alias, domain)
            if domain:
                used_domains.add(domain)
    return schema


def _gdb_types(frame, name):
    """Store 64-bit integers as 32-bit ones (or reals when they do not fit).

    GDAL writes Int64 fields only for ArcGIS Pro 3.2 and later, which older
    ArcGIS and Debian 12's GDAL 3.6 cannot read; it would otherwise turn them
    into reals with a warning.
    """
    out = frame
    for column in frame.columns:
        dtype = frame[column].dtype
        if column == "geometry" or not pd.api.types.is_integer_dtype(dtype):
            continue
        if dtype.itemsize <= 4:
            continue
        values = frame[column]
        fits = values.dropna().between(_INT32.min, _INT32.max).all()
        if out is frame:
            out = frame.copy()
        if fits:
            out[column] = values.astype("Int32" if values.isna().any() else "int32")
        else:
            logger.warning(
                _("%s: %s holds integers beyond 32 bits; written as reals"), name, column
            )
            out[column] = values.astype("float64")
    return out


@contextlib.contextmanager
def _atomic_dir(target: Path):
    """Yield a not-yet-existing folder path beside ``target``; swap it in on success."""
    target = Path(target)
    ensure_dir(target.parent)
    if target.exists() and not target.is_dir():
        raise OutputError(
            _("{target}: exists and is not a geodatabase folder; remove it first").format(
                target=target
            )
        )
    scratch = Path(tempfile.mkdtemp(prefix=f".{target.stem}.", dir=target.parent))
    tmp = scratch / target.name  # GDAL wants to create the .gdb folder itself
    try:
        yield tmp
        if not tmp.is_dir():
            raise OutputError(
                _("{target}: GDAL wrote no geodatabase; nothing was replaced").format(target=target)
            )
        old = scratch / f"old-{target.name}"
        if target.exists():
            os.replace(target, old)
        try:
            os.replace(tmp, target)
        except OSError:
            if old.exists():
                os.replace(old, target)
            raise
    except OSError as exc:
        raise OutputError(
            _("{target}: could not write ({value}); nothing was replaced").format(
                target=target, value=exc.strerror or exc
            )
        ) from exc
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
