"""Synthetic regions, population points and facilities for scale runs.

Real city-wide inputs (every building or 100 m population cell of Hangzhou, every
POI) are large and not freely redistributable, so the scale engine is measured on
inputs generated here: anyone can rebuild them from a seed, byte for byte.

The region is a Voronoi tessellation of a square centred on Hangzhou
(120.17 E, 30.28 N) in EPSG:4549, about 8 km² per street as in the city's urban
districts. People live in clusters (neighbourhoods of a few hundred metres'
spread) over a thin uniform background; facilities follow the same clusters,
more tightly, as shops and clinics follow people. Everything is in EPSG:4549.

The streets themselves need not be synthetic: :func:`read_hangzhou_streets`
reads Hangzhou's real street and town polygons (every district, 2020 division,
from the public repository LonelyFarer/zjProvince, kept in the repository's
``data/sources/zjprovince/``), and every generator here fills any polygons.
"""

from __future__ import annotations

import gzip
import json
import logging
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gongshu_geo.core import crs as _crs
from gongshu_geo.core.atomic import ensure_dir
from gongshu_geo.core.errors import InputError, OutputError
from gongshu_geo.core.i18n import gettext as _
from gongshu_geo.data.io import data_path

logger = logging.getLogger(__name__)

#: Centre of the synthetic region, WGS 84 degrees (Hangzhou, near Wulin Square).
CENTRE_LON_LAT = (120.17, 30.28)
#: Area of one synthetic street, km².
STREET_AREA_KM2 = 8.0
#: Population clusters per street.
CLUSTERS_PER_STREET = 12
#: Share of people (and facilities) spread uniformly rather than in clusters.
BACKGROUND_SHARE = 0.15
#: Facility categories drawn at random for synthetic facilities.
FACILITY_CATEGORIES = ("clinic", "school", "grocery", "elderly_care", "park_entrance")
#: Rows per file written by :func:`write_population_parquet`.
DEFAULT_PARQUET_CHUNK = 1_000_000
#: Hangzhou's districts at street level (2020 division) as zjProvince names their files.
HANGZHOU_DISTRICTS = (
    "binjiang", "chunan", "fuyang", "gongshu", "jiande", "jianggan", "linan",
    "qiantangxinqu", "shangcheng", "tonglu", "xiacheng", "xiaoshan", "xihu", "yuhang",
)  # fmt: skip


def read_hangzhou_streets(folder=None, *, districts=HANGZHOU_DISTRICTS) -> gpd.GeoDataFrame:
    """Hangzhou's street and town polygons, every district, as one layer.

    Reads the zjProvince files (``<district>.json`` or ``<district>.json.gz``,
    one FeatureCollection per district, WGS 84, 2020 division) and repairs
    invalid polygons with :func:`shapely.make_valid`, keeping only their
    polygonal parts. The files give only a ``name``: ``street_code`` is made
    here from the district and the feature's position in its file
    (``"xihu-03"``). The boundaries are public but unofficial (no licence is
    stated upstream; see ``data/sources/README.md``).

    Parameters
    ----------
    folder : str or Path, optional
        Where the files are; the repository's ``data/sources/zjprovince`` by
        default (it is not part of an installed wheel).
    districts : sequence of str
        File names without extension, all 14 districts by default.

    Returns
    -------
    geopandas.GeoDataFrame
        ``street_code``, ``name`` (e.g. ``米市巷街道``), ``district`` and
        (Multi)Polygons in EPSG:4326, districts in the order given.

    Examples
    --------
    >>> streets = read_hangzhou_streets(districts=["gongshu", "xiacheng"])
    >>> len(streets), streets["street_code"].iloc[0], bool(streets.is_valid.all())
    (18, 'gongshu-01', True)
    """
    base = Path(folder) if folder is not None else data_path("sources", "zjprovince")
    rows = []
    for district in districts:
        path = next((base / f"{district}{ext}" for ext in (".json", ".json.gz")
                     if (base / f"{district}{ext}").exists()), None)  # fmt: skip
        if path is None:
            raise InputError(
                _(
                    "{base}: no {district}.json or {district}.json.gz; the zjProvince files "
                    "are in a checkout of the repository (data/sources/zjprovince), or pass "
                    "folder=..."
                ).format(base=base, district=district)
            )
        raw = path.read_bytes()
        data = json.loads(gzip.decompress(raw) if path.suffix == ".gz" else raw)
        for k, feature in enumerate(data["features"]):
            geom = shapely.geometry.shape(feature["geometry"])
            rows.append((f"{district}-{k + 1:02d}", feature["properties"]["name"], district, geom))
    codes, names, owners, geoms = zip(*rows, strict=True) if rows else ((),) * 4
    geoms = np.asarray(geoms, dtype=object)
    bad = ~shapely.is_valid(geoms)
    geoms[bad] = [_polygonal(shapely.make_valid(g)) for g in geoms[bad]]
    logger.info(_("read %d Hangzhou streets from %s (%d repaired)"), len(geoms), base, bad.sum())
    return gpd.GeoDataFrame(
        {"street_code": codes, "name": names, "district": owners}, geometry=geoms, crs=_crs.WGS84
    )


