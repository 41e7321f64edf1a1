"""Run a data script's ``--check`` as a user would, from a fresh interpreter."""

import subprocess
import sys
from pathlib import Path

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"


def run_check(script: str) -> subprocess.CompletedProcess:
    """Run ``scripts/<script> --check``; return the finished process."""
    return subprocess.run(
        [sys.executable, str(SCRIPTS / script), "--check"],
        capture_output=True,
        text=True,
        timeout=300,
    )
