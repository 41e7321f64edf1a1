"""Field aliases and coded-value domains, set through the GDAL library that pyogrio loads.

pyogrio (0.13) writes File Geodatabases but has no API for two things ArcGIS
users expect in them: field aliases (GDAL's "alternative names", GDAL >= 3.7)
and coded-value field domains (GDAL >= 3.3; written by the OpenFileGDB driver
since 3.6). GDAL's C API has both, and pyogrio has already loaded a GDAL
library into this process, so this module calls that same library with
:mod:`ctypes` after pyogrio has written the data. When the library cannot be
found or is too old, :func:`gdal_schema_support` says why and the caller
writes the geodatabase without them.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import glob
import logging
import os
from pathlib import Path

from gongshu_geo.core.errors import OutputError
from gongshu_geo.core.i18n import gettext as _

logger = logging.getLogger(__name__)

_OF_UPDATE = 0x01
_OF_VECTOR = 0x04
_OFT_STRING = 4
_OFST_NONE = 0
#: OGR_L_AlterFieldDefn flags (ogr_core.h).
_ALTER_DOMAIN_FLAG = 0x40
_ALTER_ALTERNATIVE_NAME_FLAG = 0x80
#: GDAL_VERSION_NUM of the first release with field alternative names.
_ALIASES_SINCE = 3070000


class _CodedValue(ctypes.Structure):
    _fields_ = [("code", ctypes.c_char_p), ("value", ctypes.c_char_p)]


_P = ctypes.c_void_p
_S = ctypes.c_char_p
_SIGNATURES = {
    "GDALVersionInfo": (_S, [_S]),
    "GDALAllRegister": (None, []),
    "GDALOpenEx": (_P, [_S, ctypes.c_uint, _P, _P, _P]),
    "GDALClose": (None, [_P]),
    "GDALDatasetGetLayerByName": (_P, [_P, _S]),
    "GDALDatasetAddFieldDomain": (ctypes.c_bool, [_P, _P, ctypes.POINTER(_S)]),
    "OGR_CodedFldDomain_Create": (_P, [_S, _S, ctypes.c_int, ctypes.c_int, _P]),
    "OGR_FldDomain_Destroy": (None, [_P]),
    "OGR_L_GetLayerDefn": (_P, [_P]),
    "OGR_L_AlterFieldDefn": (ctypes.c_int, [_P, ctypes.c_int, _P, ctypes.c_int]),
    "OGR_FD_GetFieldIndex": (ctypes.c_int, [_P, _S]),
    "OGR_FD_GetFieldDefn": (_P, [_P, ctypes.c_int]),
    "OGR_Fld_Create": (_P, [_S, ctypes.c_int]),
    "OGR_Fld_Destroy": (None, [_P]),
    "OGR_Fld_GetType": (ctypes.c_int, [_P]),
    "OGR_Fld_SetAlternativeName": (None, [_P, _S]),
    "OGR_Fld_SetDomainName": (None, [_P, _S]),
    "CPLGetLastErrorMsg": (_S, []),
}


def _library_candidates() -> list[str]:
    """Paths of the GDAL library pyogrio uses: the one mapped into this process first."""
    import pyogrio
    import pyogrio._io  # noqa: F401  (maps libgdal into the process)

    found = []
    maps = Path("/proc/self/maps")
    if maps.exists():
        for line in maps.read_text().splitlines():
            parts = line.split(maxsplit=5)
            path = parts[5] if len(parts) == 6 else ""
            if "libgdal" in Path(path).name and path not in found:
                found.append(path)
    wheel_libs = Path(pyogrio.__file__).resolve().parent.parent / "pyogrio.libs"
    found += sorted(glob.glob(str(wheel_libs / "libgdal*")))
    system = ctypes.util.find_library("gdal")
    if system:
        found.append(system)
    return found


@functools.lru_cache(maxsize=1)
def _load():
    """Return ``(library, version_num)`` or ``(None, reason)``."""
    for path in _library_candidates():
        try:
            lib = ctypes.PyDLL(path)  # keep the GIL: pyogrio's error handler calls Python
            for name, (restype, argtypes) in _SIGNATURES.items():
                func = getattr(lib, name)
                func.restype, func.argtypes = restype, argtypes
        except (OSError, AttributeError) as exc:
            logger.debug("cannot use %s for field domains: %s", path, exc)
            continue
        version = int(lib.GDALVersionInfo(b"VERSION_NUM").decode())
        lib.GDALAllRegister()
        return lib, version
    return None, "no GDAL library with the field-domain functions was found in this process"


def gdal_schema_support() -> tuple[bool, str]:
    """Whether aliases and domains can be written, and why not when they cannot.

    Returns
    -------
    tuple of (bool, str)
        ``(True, "GDAL 3.12.4")`` or ``(False, reason)``.
    """
    lib, info = _load()
    if lib is None:
        return False, info
    if info < _ALIASES_SINCE:
        return False, f"GDAL {info} is older than 3.7, which added field aliases"
    return True, lib.GDALVersionInfo(b"RELEASE_NAME").decode()


def _last_error(lib) -> str:
    message = lib.CPLGetLastErrorMsg()
    return message.decode("utf-8", "replace") if message else "no reason given"


def apply_field_schema(path, *, domains: dict, fields: dict) -> None:
    """Add coded-value domains to a dataset and set field aliases and domains.

    Parameters
    ----------
    path : str or Path
        A dataset that the OpenFileGDB (or another domain-aware) driver can update.
    domains : dict
        Domain name -> ``(description, {code: label})``; string codes.
    fields : dict
        Layer name -> {field name: ``(alias or None, domain name or None)``}.

    Raises
    ------
    OutputError
        When the dataset cannot be opened or GDAL refuses a change, with GDAL's reason.
    """
    lib, _ffi = _load()
    if lib is None:
        raise OutputError(_("cannot set field aliases and domains: no usable GDAL library"))
    ds = lib.GDALOpenEx(os.fsencode(str(path)), _OF_VECTOR | _OF_UPDATE, None, None, None)
    if not ds:
        raise OutputError(
            _("{path}: cannot be opened for update ({last_error})").format(
                path=path, last_error=_last_error(lib)
            )
        )
    try:
        for name, (description, codes) in domains.items():
            _add_coded_domain(lib, ds, name, description, codes, path)
        for layer_name, columns in fields.items():
            layer = lib.GDALDatasetGetLayerByName(ds, layer_name.encode())
            if not layer:
                raise OutputError(
                    _('{path}: no layer "{layer_name}" to set field aliases on').format(
                        path=path, layer_name=layer_name
                    )
                )
            for column, (alias, domain) in columns.items():
                _alter_field(lib, layer, column, alias, domain, f"{path}: {layer_name}")
    finally:
        lib.GDALClose(ds)  # flushes the new table definitions


def _add_coded_domain(lib, ds, name, description, codes, path):
    values = (_CodedValue * (len(codes) + 1))(
        *(_CodedValue(str(code).encode(), str(label).encode()) for code, label in codes.items()),
        _CodedValue(None, None),
    )
    domain = lib.OGR_CodedFldDomain_Create(
        name.encode(), description.encode(), _OFT_STRING, _OFST_NONE, ctypes.cast(values, _P)
    )
    if not domain:
        raise OutputError(
            _('{path}: GDAL cannot create domain "{name}" ({last_error})').format(
                path=path, name=name, last_error=_last_error(lib)
            )
        )
    reason = _S()
    try:
        if not lib.GDALDatasetAddFieldDomain(ds, domain, ctypes.byref(reason)):
            why = reason.value.decode("utf-8", "replace") if reason.value else _last_error(lib)
            raise OutputError(
                _('{path}: domain "{name}" was refused ({why})').format(
                    path=path, name=name, why=why
                )
            )
    finally:
        lib.OGR_FldDomain_Destroy(domain)


def _alter_field(lib, layer, column, alias, domain, where):
    defn = lib.OGR_L_GetLayerDefn(layer)
    index = lib.OGR_FD_GetFieldIndex(defn, column.encode())
    if index < 0:
        raise OutputError(
            _('{where}: no field "{column}" to set an alias or domain on').format(
                where=where, column=column
            )
        )
    old = lib.OGR_FD_GetFieldDefn(defn, index)
    new = lib.OGR_Fld_Create(column.encode(), lib.OGR_Fld_GetType(old))
    flags = 0
    try:
        if alias:
            lib.OGR_Fld_SetAlternativeName(new, alias.encode())
            flags |= _ALTER_ALTERNATIVE_NAME_FLAG
        if domain:
            lib.OGR_Fld_SetDomainName(new, domain.encode())
            flags |= _ALTER_DOMAIN_FLAG
        if flags and lib.OGR_L_AlterFieldDefn(layer, index, new, flags) != 0:
            raise OutputError(
                _('{where}: GDAL refused the alias/domain of "{column}" ({last_error})').format(
                    where=where, column=column, last_error=_last_error(lib)
                )
            )
    finally:
        lib.OGR_Fld_Destroy(new)
