"""Every command through `pipeline`: the user's streets give the outline drawn, and a command's
outputs appear together or not at all."""

import hashlib
import json
import re
from pathlib import Path

import geopandas as gpd
import pyogrio
import pytest
import shapely

import gongshu_geo
from gongshu_geo import InputError, OutputError
from gongshu_geo.cli import main
from gongshu_geo.core import atomic as _atomic
from gongshu_geo.data.io import data_path

PACKAGE = Path(gongshu_geo.__file__).parent
#: Three of the 18 packaged streets, whose union is much smaller than the district.
THREE = ["拱宸桥街道", "和睦街道", "小河街道"]


@pytest.fixture(scope="module")
def three_streets(tmp_path_factory):
    """A streets file of three packaged streets, and its union in EPSG:4326 (read by pyogrio)."""
    streets = pyogrio.read_dataframe(data_path("boundaries", "streets.geojson"))
    streets = streets[streets["name"].isin(THREE)]
    assert len(streets) == 3
    path = tmp_path_factory.mktemp("streets") / "three.geojson"
    pyogrio.write_dataframe(streets, path, driver="GeoJSON")
    return path, shapely.union_all(streets.to_crs(4326).geometry.values)


def _drawn_outline(html: str):
    """The geometry of the map's "区界 District boundary" layer, from the page's GeoJSON."""
    group = re.search(r'"区界 District boundary" : (feature_group_\w+)', html).group(1)
    layer = re.search(rf"(geo_json_\w+)\.addTo\({group}\);", html).group(1)
    line = next(x.strip() for x in html.splitlines() if x.strip().startswith(f"{layer}_add({{"))
    data = json.loads(line[len(f"{layer}_add(") : -len(");")])
    return shapely.union_all([shapely.geometry.shape(f["geometry"]) for f in data["features"]])


def _metric(geom):
    return gpd.GeoSeries([geom], crs=4326).to_crs(4549).iloc[0]


def _check_outline(drawn, union, *, within_m):
    """Drawn is the union of the three streets to ``within_m`` metres, not the district."""
    district = pyogrio.read_dataframe(data_path("boundaries", "district.geojson"))
    whole = _metric(shapely.union_all(district.to_crs(4326).geometry.values))
    drawn, union = _metric(drawn), _metric(union)
    assert union.area < 0.5 * whole.area  # the test means something: the outlines differ
    assert drawn.hausdorff_distance(union) < within_m
    assert drawn.area == pytest.approx(union.area, rel=within_m / 1000)
    assert drawn.hausdorff_distance(whole) > 1000


#: Maps draw outlines simplified by 5 m (``_mapdata.DISPLAY_SIMPLIFY_M``) and rounded to 1e-6°.
DRAWN_M = 5.5


def test_map_draws_the_outline_of_the_given_streets(three_streets, tmp_path):
    path, union = three_streets
    assert main(["-q", "map", "--streets", str(path), "--out", str(tmp_path)]) == 0
    html = (tmp_path / "index.html").read_text(encoding="utf-8")
    _check_outline(_drawn_outline(html), union, within_m=DRAWN_M)


@pytest.mark.parametrize("fmt", ["gpkg", "geojson"])
def test_export_writes_the_outline_of_the_given_streets(three_streets, tmp_path, fmt):
    path, union = three_streets
    out = tmp_path / ("layers.gpkg" if fmt == "gpkg" else "layers")
    argv = ["-q", "export", "--streets", str(path), "--format", fmt, "--out", str(out)]
    assert main(argv) == 0
    source = out if fmt == "gpkg" else out / "district.geojson"
    district = pyogrio.read_dataframe(source, layer="district")
    assert len(district) == 1
    _check_outline(district.geometry.iloc[0], union, within_m=0.01)


