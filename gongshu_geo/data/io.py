"""Reading the packaged data and the user's own files into validated GeoDataFrames."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Sequence
from importlib import resources
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gongshu_geo.core import crs as _crs
from gongshu_geo.core.deprecated import renamed_keywords
from gongshu_geo.core.errors import CRSError, InputError, ValidationError
from gongshu_geo.core.i18n import N_
from gongshu_geo.core.i18n import gettext as _
from gongshu_geo.core.limits import check_input_size, read_bytes_bounded
from gongshu_geo.core.problems import MAX_LISTED
from gongshu_geo.data.extent import check_coordinate_range
from gongshu_geo.data.geojson import (
    GEOMETRY_TYPES,
    check_coordinates,
    decode_text,
    load_feature_collection,
    parse_feature,
)
from gongshu_geo.data.schema import (
    CATEGORIES,
    check_geometry_type,
    check_id_convention,
    check_properties,
    coerce_id,
    feature_label,
    parse_status_log,
)

logger = logging.getLogger(__name__)

#: The readers' default ``what`` (also of extent and postgis), for the catalog; messages
#: translate ``what`` where they name it.
_DEFAULT_WHAT = N_("layer")

STREET_COLUMNS = ["street_code", "name", "name_en", "area_km2", "population"]


def data_path(*parts) -> Path:
    """Path of a packaged data file (``data/`` in the repository).

    Parameters
    ----------
    *parts : str
        Path components below ``data/``, e.g. ``("boundaries", "streets.geojson")``.
    """
    try:
        base = resources.files("gongshu_geo._data")
        candidate = Path(str(base.joinpath(*parts)))
        if candidate.exists():
            return candidate
    except ModuleNotFoundError:
        pass
    return Path(__file__).resolve().parents[2] / "data" / Path(*parts)


def _is_dsn(source) -> bool:
    from gongshu_geo.data.postgis import is_dsn

    return is_dsn(source)


def _label(path) -> str:
    if _is_dsn(path):
        from gongshu_geo.data.postgis import redact_dsn

        return redact_dsn(path)
    return str(path)


def _open_vector(path, *, what="layer", encoding=None, layer=None) -> gpd.GeoDataFrame:
    """Read a file GDAL can open, or a PostGIS table or query given as a database URL."""
    if _is_dsn(path):
        from gongshu_geo.data.postgis import read_postgis_layer

        return read_postgis_layer(path, what=what)
    path = Path(path)
    if not path.exists():
        raise InputError(_("{path}: no such file").format(path=path))
    gdf = _read_ogr(path, encoding=encoding, layer=layer)
    if not isinstance(gdf, gpd.GeoDataFrame):
        raise InputError(
            _(
                "{path}: the {what} has no geometry (GDAL found a table without points, "
                "lines or polygons); a CSV of points needs lon/lat columns and goes in "
                "--facilities"
            ).format(path=path, what=_(what))
        )
    return gdf


def read_projects(
    path: str | os.PathLike | None = None,
    *,
    skip_invalid: bool = False,
    fix_geometry: bool = False,
    encoding: str | None = None,
    strict: bool = False,
) -> gpd.GeoDataFrame:
    """Read and validate plan projects.

    Parameters
    ----------
    path : str or Path, optional
        GeoJSON (checked feature by feature), GeoPackage, Shapefile, or a
        PostGIS table or query (``postgresql://...?table=schema.name``, see
        :mod:`gongshu_geo.exchange.postgis`). Defaults to the packaged ``data/projects.geojson``.
    skip_invalid : bool
        Drop features with problems instead of raising; what was skipped is
        logged and kept in ``gdf.attrs["skipped"]``.
    fix_geometry : bool
        Close unclosed rings and repair invalid polygons with
        :func:`shapely.make_valid`; what changed is in ``gdf.attrs["fixed"]``.
    encoding : str, optional
        Text encoding of the file; by default UTF-8, with a clear error for GBK.
    strict : bool
        Also warn about ids of a user's file that do not follow the packaged
        data's ``P-<CATEGORY>-NNN`` convention (logged and kept in
        ``gdf.attrs["warnings"]``). A user's ids need only be unique and
        non-empty (numbers become text); the packaged data must follow it.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per project in EPSG:4326, indexed from 0, with the schema's
        properties as columns.

    Raises
    ------
    InputError
        Listing every problem found, each naming the feature, field, expected
        value and what was found.
    """
    packaged = path is None
    path = path if _is_dsn(path) else Path(path or data_path("projects.geojson"))
    source = _label(path)
    ids = {"id_convention": packaged}
    if isinstance(path, Path) and path.suffix.lower() in (".geojson", ".json"):
        if not path.exists():
            raise InputError(_("{source}: no such file").format(source=source))
        rows, problems, fixes = _read_geojson_rows(
            path, fix_geometry=fix_geometry, encoding=encoding, **ids
        )
    else:
        rows, problems, fixes = _read_ogr_rows(path, encoding=encoding, **ids)
    warnings = []
    if strict and not packaged:
        warnings = [w for index, props, _, _ in rows for w in check_id_convention(props, index)]
    gdf = _finish_projects(rows, problems, fixes, source, skip_invalid=skip_invalid)
    for warning in warnings:
        logger.warning(
            _("%s: %s (a convention of the packaged data, not required)"), source, warning
        )
    gdf.attrs["warnings"] = warnings
    return gdf


def _read_geojson_rows(path: Path, *, fix_geometry: bool, encoding, id_convention: bool):
    source = _label(path)
    text = decode_text(
        read_bytes_bounded(path, source, what=N_("projects file")), source, encoding=encoding
    )
    features = load_feature_collection(text, source)
    rows, problems, fixes = [], [], []
    seen: dict = {}
    for index, feature in enumerate(features):
        props, geom, feature_problems, feature_fixes = parse_feature(
            feature, index, fix_geometry=fix_geometry
        )
        feature_problems += check_properties(
            props, index, seen_ids=seen, id_convention=id_convention
        )
        if geom is not None:
            feature_problems += check_geometry_type(
                props.get("category"), geom.geom_type, feature_label(props.get("id"), index)
            )
        rows.append((index, props, geom, feature_problems))
        problems += feature_problems
        fixes += feature_fixes
    return rows, problems, fixes


def _read_ogr_rows(path, *, encoding, id_convention: bool):
    source = _label(path)
    gdf = _open_vector(path, what=N_("projects table"), encoding=encoding)
    if gdf.crs is None:
        raise CRSError(
            _("{source}: the layer has no CRS (.prj missing?); pass --crs").format(source=source)
        )
    with np.errstate(all="ignore"):
        gdf = gdf.to_crs(_crs.WGS84)
    rows, problems = [], []
    seen: dict = {}
    positions = _positions_as_geojson(gdf.geometry)
    for index, (props, geom) in enumerate(
        zip(gdf.drop(columns="geometry").to_dict("records"), gdf.geometry, strict=True)
    ):
        props = {k: (None if _isna(v) else v) for k, v in props.items()}
        if "id" in props:
            props["id"] = coerce_id(props["id"])
        label = feature_label(props.get("id"), index)
        feature_problems = check_properties(
            props, index, seen_ids=seen, id_convention=id_convention
        )
        if geom is None or geom.is_empty:
            feature_problems.append(
                _("{label}: geometry is null; every project needs a location").format(label=label)
            )
            geom = None
        elif coordinate_problems := _coordinate_problems(positions[index], label):
            feature_problems += coordinate_problems  # as in GeoJSON: swapped, metres, far off
            geom = None
        else:
            feature_problems += check_geometry_type(props.get("category"), geom.geom_type, label)
            if not geom.is_valid:
                feature_problems.append(
                    _("{label}: invalid {geom_type}").format(label=label, geom_type=geom.geom_type)
                )
        rows.append((index, props, geom, feature_problems))
        problems += feature_problems
    return rows, problems, []


def _positions_as_geojson(geoms) -> list:
    """Each geometry as a GeoJSON dict of lists (None when missing), for check_coordinates."""
    texts = shapely.to_geojson(np.asarray(geoms.values))
    return [None if t is None else json.loads(t) for t in texts]


def _coordinate_problems(geojson, label) -> list[str]:
    if geojson is None or geojson.get("type") not in GEOMETRY_TYPES:
        return []  # other types are reported by check_geometry_type
    return check_coordinates(geojson, label)


def _isna(value) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _tabular(props: dict) -> dict:
    """Properties fit for a table column: a status log becomes its JSON text."""
    log = parse_status_log(props.get("status_log"))
    if log is None:
        return {k: v for k, v in props.items() if k != "status_log"}
    return {**props, "status_log": json.dumps(log, ensure_ascii=False)}


def _finish_projects(rows, problems, fixes, source, *, skip_invalid):
    for fix in fixes:
        logger.warning("%s: %s", source, fix)
    if problems and not skip_invalid:
        raise ValidationError(problems, source=source)
    kept = [(props, geom) for _, props, geom, probs in rows if not probs]
    skipped = [probs for _, _, _, probs in rows if probs]
    _log_skipped([p for probs in skipped for p in probs], source)
    if not kept:
        raise ValidationError(
            (problems or []) + [_("no valid feature is left after skipping the invalid ones")],
            source=source,
        )
    gdf = gpd.GeoDataFrame(
        [_tabular(props) for props, _ in kept],
        geometry=[geom for _, geom in kept],
        crs=_crs.WGS84,
    )
    gdf.attrs["source"] = source
    gdf.attrs["skipped"] = [p for probs in skipped for p in probs]
    gdf.attrs["fixed"] = list(fixes)
    logger.info(_("read %d projects from %s (%d skipped)"), len(gdf), source, len(skipped))
    return gdf


def _log_skipped(problems, source) -> None:
    """Log what was skipped: the first few as warnings, the rest at debug level (no flood)."""
    for k, problem in enumerate(problems):
        level = logging.WARNING if k < MAX_LISTED else logging.DEBUG
        logger.log(level, _("%s: skipped %s"), source, problem)
    if len(problems) > MAX_LISTED:
        logger.warning(
            _("%s: skipped %d more problems (all of them: -vv, or --report problems.csv)"),
            source,
            len(problems) - MAX_LISTED,
        )


def read_layer(
    path: str | os.PathLike,
    *,
    what: str = "layer",
    encoding: str | None = None,
    layer: str | None = None,
    check_coordinates: bool = True,
) -> gpd.GeoDataFrame:
    """Read any vector layer GDAL can open, insisting that it carries a CRS.

    Parameters
    ----------
    path : str or Path
        GeoPackage, Shapefile (DBF encoding from ``.cpg``, the header or
        ``encoding``), GeoJSON, ..., or a PostGIS table or query
        (``postgresql://...?table=schema.name``).
    what : str
        How error messages name the layer (e.g. ``"facility layer"``).
    encoding : str, optional
        Attribute encoding.
    layer : str, optional
        Layer name in a multi-layer file.
    check_coordinates : bool
        Refuse missing, non-finite and impossible coordinates (see
        :func:`gongshu_geo.data.extent.check_coordinate_range`); a caller that checks
        them itself passes False.

    Returns
    -------
    geopandas.GeoDataFrame
        As read, in its own CRS.
    """
    gdf = _open_vector(path, what=what, encoding=encoding, layer=layer)
    if gdf.crs is None:
        raise CRSError(
            _("{label}: the {what} has no CRS (.prj missing?); give it one").format(
                label=_label(path), what=_(what)
            )
        )
    if check_coordinates:
        check_coordinate_range(gdf, source=_label(path), what=what)
    return gdf


def _read_ogr(path: Path, *, encoding=None, layer=None) -> gpd.GeoDataFrame:
    import pyogrio

    source = _label(path)
    check_input_size(path, source)
    if path.suffix.lower() == ".shp":
        from gongshu_geo.data.encoding import shapefile_encoding

        encoding = shapefile_encoding(path, encoding)
    kwargs = {}
    if encoding:
        kwargs["encoding"] = encoding
    if layer is not None:
        kwargs["layer"] = layer
    try:
        return gpd.read_file(path, engine="pyogrio", **kwargs)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        raise InputError(
            _("{source}: cannot be read as a vector layer ({exc})").format(source=source, exc=exc)
        ) from exc
    except UnicodeDecodeError as exc:
        raise InputError(
            _(
                "{source}: text cannot be decoded ({exc}); pass --encoding gbk (or the "
                "right encoding)"
            ).format(source=source, exc=exc)
        ) from exc


def filter_projects(
    projects: gpd.GeoDataFrame,
    *,
    categories: Sequence[str] | None = None,
    subcategories: Sequence[str] | None = None,
    statuses: Sequence[str] | None = None,
) -> gpd.GeoDataFrame:
    """Select projects by category, subcategory and status.

    Parameters
    ----------
    projects : geopandas.GeoDataFrame
    categories, subcategories, statuses : iterable of str, optional
        Keep rows whose value is in each given set.

    Returns
    -------
    geopandas.GeoDataFrame
        A new frame (index kept).
    """
    mask = pd.Series(True, index=projects.index)
    for column, wanted in (
        ("category", categories),
        ("subcategory", subcategories),
        ("status", statuses),
    ):
        if wanted is not None:
            wanted = [wanted] if isinstance(wanted, str) else list(wanted)
            if column == "category":
                unknown = [c for c in wanted if c not in CATEGORIES]
                if unknown:
                    raise InputError(
                        _("unknown category {unknown!r}; expected one of {categories}").format(
                            unknown=unknown[0], categories=", ".join(CATEGORIES)
                        )
                    )
            mask &= projects[column].isin(wanted)
    return projects.loc[mask].copy()


def read_district(path: str | os.PathLike | None = None) -> gpd.GeoDataFrame:
    """Read the district outline (packaged ``data/boundaries/district.geojson`` by default).

    Parameters
    ----------
    path : str or Path, optional
        Any polygon layer with a CRS; the packaged outline by default.

    Returns
    -------
    geopandas.GeoDataFrame
        The outline in EPSG:4326.
    """
    path = Path(path) if path is not None else data_path("boundaries", "district.geojson")
    if not path.exists():
        raise InputError(_("{path}: no such file").format(path=path))
    gdf = _read_ogr(path)
    if gdf.crs is None:
        raise CRSError(_("{path}: the layer has no CRS; pass --crs").format(path=path))
    return gdf.to_crs(_crs.WGS84)


@renamed_keywords(population="population_table")
def read_streets(
    path: str | os.PathLike | None = None,
    *,
    name_field: str | None = None,
    code_field: str | None = None,
    population_table: str | os.PathLike | pd.DataFrame | None = None,
    population_field: str = "population",
    population_code_field: str = "street_code",
    crs: str | None = None,
    encoding: str | None = None,
    layer: str | None = None,
    check_tiling: bool = True,
) -> gpd.GeoDataFrame:
    """Read street (街道) boundaries: the packaged approximation or official ones.

    Parameters
    ----------
    path : str or Path, optional
        GeoPackage, Shapefile or GeoJSON in any CRS with a definition, or a
        PostGIS table or query (``postgresql://...?table=schema.name``). Defaults
        to the packaged ``data/boundaries/streets.geojson`` (public polygons, ±100 m).
    name_field, code_field : str, optional
        Columns holding the street name and code in the user's file (e.g.
        ``"街道名称"``, ``"街道代码"``); by default ``name`` and ``street_code``.
    population_table : str, Path or pandas.DataFrame, optional
        A table (CSV or XLSX) of population by street code, joined on the code
        (``population=`` before 0.2, deprecated).
    population_field, population_code_field : str
        The count and street-code columns of that table.
    crs : str, optional
        The CRS of a file that carries none, or ``"GCJ-02"`` for AMap-derived
        coordinates (which cannot be detected from the file).
    encoding : str, optional
        Attribute encoding, e.g. ``"GBK"`` for a Shapefile without ``.cpg``.
    layer : str, optional
        Layer name in a multi-layer GeoPackage.
    check_tiling : bool
        Raise when polygons overlap or leave gaps between them.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``street_code`` (str), ``name``, ``population`` (may be NA) and
        the file's other columns, geometry in EPSG:4326.
    """
    packaged = path is None
    path = path if path is not None else data_path("boundaries", "streets.geojson")
    source = _label(path)
    gdf = _open_vector(path, what=N_("street layer"), encoding=encoding, layer=layer)
    gdf = _assign_crs(gdf, crs, source)
    name_field = name_field or "name"
    code_field = code_field or "street_code"
    missing = [f for f in (name_field, code_field) if f not in gdf.columns]
    if missing:
        raise InputError(
            _(
                '{source}: field "{missing}" not found; the layer has fields {columns}. '
                "Name the right ones with --name-field and --code-field"
            ).format(
                source=source,
                missing=missing[0],
                columns=", ".join(c for c in gdf.columns if c != "geometry"),
            )
        )
    gdf = gdf.rename(columns={name_field: "name", code_field: "street_code"})
    gdf["street_code"] = gdf["street_code"].map(_code_text)
    problems = _check_street_rows(gdf)
    if population_table is not None:
        gdf = _join_population(
            gdf, population_table, population_field, population_code_field, source
        )
    elif "population" not in gdf.columns:
        gdf["population"] = pd.NA
    if problems:
        raise ValidationError(problems, source=source)
    if check_tiling:
        from gongshu_geo.data.tiling import check_street_tiling

        check_street_tiling(gdf, source=source)
    gdf.attrs["source"] = source
    gdf.attrs["packaged"] = packaged
    logger.info(_("read %d streets from %s"), len(gdf), source)
    return gdf.reset_index(drop=True)


def _code_text(value):
    if _isna(value):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _assign_crs(gdf, crs, source):
    if crs is not None:
        try:
            name = _crs.normalize_crs_name(crs)
        except CRSError as exc:
            raise CRSError(
                _("{source}: --crs {crs}: {exc}").format(source=source, crs=crs, exc=exc)
            ) from exc
        if name == _crs.GCJ02:
            if gdf.crs is not None and not gdf.crs.is_geographic:
                raise CRSError(
                    _(
                        "{source}: --crs GCJ-02 needs longitude/latitude, but the file is in {crs}"
                    ).format(source=source, crs=gdf.crs.to_string())
                )
            # GCJ-02 numbers are degrees too: refuse impossible ones before shifting
            degrees = gdf.set_crs(_crs.WGS84, allow_override=True)
            check_coordinate_range(degrees, source=source)
            return _crs.from_gcj02(degrees)
        if gdf.crs is not None and gdf.crs != name:
            logger.warning(_("%s: overriding the file's CRS %s with %s"), source, gdf.crs, name)
        gdf = gdf.set_crs(name, allow_override=True)
    if gdf.crs is None:
        raise CRSError(
            _(
                "{source}: the layer has no CRS (a Shapefile without .prj?); say which "
                "it is with --crs, e.g. --crs EPSG:4549 for CGCS2000 Gauss-Kruger metres "
                "or --crs EPSG:4490"
            ).format(source=source)
        )
    check_coordinate_range(gdf, source=source)
    return gdf.to_crs(_crs.WGS84)


def _check_street_rows(gdf) -> list[str]:
    problems = []
    seen = {}
    for index, (code, name, geom) in enumerate(
        zip(gdf["street_code"], gdf["name"], gdf.geometry, strict=True)
    ):
        if _isna(name):
            label = _("street #{index}").format(index=index)
        else:
            label = _('street "{name}" (#{index})').format(name=name, index=index)
        if code is None or code == "":
            problems.append(_('{label}: "street_code" is missing').format(label=label))
        elif code in seen:
            problems.append(
                _("{label}: duplicate street code {code!r}, first used by #{seen}").format(
                    label=label, code=code, seen=seen[code]
                )
            )
        else:
            seen[code] = index
        if geom is None or geom.is_empty:
            problems.append(_("{label}: geometry is null").format(label=label))
        elif geom.geom_type not in ("Polygon", "MultiPolygon"):
            problems.append(
                _("{label}: must be a Polygon or MultiPolygon; found {geom_type}").format(
                    label=label, geom_type=geom.geom_type
                )
            )
        elif not geom.is_valid:
            from shapely.validation import explain_validity

            problems.append(
                _("{label}: invalid polygon ({reason})").format(
                    label=label, reason=explain_validity(geom)
                )
            )
    return problems


def _join_population(gdf, population, value_field, code_field, source):
    table = read_table(population) if not isinstance(population, pd.DataFrame) else population
    table_source = (
        _label(population) if not isinstance(population, pd.DataFrame) else "population table"
    )
    for field in (value_field, code_field):
        if field not in table.columns:
            raise InputError(
                _('{table_source}: column "{field}" not found; it has {columns}').format(
                    table_source=table_source,
                    field=field,
                    columns=", ".join(map(str, table.columns)),
                )
            )
    values = pd.to_numeric(table[value_field], errors="coerce")
    bad = table.loc[values.isna(), code_field].tolist()
    if bad:
        raise InputError(
            _(
                '{table_source}: "{value_field}" must be a number; found non-numeric '
                "values for codes {bad}"
            ).format(table_source=table_source, value_field=value_field, bad=bad[:5])
        )
    lookup = dict(zip(table[code_field].map(_code_text), values, strict=True))
    unmatched = sorted(set(gdf["street_code"]) - set(lookup))
    if unmatched:
        logger.warning(_("%s: no population for street codes %s"), table_source, unmatched)
    out = gdf.copy()
    out["population"] = out["street_code"].map(lookup)
    return out


def read_table(path: str | os.PathLike) -> pd.DataFrame:
    """Read a CSV (UTF-8, or GBK with a fallback) or XLSX table.

    Parameters
    ----------
    path : str or Path
        A ``.csv``, ``.xlsx`` or ``.xls`` file.

    Returns
    -------
    pandas.DataFrame
        The table; CSV columns are read as text.
    """
    path = Path(path)
    if not path.exists():
        raise InputError(_("{path}: no such file").format(path=path))
    check_input_size(path, what=N_("table"))
    if path.suffix.lower() in (".xlsx", ".xls"):
        try:
            return pd.read_excel(path)
        except (ValueError, OSError, KeyError) as exc:
            raise InputError(
                _("{path}: cannot be read as an Excel workbook ({exc})").format(path=path, exc=exc)
            ) from exc
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            table = pd.read_csv(path, encoding=encoding, dtype=str)
        except UnicodeDecodeError:
            logger.warning(_("%s: not UTF-8; reading it as GBK"), path)
            continue
        except pd.errors.EmptyDataError as exc:
            raise InputError(
                _("{path}: the table is empty; expected a header row and data").format(path=path)
            ) from exc
        except (pd.errors.ParserError, ValueError) as exc:
            raise InputError(
                _("{path}: cannot be read as CSV ({exc})").format(path=path, exc=exc)
            ) from exc
        if not isinstance(table.index, pd.RangeIndex):
            raise InputError(
                _(
                    "{path}: the data rows have more fields than the header row; a value "
                    "with a comma must be quoted"
                ).format(path=path)
            )
        return table
    raise InputError(
        _("{path}: is neither UTF-8 nor GBK text; re-save it as UTF-8 CSV").format(path=path)
    )


def outline_of(streets: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Return the outline of a street layer: its union, as a one-row frame.

    With the user's own streets, this is the district the maps and exports draw,
    not the packaged outline.
    """
    return gpd.GeoDataFrame({"name": ["outline"]}, geometry=[streets.union_all()], crs=streets.crs)


#: How complete a facility layer's existing facilities are in a dataset.
BASELINE_COMPLETENESS = ("complete", "partial", "unknown")


def read_baseline(path: str | os.PathLike | None = None) -> pd.DataFrame:
    """Read how complete each facility layer's existing facilities are.

    Coverage of the existing situation means something only where the existing
    facilities are all there. The packaged ``data/baseline.csv`` says, per layer,
    whether they are ``complete`` or ``partial`` and on what basis.

    Parameters
    ----------
    path : str or Path, optional
        CSV with ``layer``, ``completeness`` and ``basis``; the packaged table by default.

    Returns
    -------
    pandas.DataFrame
        One row per layer, indexed by ``layer``.
    """
    path = Path(path) if path is not None else data_path("baseline.csv")
    table = read_table(path)
    missing = [c for c in ("layer", "completeness", "basis") if c not in table.columns]
    if missing:
        raise InputError(
            _("{path}: column(s) {missing} missing; it has {table}").format(
                path=path, missing=", ".join(missing), table=list(table)
            )
        )
    bad = table[~table["completeness"].isin(BASELINE_COMPLETENESS)]
    if len(bad):
        row = bad.index[0]
        raise InputError(
            _(
                '{path}: row {row}: "completeness" must be one of '
                "{baseline_completeness}; found {found!r}"
            ).format(
                path=path,
                row=row + 2,
                baseline_completeness=", ".join(BASELINE_COMPLETENESS),
                found=bad["completeness"].iloc[0],
            )
        )
    if table["layer"].duplicated().any():
        dup = table.loc[table["layer"].duplicated(), "layer"].iloc[0]
        raise InputError(_("{path}: layer {dup!r} is listed twice").format(path=path, dup=dup))
    return table.set_index("layer")


def read_points_csv(
    path: str | os.PathLike,
    *,
    lon_field: str = "lon",
    lat_field: str = "lat",
    crs: str | None = None,
    check_coordinates: bool = True,
) -> gpd.GeoDataFrame:
    """Read a CSV of points with longitude/latitude columns.

    Parameters
    ----------
    path : str or Path
    lon_field, lat_field : str
        Column names of the coordinates.
    crs : str, optional
        CRS of the coordinates (default WGS 84; ``"GCJ-02"`` accepted).
    check_coordinates : bool
        Refuse impossible coordinates (beyond ±180°/±90°), as :func:`read_layer` does.

    Returns
    -------
    geopandas.GeoDataFrame
        In EPSG:4326; rows with missing or non-numeric coordinates are an error
        naming the row (1-based, as a spreadsheet shows it).
    """
    table = read_table(path)
    source = _label(path)
    for field in (lon_field, lat_field):
        if field not in table.columns:
            raise InputError(
                _(
                    '{source}: column "{field}" not found; it has {columns}. Name the '
                    "coordinate columns with --lon-field/--lat-field"
                ).format(source=source, field=field, columns=", ".join(map(str, table.columns)))
            )
    problems = []
    lon = pd.to_numeric(table[lon_field], errors="coerce")
    lat = pd.to_numeric(table[lat_field], errors="coerce")
    for i in table.index[lon.isna() | lat.isna()]:
        problems.append(
            _("row {i}: {lon_field}/{lat_field} must be numbers; found {lon!r}/{lat!r}").format(
                i=i + 2,
                lon_field=lon_field,
                lat_field=lat_field,
                lon=table.at[i, lon_field],
                lat=table.at[i, lat_field],
            )
        )
    if problems:
        raise InputError(problems, source=source)
    if table.empty:
        raise InputError(_("{source}: the table has no rows").format(source=source))
    gdf = gpd.GeoDataFrame(
        table.drop(columns=[lon_field, lat_field]),
        geometry=gpd.points_from_xy(lon, lat),
        crs=_crs.WGS84,
    )
    if check_coordinates:
        check_coordinate_range(gdf, source=source, what=N_("table of points"))
    if crs is not None:
        gdf = _assign_crs(gdf.set_crs(None, allow_override=True), crs, source)
    return gdf
