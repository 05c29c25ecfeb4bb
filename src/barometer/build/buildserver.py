"""``build.py --warm``: build through a build process that stays warm between builds.

A build from the command line starts a Python process that imports pandas,
the survey code and WeasyPrint, starts two warm workers (each imports the
notebook stack and loads the sample) and loads the sample itself: ~2 s of
every build before its first chapter runs, and more again for the PDF's
first layout.  With ``--warm`` (or ``BAROMETER_WARM=1``) ``build.py`` hands its
options to this checkout's **build server** instead, which keeps all of that
between builds (the preview's :class:`.previewhost.Host`: its warm workers,
the datasets while their files are unchanged, what :mod:`barometer.keep`
keeps), and prints what the build prints.  The build is the normal one: the
same plan, cache keys, outputs, manifest and exit status; every report still
runs in a fork of its own.

* **Which server.** One per checkout, Python, working directory, package code
  and environment (the ``BAROMETER_*`` variables, the locale, ``TZ``,
  ``PYTHONPATH``): :func:`identity`, hashed into its socket's name under a
  private folder (mode 0700).  A client whose identity differs starts a server
  of its own; a server whose package code changed ends itself.
* **Its lifetime.** It starts on first use (detached, its messages in
  ``<cache>/logs/build-server.log``) and ends when no build came for
  ``BAROMETER_WARM_IDLE`` seconds (default 900), when the package's code
  changes, with ``build.py --stop-server``, or when a build of it was
  interrupted.  Its workers end with it.
* **One build at a time**: a second client waits (and says so).
* **Interrupting.** Ctrl-C in ``build.py`` (or the client killed) interrupts
  the server's build the way Ctrl-C interrupts a build in-process: nothing is
  published and the previous output is unchanged; the server then ends.
* **What does not go through it**: ``--serve``, ``--site``, ``--executor
  dask``, ``--clean-cache``, ``--check-data``, ``--check-edition``,
  ``new-edition`` (they run in ``build.py`` as before).  If the server cannot
  be started, the build runs in-process and says why.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import signal
import socket
import sys
import threading
import time
from pathlib import Path

#: the environment a build can depend on: a server is only used by clients with the same
ENV_PREFIXES = ("BAROMETER_", "LC_")
ENV_NAMES = ("LANG", "LANGUAGE", "TZ", "PYTHONPATH", "PYTHONHASHSEED", "SOURCE_DATE_EPOCH", "PATH",
             "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
#: not part of the identity: they say how to reach or run the server, not what a build makes
ENV_IGNORED = ("BAROMETER_WARM", "BAROMETER_WARM_IDLE")
IDLE_DEFAULT = 900.0
#: how often an idle server looks at the package's code
CODE_POLL = 1.0
#: the package's files whose change ends a server (its code, schemas and templates)
CODE_SUFFIXES = (".py", ".json", ".yaml", ".j2")
#: the options that do not go through the server (they run in build.py)
NOT_SERVED = ("serve", "site", "clean_cache", "check_data", "check_edition")
PROTOCOL = 1


def wanted(args) -> bool:
    """Whether ``build.py``'s parsed options ask for the build server."""
    return bool(getattr(args, "warm", False)) or os.environ.get("BAROMETER_WARM", "") not in ("", "0")


def served(args) -> bool:
    """Whether a build with these options goes through the server (an edition or a fan-out, local workers)."""
    return not any(getattr(args, name, None) for name in NOT_SERVED) and getattr(args, "executor", "local") != "dask"


def code_stamp() -> str:
    """The package's code as this process would load it: its files' paths, sizes and mtimes."""
    from ..paths import PACKAGE_DIR
    from .warmstate import stamps

    h = hashlib.sha256()
    for path, mtime, size in stamps([PACKAGE_DIR]):
        if path.endswith(CODE_SUFFIXES):
            h.update(f"{path}\0{mtime}\0{size}\n".encode())
    return h.hexdigest()


def identity(environ=None, cwd: str | None = None) -> dict:
    """What a server must share with its client for a build through it to be the same build."""
    from ..paths import ROOT

    environ = os.environ if environ is None else environ
    env = {k: v for k, v in sorted(environ.items())
           if (k.startswith(ENV_PREFIXES) or k in ENV_NAMES) and k not in ENV_IGNORED}
    return {"protocol": PROTOCOL, "python": sys.executable, "root": str(ROOT),
            "cwd": cwd or os.getcwd(), "env": env, "code": code_stamp()}


def server_key(ident: dict) -> str:
    return hashlib.sha256(json.dumps(ident, sort_keys=True).encode()).hexdigest()[:20]


