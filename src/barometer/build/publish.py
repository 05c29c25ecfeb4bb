"""Where a build may write, and how its output replaces the previous one.

Nothing a user has is ever lost to a build:

* :func:`check_target` refuses outright (exit 2, nothing touched) an output
  folder that is, holds or lies inside the checkout (except under
  ``_build/``), the ``data/`` folder, the folder of an input file, the home
  directory, ``/`` or a mount point, and one that holds files this program
  did not write.
* Every folder a build creates carries a marker (:data:`MARKER`, JSON: the
  build id, the process that made it and the files it wrote).  A build
  replaces a folder only when it is empty or carries the marker and holds
  nothing else than what the marker lists.
* :class:`Output` is the write phase: a lock (one build per output folder at
  a time), a temporary sibling folder the build writes into, and a swap that
  leaves either the old or the new folder complete, never neither (Linux
  ``renameat2(RENAME_EXCHANGE)``; elsewhere two renames, undone if the second
  fails, and repaired by the next build if the process died in between).
  Temporary folders of builds whose process is gone are removed by the next
  build into the same place.

Both build modes (an edition, and one report per unit) publish through it.
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import json
import os
import shutil
import socket
import time
import uuid
from pathlib import Path

from .. import keep
from ..errors import BuildError, InputError

MARKER = ".barometer-build.json"
PROGRAM = "barometer"
_TMP = ".tmp-"
_OLD = ".old-"


# --------------------------------------------------------------------------------------
# who we are: a build id and a process identity that survives pid reuse
# --------------------------------------------------------------------------------------
def _start_time(pid: int) -> str | None:
    """The process's start time in clock ticks since boot (Linux), or None."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read().decode("ascii", "replace")
        return stat[stat.rindex(")") + 2:].split()[19]
    except (OSError, ValueError, IndexError):
        return None


def _identity(pid: int | None = None) -> dict:
    pid = os.getpid() if pid is None else pid
    return {"pid": pid, "host": socket.gethostname(), "started": _start_time(pid)}


def process_alive(owner: dict) -> bool:
    """Is the process that wrote ``owner`` (see :func:`_identity`) still running?"""
    if owner.get("host") not in (None, socket.gethostname()):
        return True  # another machine's build (shared disk): never assume it is gone
    pid = owner.get("pid")
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    started = owner.get("started")
    return started is None or _start_time(pid) in (None, started)


