"""The ``gongshu-geo`` command: arguments, logging, exit codes. The only place that prints.

Exit codes: 0 success; 1 a problem with the input, the output or the data
(listed, never a traceback); 2 wrong arguments.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from gongshu_geo.core.errors import GongshuGeoError
from gongshu_geo.core.version import __version__

logger = logging.getLogger("gongshu_geo")


def _add_input_args(p, *, output_crs_flags=False):
    """Input options; with ``output_crs_flags`` --crs/--encoding are left to the output."""
    g = p.add_argument_group("inputs (default: the packaged data)")
    crs_flags = ["--streets-crs"] if output_crs_flags else ["--crs", "--streets-crs"]
    enc_flags = ["--streets-encoding"] if output_crs_flags else ["--encoding", "--streets-encoding"]
    g.add_argument(
        "--projects",
        metavar="PATH",
        help="projects GeoJSON/GeoPackage/Shapefile, or postgresql://...?table=schema.name",
    )
    g.add_argument(
        "--streets",
        metavar="PATH",
        help="street boundaries (e.g. official ones); a file or postgresql://...?table=...",
    )
    g.add_argument(
        "--sql",
        metavar="SELECT",
        help="the query for a postgresql:// input given without ?table= (e.g. a UNION "
        "of the exported projects_* tables)",
    )
    g.add_argument("--name-field", help="street name field in --streets, e.g. 街道名称")
    g.add_argument("--code-field", help="street code field in --streets, e.g. 街道代码")
    g.add_argument(
        *crs_flags,
        dest="streets_crs",
        metavar="CRS",
        help="CRS of --streets when the file has none, or GCJ-02 for AMap data",
    )
    g.add_argument(
        *enc_flags,
        dest="streets_encoding",
        help="attribute encoding of --streets (e.g. GBK for a Shapefile without .cpg)",
    )
    g.add_argument(
        "--population",
        metavar="CSV",
        help="population table (CSV or XLSX) by street code, e.g. official census figures",
    )
    g.add_argument(
        "--population-field",
        default="population",
        help="population column of --population (default population), e.g. 常住人口",
    )
    g.add_argument(
        "--population-code-field",
        default="street_code",
        help="street-code column of --population (default street_code), e.g. 街道代码",
    )
    g.add_argument(
        "--skip-invalid",
        action="store_true",
        help="skip invalid project features (listed) instead of stopping",
    )
    g.add_argument(
        "--strict",
        action="store_true",
        help="with --skip-invalid: still exit 1 when anything was skipped; also warn about "
        "ids of your own file that do not follow the P-<CATEGORY>-NNN convention",
    )
    g.add_argument(
        "--report",
        metavar="CSV",
        help="write every problem found (or skipped) to this CSV, one row per problem: file, "
        "feature index, id, field, expected, found",
    )
    g.add_argument(
        "--fix-geometry",
        action="store_true",
        help="repair invalid or unclosed polygons with shapely.make_valid (changes listed)",
    )


def _streets_options(args) -> dict:
    opts = {}
    if args.population:
        opts["population_field"] = args.population_field
        opts["population_code_field"] = args.population_code_field
    for key, value in (
        ("name_field", args.name_field),
        ("code_field", args.code_field),
        ("crs", args.streets_crs),
        ("encoding", args.streets_encoding),
    ):
        if value:
            opts[key] = value
    return opts


def _add_map_args(p):
    g = p.add_argument_group("maps")
    g.add_argument(
        "--basemap",
        default="osm",
        help="osm, carto, amap, amap-satellite, tianditu or none (default osm)",
    )
    g.add_argument("--tianditu-key", help="Tianditu key (or set TIANDITU_KEY)")
    g.add_argument(
        "--cdn",
        action="store_true",
        help="link Leaflet from CDNs instead of inlining it (smaller files)",
    )


def _add_verbosity_args(p, *, suffix=""):
    """-v and -q; a subcommand's own copies (``suffix``) are merged in :func:`_merge_verbosity`."""
    p.add_argument(
        "-v", "--verbose", dest=f"verbose{suffix}", action="count", default=0, help="more detail"
    )
    p.add_argument("-q", "--quiet", dest=f"quiet{suffix}", action="store_true", help="only errors")


def _merge_verbosity(args) -> None:
    """-v and -q count the same before and after the command name."""
    args.verbose += getattr(args, "verbose_after", 0)
    args.quiet = args.quiet or getattr(args, "quiet_after", False)


