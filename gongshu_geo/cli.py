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
from gongshu_geo.core.i18n import ArgumentParser, set_language
from gongshu_geo.core.i18n import gettext as _
from gongshu_geo.core.version import __version__

logger = logging.getLogger("gongshu_geo")


def _add_input_args(p, *, output_crs_flags=False):
    """Input options; with ``output_crs_flags`` --crs/--encoding are left to the output."""
    g = p.add_argument_group(_("inputs (default: the packaged data)"))
    crs_flags = ["--streets-crs"] if output_crs_flags else ["--crs", "--streets-crs"]
    enc_flags = ["--streets-encoding"] if output_crs_flags else ["--encoding", "--streets-encoding"]
    g.add_argument(
        "--projects",
        metavar="PATH",
        help=_("projects GeoJSON/GeoPackage/Shapefile, or postgresql://...?table=schema.name"),
    )
    g.add_argument(
        "--streets",
        metavar="PATH",
        help=_("street boundaries (e.g. official ones); a file or postgresql://...?table=..."),
    )
    g.add_argument(
        "--sql",
        metavar="SELECT",
        help=_(
            "the query for a postgresql:// input given without ?table= (e.g. a UNION "
            "of the exported projects_* tables)"
        ),
    )
    g.add_argument("--name-field", help=_("street name field in --streets, e.g. 街道名称"))
    g.add_argument("--code-field", help=_("street code field in --streets, e.g. 街道代码"))
    g.add_argument(
        *crs_flags,
        dest="streets_crs",
        metavar="CRS",
        help=_("CRS of --streets when the file has none, or GCJ-02 for AMap data"),
    )
    g.add_argument(
        *enc_flags,
        dest="streets_encoding",
        help=_("attribute encoding of --streets (e.g. GBK for a Shapefile without .cpg)"),
    )
    g.add_argument(
        "--population",
        metavar="CSV",
        help=_("population table (CSV or XLSX) by street code, e.g. official census figures"),
    )
    g.add_argument(
        "--population-field",
        default="population",
        help=_("population column of --population (default population), e.g. 常住人口"),
    )
    g.add_argument(
        "--population-code-field",
        default="street_code",
        help=_("street-code column of --population (default street_code), e.g. 街道代码"),
    )
    g.add_argument(
        "--skip-invalid",
        action="store_true",
        help=_("skip invalid project features (listed) instead of stopping"),
    )
    g.add_argument(
        "--strict",
        action="store_true",
        help=_(
            "with --skip-invalid: still exit 1 when anything was skipped; also warn about "
            "ids of your own file that do not follow the P-<CATEGORY>-NNN convention"
        ),
    )
    g.add_argument(
        "--report",
        metavar="CSV",
        help=_(
            "write every problem found (or skipped) to this CSV, one row per problem: file, "
            "feature index, id, field, expected, found"
        ),
    )
    g.add_argument(
        "--fix-geometry",
        action="store_true",
        help=_("repair invalid or unclosed polygons with shapely.make_valid (changes listed)"),
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
    g = p.add_argument_group(_("maps"))
    g.add_argument(
        "--basemap",
        default="osm",
        help=_("osm, carto, amap, amap-satellite, tianditu or none (default osm)"),
    )
    g.add_argument("--tianditu-key", help=_("Tianditu key (or set TIANDITU_KEY)"))
    g.add_argument(
        "--cdn",
        action="store_true",
        help=_("link Leaflet from CDNs instead of inlining it (smaller files)"),
    )


def _add_verbosity_args(p, *, suffix=""):
    """-v and -q; a subcommand's own copies (``suffix``) are merged in :func:`_merge_verbosity`."""
    p.add_argument(
        "-v", "--verbose", dest=f"verbose{suffix}", action="count", default=0, help=_("more detail")
    )
    p.add_argument(
        "-q", "--quiet", dest=f"quiet{suffix}", action="store_true", help=_("only errors")
    )
    p.add_argument(
        "--lang",
        dest=f"lang{suffix}",
        choices=["zh", "en"],
        help=_("language of the messages: zh or en (default: from LC_ALL, LC_MESSAGES, LANG)"),
    )


def _merge_verbosity(args) -> None:
    """-v and -q count the same before and after the command name."""
    args.verbose += getattr(args, "verbose_after", 0)
    args.quiet = args.quiet or getattr(args, "quiet_after", False)


def _add_tier_args(p):
    g = p.add_argument_group(_("service tiers (default: GB 50180-2018, 5/10/15 minutes)"))
    g.add_argument("--minutes", type=float, nargs="+", help=_("tiers in minutes, e.g. 5 10 15"))
    g.add_argument(
        "--distances-m", type=float, nargs="+", help=_("tiers in metres (paired with --minutes)")
    )
    g.add_argument("--speed-m-per-min", type=float, help=_("walking speed (default 60 m/min)"))
    g.add_argument(
        "--cell-m",
        type=float,
        default=10.0,
        help=_("cell size of the coverage grid (default 10 m)"),
    )


def make_parser() -> argparse.ArgumentParser:
    """Build the argument parser."""
    parser = ArgumentParser(
        prog="gongshu-geo",
        description=_("Map and measure the Gongshu District 14th Five-Year Plan projects."),
    )
    parser.add_argument(
        "--version",
        action="version",
        version=f"%(prog)s {__version__}",
        help=_("show program's version number and exit"),
    )
    _add_verbosity_args(parser)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("validate", help=_("check the inputs and list every problem"))
    _add_input_args(p)

    p = sub.add_parser("build", help=_("statistics, maps and layers into --out (default maps/)"))
    p.add_argument(
        "--config",
        metavar="TOML",
        help=_(
            "a project file (`gongshu-geo init` writes one); the options given here override it"
        ),
    )
    _add_input_args(p)
    _add_map_args(p)
    p.add_argument("--out", default="maps", help=_("output folder (default maps/)"))
    p.add_argument(
        "--graph",
        metavar="PATH",
        help=_("walking network (GraphML from `gongshu-geo network`) for network coverage"),
    )
    p.add_argument("--no-png", action="store_true", help=_("skip the static PNG maps"))
    p.add_argument(
        "--no-surfaces",
        action="store_true",
        help=_("skip the accessibility surfaces (GeoTIFF, H3 hexagons, the maps' minutes layer)"),
    )
    p.add_argument(
        "--facilities",
        nargs="+",
        metavar="PATH",
        help=_(
            "your own facility layers (GeoPackage/GeoJSON/Shapefile, CSV with lon/lat, "
            "or postgresql://...?table=...), measured as scenario 'user' and named after the "
            "file or table"
        ),
    )
    p.add_argument(
        "--population-layer",
        metavar="PATH",
        help=_(
            "population points or polygons with counts (a file or postgresql://...?table="
            "...), instead of spreading each street's population evenly"
        ),
    )
    p.add_argument(
        "--population-layer-field",
        default="population",
        help=_("count column of --population-layer (default population)"),
    )
    p.add_argument(
        "--as-of",
        type=int,
        metavar="YEAR",
        help=_("the year whose scheduled state the maps and stats/schedule_state.csv show"),
    )
    p.add_argument(
        "--baseline",
        metavar="CSV",
        help=_(
            "how complete each layer's existing facilities are (layer, completeness, basis); "
            "default: the packaged table for the packaged projects, 'unknown' for your own"
        ),
    )
    _add_tier_args(p)

    p = sub.add_parser("init", help=_("write a commented project file for `build --config`"))
    p.add_argument(
        "path", nargs="?", default="gongshu.toml", help=_("where (default gongshu.toml)")
    )
    p.add_argument("--force", action="store_true", help=_("replace an existing file"))

    p = sub.add_parser("map", help=_("only the overview map"))
    _add_input_args(p)
    _add_map_args(p)
    p.add_argument("--out", default="maps", help=_("output folder (default maps/)"))

    p = sub.add_parser("export", help=_("layers for GIS software"))
    _add_input_args(p, output_crs_flags=True)
    p.add_argument(
        "--format",
        default="gpkg",
        choices=["gpkg", "qgz", "shp", "kml", "geojson", "csv", "gdb", "parquet", "postgis"],
        help=_(
            "gpkg (default, styled for QGIS), qgz (a QGIS project beside the GeoPackage, with "
            "groups, labels, A3 print layouts and the service areas and gaps), shp, kml, geojson, "
            "csv, gdb (ArcGIS File Geodatabase), parquet (GeoParquet 1.1) or postgis (with --dsn)"
        ),
    )
    p.add_argument(
        "--crs",
        dest="out_crs",
        default="EPSG:4326",
        help=_("output CRS: EPSG:4326 (default), EPSG:4490, EPSG:4549 or GCJ-02"),
    )
    p.add_argument("--out", help=_("output file (.gpkg, .qgz, .gdb) or folder (other formats)"))
    p.add_argument(
        "--dsn",
        metavar="URL",
        help=_("--format postgis: the database, postgresql://user:password@host:port/db"),
    )
    p.add_argument(
        "--schema", default="gongshu", help=_("--format postgis: schema of the tables (gongshu)")
    )
    p.add_argument("--layers", nargs="+", help=_("only these layers (default: all)"))
    p.add_argument(
        "--encoding",
        dest="out_encoding",
        default="UTF-8",
        help=_("Shapefile/CSV text encoding: UTF-8 (default) or GBK for older ArcGIS"),
    )

    p = sub.add_parser(
        "coverage-points",
        help=_("point-based 5/10/15-minute coverage at city scale (local or Dask)"),
    )
    p.add_argument(
        "--population-parquet",
        required=True,
        metavar="PATH",
        help=_("population points: a GeoParquet file or folder (read in chunks)"),
    )
    p.add_argument(
        "--facilities",
        required=True,
        metavar="PATH",
        help=_("facility layer (GeoPackage, GeoJSON, Shapefile; any geometry)"),
    )
    p.add_argument(
        "--streets", metavar="PATH", help=_("street polygons (default: the packaged ones)")
    )
    p.add_argument("--name-field", help=_("street name field in --streets"))
    p.add_argument("--code-field", help=_("street code field in --streets"))
    p.add_argument("--facility", help=_("label for the facility column (default: file name)"))
    weight = p.add_mutually_exclusive_group()
    weight.add_argument(
        "--weight", default="population", help=_("column of people per point (default population)")
    )
    weight.add_argument("--count-points", action="store_true", help=_("count points, not people"))
    tiers = p.add_mutually_exclusive_group()
    tiers.add_argument(
        "--minutes", type=float, nargs="+", help=_("tiers in minutes (default 5 10 15)")
    )
    tiers.add_argument("--distances-m", type=float, nargs="+", help=_("tiers in metres"))
    p.add_argument("--graph", metavar="GRAPHML", help=_("walking network for network distance"))
    p.add_argument("--engine", choices=["local", "dask"], default="local")
    p.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help=_("Dask scheduler, e.g. tcp://host:8786 (default: a local cluster)"),
    )
    p.add_argument("--n-workers", type=int, help=_("workers of the local Dask cluster"))
    p.add_argument("--npartitions", type=int, help=_("Dask partitions for in-memory points"))
    p.add_argument("--chunk-size", type=int, default=250_000, help=_("points read at a time"))
    p.add_argument("--out", required=True, help=_("CSV file to write"))

    p = sub.add_parser(
        "diff",
        help=_("compare two versions of a project file: diff.csv, diff.md, diff.html into --out"),
    )
    p.add_argument("old", help=_("the earlier version (GeoJSON, GeoPackage, Shapefile)"))
    p.add_argument("new", help=_("the later version"))
    p.add_argument("--out", required=True, help=_("output folder"))
    p.add_argument("--streets", metavar="PATH", help=_("streets for the counts by street"))

    p = sub.add_parser(
        "site",
        help=_("where to build next: the candidate sites that bring the most people within reach"),
    )
    _add_input_args(p)
    _add_map_args(p)
    p.add_argument(
        "--layer",
        default="park",
        help=_(
            "facility layer to place: metro_station, park, greenway, cultural_venue, "
            "sports_venue, future_community or public_service (default park)"
        ),
    )
    p.add_argument("--minutes", type=float, default=10.0, help=_("walking tier (default 10)"))
    p.add_argument(
        "--speed-m-per-min",
        type=float,
        help=_("walking speed; by default the standard's 300/500/1000 m for 5/10/15 minutes"),
    )
    p.add_argument("--n", type=int, default=3, help=_("sites to choose (default 3)"))
    p.add_argument(
        "--candidates",
        metavar="PATH",
        help=_(
            "candidate sites: points or polygons (GeoPackage/GeoJSON/Shapefile) or a CSV "
            "with lon/lat; default: the plan's development blocks"
        ),
    )
    p.add_argument("--id-field", default="id", help=_("id column of --candidates (default id)"))
    p.add_argument(
        "--candidate-name-field",
        default="name",
        help=_("name column of --candidates (default name)"),
    )
    p.add_argument(
        "--candidate-categories",
        nargs="+",
        default=[],
        metavar="CATEGORY",
        help=_("also take the polygon projects of these categories as candidates (e.g. park)"),
    )
    p.add_argument(
        "--given",
        choices=["existing", "plan"],
        default="existing",
        help=_(
            "what is already built: the layer's existing facilities (default), or the whole "
            "plan ('after the plan, where next?')"
        ),
    )
    p.add_argument("--mode", choices=["distance", "network"], default="distance")
    p.add_argument(
        "--graph",
        metavar="PATH",
        help=_("walking network (GraphML or line layer) for --mode network"),
    )
    p.add_argument(
        "--method",
        choices=["auto", "exact", "greedy"],
        default="auto",
        help=_("exact (pulp + CBC), greedy, or auto: exact when small enough (default)"),
    )
    p.add_argument(
        "--cell-m", type=float, default=25.0, help=_("side of the population cells (default 25 m)")
    )
    p.add_argument(
        "--population-layer",
        metavar="PATH",
        help=_(
            "population points or polygons with counts, instead of spreading each street's "
            "population evenly"
        ),
    )
    p.add_argument(
        "--population-layer-field",
        default="population",
        help=_("count column of --population-layer (default population)"),
    )
    p.add_argument("--out", required=True, help=_("output folder"))

    p = sub.add_parser("network", help=_("download the walking network (needs the internet)"))
    p.add_argument("--out", required=True, help=_("GraphML file to write"))
    p.add_argument("--margin-m", type=float, default=500.0, help=_("margin around the outline"))
    for p in sub.choices.values():  # -v and -q after the command name too
        _add_verbosity_args(p, suffix="_after")
    return parser


