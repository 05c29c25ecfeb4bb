"""The one build pipeline: an edition build and a fan-out build differ only in their plan.

1. **check**: the options (:meth:`BaseConfig.check`) and what the plan checks
   without loading anything heavy; where the output may go
   (:func:`publish.check_target`); what a killed build left is removed.
2. **key**: the synthetic sample is brought up to date (it is a build
   product), then the whole output's key (:func:`keys.output_key`); an
   output whose manifest holds it is up to date: nothing runs, nothing is
   written (well under a second).
3. **plan**: the plan names its tasks (without pandas, Altair or the survey
   code); when any will probably run, the workers start now and import
   their stack while this process loads and checks the input data.
4. **run**: each stage of tasks is looked up in the cache; the misses run on
   the executor; a failure keeps the failed notebooks (scrubbed) and stops
   the build with one line.
5. **assemble**: every task's outputs are copied from the cache into the
   work folder, and the plan adds its pages, PDF and ``estimates.csv``.
6. **publish**: the output scan for microdata, the manifest, and the atomic
   swap into place (:class:`publish.Output`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from . import keys, publish, run
from .config import BaseConfig, FanoutConfig
from ..errors import BuildError, InputError
from ..paths import ROOT


def plan_for(cfg: BaseConfig):
    """The plan a configuration asks for."""
    if isinstance(cfg, FanoutConfig):
        from .fanout import FanoutPlan

        return FanoutPlan(cfg)
    from .edition import EditionPlan

    return EditionPlan(cfg)


def git_commit() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, timeout=10)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                               capture_output=True, text=True, timeout=10).stdout.strip()
        return out.stdout.strip() + ("-dirty" if dirty else "") if out.returncode == 0 else ""
    except (OSError, subprocess.SubprocessError):
        return ""


def build(cfg: BaseConfig, executor=None) -> Path:
    """Build ``cfg`` (an edition or a fan-out) into ``cfg.target``; returns that folder.
    Raises :class:`InputError` (exit 2, nothing written) or :class:`BuildError` (exit 1).

    ``executor``: run the notebooks on it (one its caller started and stops, e.g. the
    preview's warm workers, which outlive a build) instead of on workers started for
    this build (:func:`run.executor`)."""
    from .. import disclosure, permalink

    cfg.check()
    plan = plan_for(cfg)
    plan.check()
    disclosure.configure(cfg.min_base)  # this process's rules (the reports get theirs with each job)
    permalink.configure(cfg.base_url)
    try:
        return _build(cfg, plan, executor)
    finally:
        disclosure.configure(None)
        permalink.configure(None)


def up_to_date(cfg: BaseConfig, commit: str | None = None, cache=None) -> bool:
    """Whether ``cfg``'s output holds the key a build of it would compute now (the check
    :func:`build` makes first; the synthetic sample must be current before).  Writes nothing
    but the cache's checksum memo.  ``cache``: its open cache, to share between checks."""
    if cfg.force:
        return False
    cache = cache or cfg.open_cache()
    key = keys.output_key(cache, cfg, git_commit() if commit is None else commit, plan_for(cfg).key_parameters())
    return publish.up_to_date(cfg.target, key)


def main_exit(cfg: BaseConfig) -> int:
    """Build and return the exit status (for callers that have a configuration)."""
    try:
        build(cfg)
    except (InputError, BuildError) as exc:
        print(f"{'error' if exc.exit_code == 2 else 'build failed'}: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted: nothing was published", file=sys.stderr)
        return 130
    return 0


