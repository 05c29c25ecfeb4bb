"""The report cache: a report is re-run only when something it depends on changed.

A report's **key** is the sha256 of everything known before it runs: the
notebook source, its parameters (``output_dir`` left out; parameters that
name an input file are keyed by the file's content), the package's code,
templates, codebooks and report configurations (``data/report``), and the
engine version.  Its **dependencies** are what it read while running
(recorded in the kernel, :mod:`barometer.engine.deps`): the data files and
the content files it showed, each with its sha256.  A cached report is a hit
when its key matches and every dependency still has the same checksum.

Checksums are remembered per (size, mtime, inode) so an unchanged build does
not re-read its inputs.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
from pathlib import Path

from ..paths import DATA_DIR, PACKAGE_DIR, ROOT, TEMPLATE_DIR

ENGINE_VERSION = "1"


class Hasher:
    """sha256 of files, remembered by (size, mtime_ns, inode)."""

    def __init__(self, state_file: Path | None = None):
        self.state_file = state_file
        self.memo: dict[str, list] = {}
        self.dirty = False
        if state_file and state_file.exists():
            try:
                self.memo = json.loads(state_file.read_text(encoding="utf-8"))
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
        h = hashlib.sha256()
        with open(p, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
        self.memo[p] = stamp + [h.hexdigest()]
        self.dirty = True
        return h.hexdigest()

    def tree(self, root: Path, suffixes: tuple[str, ...] | None = None) -> str:
        h = hashlib.sha256()
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = sorted(d for d in dirnames if d != "__pycache__" and not d.startswith("."))
            for name in sorted(filenames):
                if suffixes and not name.endswith(suffixes):
                    continue
                p = os.path.join(dirpath, name)
                h.update(os.path.relpath(p, root).encode() + b"\0" + (self.file(p) or "").encode() + b"\n")
        return h.hexdigest()

    def save(self) -> None:
        if self.state_file and self.dirty:
            tmp = self.state_file.with_suffix(f".tmp-{os.getpid()}")
            tmp.write_text(json.dumps(self.memo), encoding="utf-8")
            os.replace(tmp, self.state_file)
            self.dirty = False


def digest(obj) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


class Cache:
    """``<dir>/<key[:2]>/<key>/``: meta.json, executed.ipynb, page.html, estimates-N.csv."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.hasher = Hasher(self.root / "checksums.json")
        self._static: str | None = None

    # -- keys ----------------------------------------------------------------------
    def static_inputs(self) -> dict:
        """Checksums of what every report depends on (computed once per build)."""
        return {
            "engine": ENGINE_VERSION,
            "code": self.hasher.tree(PACKAGE_DIR, (".py", ".yaml", ".json")),
            "templates": self.hasher.tree(TEMPLATE_DIR),
            "codebooks": self.hasher.tree(DATA_DIR / "codebook"),
            "report_configs": self.hasher.tree(DATA_DIR / "report"),
        }

    def static_key(self) -> str:
        if self._static is None:
            self._static = digest(self.static_inputs())
        return self._static

    def key(self, notebook: Path, parameters: dict, extra: dict | None = None) -> str:
        params = {k: v for k, v in parameters.items() if k != "output_dir"}
        return digest({"static": self.static_key(), "notebook": self.hasher.file(notebook),
                       "parameters": params, "extra": extra or {}})

    # -- entries -------------------------------------------------------------------
    def path(self, key: str) -> Path:
        return self.root / key[:2] / key

    def lookup(self, key: str) -> dict | None:
        """The entry's meta if it is a hit (same key, dependencies unchanged)."""
        meta_file = self.path(key) / "meta.json"
        try:
            meta = json.loads(meta_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        for path, sha in meta.get("deps", {}).items():
            if self.hasher.file(path) != sha:
                return None
        return meta

    def store(self, key: str, result: dict, extra_meta: dict | None = None) -> dict:
        d = self.path(key)
        tmp = d.with_name(f".{key}.tmp-{os.getpid()}")
        if tmp.exists():
            shutil.rmtree(tmp)
        tmp.mkdir(parents=True)
        (tmp / "executed.ipynb").write_text(result.get("executed") or "", encoding="utf-8")
        if result.get("html") is not None:
            (tmp / "page.html").write_text(result["html"], encoding="utf-8")
        for i, text in enumerate(result.get("estimates") or []):
            (tmp / f"estimates-{i}.csv").write_text(text, encoding="utf-8")
        files = result.get("files") or []  # [relative path, base64], in the order they were written
        for rel, b64 in files:
            dest = tmp / "files" / rel
            if ".." in Path(rel).parts or Path(rel).is_absolute():
                raise ValueError(f"report output outside its folder: {rel!r}")
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(base64.b64decode(b64))
        meta = {"key": key, "id": result["id"], "seconds": round(result.get("seconds", 0.0), 3),
                "deps": {p: self.hasher.file(p) for p in result.get("deps", []) if self.hasher.file(p)},
                "n_estimates": len(result.get("estimates") or []), "files": [rel for rel, _ in files],
                **(extra_meta or {})}
        (tmp / "meta.json").write_text(json.dumps(meta, indent=1), encoding="utf-8")
        if d.exists():
            shutil.rmtree(d)
        os.replace(tmp, d)
        return meta

    def estimates(self, key: str, meta: dict) -> list[str]:
        return [(self.path(key) / f"estimates-{i}.csv").read_text(encoding="utf-8")
                for i in range(meta.get("n_estimates", 0))]

    @staticmethod
    def uses(meta: dict | None) -> list[str]:
        """The files an entry depended on, relative to the checkout where they are in it."""
        return sorted(os.path.relpath(p, ROOT) if p.startswith(str(ROOT)) else p for p in (meta or {}).get("deps", {}))

    def files(self, key: str, meta: dict) -> list[tuple[str, Path]]:
        """The files a report wrote (relative path, cached copy), in writing order."""
        return [(rel, self.path(key) / "files" / rel) for rel in meta.get("files", [])]

    def page(self, key: str) -> Path:
        return self.path(key) / "page.html"

    def executed(self, key: str) -> Path:
        return self.path(key) / "executed.ipynb"
