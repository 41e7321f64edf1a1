"""The project file: every build option has a key, the command line wins, errors name the line."""

import argparse
import re
from pathlib import Path

import pandas as pd
import pytest

from gongshu_geo import cli
from gongshu_geo.config import (
    CONFIG_KEYS,
    ConfigError,
    parse_config,
    read_config,
    template_text,
    write_template,
)


def _build_parser() -> argparse.ArgumentParser:
    parser = cli.make_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return sub.choices["build"]


def _build_options() -> dict:
    """dest -> action of every option of `build` but --help, --config, -v, -q and --lang."""
    # -v/-q/--lang after the command are logging and language, for every command alike
    common = ("help", "config", "verbose_after", "quiet_after", "lang_after")
    return {
        a.dest: a for a in _build_parser()._actions if a.option_strings and a.dest not in common
    }


def test_every_build_option_has_a_key_and_every_key_an_option():
    options = _build_options()
    dests = {key.dest for key in CONFIG_KEYS}
    missing = sorted(options[d].option_strings[0] for d in set(options) - dests)
    assert not missing, f"build options without a project-file key: {missing}"
    assert dests <= set(options), f"keys for no build option: {sorted(dests - set(options))}"
    assert len({key.name for key in CONFIG_KEYS}) == len(CONFIG_KEYS)


def test_a_file_gives_its_values_with_paths_relative_to_its_folder(tmp_path):
    folder = tmp_path / "project"
    folder.mkdir()
    path = folder / "gongshu.toml"
    path.write_text(
        "[inputs]\n"
        'projects = "data/p.geojson"\n'
        'streets = "postgresql://gis@db/plan?table=official.streets"\n'
        'population = "/abs/人口.csv"\n'
        'facilities = ["clinics.csv", "sub/schools.gpkg"]\n'
        'name_field = "街道名称"\n'
        "[tiers]\n"
        "minutes = [5, 10]\n"
        "speed_m_per_min = 80\n"
        "[maps]\n"
        'basemap = "amap"\n'
        "as_of = 2024\n"
        "cdn = true\n"
        "[outputs]\n"
        "png = false\n",
        encoding="utf-8",
    )
    assert read_config(path) == {
        "projects": str(folder / "data" / "p.geojson"),
        "streets": "postgresql://gis@db/plan?table=official.streets",
        "population": "/abs/人口.csv",
        "facilities": [str(folder / "clinics.csv"), str(folder / "sub" / "schools.gpkg")],
        "name_field": "街道名称",
        "minutes": [5.0, 10.0],
        "speed_m_per_min": 80.0,
        "basemap": "amap",
        "as_of": 2024,
        "cdn": True,
        "no_png": True,
    }


def test_a_toml_syntax_error_gives_the_line():
    text = '[maps]\nbasemap = "amap"\ncdn = yes\n'
    with pytest.raises(ConfigError, match=r"^p\.toml: line 3, column 7: not valid TOML"):
        parse_config(text, source="p.toml")


