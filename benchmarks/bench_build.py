"""`gongshu-geo build` on the packaged data: this checkout against an earlier release.

Run from the repository root (a script, not a test; about two minutes):

    python benchmarks/bench_build.py [--baseline REV] [--repeat 2]

The earlier release (``--baseline``, by default the commit before the grid core)
is checked out with ``git worktree`` into a temporary folder, and both builds run
in fresh processes, alternately, on the same input files (this checkout's
``data/projects.geojson`` and ``data/boundaries/streets.geojson``), writing into
temporary folders. This checkout's build also writes the accessibility surfaces
(GeoTIFFs, H3 hexagons, the maps' image layers); it is timed once more with
``--no-surfaces``. Each line is the best wall time of ``--repeat`` runs.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: The last commit before the grid core (issue #11): the first release's coverage.
DEFAULT_BASELINE = "ee904b5"


def timed_build(tree: Path, out: Path, extra=()) -> float:
    """Wall time of one build of the package in ``tree``, in a fresh process."""
    env = dict(os.environ, PYTHONPATH=str(tree))
    cmd = [sys.executable, "-m", "gongshu_geo.cli", "-q", "build", "--out", str(out),
           "--projects", str(ROOT / "data/projects.geojson"),
           "--streets", str(ROOT / "data/boundaries/streets.geojson"), *extra]  # fmt: skip
    start = time.perf_counter()
    subprocess.run(cmd, check=True, env=env, cwd=tree, capture_output=True)
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", default=DEFAULT_BASELINE, help="git revision to compare")
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        old = Path(tmp) / "baseline"
        subprocess.run(["git", "worktree", "add", "--detach", str(old), args.baseline],
                       cwd=ROOT, check=True, capture_output=True)  # fmt: skip
        try:
            runs = {"baseline": [], "this": [], "this, --no-surfaces": []}
            for k in range(args.repeat):
                runs["baseline"].append(timed_build(old, Path(tmp) / f"old{k}"))
                runs["this"].append(timed_build(ROOT, Path(tmp) / f"new{k}"))
                runs["this, --no-surfaces"].append(
                    timed_build(ROOT, Path(tmp) / f"bare{k}", ["--no-surfaces"])
                )
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(old)], cwd=ROOT,
                           capture_output=True)  # fmt: skip
    base = min(runs["baseline"])
    print(f"gongshu-geo build on the packaged data, best of {args.repeat}, "
          f"baseline {args.baseline}")  # fmt: skip
    print(f"{'build':24} {'seconds':>8} {'vs baseline':>12}")
    for name, times in runs.items():
        print(f"{name:24} {min(times):8.1f} {min(times) / base:11.2f}x")


if __name__ == "__main__":
    main()
