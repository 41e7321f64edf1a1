"""Shapefile details: DBF field names, text widths and the encoding of attributes.

A DBF field name holds at most 10 *bytes* in the file's encoding, and a text
value at most 254 bytes. GDAL cuts longer ones at the byte limit, which can
split a Chinese character in half; the helpers here shorten deliberately,
at character boundaries, and keep names unique.

The attribute encoding is named by a ``.cpg`` file beside the ``.dbf``
(``UTF-8``, ``GBK``, ``936``...). Without one, GDAL reads the text as Latin-1
and Chinese comes out garbled *without an error*; :func:`shapefile_encoding`
refuses to guess and asks for ``--encoding`` instead.
"""

from __future__ import annotations

import codecs
import logging
import re
import unicodedata
from pathlib import Path

from ._errors import InputError
from ._i18n import gettext as _

logger = logging.getLogger(__name__)

#: Bytes in a DBF field name.
FIELD_NAME_BYTES = 10
#: Bytes in a DBF text value.
TEXT_BYTES = 254

#: Deliberate short names for the package's own long field names.
SHORT_NAMES = {
    "subcategory": "subcat",
    "location_source": "loc_src",
    "location_accuracy_m": "loc_acc_m",
    "target_length_km": "tgt_len_km",
    "target_area_m2": "tgt_ar_m2",
    "target_count": "tgt_count",
    "street_code": "st_code",
    "category_zh": "cat_zh",
    "status_zh": "status_zh",
    "population": "population",
    "project_id": "proj_id",
    "street_name": "st_name",
    "length_share": "len_share",
    "area_share": "area_share",
}

# .cpg spellings -> Python codec names (GDAL understands all of these too).
_CPG_ALIASES = {"936": "gbk", "cp936": "gbk", "65001": "utf-8", "utf8": "utf-8"}
# DBF language driver ids (header byte 29) of the Chinese code pages.
_LDID = {0x4D: "gbk", 0x7A: "gbk", 0x4F: "big5", 0x78: "big5"}


def codec_name(encoding: str) -> str:
    """Return the Python codec for an encoding name; raise InputError naming the choices."""
    name = _CPG_ALIASES.get(encoding.strip().lower(), encoding.strip())
    try:
        info = codecs.lookup(name)
    except (LookupError, ValueError) as exc:  # ValueError: a NUL in the name
        info = exc
    if isinstance(info, Exception) or not getattr(info, "_is_text_encoding", True):
        raise InputError(
            _(
                'unknown encoding "{encoding}"; use UTF-8 (default) or GBK (older ArcGIS '
                "on Chinese Windows)"
            ).format(encoding=encoding)
        )
    return info.name


def cut_to_bytes(text: str, limit: int, encoding: str) -> str:
    """Return the longest prefix of ``text`` whose encoded form fits ``limit`` bytes.

    Examples
    --------
    >>> cut_to_bytes("拱墅区运河", 10, "utf-8")
    '拱墅区'
    >>> cut_to_bytes("拱墅区运河", 10, "gbk")
    '拱墅区运河'
    """
    codec = codec_name(encoding)
    out, used = [], 0
    for char in text:
        size = len(char.encode(codec))
        if used + size > limit:
            break
        out.append(char)
        used += size
    return "".join(out)


def short_field_names(columns, *, encoding: str = "UTF-8") -> dict:
    """Map each column to a DBF field name of at most 10 bytes, unique within the layer.

    Known long names get a deliberate abbreviation (:data:`SHORT_NAMES`);
    others are cut at a character boundary. Clashes (compared ignoring case,
    as DBF readers do) get a numeric suffix.

    Parameters
    ----------
    columns : iterable of str
    encoding : str
        The DBF encoding the names will be stored in.

    Returns
    -------
    dict
        Column -> short name, in the columns' order.

    Examples
    --------
    >>> short_field_names(["subcategory", "街道名称代码", "name"])
    {'subcategory': 'subcat', '街道名称代码': '街道名', 'name': 'name'}
    """
    codec = codec_name(encoding)
    mapping, taken = {}, set()
    for column in columns:
        column = str(column)
        wanted = SHORT_NAMES.get(column, column)
        wanted = re.sub(r"[\s.]+", "_", wanted) or "field"
        short = cut_to_bytes(wanted, FIELD_NAME_BYTES, codec) or "field"
        counter = 1
        while short.lower() in taken:
            counter += 1
            suffix = f"_{counter}"
            short = cut_to_bytes(wanted, FIELD_NAME_BYTES - len(suffix), codec) + suffix
        taken.add(short.lower())
        mapping[column] = short
    return mapping


def fit_text(value, *, encoding: str, limit: int = TEXT_BYTES):
    """Cut a text value at a character boundary to fit a DBF field; return others as they are."""
    if not isinstance(value, str):
        return value
    return (
        value
        if len(value.encode(codec_name(encoding))) <= limit
        else cut_to_bytes(value, limit, encoding)
    )


