"""``python build.py --by region``: one report per unit plus an index page.

plan (units from the codebook) -> keys -> cache lookups -> run the misses on
the executor (warm local workers or Dask) -> index page -> assemble in a
temporary folder -> move into place (:class:`barometer.build.publish.Output`).

Layout::

    _build/<edition>-<country>-<lang>-by-<by>/
        index.html            every unit against the nation (CIs shown)
        units/<code>.html     one page per unit
        estimates.csv         the 15 contract columns, then by, unit
        manifest.json         per report: cache key, hit or miss, seconds
        assets/

An unchanged build touches nothing but ``manifest.json`` and takes well under
a second: it only hashes the inputs (checksums remembered by mtime) and reads
the cache entries.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from .. import yamlio
from .config import BaseConfig
from ..errors import InputError
from ..paths import DATA_DIR, TEMPLATE_DIR
from ..engine.cache import Cache, digest

UNIT_NOTEBOOK = "unit_report.ipynb"
INDEX_NOTEBOOK = "unit_index.ipynb"


class FanoutInputError(InputError):
    """Wrong parameters: nothing is built (exit status 2)."""


@dataclass(kw_only=True)
class FanoutConfig(BaseConfig):
    """One report per unit: ``_build/<edition>-<country>-<lang>-by-<by>/``."""

    by: str
    executor: str = "local"
    scheduler: str | None = None
    limit: int | None = None          # build only the first N units (tests, benchmarks)
    timeout: float | None = 600

    @property
    def slug(self) -> str:
        return f"{super().slug}-by-{self.by}"


@dataclass
class Task:
    id: str
    notebook: Path
    parameters: dict
    key: str = ""
    page: str = ""              # path of the page in the output, e.g. units/101.html
    title: str = ""
    unit: str | None = None
    cache: str = "miss"         # hit | miss
    seconds: float = 0.0
    meta: dict | None = None
    result: dict | None = None
    inputs: dict = field(default_factory=dict)


# --------------------------------------------------------------------------------------
def _validate(cfg: FanoutConfig):
    from .. import units

    if not (DATA_DIR / "report" / f"{cfg.edition}.yaml").exists():
        known = sorted(p.stem for p in (DATA_DIR / "report").glob("[0-9][0-9][0-9][0-9].yaml"))
        raise FanoutInputError(f"unknown edition {cfg.edition!r}: choose one of {', '.join(known)}")
    cfg.check_paths()  # --data / --frame: control characters, missing files (InputError)
    cfg.check_settings()  # --min-base
    from .. import yamlio

    for name in (f"{cfg.edition}.yaml", "measures.yaml", "i18n.yaml", "disclosure.yaml"):  # every report reads them
        yamlio.load_file(DATA_DIR / "report" / name)  # too big, not YAML, aliases: one line, exit 2
    if cfg.executor not in ("local", "dask"):
        raise FanoutInputError(f"unknown executor {cfg.executor!r}: local or dask")
    for nb in (UNIT_NOTEBOOK, INDEX_NOTEBOOK):
        if not (cfg.notebook_dir / nb).exists():
            raise FanoutInputError(f"notebook {cfg.notebook_dir / nb} not found")
    from . import publish
    from ..errors import InputError

    try:
        publish.check_target(cfg.target, inputs=[cfg.data_path, cfg.frame_path], cache_dir=cfg.cache_dir,
                             slug=cfg.slug)
    except InputError as exc:
        raise FanoutInputError(str(exc)) from None
    publish.clean_stale(cfg.target)  # what a killed build left beside the output
    try:
        us = units.units(cfg.by, cfg.edition, cfg.country)
    except (units.UnitError, OSError) as exc:
        raise FanoutInputError(str(exc)) from None
    return us[: cfg.limit] if cfg.limit else us


def plan(cfg: FanoutConfig, cache: Cache, us: list | None = None) -> tuple[list[Task], list]:
    us = _validate(cfg) if us is None else us
    data_path = str(Path(cfg.data_path).resolve()) if cfg.data_path else ""
    tasks = []
    for u in us:
        params = {"by": cfg.by, "unit": u.code, "edition": cfg.edition, "country": cfg.country, "lang": cfg.lang,
                  "data_path": data_path, "output_dir": ""}
        t = Task(id=f"units/{u.code}", notebook=cfg.notebook_dir / UNIT_NOTEBOOK, parameters=params,
                 page=f"units/{u.code}.html", title=u.name(cfg.lang), unit=u.code)
        t.key = cache.key(t.notebook, params, {"frame_path": cfg.frame_path, "settings": cfg.settings()})
        tasks.append(t)
    return tasks, us


def _index_task(cfg: FanoutConfig, cache: Cache, estimates_csv: str) -> Task:
    data_path = str(Path(cfg.data_path).resolve()) if cfg.data_path else ""
    params = {"by": cfg.by, "estimates_path": "", "edition": cfg.edition, "country": cfg.country, "lang": cfg.lang,
              "data_path": data_path, "output_dir": ""}
    t = Task(id="index", notebook=cfg.notebook_dir / INDEX_NOTEBOOK, parameters=params, page="index.html",
             inputs={"estimates_path": estimates_csv})
    from .. import units

    t.title = units.config()["prose"]["index_title"][cfg.lang].format(
        edition=cfg.edition, dimension=units.dimension(cfg.by)["label"][cfg.lang].lower())
    t.key = cache.key(t.notebook, params, {"estimates": digest(estimates_csv), "frame_path": cfg.frame_path,
                                           "settings": cfg.settings()})
    return t


def merge_estimates(parts: list[str]) -> str:
    """One CSV from the reports' estimates files (same header; no pandas)."""
    header, rows = None, []
    for text in parts:
        lines = text.splitlines()
        if not lines:
            continue
        if header is None:
            header = lines[0]
        elif lines[0] != header:
            raise ValueError(f"estimates files disagree on their columns: {lines[0]!r} vs {header!r}")
        rows += lines[1:]
    return "" if header is None else "\n".join([header, *rows]) + "\n"


