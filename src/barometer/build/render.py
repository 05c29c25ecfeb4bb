"""Rendering, the same for both build modes: the page context every page is
rendered with, the notebook-to-page exporter (used in the build for an
edition's chapters and in warm workers for unit reports), an edition's
website pages and its PDF.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import shutil
from pathlib import Path

from .. import __version__, i18n, keep
from ..errors import BuildError
from ..paths import TEMPLATE_DIR


def palette_css() -> str:
    """The chart colours (:data:`barometer.charts.PALETTE`) as CSS custom properties
    (``--main``, ``--accent``, ...), so that the pages' stylesheets use the charts'
    own definitions instead of copies."""
    from ..charts import PALETTE

    return ":root { " + " ".join(f"--{k}: {v};" for k, v in PALETTE.items()) + " }"


def page_context(cfg, *, nav: list[dict], synthetic: bool, period: str, commit: str, pdf: str | None = None,
                 edition=None, edition_number: int | None = None) -> dict:
    """The context of ``report_templates/site/page.html.j2`` (title, banner,
    navigation, footer, PDF link) for an edition's pages and a fan-out's alike,
    and of the PDF's cover and colophon.  The commit appears only in the
    colophon (``colophon``), never on a website page."""
    lang = cfg.lang
    edition = cfg.edition if edition is None else edition
    today = dt.date.today().isoformat()
    publisher = i18n.t("publisher", lang)
    return {
        "lang": lang, "version": __version__,
        "report_title": i18n.t("report_title" if cfg.country == "dk" else "report_title_no", lang),
        "edition_label": f'{edition} · {i18n.t("country_" + cfg.country, lang)}', "edition": edition,
        "edition_name": i18n.edition_name(str(edition), edition_number, lang), "period": period,
        "publisher": publisher, "palette_css": palette_css(),
        "synthetic": synthetic, "banner": i18n.t("synthetic_banner" if synthetic else "real_banner", lang),
        "contents": i18n.t("contents", lang), "skip_text": i18n.t("skip_to_content", lang),
        "nav": nav, "pdf_name": pdf or "", "has_pdf": bool(pdf),
        "footer": i18n.t("site_footer", lang, publisher=publisher, date=today),
        "colophon": i18n.t("generated", lang, date=today, commit=commit[:10] or "–"),
        "subtitle": i18n.t("edition_subtitle", lang, period=period),
    }


def edition_context(cfg, rc: dict, chapters: list, ds, commit: str) -> dict:
    """An edition's pages: the chapters in the navigation, the PDF linked."""
    return page_context(cfg, nav=[{"id": c.id, "href": c.page, "title": c.title} for c in chapters],
                        synthetic=ds.synthetic, period=ds.period, commit=commit,
                        pdf=pdf_name(cfg) if getattr(cfg, "pdf", False) else None, edition=rc["edition"],
                        edition_number=rc.get("edition_number"))


def exporter():
    from nbconvert.preprocessors import TagRemovePreprocessor
    from traitlets.config import Config

    from ..display import LAB_ONLY_TAG

    c = Config()
    c.TagRemovePreprocessor.remove_cell_tags = {"notes", "report-hide", "parameters", "injected-parameters"}
    c.TagRemovePreprocessor.remove_single_output_tags = {LAB_ONLY_TAG}  # a chart's JupyterLab output
    c.TagRemovePreprocessor.enabled = True
    c.HTMLExporter.exclude_input = True
    c.HTMLExporter.exclude_input_prompt = True
    c.HTMLExporter.exclude_output_prompt = True
    exp = _chapter_exporter_class()(config=c, template_name="chapter", extra_template_basedirs=[str(TEMPLATE_DIR)])
    exp.register_preprocessor(TagRemovePreprocessor(config=c), enabled=True)
    return exp


def _chapter_exporter_class():
    from nbconvert import HTMLExporter
    from nbconvert.exporters.templateexporter import TemplateExporter
    from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter

    class ChapterExporter(HTMLExporter):
        """nbconvert's HTML exporter without its last pass, which parses the whole page
        with BeautifulSoup to give ``<img>`` a placeholder alt text and JupyterLab's cells
        a tabindex, and writes it out again.  A chapter page has neither (the chapter
        template shows outputs only; charts are inline SVG with their own text, and the
        axe gate refuses an ``<img>`` without alt); the pass took ~0.3 s per chapter and
        rewrote the inline SVG (attributes sorted, ``viewBox`` lowercased)."""

        def _validate_preprocessor(self, nbc, preprocessor):
            """Not after every preprocessor (12 schema validations of the notebook, ~17 ms a
            chapter): the notebook was validated when it was read, the preprocessors are
            nbconvert's own and the tag filter's, and the page is the same either way."""

        def from_notebook_node(self, nb, resources=None, **kw):
            resources = self._init_resources(resources)
            self.register_filter("filter_data_type", WidgetsDataTypeFilter(
                notebook_metadata=self._nb_metadata, parent=self, resources=resources))
            return TemplateExporter.from_notebook_node(self, nb, resources, **kw)

    return ChapterExporter