# --------------------------------------------------------------------------------------
# markers
# --------------------------------------------------------------------------------------
def read_marker(folder: Path) -> dict | None:
    try:
        m = json.loads((folder / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return m if isinstance(m, dict) and m.get("program") == PROGRAM else None


def write_marker(folder: Path, build_id: str, files: list[str] | None = None) -> None:
    m = {"program": PROGRAM, "build_id": build_id, "owner": _identity(), "written_at": time.time()}
    if files is not None:
        m["files"] = sorted(files)
    tmp = folder / f"{MARKER}{_TMP}{os.getpid()}"
    tmp.write_text(json.dumps(m, indent=1), encoding="utf-8")
    os.replace(tmp, folder / MARKER)


def _listing(folder: Path) -> list[str]:
    out = []
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames.sort()
        for name in filenames:
            rel = os.path.relpath(os.path.join(dirpath, name), folder)
            if rel != MARKER:
                out.append(rel)
        for d in dirnames:  # an empty folder is something too
            p = os.path.join(dirpath, d)
            if not os.listdir(p):
                out.append(os.path.relpath(p, folder) + "/")
    return sorted(out)


def foreign_files(folder: Path) -> list[str]:
    """What ``folder`` holds that this program did not write (empty: safe to replace)."""
    if not folder.is_dir():
        return []
    marker = read_marker(folder)
    here = _listing(folder)
    if marker is None:
        return here
    ours = set(marker.get("files") or [])
    return [f for f in here if f not in ours]


# --------------------------------------------------------------------------------------
# refusals
# --------------------------------------------------------------------------------------
def _real(p) -> Path:
    return Path(os.path.realpath(os.path.expanduser(os.fspath(p))))


def _related(a: Path, b: Path) -> str | None:
    """How ``a`` relates to ``b``: "is", "contains", "inside" or None."""
    if a == b:
        return "is"
    if b.is_relative_to(a):
        return "contains"
    if a.is_relative_to(b):
        return "inside"
    return None


def check_target(target: Path, *, inputs: list = (), cache_dir: Path | None = None, slug: str = "") -> Path:
    """The output folder, resolved; raises :class:`InputError` if a build may not write there."""
    from ..paths import BUILD_DIR, DATA_DIR, ROOT

    raw = os.fspath(target)
    if not raw.strip() or any(ord(c) < 32 for c in raw):
        raise InputError(f"--out {raw!r}: not a usable folder name (empty, or with a control character)")
    t = _real(target)
    hint = f"choose an empty folder or --out {t / (slug or 'report')}"
    if t == Path(t.anchor):
        raise InputError(f"--out {t}: refusing to write to the root of the file system; choose a folder of its own")
    home = _real(Path.home())
    rel = _related(t, home)
    if rel in ("is", "contains"):
        raise InputError(f"--out {t}: refusing to replace {'your home folder' if rel == 'is' else 'a folder holding your home folder'}; {hint}")
    if t.exists() and os.path.ismount(t):
        raise InputError(f"--out {t}: is a mount point; choose a folder inside it, e.g. --out {t / (slug or 'report')}")
    build_dir = _real(BUILD_DIR)
    root = _real(ROOT)
    if t == build_dir:
        raise InputError(f"--out {t}: is the build folder that holds every build and the cache; "
                         f"use --out {t / (slug or 'report')}")
    rel = _related(t, root)
    if rel is not None and not (t.is_relative_to(build_dir) and t != build_dir):
        what = {"is": "is the repository", "contains": "holds the repository",
                "inside": "lies inside the repository"}[rel]
        raise InputError(f"--out {t}: {what} ({root}); build under {build_dir} or outside the checkout")
    protected = [("the data folder", _real(DATA_DIR))]
    for p in inputs:
        if p:
            protected.append((f"the folder of the input file {p}", _real(p).parent))
    if cache_dir is not None:
        protected.append(("the cache", _real(cache_dir)))
    protected.append(("the cache", _real(BUILD_DIR / ".cache")))
    for what, p in protected:
        rel = _related(t, p)
        if rel == "inside" and what.startswith("the folder of the input") and t.is_relative_to(build_dir):
            rel = None  # our own build folder beside an input file cannot replace it
        if rel is not None:
            verb = {"is": "is", "contains": "holds", "inside": "lies inside"}[rel]
            raise InputError(f"--out {t}: {verb} {what} ({p}); choose a folder outside it")
    if t.exists() and not t.is_dir():
        raise InputError(f"--out {t}: is a file, not a folder; choose a folder")
    if t.parent.exists() and not t.parent.is_dir():
        raise InputError(f"--out {t}: {t.parent} is a file, not a folder")
    foreign = foreign_files(t)
    if foreign:
        more = f" and {len(foreign) - 1} more" if len(foreign) > 1 else ""
        raise InputError(f"{t} holds files this program did not write ({foreign[0]}{more}); "
                         f"choose an empty folder or --out {t / (slug or 'report')}")
    return t


# --------------------------------------------------------------------------------------
# disk and permission faults as one line
# --------------------------------------------------------------------------------------
def up_to_date(target: Path, key: str) -> bool:
    """The output was built from exactly these inputs (its manifest holds ``key``) and is complete."""
    try:
        m = json.loads((target / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return m.get("build_key") == key and all((target / f).is_file() for f in m.get("files", []))


def describe_os_error(exc: OSError, doing: str = "writing") -> str:
    if isinstance(exc, shutil.Error) and exc.args and isinstance(exc.args[0], list) and exc.args[0]:
        # copytree collects its failures as (source, destination, message): the first one says it
        import re

        _, dst, why = exc.args[0][0]
        m = re.search(r"\[Errno (\d+)\] ([^:']+)", str(why))
        if m:
            return describe_os_error(OSError(int(m.group(1)), m.group(2), dst), doing)
    path = exc.filename or ""
    where = f" {path}" if path else ""
    if exc.errno == errno.ENOSPC:
        return f"no space left on the device {doing}{where}: free some space or choose another --out"
    if exc.errno == errno.EDQUOT:
        return f"disk quota exceeded {doing}{where}: free some space or choose another --out"
    if exc.errno == errno.EROFS:
        return f"read-only file system {doing}{where}: choose another --out (or --cache-dir)"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return f"permission denied {doing}{where}: choose a folder you may write to (--out)"
    if exc.errno == errno.ENOTDIR:
        return f"not a folder {doing}{where}: part of the path is a file"
    if exc.errno == errno.ENAMETOOLONG:
        return f"file name too long {doing}{where}"
    return f"{exc.strerror or exc} {doing}{where}"


# --------------------------------------------------------------------------------------
# the swap
# --------------------------------------------------------------------------------------
_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux renameat2); False where that is not available."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError):
        return False
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    if fn(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP):
        return False
    raise OSError(err, os.strerror(err), str(b))


def swap_into_place(work: Path, target: Path) -> None:
    """Make ``work`` the new ``target``; the old one is removed afterwards.

    At every moment ``target`` is either the old complete folder or the new
    complete one.  ``work`` must be a sibling of ``target`` (same file system)."""
    if not target.exists():
        os.rename(work, target)
        return
    if _exchange(work, target):  # work now holds the old folder
        shutil.rmtree(work, ignore_errors=True)
        return
    old = target.parent / f".{target.name}{_OLD}{os.getpid()}"
    os.rename(target, old)
    try:
        os.rename(work, target)
    except BaseException:
        os.rename(old, target)  # put the old folder back: never neither
        raise
    shutil.rmtree(old, ignore_errors=True)


def clean_stale(target: Path) -> list[Path]:
    """Remove the temporary folders beside ``target`` that builds whose
    process is gone left behind (a killed build), and put back a published
    folder a build died in the middle of swapping.  Returns what was removed."""
    parent, name = target.parent, target.name
    removed = []
    try:
        entries = list(parent.iterdir())
    except OSError:
        return removed
    prefix = f".{name}"
    for p in entries:
        if not p.name.startswith(prefix) or p.is_symlink() or not p.is_dir():
            continue
        rest = p.name[len(prefix):]
        if not (rest.startswith(_TMP) or rest.startswith(_OLD)):
            continue
        marker = read_marker(p)
        if marker is None or process_alive(marker.get("owner") or {}):
            continue  # not ours, or its build is still running
        if rest.startswith(_OLD) and not target.exists() and not foreign_files(p):
            os.rename(p, target)  # the build died between its two renames: the old output is back
            continue
        shutil.rmtree(p, ignore_errors=True)
        removed.append(p)
    return removed


# --------------------------------------------------------------------------------------
# the write phase
# --------------------------------------------------------------------------------------
class Output:
    """``with Output(target) as out:`` write into ``out.work``, then ``out.commit()``.

    Holds a lock beside the target for the whole block (a second build into
    the same folder exits 1 with a message), removes stale temporary folders,
    and removes its own temporary folder if the block does not commit."""

    def __init__(self, target: Path, *, build_id: str | None = None):
        self.target = Path(target)
        self.build_id = build_id or uuid.uuid4().hex
        self.work = self.target.parent / f".{self.target.name}{_TMP}{os.getpid()}"
        self.lock_file = self.target.parent / f".{self.target.name}.lock"
        self._lock_fd: int | None = None
        self.committed = False

    def __enter__(self) -> "Output":
        try:
            self.target.parent.mkdir(parents=True, exist_ok=True)
            self._lock()
            clean_stale(self.target)
            foreign = foreign_files(self.target)  # checked again under the lock
            if foreign:
                raise InputError(f"{self.target} holds files this program did not write ({foreign[0]}); "
                                 "choose an empty folder or another --out")
            if self.work.exists():  # our own pid's leftover: this process is the owner
                shutil.rmtree(self.work)
            self.work.mkdir()
            write_marker(self.work, self.build_id)
        except BaseException:
            self._cleanup()
            raise
        return self

    def _lock(self) -> None:
        fd = os.open(self.lock_file, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            try:
                holder = os.read(fd, 200).decode("utf-8", "replace").strip() or "another build"
            finally:
                os.close(fd)
            raise BuildError(f"{self.target} is being written by {holder}; wait for it to finish "
                             "or choose another --out") from None
        os.ftruncate(fd, 0)
        os.write(fd, f"build {self.build_id[:12]} (pid {os.getpid()})".encode())
        self._lock_fd = fd

    def commit(self) -> Path:
        """Record what was written, then swap it into place."""
        import signal

        blocked = {signal.SIGINT, signal.SIGTERM, signal.SIGHUP}
        old = signal.pthread_sigmask(signal.SIG_BLOCK, blocked)  # a signal now waits until the swap is done
        try:
            write_marker(self.work, self.build_id, _listing(self.work))
            swap_into_place(self.work, self.target)
            self.committed = True
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, old)
        return self.target

    def _cleanup(self) -> None:
        if not self.committed and self.work.exists() and read_marker(self.work) is not None:
            shutil.rmtree(self.work, ignore_errors=True)
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # closing releases the lock; the (empty-ish) lock file stays
            self._lock_fd = None

    def __exit__(self, *exc) -> None:
        self._cleanup()


def keep_failed(source: Path, kept: Path, build_id: str) -> Path:
    """Copy a failed build's folder to ``kept`` (``.failed/<name>``) for debugging.

    An earlier copy is replaced only when this program wrote it; on a full
    disk nothing partial stays."""
    if kept.exists():
        if read_marker(kept) is None:
            raise BuildError(f"{kept} holds files this program did not write; the failed build was not kept")
        shutil.rmtree(kept)
    kept.parent.mkdir(parents=True, exist_ok=True)
    try:
        shutil.copytree(source, kept)
        write_marker(kept, build_id, _listing(kept))
    except BaseException:
        shutil.rmtree(kept, ignore_errors=True)
        raise
    return kept


# --------------------------------------------------------------------------------------
# the output scan: no respondent id or sensitive answer is ever published (both build modes)
# --------------------------------------------------------------------------------------
REMOVED = "removed: this executed notebook contained respondent ids or sensitive answers\n"


def _needles_key(edition: str, country: str, ds) -> tuple:
    from .. import synthkey
    from ..paths import DATA_DIR

    return (id(ds), edition, country, keep.stamps(DATA_DIR / "codebook", synthkey.sample_dir(edition, "dk"),
                                                  synthkey.sample_dir(edition, "no")))


@keep.kept(_needles_key)  # the preview's build process: once per loaded sample
def needles(edition: str, country: str, ds) -> frozenset[str]:
    """Respondent ids and sensitive values of the input (and of the other country's sample)."""
    from .. import privacy, synthkey
    from ..codebook import load_codebook
    from ..readers import read_table

    found = privacy.needles_from(ds.df, ds.codebook)
    for other_country in ("dk", "no"):  # the other country's (synthetic) sample is shown in comparisons
        other = synthkey.sample_dir(edition, other_country) / "respondents.csv"
        if other_country != country and other.exists():
            cb = load_codebook(edition, other_country)
            found |= privacy.needles_from(read_table(other, cb), cb)
    return frozenset(found)


def check_no_microdata(work: Path, edition: str, country: str, ds) -> None:
    """Fail (and keep nothing: the caller's :class:`Output` is not committed) if any
    output file holds a respondent id or a sensitive answer."""
    from .. import privacy

    try:
        privacy.check_outputs(work, needles(edition, country, ds))
    except privacy.MicrodataError as exc:
        raise BuildError(str(exc)) from None


def scrub_failed(kept: Path, edition: str, country: str, ds) -> None:
    """A failed notebook kept for debugging must not hold microdata either: such files are emptied."""
    from .. import privacy

    if kept.exists():
        for p, _ in privacy.scan(kept, needles(edition, country, ds)):
            p.write_text(REMOVED, encoding="utf-8")
