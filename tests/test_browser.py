"""Saved maps opened in real headless Chromium: no console errors, every feature drawn.

Chromium runs with every host name resolving to nothing, so no test touches the
network: tiles fail to load (as on an offline machine) and the vector layers
must still show on the plain background.

Set ``GONGSHU_GEO_SCREENSHOTS=maps/screenshots`` to also keep the screenshot of
the packaged-data overview there as ``overview.png``.
"""

import os
import shutil
import time
from pathlib import Path

import pytest
from _fixtures import N_PROJECTS, coverage, district, facilities, gaps, projects, service_areas
from _fixtures import streets as fixture_streets
from _system import require_program, system_required

from gongshu_geo.data.schema import CATEGORIES
from gongshu_geo.maps import layers as _mapdata
from gongshu_geo.maps import web as maps

pytestmark = [pytest.mark.system, pytest.mark.slow]

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
SCREENSHOT_ENV = "GONGSHU_GEO_SCREENSHOTS"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
INTERACTIVE = "path.leaflet-interactive"


@pytest.fixture(scope="module")
def driver(tmp_path_factory):
    chromium = require_program(CHROMIUM, "the browser tests open saved maps in Chromium")
    chromedriver = require_program(CHROMEDRIVER, "selenium drives Chromium through chromedriver")
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        if system_required():
            pytest.fail("selenium is not installed: pip install selenium", pytrace=False)
        pytest.skip("selenium is not installed: pip install selenium")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
        "--disable-sync",
        f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}",
        "--window-size=1400,1000",
        "--host-resolver-rules=MAP * ~NOTFOUND",  # offline: tiles cannot load
    ):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    browser = webdriver.Chrome(service=Service(chromedriver), options=options)
    yield browser
    browser.quit()


def open_map(driver, path: Path, *, expected_paths: int):
    """Load a saved map, wait for its vector paths, return the console log."""
    driver.get_log("browser")  # drop what earlier pages logged
    driver.get(path.resolve().as_uri())
    deadline = time.monotonic() + 15
    count = -1
    while time.monotonic() < deadline:
        count = driver.execute_script(f"return document.querySelectorAll({INTERACTIVE!r}).length")
        if count >= expected_paths:
            break
        time.sleep(0.1)
    time.sleep(0.3)
    return driver.get_log("browser")


def errors_other_than_tiles(log, tile_hosts=()):
    """SEVERE entries, leaving out the expected failures to fetch tiles offline."""
    return [
        entry
        for entry in log
        if entry["level"] == "SEVERE"
        and not (entry["source"] == "network" and any(h in entry["message"] for h in tile_hosts))
    ]


def drawn_parts(frame) -> int:
    """Leaflet draws one path per feature, one circle per point of a MultiPoint."""
    return int(sum(len(g.geoms) if g.geom_type == "MultiPoint" else 1 for g in frame.geometry))


def layer_labels(driver):
    return driver.execute_script(
        "return Array.from(document.querySelectorAll("
        "'.leaflet-control-layers-overlays label')).map(e => e.textContent.trim())"
    )


def check_screenshot(driver, path: Path) -> Path:
    assert driver.save_screenshot(str(path))
    assert path.read_bytes().startswith(PNG_SIGNATURE)
    assert path.stat().st_size > 10_000
    return path


def test_overview_draws_every_feature_without_errors(driver, tmp_path):
    path = maps.write_map(
        maps.make_overview_map(fixture_streets(), projects(), district(), basemap="none"),
        tmp_path / "overview.html",
    )
    expected = N_PROJECTS + len(fixture_streets())
    log = open_map(driver, path, expected_paths=expected)
    assert errors_other_than_tiles(log) == []
    assert driver.execute_script('return typeof L !== "undefined"')
    assert driver.execute_script("return L.version") == "1.9.3"
    assert driver.execute_script(f"return document.querySelectorAll({INTERACTIVE!r}).length") == (
        expected
    )
    points = driver.execute_script(
        "return document.querySelectorAll('.leaflet-gsPoints-pane path').length"
    )
    assert points == int((projects().geom_type == "Point").sum())
    labels = layer_labels(driver)
    for label, _prefix, _kinds in CATEGORIES.values():
        assert any(text.startswith(label + " ") for text in labels), label
    legend = driver.execute_script("return document.querySelector('.gs-legend').innerText")
    assert "公园绿地 Parks" in legend and "规划 planned" in legend
    check_screenshot(driver, tmp_path / "overview.png")


