"""What a report notebook shows, and what it tells the build engine.

:func:`show_html` is the one place a chapter's markup goes to the notebook
(tests replace it to capture the markup); :func:`sensitive_names` is what the
display guard (:mod:`barometer.privacy`) refuses to show; :func:`record_use`
tells the engine which files a report read.
"""

from __future__ import annotations

import functools

from .codebook import codebook_path, load_codebook
from .params import COUNTRIES


def show_html(markup: str) -> None:
    from IPython.display import HTML, display

    display(HTML(markup))


def sensitive_names(edition: str) -> set[str]:
    """Sensitive variables of every codebook the edition has (Norway: 2018 only).

    Remembered per codebook file version: every report of a fan-out asks, and
    a warm worker answers from memory."""
    stamps = []
    for c in COUNTRIES:
        path = codebook_path(edition, c)
        if path.exists():
            st = path.stat()
            stamps.append((c, st.st_mtime_ns, st.st_size))
    return set(_sensitive_for(edition, tuple(stamps)))


@functools.lru_cache(maxsize=16)
def _sensitive_for(edition: str, stamps: tuple) -> frozenset[str]:
    return frozenset(n for c, _, _ in stamps for n in load_codebook(edition, c).sensitive)


def record_use(path) -> None:
    """Tell the build engine (if any) that this report used ``path``."""
    import sys

    hook = getattr(sys.modules.get("barometer.engine.deps"), "record", None)
    if hook is not None:
        hook(path)
