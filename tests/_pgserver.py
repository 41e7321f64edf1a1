"""A throw-away PostgreSQL + PostGIS server for the tests, in a temporary folder.

It uses Debian's ``postgresql`` (``/usr/lib/postgresql/<version>/bin``) and
``postgresql-<version>-postgis-3`` packages, which ``.ci/run`` installs. The
cluster is made by ``initdb`` with password (SCRAM) authentication, listens on a
free localhost port and on a Unix socket in its own folder, and is removed when
stopped. PostgreSQL refuses to run as root, so as root the server runs as the
``postgres`` user the Debian package creates, in a folder handed to it.
"""

from __future__ import annotations

import glob
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

from _system import skip_or_fail

USER = "gongshu"
DATABASE = "gongshu_test"


def _bindir() -> Path | None:
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: (
            int(Path(p).parent.parent.name) if Path(p).parent.parent.name.isdigit() else 0
        ),
    )
    if candidates:
        return Path(candidates[-1]).parent
    found = shutil.which("initdb")
    return Path(found).parent if found else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PgServer:
    """A running server; :meth:`dsn` gives URLs, :meth:`stop` removes everything."""

    def __init__(self, bindir: Path):
        self.bindir = bindir
        self.root = Path(tempfile.mkdtemp(prefix="gongshu-pg-"))
        self.data = self.root / "data"
        self.port = _free_port()
        self.password = "pw-" + secrets.token_hex(8)
        self.run_as = None
        if os.geteuid() == 0:
            try:
                account = pwd.getpwnam("postgres")
            except KeyError:
                shutil.rmtree(self.root)
                skip_or_fail(
                    "PostgreSQL cannot run as root and there is no 'postgres' user "
                    "(apt-get install postgresql creates it)"
                )
            os.chown(self.root, account.pw_uid, account.pw_gid)
            self.run_as = "postgres"
        self.started = False

    def _run(self, *args, check=True):
        cmd = [str(a) for a in args]
        if self.run_as:
            cmd = ["runuser", "-u", self.run_as, "--", *cmd]
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        if check and result.returncode != 0:
            log = (
                (self.root / "server.log").read_text()
                if (self.root / "server.log").exists()
                else ""
            )
            raise RuntimeError(f"{' '.join(cmd)} failed:\n{result.stdout}\n{result.stderr}\n{log}")
        return result

    def start(self) -> PgServer:
        pwfile = self.root / "pw"
        pwfile.write_text(self.password + "\n")
        if self.run_as:
            shutil.chown(pwfile, self.run_as)
        self._run(
            self.bindir / "initdb",
            "-D", self.data,
            "-U", USER,
            f"--pwfile={pwfile}",
            "-A", "scram-sha-256",
            "-E", "UTF8",
            "--locale=C.UTF-8",
        )  # fmt: skip
        pwfile.unlink()
        options = f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.root} -c fsync=off"
        self._run(
            self.bindir / "pg_ctl", "-D", self.data, "-l", self.root / "server.log",
            "-w", "-t", "60", "-o", options, "start",
        )  # fmt: skip
        self.started = True
        import psycopg

        with psycopg.connect(self.dsn("postgres", driver=False), autocommit=True) as con:
            con.execute(f"CREATE DATABASE {DATABASE}")
        with psycopg.connect(self.dsn(driver=False), autocommit=True) as con:
            con.execute("CREATE EXTENSION postgis")
        return self

    def dsn(self, database=DATABASE, *, password=None, driver=False, **query) -> str:
        """A URL for the test database (``password`` overrides the real one)."""
        password = self.password if password is None else password
        url = f"postgresql://{USER}:{password}@127.0.0.1:{self.port}/{database}"
        if query:
            from urllib.parse import urlencode

            url += "?" + urlencode(query)
        return url

    def connect(self):
        """A psycopg connection in autocommit mode, for the tests' own checks."""
        import psycopg

        return psycopg.connect(self.dsn(), autocommit=True)

    def stop(self) -> None:
        if self.started:
            self._run(
                self.bindir / "pg_ctl", "-D", self.data, "-m", "fast", "-w", "stop", check=False
            )
            self.started = False
        shutil.rmtree(self.root, ignore_errors=True)


def start_server() -> PgServer:
    """Start a server, or skip (fail with GONGSHU_GEO_REQUIRE_SYSTEM=1) without the packages."""
    bindir = _bindir()
    if bindir is None:
        skip_or_fail(
            "PostgreSQL server binaries (initdb, pg_ctl) not found: the PostGIS tests start a "
            "throw-away server (apt-get install postgresql)"
        )
    pg_config = bindir / "pg_config"
    sharedir = None
    if pg_config.exists():
        sharedir = subprocess.run(
            [str(pg_config), "--sharedir"], capture_output=True, text=True
        ).stdout.strip()
    if not sharedir or not Path(sharedir, "extension", "postgis.control").exists():
        version = bindir.parent.name
        skip_or_fail(
            f"the PostGIS extension is not installed for PostgreSQL {version} "
            f"(apt-get install postgresql-{version}-postgis-3)"
        )
    try:
        import psycopg  # noqa: F401
    except ImportError:
        skip_or_fail("psycopg is not installed: pip install -e '.[test]' (or '.[postgis]')")
    server = PgServer(bindir)
    try:
        return server.start()
    except BaseException:
        server.stop()
        raise
