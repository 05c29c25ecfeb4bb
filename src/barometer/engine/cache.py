"""The report cache: a report is re-run only when something it depends on changed.

A report's **key** is the sha256 of everything known before it runs: the
notebook source, its parameters (``output_dir`` left out; paths inside the
checkout taken relative to it), the package's code, templates, codebooks
and report configurations (``data/report``), and the engine version.  Its
**dependencies** are what it read while running (recorded in the kernel,
:mod:`barometer.engine.deps`): the data files and the content files it
showed, each with its sha256, recorded relative to the checkout (absolute
only for files outside it, e.g. a ``--data`` file) and resolved against the
current checkout when looked up.  A cached report is a hit when its key
matches and every dependency still has the same checksum.

**The cache never serves bytes it has not checked.**  An entry records the
sha256 of every file it holds (``checksums`` in ``meta.json``, and a digest
of ``meta.json`` itself); a lookup checks them all, and every read or copy
out of the cache (:meth:`Cache.read`, :meth:`Cache.copy`) hands over the
very bytes the lookup checked (kept in memory; or read again and checked).  A damaged entry (a file changed, missing or truncated, an
unreadable ``meta.json``) is a miss with one warning line on stderr; bytes
that change between the lookup and the copy stop the build
(:class:`CacheChanged`).

**Entries are written whole**: into ``.<key>.tmp-<pid>`` and renamed into
place; an existing entry is renamed aside before the new one takes its
place, so a reader sees the old entry, the new one, or none.  An intact
entry that is still valid is kept (the first writer wins) unless the build
runs with ``--force``.

**Size**: the last use of an entry is the mtime of its ``meta.json``
(touched on every hit); :meth:`Cache.evict` removes the least recently used
entries until the cache is under ``--cache-max``, never one used since the
running build started.  ``build.py --clean-cache`` is :func:`clean`.

**Leftovers** of builds that were killed (temporary entries, log folders)
are removed by the next build, once their owning process is gone.

Checksums of input files are remembered per (size, mtime, inode) so an
unchanged build does not re-read its inputs.
"""

from __future__ import annotations

import base64
import errno
import hashlib
import json
import os
import re
import shutil
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

from .. import paths
from ..errors import BuildError, InputError

if TYPE_CHECKING:
    from .result import JobResult

#: checked bytes of entries a build keeps in memory to copy them out (beyond: read again and checked)
HOLD_BYTES = 512 * 2 ** 20
ENGINE_VERSION = "2"  # 2: checksummed entries, dependencies relative to the checkout

#: the file a cache writes at its root: only a folder with it is ever cleaned or evicted
MARKER = ".barometer-cache"
_MARKER_TEXT = json.dumps({"written_by": "barometer build engine", "what": "report cache; "
                           "python build.py --clean-cache removes it"}) + "\n"
_KEY = re.compile(r"^[0-9a-f]{64}$")
_K2 = re.compile(r"^[0-9a-f]{2}$")
_LEFTOVER = re.compile(r"^\.([0-9a-f]{64})\.(tmp|old)-(\d+)(?:-[0-9a-f]+)?$")
_LOG = re.compile(r"^[a-z]+-(\d+)$")
_STATE_TMP = re.compile(r"^checksums\.tmp-(\d+)$")
_LEGACY_NAMES = {"checksums.json", "logs", "logs-edition"}  # what a cache of engine version 1 held
CHARTS = "charts"  # the chart servers' store (:class:`barometer.engine.svgserver.Store`): <key[:2]>/<key> files


class CacheChanged(BuildError):
    """A cache entry changed while this build was reading it (nothing was published)."""


