"""The assembled site's pure parts: where each report goes, how links are rewritten, where switchers lead."""

import posixpath

import pytest

from barometer.build.pubsite import (HEAD_MARKER, SWITCH_MARKER, Report, page_id, relative, reports, rewrite_links,
                                  site_prefix, switchers)


def test_layout_denmark_at_edition_lang_norway_below():
    assert site_prefix("2018", "da", "dk") == "2018/da/"
    assert site_prefix("2018", "en", "no") == "2018/en/no/"
    assert Report("2021", "dk", "en").prefix == "2021/en/"


def test_reports_follow_the_configs_countries():
    rs = reports()
    assert Report("2018", "no", "da") in rs and Report("2018", "no", "en") in rs
    assert Report("2021", "no", "da") not in rs  # the 2021 config has no Norwegian report
    assert {r.lang for r in rs} == {"da", "en"}
    assert reports(["2018"], ["dk"]) == [Report("2018", "dk", "da"), Report("2018", "dk", "en")]


def test_unknown_edition_is_one_input_error():
    from barometer.errors import InputError

    with pytest.raises(InputError, match="1999"):
        reports(["1999"])


@pytest.mark.parametrize("page,prefix,expected", [
    ("index.html", "2018/da/", "../../assets/report.css"),
    ("cases/x.html", "2018/da/", "../../../assets/report.css"),
    ("index.html", "2018/da/no/", "../../../assets/report.css"),
    ("cases/x.html", "2018/en/no/", "../../../../assets/report.css"),
])
def test_asset_links_point_to_the_one_shared_copy(page, prefix, expected):
    root = "../" if "/" in page else ""
    out = rewrite_links(f'<link href="{root}assets/report.css"><script src="{root}assets/vendor/vega.min.js"></script>',
                        page, prefix)
    assert f'href="{expected}"' in out
    assert f'src="{expected.replace("report.css", "vendor/vega.min.js")}"' in out
    # the rewritten link resolves to the site's assets/ from the page's place in the site
    here = posixpath.dirname(prefix + page)
    assert posixpath.normpath(posixpath.join(here, expected)) == "assets/report.css"


def test_other_links_stay_as_they_are():
    html = ('<a href="typer.html#fig-x">a</a><a href="#main">b</a><img src="figures/a.svg">'
            '<a href="https://example.org/">c</a><a href="../index.html">d</a><img src="data:image/png;base64,AA">')
    assert rewrite_links(html, "cases/x.html", "2018/da/no/") == html


def test_asset_link_keeps_its_query_and_anchor():
    assert rewrite_links('<a href="assets/a.svg#i">', "index.html", "2018/da/") == '<a href="../../assets/a.svg#i">'


def test_page_id_from_the_body_class():
    assert page_id('<html><body class="page-case-open-data">') == "case-open-data"
    assert page_id("<html><body>") is None


def test_relative_between_site_paths():
    assert relative("2018/en/typer.html", "2018/da/typer.html") == "../en/typer.html"
    assert relative("2021/da/index.html", "2018/da/no/cases/a.html") == "../../../../2021/da/index.html"
    assert relative("index.html", "2018/da/index.html") == "../../index.html"


def _pages():
    front_and = {"index": "index.html", "types": "typer.html", "norway": "norske-tal.html", "case-a": "cases/a.html"}
    return {
        Report("2018", "dk", "da"): dict(front_and),
        Report("2018", "dk", "en"): dict(front_and),
        Report("2018", "no", "da"): {"index": "index.html", "norway": "norske-tal.html"},
        Report("2018", "no", "en"): {"index": "index.html", "norway": "norske-tal.html"},
        Report("2024", "dk", "da"): {"index": "index.html", "types": "typer.html"},
        Report("2024", "dk", "en"): {"index": "index.html", "types": "typer.html"},
    }


def _resolve(report, pages, pid, href):
    here = report.prefix + pages[report][pid]
    return posixpath.normpath(posixpath.join(posixpath.dirname(here), href))


def test_language_switch_leads_to_the_same_page():
    pages = _pages()
    r = Report("2018", "dk", "da")
    s = switchers(r, "case-a", pages, {})
    other = [l for l in s["langs"] if not l["current"]]
    assert len(other) == 1 and not other[0]["missing"]
    assert _resolve(r, pages, "case-a", other[0]["href"]) == "2018/en/cases/a.html"
    assert {a["lang"] for a in s["alternates"]} == {"da", "en"}