def server_dir() -> Path:
    """This user's folder of build-server sockets (0700), short enough for a socket path."""
    from ..engine.sockets import candidates, fits

    name = f"barometer-build-{os.getuid()}"
    for base in candidates():
        d = Path(base) / name
        if not fits(str(d / ("x" * 26))):
            continue
        try:
            d.mkdir(mode=0o700, exist_ok=True)
            st = d.stat()
        except OSError:
            continue
        if st.st_uid == os.getuid() and not (st.st_mode & 0o077):
            return d
    from ..errors import BuildError

    raise BuildError("no private folder for the build server's socket (TMPDIR, /tmp); build without --warm")


def socket_path(key: str) -> Path:
    return server_dir() / f"{key}.sock"


def idle_seconds() -> float:
    try:
        return max(1.0, float(os.environ.get("BAROMETER_WARM_IDLE", IDLE_DEFAULT)))
    except ValueError:
        return IDLE_DEFAULT


# -- the framing: one JSON object a line ---------------------------------------------------------
def _send(sock: socket.socket, lock: threading.Lock, obj: dict) -> bool:
    data = (json.dumps(obj) + "\n").encode("utf-8")
    with lock:
        try:
            sock.sendall(data)
            return True
        except OSError:
            return False


class _Stream:
    """A text stream whose writes go to the client as ``{"out": ...}`` or ``{"err": ...}``."""

    def __init__(self, sock, lock, kind: str):
        self.sock, self.lock, self.kind = sock, lock, kind
        self.encoding = "utf-8"

    def write(self, text: str) -> int:
        if text:
            _send(self.sock, self.lock, {self.kind: text})
        return len(text)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False

    def fileno(self) -> int:
        raise OSError("the build server's output is not a file")


# -- the server ------------------------------------------------------------------------------------
class Server:
    """This checkout's warm builds: one :class:`.previewhost.Host` per set of options (the last
    :data:`MAX_HOSTS` used), each with its warm workers."""

    MAX_HOSTS = 2

    def __init__(self, key: str, ident: dict):
        self.key, self.ident = key, ident
        self.hosts: dict[tuple, object] = {}
        self.last = time.monotonic()
        self.built = None  # the host of the last build, when it succeeded
        self.builds = 0

    def host(self, argv: list[str]):
        from ..cli import parser
        from .config import from_args
        from .previewhost import Host

        k = tuple(argv)
        h = self.hosts.pop(k, None)
        if h is None:
            while len(self.hosts) >= self.MAX_HOSTS:
                oldest = next(iter(self.hosts))
                self.hosts.pop(oldest).close()
            h = Host(from_args(parser().parse_args(argv)), kind="server")
        self.hosts[k] = h  # the most recently used last
        return h

    def close(self) -> None:
        for h in self.hosts.values():
            h.close()
        self.hosts.clear()

    def serve_one(self, conn: socket.socket) -> int | None:
        """One client's request; returns the build's exit status (None: it was not a build)."""
        lock = threading.Lock()
        f = conn.makefile("rb")
        line = f.readline()
        try:
            req = json.loads(line) if line else {}
        except ValueError:
            req = {}
        if req.get("stop"):  # its workers end first: once answered, nothing of it runs a report
            self.close()
            _send(conn, lock, {"stopping": os.getpid()})
            raise SystemExit(0)
        if req.get("key") != self.key or "argv" not in req:
            _send(conn, lock, {"refused": "another build's server"})
            return None
        self.builds += 1
        _send(conn, lock, {"started": os.getpid(), "build": self.builds})
        done = threading.Event()

        def watch() -> None:  # the client gone (Ctrl-C, killed) before the build ended: interrupt it
            try:
                while not done.is_set():
                    if not f.read1(65536) and not done.is_set():
                        os.kill(os.getpid(), signal.SIGINT)
                        return
            except (OSError, ValueError):
                if not done.is_set():
                    os.kill(os.getpid(), signal.SIGINT)

        threading.Thread(target=watch, name="barometer-client-watch", daemon=True).start()
        rc = 1
        try:
            rc = self.build(req["argv"], conn, lock)
        finally:
            done.set()
            _send(conn, lock, {"rc": rc})
        return rc

    def build(self, argv: list[str], conn, lock) -> int:
        """The build, its messages to the client; its exit status (as ``build.py`` would exit)."""
        from ..cli import reported
        from ..engine import lifetime

        out, err = _Stream(conn, lock, "out"), _Stream(conn, lock, "err")
        used = []

        def one() -> int:
            try:
                h = self.host(argv)
            except SystemExit as exc:  # argparse said what is wrong (the client checked the options already)
                return exc.code if isinstance(exc.code, int) else 2
            used.append(h)
            return h.run()

        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            lifetime.install_signal_handlers()
            rc = reported(one)
        self.built = used[0] if used and rc == 0 else None
        return rc


