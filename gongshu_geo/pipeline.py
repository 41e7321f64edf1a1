"""`build`: the one place that knows the order of the steps.

Everything a build writes goes first into a private temporary folder inside
the output folder, and each finished file is then renamed over its target. A
lock file serialises concurrent builds into the same folder; it exists only
while a build runs. A build replaces only the files it writes and removes
nothing else.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import pandas as pd

from ._atomic import ensure_dir
from ._errors import InputError, OutputError
from ._i18n import N_
from ._i18n import gettext as _
from ._progress import track
from .access import compute_distance_surface
from .coverage import COVERAGE_COLUMNS
from .grid import DEFAULT_CELL_M, make_study_area
from .io import outline_of, read_baseline, read_district, read_projects, read_streets
from .tiers import DEFAULT_SPEED_M_PER_MIN, resolve_tiers

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
class BuildResult:
    """What a build wrote and what it noticed."""

    out_dir: Path
    source: str | None = None
    written: list = field(default_factory=list)
    skipped: list = field(default_factory=list)
    fixed: list = field(default_factory=list)
    warnings: list = field(default_factory=list)


#: The lock file of a build, in the output folder only while a build runs.
LOCK_NAME = ".gongshu-geo.lock"


@contextlib.contextmanager
def _locked(out_dir: Path):
    """Hold the output folder's build lock; the lock file is removed when the build ends.

    Removing a lock file that others may be waiting on is safe only if a waiter
    that wakes up on the removed file notices: after taking the lock, each
    checks that the path still names the file it locked, and starts again if not.
    So exactly one build at a time holds the lock on the file the path names.
    """
    lock_path = out_dir / LOCK_NAME
    while True:
        try:
            fh = open(lock_path, "a")
        except OSError as exc:
            raise OutputError(
                _("{out_dir}: cannot create the build lock ({strerror})").format(
                    out_dir=out_dir, strerror=exc.strerror
                )
            ) from exc
        logger.debug("waiting for the build lock %s", lock_path)
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            current = os.stat(lock_path)
        except FileNotFoundError:
            current = None
        mine = os.fstat(fh.fileno())
        if current is not None and (current.st_ino, current.st_dev) == (mine.st_ino, mine.st_dev):
            break
        fh.close()  # the build before us removed this file as it finished: lock the new one
    try:
        yield
    finally:
        with contextlib.suppress(OSError):
            os.unlink(lock_path)
        fcntl.flock(fh, fcntl.LOCK_UN)
        fh.close()


class _Staging:
    """A temporary folder inside ``out_dir`` whose files are moved into place."""

    def __init__(self, out_dir: Path):
        self.out_dir = out_dir
        try:
            self.root = Path(tempfile.mkdtemp(prefix=".build-", dir=out_dir))
        except OSError as exc:
            raise OutputError(
                _(
                    "{out_dir}: the output folder is not writable ({strerror}); choose "
                    "another with --out or fix its permissions"
                ).format(out_dir=out_dir, strerror=exc.strerror)
            ) from exc
        self.files: list[str] = []

    def path(self, rel: str) -> Path:
        p = self.root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        self.files.append(rel)
        return p

    def commit(self) -> list[Path]:
        done = []
        for rel in self.files:
            src = self.root / rel
            if not src.exists():
                continue
            dst = self.out_dir / rel
            dst.parent.mkdir(parents=True, exist_ok=True)
            os.replace(src, dst)
            done.append(dst)
        return done

    def discard(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


def _remove_stale_staging(out_dir: Path) -> None:
    """Remove staging folders of builds that were killed (we hold the lock, so none is live)."""
    for stale in out_dir.glob(".build-*"):
        if stale.is_dir():
            logger.info("removing %s left by an interrupted build", stale.name)
            shutil.rmtree(stale, ignore_errors=True)


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
    """What every command starts from: validated projects, streets and their outline."""

    projects: object
    streets: object
    district: object


def read_inputs(
    *,
    projects=None,
    streets=None,
    streets_options: dict | None = None,
    population=None,
    skip_invalid: bool = False,
    fix_geometry: bool = False,
    strict: bool = False,
) -> Inputs:
    """Read and validate the inputs of any command; the packaged data by default.

    Parameters
    ----------
    projects, streets : str or Path, optional
        Input files.
    streets_options : dict, optional
        Passed to :func:`gongshu_geo.read_streets`.
    population : str or Path, optional
        A population table by street code.
    skip_invalid, fix_geometry, strict : bool
        See :func:`gongshu_geo.read_projects`.

    Returns
    -------
    Inputs
        The outline is the packaged district's, or the union of the user's streets.
    """
    proj = read_projects(
        projects, skip_invalid=skip_invalid, fix_geometry=fix_geometry, strict=strict
    )
    strt = read_streets(streets, population=population, **(streets_options or {}))
    district = read_district() if streets is None else outline_of(strt)
    return Inputs(projects=proj, streets=strt, district=district)


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
        Map options (see :mod:`gongshu_geo.maps`).
    graph : str or Path, optional
        A walking network (GraphML or line layer) for network-distance coverage.
    facility_layers : sequence of str
        Facility layers for coverage; empty layers are skipped with a warning.
    facilities : dict, optional
        The user's own facility layers, name -> path (GeoPackage, GeoJSON,
        Shapefile, CSV with ``lon``/``lat``, or a PostGIS URL) or GeoDataFrame;
        measured as scenario ``"user"``.
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
        The walking tiers, in any form :func:`gongshu_geo.tiers.resolve_tiers`
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
    BuildResult
    """
    from . import join

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
    )
    proj, strt, district = inputs.projects, inputs.streets, inputs.district
    result = BuildResult(
        out_dir=out_dir,
        source=proj.attrs.get("source"),
        skipped=proj.attrs.get("skipped", []),
        fixed=proj.attrs.get("fixed", []),
        warnings=list(proj.attrs.get("warnings", [])),
    )
    net = None
    if graph is not None:
        net = read_walk_graph(graph)

    progress("joining projects to streets")
    joined = join.join_projects_to_streets(proj, strt)
    outside = join.flag_outside(joined)
    street_stats = join.summarize_streets(proj, strt, joined)

    if tiers is not None:  # the speed then only turns the surfaces' metres into minutes
        tier_table = resolve_tiers(tiers)
    else:
        tier_table = resolve_tiers(
            minutes=minutes, distances_m=distances_m, speed_m_per_min=speed_m_per_min
        )
    speed = DEFAULT_SPEED_M_PER_MIN if speed_m_per_min is None else float(speed_m_per_min)
    progress(f"measuring {_tier_words(tier_table)} coverage")
    layer_warnings: dict = {}
    extent = {"streets": strt, "skip_invalid": skip_invalid, "warnings": layer_warnings}
    people = None
    if population_layer is not None:
        people = read_population_layer(population_layer, **extent)
    area = make_study_area(
        strt, cell_m=cell_m, population=people, population_field=population_layer_field
    )
    measured = _measure_coverage(
        area,
        proj,
        facility_layers,
        user_facilities=_read_user_facilities(facilities, **extent),
        graph=net,
        tiers=tier_table,
        warnings=result.warnings,
    )
    cov_all, gains, penalties, layer_maps, layer_surfaces = measured
    completeness = _baseline_of(baseline, packaged=projects is None)
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
    from .indicators import measure_targets
    from .schedule import compute_schedule_state, summarize_schedule

    indicators = measure_targets(proj, strt, district)
    schedule = summarize_schedule(joined, proj)
    states = {}
    if as_of is not None:
        state = compute_schedule_state(proj, as_of=as_of)
        keep = ["id", "name", "category", "status", "start_year", "end_year", "as_of"]
        keep += ["scheduled_state", "recorded_status"]
        states["schedule_state"] = pd.DataFrame(state[[c for c in keep if c in state]])

    with _locked(out_dir):
        _remove_stale_staging(out_dir)
        stage = _Staging(out_dir)
        try:
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
            from .street_pages import write_street_pages

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
            result.written = stage.commit()
        finally:
            stage.discard()
    logger.info("wrote %d files into %s", len(result.written), out_dir)
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
    from . import coverage, scenarios

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
                table = coverage.coverage_table(surf, tiers, facility=layer)
                tables.append(table.assign(scenario=scenario)[["scenario", *COVERAGE_COLUMNS]])
            if mode == "distance":  # the map shows the whole layer, straight-line
                layer_maps.append(_layer_map(area, layer, facilities, table, whole, tiers))
    yours = track(user_facilities.items(), desc="coverage of your layers", unit="layers")
    for layer, facilities in yours:
        for mode in modes:
            surf = surface(facilities, mode)
            layer_surfaces[(layer, mode)] = surf
            table = coverage.coverage_table(surf, tiers, facility=layer).assign(scenario="user")
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
    from . import coverage

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

    from .postgis import is_dsn, redact_dsn

    if isinstance(source, gpd.GeoDataFrame):
        return source.attrs.get("source") or f"the {name or 'given'} frame"
    return redact_dsn(source) if is_dsn(source) else str(source)


