"""Every command, step by step: the one place that knows the order of the steps.

Each command of ``gongshu-geo`` is one function here (:func:`build`,
:func:`validate_inputs`, :func:`make_maps`, :func:`export_data`,
:func:`select_sites`, :func:`compare_versions`, :func:`measure_point_coverage`,
:func:`download_network`); :mod:`gongshu_geo.cli` only parses, calls one and
prints its summary. They read their inputs through one :func:`read_inputs`, so
the outline drawn is the user's streets' whenever streets are given.

Everything a command writes goes first into a private folder inside the output
folder and is moved into place once all is written
(:func:`gongshu_geo.core.atomic.staged_outputs`): the outputs appear together or
not at all. A lock file serialises concurrent commands writing into the same
folder; it exists only while one runs. A command replaces only the files it
writes and removes nothing else.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import pandas as pd

from gongshu_geo.analysis.access import compute_distance_surface
from gongshu_geo.analysis.coverage import COVERAGE_COLUMNS
from gongshu_geo.analysis.grid import DEFAULT_CELL_M, make_study_area
from gongshu_geo.analysis.tiers import DEFAULT_SPEED_M_PER_MIN, resolve_tiers
from gongshu_geo.core.atomic import LOCK_NAME, ensure_dir, staged_outputs  # noqa: F401 (LOCK_NAME: the API)
from gongshu_geo.core.errors import InputError
from gongshu_geo.core.i18n import N_
from gongshu_geo.core.i18n import gettext as _
from gongshu_geo.core.progress import track
from gongshu_geo.data.io import (
    outline_of,
    read_baseline,
    read_district,
    read_projects,
    read_streets,
)

if TYPE_CHECKING:
    from gongshu_geo.analysis.siting import SiteChoice

logger = logging.getLogger(__name__)

#: Facility layers measured by default (name -> project category).
DEFAULT_FACILITY_LAYERS = (
    "metro_station",
    "park",
    "cultural_venue",
    "sports_venue",
    "future_community",
    "public_service",
)


#: Per-street statistics drawn as choropleth maps ``streets_<column>.html``.
STREET_STAT_MAPS = ("n_projects", "road_km", "park_m2_per_person")


@dataclass
class CommandResult:
    """What a command wrote and what it noticed.

    ``details`` is what the command found, for its summary: the
    :class:`~gongshu_geo.analysis.siting.SiteChoice` of :func:`select_sites`, the counts
    by kind of change of :func:`compare_versions`, the table of
    :func:`measure_point_coverage`.
    """

    out_dir: Path | None = None
    source: str | None = None
    written: list = field(default_factory=list)
    skipped: list = field(default_factory=list)
    fixed: list = field(default_factory=list)
    warnings: list = field(default_factory=list)
    details: object = None


#: The result of :func:`build` (the same as every command's).
BuildResult = CommandResult


def write_stats_tables(tables: dict, stage_path) -> None:
    """Write each table as UTF-8 CSV (with BOM, for Excel) and all as one XLSX."""
    for name, table in tables.items():
        table = pd.DataFrame(table.drop(columns="geometry", errors="ignore"))
        table.to_csv(stage_path(f"stats/{name}.csv"), index=False, encoding="utf-8-sig")
    with pd.ExcelWriter(stage_path("stats/gongshu_stats.xlsx"), engine="openpyxl") as xl:
        for name, table in tables.items():
            pd.DataFrame(table.drop(columns="geometry", errors="ignore")).to_excel(
                xl, sheet_name=name[:31], index=False
            )


@dataclass
class Inputs:
    """What the commands start from: validated inputs, and what reading them noticed.

    ``district`` is the outline the maps and exports draw: the union of the
    user's streets when streets are given, the packaged outline otherwise.
    """

    projects: object
    streets: object
    district: object
    baseline: dict = field(default_factory=dict)
    facilities: dict = field(default_factory=dict)
    population_layer: object = None
    graph: object = None
    layer_warnings: dict = field(default_factory=dict)


def read_inputs(
    *,
    projects=None,
    streets=None,
    streets_options: dict | None = None,
    population=None,
    skip_invalid: bool = False,
    fix_geometry: bool = False,
    strict: bool = False,
    district=None,
    baseline=None,
    facilities=None,
    population_layer=None,
    graph=None,
) -> Inputs:
    """Read and validate the inputs of any command; the packaged data by default.

    Parameters
    ----------
    projects, streets : str or Path, optional
        Input files or PostGIS URLs.
    streets_options : dict, optional
        Passed to :func:`gongshu_geo.read_streets`.
    population : str or Path, optional
        A population table by street code.
    skip_invalid, fix_geometry, strict : bool
        See :func:`gongshu_geo.read_projects`. With ``skip_invalid``, a facility
        or population layer mostly outside the streets is a warning (in
        ``layer_warnings``) instead of an error.
    district : str, Path or GeoDataFrame, optional
        The outline to draw; by default the union of ``streets`` when given,
        the packaged district otherwise.
    baseline : str or Path, optional
        How complete each layer's existing facilities are (see
        :func:`gongshu_geo.read_baseline`); the packaged table for the packaged
        projects, nothing (every layer ``unknown``) for the user's own.
    facilities : dict or sequence, optional
        The user's facility layers: name -> path, URL or GeoDataFrame, or a
        sequence of paths and URLs named after the file or table.
    population_layer : str, Path or GeoDataFrame, optional
        Population points or polygons with counts.
    graph : str or Path, optional
        A walking network (GraphML or a layer of walkable lines).

    Returns
    -------
    Inputs
    """
    proj = read_projects(
        projects, skip_invalid=skip_invalid, fix_geometry=fix_geometry, strict=strict
    )
    strt, outline = read_streets_and_outline(streets, streets_options, population=population)
    if district is not None:
        outline = district if isinstance(district, gpd.GeoDataFrame) else read_district(district)
    inputs = Inputs(
        projects=proj,
        streets=strt,
        district=outline,
        baseline=_baseline_of(baseline, packaged=projects is None),
    )
    extent = {"streets": strt, "skip_invalid": skip_invalid, "warnings": inputs.layer_warnings}
    if population_layer is not None:
        inputs.population_layer = read_population_layer(population_layer, **extent)
    inputs.facilities = _read_user_facilities(_named_sources(facilities), **extent)
    if graph is not None:
        inputs.graph = read_walk_graph(graph)
    return inputs


def read_streets_and_outline(streets=None, options: dict | None = None, *, population=None):
    """Read the streets and the outline drawn with them: their union, or the packaged one.

    Returns
    -------
    streets, outline : geopandas.GeoDataFrame
    """
    strt = read_streets(streets, population_table=population, **(options or {}))
    return strt, (read_district() if streets is None else outline_of(strt))


def _named_sources(facilities) -> dict:
    """Name -> source; a sequence's paths and URLs are named after the file or table."""
    if facilities is None or isinstance(facilities, dict):
        return facilities or {}
    from gongshu_geo.data.postgis import is_dsn, source_name

    return {source_name(f) if is_dsn(f) else Path(f).stem: f for f in facilities}


