"""Skip a test when a system program is missing, or fail when the run requires it.

Set ``GONGSHU_GEO_REQUIRE_SYSTEM=1`` (as CI on a full machine does) to turn
every such skip into a failure, so that a missing Chromium or GDAL cannot pass
silently.
"""

import os
import shutil
from pathlib import Path

import pytest

REQUIRE_ENV = "GONGSHU_GEO_REQUIRE_SYSTEM"


def system_required() -> bool:
    """Whether missing system programs fail the run instead of skipping."""
    return os.environ.get(REQUIRE_ENV, "").strip().lower() in ("1", "true", "yes")


def require_program(name_or_path, reason: str) -> str:
    """Return the path of a program; skip (or fail) the test when it is absent.

    Parameters
    ----------
    name_or_path : str or Path
        A name looked up on PATH (``"ogrinfo"``) or an absolute path
        (``"/usr/bin/chromium"``).
    reason : str
        What the test needs the program for; shown in the skip or failure.
    """
    candidate = Path(name_or_path)
    if candidate.is_absolute():
        found = str(candidate) if candidate.is_file() and os.access(candidate, os.X_OK) else None
    else:
        found = shutil.which(str(name_or_path))
    if found:
        return found
    skip_or_fail(
        f"{name_or_path} not found: {reason} (install it, e.g. apt-get install {candidate.name})"
    )


def skip_or_fail(message: str):
    """Skip the test with ``message``, or fail it when the run requires system programs."""
    message = f"{message}; with {REQUIRE_ENV}=1 this is a failure, not a skip"
    if system_required():
        pytest.fail(message, pytrace=False)
    pytest.skip(message)
