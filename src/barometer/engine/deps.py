"""Which files a report used, recorded inside its kernel.

The build engine calls :func:`install` in each forked kernel.  From then on
every file the notebook opens for reading under the tracked roots (data and
templates, plus the ``data_path`` given) is appended to a small text file,
one path a line; the engine turns that list into the report's dynamic
dependencies (path + sha256) in the cache.  Content files (``data/content``)
are recorded only when a report really shows an item (:func:`record`, called
by :class:`barometer.report.UnitReport` and, for the fact boxes it fills, by a
chapter), not because the content library read them all, so changing one case
rebuilds only the reports that show it (a chapter marks its cases, and the build
fills the marks in when it renders the page: :func:`barometer.content.fill_marks`).
"""

from __future__ import annotations

import os
import sys

_state: dict = {"fd": None, "seen": set(), "roots": (), "skip": (), "busy": False}


def _write(path: str) -> None:
    if path in _state["seen"] or _state["fd"] is None:
        return
    _state["seen"].add(path)
    _state["busy"] = True
    try:
        os.write(_state["fd"], (path + "\n").encode("utf-8", "surrogateescape"))
    finally:
        _state["busy"] = False


def record(path) -> None:
    """Record that the running report used ``path`` (any file)."""
    if _state["fd"] is None:
        return
    _write(os.path.abspath(os.fspath(path)))


def _hook(event: str, args) -> None:
    if event != "open" or _state["busy"] or _state["fd"] is None:
        return
    try:
        path, mode, flags = args
        if not isinstance(path, (str, bytes)) or isinstance(path, bytes):
            return
        if isinstance(mode, str) and any(c in mode for c in "wax+"):
            return
        if isinstance(flags, int) and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT):
            return
        p = os.path.abspath(path)
        if not p.startswith(_state["roots"]) or p.startswith(_state["skip"]):
            return
        if os.path.isfile(p):
            _write(p)
    except Exception:  # noqa: BLE001 - an audit hook must never break the notebook
        pass


def install(out_file: str, roots: list[str], skip: list[str]) -> None:
    """Start recording into ``out_file`` (called once, where the notebook runs)."""
    _state["fd"] = os.open(out_file, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    _state["roots"] = tuple(os.path.join(os.path.abspath(r), "") if os.path.isdir(r) else os.path.abspath(r)
                            for r in roots)
    _state["skip"] = tuple(os.path.join(os.path.abspath(s), "") for s in skip)
    sys.addaudithook(_hook)


def stop() -> None:
    """Stop recording (the notebook has run; what this process reads next is not the report's)."""
    fd, _state["fd"] = _state["fd"], None
    if fd is not None:
        os.close(fd)
