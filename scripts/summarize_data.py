"""Write the 'What is in it' table of data/README.md from data/projects.geojson.

The table (features, median and worst stated accuracy per category) sits between
the markers ``<!-- summary:start -->`` and ``<!-- summary:end -->``; ``--check``
exits 1 when the README's table differs from what the data gives.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
README = REPO / "data" / "README.md"
START, END = "<!-- summary:start -->", "<!-- summary:end -->"


def summary_table(features) -> str:
    """Markdown table of features and accuracies per category, then all."""
    by = {}
    for f in features:
        p = f["properties"]
        by.setdefault(p["category"], []).append(float(p["location_accuracy_m"]))
    rows = [
        "| category | features | median accuracy (m) | worst accuracy (m) |",
        "|---|---|---|---|",
    ]
    for cat in sorted(by):
        acc = np.array(by[cat])
        rows.append(f"| {cat} | {len(acc)} | {np.median(acc):g} | {acc.max():g} |")
    allacc = np.concatenate([np.array(v) for v in by.values()])
    rows.append(f"| **all** | **{len(allacc)}** | {np.median(allacc):g} | {allacc.max():g} |")
    return "\n".join(rows)


def main(argv=None) -> int:
    """Write the table, or with ``--check`` compare it; return the exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare, do not write")
    args = parser.parse_args(argv)
    data = json.loads((REPO / "data" / "projects.geojson").read_text(encoding="utf-8"))
    table = summary_table(data["features"])
    text = README.read_text(encoding="utf-8")
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    new = f"{head}{START}\n{table}\n{END}{tail}"
    if args.check:
        if new != text:
            print("data/README.md: the summary table differs from the data", file=sys.stderr)
            return 1
        return 0
    README.write_text(new, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