def _write_surfaces(stage, layer_surfaces, tiers, speed) -> None:
    """Write the accessibility surfaces: a GeoTIFF per layer and mode, and the H3 hexagons."""
    from .surfaces import aggregate_to_h3, write_surface_geotiff

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
    :func:`gongshu_geo.extent.check_layer_extent`); with ``skip_invalid`` a layer
    that does not is kept, one with impossible coordinates is left out, and the
    warning goes into ``warnings[("facility layer", name)]``.
    """
    import geopandas as gpd

    from .io import read_layer, read_points_csv
    from .postgis import is_dsn

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

    Impossible coordinates (see :func:`gongshu_geo.extent.check_coordinate_range`)
    cannot be measured: with ``skip`` the layer is left out (None). A layer mostly
    outside the streets is measured with a warning.
    """
    from .extent import check_coordinate_range, check_layer_extent

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

    from .io import read_layer

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
    from . import graphs
    from .io import read_layer

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
    from . import maps

    overview = maps.make_overview_map(
        proj, strt, district, basemap=basemap, tianditu_key=tianditu_key, as_of=as_of
    )
    maps.save_map(overview, stage.path("index.html"), inline_assets=inline_assets)
    for column in STREET_STAT_MAPS:
        stats_map = maps.make_street_stats_map(
            street_stats, column=column, basemap=basemap, tianditu_key=tianditu_key
        )
        maps.save_map(stats_map, stage.path(f"streets_{column}.html"), inline_assets=inline_assets)
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
        maps.save_map(m, stage.path(f"coverage_{layer}.html"), inline_assets=inline_assets)
    if png:
        from . import plots

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
    from . import export
    from .qgis_project import write_qgis_project

    layers = export.collect_layers(
        proj,
        strt,
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
        As :func:`gongshu_geo.export.collect_layers` returns.
    baselines : dict
        Facility layer -> completeness of its existing facilities.
    """
    from . import coverage as _coverage
    from . import export
    from .join import join_projects_to_streets

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
        inputs.projects,
        inputs.streets,
        inputs.district,
        **_coverage_layers(layer_maps),
        tables={"project_streets": join_projects_to_streets(inputs.projects, inputs.streets)},
    )
    return layers, _baseline_of(None, packaged=packaged)
