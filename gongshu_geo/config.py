"""The project file (TOML): keys, defaults, and errors that name the key and the line.

A project file holds what ``gongshu-geo build`` would otherwise be told on the
command line, so that a planning office can keep one file per project and
rebuild with ``gongshu-geo build --config gongshu.toml``. Every option of
``build`` has a key (:data:`CONFIG_KEYS`); the command line overrides the file.
``gongshu-geo init`` writes a commented template (:func:`write_template`).

Relative paths in the file are read relative to the file's own folder, so the
folder can be moved as a whole; ``postgresql://`` addresses are kept as they are.
"""

from __future__ import annotations

import difflib
import logging
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from gongshu_geo.core.atomic import write_text_atomic
from gongshu_geo.core.errors import InputError, OutputError
from gongshu_geo.core.i18n import N_
from gongshu_geo.core.i18n import gettext as _

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

logger = logging.getLogger(__name__)

#: The name ``gongshu-geo init`` gives the project file by default.
DEFAULT_CONFIG_NAME = "gongshu.toml"


class ConfigError(InputError):
    """A project file that cannot be read or holds a key or value that cannot be used."""


@dataclass(frozen=True)
class ConfigKey:
    """One key of the project file and the ``build`` option it stands for.

    Parameters
    ----------
    name : str
        The dotted key, table first, e.g. ``"inputs.projects"``.
    dest : str
        The ``build`` option's argparse destination, e.g. ``"projects"``.
    kind : str
        ``"str"``, ``"path"``, ``"paths"`` (an array of paths), ``"bool"``,
        ``"int"``, ``"number"`` or ``"numbers"`` (an array of numbers).
    zh, en : str
        What the key means, for the template's comments.
    example : str
        A TOML value shown in the template.
    active : bool
        Whether the template sets the key (to the default) or leaves it commented out.
    invert : bool
        The key is the negation of its option (``outputs.png`` is ``not --no-png``).
    """

    name: str
    dest: str
    kind: str
    zh: str
    en: str
    example: str
    active: bool = False
    invert: bool = False


_K = ConfigKey