def _polygonal(geom):
    """Keep the polygonal parts of a repaired geometry (make_valid may add lines)."""
    parts = [p for p in shapely.get_parts(geom) if p.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.union_all(parts) if parts else shapely.Polygon()


def make_synthetic_region(n_streets: int = 190, *, seed: int = 0) -> gpd.GeoDataFrame:
    """Street polygons tessellating a square around Hangzhou's centre.

    Parameters
    ----------
    n_streets : int
        Number of streets (Hangzhou has about 190 streets and towns).
    seed : int
        Seed of the random street centres.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``street_code`` (``"SYN-0001"``...), ``name``, ``area_km2`` and
        Voronoi polygons in EPSG:4549 that cover the square without gaps or
        overlaps, in the order of their codes.

    Examples
    --------
    >>> streets = make_synthetic_region(12, seed=1)
    >>> len(streets), streets.crs.to_epsg(), streets["street_code"].iloc[0]
    (12, 4549, 'SYN-0001')
    """
    n_streets = _positive_int(n_streets, "n_streets")
    from pyproj import Transformer

    to_metric = Transformer.from_crs(_crs.WGS84, _crs.METRIC, always_xy=True)
    cx, cy = to_metric.transform(*CENTRE_LON_LAT)
    half = np.sqrt(n_streets * STREET_AREA_KM2) * 1000.0 / 2.0
    square = shapely.box(cx - half, cy - half, cx + half, cy + half)
    rng = np.random.default_rng([seed, 0])
    centres = rng.uniform([cx - half, cy - half], [cx + half, cy + half], size=(n_streets, 2))
    # Visit the centres along rows of the square so neighbouring codes are neighbours.
    band = np.floor((centres[:, 1] - (cy - half)) / (2 * half) * max(1, round(np.sqrt(n_streets))))
    centres = centres[np.lexsort((centres[:, 0], band))]
    if n_streets == 1:
        cells = np.array([square])
    else:
        cells = shapely.get_parts(
            shapely.voronoi_polygons(shapely.multipoints(centres), extend_to=square, ordered=True)
        )
        cells = shapely.intersection(cells, square)
    width = max(4, len(str(n_streets)))
    codes = [f"SYN-{k + 1:0{width}d}" for k in range(n_streets)]
    streets = gpd.GeoDataFrame(
        {
            "street_code": codes,
            "name": [f"Synthetic street {k + 1}" for k in range(n_streets)],
            "area_km2": shapely.area(cells) / 1e6,
        },
        geometry=cells,
        crs=_crs.METRIC,
    )
    logger.info(_("synthetic region: %d streets, %.0f km²"), n_streets, streets["area_km2"].sum())
    return streets


@dataclass(frozen=True)
class _Layout:
    """Where people cluster: centres, spreads (m) and shares of the clustered people."""

    xy: np.ndarray
    sigma_m: np.ndarray
    share: np.ndarray
    bounds: tuple
    region: object


def _layout(streets, seed) -> _Layout:
    geoms = _street_geoms(streets)
    region = shapely.union_all(geoms)
    shapely.prepare(region)
    bounds = tuple(region.bounds)
    rng = np.random.default_rng([seed, 1])
    n = CLUSTERS_PER_STREET * len(geoms)
    xy = _uniform_inside(region, bounds, n, rng)
    sigma = rng.lognormal(np.log(350.0), 0.5, size=n)
    share = rng.lognormal(0.0, 1.0, size=n)
    return _Layout(xy, sigma, share / share.sum(), bounds, region)


def _street_geoms(streets) -> np.ndarray:
    if not isinstance(streets, gpd.GeoDataFrame) or streets.empty:
        raise InputError(
            _("streets must be a non-empty GeoDataFrame of polygons (e.g. make_synthetic_region())")
        )
    return np.asarray(_crs.to_metric(streets).geometry.values)


def _uniform_inside(region, bounds, n, rng) -> np.ndarray:
    out = np.empty((0, 2))
    xmin, ymin, xmax, ymax = bounds
    while len(out) < n:
        draw = rng.uniform([xmin, ymin], [xmax, ymax], size=(max(2 * (n - len(out)), 16), 2))
        draw = draw[shapely.intersects_xy(region, draw[:, 0], draw[:, 1])]
        out = np.vstack([out, draw])
    return out[:n]


def _draw(layout: _Layout, n, rng, *, spread=1.0, background=BACKGROUND_SHARE) -> np.ndarray:
    """``n`` positions: clustered around the layout's centres, the rest uniform, all inside."""
    out = np.empty((0, 2))
    while len(out) < n:
        m = n - len(out)
        n_bg = rng.binomial(m, background)
        cluster = rng.choice(len(layout.share), size=m - n_bg, p=layout.share)
        around = layout.xy[cluster] + rng.normal(size=(m - n_bg, 2)) * (
            layout.sigma_m[cluster, None] * spread
        )
        draw = np.vstack([around, _uniform_inside(layout.region, layout.bounds, n_bg, rng)])
        draw = draw[shapely.intersects_xy(layout.region, draw[:, 0], draw[:, 1])]
        out = np.vstack([out, draw])
    return out[:n]


def make_population_points(
    streets, n: int, *, seed: int = 0, weight: str = "population", part: int = 0
) -> gpd.GeoDataFrame:
    """Clustered points where people live, each carrying a number of people.

    Parameters
    ----------
    streets : geopandas.GeoDataFrame
        Polygons the points fall in (every point lies inside one of them), e.g.
        from :func:`make_synthetic_region`.
    n : int
        Number of points (buildings or grid cells).
    seed : int
        Seed of the cluster layout (shared with :func:`make_facilities` of the
        same seed) and of the draw.
    weight : str
        Name of the column of people per point (whole numbers, mean about 12.5).
    part : int
        Draw number: parts of one seed share the layout but not the points
        (:func:`write_population_parquet` writes parts 0, 1, 2...).

    Returns
    -------
    geopandas.GeoDataFrame
        ``n`` points in EPSG:4549 with the ``weight`` column.
    """
    n = _positive_int(n, "n", allow_zero=True)
    layout = _layout(streets, seed)
    return _population(layout, n, seed=seed, weight=weight, part=part)


def _population(layout, n, *, seed, weight, part) -> gpd.GeoDataFrame:
    rng = np.random.default_rng([seed, 2, part])
    xy = _draw(layout, n, rng)
    people = np.ceil(rng.gamma(2.0, 6.0, size=n))
    return gpd.GeoDataFrame({weight: people}, geometry=shapely.points(xy), crs=_crs.METRIC)


def make_facilities(streets, n: int, *, seed: int = 0) -> gpd.GeoDataFrame:
    """Facility points (POIs) that follow where people live.

    Parameters
    ----------
    streets : geopandas.GeoDataFrame
        Polygons the facilities fall in.
    n : int
        Number of facilities.
    seed : int
        Seed; the same seed as :func:`make_population_points` puts facilities
        in the same neighbourhoods as the people.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``facility_id`` (``"F0000001"``...), ``category`` (one of
        :data:`FACILITY_CATEGORIES`) and points in EPSG:4549.
    """
    n = _positive_int(n, "n", allow_zero=True)
    layout = _layout(streets, seed)
    rng = np.random.default_rng([seed, 3])
    xy = _draw(layout, n, rng, spread=0.6, background=0.3)
    return gpd.GeoDataFrame(
        {
            "facility_id": [f"F{k:07d}" for k in range(n)],
            "category": pd.Categorical.from_codes(
                rng.integers(0, len(FACILITY_CATEGORIES), size=n), FACILITY_CATEGORIES
            ),
        },
        geometry=shapely.points(xy),
        crs=_crs.METRIC,
    )


def make_walking_lattice(streets, n_nodes: int, *, seed: int = 0, drop_share: float = 0.1):
    """Make a synthetic walking network: a jittered lattice of about ``n_nodes`` nodes.

    The lattice's spacing is chosen so that about ``n_nodes`` of its points fall
    inside the streets (55 m for a million nodes over Hangzhou's 3,300 km² of
    urban streets); each node moves by up to 20 % of the spacing, neighbours in
    a row or column are joined when both are inside, ``drop_share`` of those
    edges are dropped at random, and every edge is as long as its straight
    segment. It stands in for a real street network where none is at hand.

    Parameters
    ----------
    streets : geopandas.GeoDataFrame
        Polygons the nodes fall in.
    n_nodes : int
        Nodes wanted (the result is within a few per cent of it).
    seed : int
        Seed of the jitter and of the dropped edges.
    drop_share : float
        Share of the lattice's edges dropped, in [0, 1).

    Returns
    -------
    gongshu_geo.data.walkgraph.WalkGraph

    Examples
    --------
    >>> streets = make_synthetic_region(4, seed=1)
    >>> graph = make_walking_lattice(streets, 2_000, seed=1)
    >>> 1_900 < graph.n_nodes < 2_100
    True
    """
    from gongshu_geo.data.walkgraph import WalkGraph

    n_nodes = _positive_int(n_nodes, "n_nodes")
    if not 0 <= drop_share < 1:
        raise InputError(
            _("drop_share must be in [0, 1); found {drop_share!r}").format(drop_share=drop_share)
        )
    region = shapely.union_all(_street_geoms(streets))
    shapely.prepare(region)
    spacing = float(np.sqrt(region.area / n_nodes))
    xmin, ymin, xmax, ymax = region.bounds
    xs, ys = np.meshgrid(np.arange(xmin, xmax, spacing), np.arange(ymin, ymax, spacing))
    inside = shapely.intersects_xy(region, xs.ravel(), ys.ravel()).reshape(xs.shape)
    pos = np.full(xs.shape, -1, dtype=np.int64)
    pos[inside] = np.arange(inside.sum())
    rng = np.random.default_rng([seed, 4])
    xy = np.column_stack([xs[inside], ys[inside]])
    xy += rng.uniform(-0.2 * spacing, 0.2 * spacing, size=xy.shape)
    u, v = [], []
    for a, b in ((pos[:, :-1], pos[:, 1:]), (pos[:-1, :], pos[1:, :])):
        both = (a >= 0) & (b >= 0)
        u.append(a[both])
        v.append(b[both])
    u, v = np.concatenate(u), np.concatenate(v)
    keep = rng.random(len(u)) >= drop_share
    u, v = u[keep], v[keep]
    logger.info(_("walking lattice: %d nodes, %d edges, %.0f m apart"), len(xy), len(u), spacing)
    return WalkGraph(xy, u, v, np.hypot(*(xy[u] - xy[v]).T))


def write_population_parquet(
    path,
    n: int,
    *,
    streets=None,
    n_streets: int = 190,
    seed: int = 0,
    weight: str = "population",
    chunk_size: int = DEFAULT_PARQUET_CHUNK,
) -> Path:
    """Write synthetic population points as a folder of GeoParquet files, chunk by chunk.

    At most ``chunk_size`` points are in memory at a time, so ten million
    points need a few hundred megabytes, not gigabytes. The folder is built
    beside ``path`` and renamed into place when complete: a failed run leaves
    a previous folder intact.

    Parameters
    ----------
    path : str or Path
        Folder to create (replaced if it exists); files are ``part-00000.parquet``...
    n : int
        Total number of points.
    streets : geopandas.GeoDataFrame, optional
        Region to fill; ``make_synthetic_region(n_streets, seed=seed)`` by default.
    n_streets : int
        Streets of the default region.
    seed : int
        Seed of the layout and of every chunk (chunk ``k`` is part ``k`` of
        :func:`make_population_points`).
    weight : str
        Name of the people column.
    chunk_size : int
        Points per file.

    Returns
    -------
    Path
        The folder, readable by :func:`geopandas.read_parquet` file by file,
        ``dask_geopandas.read_parquet`` as a whole, and
        :func:`gongshu_geo.analysis.points.compute_point_coverage`.
    """
    n = _positive_int(n, "n")
    chunk_size = _positive_int(chunk_size, "chunk_size")
    if streets is None:
        streets = make_synthetic_region(n_streets, seed=seed)
    layout = _layout(streets, seed)
    target = Path(path)
    ensure_dir(target.parent)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        for part, start in enumerate(range(0, n, chunk_size)):
            size = min(chunk_size, n - start)
            chunk = _population(layout, size, seed=seed, weight=weight, part=part)
            chunk.to_parquet(tmp / f"part-{part:05d}.parquet", index=False)
            logger.debug("wrote part %d (%d points)", part, size)
        _replace_dir(tmp, target)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise OutputError(
            _("{target}: could not write the Parquet folder ({exc})").format(target=target, exc=exc)
        ) from exc
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    logger.info(_("wrote %d population points to %s"), n, target)
    return target


def _replace_dir(tmp: Path, target: Path) -> None:
    old = None
    if target.exists():
        if not target.is_dir():
            raise InputError(
                _("{target}: exists and is not a folder; choose another path").format(target=target)
            )
        old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old.", dir=target.parent))
        os.replace(target, old / target.name)
    os.replace(tmp, target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _positive_int(value, name, *, allow_zero=False) -> int:
    low = 0 if allow_zero else 1
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise InputError(
            _("{name} must be an integer >= {low}; found {value!r}").format(
                name=name, low=low, value=value
            )
        )
    return int(value)
