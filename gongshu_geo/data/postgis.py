"""PostGIS in: a database table or query read as a layer (the ``postgis`` extra).

A source written ``postgresql://user:password@host:port/db?table=schema.name``
(or with ``sql=SELECT ...``, or with ``--sql`` on the command line) is read by
:func:`read_postgis_layer` with the same checks as a file: the table must exist,
have one geometry column, and an SRID. Error messages name the database with
the password replaced by ``***``; the password is never logged or printed.
Writing is :mod:`gongshu_geo.exchange.postgis`.
"""

from __future__ import annotations

import contextlib
import decimal
import logging
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pandas as pd

from gongshu_geo.core.errors import CRSError, InputError, MissingDependencyError
from gongshu_geo.core.i18n import gettext as _

logger = logging.getLogger(__name__)

_SCHEMES = ("postgresql", "postgres", "postgresql+psycopg")


def is_dsn(source) -> bool:
    """Return True for a ``postgresql://`` (or ``postgres://``) database URL."""
    return isinstance(source, str) and source.split("://", 1)[0].lower() in _SCHEMES


def redact_dsn(dsn: str) -> str:
    """Return the URL with its password (in the user part or the query) replaced by ``***``.

    Examples
    --------
    >>> redact_dsn("postgresql://gis:s3cret@db.example:5432/plan?table=gongshu.streets")
    'postgresql://gis:***@db.example:5432/plan?table=gongshu.streets'
    """
    parts = urlsplit(dsn)
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, host = netloc.rsplit("@", 1)
        if ":" in userinfo:
            netloc = f"{userinfo.split(':', 1)[0]}:***@{host}"
    query = [(k, "***" if k.lower() == "password" else v) for k, v in parse_qsl(parts.query)]
    return urlunsplit(
        (parts.scheme, netloc, parts.path, urlencode(query, safe="./*(),= "), parts.fragment)
    )


def with_sql(dsn: str, sql: str) -> str:
    """Return the URL with ``sql=...`` added, unless it already names a table or a query."""
    parts = urlsplit(dsn)
    query = parse_qsl(parts.query)
    if any(k in ("table", "sql") for k, _ in query):
        return dsn
    query.append(("sql", sql))
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), parts.fragment))


def source_name(dsn: str) -> str:
    """Return a short name for a database source: its table name, or ``"query"``."""
    query = dict(parse_qsl(urlsplit(dsn).query))
    return query["table"].rsplit(".", 1)[-1] if query.get("table") else "query"


def _split_dsn(dsn: str):
    """Return ``(connection URL, table, sql)``; the URL keeps the other query options."""
    parts = urlsplit(dsn)
    query = parse_qsl(parts.query)
    options = dict(query)
    rest = [(k, v) for k, v in query if k not in ("table", "sql")]
    url = urlunsplit(
        ("postgresql+psycopg", parts.netloc, parts.path, urlencode(rest), parts.fragment)
    )
    return url, options.get("table"), options.get("sql")


def import_drivers():
    """Import SQLAlchemy and psycopg, or say which extra to install."""
    try:
        import geoalchemy2  # noqa: F401
        import psycopg
        import sqlalchemy
    except ImportError as exc:
        raise MissingDependencyError(
            _(
                "PostGIS needs SQLAlchemy, GeoAlchemy2 and psycopg ({name} is missing): "
                "pip install 'gongshu-geo[postgis]'"
            ).format(name=exc.name)
        ) from exc
    return sqlalchemy, psycopg


def failure_reason(exc, dsn) -> str:
    """Return the database's own words, on one line, with the password scrubbed out."""
    while exc.__cause__ is not None and getattr(exc, "orig", None) is None:
        exc = exc.__cause__  # pandas wraps SQLAlchemy, which wraps psycopg
    orig = getattr(exc, "orig", None) or exc
    text = " ".join(str(orig).split())
    password = urlsplit(dsn).password
    if password:
        text = text.replace(password, "***")
    return text[:400]


@contextlib.contextmanager
def connected(dsn: str, error=InputError):
    """Yield a SQLAlchemy connection; a refused connection raises ``error`` without the password."""
    sqlalchemy, _psycopg = import_drivers()
    url, _table, _query = _split_dsn(dsn)
    label = redact_dsn(dsn)
    try:
        engine = sqlalchemy.create_engine(url, poolclass=sqlalchemy.pool.NullPool)
    except (sqlalchemy.exc.ArgumentError, ValueError) as exc:
        raise error(
            _("{label}: not a usable database URL ({reason})").format(
                label=label, reason=failure_reason(exc, dsn)
            )
        ) from None
    try:
        try:
            conn = engine.connect()
        except sqlalchemy.exc.DBAPIError as exc:
            raise error(
                _(
                    "{label}: cannot connect to the database ({reason}); check the "
                    "host, port, database name, user and password"
                ).format(label=label, reason=failure_reason(exc, dsn))
            ) from None
        with conn:
            yield conn
    finally:
        engine.dispose()


def open_cursor(conn):
    """Return a psycopg cursor in the connection's transaction, for psycopg.sql DDL."""
    return conn.connection.cursor()


# --- in -------------------------------------------------------------------------------------


