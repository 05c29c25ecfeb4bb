"""``build.py --serve``: the researcher's preview of one edition's website.

A local HTTP server on 127.0.0.1 serves the built website (no PDF) of the
chosen edition, country and language from its output folder.  It watches
``notebooks/``, ``data/``, ``report_templates/`` and the package's code
(``src/barometer``); a saved change starts the normal build (``build.py
--no-pdf``), which takes every unchanged chapter from the cache.  The builds
run in one build process that stays warm between them (the stack imported,
the workers started, the datasets loaded: :mod:`.previewhost`); a change to
the package's code starts a fresh one, so that it counts too.  An open page
reloads itself when a build has published: a small script, added to the HTML
pages only as this server sends them (never written into the built files),
asks ``/__barometer/state`` twice a second.  A failed build shows its one
line (which notebook, cell, message) on top of the page and in the terminal;
the last good site stays served, and the server keeps watching.

Ctrl-C (or SIGTERM) stops a build that is running (its own clean-up removes
its temporary folder, as for any interrupted build: :mod:`barometer.engine.lifetime`)
and the server; nothing is left behind.  This module writes no files.
"""

from __future__ import annotations

import html
import json
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from ..engine import lifetime
from ..errors import InputError
from ..paths import DATA_DIR, NOTEBOOK_DIR, PACKAGE_DIR, SYNTH_DIR, TEMPLATE_DIR

#: what the preview watches; the synthetic samples under data/synthetic are a build's product, not an input
WATCHED = (NOTEBOOK_DIR, DATA_DIR, TEMPLATE_DIR, PACKAGE_DIR)
SKIPPED = (SYNTH_DIR,)
STATE_PATH = "/__barometer/state"
DEFAULT_PORT = 8000
POLL_SECONDS = 0.1    # how often the folders are looked at (a look takes ~2 ms)
SETTLE_SECONDS = 0.1   # an editor's save is often several writes: wait until they stop
RELOAD_POLL_MS = 100   # how often the open page asks whether a new build is published (a local request: ~1 ms)

#: added before ``</body>`` of every HTML page the preview sends (only there)
RELOAD_SCRIPT = """<script id="barometer-preview">(function () {
  var seen = %(version)d, box = null;
  function show(text) {
    if (!box) {
      box = document.createElement("div");
      box.setAttribute("role", "alert");
      box.style.cssText = "position:fixed;left:0;right:0;top:0;z-index:99999;padding:.6em 1em;" +
        "background:#7a1020;color:#fff;font:14px/1.4 monospace;white-space:pre-wrap";
      document.body.appendChild(box);
    }
    box.textContent = text;
  }
  function hide() { if (box) { box.remove(); box = null; } }
  function poll() {
    fetch("%(path)s", {cache: "no-store"}).then(function (r) { return r.json(); }).then(function (s) {
      if (s.version !== seen) { location.reload(); return; }
      if (s.error) { show("preview: the last build failed, this is the previous site\\n" + s.error); } else { hide(); }
      setTimeout(poll, %(poll_ms)d);
    }, function () { setTimeout(poll, 1000); });
  }
  setTimeout(poll, %(poll_ms)d);
})();</script>"""


# -- watching: pure functions over a snapshot of (mtime, size) per file ---------------------------
def _skipped_name(name: str) -> bool:
    return name.startswith(".") or name == "__pycache__" or name.endswith(("~", ".swp", ".pyc"))


def snapshot(roots=WATCHED, skip=SKIPPED) -> dict[str, tuple[int, int]]:
    """Every watched file -> (mtime in ns, size); hidden files and folders (an editor's
    ``.ipynb_checkpoints``, ``.~lock`` files), ``__pycache__`` and ``skip`` are left out."""
    skip = tuple(os.path.join(os.path.abspath(s), "") for s in skip)
    out: dict[str, tuple[int, int]] = {}
    for root in roots:
        for folder, dirs, files in os.walk(root):
            dirs[:] = [d for d in dirs if not _skipped_name(d)
                       and not os.path.join(os.path.abspath(os.path.join(folder, d)), "").startswith(skip)]
            for name in files:
                if _skipped_name(name):
                    continue
                path = os.path.join(folder, name)
                try:
                    st = os.stat(path)
                except OSError:  # removed between the listing and the stat
                    continue
                out[path] = (st.st_mtime_ns, st.st_size)
    return out


