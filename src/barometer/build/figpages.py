"""A page per figure: ``figur/<figure id>.html`` in every edition report (its
address: :func:`barometer.permalink.figure_page`, named by id, never by number).

In a build, :func:`write` (called by :func:`.render.site`) makes one page for
every figure that left its ``figures/<id>.json``: the figure exactly as its
chapter shows it (taken from the chapter's rendered page: the chart in both
layouts, number, headline, caption, actions, data table), with its downloads,
embed code and data table open and only the files that exist listed, how to cite it, and
a link back to its anchor in the chapter.  Every relative link of the block is
made one folder deeper.  A single build links nothing outside itself.

In the site, :func:`for_site` (called by :mod:`.pubsite` for each figure page)
fills the page's marker with links to the same figure in the other language
and in the other editions where its measures are comparable
(:func:`comparison`, from ``data/harmonisation.csv``), and gives the cite its
address in the site: absolute with ``--base-url``, else relative to the site.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

from .. import i18n
from ..permalink import figure_page

#: a figure page's page id (``<body class="page-figure-<id>">``): the site matches pages by it
PAGE_ID_PREFIX = "figure-"
#: where the site puts the links to the figure in other reports (a single build keeps the comment)
LINKS_MARKER = "<!--site:figure-links-->"
_LINK = re.compile(r'\b(href|src)="([^"]*)"')
_ABSOLUTE = re.compile(r"^(?:[a-zA-Z][a-zA-Z0-9+.-]*:|/|#)")
_CITE_URL = re.compile(r'(<span class="cite-url")>([^<]*)(</span>)')


def page_id(fig_id: str) -> str:
    return PAGE_ID_PREFIX + fig_id


def figure_block(body: str, fig_id: str) -> str | None:
    """The ``<figure class="report-figure">`` element of ``fig_id`` in a chapter page's body
    (None if the chapter does not show it).  A nested ``<figure>`` is counted; the embed
    code's is text (escaped) and is not."""
    start = None
    for m in re.finditer(r"<figure\b[^>]*>", body):
        tag = m.group(0)
        if re.search(r'\bclass="report-figure"', tag) and f'data-figure-id="{fig_id}"' in tag:
            start = m
            break
    if start is None:
        return None
    depth = 0
    for m in re.compile(r"<(/?)figure\b[^>]*>").finditer(body, start.start()):
        depth += -1 if m.group(1) else 1
        if depth == 0:
            return body[start.start():m.end()]
    return None


def one_folder_down(markup: str) -> str:
    """Every relative ``href``/``src`` of ``markup`` (the embed code's too) as seen from a page one folder down."""

    def sub(m: re.Match) -> str:
        url = m.group(2)
        if not url or _ABSOLUTE.match(url):
            return m.group(0)
        return f'{m.group(1)}="../{url}"'

    return _LINK.sub(sub, markup)


def page_figure(block: str, meta: dict, work: Path, chapter_page: str, lang: str) -> str:
    """The chapter's figure block as its own page shows it: the headline the page's ``<h1>``,
    the link to this page turned into the link back to the figure in its chapter, downloads,
    embed code and data table open, a download only where its file exists, every relative
    link one folder down, and the whole caption (the chapter says each note once)."""
    back = (f'<a class="figure-page-link" href="{html.escape(chapter_page)}#{html.escape(meta["anchor"])}">'
            f'{html.escape(i18n.t("figpage_in_chapter", lang))}</a>')
    block = re.sub(r'<a\b[^>]*\bclass="figure-page-link"[^>]*>.*?</a>', lambda _: back, block, count=1, flags=re.S)
    block = re.sub(r'<h2\b([^>]*\bclass="figure-headline"[^>]*)>(.*?)</h2>', r"<h1\1>\2</h1>", block, count=1,
                   flags=re.S)
    block = re.sub(r'<details\b(?=[^>]*\bclass="(?:downloads|embed|data-table)")', "<details open", block)
    # the whole caption: the chapter says a note once, this page stands alone
    from markupsafe import escape

    block = re.sub(r'(<span class="figure-caption-text">).*?(</span>)',
                   lambda m: f"{m.group(1)}{escape(meta['caption'])}{m.group(2)}", block, count=1, flags=re.S)

    def existing(m: re.Match) -> str:
        return m.group(0) if (work / m.group(1)).is_file() else ""

    block = re.sub(r'<li><a\b[^>]*\bhref="(figures/[^"]+)"[^>]*>.*?</a></li>', existing, block, flags=re.S)
    return one_folder_down(block)


