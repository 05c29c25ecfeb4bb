"""Chart rendering for forked reports: one warm vl-convert per worker.

vl-convert starts a JavaScript runtime on its first call (~2.5 s) and keeps
threads, which a forked process does not inherit; so a warm worker cannot
warm it up for its forks.  Instead each worker starts this small server
(``python -m barometer.engine.svgserver <socket>``), and the reports' kernels
send it their Vega-Lite specs (:func:`install` replaces
``vl_convert.vegalite_to_svg`` / ``vegalite_to_png`` by proxies).  The SVG
is made by the same vl-convert, so it is the same as a local call.

The server keeps what it made (:class:`Memo`): in memory (least recently
used first out past :data:`MEMO_BYTES`; the preview's and the build server's
workers serve build after build) and, when the build gives it one, in the
cache's chart store (:class:`Store`, ``<cache>/charts/``: shared by all
workers and later builds; ``--force`` draws every chart again: its jobs carry
``fresh_charts``, and a worker that outlived an earlier build makes its
server :func:`forget` what it kept).  A chapter that runs again after a text
edit gets its unchanged charts back at once.  The key is the call and its
arguments, exactly (a spec as canonical JSON), and vl-convert's version;
vl-convert's output depends on nothing else, so a kept result is the bytes
a new call would make.
"""

from __future__ import annotations

import collections
import hashlib
import json
import os
import sys
from multiprocessing.connection import Client, Listener

FUNCTIONS = ("vegalite_to_svg", "vegalite_to_png", "svg_to_png")
MEMO_BYTES = 64 * 2 ** 20  # a few editions' charts in every layout, SVG and PNG
_conn: dict = {}
#: in a report's kernel: the chart servers of idle workers it may use besides its own
#: (address, authkey), for :func:`map_call`
_HELPERS: list = []


class Store:
    """Drawn charts on disk: ``<root>/<key[:2]>/<key>``, each file a type byte (``s``
    text, ``b`` bytes), the sha256 of the payload, a newline and the payload.  Written
    whole (a temporary file renamed into place); a file that does not check is a miss.
    The report cache owns the folder (its size limit, leftovers, ``--clean-cache``)."""

    def __init__(self, root):
        self.root = str(root)

    def _path(self, key: str) -> str:
        return os.path.join(self.root, key[:2], key)

    def get(self, key: str) -> str | bytes | None:
        path = self._path(key)
        try:
            with open(path, "rb") as f:
                data = f.read()
            os.utime(path)  # its last use, for the cache's least-recently-used eviction
        except OSError:
            return None
        kind, digest, payload = data[:1], data[1:65], data[66:]
        if kind not in (b"s", b"b") or data[65:66] != b"\n" or hashlib.sha256(payload).hexdigest().encode() != digest:
            return None
        return payload.decode("utf-8") if kind == b"s" else payload

    def put(self, key: str, value: str | bytes) -> None:
        payload = value.encode("utf-8") if isinstance(value, str) else value
        data = (b"s" if isinstance(value, str) else b"b") + hashlib.sha256(payload).hexdigest().encode() + b"\n" + payload
        path = self._path(key)
        tmp = os.path.join(os.path.dirname(path), f".{key}.tmp-{os.getpid()}")
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(tmp, "wb") as f:
                f.write(data)
            os.replace(tmp, path)
        except OSError:  # e.g. the disk is full: the chart is simply drawn again next time
            try:
                os.unlink(tmp)
            except OSError:
                pass


class Memo:
    """Results of calls by their exact arguments, at most ``max_bytes`` of them in
    memory, and all of them in ``store`` when given (a :class:`Store`)."""

    def __init__(self, max_bytes: int = MEMO_BYTES, store: Store | None = None, version: str = ""):
        self.max_bytes, self.bytes = max_bytes, 0
        self.items: collections.OrderedDict[str, str | bytes] = collections.OrderedDict()
        self.hits = self.misses = 0
        self.store, self.version = store, version

    def key(self, fn: str, args: tuple, kwargs: dict) -> str:
        text = json.dumps([self.version, fn, args, kwargs], sort_keys=True, ensure_ascii=False, separators=(",", ":"),
                          default=lambda o: {"bytes": o.hex()} if isinstance(o, bytes) else repr(o))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def call(self, fn: str, args: tuple, kwargs: dict, make):
        k = self.key(fn, args, kwargs)
        hit = self.items.get(k)
        if hit is not None:
            self.items.move_to_end(k)
            self.hits += 1
            return hit
        value = self.store.get(k) if self.store is not None else None
        if value is not None:
            self.hits += 1
        else:
            self.misses += 1
            value = make(*args, **kwargs)
            if self.store is not None:
                self.store.put(k, value)
        self._keep(k, value)
        return value

    def forget(self) -> None:
        """Forget what is kept in memory (the chart store is not this server's to empty)."""
        self.items.clear()
        self.bytes = 0

    def _keep(self, k: str, value) -> None:
        size = len(value)
        if size <= self.max_bytes // 4:
            self.items[k] = value
            self.bytes += size
            while self.bytes > self.max_bytes:
                _, old = self.items.popitem(last=False)
                self.bytes -= len(old)


