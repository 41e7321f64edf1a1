"""Rebuild the metro stations and lines of data/projects.geojson from the raw sources.

Sources (all under ``data/sources/``, see the READMEs there):

- ``openmetro/stations.json``, ``segments.json``, ``lines.json``: verbatim records of
  the public repository Naptie/openmetro for the stations in a box around the
  district (AMap subway coordinates, GCJ-02) and the segments that join them;
- ``metro/openings.csv``: when each section opened, with its source;
- ``boundaries/district.geojson`` (in ``data/``) for the district.

Every station inside the district or within :data:`EDGE_M` of its edge becomes a
``metro_station``: its position converted out of GCJ-02 with
:func:`gongshu_geo.core.crs.gcj02_to_wgs84`, its official code(s) (``station_code``),
lines (``lines``), opening date (``opened``, where a source gives it) and status as
of the plan (Feb 2022): ``existing`` if it had opened before February 2022,
otherwise ``under_construction``, since the plan lists every line it lies on as
being built (加快地铁三期3、4、10号线和机场快线站点建设). Each line with a station in
the district becomes one LineString through its stations within :data:`LINE_REACH_M`
of the district, in the order of ``segments.json``. Stations and lines keep the id,
plan reference, English name and notes of the feature of the same name already in
the file; new ones get the next free id. The accuracy of a station is the calibrated
figure of ``source_coordinates`` in ``data/location_methods.csv`` (run
``calibrate_locations.py`` first).

Only ``metro_station`` and ``metro_line`` features are written; every other feature
and the order of all of them stay as they are. Features the sources do not cover
(line 15, which has no stations yet) are kept unchanged. The rewrite happens under the
lock of ``_projects_file``. ``--check`` rebuilds in memory and exits 1 when the
committed file differs.
"""

from __future__ import annotations

import logging
import math
import sys
from collections import defaultdict

from _openmetro import (
    METHODS,
    METRIC,
    METRO,
    UPSTREAM,
    base_name,
    distances_to_district,
    line_number,
    read_csv,
    read_records,
    station_positions,
)
from _projects_file import run_rebuild
from derive_schedule import schedule_from_period

logger = logging.getLogger("build_metro")

#: Stations this close to the outline (metres, EPSG:4549) are kept too.
EDGE_M = 300.0
#: A line is drawn through its stations up to this far from the district.
LINE_REACH_M = 2000.0
#: Stations open before this date were existing when the plan was issued.
PLAN_DATE = "2022-02-01"
PLAN_REF = "第一章 第二节; 第三章 第十三节"
#: Line statuses in the plan: 2, 5 通车 (第一章), 3, 4, 10 and 机场快线 (19) being built.
PLAN_LINE_STATUS = {
    1: "existing",
    2: "existing",
    5: "existing",
    3: "under_construction",
    4: "under_construction",
    10: "under_construction",
    19: "under_construction",
}
#: Sentences of earlier notes that are no longer true, and what replaces them.
NOTE_FIXES = {
    "Only the 拱墅 section (庆春路 to east of 打铁关) is drawn.": "",
    " District assignment (拱墅 vs 上城) not verified.": "",
    "Future Line 15 interchange per the same page.": (
        "Future Line 15 interchange (gethgdk.com 打铁关站 page)."
    ),
}
_STATION_KEYS = (
    "id",
    "name",
    "name_en",
    "category",
    "subcategory",
    "status",
    "period",
    "plan_ref",
    "location_source",
    "location_accuracy_m",
    "notes",
    "status_note",
    "start_year",
    "end_year",
    "schedule_source",
    "station_code",
    "lines",
    "opened",
    "opened_source",
    "location_method",
)
_LINE_KEYS = (
    "id",
    "name",
    "name_en",
    "category",
    "subcategory",
    "status",
    "period",
    "plan_ref",
    "location_source",
    "location_accuracy_m",
    "notes",
    "status_note",
    "start_year",
    "end_year",
    "schedule_source",
    "stations",
    "opened",
    "location_method",
)