# --------------------------------------------------------------------------------------
class Progress:
    """Per-report status: a rich live display, or one plain line per report (--quiet: none)."""

    def __init__(self, total: int, quiet: bool):
        self.quiet, self.total, self.done = quiet, total, 0
        self.live = None
        if not quiet and sys.stderr.isatty():
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress as RP, TextColumn, TimeElapsedColumn

            self.console = Console(stderr=True)
            self.live = RP(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                           TimeElapsedColumn(), console=self.console, transient=False)
            self.bar = self.live.add_task("reports", total=total)
            self.live.start()
        elif not quiet:
            from rich.console import Console

            self.console = Console(stderr=True, highlight=False)

    def start(self, job: dict) -> None:
        if self.live is not None:
            self.live.update(self.bar, description=f"running {job['id']}")

    def finish(self, task_id: str, ok: bool, seconds: float, cached: bool = False) -> None:
        self.done += 1
        if self.quiet:
            return
        status = "[green]cached[/]" if cached else ("[green]ok[/]" if ok else "[bold red]FAILED[/]")
        self.console.print(f"[{self.done}/{self.total}] {task_id:<16} {status} {seconds:6.2f} s")
        if self.live is not None:
            self.live.advance(self.bar)

    def stop(self) -> None:
        if self.live is not None:
            self.live.stop()


def _page_context(cfg: FanoutConfig, commit: str, index_title: str) -> dict:
    from .render import page_context

    period = yamlio.load_file(DATA_DIR / "codebook" / f"{cfg.edition}-{cfg.country}.yaml")["period"]
    return page_context(cfg, nav=[{"id": "index", "href": "index.html", "title": index_title}],
                        synthetic=not cfg.data_path, period=period, commit=commit)


def _job(cfg: FanoutConfig, t: Task, context: dict) -> dict:
    from . import warmup
    from ..engine.executors import make_job

    return make_job(t.id, t.notebook, t.parameters, cfg.notebook_dir,
                    [[cfg.edition, cfg.country, t.parameters.get("data_path") or "", cfg.frame_path or ""]],
                    track_content=False, timeout=cfg.timeout, inputs=t.inputs, settings=cfg.settings(),
                    hooks=warmup.__name__,
                    render={"context": context, "page_id": t.id.replace("/", "-"), "title": t.title,
                            "root": "../" * t.page.count("/")})


def _executor(cfg: FanoutConfig, log_dir: Path):
    from ..engine.executors import DaskExecutor, LocalExecutor

    if cfg.executor == "dask":
        return DaskExecutor(cfg.n_jobs, cfg.scheduler, log_dir)
    return LocalExecutor(cfg.n_jobs, log_dir)


