"""Files too big to read into memory are refused before a byte is read."""

import os

import pytest

from gongshu_geo import InputError, read_layer, read_points_csv, read_projects, read_streets
from gongshu_geo.core.limits import ENV_MAX_INPUT_MB, max_input_bytes
from gongshu_geo.data.graphs import read_graph


def _sparse(path, size):
    """A file of ``size`` bytes that takes no disk space (and would be garbage if read)."""
    with open(path, "wb") as fh:
        fh.truncate(size)
    return path


@pytest.mark.parametrize(
    ("name", "reader"),
    [
        ("p.geojson", read_projects),
        ("p.gpkg", read_projects),
        ("f.csv", read_points_csv),
        ("f.gpkg", read_layer),
        ("s.gpkg", read_streets),
        ("w.graphml", read_graph),
    ],
)
def test_a_2_gb_file_is_refused_up_front(tmp_path, name, reader):
    path = _sparse(tmp_path / name, 2 * 10**9)
    with pytest.raises(InputError) as info:
        reader(path)
    msg = str(info.value)
    assert msg.startswith(f"{path}: the ") and "is 2.00 GB, more than the 1.00 GB" in msg
    assert "it was not read" in msg and ENV_MAX_INPUT_MB in msg


def test_the_limit_is_configurable_and_counts_a_shapefile_whole(tmp_path, monkeypatch):
    monkeypatch.setenv(ENV_MAX_INPUT_MB, "0.001")  # 1000 bytes
    assert max_input_bytes() == 1000
    shp = _sparse(tmp_path / "s.shp", 600)
    _sparse(tmp_path / "s.dbf", 600)  # together above the limit, each below it
    with pytest.raises(InputError, match=r"s\.shp: the file is 0\.00 GB"):
        read_streets(shp)
    small = tmp_path / "small.csv"
    small.write_text("lon,lat\n120.15,30.3\n", encoding="utf-8")
    assert len(read_points_csv(small)) == 1
    big = tmp_path / "big.csv"
    big.write_text("lon,lat\n" + "120.15,30.3\n" * 100, encoding="utf-8")
    with pytest.raises(InputError, match=r"big\.csv: the table is"):
        read_points_csv(big)


@pytest.mark.parametrize("value", ["lots", "0", "-5"])
def test_a_bad_limit_is_an_error(monkeypatch, value):
    monkeypatch.setenv(ENV_MAX_INPUT_MB, value)
    with pytest.raises(InputError, match=f"{ENV_MAX_INPUT_MB}='{value}': must be a positive"):
        max_input_bytes()


def test_default_limit_without_the_variable(monkeypatch):
    monkeypatch.delenv(ENV_MAX_INPUT_MB, raising=False)
    assert max_input_bytes() == 1000 * 10**6
    assert os.environ.get(ENV_MAX_INPUT_MB) is None
