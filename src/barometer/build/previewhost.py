"""The preview's build process: one edition built again and again, warm.

``python -m barometer.build.previewhost <build.py options>`` is started by
``build.py --serve`` (:mod:`.serve`).  It imports the build's stack once,
then builds on every ``build`` line it reads on stdin and answers each with
one JSON line on stdout (``ok``, ``rc``, ``error``: the build's one error
line, ``seconds``).  A build is the normal one (:func:`.pipeline.build`:
the same plan, cache keys, outputs and manifest), with what a fresh build
process would do again kept warm between builds:

* the **warm workers** (:func:`.run.executor`, entered once, all ``--jobs`` of
  them started and their datasets loaded after the first build): a chapter that
  runs again is forked from a worker that has the notebook stack imported and
  the datasets loaded; each report still runs in its own fork, so nothing of
  one build reaches the next;
* the **datasets** this process loads (:func:`barometer.dataset.keep_loaded`),
  while their files are unchanged;
* the **output scan**'s verdicts on files it saw already
  (:func:`barometer.privacy.remember_clean`, per needles and file bytes);
* what :mod:`barometer.keep` keeps per file stamps: the content files parsed,
  the synthetic model's check against the published figures, the page body
  of an unchanged chapter.

What a changed input makes stale is forgotten before the build uses it
(:class:`.warmstate.Inputs`; the workers check for themselves).  Package code
is loaded once: the preview restarts this process (and so its workers) when a
file under ``src/`` changes.  It ends when stdin closes, or with the build's
signal handling (its workers and kernels end, a running build cleans up).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import sys
import time

from .. import dataset, keep, privacy
from ..engine import lifetime
from .warmstate import Inputs

INTERRUPTED = (130, 143, 129)


class WouldRun(Exception):
    """A rehearsal found a chapter to run (:class:`CacheOnly`)."""


class CacheOnly:
    """The rehearsal's executor: it runs nothing; a build that has a chapter to run ends."""

    def run(self, jobs, on_start, on_done):
        raise WouldRun(f"{len(jobs)} to run")


class Host:
    """The long-lived state of the preview's builds of one configuration."""

    def __init__(self, cfg, kind: str = "preview"):
        """``kind``: who keeps it (its workers' logs are in the cache's ``logs/<kind>/``)."""
        self.cfg, self.kind = cfg, kind
        self.inputs = Inputs(data_files=[cfg.data_path, cfg.frame_path])
        self.stack = contextlib.ExitStack()
        self.executor = None
        self.warmed = False
        dataset.keep_loaded()
        privacy.remember_clean()
        keep.enable()

    def _executor(self):
        if self.executor is None:  # started on first use (an up-to-date first build starts none)
            from . import run

            self.executor = self.stack.enter_context(run.executor(self.cfg, self.cfg.open_cache(), self.kind))
        return self.executor

    def warm_up(self) -> None:
        """Start the workers now and have each load what the chapters use (after the first
        build: the synthetic sample is current), so that the first edit finds them warm
        even when the first build was up to date and ran nothing."""
        ex = self._executor()
        if hasattr(ex, "warm"):  # local workers (a Dask cluster's start them itself)
            from . import warmup
            from .edition import _preload

            ex.warm({"id": "warm-up", "prepare_only": True, "hooks": warmup.__name__, "preload": _preload(self.cfg),
                     "settings": self.cfg.settings(),
                     "parameters": {"edition": self.cfg.edition, "country": self.cfg.country}})

    def rehearse(self) -> None:
        """Build once more, every chapter from the cache, into a scratch folder that is then
        removed: what this process keeps from a build for the next (the datasets, the output
        scan's verdicts, the chapters' page bodies, the page stack's imports) is then made
        now, while the researcher opens the page, not by their first edit (11-13 s instead
        of 2-3).  It never runs a notebook: a chapter that would run (an edit saved since the
        first build) ends it before anything is stored, so the edit's own build runs that
        chapter and reports it.  Its failure is not reported: the next build reports its own."""
        import dataclasses
        import shutil
        import tempfile
        from pathlib import Path

        from ..errors import BuildError, InputError
        from .pipeline import build

        scratch = Path(tempfile.mkdtemp(prefix="barometer-preview-warm-"))
        try:
            with contextlib.redirect_stderr(io.StringIO()), contextlib.redirect_stdout(io.StringIO()):
                build(dataclasses.replace(self.cfg, out_dir=scratch / "site", quiet=True, force=False),
                      executor=CacheOnly())
        except (InputError, BuildError, OSError, WouldRun):
            pass
        finally:
            shutil.rmtree(scratch, ignore_errors=True)

    def forget_changed(self) -> None:
        """Drop what was made from input files that changed since the last build."""
        _, dataset_changed = self.inputs.check()  # the package's memos are forgotten there
        if dataset_changed:
            dataset.keep_loaded()
            privacy.remember_clean()
            keep.enable()

    def run(self) -> int:
        """One build, its messages on this process's stdout and stderr; raises as
        :func:`.pipeline.build` does (the caller says it in one line: :func:`barometer.cli.reported`)."""
        from .pipeline import build

        self.forget_changed()
        build(self.cfg, executor=self._executor())
        return 0

    def build(self) -> dict:
        """One build: its exit status and, when it failed, its last error line."""
        from ..cli import reported

        t0 = time.perf_counter()
        err = io.StringIO()
        with contextlib.redirect_stderr(err):
            rc = reported(self.run)
        lines = [ln for ln in err.getvalue().splitlines() if ln.strip()]
        return {"ok": rc == 0, "rc": rc, "seconds": round(time.perf_counter() - t0, 3),
                "error": "" if rc == 0 else (lines[-1] if lines else f"the build ended with exit status {rc}")}

    def close(self) -> None:
        self.stack.close()
        self.executor = None


def main(argv: list[str]) -> int:
    proto = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)  # anything a library prints goes to stderr, not into the answers
    lifetime.install_signal_handlers()
    from ..cli import parser
    from .config import from_args

    cfg = from_args(parser().parse_args(argv))
    host = Host(cfg)
    proto.write(json.dumps({"ready": True, "pid": os.getpid()}) + "\n")
    proto.flush()
    try:
        for line in sys.stdin:
            if line.strip() != "build":
                continue
            res = host.build()
            proto.write(json.dumps(res) + "\n")
            proto.flush()
            if res["rc"] in INTERRUPTED:
                return res["rc"]
            if res["ok"] and not host.warmed:
                host.warmed = True
                host.warm_up()
                host.rehearse()
    except lifetime.Interrupted as exc:
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except (BrokenPipeError, OSError):
        return 0  # the preview is gone
    finally:
        host.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