def build(
    *,
    projects=None,
    streets=None,
    out="maps",
    streets_options: dict | None = None,
    population=None,
    skip_invalid: bool = False,
    fix_geometry: bool = False,
    strict: bool = False,
    basemap: str = "osm",
    tianditu_key: str | None = None,
    inline_assets: bool = True,
    graph=None,
    facility_layers=DEFAULT_FACILITY_LAYERS,
    facilities: dict | None = None,
    population_layer=None,
    population_layer_field: str = "population",
    png: bool = True,
    gpkg: bool = True,
    baseline=None,
    as_of: int | None = None,
    tiers=None,
    minutes=None,
    distances_m=None,
    speed_m_per_min=None,
    cell_m: float = DEFAULT_CELL_M,
    surfaces: bool = True,
) -> BuildResult:
    """Read, join, measure, map and write everything into ``out``.

    Parameters
    ----------
    projects, streets : str or Path, optional
        Input files or PostGIS URLs (``postgresql://...?table=schema.name``);
        the packaged data by default.
    out : str or Path
        Output folder (created if needed).
    streets_options : dict, optional
        Passed to :func:`gongshu_geo.read_streets` (``name_field``,
        ``code_field``, ``crs``, ``encoding``).
    population : str or Path, optional
        A population table by street code.
    skip_invalid, fix_geometry, strict : bool
        See :func:`gongshu_geo.read_projects`. With ``skip_invalid``, a user's
        layer that lies mostly outside the streets is a warning (in
        ``stats/warnings.csv`` and the ``warning`` column of the coverage
        table) instead of an error.
    basemap, tianditu_key, inline_assets
        Map options (see :mod:`gongshu_geo.maps.web`).
    graph : str or Path, optional
        A walking network (GraphML or line layer) for network-distance coverage.
    facility_layers : sequence of str
        Facility layers for coverage; empty layers are skipped with a warning.
    facilities : dict or sequence, optional
        The user's own facility layers, name -> path (GeoPackage, GeoJSON,
        Shapefile, CSV with ``lon``/``lat``, or a PostGIS URL) or GeoDataFrame,
        or a sequence of paths named after the file or table; measured as
        scenario ``"user"``.
    population_layer : str, Path or GeoDataFrame, optional
        Population points or polygons with counts, used instead of spreading each
        street's population evenly.
    population_layer_field : str
        The count column of ``population_layer``.
    png, gpkg : bool
        Also write static PNG maps and a GeoPackage of all layers.
    baseline : str or Path, optional
        How complete each layer's existing facilities are (see
        :func:`gongshu_geo.read_baseline`). With the packaged projects, the packaged
        table; with the user's own projects and no table, every layer is ``unknown``.
    as_of : int, optional
        A year: ``stats/schedule_state.csv`` gives each project's scheduled state
        then, and the overview's year slider starts there.
    tiers, minutes, distances_m, speed_m_per_min : optional
        The walking tiers, in any form :func:`gongshu_geo.analysis.tiers.resolve_tiers`
        takes; GB 50180-2018's 5/10/15 minutes by default. The speed also turns
        the accessibility surfaces' metres into minutes (60 m/min by default).
    cell_m : float
        Cell size of the coverage grid, metres.
    surfaces : bool
        Write the accessibility surfaces: a GeoTIFF per layer and mode in
        ``surfaces/``, H3 hexagons (``surfaces/access_h3.geojson`` and
        ``stats/access_h3.csv``), and an image layer in the coverage maps.

    Returns
    -------
    CommandResult
    """
    from gongshu_geo.analysis import join

    out_dir = ensure_dir(out)
    steps = 6
    step = iter(range(1, steps + 1))

    def progress(msg):
        logger.info("[%d/%d] %s", next(step), steps, msg)

    progress("reading and validating the inputs")
    inputs = read_inputs(
        projects=projects,
        streets=streets,
        streets_options=streets_options,
        population=population,
        skip_invalid=skip_invalid,
        fix_geometry=fix_geometry,
        strict=strict,
        baseline=baseline,
        facilities=facilities,
        population_layer=population_layer,
        graph=graph,
    )
    proj, strt, district = inputs.projects, inputs.streets, inputs.district
    result = CommandResult(
        out_dir=out_dir,
        source=proj.attrs.get("source"),
        skipped=proj.attrs.get("skipped", []),
        fixed=proj.attrs.get("fixed", []),
        warnings=list(proj.attrs.get("warnings", [])),
    )

    progress("joining projects to streets")
    joined = join.join_projects_to_streets(strt, proj).drop(columns="geometry")
    outside = join.summarize_outside(joined)
    street_stats = join.summarize_streets(strt, proj, joined)

    if tiers is not None:  # the speed then only turns the surfaces' metres into minutes
        tier_table = resolve_tiers(tiers)
    else:
        tier_table = resolve_tiers(
            minutes=minutes, distances_m=distances_m, speed_m_per_min=speed_m_per_min
        )
    speed = DEFAULT_SPEED_M_PER_MIN if speed_m_per_min is None else float(speed_m_per_min)
    progress(f"measuring {_tier_words(tier_table)} coverage")
    layer_warnings = inputs.layer_warnings
    area = make_study_area(
        strt,
        cell_m=cell_m,
        population=inputs.population_layer,
        population_field=population_layer_field,
    )
    measured = _measure_coverage(
        area,
        proj,
        facility_layers,
        user_facilities=inputs.facilities,
        graph=inputs.graph,
        tiers=tier_table,
        warnings=result.warnings,
    )
    cov_all, gains, penalties, layer_maps, layer_surfaces = measured
    completeness = inputs.baseline
    if len(cov_all):
        cov_all["baseline"] = [completeness.get(f, "unknown") for f in cov_all["facility"]]
        people_warning = layer_warnings.get(("population layer", None))
        cov_all["warning"] = [
            "; ".join(w for w in (layer_warnings.get(("facility layer", f)), people_warning) if w)
            for f in cov_all["facility"]
        ]
    result.warnings += list(layer_warnings.values())
    input_warnings = pd.DataFrame(
        [{"input": k, "layer": name, "warning": w} for (k, name), w in layer_warnings.items()],
        columns=["input", "layer", "warning"],
    )

    progress("measuring the plan's targets and schedule")
    from gongshu_geo.analysis.indicators import measure_targets
    from gongshu_geo.analysis.schedule import compute_schedule_state, summarize_schedule

    indicators = measure_targets(strt, proj, district)
    schedule = summarize_schedule(joined, proj)
    states = {}
    if as_of is not None:
        state = compute_schedule_state(proj, as_of=as_of)
        keep = ["id", "name", "category", "status", "start_year", "end_year", "as_of"]
        keep += ["scheduled_state", "recorded_status"]
        states["schedule_state"] = pd.DataFrame(state[[c for c in keep if c in state]])

    with staged_outputs(out_dir) as stage:
        progress("writing statistics")
        write_stats_tables(
            {
                "project_streets": joined,
                "streets": street_stats,
                "coverage": cov_all,
                "plan_gain": gains,
                **({"network_penalty": penalties} if penalties is not None else {}),
                "indicators": indicators,
                "outside": outside,
                "schedule": schedule,
                **states,
                "warnings": input_warnings,
            },
            stage.path,
        )
        progress("drawing maps")
        _write_maps(
            stage,
            proj,
            strt,
            district,
            street_stats,
            layer_maps,
            basemap=basemap,
            tianditu_key=tianditu_key,
            inline_assets=inline_assets,
            png=png,
            completeness=completeness,
            as_of=as_of,
            surfaces=layer_surfaces if surfaces else {},
            speed=speed,
        )
        if surfaces and layer_surfaces:
            _write_surfaces(stage, layer_surfaces, tier_table, speed)
        from gongshu_geo.maps.street_pages import write_street_pages

        write_street_pages(
            stage.path,
            streets=strt,
            projects=proj,
            joined=joined,
            schedule=schedule,
            coverage=cov_all,
            gains=gains,
        )
        if gpkg:
            _write_gpkg(stage, proj, strt, district, layer_maps, joined, completeness)
    result.written = stage.written
    logger.info(_("wrote %d files into %s"), len(result.written), out_dir)
    return result


