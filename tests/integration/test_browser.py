"""The built website in a real browser: Debian's chromium, driven by Playwright.

One build of the 2018 Danish edition (website only) per module, opened over
``file://`` with every request that is not ``file://`` aborted and recorded.
A hostile case (markup and a script in its title and body) is added to the
content for this build only, to check that content is shown as text.

Skipped, with the reason, when /usr/bin/chromium or Playwright is missing;
``.ci/run`` installs chromium.  Playwright never downloads a browser here.
"""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from browserkit import ARGS, CHROMIUM, file_only, require

from barometer import content
from barometer.build import BuildConfig
from barometer.report import figure_numbers, report_config

pytestmark = [pytest.mark.browser, pytest.mark.slow]

sync_api = require()

OUTSIDE: list[str] = []  # requests that tried to leave file:// (all aborted)
HOSTILE_ID = "hostile-case"
HOSTILE = """\
id: hostile-case
kind: case
chapter: collaboration
title:
  da: "<script>window.__pwned = 1</script> Farlig titel <b>fed</b>"
  en: "<script>window.__pwned = 1</script> Hostile title <b>bold</b>"
summary:
  da: "<img src=x onerror=\\"window.__pwned = 2\\"> Resume"
  en: "<img src=x onerror=\\"window.__pwned = 2\\"> Summary"
body:
  da: |
    <script>window.__pwned = 3</script>

    Brødtekst med <iframe src="javascript:alert(1)"></iframe> markup.
  en: |
    <script>window.__pwned = 3</script>

    Body text with <iframe src="javascript:alert(1)"></iframe> markup.
partners: [same_org]
facts:
  - value: "<script>window.__pwned = 4</script>"
    label: {da: "<svg onload=alert(1)>", en: "<svg onload=alert(1)>"}
source:
  da: Testdata
  en: Test data
"""


@pytest.fixture(scope="module")
def site(built_2018_dk_da, tmp_path_factory):
    """A copy of the shared build whose pages are rendered again with a hostile
    case added to the content (the executed notebooks are reused)."""
    from barometer.build import plan
    from barometer.build import site as render_site

    tmp = tmp_path_factory.mktemp("browser")
    content_root = tmp / "content"
    shutil.copytree(content.DEFAULT_CONTENT_DIR, content_root)
    (content_root / "2018" / "cases" / f"{HOSTILE_ID}.yaml").write_text(HOSTILE, encoding="utf-8")
    out = tmp / "2018-dk-da"
    shutil.copytree(built_2018_dk_da, out)
    cfg = BuildConfig(out_dir=out, quiet=True, pdf=True)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(content, "DEFAULT_CONTENT_DIR", content_root)
        rc, chapters, ds = plan(cfg)
        render_site(cfg, rc, chapters, ds, out, commit="")
    assert (out / "cases" / f"{HOSTILE_ID}.html").is_file()
    return out


@pytest.fixture(scope="module")
def browser_context(site, tmp_path_factory):
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        context = file_only(browser.new_context(accept_downloads=True, viewport={"width": 1100, "height": 900}),
                            OUTSIDE)
        yield context
        context.close()
        browser.close()


