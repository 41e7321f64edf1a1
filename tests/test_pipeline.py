"""`build` end to end: its outputs, and that nothing good is ever lost or half-written."""

import errno
import hashlib
import os
import re
import signal
import subprocess
import sys
import time

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest

import gongshu_geo as gg
from gongshu_geo import OutputError, pipeline
from gongshu_geo.core import atomic as _atomic
from gongshu_geo.data.io import data_path

pytestmark = pytest.mark.slow

STAGING = f"{_atomic.STAGING_PREFIX}*"  # the staging folders of a command's outputs

COVERAGE_COLUMNS = {
    "street_code",
    "facility",
    "minutes",
    "distance_m",
    "mode",
    "covered_area_share",
    "covered_pop_share",
}


def _digest(folder):
    out = {}
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if path.is_file() and not any(part.startswith(".") for part in rel.parts):
            out[str(rel)] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("maps")
    (out / "my_notes.txt").write_text("not ours")
    result = pipeline.build(out=out, as_of=2024)
    return out, result


def test_tables_have_the_promised_columns(built):
    out, _ = built
    cov = pd.read_csv(out / "stats/coverage.csv", encoding="utf-8-sig", dtype={"street_code": str})
    assert COVERAGE_COLUMNS <= set(cov.columns)
    assert set(cov["scenario"]) == {"existing", "plan"}
    assert set(cov["minutes"]) == {5, 10, 15}
    assert cov["covered_pop_share"].between(0, 1).all()
    # plan coverage is never below existing coverage for the same street, layer and tier
    key = ["street_code", "facility", "minutes", "mode"]
    wide = cov.pivot_table(index=key, columns="scenario", values="covered_area_share")
    assert (wide["plan"] >= wide["existing"] - 1e-9).all()
    ps = pd.read_csv(out / "stats/project_streets.csv", encoding="utf-8-sig")
    assert ps.groupby("project_id")["share"].sum().round(9).eq(1).all()
    streets = pd.read_csv(out / "stats/streets.csv", encoding="utf-8-sig")
    assert len(streets) == 18 and {"n_projects", "road_km", "park_m2_per_person"} <= set(
        streets.columns
    )
    ind = pd.read_csv(out / "stats/indicators.csv", encoding="utf-8-sig")
    assert {"target", "plan_ref", "data_value", "unit", "method", "answerable"} <= set(ind.columns)
    sheets = pd.read_excel(out / "stats/gongshu_stats.xlsx", sheet_name=None)
    assert {"project_streets", "streets", "coverage", "indicators"} <= set(sheets)
    assert len(sheets["coverage"]) == len(cov)


def test_maps_and_layers_written(built):
    from PIL import Image

    out, result = built
    written = {p.relative_to(out).as_posix() for p in result.written}
    on_disk = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    # the build reports the files it wrote; the rest is the user's own note (and the lock)
    assert written <= on_disk and on_disk - written <= {"my_notes.txt", ".gongshu-geo.lock"}
    projects = gg.read_projects()
    layers = [layer for layer in pipeline.DEFAULT_FACILITY_LAYERS
              if layer in set(projects["category"])]  # fmt: skip
    expected = {"index.html", "streets_n_projects.html", "streets_road_km.html",
                "streets_park_m2_per_person.html", "png/overview.png",
                "stats/access_h3.csv", "surfaces/access_h3.geojson",
                *(f"coverage_{layer}.html" for layer in layers),
                *(f"surfaces/{layer}_distance.tif" for layer in layers)}  # fmt: skip
    assert expected <= written, expected - written
    html = (out / "index.html").read_text(encoding="utf-8")
    assert html.rstrip().endswith("</html>") and "cdn.jsdelivr" not in html
    for layer in layers:  # each coverage map has its tiers, gaps and the minutes image
        page = (out / f"coverage_{layer}.html").read_text(encoding="utf-8")
        assert "分钟服务范围 service area" in page and "L.imageOverlay(" in page, layer
    with Image.open(out / "png/overview.png") as png:
        assert min(png.size) >= 800
    # every project is in the GeoPackage, in the layer of its category (and geometry)
    counts = {}
    for name, _ in pyogrio.list_layers(out / "layers/gongshu_geo.gpkg"):
        if name.startswith("projects_"):
            frame = pyogrio.read_dataframe(out / "layers/gongshu_geo.gpkg", layer=name)
            for cat, n in frame["category"].value_counts().items():
                counts[cat] = counts.get(cat, 0) + n
    assert counts == projects["category"].value_counts().to_dict()


def test_street_pages_list_the_projects_each_street_holds(built):
    out, _ = built
    ps = pd.read_csv(out / "stats/project_streets.csv", encoding="utf-8-sig", dtype=str)
    ps = ps[ps["outside"] == "False"]
    streets = gpd.read_file(data_path("boundaries", "streets.geojson"))
    index = (out / "streets/index.html").read_text(encoding="utf-8")
    for code, name in zip(streets["street_code"], streets["name"], strict=True):
        page = (out / f"streets/{code}.html").read_text(encoding="utf-8")
        assert f"<h1>{name} 规划项目进度</h1>" in page and f"href='{code}.html'" in index
        listed = set(re.findall(r"<td class=\"\">(P-[A-Z]+-\d+)</td>", page))
        assert listed == set(ps.loc[ps["street_code"] == code, "project_id"]), name


