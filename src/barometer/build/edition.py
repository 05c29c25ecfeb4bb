"""The plan of an edition build: its chapters.

What differs from a fan-out build (:mod:`.fanout`) is only here: which tasks
run (one per chapter notebook, in the order of the report configuration),
what a chapter's key adds (the listing of content files), what a chapter's
job takes along (the datasets to preload, the files it writes), and how the
output is assembled from the chapters (website, PDF, ``estimates.csv``
checked against the published targets).  Planning, keys, running, the
output scan, the manifest and the atomic swap are the shared pipeline
(:mod:`.pipeline`).
"""

from __future__ import annotations

import collections
import os
import shutil
import time
from pathlib import Path
from typing import TYPE_CHECKING

from .. import i18n
from .config import BuildConfig
from .run import Task
from ..errors import BuildError, InputError

if TYPE_CHECKING:  # pandas is imported where it is used: an up-to-date check must not pay for it
    import pandas as pd


def plan(cfg: BuildConfig) -> tuple[dict, list[Task], object]:
    """The edition's report configuration, its chapters as tasks and the input
    data (loaded, checked and weighted), after every check that can stop the
    build before a notebook runs (parameters, notebooks, content, figures)."""
    return (*plan_chapters(cfg), cfg.load_input())


def plan_chapters(cfg: BuildConfig) -> tuple[dict, list[Task]]:
    """:func:`plan` without the input data: nothing here imports pandas, Altair or
    the survey code (the build's warm workers import them meanwhile)."""
    from ..content import ContentError, load_content
    from ..disclosure import DisclosureError, rules
    from ..params import ParameterError, check_declared, validate_parameters
    from ..reportconfig import chapters_for, figures_for, report_config
    from . import keys

    cfg.check_paths()
    try:
        validate_parameters(cfg.edition, cfg.country, cfg.lang, cfg.data_path, "")
        rules()  # the settings file must be sound
    except (ParameterError, i18n.LanguageError, DisclosureError) as exc:
        raise InputError(str(exc)) from None
    rc = report_config(cfg.edition)
    if cfg.country not in rc.get("countries", ["dk"]):
        raise InputError(f"the {cfg.edition} edition has no {cfg.country!r} report yet "
                         f"(available: {', '.join(rc.get('countries', ['dk']))})")
    params = {"edition": cfg.edition, "country": cfg.country, "lang": cfg.lang, "data_path": cfg.data_file,
              "output_dir": "(the task's own folder)"}
    # a chapter records the content files it shows itself (fact boxes); the cases, quotes and tools
    # it marks are filled in when the page is rendered (render.site), so they are not its inputs
    job = {"preload": _preload(cfg), "track_content": False, "collect_files": True,
           # with a PDF, the build makes the PNGs while the PDF is laid out (build/pngs.py): same bytes
           "defer_png": bool(cfg.pdf)}
    listing = keys.content_listing(cfg.edition)
    from .configslice import config_key_parts  # a chapter is keyed on the part of the report config it reads

    # a chapter's charts are most of its run (SVG and PNG): the more figures, the longer it runs
    n_figures = collections.Counter(f.get("chapter") for f in figures_for(rc, cfg.country).values())
    chapters = []
    for c in chapters_for(rc, cfg.country):
        nb = cfg.notebook_dir / c["notebook"]
        if not nb.exists():
            raise InputError(f"chapter {c['id']}: notebook {nb} not found")
        try:
            check_declared(nb)
        except ParameterError as exc:
            raise InputError(str(exc)) from None
        config_part, without = config_key_parts(cfg.edition, c["id"], nb)
        chapters.append(Task(id=c["id"], notebook=nb, parameters=params, title=c["title"][cfg.lang],
                             page=f"{c['slug']}.html", executed_as=f"notebooks/{c['notebook']}",
                             kept_as=f"notebooks/{c['notebook']}", job=job, meta_extra={"chapter": c["id"]},
                             key_extra={"chapter": c["id"], "content_listing": listing,
                                        "report_config": config_part}, key_without=without,
                             weight=n_figures[c["id"]]))
    try:  # the content files (size, YAML, schema) before any notebook reads them
        load_content(cfg.edition)
    except ContentError as exc:
        raise InputError(str(exc)) from None
    from ..editionlint import check_build  # the shared notebooks against every edition's figures (InputError)

    check_build(cfg.edition, [ch.notebook for ch in chapters], cfg.notebook_dir)
    return rc, chapters


