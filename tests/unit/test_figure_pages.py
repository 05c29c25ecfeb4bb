"""A page per figure (barometer.build.figpages): its address, the block taken from the chapter, the
links made one folder deeper, and which editions the site links as comparable (harmonisation table)."""

import json
import re

import pytest

from barometer.build import figpages
from barometer.build.pubsite import Report
from barometer.permalink import figure_page
from barometer.reportconfig import figure_anchor

BLOCK = ('<figure class="report-figure" data-figure-id="novelty" id="fig-novelty"><p class="figure-number">Figur 3</p>'
         '<h2 class="figure-headline">Genbrug</h2><div class="chart" role="img" aria-label="x"></div>'
         '<figcaption>Tekst</figcaption><div class="figure-actions">'
         '<a class="share-link" href="#fig-novelty">Del figur</a>'
         '<a class="figure-page-link" href="figur/novelty.html">Figurens side</a>'
         '<details class="downloads"><summary>Download figur</summary><ul>'
         '<li><a data-format="svg" download="novelty.svg" href="figures/novelty.svg">SVG</a></li>'
         '<li><a data-format="png" download="novelty.png" href="figures/novelty.png">PNG</a></li></ul></details>'
         '<details class="embed"><summary>Indlejr</summary><textarea class="embed-code">&lt;figure&gt;&lt;a '
         'href="typer.html#fig-novelty"&gt;&lt;img src="figures/novelty.svg"&gt;&lt;/a&gt;&lt;/figure&gt;'
         '</textarea></details></div></figure>')
META = {"id": "novelty", "number": 3, "anchor": "fig-novelty", "headline": "Genbrug.", "chapter": "types",
        "built": "2026-12-02"}


def test_a_figures_page_is_named_by_its_id_never_its_number():
    assert figure_page("collab_partners") == "figur/collab_partners.html"
    assert figure_anchor("collab_partners") == "fig-collab-partners"
    assert figpages.page_id("collab_partners") == "figure-collab_partners"


def test_the_block_is_found_by_figure_id_with_nested_figures_counted():
    other = BLOCK.replace('"novelty"', '"other"').replace("fig-novelty", "fig-other")
    nested = BLOCK.replace("<figcaption>Tekst</figcaption>", "<figure><img alt=''></figure><figcaption>T</figcaption>")
    body = f"<p>a</p>{other}<p>b</p>{nested}<p>c</p>"
    block = figpages.figure_block(body, "novelty")
    assert block == nested
    assert figpages.figure_block(body, "absent") is None


def test_links_go_one_folder_down_anchors_and_addresses_stay():
    out = figpages.one_folder_down('<a href="typer.html#fig-x"></a><a href="#main"></a><img src="figures/a.svg">'
                                   '<a href="https://example.org/"></a><img src="data:image/png;base64,AA">')
    assert 'href="../typer.html#fig-x"' in out and 'src="../figures/a.svg"' in out
    assert 'href="#main"' in out and 'href="https://example.org/"' in out and 'src="data:image/png;base64,AA"' in out


def test_the_page_shows_the_block_with_its_headline_as_h1_and_only_existing_downloads(tmp_path):
    (tmp_path / "figures").mkdir()
    (tmp_path / "figures" / "novelty.svg").write_text("<svg/>", encoding="utf-8")
    out = figpages.page_figure(BLOCK, META, tmp_path, "typer.html", "da")
    assert '<h1 class="figure-headline">Genbrug</h1>' in out and "<h2" not in out
    assert 'href="../figures/novelty.svg"' in out and "novelty.png" not in out  # no PNG file: not offered
    # the link to this page became the link back to the figure in its chapter
    assert 'class="figure-page-link" href="../typer.html#fig-novelty"' in out and "figur/novelty.html" not in out
    assert out.count("<details open") == 2  # downloads and embed code (and the data table, which this block lacks)
    # the embed code names the figure's files as seen from the figure page
    assert 'src="../figures/novelty.svg"&gt;' in out


def test_the_citation_names_publisher_edition_id_date_and_address():
    ctx = {"lang": "en", "publisher": "COI", "report_title": "The Innovation Barometer",
           "edition_name": "2nd edition (2018)"}
    text = str(figpages.cite(ctx, {**META, "headline": "Reuse <b>."}, "figur/novelty.html"))
    assert text.startswith("COI: “Reuse &lt;b&gt;”. The Innovation Barometer, 2nd edition (2018)")
    assert '<code class="figure-id">novelty</code>' in text and "2026-12-02" in text
    assert '<span class="cite-url">figur/novelty.html</span>' in text


