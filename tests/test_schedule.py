"""The plan as a schedule: schema checks, the state in a year, counts by street and year."""

import json

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point

from gongshu_geo import InputError, ValidationError
from gongshu_geo.analysis.schedule import (
    compute_schedule_state,
    recorded_status,
    summarize_schedule,
)
from gongshu_geo.cli import main
from gongshu_geo.data.io import read_projects
from gongshu_geo.data.schema import check_schedule

LOG = [
    {"date": "2022-02", "status": "planned", "source": "plan"},
    {"date": "2023-10-01", "status": "under_construction", "source": "news"},
    {"date": "2025", "status": "completed", "source": "bulletin"},
]


def _problems(**props):
    return check_schedule({"status": "completed", **props}, 'feature "X" (#0)')


def test_valid_schedules_pass():
    assert _problems(start_year=2021, end_year=2025, status_log=LOG) == []
    assert _problems(start_year=2021.0, end_year=None) == []
    assert _problems(status_log=json.dumps(LOG)) == []  # as GeoPackage holds it


@pytest.mark.parametrize(
    ("props", "message"),
    [
        ({"start_year": 1999}, '"start_year" must be a whole year from 2000 to 2050; found 1999'),
        ({"end_year": 2025.5}, '"end_year" must be a whole year from 2000 to 2050; found 2025.5'),
        ({"start_year": "2021"}, "found '2021'"),
        ({"start_year": 2024, "end_year": 2022}, "found 2024 > 2022"),
        ({"status_log": {"date": "2022"}}, '"status_log" must be a list of entries; found dict'),
        ({"status_log": [LOG[1], LOG[0]]}, "dates must be in order; found '2022-02' after"),
        ({"status_log": [{**LOG[2], "status": "done"}]}, "found 'done'"),
        ({"status_log": [{**LOG[2], "date": "25/12/2023"}]}, '"date" must be YYYY, YYYY-MM'),
        ({"status_log": [{**LOG[2], "source": ""}]}, '"source" must name where'),
        ({"status_log": LOG[:2]}, "latest \"status_log\" entry's, 'under_construction'"),
    ],
)
def test_bad_schedules_are_named(props, message):
    problems = _problems(**props)
    assert any(message in p for p in problems), problems
    assert all(p.startswith('feature "X" (#0)') for p in problems)


def test_validate_reports_a_bad_year_with_file_and_feature(tmp_path, capsys):
    data = json.loads(read_projects.__globals__["data_path"]("projects.geojson").read_text("utf-8"))
    data["features"] = data["features"][:3]
    data["features"][1]["properties"]["start_year"] = 2030
    data["features"][1]["properties"]["end_year"] = 2025
    path = tmp_path / "p.geojson"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(ValidationError):
        read_projects(path)
    assert main(["validate", "--projects", str(path)]) == 1
    err = capsys.readouterr().err
    fid = data["features"][1]["properties"]["id"]
    assert str(path) in err and f'"{fid}" (#1)' in err and "2030 > 2025" in err


def _frame():
    return gpd.GeoDataFrame(
        {
            "id": ["a", "b", "c", "d", "e"],
            "category": ["park", "park", "road", "park", "road"],
            "status": ["completed", "planned", "planned", "existing", "planned"],
            "start_year": [2021, 2023, 2021, None, None],
            "end_year": [2022, 2025, 2025, None, None],
            "status_log": [json.dumps(LOG), None, None, None, None],
        },
        geometry=[Point(0, 0)] * 5,
        crs="EPSG:4326",
    )


def test_state_in_a_year_by_hand():
    got = compute_schedule_state(_frame(), as_of=2022)
    assert got["scheduled_state"].tolist() == [
        "due", "not_started", "in_progress", "existing", "unscheduled"
    ]  # fmt: skip
    recorded = [v if isinstance(v, str) else None for v in got["recorded_status"]]
    assert recorded == ["planned", None, None, None, None]
    got = compute_schedule_state(_frame(), as_of=2025)
    assert got["scheduled_state"].tolist()[:3] == ["due", "due", "due"]
    assert got["recorded_status"].iloc[0] == "completed"
    assert recorded_status(LOG, as_of=2021) is None


def test_as_of_must_be_a_year():
    with pytest.raises(InputError, match="as_of must be a whole year"):
        compute_schedule_state(_frame(), as_of=1900)


def test_counts_by_street_and_year():
    joined = pd.DataFrame(
        {
            "project_id": ["a", "b", "c", "c", "d", "e"],
            "street_code": ["S1", "S1", "S1", "S2", "S2", None],
            "outside": [False, False, False, False, False, True],
        }
    )
    table = summarize_schedule(joined, _frame()).set_index(["street_code", "category", "year"])
    assert sorted(set(table.index.get_level_values("year"))) == [2021, 2022, 2023, 2024, 2025]
    park = table.loc[("S1", "park")]
    assert park["n_starting"].tolist() == [1, 0, 1, 0, 0]  # a in 2021, b in 2023
    assert park["n_under_way"].tolist() == [1, 1, 1, 1, 1]  # a 2021-22, b 2023-25
    assert park["n_finishing"].tolist() == [0, 1, 0, 0, 1]
    assert park["n_recorded_done"].tolist() == [0, 0, 0, 0, 1]  # completed in 2025
    # the road runs through two streets and counts in each
    assert table.loc[("S2", "road", 2023), "n_under_way"] == 1
    assert table.loc[("S1", "road", 2025), "n_finishing"] == 1
