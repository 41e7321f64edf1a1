"""The plan as a schedule: each project's state in a given year, and counts by year.

A project's schedule is its ``start_year`` and ``end_year`` as the plan states or
implies them (null where the plan is silent). Its record is the optional
``status_log``: dated status updates with their sources. In a year ``as_of`` a
scheduled project is

- ``not_started`` before its start year,
- ``in_progress`` from its start year until the year before its end year,
- ``due`` from its end year on;

a project without years is ``existing`` (status existing) or ``unscheduled``.
The recorded status in that year is the latest log entry dated in or before it.
"""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pandas as pd

from gongshu_geo.core.errors import InputError
from gongshu_geo.core.i18n import gettext as _
from gongshu_geo.data.schema import SCHEDULE_YEARS, parse_status_log

logger = logging.getLogger(__name__)

#: The scheduled states, in the order a project passes through them.
SCHEDULED_STATES = ("not_started", "in_progress", "due", "existing", "unscheduled")


def _years(projects, field) -> np.ndarray:
    values = projects[field] if field in projects else pd.Series(np.nan, index=projects.index)
    return pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)


def _log_of(value) -> list:
    return parse_status_log(value) or []


def _check_year(as_of) -> int:
    lo, hi = SCHEDULE_YEARS
    if isinstance(as_of, bool) or not isinstance(as_of, (int, np.integer)) or not lo <= as_of <= hi:
        raise InputError(
            _("as_of must be a whole year from {lo} to {hi}; found {as_of!r}").format(
                lo=lo, hi=hi, as_of=as_of
            )
        )
    return int(as_of)


def recorded_status(status_log, *, as_of: int) -> str | None:
    """Return the status of the latest log entry dated in or before ``as_of``.

    Parameters
    ----------
    status_log : list of dict or str
        Entries with ``date`` (``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``) and ``status``,
        or their JSON text.
    as_of : int
        The year.

    Returns
    -------
    str or None
        None when the log has no entry by then.

    Examples
    --------
    >>> log = [{"date": "2022-02", "status": "planned", "source": "plan"},
    ...        {"date": "2024-06-30", "status": "completed", "source": "news"}]
    >>> recorded_status(log, as_of=2023), recorded_status(log, as_of=2024)
    ('planned', 'completed')
    """
    entries = [e for e in _log_of(status_log) if int(str(e["date"])[:4]) <= as_of]
    return entries[-1]["status"] if entries else None


def compute_schedule_state(projects: gpd.GeoDataFrame, *, as_of: int) -> gpd.GeoDataFrame:
    """Each project's scheduled state in a year, next to its recorded status.

    Parameters
    ----------
    projects : geopandas.GeoDataFrame
        Projects with ``status`` and, where known, ``start_year``, ``end_year`` and
        ``status_log``.
    as_of : int
        The year, e.g. 2024.

    Returns
    -------
    geopandas.GeoDataFrame
        A copy with ``as_of``, ``scheduled_state`` (one of :data:`SCHEDULED_STATES`)
        and ``recorded_status`` (None where the log has no entry by then).

    Examples
    --------
    >>> from shapely.geometry import Point
    >>> p = gpd.GeoDataFrame({"status": ["planned", "planned", "existing"],
    ...                       "start_year": [2021, 2025, None], "end_year": [2023, 2026, None]},
    ...                      geometry=[Point(0, 0)] * 3, crs="EPSG:4326")
    >>> compute_schedule_state(p, as_of=2024)["scheduled_state"].tolist()
    ['due', 'not_started', 'existing']
    """
    year = _check_year(as_of)
    start, end = _years(projects, "start_year"), _years(projects, "end_year")
    existing = (projects["status"] == "existing").to_numpy()
    state = np.select(
        [
            np.isnan(start) & np.isnan(end) & existing,
            np.isnan(start) & np.isnan(end),
            year < np.nan_to_num(start, nan=-np.inf),
            year >= np.nan_to_num(end, nan=np.inf),
        ],
        ["existing", "unscheduled", "not_started", "due"],
        default="in_progress",
    )
    out = projects.copy()
    out["as_of"] = year
    out["scheduled_state"] = state
    logs = projects["status_log"] if "status_log" in projects else [None] * len(projects)
    out["recorded_status"] = [recorded_status(log, as_of=year) for log in logs]
    logger.info(_("schedule in %d: %s"), year, pd.Series(state).value_counts().to_dict())
    return out


def done_year(status_log) -> float:
    """Return the first year a status log records the project completed (NaN if none)."""
    done = [int(str(e["date"])[:4]) for e in _log_of(status_log) if e["status"] == "completed"]
    return float(min(done)) if done else np.nan


def summarize_schedule(joined: pd.DataFrame, projects: gpd.GeoDataFrame) -> pd.DataFrame:
    """Count, per street, category and year, what is scheduled and what is recorded done.

    Parameters
    ----------
    joined : pandas.DataFrame
        The project-street table of :func:`gongshu_geo.join_projects_to_streets`
        (``project_id``, ``street_code``, ``outside``); a project counts in every
        street it touches.
    projects : geopandas.GeoDataFrame
        The projects, with ``id``, ``category`` and the schedule fields.

    Returns
    -------
    pandas.DataFrame
        ``street_code``, ``category``, ``year``, ``n_starting``, ``n_under_way``
        (started and not yet past its end year), ``n_finishing`` (end year this
        year) and ``n_recorded_done`` (a ``completed`` log entry in or before the year),
        for every year from the earliest start to the latest end.
    """
    start, end = _years(projects, "start_year"), _years(projects, "end_year")
    logs = projects["status_log"] if "status_log" in projects else [None] * len(projects)
    sched = pd.DataFrame(
        {
            "id": projects["id"].to_numpy(),
            "category": projects["category"].to_numpy(),
            "start": start,
            "end": end,
            "done": [done_year(log) for log in logs],
        }
    )
    cols = ["street_code", "category", "year", "n_starting", "n_under_way", "n_finishing"]
    cols.append("n_recorded_done")
    known = np.concatenate([start[~np.isnan(start)], end[~np.isnan(end)]])
    if not len(known):
        return pd.DataFrame(columns=cols)
    inside = joined.loc[~joined["outside"].astype(bool), ["project_id", "street_code"]]
    rows = inside.drop_duplicates().rename(columns={"project_id": "id"}).merge(sched, on="id")
    years = np.arange(int(known.min()), int(known.max()) + 1)
    frames = []
    for year in years:
        frames.append(
            rows.assign(
                year=year,
                n_starting=rows["start"] == year,
                n_under_way=(rows["start"] <= year) & ~(rows["end"] < year),
                n_finishing=rows["end"] == year,
                n_recorded_done=rows["done"] <= year,
            )
        )
    table = pd.concat(frames, ignore_index=True)
    counts = table.groupby(["street_code", "category", "year"], as_index=False)[cols[3:]].sum()
    return counts.astype({c: int for c in cols[3:]})[cols]