def _tier_words(tiers) -> str:
    minutes = tiers["minutes"].dropna()
    if len(minutes) == len(tiers):
        return "/".join(f"{m:g}" for m in minutes) + "-minute"
    return "/".join(f"{d:g}" for d in tiers["distance_m"]) + " m"


def _measure_coverage(area, proj, facility_layers, *, user_facilities, graph, tiers, warnings):
    """Coverage of the plan's layers and the user's, all counted on one grid.

    Returns the coverage table, plan gain, network penalty, what the maps need
    of each layer, and the whole layer's distance surface per layer and mode.
    """
    from gongshu_geo.analysis import coverage, scenarios

    modes = ["distance"] + (["network"] if graph is not None else [])
    exact = tiers["distance_m"].tolist()
    cap = {"distance": None, "network": max(float(tiers["distance_m"].max()), 2000.0)}

    def surface(facilities, mode):
        return compute_distance_surface(
            area, facilities, mode=mode, graph=graph, exact_at=exact, max_distance_m=cap[mode]
        )

    tables, layer_maps, layer_surfaces = [], [], {}
    for layer in track(facility_layers, desc="coverage of the plan's layers", unit="layers"):
        try:
            facilities = coverage.select_facilities(proj, layer)
        except InputError as exc:
            logger.warning("skipping facility layer %s: %s", layer, exc)
            warnings.append(str(exc))
            continue
        existing = facilities[facilities["status"] == "existing"]
        for mode in modes:
            whole = surface(facilities, mode)
            layer_surfaces[(layer, mode)] = whole
            # a layer that is all built already has the same surface today
            today = whole if len(existing) == len(facilities) else surface(existing, mode)
            for scenario, surf in (("existing", today), ("plan", whole)):
                table = coverage.compute_surface_coverage(surf, tiers, facility=layer)
                tables.append(table.assign(scenario=scenario)[["scenario", *COVERAGE_COLUMNS]])
            if mode == "distance":  # the map shows the whole layer, straight-line
                layer_maps.append(_layer_map(area, layer, facilities, table, whole, tiers))
    yours = track(user_facilities.items(), desc="coverage of your layers", unit="layers")
    for layer, facilities in yours:
        for mode in modes:
            surf = surface(facilities, mode)
            layer_surfaces[(layer, mode)] = surf
            table = coverage.compute_surface_coverage(surf, tiers, facility=layer).assign(
                scenario="user"
            )
            tables.append(table[["scenario", *COVERAGE_COLUMNS]])
            if mode == "distance":
                cov = table.drop(columns="scenario").reset_index(drop=True)
                layer_maps.append(_layer_map(area, layer, facilities, cov, surf, tiers))
    cov_all = pd.concat(tables, ignore_index=True) if tables else pd.DataFrame()
    planned = cov_all[cov_all["scenario"] != "user"] if tables else cov_all
    gains = scenarios.compute_plan_gain(planned) if len(planned) else pd.DataFrame()
    penalties = None
    if graph is not None and len(cov_all):
        penalties = scenarios.compute_network_penalty(
            cov_all[cov_all["mode"] == "distance"], cov_all[cov_all["mode"] == "network"]
        )
    return cov_all, gains, penalties, layer_maps, layer_surfaces