def read_postgis_layer(dsn: str, *, what: str = "layer"):
    """Read a PostGIS table or query into a GeoDataFrame, with the checks files get.

    Parameters
    ----------
    dsn : str
        ``postgresql://user:password@host:port/db?table=schema.name``, or with
        ``sql=SELECT ...`` instead of ``table``.
    what : str
        How error messages name the layer (``"projects table"``).

    Returns
    -------
    geopandas.GeoDataFrame
        Geometry column renamed ``geometry``, CRS from the SRID; numeric
        columns as floats. ``attrs["source"]`` is the redacted URL.

    Raises
    ------
    InputError
        Cannot connect (wrong credentials...), no table or query given, no
        such table, no geometry column, a failing query.
    CRSError
        The geometries have no SRID (0) or several.
    """
    import geopandas as gpd
    import shapely

    _sqlalchemy, psycopg = import_drivers()
    from psycopg import sql as psql

    _base, table, query = _split_dsn(dsn)
    label = redact_dsn(dsn)
    if bool(table) == bool(query):
        raise InputError(
            _(
                "{label}: say which {what} to read with ?table=schema.name or with --sql "
                '"SELECT ..." (one of them, not both)'
            ).format(label=label, what=_(what))
        )
    with connected(dsn) as conn:
        cur = open_cursor(conn)
        if table:
            schema, _dot, name = table.rpartition(".")
            ident = psql.Identifier(*([schema] if schema else []), name)
            found = cur.execute("SELECT to_regclass(%s)", [ident.as_string(cur)]).fetchone()[0]
            if found is None:
                raise InputError(
                    _('{label}: no such table "{table}"{tables_hint}').format(
                        label=label, table=table, tables_hint=_tables_hint(cur)
                    )
                )
            query = psql.SQL("SELECT * FROM {}").format(ident).as_string(cur)
        column, srid = _geometry_of(
            cur, query, label, what, f'table "{table}"' if table else "the query", psycopg
        )
        cur.execute(query)  # no parameters: a % in the query is just a %
        names = [c.name for c in cur.description]
        frame = pd.DataFrame(cur.fetchall(), columns=names)
    geometry = shapely.from_wkb(frame.pop(column).to_numpy())  # PostGIS sends hex EWKB
    frame = gpd.GeoDataFrame(frame, geometry=geometry, crs=f"EPSG:{srid}")
    for name in frame.columns.drop("geometry"):
        values = frame[name].dropna()
        if len(values) and values.map(lambda v: isinstance(v, decimal.Decimal)).all():
            frame[name] = pd.to_numeric(frame[name], errors="coerce").astype(float)
    frame.attrs["source"] = label
    logger.info(_("read %d rows from %s"), len(frame), label)
    return frame


def _tables_hint(cur) -> str:
    rows = cur.execute(
        "SELECT f_table_schema || '.' || f_table_name FROM geometry_columns "
        "WHERE f_table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1 LIMIT 20"
    ).fetchall()
    return f"; tables with geometry: {', '.join(r[0] for r in rows)}" if rows else ""


def _geometry_of(cur, query, label, what, where, psycopg):
    from psycopg import sql as psql

    try:
        geometry_oid = cur.execute("SELECT to_regtype('geometry')::oid").fetchone()[0]
        cur.execute(psql.SQL("SELECT * FROM ({}) AS q LIMIT 0").format(psql.SQL(query)))
    except psycopg.Error as exc:
        raise InputError(
            _("{label}: the query failed ({reason})").format(
                label=label, reason=failure_reason(exc, "")
            )
        ) from None
    columns = [(c.name, c.type_code) for c in cur.description]
    found = [name for name, oid in columns if geometry_oid and oid == geometry_oid]
    if not found:
        raise InputError(
            _(
                "{label}: {where} has no geometry column (PostGIS type geometry); found "
                "columns {columns}. A {what} needs one"
            ).format(
                label=label,
                where=where,
                columns=", ".join((name for name, _ in columns)),
                what=_(what),
            )
        )
    if len(found) > 1:
        raise InputError(
            _(
                "{label}: {where} has several geometry columns ({found}); select one "
                'with --sql "SELECT ..., <column> FROM ..."'
            ).format(label=label, where=where, found=", ".join(found))
        )
    column = found[0]
    srids = [
        r[0]
        for r in cur.execute(
            psql.SQL("SELECT DISTINCT ST_SRID({c}) FROM ({q}) AS q WHERE {c} IS NOT NULL").format(
                c=psql.Identifier(column), q=psql.SQL(query)
            )
        ).fetchall()
    ]
    if 0 in srids:
        raise CRSError(
            _(
                '{label}: geometry column "{column}" of {where} has no SRID (0); set it, '
                "e.g. UPDATE ... SET {column} = ST_SetSRID({column}, 4549) for CGCS2000 "
                "Gauss-Kruger metres, or 4490 / 4326 for longitude/latitude"
            ).format(label=label, column=column, where=where)
        )
    if len(srids) > 1:
        raise CRSError(
            _(
                '{label}: geometry column "{column}" of {where} mixes SRIDs {srids}; '
                "transform them to one with ST_Transform"
            ).format(label=label, column=column, where=where, srids=sorted(srids))
        )
    return column, (srids[0] if srids else 4326)
