"""Give every project of data/projects.geojson its schedule, from its ``period``.

``period`` holds the years the plan states or implies for a project: ``2021-2025``
where the plan places it in the 14th Five-Year Plan (十四五期间, 至2025年) without
other years, other years where the plan or a cited source states them, and
``existing`` for what exists already. This script writes ``start_year``,
``end_year`` and ``schedule_source`` from it; ``existing`` and anything else
that is not a pair of years leaves both years null: never a guess.

Features that already have ``schedule_source`` are left as they are, so a
schedule corrected by hand is kept. ``--check`` exits 1 when a feature lacks
its schedule fields or they disagree with what its period implies.
"""

from __future__ import annotations

import argparse
import re
import sys

from _projects_file import PROJECTS, dump_projects, locked_projects, write_atomic

PERIOD = re.compile(r"^(\d{4})-(\d{4})$")


def schedule_from_period(props: dict) -> dict:
    """Return ``start_year``, ``end_year`` and ``schedule_source`` implied by ``period``."""
    period = str(props.get("period", ""))
    match = PERIOD.match(period)
    ref = props.get("plan_ref", "")
    if not match:
        return {
            "start_year": None,
            "end_year": None,
            "schedule_source": f"none: period {period!r} names no years",
        }
    start, end = int(match.group(1)), int(match.group(2))
    if (start, end) == (2021, 2025):
        why = f"the plan places it in the 14th Five-Year Plan period 2021-2025 ({ref})"
    else:
        why = f"years stated for it by the plan or the sources in location_source/notes ({ref})"
    return {
        "start_year": start,
        "end_year": end,
        "schedule_source": f"period {period!r}: {why}",
    }


def main(argv=None) -> int:
    """Fill in (or with ``--check`` verify) the schedule fields."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args(argv)
    with locked_projects() as data:
        bad = []
        for feature in data["features"]:
            props = feature["properties"]
            derived = schedule_from_period(props)
            if "schedule_source" in props:
                if props["schedule_source"] == derived["schedule_source"] and any(
                    props.get(k) != derived[k] for k in ("start_year", "end_year")
                ):
                    bad.append(props["id"])
                continue
            if args.check:
                bad.append(props["id"])
                continue
            props.update(derived)
        if args.check:
            for fid in bad:
                print(f"{fid}: schedule fields missing or not what its period implies")
            return 1 if bad else 0
        write_atomic(PROJECTS, dump_projects(data))
    print(f"schedule fields on {len(data['features'])} features")
    return 0


if __name__ == "__main__":
    sys.exit(main())
