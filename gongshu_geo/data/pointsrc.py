"""Population point sources: coordinates and weights from frames and GeoParquet.

Used by :mod:`gongshu_geo.analysis.points` (the local engine) and
:mod:`gongshu_geo.analysis.dask_engine`; GeoParquet is read a chunk or a row group at a
time so that millions of points never need to sit in memory together.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pandas as pd
import shapely

from gongshu_geo.core import crs as _crs
from gongshu_geo.core.errors import CRSError, InputError, MissingDependencyError
from gongshu_geo.core.i18n import N_
from gongshu_geo.core.i18n import gettext as _

logger = logging.getLogger(__name__)


def frame_xy_weight(frame, weight, label="population"):
    """Metric coordinates and weights of a frame of points (polygons: centroids)."""
    if frame.crs is None:
        raise CRSError(
            _(
                "{label}: the frame has no CRS: set one with gdf.set_crs(...) (e.g. EPSG:4549)"
            ).format(label=label)
        )
    geoms = np.asarray(frame.geometry.values)
    if not frame.crs.equals(_crs.METRIC):
        geoms = np.asarray(_crs.to_metric(frame).geometry.values)
    return _xy_of(geoms, label), check_weights(frame, weight, label)


def _xy_of(geoms, label, *, first=0) -> np.ndarray:
    kind = shapely.get_type_id(geoms)
    bad = np.flatnonzero(~np.isin(kind, [0, 3, 6]) | shapely.is_empty(geoms))
    if len(bad):
        k = bad[0]
        found = "no geometry" if kind[k] < 0 or shapely.is_empty(geoms[k]) else geoms[k].geom_type
        raise InputError(
            _(
                "{label} row #{first}: must be a Point (or a Polygon, counted at its "
                "centroid); found {found}; drop or fix such rows first"
            ).format(label=label, first=first + k, found=found)
        )
    if (kind != 0).any():
        geoms = np.where(kind == 0, geoms, shapely.centroid(geoms))
    return np.column_stack([shapely.get_x(geoms), shapely.get_y(geoms)])


def check_weights(frame, weight, label, *, first=0) -> np.ndarray:
    """Return the points' weights as floats (ones without a column), refusing bad values."""
    if weight is None:
        return np.ones(len(frame))
    if weight not in frame.columns:
        raise InputError(
            _(
                '{label} has no "{weight}" column; found {columns}; pass population_field='
                "<column of people per point>, or population_field=None to count points"
            ).format(label=label, weight=weight, columns=", ".join(map(str, frame.columns)))
        )
    w = pd.to_numeric(frame[weight], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    bad = np.flatnonzero(~(w >= 0))
    if len(bad):
        raise InputError(
            _(
                '{label} row #{first}: "{weight}" must be a non-negative number; found {found!r}'
            ).format(
                label=label, first=first + bad[0], weight=weight, found=frame[weight].iloc[bad[0]]
            )
        )
    return w


def parquet_files(path) -> list[Path]:
    """List the Parquet files of a population dataset: one file, or a folder of them.

    Parameters
    ----------
    path : str or Path
        A ``.parquet`` file or a folder (as :func:`gongshu_geo.data.synth.write_population_parquet`
        writes).

    Returns
    -------
    list of Path
        Sorted by name.
    """
    path = Path(path)
    if path.is_file():
        return [path]
    files = sorted(path.glob("*.parquet")) if path.is_dir() else []
    if not files:
        what = N_("folder has no *.parquet file") if path.is_dir() else N_("no such file or folder")
        raise InputError(
            _("{path}: {what}; expected GeoParquet population points").format(
                path=path, what=_(what)
            )
        )
    return files


def parquet_pieces(path) -> list[tuple[Path, int, int]]:
    """Split a GeoParquet dataset into row groups, the units the Dask engine reads.

    Returns
    -------
    list of tuple
        ``(file, row_group, first_row)`` for every row group of every file.
    """
    pq = _import_pyarrow()
    pieces = []
    for file in parquet_files(path):
        meta = pq.ParquetFile(file).metadata
        first = 0
        for group in range(meta.num_row_groups):
            pieces.append((file, group, first))
            first += meta.row_group(group).num_rows
    return pieces


def count_rows(path) -> int:
    """Count the rows of a GeoParquet file or folder from its metadata, reading no data."""
    pq = _import_pyarrow()
    return sum(pq.ParquetFile(file).metadata.num_rows for file in parquet_files(path))


def _import_pyarrow():
    try:
        import pyarrow.parquet as pq
    except ImportError as exc:
        raise MissingDependencyError(
            _("reading GeoParquet needs pyarrow: pip install 'gongshu-geo[scale]' (or pyarrow)")
        ) from exc
    return pq


def iter_parquet_chunks(path, weight, chunk_size, *, row_group=None, first=0):
    """Yield ``(xy, weights)`` of a GeoParquet dataset (or one row group of a file)."""
    pq = _import_pyarrow()
    for file in parquet_files(path):
        handle = pq.ParquetFile(file)
        column, encoding, shift = _geo_layout(file, handle.schema_arrow, weight)
        columns = [column] + ([weight] if weight is not None else [])
        groups = None if row_group is None else [row_group]
        for batch in handle.iter_batches(chunk_size, row_groups=groups, columns=columns):
            geometry = batch.column(column)
            if encoding == "WKB":
                geoms = shapely.from_wkb(np.asarray(geometry.to_numpy(zero_copy_only=False)))
                xy = _xy_of(geoms, str(file), first=first)
            else:  # GeoArrow points: a struct of x and y
                xy = np.column_stack([geometry.field("x"), geometry.field("y")]).astype(float)
            if shift is not None:
                xy = np.column_stack(shift.transform(xy[:, 0], xy[:, 1]))
            frame = batch.select(columns[1:]).to_pandas()
            yield xy, check_weights(frame, weight, str(file), first=first)
            first += batch.num_rows


def _geo_layout(file, schema, weight):
    """Geometry column, its encoding and the transformer to EPSG:4549 (None if there)."""
    from pyproj import CRS, Transformer

    meta = json.loads((schema.metadata or {}).get(b"geo", b"null") or "null")
    if not meta:
        raise InputError(
            _("{file}: not GeoParquet (no 'geo' metadata); write it with to_parquet").format(
                file=file
            )
        )
    column = meta["primary_column"]
    info = meta["columns"][column]
    encoding = info.get("encoding", "WKB").upper()
    if encoding not in ("WKB", "POINT"):
        raise InputError(
            _(
                "{file}: geometry encoding {encoding!r} is not read here; write the "
                "points as WKB (the default of to_parquet) or GeoArrow points"
            ).format(file=file, encoding=info["encoding"])
        )
    if not info.get("crs", "OGC:CRS84"):
        raise CRSError(
            _("{file}: the geometry has no CRS; rewrite it with one (EPSG:4549)").format(file=file)
        )
    crs = CRS.from_user_input(info.get("crs", "OGC:CRS84"))
    if weight is not None and weight not in schema.names:
        raise InputError(
            _('{file}: no "{weight}" column; found {names}').format(
                file=file, weight=weight, names=", ".join(schema.names)
            )
        )
    shift = (
        None if crs.equals(_crs.METRIC) else Transformer.from_crs(crs, _crs.METRIC, always_xy=True)
    )
    return column, encoding, shift