def figure_metadata(work: Path) -> list[dict]:
    """The build's figures (``figures/<id>.json``), in number order."""
    metas = [json.loads(p.read_text(encoding="utf-8")) for p in sorted((work / "figures").glob("*.json"))
             if not p.name.endswith(".vl.json")] if (work / "figures").is_dir() else []
    return sorted(metas, key=lambda m: m["number"])


def cite(ctx: dict, meta: dict, url: str):
    """"Cite this figure": :func:`barometer.permalink.cite` (markup), with the page's address."""
    from ..permalink import cite as cite_text

    return cite_text(ctx["lang"], publisher=ctx["publisher"], title=meta["headline"].rstrip("."),
                     report=ctx["report_title"], edition=ctx["edition_name"], figure_id=meta["id"],
                     date=meta["built"], url=url, markup=True)


def write(cfg, chapters: list, work: Path, ctx: dict, page) -> list[str]:
    """The page of every figure its chapter's page shows (``page``: the site page template, ``ctx``:
    the report's page context); returns the pages' paths.  The chapters' ``body``: their rendered page body."""
    from markupsafe import Markup

    from .. import templates

    by_id = {c.id: c for c in chapters}
    written = []
    for meta in figure_metadata(work):
        ch = by_id.get(meta["chapter"])
        block = figure_block(ch.body, meta["id"]) if ch is not None else None
        if block is None:  # computed in a cell the page hides: not published, so no page of its own
            continue
        number = f'{i18n.t("figure", cfg.lang)} {meta["number"]}'
        path = figure_page(meta["id"])
        body = templates.render(
            "site/figure.html.j2", figure=Markup(page_figure(block, meta, work, ch.page, cfg.lang)),
            chapter_href=f"../{ch.page}#{meta['anchor']}", cite=cite(ctx, meta, path),
            chapter_item=i18n.t("figpage_chapter_item", cfg.lang, chapter=ch.title, number=meta["number"]),
            marker=Markup(LINKS_MARKER),
            **{k: i18n.t(k, cfg.lang) for k in ("figpage_cite_title", "figpage_links_title")})
        (work / path).parent.mkdir(exist_ok=True)
        (work / path).write_text(page.render(**ctx, page_id=page_id(meta["id"]), root="../", body=Markup(body),
                                             page_title=f"{number}: {meta['headline']}", with_charts=True),
                                 encoding="utf-8")
        written.append(path)
    return written


# --------------------------------------------------------------------------------------
# the site: the same figure in other reports
# --------------------------------------------------------------------------------------
def _measures(spec: dict) -> list[str]:
    kind = spec.get("type", "shares")
    if kind in ("shares", "comparison"):
        return list(spec.get("measures", []))
    if kind == "by_population":
        return [spec["measure"]]
    return []  # a test of an outcome between groups (controls, reference): not one measure's share


def comparison(fig_id: str, edition: str, other: str, country: str) -> dict | None:
    """How figure ``fig_id`` of ``edition`` compares with the figure of the same id in ``other``
    (both in ``country``'s build), measure by measure, from the harmonisation table: ``comparable``
    (both editions' rows say yes, each from the measure itself), ``not_comparable`` (measure,
    edition whose row says no), ``not_assessed`` (no row of that population), ``only`` (shown in
    one of the two).  None where the two figures are not the same kind of figure (type,
    population, groups) or either edition lacks it."""
    from .. import harmonisation
    from ..reportconfig import figures_for, report_config

    a = figures_for(report_config(edition), country).get(fig_id)
    b = figures_for(report_config(other), country).get(fig_id)
    if a is None or b is None:
        return None
    if (a.get("type", "shares"), a.get("population"), a.get("populations")) != \
            (b.get("type", "shares"), b.get("population"), b.get("populations")):
        return None
    ma, mb = _measures(a), _measures(b)
    if not ma or not mb:
        return None
    rows = {(r.measure, r.edition): r for r in harmonisation.load().itertuples()}
    out = {"comparable": [], "not_comparable": [], "not_assessed": [], "only": []}
    for m in ma + [m for m in mb if m not in ma]:
        if m not in ma or m not in mb:
            out["only"].append(m)
            continue
        pair = [rows.get((m, e)) for e in (edition, other)]
        # a trends figure (``kind``) shows each measure of its harmonisation rows' population
        population = pair[0].population if "kind" in a and pair[0] is not None else a.get("population")
        if any(r is None or r.population != population for r in pair):
            out["not_assessed"].append(m)
        elif all(r.comparable == "yes" and r.source_measure == m for r in pair):
            out["comparable"].append(m)
        else:
            out["not_comparable"] += [(m, r.edition) for r in pair
                                      if not (r.comparable == "yes" and r.source_measure == m)]
    return out


