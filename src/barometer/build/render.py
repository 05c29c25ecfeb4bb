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

from .. import __version__, i18n
from ..paths import TEMPLATE_DIR


def page_context(cfg, *, nav: list[dict], synthetic: bool, period: str, commit: str, pdf: str | None = None,
                 edition=None) -> dict:
    """The context of ``report_templates/site/page.html.j2`` (title, banner,
    navigation, footer, PDF link) for an edition's pages and a fan-out's alike."""
    lang = cfg.lang
    edition = cfg.edition if edition is None else edition
    return {
        "lang": lang, "version": __version__,
        "report_title": i18n.t("report_title" if cfg.country == "dk" else "report_title_no", lang),
        "edition_label": f'{edition} · {i18n.t("country_" + cfg.country, lang)}', "edition": edition,
        "synthetic": synthetic, "banner": i18n.t("synthetic_banner" if synthetic else "real_banner", lang),
        "contents": i18n.t("contents", lang), "skip_text": i18n.t("skip_to_content", lang),
        "nav": nav, "pdf_name": pdf or "", "has_pdf": bool(pdf),
        "footer": i18n.t("generated", lang, date=dt.date.today().isoformat(), commit=commit[:10] or "–"),
        "subtitle": i18n.t("edition_subtitle", lang, period=period),
    }


def edition_context(cfg, rc: dict, chapters: list, ds, commit: str) -> dict:
    """An edition's pages: the chapters in the navigation, the PDF linked."""
    return page_context(cfg, nav=[{"id": c.id, "href": c.page, "title": c.title} for c in chapters],
                        synthetic=ds.synthetic, period=ds.period, commit=commit,
                        pdf=pdf_name(cfg) if getattr(cfg, "pdf", False) else None, edition=rc["edition"])


def exporter():
    from nbconvert import HTMLExporter
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
    exp = HTMLExporter(config=c, template_name="chapter", extra_template_basedirs=[str(TEMPLATE_DIR)])
    exp.register_preprocessor(TagRemovePreprocessor(config=c), enabled=True)
    return exp


def jinja():
    """The project's one Jinja environment (the chapters' blocks use it too)."""
    from ..templates import environment

    return environment()


def pdf_name(cfg) -> str:
    return f"innovationsbarometer-{cfg.slug}.pdf"


def site(cfg, rc: dict, chapters: list, ds, work: Path, commit: str) -> list[dict]:
    """An edition's pages: one per chapter (its executed notebook as the body), one per case and advice item;
    returns the case and advice bodies (for the PDF)."""
    import nbformat
    from markupsafe import Markup

    from .. import content

    exp = exporter()
    env = jinja()
    page = env.get_template("site/page.html.j2")
    ctx = edition_context(cfg, rc, chapters, ds, commit)
    for ch in chapters:
        nb = nbformat.read(work / ch.executed_as, as_version=4)
        body, _ = exp.from_notebook_node(nb)
        ch.body = body
        (work / ch.page).write_text(
            page.render(**ctx, page_id=ch.id, page_title=ch.title, root="", body=Markup(body),
                        with_charts="report-figure" in body), encoding="utf-8")
    # full case and advice pages
    lib = content.load_content(cfg.edition)
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
            pages.append({"id": item.id, "kind": kind, "body": Markup(body)})
    # stylesheets, the site script and the vendored chart libraries (once per site)
    shutil.copytree(TEMPLATE_DIR / "assets", work / "assets", dirs_exist_ok=True)
    return pages


def pdf(cfg, rc: dict, chapters: list, ds, work: Path, commit: str, pages: list[dict]) -> Path:
    """The edition as one PDF: cover, contents, chapters and cases (WeasyPrint)."""
    import re

    import weasyprint
    from markupsafe import Markup

    env = jinja()
    ctx = edition_context(cfg, rc, chapters, ds, commit)
    listed = figure_list(cfg, work)
    chs = []
    for ch in chapters:
        figures = listed.get(ch.id, [])
        # links to case pages and to figures on other pages point inside the PDF
        body = re.sub(r'href="(?:\.\./)?(?:cases|advice)/([^"]+)\.html"', r'href="#case-\1"', ch.body)
        body = re.sub(r'href="[a-z0-9-]+\.html#(fig-[^"]+)"', r'href="#\1"', body)
        chs.append({"id": ch.id, "title": ch.title, "body": Markup(body), "figures": figures})
    cases = [{"id": p["id"], "body": p["body"]} for p in pages]
    doc = env.get_template("pdf/print.html.j2").render(
        **ctx, chapters=chs, cases=cases, cases_title=i18n.t("cases_title", cfg.lang))
    (work / "print.html").write_text(doc, encoding="utf-8")
    out = work / pdf_name(cfg)
    weasyprint.HTML(string=doc, base_url=str(work) + "/").write_pdf(str(out))
    (work / "print.html").unlink()
    return out


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
