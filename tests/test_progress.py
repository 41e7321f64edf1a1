"""Progress bars: drawn on a terminal, never into a pipe or under -q, and logging unchanged."""

import fcntl
import io
import logging
import os
import pty
import struct
import subprocess
import sys
import termios

import pytest

from gongshu_geo.core.progress import bars_shown, track

BAR = "%|"  # tqdm's bar starts after the percentage


class _Terminal(io.StringIO):
    def isatty(self):
        return True


@pytest.fixture
def package_level():
    logger = logging.getLogger("gongshu_geo")
    before = logger.level
    yield logger.setLevel
    logger.setLevel(before)


def test_bars_shown_needs_a_terminal_and_info_logging(package_level):
    package_level(logging.INFO)
    assert bars_shown(_Terminal()) is True
    assert bars_shown(io.StringIO()) is False  # a pipe or a file
    package_level(logging.WARNING)  # what -q sets
    assert bars_shown(_Terminal()) is False


def test_track_yields_every_item_in_order_without_a_terminal(capsys, package_level):
    package_level(logging.INFO)
    assert list(track(iter("abc"), desc="x", total=3)) == ["a", "b", "c"]
    assert list(track([], desc="x")) == []
    assert capsys.readouterr().err == ""  # pytest's stderr is no terminal: nothing drawn


def _run(args, *, tty: bool, tmp_path):
    """Run ``python -m gongshu_geo.cli ARGS``; stderr on a 100-column pseudo-terminal if ``tty``."""
    cmd = [sys.executable, "-m", "gongshu_geo.cli", *args]
    env = {**os.environ, "PYTHONWARNINGS": "ignore", "COLUMNS": "100"}
    if not tty:
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=tmp_path)
        return proc.returncode, proc.stderr
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    proc = subprocess.Popen(
        cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=slave, env=env,
        cwd=tmp_path,
    )  # fmt: skip
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    return proc.wait(), b"".join(chunks).decode("utf-8", "replace")


@pytest.fixture(scope="module")
def points_job(tmp_path_factory):
    """A small city-scale job: 6 synthetic streets, 40 facilities, 20,000 people in 10 chunks."""
    pytest.importorskip("pyarrow")
    from gongshu_geo.data.synth import (
        make_facilities,
        make_synthetic_region,
        write_population_parquet,
    )

    tmp = tmp_path_factory.mktemp("points")
    streets = make_synthetic_region(6, seed=3)
    streets.to_file(tmp / "streets.gpkg")
    make_facilities(streets, 40, seed=3).to_file(tmp / "fac.gpkg")
    write_population_parquet(tmp / "pop", 20_000, streets=streets, seed=3, chunk_size=4_000)
    args = ["coverage-points", "--population-parquet", "pop", "--facilities", "fac.gpkg"]
    args += ["--streets", "streets.gpkg", "--name-field", "name", "--code-field", "street_code"]
    args += ["--chunk-size", "2000", "--out", "cov.csv"]
    return tmp, args


def test_a_city_scale_run_draws_a_bar_on_a_terminal(points_job):
    tmp, args = points_job
    code, err = _run(args, tty=True, tmp_path=tmp)
    assert code == 0, err
    assert "population points" in err and BAR in err
    assert "/20.0k [" in err  # the total is the Parquet rows, read from the metadata
    # the log line is whole, on a line of its own, as without a bar (the terminal shows
    # what follows the last carriage return of a line; the bar is cleared with spaces)
    lines = [line.rstrip("\r").split("\r")[-1] for line in err.split("\n")]
    assert any(line.startswith("INFO: point coverage of 6 streets by fac") for line in lines), err


def test_no_bar_under_quiet_or_into_a_pipe(points_job):
    tmp, args = points_job
    code, err = _run(["-q", *args], tty=True, tmp_path=tmp)
    assert code == 0, err
    assert err == ""
    code, err = _run(args, tty=False, tmp_path=tmp)
    assert code == 0, err
    assert BAR not in err and "population points" not in err and "\r" not in err
    assert "INFO: point coverage of 6 streets by fac" in err


@pytest.mark.slow
def test_build_draws_the_coverage_bar_on_a_terminal(tmp_path):
    code, err = _run(["build", "--no-png", "--out", "out"], tty=True, tmp_path=tmp_path)
    assert code == 0, err
    assert "coverage of the plan's layers" in err and BAR in err
    assert "/6 [" in err  # six facility layers
    # messages logged while the bar is drawn are written above it, each on its own line
    lines = [line.rstrip("\r").split("\r")[-1] for line in err.split("\n")]
    assert any(line.startswith("INFO: facility layer park: ") for line in lines), err
    assert not [line for line in lines if "INFO:" in line and not line.startswith("INFO:")]
    code, err = _run(["-q", "build", "--no-png", "--out", "out2"], tty=True, tmp_path=tmp_path)
    assert code == 0 and err == "", err