def _loop(srv: Server, listener: socket.socket, path: Path) -> int:
    """Serve until idle; the heavy stack is imported by the first build (the server is ready
    before it: the first build imports it as a build in ``build.py`` would, lazily)."""
    from ..engine import lifetime

    listener.settimeout(CODE_POLL)
    code = srv.ident["code"]
    while True:
        try:
            conn, _ = listener.accept()
        except socket.timeout:
            if time.monotonic() - srv.last > idle_seconds():
                print("build server: idle, ending", file=sys.stderr)
                return 0
            if code_stamp() != code:
                print("build server: the package's code changed, ending", file=sys.stderr)
                return 0
            if not path.exists():
                print("build server: its socket was removed, ending", file=sys.stderr)
                return 0
            if not (os.path.isdir(srv.ident["root"]) and os.path.isdir(srv.ident["cwd"])):
                print("build server: its checkout is gone, ending", file=sys.stderr)
                return 0
            continue
        conn.settimeout(None)
        try:
            if code_stamp() != code:  # changed since the last poll: the client builds with a fresh server
                _send(conn, threading.Lock(), {"refused": "the package's code changed"})
                return 0
            rc = srv.serve_one(conn)
        except lifetime.Interrupted as exc:
            return exc.exit_code
        finally:
            with contextlib.suppress(OSError):
                conn.close()
            srv.last = time.monotonic()
        from .previewhost import INTERRUPTED

        if rc in INTERRUPTED:
            return rc
        h, srv.built = srv.built, None
        if h is not None and not h.warmed:  # its first good build: every worker loads the data now, in
            h.warmed = True                 # the background (one that ran nothing started none)
            with contextlib.suppress(Exception):
                h.warm_up()


def serve_main(key: str) -> int:
    """``python -m barometer.build.buildserver KEY``: listen on KEY's socket until idle."""
    from ..engine import lifetime

    ident = identity()
    if server_key(ident) != key:  # started for other code or another environment than it has
        print("build server: its identity is not the one it was started for, ending", file=sys.stderr)
        return 1
    path = socket_path(key)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    with contextlib.suppress(FileNotFoundError):
        if not _alive(path):
            path.unlink()  # a socket a killed server left (checked under the start lock)
    listener.bind(str(path))
    listener.listen(8)
    srv = Server(key, ident)
    lifetime.install_signal_handlers()
    os.write(1, (json.dumps({"ready": True, "pid": os.getpid()}) + "\n").encode())
    os.dup2(2, 1)  # nothing more on the pipe the client read: whatever a library prints goes to the log
    try:
        return _loop(srv, listener, path)
    except lifetime.Interrupted as exc:
        return exc.exit_code
    finally:
        with contextlib.suppress(OSError):
            path.unlink()  # its own: a new server binds only once this one no longer answers
        listener.close()
        srv.close()


def _alive(path: Path) -> bool:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.settimeout(2)
        s.connect(str(path))
        return True
    except OSError:
        return False
    finally:
        s.close()


# -- the client (build.py) -------------------------------------------------------------------------
class Unavailable(Exception):
    """No server could be reached or started: build in-process."""


def _log_file(args) -> Path:
    """Where a server started for these options writes its messages (the cache's log folder)."""
    from .config import BaseConfig

    return Path(BaseConfig(cache_dir=getattr(args, "cache_dir", None)).default_cache_dir) / "logs" / "build-server.log"


def _start(key: str, args) -> None:
    """Start a server for ``key`` (detached: it outlives this build) and wait until it listens."""
    import fcntl
    import subprocess

    path = socket_path(key)
    with open(server_dir() / "start.lock", "a+") as lockf:  # one file, however many servers
        fcntl.flock(lockf, fcntl.LOCK_EX)  # one client starts a server at a time; the others then find it
        if _alive(path):
            return
        env = dict(os.environ)
        env.pop("BAROMETER_WARM", None)
        log_file = _log_file(args)
        log_file.parent.mkdir(parents=True, exist_ok=True)
        with open(log_file, "wb") as log:  # this server's messages (the last one's are replaced)
            proc = subprocess.Popen([sys.executable, "-m", "barometer.build.buildserver", key], env=env,
                                    stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=log,
                                    start_new_session=True, close_fds=True)
        line = proc.stdout.readline()
        proc.stdout.close()
        if not line:
            raise Unavailable(f"the build server did not start (see {log_file})")