def changes(old: dict, new: dict) -> list[str]:
    """The files added, removed or changed between two snapshots, sorted."""
    return sorted({p for p in old.keys() | new.keys() if old.get(p) != new.get(p)})


def inject(page: bytes, version: int) -> bytes:
    """``page`` with the reload script before its last ``</body>`` (or at its end)."""
    script = (RELOAD_SCRIPT % {"version": version, "path": STATE_PATH, "poll_ms": RELOAD_POLL_MS}).encode("utf-8")
    at = page.lower().rfind(b"</body>")
    return page + script if at < 0 else page[:at] + script + page[at:]


def waiting_page(state: "State") -> bytes:
    text = html.escape(state.error or "the first build is running ...")
    return (f'<!doctype html><html lang="en"><meta charset="utf-8"><title>preview</title>'
            f"<body><p>{text}</p></body></html>").encode("utf-8")


def build_argv(argv: list[str]) -> list[str]:
    """The build's own options from ``build.py --serve``'s: ``--serve`` and
    ``--port`` taken out, ``--no-pdf`` and ``--quiet`` added."""
    out, skip = [], False
    for a in argv:
        if skip:
            skip = False
        elif a in ("--serve", "--no-pdf", "--quiet"):
            continue
        elif a == "--port":
            skip = True
        elif not a.startswith("--port="):
            out.append(a)
    return out + ["--no-pdf", "--quiet"]


def code_changed(paths, package_dir=PACKAGE_DIR) -> bool:
    """Whether one of ``paths`` is the package's code (then the build process starts afresh)."""
    root = os.path.join(os.path.abspath(package_dir), "")
    return any(os.path.abspath(p).startswith(root) for p in paths)


# -- the build process: warm between builds (barometer.build.previewhost) -------------------------
class BuildHost:
    """The preview's side of :mod:`.previewhost`: started on the first build and
    after :meth:`stop` (a change to the package's code), one JSON answer per build."""

    def __init__(self, argv: list[str]):
        self.argv = argv
        self.proc: subprocess.Popen | None = None
        self.ready = False  # it said it is ready (imported, warm)
        self.err = None

    def start(self) -> None:
        import tempfile

        env = dict(os.environ, PYTHONPATH=os.pathsep.join(
            [str(PACKAGE_DIR.parent)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]))
        self.err = tempfile.TemporaryFile("w+", encoding="utf-8")  # its messages, read when it ends unexpectedly
        self.proc = subprocess.Popen([sys.executable, "-m", "barometer.build.previewhost", *self.argv], env=env,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.err, text=True,
                                     bufsize=1)
        lifetime.register(self.proc)  # Ctrl-C: stop_children() ends it, and it cleans up after itself

    def build(self) -> dict:
        if self.proc is None or self.proc.poll() is not None:
            self.stop()
            self.start()
        line = ""
        try:
            if not self.ready:
                self.ready = bool(self.proc.stdout.readline())  # its first line: imported, ready
            if self.ready:
                self.proc.stdin.write("build\n")
                self.proc.stdin.flush()
                line = self.proc.stdout.readline()
        except (BrokenPipeError, OSError):
            line = ""
        if line:
            return json.loads(line)
        rc = self.proc.wait()  # it ended: its last message says why (e.g. a syntax error in the package)
        self.err.seek(0)
        lines = [ln for ln in self.err.read().splitlines() if ln.strip()]
        self.stop()
        return {"ok": False, "rc": rc, "error": lines[-1] if lines else f"the build ended with exit status {rc}"}

    def stop(self) -> None:
        """End the build process (it stops its workers); the next build starts a fresh one."""
        proc, self.proc, self.ready = self.proc, None, False
        if proc is not None:
            try:
                proc.stdin.close()
            except OSError:
                pass
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            proc.stdout.close()
        if self.err is not None:
            self.err.close()
            self.err = None


