"""Write the generated tables of data/README.md from the data.

- 'What is in it' (features, median and worst stated accuracy per category, from
  ``data/projects.geojson``) between ``<!-- summary:start -->`` and
  ``<!-- summary:end -->``;
- the completeness audit (every place the plan names, with its feature or "not
  located" and why, from ``data/plan_audit.csv``) between ``<!-- audit:start -->``
  and ``<!-- audit:end -->``.

``--check`` exits 1 when the README's tables differ from what the data gives.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
README = REPO / "data" / "README.md"
MARKERS = {"summary": ("<!-- summary:start -->", "<!-- summary:end -->"),
           "audit": ("<!-- audit:start -->", "<!-- audit:end -->")}  # fmt: skip


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


def audit_table(rows) -> str:
    """Markdown table of the audit: counts per category, then every row."""
    counts = {}
    for r in rows:
        c = counts.setdefault(r["category"], [0, 0])
        c[0 if r["feature_id"] else 1] += 1
    out = ["| category | located | not located |", "|---|---|---|"]
    out += [f"| {cat} | {a} | {b} |" for cat, (a, b) in sorted(counts.items())]
    out += ["", "| plan reference | name | category | feature | status |", "|---|---|---|---|---|"]
    for r in rows:
        note = r["status_note"].replace("|", "/").replace("\n", " ")
        feature = r["feature_id"].replace(";", ", ") or "not located"
        out.append(f"| {r['plan_ref']} | {r['name']} | {r['category']} | {feature} | {note} |")
    return "\n".join(out)


def _fill(text: str, name: str, table: str) -> str:
    start, end = MARKERS[name]
    head, rest = text.split(start, 1)
    _, tail = rest.split(end, 1)
    return f"{head}{start}\n{table}\n{end}{tail}"


def main(argv=None) -> int:
    """Write the table, or with ``--check`` compare it; return the exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare, do not write")
    args = parser.parse_args(argv)
    data = json.loads((REPO / "data" / "projects.geojson").read_text(encoding="utf-8"))
    with (REPO / "data" / "plan_audit.csv").open(encoding="utf-8") as fh:
        audit = list(csv.DictReader(fh))
    text = README.read_text(encoding="utf-8")
    new = _fill(text, "summary", summary_table(data["features"]))
    new = _fill(new, "audit", audit_table(audit))
    if args.check:
        if new != text:
            print("data/README.md: a generated table differs from the data", file=sys.stderr)
            return 1
        return 0
    README.write_text(new, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