def measure_label(edition: str, country: str, measure: str, lang: str) -> str:
    """A measure as the reader knows it: its label in ``measures.yaml``, else its variable's in the codebook."""
    from ..codebook import load_codebook
    from ..measures import measures_spec

    spec = measures_spec(edition)["measures"][measure]
    return spec["label"][lang] if "label" in spec else load_codebook(edition, country).label(spec["var"], lang)


def comparison_text(comp: dict, edition: str, other: str, country: str, lang: str) -> str:
    """What a link to the figure in another edition says about comparing the two."""
    from .. import harmonisation
    from ..codebook import CodebookError

    if not (comp["not_comparable"] or comp["not_assessed"] or comp["only"]):
        return i18n.t("figpage_same_definition", lang)

    def label(m: str) -> str:  # in this edition's wording, or the other's for a measure only it shows
        for e in (edition, other):
            try:
                return measure_label(e, country, m, lang)
            except (KeyError, CodebookError):
                continue
        return m

    notes = {(r.measure, r.edition): getattr(r, f"note_{lang}") for r in harmonisation.load().itertuples()}
    parts = [i18n.t("figpage_comparable", lang, items=", ".join(map(label, comp["comparable"])))]
    if comp["not_comparable"]:
        items = "; ".join(f"{label(m)} ({e}: {notes[(m, e)].rstrip('.')})" for m, e in comp["not_comparable"])
        parts.append(i18n.t("figpage_not_comparable", lang, items=items) + ".")
    if comp["not_assessed"]:
        parts.append(i18n.t("figpage_not_assessed", lang, items=", ".join(map(label, comp["not_assessed"]))))
    if comp["only"]:
        parts.append(i18n.t("figpage_only_one", lang, items=", ".join(map(label, comp["only"]))))
    return " ".join(parts)


def for_site(text: str, report, pid: str, targets: dict, folders: dict, names: dict, base_url: str | None) -> str:
    """Figure page ``text`` of ``report`` (a :class:`.pubsite.Report`) as the site publishes it.
    ``targets``: every other report of the site that has this page -> the link to it from here;
    ``folders``: report -> its build folder (the figures' metadata); ``names``: (edition, lang) ->
    the edition's name.  The links: the other language (same edition and country) and every other
    edition (same country and language) whose figure :func:`comparison` finds comparable, newest first."""
    from ..templates import environment

    fig_id = pid[len(PAGE_ID_PREFIX):]
    lang = report.lang

    def headline(other) -> str:
        try:
            return json.loads((folders[other] / "figures" / f"{fig_id}.json").read_text(encoding="utf-8"))["headline"]
        except (OSError, ValueError, KeyError):
            return fig_id

    links = []
    for other, href in sorted(targets.items(), key=lambda kv: i18n.LANGS.index(kv[0].lang)):
        if other.edition == report.edition and other.country == report.country and other.lang != lang:
            links.append({"href": href, "lang": other.lang,
                          "text": i18n.t("figpage_other_lang", other.lang, headline=headline(other))})
    for other, href in sorted(targets.items(), key=lambda kv: kv[0].edition, reverse=True):
        if other.country != report.country or other.lang != lang or other.edition == report.edition:
            continue
        comp = comparison(fig_id, report.edition, other.edition, report.country)
        if comp is None or not comp["comparable"]:
            continue
        links.append({"href": href, "text": i18n.t("figpage_other_edition", lang, headline=headline(other),
                                                  edition=names.get((other.edition, lang), other.edition)),
                      "note": comparison_text(comp, report.edition, other.edition, report.country, lang)})
    text = text.replace(LINKS_MARKER, environment().get_template("site/figure_links.html.j2").render(links=links), 1)
    address = report.prefix + figure_page(fig_id)
    if base_url:  # the address a reader can cite anywhere; without it, the page's place in the site
        absolute = html.escape(base_url.rstrip("/") + "/" + address)
        return _CITE_URL.sub(lambda m: f"{m.group(1)} data-absolute>{absolute}{m.group(3)}", text, count=1)
    return _CITE_URL.sub(lambda m: f"{m.group(1)}>{address}{m.group(3)}", text, count=1)