def _preload(cfg: BuildConfig) -> list:
    """The datasets a chapter loads, handed to its kernel by the warm worker:
    the edition's, and (the synthetic Danish report shows the Norwegian
    numbers too) the other countries' samples."""
    from ..codebook import codebook_path
    from ..params import COUNTRIES

    preload = [[cfg.edition, cfg.country, cfg.data_file, ""]]
    if not cfg.data_path:
        preload += [[cfg.edition, c, "", ""] for c in COUNTRIES if c != cfg.country
                    and codebook_path(cfg.edition, c).exists()]
    return preload


class EditionPlan:
    """One edition: every chapter is a task; the output is the website, the PDF and estimates.csv."""

    kind = "chapters"
    name = "edition"

    def __init__(self, cfg: BuildConfig):
        self.cfg = cfg
        self.rc: dict = {}
        self.chapters: list[Task] = []

    def check(self) -> None:
        """Nothing beyond the options (the chapters are checked when planned, after the up-to-date check)."""

    def key_parameters(self) -> list:
        return ["edition", self.cfg.pdf]

    def load(self, commit: str) -> None:
        self.commit = commit
        self.rc, self.chapters = plan_chapters(self.cfg)

    def stages(self, cache):
        yield self.chapters

    def assemble(self, work: Path, cache, tasks: list[Task], ds, log, keep) -> dict:
        """estimates.csv (checked against the published figures), the website and the PDF."""
        from . import pngs, render, run

        cfg, timings = self.cfg, {}
        t0 = time.perf_counter()
        est, check = collect_estimates(cfg, work, ds, run.estimates_text(cache, tasks))
        timings["estimates"] = time.perf_counter() - t0
        from .. import figtimings

        figures = figtimings.collect(work)  # the chapters' per-figure times: printed, never published
        if ds.synthetic and not check["ok"].all():
            missed = check.loc[~check["ok"], ["country", "population", "measure", "published_pct", "estimate_pct"]]
            raise BuildError("the synthetic sample does not reproduce these published figures:\n"
                             f"{missed.to_string(index=False)}\n(output kept at {keep()})")

        def make_pngs() -> None:  # what the chapters left to the build (in any build that publishes them)
            t0 = time.perf_counter()
            made = pngs.resolve(work, [t.executed_as for t in tasks if t.executed_as],
                                None if cfg.force else cache.charts_dir)
            timings["png"] = time.perf_counter() - t0
            for row in figures:  # this build's time for a PNG it made (the chapter's was ~0)
                if row["figure"] in made:
                    row["total"] = round(row["total"] - row["png"] + made[row["figure"]], 1)
                    row["png"] = round(made[row["figure"]], 1)
            if cfg.timings:
                log(figtimings.table(figures))

        forked = cfg.pdf and hasattr(os, "fork")  # the PDF in a process of its own, the figure pages meanwhile
        if not forked:  # before the figure pages, which link each PNG that exists
            make_pngs()
        t0 = time.perf_counter()
        log("rendering website ...")
        pages = render.site(cfg, self.rc, tasks, ds, work, self.commit, figure_pages=not forked)
        timings["site"] = time.perf_counter() - t0
        extra = {"targets": _targets_summary(check)}
        done: dict = {}
        if cfg.pdf:
            t_pdf = time.perf_counter()
            log("rendering PDF ...")
            args = (cfg, self.rc, tasks, ds, work, self.commit, pages)
            last = _last_pagination(cfg.target)
            if forked:
                job = render.PdfProcess(*args, last=last)
                try:
                    make_pngs()  # on this core, while the PDF is laid out on the other
                    t0 = time.perf_counter()
                    render.figure_pages(cfg, self.rc, tasks, ds, work, self.commit)  # (they link the PNGs)
                    timings["site"] += time.perf_counter() - t0
                except BaseException:
                    job.cancel()
                    raise

                def finish() -> None:
                    _, extra["pdf_pagination"] = job.wait()
                    timings["pdf"] = time.perf_counter() - t_pdf
                done = {"finish": finish, "cancel": job.cancel}
            else:
                _, extra["pdf_pagination"] = render.pdf(*args, last=last)
                timings["pdf"] = time.perf_counter() - t_pdf
        return {**done, "timings": timings, "manifest": extra,
                "summary": f"{int(check['ok'].sum())}/{len(check)} published figures reproduced"}