def _baseline_of(baseline, *, packaged: bool) -> dict:
    """Layer -> completeness of its existing facilities, from a table or the packaged one."""
    if baseline is None and not packaged:
        return {}
    return read_baseline(baseline)["completeness"].to_dict()


def _layer_map(area, layer, facilities, cov, surface, tiers):
    """Gather what the maps need of one layer: service areas and gaps from its surface's cells."""
    from gongshu_geo.analysis import coverage

    areas = coverage.vectorize_surface(surface, tiers).to_crs("EPSG:4326")
    streets = gpd.GeoDataFrame(
        area.streets.frame[["street_code", "name"]],
        geometry=area.streets.geoms,
        crs="EPSG:4549",
    )
    gaps = coverage.compute_gaps(streets, areas)
    return layer, facilities, areas, gaps, cov


def _source_label(source, name=None) -> str:
    import geopandas as gpd

    from gongshu_geo.data.postgis import is_dsn, redact_dsn

    if isinstance(source, gpd.GeoDataFrame):
        return source.attrs.get("source") or f"the {name or 'given'} frame"
    return redact_dsn(source) if is_dsn(source) else str(source)


def _write_surfaces(stage, layer_surfaces, tiers, speed) -> None:
    """Write the accessibility surfaces: a GeoTIFF per layer and mode, and the H3 hexagons."""
    from gongshu_geo.analysis.surfaces import aggregate_to_h3, write_surface_geotiff

    hexes = []
    for (layer, mode), surf in layer_surfaces.items():
        write_surface_geotiff(
            surf,
            stage.path(f"surfaces/{layer}_{mode}.tif"),
            speed_m_per_min=speed,
            description=f"minutes to the nearest {layer} ({mode}, at {speed:g} m/min)",
        )
        hexes.append(aggregate_to_h3(surf, speed_m_per_min=speed, tiers=tiers).assign(
            facility=layer, mode=mode
        ))  # fmt: skip
    allhex = pd.concat(hexes, ignore_index=True)
    front = ["facility", "mode", "h3"]
    allhex = allhex[front + [c for c in allhex.columns if c not in front]]
    allhex.drop(columns="geometry").to_csv(stage.path("stats/access_h3.csv"), index=False)
    gpd.GeoDataFrame(allhex, geometry="geometry", crs="EPSG:4326").to_file(
        stage.path("surfaces/access_h3.geojson"), driver="GeoJSON"
    )


