"""The whole assembled site in a real browser (issue 14's "Done when"): Debian's chromium via
Playwright, every request that is not ``file://`` aborted and recorded.

The site is built once for the module, as ``build.py --site --no-pdf`` builds it (every
edition, country and language; its own cache, so cold), then

* every page is opened, with no script error and no request leaving ``file://``; every link,
  switcher, script, stylesheet, image and form of it, as the browser resolves it, leads to a
  file of the site and, with an anchor, to an element of that page (no dead one); links out of
  the site are https, mailto or tel only and are never loaded;
* axe-core's WCAG 2.0/2.1/2.2 A and AA rules find 0 violations on every page at 1280 px, and at
  390 px on every page of the site as a whole and each kind of page of every report;
* the switchers lead to the same page (and the language switcher keeps the figure anchor);
  the search box finds a figure by its headline and leads to its page; without JavaScript
  the search page lists every figure and chapter.

Skipped, with the reason, without chromium, Playwright or axe-playwright-python.
"""

from __future__ import annotations

import collections
import os
import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from browserkit import ARGS, CHROMIUM, WCAG_TAGS, file_only, require

pytestmark = [pytest.mark.browser, pytest.mark.slow]

sync_api, axe_sync = require(axe=True)

from barometer.build import pubsite, siteaccess, sitesearch, sitewide

OUTSIDE: list[str] = []  # requests that tried to leave file:// (all aborted)

#: per page, as the browser sees it: every element id, every link-like attribute resolved to an
#: absolute address (tag, address, whether it is a switcher's), the footer's links
COLLECT = """() => {
  const ids = [...document.querySelectorAll('[id]')].map(e => e.id)
    .concat([...document.querySelectorAll('a[name]')].map(e => e.name));
  const links = [];
  for (const el of document.querySelectorAll('a[href], area[href], link[href], script[src], img[src], source[src], iframe[src], form[action]')) {
    const url = el.tagName === 'FORM' ? el.action : (typeof el.href === 'string' ? el.href : el.src);
    if (typeof url === 'string') links.push([el.tagName.toLowerCase(), url, !!el.closest('.site-switchers')]);
  }
  const footer = [...document.querySelectorAll('footer a')].map(a => a.href);
  return {ids, links, footer, lang: document.documentElement.lang, body: document.body.className};
}"""


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    root = tmp_path_factory.mktemp("wholesite")
    return pubsite.build_site(out=root / "site", builds_dir=root / "reports", cache_dir=root / "cache", pdf=False,
                              quiet=True, log=lambda *_: None)


def _pages(site: Path) -> list[Path]:
    """Every page of the site but the one that only forwards to the statement elsewhere."""
    return [p for p in sorted(site.rglob("*.html")) if p.relative_to(site).as_posix() != sitewide.NOT_LISTED]


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        yield b
        b.close()


def _context(browser, width: int, **kw):
    return file_only(browser.new_context(viewport={"width": width, "height": 900}, **kw), OUTSIDE)


