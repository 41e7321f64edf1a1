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

from ._errors import (
    CRSError,
    GongshuGeoError,
    InputError,
    MissingDependencyError,
    OutputError,
    ValidationError,
)
from .crs import from_gcj02, gcj02_to_wgs84, to_crs_named, to_gcj02, wgs84_to_gcj02
from .io import (
    filter_projects,
    read_baseline,
    read_district,
    read_layer,
    read_points_csv,
    read_projects,
    read_streets,
    read_table,
)

__version__ = "0.1.0"

#: public function -> the module that defines it (imported on first use)
_LAZY = {
    "join_projects_to_streets": "join",
    "flag_outside": "join",
    "summarize_outside": "join",
    "summarize_streets": "join",
    "service_tiers": "coverage",
    "select_facilities": "coverage",
    "compute_service_areas": "coverage",
    "compute_coverage": "coverage",
    "compute_gaps": "coverage",
    "compare_scenarios": "scenarios",
    "compute_plan_gain": "scenarios",
    "summarize_coverage": "scenarios",
    "compute_network_penalty": "scenarios",
    "compute_node_distances": "network",
    "compute_network_service_areas": "network",
    "read_graph": "graphs",
    "graph_from_lines": "graphs",
    "download_walking_graph": "graphs",
    "measure_targets": "indicators",
    "make_overview_map": "maps",
    "make_coverage_map": "maps",
    "make_street_stats_map": "maps",
    "write_map": "maps",
    "collect_layers": "export",
    "export_layers": "export",
    "build": "pipeline",
    "compute_point_coverage": "points",
    "choose_sites": "siting",
    "write_sites": "siting",
    "read_candidates": "candidates",
    "default_candidates": "candidates",
    "make_sites_map": "maps",
    "make_street_table": "streets",
    "resolve_tiers": "tiers",
    "make_study_area": "grid",
    "compute_distance_surface": "access",
    "compute_surface_coverage": "coverage",
    "vectorize_surface": "coverage",
    "compute_minutes": "surfaces",
    "write_surface_geotiff": "surfaces",
    "make_surface_image": "surfaces",
    "aggregate_to_h3": "surfaces",
}

#: names renamed in 0.2 -> their module; they still resolve, warning on every call
_DEPRECATED = {
    "save_map": "maps",
    "coverage_table": "coverage",
    "minutes_of": "surfaces",
    "surface_image": "surfaces",
}

_SUBMODULES = {
    "basemaps", "coverage", "crs", "export", "graphs", "indicators", "io", "join", "maps",
    "network", "pipeline", "plots", "points", "scenarios", "schema", "synth", "tiling",
    "siting", "candidates", "streets", "tiers", "grid", "access", "surfaces", "point_sums",
}  # fmt: skip

if TYPE_CHECKING:  # what the lazy names are, for IDEs and type checkers
    from .access import compute_distance_surface
    from .candidates import default_candidates, read_candidates
    from .coverage import (
        compute_coverage,
        compute_gaps,
        compute_service_areas,
        compute_surface_coverage,
        select_facilities,
        service_tiers,
        vectorize_surface,
    )
    from .export import collect_layers, export_layers
    from .graphs import download_walking_graph, graph_from_lines, read_graph
    from .grid import make_study_area
    from .indicators import measure_targets
    from .join import flag_outside, join_projects_to_streets, summarize_outside, summarize_streets
    from .maps import (
        make_coverage_map,
        make_overview_map,
        make_sites_map,
        make_street_stats_map,
        write_map,
    )
    from .network import compute_network_service_areas, compute_node_distances
    from .pipeline import build
    from .points import compute_point_coverage
    from .scenarios import (
        compare_scenarios,
        compute_network_penalty,
        compute_plan_gain,
        summarize_coverage,
    )
    from .siting import choose_sites, write_sites
    from .streets import make_street_table
    from .surfaces import (
        aggregate_to_h3,
        compute_minutes,
        make_surface_image,
        write_surface_geotiff,
    )
    from .tiers import resolve_tiers


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
