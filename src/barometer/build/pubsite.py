"""``build.py --site``: every edition x country x language in one static website.

Each report is built as any build (:func:`pipeline.build`, cached: an
unchanged one is a no-op) into its own folder, then the site is assembled
from those folders into ``_build/site/`` through :class:`publish.Output`
(atomic, never over files this program did not write):

* ``<edition>/<lang>/`` the Danish report, ``<edition>/<lang>/no/`` the
  Norwegian one (:func:`site_prefix`), each the build folder without its
  ``assets/``;
* one shared ``assets/`` at the top; every page's links into ``assets/`` are
  rewritten for its depth (:func:`rewrite_links`); every other link stays
  relative inside its report;
* on every page the switchers (language, edition, country) and the
  ``hreflang`` alternates, rendered from ``report_templates/site/switchers.html.j2``
  and ``alternates.html.j2`` with targets computed from the set of builds
  (:func:`switchers`) and put in place of the page template's two markers
  (a single build keeps the markers: no switcher that could lead nowhere);
* ``index.html`` (the editions, newest first), ``404.html`` and ``sitemap.xml``;
* the search and accessibility pages of each language, with a search box and footer links
  on every page (:mod:`.sitewide`).

The reports are built in parallel, and an unchanged one is not started (:mod:`.sitejobs`).
Their executed notebooks (``notebooks/``, ~8 MB a report) stay in the report folders
(``_build/<edition>-<country>-<lang>/notebooks/``): no page links to them.

Pages are matched across builds by their page id (``<body class="page-<id>">``:
a chapter's id, ``case-<id>``, ``advice-<id>``), never by file name or number.
"""

from __future__ import annotations

import hashlib
import json
import posixpath
import re
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from .. import i18n
from ..errors import InputError
from ..paths import BUILD_DIR, TEMPLATE_DIR

SITE_NAME = "site"
#: the page template's markers the assembly fills (``report_templates/site/page.html.j2``)
HEAD_MARKER = "<!--site:alternates-->"
SWITCH_MARKER = "<!--site:switchers-->"
SITE_MANIFEST = "site.json"
#: what a report folder holds that the site does not publish per report
_NOT_COPIED = {"assets", "manifest.json", ".barometer-build.json", "notebooks"}
_PAGE_ID = re.compile(r'<body\b[^>]*\bclass="[^"]*\bpage-([^"\s]+)')
_LINK = re.compile(r'\b(href|src)="([^"]*)"')
_ABSOLUTE = re.compile(r"^(?:[a-zA-Z][a-zA-Z0-9+.-]*:|/|#)")


@dataclass(frozen=True, order=True)
class Report:
    """One build of the site: an edition, a country and a language."""

    edition: str
    country: str
    lang: str

    @property
    def slug(self) -> str:
        return f"{self.edition}-{self.country}-{self.lang}"

    @property
    def prefix(self) -> str:
        return site_prefix(self.edition, self.lang, self.country)


def site_prefix(edition: str, lang: str, country: str) -> str:
    """Where a report lives in the site: ``2018/da/`` (Denmark), ``2018/da/no/`` (Norway)."""
    return f"{edition}/{lang}/" + ("" if country == "dk" else f"{country}/")


def reports(editions: list[str] | None = None, countries: list[str] | None = None,
            langs: list[str] | None = None) -> list[Report]:
    """Every report the report configurations define (``data/report/<year>.yaml``: its
    ``countries``), in both languages; ``editions``/``countries``/``langs`` narrow it."""
    from ..params import editions as all_editions
    from ..reportconfig import report_config

    known = all_editions()
    for e in editions or []:
        if e not in known:
            raise InputError(f"--edition {e!r}: no data/report/{e}.yaml (available: {', '.join(known)})")
    out = []
    for e in editions or known:
        for c in report_config(e).get("countries", ["dk"]):
            if countries and c not in countries:
                continue
            for lang in langs or i18n.LANGS:
                out.append(Report(e, c, lang))
    return sorted(out)


# --------------------------------------------------------------------------------------
# pure parts: links and switchers
# --------------------------------------------------------------------------------------
def relative(target: str, page: str) -> str:
    """The relative link from the site page ``page`` to the site file ``target`` (both site paths)."""
    rel = posixpath.relpath(target, posixpath.dirname(page) or ".")
    return rel


