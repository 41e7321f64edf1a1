"""Problems found in an input: readable text that also knows its parts.

A :class:`Problem` is a ``str`` (so every message, test and log line stays as it
was) that also carries the feature index, id, field, what was expected and what
was found, for ``--report problems.csv``. Problems written as plain text are
taken apart by :func:`describe_problem`, which reads the wording every message of
the package uses (``feature "ID" (#3): "field" must be ...; found ...``).

The wording is read in English and in Chinese (``要素 "ID" (#3): "field" 应为 ...；实际为 ...``),
the two languages of :mod:`gongshu_geo.core.i18n`.

This module sits at the bottom of the package, beside :mod:`gongshu_geo.core.errors`,
and imports nothing of it but :mod:`gongshu_geo.core.i18n`.
"""

from __future__ import annotations

import re
from collections import Counter

from gongshu_geo.core.i18n import gettext as _

#: How many problems a message lists before it gives only the counts by kind.
MAX_LISTED = 50

REPORT_COLUMNS = ("file", "feature_index", "id", "field", "expected", "found", "kind", "problem")

_LABEL = re.compile(
    r'^(?:(?:feature|要素) "(?P<fid>[^"]*)" \(#(?P<index>\d+)\)'
    r"|(?:feature|要素) #(?P<index2>\d+)"
    r"|(?:street|街道) \"[^\"]*\" \(#(?P<index3>\d+)\)|(?:street|街道) #(?P<index4>\d+)"
    r"|(?:[^:]* )?(?:row|第) ?#?(?P<row>\d+)(?: 行)?)"
    r"(?P<rest>.*)$",
    re.S,
)
_FOUND = re.compile(r"(; found |；实际为 ?)")
_FIELD = re.compile(r'"([^"]+)"')
_VALUES = re.compile(r"'(?:[^'\\]|\\.)*'|\[[^\]]*\]|#\d+")


class Problem(str):
    """One problem: its readable text, plus the parts a report needs.

    Parameters
    ----------
    text : str
        The message, as it is printed.
    index : int, optional
        Position of the feature or row in the file, counting from 0.
    fid : str, optional
        The feature's id.
    field : str, optional
        The property or column at fault.
    expected, found : str, optional
        What the field should hold and what it holds.
    kind : str, optional
        A short description shared by every problem of the same sort, for the
        counts by kind; by default the text without its feature and values.
    """

    def __new__(
        cls, text, *, index=None, fid=None, field=None, expected=None, found=None, kind=None
    ):
        """Make the problem line, keeping its parts for counting and reports."""
        self = super().__new__(cls, text)
        self.feature_index = index
        self.feature_id = fid
        self.field = field
        self.expected = expected
        self.found = found
        self.kind = kind
        return self

    # A problem is never changed once made: copies are itself, so that pandas, which deep-copies
    # a frame's attrs (where skipped problems are kept) on every operation, stays fast.
    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        return self


def describe_problem(problem: str) -> dict:
    """Take a problem apart into feature index, id, field, expected, found and kind.

    Parameters
    ----------
    problem : str
        A :class:`Problem` or plain text in the package's wording.

    Returns
    -------
    dict
        Keys ``feature_index``, ``id``, ``field``, ``expected``, ``found``,
        ``kind`` and ``problem`` (the text); parts that cannot be told are None.
    """
    text = str(problem)
    out = {"feature_index": None, "id": None, "field": None, "expected": None, "found": None}
    rest = text
    match = _LABEL.match(text)
    if match:
        index = next(
            (match.group(g) for g in ("index", "index2", "index3", "index4") if match.group(g)),
            None,
        )
        if index is not None:
            out["feature_index"] = int(index)
        elif match.group("row"):  # spreadsheet rows count the header as row 1
            out["feature_index"] = int(match.group("row")) - 2
        out["id"] = match.group("fid")
        rest = match.group("rest").lstrip(": ：")
    field = _FIELD.search(rest)
    if field:
        out["field"] = field.group(1)
    elif re.search(r"coordinate|geometr|position|polygon|ring|longitude|latitude|坐标|几何", rest):
        out["field"] = "geometry"
    head, sep, found = (_FOUND.split(rest, maxsplit=1) + ["", ""])[:3]
    if sep:
        out["found"] = found.strip()
    for marker in (" must be ", "expected ", " must ", " 应为 ", "应为"):
        if marker in head:
            out["expected"] = head.split(marker, 1)[1].strip()
            break
    for key, column in (
        ("feature_index", "feature_index"),
        ("feature_id", "id"),
        ("field", "field"),
        ("expected", "expected"),
        ("found", "found"),
    ):
        value = getattr(problem, key, None) if isinstance(problem, Problem) else None
        if value is not None:
            out[column] = value
    out["kind"] = _kind_of(problem)
    out["problem"] = text
    return out


def problem_kind(text: str) -> str:
    """Return the sort of a problem: its text without the feature and the values found."""
    match = _LABEL.match(text)
    rest = match.group("rest").lstrip(": ：") if match else text
    rest = _FOUND.split(rest, maxsplit=1)[0]
    rest = re.sub(r"\bfound\b.*$", "found …", rest)
    rest = re.sub(r"实际为.*$", "实际为 …", rest)
    return _VALUES.sub("…", rest).strip()


def _kind_of(problem) -> str:
    given = problem.kind if isinstance(problem, Problem) else None
    return given or problem_kind(str(problem))


def format_problems(problems, *, source=None, limit: int = MAX_LISTED) -> str:
    """Return the readable list of problems: the first ``limit``, then the counts by kind.

    Parameters
    ----------
    problems : list of str
    source : str, optional
        The file the problems are in.
    limit : int
        How many problems to list one by one.

    Returns
    -------
    str
        One problem, or a head line and one line per problem for up to
        ``limit`` problems; beyond that the first ``limit``, then how many
        there are of each kind.
    """
    problems = list(problems)
    if len(problems) == 1:
        return (f"{source}: " if source else "") + problems[0]
    if source:
        head = _("{n} problems in {source}:").format(n=len(problems), source=source)
    else:
        head = _("{n} problems:").format(n=len(problems))
    return "\n".join([head, *list_problems(problems, limit=limit)])


def list_problems(problems, *, limit: int = MAX_LISTED) -> list[str]:
    """Lines ``  - problem`` for the first ``limit`` problems, then the counts by kind."""
    problems = list(problems)
    lines = [f"  - {p}" for p in problems[:limit]]
    if len(problems) > limit:
        kinds = Counter(_kind_of(p) for p in problems)
        lines.append(
            _(
                "  ... and {more} more (write them all with --report problems.csv); "
                "all {n} by kind:"
            ).format(more=len(problems) - limit, n=len(problems))
        )
        lines += [f"  {n:>8} × {kind}" for kind, n in kinds.most_common()]
    return lines


def problem_rows(problems, *, source=None) -> list[dict]:
    """One report row per problem, with the columns of :data:`REPORT_COLUMNS`."""
    return [{"file": source, **describe_problem(p)} for p in problems]