def _add_tier_args(p):
    g = p.add_argument_group("service tiers (default: GB 50180-2018, 5/10/15 minutes)")
    g.add_argument("--minutes", type=float, nargs="+", help="tiers in minutes, e.g. 5 10 15")
    g.add_argument(
        "--distances-m", type=float, nargs="+", help="tiers in metres (paired with --minutes)"
    )
    g.add_argument("--speed-m-per-min", type=float, help="walking speed (default 60 m/min)")
    g.add_argument(
        "--cell-m", type=float, default=10.0, help="cell size of the coverage grid (default 10 m)"
    )


def make_parser() -> argparse.ArgumentParser:
    """Build the argument parser."""
    parser = argparse.ArgumentParser(
        prog="gongshu-geo",
        description="Map and measure the Gongshu District 14th Five-Year Plan projects.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    _add_verbosity_args(parser)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("validate", help="check the inputs and list every problem")
    _add_input_args(p)

    p = sub.add_parser("build", help="statistics, maps and layers into --out (default maps/)")
    p.add_argument(
        "--config",
        metavar="TOML",
        help="a project file (`gongshu-geo init` writes one); the options given here override it",
    )
    _add_input_args(p)
    _add_map_args(p)
    p.add_argument("--out", default="maps", help="output folder (default maps/)")
    p.add_argument(
        "--graph",
        metavar="PATH",
        help="walking network (GraphML from `gongshu-geo network`) for network coverage",
    )
    p.add_argument("--no-png", action="store_true", help="skip the static PNG maps")
    p.add_argument(
        "--no-surfaces",
        action="store_true",
        help="skip the accessibility surfaces (GeoTIFF, H3 hexagons, the maps' minutes layer)",
    )
    p.add_argument(
        "--facilities",
        nargs="+",
        metavar="PATH",
        help="your own facility layers (GeoPackage/GeoJSON/Shapefile, CSV with lon/lat, "
        "or postgresql://...?table=...), measured as scenario 'user' and named after the "
        "file or table",
    )
    p.add_argument(
        "--population-layer",
        metavar="PATH",
        help="population points or polygons with counts (a file or postgresql://...?table="
        "...), instead of spreading each street's population evenly",
    )
    p.add_argument(
        "--population-layer-field",
        default="population",
        help="count column of --population-layer (default population)",
    )
    p.add_argument(
        "--as-of",
        type=int,
        metavar="YEAR",
        help="the year whose scheduled state the maps and stats/schedule_state.csv show",
    )
    p.add_argument(
        "--baseline",
        metavar="CSV",
        help="how complete each layer's existing facilities are (layer, completeness, basis); "
        "default: the packaged table for the packaged projects, 'unknown' for your own",
    )
    _add_tier_args(p)

    p = sub.add_parser("init", help="write a commented project file for `build --config`")
    p.add_argument("path", nargs="?", default="gongshu.toml", help="where (default gongshu.toml)")
    p.add_argument("--force", action="store_true", help="replace an existing file")

    p = sub.add_parser("map", help="only the overview map")
    _add_input_args(p)
    _add_map_args(p)
    p.add_argument("--out", default="maps", help="output folder (default maps/)")

    p = sub.add_parser("export", help="layers for GIS software")
    _add_input_args(p, output_crs_flags=True)
    p.add_argument(
        "--format",
        default="gpkg",
        choices=["gpkg", "qgz", "shp", "kml", "geojson", "csv", "gdb", "parquet", "postgis"],
        help="gpkg (default, styled for QGIS), qgz (a QGIS project beside the GeoPackage, with "
        "groups, labels, A3 print layouts and the service areas and gaps), shp, kml, geojson, "
        "csv, gdb (ArcGIS File Geodatabase), parquet (GeoParquet 1.1) or postgis (with --dsn)",
    )
    p.add_argument(
        "--crs",
        dest="out_crs",
        default="EPSG:4326",
        help="output CRS: EPSG:4326 (default), EPSG:4490, EPSG:4549 or GCJ-02",
    )
    p.add_argument("--out", help="output file (.gpkg, .qgz, .gdb) or folder (other formats)")
    p.add_argument(
        "--dsn",
        metavar="URL",
        help="--format postgis: the database, postgresql://user:password@host:port/db",
    )
    p.add_argument(
        "--schema", default="gongshu", help="--format postgis: schema of the tables (gongshu)"
    )
    p.add_argument("--layers", nargs="+", help="only these layers (default: all)")
    p.add_argument(
        "--encoding",
        dest="out_encoding",
        default="UTF-8",
        help="Shapefile/CSV text encoding: UTF-8 (default) or GBK for older ArcGIS",
    )

    p = sub.add_parser(
        "coverage-points", help="point-based 5/10/15-minute coverage at city scale (local or Dask)"
    )
    p.add_argument(
        "--population-parquet",
        required=True,
        metavar="PATH",
        help="population points: a GeoParquet file or folder (read in chunks)",
    )
    p.add_argument(
        "--facilities",
        required=True,
        metavar="PATH",
        help="facility layer (GeoPackage, GeoJSON, Shapefile; any geometry)",
    )
    p.add_argument("--streets", metavar="PATH", help="street polygons (default: the packaged ones)")
    p.add_argument("--name-field", help="street name field in --streets")
    p.add_argument("--code-field", help="street code field in --streets")
    p.add_argument("--facility", help="label for the facility column (default: file name)")
    weight = p.add_mutually_exclusive_group()
    weight.add_argument(
        "--weight", default="population", help="column of people per point (default population)"
    )
    weight.add_argument("--count-points", action="store_true", help="count points, not people")
    tiers = p.add_mutually_exclusive_group()
    tiers.add_argument(
        "--minutes", type=float, nargs="+", help="tiers in minutes (default 5 10 15)"
    )
    tiers.add_argument("--distances-m", type=float, nargs="+", help="tiers in metres")
    p.add_argument("--graph", metavar="GRAPHML", help="walking network for network distance")
    p.add_argument("--engine", choices=["local", "dask"], default="local")
    p.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="Dask scheduler, e.g. tcp://host:8786 (default: a local cluster)",
    )
    p.add_argument("--n-workers", type=int, help="workers of the local Dask cluster")
    p.add_argument("--npartitions", type=int, help="Dask partitions for in-memory points")
    p.add_argument("--chunk-size", type=int, default=250_000, help="points read at a time")
    p.add_argument("--out", required=True, help="CSV file to write")

    p = sub.add_parser(
        "diff",
        help="compare two versions of a project file: diff.csv, diff.md, diff.html into --out",
    )
    p.add_argument("old", help="the earlier version (GeoJSON, GeoPackage, Shapefile)")
    p.add_argument("new", help="the later version")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--streets", metavar="PATH", help="streets for the counts by street")

    p = sub.add_parser(
        "site",
        help="where to build next: the candidate sites that bring the most people within reach",
    )
    _add_input_args(p)
    _add_map_args(p)
    p.add_argument(
        "--layer",
        default="park",
        help="facility layer to place: metro_station, park, greenway, cultural_venue, "
        "sports_venue, future_community or public_service (default park)",
    )
    p.add_argument("--minutes", type=float, default=10.0, help="walking tier (default 10)")
    p.add_argument(
        "--speed-m-per-min",
        type=float,
        help="walking speed; by default the standard's 300/500/1000 m for 5/10/15 minutes",
    )
    p.add_argument("--n", type=int, default=3, help="sites to choose (default 3)")
    p.add_argument(
        "--candidates",
        metavar="PATH",
        help="candidate sites: points or polygons (GeoPackage/GeoJSON/Shapefile) or a CSV "
        "with lon/lat; default: the plan's development blocks",
    )
    p.add_argument("--id-field", default="id", help="id column of --candidates (default id)")
    p.add_argument(
        "--candidate-name-field", default="name", help="name column of --candidates (default name)"
    )
    p.add_argument(
        "--candidate-categories",
        nargs="+",
        default=[],
        metavar="CATEGORY",
        help="also take the polygon projects of these categories as candidates (e.g. park)",
    )
    p.add_argument(
        "--given",
        choices=["existing", "plan"],
        default="existing",
        help="what is already built: the layer's existing facilities (default), or the whole "
        "plan ('after the plan, where next?')",
    )
    p.add_argument("--mode", choices=["distance", "network"], default="distance")
    p.add_argument(
        "--graph", metavar="PATH", help="walking network (GraphML or line layer) for --mode network"
    )
    p.add_argument(
        "--method",
        choices=["auto", "exact", "greedy"],
        default="auto",
        help="exact (pulp + CBC), greedy, or auto: exact when small enough (default)",
    )
    p.add_argument(
        "--cell-m", type=float, default=25.0, help="side of the population cells (default 25 m)"
    )
    p.add_argument(
        "--population-layer",
        metavar="PATH",
        help="population points or polygons with counts, instead of spreading each street's "
        "population evenly",
    )
    p.add_argument(
        "--population-layer-field",
        default="population",
        help="count column of --population-layer (default population)",
    )
    p.add_argument("--out", required=True, help="output folder")

    p = sub.add_parser("network", help="download the walking network (needs the internet)")
    p.add_argument("--out", required=True, help="GraphML file to write")
    p.add_argument("--margin-m", type=float, default=500.0, help="margin around the outline")
    for p in sub.choices.values():  # -v and -q after the command name too
        _add_verbosity_args(p, suffix="_after")
    return parser