class Hasher:
    """sha256 of files, remembered by (size, mtime_ns, inode)."""

    def __init__(self, state_file: Path | None = None):
        self.state_file = state_file
        self.memo: dict[str, list] = {}
        self.dirty = False
        if state_file and state_file.exists():
            try:
                state = json.loads(state_file.read_text(encoding="utf-8"))
                memo = state.get("memo") if isinstance(state, dict) else None
                if isinstance(memo, dict) and state.get("digest") == digest(memo):
                    self.memo = {p: m for p, m in memo.items()
                                 if isinstance(m, list) and len(m) == 4 and isinstance(m[3], str)}
            except (OSError, ValueError):
                self.memo = {}

    def file(self, path) -> str | None:
        p = os.path.abspath(os.fspath(path))
        try:
            st = os.stat(p)
        except OSError:
            return None
        stamp = [st.st_size, st.st_mtime_ns, st.st_ino]
        m = self.memo.get(p)
        if m and m[:3] == stamp:
            return m[3]
        try:
            sha = sha256_file(p)
        except OSError:
            return None
        self.memo[p] = stamp + [sha]
        self.dirty = True
        return sha

    def tree(self, root: Path, suffixes: tuple[str, ...] | None = None, without: tuple[str, ...] = ()) -> str:
        """Checksum of the files under ``root`` (ending in ``suffixes``; ``without``: paths
        relative to ``root`` left out)."""
        h = hashlib.sha256()
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = sorted(d for d in dirnames if d != "__pycache__" and not d.startswith("."))
            for name in sorted(filenames):
                if suffixes and not name.endswith(suffixes):
                    continue
                if without and os.path.relpath(os.path.join(dirpath, name), root) in without:
                    continue
                p = os.path.join(dirpath, name)
                h.update(os.path.relpath(p, root).encode() + b"\0" + (self.file(p) or "").encode() + b"\n")
        return h.hexdigest()

    def save(self) -> None:
        """Write the remembered checksums (a memo: a full or read-only disk only loses it)."""
        if not (self.state_file and self.dirty):
            return
        tmp = self.state_file.with_name(f"checksums.tmp-{os.getpid()}")
        try:
            tmp.write_text(json.dumps({"memo": self.memo, "digest": digest(self.memo)}), encoding="utf-8")
            os.replace(tmp, self.state_file)
            self.dirty = False
        except OSError:
            try:
                tmp.unlink()
            except OSError:
                pass


def digest(obj) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def sha256_file(path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def parse_size(text: str) -> int:
    """``500M``, ``2G``, ``1.5G``, ``800K``, ``123`` (bytes) -> bytes (K, M, G, T are powers of 1024)."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?\s*", str(text), flags=re.I)
    if not m:
        raise ValueError(f"{text!r} is not a size: give bytes or a number with K, M, G or T (e.g. 500M, 2G)")
    n = float(m.group(1)) * 1024 ** " kmgt".index(m.group(2).lower() or " ")
    return int(n)


def format_size(n: int) -> str:
    for unit in ("bytes", "kB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n} bytes" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GB"


#: earlier results kept per key for other states of the files they read (each an entry of its own, evicted as any)
MAX_VARIANTS = 4


def _variant_key(key: str, deps: dict) -> str:
    return digest({"variant_of": key, "deps": deps})


def _show(path: Path) -> str:
    """A path as the user knows it: relative to the checkout when inside it."""
    try:
        return str(Path(path).relative_to(paths.ROOT))
    except ValueError:
        return str(path)


def _disk_error(exc: OSError, path: Path, doing: str) -> BuildError:
    """One line: what could not be done where, why, and what to do."""
    what = exc.strerror or type(exc).__name__
    where = path
    if exc.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
        hint = "free space there, point the cache elsewhere with --cache-dir, or keep it smaller with --cache-max"
    elif exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        hint = "give write access to it, or point the cache elsewhere with --cache-dir"
    else:
        hint = "check that disk, or point the cache elsewhere with --cache-dir"
    return BuildError(f"cannot {doing} {where}: {what}; {hint}")


# --------------------------------------------------------------------------------------
# processes: is the build that left a folder still running?
# --------------------------------------------------------------------------------------
def _process_start(pid: int) -> float | None:
    """When process ``pid`` started (seconds since the epoch), where the system says (Linux)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        fields = stat[stat.rindex(")") + 2:].split()
        ticks = int(fields[19])  # field 22, starttime, in clock ticks since boot
        btime = next(int(line.split()[1]) for line in Path("/proc/stat").read_text().splitlines()
                     if line.startswith("btime "))
        return btime + ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, StopIteration):
        return None