def rewrite_links(html: str, page: str, prefix: str) -> str:
    """A report page's links as the site publishes it at ``prefix + page``: a relative
    link into the report's ``assets/`` goes to the site's one shared ``assets/``; every
    other relative link stays as it is (the report's files keep their places)."""

    def sub(m: re.Match) -> str:
        url = m.group(2)
        if not url or _ABSOLUTE.match(url):
            return m.group(0)
        path, rest = re.match(r"([^?#]*)(.*)", url, re.S).groups()
        if not path:
            return m.group(0)
        resolved = posixpath.normpath(posixpath.join(posixpath.dirname(page), path))
        if resolved != "assets" and not resolved.startswith("assets/"):
            return m.group(0)
        return f'{m.group(1)}="{relative(resolved, prefix + page)}{rest}"'

    return _LINK.sub(sub, html)


def page_id(html: str) -> str | None:
    m = _PAGE_ID.search(html)
    return m.group(1) if m else None


def switchers(report: Report, pid: str, pages: dict[Report, dict[str, str]],
              edition_names: dict[tuple[str, str], str]) -> dict:
    """The switchers' targets of page ``pid`` of ``report``, as links relative to it.

    ``pages``: every report of the site -> its page ids -> the page's path in the report.
    Language and country lead to the same page where it exists, else to that report's
    front page; an edition to the same page (chapter, case) where that edition has it,
    else to its front page, marked ``missing``.  ``alternates``: the page in every
    language that has it (``hreflang``)."""
    here = report.prefix + pages[report][pid]
    lang = report.lang

    def target(other: Report) -> tuple[str, bool]:
        own = pages[other]
        missing = pid not in own
        return relative(other.prefix + own.get(pid, own.get("index", "index.html")), here), missing

    langs, editions, countries, alternates = [], [], [], []
    for L in i18n.LANGS:
        other = Report(report.edition, report.country, L)
        if other in pages:
            href, missing = target(other)
            langs.append({"lang": L, "label": i18n.t(f"site_lang_{L}", L), "href": href,
                          "current": L == lang, "missing": missing})
            if not missing:
                alternates.append({"lang": L, "href": href})
    for e in sorted({r.edition for r in pages if r.country == report.country and r.lang == lang}, reverse=True):
        other = Report(e, report.country, lang)
        href, missing = target(other)
        editions.append({"edition": e, "label": edition_names.get((e, lang), e), "href": href,
                         "current": e == report.edition, "missing": missing,
                         "note": i18n.t("site_edition_missing", lang, edition=e) if missing else ""})
    for c in sorted({r.country for r in pages if r.edition == report.edition and r.lang == lang}):
        other = Report(report.edition, c, lang)
        href, missing = target(other)
        countries.append({"country": c, "label": i18n.t(f"country_{c}", lang), "href": href,
                          "current": c == report.country, "missing": missing})
    return {"langs": langs if len(langs) > 1 else [], "editions": editions if len(editions) > 1 else [],
            "countries": countries if len(countries) > 1 else [], "alternates": alternates if len(alternates) > 1 else [],
            "home": relative("index.html", here),
            **{k: i18n.t(k, lang) for k in ("site_language", "site_edition", "site_country", "site_all_editions", "site_switchers")}}


# --------------------------------------------------------------------------------------
# building and assembling
# --------------------------------------------------------------------------------------
def build_site(*, editions: list[str] | None = None, countries: list[str] | None = None,
               langs: list[str] | None = None, out: Path | None = None, builds_dir: Path | None = None,
               base_url: str | None = None, log=print, **build_options) -> Path:
    """Build every report (``build_options``: the :class:`BuildConfig` settings, e.g. ``pdf``,
    ``cache_dir``, ``force``, ``quiet``) into ``builds_dir/<slug>`` (default ``_build/``), then
    assemble the site into ``out`` (default ``_build/site``).  Returns ``out``."""
    from . import sitejobs, sitewide
    from .config import BuildConfig

    target = Path(out) if out else BUILD_DIR / SITE_NAME
    builds_dir = Path(builds_dir) if builds_dir else (target.parent if out else BUILD_DIR)
    if base_url is not None and not re.match(r"^https?://[^\s\"'<>]+$", base_url):
        raise InputError(f"--base-url {base_url!r}: give an http:// or https:// address")
    sitewide.settings()  # the site's own settings checked before any report is built
    cfgs = {r: BuildConfig(edition=r.edition, country=r.country, lang=r.lang, out_dir=builds_dir / r.slug,
                           base_url=base_url.rstrip("/") + "/" + r.prefix if base_url else None,  # the report's root
                           **build_options) for r in reports(editions, countries, langs)}
    built = dict(zip(cfgs, sitejobs.build_all(list(cfgs.values()), log=log)))
    return assemble(built, target, base_url=base_url, log=log)


