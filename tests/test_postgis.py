"""PostGIS in and out, against a real throw-away PostgreSQL + PostGIS server (_pgserver.py)."""

import os
import subprocess
import sys

import geopandas as gpd
import pandas as pd
import pytest
from test_export import build_layers, expected_geometry, metric_hausdorff

from gongshu_geo import pipeline, read_projects, read_streets
from gongshu_geo.core.errors import CRSError, InputError, OutputError
from gongshu_geo.data import postgis as postgis_in
from gongshu_geo.data.io import data_path
from gongshu_geo.exchange import postgis
from gongshu_geo.exchange.export import export_layers

pytestmark = pytest.mark.system


@pytest.fixture(scope="module")
def pg():
    from _pgserver import start_server

    server = start_server()
    yield server
    server.stop()


@pytest.fixture
def fresh(pg):
    """The server, with the schemas the tests write dropped before each test."""
    with pg.connect() as con:
        for schema in ("gongshu", "inputs", "other"):
            con.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
    return pg


def run_cli(*args):
    return subprocess.run(
        [sys.executable, "-m", "gongshu_geo.cli", *map(str, args)],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
        timeout=600,
    )


def snapshot(pg, schema="gongshu", *, rows=True):
    """Table -> (oid, md5 of every row in key order, comment): what a reader of the schema sees.

    With ``rows=False`` only the catalog is read, which never waits for a writer's locks.
    """
    with pg.connect() as con:
        con.execute("SET lock_timeout = '5s'")  # a test that would hang fails instead
        tables = [
            r[0]
            for r in con.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = %s ORDER BY 1", [schema]
            )
        ]
        out = {}
        for table in tables:
            qualified = f'"{schema}"."{table}"'
            digest = None
            if rows:
                digest = con.execute(
                    f"SELECT md5(string_agg(t::text, '|' ORDER BY fid)) FROM {qualified} t"
                ).fetchone()[0]
            oid, comment = con.execute(
                "SELECT %s::regclass::oid, obj_description(%s::regclass)", [qualified] * 2
            ).fetchone()
            out[table] = (oid, digest, comment)
    return out


# --- URLs, no server needed -----------------------------------------------------------------


def test_redact_dsn_hides_every_password():
    assert (
        postgis_in.redact_dsn("postgresql://gis:s3cr%40t@db:5432/plan?table=a.b")
        == "postgresql://gis:***@db:5432/plan?table=a.b"
    )
    assert "hunter2" not in postgis_in.redact_dsn("postgresql://gis@db/plan?password=hunter2")
    assert postgis_in.redact_dsn("postgresql://gis@db/plan") == "postgresql://gis@db/plan"
    assert postgis_in.is_dsn("postgres://x/y") and not postgis_in.is_dsn("projects.gpkg")
    assert postgis_in.source_name("postgresql://h/d?table=inputs.clinics") == "clinics"
    assert (
        postgis_in.with_sql("postgresql://h/d?table=a.b", "SELECT 1")
        == "postgresql://h/d?table=a.b"
    )
    assert postgis_in._split_dsn(postgis_in.with_sql("postgresql://h/d", "SELECT 1 % 2"))[2] == (
        "SELECT 1 % 2"
    )


def test_missing_server_binaries_skip_or_fail(monkeypatch):
    import _pgserver
    import _system

    monkeypatch.setattr(_pgserver, "_bindir", lambda: None)
    monkeypatch.delenv(_system.REQUIRE_ENV, raising=False)
    with pytest.raises(pytest.skip.Exception, match=r"PostgreSQL server binaries .* not found"):
        _pgserver.start_server()
    monkeypatch.setenv(_system.REQUIRE_ENV, "1")
    with pytest.raises(pytest.fail.Exception, match=r"GONGSHU_GEO_REQUIRE_SYSTEM=1 this is a fail"):
        _pgserver.start_server()


# --- out ------------------------------------------------------------------------------------