def _zombie(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat[stat.rindex(")") + 2:].split()[0] in ("Z", "X")
    except (OSError, ValueError, IndexError):
        return False


def owner_gone(pid: int, folder_mtime: float, build_start: float) -> bool:
    """True when the process that wrote a folder (``pid`` in its name) has ended.

    A pid that is not running (or a zombie) has ended, if the folder is older
    than this build (so it was not just made by a build that started after
    us).  A running pid whose process started after the folder was last
    written is another process that got the same pid: the owner has ended."""
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
        alive = not _zombie(pid)
    except ProcessLookupError:
        alive = False
    except OSError:  # e.g. another user's process
        alive = True
    if not alive:
        return folder_mtime < build_start
    started = _process_start(pid)
    return started is not None and started > folder_mtime + 2.0


def _remove_tree(path: Path) -> None:
    """Remove a folder so that nobody ever sees it half-deleted: renamed aside first."""
    aside = path.with_name(f".{path.name}.old-{os.getpid()}") if _KEY.match(path.name) else path
    try:
        if aside != path:
            os.rename(path, aside)
    except OSError:
        aside = path
    shutil.rmtree(aside, ignore_errors=True)


def _tree_bytes(path: Path) -> int:
    total = 0
    for dirpath, _dirs, files in os.walk(path):
        for f in files:
            try:
                total += os.lstat(os.path.join(dirpath, f)).st_size
            except OSError:
                pass
    return total


# --------------------------------------------------------------------------------------
class Cache:
    """``<dir>/<key[:2]>/<key>/``: meta.json, executed.ipynb, page.html, estimates-N.csv, files/.

    ``checkout`` is the repository root the dependencies are relative to
    (default: :data:`barometer.paths.ROOT`)."""

    def __init__(self, root: Path, checkout: Path | None = None, sweep: bool = True):
        self.root = Path(root).absolute()
        self.checkout = Path(checkout if checkout is not None else paths.ROOT).resolve()
        self.started = time.time()
        self._open()
        self.hasher = Hasher(self.root / "checksums.json")
        self._static: str | None = None
        self._held: dict[str, tuple[str | None, dict[str, bytes]]] = {}  # key -> (meta digest, checked bytes)
        self._held_bytes = 0
        self._lock = threading.Lock()
        if sweep:
            self.sweep()

    def _open(self) -> None:
        """Create the cache folder with its marker, or check that an existing one is a cache."""
        root, marker = self.root, self.root / MARKER
        if marker.is_file():
            return
        if root.exists() and not root.is_dir():
            raise InputError(f"the cache folder {root} is a file; choose another with --cache-dir")
        if root.is_dir():
            foreign = [p.name for p in root.iterdir() if not (p.name in _LEGACY_NAMES or p.name == CHARTS
                                                               or _STATE_TMP.match(p.name)
                                                               or (_K2.match(p.name) and p.is_dir()))]
            if foreign:
                raise InputError(f"{root} holds files this program did not write ({', '.join(sorted(foreign)[:3])}); "
                                 "choose an empty or new folder with --cache-dir")
        try:
            root.mkdir(parents=True, exist_ok=True)
            tmp = root / f"{MARKER}.tmp-{os.getpid()}"
            tmp.write_text(_MARKER_TEXT, encoding="utf-8")
            os.replace(tmp, marker)
        except (NotADirectoryError, FileExistsError):
            raise InputError(f"the cache folder {root} cannot be made: a file is in its way; "
                             "choose another with --cache-dir") from None
        except OSError as exc:
            raise _disk_error(exc, root, "create the cache folder") from None

    # -- keys ----------------------------------------------------------------------
    def static_inputs(self, without: tuple[str, ...] = ()) -> dict:
        """Checksums of what every report depends on (computed once per build).  ``without``:
        report configurations (names under ``data/report``) a caller keys on itself, by the
        part each report reads (an edition's chapters: :mod:`barometer.build.configslice`)."""
        return {
            "engine": ENGINE_VERSION,
            "code": self.hasher.tree(paths.PACKAGE_DIR, (".py", ".yaml", ".json")),
            "templates": self.hasher.tree(paths.TEMPLATE_DIR),
            "codebooks": self.hasher.tree(paths.DATA_DIR / "codebook"),
            "report_configs": self.hasher.tree(paths.DATA_DIR / "report", without=without),
            **({"report_configs_keyed_by_caller": sorted(without)} if without else {}),
        }

    def static_key(self, without: tuple[str, ...] = ()) -> str:
        if not without:
            if self._static is None:
                self._static = digest(self.static_inputs())
            return self._static
        return digest(self.static_inputs(without))

    def key(self, notebook: Path, parameters: dict, extra: dict | None = None,
            without: tuple[str, ...] = ()) -> str:
        params = {k: self.relative(v) if isinstance(v, str) and os.path.isabs(v) else v
                  for k, v in parameters.items() if k != "output_dir"}
        return digest({"static": self.static_key(without), "notebook": self.hasher.file(notebook),
                       "parameters": params, "extra": extra or {}})

    # -- dependencies: relative to the checkout ------------------------------------
    def relative(self, path: str) -> str:
        """``path`` relative to the checkout (posix) when it lies inside it, else absolute."""
        p = os.path.abspath(path)
        for cand in (p, os.path.realpath(p)):
            try:
                return Path(cand).relative_to(self.checkout).as_posix()
            except ValueError:
                continue
        return p

    def resolve(self, dep: str) -> Path:
        return Path(dep) if os.path.isabs(dep) else self.checkout / dep

    # -- entries -------------------------------------------------------------------
    def path(self, key: str) -> Path:
        return self.root / key[:2] / key

    def _warn(self, key: str, what: str) -> None:
        print(f"warning: cache entry {_show(self.path(key))} is damaged ({what}); running it again",
              file=sys.stderr, flush=True)

    def _check(self, key: str) -> tuple[dict | None, str | None, bool, dict[str, bytes]]:
        """(meta, what is damaged, deps unchanged, the checked bytes of every file) of the
        entry ``key`` as it is on disk."""
        d = self.path(key)
        try:
            text = (d / "meta.json").read_text(encoding="utf-8")
        except FileNotFoundError:
            return None, ("meta.json missing" if d.is_dir() else None), False, {}
        except (OSError, UnicodeDecodeError) as exc:
            return None, f"meta.json unreadable: {exc.strerror if isinstance(exc, OSError) else exc}", False, {}
        try:
            meta = json.loads(text)
        except ValueError:
            return None, "meta.json is not valid JSON", False, {}
        if not isinstance(meta, dict) or not isinstance(meta.get("checksums"), dict) \
                or not isinstance(meta.get("deps"), dict):
            return None, "meta.json is not an entry's", False, {}
        body = {k: v for k, v in meta.items() if k != "meta_sha256"}
        if meta.get("meta_sha256") != digest(body):
            return None, "meta.json changed", False, {}
        if meta.get("key") != key:
            return None, "meta.json belongs to another entry", False, {}
        served = ["executed.ipynb", *(f"estimates-{i}.csv" for i in range(int(meta.get("n_estimates") or 0))),
                  *(f"files/{rel}" for rel in meta.get("files") or [])]
        unchecked = [rel for rel in served if rel not in meta["checksums"]]
        if unchecked:
            return None, f"meta.json has no checksum for {unchecked[0]}", False, {}
        blobs = {}
        for rel, sha in meta["checksums"].items():
            if ".." in Path(rel).parts or os.path.isabs(rel):
                return None, f"{rel} lies outside the entry", False, {}
            try:
                data = (d / rel).read_bytes()
            except FileNotFoundError:
                return None, f"{rel} missing", False, {}
            except OSError as exc:
                return None, f"{rel} unreadable: {exc.strerror}", False, {}
            if hashlib.sha256(data).hexdigest() != sha:
                return None, f"{rel} changed", False, {}
            blobs[rel] = data
        return meta, None, self._deps_unchanged(meta), blobs

    def lookup(self, key: str) -> dict | None:
        """The entry's meta if it is a hit: intact (every file's checksum) and its
        dependencies unchanged.  A damaged entry is a miss, with a warning.  The
        bytes checked are kept (up to :data:`HOLD_BYTES`) and are what :meth:`read`
        hands out: an entry replaced later by a concurrent build changes nothing."""
        meta, damaged, deps_ok, blobs = self._check(key)
        if damaged:
            self._warn(key, damaged)
            return None
        if meta is None:
            return None
        if not deps_ok:  # the files it read changed: an earlier result for today's files may be kept
            for variant in meta.get("variants") or []:
                vmeta, vdamaged, vdeps_ok, vblobs = self._check(variant)
                if vmeta is not None and vdeps_ok and vmeta.get("variant_of") == key:
                    key, meta, blobs = variant, vmeta, vblobs
                    break
            else:
                return None
        self.touch(key)
        self._hold(key, meta, blobs)
        return meta  # meta["key"]: the entry that hit (the key itself, or one of its variants)

    def probably_hit(self, key: str) -> bool:
        """Whether ``key`` (or one of its variants) has an entry whose recorded
        dependencies are unchanged, from its ``meta.json`` alone: a hint, read
        before the data are loaded, for starting the workers early; :meth:`lookup`
        (every file checked) decides, and warns about a damaged entry."""
        meta = self._meta_only(key)
        if meta is None:
            return False
        return self._deps_unchanged(meta) or any(
            v is not None and v.get("variant_of") == key and self._deps_unchanged(v)
            for v in map(self._meta_only, meta.get("variants") or []))

    def _meta_only(self, key: str) -> dict | None:
        try:
            meta = json.loads((self.path(key) / "meta.json").read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError, TypeError):
            return None
        return meta if isinstance(meta, dict) and isinstance(meta.get("deps"), dict) else None

    def _deps_unchanged(self, meta: dict) -> bool:
        return all(self.hasher.file(self.resolve(p)) == sha for p, sha in meta["deps"].items())

    def _hold(self, key: str, meta: dict, blobs: dict[str, bytes]) -> None:
        size = sum(len(b) for b in blobs.values())
        with self._lock:
            old = self._held.pop(key, None)
            if old is not None:
                self._held_bytes -= sum(len(b) for b in old[1].values())
            if self._held_bytes + size <= HOLD_BYTES:
                self._held[key] = (meta.get("meta_sha256"), blobs)
                self._held_bytes += size

    def _keep_variant(self, key: str, meta: dict, blobs: dict[str, bytes]) -> str:
        """Keep the entry ``key`` (about to be replaced by a result for changed
        files it read) as a variant of it, named by the checksums of those files;
        returns the variant's key.  A disk problem only loses the variant."""
        variant = _variant_key(key, meta["deps"])
        vmeta = {k: v for k, v in meta.items() if k not in ("meta_sha256", "variants")}
        vmeta.update(key=variant, variant_of=key)
        vmeta["meta_sha256"] = digest(vmeta)
        d = self.path(variant)
        tmp = d.with_name(f".{variant}.tmp-{os.getpid()}")
        try:
            if tmp.exists():
                shutil.rmtree(tmp)
            tmp.mkdir(parents=True)
            for rel, data in blobs.items():
                (tmp / rel).parent.mkdir(parents=True, exist_ok=True)
                (tmp / rel).write_bytes(data)
            (tmp / "meta.json").write_text(json.dumps(vmeta, indent=1, ensure_ascii=False), encoding="utf-8")
            self._swap(tmp, d)
        except OSError:
            shutil.rmtree(tmp, ignore_errors=True)
        return variant

    def touch(self, key: str) -> None:
        """Record a use (the mtime of meta.json is the entry's last use)."""
        try:
            os.utime(self.path(key) / "meta.json")
        except OSError:
            pass

    def store(self, key: str, result: "JobResult", extra_meta: dict | None = None, replace: bool = False) -> dict:
        """Write a report's result as the entry ``key``; returns the entry's meta.

        An intact entry already there whose dependencies are unchanged (a
        concurrent build stored it) is kept and its meta returned, unless
        ``replace`` (``--force``).  A full or read-only disk is a
        :class:`BuildError`; nothing half-written is left."""
        d = self.path(key)
        tmp = d.with_name(f".{key}.tmp-{os.getpid()}")
        files = result.files  # [relative path, base64], in the order they were written
        for rel, _ in files:
            if ".." in Path(rel).parts or Path(rel).is_absolute():
                raise ValueError(f"report output outside its folder: {rel!r}")
        contents: dict[str, bytes] = {"executed.ipynb": (result.executed or "").encode("utf-8")}
        if result.html is not None:
            contents["page.html"] = result.html.encode("utf-8")
        for i, text in enumerate(result.estimates):
            contents[f"estimates-{i}.csv"] = text.encode("utf-8")
        for rel, b64 in files:
            contents[f"files/{Path(rel).as_posix()}"] = base64.b64decode(b64)
        deps = {}
        for p in result.deps:
            sha = self.hasher.file(p)
            if sha:
                deps[self.relative(p)] = sha
        existing, blobs = None, {}
        if d.is_dir():
            existing, _, deps_ok, blobs = self._check(key)
            if existing is not None and deps_ok and not replace:
                self.touch(key)
                self._hold(key, existing, blobs)
                return existing
        variants = []
        if existing is not None and existing["deps"] != deps:  # kept: changing the files back is a hit again
            variants = [self._keep_variant(key, existing, blobs)]
        if existing is not None:
            variants += [v for v in existing.get("variants") or [] if v not in variants]
        meta = {"key": key, "id": result.id, "seconds": round(result.seconds, 3),
                "deps": deps, "n_estimates": len(result.estimates), "files": [rel for rel, _ in files],
                "checksums": {rel: hashlib.sha256(b).hexdigest() for rel, b in contents.items()},
                "bytes": sum(len(b) for b in contents.values()), **(extra_meta or {})}
        variants = [v for v in variants if v != _variant_key(key, deps)][:MAX_VARIANTS]
        if variants:
            meta["variants"] = variants
        meta["meta_sha256"] = digest(meta)
        try:
            if tmp.exists():
                shutil.rmtree(tmp)
            tmp.mkdir(parents=True)
            for rel, data in contents.items():
                dest = tmp / rel
                dest.parent.mkdir(parents=True, exist_ok=True)
                dest.write_bytes(data)
            (tmp / "meta.json").write_text(json.dumps(meta, indent=1, ensure_ascii=False), encoding="utf-8")
            self._swap(tmp, d)
        except OSError as exc:
            shutil.rmtree(tmp, ignore_errors=True)
            raise _disk_error(exc, self.root, "store a report in the cache") from None
        self._hold(key, meta, contents)
        return meta

    @staticmethod
    def _swap(tmp: Path, d: Path) -> None:
        """Put ``tmp`` in the place of ``d``: old entry renamed aside, new one renamed in, old one deleted."""
        for _attempt in range(5):
            old = d.with_name(f".{d.name}.old-{os.getpid()}-{os.urandom(3).hex()}")
            try:
                os.rename(d, old)
            except FileNotFoundError:
                old = None
            try:
                os.rename(tmp, d)
            except OSError as exc:  # another build put its entry there in between: try again
                if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST):
                    if old is not None:  # put the old entry back rather than lose it
                        try:
                            os.rename(old, d)
                        except OSError:
                            shutil.rmtree(old, ignore_errors=True)
                    raise
                if old is not None:
                    shutil.rmtree(old, ignore_errors=True)
                continue
            if old is not None:
                shutil.rmtree(old, ignore_errors=True)
            return
        raise OSError(errno.EBUSY, "other builds keep replacing this cache entry", str(d))

    # -- reading entries: every byte handed out is checked -------------------------
    def read(self, key: str, meta: dict, rel: str) -> bytes:
        """The bytes of ``rel`` in the entry, checked against its recorded checksum: those
        checked by the lookup (or written by the store) of this build, else read again
        and checked.  ``meta`` names the entry (``key`` or one of its variants)."""
        key = meta.get("key") or key
        held = self._held.get(key)
        if held is not None and held[0] == meta.get("meta_sha256") and rel in held[1]:
            return held[1][rel]
        p = self.path(key) / rel
        try:
            data = p.read_bytes()
        except OSError as exc:
            raise CacheChanged(f"cache entry {_show(self.path(key))} changed while this build was reading it "
                               f"({rel}: {exc.strerror}); nothing was published: run the build again") from None
        if hashlib.sha256(data).hexdigest() != meta.get("checksums", {}).get(rel):
            raise CacheChanged(f"cache entry {_show(self.path(key))} changed while this build was reading it "
                               f"({rel} differs from its checksum); nothing was published: run the build again")
        return data

    def copy(self, key: str, meta: dict, rel: str, dest: Path) -> None:
        """Copy ``rel`` of the entry to ``dest``: the bytes written are the bytes checked."""
        data = self.read(key, meta, rel)
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(data)

    def estimates(self, key: str, meta: dict) -> list[str]:
        return [self.read(key, meta, f"estimates-{i}.csv").decode("utf-8") for i in range(meta.get("n_estimates", 0))]

    def copy_executed(self, key: str, meta: dict, dest: Path) -> None:
        self.copy(key, meta, "executed.ipynb", dest)

    def copy_page(self, key: str, meta: dict, dest: Path) -> None:
        self.copy(key, meta, "page.html", dest)

    def copy_files(self, key: str, meta: dict, dest_dir: Path) -> list[str]:
        """Copy the files a report wrote into ``dest_dir``; their relative paths, in writing order."""
        rels = list(meta.get("files", []))
        for rel in rels:
            self.copy(key, meta, f"files/{Path(rel).as_posix()}", dest_dir / rel)
        return rels

    @staticmethod
    def uses(meta: dict | None) -> list[str]:
        """The files an entry depended on, relative to the checkout where they are in it."""
        return sorted((meta or {}).get("deps", {}))

    # -- logs, leftovers, size -----------------------------------------------------
    @property
    def charts_dir(self) -> Path:
        """Where the workers' chart servers keep what they drew (counted, evicted and
        cleaned with the entries)."""
        return self.root / CHARTS

    def _chart_files(self):
        """(path, None) of every chart in the store, and (path, owner pid) of its leftovers."""
        try:
            tops = [e for e in os.scandir(self.charts_dir) if _K2.match(e.name) and e.is_dir(follow_symlinks=False)]
        except OSError:
            return
        for top in tops:
            try:
                files = list(os.scandir(top.path))
            except OSError:
                continue
            for e in files:
                if _KEY.match(e.name) and e.is_file(follow_symlinks=False):
                    yield Path(e.path), None
                elif (m := _LEFTOVER.match(e.name)) and e.is_file(follow_symlinks=False):
                    yield Path(e.path), int(m.group(3))

    def log_dir(self, kind: str) -> Path:
        """A fresh folder for this build's worker logs (``logs/<kind>-<pid>``; the next build
        removes it once this process has ended)."""
        d = self.root / "logs" / f"{kind}-{os.getpid()}"
        try:
            shutil.rmtree(d, ignore_errors=True)
            d.mkdir(parents=True)
        except OSError as exc:
            raise _disk_error(exc, d, "create the log folder") from None
        return d

    def _leftovers(self):
        """(path, owner pid) of temporary entries, entries renamed aside, log folders and state files."""
        try:
            tops = list(os.scandir(self.root))
        except OSError:
            return
        for top in tops:
            if _K2.match(top.name) and top.is_dir(follow_symlinks=False):
                try:
                    for e in os.scandir(top.path):
                        m = _LEFTOVER.match(e.name)
                        if m:
                            yield Path(e.path), int(m.group(3))
                except OSError:
                    continue
            elif top.name == "logs" and top.is_dir(follow_symlinks=False):
                try:
                    logs = list(os.scandir(top.path))
                except OSError:
                    continue
                for e in logs:
                    m = _LOG.match(e.name)
                    if m:
                        yield Path(e.path), int(m.group(1))
            elif _STATE_TMP.match(top.name) or top.name.startswith(f"{MARKER}.tmp-"):
                yield Path(top.path), int(top.name.rsplit("-", 1)[1])
        for p, pid in self._chart_files():
            if pid is not None:
                yield p, pid

    def sweep(self) -> list[Path]:
        """Remove what killed builds left: folders whose owning process has ended."""
        removed = []
        for p, pid in self._leftovers():
            try:
                mtime = p.lstat().st_mtime
            except OSError:
                continue
            if owner_gone(pid, mtime, self.started):
                if p.is_dir() and not p.is_symlink():
                    shutil.rmtree(p, ignore_errors=True)
                else:
                    try:
                        p.unlink()
                    except OSError:
                        continue
                removed.append(p)
        # engine version 1 kept one shared log folder per mode, its logs directly in it
        shutil.rmtree(self.root / "logs-edition", ignore_errors=True)
        for old in (self.root / "logs").glob("*worker-*.log"):
            try:
                if old.is_file() and old.stat().st_mtime < self.started:
                    old.unlink()
            except OSError:
                pass
        return removed

    def entries(self) -> list[tuple[Path, float, int]]:
        """(folder, last use, bytes) of every entry."""
        out = []
        try:
            tops = [e for e in os.scandir(self.root) if _K2.match(e.name) and e.is_dir(follow_symlinks=False)]
        except OSError:
            return out
        for top in tops:
            try:
                subs = [e for e in os.scandir(top.path) if _KEY.match(e.name) and e.is_dir(follow_symlinks=False)]
            except OSError:
                continue
            for e in subs:
                d = Path(e.path)
                try:
                    used = (d / "meta.json").stat().st_mtime
                except OSError:
                    used = e.stat(follow_symlinks=False).st_mtime
                out.append((d, used, _tree_bytes(d)))
        for p, pid in self._chart_files():  # each drawn chart is an entry of its own
            if pid is None:
                try:
                    st = p.stat()
                except OSError:
                    continue
                out.append((p, st.st_mtime, st.st_size))
        return out

    def evict(self, max_bytes: int, keep=()) -> int:
        """Remove least recently used entries until the cache holds at most
        ``max_bytes``; never an entry in ``keep`` or used since this build
        started (this build's, or a concurrent build's).  Returns the bytes freed."""
        entries = self.entries()
        total = sum(b for _, _, b in entries)
        keep = {str(self.path(k)) for k in keep}
        freed = 0
        for d, used, size in sorted(entries, key=lambda e: e[1]):
            if total <= max_bytes:
                break
            if str(d) in keep or used >= self.started:
                continue
            if d.parent.parent.name == CHARTS and d.parent.parent.parent == self.root:
                try:
                    d.unlink()
                except OSError:
                    continue
            else:
                _remove_tree(d)
            total -= size
            freed += size
        return freed