def _build(cfg: BaseConfig, plan, given=None) -> Path:
    timings: dict[str, float] = {}
    t_all = time.perf_counter()
    run.begin_build()
    progress = run.Progress(cfg.quiet)
    target = publish.check_target(cfg.target, inputs=[cfg.data_path, cfg.frame_path], cache_dir=cfg.cache_dir,
                                  slug=cfg.slug)
    publish.clean_stale(target)  # what a killed build left beside the output
    if not cfg.data_path:  # the synthetic sample is a build product: current before anything is keyed
        from ..synthkey import ensure_current

        ensure_current(cfg.edition, progress.log)
    cache = cfg.open_cache()
    commit = git_commit()
    key = keys.output_key(cache, cfg, commit, plan.key_parameters())
    if not cfg.force and publish.up_to_date(target, key):  # nothing changed since the last build of this folder
        progress.log(f"{target} is up to date (nothing it depends on changed; --force builds it again) "
                     f"[{time.perf_counter() - t_all:.2f} s]")
        return target
    t0 = time.perf_counter()
    plan.load(commit)
    stages = plan.stages(cache)
    first = next(stages, [])
    timings["plan"] = time.perf_counter() - t0
    stack = contextlib.ExitStack()  # the workers, until the tasks have run
    executor = given if given is not None else \
        _LazyExecutor(stack, lambda: run.executor(cfg, cache, plan.name))
    try:
        if given is None:
            executor.start(run.likely_misses(cfg, cache, first))  # they boot while the data load
        elif not getattr(given, "spawned", lambda: True)():  # a caller's (the preview's, the build server's)
            n = run.likely_misses(cfg, cache, first)         # is warm already, unless this is its first build
            if n:
                given.prestart(n)
        t0 = time.perf_counter()
        ds = cfg.load_input()
        timings["data"] = time.perf_counter() - t0
    except BaseException:
        stack.close()
        raise
    with publish.Output(target) as out, stack:
        work = out.work
        failed_dir = target.parent / ".failed" / target.name

        def keep() -> Path:  # a failed build's work folder, for debugging (scrubbed of microdata)
            kept = publish.keep_failed(work, failed_dir, out.build_id)
            publish.scrub_failed(kept, cfg.edition, cfg.country, ds)
            return kept

        def keep_notebooks(failed: list) -> Path | None:
            for t in failed:
                if t.result.executed:
                    (work / t.kept_as).parent.mkdir(parents=True, exist_ok=True)
                    (work / t.kept_as).write_text(t.result.executed, encoding="utf-8")
            return keep()

        tasks: list[run.Task] = []
        from . import pdflayout

        if plan.name == "edition":  # what the pages and the PDF import, while the parent waits for the chapters
            pdflayout.preload(pdf=getattr(cfg, "pdf", False))
        t0 = time.perf_counter()
        try:
            for stage in itertools.chain([first], stages):
                run.run_stage(cfg, cache, stage, executor, progress, plan.kind, keep_notebooks)
                tasks += stage
        finally:
            progress.stop()
            stack.close()  # the workers end before anything is assembled
            pdflayout.imported()  # and the preload's imports before this thread imports anything
        timings["execute"] = time.perf_counter() - t0
        if any(t.cache == "miss" for t in tasks):
            cache.evict(cfg.cache_max, keep={t.key for t in tasks} | {t.meta["key"] for t in tasks})
        t0 = time.perf_counter()
        run.materialise(cache, tasks, work)
        assembled = plan.assemble(work, cache, tasks, ds, progress.log, keep)
        timings["assemble"] = time.perf_counter() - t0
        try:  # what the plan still makes in another process (the PDF) is made meanwhile
            t0 = time.perf_counter()
            publish.check_no_microdata(work, cfg.edition, cfg.country, ds)  # a hit too: nothing is kept
            timings["privacy_scan"] = time.perf_counter() - t0
            if assembled.get("finish"):
                assembled["finish"]()
        finally:
            if assembled.get("cancel"):
                assembled["cancel"]()
        timings.update(assembled["timings"])
        timings["total"] = time.perf_counter() - t_all
        manifest(cfg, plan, tasks, ds, timings, commit, work, key, assembled["manifest"])
        out.commit()
    n_run = sum(t.cache == "miss" for t in tasks)
    progress.log(f"built {target} in {time.perf_counter() - t_all:.1f} s ({assembled['summary']}; "
                 f"{n_run} run, {len(tasks) - n_run} from the cache)")
    return target


class _LazyExecutor:
    """The executor, started on first use or by :meth:`start` (an all-cached build starts no worker or cluster)."""

    def __init__(self, stack: contextlib.ExitStack, make):
        self.stack, self.make, self.ex = stack, make, None

    def start(self, n: int) -> None:
        """Start it now for ``n`` tasks (none: not yet); local workers are spawned without waiting for them."""
        if n and self.ex is None:
            self.ex = self.stack.enter_context(self.make())
            if hasattr(self.ex, "prestart"):
                self.ex.prestart(n)

    def run(self, jobs, on_start, on_done):
        if self.ex is None:
            self.ex = self.stack.enter_context(self.make())
        self.ex.run(jobs, on_start, on_done)


def manifest(cfg: BaseConfig, plan, tasks: list, ds, timings: dict, commit: str, work: Path, key: str,
             extra: dict) -> dict:
    """``manifest.json``: what was built from what, the same fields for both build modes."""
    from ..disclosure import rules
    from ..synth import sha256

    r = rules()
    inputs = [{"path": os.path.relpath(p, ROOT) if Path(p).resolve().is_relative_to(ROOT) else str(p),
               "sha256": sha256(Path(p)), "bytes": Path(p).stat().st_size} for p in ds.files]
    m = {
        "report": "Innovation Barometer", "mode": plan.name, "slug": cfg.slug,
        "parameters": {"edition": cfg.edition, "country": cfg.country, "lang": cfg.lang,
                       "data_path": cfg.data_path or None, "frame_path": cfg.frame_path or None,
                       "synthetic": ds.synthetic},
        "disclosure": {"min_base": r.min_base, "min_cell": r.min_cell},
        "built_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "git_commit": commit, "build_key": key, "executor": cfg.executor, "jobs": cfg.n_jobs,
        "inputs": inputs, "versions": keys.versions(),
        "tasks": [t.record() for t in tasks],
        "hits": sum(t.cache == "hit" for t in tasks), "misses": sum(t.cache == "miss" for t in tasks),
        "timings_seconds": {k: round(v, 3) for k, v in timings.items()},
        **extra,
    }
    m["files"] = sorted(str(p.relative_to(work)) for p in work.rglob("*") if p.is_file()) + ["manifest.json"]
    (work / "manifest.json").write_text(json.dumps(m, indent=2, ensure_ascii=False), encoding="utf-8")
    return m
