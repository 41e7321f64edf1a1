"""The install paths a newcomer uses stay in step with each other."""

import re
from pathlib import Path

import tomllib
import yaml

ROOT = Path(__file__).resolve().parent.parent


def _names(specs):
    return {re.split(r"[<>=!~ ]", s.strip(), maxsplit=1)[0].lower() for s in specs}


def test_environment_yml_matches_pyproject():
    py = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    env = yaml.safe_load((ROOT / "environment.yml").read_text())["dependencies"]
    conda = [d for d in env if isinstance(d, str) and not d.startswith(("python", "pip"))]
    pip = [d for d in env if isinstance(d, dict)][0]["pip"]
    pip = [p for p in pip if not p.startswith("-e")]
    assert _names(conda) | _names(pip) == _names(py)
    # the same lower bounds
    py = [s.split(";")[0].strip() for s in py]  # environment markers are pip's alone
    bounds = {re.split(r"[<>=]", s)[0].lower(): s.split(">=")[-1] for s in py}
    for spec in conda + pip:
        name = re.split(r"[<>=]", spec)[0].lower()
        assert spec.split(">=")[-1] == bounds[name], spec


def test_readme_quick_start_is_two_commands():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    m = re.search(r"^##\s+Quick start\s*$(.*?)^```(?:bash|sh)\s*$(.*?)^```", text, re.M | re.S)
    assert m, "README.md needs a '## Quick start' heading with a ```bash block"
    cmds = [c for c in m.group(2).splitlines() if c.strip() and not c.strip().startswith("#")]
    assert len(cmds) == 2
    assert "gongshu-geo build" in cmds[0] and "pytest" in cmds[1]


def test_packaged_data_is_declared_for_wheels():
    cfg = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert cfg["package-dir"]["gongshu_geo._data"] == "data"
    assert "*.geojson" in cfg["package-data"]["gongshu_geo._data.boundaries"]


def test_readme_layout_names_every_module():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = text[text.index("## Layout") :]
    block = block[: block.index("docs/          ")]
    named = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", block))
    modules = {p.stem for p in (ROOT / "gongshu_geo").rglob("*.py")} - {"__init__"}
    assert modules <= named, sorted(modules - named)


def test_message_catalog_is_declared_for_wheels():
    """A wheel carries the compiled Chinese catalog, or an installed package speaks English only."""
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    patterns = data["package-data"]["gongshu_geo"]
    package = ROOT / "gongshu_geo"
    shipped = {p for pattern in patterns for p in package.glob(pattern)}
    assert package / "locale/zh_CN/LC_MESSAGES/gongshu_geo.mo" in shipped
    assert package / "locale/zh_CN/LC_MESSAGES/gongshu_geo.po" in shipped
