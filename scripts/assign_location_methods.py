"""Give every feature of data/projects.geojson the method that placed it, and its bound.

For features without ``location_method``, the method is read from their own
``location_source``, which says how each was placed:

- "from general knowledge", or a line drawn through other features' points:
  ``text_only``;
- a public-bicycle station (or several) named for the place, or a named crossing:
  ``named_crossing`` (an anchor named for the place, as for the stations placed at
  the crossing their description names);
- a published extent or boundary (东至…南至…): ``described_extent``;
- a street address: ``address``;
- anything else: ``text_only``.

Then ``location_accuracy_m`` is raised to the method's calibrated accuracy in
``data/location_methods.csv`` where it claimed more; a method without a calibrated
figure leaves the stated accuracy as it is. Features that already record a method
keep it. ``--check`` exits 1 when a feature lacks a method or claims more accuracy
than its method's figure.
"""

from __future__ import annotations

import argparse
import csv
import re
import sys
from pathlib import Path

from _projects_file import PROJECTS, REPO, dump_projects, locked_projects, write_atomic

METHODS = REPO / "data" / "location_methods.csv"

_RULES = (
    ("text_only", re.compile(r"general knowledge|polyline through this file's station points")),
    ("described_extent", re.compile(r"^(extent|boundary|site)\b|东至|南至|西至|北至|南起")),
    ("address", re.compile(r"^address\b")),
    ("named_crossing", re.compile(r"station(s)? of NMSN/CitiBike|bike stations|交叉口|路口")),
)


def method_of(source: str) -> str:
    """Return the placement method a ``location_source`` describes."""
    for method, pattern in _RULES:
        if pattern.search(source):
            return method
    return "text_only"


def read_accuracies(path: Path = METHODS) -> dict[str, int]:
    """Calibrated accuracy (metres) by method; methods without a figure are left out."""
    with path.open(encoding="utf-8", newline="") as f:
        return {r["method"]: int(r["accuracy_m"]) for r in csv.DictReader(f) if r["accuracy_m"]}


def assign(data: dict, accuracy: dict[str, int]) -> list[str]:
    """Fill in methods and raise accuracies in place; return what changed."""
    changes = []
    for feature in data["features"]:
        props = feature["properties"]
        if not props.get("location_method"):
            props["location_method"] = method_of(props["location_source"])
            changes.append(f"{props['id']}: method {props['location_method']}")
        bound = accuracy.get(props["location_method"])
        if bound is not None and props["location_accuracy_m"] < bound:
            changes.append(f"{props['id']}: accuracy {props['location_accuracy_m']} -> {bound} m")
            props["location_accuracy_m"] = bound
    return changes


def main(argv=None) -> int:
    """Assign (or with ``--check`` verify) every feature's method and accuracy."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args(argv)
    with locked_projects() as data:
        changes = assign(data, read_accuracies())
        if args.check:
            for change in changes:
                print(change)
            return 1 if changes else 0
        write_atomic(PROJECTS, dump_projects(data))
    print(f"{len(changes)} changes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
