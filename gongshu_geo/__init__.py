"""gongshu_geo: the Gongshu District 14th Five-Year Plan projects, mapped and measured.

The readers and the datum shift are imported eagerly; the rest (maps, exports,
coverage, ...) on first use, so that ``import gongshu_geo`` stays quick and a
missing optional package only matters to the function that needs it.
"""

import importlib

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
    "save_map": "maps",
    "collect_layers": "export",
    "export_layers": "export",
    "build": "pipeline",
    "compute_point_coverage": "points",
    "choose_sites": "siting",
    "write_sites": "siting",
    "read_candidates": "candidates",
    "default_candidates": "candidates",
    "make_sites_map": "maps",
}

_SUBMODULES = {
    "basemaps", "coverage", "crs", "export", "graphs", "indicators", "io", "join", "maps",
    "network", "pipeline", "plots", "points", "scenarios", "schema", "synth", "tiling",
    "siting", "candidates",
}  # fmt: skip


def __getattr__(name):
    if name in _LAZY:
        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
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
