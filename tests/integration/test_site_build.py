"""``build.py --site`` on a small site: the 2018 edition, Denmark, Danish and English, without PDFs."""

import json
import os
import posixpath
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote

import pytest

from barometer.build import pubsite as site_mod
from barometer.build import sitewide


@pytest.fixture(scope="module")
def small_site(tmp_path_factory):
    root = tmp_path_factory.mktemp("site")
    kw = dict(editions=["2018"], countries=["dk"], out=root / "site", builds_dir=root / "reports",
              pdf=False, quiet=True, cache_dir=root / "cache")
    lines = []
    out = site_mod.build_site(log=lines.append, **kw)
    return {"root": root, "site": out, "kw": kw, "log": lines}


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links, self.ids, self.alternates, self.lang_switch, self.in_lang = [], set(), [], [], False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.ids.add(a["id"])
        if tag == "a" and "name" in a:
            self.ids.add(a["name"])
        if tag == "link" and a.get("rel") == "alternate":
            self.alternates.append((a.get("hreflang"), a.get("href")))
        if tag == "p" and "switch-lang" in (a.get("class") or ""):
            self.in_lang = True
        if tag == "a" and self.in_lang and a.get("href"):
            self.lang_switch.append(a["href"])
        for k in ("href", "src"):
            if a.get(k):
                self.links.append(a[k])

    def handle_endtag(self, tag):
        if tag == "p":
            self.in_lang = False


def _parse(path: Path) -> _Links:
    p = _Links()
    p.feed(path.read_text(encoding="utf-8"))
    return p


def _pages(site: Path) -> list[Path]:
    return sorted(site.rglob("*.html"))


def test_every_internal_link_and_asset_resolves(small_site):
    site = small_site["site"]
    pages = _pages(site)
    assert len(pages) > 20
    parsed = {p: _parse(p) for p in pages}
    dead, checked, external = [], 0, 0
    for page, links in parsed.items():
        # nothing is loaded from the network (scripts, stylesheets, images)
        assert not re.search(r'<(?:script|img|link)\b[^>]*\b(?:src|href)="(?:https?:)?//', page.read_text(encoding="utf-8")), page
        for url in links.links:
            if re.match(r"^(?:[a-z][a-z0-9+.-]*:|//)", url, re.I):
                external += 1
                continue
            checked += 1
            assert not url.startswith("/"), f"{page}: absolute link {url}"
            path, _, frag = url.partition("#")
            target = page if not path else Path(posixpath.normpath(os.path.join(page.parent, unquote(path.split("?")[0]))))
            if not target.exists():
                dead.append(f"{page.relative_to(site)} -> {url}")
            elif frag and target.suffix == ".html" and frag not in parsed.get(target, _parse(target)).ids:
                dead.append(f"{page.relative_to(site)} -> {url} (no such anchor)")
            elif not target.resolve().is_relative_to(site.resolve()):
                dead.append(f"{page.relative_to(site)} -> {url} (outside the site)")
    assert not dead, dead[:10]
    assert checked > 300  # (2018, da+en: about 500)
    # one shared copy of the assets, none per report
    assert (site / "assets" / "report.css").is_file()
    assert not list(site.glob("*/*/assets")) and not list(site.glob("*/*/*/assets"))


def test_language_switcher_leads_to_the_same_page(small_site):
    site = small_site["site"]
    checked = 0
    for page in _pages(site):
        rel = page.relative_to(site).as_posix()
        if not re.match(r"2018/(da|en)/", rel):
            continue
        links = _parse(page)
        own = site_mod.page_id(page.read_text(encoding="utf-8"))
        assert len(links.lang_switch) == 1, rel
        target = Path(posixpath.normpath(os.path.join(page.parent, links.lang_switch[0])))
        assert target.is_file(), rel
        assert site_mod.page_id(target.read_text(encoding="utf-8")) == own, rel
        other = "en" if rel.startswith("2018/da/") else "da"
        assert target.relative_to(site).as_posix().startswith(f"2018/{other}/")
        assert {lang for lang, _ in links.alternates} == {"da", "en"}, rel
        checked += 1
    assert checked > 20


def test_sitemap_lists_every_page(small_site):
    site = small_site["site"]
    text = (site / "sitemap.xml").read_text(encoding="utf-8")
    listed = set(re.findall(r"<loc>([^<]+)</loc>", text))
    pages = {p.relative_to(site).as_posix() for p in _pages(site)} - {"404.html", sitewide.NOT_LISTED}
    assert listed == pages
    assert (site / "404.html").is_file()
    front = (site / "index.html").read_text(encoding="utf-8")
    assert 'href="2018/da/index.html"' in front and 'href="2018/en/index.html"' in front
    # each edition with its key figures, as the report's own front page shows them (both languages)
    values = lambda text: re.findall(r'<span class="key-value">([^<]+)</span>', text)
    own = [values((site / "2018" / lang / "index.html").read_text(encoding="utf-8")) for lang in ("da", "en")]
    assert own[0] and values(front) == own[0] + own[1]
    assert '<div class="site-key-figures" lang="en">' in front