def test_export_tables_keys_indexes_comments_and_geometry(fresh):
    layers = build_layers(with_coverage=True)
    written = export_layers(layers, fresh.dsn(), fmt="postgis", crs="EPSG:4549")
    assert written == [f"gongshu.{name}" for name in layers]
    with fresh.connect() as con:
        for name, frame in layers.items():
            qualified = f"gongshu.{name}"
            key = con.execute(
                "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid "
                "AND a.attnum = ANY(i.indkey) WHERE i.indrelid = %s::regclass AND i.indisprimary",
                [qualified],
            ).fetchall()
            assert key == [("fid",)], name
            fids = [r[0] for r in con.execute(f"SELECT fid FROM {qualified} ORDER BY fid")]
            assert fids == list(range(1, len(frame) + 1))
            gist = con.execute(
                "SELECT count(*) FROM pg_indexes WHERE schemaname = 'gongshu' AND tablename = %s "
                "AND indexdef LIKE '%%USING gist (geometry)%%'",
                [name],
            ).fetchone()[0]
            assert gist == (1 if isinstance(frame, gpd.GeoDataFrame) else 0), name
        comment = con.execute("SELECT obj_description('gongshu.projects_park'::regclass)")
        assert comment.fetchone()[0] == (
            "规划项目：公园绿地 Plan projects (park). Coordinates in EPSG:4549 "
            "(CGCS2000 / 3-degree Gauss-Kruger CM 120E (metres))."
        )
        columns = dict(
            con.execute(
                "SELECT column_name, col_description('gongshu.projects_park'::regclass, "
                "ordinal_position) FROM information_schema.columns "
                "WHERE table_schema = 'gongshu' AND table_name = 'projects_park'"
            ).fetchall()
        )
        assert columns["status"] == "状态 Status code"
        assert columns["location_accuracy_m"] == "位置精度(米) Location accuracy (m)"
        assert columns["fid"] == "行号 Row number (primary key)"
        assert columns["geometry"] == "几何 Geometry (EPSG:4549)"
        srid = con.execute("SELECT Find_SRID('gongshu', 'streets', 'geometry')").fetchone()[0]
        assert srid == 4549
    for name in ("streets", "projects_park", "service_areas"):
        read = postgis_in.read_postgis_layer(fresh.dsn(table=f"gongshu.{name}"))
        source = layers[name]
        assert read.crs.to_epsg() == 4549
        assert list(read.columns.drop("geometry")) == ["fid", *source.columns.drop("geometry")]
        assert len(read) == len(source)
        if "name" in source:
            assert list(read["name"]) == list(source["name"])
        assert metric_hausdorff(read, expected_geometry(source, "EPSG:4549"), 4549) < 0.01
    with fresh.connect() as con:
        rows = con.execute(
            "SELECT project_id, street_name FROM gongshu.project_streets ORDER BY fid"
        )
        assert rows.fetchall() == [("P-PARK-001", "米市巷街道"), ("P-PARK-003", "湖墅街道")]


def test_rerun_replaces_tables_in_one_commit(fresh, monkeypatch):
    export_layers(build_layers(), fresh.dsn(), fmt="postgis")
    before = snapshot(fresh)
    seen_meanwhile = []

    def look_from_outside(conn, schema, name):
        # another session, while the writer is mid-way (the catalog: rows are locked)
        seen_meanwhile.append(snapshot(fresh, rows=False))

    monkeypatch.setattr(postgis, "_table_written", look_from_outside)
    layers = build_layers()
    layers["streets"].loc[0, "name"] = "改过的名字"
    export_layers(layers, fresh.dsn(), fmt="postgis")
    after = snapshot(fresh)
    assert len(seen_meanwhile) == len(layers)
    old_catalog = {t: (oid, None, comment) for t, (oid, _, comment) in before.items()}
    assert all(seen == old_catalog for seen in seen_meanwhile)  # old tables until the commit
    assert set(after) == set(before)
    assert all(after[t][0] != before[t][0] for t in after)  # every table replaced
    assert after["streets"][1] != before["streets"][1]
    assert after["district"][1] == before["district"][1]  # same rows, new table
    read = postgis_in.read_postgis_layer(fresh.dsn(table="gongshu.streets"))
    assert read["name"][0] == "改过的名字"


def test_killed_connection_mid_write_leaves_schema_as_it_was(fresh, monkeypatch):
    export_layers(build_layers(), fresh.dsn(), fmt="postgis")
    before = snapshot(fresh)
    calls = []

    def kill_writer(conn, schema, name):
        calls.append(name)
        if len(calls) == 2:
            pid = conn.connection.driver_connection.info.backend_pid
            with fresh.connect() as other:
                assert other.execute("SELECT pg_terminate_backend(%s)", [pid]).fetchone()[0]

    monkeypatch.setattr(postgis, "_table_written", kill_writer)
    layers = build_layers(with_coverage=True)  # two more layers than before
    layers["district"].loc[0, "name"] = "改过的名字"
    with pytest.raises(OutputError) as info:
        export_layers(layers, fresh.dsn(), fmt="postgis")
    message = str(info.value)
    assert "writing gongshu.projects_park failed" in message
    assert 'the transaction was rolled back, so schema "gongshu" is as it was' in message
    assert fresh.password not in message and ":***@" in message
    assert calls == ["district", "streets"]
    assert snapshot(fresh) == before  # nothing half-written, no service_areas or gaps


