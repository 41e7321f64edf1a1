"""Every command, step by step: the one place that knows the order of the steps.

:mod:`~gongshu_geo.pipeline.inputs` reads and checks what every command starts from,
:mod:`~gongshu_geo.pipeline.building` is the ``build`` command, and
:mod:`~gongshu_geo.pipeline.commands` the others.

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

from gongshu_geo.core.atomic import LOCK_NAME
from gongshu_geo.pipeline.building import (
    STREET_STAT_MAPS,
    build,
    collect_export_layers,
    make_tiers,
    write_stats_tables,
)
from gongshu_geo.pipeline.commands import (
    attach_sql,
    compare_versions,
    download_network,
    export_data,
    make_maps,
    measure_point_coverage,
    select_sites,
    validate_inputs,
    write_problem_report,
    write_sites,
)
from gongshu_geo.pipeline.inputs import (
    DEFAULT_FACILITY_LAYERS,
    BuildResult,
    CommandResult,
    Inputs,
    read_inputs,
    read_population_layer,
    read_streets_and_outline,
    read_walk_graph,
)

__all__ = [
    "DEFAULT_FACILITY_LAYERS",
    "LOCK_NAME",
    "STREET_STAT_MAPS",
    "BuildResult",
    "CommandResult",
    "Inputs",
    "attach_sql",
    "build",
    "collect_export_layers",
    "compare_versions",
    "download_network",
    "export_data",
    "make_maps",
    "make_tiers",
    "measure_point_coverage",
    "read_inputs",
    "read_population_layer",
    "read_streets_and_outline",
    "read_walk_graph",
    "select_sites",
    "validate_inputs",
    "write_problem_report",
    "write_sites",
    "write_stats_tables",
]
