"""The other commands, one function each: validate, map, export, site, diff, points, network."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import pandas as pd

from gongshu_geo.core.atomic import staged_outputs
from gongshu_geo.core.errors import InputError
from gongshu_geo.core.i18n import gettext as _
from gongshu_geo.data.io import (
    read_district,
    read_streets,
)
from gongshu_geo.pipeline.building import collect_export_layers
from gongshu_geo.pipeline.inputs import (
    CommandResult,
    Inputs,
    read_inputs,
    read_streets_and_outline,
    result_of,
)

if TYPE_CHECKING:
    from gongshu_geo.analysis.siting import SiteChoice

logger = logging.getLogger(__name__)


def validate_inputs(**input_options) -> tuple[Inputs, CommandResult]:
    """Read and check the inputs, as every command does first, and write nothing.

    Parameters
    ----------
    **input_options
        Passed to :func:`read_inputs`.

    Returns
    -------
    inputs : Inputs
    result : CommandResult
        What was skipped, fixed or warned about.
    """
    inputs = read_inputs(**input_options)
    logger.info("%d projects, %d streets", len(inputs.projects), len(inputs.streets))
    return inputs, result_of(inputs)


def make_maps(
    *,
    out="maps",
    basemap: str = "osm",
    tianditu_key: str | None = None,
    inline_assets: bool = True,
    **input_options,
) -> CommandResult:
    """Draw the overview map, ``index.html`` in ``out``, over the inputs' own outline.

    Parameters
    ----------
    out : str or Path
        Output folder, created if needed.
    basemap, tianditu_key, inline_assets
        Map options (see :mod:`gongshu_geo.maps.web`).
    **input_options
        Passed to :func:`read_inputs`.

    Returns
    -------
    CommandResult
    """
    from gongshu_geo.maps import web as maps

    inputs = read_inputs(**input_options)
    result = result_of(inputs, Path(out))
    overview = maps.make_overview_map(
        inputs.streets, inputs.projects, inputs.district, basemap=basemap, tianditu_key=tianditu_key
    )
    with staged_outputs(out) as stage:
        maps.write_map(overview, stage.path("index.html"), inline_assets=inline_assets)
    result.written = stage.written
    return result


def export_data(
    *,
    out,
    fmt: str = "gpkg",
    crs: str = "EPSG:4326",
    encoding: str = "UTF-8",
    schema: str = "gongshu",
    layers=None,
    **input_options,
) -> CommandResult:
    """Export the inputs' layers (district outline, streets, projects by category) for GIS.

    A ``qgz`` export also has the straight-line service areas and gaps. The
    files appear together when all are written, or not at all.

    Parameters
    ----------
    out : str or Path
        As :func:`gongshu_geo.export_layers` takes it: a folder, a ``.gpkg``,
        ``.gdb`` or ``.qgz`` file, or the database URL for ``postgis``.
    fmt, crs, encoding, schema
        See :func:`gongshu_geo.export_layers`.
    layers : sequence of str, optional
        Only these layers (default: all).
    **input_options
        Passed to :func:`read_inputs`.

    Returns
    -------
    CommandResult
        ``written``: the files (or, for ``postgis``, the tables) written.

    Raises
    ------
    InputError
        For a layer name that is not one of the export's layers.
    """
    from gongshu_geo.exchange import export

    inputs = read_inputs(**input_options)
    result = result_of(inputs)
    fmt_name = str(fmt).lower()
    found, baselines = collect_export_layers(
        inputs, coverage=fmt_name == "qgz", packaged=input_options.get("projects") is None
    )
    if layers:
        unknown = [name for name in layers if name not in found]
        if unknown:
            raise InputError(
                "--layers: "
                + _("unknown layer {layer!r}; available: {layers}").format(
                    layer=unknown[0], layers=", ".join(found)
                )
            )
        found = {k: v for k, v in found.items() if k in layers}
    options = {"fmt": fmt, "crs": crs, "encoding": encoding, "schema": schema}
    if fmt_name == "postgis":
        result.written = export.export_layers(found, out, baselines=baselines, **options)
        return result
    out = Path(out)
    is_file = out.suffix.lower() in (".gpkg", ".gdb", ".qgz") and fmt_name in ("gpkg", "gdb", "qgz")
    folder = out.parent if is_file else out
    with staged_outputs(folder) as stage:
        target = stage.path(out.name) if is_file else stage.root
        paths = export.export_layers(found, target, baselines=baselines, **options)
        paths = [stage.final(p) for p in paths]
    result.out_dir, result.written = folder, paths
    return result


def select_sites(
    *,
    out,
    layer: str = "park",
    candidates=None,
    id_field: str = "id",
    candidate_name_field: str = "name",
    categories=(),
    minutes: float = 10.0,
    speed_m_per_min: float | None = None,
    n: int = 3,
    mode: str = "distance",
    given: str = "existing",
    method: str = "auto",
    cell_m: float = 25.0,
    population_layer_field: str = "population",
    basemap: str = "osm",
    inline_assets: bool = True,
    **input_options,
) -> CommandResult:
    """Choose where to build next (:func:`gongshu_geo.choose_sites`) and write the choice.

    Parameters
    ----------
    out : str or Path
        Output folder (see :func:`write_sites`).
    layer, categories, minutes, speed_m_per_min, n, mode, given, method, cell_m
        See :func:`gongshu_geo.choose_sites`.
    candidates : str or Path, optional
        Candidate sites (see :func:`gongshu_geo.read_candidates`); the plan's
        development blocks by default.
    id_field, candidate_name_field : str
        Id and name columns of ``candidates``.
    population_layer_field : str
        Count column of the ``population_layer`` input.
    basemap, inline_assets
        Map options.
    **input_options
        Passed to :func:`read_inputs` (``graph`` for ``mode="network"``).

    Returns
    -------
    CommandResult
        ``details``: the :class:`~gongshu_geo.analysis.siting.SiteChoice`.
    """
    from gongshu_geo.analysis.siting import choose_sites
    from gongshu_geo.data.candidates import read_candidates

    if mode == "network" and input_options.get("graph") is None:
        raise InputError(_("--mode network needs --graph walk.graphml (or a line layer)"))
    inputs = read_inputs(**input_options)
    found = None
    if candidates is not None:
        found = read_candidates(candidates, id_field=id_field, name_field=candidate_name_field)
    choice = choose_sites(
        inputs.streets,
        found,
        layer=layer,
        projects=inputs.projects,
        categories=list(categories),
        minutes=minutes,
        speed_m_per_min=speed_m_per_min,
        n=n,
        mode=mode,
        graph=inputs.graph,
        population=inputs.population_layer,
        population_field=population_layer_field,
        given=given,
        method=method,
        cell_m=cell_m,
    )
    result = result_of(inputs, Path(out))
    result.details = choice
    result.written = write_sites(
        inputs.streets, choice, out, basemap=basemap, inline_assets=inline_assets
    )
    return result


def write_sites(
    streets: gpd.GeoDataFrame,
    choice: SiteChoice,
    out: str | os.PathLike,
    *,
    basemap: str = "osm",
    inline_assets: bool = True,
) -> list[Path]:
    """Write ``sites.csv``, ``candidates.csv``, ``sites.gpkg`` and ``sites.html`` into ``out``.

    Parameters
    ----------
    streets : geopandas.GeoDataFrame
        To frame the map; their union is the outline drawn.
    choice : SiteChoice
        From :func:`gongshu_geo.choose_sites`.
    out : str or Path
        Folder, created if needed. The four files appear together or not at
        all, so a failed run leaves earlier outputs intact.
    basemap : str
        See :mod:`gongshu_geo.maps.basemaps`.
    inline_assets : bool
        Embed Leaflet in the HTML (works offline); ``False`` links a CDN.

    Returns
    -------
    list of Path
        The files written.
    """
    import pyogrio

    from gongshu_geo.core import crs as _crs
    from gongshu_geo.data.roles import check_streets_frame
    from gongshu_geo.exchange.export import GPKG_VERSION
    from gongshu_geo.maps.web import make_sites_map, render_map

    check_streets_frame("write_sites", streets, "streets, choice, out")
    about = {"layer": choice.layer, "minutes": choice.minutes, "distance_m": choice.distance_m,
             "mode": choice.mode, "given": choice.given, "method": choice.method}  # fmt: skip
    layers = {
        "sites": choice.chosen,
        "candidates": choice.candidates.assign(chosen_rank=choice.candidates["chosen_rank"]
                                               .astype("float64")),
        "service_areas": choice.service_areas,
        "new_coverage": choice.new_cells,
        "existing": choice.existing[["geometry"]].assign(layer=choice.layer),
    }  # fmt: skip
    html = render_map(make_sites_map(streets, choice, basemap=basemap), inline_assets=inline_assets)
    with staged_outputs(out) as stage:
        for name, frame in (("sites.csv", choice.chosen), ("candidates.csv", choice.candidates)):
            table = _with_lon_lat(frame).assign(**about).round(_SITES_CSV_DECIMALS)
            table.to_csv(stage.path(name), index=False, encoding="utf-8-sig")  # Excel on Windows
        options = {"dataset_options": {"VERSION": GPKG_VERSION}}  # QGIS 3.22 / GDAL 3.6 read it
        for name, frame in layers.items():
            if len(frame):
                pyogrio.write_dataframe(
                    frame.to_crs(_crs.WGS84),
                    stage.path("sites.gpkg"),
                    layer=name,
                    driver="GPKG",
                    **options,
                )
                options = {}
        stage.path("sites.html").write_bytes(html.encode("utf-8"))
    written = [Path(out) / name for name in ("sites.csv", "candidates.csv", "sites.gpkg")]
    written.append(Path(out) / "sites.html")
    logger.info(_("wrote %s"), ", ".join(p.name for p in written))
    return written


#: Decimals in the sites' CSV files: people to a tenth, shares to a millionth, degrees to ~0.1 m.
_SITES_CSV_DECIMALS = {
    "new_covered_pop": 1, "cum_new_covered_pop": 1, "alone_new_covered_pop": 1,
    "share": 6, "cum_share": 6, "covered_share": 6, "lon": 6, "lat": 6,
}  # fmt: skip


def _with_lon_lat(frame) -> pd.DataFrame:
    """Drop the geometry for lon/lat of a point inside each feature, and its type."""
    points = frame.geometry.representative_point()
    table = pd.DataFrame(frame.drop(columns="geometry"))
    table["lon"], table["lat"] = points.x.to_numpy(), points.y.to_numpy()
    table["geometry_type"] = frame.geom_type.to_numpy()
    return table


def compare_versions(
    old, new, *, out, streets=None, streets_options: dict | None = None
) -> CommandResult:
    """Compare two project files; write ``diff.csv``, ``diff.md`` and ``diff.html`` into ``out``.

    Parameters
    ----------
    old, new : str or Path
        The two versions (GeoJSON, GeoPackage or Shapefile).
    out : str or Path
        Output folder, created if needed; the three files appear together.
    streets : str or Path, optional
        Streets for the counts by street, whose union is the outline drawn;
        the packaged streets and district by default.
    streets_options : dict, optional
        Passed to :func:`gongshu_geo.read_streets`.

    Returns
    -------
    CommandResult
        ``details``: the number of projects by kind of change.
    """
    from gongshu_geo.analysis.diff import (
        diff_projects,
        read_version,
        street_of_projects,
        summarize_diff,
    )
    from gongshu_geo.maps.web import make_diff_map, render_map

    before, after = read_version(old), read_version(new)
    diff = diff_projects(before, after)
    strt, outline = read_streets_and_outline(streets, streets_options)
    gone = before[~before["id"].isin(after["id"])]
    street_of = street_of_projects(pd.concat([after, gone]), strt)
    html = render_map(make_diff_map(before, after, diff, district=outline))
    with staged_outputs(out) as stage:
        diff.to_csv(stage.path("diff.csv"), index=False, encoding="utf-8-sig")
        summary = summarize_diff(diff, street_of=street_of)
        stage.path("diff.md").write_text(summary, encoding="utf-8")
        stage.path("diff.html").write_text(html, encoding="utf-8")
    counts = diff.groupby("change")["id"].nunique().to_dict()
    return CommandResult(out_dir=Path(out), written=stage.written, details=counts)


def measure_point_coverage(
    population_parquet,
    facilities,
    *,
    out,
    streets=None,
    name_field: str | None = None,
    code_field: str | None = None,
    facility: str | None = None,
    minutes=None,
    distances_m=None,
    population_field: str | None = "population",
    graph=None,
    **engine_options,
) -> CommandResult:
    """Point-based coverage (:func:`gongshu_geo.compute_point_coverage`) written as one CSV.

    Parameters
    ----------
    population_parquet : str or Path
        Population points, a GeoParquet file or folder.
    facilities : str or Path
        The facility layer; it must lie mostly inside the streets.
    out : str or Path
        The CSV file, written atomically.
    streets, name_field, code_field
        The streets (the packaged ones by default) and their fields.
    facility : str, optional
        Label of the facility column (default: the file name).
    minutes, distances_m : sequence of float, optional
        Tiers (default GB 50180-2018's 5/10/15 minutes).
    population_field : str or None
        Column of people per point; None counts points.
    graph : str or Path, optional
        A GraphML walking network for network distance.
    **engine_options
        ``engine``, ``scheduler``, ``n_workers``, ``npartitions``, ``chunk_size``
        (see :func:`gongshu_geo.compute_point_coverage`).

    Returns
    -------
    CommandResult
        ``details``: the coverage table.
    """
    from gongshu_geo.analysis.coverage import service_tiers
    from gongshu_geo.analysis.points import compute_point_coverage
    from gongshu_geo.data.extent import check_layer_extent
    from gongshu_geo.data.io import read_layer

    layer = read_layer(facilities, what="facility layer")
    strt = read_streets(streets, name_field=name_field, code_field=code_field, check_tiling=False)
    check_layer_extent(layer, strt, source=facilities, skip_option=None)
    tiers = None
    if minutes or distances_m:
        tiers = service_tiers(minutes=minutes, distances_m=distances_m)
    net = None
    if graph is not None:
        from gongshu_geo.data.graphs import read_graph

        net = read_graph(graph)
    table = compute_point_coverage(
        strt,
        population_parquet,
        layer,
        facility=facility or Path(facilities).stem,
        tiers=tiers,
        population_field=population_field,
        graph=net,
        **engine_options,
    )
    out = Path(out)
    with staged_outputs(out.parent) as stage:
        table.to_csv(stage.path(out.name), index=False, encoding="utf-8-sig")
    return CommandResult(out_dir=out.parent, written=[out], details=table)


def download_network(*, out, margin_m: float = 500.0) -> Path:
    """Download the walking network around the packaged district (needs the internet).

    See :func:`gongshu_geo.download_walking_graph`.
    """
    from gongshu_geo.data.graphs import download_walking_graph

    return download_walking_graph(read_district(), out, margin_m=margin_m)


def write_problem_report(path, groups) -> int:
    """Write a problem report CSV: one row per problem of each (severity, file, problems) group.

    Returns
    -------
    int
        The number of rows.
    """
    import csv

    from gongshu_geo.core.atomic import atomic_path
    from gongshu_geo.core.problems import REPORT_COLUMNS, problem_rows

    rows = []
    for severity, source, problems in groups:
        for row in problem_rows(problems, source=source):
            rows.append({"severity": severity, **row})
    with atomic_path(path) as tmp:
        with open(tmp, "w", newline="", encoding="utf-8-sig") as fh:
            writer = csv.DictWriter(fh, fieldnames=["severity", *REPORT_COLUMNS])
            writer.writeheader()
            writer.writerows(rows)
    return len(rows)


def attach_sql(sources: dict, sql: str) -> dict:
    """Give ``sql`` to the one postgresql:// input among ``sources`` that names no table.

    Parameters
    ----------
    sources : dict
        Input name -> a source, a list of sources, or None.
    sql : str
        The query.

    Returns
    -------
    dict
        The sources, the open one with the query attached.

    Raises
    ------
    InputError
        Unless exactly one source is a postgresql:// URL without ``?table=``.
    """
    from gongshu_geo.data.postgis import is_dsn, with_sql

    slots = []
    for name, value in sources.items():
        values = value if isinstance(value, list) else [value]
        slots += [(name, i) for i, v in enumerate(values) if is_dsn(v) and with_sql(v, sql) != v]
    if len(slots) != 1:
        raise InputError(
            _(
                "--sql needs exactly one postgresql:// input without ?table=; found "
                "{n}. Give the others ?table=schema.name"
            ).format(n=len(slots))
        )
    (name, index), out = slots[0], dict(sources)
    if isinstance(out[name], list):
        out[name] = [with_sql(v, sql) if i == index else v for i, v in enumerate(out[name])]
    else:
        out[name] = with_sql(out[name], sql)
    return out