def test_schedule_tables_agree_with_the_project_years(built):
    out, _ = built
    projects = gg.read_projects()
    sched = pd.read_csv(
        out / "stats/schedule.csv", encoding="utf-8-sig", dtype={"street_code": str}
    )
    state = pd.read_csv(out / "stats/schedule_state.csv", encoding="utf-8-sig")
    assert len(state) == len(projects) and set(state["as_of"]) == {2024}
    years = projects.set_index("id")[["start_year", "end_year"]]
    for row in state.itertuples():
        start, end = years.loc[row.id]
        if pd.isna(start):
            assert row.scheduled_state in ("existing", "unscheduled")
        else:
            expected = "not_started" if 2024 < start else "due" if 2024 >= end else "in_progress"
            assert row.scheduled_state == expected, row.id
    ps = pd.read_csv(out / "stats/project_streets.csv", encoding="utf-8-sig", dtype=str)
    ps = ps[ps["outside"] == "False"].drop_duplicates(["project_id", "street_code"])
    ps = ps.join(years, on="project_id")
    for year in (2021, 2024, 2025):
        under_way = ps[(ps["start_year"] <= year) & (ps["end_year"] >= year)]
        expected = under_way.groupby("street_code").size()
        got = sched[sched["year"] == year].groupby("street_code")["n_under_way"].sum()
        assert got[got > 0].to_dict() == expected.to_dict(), year


def test_build_removes_nothing_it_did_not_write(built):
    out, _ = built
    assert (out / "my_notes.txt").read_text() == "not ours"
    assert not list(out.glob(STAGING))


def _fail_in_export(monkeypatch, exc):
    from gongshu_geo.exchange import export

    real = export.export_layers

    def broken(*args, **kwargs):
        real(*args, **kwargs)  # the GeoPackage is really written (into staging) first
        raise exc

    monkeypatch.setattr(export, "export_layers", broken)


def test_failed_build_leaves_previous_outputs_intact(built, monkeypatch):
    out, _ = built
    before = _digest(out)
    _fail_in_export(monkeypatch, RuntimeError("simulated crash after maps and tables"))
    with pytest.raises(RuntimeError, match="simulated crash"):
        pipeline.build(out=out, png=False)
    assert _digest(out) == before
    assert not list(out.glob(STAGING))


def test_disk_full_is_a_clear_error_and_loses_nothing(built, monkeypatch):
    out, _ = built
    before = _digest(out)
    _fail_in_export(monkeypatch, OutputError(f"{out}/x: the disk is full; free some space"))
    with pytest.raises(OutputError, match="disk is full"):
        pipeline.build(out=out, png=False)
    assert _digest(out) == before


def test_unwritable_output_folder(tmp_path, monkeypatch):
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    with pytest.raises(
        OutputError,
        match=r"cannot create the output folder \(Not a directory\); choose another with --out",
    ):
        pipeline.build(out=blocker / "maps", png=False)

    def refuse(*a, **k):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(_atomic.tempfile, "mkdtemp", refuse)
    with pytest.raises(OutputError, match="not writable.*--out"):
        pipeline.build(out=tmp_path / "out", png=False)


def _build_cmd(out):
    return [sys.executable, "-m", "gongshu_geo.cli", "-q", "build", "--out", str(out), "--no-png"]


