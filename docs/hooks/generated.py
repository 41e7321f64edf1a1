"""MkDocs hook: fill the pages' placeholders from the package itself, so they never go stale.

- ``<!-- gongshu-geo: api -->`` becomes one mkdocstrings block per public name of
  ``gongshu_geo`` (its ``__all__``), grouped by what the names do. The blocks name
  ``gongshu_geo.NAME``, never the module that defines it, so moving modules into
  subpackages does not change this page.
- ``<!-- gongshu-geo: config-keys -->`` becomes the table of project-file keys.
- ``<!-- gongshu-geo: config-template -->`` becomes the template ``gongshu-geo init`` writes.

The language of a page is read from its file name (``*.en.md`` is English; the rest,
Chinese, the site's default).
"""

from __future__ import annotations

import re

#: (Chinese title, English title, the names' prefixes or names); the first match wins.
_GROUPS = (
    ("读取与检查数据", "Reading and checking data", ("read_", "filter_")),
    (
        "坐标系与 GCJ-02",
        "CRSs and GCJ-02",
        ("from_gcj02", "to_gcj02", "gcj02_", "wgs84_", "to_crs"),
    ),
    (
        "项目与街道",
        "Projects and streets",
        ("join_", "flag_", "summarize_streets", "summarize_outside"),
    ),
    (
        "生活圈覆盖",
        "Service-circle coverage",
        ("service_tiers", "select_", "compute_", "compare_", "summarize_coverage"),
    ),
    ("步行路网", "Walking networks", ("graph_", "download_")),
    ("规划指标", "The plan's targets", ("measure_",)),
    ("地图", "Maps", ("make_", "write_map")),
    ("导出与整体构建", "Exports and the whole build", ("collect_", "export_", "build")),
    ("异常", "Errors", ("Error",)),
)
_PLACEHOLDER = re.compile(r"<!--\s*gongshu-geo:\s*([a-z-]+)\s*-->")


def _group_of(name: str) -> int:
    for index, (_zh, _en, patterns) in enumerate(_GROUPS):
        if any(name.startswith(p) or (p == "Error" and name.endswith(p)) for p in patterns):
            return index
    return len(_GROUPS)


def _api(english: bool) -> str:
    import gongshu_geo

    names = [n for n in gongshu_geo.__all__ if not n.startswith("_")]
    groups: dict[int, list[str]] = {}
    for name in names:
        groups.setdefault(_group_of(name), []).append(name)
    parts = []
    for index in sorted(groups):
        if index < len(_GROUPS):
            zh, en, _ = _GROUPS[index]
        else:
            zh, en = "其他", "Other"
        parts.append(f"## {en if english else zh}\n")
        parts += [f"::: gongshu_geo.{name}\n" for name in groups[index]]
    return "\n".join(parts)


def _config_keys(english: bool) -> str:
    from gongshu_geo.config import CONFIG_KEYS

    head = "| key | option | meaning |" if english else "| 键 | 命令行参数 | 含义 |"
    rows = [head, "|---|---|---|"]
    for key in CONFIG_KEYS:
        option = "--" + key.dest.replace("_", "-")
        if key.invert:
            option = (
                f"`--{key.dest.replace('_', '-')}` (inverted)"
                if english
                else (f"`--{key.dest.replace('_', '-')}`（取反）")
            )
        else:
            option = f"`{option}`"
        meaning = (key.en if english else key.zh).replace("|", "\\|")
        rows.append(f"| `{key.name}` | {option} | {meaning} |")
    return "\n".join(rows) + "\n"


def _config_template(english: bool) -> str:
    from gongshu_geo.config import template_text

    return "```toml\n" + template_text() + "```\n"


_MAKERS = {"api": _api, "config-keys": _config_keys, "config-template": _config_template}


def on_page_markdown(markdown, page, config, files, **kwargs):
    """Replace the placeholders of a page (MkDocs event)."""
    english = page.file.src_uri.endswith(".en.md")

    def fill(match):
        maker = _MAKERS.get(match[1])
        if maker is None:
            raise ValueError(f"{page.file.src_uri}: unknown placeholder {match[0]}")
        return maker(english)

    return _PLACEHOLDER.sub(fill, markdown)
