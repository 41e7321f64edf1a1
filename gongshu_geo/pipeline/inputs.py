"""What every command starts from: reading and checking its inputs, and what it returns.

One :func:`read_inputs` reads projects, streets, the outline, the baseline, facility
layers, a population layer and a walking graph, so every command draws the user's
streets' outline whenever streets are given.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd

from gongshu_geo.core.errors import InputError
from gongshu_geo.core.i18n import N_
from gongshu_geo.core.i18n import gettext as _
from gongshu_geo.data.io import (
    outline_of,
    read_baseline,
    read_district,
    read_projects,
    read_streets,
)

if TYPE_CHECKING:
    pass

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
        baseline=baseline_of(baseline, packaged=projects is None),
    )
    extent = {"streets": strt, "skip_invalid": skip_invalid, "warnings": inputs.layer_warnings}
    if population_layer is not None:
        inputs.population_layer = read_population_layer(population_layer, **extent)
    inputs.facilities = read_user_facilities(_named_sources(facilities), **extent)
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


def baseline_of(baseline, *, packaged: bool) -> dict:
    """Layer -> completeness of its existing facilities, from a table or the packaged one."""
    if baseline is None and not packaged:
        return {}
    return read_baseline(baseline)["completeness"].to_dict()


def _source_label(source, name=None) -> str:
    import geopandas as gpd

    from gongshu_geo.data.postgis import is_dsn, redact_dsn

    if isinstance(source, gpd.GeoDataFrame):
        return source.attrs.get("source") or f"the {name or 'given'} frame"
    return redact_dsn(source) if is_dsn(source) else str(source)


def read_user_facilities(facilities, *, streets, skip_invalid=False, warnings=None) -> dict:
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


def result_of(inputs: Inputs, out_dir=None) -> CommandResult:
    """Start a command's result from what reading its inputs noticed."""
    proj = inputs.projects
    return CommandResult(
        out_dir=out_dir,
        source=proj.attrs.get("source"),
        skipped=proj.attrs.get("skipped", []),
        fixed=proj.attrs.get("fixed", []),
        warnings=list(proj.attrs.get("warnings", [])) + list(inputs.layer_warnings.values()),
    )
