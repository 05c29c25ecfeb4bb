"""Build one edition: notebooks -> website + PDF + estimates.csv + manifest.json.

Steps (each a small function below):

1. **plan**: check the parameters, find the chapters of the edition, make
   sure the input data exist (generate the synthetic sample if needed) and
   load them once, so bad input stops the build before any notebook runs.
2. **execute**: run the chapter notebooks with papermill, injecting the
   parameters, in parallel on warm workers (forked kernels, see
   :mod:`barometer.engine`); a chapter whose inputs did not change comes
   from the cache.  A build whose inputs did not change at all stops here
   (``build_key``, well under a second).
3. **site**: nbconvert turns each executed notebook into the body of a page
   (no code, no stderr), our Jinja templates add navigation, banner and CSS;
   full case and advice pages come from the content files.
4. **pdf**: one HTML document (cover, contents with page numbers, chapters,
   cases) rendered by WeasyPrint, charts as inline SVG (vectors).
5. **estimates**: every figure's rows concatenated into ``estimates.csv``,
   checked against the published targets.
6. **manifest**: parameters, input files with sha256, package versions, git
   commit, time per step and notebook.

Output is written to a temporary sibling folder and moved into place only
when complete, so an interrupted or failed build never leaves a half-written
``_build/<slug>/``.  A failed notebook is kept under ``_build/.failed/``.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

from .. import i18n
from .config import BaseConfig
from ..errors import BuildError, InputError  # noqa: F401 - re-exported: callers import them from here
from ..paths import ROOT, TEMPLATE_DIR

if TYPE_CHECKING:  # pandas is imported where it is used: an up-to-date check must not pay for it
    import pandas as pd

PACKAGES = ["barometer", "numpy", "pandas", "scipy", "altair", "vl-convert-python", "papermill", "nbconvert",
            "nbformat", "weasyprint", "jinja2", "pyyaml", "jsonschema", "markdown-it-py", "pyreadstat", "openpyxl"]


@dataclass(kw_only=True)
class BuildConfig(BaseConfig):
    """One edition: ``_build/<edition>-<country>-<lang>/``."""

    pdf: bool = True


@dataclass
class Chapter:
    id: str
    notebook: str
    slug: str
    title: str
    body: str = ""
    seconds: float = 0.0
    figures: list = field(default_factory=list)
    key: str = ""
    cache: str = ""  # "hit" or "miss"
    uses: list = field(default_factory=list)
    meta: dict | None = None


def _log(cfg: BuildConfig, msg: str) -> None:
    if not cfg.quiet:
        print(msg, flush=True)


# --------------------------------------------------------------------------------------
# 1. plan
# --------------------------------------------------------------------------------------
def plan(cfg: BuildConfig) -> tuple[dict, list[Chapter], object]:
    from ..content import ContentError, load_content
    from ..disclosure import DisclosureError, rules
    from ..params import ParameterError, check_declared, validate_parameters
    from ..reportconfig import chapters_for, report_config

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
    chapters = [Chapter(id=c["id"], notebook=c["notebook"], slug=c["slug"], title=c["title"][cfg.lang])
                for c in chapters_for(rc, cfg.country)]
    for ch in chapters:
        if not (cfg.notebook_dir / ch.notebook).exists():
            raise InputError(f"chapter {ch.id}: notebook {cfg.notebook_dir / ch.notebook} not found")
        try:
            check_declared(cfg.notebook_dir / ch.notebook)
        except ParameterError as exc:
            raise InputError(str(exc)) from None
    try:  # the content files (size, YAML, schema) before any notebook reads them
        load_content(cfg.edition)
    except ContentError as exc:
        raise InputError(str(exc)) from None
    from ..editionlint import check_build  # the shared notebooks against every edition's figures (InputError)

    check_build(cfg.edition, [cfg.notebook_dir / ch.notebook for ch in chapters], cfg.notebook_dir)
    return rc, chapters, load_input(cfg)


def load_input(cfg: BaseConfig):
    """The respondent file (``--data``, or the synthetic sample) loaded, checked
    against the codebook and weighted; any problem is an :class:`InputError`.
    Used by both build modes, before any notebook runs."""
    from ..dataset import load

    # the readers, the validation and the weighting raise InputError for every problem of a file;
    # anything else is a bug in this program (cli: "internal error" and a log), never "check your data"
    return load(cfg.edition, cfg.country, cfg.data_path or None, cfg.frame_path or None)


# --------------------------------------------------------------------------------------
# 2. execute
# --------------------------------------------------------------------------------------
def _cache(cfg: BuildConfig):
    return cfg.open_cache()


def _content_listing() -> str:
    """Names (not contents) of the content files: a chapter lists the items of
    its kind, so a new or removed case re-runs the chapters; a changed one
    re-runs the chapters that read it (their recorded dependencies)."""
    from ..engine.cache import digest
    from ..paths import DATA_DIR

    root = DATA_DIR / "content"
    return digest(sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()) if root.is_dir() else [])


def execute(cfg: BuildConfig, chapters: list[Chapter], work: Path) -> list[str]:
    """Run the chapter notebooks (or take them from the cache) into ``work``.

    Chapters whose key (notebook, parameters, package code, templates,
    codebooks, report configurations) and recorded dependencies (data and
    content files read) are unchanged come from the cache; the others run in
    parallel on warm workers (:mod:`barometer.engine`), each in a fresh forked
    kernel.  Returns the estimate files in publication order (chapter order,
    then the order each chapter wrote them)."""
    from . import warmup
    from ..engine.executors import LocalExecutor, make_job
    nb_out = work / "notebooks"
    nb_out.mkdir(parents=True, exist_ok=True)
    data_path = str(Path(cfg.data_path).resolve()) if cfg.data_path else ""
    params = {"edition": cfg.edition, "country": cfg.country, "lang": cfg.lang, "data_path": data_path,
              "output_dir": str(work.resolve())}
    cache = _cache(cfg)
    listing = _content_listing()
    jobs, by_id = [], {}
    preload = [[cfg.edition, cfg.country, data_path, ""]]
    if not data_path:  # the Danish report also shows the Norwegian numbers
        from ..params import COUNTRIES
        from ..codebook import codebook_path

        preload += [[cfg.edition, c, "", ""] for c in COUNTRIES if c != cfg.country
                    and codebook_path(cfg.edition, c).exists()]
    for ch in chapters:
        nb = cfg.notebook_dir / ch.notebook
        ch.key = cache.key(nb, params, {"chapter": ch.id, "content_listing": listing, "settings": cfg.settings()})
        meta = None if cfg.force else cache.lookup(ch.key)  # every file of the entry checked
        by_id[ch.id] = ch
        if meta is not None:
            ch.cache, ch.seconds, ch.meta = "hit", 0.0, meta
            continue
        ch.cache, ch.meta = "miss", None
        # a chapter lists the content items of its kind: every content file it reads counts
        jobs.append(make_job(ch.id, nb, params, cfg.notebook_dir, preload, track_content=True, collect_files=True,
                             settings=cfg.settings(), hooks=warmup.__name__))
    n_hit = len(chapters) - len(jobs)
    if n_hit:
        _log(cfg, f"{n_hit} of {len(chapters)} chapters unchanged (from the cache)")
    failed: list[tuple[Chapter, dict]] = []
    done = [0]

    def on_start(job):
        _log(cfg, f"running {Path(job['notebook']).name} ...")

    def on_done(res):
        ch = by_id[res["id"]]
        ch.seconds = res.get("seconds", 0.0)
        done[0] += 1
        if res["ok"]:
            ch.meta = cache.store(ch.key, res, {"chapter": ch.id, "notebook": ch.notebook}, replace=cfg.force)
            _log(cfg, f"[{done[0]}/{len(jobs)}] {ch.notebook} done in {ch.seconds:.1f} s")
        else:
            failed.append((ch, res))
            _log(cfg, f"[{done[0]}/{len(jobs)}] {ch.notebook} FAILED")

    if jobs:
        log_dir = cache.log_dir("edition")
        try:
            with LocalExecutor(min(cfg.n_jobs, len(jobs)), log_dir) as ex:
                ex.run(jobs, on_start, on_done)
        except BuildError:  # e.g. the cache's disk is full: its own message
            raise
        except RuntimeError as exc:  # a worker could not start (its log says why)
            raise BuildError(f"could not run the notebooks: {exc}") from None
        finally:
            cache.hasher.save()
    if failed:
        failed.sort(key=lambda f: chapters.index(f[0]))
        for ch, res in failed:
            if res.get("executed"):
                (nb_out / ch.notebook).write_text(res["executed"], encoding="utf-8")
        kept = _keep_failed(cfg, work)
        ch, res = failed[0]
        from ..errors import InternalError, notebook_failure

        msg = notebook_failure(ch.notebook, res["error"], kept / "notebooks" / ch.notebook) \
            + (f" ({len(failed) - 1} more chapter(s) failed)" if len(failed) > 1 else "")
        raise (InternalError if msg.startswith("internal error") else BuildError)(msg)
    order = []
    for ch in chapters:  # chapter by chapter into the work folder; the bytes copied are the bytes checked
        cache.copy_executed(ch.key, ch.meta, nb_out / ch.notebook)
        for rel in cache.copy_files(ch.key, ch.meta, work):
            if rel.startswith("estimates/") and rel.endswith(".csv"):
                order.append(rel)
        ch.uses = cache.uses(ch.meta)
    if jobs:
        cache.evict(cfg.cache_max, keep={ch.key for ch in chapters})
    return order


def _keep_failed(cfg: BuildConfig, work: Path) -> Path:
    from . import publish

    marker = publish.read_marker(work) or {}
    return publish.keep_failed(work, cfg.target.parent / ".failed" / cfg.target.name, marker.get("build_id", ""))


# --------------------------------------------------------------------------------------
# 3. site
# --------------------------------------------------------------------------------------
def _exporter():
    from nbconvert import HTMLExporter
    from nbconvert.preprocessors import TagRemovePreprocessor
    from traitlets.config import Config

    c = Config()
    c.TagRemovePreprocessor.remove_cell_tags = {"notes", "report-hide", "parameters", "injected-parameters"}
    c.TagRemovePreprocessor.enabled = True
    c.HTMLExporter.exclude_input = True
    c.HTMLExporter.exclude_input_prompt = True
    c.HTMLExporter.exclude_output_prompt = True
    exp = HTMLExporter(config=c, template_name="chapter", extra_template_basedirs=[str(TEMPLATE_DIR)])
    exp.register_preprocessor(TagRemovePreprocessor(config=c), enabled=True)
    return exp


def _jinja():
    """The project's one Jinja environment (the chapters' blocks use it too)."""
    from ..templates import environment

    return environment()


def _page_context(cfg: BuildConfig, rc: dict, chapters: list[Chapter], ds, commit: str) -> dict:
    from .render import page_context

    return page_context(cfg, nav=[{"id": c.id, "href": f"{c.slug}.html", "title": c.title} for c in chapters],
                        synthetic=ds.synthetic, period=ds.period, commit=commit,
                        pdf=pdf_name(cfg) if cfg.pdf else None, edition=rc["edition"],
                        edition_number=rc.get("edition_number"))


def pdf_name(cfg: BuildConfig) -> str:
    return f"innovationsbarometer-{cfg.slug}.pdf"


def site(cfg: BuildConfig, rc: dict, chapters: list[Chapter], ds, work: Path, commit: str) -> list[dict]:
    import nbformat
    from markupsafe import Markup

    from .. import content

    exporter = _exporter()
    env = _jinja()
    page = env.get_template("site/page.html.j2")
    ctx = _page_context(cfg, rc, chapters, ds, commit)
    for ch in chapters:
        nb = nbformat.read(work / "notebooks" / ch.notebook, as_version=4)
        body, _ = exporter.from_notebook_node(nb)
        ch.body = body
        (work / f"{ch.slug}.html").write_text(
            page.render(**ctx, page_id=ch.id, page_title=ch.title, root="", body=Markup(body),
                        with_charts="report-figure" in body), encoding="utf-8")
    # full case and advice pages
    lib = content.load_content(cfg.edition)
    pages = []
    back = i18n.t("back_to_chapter", cfg.lang)
    chapter_slug = {c.id: c.slug for c in chapters}
    for kind, folder in (("case", "cases"), ("advice", "advice")):
        for item in lib.items(kind=kind):
            if item.chapter not in chapter_slug:  # its chapter is not in this build (e.g. Norway)
                continue
            (work / folder).mkdir(exist_ok=True)
            body = content.render_page_body(item, cfg.lang)
            href = f"../{chapter_slug.get(item.chapter, 'index')}.html#{kind}-{item.id}"
            nav = f'<p class="case-nav"><a href="{html.escape(href)}">← {html.escape(back)}</a></p>'
            title = item.text("title", cfg.lang)
            (work / folder / f"{item.id}.html").write_text(
                page.render(**ctx, page_id=f"{kind}-{item.id}", page_title=title, root="../",
                            body=Markup(body + nav)), encoding="utf-8")
            pages.append({"id": item.id, "kind": kind, "title": title, "body": Markup(body)})
    # stylesheets, the site script and the vendored chart libraries (once per site)
    shutil.copytree(TEMPLATE_DIR / "assets", work / "assets", dirs_exist_ok=True)
    return pages


# --------------------------------------------------------------------------------------
# 4. pdf
# --------------------------------------------------------------------------------------
def pdf(cfg: BuildConfig, rc: dict, chapters: list[Chapter], ds, work: Path, commit: str, pages: list[dict]) -> Path:
    import re

    import weasyprint
    from markupsafe import Markup

    env = _jinja()
    ctx = _page_context(cfg, rc, chapters, ds, commit)
    listed = _figure_list(cfg, work)
    chs = []
    for ch in chapters:
        figures = listed.get(ch.id, [])
        # links to case pages and to figures on other pages point inside the PDF
        body = re.sub(r'href="(?:\.\./)?(?:cases|advice)/([^"]+)\.html"', r'href="#case-page-\1"', ch.body)
        body = re.sub(r'href="[a-z0-9-]+\.html#(fig-[^"]+)"', r'href="#\1"', body)
        title = ch.title
        if ch.slug == "index":  # the front page opens the PDF after its cover: its key findings, not "Forside"
            title = i18n.t("pdf_front_title", cfg.lang)
            body = re.sub(r'<h1 class="chapter-title">.*?</h1>', f'<h1 class="chapter-title">{html.escape(title)}</h1>',
                          body, count=1, flags=re.S)
        chs.append({"id": ch.id, "title": title, "body": Markup(_pdf_charts(body)), "figures": figures})
    # a case page repeats the ids of its box in the chapter: in the PDF, its own are prefixed
    cases = [{"id": p["id"], "title": p["title"],
              "body": Markup(re.sub(r'\b(id|aria-labelledby)="([^"]+)"',
                                    lambda m: f'{m.group(1)}="' + " ".join("page-" + i for i in m.group(2).split()) + '"',
                                    str(p["body"])))} for p in pages]
    doc = env.get_template("pdf/print.html.j2").render(
        **ctx, chapters=chs, cases=cases, cases_title=i18n.t("cases_title", cfg.lang),
        **{k: i18n.t(k, cfg.lang) for k in ("colophon_title", "colophon_data", "publisher_label")})
    (work / "print.html").write_text(doc, encoding="utf-8")
    out = work / pdf_name(cfg)
    # PDF/UA-1: a tagged PDF (structure, reading order, language, title) for screen readers
    weasyprint.HTML(string=doc, base_url=str(work) + "/").write_pdf(str(out), pdf_variant="pdf/ua-1")
    (work / "print.html").unlink()
    return out


def _pdf_charts(body: str) -> str:
    """Each chart of a chapter as the PDF shows it: the page's static SVG as an image
    with the chart's alt text, so that the tagged PDF's figure carries that text
    (WeasyPrint tags an ``<img>``'s ``alt``, not an inline SVG's label)."""
    import base64
    import re

    def img(m: re.Match) -> str:
        alt = re.search(r'\baria-label="([^"]*)"', m.group(1))
        # an SVG file is XML: the page's HTML parser lower-cased two SVG names, and HTML-only entities go
        svg = re.sub(r"<(/?)clippath\b", r"<\1clipPath", m.group(3)).replace(" viewbox=", " viewBox=")
        svg = re.sub(r"&([A-Za-z][A-Za-z0-9]*);", lambda e: e.group(0) if e.group(1) in ("amp", "lt", "gt", "quot", "apos")
                     else "".join(f"&#{ord(c)};" for c in html.unescape(e.group(0))), svg)
        data = base64.b64encode(svg.encode("utf-8")).decode("ascii")
        return (f'{m.group(1)}{m.group(2) or ""}<img class="chart-print" alt="{alt.group(1) if alt else ""}" '
                f'src="data:image/svg+xml;base64,{data}">')

    # the chart's box (its alt text in aria-label), the boxes inside it (static chart, layout), its first SVG
    chart = re.compile(r'(<div\b[^>]*\bclass="chart"[^>]*>)((?:\s*<div\b[^>]*>)*)\s*(<svg\b.*?</svg>)', re.S)
    return chart.sub(img, body)


def _figure_list(cfg: BuildConfig, work: Path) -> dict[str, list[dict]]:
    """Chapter id -> its figures as the PDF's contents list them, in number
    order, from the ``figures/<id>.json`` files the chapters wrote."""
    word = i18n.t("figure", cfg.lang)
    by_chapter: dict[str, list[dict]] = {}
    for p in sorted((work / "figures").glob("*.json")):
        if p.name.endswith(".vl.json"):  # the charts' Vega-Lite specifications
            continue
        m = json.loads(p.read_text(encoding="utf-8"))
        by_chapter.setdefault(m["chapter"], []).append(m)
    return {ch: [{"anchor": m["anchor"], "number": f"{word} {m['number']}", "label": m["headline"]}
                 for m in sorted(figs, key=lambda m: m["number"])] for ch, figs in by_chapter.items()}


# --------------------------------------------------------------------------------------
# 5. estimates
# --------------------------------------------------------------------------------------
def collect_estimates(cfg: BuildConfig, chapters: list[Chapter], work: Path, ds,
                      order: list[str] | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    import pandas as pd

    from ..estimates import COLUMNS, to_csv_text

    est_dir = work / "estimates"
    if order is not None:  # publication order, as execute() wrote them
        files = [work / rel for rel in dict.fromkeys(order)]
    else:
        files = sorted(est_dir.glob("*.csv"), key=lambda p: (p.stat().st_mtime_ns, p.name))  # execution order
    frames = [pd.read_csv(p, dtype={"category": str, "country": str}, keep_default_na=True) for p in files]
    if not frames:
        raise BuildError("the notebooks published no estimates")
    est = pd.concat(frames, ignore_index=True)[COLUMNS]
    est["category"] = est["category"].fillna("")
    est["suppressed"] = est["suppressed"].astype(bool)
    est["n_obs"] = est["n_obs"].astype("Int64")  # a suppressed count is blank: keep the others whole numbers
    dup = est[est.duplicated(["figure_id", "measure", "country", "population", "category"], keep=False)]
    if len(dup):
        raise BuildError(f"estimates.csv would have duplicate rows: {dup.head(3).to_dict('records')}")
    (work / "estimates.csv").write_text(to_csv_text(est), encoding="utf-8")
    # each chart's download CSV: exactly its rows of estimates.csv, same format
    for fig_id, rows in est.groupby("figure_id", sort=False):
        if (work / "figures" / f"{fig_id}.svg").exists():
            (work / "figures" / f"{fig_id}.csv").write_text(to_csv_text(rows), encoding="utf-8")
    shutil.rmtree(est_dir)
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


# --------------------------------------------------------------------------------------
# 6. manifest
# --------------------------------------------------------------------------------------
def _git_commit() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, timeout=10)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                               capture_output=True, text=True, timeout=10).stdout.strip()
        return out.stdout.strip() + ("-dirty" if dirty else "") if out.returncode == 0 else ""
    except (OSError, subprocess.SubprocessError):
        return ""


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for p in PACKAGES:
        try:
            out[p] = metadata.version(p)
        except metadata.PackageNotFoundError:
            out[p] = "not installed"
    return out


def _disclosure_rules() -> dict:
    from ..disclosure import rules

    r = rules()
    return {"min_base": r.min_base, "min_cell": r.min_cell}


def manifest(cfg: BuildConfig, chapters, ds, check: pd.DataFrame, timings: dict, commit: str, work: Path,
             key: str = "") -> dict:
    from ..synth import sha256

    inputs = [{"path": os.path.relpath(p, ROOT) if Path(p).resolve().is_relative_to(ROOT) else str(p),
               "sha256": sha256(Path(p)), "bytes": Path(p).stat().st_size} for p in ds.files]
    m = {
        "report": "Innovation Barometer", "slug": cfg.slug,
        "parameters": {"edition": cfg.edition, "country": cfg.country, "lang": cfg.lang,
                       "data_path": cfg.data_path or None, "synthetic": ds.synthetic},
        "disclosure": _disclosure_rules(),
        "built_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "git_commit": commit,
        "inputs": inputs,
        "versions": _versions(),
        "build_key": key,
        "notebooks": [{"chapter": c.id, "notebook": c.notebook, "seconds": round(c.seconds, 3), "cache": c.cache,
                       "key": c.key, "uses": c.uses} for c in chapters],
        "timings_seconds": {k: round(v, 3) for k, v in timings.items()},
        "targets": {"checked": int(len(check)), "reproduced": int(check["ok"].sum()),
                    "missed": check.loc[~check["ok"], ["country", "population", "measure", "published_pct",
                                                        "estimate_pct", "n_obs", "n_obs_est"]]
                    .astype(object).where(lambda d: d.notna(), None).to_dict("records")},
        "files": sorted(str(p.relative_to(work)) for p in work.rglob("*") if p.is_file()),
    }
    (work / "manifest.json").write_text(json.dumps(m, indent=2, ensure_ascii=False), encoding="utf-8")
    return m


# --------------------------------------------------------------------------------------
# the whole build
# --------------------------------------------------------------------------------------
def build(cfg: BuildConfig) -> Path:
    """Build one edition into ``cfg.target``; returns that folder."""
    from .. import disclosure

    cfg.check_settings()
    disclosure.configure(cfg.min_base)  # this process's rules (the reports get theirs with each job)
    try:
        return _build(cfg)
    finally:
        disclosure.configure(None)


def build_key(cfg: BuildConfig, commit: str) -> str:
    """Everything one edition's output depends on, without loading the data:
    parameters, package code, templates, codebooks and report configurations,
    the notebooks, the content files, the input data (the edition's synthetic
    samples, or --data and --frame), package versions and the git commit (it
    is printed in the footer).  Checksums are remembered per file stamp, so
    this takes milliseconds when nothing changed."""
    from ..engine.cache import digest
    from ..paths import DATA_DIR, SYNTH_DIR

    if not cfg.data_path:  # the synthetic sample is a build product: current before it is keyed
        from ..synthkey import ensure_current

        ensure_current(cfg.edition, lambda m: _log(cfg, m))
    cache = _cache(cfg)
    h = cache.hasher
    data = ([h.file(cfg.data_path), h.file(cfg.frame_path) if cfg.frame_path else ""] if cfg.data_path
            else [h.tree(SYNTH_DIR / cfg.edition) if (SYNTH_DIR / cfg.edition).is_dir() else ""])
    key = digest({"static": cache.static_key(), "notebooks": h.tree(cfg.notebook_dir, (".ipynb",)),
                  "content": h.tree(DATA_DIR / "content"), "targets": h.tree(DATA_DIR / "targets"), "data": data,
                  "parameters": [cfg.edition, cfg.country, cfg.lang, cfg.data_path, cfg.frame_path, cfg.pdf,
                                 cfg.settings(), str(cfg.notebook_dir)],
                  "versions": _versions(), "commit": commit})
    h.save()
    return key


def _up_to_date(cfg: BuildConfig, key: str) -> bool:
    try:
        m = json.loads((cfg.target / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return m.get("build_key") == key and all((cfg.target / f).is_file() for f in m.get("files", []))


def _build(cfg: BuildConfig) -> Path:
    from . import publish

    timings: dict[str, float] = {}
    t_all = time.perf_counter()
    cfg.check_paths()  # --data / --frame: control characters, missing files (before they are used anywhere)
    target = publish.check_target(cfg.target, inputs=[cfg.data_path, cfg.frame_path], cache_dir=cfg.cache_dir,
                                  slug=cfg.slug)
    publish.clean_stale(target)  # what a killed build left beside the output
    commit = _git_commit()
    key = build_key(cfg, commit)
    if not cfg.force and _up_to_date(cfg, key):  # nothing changed since the last build of this folder
        _log(cfg, f"{cfg.target} is up to date (nothing it depends on changed; --force builds it again) "
                  f"[{time.perf_counter() - t_all:.2f} s]")
        return cfg.target
    t0 = time.perf_counter()
    rc, chapters, ds = plan(cfg)
    timings["plan"] = time.perf_counter() - t0
    with publish.Output(target) as out:
        work = out.work
        t0 = time.perf_counter()
        try:
            order = execute(cfg, chapters, work)
        except BuildError:
            publish.scrub_failed(cfg.target.parent / ".failed" / cfg.target.name, cfg.edition, cfg.country, ds)
            raise
        timings["execute"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        est, check = collect_estimates(cfg, chapters, work, ds, order)
        timings["estimates"] = time.perf_counter() - t0
        if ds.synthetic and not check["ok"].all():
            missed = check.loc[~check["ok"], ["country", "population", "measure", "published_pct", "estimate_pct"]]
            kept = _keep_failed(cfg, work)
            raise BuildError("the synthetic sample does not reproduce these published figures:\n"
                             f"{missed.to_string(index=False)}\n(output kept at {kept})")
        t0 = time.perf_counter()
        _log(cfg, "rendering website ...")
        pages = site(cfg, rc, chapters, ds, work, commit)
        timings["site"] = time.perf_counter() - t0
        if cfg.pdf:
            t0 = time.perf_counter()
            _log(cfg, "rendering PDF ...")
            pdf(cfg, rc, chapters, ds, work, commit, pages)
            timings["pdf"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        publish.check_no_microdata(work, cfg.edition, cfg.country, ds)
        timings["privacy_scan"] = time.perf_counter() - t0
        timings["total"] = time.perf_counter() - t_all
        manifest(cfg, chapters, ds, check, timings, commit, work, key)
        out.commit()
    _log(cfg, f"built {target} in {time.perf_counter() - t_all:.1f} s "
              f"({int(check['ok'].sum())}/{len(check)} published figures reproduced)")
    return target


def main_exit(cfg: BuildConfig) -> int:
    """Build and return the exit status (what ``build.py`` does, for callers that have a config)."""
    try:
        build(cfg)
    except (InputError, BuildError) as exc:
        print(f"{'error' if exc.exit_code == 2 else 'build failed'}: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted: nothing was published", file=sys.stderr)
        return 130
    return 0