def test_popup_opens_with_plan_ref_and_accuracy(driver, tmp_path):
    from selenium.webdriver.common.by import By

    path = maps.write_map(
        maps.make_overview_map(fixture_streets(), projects(), district(), basemap="none"),
        tmp_path / "popup.html",
    )
    open_map(driver, path, expected_paths=N_PROJECTS + 3)
    station = driver.find_elements(By.CSS_SELECTOR, ".leaflet-gsPoints-pane path")[0]
    driver.execute_script(
        "arguments[0].dispatchEvent(new MouseEvent('click', {bubbles: true}))", station
    )
    time.sleep(0.3)
    text = driver.execute_script(
        "const p = document.querySelector('.leaflet-popup-content'); return p && p.innerText"
    )
    assert text and "规划依据" in text and "定位精度" in text and "±" in text


def test_vectors_show_on_the_plain_background_when_tiles_are_unreachable(driver, tmp_path):
    path = maps.write_map(
        maps.make_overview_map(fixture_streets(), projects(), district(), basemap="osm"),
        tmp_path / "osm.html",
    )
    expected = N_PROJECTS + 3
    log = open_map(driver, path, expected_paths=expected)
    assert errors_other_than_tiles(log, ("tile.openstreetmap.org",)) == []
    assert driver.execute_script(f"return document.querySelectorAll({INTERACTIVE!r}).length") == (
        expected
    )
    background = driver.execute_script(
        "return getComputedStyle(document.querySelector('.leaflet-container')).backgroundColor"
    )
    r, g, b = (int(_mapdata.BACKGROUND[i : i + 2], 16) for i in (1, 3, 5))
    assert background == f"rgb({r}, {g}, {b})"


def test_coverage_map_in_the_browser(driver, tmp_path):
    m = maps.make_coverage_map(
        fixture_streets(),
        service_areas(),
        gaps(),
        coverage(),
        facility="park",
        facilities=facilities(),
        basemap="none",
    )
    path = maps.write_map(m, tmp_path / "coverage.html")
    top_gaps = gaps()
    top_gaps = top_gaps[(top_gaps["minutes"] == 15) & ~top_gaps.geometry.is_empty]
    # shown at start: 15-min choropleth (3 streets), 3 service areas, 15-min gaps, 2 facilities
    expected = 3 + 3 + len(top_gaps) + 2
    log = open_map(driver, path, expected_paths=expected)
    assert errors_other_than_tiles(log) == []
    assert driver.execute_script(f"return document.querySelectorAll({INTERACTIVE!r}).length") == (
        expected
    )
    labels = layer_labels(driver)
    for minutes in (5, 10, 15):
        assert any(t.startswith(f"{minutes} 分钟服务范围") for t in labels)
    check_screenshot(driver, tmp_path / "coverage.png")


def test_packaged_overview_in_the_browser(driver, tmp_path):
    from gongshu_geo import read_district, read_projects, read_streets
    from gongshu_geo.data.io import data_path

    if not data_path("projects.geojson").exists():
        pytest.skip("packaged data/projects.geojson is not there yet")
    proj, strt = read_projects(), read_streets()
    path = maps.write_map(
        maps.make_overview_map(strt, proj, read_district(), basemap="osm"),
        tmp_path / "index.html",
    )
    expected = drawn_parts(proj) + len(strt)
    log = open_map(driver, path, expected_paths=expected)
    assert errors_other_than_tiles(log, ("tile.openstreetmap.org",)) == []
    assert driver.execute_script(f"return document.querySelectorAll({INTERACTIVE!r}).length") == (
        expected
    )
    shot = check_screenshot(driver, tmp_path / "overview.png")
    keep = os.environ.get(SCREENSHOT_ENV)
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, Path(keep) / "overview.png")


def _scheduled_projects():
    """Fixture projects with known years: start 2021..2025 in turn, every fourth unscheduled."""
    import json

    frame = projects()
    n = len(frame)
    starts = [None if i % 4 == 3 else 2021 + i % 5 for i in range(n)]
    frame["start_year"] = starts
    frame["end_year"] = [None if s is None else s + 2 for s in starts]
    log = [{"date": "2023-05", "status": "completed", "source": "test"}]
    frame["status_log"] = [json.dumps(log) if i == 0 else None for i in range(n)]
    frame.loc[0, "status"] = "completed"
    return frame