#: Every key of the project file, in the template's order.
CONFIG_KEYS = (
    _K("inputs.projects", "projects", "path", "规划项目（GeoJSON、GeoPackage、Shapefile 或 "
       "postgresql://…?table=模式.表名）；不填则用本包自带的数据",
       "projects file or postgresql:// URL; default: the packaged data",
       '"my_projects.geojson"'),
    _K("inputs.streets", "streets", "path", "街道边界（例如规划部门的正式边界）",
       "street boundaries, e.g. official ones", '"街道.shp"'),
    _K("inputs.sql", "sql", "str", "没有 ?table= 的 postgresql:// 输入所用的查询",
       "the query for the one postgresql:// input without ?table=",
       '"SELECT * FROM gongshu.projects_park"'),
    _K("inputs.name_field", "name_field", "str", "街道名称字段", "street name field",
       '"街道名称"'),
    _K("inputs.code_field", "code_field", "str", "街道代码字段", "street code field",
       '"街道代码"'),
    _K("inputs.streets_crs", "streets_crs", "str",
       "街道文件没有坐标系时的坐标系；高德数据填 GCJ-02",
       "CRS of the streets when the file has none; GCJ-02 for AMap data", '"EPSG:4549"'),
    _K("inputs.streets_encoding", "streets_encoding", "str",
       "街道属性的编码（没有 .cpg 的 Shapefile 常为 GBK）",
       "attribute encoding of the streets (GBK for a Shapefile without .cpg)", '"GBK"'),
    _K("inputs.population", "population", "path", "按街道代码的人口表（CSV 或 XLSX）",
       "population table by street code (CSV or XLSX)", '"人口.csv"'),
    _K("inputs.population_field", "population_field", "str", "人口表中的人口列",
       "population column of the table", '"population"', active=True),
    _K("inputs.population_code_field", "population_code_field", "str",
       "人口表中的街道代码列", "street-code column of the table", '"street_code"',
       active=True),
    _K("inputs.population_layer", "population_layer", "path",
       "带人数的人口点或面图层，代替在街道内平均分布人口",
       "population points or polygons with counts, instead of an even spread",
       '"grid.gpkg"'),
    _K("inputs.population_layer_field", "population_layer_field", "str",
       "人口图层中的人数列", "count column of the population layer", '"population"',
       active=True),
    _K("inputs.facilities", "facilities", "paths",
       "自己的设施图层，按文件名命名，作为情景 user 计算覆盖",
       "your own facility layers, named after the file, measured as scenario 'user'",
       '["clinics.csv", "schools.gpkg"]'),
    _K("inputs.graph", "graph", "path", "步行路网（GraphML 或步行线图层），用于按路网计算覆盖",
       "walking network (GraphML or a line layer) for network coverage", '"walk.graphml"'),
    _K("inputs.baseline", "baseline", "path",
       "各图层现状设施是否齐全（列 layer、completeness、basis）",
       "how complete each layer's existing facilities are", '"baseline.csv"'),
    _K("checks.skip_invalid", "skip_invalid", "bool", "跳过无效的项目要素（并列出），而不是停止",
       "skip invalid project features (listed) instead of stopping", "false", active=True),
    _K("checks.strict", "strict", "bool",
       "与 skip_invalid 同用：有跳过时仍以 1 退出；并对不符合 P-<类别>-NNN 约定的自有编号给出警告",
       "with skip_invalid: still exit 1 when anything was skipped; also warn about own ids "
       "off the P-<CATEGORY>-NNN convention", "false", active=True),
    _K("checks.report", "report", "path", "把发现（或跳过）的每个问题写入这个 CSV，每个问题一行",
       "write every problem found (or skipped) to this CSV, one row per problem",
       '"problems.csv"'),
    _K("checks.fix_geometry", "fix_geometry", "bool", "用 shapely.make_valid 修复无效或未闭合的面",
       "repair invalid or unclosed polygons with shapely.make_valid", "false", active=True),
    _K("tiers.minutes", "minutes", "numbers", "步行分钟数（默认 GB 50180-2018 的 5、10、15 分钟）",
       "tiers in minutes (default the GB 50180-2018 5, 10, 15)", "[5, 10, 15]"),
    _K("tiers.distances_m", "distances_m", "numbers", "步行距离（米）；与 minutes 同给时按顺序配对",
       "tiers in metres; paired in order with minutes when both are given",
       "[300, 500, 1000]"),
    _K("tiers.speed_m_per_min", "speed_m_per_min", "number", "步行速度（米/分钟），默认 60",
       "walking speed in metres per minute (default 60)", "60"),
    _K("tiers.cell_m", "cell_m", "number", "统计网格的单元边长（米），默认 10",
       "cell size of the coverage grid, metres (default 10)", "10"),
    _K("maps.basemap", "basemap", "str", "底图：osm、carto、amap、amap-satellite、tianditu 或 none",
       "osm, carto, amap, amap-satellite, tianditu or none", '"osm"', active=True),
    _K("maps.tianditu_key", "tianditu_key", "str", "天地图密钥（也可设环境变量 TIANDITU_KEY）",
       "Tianditu key (or set TIANDITU_KEY)", '"..."'),
    _K("maps.cdn", "cdn", "bool", "从 CDN 链接 Leaflet，而不是内嵌（文件更小，但需联网）",
       "link Leaflet from CDNs instead of inlining it", "false", active=True),
    _K("maps.as_of", "as_of", "int", "地图和 stats/schedule_state.csv 显示哪一年的计划进度",
       "the year whose scheduled state the maps and schedule_state.csv show", "2024"),
    _K("outputs.out", "out", "path", "输出文件夹", "output folder", '"maps"', active=True),
    _K("outputs.png", "no_png", "bool", "同时输出静态 PNG 地图", "also write the static PNG maps",
       "true", active=True, invert=True),
    _K("outputs.surfaces", "no_surfaces", "bool",
       "同时输出可达性栅格（GeoTIFF）、H3 六边形和网页地图中的步行时间图层",
       "also write the accessibility surfaces (GeoTIFF, H3 hexagons, the maps' minutes layer)",
       "true", active=True, invert=True),
)  # fmt: skip

_BY_NAME = {key.name: key for key in CONFIG_KEYS}
_TABLES = tuple(dict.fromkeys(key.name.split(".")[0] for key in CONFIG_KEYS))
_TABLE_TITLES = {
    "inputs": "输入 inputs（不填则用本包自带的数据 / default: the packaged data）",
    "checks": "检查 checks",
    "tiers": "生活圈分级 service tiers（不填则为 GB 50180-2018 的 5/10/15 分钟）",
    "maps": "地图 maps",
    "outputs": "输出 outputs",
}
_EXPECTED = {  # translated where a message names them
    "str": N_("a string"),
    "path": N_("a string (a path or postgresql:// URL)"),
    "paths": N_("an array of strings (paths)"),
    "bool": N_("true or false"),
    "int": N_("an integer"),
    "number": N_("a number"),
    "numbers": N_("an array of numbers"),
}


