"""Shapefile details: DBF field names and text widths, written deliberately.

A DBF field name holds at most 10 *bytes* in the file's encoding, and a text
value at most 254 bytes. GDAL cuts longer ones at the byte limit, which can
split a Chinese character in half; the helpers here shorten deliberately,
at character boundaries, and keep names unique. Which encoding a Shapefile
is *read* with is :mod:`gongshu_geo.data.encoding`.
"""

from __future__ import annotations

import logging
import re
import unicodedata

from gongshu_geo.core.errors import InputError
from gongshu_geo.core.i18n import gettext as _
from gongshu_geo.data.encoding import codec_name

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
