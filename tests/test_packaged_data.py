"""The packaged projects pass the schema and keep the promises of data/README.md."""

import json

import pytest

from gongshu_geo import read_district, read_projects, read_streets
from gongshu_geo.analysis.join import join_projects_to_streets
from gongshu_geo.data.io import data_path
from gongshu_geo.data.schema import CATEGORIES, REQUIRED_PROPERTIES, STATUSES


@pytest.fixture(scope="module")
def projects():
    return read_projects()


def test_every_feature_passes_the_schema(projects):
    # read_projects raises on any problem; here we also check it kept every feature
    raw = json.loads(data_path("projects.geojson").read_text(encoding="utf-8"))
    assert len(projects) == len(raw["features"]) > 100
    assert projects.attrs["skipped"] == []


def test_required_properties_are_filled(projects):
    for field in REQUIRED_PROPERTIES:
        assert projects[field].notna().all(), field
    assert set(projects["category"]) <= set(CATEGORIES)
    assert set(projects["status"]) <= set(STATUSES)
    assert (projects["location_accuracy_m"] > 0).all()
    assert projects["location_source"].str.len().min() > 10


def test_plan_items_the_issue_names_are_present(projects):
    names = set(projects["name"])
    for expected in (
        "谢村渣土码头",
        "谢村码头公园",
        "瓜山未来社区",
        "运河亚运公园",
        "东新路景观大道",
        "丽水路",
    ):
        assert any(expected in n for n in names), expected
    lines = projects.loc[projects["category"] == "metro_line", "name"].str.cat(sep=" ")
    for line in ("3号线", "4号线", "10号线", "机场快线", "15号线"):
        assert line in lines


def test_relocation_keeps_its_origin_and_invents_no_destination(projects):
    dock = projects[projects["category"] == "spoil_dock"]
    assert len(dock) == 1
    assert dock["subcategory"].iloc[0] == "relocation_origin"
    assert dock.geometry.iloc[0].geom_type in ("Point", "Polygon", "MultiPolygon")


def test_most_projects_lie_in_the_district(projects):
    joined = join_projects_to_streets(read_streets(), projects)
    outside = joined[joined["outside"]]
    # roads and lines may run on beyond the outline; whole features outside are rare
    wholly = outside[outside["share"] > 0.999]
    assert len(wholly) <= 3, wholly[["project_id", "project_name"]]


def test_outline_area_is_the_documented_one():
    district = read_district()
    km2 = district.to_crs("EPSG:4549").area.sum() / 1e6
    assert km2 == pytest.approx(98.99, abs=0.05)


def test_every_project_has_a_schedule_from_its_period(projects):
    import re

    assert projects["schedule_source"].notna().all()
    for row in projects.itertuples():
        match = re.fullmatch(r"(\d{4})-(\d{4})", row.period)
        if match:
            assert (row.start_year, row.end_year) == (int(match[1]), int(match[2])), row.id
            assert row.period in row.schedule_source
        else:
            assert row.start_year != row.start_year and row.end_year != row.end_year, row.id


@pytest.mark.slow
def test_schedule_fields_follow_the_periods_as_the_script_derives_them():
    from _scripts import run_check

    result = run_check("derive_schedule.py")
    assert result.returncode == 0, result.stdout + result.stderr


def test_data_readme_summary_table_is_the_data():
    # the table is written by scripts/summarize_data.py; an edit to the data without
    # rerunning it leaves data/README.md describing other data
    from _scripts import run_check

    done = run_check("summarize_data.py")
    assert done.returncode == 0, done.stderr


def test_plan_audit_rows_point_at_real_features_and_quote_the_plan():
    import csv
    import json
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    plan = root.parent / "shared" / "plan" / "000_e04ed0866f9d98ed.txt"
    ids = {
        f["properties"]["id"]
        for f in json.loads((root / "data" / "projects.geojson").read_text("utf-8"))["features"]
    }
    with (root / "data" / "plan_audit.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) > 150

    def norm(s):  # the plan's text has ASCII punctuation and spaces where the quotes may not
        table = str.maketrans("，；：（）、“”", ',;:()、""')
        return s.translate(table).replace(" ", "").replace("\u3000", "")

    text = norm(plan.read_text("utf-8")) if plan.exists() else None
    for row in rows:
        wanted = [i for i in row["feature_id"].split(";") if i]
        if row["status_note"].startswith("not located"):
            assert not wanted and len(row["status_note"]) > len("not located: "), row
            continue
        assert wanted, row
        for i in wanted:
            found = [k for k in ids if k.startswith(i[:-1])] if i.endswith("*") else [i]
            assert found and all(k in ids for k in found), (row["name"], i)
        if text is not None:  # the quote is the plan's (spaces as the text has them vary)
            for part in norm(row["quote"]).split("…"):
                assert part in text, (row["plan_ref"], row["quote"])