def _lang_of(argv) -> str | None:
    """Return the last ``--lang`` value in ``argv`` (read before the parser is made), or None."""
    lang = None
    for i, arg in enumerate(argv):
        if arg == "--":
            break
        if arg == "--lang" and i + 1 < len(argv):
            lang = argv[i + 1]
        elif arg.startswith("--lang="):
            lang = arg.split("=", 1)[1]
    return lang if lang in ("zh", "en") else None


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
    counts = _("ok: {projects} projects, {streets} streets").format(
        projects=len(projects), streets=len(streets)
    )
    if skipped:
        counts += _("; {n} problems skipped").format(n=len(skipped))
    print(counts)
    return _skip_exit(args, result)


def _skip_exit(args, result) -> int:
    """List what was skipped (exit 1 with --strict) and write ``--report``."""
    from gongshu_geo.core.problems import list_problems

    skipped = result.skipped
    _write_report(args, [("skipped", result.source, skipped), ("warning", None, result.warnings)])
    if skipped:
        print(_("skipped {n} invalid features:").format(n=len(skipped)), file=sys.stderr)
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
    print(_("wrote {n} problems to {path}").format(n=n_rows, path=path), file=sys.stderr)


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
    print(_("wrote {n} files into {folder}/").format(n=len(result.written), folder=result.out_dir))
    for path in result.written:
        if path.name == "index.html" and path.parent == Path(result.out_dir):
            size_mb = path.stat().st_size / 1e6
            print(_("  overview map: {path} ({size_mb:.1f} MB)").format(path=path, size_mb=size_mb))
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
    size_mb = path.stat().st_size / 1e6
    print(_("wrote {path} ({size_mb:.1f} MB)").format(path=path, size_mb=size_mb))
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
    if args.format == "postgis":
        print(_("wrote {n} tables:").format(n=len(result.written)))
    else:
        print(_("wrote {n} files:").format(n=len(result.written)))
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
    print(_("wrote {path} ({n} rows)").format(path=args.out, n=len(result.details)))
    return 0


