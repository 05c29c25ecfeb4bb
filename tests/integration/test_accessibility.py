"""Accessibility and reading on a phone, in a real browser (Debian's chromium via Playwright):
axe-core over every page of every kind of build at 1280 and 390 px (WCAG 2.0/2.1/2.2 A and AA
rules: zero violations): the 2018 edition in Danish (with its PDF, shared with the build tests)
and English, the 2021 and 2024 editions, the Norwegian 2018 report and a fan-out build
(``--by region``, three units), each built once per module, website only; no page that scrolls
sideways, a navigation that stays one line on a phone, body text of at least 16 px and no text
under 11 px (issue 12).

axe-core comes from the ``axe-playwright-python`` package (it ships ``axe.min.js``, MPL-2.0): no
node and no network at test time.  Skipped, with the reason, without chromium, Playwright or that
package.
"""

from __future__ import annotations

import collections
from pathlib import Path

import pytest
from browserkit import ARGS, CHROMIUM, WCAG_TAGS, file_only, require

WIDTHS = (1280, 390)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

sync_api, axe_sync = require(axe=True)


#: the other builds, by name: what each is told besides ``--no-pdf`` (the 2018 Danish one is the
#: session's shared full build)
BUILDS = {"2018-dk-en": {"lang": "en"}, "2021-dk-da": {"edition": "2021"}, "2024-dk-da": {"edition": "2024"},
          "2018-no-da": {"country": "no"}, "2018-dk-da-by-region": {"by": "region", "limit": 3}}
#: fewest pages a build has (a check that the glob found the pages, not that a build is small)
MIN_PAGES = {"2018-dk-da": 14, "2018-dk-en": 14, "2021-dk-da": 4, "2024-dk-da": 4, "2018-no-da": 3,
             "2018-dk-da-by-region": 4}


def _pages(site: Path) -> list[Path]:
    """Every page of a build (chapters, cases, advice, unit reports, figure pages), not the
    executed notebooks."""
    return sorted(p for p in site.rglob("*.html") if "notebooks" not in p.relative_to(site).parts)


@pytest.fixture(scope="module")
def builds(tmp_path_factory, request):
    """Each build made once, when a test first asks for it (from the checkout's cache, as
    test_built_text's builds: a build both modules make runs its notebooks once)."""
    made: dict[str, Path] = {}
    root = tmp_path_factory.mktemp("a11y-builds")

    def get(name: str) -> Path:
        if name == "2018-dk-da":
            return request.getfixturevalue("built_2018_dk_da")
        if name not in made:
            from barometer.build import build
            from barometer.build.config import BuildConfig, FanoutConfig

            opts = dict(BUILDS[name])
            cfg = FanoutConfig(**opts) if "by" in opts else BuildConfig(pdf=False, **opts)
            cfg.out_dir, cfg.quiet = root / name, True
            made[name] = build(cfg)
        return made[name]

    return get


ALL_BUILDS = ["2018-dk-da", *BUILDS]


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture(scope="module", params=WIDTHS, ids=lambda w: f"{w}px")
def context(request, browser):
    ctx = file_only(browser.new_context(viewport={"width": request.param, "height": 900}), [])
    yield ctx
    ctx.close()


def _open(context, path: Path):
    page = context.new_page()
    page.goto(path.as_uri())
    page.wait_for_load_state("load")
    n = page.locator("figure.report-figure:has(script.vega-spec)").count()  # unit reports: static charts only
    if n:  # the live charts replace the static ones: check what the reader gets
        page.wait_for_function(f"document.querySelectorAll('figure.chart-is-live').length === {n}", timeout=20000)
    return page


@pytest.mark.parametrize("name", ALL_BUILDS)
def test_axe_finds_no_wcag_violations_on_any_page(builds, name, context):
    axe = axe_sync.Axe()
    site = builds(name)
    pages = _pages(site)
    assert len(pages) >= MIN_PAGES[name], pages
    by_rule: dict[str, list[str]] = collections.defaultdict(list)
    for path in pages:
        page = _open(context, path)
        # the data tables open: their contents are checked too
        page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
        result = axe.run(page, options={"runOnly": {"type": "tag", "values": WCAG_TAGS},
                                        "resultTypes": ["violations"]})
        for v in result.response["violations"]:
            by_rule[v["id"]] += [f'{path.relative_to(site)} {n["target"]}' for n in v["nodes"]]
        page.close()
    summary = {rule: len(nodes) for rule, nodes in by_rule.items()}
    assert not by_rule, f"axe-core violations (rule: elements): {summary}; first: " \
                        f"{ {rule: nodes[:3] for rule, nodes in by_rule.items()} }"


#: per page: how far it scrolls sideways, on how many lines the navigation's items lie, the body
#: text's size, and visible text (outside charts) under 11 px
MEASURE = """() => {
  const items = [...document.querySelectorAll('.site-nav li')];
  const navLines = new Set(items.map(li => Math.round(li.getBoundingClientRect().top))).size;
  const small = [];
  for (const el of document.querySelectorAll('body *')) {
    if (el.closest('svg') || !el.getClientRects().length) continue;
    const own = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
    if (!own) continue;
    const size = parseFloat(getComputedStyle(el).fontSize);
    if (size < 11) small.push(`${el.tagName.toLowerCase()}.${el.className} ${size}px`);
  }
  const prose = [...document.querySelectorAll('main p.prose, main .content-body p, main p.content-summary')]
    .map(p => parseFloat(getComputedStyle(p).fontSize));
  return {scroll: document.scrollingElement.scrollWidth, inner: innerWidth,
          navLines, small, prose};
}"""


@pytest.mark.parametrize("name", ALL_BUILDS)
def test_no_page_scrolls_sideways_and_text_is_readable(builds, name, context):
    problems, width = [], None
    site = builds(name)
    for path in _pages(site):
        page = _open(context, path)
        page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
        width = page.viewport_size["width"]
        m = page.evaluate(MEASURE)
        page_name = path.relative_to(site).as_posix()
        if m["scroll"] > m["inner"]:
            problems.append(f"{page_name} scrolls sideways: {m['scroll']} px wide in {m['inner']} px")
        lines = 1 if width < 600 else 2  # a phone: one strip that scrolls itself; a desktop: at most two lines
        if not 1 <= m["navLines"] <= lines:
            problems.append(f"{page_name}: the navigation takes {m['navLines']} lines")
        if not m["prose"] or min(m["prose"]) < 16:
            problems.append(f"{page_name}: body text {m['prose'][:3]} px (at least 16 px)")
        if m["small"]:
            problems.append(f"{page_name}: text under 11 px: {m['small'][:5]}")
        page.close()
    assert not problems, f"{name} at {width} px: {problems}"


def test_phone_navigation_scrolls_inside_itself_to_the_current_page(built_2018_dk_da, browser):
    ctx = browser.new_context(viewport={"width": 390, "height": 800})
    page = ctx.new_page()
    page.goto((built_2018_dk_da / "samarbejde.html").as_uri())
    nav = page.locator(".site-nav ul")
    assert page.evaluate("el => el.scrollWidth > el.clientWidth", nav.element_handle())  # more than fits: a strip
    current = page.locator('.site-nav a[aria-current="page"]').bounding_box()
    assert current["x"] >= 0 and current["x"] + current["width"] <= 390, current  # scrolled into view
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 390
    ctx.close()