def _setup_logging(args):
    level = logging.WARNING if args.quiet else (logging.DEBUG if args.verbose > 1 else logging.INFO)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
    root = logging.getLogger("gongshu_geo")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False


def _input_options(args) -> dict:
    """Return the options of :func:`gongshu_geo.pipeline.read_inputs` given on the command line."""
    options = {
        "projects": args.projects,
        "streets": args.streets,
        "streets_options": _streets_options(args),
        "population": args.population,
        "skip_invalid": args.skip_invalid,
        "fix_geometry": args.fix_geometry,
        "strict": args.strict,
    }
    for name in ("facilities", "population_layer", "graph", "baseline"):
        if getattr(args, name, None) is not None:
            options[name] = getattr(args, name)
    return options


def _cmd_validate(args) -> int:
    from gongshu_geo.pipeline import validate_inputs

    inputs, result = validate_inputs(**_input_options(args))
    projects, streets = inputs.projects, inputs.streets
    skipped = result.skipped
    print(
        f"ok: {len(projects)} projects, {len(streets)} streets"
        + (f"; {len(skipped)} problems skipped" if skipped else "")
    )
    return _skip_exit(args, result)


def _skip_exit(args, result) -> int:
    """List what was skipped (exit 1 with --strict) and write ``--report``."""
    from gongshu_geo.core.problems import list_problems

    skipped = result.skipped
    _write_report(args, [("skipped", result.source, skipped), ("warning", None, result.warnings)])
    if skipped:
        print(f"skipped {len(skipped)} invalid features:", file=sys.stderr)
        for line in list_problems(skipped):
            print(line, file=sys.stderr)
        if args.strict:
            return 1
    return 0


