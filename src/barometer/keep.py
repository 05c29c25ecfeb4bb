"""Results a long-lived process keeps from one build for the next.

A build's process normally lives for one build.  The preview's build process
(:mod:`barometer.build.previewhost`) outlives many, and calls :func:`enable`;
then a function decorated with :func:`kept` returns what it returned before
for the same *key*, which its ``key`` function computes from the arguments
and the stamps (path, mtime, size) of every file the result depends on, so
that a changed file is a new key, never a stale result.  Off (the default:
every ordinary build), the functions simply run.

Results are shared, not copied: only results their callers never change are kept.
"""

from __future__ import annotations

import functools
import os

MAX_ENTRIES = 128  # the oldest go first (a preview session's edits make new keys)
_ON = [False]
_MEMO: dict = {}


def enable(on: bool = True) -> None:
    """Keep results in this process from now on (off: forget them and stop keeping)."""
    _ON[0] = on
    _MEMO.clear()


def enabled() -> bool:
    return _ON[0]


def stamps(*roots) -> tuple:
    """(path, mtime in ns, size) of each file under (or at) ``roots``, sorted; a missing one has -1s."""
    out = []
    for root in roots:
        root = str(root)
        if os.path.isdir(root):
            for folder, dirs, files in os.walk(root):
                dirs[:] = [d for d in dirs if d != "__pycache__"]
                for name in files:
                    out.append(_stamp(os.path.join(folder, name)))
        else:
            out.append(_stamp(root))
    return tuple(sorted(out))


def _stamp(path: str) -> tuple:
    try:
        st = os.stat(path)
    except OSError:
        return (path, -1, -1)
    return (path, st.st_mtime_ns, st.st_size)


def kept(key):
    """Decorator: while :func:`enabled`, ``fn(*args)`` is computed once per ``key(*args)``
    (which must name every input of the result: arguments, file stamps, content digests)."""

    def deco(fn):
        @functools.wraps(fn)
        def wrapper(*args, **kw):
            if not _ON[0]:
                return fn(*args, **kw)
            k = (fn.__module__, fn.__qualname__, key(*args, **kw))
            hit = _MEMO.get(k)
            if hit is not None:
                return hit[0]
            value = fn(*args, **kw)
            _MEMO[k] = (value, args)  # the arguments stay alive: an id() in a key is never reused
            while len(_MEMO) > MAX_ENTRIES:
                _MEMO.pop(next(iter(_MEMO)))
            return value

        return wrapper

    return deco