def test_edition_switch_same_chapter_or_front_page_saying_so():
    pages = _pages()
    r = Report("2018", "dk", "da")
    eds = {e["edition"]: e for e in switchers(r, "types", pages, {})["editions"]}
    assert [e for e in eds] == ["2024", "2018"]  # newest first
    assert _resolve(r, pages, "types", eds["2024"]["href"]) == "2024/da/typer.html" and not eds["2024"]["missing"]
    eds = {e["edition"]: e for e in switchers(r, "case-a", pages, {})["editions"]}
    assert _resolve(r, pages, "case-a", eds["2024"]["href"]) == "2024/da/index.html"
    assert eds["2024"]["missing"] and "2024" in eds["2024"]["note"]


def test_country_switch_only_where_a_norwegian_report_exists():
    pages = _pages()
    r = Report("2018", "dk", "en")
    cs = {c["country"]: c for c in switchers(r, "norway", pages, {})["countries"]}
    assert _resolve(r, pages, "norway", cs["no"]["href"]) == "2018/en/no/norske-tal.html"
    assert switchers(Report("2024", "dk", "da"), "types", pages, {})["countries"] == []
    # the Norwegian report has no 2024 edition: no edition switcher there (one edition only)
    assert switchers(Report("2018", "no", "da"), "norway", pages, {})["editions"] == []


def test_a_single_report_gets_no_switcher():
    pages = {Report("2018", "dk", "da"): {"index": "index.html"}}
    s = switchers(Report("2018", "dk", "da"), "index", pages, {})
    assert s["langs"] == s["editions"] == s["countries"] == s["alternates"] == []


def test_page_template_has_the_markers_the_assembly_fills():
    from barometer.paths import TEMPLATE_DIR

    text = (TEMPLATE_DIR / "site" / "page.html.j2").read_text(encoding="utf-8")
    assert text.count(HEAD_MARKER) == 1 and text.count(SWITCH_MARKER) == 1
    assert text.index(HEAD_MARKER) < text.index("</head>")


def test_figure_anchor_is_named_by_id_not_number():
    from barometer.reportconfig import figure_anchor

    assert figure_anchor("collab_partners") == "fig-collab-partners"


@pytest.mark.parametrize("argv,word", [(["--site", "--by", "region"], "--by"), (["--site", "--edition", "2021"], "--edition"),
                                       (["--site", "--base-url", "example.org"], "--base-url")])
def test_site_options_that_do_not_apply_are_one_line_exit_2(argv, word, capsys, monkeypatch):
    from barometer import cli
    from barometer.build import pipeline

    monkeypatch.setattr(pipeline, "build", lambda cfg: pytest.fail("nothing may be built"))
    assert cli.main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and word in err


def test_site_hands_each_report_its_own_root_as_base_url(monkeypatch, tmp_path):
    """With --site --base-url, a report's permalinks are absolute under its place in the site
    (2018/da/, 2018/da/no/), not under the site's root; without it, reports get none."""
    from barometer.build import pubsite, sitejobs

    seen = {}

    def fake_build_all(cfgs, log=print):  # each report is its own build.py process: its command line says it
        for cfg in cfgs:
            args = sitejobs.argv(cfg, 1)
            seen[(cfg.edition, cfg.country, cfg.lang)] = \
                args[args.index("--base-url") + 1] if "--base-url" in args else cfg.base_url
        return [tmp_path] * len(cfgs)

    monkeypatch.setattr(sitejobs, "build_all", fake_build_all)
    monkeypatch.setattr(pubsite, "assemble", lambda built, target, **kw: target)
    pubsite.build_site(editions=["2018"], out=tmp_path / "site", base_url="https://example.org/barometer")
    assert seen[("2018", "dk", "da")] == "https://example.org/barometer/2018/da/"
    assert seen[("2018", "no", "en")] == "https://example.org/barometer/2018/en/no/"
    seen.clear()
    pubsite.build_site(editions=["2018"], out=tmp_path / "site")
    assert seen and set(seen.values()) == {None}
