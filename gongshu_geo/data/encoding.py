"""The attribute encoding of a Shapefile being read.

The encoding is named by a ``.cpg`` file beside the ``.dbf`` (``UTF-8``,
``GBK``, ``936``...). Without one, GDAL reads the text as Latin-1 and Chinese
comes out garbled *without an error*; :func:`shapefile_encoding` refuses to
guess and asks for ``--encoding`` instead.
"""

from __future__ import annotations

import codecs
from pathlib import Path

from gongshu_geo.core.errors import InputError
from gongshu_geo.core.i18n import gettext as _

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