def test_diff_draws_the_outline_of_the_given_streets(three_streets, tmp_path):
    path, union = three_streets
    projects = str(data_path("projects.geojson"))
    argv = ["-q", "diff", projects, projects, "--streets", str(path), "--out", str(tmp_path)]
    assert main(argv) == 0
    html = (tmp_path / "diff.html").read_text(encoding="utf-8")
    _check_outline(_drawn_outline(html), union, within_m=DRAWN_M)


@pytest.mark.slow
def test_site_draws_the_outline_of_the_given_streets(three_streets, tmp_path):
    path, union = three_streets
    argv = ["-q", "site", "--streets", str(path), "--n", "1", "--out", str(tmp_path)]
    assert main(argv) == 0
    html = (tmp_path / "sites.html").read_text(encoding="utf-8")
    _check_outline(_drawn_outline(html), union, within_m=DRAWN_M)


def test_without_streets_the_packaged_outline_is_drawn(tmp_path):
    assert main(["-q", "map", "--out", str(tmp_path)]) == 0
    drawn = _drawn_outline((tmp_path / "index.html").read_text(encoding="utf-8"))
    district = pyogrio.read_dataframe(data_path("boundaries", "district.geojson"))
    whole = _metric(shapely.union_all(district.to_crs(4326).geometry.values))
    assert _metric(drawn).hausdorff_distance(whole) < DRAWN_M


# ---------------------------------------------------------------- all or nothing