def _open(ctx, url: str):
    page = ctx.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(f"console.{m.type}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(f"pageerror: {e}"))
    page.goto(url)
    page.wait_for_load_state("load")
    n = page.locator("figure.report-figure").count()
    if n:  # the live charts replace the static ones: check what the reader gets
        page.wait_for_function(f"document.querySelectorAll('figure.chart-is-live').length === {n}", timeout=30000)
    return page, problems


def _axe(axe, page) -> list[tuple[str, str]]:
    page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")  # tables checked too
    result = axe.run(page, options={"runOnly": {"type": "tag", "values": WCAG_TAGS}, "resultTypes": ["violations"]})
    return [(v["id"], str(n["target"])) for v in result.response["violations"] for n in v["nodes"]]


def _path(url: str) -> Path:
    return Path(unquote(urlsplit(url).path))


@pytest.fixture(scope="module")
def seen(site, browser):
    """Every page opened at 1280 px: what it holds (:data:`COLLECT`), its problems and its axe-core violations."""
    ctx = _context(browser, 1280)
    axe = axe_sync.Axe()
    out = {}
    for path in _pages(site):
        page, problems = _open(ctx, path.as_uri())
        info = page.evaluate(COLLECT)
        info["problems"] = list(problems)  # before axe-core, whose CSS rule's requests a file:// page refuses
        out[path] = {**info, "violations": _axe(axe, page)}
        page.close()
    ctx.close()
    return out


def test_every_page_opens_offline_without_errors(site, seen):
    assert len(seen) > 50  # 3 editions, 2 languages, Norway; search and accessibility pages
    assert {p.relative_to(site).as_posix() for p in seen} >= {"index.html", "404.html", *sitesearch.PAGE.values(),
                                                              *siteaccess.PAGE.values()}
    problems = {p.relative_to(site).as_posix(): s["problems"] for p, s in seen.items() if s["problems"]}
    assert not problems, problems
    assert not OUTSIDE, f"requests outside file://: {OUTSIDE[:5]}"


def test_no_link_switcher_or_asset_is_dead(site, seen):
    root = site.resolve()
    ids = {p.resolve(): set(s["ids"]) for p, s in seen.items()}
    dead, external, checked, switchers = [], collections.Counter(), 0, 0
    for page, s in seen.items():
        name = page.relative_to(site).as_posix()
        for tag, url, in_switcher in s["links"]:
            scheme = urlsplit(url).scheme
            if scheme in ("https", "mailto", "tel"):
                external[scheme] += 1
                assert tag == "a", f"{name}: a {tag} loads {url} from outside the site"
                continue
            if (scheme == "data" and tag == "img") or (scheme == "blob" and tag == "a"):
                continue  # an inline image; a download the page made (a figure's CSV, SVG or PNG)
            assert scheme == "file", f"{name}: {tag} -> {url}"
            checked += 1
            switchers += in_switcher
            target = _path(url).resolve()
            frag = urlsplit(url).fragment
            if not target.is_relative_to(root):
                dead.append(f"{name} -> {url} (outside the site)")
            elif not target.is_file():
                dead.append(f"{name} -> {url}")
            elif frag and target.suffix == ".html":
                known = ids.get(target)
                if known is None:  # a page not opened (the forwarding page): its ids from its text
                    known = set(re.findall(r'\bid="([^"]+)"', target.read_text(encoding="utf-8")))
                if unquote(frag) not in known:
                    dead.append(f"{name} -> {url} (no such anchor)")
    assert not dead, f"{len(dead)} dead: {dead[:10]}"
    assert checked > 1500 and switchers > 150, (checked, switchers)  # (the whole site: about 2000 and 250)
    assert external["https"] and external["mailto"]  # the statement, Digitaliseringsstyrelsen, the contact


def test_every_page_links_its_languages_accessibility_page_from_its_footer(site, seen):
    for page, s in seen.items():
        name = page.relative_to(site).as_posix()
        langs = ["da", "en"] if name in ("index.html", "404.html") else [s["lang"]]
        targets = {_path(u).resolve() for u in s["footer"]}
        for lang in langs:
            assert (site / siteaccess.PAGE[lang]).resolve() in targets, name


def test_axe_finds_no_wcag_violations_on_any_page_at_1280px(site, seen):
    by_rule = collections.defaultdict(list)
    for page, s in seen.items():
        for rule, target in s["violations"]:
            by_rule[rule].append(f"{page.relative_to(site)} {target}")
    assert not by_rule, {rule: (len(v), v[:3]) for rule, v in by_rule.items()}


def _sample(site: Path) -> list[Path]:
    """At 390 px (a phone): every page of the site as a whole, and of each report its front page,
    one chapter with charts and one case or advice page: each kind of page the reports have."""
    out = [p for p in _pages(site) if p.parent == site]
    for index in sorted(site.glob("*/*/index.html")) + sorted(site.glob("*/*/*/index.html")):
        folder = index.parent
        charts = [p for p in sorted(folder.glob("*.html"))
                  if p.name != "index.html" and 'class="report-figure"' in p.read_text(encoding="utf-8")]
        boxes = sorted(folder.glob("cases/*.html")) + sorted(folder.glob("advice/*.html"))
        out += [index, *charts[:1], *boxes[:1]]
    return out


def test_axe_finds_no_wcag_violations_at_390px(site, browser):
    ctx = _context(browser, 390)
    axe = axe_sync.Axe()
    by_rule = collections.defaultdict(list)
    pages = _sample(site)
    assert len(pages) > 20
    for path in pages:
        page, problems = _open(ctx, path.as_uri())
        assert not problems, (path, problems)
        for rule, target in _axe(axe, page):
            by_rule[rule].append(f"{path.relative_to(site)} {target}")
        assert page.evaluate("document.scrollingElement.scrollWidth") <= 390, f"{path} scrolls sideways"
        page.close()
    # the search page with results showing, too
    page, _ = _open(ctx, (site / sitesearch.PAGE["en"]).as_uri() + "?q=innovation")
    for rule, target in _axe(axe, page):
        by_rule[rule].append(f"search results {target}")
    ctx.close()
    assert not by_rule, {rule: (len(v), v[:3]) for rule, v in by_rule.items()}


def test_switchers_lead_to_the_same_page_and_keep_the_figure(site, browser):
    from barometer.reportconfig import figure_anchor

    ctx = _context(browser, 1280)
    page, _ = _open(ctx, (site / "2018" / "da" / "samarbejde.html").as_uri() + "#" + figure_anchor("collab_partners"))
    page.locator(".site-switchers .switch-lang a[hreflang=en]").click()
    page.wait_for_load_state("load")
    assert page.url.endswith("/2018/en/samarbejde.html#" + figure_anchor("collab_partners")), page.url
    assert page.locator("#" + figure_anchor("collab_partners")).count() == 1
    own = pubsite.page_id(page.content())
    # every switcher of the page: the same page where the other report has it, else its front page, saying so
    for link in page.locator(".site-switchers a").all():
        href = link.evaluate("a => a.href")
        other = pubsite.page_id(_path(href).read_text(encoding="utf-8"))
        missing = "switch-missing" in (link.get_attribute("class") or "")
        assert other == ("index" if missing else own) or href.endswith("/index.html"), href
    page.close()
    ctx.close()


def test_search_box_finds_a_figure_and_leads_to_its_page(site, browser):
    from barometer.permalink import FIGURE_PAGE_DIR

    ctx = _context(browser, 1280)
    entries = sitewide.index_entries(site, "da")
    figure = next(e for e in entries if f"/{FIGURE_PAGE_DIR}/" in e[2])  # a figure's result: its own page
    word = max(re.findall(r"\w{6,}", figure[0]), key=len)
    page, problems = _open(ctx, (site / "2021" / "da" / "index.html").as_uri())
    page.fill("#site-search-q", word)
    page.locator("form.site-search button").click()
    page.wait_for_load_state("load")
    assert "/soeg.html?q=" in page.url
    results = page.locator("#search-results li a")
    results.first.wait_for()
    assert page.locator("#search-all").is_hidden() and "passer til" in page.locator("#search-status").inner_text()
    hrefs = [a.evaluate("a => a.href") for a in results.all()]
    assert any(h.endswith(figure[2]) for h in hrefs), (word, figure[2], hrefs[:5])
    page.locator(f'#search-results a[href="{figure[2]}"]').first.click()
    page.wait_for_load_state("load")
    fig_id = figure[2].rsplit("/", 1)[1].removesuffix(".html")
    assert page.url.endswith(figure[2]) and page.locator(f'figure[data-figure-id="{fig_id}"]').count() == 1
    # typing shows the results as one types; a word nothing has says so
    page.goto((site / sitesearch.PAGE["da"]).as_uri())
    page.fill("#search-q", "zzzqqq")
    page.wait_for_function("document.getElementById('search-status').textContent.includes('zzzqqq')")
    assert page.locator("#search-results li").count() == 0
    assert not problems
    page.close()
    ctx.close()


def test_without_javascript_the_search_page_lists_every_figure_and_chapter(site, browser):
    ctx = _context(browser, 1280, java_script_enabled=False)
    for lang, name in sitesearch.PAGE.items():
        page = ctx.new_page()
        page.goto((site / name).as_uri() + "?q=anything")  # the search box of a page without JavaScript
        assert page.locator("#search-all").is_visible()
        listed = [a.get_attribute("href") for a in page.locator("#search-all a").all()]
        assert listed == [e[2] for e in sitewide.index_entries(site, lang)]  # the same entries, in the same order
        page.close()
    ctx.close()


def test_the_short_address_forwards_to_the_filed_statement(site):
    s = siteaccess.settings()
    text = (site / siteaccess.NEM_URL_PAGE).read_text(encoding="utf-8")
    assert f'content="0; url={s["statement_url"]}"' in text
    assert sitewide.NOT_LISTED not in (site / "sitemap.xml").read_text(encoding="utf-8")
    assert os.path.getsize(site / "assets" / sitesearch.SCRIPT) < 5000
