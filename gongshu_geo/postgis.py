"""PostGIS in and out, through SQLAlchemy, GeoAlchemy2 and psycopg 3 (the ``postgis`` extra).

**Out.** :func:`write_postgis` writes every layer as a table in one schema,
each with an integer primary key ``fid``, a GiST index on its geometry and
comments (layer and column descriptions in Chinese and English). Everything
happens in *one* transaction: PostgreSQL's DDL is transactional, so the old
tables are dropped and the new ones created and filled inside it, readers see
the old tables until the commit, and a failure anywhere (a lost connection, a
refused value) rolls back to the schema as it was.

**In.** A source written ``postgresql://user:password@host:port/db?table=schema.name``
(or with ``sql=SELECT ...``, or with ``--sql`` on the command line) is read by
:func:`read_postgis_layer` with the same checks as a file: the table must exist,
have one geometry column, and an SRID. Error messages name the database with
the password replaced by ``***``; the password is never logged or printed.
"""

from __future__ import annotations

import contextlib
import decimal
import logging
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pandas as pd

from ._errors import CRSError, InputError, MissingDependencyError, OutputError
from ._i18n import gettext as _

logger = logging.getLogger(__name__)

#: Default schema of :func:`write_postgis`.
DEFAULT_SCHEMA = "gongshu"
#: How long a write waits for a lock on a table someone is reading, before giving up.
LOCK_TIMEOUT = "30s"
#: PostgreSQL's identifier limit, in bytes.
MAX_IDENTIFIER_BYTES = 63

#: English descriptions of the exported fields (the Chinese ones are export.FIELD_LABELS).
FIELD_DESCRIPTIONS_EN = {
    "fid": "Row number (primary key)",
    "id": "Project id",
    "name": "Name",
    "name_en": "English name",
    "category": "Category code",
    "category_zh": "Category (Chinese)",
    "subcategory": "Subcategory",
    "status": "Status code",
    "status_zh": "Status (Chinese)",
    "period": "Construction period",
    "plan_ref": "Where the plan states it",
    "location_source": "Source of the location",
    "location_accuracy_m": "Location accuracy (m)",
    "target_length_km": "Target length (km)",
    "target_area_m2": "Target area (m2)",
    "target_count": "Target count",
    "street_code": "Street (jiedao) code",
    "area_km2": "Area (km2)",
    "population": "Resident population",
    "minutes": "Walking time (minutes)",
    "distance_m": "Distance (m)",
    "project_id": "Project id",
    "street_name": "Street name",
    "geometry": "Geometry",
}
_EXTRA_LABELS_ZH = {"fid": "行号", "geometry": "几何"}

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


def _imports():
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


def _reason(exc, dsn) -> str:
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
def _connected(dsn: str, error=InputError):
    """Yield a SQLAlchemy connection; a refused connection raises ``error`` without the password."""
    sqlalchemy, _psycopg = _imports()
    url, _table, _query = _split_dsn(dsn)
    label = redact_dsn(dsn)
    try:
        engine = sqlalchemy.create_engine(url, poolclass=sqlalchemy.pool.NullPool)
    except (sqlalchemy.exc.ArgumentError, ValueError) as exc:
        raise error(
            _("{label}: not a usable database URL ({reason})").format(
                label=label, reason=_reason(exc, dsn)
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
                ).format(label=label, reason=_reason(exc, dsn))
            ) from None
        with conn:
            yield conn
    finally:
        engine.dispose()


def _cursor(conn):
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

    _sqlalchemy, psycopg = _imports()
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
    with _connected(dsn) as conn:
        cur = _cursor(conn)
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
            _("{label}: the query failed ({reason})").format(label=label, reason=_reason(exc, ""))
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


# --- out ------------------------------------------------------------------------------------


def _check_identifier(name, what) -> str:
    name = str(name)
    if not name or "\x00" in name or len(name.encode()) > MAX_IDENTIFIER_BYTES:
        raise InputError(
            _(
                "{what} {name!r} cannot be a PostgreSQL name: 1 to {max_identifier_bytes} bytes"
            ).format(what=_(what), name=name, max_identifier_bytes=MAX_IDENTIFIER_BYTES)
        )
    return name


def column_comment(column) -> str | None:
    """Return the bilingual comment of a known column (``项目编号 Project id``), else None."""
    from .export import FIELD_LABELS

    zh = FIELD_LABELS.get(column) or _EXTRA_LABELS_ZH.get(column)
    en = FIELD_DESCRIPTIONS_EN.get(column)
    return " ".join(p for p in (zh, en) if p) or None