def _open(context, path: Path):
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(f"console.{m.type}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(f"pageerror: {e}"))
    page.goto(path.as_uri())
    page.wait_for_load_state("load")
    return page, problems


def _wait_for_charts(page) -> int:
    n = page.locator("figure.report-figure").count()
    if n:
        page.wait_for_function(f"document.querySelectorAll('figure.chart-is-live').length === {n}", timeout=20000)
    return n


def _pages(site: Path) -> list[Path]:
    return sorted(site.glob("*.html")) + sorted(site.glob("cases/*.html")) + sorted(site.glob("advice/*.html"))


def test_every_page_loads_offline_without_errors_and_draws_every_chart(site, browser_context):
    pages = _pages(site)
    assert len(pages) >= 15
    n_charts = 0
    for path in pages:
        page, problems = _open(browser_context, path)
        n = _wait_for_charts(page)
        n_charts += n
        for fig in page.locator("figure.report-figure").all():
            # the interactive chart (a vega view with marks) replaced the static one
            assert fig.locator(".chart-live svg g.mark-rect path").count() > 0, fig.get_attribute("id")
            assert fig.locator(".chart-static").is_hidden()
            assert page.evaluate("f => !!f.vegaView", fig.element_handle())
            # screen readers: alt text with the numbers, and a data table
            alt = fig.locator(".chart").get_attribute("aria-label")
            assert alt and ("%" in alt or "pct." in alt), fig.get_attribute("id")  # Danish text: "80 pct."
            assert fig.locator("details.data-table table tbody tr").count() >= 1
        assert not problems, f"{path.name}: {problems}"
        page.close()
    assert n_charts == len(figure_numbers(report_config("2018"), "dk"))
    assert not OUTSIDE, f"requests outside file://: {OUTSIDE[:5]}"


@pytest.mark.parametrize("width,shown,hidden", [(1280, "wide", "narrow"), (390, "narrow", "wide")])
def test_static_svg_is_the_fallback_without_javascript(site, browser_context, width, shown, hidden):
    context = browser_context.browser.new_context(java_script_enabled=False, viewport={"width": width, "height": 900})
    context.route("**/*", lambda r: r.continue_() if r.request.url.startswith("file://") else r.abort())
    page = context.new_page()
    page.goto((site / "samarbejde.html").as_uri())
    figs = page.locator("figure.report-figure")
    assert figs.count() >= 2
    for fig in figs.all():  # the layout that fits the screen, drawn at its natural size
        assert fig.locator(f".chart-static .chart-{shown} svg").is_visible()
        assert fig.locator(f".chart-static .chart-{hidden} svg").is_hidden()
        assert fig.locator(f".chart-static .chart-{shown} svg *").count() > 20
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    context.close()


def test_downloads_deliver_the_figures_rows_of_estimates_csv(site, browser_context):
    est_text = (site / "estimates.csv").read_text(encoding="utf-8").splitlines()
    header, lines = est_text[0], est_text[1:]
    est = pd.read_csv(site / "estimates.csv")
    checked = 0
    for path in sorted(site.glob("*.html")):
        page, problems = _open(browser_context, path)
        _wait_for_charts(page)
        n_figures = page.locator("figure.report-figure").count()
        for i in range(n_figures):
            if i:  # a fresh tab per figure: Chromium throttles many downloads from one tab
                assert not problems, f"{path.name}: {problems}"
                page.close()
                page, problems = _open(browser_context, path)
                _wait_for_charts(page)
            fig = page.locator("figure.report-figure").nth(i)
            fig_id = fig.get_attribute("data-figure-id")
            fig.locator("details.downloads > summary").click()
            got = {}
            for fmt in ("csv", "svg", "png"):
                try:
                    if fmt == "png":  # drawn when the menu opens
                        fig.locator('a[data-format="png"][data-ready]').wait_for(state="attached", timeout=30000)
                    with page.expect_download(timeout=60000) as info:
                        fig.locator(f'details.downloads a[data-format="{fmt}"]').click()
                    dl = info.value
                except sync_api.TimeoutError:
                    pytest.fail(f"{path.name}: no {fmt} download for figure {fig_id}; page problems: {problems}")
                assert dl.suggested_filename == f"{fig_id}.{fmt}"
                got[fmt] = Path(dl.path()).read_bytes()
            csv = got["csv"].decode("utf-8").splitlines()
            assert csv[0] == header
            assert csv[1:] == [ln for ln in lines if ln.split(",", 1)[0] == fig_id], fig_id
            assert len(pd.read_csv(io.BytesIO(got["csv"]))) == (est["figure_id"] == fig_id).sum()
            assert b"<svg" in got["svg"][:200]
            # the downloaded chart keeps its context: headline above, N, publisher and the synthetic notice below
            svg_text = got["svg"].decode("utf-8")
            meta = json.loads((site / "figures" / f"{fig_id}.json").read_text(encoding="utf-8"))
            for part in (meta["headline"].split()[0], meta["publisher"], meta["notice"].split(":")[0]):
                assert part in svg_text, (fig_id, part)
            assert got["png"][:8] == b"\x89PNG\r\n\x1a\n"
            checked += 1
        assert not problems, f"{path.name}: {problems}"
        page.close()
    assert checked == est.loc[est["figure_id"].isin([p.stem for p in (site / "figures").glob("*.svg")]),
                              "figure_id"].nunique()


TEXT_SIZE = """() => Array.from(document.querySelectorAll('figure.report-figure')).map(fig => {
  let min = Infinity;
  fig.querySelectorAll('.chart-live svg text').forEach(t => {
    const ctm = t.getScreenCTM();
    if (!t.getBoundingClientRect().width || !ctm) return;
    min = Math.min(min, parseFloat(getComputedStyle(t).fontSize) * Math.hypot(ctm.a, ctm.b));
  });
  return [fig.id, min];
})"""


@pytest.mark.parametrize("width", [390, 1280])
def test_chart_text_is_at_least_11_px_on_a_phone_and_a_desktop(site, browser_context, width):
    context = browser_context.browser.new_context(viewport={"width": width, "height": 900})
    context.route("**/*", lambda r: r.continue_() if r.request.url.startswith("file://") else r.abort())
    try:
        for name in ("samarbejde.html", "norske-tal.html", "typer.html"):
            page = context.new_page()
            page.goto((site / name).as_uri())
            _wait_for_charts(page)
            sizes = page.evaluate(TEXT_SIZE)
            assert sizes and all(size >= 11 for _, size in sizes), (name, width, sizes)
            assert page.evaluate("document.documentElement.scrollWidth") <= width, (name, width)
            page.close()
    finally:
        context.close()


def test_share_link_points_at_the_figure_and_is_copied(site, browser_context):
    page, problems = _open(browser_context, site / "samarbejde.html")
    _wait_for_charts(page)
    for fig in page.locator("figure.report-figure").all():
        anchor = fig.get_attribute("id")
        link = fig.locator("a.share-link")
        href = link.get_attribute("href")
        assert anchor.startswith("fig-") and href == f"#{anchor}"
    fig = page.locator("figure.report-figure").nth(1)
    fig.locator("a.share-link").click()
    anchor = fig.get_attribute("id")
    assert page.evaluate("location.hash") == f"#{anchor}"
    assert fig.locator("a.share-link").get_attribute("data-url") == (site / "samarbejde.html").as_uri() + f"#{anchor}"
    page.wait_for_function("document.querySelector('.share-status') && "
                           "[...document.querySelectorAll('.share-status')].some(s => s.textContent.length > 0)")
    assert not problems, problems
    page.close()


def test_case_links_resolve_and_back_links_return(site, browser_context):
    page, problems = _open(browser_context, site / "samarbejde.html")
    hrefs = page.eval_on_selector_all("aside.content-case a, aside.content-advice a", "els => els.map(e => e.getAttribute('href'))")
    assert len(hrefs) >= 5
    for href in hrefs:
        target = site / href
        assert target.is_file(), href
        page.goto(target.as_uri())
        back = page.locator(".case-nav a")
        assert back.count() == 1
        back.click()
        page.wait_for_load_state("load")
        assert page.url.split("#")[0].endswith("/samarbejde.html")
        item_id = Path(href).stem
        assert page.locator(f'[id$="-{item_id}"]').count() == 1, item_id
    assert not problems, problems
    page.close()


def test_cross_references_resolve(site, browser_context):
    refs = 0
    for path in sorted(site.glob("*.html")):
        page, _ = _open(browser_context, path)
        for href in page.eval_on_selector_all("a.xref", "els => els.map(e => e.getAttribute('href'))"):
            file, _, anchor = href.partition("#")
            target = site / (file or path.name)
            assert target.is_file() and f'id="{anchor}"' in target.read_text(encoding="utf-8"), (path.name, href)
            refs += 1
        page.close()
    assert refs >= 5


def test_hostile_content_is_shown_as_text(site, browser_context):
    page, problems = _open(browser_context, site / "cases" / f"{HOSTILE_ID}.html")
    page.wait_for_timeout(300)
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert "<script>window.__pwned = 1</script>" in page.locator("h1.content-title").inner_text()
    assert page.locator("main script, main iframe, main img, main b, main svg").count() == 0
    assert "<iframe" in page.locator(".content-body").inner_text()
    assert not problems, problems
    page.close()
