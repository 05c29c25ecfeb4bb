"""What a process that outlives one build must forget when the inputs change.

A build's processes normally live for one build: every report configuration,
codebook and dataset they parse or load is current by construction.  The
preview (:mod:`.previewhost`) keeps its build process and its warm workers
(:mod:`barometer.engine.worker`) across builds, so each of them asks
:class:`Inputs` before it uses what it remembers:

* **configuration inputs**: every file under ``data/`` and ``report_templates/``.
  When one changed, every memoised function of the package (``functools.cache``,
  ``lru_cache``: the report configurations, measures, interface strings,
  codebooks, template environments, ...) is forgotten (:func:`forget_memos`);
  the next use reads the files again.
* **dataset inputs**: what :func:`barometer.dataset.load` reads: the data files
  and everything under ``data/`` except the content files and the report
  configurations (``data/report/*.yaml``, except ``measures.yaml``, which
  defines the indicator columns).  When one changed, the loaded datasets are
  dropped.  Anything new under ``data/`` counts as a dataset input until it is
  named here as one that is not (the safe side: a needless reload).

Package code is not watched here: a change under ``src/`` restarts the
preview's processes (:mod:`.serve`).  The functions are pure over the files'
(mtime, size) stamps.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

#: under ``data/``: what :func:`barometer.dataset.load` never reads (their change keeps a loaded dataset)
NOT_DATASET = ("content",)
#: under ``data/report/``: the one configuration file the datasets are built from
DATASET_CONFIG = ("measures.yaml",)

Stamps = tuple  # ((path, mtime_ns, size), ...) sorted by path


def stamps(roots) -> Stamps:
    """(path, mtime in ns, size) of every file under ``roots`` (hidden files and
    ``__pycache__`` left out), sorted."""
    out = []
    for root in roots:
        for folder, dirs, files in os.walk(root):
            dirs[:] = [d for d in dirs if not d.startswith(".") and d != "__pycache__"]
            for name in files:
                if name.startswith("."):
                    continue
                path = os.path.join(folder, name)
                try:
                    st = os.stat(path)
                except OSError:  # removed between the listing and the stat
                    continue
                out.append((path, st.st_mtime_ns, st.st_size))
    return tuple(sorted(out))


def is_dataset_input(path: str, data_dir) -> bool:
    """Whether a change to ``path`` (under ``data_dir``) can change a loaded dataset."""
    rel = Path(os.path.relpath(path, data_dir)).parts
    if not rel or rel[0] in NOT_DATASET:
        return False
    if rel[0] == "report":
        return len(rel) == 2 and rel[1] in DATASET_CONFIG or not rel[-1].endswith((".yaml", ".yml"))
    return True


def dataset_stamps(all_stamps: Stamps, data_dir, data_files=()) -> Stamps:
    """The part of ``all_stamps`` (of ``data_dir``) the datasets depend on, and the stamps of
    ``data_files`` (a ``--data`` or ``--frame`` file outside it)."""
    data_dir = os.path.abspath(data_dir)
    inside = tuple(s for s in all_stamps if is_dataset_input(s[0], data_dir))
    return inside + stamps_of(f for f in data_files if f)


def stamps_of(files) -> Stamps:
    out = []
    for f in files:
        try:
            st = os.stat(f)
        except OSError:
            out.append((str(f), -1, -1))
            continue
        out.append((str(f), st.st_mtime_ns, st.st_size))
    return tuple(sorted(out))


def forget_memos(prefix: str = "barometer") -> int:
    """Forget every memoised function (anything with ``cache_clear``) of the
    modules under ``prefix``; returns how many were cleared."""
    n = 0
    for name, mod in list(sys.modules.items()):
        if mod is None or not (name == prefix or name.startswith(prefix + ".")):
            continue
        for value in list(vars(mod).values()):
            clear = getattr(value, "cache_clear", None)
            if callable(clear) and getattr(value, "__module__", None) == name:
                clear()
                n += 1
    return n


class Inputs:
    """The inputs a long-lived process last saw; :meth:`check` says what changed since."""

    def __init__(self, data_dir=None, template_dir=None, data_files=()):
        from ..paths import DATA_DIR, TEMPLATE_DIR

        self.data_dir = Path(data_dir or DATA_DIR)
        self.template_dir = Path(template_dir or TEMPLATE_DIR)
        self.data_files = tuple(data_files)
        self.config: Stamps | None = None
        self.dataset: Stamps | None = None

    def check(self) -> tuple[bool, bool]:
        """(configuration inputs changed, dataset inputs changed) since the last check
        (both False on the first); forgets the package's memos when the former."""
        data = stamps([self.data_dir])
        config = data + stamps([self.template_dir])
        dataset = dataset_stamps(data, self.data_dir, self.data_files)
        config_changed = self.config is not None and config != self.config
        dataset_changed = self.dataset is not None and dataset != self.dataset
        self.config, self.dataset = config, dataset
        if config_changed:
            forget_memos()
        return config_changed, dataset_changed
