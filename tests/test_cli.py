"""The command line: exit codes and readable errors, never a traceback."""

import json
import os
import subprocess
import sys

import pytest

from gongshu_geo.cli import main
from tests.conftest import make_feature


def run_cli(*args, cwd=None):
    """Run the real console entry point in a subprocess."""
    proc = subprocess.run(
        [sys.executable, "-m", "gongshu_geo.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    return proc


def test_validate_packaged_data_exits_zero():
    proc = run_cli("validate")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("ok: ") and "18 streets" in proc.stdout


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda f: f["properties"].update(category="lake"), '"category" must be one of'),
        (lambda f: f["properties"].pop("id"), 'required property "id" is missing'),
        (
            lambda f: f.update(geometry={"type": "Point", "coordinates": [30.32, 120.15]}),
            "appear swapped",
        ),
        (
            lambda f: f.update(geometry={"type": "Point", "coordinates": [100.0, 20.0]}),
            "far outside Gongshu",
        ),
        (
            lambda f: f.update(
                geometry={
                    "type": "Polygon",
                    "coordinates": [
                        [
                            [120.15, 30.32],
                            [120.151, 30.321],
                            [120.151, 30.32],
                            [120.15, 30.321],
                            [120.15, 30.32],
                        ]
                    ],
                }
            ),
            "Self-intersection",
        ),
    ],
)
def test_validate_broken_file_exits_one_without_traceback(tmp_path, mutate, expected):
    broken = make_feature()
    mutate(broken)
    path = tmp_path / "p.geojson"
    path.write_text(
        json.dumps({"type": "FeatureCollection", "features": [make_feature("P-PARK-009"), broken]})
    )
    proc = run_cli("validate", "--projects", str(path))
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert proc.stderr.startswith(f"error: {path}: ")
    assert expected in proc.stderr


def test_duplicate_ids_listed_together_with_other_problems(tmp_path, capsys):
    path = tmp_path / "p.geojson"
    feats = [make_feature(), make_feature(), make_feature("P-PARK-003", status="done")]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": feats}))
    assert main(["validate", "--projects", str(path)]) == 1
    err = capsys.readouterr().err
    assert "2 problems in" in err and 'duplicate "id"' in err and "found 'done'" in err


def test_skip_invalid_and_strict(tmp_path, capsys):
    path = tmp_path / "p.geojson"
    feats = [make_feature(), make_feature("P-PARK-002", status="done")]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": feats}))
    assert main(["validate", "--projects", str(path), "--skip-invalid"]) == 0
    captured = capsys.readouterr()
    assert "ok: 1 projects" in captured.out and "skipped 1 invalid features" in captured.err
    assert main(["validate", "--projects", str(path), "--skip-invalid", "--strict"]) == 1


def test_usage_error_exits_two():
    proc = run_cli("frobnicate")
    assert proc.returncode == 2 and "invalid choice" in proc.stderr


def test_export_command_formats_and_refusal(tmp_path, capsys):
    import pyogrio

    from gongshu_geo.core.crs import wgs84_to_gcj02

    assert (
        main(
            [
                "-q",
                "export",
                "--format",
                "geojson",
                "--crs",
                "GCJ-02",
                "--out",
                str(tmp_path),
                "--layers",
                "streets",
                "projects_metro_station",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    files = sorted(tmp_path.glob("*.geojson"))
    assert [f.name for f in files] == [
        "projects_metro_station_gcj02.geojson",
        "streets_gcj02.geojson",
    ]
    assert str(files[0]) in out
    shifted = pyogrio.read_dataframe(files[0])
    from gongshu_geo import read_projects

    orig = read_projects().query("category == 'metro_station'")
    lon, _ = wgs84_to_gcj02(orig.geometry.x.to_numpy(), orig.geometry.y.to_numpy())
    assert abs(shifted.geometry.x.to_numpy() - lon).max() < 1e-6

    assert (
        main(["export", "--format", "kml", "--crs", "EPSG:4549", "--out", str(tmp_path / "k")]) == 1
    )
    assert "KML is always WGS 84" in capsys.readouterr().err
    assert main(["export", "--out", str(tmp_path), "--layers", "nope"]) == 1
    assert "unknown layer 'nope'; available: district, streets" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "level"),
    [
        (["-q", "validate"], "WARNING"),
        (["validate", "-q"], "WARNING"),
        (["validate", "--quiet"], "WARNING"),
        (["-v", "validate"], "INFO"),
        (["validate", "-v", "-v"], "DEBUG"),
        (["-v", "validate", "-v"], "DEBUG"),
    ],
)
def test_quiet_and_verbose_before_or_after_the_command(argv, level):
    import logging

    assert main(argv) == 0
    assert logging.getLevelName(logging.getLogger("gongshu_geo").level) == level


def test_quiet_after_the_command_in_a_subprocess(tmp_path):
    proc = run_cli("map", "-q", "--out", str(tmp_path / "m"))
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == "" and (tmp_path / "m" / "index.html").exists()