def _run(cfg, cache, tasks, execu, progress, context, failures):
    """Run the tasks that missed; store the good ones, note the failed ones."""
    by_id = {t.id: t for t in tasks}

    def on_done(res):
        t = by_id[res["id"]]
        t.result, t.seconds = res, res.get("seconds", 0.0)
        if res["ok"]:
            t.meta = cache.store(t.key, res, {"unit": t.unit, "notebook": t.notebook.name}, replace=cfg.force)
        else:
            failures.append(t)
        progress.finish(t.id, res["ok"], t.seconds)

    execu.run([_job(cfg, t, context) for t in tasks], progress.start, on_done)


def _keep_failed(cfg: FanoutConfig, t: Task) -> Path | None:
    executed = (t.result or {}).get("executed")
    if not executed:
        return None
    from . import publish

    folder = cfg.target.parent / ".failed" / cfg.target.name
    if folder.exists() and publish.read_marker(folder) is None:
        return None  # not ours: never write into it
    kept = folder / (t.id + ".ipynb")
    kept.parent.mkdir(parents=True, exist_ok=True)
    if not (folder / publish.MARKER).exists():
        publish.write_marker(folder, "", [])
    kept.write_text(executed, encoding="utf-8")
    return kept


def _summary(cfg: FanoutConfig, failures: list[Task], dataset) -> str:
    """The failed reports, one line each; their executed notebooks are kept (scrubbed of microdata)."""
    from . import publish
    from ..errors import notebook_failure

    lines = [f"{len(failures)} report(s) failed:"]
    for t in failures:
        e = t.result["error"]
        kept = _keep_failed(cfg, t)
        lines.append(f"  {t.id}: {notebook_failure(t.notebook.name, e, kept)}")
    folder = cfg.target.parent / ".failed" / cfg.target.name
    try:
        publish.scrub_failed(folder, cfg.edition, cfg.country, dataset())
    except InputError:  # the input cannot be read, so the kept notebooks cannot be checked: empty them
        for p in folder.rglob("*.ipynb"):
            p.write_text(publish.REMOVED, encoding="utf-8")
    return "\n".join(lines)