def _site_key(built: dict[Report, Path], base_url: str | None) -> str:
    h = hashlib.sha256()
    for r in sorted(built):
        key = _manifest(built[r]).get("build_key") or str(time.time())  # unreadable: assemble again
        h.update(f"{r.slug}={key};".encode())
    from .siteaccess import SITE_SETTINGS

    for p in [Path(__file__), *sorted(Path(__file__).parent.glob("site*.py")), *sorted((TEMPLATE_DIR / "site").glob("*")),
              *sorted((TEMPLATE_DIR / "assets").rglob("*")),
              *sorted((TEMPLATE_DIR.parent / "data" / "report").glob("i18n.yaml")), SITE_SETTINGS,
              TEMPLATE_DIR.parent / "data" / "harmonisation.csv"]:  # the figure pages' comparable editions
        if p.is_file():
            h.update(p.name.encode() + hashlib.sha256(p.read_bytes()).digest())
    h.update((base_url or "").encode())
    return h.hexdigest()


def _up_to_date(target: Path, key: str) -> bool:
    try:
        m = json.loads((target / SITE_MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return m.get("key") == key and all((target / f).is_file() for f in m.get("files", []))


def edition_names(built: dict[Report, Path]) -> dict[tuple[str, str], str]:
    from ..reportconfig import report_config
    from ..i18n import edition_name

    return {(r.edition, r.lang): edition_name(r.edition, report_config(r.edition).get("edition_number"), r.lang)
            for r in built}


def assemble(built: dict[Report, Path], target: Path, *, base_url: str | None = None, log=print) -> Path:
    """The site from the report folders ``built``, written into ``target`` atomically."""
    from . import publish, sitewide

    t0 = time.perf_counter()
    target = publish.check_target(target, slug=SITE_NAME)
    key = _site_key(built, base_url)
    if _up_to_date(target, key):
        log(f"{target} is up to date [{time.perf_counter() - t0:.2f} s]")
        return target
    publish.clean_stale(target)
    # every report's pages, by page id
    pages: dict[Report, dict[str, str]] = {}
    texts: dict[tuple[Report, str], str] = {}
    for r, folder in built.items():
        pages[r] = {}
        for p in sorted(folder.rglob("*.html")):
            rel = p.relative_to(folder).as_posix()
            if rel.split("/")[0] in _NOT_COPIED or rel.startswith("notebooks/"):
                continue
            text = p.read_text(encoding="utf-8")
            pid = page_id(text)
            if pid:
                pages[r][pid] = rel
                texts[(r, rel)] = text
    names = edition_names(built)
    from . import figpages
    from .render import jinja

    env = jinja()
    switch_t, alt_t = env.get_template("site/switchers.html.j2"), env.get_template("site/alternates.html.j2")
    with publish.Output(target) as out:
        work = out.work
        shutil.copytree(TEMPLATE_DIR / "assets", work / "assets")
        for r, folder in sorted(built.items()):
            dest = work / r.prefix
            dest.mkdir(parents=True, exist_ok=True)
            for entry in sorted(folder.iterdir()):
                if entry.name in _NOT_COPIED or entry.name.startswith("."):
                    continue
                if entry.is_dir():
                    shutil.copytree(entry, dest / entry.name)
                else:
                    shutil.copy2(entry, dest / entry.name)
            by_path = {rel: pid for pid, rel in pages[r].items()}
            for (rr, rel), text in texts.items():
                if rr != r:
                    continue
                pid = by_path[rel]
                ctx = switchers(r, pid, pages, names)
                text = rewrite_links(text, rel, r.prefix)
                if pid.startswith(figpages.PAGE_ID_PREFIX):  # the same figure in the other reports
                    text = figpages.for_site(text, r, pid, {o: relative(o.prefix + own[pid], r.prefix + rel)
                                                            for o, own in pages.items() if o != r and pid in own},
                                             built, names, base_url)
                text = text.replace(HEAD_MARKER, alt_t.render(**ctx), 1).replace(
                    SWITCH_MARKER, switch_t.render(**ctx) + str(sitewide.searchbox(env, r.lang, r.prefix + rel)), 1).replace(
                    sitewide.FOOTER_MARKER, str(sitewide.footer_links(env, r.lang, r.prefix + rel)), 1)
                (dest / rel).write_text(text, encoding="utf-8")
        synthetic = any(_manifest(built[r]).get("parameters", {}).get("synthetic", True) for r in built)
        sitewide.write(env, built, names, work, synthetic, log)
        _front_page(env, built, names, work, synthetic)
        _not_found(env, work, base_url)
        files = sorted(p.relative_to(work).as_posix() for p in work.rglob("*") if p.is_file()
                       and p.name != publish.MARKER)
        _sitemap(work, [f for f in files if f.endswith(".html") and f not in ("404.html", sitewide.NOT_LISTED)],
                 base_url)
        files.append("sitemap.xml")
        (work / SITE_MANIFEST).write_text(json.dumps({"key": key, "reports": [r.slug for r in sorted(built)],
                                                      "files": files}, indent=1), encoding="utf-8")
        out.commit()
    size = sum(p.stat().st_size for p in target.rglob("*") if p.is_file())
    log(f"assembled {target}: {len(built)} reports, {sum(len(v) for v in pages.values())} pages, "
        f"{size / 1e6:.1f} MB in {time.perf_counter() - t0:.1f} s")
    return target


def _front_page(env, built: dict[Report, Path], names: dict, work: Path, synthetic: bool) -> None:
    from . import sitewide
    from .render import palette_css, pdf_name

    editions = []
    for e in sorted({r.edition for r in built}, reverse=True):
        items = []
        for r in sorted((r for r in built if r.edition == e), key=lambda r: (r.country != "dk", r.country, r.lang)):
            pdf = pdf_name(r)
            items.append({"lang": r.lang, "country": i18n.t(f"country_{r.country}", r.lang),
                          "language": i18n.t(f"site_lang_{r.lang}", r.lang), "href": f"{r.prefix}index.html",
                          "pdf": f"{r.prefix}{pdf}" if (built[r] / pdf).is_file() else ""})
        editions.append({"edition": e, "names": {L: names.get((e, L), e) for L in i18n.LANGS}, "reports": items,
                         "key_figures": {r.lang: key_figures(built[r]) for r in built if r.edition == e and r.country == "dk"}})
    (work / "index.html").write_text(env.get_template("site/front.html.j2").render(
        editions=editions, palette_css=palette_css(), synthetic=synthetic, t={L: _strings(L) for L in i18n.LANGS},
        searchboxes=[sitewide.searchbox(env, L, "index.html", f"site-search-{L}") for L in i18n.LANGS],
        footer_links=[sitewide.footer_links(env, L, "index.html") for L in i18n.LANGS]), encoding="utf-8")


_KEY_FIGURES = re.compile(r'<section class="key-figures"[^>]*>.*?</section>(\s*<p class="table-note">.*?</p>)?', re.S)


def key_figures(folder: Path):
    """The key figures of a report's front page, as it shows them (its numbers come from its
    ``estimates.csv``), without their ids (the site's front page shows several); None without."""
    from markupsafe import Markup

    try:
        m = _KEY_FIGURES.search((folder / "index.html").read_text(encoding="utf-8"))
    except OSError:
        return None
    return Markup(re.sub(r'^(<section class="key-figures") id="[^"]*"', r"\1", m.group(0))) if m else None


def _manifest(folder: Path) -> dict:
    try:
        return json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _strings(lang: str) -> dict:
    return {k: i18n.t(k, lang) for k in ("report_title", "site_all_editions", "site_not_found",
                                          "site_not_found_text", "publisher", "synthetic_banner", "real_banner", "site_key_figures")}


def _not_found(env, work: Path, base_url: str | None) -> None:
    """``404.html``: a static host serves it at any address, so with ``--base-url`` its links are absolute."""
    from . import sitewide
    from .render import palette_css

    root = base_url.rstrip("/") + "/" if base_url else ""
    (work / "404.html").write_text(env.get_template("site/404.html.j2").render(
        root=root, palette_css=palette_css(), t={L: _strings(L) for L in i18n.LANGS},
        footer_links=[sitewide.footer_links(env, L, "404.html", root) for L in i18n.LANGS]), encoding="utf-8")


def _sitemap(work: Path, pages: list[str], base_url: str | None) -> None:
    from xml.sax.saxutils import escape

    root = base_url.rstrip("/") + "/" if base_url else ""
    urls = "".join(f"  <url><loc>{escape(root + p)}</loc></url>\n" for p in pages)
    (work / "sitemap.xml").write_text('<?xml version="1.0" encoding="UTF-8"?>\n'
                                      '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
                                      f"{urls}</urlset>\n", encoding="utf-8")
