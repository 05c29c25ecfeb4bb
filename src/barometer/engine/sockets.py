"""Where the engine's Unix sockets live: a short private folder, whatever TMPDIR is.

A Unix socket's path must fit ``sun_path``: 108 bytes on Linux (104 on
macOS), the closing NUL included.  The forked kernels talk to nbclient over
ipc sockets named ``<ip>-<port>`` and the warm worker's chart server listens
on one, so a long ``TMPDIR`` (82 characters is enough) made every kernel fail
with ``ZMQError: File name too long``.  :func:`socket_dir` makes one folder
per process (mode 0700: only this user can connect), under ``TMPDIR`` when
its path is short enough and otherwise under ``/tmp`` (or ``/var/tmp``,
``/dev/shm``), and removes it when the process that made it exits (folders of processes
that were killed are removed by the next one).  Forks (the
reports' processes and their kernels) use their parent's folder: every
socket in it has a unique name, and a fork never removes it.
"""

from __future__ import annotations

import atexit
import os
import re
import shutil
import stat
import sys
import tempfile

from ..errors import BuildError

#: Longest socket path this platform takes (sun_path without its closing NUL).
SOCKET_PATH_MAX = 103 if sys.platform == "darwin" else 107
#: Room a folder leaves for the names put in it (``k<12 hex>-<port>``, ``svg``).
NAME_ROOM = 24
_PREFIX = "barometer-s"  # + the maker's pid + "-" + 8 random characters
_STALE = re.compile(r"barometer-s(\d+)-[A-Za-z0-9_]{8}")
_FALLBACKS = ("/tmp", "/var/tmp", "/dev/shm")

_made: dict[str, object] = {}  # "path", and "pid" of the process that made it


def fits(path: str) -> bool:
    """Whether ``path`` is short enough to name a Unix socket."""
    return len(os.fsencode(path)) <= SOCKET_PATH_MAX


def candidates() -> list[str]:
    """The folders :func:`socket_dir` may use, in order: TMPDIR first, then the fallbacks."""
    out = []
    for base in (tempfile.gettempdir(), *_FALLBACKS):
        if base not in out:
            out.append(base)
    return out


def socket_dir() -> str:
    """This process's private folder for Unix sockets (created on first use).

    Its path plus :data:`NAME_ROOM` characters always :func:`fits`; a
    :class:`~barometer.errors.BuildError` says what to do if no candidate
    folder is short enough and writable."""
    made = _made.get("path")
    if made and os.path.isdir(made):  # this process's, or (in a fork) its parent's: names are unique
        return made
    prefix = f"{_PREFIX}{os.getpid()}-"
    # "/" + prefix + 8 random characters from mkdtemp + "/" + a name
    need = 1 + len(prefix) + 8 + 1 + NAME_ROOM
    tried = []
    for base in candidates():
        if len(os.fsencode(base)) + need > SOCKET_PATH_MAX:
            tried.append(f"{base} (path too long)")
            continue
        clean_stale(base)
        try:
            path = tempfile.mkdtemp(prefix=prefix, dir=base)  # mode 0700
        except OSError as exc:
            tried.append(f"{base} ({exc.strerror or exc})")
            continue
        _made.update(path=path, pid=os.getpid())
        atexit.register(_remove, os.getpid(), path)
        return path
    raise BuildError("no folder for the kernels' sockets: " + "; ".join(tried)
                     + f"; set TMPDIR to a writable folder whose path has at most "
                       f"{SOCKET_PATH_MAX - need} characters")


def socket_path(name: str) -> str:
    """A path for the socket ``name`` in :func:`socket_dir` (checked to fit)."""
    path = os.path.join(socket_dir(), name)
    if not fits(path + "-65535"):
        raise BuildError(f"socket name {name!r} is too long for a Unix socket path ({path})")
    return path


def clean_stale(base: str) -> list[str]:
    """Remove the socket folders in ``base`` that a process now gone made
    (a worker that was killed cannot remove its own); only this user's."""
    removed = []
    try:
        entries = list(os.scandir(base))
    except OSError:
        return removed
    for entry in entries:
        m = _STALE.fullmatch(entry.name)
        if not m or _alive(int(m.group(1))):
            continue
        try:
            st = os.lstat(entry.path)
        except OSError:
            continue
        if stat.S_ISDIR(st.st_mode) and st.st_uid == os.getuid():
            shutil.rmtree(entry.path, ignore_errors=True)
            removed.append(entry.path)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True  # another user's process, or not a pid: leave it
    return True


def _remove(pid: int, path: str) -> None:
    if os.getpid() == pid:  # a fork inherits the handler: only the maker removes the folder
        shutil.rmtree(path, ignore_errors=True)
        if _made.get("path") == path:
            _made.clear()
