"""gongshu_geo: the Gongshu District 14th Five-Year Plan projects, mapped and measured."""

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
    read_district,
    read_points_csv,
    read_projects,
    read_streets,
    read_table,
)

__version__ = "0.1.0"

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
    "read_points_csv",
    "read_projects",
    "read_streets",
    "read_table",
    "to_crs_named",
    "to_gcj02",
    "wgs84_to_gcj02",
]
