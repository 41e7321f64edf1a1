"""Rebuild the metro stations of data/projects.geojson from AMap subway coordinates.

Source: ``data/sources/openmetro/stations_subset.tsv``, the name, GCJ-02 position,
status, official code(s) and lines of every station of the public repository
Naptie/openmetro (``data/cn-hangzhou/stations.json``) within a box around the district,
copied field by field (see the README there). Every station inside the district
outline or within :data:`EDGE_M` of it becomes a ``metro_station`` feature, its
position converted out of GCJ-02 with :func:`gongshu_geo.crs.gcj02_to_wgs84`.

A station already in the data keeps its id, plan reference, status and notes; only
its geometry and location fields change. A new one gets the next free id and the
status of the plan's own stations of its line (the plan's wording, as for the
others). The script also writes ``data/location_methods.csv``: each placement
method's error, measured on the stations whose true position the AMap data now
gives (see :func:`calibrate`).

``--check`` rebuilds in memory and exits 1 when the committed files differ.
"""

from __future__ import annotations

import argparse
import csv
import io
import math
import sys
from pathlib import Path

from _projects_file import PROJECTS, REPO, dump_projects, locked_projects, write_atomic

if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

SOURCE = REPO / "data" / "sources" / "openmetro" / "stations_subset.tsv"
OLD_POSITIONS = REPO / "data" / "sources" / "stations_before_amap.csv"
METHODS = REPO / "data" / "location_methods.csv"
DISTRICT = REPO / "data" / "boundaries" / "district.geojson"
OPENMETRO = (
    "Naptie/openmetro data/cn-hangzhou/stations.json @ 24e90d800b49472aaed8f32c0481b7a183f2c506"
)
#: Stations this close to the outline (metres, EPSG:4549) are kept too.
EDGE_M = 300.0
METRIC = "EPSG:4549"


def read_source(path: Path = SOURCE) -> list[dict]:
    """Read the station table (tab-separated, one station a row)."""
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f, delimiter="\t"))


def to_wgs84(rows: list[dict]):
    """Convert the positions to WGS 84; return lon, lat and the distance to the outline."""
    import geopandas as gpd
    import numpy as np

    from gongshu_geo.crs import gcj02_to_wgs84

    lon, lat = gcj02_to_wgs84(
        np.array([float(r["lon"]) for r in rows]), np.array([float(r["lat"]) for r in rows])
    )
    points = gpd.GeoSeries(gpd.points_from_xy(lon, lat), crs="EPSG:4326")
    outline = gpd.read_file(DISTRICT).to_crs(METRIC).geometry.iloc[0]
    dist = points.to_crs(METRIC).distance(outline).to_numpy()
    return lon, lat, dist


def _base_name(name: str) -> str:
    return name[:-1] if name.endswith("站") and len(name) > 2 else name


def _english(station_id: str) -> str:
    words = station_id.removeprefix("cn-hangzhou-").split("-")
    return " ".join(w.capitalize() for w in words)


def _accuracy(methods: dict, method: str) -> int:
    return int(methods[method]["accuracy_m"])


def build_features(data: dict, methods: dict) -> list[dict]:
    """Rebuild the metro_station features from the source, in station-code order."""
    rows = read_source()
    lon, lat, dist = to_wgs84(rows)
    old = {
        _base_name(f["properties"]["name"]): f
        for f in data["features"]
        if f["properties"]["category"] == "metro_station"
    }
    lines = {
        f["properties"]["name"]: f["properties"]
        for f in data["features"]
        if f["properties"]["category"] == "metro_line"
    }
    used = {int(f["properties"]["id"].split("-")[-1]) for f in old.values()}
    features = []
    keep = [i for i in range(len(rows)) if dist[i] <= EDGE_M]
    for i in sorted(keep, key=lambda i: int(rows[i]["official_codes"].split(";")[0])):
        row = rows[i]
        name = _base_name(row["name"])
        gcj = f"GCJ-02 {float(row['lon']):.6f}, {float(row['lat']):.6f}"
        source = (
            f"AMap subway coordinates of station '{row['name']}' (official code "
            f"{row['official_codes']}), {OPENMETRO}, {gcj} -> WGS 84 with "
            "gongshu_geo.crs.gcj02_to_wgs84 (scripts/build_metro.py)"
        )
        props = dict(old[name]["properties"]) if name in old else None
        if props is None:
            used_line = [
                p
                for line_name, p in lines.items()
                for n in row["lines"].split(";")
                if n.replace("号线", "") and f"{n.replace('号线', '')}号线" in line_name
            ]
            status = used_line[0]["status"] if used_line else "existing"
            number = max(used) + 1
            used.add(number)
            props = {
                "id": f"P-MSTN-{number:03d}",
                "name": name,
                "name_en": _english(row["id"]),
                "category": "metro_station",
                "subcategory": "station",
                "status": status,
                "period": used_line[0]["period"] if used_line else "existing",
                "plan_ref": used_line[0]["plan_ref"] if used_line else "第三章 第十三节",
                "notes": (
                    "Not in the earlier data; added from the AMap subway data. Status: that of "
                    f"its line in the plan ({used_line[0]['id'] if used_line else 'none'})."
                ),
            }
        props.pop("area_m2_source", None)
        props.update(
            {
                "station_code": row["official_codes"],
                "lines": row["lines"],
                "location_source": source,
                "location_method": "source_coordinates",
                "location_accuracy_m": _accuracy(methods, "source_coordinates"),
            }
        )
        if float(dist[i]) > 0:
            props["notes"] = (
                props.get("notes", "") + f" {dist[i]:.0f} m outside the outline."
            ).strip()
        features.append(
            {
                "type": "Feature",
                "properties": props,
                "geometry": {
                    "type": "Point",
                    "coordinates": [round(float(lon[i]), 6), round(float(lat[i]), 6)],
                },
            }
        )
    return features