def _read_user_facilities(facilities, *, streets, skip_invalid=False, warnings=None) -> dict:
    """Read the user's facility layers into name -> GeoDataFrame in WGS 84.

    Each must lie mostly inside the streets (see
    :func:`gongshu_geo.data.extent.check_layer_extent`); with ``skip_invalid`` a layer
    that does not is kept, one with impossible coordinates is left out, and the
    warning goes into ``warnings[("facility layer", name)]``.
    """
    import geopandas as gpd

    from gongshu_geo.data.io import read_layer, read_points_csv
    from gongshu_geo.data.postgis import is_dsn

    out = {}
    for name, source in (facilities or {}).items():
        label = _source_label(source, name)
        if isinstance(source, gpd.GeoDataFrame):
            frame = source
        elif not is_dsn(source) and Path(source).suffix.lower() in (".csv", ".xlsx"):
            frame = read_points_csv(source, check_coordinates=False)
        else:
            frame = read_layer(source, what=N_("facility layer"), check_coordinates=False)
        if frame.empty:
            raise InputError(
                _("{label}: the facility layer {name!r} has no features").format(
                    label=label, name=name
                )
            )
        where = {"key": ("facility layer", name), "warnings": warnings}
        frame = _checked_layer(
            frame, streets, label=label, what=f"facility layer {name!r}", skip=skip_invalid, **where
        )
        if frame is not None:
            out[name] = frame.to_crs("EPSG:4326")
    return out