def read_config(path) -> dict:
    """Read a project file into ``build`` options.

    Parameters
    ----------
    path : str or Path
        A TOML file as :func:`write_template` writes it.

    Returns
    -------
    dict
        ``build`` option (argparse destination, e.g. ``"no_png"``) -> value, for
        the keys the file sets. Relative paths are made relative to the file's
        folder.

    Raises
    ------
    ConfigError
        The file cannot be read or is not TOML (the message gives the line), or
        it holds unknown keys (with the line and the closest known key) or values
        of the wrong type (the key, what was expected and what was found). Every
        problem of the file is listed at once.
    """
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8")
    except OSError as exc:
        raise ConfigError(
            _(
                "cannot read the project file ({strerror}); write one with `gongshu-geo init`"
            ).format(strerror=exc.strerror),
            source=str(path),
        ) from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(
            _("byte {start}: not UTF-8; TOML files are UTF-8 (save it as UTF-8, not GBK)").format(
                start=exc.start
            ),
            source=str(path),
        ) from exc
    return parse_config(text, source=str(path), base=path.parent)


def parse_config(text: str, *, source: str = DEFAULT_CONFIG_NAME, base=None) -> dict:
    r"""Parse the text of a project file into ``build`` options.

    Parameters
    ----------
    text : str
        TOML.
    source : str
        The file name used in messages.
    base : str or Path, optional
        The folder relative paths are taken from; left as they are without it.

    Returns
    -------
    dict
        As :func:`read_config` returns.

    Examples
    --------
    >>> parse_config('[maps]\nbasemap = "amap"\n[outputs]\npng = false\n')
    {'basemap': 'amap', 'no_png': True}
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(_describe_toml_error(exc, text), source=source) from exc
    lines = _key_lines(text)
    problems, options = [], {}
    for name, value in _flatten(data):
        where = _line_of(name, lines)
        key = _BY_NAME.get(name)
        if key is None:
            problems.append(
                _("{where}unknown key {name}{suggest}").format(
                    where=where, name=name, suggest=_suggest(name)
                )
            )
            continue
        problem = _type_problem(key, value)
        if problem:
            problems.append(
                _("{where}{name}: {problem}").format(where=where, name=name, problem=problem)
            )
            continue
        options[key.dest] = _convert(key, value, base)
    if problems:
        raise ConfigError(problems, source=source)
    logger.debug("%s: %d keys", source, len(options))
    return options


def template_text() -> str:
    """Return the commented template ``gongshu-geo init`` writes.

    Keys with a default are set to it; the others are commented out with an
    example, so the template as written builds the packaged data into ``maps/``.

    Returns
    -------
    str
        TOML.
    """
    lines = [
        "# gongshu-geo 项目文件 / project file",
        "# 用法 usage: gongshu-geo build --config gongshu.toml",
        "# 命令行参数优先于本文件 / the command line overrides this file.",
        "# 相对路径相对于本文件所在的文件夹 / relative paths are relative to this file's folder.",
        "# 去掉行首的 # 即可启用该项 / remove the leading # to use a key.",
    ]
    for table in _TABLES:
        lines += ["", f"# {_TABLE_TITLES[table]}", f"[{table}]"]
        for key in CONFIG_KEYS:
            if key.name.split(".")[0] != table:
                continue
            leaf = key.name.split(".", 1)[1]
            lines += [f"# {key.zh}", f"# {key.en}"]
            lines.append(f"{'' if key.active else '# '}{leaf} = {key.example}")
    return "\n".join(lines) + "\n"


def write_template(path=DEFAULT_CONFIG_NAME, *, overwrite: bool = False) -> Path:
    """Write the commented template of a project file.

    Parameters
    ----------
    path : str or Path
        Where to write it (``gongshu.toml`` by default).
    overwrite : bool
        Replace an existing file; without it an existing file is an error.

    Returns
    -------
    Path
        The file written.
    """
    path = Path(path)
    if path.exists() and not overwrite:
        raise OutputError(
            _("{path}: already exists; choose another name or pass --force").format(path=path)
        )
    write_text_atomic(path, template_text())
    logger.info(_("wrote the project file template %s"), path)
    return path


def _flatten(data: dict, prefix: str = ""):
    """Yield ``(dotted key, value)``; tables are descended into, known keys are leaves."""
    for name, value in data.items():
        dotted = f"{prefix}{name}"
        if isinstance(value, dict) and dotted not in _BY_NAME:
            yield from _flatten(value, f"{dotted}.")
        else:
            yield dotted, value


def _describe_toml_error(exc, text: str) -> str:
    message = str(exc)
    match = re.search(r"\(at line (\d+), column (\d+)\)$", message)
    if match:
        head = message[: match.start()].rstrip()
        return _("line {line}, column {column}: not valid TOML: {reason}").format(
            line=match[1], column=match[2], reason=head
        )
    if message.endswith("(at end of document)"):
        head = message[: -len("(at end of document)")].rstrip()
        last = max(1, len(text.rstrip("\n").splitlines()))
        return _("line {line} (end of file): not valid TOML: {reason}").format(
            line=last, reason=head
        )
    return _("not valid TOML: {reason}").format(reason=message)


_HEADER = re.compile(r"^\s*\[\[?\s*([^\[\]#]+?)\s*\]\]?\s*(#.*)?$")
_ASSIGN = re.compile(
    r"^\s*((?:[A-Za-z0-9_-]+|\"[^\"]*\"|'[^']*')(?:\s*\.\s*(?:[A-Za-z0-9_-]+|\"[^\"]*\"|'[^']*'))*)\s*="
)  # noqa: E501


def _key_lines(text: str) -> dict:
    """Dotted key (or table) -> the line that sets it; a scan good enough for messages."""
    out, table, in_string = {}, "", None
    for number, line in enumerate(text.splitlines(), start=1):
        if in_string:
            if in_string in line:
                in_string = None
            continue
        header = _HEADER.match(line)
        if header:
            table = _dotted(header[1])
            out.setdefault(table, number)
            continue
        assign = _ASSIGN.match(line)
        if assign:
            name = _dotted(assign[1])
            out.setdefault(f"{table}.{name}" if table else name, number)
            rest = line[assign.end() :]
            for quote in ('"""', "'''"):
                if rest.count(quote) % 2 == 1:
                    in_string = quote
    return out