def read_source_accuracy() -> int:
    """Return the calibrated accuracy (m) of ``source_coordinates``."""
    for row in read_csv(METHODS):
        if row["method"] == "source_coordinates" and row["accuracy_m"]:
            return int(row["accuracy_m"])
    raise ValueError(
        f"{METHODS}: no calibrated 'source_coordinates' row; run scripts/calibrate_locations.py"
    )


def read_openings() -> tuple[dict, dict]:
    """Return opening dates by (station, line number) and the sections of each line."""
    by_station: dict[tuple[str, int], dict] = {}
    by_line: dict[int, list[dict]] = defaultdict(list)
    for row in read_csv(METRO / "openings.csv"):
        number = line_number(row["line"])
        by_line[number].append(row)
        for name in filter(None, row["stations"].split(";")):
            by_station[(name, number)] = row
    return by_station, dict(by_line)


def _ordered_chains(segments: list[dict], known: set[str]) -> dict[int, list[list[str]]]:
    """Station ids of each line in segment order, one list per connected run in the box."""
    adjacency: dict[int, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for seg in segments:
        a, b = seg["from_station_id"], seg["to_station_id"]
        if a in known and b in known:
            number = int(seg["line_id"].rsplit("-", 1)[1])
            adjacency[number][a].add(b)
            adjacency[number][b].add(a)
    chains: dict[int, list[list[str]]] = {}
    for number, graph in adjacency.items():
        forks = sorted(s for s, nbrs in graph.items() if len(nbrs) > 2)
        if forks:
            raise ValueError(f"segments.json: line {number} branches at {forks}; expected a chain")
        seen: set[str] = set()
        runs = []
        for start in sorted(s for s, nbrs in graph.items() if len(nbrs) == 1):
            if start in seen:
                continue
            run, prev = [start], None
            while True:
                nxt = [s for s in graph[run[-1]] if s != prev]
                if not nxt:
                    break
                prev = run[-1]
                run.append(nxt[0])
            seen.update(run)
            runs.append(run)
        if len(seen) != len(graph):
            raise ValueError(f"segments.json: line {number} has a loop; expected a chain")
        chains[number] = runs
    return chains


def _reach_runs(run: list[str], dist: dict[str, float]) -> list[list[str]]:
    """Parts of a chain within LINE_REACH_M of the district that touch it (<= EDGE_M)."""
    parts, current = [], []
    for sid in run + [None]:
        if sid is not None and dist[sid] <= LINE_REACH_M:
            current.append(sid)
            continue
        if len(current) >= 2 and any(dist[s] <= EDGE_M for s in current):
            parts.append(current)
        current = []
    return parts


def _fix_notes(text: str | None) -> str | None:
    if not text:
        return None
    for old, new in NOTE_FIXES.items():
        text = text.replace(old, new)
    return text.strip() or None


#: Properties left out when they have no value (the schedule years stay, as null).
_OPTIONAL = {"notes", "status_note", "opened", "opened_source", "stations"}


def _ordered(props: dict, keys: tuple[str, ...]) -> dict:
    def wanted(k):
        return k in props and not (k in _OPTIONAL and props[k] is None)

    out = {k: props[k] for k in keys if wanted(k)}
    out.update({k: v for k, v in props.items() if k not in keys and wanted(k)})
    return out


def _next_ids(features: list[dict], prefix: str):
    used = {
        int(f["properties"]["id"].rsplit("-", 1)[1])
        for f in features
        if f["properties"]["id"].startswith(f"P-{prefix}-")
    }
    number = max(used, default=0)
    while True:
        number += 1
        yield f"P-{prefix}-{number:03d}"


def _station_feature(record, lon, lat, dist_m, old, openings, accuracy, new_id) -> dict:
    name = base_name(record["name"])
    numbers = sorted(line_number(n) for n in record["extras"]["lines"])
    dates = [openings[(name, n)] for n in numbers if openings.get((name, n), {}).get("opened")]
    first = min(dates, key=lambda row: row["opened"]) if dates else None
    existing = first is not None and first["opened"] < PLAN_DATE
    status = "existing" if existing else "under_construction"
    props = (
        dict(old)
        if old
        else {
            "id": new_id(),
            "name": name,
            "name_en": record["names"]["en"],
            "category": "metro_station",
            "subcategory": "station",
            "plan_ref": PLAN_REF,
            "notes": "Not in the earlier data; added from the AMap subway data.",
        }
    )
    codes = ";".join(record["extras"]["official_codes"])
    loc = record["location"]
    props.update(
        {
            "status": status,
            "period": "existing" if existing else "2021-2025",
            "location_source": (
                f"AMap subway coordinates of station '{record['name']}' (official code "
                f"{codes}) in {UPSTREAM['stations']}, GCJ-02 {loc['lon']!r}, {loc['lat']!r} "
                "-> WGS 84 with gongshu_geo.core.crs.gcj02_to_wgs84 (scripts/build_metro.py)"
            ),
            "location_accuracy_m": accuracy,
            "location_method": "source_coordinates",
            "station_code": codes,
            "lines": ";".join(f"{n}号线" for n in numbers),
            "notes": _fix_notes(props.get("notes")),
            "opened": first["opened"] if first else None,
            "opened_source": first["source"] if first else None,
        }
    )
    if dist_m > 0:
        props["notes"] = f"{(props['notes'] or '')} {dist_m:.0f} m outside the outline.".strip()
    if existing:
        props["status_note"] = None
    elif first is not None:
        props["status_note"] = f"opened {first['opened']} ({first['source']})"
    else:
        pending = [openings[(name, n)] for n in numbers if (name, n) in openings]
        why = pending[0]["fact"] if pending else "no source at hand gives its opening date"
        props["status_note"] = f"not open in Feb 2022: {why}"
    props.update(schedule_from_period(props))
    return {
        "type": "Feature",
        "properties": _ordered(props, _STATION_KEYS),
        "geometry": {"type": "Point", "coordinates": [round(float(lon), 6), round(float(lat), 6)]},
    }


def _line_feature(number, runs, names, points, old, sections, accuracy, new_id) -> dict:
    import shapely

    from gongshu_geo.core.crs import METRIC as CRS_METRIC

    assert CRS_METRIC == METRIC
    chords = []
    for run in runs:
        for a, b in zip(run, run[1:], strict=False):
            chords.append(points[a][1].distance(points[b][1]))
    bound = max(accuracy, int(math.ceil(max(chords) / 2 / 50) * 50))
    drawn = " / ".join("–".join(names[s] for s in (run[0], run[-1])) for run in runs)
    props = (
        dict(old)
        if old
        else {
            "id": new_id(),
            "name": f"杭州地铁{number}号线",
            "name_en": f"Hangzhou Metro Line {number}",
            "category": "metro_line",
            "subcategory": "existing" if PLAN_LINE_STATUS.get(number) == "existing" else "phase3",
            "period": "existing" if PLAN_LINE_STATUS.get(number) == "existing" else "2021-2025",
            "plan_ref": PLAN_REF,
        }
    )
    drawn_names = {names[s] for run in runs for s in run}
    dated = [r for r in sections if r["opened"] and drawn_names & set(r["stations"].split(";"))]
    dated = dated or [r for r in sections if r["opened"] and not r["stations"]]
    props.update(
        {
            "status": PLAN_LINE_STATUS.get(number, props.get("status", "planned")),
            "location_source": (
                "polyline through the AMap subway positions of its stations "
                f"({UPSTREAM['stations']}, converted from GCJ-02 with "
                "gongshu_geo.core.crs.gcj02_to_wgs84) within "
                f"{LINE_REACH_M / 1000:g} km of the district, {drawn}, in the station order of "
                f"{UPSTREAM['segments']}; straight between stations, as the sources give no "
                f"track: assumed within half the longest station spacing ({max(chords):.0f} m) "
                "of it (scripts/build_metro.py)"
            ),
            "location_accuracy_m": bound,
            "location_method": "source_coordinates",
            "notes": _fix_notes(props.get("notes")),
            "stations": " / ".join(";".join(names[s] for s in run) for run in runs),
            "status_note": "; ".join(
                f"{row['section']} opened {row['opened']}"
                if row["opened"]
                else f"{row['section']}: {row['fact']}"
                for row in sections
            )
            or None,
            "opened": min(row["opened"] for row in dated) if dated else None,
        }
    )
    props.update(schedule_from_period(props))
    coords = [[[round(points[s][0][0], 6), round(points[s][0][1], 6)] for s in run] for run in runs]
    geometry = (
        {"type": "LineString", "coordinates": coords[0]}
        if len(coords) == 1
        else {"type": "MultiLineString", "coordinates": coords}
    )
    shapely.geometry.shape(geometry)  # raises on a malformed line
    return {"type": "Feature", "properties": _ordered(props, _LINE_KEYS), "geometry": geometry}


def rebuild(data: dict) -> dict:
    """Return the collection with its metro stations and lines rebuilt from the sources."""
    import geopandas as gpd

    records = read_records("stations")
    lon, lat = station_positions(records)
    dist_m = distances_to_district(lon, lat)
    metric = gpd.GeoSeries(gpd.points_from_xy(lon, lat), crs="EPSG:4326").to_crs(METRIC)
    points = {
        r["id"]: ((float(x), float(y)), m)
        for r, x, y, m in zip(records, lon, lat, metric, strict=True)
    }
    dist = {r["id"]: float(d) for r, d in zip(records, dist_m, strict=True)}
    names = {r["id"]: base_name(r["name"]) for r in records}
    openings, sections = read_openings()
    accuracy = read_source_accuracy()

    features = data["features"]
    metro = [f for f in features if f["properties"]["category"] in ("metro_station", "metro_line")]
    old_stations = {
        base_name(f["properties"]["name"]): f
        for f in metro
        if f["properties"]["category"] == "metro_station"
    }
    old_lines = {}
    for f in metro:
        if f["properties"]["category"] == "metro_line":
            old_lines.setdefault(line_number(f["properties"]["name"]), f)
    next_station = _next_ids(features, "MSTN")
    next_line = _next_ids(features, "MLINE")

    stations, built_names = [], set()
    for i, record in enumerate(records):
        if dist_m[i] > EDGE_M:
            continue
        name = base_name(record["name"])
        old = old_stations.get(name)
        stations.append(
            _station_feature(
                record,
                lon[i],
                lat[i],
                float(dist_m[i]),
                old["properties"] if old else None,
                openings,
                accuracy,
                lambda: next(next_station),
            )
        )
        built_names.add(name)
    kept = [f for n, f in old_stations.items() if n not in built_names]
    for f in kept:
        logger.warning("station %s is not in the source; kept as it was", f["properties"]["id"])

    served = {
        line_number(n)
        for i, r in enumerate(records)
        if dist_m[i] <= EDGE_M
        for n in r["extras"]["lines"]
    }
    chains = _ordered_chains(read_records("segments"), set(points))
    lines, built_lines = [], set()
    for number in sorted(served):
        runs = [part for run in chains.get(number, []) for part in _reach_runs(run, dist)]
        if not runs:
            raise ValueError(f"segments.json: no drawable run of line {number} near the district")
        old = old_lines.get(number)
        lines.append(
            _line_feature(
                number,
                runs,
                names,
                points,
                old["properties"] if old else None,
                sections.get(number, []),
                accuracy,
                lambda: next(next_line),
            )
        )
        built_lines.add(number)
    lines += [f for n, f in old_lines.items() if n not in built_lines]

    def key(f):
        return f["properties"]["id"]

    block = sorted(lines, key=key) + sorted(stations + kept, key=key)
    metro_ids = {id(f) for f in metro}
    first = next((i for i, f in enumerate(features) if id(f) in metro_ids), len(features))
    others = [f for f in features if id(f) not in metro_ids]
    new_features = others[:first] + block + others[first:]
    logger.info("%d stations and %d lines rebuilt", len(stations), len(built_lines))
    return {**data, "features": new_features}


def main(argv=None) -> int:
    """Rebuild (or with ``--check`` verify) the metro features."""
    return run_rebuild(
        rebuild, what="metro features", argv=argv, description=__doc__.splitlines()[0]
    )


if __name__ == "__main__":
    sys.exit(main())
