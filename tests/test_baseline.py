"""The baseline table: how complete each layer's existing facilities are."""

import pytest

import gongshu_geo as gg
from gongshu_geo import InputError


def _write(tmp_path, text):
    path = tmp_path / "baseline.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_reads_a_table_by_layer(tmp_path):
    path = _write(tmp_path, "layer,completeness,basis\npark,partial,a\nmetro_station,complete,b\n")
    table = gg.read_baseline(path)
    assert table.loc["park", "completeness"] == "partial"
    assert table.loc["metro_station", "basis"] == "b"


def test_unknown_completeness_names_file_row_and_values(tmp_path):
    path = _write(tmp_path, "layer,completeness,basis\npark,partial,a\nclinic,mostly,b\n")
    with pytest.raises(InputError) as err:
        gg.read_baseline(path)
    text = str(err.value)
    assert str(path) in text and "row 3" in text and "'mostly'" in text
    assert "complete, partial, unknown" in text


def test_missing_columns_and_duplicates_are_refused(tmp_path):
    with pytest.raises(InputError, match="basis"):
        gg.read_baseline(_write(tmp_path, "layer,completeness\npark,partial\n"))
    dup = "layer,completeness,basis\npark,partial,a\npark,complete,b\n"
    with pytest.raises(InputError, match="'park' is listed twice"):
        gg.read_baseline(_write(tmp_path, dup))


def test_packaged_table_covers_every_default_facility_layer():
    from gongshu_geo.pipeline import DEFAULT_FACILITY_LAYERS

    table = gg.read_baseline()
    assert set(DEFAULT_FACILITY_LAYERS) <= set(table.index)
    # every station of the network is in the data (see tests/test_metro_data.py)
    assert table.loc["metro_station", "completeness"] == "complete"
    assert table["basis"].str.len().min() > 10