def _exit_with_parent() -> None:
    """Stop when the worker that started us is gone (even if it was killed)."""
    import threading
    import time

    parent = os.getppid()

    def watch():
        while os.getppid() == parent:
            time.sleep(1)
        os._exit(0)

    threading.Thread(target=watch, daemon=True).start()


def serve(address: str, authkey: bytes, store_dir: str = "") -> None:
    """Answer the reports' vl-convert calls; ``store_dir``: the cache's chart store (none: memory only)."""
    _exit_with_parent()
    import vl_convert as vlc

    vlc.vegalite_to_svg({"mark": "point", "data": {"values": [{"x": 1}]}, "encoding": {"x": {"field": "x"}}})
    memo = Memo(store=Store(store_dir) if store_dir else None, version=getattr(vlc, "__version__", ""))
    with Listener(address, family="AF_UNIX", authkey=authkey) as listener:
        print("ready", flush=True)
        while True:
            try:
                conn = listener.accept()
            except (OSError, EOFError):
                continue
            with conn:
                while True:
                    try:
                        fn, args, kwargs = conn.recv()
                    except (EOFError, OSError):
                        break
                    try:
                        if fn == "forget":  # a --force build on a worker that outlives builds: draw again
                            memo.forget()
                            conn.send((True, None))
                            continue
                        if fn not in FUNCTIONS:
                            raise ValueError(f"unknown function {fn!r}")
                        conn.send((True, memo.call(fn, args, kwargs, getattr(vlc, fn))))
                    except Exception as exc:  # noqa: BLE001 - sent back and raised in the report
                        conn.send((False, (type(exc).__name__, str(exc))))


def forget(address: str, authkey: bytes) -> None:
    """Tell the server at ``address`` to forget the charts it keeps in memory."""
    with Client(address, family="AF_UNIX", authkey=authkey) as conn:
        conn.send(("forget", (), {}))
        conn.recv()


def install(address: str, authkey: bytes, helpers=()) -> None:
    """In a report's kernel: send vl-convert calls to the worker's server; ``helpers``:
    ``[address, authkey hex]`` of idle workers' servers, for :func:`map_call`."""
    import vl_convert as vlc

    _HELPERS[:] = [(a, bytes.fromhex(k)) for a, k in helpers if a != address]

    originals = {fn: getattr(vlc, fn) for fn in FUNCTIONS}

    def proxy(fn):
        def call(*args, **kwargs):
            try:
                conn = _conn.get("c")
                if conn is None:
                    conn = _conn["c"] = Client(address, family="AF_UNIX", authkey=authkey)
                conn.send((fn, args, kwargs))
                ok, value = conn.recv()
            except (OSError, EOFError):
                _conn.pop("c", None)
                return originals[fn](*args, **kwargs)  # server gone: render here (slower, same result)
            if ok:
                return value
            raise _error(value)

        call.__name__ = call.__qualname__ = fn
        call.__doc__ = originals[fn].__doc__
        return call

    for fn in FUNCTIONS:
        setattr(vlc, fn, proxy(fn))


def map_call(fn: str, calls: list[tuple]) -> list:
    """``vl_convert.<fn>(*args)`` for each ``args`` of ``calls``, the results in order: the
    same as calling them one after another (the first error is raised), but shared between
    this kernel's chart server and the idle workers' (:data:`_HELPERS`), which draw at the
    same time.  A helper that cannot be reached, or fails, leaves its calls to the others."""
    import vl_convert as vlc

    own = getattr(vlc, fn)  # this kernel's proxy (a local call where there is no server)
    if len(calls) < 2 or not _HELPERS:
        return [own(*args) for args in calls]
    import threading

    results: list = [None] * len(calls)
    todo = list(range(len(calls)))[::-1]  # popped from the end: in order
    left = [len(calls)]
    cv = threading.Condition()

    def take():
        with cv:
            return todo.pop() if todo else None

    def done(i, value):
        with cv:
            results[i] = value
            left[0] -= 1
            cv.notify_all()

    def helper(address, authkey):
        i = None
        try:
            with Client(address, family="AF_UNIX", authkey=authkey) as conn:
                while (i := take()) is not None:
                    conn.send((fn, calls[i], {}))
                    ok, value = conn.recv()
                    done(i, (ok, value if ok else _error(value)))
                    i = None
        except (OSError, EOFError):
            if i is not None:
                with cv:
                    todo.append(i)  # ours again
                    cv.notify_all()

    for address, authkey in _HELPERS:
        threading.Thread(target=helper, args=(address, authkey), daemon=True, name="chart-helper").start()
    while True:
        i = take()
        if i is not None:
            try:
                done(i, (True, own(*calls[i])))
            except Exception as exc:  # noqa: BLE001 - raised below, in order
                done(i, (False, exc))
            continue
        with cv:
            if left[0] == 0:
                break
            cv.wait(0.05)
    out = []
    for ok, value in results:
        if not ok:
            raise value
        out.append(value)
    return out


def _error(sent: tuple) -> ValueError:
    """The error a server sent back (its type's name and message), to raise in the report."""
    return ValueError(f"{sent[0]}: {sent[1]}")


if __name__ == "__main__":
    serve(sys.argv[1], bytes.fromhex(os.environ["BAROMETER_SVG_KEY"]), sys.argv[2] if len(sys.argv) > 2 else "")