def test_figure_anchors_are_named_by_id(small_site):
    from barometer.reportconfig import figure_anchor

    figs = [p for p in (small_site["site"] / "2018" / "en" / "figures").glob("*.json") if not p.name.endswith(".vl.json")]
    assert figs
    for p in figs:
        assert json.loads(p.read_text(encoding="utf-8"))["anchor"] == figure_anchor(p.stem)


def test_every_figure_has_a_page_whose_links_lead_to_the_same_figure(small_site):
    from barometer.build import figpages
    from barometer.permalink import figure_page

    site = small_site["site"]
    checked = 0
    for lang, other in (("da", "en"), ("en", "da")):
        report = site / "2018" / lang
        ids = sorted(p.stem for p in (report / "figures").glob("*.json") if not p.name.endswith(".vl.json"))
        assert len(ids) >= 15
        for fig_id in ids:
            page = report / figure_page(fig_id)
            text = page.read_text(encoding="utf-8")
            assert site_mod.page_id(text) == figpages.page_id(fig_id) and figpages.LINKS_MARKER not in text, page
            links = re.search(r'<ul class="figure-links">(.*?)</ul>', text, re.S).group(1)
            hrefs = re.findall(r'href="([^"]+)"', links)
            assert len(hrefs) == 2, (page, hrefs)  # its chapter, the other language (one edition: no other)
            for href in hrefs:
                path, _, anchor = href.partition("#")
                target = Path(posixpath.normpath(os.path.join(page.parent, path)))
                shown = [(re.search(r'data-figure-id="([^"]+)"', tag).group(1),
                          re.search(r'(?<![\w-])id="([^"]+)"', tag).group(1))
                         for tag in re.findall(r'<figure\b[^>]*class="report-figure"[^>]*>',
                                               target.read_text(encoding="utf-8"))]
                assert (fig_id, anchor) in shown if anchor else [f for f, _ in shown] == [fig_id], (page, href)
                if not anchor:
                    assert target.relative_to(site).as_posix() == f"2018/{other}/{figure_page(fig_id)}"
            # the citation names the page's place in the site (no --base-url)
            assert f'<span class="cite-url">2018/{lang}/{figure_page(fig_id)}</span>' in text, page
            checked += 1
    # and the chapters link every figure to its page
    assert 'href="figur/collab_partners.html"' in (site / "2018" / "da" / "samarbejde.html").read_text(encoding="utf-8")
    assert checked >= 30


def test_unchanged_site_is_a_no_op(small_site):
    site = small_site["site"]
    before = (site / site_mod.SITE_MANIFEST).stat().st_mtime_ns
    lines = []
    site_mod.build_site(log=lines.append, **small_site["kw"])
    assert (site / site_mod.SITE_MANIFEST).stat().st_mtime_ns == before
    assert any("up to date" in line for line in lines)


def test_a_failed_assembly_leaves_the_previous_site(small_site, monkeypatch):
    site = small_site["site"]
    listing = sorted(p.relative_to(site).as_posix() for p in site.rglob("*"))
    front = (site / "index.html").read_bytes()

    def boom(*a, **k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(site_mod, "_sitemap", boom)
    built = {r: small_site["kw"]["builds_dir"] / r.slug for r in site_mod.reports(["2018"], ["dk"])}
    with pytest.raises(OSError):
        site_mod.assemble(built, site, base_url="https://example.org/barometer/")  # another key: assembles
    assert sorted(p.relative_to(site).as_posix() for p in site.rglob("*")) == listing
    assert (site / "index.html").read_bytes() == front
    assert not [p for p in site.parent.iterdir() if p.name.startswith(".site.tmp-")]


def test_never_replaces_a_site_folder_with_foreign_files(small_site, tmp_path):
    from barometer.errors import InputError

    theirs = tmp_path / "site"
    theirs.mkdir()
    (theirs / "notes.txt").write_text("mine", encoding="utf-8")
    built = {r: small_site["kw"]["builds_dir"] / r.slug for r in site_mod.reports(["2018"], ["dk"])}
    with pytest.raises(InputError, match="did not write"):
        site_mod.assemble(built, theirs)
    assert (theirs / "notes.txt").read_text(encoding="utf-8") == "mine"


def test_base_url_makes_the_sitemap_absolute(small_site, tmp_path):
    built = {r: small_site["kw"]["builds_dir"] / r.slug for r in site_mod.reports(["2018"], ["dk"])}
    out = site_mod.assemble(built, tmp_path / "abs", base_url="https://example.org/barometer", log=lambda *_: None)
    text = (out / "sitemap.xml").read_text(encoding="utf-8")
    assert "<loc>https://example.org/barometer/2018/da/index.html</loc>" in text
    assert ('<span class="cite-url" data-absolute>https://example.org/barometer/2018/en/figur/novelty.html</span>'
            in (out / "2018" / "en" / "figur" / "novelty.html").read_text(encoding="utf-8"))
    assert 'href="https://example.org/barometer/index.html"' in (out / "404.html").read_text(encoding="utf-8")
