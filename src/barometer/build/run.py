"""Running a plan's tasks, the same way in both build modes.

A :class:`Task` is a notebook, its parameters and what its plan declares
about it (what goes in its key, how its job runs, where its outputs go).
:func:`run_stage` looks every task up in the cache, runs the misses on the
executor (:func:`executor`: local warm workers or Dask), stores the good
results, and, when any failed, keeps their executed notebooks (scrubbed of
microdata) and raises one :class:`BuildError` line; :func:`materialise`
copies every task's outputs into the work folder, from the cache entry
whose bytes were checked.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

from . import keys
from ..engine.result import JobResult
from ..errors import BuildError, InternalError


@dataclass
class Task:
    id: str                     # chapter id, "units/101", "index"
    notebook: Path
    parameters: dict
    title: str = ""
    page: str = ""              # its page in the output (a fan-out report's page is rendered by its worker)
    executed_as: str = ""       # where its executed notebook goes in the output ("" : not published)
    kept_as: str = ""           # where a failed run's executed notebook is kept under .failed/<name>/
    key_extra: dict = field(default_factory=dict)   # what its plan adds to its key (keys.task_key)
    key_without: tuple = ()     # report-config files its key leaves out (its own slice of them is in key_extra)
    job: dict = field(default_factory=dict)         # how it runs (barometer.engine.executors.make_job)
    meta_extra: dict = field(default_factory=dict)  # stored with its cache entry
    key: str = ""
    cache: str = "miss"         # hit | miss
    seconds: float = 0.0
    weight: float = 0.0         # how long it probably runs, relative to its stage's others (its plan's guess)
    meta: dict | None = None
    result: JobResult | None = None
    body: str = ""              # an edition chapter's page body (render step)

    def record(self) -> dict:
        """Its line in ``manifest.json``."""
        from ..engine.cache import Cache

        return {"id": self.id, "notebook": self.notebook.name, "page": self.page, "key": self.key,
                "cache": self.cache, "seconds": round(self.seconds, 3), "uses": Cache.uses(self.meta)}


class Progress:
    """One line per task as it starts and ends (on stdout), and a live bar on a terminal; --quiet: none."""

    def __init__(self, quiet: bool):
        self.quiet, self.total, self.done = quiet, 0, 0
        self.live = None
        if not quiet and sys.stderr.isatty():
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress as RP, TextColumn, TimeElapsedColumn

            self.live = RP(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                           TimeElapsedColumn(), console=Console(stderr=True), transient=True)
            self.bar = self.live.add_task("notebooks", total=0)
            self.live.start()

    def log(self, msg: str) -> None:
        if not self.quiet:
            print(msg, flush=True)

    def add(self, n: int) -> None:
        self.total += n
        if self.live is not None:
            self.live.update(self.bar, total=self.total)

    def start(self, job: dict) -> None:
        self.log(f"running {job['id']} ({Path(job['notebook']).name}) ...")
        if self.live is not None:
            self.live.update(self.bar, description=f"running {job['id']}")

    def finish(self, task: Task, ok: bool) -> None:
        self.done += 1
        self.log(f"[{self.done}/{self.total}] {task.id} " + (f"done in {task.seconds:.1f} s" if ok else "FAILED"))
        if self.live is not None:
            self.live.advance(self.bar)

    def stop(self) -> None:
        if self.live is not None:
            self.live.stop()
            self.live = None


def executor(cfg, cache, kind: str):
    """Where the notebooks run: ``--executor local`` (warm workers on this
    machine; their chart servers keep what they draw in the cache's chart
    store, except with ``--force``, which draws every chart again) or ``dask``
    (each Dask worker starts its warm worker with the job's hooks)."""
    from . import warmup
    from ..engine.executors import DaskExecutor, LocalExecutor

    log_dir = cache.log_dir(kind)
    if cfg.executor == "dask":
        return DaskExecutor(cfg.n_jobs, cfg.scheduler, log_dir)
    return LocalExecutor(cfg.n_jobs, log_dir, hooks=warmup.__name__,  # no more workers start than jobs
                         charts=None if cfg.force else cache.charts_dir)


def lookup(cfg, cache, tasks: list[Task]) -> list[Task]:
    """Key every task and look it up (every file of a hit is checked); returns the misses."""
    for t in tasks:
        t.key = keys.task_key(cache, cfg, t)
        t.meta = None if cfg.force else cache.lookup(t.key)
        t.cache, t.seconds = ("hit", 0.0) if t.meta is not None else ("miss", 0.0)
    return [t for t in tasks if t.meta is None]


def likely_misses(cfg, cache, tasks: list[Task]) -> int:
    """How many of ``tasks`` will probably run (their keys, and their entries'
    ``meta.json`` only): how many workers to start before the data are loaded.
    :func:`lookup` decides."""
    if cfg.force:
        return len(tasks)
    return sum(not cache.probably_hit(keys.task_key(cache, cfg, t)) for t in tasks)


#: this process's current build (:func:`begin_build`): a ``--force`` build's jobs carry it
_BUILD = [""]


def begin_build() -> None:
    """A new build starts in this process (one that outlives builds runs several)."""
    import uuid

    _BUILD[0] = uuid.uuid4().hex


def job(cfg, t: Task) -> dict:
    """``t``'s job; with ``--force``, ``fresh_charts`` names this build: a warm worker that drew
    charts for an earlier build draws them again (:func:`barometer.engine.worker._fresh_charts`)."""
    from . import warmup
    from ..engine.executors import make_job

    extra = {"fresh_charts": _BUILD[0] or "force"} if cfg.force else {}
    return make_job(t.id, t.notebook, t.parameters, cfg.notebook_dir, timeout=cfg.timeout,
                    settings=cfg.settings(), hooks=warmup.__name__, **extra, **t.job)


def run_stage(cfg, cache, tasks: list[Task], execu, progress: Progress, kind: str, on_failure) -> None:
    """Look ``tasks`` up, run the misses on ``execu`` and store what succeeded.
    When any failed, ``on_failure(failed)`` keeps their notebooks and the
    build stops with one line naming the first (and how many more)."""
    misses = lookup(cfg, cache, tasks)
    if len(tasks) > len(misses):
        progress.log(f"{len(tasks) - len(misses)} of {len(tasks)} {kind} unchanged (from the cache)")
    if not misses:
        return
    by_id = {t.id: t for t in misses}
    failed: list[Task] = []
    # the longest first (a stable sort: equal weights keep the plan's order), so that no long
    # task starts last while the other workers sit idle; what a task makes does not depend on it
    misses = sorted(misses, key=lambda t: -t.weight)

    def on_done(res: JobResult) -> None:
        t = by_id[res.id]
        t.result, t.seconds = res, res.seconds
        if res.ok:
            t.meta = cache.store(t.key, res, {"task": t.id, "notebook": t.notebook.name, **t.meta_extra},
                                 replace=cfg.force)
        else:
            failed.append(t)
        progress.finish(t, res.ok)

    progress.add(len(misses))
    try:
        execu.run([job(cfg, t) for t in misses], progress.start, on_done)
    except BuildError:  # e.g. the cache's disk is full: its own message
        raise
    except RuntimeError as exc:  # a worker could not start (its log says why)
        raise BuildError(f"could not run the notebooks: {exc}") from None
    finally:
        cache.hasher.save()
    if failed:
        progress.stop()
        failed.sort(key=tasks.index)
        raise _failure(failed, on_failure(failed), len(tasks) - len(failed))


def _failure(failed: list[Task], kept: Path | None, n_good: int) -> BuildError:
    from ..errors import notebook_failure

    first = failed[0]
    where = (kept / first.kept_as) if kept is not None and first.result.executed else None
    line = notebook_failure(first.notebook.name, first.result.error, where)
    internal = line.startswith("internal error")  # a bug in the package's code, not in the notebook or the data
    msg = line + f" [{first.id}]" if internal else f"{first.id}: {line}"
    if len(failed) > 1:
        msg += f" ({len(failed) - 1} more failed: {', '.join(t.id for t in failed[1:6])}" \
               + (", ..." if len(failed) > 6 else "") + (f"; kept in {kept}" if kept else "") + ")"
    if n_good:
        msg += f"; the {n_good} that succeeded are cached and will not run again"
    return (InternalError if internal else BuildError)(msg)


def materialise(cache, tasks: list[Task], work: Path) -> None:
    """Every task's outputs into ``work``: its executed notebook, its page and
    the files it wrote (the bytes copied are the bytes the lookup checked)."""
    for t in tasks:
        if t.executed_as:
            cache.copy_executed(t.key, t.meta, work / t.executed_as)
        if t.page and t.meta.get("checksums", {}).get("page.html"):
            cache.copy_page(t.key, t.meta, work / t.page)
        cache.copy_files(t.key, t.meta, work)


def estimates_text(cache, tasks: list[Task]) -> str:
    """One CSV of every task's estimates rows, in task order, then in the order each wrote them (no pandas)."""
    header, rows = None, []
    for t in tasks:
        for text in cache.estimates(t.key, t.meta):
            lines = text.splitlines()
            if not lines:
                continue
            if header is None:
                header = lines[0]
            elif lines[0] != header:
                raise BuildError(f"{t.id}: its estimates file has other columns than the others: {lines[0]!r}")
            rows += lines[1:]
    return "" if header is None else "\n".join([header, *rows]) + "\n"
