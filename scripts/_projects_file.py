"""The one way the data scripts read and rewrite data/projects.geojson.

Several scripts each own some properties or features of the file; they take an
exclusive lock while they read, change and rewrite it, and write atomically in the
file's own format (``indent=1``, UTF-8 as is), so concurrent runs cannot lose each
other's changes and a failed run leaves the file as it was.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PROJECTS = REPO / "data" / "projects.geojson"
LOCK = REPO / "data" / ".projects.lock"


def dump_projects(data: dict) -> str:
    """Return the file's text for a feature collection."""
    return json.dumps(data, ensure_ascii=False, indent=1) + "\n"


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to a temporary file beside ``path``, then rename it into place."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def locked_projects():
    """Hold the lock and yield the parsed collection; the caller decides what to write."""
    with LOCK.open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield json.loads(PROJECTS.read_text(encoding="utf-8"))


def run_rebuild(rebuild, *, what: str, argv=None, description: str = "") -> int:
    """Run a data script's ``main``: rebuild the features under the lock, or ``--check`` them.

    Parameters
    ----------
    rebuild : callable
        Takes the parsed collection, returns the rebuilt one.
    what : str
        What is rebuilt, for the log (``"metro features"``).
    argv : list of str, optional
        The command line; ``sys.argv`` by default.
    description : str
        The command's help text.

    Returns
    -------
    int
        The exit code: with ``--check``, 1 when the committed file differs.
    """
    import argparse
    import logging

    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--check", action="store_true", help="compare, do not write")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    log = logging.getLogger("scripts")
    with locked_projects() as data:
        text = dump_projects(rebuild(data))
        if args.check:
            same = text == PROJECTS.read_text(encoding="utf-8")
            log.info("%s %s", what, "up to date" if same else "out of date: rerun without --check")
            return 0 if same else 1
        write_atomic(PROJECTS, text)
    return 0