def write_postgis(prepared, dsn: str, *, schema=DEFAULT_SCHEMA, crs, themes) -> list[str]:
    """Write prepared layers as tables of one schema, in one transaction.

    Parameters
    ----------
    prepared : dict
        Layer name -> frame already in the export CRS (see
        :func:`gongshu_geo.export.export_layers`, which calls this).
    dsn : str
        ``postgresql://user:password@host:port/db``.
    schema : str
        Created if missing. Tables of the same names are replaced; other tables
        in it are left alone.
    crs : str
        The export CRS name, for the comments.
    themes : dict
        Written name -> theme, for the table comments.

    Returns
    -------
    list of str
        ``schema.table`` of every table written.

    Raises
    ------
    OutputError
        Cannot connect, or the write failed (connection lost, a view depends on
        a table, a lock not granted within :data:`LOCK_TIMEOUT`, ...). Then
        nothing was committed: the schema is as it was.
    """
    sqlalchemy, psycopg = _imports()
    from psycopg import sql as psql

    schema = _check_identifier(schema, "schema")
    names = [_check_identifier(name, "layer name") for name in prepared]
    label = redact_dsn(dsn)
    written, current = [], None
    with _connected(dsn, error=OutputError) as conn:
        try:
            with conn.begin():
                cur = _cursor(conn)
                cur.execute(
                    psql.SQL("SET LOCAL lock_timeout = {}").format(psql.Literal(LOCK_TIMEOUT))
                )
                cur.execute(
                    psql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(psql.Identifier(schema))
                )
                for name in names:
                    current = name
                    _write_table(conn, prepared[name], schema, name, _comment(themes, name, crs))
                    _table_written(conn, schema, name)
                    written.append(f"{schema}.{name}")
                current = None
        except (sqlalchemy.exc.DBAPIError, psycopg.Error, pd.errors.DatabaseError) as exc:
            where = f"writing {schema}.{current}" if current else "committing"
            raise OutputError(
                _(
                    "{label}: {where} failed ({reason}); the transaction was rolled back, so "
                    'schema "{schema}" is as it was'
                ).format(label=label, where=where, reason=_reason(exc, dsn), schema=schema)
            ) from None
    logger.info(_("wrote %d tables into %s (schema %s)"), len(written), label, schema)
    return written


def _comment(themes, name, crs) -> str:
    from .export import datum_note, layer_title

    return f"{layer_title(themes.get(name, name))}. {datum_note(crs)}"


def _table_written(conn, schema, name) -> None:
    """Log each table written, inside the transaction (a hook for the fault tests)."""
    logger.debug("wrote %s.%s (not committed yet)", schema, name)


def _write_table(conn, frame, schema, name, comment) -> None:
    from psycopg import sql as psql

    from .export import is_spatial

    cur = _cursor(conn)
    table = psql.Identifier(schema, name)
    cur.execute(psql.SQL("DROP TABLE IF EXISTS {}").format(table))
    spatial = is_spatial(frame)
    frame = frame.reset_index(drop=True)
    if "fid" in frame.columns:  # e.g. read back from an earlier export: renumbered
        logger.info(_('%s: column "fid" replaced by the new primary key'), name)
        frame = frame.drop(columns="fid")
    frame.insert(0, "fid", range(1, len(frame) + 1))
    if spatial:
        frame.to_postgis(name, conn, schema=schema, index=False)
    else:
        pd.DataFrame(frame).to_sql(name, conn, schema=schema, index=False)
    cur.execute(psql.SQL("ALTER TABLE {} ADD PRIMARY KEY (fid)").format(table))
    if spatial and not _has_gist_index(cur, schema, name):
        cur.execute(
            psql.SQL("CREATE INDEX {} ON {} USING GIST (geometry)").format(
                psql.Identifier(f"{name}_geometry_gist"[:MAX_IDENTIFIER_BYTES]), table
            )
        )
    cur.execute(psql.SQL("COMMENT ON TABLE {} IS {}").format(table, psql.Literal(comment)))
    for column in frame.columns:
        text = column_comment(column)
        if column == "geometry" and spatial:
            text = f"几何 Geometry ({frame.crs.to_string()})"
        if text:
            cur.execute(
                psql.SQL("COMMENT ON COLUMN {}.{} IS {}").format(
                    table, psql.Identifier(column), psql.Literal(text)
                )
            )


def _has_gist_index(cur, schema, name) -> bool:
    row = cur.execute(
        "SELECT count(*) FROM pg_indexes WHERE schemaname = %s AND tablename = %s "
        "AND indexdef ILIKE '%%USING gist%%'",
        [schema, name],
    ).fetchone()
    return row[0] > 0