def test_refused_value_in_last_layer_rolls_everything_back(fresh):
    export_layers(build_layers(), fresh.dsn(), fmt="postgis")
    before = snapshot(fresh)
    layers = build_layers()
    layers["streets"].loc[1, "name"] = "新名字"
    layers["project_streets"].loc[1, "street_name"] = "bad\x00text"  # PostgreSQL text has no NUL
    with pytest.raises(OutputError, match=r"writing gongshu.project_streets failed \(.*NUL"):
        export_layers(layers, fresh.dsn(), fmt="postgis")
    assert snapshot(fresh) == before


def test_other_tables_in_the_schema_are_left_alone(fresh):
    with fresh.connect() as con:
        con.execute("CREATE SCHEMA gongshu")
        con.execute("CREATE TABLE gongshu.notes (txt text)")
        con.execute("INSERT INTO gongshu.notes VALUES ('我的笔记')")
    export_layers(build_layers(), fresh.dsn(), fmt="postgis")
    with fresh.connect() as con:
        assert con.execute("SELECT txt FROM gongshu.notes").fetchall() == [("我的笔记",)]


def test_export_wrong_password_is_a_clear_error_without_it(fresh):
    wrong = "not-the-pw-42"
    with pytest.raises(OutputError) as info:
        export_layers(build_layers(), fresh.dsn(password=wrong), fmt="postgis")
    message = str(info.value)
    assert "cannot connect to the database" in message
    assert 'password authentication failed for user "gongshu"' in message
    assert wrong not in message and fresh.password not in message
    assert message.startswith(f"postgresql://gongshu:***@127.0.0.1:{fresh.port}/gongshu_test")


# --- in -------------------------------------------------------------------------------------


def test_read_errors_name_the_problem(fresh):
    with fresh.connect() as con:
        con.execute("CREATE SCHEMA other")
        con.execute("CREATE TABLE other.plain (a int, b text)")
        con.execute("CREATE TABLE other.nosrid (id int, geom geometry)")
        con.execute("INSERT INTO other.nosrid VALUES (1, 'POINT(120.1 30.3)')")
        con.execute("CREATE TABLE other.mixed (id int, geom geometry)")
        con.execute(
            "INSERT INTO other.mixed VALUES (1, 'SRID=4326;POINT(120.1 30.3)'), "
            "(2, 'SRID=4549;POINT(500000 3350000)')"
        )
    read = postgis_in.read_postgis_layer
    with pytest.raises(InputError, match=r':\*\*\*@.*: no such table "other.nope"'):
        read(fresh.dsn(table="other.nope"))
    with pytest.raises(
        InputError, match=r'table "other.plain" has no geometry column.*found columns a, b'
    ):
        read(fresh.dsn(table="other.plain"))
    with pytest.raises(
        CRSError, match=r'geometry column "geom" of table "other.nosrid" has no SRID \(0\)'
    ):
        read(fresh.dsn(table="other.nosrid"))
    with pytest.raises(CRSError, match=r"mixes SRIDs \[4326, 4549\]"):
        read(fresh.dsn(table="other.mixed"))
    with pytest.raises(InputError, match=r"the query failed \(.*nope"):
        read(fresh.dsn(sql="SELECT * FROM nope"))
    with pytest.raises(InputError, match=r"say which layer to read with \?table=schema.name"):
        read(fresh.dsn())
    with pytest.raises(InputError, match=r"cannot connect.*does not exist"):
        read(fresh.dsn("no_such_db", table="a.b"))
    # a % in a query is just a %
    one = read(
        fresh.dsn(sql="SELECT * FROM other.mixed WHERE id::text LIKE '1%' AND ST_SRID(geom) = 4326")
    )
    assert len(one) == 1 and one.crs.to_epsg() == 4326 and one.geometry[0].x == 120.1


def test_cli_wrong_password_exits_1_without_printing_it(fresh):
    export_layers(build_layers(), fresh.dsn(), fmt="postgis")
    wrong = "wrong-pw-7319"
    source = fresh.dsn(password=wrong, table="gongshu.projects_park")
    proc = run_cli("-v", "validate", "--projects", source)
    assert proc.returncode == 1
    assert 'password authentication failed for user "gongshu"' in proc.stderr
    assert wrong not in proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    proc = run_cli("export", "--format", "postgis", "--dsn", fresh.dsn(password=wrong))
    assert proc.returncode == 1 and "cannot connect to the database" in proc.stderr
    assert wrong not in proc.stdout + proc.stderr
    proc = run_cli("export", "--format", "postgis")
    assert proc.returncode == 2 and "--format postgis needs --dsn" in proc.stderr


def _projects_union(pg, columns):
    """One query over every exported projects_* table, selecting the file's columns."""
    with pg.connect() as con:
        tables = con.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'gongshu' "
            "AND tablename LIKE 'projects%%' ORDER BY 1"
        ).fetchall()
    assert len(tables) > 5
    select = ", ".join(f'"{c}"' for c in columns)
    return " UNION ALL ".join(f"SELECT {select} FROM gongshu.{t}" for (t,) in tables)