def _checked_layer(frame, streets, *, label, what, skip, key, warnings):
    """Return the layer if it can be measured; with ``skip``, problems become warnings.

    Impossible coordinates (see :func:`gongshu_geo.data.extent.check_coordinate_range`)
    cannot be measured: with ``skip`` the layer is left out (None). A layer mostly
    outside the streets is measured with a warning.
    """
    from gongshu_geo.data.extent import check_coordinate_range, check_layer_extent

    try:
        check_coordinate_range(frame, source=label, what=what)
    except InputError as exc:
        if not skip:
            raise
        message = _("{reason}; the layer is not measured (--skip-invalid)").format(reason=exc)
        logger.warning("%s", message)
        if warnings is not None:
            warnings[key] = message
        return None
    warning = check_layer_extent(frame, streets, source=label, what=what, skip_invalid=skip)
    if warning and warnings is not None:
        warnings[key] = warning
    return frame


def read_population_layer(source, *, streets, skip_invalid=False, warnings=None):
    """Read the population layer; like facility layers, it must lie inside the streets."""
    import geopandas as gpd

    from gongshu_geo.data.io import read_layer

    label = _source_label(source, "population layer")
    what = N_("population layer")
    frame = (
        source
        if isinstance(source, gpd.GeoDataFrame)
        else read_layer(source, what=what, check_coordinates=False)
    )
    key = ("population layer", None)
    return _checked_layer(
        frame, streets, label=label, what=what, skip=skip_invalid, key=key, warnings=warnings
    )


