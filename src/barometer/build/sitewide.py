"""The site's pages for the site as a whole (``build.py --site``), and what every page gets of them.

* the search page and its index in each language (:mod:`.sitesearch`);
* the accessibility page in each language and ``was/index.html`` (:mod:`.siteaccess`);
* on every report page: the search box under the switchers (:func:`searchbox`) and the
  footer's links to both pages (:func:`footer_links`), put in place of the page template's
  ``<!--site:footer-->`` marker (a single build keeps it: it has neither page).

All links are relative to the page (the site works from ``file://``), except in ``404.html``
with ``--base-url`` (a host serves it at any address).
"""

from __future__ import annotations

import json
import posixpath
import shutil
from pathlib import Path

from markupsafe import Markup

from .. import i18n
from ..paths import TEMPLATE_DIR
from . import siteaccess, sitesearch

FOOTER_MARKER = "<!--site:footer-->"
#: a page the sitemap leaves out: it only forwards to the statement elsewhere
NOT_LISTED = siteaccess.NEM_URL_PAGE
#: the site-wide pages' ids (``<body class="page-site-<id>">``)
PAGE_IDS = {"search": sitesearch.PAGE, "accessibility": siteaccess.PAGE}


def _rel(target: str, page: str) -> str:
    return posixpath.relpath(target, posixpath.dirname(page) or ".")


def _t(lang: str) -> dict:
    keys = ("report_title", "publisher", "synthetic_banner", "real_banner", "skip_to_content", "search_label",
            "search_button", "search_title", "a11y_title")
    return {k: i18n.t(k, lang) for k in keys}


def searchbox(env, lang: str, page: str, box_id: str = "site-search-q") -> Markup:
    """The search box of a page at site path ``page`` (its form leads to the search page)."""
    return Markup(env.get_template("site/searchbox.html.j2").render(
        action=_rel(sitesearch.PAGE[lang], page), t=_t(lang), box_id=box_id, lang=lang))


def footer_links(env, lang: str, page: str, root: str | None = None) -> Markup:
    """The footer's links to the accessibility and search pages, from site path ``page``
    (``root``: an absolute site address to start them from instead)."""
    href = (lambda p: root + p) if root else (lambda p: _rel(p, page))
    return Markup(env.get_template("site/footer.html.j2").render(
        accessibility=href(siteaccess.PAGE[lang]), search=href(sitesearch.PAGE[lang]), t=_t(lang), lang=lang))


def settings() -> dict:
    """The accessibility settings (``data/site.yaml``), checked: an :class:`InputError` before anything is built."""
    return siteaccess.settings()


def write(env, built: dict, names: dict, work: Path, synthetic: bool, log=print) -> list[str]:
    """The search and accessibility pages of every language, the search indexes, the client
    script and ``was/index.html`` into the site's work folder; returns the site paths of
    the pages a sitemap lists."""
    from .render import palette_css

    access = siteaccess.settings()
    if siteaccess.stale(access):
        log(f"note: the accessibility statement was last reviewed on {access['reviewed']}: the rules ask for a "
            f"review at least once a year (data/site.yaml, accessibility.reviewed)")
    shutil.copy2(TEMPLATE_DIR / "site" / sitesearch.SCRIPT, work / "assets" / sitesearch.SCRIPT)
    by_lang = sitesearch.site_entries(built, names)
    listed = []
    for lang in i18n.LANGS:
        base = {"lang": lang, "t": _t(lang), "palette_css": palette_css(), "synthetic": synthetic}
        for kind, pages in PAGE_IDS.items():
            page = pages[lang]
            ctx = {**base, "page_id": kind, "switchers": _switchers(env, lang, pages),
                   "alternates": _alternates(env, pages), "footer_links": footer_links(env, lang, page),
                   "searchbox": "" if kind == "search" else searchbox(env, lang, page)}
            if kind == "search":
                (work / sitesearch.index_file(lang)).write_text(sitesearch.index_js(lang, by_lang[lang]),
                                                                 encoding="utf-8")
                html = env.get_template("site/search.html.j2").render(
                    **ctx, title=i18n.t("search_title", lang), s=sitesearch.strings(lang), page=page,
                    groups=sitesearch.groups(by_lang[lang]), index_js=sitesearch.index_file(lang))
            else:
                html = env.get_template("site/accessibility.html.j2").render(
                    **ctx, title=i18n.t("a11y_title", lang), a=siteaccess.context(access, lang))
            (work / page).write_text(html, encoding="utf-8")
            listed.append(page)
    if access["nem_url"]:
        (work / siteaccess.NEM_URL_PAGE).parent.mkdir(parents=True, exist_ok=True)
        (work / siteaccess.NEM_URL_PAGE).write_text(siteaccess.nem_url_page(access), encoding="utf-8")
    return listed


def _switchers(env, lang: str, pages: dict[str, str]) -> Markup:
    """The language switcher of a site-wide page (to the same page in the other language) and the link home."""
    langs = [{"lang": L, "label": i18n.t(f"site_lang_{L}", lang), "href": pages[L], "current": L == lang,
              "missing": False} for L in i18n.LANGS]
    return Markup(env.get_template("site/switchers.html.j2").render(
        langs=langs, editions=[], countries=[], home="index.html",
        **{k: i18n.t(k, lang) for k in ("site_language", "site_edition", "site_country", "site_all_editions",
                                        "site_switchers")}))


def _alternates(env, pages: dict[str, str]) -> Markup:
    return Markup(env.get_template("site/alternates.html.j2").render(
        alternates=[{"lang": L, "href": pages[L]} for L in i18n.LANGS]))


def index_entries(work: Path, lang: str) -> list[list[str]]:
    """The entries of a written site's search index (for tests and checks)."""
    text = (work / sitesearch.index_file(lang)).read_text(encoding="utf-8")
    return json.loads(text.split("=", 1)[1].strip().rstrip(";"))["entries"]