def _last_pagination(target: Path) -> dict | None:
    """The PDF pagination the report's last build recorded in its manifest: only a guess (the
    PDF pass checks it), so an unreadable or old manifest is no guess."""
    import json

    from .pdflayout import is_record

    try:
        last = json.loads((Path(target) / "manifest.json").read_text(encoding="utf-8")).get("pdf_pagination")
    except (OSError, ValueError, AttributeError):
        return None
    return last if is_record(last) else None


def _targets_summary(check) -> dict:
    return {"checked": int(len(check)), "reproduced": int(check["ok"].sum()),
            "missed": check.loc[~check["ok"], ["country", "population", "measure", "published_pct",
                                                "estimate_pct", "n_obs", "n_obs_est"]]
            .astype(object).where(lambda d: d.notna(), None).to_dict("records")}


# --------------------------------------------------------------------------------------
# estimates
# --------------------------------------------------------------------------------------
def collect_estimates(cfg: BuildConfig, work: Path, ds, text: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``estimates.csv`` from the chapters' rows (``text``, in publication order),
    each chart's download CSV (exactly its rows), and the published targets checked."""
    import io

    import pandas as pd

    from ..estimates import COLUMNS, to_csv_text

    if not text:
        raise BuildError("the notebooks published no estimates")
    est = pd.read_csv(io.StringIO(text), dtype={"category": str, "country": str}, keep_default_na=True)[COLUMNS]
    est["category"] = est["category"].fillna("")
    est["suppressed"] = est["suppressed"].astype(bool)
    est["n_obs"] = est["n_obs"].astype("Int64")  # a suppressed count is blank: keep the others whole numbers
    dup = est[est.duplicated(["figure_id", "measure", "country", "population", "category"], keep=False)]
    if len(dup):
        raise BuildError(f"estimates.csv would have duplicate rows: {dup.head(3).to_dict('records')}")
    text = to_csv_text(est)
    (work / "estimates.csv").write_text(text, encoding="utf-8")
    # each chart's download CSV: exactly its rows of estimates.csv, same format: a CSV line
    # is made from its row alone, so the header and the figure's lines of estimates.csv
    header, *lines = text.split("\n")[:-1]
    by_figure = {}
    if len(lines) == len(est):  # one line per row (no field holds a line break)
        for fig_id, line in zip(est["figure_id"], lines):
            by_figure.setdefault(fig_id, [header]).append(line)
    for fig_id, rows in est.groupby("figure_id", sort=False):
        if (work / "figures" / f"{fig_id}.svg").exists():
            fig_text = "\n".join(by_figure[fig_id]) + "\n" if by_figure else to_csv_text(rows)
            (work / "figures" / f"{fig_id}.csv").write_text(fig_text, encoding="utf-8")
    shutil.rmtree(work / "estimates", ignore_errors=True)  # the chapters' own files: now in estimates.csv
    return est, _check_targets(cfg, est, ds)


def _check_targets(cfg: BuildConfig, est: pd.DataFrame, ds) -> pd.DataFrame:
    """The published figures against this build.  The synthetic sample: its
    *model* is checked, from unsuppressed estimates computed here and never
    written anywhere but the pass/fail count (a strict ``--min-base`` hides
    every share and still builds).  Real data: the published estimates are
    compared (informative; suppressed figures count as not reproduced)."""
    import pandas as pd

    from .. import dataset, targets

    countries = [cfg.country] + (["no"] if cfg.country == "dk" else [])  # the Danish report shows Norway too
    checks = []
    for country in countries:
        if not ds.synthetic:
            checks.append(targets.compare(est, cfg.edition, country))
        elif len(targets.load_targets(edition=cfg.edition, country=country)):
            sample = ds if country == cfg.country else dataset.load(cfg.edition, country)
            checks.append(targets.check_model(sample, cfg.edition, country))
    return pd.concat(checks, ignore_index=True) if checks else targets.compare(est, cfg.edition, cfg.country)