def _cmd_init(args) -> int:
    from gongshu_geo.config import write_template

    path = write_template(args.path, overwrite=args.force)
    print(_("wrote {path}; edit it, then run: gongshu-geo build --config {path}").format(path=path))
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
    summary = ", ".join(f"{n} {c}" for c, n in sorted(counts.items())) or _("no change")
    print(
        _("{summary}; wrote diff.csv, diff.md and diff.html into {folder}/").format(
            summary=summary, folder=args.out
        )
    )
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
            _(
                "  {rank}. {id} {name}: +{new:,.0f} people "
                "(total {total:,.0f}, district within reach {share:.1%})"
            ).format(
                rank=row.rank,
                id=row.id,
                name=row.name,
                new=row.new_covered_pop,
                total=row.cum_new_covered_pop,
                share=row.covered_share,
            )
        )
    names = ", ".join(p.name for p in result.written)
    print(_("wrote {names} into {folder}/").format(names=names, folder=args.out))
    return _skip_exit(args, result)


def _cmd_network(args) -> int:
    from gongshu_geo.pipeline import download_network

    path = download_network(out=args.out, margin_m=args.margin_m)
    print(_("wrote {path}").format(path=path))
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
    argv = sys.argv[1:] if argv is None else list(argv)
    set_language(_lang_of(argv))
    parser = make_parser()
    args = parser.parse_args(argv)
    if args.command == "export":
        if args.format == "postgis" and not args.dsn:
            parser.error(_("--format postgis needs --dsn postgresql://user:password@host:port/db"))
        if args.format != "postgis" and not args.out:
            parser.error(_("--format {format} needs --out").format(format=args.format))
    _merge_verbosity(args)
    _setup_logging(args)
    try:
        if getattr(args, "config", None):
            _apply_config(args, argv)
        _apply_sql(parser, args)
        return COMMANDS[args.command](args)
    except GongshuGeoError as exc:
        print(_("error: {message}").format(message=exc), file=sys.stderr)
        problems = getattr(exc, "problems", None)
        if problems is not None:
            try:
                _write_report(args, [("error", getattr(exc, "source", None), problems)])
            except GongshuGeoError as report_exc:
                print(_("error: {message}").format(message=report_exc), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(_("interrupted; outputs written before the interruption are intact"), file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