def test_an_unknown_key_gives_its_line_and_the_closest_key():
    text = '# a comment\n[inputs]\nstreets = "s.shp"\nprojets = "p.geojson"\n'
    with pytest.raises(ConfigError) as info:
        parse_config(text, source="p.toml")
    assert str(info.value) == (
        "p.toml: line 4: unknown key inputs.projets; did you mean inputs.projects?"
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        # a key in the wrong table: the table it belongs to
        ('[maps]\nout = "x"\n', "line 2: unknown key maps.out; did you mean outputs.out?"),
        # a misspelt table
        ('[output]\nout = "x"\n', "line 2: unknown key output.out; did you mean outputs.out?"),
        # a key outside any table
        ('basemap = "amap"\n', "line 1: unknown key basemap; did you mean maps.basemap?"),
        # a dotted key
        (
            'maps.basemapp = "amap"\n',
            "line 1: unknown key maps.basemapp; did you mean maps.basemap?",
        ),
    ],
)
def test_unknown_keys_suggest_the_right_one(text, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        parse_config(text, source="p.toml")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '[maps]\ncdn = "yes"\n',
            "line 2: maps.cdn: expected true or false; found a string ('yes')",
        ),
        (
            "[maps]\n\nas_of = 2024.5\n",
            "line 3: maps.as_of: expected an integer; found a float (2024.5)",
        ),
        (
            "[maps]\nas_of = true\n",
            "line 2: maps.as_of: expected an integer; found a boolean (true)",
        ),
        (
            "[inputs]\nprojects = 3\n",
            "line 2: inputs.projects: expected a string (a path or postgresql:// URL); "
            "found an integer (3)",
        ),
        (
            '[tiers]\nminutes = [5, "10"]\n',
            "line 2: tiers.minutes: expected an array of numbers; found an element that is "
            "a string ('10')",
        ),
        (
            '[inputs]\nfacilities = "clinics.csv"\n',
            "line 2: inputs.facilities: expected an array of strings (paths); "
            "found a string ('clinics.csv')",
        ),
    ],
)
def test_a_wrong_type_names_key_expected_and_found(text, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        parse_config(text, source="p.toml")


def test_every_problem_is_listed_at_once():
    text = '[maps]\ncdn = "yes"\nbasemapp = "osm"\n[outputs]\npng = 1\n'
    with pytest.raises(ConfigError) as info:
        parse_config(text, source="p.toml")
    assert info.value.problems == [
        "line 2: maps.cdn: expected true or false; found a string ('yes')",
        "line 3: unknown key maps.basemapp; did you mean maps.basemap?",
        "line 5: outputs.png: expected true or false; found an integer (1)",
    ]
    assert str(info.value).startswith("3 problems in p.toml:\n  - line 2: maps.cdn")


def test_a_gbk_file_is_refused_with_the_fix(tmp_path):
    path = tmp_path / "gbk.toml"
    path.write_bytes('[inputs]\nname_field = "街道名称"\n'.encode("gbk"))
    with pytest.raises(ConfigError, match="not UTF-8; TOML files are UTF-8"):
        read_config(path)


def test_the_template_holds_every_key_and_sets_only_defaults():
    text = template_text()
    options = parse_config(text)
    defaults = {d: a.default for d, a in _build_options().items()}
    assert options, "the template sets the keys that have defaults"
    for dest, value in options.items():
        assert value == defaults[dest], dest
    # uncommenting every example sets every key, each with a value of the right type
    uncommented = re.sub(r"(?m)^# (\w+ = )", r"\1", text)
    assert set(parse_config(uncommented)) == {key.dest for key in CONFIG_KEYS}


def test_init_writes_the_template_and_keeps_an_existing_file(tmp_path, capsys):
    path = tmp_path / "gongshu.toml"
    assert cli.main(["init", str(path)]) == 0
    assert path.read_text(encoding="utf-8") == template_text()
    path.write_text("# mine\n", encoding="utf-8")
    assert cli.main(["init", str(path)]) == 1
    assert "already exists" in capsys.readouterr().err
    assert path.read_text(encoding="utf-8") == "# mine\n"
    assert cli.main(["init", str(path), "--force"]) == 0
    assert path.read_text(encoding="utf-8") == template_text()
    assert write_template(tmp_path / "other.toml") == tmp_path / "other.toml"


def _captured_build(monkeypatch):
    import gongshu_geo.pipeline as pipeline
    from gongshu_geo.pipeline import BuildResult

    seen = {}

    def fake_build(**kwargs):
        seen.update(kwargs)
        return BuildResult(out_dir=Path(kwargs["out"]))

    monkeypatch.setattr(pipeline, "build", fake_build)
    return seen


def test_the_command_line_overrides_the_file(tmp_path, monkeypatch):
    path = tmp_path / "gongshu.toml"
    path.write_text(
        '[maps]\nbasemap = "amap"\ncdn = true\n[outputs]\nout = "from_file"\npng = false\n'
        "[tiers]\nminutes = [5, 10]\n",
        encoding="utf-8",
    )
    seen = _captured_build(monkeypatch)
    assert cli.main(["-q", "build", "--config", str(path), "--basemap", "osm"]) == 0
    assert seen["basemap"] == "osm"  # given on the command line, though it is the default
    assert seen["inline_assets"] is False  # cdn = true from the file
    assert seen["png"] is False
    assert seen["out"] == str(tmp_path / "from_file")
    assert seen["tiers"]["minutes"].tolist() == [5.0, 10.0]
    seen.clear()
    out = tmp_path / "cli_out"
    assert (
        cli.main(["-q", "build", "--config", str(path), "--out", str(out), "--minutes", "15"]) == 0
    )
    assert seen["out"] == str(out) and seen["basemap"] == "amap"
    assert seen["tiers"]["distance_m"].tolist() == [1000.0]


def test_a_bad_file_exits_1_with_the_message_and_no_traceback(tmp_path, capsys):
    path = tmp_path / "gongshu.toml"
    path.write_text('[maps]\nbasemap = "amap"\ncdn = "no"\n', encoding="utf-8")
    assert cli.main(["build", "--config", str(path)]) == 1
    err = capsys.readouterr().err
    assert (
        err == f"error: {path}: line 3: maps.cdn: expected true or false; found a string ('no')\n"
    )
    assert cli.main(["build", "--config", str(tmp_path / "missing.toml")]) == 1
    assert "cannot read the project file (No such file or directory)" in capsys.readouterr().err


@pytest.mark.slow
def test_the_template_builds(tmp_path):
    path = tmp_path / "project" / "gongshu.toml"
    path.parent.mkdir()
    assert cli.main(["-q", "init", str(path)]) == 0
    text = path.read_text(encoding="utf-8")
    text = text.replace("# minutes = [5, 10, 15]", "minutes = [5, 10]")
    text = text.replace("png = true", "png = false").replace('out = "maps"', 'out = "built"')
    path.write_text(text, encoding="utf-8")
    assert cli.main(["-q", "build", "--config", str(path)]) == 0
    built = path.parent / "built"
    coverage = pd.read_csv(built / "stats" / "coverage.csv", encoding="utf-8-sig")
    assert sorted(coverage["minutes"].unique()) == [5.0, 10.0]
    assert sorted(coverage["distance_m"].unique()) == [300.0, 500.0]
    assert (built / "index.html").exists() and not (built / "png").exists()


def test_metres_alone_are_walked_at_60_m_per_min_so_maps_can_name_the_tiers(monkeypatch):
    seen = _captured_build(monkeypatch)
    assert cli.main(["-q", "build", "--distances-m", "300", "600"]) == 0
    assert seen["tiers"][["minutes", "distance_m"]].values.tolist() == [[5.0, 300.0], [10.0, 600.0]]
    assert cli.main(["-q", "build", "--distances-m", "300", "--speed-m-per-min", "100"]) == 0
    assert seen["tiers"][["minutes", "distance_m"]].values.tolist() == [[3.0, 300.0]]