def _digest(folder: Path) -> dict:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_export_failing_halfway_leaves_the_previous_export_intact(tmp_path, monkeypatch, capsys):
    out = tmp_path / "shp"
    assert main(["-q", "export", "--format", "shp", "--out", str(out)]) == 0
    (out / "my_notes.txt").write_text("not ours")
    before = _digest(out)
    assert "district.shp" in before and "streets.shp" in before
    real, calls = pyogrio.write_dataframe, []

    def fail_on_the_third(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:  # district and streets are written (into staging) by now
            raise OSError(28, "No space left on device")
        return real(*args, **kwargs)

    monkeypatch.setattr(pyogrio, "write_dataframe", fail_on_the_third)
    assert main(["-q", "export", "--format", "shp", "--out", str(out)]) == 1
    assert "the disk is full; free some space and run again" in capsys.readouterr().err
    assert len(calls) == 3
    assert _digest(out) == before
    assert not list(out.glob(f"{_atomic.STAGING_PREFIX}*"))
    assert not (out / _atomic.LOCK_NAME).exists()


def test_a_first_export_that_fails_leaves_nothing(tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(pyogrio, "write_dataframe", broken)
    out = tmp_path / "gj"
    assert main(["-q", "export", "--format", "geojson", "--out", str(out)]) == 1
    assert [p.name for p in out.iterdir()] == []


def test_map_failing_after_it_drew_leaves_the_old_map(tmp_path, monkeypatch):
    from gongshu_geo.maps import web as maps

    (tmp_path / "index.html").write_text("the good old map")
    real = maps.write_map

    def save_then_crash(m, path, **kwargs):
        real(m, path, **kwargs)
        raise OSError(28, "No space left on device", str(path))

    monkeypatch.setattr(maps, "write_map", save_then_crash)
    with pytest.raises(OutputError, match=r"index.html: the disk is full; free some space"):
        gongshu_geo.pipeline.make_maps(out=tmp_path)
    assert (tmp_path / "index.html").read_text() == "the good old map"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["index.html"]


def test_a_geodatabase_folder_is_replaced_whole(tmp_path):
    """A staged folder with a suffix is one dataset: none of the old one's files survive."""
    old = tmp_path / "plan.gdb"
    old.mkdir()
    (old / "a00000009.gdbtable").write_text("a table the new one does not have")
    (tmp_path / "stats").mkdir()
    (tmp_path / "stats" / "mine.csv").write_text("not ours")
    with _atomic.staged_outputs(tmp_path) as stage:
        stage.path("plan.gdb/a00000001.gdbtable").write_text("new")
        stage.path("stats/coverage.csv").write_text("new")
    assert sorted(p.name for p in old.iterdir()) == ["a00000001.gdbtable"]
    assert sorted(p.name for p in (tmp_path / "stats").iterdir()) == ["coverage.csv", "mine.csv"]
    assert [p.relative_to(tmp_path).as_posix() for p in stage.written] == [
        "plan.gdb",
        "stats/coverage.csv",
    ]


# ---------------------------------------------------------------- who imports what


def _imports(module: str) -> set:
    """The package modules ``module`` imports, lazy imports included (tests/test_layers.py)."""
    from test_layers import GRAPH

    return GRAPH[f"gongshu_geo.{module}"]


def test_cli_reaches_the_package_only_through_pipeline():
    """cli parses, merges the config file, sets up logging, prints and maps errors to exits."""
    allowed = {
        "pipeline",
        "config",
        "core",
        "core.errors",
        "core.problems",
        "core.progress",
        "core.i18n",
    }
    allowed = {f"gongshu_geo.{name}" for name in allowed | {"core.version"}}
    assert _imports("cli") - allowed == set()
    assert "gongshu_geo.pipeline" in _imports("cli")


@pytest.mark.parametrize(
    "module", sorted(p.stem for p in (PACKAGE / "analysis").glob("*.py") if p.stem != "__init__")
)
def test_analysis_modules_write_nothing_themselves(module):
    """Maps and exports are layers above (test_layers.py); atomic writes are the pipeline's."""
    assert "gongshu_geo.core.atomic" not in _imports(f"analysis.{module}")


def test_write_sites_is_still_public():
    from gongshu_geo.pipeline import write_sites

    assert gongshu_geo.write_sites is write_sites
    assert "write_sites" in dir(gongshu_geo)


# ---------------------------------------------------------------- reading the inputs


def test_an_explicit_district_wins_over_the_streets_outline(three_streets):
    from gongshu_geo.pipeline import read_inputs

    path, union = three_streets
    packaged = data_path("boundaries", "district.geojson")
    inputs = read_inputs(streets=path, district=packaged)
    whole = _metric(shapely.union_all(pyogrio.read_dataframe(packaged).to_crs(4326).geometry))
    assert _metric(inputs.district.union_all()).hausdorff_distance(whole) < 0.01
    mine = _metric(read_inputs(streets=path).district.union_all())
    assert mine.hausdorff_distance(_metric(union)) < 0.01


def test_facility_layers_given_as_a_list_are_named_after_the_file(tmp_path):
    from gongshu_geo.pipeline import read_inputs

    (tmp_path / "clinics.csv").write_text("name,lon,lat\nA,120.155,30.29\nB,120.14,30.33\n")
    inputs = read_inputs(facilities=[tmp_path / "clinics.csv"])
    assert list(inputs.facilities) == ["clinics"]
    assert inputs.facilities["clinics"]["name"].tolist() == ["A", "B"]


def test_sql_goes_to_the_one_database_input_without_a_table():
    from gongshu_geo.pipeline import attach_sql

    sources = {
        "projects": "postgresql://gis@db/plan",
        "streets": "postgresql://gis@db/plan?table=official.streets",
        "facilities": ["clinics.csv"],
    }
    given = attach_sql(sources, "SELECT 1")
    assert given["projects"] == "postgresql://gis@db/plan?sql=SELECT+1"
    assert given["streets"] == sources["streets"] and given["facilities"] == ["clinics.csv"]
    two_open = {**sources, "facilities": ["postgresql://gis@db/plan"]}
    with pytest.raises(InputError, match="--sql needs exactly one postgresql:// input without "
                       r"\?table=; found 2\. Give the others \?table=schema.name"):  # fmt: skip
        attach_sql(two_open, "SELECT 1")


def test_the_cli_turns_a_bad_sql_into_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["validate", "--sql", "SELECT 1"])
    assert exit_.value.code == 2
    assert "--sql needs exactly one postgresql:// input without ?table=; found 0" in (
        capsys.readouterr().err
    )