def read_walk_graph(path):
    """Read a walking graph from GraphML (as OSMnx writes it) or a layer of walkable lines."""
    from gongshu_geo.data import graphs
    from gongshu_geo.data.io import read_layer

    if Path(path).suffix.lower() == ".graphml":
        return graphs.read_graph(path)
    lines = read_layer(path, what=N_("walkable-lines layer"))
    try:
        return graphs.graph_from_lines(lines)
    except InputError as exc:
        raise InputError(_("{path}: {exc}").format(path=path, exc=exc)) from exc


def _write_maps(
    stage,
    proj,
    strt,
    district,
    street_stats,
    layer_maps,
    *,
    basemap,
    tianditu_key,
    inline_assets,
    png,
    completeness,
    as_of,
    surfaces,
    speed,
):
    from gongshu_geo.maps import web as maps

    overview = maps.make_overview_map(
        strt, proj, district, basemap=basemap, tianditu_key=tianditu_key, as_of=as_of
    )
    maps.write_map(overview, stage.path("index.html"), inline_assets=inline_assets)
    for column in STREET_STAT_MAPS:
        stats_map = maps.make_street_stats_map(
            street_stats, column=column, basemap=basemap, tianditu_key=tianditu_key
        )
        maps.write_map(stats_map, stage.path(f"streets_{column}.html"), inline_assets=inline_assets)
    for layer, facilities, areas, gaps, cov in layer_maps:
        baseline = completeness.get(layer, "unknown")
        m = maps.make_coverage_map(
            strt,
            areas,
            gaps,
            cov,
            facility=layer,
            facilities=facilities,
            basemap=basemap,
            tianditu_key=tianditu_key,
            baseline=baseline,
            surface=surfaces.get((layer, "distance")),
            speed_m_per_min=speed,
        )
        maps.write_map(m, stage.path(f"coverage_{layer}.html"), inline_assets=inline_assets)
    if png:
        from gongshu_geo.maps import static as plots

        plots.plot_overview_png(proj, strt, district, stage.path("png/overview.png"))
        for layer, _facilities, areas, gaps, cov in layer_maps:
            plots.plot_coverage_png(
                strt,
                areas,
                gaps,
                cov,
                stage.path(f"png/coverage_{layer}.png"),
                facility=layer,
                baseline=completeness.get(layer, "unknown"),
            )


def _write_gpkg(stage, proj, strt, district, layer_maps, joined, completeness):
    """Write the GeoPackage of every layer and the QGIS project that opens it, side by side."""
    from gongshu_geo.exchange import export
    from gongshu_geo.exchange.qgis.project import write_qgis_project

    layers = export.collect_layers(
        strt,
        proj,
        district,
        **_coverage_layers(layer_maps),
        tables={"project_streets": joined},
    )
    gpkg_path = stage.path("layers/gongshu_geo.gpkg")
    export.export_layers(layers, gpkg_path, fmt="gpkg")
    write_qgis_project(gpkg_path, stage.path("layers/gongshu_geo.qgz"), baselines=completeness)


def _coverage_layers(layer_maps) -> dict:
    """``service_areas`` and ``gaps`` of every facility layer, one frame each (or none)."""
    areas = [a.assign(facility=layer) for layer, _f, a, _g, _c in layer_maps]
    gaps = [g.assign(facility=layer) for layer, _f, _a, g, _c in layer_maps]
    return {
        "service_areas": pd.concat(areas, ignore_index=True) if areas else None,
        "gaps": pd.concat(gaps, ignore_index=True) if gaps else None,
    }