def _write_report(args, groups) -> None:
    """Write ``--report``: one row per problem of each (severity, file, problems) group."""
    path = getattr(args, "report", None)
    if not path:
        return
    from gongshu_geo.pipeline import write_problem_report

    n_rows = write_problem_report(path, groups)
    print(f"wrote {n_rows} problems to {path}", file=sys.stderr)


def _cmd_build(args) -> int:
    from gongshu_geo.pipeline import build, make_tiers

    tiers = make_tiers(
        minutes=args.minutes, distances_m=args.distances_m, speed_m_per_min=args.speed_m_per_min
    )
    options = _input_options(args)
    options["facilities"] = args.facilities or []
    result = build(
        tiers=tiers,
        speed_m_per_min=args.speed_m_per_min,
        cell_m=args.cell_m,
        surfaces=not args.no_surfaces,
        out=args.out,
        basemap=args.basemap,
        tianditu_key=args.tianditu_key,
        inline_assets=not args.cdn,
        population_layer_field=args.population_layer_field,
        as_of=args.as_of,
        png=not args.no_png,
        **options,
    )
    print(f"wrote {len(result.written)} files into {result.out_dir}/")
    for path in result.written:
        if path.name == "index.html" and path.parent == Path(result.out_dir):
            print(f"  overview map: {path} ({path.stat().st_size / 1e6:.1f} MB)")
    return _skip_exit(args, result)


def _cmd_map(args) -> int:
    from gongshu_geo.pipeline import make_maps

    result = make_maps(
        out=args.out,
        basemap=args.basemap,
        tianditu_key=args.tianditu_key,
        inline_assets=not args.cdn,
        **_input_options(args),
    )
    (path,) = result.written
    print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB)")
    return _skip_exit(args, result)


def _apply_sql(parser, args) -> None:
    """Give ``--sql`` to the one postgresql:// input that names no table."""
    from gongshu_geo.pipeline import attach_sql

    sql = getattr(args, "sql", None)
    if not sql:
        return
    names = ("projects", "streets", "population_layer", "facilities")
    sources = {name: getattr(args, name, None) for name in names}
    try:
        given = attach_sql(sources, sql)
    except GongshuGeoError as exc:
        parser.error(str(exc))
    for name, value in given.items():
        if value is not None:
            setattr(args, name, value)


def _cmd_export(args) -> int:
    from gongshu_geo.pipeline import export_data

    result = export_data(
        out=args.dsn if args.format == "postgis" else args.out,
        fmt=args.format,
        crs=args.out_crs,
        encoding=args.out_encoding,
        schema=args.schema,
        layers=args.layers,
        **_input_options(args),
    )
    print(f"wrote {len(result.written)} {'tables' if args.format == 'postgis' else 'files'}:")
    for path in result.written:
        print(f"  {path}")
    return _skip_exit(args, result)


