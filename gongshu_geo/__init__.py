"""gongshu_geo: the Gongshu District 14th Five-Year Plan projects, mapped and measured.

The readers and the datum shift are imported eagerly; the rest (maps, exports,
coverage, ...) on first use, so that ``import gongshu_geo`` stays quick and a
missing optional package only matters to the function that needs it.

One vocabulary, in every public function (the API reference has the full table):

- Data arguments come first, streets before the rest (projects, population,
  facilities), then a bare ``*`` and keyword-only options.
- ``streets``: street polygons with ``street_code`` and ``name``.
- ``population``: a layer of people, points or polygons with a count column;
  ``population_table``: a table of counts by street code (``read_streets``);
  ``population_field``: the count column of either.
- ``tiers``: a tier table (``service_tiers``) or metres, read by ``resolve_tiers``.
- Verbs: ``read_``/``write_`` cross the disk, ``compute_`` measures, ``make_`` builds,
  ``summarize_`` totals, ``select_``/``choose_`` pick, ``measure_``/``compare_`` report.
"""

import importlib
from typing import TYPE_CHECKING

from .core.crs import from_gcj02, gcj02_to_wgs84, to_crs_named, to_gcj02, wgs84_to_gcj02
from .core.errors import (
    CRSError,
    GongshuGeoError,
    InputError,
    MissingDependencyError,
    OutputError,
    ValidationError,
)
from .core.version import __version__
from .data.io import (
    filter_projects,
    read_baseline,
    read_district,
    read_layer,
    read_points_csv,
    read_projects,
    read_streets,
    read_table,
)

#: public function -> the module that defines it (imported on first use)
_LAZY = {
    "join_projects_to_streets": "analysis.join",
    "flag_outside": "analysis.join",
    "summarize_outside": "analysis.join",
    "summarize_streets": "analysis.join",
    "service_tiers": "analysis.coverage",
    "select_facilities": "analysis.coverage",
    "compute_service_areas": "analysis.coverage",
    "compute_coverage": "analysis.coverage",
    "compute_gaps": "analysis.coverage",
    "compare_scenarios": "analysis.scenarios",
    "compute_plan_gain": "analysis.scenarios",
    "summarize_coverage": "analysis.scenarios",
    "compute_network_penalty": "analysis.scenarios",
    "compute_node_distances": "analysis.network",
    "compute_network_service_areas": "analysis.network",
    "read_graph": "data.graphs",
    "graph_from_lines": "data.graphs",
    "download_walking_graph": "data.graphs",
    "measure_targets": "analysis.indicators",
    "make_overview_map": "maps.web",
    "make_coverage_map": "maps.web",
    "make_street_stats_map": "maps.web",
    "write_map": "maps.web",
    "collect_layers": "exchange.export",
    "export_layers": "exchange.export",
    "build": "pipeline",
    "compute_point_coverage": "analysis.points",
    "choose_sites": "analysis.siting",
    "write_sites": "pipeline",
    "read_candidates": "data.candidates",
    "default_candidates": "data.candidates",
    "make_sites_map": "maps.web",
    "make_street_table": "analysis.streets",
    "resolve_tiers": "analysis.tiers",
    "make_study_area": "analysis.grid",
    "compute_distance_surface": "analysis.access",
    "compute_surface_coverage": "analysis.coverage",
    "vectorize_surface": "analysis.coverage",
    "compute_minutes": "analysis.surfaces",
    "write_surface_geotiff": "analysis.surfaces",
    "make_surface_image": "analysis.surfaces",
    "aggregate_to_h3": "analysis.surfaces",
}

#: names renamed in 0.2 -> their module; they still resolve, warning on every call
_DEPRECATED = {
    "save_map": "maps.web",
    "coverage_table": "analysis.coverage",
    "minutes_of": "analysis.surfaces",
    "surface_image": "analysis.surfaces",
}

#: the layers, bottom to top (imported on first use)
_SUBMODULES = {"core", "data", "analysis", "maps", "exchange", "config", "pipeline", "cli"}

if TYPE_CHECKING:  # what the lazy names are, for IDEs and type checkers
    from .analysis.access import compute_distance_surface
    from .analysis.coverage import (
        compute_coverage,
        compute_gaps,
        compute_service_areas,
        compute_surface_coverage,
        select_facilities,
        service_tiers,
        vectorize_surface,
    )
    from .analysis.grid import make_study_area
    from .analysis.indicators import measure_targets
    from .analysis.join import (
        flag_outside,
        join_projects_to_streets,
        summarize_outside,
        summarize_streets,
    )
    from .analysis.network import compute_network_service_areas, compute_node_distances
    from .analysis.points import compute_point_coverage
    from .analysis.scenarios import (
        compare_scenarios,
        compute_network_penalty,
        compute_plan_gain,
        summarize_coverage,
    )
    from .analysis.siting import choose_sites
    from .analysis.streets import make_street_table
    from .analysis.surfaces import (
        aggregate_to_h3,
        compute_minutes,
        make_surface_image,
        write_surface_geotiff,
    )
    from .analysis.tiers import resolve_tiers
    from .data.candidates import default_candidates, read_candidates
    from .data.graphs import download_walking_graph, graph_from_lines, read_graph
    from .exchange.export import collect_layers, export_layers
    from .maps.web import (
        make_coverage_map,
        make_overview_map,
        make_sites_map,
        make_street_stats_map,
        write_map,
    )
    from .pipeline import build, write_sites


def __getattr__(name):
    if name in _LAZY:
        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    if name in _DEPRECATED:  # not in __all__ or dir(): the docs and completion show the new names
        return getattr(importlib.import_module(f".{_DEPRECATED[name]}", __name__), name)
    if name in _SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'gongshu_geo' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY) | _SUBMODULES)


__all__ = [
    "CRSError",
    "GongshuGeoError",
    "InputError",
    "MissingDependencyError",
    "OutputError",
    "ValidationError",
    "__version__",
    "filter_projects",
    "from_gcj02",
    "gcj02_to_wgs84",
    "read_district",
    "read_baseline",
    "read_layer",
    "read_points_csv",
    "read_projects",
    "read_streets",
    "read_table",
    "to_crs_named",
    "to_gcj02",
    "wgs84_to_gcj02",
    *_LAZY,
]
