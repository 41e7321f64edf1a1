"""Atomic writes: write beside the target, then rename into place.

A failed or interrupted run therefore never leaves a half-written file where a
good one was: either the old file is intact or the new one is complete.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import shutil
import tempfile
from pathlib import Path

from ._errors import OutputError
from ._i18n import gettext as _

logger = logging.getLogger(__name__)


def _describe_os_error(exc: OSError, path: Path) -> str:
    if exc.errno == errno.ENOSPC:
        return _(
            "{path}: the disk is full; free some space and run again (nothing was replaced)"
        ).format(path=path)
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return _(
            "{folder}: the output folder is not writable; choose another with --out "
            "or fix its permissions"
        ).format(folder=path.parent)
    return _("{path}: could not write ({reason}); nothing was replaced").format(
        path=path, reason=exc.strerror or exc
    )


def ensure_dir(path) -> Path:
    """Create a folder (and its parents) or raise :class:`OutputError` saying why not."""
    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOSPC):
            raise OutputError(_describe_os_error(exc, path / "x")) from exc
        raise OutputError(
            _(
                "{path}: cannot create the output folder ({value}); choose another with --out"
            ).format(path=path, value=exc.strerror or exc)
        ) from exc
    if not os.access(path, os.W_OK):
        raise OutputError(
            _(
                "{path}: the output folder is not writable; choose another with --out or "
                "fix its permissions"
            ).format(path=path)
        )
    return path


@contextlib.contextmanager
def atomic_path(target, *, suffix=None):
    """Yield a temporary path beside ``target``; rename it onto ``target`` on success.

    Parameters
    ----------
    target : str or Path
        Final file name.
    suffix : str, optional
        Suffix of the temporary file (defaults to the target's, so that
        format-sniffing writers such as GDAL pick the right driver).

    Yields
    ------
    Path
        Where the caller writes. On an exception it is removed and the target
        is left as it was.
    """
    target = Path(target)
    ensure_dir(target.parent)
    suffix = target.suffix if suffix is None else suffix
    try:
        fd, tmp = tempfile.mkstemp(
            prefix=f".{target.stem}.", suffix=f".tmp{suffix}", dir=target.parent
        )
    except OSError as exc:
        raise OutputError(_describe_os_error(exc, target)) from exc
    os.close(fd)
    os.unlink(tmp)  # writers such as GDAL refuse to overwrite an existing file
    tmp = Path(tmp)
    try:
        yield tmp
        os.replace(tmp, target)
    except OSError as exc:
        _remove(tmp)
        raise OutputError(_describe_os_error(exc, target)) from exc
    except BaseException:
        _remove(tmp)
        raise
    logger.debug("wrote %s", target)


def _remove(path: Path) -> None:
    with contextlib.suppress(OSError):
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink()


def write_bytes_atomic(target, data: bytes) -> Path:
    """Write bytes to ``target`` atomically and return its path."""
    with atomic_path(target) as tmp:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
    return Path(target)


def write_text_atomic(target, text: str, *, encoding: str = "utf-8") -> Path:
    """Write text to ``target`` atomically and return its path."""
    return write_bytes_atomic(target, text.encode(encoding))


@contextlib.contextmanager
def atomic_fileset(targets):
    """Write several files that belong together (a Shapefile set) atomically.

    Yields a mapping target -> temporary path; all are renamed into place only
    when the block succeeds, and none when it fails.
    """
    targets = [Path(t) for t in targets]
    if not targets:
        yield {}
        return
    ensure_dir(targets[0].parent)
    tmpdir = Path(tempfile.mkdtemp(prefix=".gongshu-geo.", dir=targets[0].parent))
    mapping = {t: tmpdir / t.name for t in targets}
    try:
        yield mapping
        for target, tmp in mapping.items():
            if tmp.exists():
                os.replace(tmp, target)
    except OSError as exc:
        raise OutputError(_describe_os_error(exc, targets[0])) from exc
    finally:
        _remove(tmpdir)