def jinja():
    """The project's one Jinja environment (the chapters' blocks use it too)."""
    from ..templates import environment

    return environment()


def pdf_name(cfg) -> str:
    return f"innovationsbarometer-{cfg.slug}.pdf"


def site(cfg, rc: dict, chapters: list, ds, work: Path, commit: str, figure_pages: bool = True) -> list[dict]:
    """An edition's pages: one per chapter (its executed notebook as the body), one per figure (unless
    ``figure_pages`` is false: then :func:`figure_pages` makes them), one per case and advice item;
    returns the case and advice bodies (for the PDF)."""
    from markupsafe import Markup

    from .. import content

    env = jinja()
    page = env.get_template("site/page.html.j2")
    ctx = edition_context(cfg, rc, chapters, ds, commit)
    exporters: list = []  # made once, for the first chapter that needs it
    lib = content.load_content(cfg.edition)
    for ch in chapters:
        # the cases, quotes and tools a chapter shows are marks in its notebook, filled here from
        # the content files as they are now: in the page and in the published notebook
        executed = work / ch.executed_as
        raw = executed.read_bytes()
        if b"barometer-content" in raw:
            executed.write_text(content.fill_marks(raw.decode("utf-8"), lib, cfg.lang, json_string=True),
                                encoding="utf-8")
        body = ch.body = content.fill_marks(chapter_body(raw, exporters), lib, cfg.lang)
        (work / ch.page).write_text(
            page.render(**ctx, page_id=ch.id, page_title=ch.title, root="", body=Markup(body),
                        with_charts="report-figure" in body), encoding="utf-8")
    if figure_pages:
        from . import figpages

        figpages.write(cfg, chapters, work, ctx, page)  # a page per figure: figur/<figure id>.html
    # full case and advice pages
    pages = []
    back = i18n.t("back_to_chapter", cfg.lang)
    chapter_page = {c.id: c.page for c in chapters}
    for kind, folder in (("case", "cases"), ("advice", "advice")):
        for item in lib.items(kind=kind):
            if item.chapter not in chapter_page:  # its chapter is not in this build (e.g. Norway)
                continue
            (work / folder).mkdir(exist_ok=True)
            body = content.render_page_body(item, cfg.lang)
            href = f"../{chapter_page[item.chapter]}#{kind}-{item.id}"
            nav = f'<p class="case-nav"><a href="{html.escape(href)}">← {html.escape(back)}</a></p>'
            title = item.text("title", cfg.lang)
            (work / folder / f"{item.id}.html").write_text(
                page.render(**ctx, page_id=f"{kind}-{item.id}", page_title=title, root="../",
                            body=Markup(body + nav)), encoding="utf-8")
            pages.append({"id": item.id, "kind": kind, "title": title, "body": Markup(body)})
    # stylesheets, the site script and the vendored chart libraries (once per site)
    shutil.copytree(TEMPLATE_DIR / "assets", work / "assets", dirs_exist_ok=True)
    return pages


def figure_pages(cfg, rc: dict, chapters: list, ds, work: Path, commit: str) -> None:
    """A page per figure (``figur/<figure id>.html``), for a :func:`site` made without them."""
    from . import figpages

    figpages.write(cfg, chapters, work, edition_context(cfg, rc, chapters, ds, commit),
                   jinja().get_template("site/page.html.j2"))


def _body_key(executed: bytes, exporters: list) -> tuple:
    import hashlib

    return (hashlib.blake2b(executed, digest_size=16).digest(), keep.stamps(TEMPLATE_DIR))


@keep.kept(_body_key)  # the preview's build process: an unchanged chapter is not converted again
def chapter_body(executed: bytes, exporters: list) -> str:
    """A chapter's page body: its executed notebook (the file's bytes) through the
    page exporter (``exporters``: the build's one, made on first use)."""
    import nbformat

    if not exporters:
        exporters.append(exporter())
    body, _ = exporters[0].from_notebook_node(nbformat.reads(executed.decode("utf-8"), as_version=4))
    return body