def test_comparable_editions_come_from_the_harmonisation_table():
    c = figpages.comparison("collab_partners", "2018", "2021", "dk")
    assert {"collab_same_org", "collab_university"} <= set(c["comparable"])
    assert ("collab_any_external", "2018") in c["not_comparable"]  # "external" meant another thing in 2018
    assert "collab_state" in c["not_assessed"] and "collab_foundations" in c["only"]
    text = figpages.comparison_text(c, "2018", "2021", "dk", "en")
    assert "Not comparable: At least one partner outside the workplace (2018: " in text
    assert figpages.comparison_text(figpages.comparison("collab_phases", "2021", "2024", "dk"), "2021", "2024", "dk",
                                    "da").startswith("Alle målene er defineret ens")
    assert figpages.comparison("collab_phases", "2024", "2018", "dk") is None  # 2018 has no such figure
    assert figpages.comparison("quality_by_partner", "2018", "2021", "dk") is None  # a test against a share


@pytest.fixture
def site_reports(tmp_path):
    folders = {}
    for r in (Report("2018", "dk", "da"), Report("2018", "dk", "en"), Report("2021", "dk", "da"),
              Report("2024", "dk", "da")):
        folders[r] = tmp_path / r.slug
        (folders[r] / "figures").mkdir(parents=True)
        (folders[r] / "figures" / "collab_partners.json").write_text(
            json.dumps({"headline": f"Partners {r.edition} {r.lang}"}), encoding="utf-8")
    return folders


def test_the_site_links_the_other_language_and_the_comparable_editions(site_reports):
    here = Report("2024", "dk", "da")
    text = f'<ul>{figpages.LINKS_MARKER}</ul><span class="cite-url">figur/collab_partners.html</span>'
    targets = {Report("2021", "dk", "da"): "../../../2021/da/figur/collab_partners.html",
               Report("2018", "dk", "da"): "../../../2018/da/figur/collab_partners.html"}
    names = {("2021", "da"): "3. udgave (2021)", ("2018", "da"): "2. udgave (2018)"}
    out = figpages.for_site(text, here, "figure-collab_partners", targets, site_reports, names, None)
    links = re.findall(r'<a href="([^"]+)"[^>]*>([^<]+)</a>', out)
    # newest first: both older editions share comparable measures with 2024
    assert links == [("../../../2021/da/figur/collab_partners.html", "3. udgave (2021): Partners 2021 da"),
                     ("../../../2018/da/figur/collab_partners.html", "2. udgave (2018): Partners 2018 da")]
    assert "Kan ikke sammenlignes" in out.split("2018/da/")[1]
    assert '<span class="cite-url">2024/da/figur/collab_partners.html</span>' in out

    there = Report("2018", "dk", "da")
    out = figpages.for_site(text, there, "figure-collab_partners",
                            {Report("2018", "dk", "en"): "../../en/figur/x.html"},
                            site_reports, names, "https://example.org/barometer/")
    assert '<a href="../../en/figur/x.html" hreflang="en" lang="en">In English: Partners 2018 en</a>' in out
    assert ('<span class="cite-url" data-absolute>https://example.org/barometer/2018/da/figur/collab_partners.html'
            '</span>') in out


def test_the_metadata_and_the_page_cite_a_figure_with_one_text():
    """``figures/<id>.json`` ``cite`` and the page's "Cite this figure" are one text
    (``figure_cite``): the page's is the metadata's with the figure id and address marked up."""
    import html as html_mod
    import re as re_mod

    from barometer import i18n, permalink
    from barometer.build import figpages

    for lang in ("da", "en"):
        parts = dict(publisher=i18n.t("publisher", lang), title="79 pct. samarbejder",
                     report=i18n.t("report_title", lang), edition=i18n.edition_name("2018", 2, lang),
                     figure_id="collab_partners", date="2026-12-02", url="https://example.org/b/figur/collab_partners.html")
        meta = {"headline": parts["title"] + ".", "id": parts["figure_id"], "built": parts["date"]}
        ctx = {"lang": lang, "publisher": parts["publisher"], "report_title": parts["report"],
               "edition_name": parts["edition"]}
        page = figpages.cite(ctx, meta, parts["url"])
        assert '<code class="figure-id">collab_partners</code>' in page and 'class="cite-url"' in page
        assert html_mod.unescape(re_mod.sub(r"<[^>]+>", "", str(page))).strip() == permalink.cite(lang, **parts)
        no_address = permalink.cite(lang, **{**parts, "url": ""})
        assert no_address.endswith(parts["date"] + ".") and "example.org" not in no_address