def test_round_trip_cli_export_then_read_equals_files(fresh):
    proc = run_cli(
        "-v", "export", "--format", "postgis", "--dsn", fresh.dsn(), "--schema", "gongshu"
    )
    assert proc.returncode == 0, proc.stderr
    assert fresh.password not in proc.stdout + proc.stderr
    assert "gongshu.streets" in proc.stdout
    files = read_projects()
    columns = [c for c in files.columns]
    union = _projects_union(fresh, columns)
    proc = run_cli("validate", "--projects", fresh.dsn(), "--sql", union)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(f"ok: {len(files)} projects")
    star = union.replace(", ".join(f'"{c}"' for c in columns), "*")  # as the README shows it
    proc = run_cli("validate", "--projects", fresh.dsn(), "--sql", star)
    assert proc.returncode == 0 and proc.stdout.startswith(f"ok: {len(files)} projects")
    db = read_projects(fresh.dsn(sql=union))
    db = db.sort_values("id").reset_index(drop=True)
    files = files.sort_values("id").reset_index(drop=True)
    assert list(db.columns) == columns
    assert db.geometry.geom_equals_exact(files.geometry, tolerance=0).all()  # exact doubles
    pd.testing.assert_frame_equal(
        pd.DataFrame(db.drop(columns="geometry")).astype(object).where(db.notna(), None),
        pd.DataFrame(files.drop(columns="geometry")).astype(object).where(files.notna(), None),
    )
    streets_db = read_streets(fresh.dsn(table="gongshu.streets"))
    streets = read_streets()
    assert list(streets_db["street_code"]) == list(streets["street_code"])
    assert list(streets_db["population"]) == list(streets["population"])
    assert streets_db.geometry.geom_equals_exact(streets.geometry, tolerance=0).all()


def _stats(out):
    tables = {}
    for path in sorted((out / "stats").glob("*.csv")):
        table = pd.read_csv(path, encoding="utf-8-sig", dtype=str)
        tables[path.name] = table.sort_values(list(table.columns)).reset_index(drop=True)
    return tables


@pytest.mark.slow
def test_build_from_postgis_equals_build_from_files(fresh, tmp_path):
    """Projects, streets, a facility layer and a population layer all from PostGIS."""
    streets_file = data_path("boundaries", "streets.geojson")
    streets = read_streets(streets_file)
    clinics = gpd.GeoDataFrame(
        {"name": ["甲诊所", "乙诊所"]},
        geometry=gpd.points_from_xy([120.155, 120.14], [30.29, 30.33]),
        crs=4326,
    )
    people = gpd.GeoDataFrame(
        {"people": [1000 + 10 * i for i in range(len(streets))]},
        geometry=streets.geometry.representative_point(),
        crs=4326,
    )
    clinics.to_file(tmp_path / "clinics.geojson")
    people.to_file(tmp_path / "people.gpkg")
    export_layers(
        {"clinics": clinics, "people": people}, fresh.dsn(), fmt="postgis", schema="inputs"
    )
    proc = run_cli("export", "--format", "postgis", "--dsn", fresh.dsn())
    assert proc.returncode == 0, proc.stderr
    street_columns = ", ".join(f'"{c}"' for c in pyogrio_columns(streets_file))
    # the database holds the packaged projects, so it is given the packaged baseline table
    options = dict(
        png=False,
        gpkg=False,
        facility_layers=("metro_station", "park"),
        baseline=data_path("baseline.csv"),
    )
    pipeline.build(
        out=tmp_path / "files",
        streets=streets_file,
        facilities={"clinics": tmp_path / "clinics.geojson"},
        population_layer=tmp_path / "people.gpkg",
        population_layer_field="people",
        **options,
    )
    pipeline.build(
        out=tmp_path / "db",
        projects=fresh.dsn(sql=_projects_union(fresh, list(read_projects().columns))),
        streets=fresh.dsn(sql=f"SELECT {street_columns} FROM gongshu.streets"),
        facilities={"clinics": fresh.dsn(table="inputs.clinics")},
        population_layer=fresh.dsn(table="inputs.people"),
        population_layer_field="people",
        **options,
    )
    for path in (tmp_path / "db").rglob("*"):
        if path.is_file():
            assert fresh.password.encode() not in path.read_bytes(), path
    from_files, from_db = _stats(tmp_path / "files"), _stats(tmp_path / "db")
    assert set(from_files) == set(from_db) and "coverage.csv" in from_files
    coverage = from_files["coverage.csv"]
    assert {"user", "plan"} <= set(coverage["scenario"])
    for name, table in from_files.items():
        pd.testing.assert_frame_equal(from_db[name], table, obj=name)


def pyogrio_columns(path):
    import pyogrio

    return [*pyogrio.read_info(path)["fields"], "geometry"]
