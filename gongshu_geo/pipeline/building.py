"""The ``build`` command: statistics, coverage, maps, surfaces and layers, in steps."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import geopandas as gpd
import pandas as pd

from gongshu_geo.analysis.access import compute_distance_surface
from gongshu_geo.analysis.coverage import COVERAGE_COLUMNS
from gongshu_geo.analysis.grid import DEFAULT_CELL_M, make_study_area
from gongshu_geo.analysis.tiers import DEFAULT_SPEED_M_PER_MIN, resolve_tiers
from gongshu_geo.core.atomic import ensure_dir, staged_outputs
from gongshu_geo.core.errors import InputError
from gongshu_geo.core.i18n import gettext as _
from gongshu_geo.core.progress import track
from gongshu_geo.pipeline.inputs import (
    DEFAULT_FACILITY_LAYERS,
    BuildResult,
    CommandResult,
    Inputs,
    baseline_of,
    read_inputs,
)

if TYPE_CHECKING:
    pass

logger = logging.getLogger(__name__)


#: Per-street statistics drawn as choropleth maps ``streets_<column>.html``.
STREET_STAT_MAPS = ("n_projects", "road_km", "park_m2_per_person")


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
        tier_table = resolve_tiers(tiers, minutes=minutes, distances_m=distances_m)
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
    return layers, baseline_of(None, packaged=packaged)


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
