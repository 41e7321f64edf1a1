"""Export layers to GeoPackage, Shapefile, KML, GeoJSON and CSV.

Every file is written beside its target and renamed into place (see
:mod:`gongshu_geo.core.atomic`), so a failed export never leaves a half-written
file where a good one was.

Coordinates can be written in WGS 84 (EPSG:4326, the default), CGCS2000
(EPSG:4490), CGCS2000 / Gauss-Kruger CM 120E (EPSG:4549, metres) or GCJ-02.
GCJ-02 has no EPSG code: its files are labelled EPSG:4326 (the shifted
coordinates are still longitude/latitude) and say in their metadata, and in
their file names (``_gcj02``), that the coordinates are shifted.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import geopandas as gpd
import pandas as pd

from gongshu_geo.core import crs as _crs
from gongshu_geo.core.atomic import atomic_fileset, atomic_path, ensure_dir, write_text_atomic
from gongshu_geo.core.errors import CRSError, InputError
from gongshu_geo.core.i18n import gettext as _
from gongshu_geo.data.roles import check_roles
from gongshu_geo.data.schema import CATEGORIES, STATUSES
from gongshu_geo.exchange import gdb as _gdb
from gongshu_geo.exchange import geoparquet as _geoparquet
from gongshu_geo.exchange import shapefile as _shp
from gongshu_geo.exchange.fields import (  # noqa: F401 (FIELD_LABELS, GPKG_* are part of this module's API)
    FAMILIES,
    FIELD_LABELS,
    GPKG_NAME,
    GPKG_VERSION,
    crs_tag,
    datum_note,
    is_spatial,
    layer_title,
    split_by_family,
)
from gongshu_geo.exchange.qgis import styles as qgis_styles

logger = logging.getLogger(__name__)

#: Formats :func:`export_layers` writes, with what they are.
FORMATS = {
    "gpkg": "GeoPackage: one file, every layer, join tables and QGIS styles",
    "qgz": "QGIS project (.qgz) beside the GeoPackage: groups, labels, map themes, A3 layouts",
    "shp": "Shapefile: one set per layer and geometry type, .cpg, .prj, field-alias CSV",
    "kml": "KML (Google Earth): one file per layer, WGS 84 only",
    "geojson": "GeoJSON: one file per layer, RFC 7946 (WGS 84) unless another CRS is asked for",
    "csv": "CSV: one file per layer, lon/lat for points, WKT otherwise",
    "gdb": "ArcGIS File Geodatabase: feature classes, tables, Chinese aliases, domains",
    "parquet": "GeoParquet 1.1: one file per layer, with a bbox covering column",
    "postgis": "PostGIS: one table per layer in a schema, written in one transaction",
}
#: CRSs :func:`export_layers` writes.
EXPORT_CRS = (_crs.WGS84, _crs.CGCS2000, _crs.METRIC, _crs.GCJ02)

_PROJECT_ORDER = (
    "id",
    "name",
    "name_en",
    "category",
    "category_zh",
    "subcategory",
    "status",
    "status_zh",
    "period",
)
_SHP_PARTS = (".shp", ".shx", ".dbf", ".prj", ".cpg")
_BAD_NAME_CHARS = set('/\\:*?"<>|')


def collect_layers(
    streets: gpd.GeoDataFrame,
    projects: gpd.GeoDataFrame,
    district: gpd.GeoDataFrame,
    *,
    service_areas: gpd.GeoDataFrame | None = None,
    gaps: gpd.GeoDataFrame | None = None,
    tables: dict | None = None,
) -> dict:
    """Gather the export's layers, one per theme.

    Parameters
    ----------
    streets : geopandas.GeoDataFrame
        Street polygons (the ``streets`` layer).
    projects : geopandas.GeoDataFrame
        Plan projects; split into one layer per category present, in
        :data:`gongshu_geo.data.schema.CATEGORIES` order, each with Chinese
        ``category_zh`` and ``status_zh`` columns added.
    district : geopandas.GeoDataFrame
        The district outline.
    service_areas, gaps : geopandas.GeoDataFrame, optional
    tables : dict, optional
        Name -> non-spatial DataFrame (e.g. ``{"project_streets": joined}``).

    Returns
    -------
    dict
        Layer name (``"district"``, ``"streets"``, ``"projects_park"``, ...,
        ``"service_areas"``, ``"gaps"``, the table names) -> a new frame.
    """
    check_roles("collect_layers", streets, "streets, projects, district", projects=projects)
    layers = {"district": district.copy(), "streets": streets.copy()}
    for column in ("category", "status"):
        if column not in projects.columns:
            raise InputError(
                _('projects: column "{column}" is missing; read them with read_projects()').format(
                    column=column
                )
            )
    unknown = sorted(set(projects["category"].dropna()) - set(CATEGORIES))
    if unknown:
        raise InputError(
            _('projects: "category" must be one of {categories}; found {unknown!r}').format(
                categories=", ".join(CATEGORIES), unknown=unknown[0]
            )
        )
    for category, (label, _kind, _geoms) in CATEGORIES.items():
        rows = projects.loc[projects["category"] == category].copy()
        if rows.empty:
            continue
        rows["category_zh"] = label
        rows["status_zh"] = rows["status"].map(STATUSES)
        first = [c for c in _PROJECT_ORDER if c in rows.columns]
        layers[f"projects_{category}"] = rows[first + [c for c in rows.columns if c not in first]]
    if service_areas is not None:
        layers["service_areas"] = service_areas.copy()
    if gaps is not None:
        layers["gaps"] = gaps.copy()
    for name, table in (tables or {}).items():
        if name in layers:
            raise InputError(
                _('table name "{name}" is already a layer name; choose another').format(name=name)
            )
        layers[name] = pd.DataFrame(table.drop(columns="geometry", errors="ignore"))
    logger.info(_("collected %d layers: %s"), len(layers), ", ".join(layers))
    return layers


def export_layers(
    layers: dict,
    out: str | os.PathLike,
    *,
    fmt: str = "gpkg",
    crs: str = _crs.WGS84,
    encoding: str = "UTF-8",
    layer_names: dict | None = None,
    schema: str = "gongshu",
    baselines: dict | None = None,
) -> list:
    """Write layers in one format and CRS.

    Parameters
    ----------
    layers : dict
        Name -> GeoDataFrame (spatial layer) or DataFrame (table), as from
        :func:`collect_layers`.
    out : str or Path
        Output folder. For ``gpkg`` (``gdb``) a path ending in ``.gpkg``
        (``.gdb``) names the file itself; otherwise it is ``gongshu_geo.gpkg``
        inside the folder. For ``qgz`` a path ending in ``.qgz`` names the
        project, and the GeoPackage is written beside it with the same stem. For
        ``postgis`` the database URL (``postgresql://user:password@host:port/db``).
    fmt : str
        One of :data:`FORMATS`.
    crs : str
        One of :data:`EXPORT_CRS`. KML is WGS 84 only. File names get a
        ``_epsg4490`` / ``_epsg4549`` / ``_gcj02`` tag for any other CRS.
    encoding : str
        Attribute encoding of Shapefiles and CSV files (``GBK`` for older
        ArcGIS on Chinese Windows); the other formats are always UTF-8.
    layer_names : dict, optional
        Layer name -> name to write it under (layers not named keep theirs).
    schema : str
        PostGIS schema the tables are written into (``postgis`` only).
    baselines : dict, optional
        For ``qgz``: facility layer -> completeness of its existing facilities
        (``"complete"``, ``"partial"``, ``"unknown"``), which names the gaps.

    Returns
    -------
    list
        The files written (for Shapefiles the ``.shp`` of each set, plus the
        field-alias CSV and README); for ``qgz`` the GeoPackage and the project; for
        ``postgis`` the qualified table names.

    Raises
    ------
    InputError
        For an unknown format, CRS or encoding, KML in another CRS than WGS 84,
        a layer without CRS, or a text value the encoding cannot hold.
    """
    fmt, crs, codec = _check_export_args(fmt, crs, encoding)
    named = _rename_layers(layers, layer_names)
    prepared = {name: _reproject(frame, crs, name) for name, frame in named.items()}
    themes = {new: old for old, new in zip(layers, named, strict=True)}
    if fmt == "postgis":
        from gongshu_geo.exchange.postgis import write_postgis

        return write_postgis(prepared, str(out), schema=schema, crs=crs, themes=themes)
    writer = {
        "gpkg": _write_gpkg,
        "qgz": _write_qgz,
        "shp": _write_shapefiles,
        "kml": _write_kml,
        "geojson": _write_geojson,
        "csv": _write_csv,
        "gdb": _gdb.write_gdb,
        "parquet": _geoparquet.write_geoparquet,
    }[fmt]
    options = {"baselines": baselines or {}} if fmt == "qgz" else {}
    written = writer(prepared, Path(out), crs=crs, codec=codec, themes=themes, **options)
    logger.info(_("exported %d layers as %s (%s) to %s"), len(prepared), fmt, crs, out)
    return written


def _check_export_args(fmt, crs, encoding):
    fmt = str(fmt).lower().lstrip(".")
    fmt = {"geopackage": "gpkg", "shapefile": "shp", "json": "geojson", "qgs": "qgz"}.get(fmt, fmt)
    if fmt not in FORMATS:
        raise InputError(
            _('unknown export format "{fmt}"; expected one of {formats}').format(
                fmt=fmt, formats=", ".join(FORMATS)
            )
        )
    name = _crs.normalize_crs_name(crs)
    if name not in EXPORT_CRS:
        raise CRSError(
            _('cannot export in CRS "{crs}"; expected one of {export_crs}').format(
                crs=crs, export_crs=", ".join(EXPORT_CRS)
            )
        )
    if fmt == "kml" and name != _crs.WGS84:
        raise CRSError(
            _(
                "KML is always WGS 84 longitude/latitude (EPSG:4326); it cannot hold "
                "{name}. Export KML with --crs EPSG:4326, or choose --format gpkg, shp "
                "or geojson for {name}"
            ).format(name=name)
        )
    codec = _shp.codec_name(encoding)
    if codec != "utf-8" and fmt not in ("shp", "csv"):
        raise InputError(
            _(
                "{fmt} files are always UTF-8; --encoding {encoding} only applies to shp and csv"
            ).format(fmt=fmt, encoding=encoding)
        )
    return fmt, name, codec


def _rename_layers(layers, layer_names):
    layer_names = dict(layer_names or {})
    unknown = sorted(set(layer_names) - set(layers))
    if unknown:
        raise InputError(
            _('layer_names: no layer "{unknown}"; layers are {layers}').format(
                unknown=unknown[0], layers=", ".join(layers)
            )
        )
    named = {}
    for key, frame in layers.items():
        name = str(layer_names.get(key, key)).strip()
        if not name or _BAD_NAME_CHARS & set(name):
            raise InputError(
                _('layer name {name!r} cannot be a file name; avoid / \\ : * ? " < > |').format(
                    name=name
                )
            )
        if name in named:
            raise InputError(
                _('two layers would be written as "{name}"; name them differently').format(
                    name=name
                )
            )
        named[name] = frame
    return named


def _reproject(frame, crs, name):
    if not is_spatial(frame):
        return pd.DataFrame(frame)
    if frame.crs is None:
        raise CRSError(
            _('layer "{name}" has no CRS; set one with gdf.set_crs(...) before exporting').format(
                name=name
            )
        )
    if frame.attrs.get("datum") == _crs.GCJ02:
        raise CRSError(
            _(
                'layer "{name}" is already GCJ-02; convert it back with from_gcj02() and '
                "export with crs='GCJ-02' instead of shifting it twice"
            ).format(name=name)
        )
    out = _crs.to_crs_named(frame, crs)
    if out.geometry.name != "geometry":
        out = out.rename_geometry("geometry")
    return out


def _description(theme, crs) -> str:
    return f"{layer_title(theme)}. {datum_note(crs)}"


def _aliases(columns) -> dict:
    return {c: FIELD_LABELS[c] for c in columns if c in FIELD_LABELS}


def _write_gpkg(prepared, out, *, crs, codec, themes):
    import pyogrio

    target = out if out.suffix.lower() == ".gpkg" else out / f"{GPKG_NAME}{crs_tag(crs)}.gpkg"
    styles = {}
    with atomic_path(target) as tmp:
        created = False
        for name, frame in prepared.items():
            theme = themes[name]
            options = {"dataset_options": {"VERSION": GPKG_VERSION}} if not created else {}
            if not is_spatial(frame):
                pyogrio.write_dataframe(
                    frame,
                    tmp,
                    layer=name,
                    driver="GPKG",
                    layer_options={"DESCRIPTION": f"{theme} (table)"},
                    **options,
                )
                created = True
                continue
            for part_name, (part, family) in split_by_family(frame, name).items():
                description = _description(theme, crs)
                pyogrio.write_dataframe(
                    part,
                    tmp,
                    layer=part_name,
                    driver="GPKG",
                    layer_options={"DESCRIPTION": description},
                    **options,
                )
                options, created = {}, True
                qml = qgis_styles.layer_qml(theme, part, family, aliases=_aliases(part.columns))
                if qml:
                    styles[part_name] = (qml, description)
        qgis_styles.write_layer_styles(tmp, styles)
    return [target]


def _write_qgz(prepared, out, *, crs, codec, themes, baselines):
    from gongshu_geo.exchange.qgis.project import write_qgis_project

    if out.suffix.lower() == ".qgz":
        gpkg, project = out.with_suffix(".gpkg"), out
    else:
        gpkg = out / f"{GPKG_NAME}{crs_tag(crs)}.gpkg"
        project = gpkg.with_suffix(".qgz")
    ensure_dir(project.parent)
    (gpkg,) = _write_gpkg(prepared, gpkg, crs=crs, codec=codec, themes=themes)
    qgz = write_qgis_project(gpkg, project, overlay_crs=crs, baselines=baselines, themes=themes)
    return [gpkg, qgz]


def _write_shapefiles(prepared, out, *, crs, codec, themes):
    import pyogrio

    ensure_dir(out)
    tag = crs_tag(crs)
    cpg_text = _encoding_label(codec)
    written, alias_rows, notes = [], [], []
    for name, frame in prepared.items():
        if not is_spatial(frame):
            written.append(_write_table_csv(frame, out / f"{name}.csv", codec))
            continue
        for part_name, (part, _family) in split_by_family(frame, name).items():
            columns = [c for c in part.columns if c != "geometry"]
            short = _shp.short_field_names(columns, encoding=codec)
            part = _shp.make_encodable(part, encoding=cpg_text, source=part_name)
            table = part.rename(columns=short)
            for column in short.values():
                if _shp.is_text(table[column]):
                    table[column] = table[column].map(lambda v: _shp.fit_text(v, encoding=codec))
            targets = [out / f"{part_name}{tag}{ext}" for ext in _SHP_PARTS]
            with atomic_fileset(targets) as tmp:
                pyogrio.write_dataframe(
                    table, tmp[targets[0]], driver="ESRI Shapefile", encoding=cpg_text
                )
                tmp[targets[-1]].write_text(cpg_text, encoding="ascii")
            written.append(targets[0])
            for column, short_name in short.items():
                alias_rows.append(
                    {
                        "layer": targets[0].name,
                        "short_name": short_name,
                        "full_name": column,
                        "label_zh": FIELD_LABELS.get(column, ""),
                        "coordinates": "GCJ-02 (shifted; .prj says WGS 84)"
                        if crs == _crs.GCJ02
                        else crs,
                    }
                )
            notes.append(f"{targets[0].name}: {_description(themes[name], crs)}")
    aliases = out / f"field_aliases{tag}.csv"
    written.append(_write_table_csv(pd.DataFrame(alias_rows), aliases, "utf-8"))
    readme = out / f"README{tag}.txt"
    write_text_atomic(readme, _shapefile_readme(notes, crs, cpg_text, aliases.name))
    written.append(readme)
    return written


def _shapefile_readme(notes, crs, cpg_text, aliases_name) -> str:
    lines = [
        "gongshu_geo Shapefile export",
        "",
        datum_note(crs),
        f"Attribute encoding: {cpg_text} (named in each .cpg file).",
        "DBF field names are limited to 10 bytes; the full names and Chinese labels are in "
        f"{aliases_name} (UTF-8 with BOM, opens in Excel).",
        "A layer with several geometry types is split into _point, _line and _polygon sets.",
        "",
        *notes,
        "",
    ]
    return "\n".join(lines)


def _encoding_label(codec) -> str:
    return {"utf-8": "UTF-8", "gbk": "GBK"}.get(codec, codec.upper())


def _write_table_csv(frame, target, codec) -> Path:
    if codec == "utf-8":
        data = frame.to_csv(index=False, lineterminator="\r\n").encode("utf-8-sig")
    else:
        frame = _shp.make_encodable(frame, encoding=_encoding_label(codec), source=target.name)
        data = frame.to_csv(index=False, lineterminator="\r\n").encode(codec)
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)
    return Path(target)


def _write_kml(prepared, out, *, crs, codec, themes):
    import pyogrio

    ensure_dir(out)
    written = []
    for name, frame in prepared.items():
        if not is_spatial(frame):
            written.append(_write_table_csv(frame, out / f"{name}.csv", codec))
            continue
        target = out / f"{name}.kml"
        options = {"NameField": "name"} if "name" in frame.columns else {}
        with atomic_path(target) as tmp:
            pyogrio.write_dataframe(frame, tmp, layer=name, driver="KML", dataset_options=options)
        written.append(target)
    return written


def _write_geojson(prepared, out, *, crs, codec, themes):
    import pyogrio

    ensure_dir(out)
    tag = crs_tag(crs)
    written = []
    for name, frame in prepared.items():
        if not is_spatial(frame):
            written.append(_write_table_csv(frame, out / f"{name}.csv", codec))
            continue
        target = out / f"{name}{tag}.geojson"
        options = {"DESCRIPTION": _description(themes[name], crs)}
        if crs in (_crs.WGS84, _crs.GCJ02):
            options["RFC7946"] = "YES"
        if crs == _crs.GCJ02:
            options["FOREIGN_MEMBERS_COLLECTION"] = json.dumps(
                {"datum": _crs.GCJ02, "datum_note": datum_note(crs)}, ensure_ascii=False
            )
        with atomic_path(target) as tmp:
            pyogrio.write_dataframe(frame, tmp, layer=name, driver="GeoJSON", layer_options=options)
        written.append(target)
    return written


def _write_csv(prepared, out, *, crs, codec, themes):
    import shapely

    ensure_dir(out)
    tag = crs_tag(crs)
    written = []
    geographic = crs != _crs.METRIC
    for name, frame in prepared.items():
        if not is_spatial(frame):
            written.append(_write_table_csv(frame, out / f"{name}.csv", codec))
            continue
        table = pd.DataFrame(frame.drop(columns="geometry"))
        geoms = frame.geometry
        if len(geoms) and (geoms.geom_type == "Point").all():
            x_name, y_name = ("lon", "lat") if geographic else ("x", "y")
            table[x_name] = geoms.x.to_numpy()
            table[y_name] = geoms.y.to_numpy()
        else:
            table["WKT"] = shapely.to_wkt(geoms.values, rounding_precision=-1)
        written.append(_write_table_csv(table, out / f"{name}{tag}.csv", codec))
    return written
