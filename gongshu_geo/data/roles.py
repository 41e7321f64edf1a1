"""Catch frames passed in the wrong roles, now that streets come first.

Since 0.2 every public function that takes streets takes them first
(``join_projects_to_streets(streets, projects)``). A caller written for the old
order passes a projects or points frame where streets are expected, and the
call would otherwise fail deep inside with an unrelated message, or not at all.
:func:`check_roles` looks at the columns of the frames a function received and
says which argument looks like what.
"""

from __future__ import annotations

import pandas as pd

from gongshu_geo.core.errors import InputError
from gongshu_geo.core.i18n import gettext as _

#: What each kind of frame carries and the others do not.
_STREET_MARK = "street_code"
_PROJECT_MARK = "category"


def _looks_like(frame) -> str | None:
    """``"streets"``, ``"projects"`` or None, from the frame's columns."""
    if not isinstance(frame, pd.DataFrame):
        return None
    cols = set(frame.columns)
    if _PROJECT_MARK in cols and "id" in cols:
        return "projects"
    if _STREET_MARK in cols:
        return "streets"
    return None


def check_roles(func: str, streets, order: str, **others) -> None:
    """Refuse a call whose ``streets`` argument is another frame, or swapped with one.

    Parameters
    ----------
    func : str
        The public function, for the message.
    streets : object
        What the caller passed as ``streets``.
    order : str
        The arguments in their order, for the message (``"streets, projects"``).
    **others
        The other data arguments by name; ``projects`` is expected to look
        like projects (``id`` and ``category`` columns).

    Raises
    ------
    InputError
        When ``streets`` has no ``street_code`` column but looks like projects,
        or another argument has one; when ``projects`` looks like streets.
    """
    problems = []
    if isinstance(streets, pd.DataFrame) and _STREET_MARK not in streets.columns:
        kind = _looks_like(streets)
        if kind == "projects":
            problems.append(
                _(
                    'streets looks like a projects layer (it has "id" and "{project}" '
                    'columns and no "{street}")'
                ).format(project=_PROJECT_MARK, street=_STREET_MARK)
            )
        for name, frame in others.items():
            if isinstance(frame, pd.DataFrame) and _STREET_MARK in frame.columns:
                problems.append(
                    _('{name} looks like streets (it has a "{street}" column)').format(
                        name=name, street=_STREET_MARK
                    )
                )
    projects = others.get("projects")
    if _looks_like(projects) == "streets":
        problems.append(
            _('projects looks like streets (it has a "{street}" column and no "{project}")').format(
                street=_STREET_MARK, project=_PROJECT_MARK
            )
        )
    if problems:
        raise InputError(
            _(
                "{func}: {problems}. Streets come first since gongshu_geo 0.2: call {func}({order})"
            ).format(func=func, problems=_("; ").join(problems), order=order)
        )


def check_streets_frame(func: str, streets, order: str) -> None:
    """Refuse a ``streets`` argument that is not a frame at all (e.g. a SiteChoice).

    Parameters
    ----------
    func : str
        The public function, for the message.
    streets : object
        What the caller passed as ``streets``.
    order : str
        The arguments in their order, for the message.

    Raises
    ------
    InputError
        When ``streets`` is not a DataFrame.
    """
    if not isinstance(streets, pd.DataFrame):
        raise InputError(
            _(
                "{func}: streets must be a GeoDataFrame; found {type}. Streets come first "
                "since gongshu_geo 0.2: call {func}({order})"
            ).format(func=func, type=type(streets).__name__, order=order)
        )
