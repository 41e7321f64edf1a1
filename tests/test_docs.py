"""The documentation site builds with warnings as errors, in Chinese and English, offline."""

import html
import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import gongshu_geo
from gongshu_geo.config import CONFIG_KEYS, template_text
from tests._system import skip_or_fail

ROOT = Path(__file__).resolve().parent.parent
NEEDED = (
    "mkdocs",
    "material",
    "mkdocstrings",
    "mkdocstrings_handlers.python",
    "mkdocs_static_i18n",
)

pytestmark = pytest.mark.slow


def _missing() -> list:
    missing = []
    for name in NEEDED:
        try:
            found = importlib.util.find_spec(name) is not None
        except ModuleNotFoundError:
            found = False
        if not found:
            missing.append(name)
    return missing


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    missing = _missing()
    if missing:
        skip_or_fail(
            f"{', '.join(missing)} not installed: the docs cannot be built "
            '(pip install -e ".[docs]")'
        )
    out = tmp_path_factory.mktemp("site")
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert not re.search(r"^(WARNING|ERROR)", proc.stderr, re.M), proc.stderr[-4000:]
    return out


def _text(path: Path) -> str:
    """The page's visible text: tags removed, entities decoded."""
    return html.unescape(re.sub(r"<[^>]+>", "", path.read_text(encoding="utf-8")))


def test_chinese_is_the_default_and_english_beside_it(site):
    zh = (site / "index.html").read_text(encoding="utf-8")
    en = (site / "en" / "index.html").read_text(encoding="utf-8")
    assert '<html lang="zh"' in zh and "从哪里开始" in zh
    assert '<html lang="en"' in en and "Where to start" in en
    for page in ("getting-started", "guide/planners", "guide/analysts", "guide/gis", "data"):
        assert (site / page / "index.html").exists(), page
        assert (site / "en" / page / "index.html").exists(), page


def test_the_api_reference_documents_every_public_name_in_both_languages(site):
    names = [n for n in gongshu_geo.__all__ if not n.startswith("_")]
    for page in (site / "reference/api/index.html", site / "en/reference/api/index.html"):
        text = page.read_text(encoding="utf-8")
        missing = [n for n in names if f'id="gongshu_geo.{n}"' not in text]
        assert not missing, f"{page}: no entry for {missing}"
    # the docstrings themselves are there, e.g. the numpydoc parameters of read_streets
    assert "name_field" in _text(site / "en/reference/api/index.html")


def test_the_provenance_page_includes_data_readme(site):
    headings = re.findall(r"^#+\s+(.+?)\s*$", (ROOT / "data/README.md").read_text("utf-8"), re.M)
    assert len(headings) > 5
    for page in (site / "data/index.html", site / "en/data/index.html"):
        text = _text(page)
        missing = [h.replace("`", "") for h in headings if h.replace("`", "") not in text]
        assert not missing, f"{page}: data/README.md sections missing: {missing}"


def test_the_planners_guide_shows_the_current_template_and_every_key(site):
    for page in (site / "guide/planners/index.html", site / "en/guide/planners/index.html"):
        text = _text(page)
        for line in template_text().splitlines():
            assert line in text, f"{page}: template line {line!r} missing"
        for key in CONFIG_KEYS:
            assert key.name in text, key.name


def test_the_site_fetches_nothing_from_the_web(site):
    pages = list(site.rglob("*.html"))
    assert len(pages) >= 16
    external = re.compile(r"<(?:script|link|img)\b[^>]*\b(?:src|href)=\"(?:https?:)?//", re.I)
    for page in pages:
        found = external.findall(page.read_text(encoding="utf-8"))
        assert not found, f"{page.relative_to(site)} loads from the web: {found[:3]}"


def test_images_resolve_in_both_languages(site):
    for page in (site / "index.html", site / "en" / "index.html"):
        sources = re.findall(r'<img[^>]+src="([^"]+)"', page.read_text(encoding="utf-8"))
        assert sources, page
        for src in sources:
            assert (page.parent / src).resolve().is_file(), f"{page}: {src} does not resolve"