def is_text(series) -> bool:
    """Return True for a column that can hold strings (object or pandas string dtype)."""
    from pandas.api.types import is_object_dtype, is_string_dtype

    return is_object_dtype(series.dtype) or is_string_dtype(series.dtype)


def _substitute(value: str, codec: str) -> str | None:
    """Replace characters the codec lacks by their NFKC form (m² -> m2); None if one stays."""
    out = []
    for char in value:
        try:
            char.encode(codec)
            out.append(char)
            continue
        except UnicodeEncodeError:
            pass
        plain = unicodedata.normalize("NFKC", char)
        try:
            plain.encode(codec)
        except UnicodeEncodeError:
            return None
        out.append(plain)
    return "".join(out)


def make_encodable(frame, *, encoding: str, source: str):
    """Return a copy whose text the encoding can store, substituting where that is lossless.

    Characters GBK lacks but that have a plain compatibility form (``²`` ->
    ``2``, ``℃`` -> ``°C``) are replaced and logged; any other character that
    cannot be stored is an error, since writing ``?`` would lose it silently.

    Raises
    ------
    InputError
        Naming each feature and field whose text cannot be written.
    """
    codec = codec_name(encoding)
    out = frame.copy()
    problems, changed = [], 0
    ids = frame["id"] if "id" in frame.columns else None
    for column in frame.columns:
        if not is_text(frame[column]):
            continue
        for index, value in frame[column].items():
            if not isinstance(value, str):
                continue
            try:
                value.encode(codec)
                continue
            except UnicodeEncodeError:
                fixed = _substitute(value, codec)
            if fixed is not None:
                out.at[index, column] = fixed
                changed += 1
                continue
            row = f'feature "{ids[index]}" (#{index})' if ids is not None else f"row #{index}"
            problems.append(
                _(
                    '{row}: "{column}" value {value!r} cannot be written in {encoding}; '
                    "export with --encoding UTF-8, which can store every character"
                ).format(row=row, column=column, value=value, encoding=encoding)
            )
    if problems:
        raise InputError(problems, source=source)
    if changed:
        logger.warning(
            _(
                "%s: %d text values had characters %s lacks, written in their plain form "
                "(e.g. m² as m2); export with --encoding UTF-8 to keep them"
            ),
            source,
            changed,
            encoding,
        )
    return out


def read_cpg(path) -> str | None:
    """Return the encoding named by a Shapefile's ``.cpg`` file, or None without one."""
    path = Path(path)
    for cpg in (path.with_suffix(".cpg"), path.with_suffix(".CPG")):
        if cpg.exists():
            text = cpg.read_bytes().decode("ascii", errors="replace").strip()
            return text or None
    return None


def _dbf_has_non_utf8_text(dbf: Path) -> bool:
    raw = dbf.read_bytes()
    if len(raw) < 32:
        return False
    header_len = int.from_bytes(raw[8:10], "little")
    names = raw[32:header_len]
    body = raw[header_len:]
    for chunk in (names, body):
        if any(b >= 0x80 for b in chunk):
            try:
                chunk.decode("utf-8")
            except UnicodeDecodeError:
                return True
    return False


def _codec_for(encoding: str, where: Path) -> str:
    try:
        return codec_name(encoding)
    except InputError as exc:
        raise InputError(_("{where}: {exc}").format(where=where, exc=exc)) from exc


def shapefile_encoding(path, encoding: str | None = None) -> str | None:
    """Return the attribute encoding to read a Shapefile with.

    Parameters
    ----------
    path : str or Path
        The ``.shp`` file.
    encoding : str, optional
        What the caller said (``--encoding``); it wins over everything.

    Returns
    -------
    str or None
        ``encoding`` when given, else the ``.cpg``'s encoding, else the one the
        DBF header's language driver id names (GBK, Big5), else None when the
        text is plain ASCII or valid UTF-8 (GDAL reads those as they are).

    Raises
    ------
    InputError
        When there is no ``.cpg``, no ``encoding``, and the text is not UTF-8
        (most often GBK from a Chinese Windows ArcGIS), instead of letting
        the names be read as garbage.
    """
    path = Path(path)
    if encoding:
        return _codec_for(encoding, path)
    cpg = read_cpg(path)
    if cpg:
        return _codec_for(cpg, path.with_suffix(".cpg"))
    dbf = next(
        (p for p in (path.with_suffix(".dbf"), path.with_suffix(".DBF")) if p.exists()), None
    )
    if dbf is None:
        return None
    with open(dbf, "rb") as fh:
        header = fh.read(32)
    if len(header) == 32 and header[29] in _LDID:
        return _LDID[header[29]]
    if _dbf_has_non_utf8_text(dbf):
        raise InputError(
            _(
                "{path}: the attribute text is not UTF-8 and there is no {stem}.cpg "
                "saying what it is; pass --encoding GBK (usual for Chinese government "
                "data) or the right encoding, or add a .cpg file containing GBK"
            ).format(path=path, stem=path.stem)
        )
    return None