# -- state shared by the builder (main thread) and the server's threads ---------------------------
@dataclass
class State:
    site: Path
    version: int = 0           # +1 for every build that published (the pages reload)
    error: str = ""            # the last build's error line ("" when it succeeded)
    building: bool = False
    builds: list = field(default_factory=list)  # (seconds, ok) per build, for the benchmark and the log

    def as_json(self) -> bytes:
        return json.dumps({"version": self.version, "error": self.error, "building": self.building,
                           "builds": len(self.builds)}).encode("utf-8")


def _handler(state: State):
    class Handler(SimpleHTTPRequestHandler):
        def __init__(self, *a, **kw):
            super().__init__(*a, directory=str(state.site), **kw)

        def log_message(self, format, *args):  # noqa: A002 - the preview's terminal shows builds, not requests
            pass

        def end_headers(self):
            self.send_header("Cache-Control", "no-store")
            super().end_headers()

        def _send(self, body: bytes, ctype: str, status: int = 200) -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def do_HEAD(self):
            self.do_GET()

        def do_GET(self):
            if self.path.split("?")[0] == STATE_PATH:
                return self._send(state.as_json(), "application/json")
            path = Path(self.translate_path(self.path))
            if path.is_dir():
                path = path / "index.html"
            if path.suffix == ".html":
                version = state.version
                try:
                    page = path.read_bytes()
                except OSError:
                    if not state.version:  # nothing built yet
                        return self._send(inject(waiting_page(state), version), "text/html; charset=utf-8")
                    return self.send_error(404)
                return self._send(inject(page, version), "text/html; charset=utf-8")
            return super().do_HEAD() if self.command == "HEAD" else super().do_GET()

    return Handler


class Preview:
    """The server and the builder.  :meth:`run` builds once, then rebuilds after every change until stopped."""

    def __init__(self, site: Path, argv: list[str], port: int = DEFAULT_PORT, log=print):
        self.state = State(site=Path(site))
        self.argv = build_argv(argv)
        self.host = BuildHost(self.argv)
        self.log = log
        try:
            self.httpd = ThreadingHTTPServer(("127.0.0.1", port), _handler(self.state))
        except OSError as exc:
            raise InputError(f"--port {port}: cannot listen on 127.0.0.1:{port} ({exc.strerror or exc}); "
                             "choose another port") from None
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self._thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.2},
                                        name="preview-http", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def build_once(self) -> bool:
        """One build by the warm build process (started when there is none); True when it published."""
        self.state.building = True
        t0 = time.perf_counter()
        try:
            res = self.host.build()
        finally:
            self.state.building = False
        seconds = time.perf_counter() - t0
        self.state.builds.append((seconds, res["ok"]))
        if res["ok"]:
            self.state.error = ""
            self.state.version += 1
            self.log(f"preview: built in {seconds:.1f} s; {self.url}")
        else:
            self.state.error = res["error"]
            self.log(f"preview: {self.state.error} [still serving the last good site]")
        return res["ok"]

    def _wait_for_change(self, before: dict) -> dict:
        while True:
            time.sleep(POLL_SECONDS)
            now = snapshot()
            if changes(before, now):
                while True:  # until the writes stop
                    time.sleep(SETTLE_SECONDS)
                    settled = snapshot()
                    if settled == now:
                        return now
                    now = settled

    def run(self) -> int:
        self._thread.start()
        self.log(f"preview: serving {self.state.site} on {self.url} (Ctrl-C stops)")
        try:
            before = snapshot()
            self.build_once()
            while True:
                after = snapshot()
                if not changes(before, after):  # nothing changed while the build ran: wait for a change
                    after = self._wait_for_change(after)
                    what = changes(before, after)
                    self.log(f"preview: {os.path.relpath(what[0])}" + (f" and {len(what) - 1} more" if len(what) > 1
                                                                       else "") + " changed, building ...")
                if code_changed(changes(before, after)):  # the package's code is loaded once per build process
                    self.host.stop()
                before = after
                self.build_once()
        finally:
            self.host.stop()
            self.httpd.shutdown()
            self.httpd.server_close()


def serve(site: Path, argv: list[str], port: int) -> int:
    """``build.py --serve``: run the preview until Ctrl-C; the exit status is 130 (143 for SIGTERM)."""
    preview = Preview(site, argv, port)
    try:
        preview.run()
    except lifetime.Interrupted as exc:
        print(f"preview stopped ({exc})", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("preview stopped", file=sys.stderr)
        return 130
    return 0