def test_year_slider_shows_projects_year_by_year(driver, tmp_path):
    frame = _scheduled_projects()
    path = maps.write_map(
        maps.make_overview_map(fixture_streets(), frame, district(), basemap="none"),
        tmp_path / "slider.html",
    )
    everything = N_PROJECTS + len(fixture_streets())
    log = open_map(driver, path, expected_paths=everything)
    assert errors_other_than_tiles(log) == []
    count_paths = f"return document.querySelectorAll({INTERACTIVE!r}).length"
    assert driver.execute_script(count_paths) == everything  # "all" is ticked at first
    move = (
        "var s = document.getElementById('gs-year'); s.value = arguments[0];"
        "s.dispatchEvent(new Event('input')); return window.gsTimeline.counts;"
    )
    starts = [None if s != s else int(s) for s in frame["start_year"]]  # NaN -> None
    for year in range(2021, 2028):
        counts = driver.execute_script(move, year)
        started = [s is None or s <= year for s in starts]
        # what the browser draws: streets plus every project already started or unscheduled
        assert driver.execute_script(count_paths) == len(fixture_streets()) + sum(started), year
        under_way = sum(s is not None and s <= year < s + 2 for s in starts)
        due = sum(s is not None and year >= s + 2 for s in starts)
        assert (counts["in_progress"], counts["due"]) == (under_way, due), year
        assert counts["done"] == (1 if year >= 2023 else 0)
        label = driver.execute_script("return document.getElementById('gs-year-label').textContent")
        assert label == str(year)
    driver.execute_script("document.getElementById('gs-year-all').click()")
    assert driver.execute_script(count_paths) == everything


def test_as_of_opens_the_slider_at_that_year(driver, tmp_path):
    frame = _scheduled_projects()
    path = maps.write_map(
        maps.make_overview_map(fixture_streets(), frame, district(), basemap="none", as_of=2023),
        tmp_path / "as_of.html",
    )
    starts = [None if s != s else int(s) for s in frame["start_year"]]
    expected = len(fixture_streets()) + sum(s is None or s <= 2023 for s in starts)
    open_map(driver, path, expected_paths=expected)
    count = f"return document.querySelectorAll({INTERACTIVE!r}).length"
    assert driver.execute_script(count) == expected
    label = driver.execute_script("return document.getElementById('gs-year-label').textContent")
    assert label == "2023"


def test_street_pages_render_and_print(driver, tmp_path):
    import pandas as pd

    from gongshu_geo.analysis.join import join_projects_to_streets
    from gongshu_geo.analysis.schedule import summarize_schedule
    from gongshu_geo.maps.street_pages import write_street_pages

    frame = _scheduled_projects()
    strt = fixture_streets()
    joined = join_projects_to_streets(strt, frame)
    rows = [
        {"scenario": sc, "street_code": c, "facility": "park", "minutes": m, "mode": "distance",
         "covered_pop_share": share, "baseline": "partial"}
        for c in strt["street_code"] for m in (5, 10, 15)
        for sc, share in (("existing", 0.1), ("plan", 0.4))
    ]  # fmt: skip
    gains = pd.DataFrame(rows).query("scenario == 'plan'").assign(new_covered_pop=300.0)

    def stage(rel):
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    written = write_street_pages(
        stage,
        streets=strt,
        projects=frame,
        joined=joined,
        schedule=summarize_schedule(joined, frame),
        coverage=pd.DataFrame(rows),
        gains=gains,
    )
    assert len(written) == len(strt) + 1
    driver.get_log("browser")
    driver.get((tmp_path / "streets" / "330105901.html").as_uri())
    assert errors_other_than_tiles(driver.get_log("browser")) == []
    text = driver.execute_script("return document.body.innerText")
    assert (
        "甲街道 规划项目进度" in text and "10% → 40% +300 人" in text and "不完整 partial" in text
    )
    svg = driver.execute_script("return document.querySelectorAll('svg path, svg circle').length")
    assert svg >= 1 + joined[joined["street_code"] == "330105901"]["project_id"].nunique()
    check_screenshot(driver, tmp_path / "street.png")
    pdf = driver.print_page()  # base64 PDF, as the browser's print dialog makes it
    import base64

    assert base64.b64decode(pdf).startswith(b"%PDF")


def test_require_program_skips_or_fails(monkeypatch):
    import _system

    missing = "/nonexistent/gongshu-geo-program"
    monkeypatch.delenv(_system.REQUIRE_ENV, raising=False)
    with pytest.raises(pytest.skip.Exception, match=r"gongshu-geo-program not found: needed"):
        require_program(missing, "needed here")
    monkeypatch.setenv(_system.REQUIRE_ENV, "1")
    with pytest.raises(pytest.fail.Exception, match=r"GONGSHU_GEO_REQUIRE_SYSTEM=1 this is a fail"):
        require_program(missing, "needed here")
    assert require_program("sh", "always there") == shutil.which("sh")
