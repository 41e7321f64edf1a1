"""Walking tiers: how many minutes, how many metres.

One place turns what a caller says about distances (nothing, minutes, metres, a
walking speed, or a ready table) into the checked table every coverage path
uses: :func:`service_tiers` makes it and :func:`resolve_tiers` accepts any of
those forms. The defaults are the community life circles of GB 50180-2018.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from gongshu_geo.core.errors import InputError
from gongshu_geo.core.i18n import gettext as _

#: Where the default tiers come from.
STANDARD_SOURCE = (
    "GB 50180-2018 城市居住区规划设计标准 (Standard for urban residential area planning and "
    "design): 5-, 10- and 15-minute community life circles, walking 300 m, 500 m and "
    "800-1000 m (the upper 1000 m is used)"
)

#: The GB 50180-2018 community life circle tiers: minutes of walking -> metres.
SERVICE_TIERS = (
    {"minutes": 5.0, "distance_m": 300.0, "source": STANDARD_SOURCE},
    {"minutes": 10.0, "distance_m": 500.0, "source": STANDARD_SOURCE},
    {"minutes": 15.0, "distance_m": 1000.0, "source": STANDARD_SOURCE},
)

#: Walking speed turning minutes into metres when the caller gives none: 60 m/min
#: (3.6 km/h), unhurried and within reach of older walkers; it gives the
#: standard's 300 m for 5 minutes.
DEFAULT_SPEED_M_PER_MIN = 60.0


def service_tiers(
    *,
    minutes: float | Sequence[float] | None = None,
    distances_m: float | Sequence[float] | None = None,
    speed_m_per_min: float | None = None,
) -> pd.DataFrame:
    """Make the table of walking tiers: minutes and metres.

    Parameters
    ----------
    minutes : float or sequence of float, optional
        Minutes of walking. Without a speed, the standard's own minutes (5,
        10, 15) keep the standard's distances and others are walked at
        :data:`DEFAULT_SPEED_M_PER_MIN`.
    distances_m : float or sequence of float, optional
        Metres. Given alone, ``minutes`` is NaN unless a speed is given;
        given with ``minutes``, the two are paired in order.
    speed_m_per_min : float, optional
        Walking speed turning minutes into metres (or back).

    Returns
    -------
    pandas.DataFrame
        Columns ``minutes``, ``distance_m`` and ``source``, one row per tier,
        sorted by distance. With no argument, the GB 50180-2018 tiers.

    Examples
    --------
    >>> service_tiers()[["minutes", "distance_m"]].values.tolist()
    [[5.0, 300.0], [10.0, 500.0], [15.0, 1000.0]]
    >>> service_tiers(minutes=[5, 20])["distance_m"].tolist()
    [300.0, 1200.0]
    """
    speed = None if speed_m_per_min is None else _positive(speed_m_per_min, "speed_m_per_min")[0]
    standard = {t["minutes"]: t for t in SERVICE_TIERS}
    if minutes is None and distances_m is None:
        minutes = list(standard)
    elif minutes is not None and distances_m is not None and speed is not None:
        raise InputError(_("pass minutes with distances_m or with speed_m_per_min, not all three"))
    mins = None if minutes is None else _positive(minutes, "minutes")
    dists = None if distances_m is None else _positive(distances_m, "distances_m")
    if dists is None:
        walk = speed or DEFAULT_SPEED_M_PER_MIN
        rows = [
            dict(standard[m]) if speed is None and m in standard
            else {"minutes": m, "distance_m": m * walk, "source": f"{m:g} min at {walk:g} m/min"}
            for m in mins
        ]  # fmt: skip
    elif mins is None:
        how = f" at {speed:g} m/min" if speed else ""
        rows = [{"minutes": d / speed if speed else np.nan, "distance_m": d,
                 "source": f"{d:g} m given{how}"} for d in dists]  # fmt: skip
    elif len(mins) != len(dists):
        raise InputError(
            _(
                "minutes and distances_m are paired in order and must be equally long; "
                "found {n_mins} minutes and {n_dists} distances"
            ).format(n_mins=len(mins), n_dists=len(dists))
        )
    else:
        rows = [
            {"minutes": m, "distance_m": d, "source": "given"}
            for m, d in zip(mins, dists, strict=True)
        ]
    tiers = pd.DataFrame(rows, columns=["minutes", "distance_m", "source"])
    if tiers["distance_m"].duplicated().any():
        raise InputError(
            _("tier distances must differ; found {distance_m} m").format(
                distance_m=tiers["distance_m"].tolist()
            )
        )
    return tiers.sort_values("distance_m", ignore_index=True)


def _positive(values, name) -> list[float]:
    found = np.atleast_1d(np.asarray(values, dtype=object)).tolist()
    try:
        out = [float(x) for x in found]
    except (TypeError, ValueError):
        out = []
    if not out or not all(np.isfinite(x) and x > 0 for x in out):
        raise InputError(
            _("{name} must be positive numbers; found {found!r}").format(name=name, found=found)
        )
    return out


def resolve_tiers(
    tiers: pd.DataFrame | float | Sequence[float] | None = None,
    *,
    minutes: float | Sequence[float] | None = None,
    distances_m: float | Sequence[float] | None = None,
    speed_m_per_min: float | None = None,
) -> pd.DataFrame:
    """Accept tiers in any of the forms the package takes, and check them.

    Parameters
    ----------
    tiers : pandas.DataFrame or float or sequence of float, optional
        A table with ``minutes`` and ``distance_m`` (from :func:`service_tiers`),
        or metres. Not together with the keyword options.
    minutes, distances_m, speed_m_per_min : optional
        As for :func:`service_tiers`.

    Returns
    -------
    pandas.DataFrame
        ``minutes``, ``distance_m``, ``source``, nearest tier first.

    Examples
    --------
    >>> resolve_tiers([500, 300])["distance_m"].tolist()
    [300.0, 500.0]
    >>> resolve_tiers(minutes=[5])["distance_m"].tolist()
    [300.0]
    """
    given = [k for k, v in (("minutes", minutes), ("distances_m", distances_m),
                            ("speed_m_per_min", speed_m_per_min)) if v is not None]  # fmt: skip
    if tiers is None:
        return service_tiers(
            minutes=minutes, distances_m=distances_m, speed_m_per_min=speed_m_per_min
        )
    if given:
        raise InputError(_("pass tiers or {given}, not both").format(given=", ".join(given)))
    if not isinstance(tiers, pd.DataFrame):  # metres, named as the caller passed them
        return service_tiers(distances_m=_positive(tiers, "tiers (metres)"))
    if not {"minutes", "distance_m"} <= set(tiers.columns):
        raise InputError(
            _(
                "tiers must be a DataFrame with columns minutes and distance_m (see "
                "service_tiers()), or metres; found columns {columns}"
            ).format(columns=list(tiers.columns))
        )
    d = pd.to_numeric(tiers["distance_m"], errors="coerce")
    if tiers.empty or not (np.isfinite(d) & (d > 0)).all():
        raise InputError(
            _("tiers need positive distance_m in metres; found {distance_m}").format(
                distance_m=tiers["distance_m"].tolist()
            )
        )
    if d.duplicated().any():
        raise InputError(_("tier distances must differ; found {d} m").format(d=d.tolist()))
    out = tiers.assign(distance_m=d.astype(float))
    if "source" not in out.columns:
        out["source"] = "given"
    return out.sort_values("distance_m", ignore_index=True)