def collect_export_layers(
    inputs: Inputs,
    *,
    coverage: bool = False,
    facility_layers=DEFAULT_FACILITY_LAYERS,
    packaged: bool = False,
) -> tuple[dict, dict]:
    """Gather the layers ``export`` writes, with service areas and gaps when asked.

    Parameters
    ----------
    inputs : Inputs
        From :func:`read_inputs`.
    coverage : bool
        Also the straight-line service areas and gaps of ``facility_layers``
        (as ``build`` writes them), e.g. for a QGIS project.
    facility_layers : sequence of str
        Facility layers measured when ``coverage``; empty ones are skipped.
    packaged : bool
        Whether the projects are the packaged ones (their baseline table is known).

    Returns
    -------
    layers : dict
        As :func:`gongshu_geo.exchange.export.collect_layers` returns.
    baselines : dict
        Facility layer -> completeness of its existing facilities.
    """
    from gongshu_geo.analysis import coverage as _coverage
    from gongshu_geo.analysis.join import join_projects_to_streets
    from gongshu_geo.exchange import export

    layer_maps = []
    if coverage:
        area = make_study_area(inputs.streets)
        tiers = resolve_tiers()
        for layer in facility_layers:
            try:
                facilities = _coverage.select_facilities(inputs.projects, layer)
            except InputError as exc:
                logger.warning("skipping facility layer %s: %s", layer, exc)
                continue
            surface = compute_distance_surface(
                area, facilities, exact_at=tiers["distance_m"].tolist()
            )
            layer_maps.append(_layer_map(area, layer, facilities, None, surface, tiers))
    layers = export.collect_layers(
        inputs.streets,
        inputs.projects,
        inputs.district,
        **_coverage_layers(layer_maps),
        tables={"project_streets": join_projects_to_streets(inputs.streets, inputs.projects)},
    )
    return layers, _baseline_of(None, packaged=packaged)


# ---------------------------------------------------------------- the other commands


def _result_of(inputs: Inputs, out_dir=None) -> CommandResult:
    proj = inputs.projects
    return CommandResult(
        out_dir=out_dir,
        source=proj.attrs.get("source"),
        skipped=proj.attrs.get("skipped", []),
        fixed=proj.attrs.get("fixed", []),
        warnings=list(proj.attrs.get("warnings", [])) + list(inputs.layer_warnings.values()),
    )


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
    return inputs, _result_of(inputs)


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
    result = _result_of(inputs, Path(out))
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
    result = _result_of(inputs)
    fmt_name = str(fmt).lower()
    found, baselines = collect_export_layers(
        inputs, coverage=fmt_name == "qgz", packaged=input_options.get("projects") is None
    )
    if layers:
        unknown = [name for name in layers if name not in found]
        if unknown:
            raise InputError(
                f"--layers: unknown layer {unknown[0]!r}; available: {', '.join(found)}"
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
        raise InputError("--mode network needs --graph walk.graphml (or a line layer)")
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
    result = _result_of(inputs, Path(out))
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


def make_tiers(*, minutes=None, distances_m=None, speed_m_per_min=None):
    """Return the walking tiers of the command line's options, or None for the default.

    Tiers given in metres only are walked at the default speed, so the maps
    can label them by minutes.
    """
    if not (minutes or distances_m or speed_m_per_min):
        return None
    from gongshu_geo.analysis.coverage import service_tiers

    speed = speed_m_per_min
    if distances_m and not minutes and speed is None:
        speed = DEFAULT_SPEED_M_PER_MIN
    return service_tiers(minutes=minutes, distances_m=distances_m, speed_m_per_min=speed)


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
            "--sql needs exactly one postgresql:// input without ?table=; found "
            f"{len(slots)}. Give the others ?table=schema.name"
        )
    (name, index), out = slots[0], dict(sources)
    if isinstance(out[name], list):
        out[name] = [with_sql(v, sql) if i == index else v for i, v in enumerate(out[name])]
    else:
        out[name] = with_sql(out[name], sql)
    return out
