"""The errors a build reports, and the exit status each one means.

Every error the program expects derives from :class:`BarometerError` and
carries its exit status, so the command line needs one ``except``:

* :class:`InputError` (exit 2): wrong options, parameters or input files;
  nothing was written.
* :class:`BuildError` (exit 1): a build step or the environment failed (a
  notebook, the disk, a permission, a lock held by another build).

Anything else is a bug in the program: exit 1, "internal error", and the
traceback saved to a log file whose path is printed.
"""

from __future__ import annotations


class BarometerError(Exception):
    """An error the program expected: one line for the user, an exit status."""

    exit_code = 1


class InputError(BarometerError, ValueError):
    """Parameters or input data are wrong: nothing was built (exit status 2)."""

    exit_code = 2


class BuildError(BarometerError, RuntimeError):
    """A build step or the environment failed; the message says which and what to do (exit status 1)."""

    exit_code = 1


class InternalError(BuildError):
    """A bug in this program: in a build step, or in package code a notebook called (exit 1).
    The message says so and where the traceback was saved."""


def save_traceback(text: str, what: str = "internal-error"):
    """Write ``text`` to ``_build/logs/<what>-<time>-<pid>.log`` (or the temporary
    folder when that cannot be written); returns the path, or None."""
    import os
    import tempfile
    import time
    from pathlib import Path

    from .paths import BUILD_DIR

    for folder in (BUILD_DIR / "logs", Path(tempfile.gettempdir())):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            log = folder / f"{what}-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.log"
            log.write_text(text, encoding="utf-8")
            return log
        except OSError:
            continue
    return None


_ANSI = None


def _plain(lines) -> str:
    global _ANSI
    import re

    if _ANSI is None:
        _ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
    return _ANSI.sub("", "\n".join(lines or []))


def _input_error_names() -> set[str]:
    from . import codebook, content, dataset, disclosure, harmonisation, i18n, params, readers, synth  # noqa: F401
    from . import units, validation, weighting, yamlio  # noqa: F401

    out, todo = set(), [InputError]
    while todo:
        cls = todo.pop()
        out.add(cls.__name__)
        todo += cls.__subclasses__()
    return out


def notebook_failure(notebook: str, error, kept) -> str:
    """One line for a notebook that failed.  An exception raised inside this
    package's code (not in the notebook's own cell, not an input error) is a
    bug: the line says "internal error" and where its traceback was saved."""
    from .paths import PACKAGE_DIR

    where = f"in cell {error.cell}" if error.cell is not None else "before any cell"
    tb = _plain(error.traceback)
    frames = [ln for ln in tb.splitlines() if ln.lstrip().startswith("File ")]
    in_package = bool(frames) and str(PACKAGE_DIR) in frames[-1]
    kept_text = f"; executed notebook kept at {kept}" if kept else ""
    if in_package and error.ename not in _input_error_names():
        log = save_traceback(f"notebook {notebook} {where}\n{tb}\n")
        return (f"internal error: {error.ename}: {error.evalue} raised in the package's code while notebook "
                f"{notebook} ran {where} (a bug in this program, not in your data); the traceback is in {log}"
                + kept_text)
    return f"notebook {notebook} failed {where} ({error.ename}: {error.evalue})" + kept_text
