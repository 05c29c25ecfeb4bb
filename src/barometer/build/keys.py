"""The only place a cache key is computed.

* :func:`task_key`: one chapter or unit report: its notebook, parameters,
  every setting that can change its output (:meth:`BaseConfig.settings`),
  package code, templates, codebooks and report configurations (the cache's
  static key) and what its plan adds (the content listing, the estimates an
  index summarises, the frame); the data and content files it reads are
  recorded when it runs and checked at every lookup.
* :func:`output_key`: a whole build's output, without loading the data:
  the same static inputs, every notebook, the edition's content, targets and input
  data files, the parameters and settings, package versions and the git
  commit (printed on the pages).  An output whose manifest holds this key
  is up to date.  Checksums are remembered per file stamp, so both take
  milliseconds when nothing changed.
"""

from __future__ import annotations

import functools
import platform
from importlib import metadata

from ..engine.cache import Cache, digest

PACKAGES = ["barometer", "numpy", "pandas", "scipy", "altair", "vl-convert-python", "papermill", "nbconvert",
            "nbformat", "weasyprint", "jinja2", "pyyaml", "jsonschema", "markdown-it-py", "pyreadstat", "openpyxl"]


def versions() -> dict[str, str]:
    """Python's and every package's version (part of the output key, listed in the manifest)."""
    return dict(_versions())


@functools.cache
def _versions() -> tuple:  # read once per process (``--site`` keys every report in one)
    out = {"python": platform.python_version()}
    for p in PACKAGES:
        try:
            out[p] = metadata.version(p)
        except metadata.PackageNotFoundError:
            out[p] = "not installed"
    return tuple(out.items())


def task_key(cache: Cache, cfg, task) -> str:
    return cache.key(task.notebook, task.parameters, {**task.key_extra, "settings": cfg.settings()},
                     without=task.key_without)


def output_key(cache: Cache, cfg, commit: str, parameters: list) -> str:
    from ..paths import DATA_DIR, SYNTH_DIR

    h = cache.hasher
    data = ([h.file(cfg.data_path), h.file(cfg.frame_path) if cfg.frame_path else ""] if cfg.data_path
            else [h.tree(SYNTH_DIR / cfg.edition) if (SYNTH_DIR / cfg.edition).is_dir() else ""])
    key = digest({"static": cache.static_key(), "notebooks": h.tree(cfg.notebook_dir, (".ipynb",)),
                  "content": h.tree(DATA_DIR / "content" / cfg.edition), "targets": h.tree(DATA_DIR / "targets"), "data": data,
                  "parameters": [cfg.slug, cfg.edition, cfg.country, cfg.lang, cfg.data_path, cfg.frame_path,
                                 cfg.settings(), str(cfg.notebook_dir), *parameters],
                  "versions": versions(), "commit": commit})
    h.save()
    return key


def content_listing(edition: str) -> str:
    """Names (not contents) of the edition's content files: a chapter lists the items of
    its kind, so a new or removed case re-runs the chapters; a changed one
    re-runs the chapters that read it (their recorded dependencies).  An edition reads
    only its own content (``data/content/<edition>/``): another edition's is not in its keys."""
    from ..paths import DATA_DIR

    root = DATA_DIR / "content" / edition
    return digest(sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()) if root.is_dir() else [])