def _dotted(key: str) -> str:
    return ".".join(part.strip().strip("\"'") for part in key.split("."))


def _line_of(name: str, lines: dict) -> str:
    parts = name.split(".")
    for n in range(len(parts), 0, -1):
        line = lines.get(".".join(parts[:n]))
        if line is not None:
            return _("line {line}: ").format(line=line)
    return ""


def _suggest(name: str) -> str:
    leaf = name.rsplit(".", 1)[-1]
    same_leaf = [k for k in _BY_NAME if k.rsplit(".", 1)[-1] == leaf]
    close = same_leaf or difflib.get_close_matches(name, list(_BY_NAME), n=1, cutoff=0.6)
    if not close:
        leaves = {k.rsplit(".", 1)[-1]: k for k in _BY_NAME}
        close = [leaves[m] for m in difflib.get_close_matches(leaf, list(leaves), n=1)]
    if close:
        return _("; did you mean {key}?").format(key=close[0])
    tables = ", ".join(f"[{t}]" for t in _TABLES)
    return _("; known tables are {tables}").format(tables=tables)


def _toml_type(value) -> str:
    names = {bool: _("a boolean"), int: _("an integer"), float: _("a float"), str: _("a string"),
             list: _("an array"), dict: _("a table")}  # fmt: skip
    kind = names.get(type(value), f"a {type(value).__name__}")
    shown = repr(value) if not isinstance(value, (dict, list)) or len(repr(value)) < 40 else "…"
    if isinstance(value, bool):
        shown = "true" if value else "false"
    return f"{kind} ({shown})"


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _type_problem(key: ConfigKey, value) -> str | None:
    checks = {
        "str": lambda v: isinstance(v, str),
        "path": lambda v: isinstance(v, str),
        "bool": lambda v: isinstance(v, bool),
        "int": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "number": _is_number,
        "paths": lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v),
        "numbers": lambda v: isinstance(v, list) and all(_is_number(x) for x in v),
    }
    if checks[key.kind](value):
        return None
    if isinstance(value, list) and key.kind in ("paths", "numbers"):
        bad = next(x for x in value if not checks[key.kind]([x]))
        return _("expected {expected}; found an element that is {found}").format(
            expected=_(_EXPECTED[key.kind]), found=_toml_type(bad)
        )
    return _("expected {expected}; found {found}").format(
        expected=_(_EXPECTED[key.kind]), found=_toml_type(value)
    )


def _convert(key: ConfigKey, value, base):
    if key.invert:
        return not value
    if key.kind == "path":
        return _resolve(value, base)
    if key.kind == "paths":
        return [_resolve(v, base) for v in value]
    if key.kind == "numbers":
        return [float(v) for v in value]
    if key.kind == "number":
        return float(value)
    return value


def _resolve(value: str, base) -> str:
    if base is None or "://" in value or Path(value).is_absolute():
        return value
    return str(Path(base) / value)
