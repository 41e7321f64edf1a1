"""Atomic writes: write beside the target, then rename into place.

A failed or interrupted run therefore never leaves a half-written file where a
good one was: either the old file is intact or the new one is complete. A
command that writes several files stages them all in a private folder inside
the output folder (:func:`staged_outputs`) and moves them into place only when
every one is written, so they appear together or not at all. A lock file
serialises concurrent commands writing into the same folder; it exists only
while one runs. A command replaces only the files it writes and removes nothing
else.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import logging
import os
import shutil
import tempfile
import threading
from pathlib import Path

from gongshu_geo.core.errors import OutputError
from gongshu_geo.core.i18n import gettext as _

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


#: The lock file of a folder being written into, there only while a command writes.
LOCK_NAME = ".gongshu-geo.lock"
#: Name prefix of the staging folders inside an output folder.
STAGING_PREFIX = ".staging-"

_held = threading.local()  # the folders this thread holds the lock of: nested staging is fine


@contextlib.contextmanager
def locked(out_dir):
    """Hold the lock of ``out_dir``; the lock file is removed when the block ends.

    Removing a lock file that others may be waiting on is safe only if a waiter
    that wakes up on the removed file notices: after taking the lock, each
    checks that the path still names the file it locked, and starts again if not.
    So exactly one writer at a time holds the lock on the file the path names.
    The lock is re-entrant within a thread.

    Yields
    ------
    bool
        True when this block took the lock, False when an enclosing one holds it.
    """
    out_dir = Path(out_dir)
    key = os.path.realpath(out_dir)
    held = _held.__dict__.setdefault("dirs", set())
    if key in held:
        yield False
        return
    lock_path = out_dir / LOCK_NAME
    while True:
        try:
            fh = open(lock_path, "a")
        except OSError as exc:
            raise OutputError(
                _("{out_dir}: cannot create the lock file ({strerror})").format(
                    out_dir=out_dir, strerror=exc.strerror
                )
            ) from exc
        logger.debug("waiting for the lock %s", lock_path)
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            current = os.stat(lock_path)
        except FileNotFoundError:
            current = None
        mine = os.fstat(fh.fileno())
        if current is not None and (current.st_ino, current.st_dev) == (mine.st_ino, mine.st_dev):
            break
        fh.close()  # the writer before us removed this file as it finished: lock the new one
    held.add(key)
    try:
        yield True
    finally:
        held.discard(key)
        with contextlib.suppress(OSError):
            os.unlink(lock_path)
        fcntl.flock(fh, fcntl.LOCK_UN)
        fh.close()


class Staging:
    """A private folder inside ``out_dir`` whose contents are moved into place together.

    Write every output under :attr:`root` (``path(rel)`` makes a file's
    folder); :meth:`commit` then renames each file over its target, and a
    folder whose name has a suffix (a File Geodatabase ``.gdb``) whole over
    its predecessor. Nothing outside ``root`` changes until then.
    """

    def __init__(self, out_dir):
        self.out_dir = Path(out_dir)
        try:
            self.root = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=self.out_dir))
        except OSError as exc:
            raise OutputError(_describe_os_error(exc, self.out_dir / "x")) from exc
        self.written: list[Path] = []  # after a commit, what it moved into place

    def path(self, rel) -> Path:
        """Return where to write the output ``rel`` (relative to the output folder)."""
        p = self.root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        return p

    def final(self, staged) -> Path:
        """Return where a path inside :attr:`root` ends up after :meth:`commit`."""
        return self.out_dir / Path(staged).relative_to(self.root)

    def target_of(self, exc: OSError) -> Path:
        """Return the output an error was about (a file in the output folder)."""
        name = Path(exc.filename) if exc.filename else None
        if name is not None and name.is_relative_to(self.root):
            return self.final(name)
        return name if name is not None else self.out_dir

    def commit(self) -> list[Path]:
        """Move everything staged into place; return the final paths, sorted."""
        done = []
        self._move(self.root, self.out_dir, done)
        return sorted(done)

    def _move(self, src_dir: Path, dst_dir: Path, done: list) -> None:
        for src in sorted(src_dir.iterdir()):
            dst = dst_dir / src.name
            if src.is_dir() and not src.suffix:
                dst.mkdir(exist_ok=True)
                self._move(src, dst, done)
            elif src.is_dir():  # one dataset: swap it whole
                old = self.root / f".old-{src.name}"
                if dst.exists():
                    os.replace(dst, old)
                os.replace(src, dst)
                _remove(old)
                done.append(dst)
            else:
                os.replace(src, dst)
                done.append(dst)

    def discard(self) -> None:
        """Remove the staging folder and whatever is still in it."""
        shutil.rmtree(self.root, ignore_errors=True)


def remove_stale_staging(out_dir) -> None:
    """Remove staging folders of writers that were killed (call it holding the lock)."""
    for stale in Path(out_dir).glob(f"{STAGING_PREFIX}*"):
        if stale.is_dir():
            logger.info("removing %s left by an interrupted run", stale.name)
            shutil.rmtree(stale, ignore_errors=True)


@contextlib.contextmanager
def staged_outputs(out_dir):
    """Stage a command's outputs in ``out_dir``; they appear together or not at all.

    Holds the folder's lock (:func:`locked`) and removes what killed runs left
    (:func:`remove_stale_staging`). On success the staged files are moved into
    place (:meth:`Staging.commit`, whose list is then ``stage.written``); on any
    failure nothing in ``out_dir`` changes, and an :class:`OSError` (a full disk)
    becomes an :class:`~gongshu_geo.OutputError` saying so.

    Parameters
    ----------
    out_dir : str or Path
        The output folder, created if needed.

    Yields
    ------
    Staging
    """
    out_dir = ensure_dir(out_dir)
    with locked(out_dir) as fresh:
        if fresh:
            remove_stale_staging(out_dir)
        stage = Staging(out_dir)
        try:
            yield stage
            stage.written = stage.commit()
        except OSError as exc:
            raise OutputError(_describe_os_error(exc, stage.target_of(exc))) from exc
        finally:
            stage.discard()


@contextlib.contextmanager
def atomic_fileset(targets):
    """Write several files that belong together (a Shapefile set) atomically.

    Yields a mapping target -> temporary path; all are renamed into place only
    when the block succeeds, and none when it fails (see :func:`staged_outputs`).
    """
    targets = [Path(t) for t in targets]
    if not targets:
        yield {}
        return
    folders = {t.parent for t in targets}
    if len(folders) != 1:
        raise OutputError(
            _("{path}: a file set must share one folder; found {n}").format(
                path=targets[0], n=len(folders)
            )
        )
    with staged_outputs(targets[0].parent) as stage:
        yield {t: stage.path(t.name) for t in targets}