def _connect(path: Path) -> socket.socket | None:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.connect(str(path))
    except OSError:
        s.close()
        return None
    return s


def client_env() -> dict:
    """The environment a server must be started with for its identity to be this client's."""
    from ..paths import PACKAGE_DIR

    src = str(PACKAGE_DIR.parent)
    parts = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    return {"PYTHONPATH": os.pathsep.join(parts if src in parts else [src, *parts])}


def _client_key() -> str:
    """This client's server key, once the package is on its PYTHONPATH (as on a server it starts)."""
    os.environ.update(client_env())
    return server_key(identity())


def run_client(argv: list[str], args) -> int:
    """Build ``argv`` through the server (started if need be); prints what the build prints and
    returns its exit status.  Raises :class:`Unavailable` when it must be built in-process."""
    key = _client_key()
    path, log_file = socket_path(key), _log_file(args)
    for _ in range(3):
        sock = _connect(path)
        if sock is None:
            _start(key, args)
            sock = _connect(path)
            if sock is None:
                raise Unavailable("the build server did not answer")
        rc = _talk(sock, argv, key, log_file, bool(getattr(args, "quiet", False)))
        if rc is not None:
            return rc
    raise Unavailable("the build server refused the build")


def _talk(sock: socket.socket, argv: list[str], key: str, log: Path, quiet: bool = False) -> int | None:
    """Send the build, print what it prints, return its exit status (None: refused, try again).
    Ctrl-C (or SIGTERM, SIGHUP) tells the server to interrupt the build and waits for what it
    says; a second one leaves at once."""
    import signal

    f = sock.makefile("rb")
    got: list[int] = []

    def on_signal(signum, frame):
        if got:
            raise KeyboardInterrupt
        got.append(signum)
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_WR)  # the server sees end of file: it interrupts the build

    handlers = {}
    if threading.current_thread() is threading.main_thread():
        for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            handlers[s] = signal.signal(s, on_signal)
    try:
        sock.sendall((json.dumps({"key": key, "argv": argv}) + "\n").encode("utf-8"))
        sock.settimeout(1.0)
        try:
            first = f.readline()
        except socket.timeout:
            print("waiting for the build server (another build is running) ...", file=sys.stderr, flush=True)
            sock.settimeout(None)
            first = f.readline()
        sock.settimeout(None)
        msg = json.loads(first) if first else {}
        if "started" not in msg:
            return None if not got else 128 + got[0]  # refused (its code changed, it is ending): try again
        if not quiet:
            n = msg.get("build", 1)
            print(f"building in the warm build server (pid {msg['started']}; " +
                  ("it just started)" if n == 1 else f"its build {n})"), file=sys.stderr, flush=True)
        while True:
            line = f.readline()
            if not line:
                print(f"build failed: the build server ended during the build (its log: {log}); "
                      "nothing was published", file=sys.stderr)
                return 128 + got[0] if got else 1
            msg = json.loads(line)
            if "out" in msg:
                sys.stdout.write(msg["out"])
                sys.stdout.flush()
            elif "err" in msg:
                sys.stderr.write(msg["err"])
                sys.stderr.flush()
            elif "rc" in msg:
                rc = int(msg["rc"])
                return 128 + got[0] if got and rc in (129, 130, 143) else rc
    except KeyboardInterrupt:  # the second signal: the server goes on cleaning up by itself
        print("interrupted: the build server is stopping the build; nothing was published", file=sys.stderr)
        return 128 + got[0] if got else 130
    except (OSError, ValueError) as exc:
        print(f"build failed: lost the build server ({exc}; its log: {log})", file=sys.stderr)
        return 128 + got[0] if got else 1
    finally:
        for s, h in handlers.items():
            signal.signal(s, h)
        with contextlib.suppress(OSError):
            f.close()
            sock.close()


def stop(args) -> int:
    """``build.py --stop-server``: end this checkout's build server (for this environment), if one runs."""
    sock = _connect(socket_path(_client_key()))
    if sock is None:
        print("no build server is running for this checkout")
        return 0
    with contextlib.closing(sock):
        sock.sendall(b'{"stop": true}\n')
        sock.settimeout(30)  # it answers between builds: after the one it runs, if any
        try:
            answer = json.loads(sock.makefile("rb").readline() or b"{}")
        except (OSError, ValueError):
            answer = {}
    pid = answer.get("stopping")
    if pid:
        print(f"the build server (pid {pid}) ended")
        return 0
    print("the build server did not answer; it ends on its own when idle", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(serve_main(sys.argv[1]))
