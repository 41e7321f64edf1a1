"""Atomic writes: a failure at the OS level never replaces a good file with a bad one."""

import errno
import os

import geopandas as gpd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely.geometry import Point

from gongshu_geo import OutputError
from gongshu_geo.core.atomic import (
    STAGING_PREFIX,
    atomic_fileset,
    staged_outputs,
    write_text_atomic,
)
from gongshu_geo.exchange.export import export_layers


def _no_temp_files(folder):
    return [p.name for p in folder.iterdir() if p.name.startswith(".")] == []


def test_disk_full_keeps_the_old_file(tmp_path, monkeypatch):
    target = tmp_path / "index.html"
    target.write_text("the good old map")

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(OutputError, match="index.html: the disk is full; free some space"):
        write_text_atomic(target, "a new map that does not fit")
    assert target.read_text() == "the good old map"
    assert _no_temp_files(tmp_path)


def test_permission_denied_names_the_folder(tmp_path, monkeypatch):
    def denied(*a, **k):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr("tempfile.mkstemp", denied)
    with pytest.raises(
        OutputError, match="output folder is not writable; choose another with --out"
    ):
        write_text_atomic(tmp_path / "x.csv", "a,b")


def test_interrupted_fileset_writes_nothing(tmp_path):
    targets = [tmp_path / "a.shp", tmp_path / "a.dbf"]
    for t in targets:
        t.write_text("old")
    with pytest.raises(KeyboardInterrupt):
        with atomic_fileset(targets) as tmp:
            tmp[targets[0]].write_text("new")
            raise KeyboardInterrupt
    assert [t.read_text() for t in targets] == ["old", "old"]
    assert _no_temp_files(tmp_path)


def test_nested_staging_in_one_folder_keeps_the_outer_one(tmp_path):
    """A file set written inside a command's staging of the same folder: the lock is re-entrant
    and the inner one does not take the outer staging folder for a killed run's."""
    shp = [tmp_path / "b.shp", tmp_path / "b.dbf"]
    with staged_outputs(tmp_path) as outer:
        outer.path("a.txt").write_text("a")
        with atomic_fileset(shp) as tmp:
            for target in shp:
                tmp[target].write_text(target.suffix)
        assert outer.root.is_dir() and (outer.root / "a.txt").exists()
        assert not (tmp_path / "a.txt").exists()  # not until the outer block ends
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt", "b.dbf", "b.shp"]
    assert outer.written == [tmp_path / "a.txt"]


def test_a_killed_runs_staging_is_removed_by_the_next(tmp_path):
    stale = tmp_path / f"{STAGING_PREFIX}killed"
    stale.mkdir()
    (stale / "index.html").write_text("half")
    with staged_outputs(tmp_path) as stage:
        stage.path("index.html").write_text("whole")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["index.html"]
    assert (tmp_path / "index.html").read_text() == "whole"


names = st.text(
    alphabet=st.sampled_from("拱墅区运河公园地铁站街道 abcXYZ-_0123456789"), min_size=1, max_size=12
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.tuples(names, st.floats(120.09, 120.22), st.floats(30.26, 30.40), st.integers(0, 10**6)),
        min_size=1,
        max_size=6,
    ),
    st.sampled_from(["gpkg", "geojson"]),
)
def test_reading_what_we_export_gives_back_what_we_wrote(tmp_path_factory, rows, fmt):
    import pyogrio

    frame = gpd.GeoDataFrame(
        {"name": [r[0] for r in rows], "count": [r[3] for r in rows]},
        geometry=[Point(r[1], r[2]) for r in rows],
        crs="EPSG:4326",
    )
    out = tmp_path_factory.mktemp("rt")
    (path,) = export_layers({"things": frame}, out, fmt=fmt)
    back = pyogrio.read_dataframe(path, layer="things")
    assert back["name"].tolist() == frame["name"].tolist()
    assert back["count"].tolist() == frame["count"].tolist()
    # coordinates survive to within a centimetre (GeoJSON keeps 7 decimals)
    assert (back.geometry.x - frame.geometry.x).abs().max() < 1e-7
    assert (back.geometry.y - frame.geometry.y).abs().max() < 1e-7