def test_killed_build_leaves_previous_outputs_intact(built):
    out, _ = built
    before = _digest(out)
    proc = subprocess.Popen(_build_cmd(out), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline and not list(out.glob(STAGING)) and proc.poll() is None:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, "the build finished before it could be killed"
    assert list(out.glob(STAGING)), "the kill should have left a staging folder behind"
    assert _digest(out) == before
    # the next build cleans up what the killed one left behind
    pipeline.build(out=out, png=False)
    assert not list(out.glob(STAGING))


def test_two_builds_at_once_do_not_corrupt_each_other(tmp_path):
    out = tmp_path / "shared"
    procs = [
        subprocess.Popen(_build_cmd(out), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for _ in range(2)
    ]
    errors = [p.communicate(timeout=300)[1].decode() for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [e[-500:] for e in errors]
    cov = pd.read_csv(out / "stats/coverage.csv", encoding="utf-8-sig")
    assert len(cov) > 0
    assert (out / "index.html").read_text(encoding="utf-8").rstrip().endswith("</html>")
    assert not list(out.glob(STAGING))
    pyogrio.read_info(out / "layers/gongshu_geo.gpkg", layer="streets")
    assert not os.path.exists(out / pipeline.LOCK_NAME), "the lock is left for the user to ship"


_HOLD_LOCK = """
import sys, time
from pathlib import Path
from gongshu_geo.core.atomic import locked
out, log, name = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
with locked(out):
    with open(log, "a") as fh:
        fh.write(f"{name} in {time.monotonic()}\\n")
    time.sleep(0.4)
    with open(log, "a") as fh:
        fh.write(f"{name} out {time.monotonic()}\\n")
"""


def test_the_lock_still_excludes_and_is_removed_at_the_end(tmp_path):
    """Four holders at once: never two inside together, though each removes the file."""
    out, log = tmp_path / "out", tmp_path / "log.txt"
    out.mkdir()
    procs = [
        subprocess.Popen([sys.executable, "-c", _HOLD_LOCK, str(out), str(log), f"p{i}"])
        for i in range(4)
    ]
    assert [p.wait(timeout=60) for p in procs] == [0] * 4
    events = [line.split() for line in log.read_text().splitlines()]
    assert len(events) == 8
    events.sort(key=lambda e: float(e[2]))
    # strictly alternating in/out of the same holder: nobody entered while another was inside
    for enter, leave in zip(events[::2], events[1::2], strict=True):
        assert (enter[1], leave[1], enter[0]) == ("in", "out", leave[0])
    assert not (out / pipeline.LOCK_NAME).exists()


def test_user_facilities_population_layer_and_walking_graph(tmp_path):
    """--facilities (CSV), --population-layer and --graph (a line layer) together."""
    import geopandas as gpd
    import numpy as np
    import shapely

    from gongshu_geo import read_district, read_streets

    # a 250 m grid of walkable lines over the district, in EPSG:4549
    minx, miny, maxx, maxy = read_district().to_crs(4549).total_bounds
    xs, ys = np.arange(minx, maxx, 250.0), np.arange(miny, maxy, 250.0)
    lines = [shapely.LineString([(x, miny), (x, maxy)]) for x in xs]
    lines += [shapely.LineString([(minx, y), (maxx, y)]) for y in ys]
    segments = shapely.get_parts(shapely.node(shapely.MultiLineString(lines)))
    gpd.GeoDataFrame(geometry=segments, crs=4549).to_file(tmp_path / "ways.gpkg")
    # two clinics in a CSV, and population points: one per street centre with 1000 people
    (tmp_path / "clinics.csv").write_text("name,lon,lat\nA,120.155,30.29\nB,120.14,30.33\n")
    streets = read_streets()
    people = gpd.GeoDataFrame(
        {"people": [1000] * len(streets)},
        geometry=streets.geometry.representative_point(),
        crs=4326,
    )
    people.to_file(tmp_path / "people.gpkg")
    out = tmp_path / "out"
    pipeline.build(
        out=out,
        png=False,
        gpkg=False,
        graph=tmp_path / "ways.gpkg",
        facility_layers=("metro_station",),
        facilities={"clinics": tmp_path / "clinics.csv"},
        population_layer=tmp_path / "people.gpkg",
        population_layer_field="people",
    )
    cov = pd.read_csv(out / "stats/coverage.csv", encoding="utf-8-sig", dtype={"street_code": str})
    assert set(cov["scenario"]) == {"existing", "plan", "user"}
    assert set(cov["mode"]) == {"distance", "network"}
    # population points: a street is either fully covered or not at all
    assert set(cov["covered_pop_share"].round(9).dropna()) <= {0.0, 1.0}
    user = cov[(cov["scenario"] == "user") & (cov["mode"] == "distance")]
    assert (user["facility"] == "clinics").all() and user["population"].eq(1000).all()
    pen = pd.read_csv(out / "stats/network_penalty.csv", encoding="utf-8-sig")
    assert len(pen) > 0
    gain = pd.read_csv(out / "stats/plan_gain.csv", encoding="utf-8-sig")
    assert (gain["new_covered_pop"] >= -1e-9).all()
    # network coverage never exceeds straight-line coverage beyond the 50 m band's slack
    key = ["scenario", "street_code", "facility", "minutes"]
    wide = cov.pivot_table(index=key, columns="mode", values="covered_area_share")
    assert (wide["network"] <= wide["distance"] + 0.05).all()
    assert (out / "coverage_clinics.html").exists()


def test_a_users_own_ids_validate_and_build(tmp_path, capsys):
    """Issue 16: a planner's registry ids (2023-GS-015, plain numbers) validate and build."""
    import json

    from gongshu_geo.cli import main
    from gongshu_geo.data.io import data_path

    fc = json.loads(data_path("projects.geojson").read_text(encoding="utf-8"))
    for i, feature in enumerate(fc["features"]):
        feature["properties"]["id"] = i if i % 3 == 0 else f"2023-GS-{i:03d}"
    path = tmp_path / "registry.geojson"
    path.write_text(json.dumps(fc, ensure_ascii=False), encoding="utf-8")
    assert main(["validate", "--projects", str(path)]) == 0
    out = tmp_path / "out"
    argv = ["build", "-q", "--projects", str(path), "--out", str(out), "--no-png"]
    assert main(argv) == 0, capsys.readouterr().err
    joined = pd.read_csv(out / "stats/project_streets.csv", encoding="utf-8-sig", dtype=str)
    assert {"0", "15", "2023-GS-001", "2023-GS-014"} <= set(joined["project_id"])
    assert not (out / pipeline.LOCK_NAME).exists()