def _cmd_coverage_points(args) -> int:
    from gongshu_geo.pipeline import measure_point_coverage

    result = measure_point_coverage(
        args.population_parquet,
        args.facilities,
        out=args.out,
        streets=args.streets,
        name_field=args.name_field,
        code_field=args.code_field,
        facility=args.facility,
        minutes=args.minutes,
        distances_m=args.distances_m,
        population_field=None if args.count_points else args.weight,
        graph=args.graph,
        engine=args.engine,
        scheduler=args.scheduler,
        n_workers=args.n_workers,
        npartitions=args.npartitions,
        chunk_size=args.chunk_size,
    )
    print(f"wrote {args.out} ({len(result.details)} rows)")
    return 0


def _cmd_init(args) -> int:
    from gongshu_geo.config import write_template

    path = write_template(args.path, overwrite=args.force)
    print(f"wrote {path}; edit it, then run: gongshu-geo build --config {path}")
    return 0


def _apply_config(args, argv) -> None:
    """Fill ``build`` options from ``--config``, except those given on the command line."""
    from gongshu_geo.config import read_config

    options = read_config(args.config)
    explicit = _explicit_options(argv)
    for dest, value in options.items():
        if dest not in explicit:
            setattr(args, dest, value)


def _explicit_options(argv) -> set:
    """Return the destinations of the options given in ``argv`` (not defaults)."""
    parser = make_parser()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                for sub_action in sub._actions:
                    sub_action.default = argparse.SUPPRESS
    return set(vars(parser.parse_args(argv)))


def _cmd_diff(args) -> int:
    from gongshu_geo.pipeline import compare_versions

    counts = compare_versions(args.old, args.new, out=args.out, streets=args.streets).details
    summary = ", ".join(f"{n} {c}" for c, n in sorted(counts.items())) or "no change"
    print(f"{summary}; wrote diff.csv, diff.md and diff.html into {args.out}/")
    return 0


def _cmd_site(args) -> int:
    from gongshu_geo.pipeline import select_sites

    result = select_sites(
        out=args.out,
        layer=args.layer,
        candidates=args.candidates,
        id_field=args.id_field,
        candidate_name_field=args.candidate_name_field,
        categories=args.candidate_categories,
        minutes=args.minutes,
        speed_m_per_min=args.speed_m_per_min,
        n=args.n,
        mode=args.mode,
        given=args.given,
        method=args.method,
        cell_m=args.cell_m,
        population_layer_field=args.population_layer_field,
        basemap=args.basemap,
        inline_assets=not args.cdn,
        **_input_options(args),
    )
    choice = result.details
    print(choice.summary())
    for row in choice.chosen.itertuples():
        print(
            f"  {row.rank}. {row.id} {row.name}: +{row.new_covered_pop:,.0f} people "
            f"(total {row.cum_new_covered_pop:,.0f}, district within reach {row.covered_share:.1%})"
        )
    print(f"wrote {', '.join(p.name for p in result.written)} into {args.out}/")
    return _skip_exit(args, result)


def _cmd_network(args) -> int:
    from gongshu_geo.pipeline import download_network

    path = download_network(out=args.out, margin_m=args.margin_m)
    print(f"wrote {path}")
    return 0


COMMANDS = {
    "validate": _cmd_validate,
    "build": _cmd_build,
    "map": _cmd_map,
    "export": _cmd_export,
    "coverage-points": _cmd_coverage_points,
    "init": _cmd_init,
    "diff": _cmd_diff,
    "site": _cmd_site,
    "network": _cmd_network,
}


def main(argv=None) -> int:
    """Run the command line; return the exit code."""
    parser = make_parser()
    args = parser.parse_args(argv)
    if args.command == "export":
        if args.format == "postgis" and not args.dsn:
            parser.error("--format postgis needs --dsn postgresql://user:password@host:port/db")
        if args.format != "postgis" and not args.out:
            parser.error(f"--format {args.format} needs --out")
    _merge_verbosity(args)
    _setup_logging(args)
    try:
        if getattr(args, "config", None):
            _apply_config(args, argv)
        _apply_sql(parser, args)
        return COMMANDS[args.command](args)
    except GongshuGeoError as exc:
        print(f"error: {exc}", file=sys.stderr)
        problems = getattr(exc, "problems", None)
        if problems is not None:
            try:
                _write_report(args, [("error", getattr(exc, "source", None), problems)])
            except GongshuGeoError as report_exc:
                print(f"error: {report_exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted; outputs written before the interruption are intact", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
