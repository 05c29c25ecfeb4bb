"""Chart rendering for forked reports: one warm vl-convert per worker.

vl-convert starts a JavaScript runtime on its first call (~2.5 s) and keeps
threads, which a forked process does not inherit; so a warm worker cannot
warm it up for its forks.  Instead each worker starts this small server
(``python -m barometer.engine.svgserver <socket>``), and the reports' kernels
send it their Vega-Lite specs (:func:`install` replaces
``vl_convert.vegalite_to_svg`` / ``vegalite_to_png`` by proxies).  The SVG
is made by the same vl-convert, so it is the same as a local call.
"""

from __future__ import annotations

import os
import sys
from multiprocessing.connection import Client, Listener

FUNCTIONS = ("vegalite_to_svg", "vegalite_to_png")
_conn: dict = {}


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


def serve(address: str, authkey: bytes) -> None:
    _exit_with_parent()
    import vl_convert as vlc

    vlc.vegalite_to_svg({"mark": "point", "data": {"values": [{"x": 1}]}, "encoding": {"x": {"field": "x"}}})
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
                        if fn not in FUNCTIONS:
                            raise ValueError(f"unknown function {fn!r}")
                        conn.send((True, getattr(vlc, fn)(*args, **kwargs)))
                    except Exception as exc:  # noqa: BLE001 - sent back and raised in the report
                        conn.send((False, (type(exc).__name__, str(exc))))


def install(address: str, authkey: bytes) -> None:
    """In a report's kernel: send vl-convert calls to the worker's server."""
    import vl_convert as vlc

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
            raise ValueError(f"{value[0]}: {value[1]}")

        call.__name__ = call.__qualname__ = fn
        call.__doc__ = originals[fn].__doc__
        return call

    for fn in FUNCTIONS:
        setattr(vlc, fn, proxy(fn))


if __name__ == "__main__":
    serve(sys.argv[1], bytes.fromhex(os.environ["BAROMETER_SVG_KEY"]))
