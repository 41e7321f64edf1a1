"""PostGIS out, through SQLAlchemy, GeoAlchemy2 and psycopg 3 (the ``postgis`` extra).

:func:`write_postgis` writes every layer as a table in one schema,
each with an integer primary key ``fid``, a GiST index on its geometry and
comments (layer and column descriptions in Chinese and English). Everything
happens in *one* transaction: PostgreSQL's DDL is transactional, so the old
tables are dropped and the new ones created and filled inside it, readers see
the old tables until the commit, and a failure anywhere (a lost connection, a
refused value) rolls back to the schema as it was. Reading is
:mod:`gongshu_geo.data.postgis`.
"""

from __future__ import annotations

import logging

import pandas as pd

from gongshu_geo.core.errors import InputError, OutputError
from gongshu_geo.core.i18n import gettext as _
from gongshu_geo.data.postgis import (
    connected,
    failure_reason,
    import_drivers,
    open_cursor,
    redact_dsn,
)

logger = logging.getLogger(__name__)


#: Default schema of :func:`write_postgis`.
DEFAULT_SCHEMA = "gongshu"
#: How long a write waits for a lock on a table someone is reading, before giving up.
LOCK_TIMEOUT = "30s"
#: PostgreSQL's identifier limit, in bytes.
MAX_IDENTIFIER_BYTES = 63

#: English descriptions of the exported fields (the Chinese ones are fields.FIELD_LABELS).
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
    from gongshu_geo.exchange.fields import FIELD_LABELS

    zh = FIELD_LABELS.get(column) or _EXTRA_LABELS_ZH.get(column)
    en = FIELD_DESCRIPTIONS_EN.get(column)
    return " ".join(p for p in (zh, en) if p) or None


def write_postgis(prepared, dsn: str, *, schema=DEFAULT_SCHEMA, crs, themes) -> list[str]:
    """Write prepared layers as tables of one schema, in one transaction.

    Parameters
    ----------
    prepared : dict
        Layer name -> frame already in the export CRS (see
        :func:`gongshu_geo.exchange.export.export_layers`, which calls this).
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
    sqlalchemy, psycopg = import_drivers()
    from psycopg import sql as psql

    schema = _check_identifier(schema, "schema")
    names = [_check_identifier(name, "layer name") for name in prepared]
    label = redact_dsn(dsn)
    written, current = [], None
    with connected(dsn, error=OutputError) as conn:
        try:
            with conn.begin():
                cur = open_cursor(conn)
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
                ).format(label=label, where=where, reason=failure_reason(exc, dsn), schema=schema)
            ) from None
    logger.info(_("wrote %d tables into %s (schema %s)"), len(written), label, schema)
    return written


def _comment(themes, name, crs) -> str:
    from gongshu_geo.exchange.fields import datum_note, layer_title

    return f"{layer_title(themes.get(name, name))}. {datum_note(crs)}"


def _table_written(conn, schema, name) -> None:
    """Log each table written, inside the transaction (a hook for the fault tests)."""
    logger.debug("wrote %s.%s (not committed yet)", schema, name)


def _write_table(conn, frame, schema, name, comment) -> None:
    from psycopg import sql as psql

    from gongshu_geo.exchange.fields import is_spatial

    cur = open_cursor(conn)
    table = psql.Identifier(schema, name)
    cur.execute(psql.SQL("DROP TABLE IF EXISTS {}").format(table))
    spatial = is_spatial(frame)
    frame = frame.reset_index(drop=True)
    if "fid" in frame.columns:  # e.g. read back from an earlier export: renumbered
        logger.info('%s: column "fid" replaced by the new primary key', name)
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
