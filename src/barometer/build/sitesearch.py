"""The site's search (``build.py --site``): every report's chapter titles and figures, per language.

:func:`entries` reads what each report's build recorded: its chapters from ``manifest.json``
(``tasks``: id and page) with their titles from the report configuration, and its figures from
the figure metadata the chapters wrote (``figures/<id>.json``, listed in the manifest's
``files``: headline, caption, number, chapter, page and anchor).  A figure's result leads to
its own page (:func:`barometer.permalink.figure_page`) where the build published one, else to
its anchor in its chapter (``<page>#fig-<id>``).

Per language the site gets

* ``search-index.<lang>.js``: the entries as one JavaScript assignment
  (``window.barometerSearch``), loaded with a ``<script>`` element, so the search works from
  ``file://`` (no ``fetch``) and with the network off;
* ``soeg.html`` / ``search.html`` (:data:`PAGE`): a search box whose results
  ``assets/search.js`` (a few KB, no outside service) shows as the reader types, and, below
  it, every entry as a static list, grouped by edition, report and chapter: the page without
  JavaScript (the box's ``?q=`` reaches the same page, whose list the browser's find searches).
"""

from __future__ import annotations

import json
from pathlib import Path

from .. import i18n

#: the search page in each language, at the site's top
PAGE = {"da": "soeg.html", "en": "search.html"}
#: the client's script, copied into the site's assets/
SCRIPT = "search.js"


def index_file(lang: str) -> str:
    return f"search-index.{lang}.js"


def _figure_files(manifest: dict) -> list[str]:
    """The figure metadata files a build wrote (``figures/<id>.json``, not the ``.vl.json`` specs)."""
    return [f for f in manifest.get("files", []) if f.startswith("figures/") and f.endswith(".json")
            and not f.endswith(".vl.json") and f.count("/") == 1]


def entries(report, folder: Path, edition_name: str) -> list[dict]:
    """One report's chapters and figures, in reading order, each with its site address.

    ``report``: a :class:`pubsite.Report`; ``folder``: its build folder."""
    from ..permalink import figure_page
    from ..reportconfig import chapters_for, report_config

    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    lang = report.lang
    titles = {c["id"]: c["title"][lang] for c in chapters_for(report_config(report.edition), report.country)}
    where = f"{edition_name} · {i18n.t('country_' + report.country, lang)}"
    figures: dict[str, list[dict]] = {}
    for f in _figure_files(manifest):
        m = json.loads((folder / f).read_text(encoding="utf-8"))
        figures.setdefault(m["chapter"], []).append(m)
    out = []
    for task in manifest.get("tasks", []):
        if not task.get("page") or task["id"] not in titles:
            continue
        chapter = titles[task["id"]]
        out.append({"kind": "chapter", "title": chapter, "text": "", "href": report.prefix + task["page"],
                    "label": i18n.t("search_chapter", lang), "where": where, "chapter": chapter})
        for m in sorted(figures.get(task["id"], []), key=lambda m: m["number"]):
            out.append({"kind": "figure", "title": m["headline"], "text": m.get("caption", ""),
                        "href": report.prefix + (figure_page(m["id"]) if (folder / figure_page(m["id"])).is_file()
                                                 else m["page"]),
                        "label": f"{i18n.t('figure', lang)} {m['number']}", "where": where, "chapter": chapter})
    return out


def site_entries(built: dict, names: dict) -> dict[str, list[dict]]:
    """Every report's entries by language: editions newest first, Denmark before Norway."""
    by_lang: dict[str, list[dict]] = {L: [] for L in i18n.LANGS}
    order = sorted(built, key=lambda r: (-int(r.edition), r.country != "dk", r.country))
    for r in order:
        by_lang[r.lang] += entries(r, built[r], names.get((r.edition, r.lang), r.edition))
    return by_lang


def index_js(lang: str, items: list[dict]) -> str:
    """``search-index.<lang>.js``: each entry as [title, caption, address, where (edition, country,
    figure number, chapter)]."""
    rows = [[e["title"], e["text"], e["href"], f"{e['where']} · {e['label']}"
             + (f" · {e['chapter']}" if e["kind"] == "figure" else "")] for e in items]
    data = json.dumps({"lang": lang, "entries": rows}, ensure_ascii=False, separators=(",", ":"))
    return f"window.barometerSearch = {data};\n"


def groups(items: list[dict]) -> list[dict]:
    """The static list: the entries by report (``where``), each chapter with its figures."""
    out: list[dict] = []
    for e in items:
        if not out or out[-1]["where"] != e["where"]:
            out.append({"where": e["where"], "chapters": []})
        chapters = out[-1]["chapters"]
        if e["kind"] == "chapter":
            chapters.append({**e, "figures": []})
        elif chapters:
            chapters[-1]["figures"].append(e)
    return out


def strings(lang: str) -> dict:
    return {k: i18n.t(k, lang) for k in ("search_title", "search_label", "search_button", "search_intro",
                                          "search_all")} | {
        k: i18n.t(k, lang, q="{q}", n="{n}") for k in ("search_none", "search_one", "search_many")}