def pdf(cfg, rc: dict, chapters: list, ds, work: Path, commit: str, pages: list[dict],
        last: dict | None = None) -> tuple[Path, dict]:
    """The edition as one PDF: cover, contents, chapters and cases (WeasyPrint).  ``last``: the
    pagination an earlier build of this report recorded (:func:`pdflayout.write_pdf`); returns
    the PDF's path and this build's pagination."""
    import re

    from markupsafe import Markup

    env = jinja()
    ctx = edition_context(cfg, rc, chapters, ds, commit)
    listed = figure_list(cfg, work)
    chs = []
    for ch in chapters:
        figures = listed.get(ch.id, [])
        # links to case pages and to figures on other pages point inside the PDF
        body = re.sub(r'href="(?:\.\./)?(?:cases|advice)/([^"]+)\.html"', r'href="#case-page-\1"', ch.body)
        body = re.sub(r'href="[a-z0-9-]+\.html#(fig-[^"]+)"', r'href="#\1"', body)
        title = ch.title
        if ch.page == "index.html":  # the front page opens the PDF after its cover: its key findings, not "Forside"
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
        **{k: i18n.t(k, cfg.lang) for k in ("colophon_title", "colophon_data", "publisher_label", "licence_label", "licence")})
    out = work / pdf_name(cfg)
    # PDF/UA-1: a tagged PDF (structure, reading order, language, title) for screen readers; no
    # page left less than half full by a chapter's page break or a figure that did not fit
    from .pdflayout import write_pdf

    try:
        pagination = write_pdf(doc, str(work) + "/", out, last=last)
    except BaseException:
        (work / "print.html").write_text(doc, encoding="utf-8")  # kept with the failed build, to look at
        raise
    return out, pagination


class PdfProcess:
    """:func:`pdf` in a forked process, so that the build goes on meanwhile (the figure pages,
    the output scan); :meth:`wait` returns what :func:`pdf` returns, or raises what it raised
    (as one line: a :class:`BarometerError` as itself, a full or read-only disk as the build
    says it, anything else as an internal error with its traceback saved).  The process
    writes only the PDF into ``work``, and dies with the build."""

    def __init__(self, *args, **kwargs):
        import os
        import sys

        from . import pdflayout
        from ..engine import lifetime

        pdflayout.imported()  # never fork while another thread imports
        r, w = os.pipe()
        sys.stdout.flush()
        sys.stderr.flush()

        def body() -> None:
            os.close(r)
            pdflayout.own_process()
            os.write(w, _outcome(pdf, *args, **kwargs))

        self.pid = lifetime.fork(body)
        os.close(w)
        self._r = r

    def wait(self) -> tuple[Path, dict]:
        import json
        import os

        chunks = []
        try:
            while chunk := os.read(self._r, 1 << 16):
                chunks.append(chunk)
        finally:
            self.cancel()
        try:
            said = json.loads(b"".join(chunks))
        except ValueError:
            raise BuildError("the PDF was not made: the process that laid it out ended without a result") from None
        if said.get("ok"):
            return Path(said["out"]), said["pagination"]
        raise _error_of(said)

    def cancel(self) -> None:
        """End the process (if it still runs) and reap it."""
        import os

        from ..engine import lifetime

        if self.pid is None:
            return
        pid, self.pid = self.pid, None
        try:
            os.close(self._r)
        except OSError:
            pass
        lifetime.end(pid)


def _outcome(fn, *args, **kwargs) -> bytes:
    """``fn(*args, **kwargs)``'s result or error, as the JSON :meth:`PdfProcess.wait` reads."""
    import json
    import traceback

    from ..errors import BarometerError

    try:
        out, pagination = fn(*args, **kwargs)
        said = {"ok": True, "out": str(out), "pagination": pagination}
    except BarometerError as exc:
        said = {"kind": type(exc).__name__, "error": str(exc)}
    except OSError as exc:
        from .publish import describe_os_error

        said = {"kind": "BuildError", "error": describe_os_error(exc)}
    except MemoryError:
        said = {"kind": "BuildError", "error": "out of memory while laying out the PDF"}
    except BaseException as exc:  # noqa: BLE001 - a bug, or an interruption: the parent says which
        said = {"kind": "internal", "error": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc()}
    return json.dumps(said).encode("utf-8")


def _error_of(said: dict) -> Exception:
    from .. import errors

    kind = said.get("kind")
    cls = getattr(errors, kind, None) if isinstance(kind, str) else None
    if isinstance(cls, type) and issubclass(cls, errors.BarometerError):
        return cls(said.get("error", ""))
    log = errors.save_traceback(said.get("traceback") or said.get("error", ""))
    return errors.InternalError(f"internal error while laying out the PDF: {said.get('error')}"
                                + (f" (traceback in {log})" if log else ""))


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


def figure_list(cfg, work: Path) -> dict[str, list[dict]]:
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