def _p90(values) -> float:
    import numpy as np

    return float(np.percentile(np.asarray(values, float), 90))


def calibrate() -> list[dict]:
    """Measure each placement method on the stations, against their AMap positions.

    The earlier data placed 32 stations by three methods, recorded in
    ``sources/stations_before_amap.csv`` with the method each used; their distance
    to the converted AMap position is that method's error. For
    ``source_coordinates`` the reference is the other way round: Wikipedia's
    WGS 84 infobox coordinates (an independent source) against the AMap ones, a
    bound on the disagreement of two coordinate sources.
    """
    import geopandas as gpd
    import numpy as np

    rows = read_source()
    lon, lat, _ = to_wgs84(rows)
    truth = gpd.GeoSeries(gpd.points_from_xy(lon, lat), crs="EPSG:4326").to_crs(METRIC)
    by_name = {_base_name(r["name"]): truth.iloc[i] for i, r in enumerate(rows)}
    with OLD_POSITIONS.open(encoding="utf-8", newline="") as f:
        old = list(csv.DictReader(f))
    pts = gpd.GeoSeries(
        gpd.points_from_xy([float(r["lon"]) for r in old], [float(r["lat"]) for r in old]),
        crs="EPSG:4326",
    ).to_crs(METRIC)
    errors: dict[str, list[float]] = {}
    for r, p in zip(old, pts, strict=True):
        errors.setdefault(r["method"], []).append(p.distance(by_name[_base_name(r["name"])]))
    how = {
        "source_coordinates": (
            "Wikipedia infobox WGS 84 coordinates of stations vs AMap subway coordinates "
            "converted from GCJ-02: the disagreement of two independent coordinate sources"
        ),
        "named_crossing": (
            "stations placed at the crossing their description names (crossing positions "
            "from public-bicycle stations and general knowledge) vs AMap positions"
        ),
        "text_only": (
            "stations placed from text and general knowledge (along a line, between "
            "neighbours) vs AMap positions"
        ),
    }
    out = []
    for method in ("source_coordinates", "named_crossing", "text_only"):
        e = errors[method]
        p90 = _p90(e)
        step = 10 if p90 < 100 else 50
        out.append(
            {
                "method": method,
                "n": len(e),
                "median_m": round(float(np.median(e)), 1),
                "p90_m": round(p90, 1),
                "accuracy_m": int(math.ceil(p90 / step) * step),
                "calibrated_on": "metro stations in the district",
                "how": how[method],
            }
        )
    return out


def _methods_text(rows: list[dict], existing: list[dict]) -> str:
    ours = {r["method"] for r in rows}
    keep = [r for r in existing if r["method"] not in ours]
    buf = io.StringIO()
    fields = ["method", "n", "median_m", "p90_m", "accuracy_m", "calibrated_on", "how"]
    writer = csv.DictWriter(buf, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    for r in rows + keep:
        writer.writerow({k: r.get(k, "") for k in fields})
    return buf.getvalue()


def _read_methods() -> list[dict]:
    if not METHODS.exists():
        return []
    with METHODS.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def rebuild(data: dict) -> tuple[dict, str]:
    """Return the project collection with rebuilt stations, and the methods table."""
    rows = calibrate()
    methods_text = _methods_text(rows, _read_methods())
    methods = {r["method"]: r for r in csv.DictReader(io.StringIO(methods_text))}
    stations = build_features(data, methods)
    others = [f for f in data["features"] if f["properties"]["category"] != "metro_station"]
    first = next(
        (
            i
            for i, f in enumerate(data["features"])
            if f["properties"]["category"] == "metro_station"
        ),
        len(others),
    )
    before = [f for f in data["features"][:first] if f["properties"]["category"] != "metro_station"]
    after = others[len(before) :]
    return {**data, "features": before + stations + after}, methods_text


def main(argv=None) -> int:
    """Rebuild (or with ``--check`` verify) the stations and the methods table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args(argv)
    with locked_projects() as data:
        new, methods_text = rebuild(data)
        if args.check:
            same = dump_projects(new) == PROJECTS.read_text(encoding="utf-8")
            same &= METHODS.exists() and METHODS.read_text(encoding="utf-8") == methods_text
            print("metro stations and methods up to date" if same else "out of date: rerun")
            return 0 if same else 1
        write_atomic(PROJECTS, dump_projects(new))
        write_atomic(METHODS, methods_text)
    n = sum(f["properties"]["category"] == "metro_station" for f in new["features"])
    print(f"{n} metro stations written")
    return 0


if __name__ == "__main__":
    sys.exit(main())
