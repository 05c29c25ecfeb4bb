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