def _write_manifest(path: Path, cfg: FanoutConfig, tasks: list[Task], commit: str, timings: dict, up_to_date: bool):
    m = {
        "report": "Innovation Barometer", "slug": cfg.slug, "by": cfg.by,
        "parameters": {"edition": cfg.edition, "country": cfg.country, "lang": cfg.lang,
                       "data_path": cfg.data_path or None, "synthetic": not cfg.data_path},
        "built_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "git_commit": commit, "executor": cfg.executor, "jobs": cfg.n_jobs, "up_to_date": up_to_date,
        "output_key": digest([t.key for t in tasks]),
        "reports": [{"id": t.id, "notebook": t.notebook.name, "unit": t.unit, "page": t.page, "key": t.key,
                     "cache": t.cache, "seconds": round(t.seconds, 3),
                     "uses": Cache.uses(t.meta)}
                    for t in tasks],
        "hits": sum(t.cache == "hit" for t in tasks), "misses": sum(t.cache == "miss" for t in tasks),
        "timings_seconds": {k: round(v, 3) for k, v in timings.items()},
    }
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text(json.dumps(m, indent=2, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, path)
    return m


def build_fanout(cfg: FanoutConfig) -> int:
    """Build every unit report and the index; returns the exit status."""
    t_all = time.perf_counter()
    timings: dict[str, float] = {}
    try:
        us = _validate(cfg)  # before anything is written (the cache folder included)
    except InputError as exc:  # options, units.yaml, the codebook, the input files
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not cfg.data_path:  # the synthetic sample is a build product: current before the reports are keyed
        from ..synthkey import ensure_current

        ensure_current(cfg.edition, None if cfg.quiet else print)
    cache = cfg.open_cache()
    tasks, us = plan(cfg, cache, us)
    for t in tasks:
        t.meta = None if cfg.force else cache.lookup(t.key)  # every file of the entry checked
        if t.meta is not None:
            t.cache, t.seconds = "hit", 0.0
    timings["plan"] = time.perf_counter() - t_all
    target = cfg.target
    misses = [t for t in tasks if t.cache == "miss"]

    # nothing to run: is the index (keyed on the merged estimates) cached too?
    if not misses:
        est_csv = merge_estimates([s for t in tasks for s in cache.estimates(t.key, t.meta)])
        index = _index_task(cfg, cache, est_csv)
        index.meta = None if cfg.force else cache.lookup(index.key)
        manifest = target / "manifest.json"
        if index.meta is not None and manifest.exists():
            try:
                old = json.loads(manifest.read_text(encoding="utf-8"))
            except ValueError:
                old = {}
            if old.get("output_key") == digest([t.key for t in tasks] + [index.key]):
                index.cache = "hit"
                timings["total"] = time.perf_counter() - t_all
                _write_manifest(manifest, cfg, tasks + [index], old.get("git_commit", ""), timings, True)
                cache.hasher.save()
                if not cfg.quiet:
                    print(f"{target} is up to date ({len(tasks)} reports + index, all cached) "
                          f"in {time.perf_counter() - t_all:.2f} s")
                return 0

    from . import edition as edition_build  # heavy (pandas): only when something is (re)assembled

    loaded: list = []

    def dataset():  # the input, loaded once: for the output scan (and checked first with --data)
        if not loaded:
            loaded.append(edition_build.load_input(cfg))
        return loaded[0]

    if misses and (cfg.data_path or cfg.frame_path):  # bad input: one message (exit 2), not one failure per report
        try:
            dataset()
        except InputError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
    commit = edition_build._git_commit()
    index_title = _index_task(cfg, cache, "").title
    context = _page_context(cfg, commit, index_title)
    log_dir = cache.log_dir("fanout")  # this build's worker logs (kernel warnings, tracebacks)
    progress = Progress(len(misses) + 1, cfg.quiet)
    failures: list[Task] = []
    execu = _executor(cfg, log_dir)
    try:
        ctx = execu if hasattr(execu, "__enter__") else None
        if ctx is not None:
            ctx.__enter__()
        try:
            t0 = time.perf_counter()
            if misses:
                _run(cfg, cache, misses, execu, progress, context, failures)
            timings["reports"] = time.perf_counter() - t0
            if failures:
                progress.stop()
                cache.hasher.save()
                print(_summary(cfg, failures, dataset), file=sys.stderr)
                print(f"build failed: nothing was written to {target}; {len(tasks) - len(failures)} good reports "
                      "are cached and will not run again", file=sys.stderr)
                return 1
            est_csv = merge_estimates([s for t in tasks for s in cache.estimates(t.key, t.meta)])
            index = _index_task(cfg, cache, est_csv)
            index.meta = None if cfg.force else cache.lookup(index.key)
            t0 = time.perf_counter()
            if index.meta is None:
                _run(cfg, cache, [index], execu, progress, context, failures)
            else:
                index.cache = "hit"
                progress.finish(index.id, True, 0.0, cached=True)
            timings["index"] = time.perf_counter() - t0
        finally:
            if ctx is not None:
                ctx.__exit__(None, None, None)
    finally:
        progress.stop()
    if failures:
        cache.hasher.save()
        print(_summary(cfg, failures, dataset), file=sys.stderr)
        print(f"build failed: nothing was written to {target}", file=sys.stderr)
        return 1
    if misses or index.cache == "miss":
        cache.evict(cfg.cache_max, keep={t.key for t in tasks + [index]})

    # assemble in a temporary folder, then move into place
    from . import publish

    t0 = time.perf_counter()
    try:
        with publish.Output(target) as out:
            work = out.work
            (work / "units").mkdir(parents=True)
            for t in tasks + [index]:
                cache.copy_page(t.key, t.meta, work / t.page)  # the bytes copied are the bytes checked
            (work / "estimates.csv").write_text(est_csv, encoding="utf-8")
            shutil.copytree(TEMPLATE_DIR / "assets", work / "assets")
            timings["assemble"] = time.perf_counter() - t0
            timings["total"] = time.perf_counter() - t_all
            t0 = time.perf_counter()
            publish.check_no_microdata(work, cfg.edition, cfg.country, dataset())  # a hit: nothing is kept
            timings["privacy_scan"] = time.perf_counter() - t0
            _write_manifest(work / "manifest.json", cfg, tasks + [index], commit, timings, False)
            out.commit()
    finally:
        cache.hasher.save()
    if not cfg.quiet:
        n_hit = sum(t.cache == "hit" for t in tasks + [index])
        print(f"built {target}: {len(tasks)} unit reports + index ({len(tasks) + 1 - n_hit} run, {n_hit} cached) "
              f"in {time.perf_counter() - t_all:.1f} s")
    return 0