def clean(root: Path) -> tuple[int, str]:
    """``build.py --clean-cache``: remove the cache at ``root`` (only what a cache writes).

    Returns (bytes freed, message).  A folder without the cache's marker is
    refused (:class:`InputError`) and left as it is."""
    root = Path(root).absolute()
    if not root.exists():
        return 0, f"no cache at {root}: nothing to remove"
    if not (root / MARKER).is_file():
        raise InputError(f"{root} is not a cache this program wrote (no {MARKER} file in it); nothing was removed")
    freed = 0
    for top in list(root.iterdir()):
        if _K2.match(top.name) and top.is_dir() and not top.is_symlink():
            for e in list(top.iterdir()):
                if (_KEY.match(e.name) or _LEFTOVER.match(e.name)) and e.is_dir() and not e.is_symlink():
                    freed += _tree_bytes(e)
                    _remove_tree(e)
            try:
                top.rmdir()
            except OSError:
                pass
        elif top.name in ("logs", "logs-edition") and top.is_dir() and not top.is_symlink():
            freed += _tree_bytes(top)
            shutil.rmtree(top, ignore_errors=True)
        elif top.name == CHARTS and top.is_dir() and not top.is_symlink():
            for k2 in list(top.iterdir()):
                if _K2.match(k2.name) and k2.is_dir() and not k2.is_symlink():
                    for f in list(k2.iterdir()):
                        if (_KEY.match(f.name) or _LEFTOVER.match(f.name)) and f.is_file() and not f.is_symlink():
                            freed += f.stat().st_size
                            f.unlink()
                    try:
                        k2.rmdir()
                    except OSError:
                        pass
            try:
                top.rmdir()
            except OSError:
                pass
        elif (top.name == "checksums.json" or _STATE_TMP.match(top.name)) and top.is_file():
            freed += top.stat().st_size
            top.unlink()
    (root / MARKER).unlink()
    try:
        root.rmdir()
    except OSError:
        left = sorted(p.name for p in root.iterdir())
        return freed, (f"removed the cache {root}: freed {format_size(freed)} "
                       f"(left what the cache did not write: {', '.join(left[:3])})")
    return freed, f"removed the cache {root}: freed {format_size(freed)}"
