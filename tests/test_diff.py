"""Versions compared: a test file with known edits, and nothing else found."""

import json

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import LineString, Point, box

from gongshu_geo import InputError
from gongshu_geo.analysis.diff import diff_projects, read_version, summarize_diff
from gongshu_geo.cli import main

# built in EPSG:4549 metres near 拱宸桥, so every distance is known exactly
X, Y = 513_900.0, 3_356_100.0


def _old():
    return gpd.GeoDataFrame(
        {
            "id": ["A", "B", "C", "D", "E"],
            "name": ["站甲", "公园乙", "路丙", "块丁", "馆戊"],
            "status": ["planned", "planned", "under_construction", "planned", "existing"],
        },
        geometry=[
            Point(X, Y),
            box(X, Y, X + 200, Y + 200),
            LineString([(X, Y), (X + 1000, Y)]),
            box(X + 500, Y + 500, X + 600, Y + 600),
            Point(X + 50, Y + 50),
        ],
        crs="EPSG:4549",
    )


def _new():
    new = _old().drop(index=3)  # D removed
    new.loc[0, "geometry"] = Point(X + 300, Y + 400)  # A moved 500 m
    new.loc[1, "geometry"] = box(X, Y, X + 200, Y + 100)  # B reshaped: IoU 0.5
    new.loc[2, "status"] = "completed"  # C status changed
    added = gpd.GeoDataFrame(
        {"id": ["F"], "name": ["新增"], "status": ["planned"]},
        geometry=[Point(X + 10, Y + 10)],
        crs="EPSG:4549",
    )
    return pd.concat([new, added], ignore_index=True)


def _write(frame, path):
    frame.to_crs("EPSG:4326").to_file(path, driver="GeoJSON")
    return path


def test_finds_exactly_the_known_edits():
    diff = diff_projects(_old().to_crs(4326), _new().to_crs(4326))
    got = {(r.id, r.change, r.field) for r in diff.itertuples()}
    # B's centroid moves 50 m south as it loses its north half: a move and a reshape
    assert got == {
        ("A", "moved", None),
        ("B", "moved", None),
        ("B", "reshaped", None),
        ("C", "changed", "status"),
        ("D", "removed", None),
        ("F", "added", None),
    }
    row = diff.set_index(["id", "change"])
    assert row.loc[("A", "moved"), "moved_m"] == pytest.approx(500, abs=0.5)
    assert row.loc[("B", "moved"), "moved_m"] == pytest.approx(50, abs=0.5)
    assert row.loc[("B", "reshaped"), "iou"] == pytest.approx(0.5, abs=1e-3)
    # shifted back by its 50 m move, the old square still sticks out 50 m
    assert row.loc[("B", "reshaped"), "moved_m"] == pytest.approx(50, abs=0.5)
    change = row.loc[("C", "changed")]
    assert (change["old"], change["new"]) == ("under_construction", "completed")


def test_a_line_that_only_moves_is_not_reshaped():
    old = _old().iloc[[2]]
    new = old.copy()
    new["geometry"] = LineString([(X, Y + 30), (X + 1000, Y + 30)])
    diff = diff_projects(old.to_crs(4326), new.to_crs(4326))
    assert diff["change"].tolist() == ["moved"]
    assert diff["moved_m"].iloc[0] == pytest.approx(30, abs=0.1)


def test_a_round_trip_through_a_geopackage_is_no_change(tmp_path):
    old = _old().to_crs(4326)
    old.to_crs("EPSG:4549").to_file(tmp_path / "v.gpkg", driver="GPKG")
    again = read_version(tmp_path / "v.gpkg")
    assert diff_projects(old, again).empty


def test_the_command_writes_csv_markdown_and_map(tmp_path, capsys):
    a = _write(_old(), tmp_path / "old.geojson")
    b = _write(_new(), tmp_path / "new.geojson")
    assert main(["diff", str(a), str(b), "--out", str(tmp_path / "d")]) == 0
    table = pd.read_csv(tmp_path / "d" / "diff.csv", encoding="utf-8-sig")
    assert list(table.columns) == ["id", "name", "change", "field", "old", "new", "moved_m", "iou"]
    assert len(table) == 6
    md = (tmp_path / "d" / "diff.md").read_text(encoding="utf-8")
    assert "| moved | 2 |" in md and "| removed | 1 |" in md and "A 站甲: 500 m" in md
    html = (tmp_path / "d" / "diff.html").read_text(encoding="utf-8")
    assert "之前 before (4)" in html and "之后 after (5)" in html  # A B C D; A B C E F
    assert "unpkg.com" not in html and "cdn.jsdelivr" not in html
    assert "1 added" in capsys.readouterr().out


def test_files_that_cannot_be_compared_say_why(tmp_path, capsys):
    good = _write(_old(), tmp_path / "old.geojson")
    no_id = _write(_old().rename(columns={"id": "code"}), tmp_path / "noid.geojson")
    with pytest.raises(InputError, match=r'no "id" field; versions are matched by id'):
        read_version(no_id)
    dup = _old()
    dup.loc[4, "id"] = "A"
    dup_path = _write(dup, tmp_path / "dup.geojson")
    with pytest.raises(InputError, match=r"duplicate \"id\" 'A' \(features #0 and #4\)"):
        read_version(dup_path)
    assert main(["diff", str(good), str(dup_path), "--out", str(tmp_path / "x")]) == 1
    err = capsys.readouterr().err
    assert "dup.geojson" in err and "Traceback" not in err
    assert not (tmp_path / "x" / "diff.csv").exists()


def test_summary_counts_by_street():
    diff = diff_projects(_old().to_crs(4326), _new().to_crs(4326))
    md = summarize_diff(diff, street_of={"A": "拱宸桥街道", "B": "拱宸桥街道", "C": "小河街道"})
    assert "| 拱宸桥街道 | 2 |" in md and "| 小河街道 | 1 |" in md
    assert "| （区外 outside） | 2 |" in md  # D and F have no street given


def test_packaged_file_against_itself_has_no_change(tmp_path):
    from gongshu_geo.data.io import data_path

    path = data_path("projects.geojson")
    data = json.loads(path.read_text(encoding="utf-8"))
    copy = tmp_path / "copy.geojson"
    copy.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    assert diff_projects(read_version(path), read_version(copy)).empty
