"""A flood of problems becomes a report: 50 listed, counts by kind, all in --report."""

import csv
import json

import pytest

from gongshu_geo import ValidationError, read_projects
from gongshu_geo.cli import main
from gongshu_geo.core.problems import MAX_LISTED, Problem, describe_problem, format_problems
from tests.conftest import make_feature


def _flood(path, n):
    """n features: even ones with a bad status, odd ones without a name (2 kinds)."""
    feats = []
    for i in range(n):
        f = make_feature(f"U-{i}", status="done" if i % 2 == 0 else "planned")
        if i % 2:
            f["properties"].pop("name")
        feats.append(f)
    path.write_text(json.dumps({"type": "FeatureCollection", "features": feats}), encoding="utf-8")
    return path


def test_message_lists_fifty_then_counts_by_kind(tmp_path):
    path = _flood(tmp_path / "many.geojson", 2000)
    with pytest.raises(ValidationError) as info:
        read_projects(path)
    assert len(info.value.problems) == 2000
    lines = str(info.value).splitlines()
    assert lines[0] == f"2000 problems in {path}:"
    listed = [line for line in lines if line.startswith("  - ")]
    assert len(listed) == MAX_LISTED
    assert "1950 more" in lines[MAX_LISTED + 1]
    counts = lines[MAX_LISTED + 2 :]
    assert counts == [
        '      1000 × "status" must be one of planned, under_construction, completed, existing',
        '      1000 × required property "name" is missing',
    ]


def test_cli_prints_at_most_fifty_and_writes_the_report(tmp_path, capsys):
    path = _flood(tmp_path / "many.geojson", 2000)
    report = tmp_path / "problems.csv"
    assert main(["validate", "--projects", str(path), "--report", str(report)]) == 1
    err = capsys.readouterr().err
    assert len(err.splitlines()) < MAX_LISTED + 10
    assert "Traceback" not in err and f"wrote 2000 problems to {report}" in err
    with open(report, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 2000
    assert rows[0] == {
        "severity": "error",
        "file": str(path),
        "feature_index": "0",
        "id": "U-0",
        "field": "status",
        "expected": "one of planned, under_construction, completed, existing",
        "found": "'done'",
        "kind": '"status" must be one of planned, under_construction, completed, existing',
        "problem": 'feature "U-0" (#0): "status" must be one of planned, under_construction, '
        "completed, existing; found 'done'",
    }
    assert rows[1]["feature_index"] == "1" and rows[1]["id"] == "U-1"
    assert rows[1]["field"] == "name" and rows[1]["found"] == "nothing"
    assert [int(r["feature_index"]) for r in rows] == list(range(2000))


def test_report_lists_what_skip_invalid_skipped(tmp_path, capsys):
    path = _flood(tmp_path / "some.geojson", 4)
    feats = json.loads(path.read_text(encoding="utf-8"))["features"]
    feats.append(make_feature("U-ok"))
    path.write_text(json.dumps({"type": "FeatureCollection", "features": feats}), encoding="utf-8")
    report = tmp_path / "r.csv"
    args = ["validate", "--projects", str(path), "--skip-invalid", "--report", str(report)]
    assert main(args) == 0
    with open(report, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [(r["severity"], r["id"], r["field"]) for r in rows] == [
        ("skipped", "U-0", "status"),
        ("skipped", "U-1", "name"),
        ("skipped", "U-2", "status"),
        ("skipped", "U-3", "name"),
    ]
    assert {r["file"] for r in rows} == {str(path)}


def test_report_of_a_valid_file_has_only_the_header(tmp_path, capsys):
    report = tmp_path / "r.csv"
    path = tmp_path / "ok.geojson"
    fc = {"type": "FeatureCollection", "features": [make_feature("A")]}
    path.write_text(json.dumps(fc), encoding="utf-8")
    assert main(["validate", "--projects", str(path), "--report", str(report)]) == 0
    assert report.read_text(encoding="utf-8-sig").splitlines() == [
        "severity,file,feature_index,id,field,expected,found,kind,problem"
    ]


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        (
            'feature "P-1" (#4): duplicate "id" \'P-1\', first used by feature #0; every id must '
            "be unique",
            {"feature_index": 4, "id": "P-1", "field": "id"},
        ),
        (
            "row 7: lon/lat must be numbers; found 'x'/'30.1'",
            {"feature_index": 5, "id": None, "expected": "numbers", "found": "'x'/'30.1'"},
        ),
        (
            'street "湖墅街道" (#2): "street_code" is missing',
            {"feature_index": 2, "field": "street_code"},
        ),
        ("the file is empty", {"feature_index": None, "field": None, "kind": "the file is empty"}),
    ],
)
def test_plain_text_problems_are_taken_apart(text, parts):
    described = describe_problem(text)
    assert {k: described[k] for k in parts} == parts
    assert described["problem"] == text


def test_problem_parts_win_over_the_text_and_survive_pickling():
    import pickle

    p = Problem("feature #1: odd", index=1, fid="A", field="f", expected="e", found="x", kind="k")
    q = pickle.loads(pickle.dumps(p))
    assert q == "feature #1: odd" and describe_problem(q)["id"] == "A" and q.kind == "k"
    assert format_problems([p, q], source="f.csv").splitlines()[0] == "2 problems in f.csv:"


def test_problems_are_copied_as_themselves():
    """pandas deep-copies attrs (skipped problems) on every operation; a copy must be cheap."""
    import copy

    p = Problem("feature #1: odd", index=1, fid="A")
    assert copy.deepcopy([p])[0] is p and copy.copy(p) is p


def test_skip_invalid_does_not_flood_the_log_either(tmp_path, capsys):
    path = _flood(tmp_path / "many.geojson", 2000)
    feats = json.loads(path.read_text(encoding="utf-8"))["features"] + [make_feature("U-ok")]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": feats}), encoding="utf-8")
    assert main(["validate", "--projects", str(path), "--skip-invalid"]) == 0
    err = capsys.readouterr().err.splitlines()
    assert len(err) < 3 * MAX_LISTED
    assert sum("skipped feature" in line for line in err) == MAX_LISTED
    assert any("skipped 1950 more problems" in line for line in err)
