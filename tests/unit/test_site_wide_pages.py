"""The site's search index, search page, accessibility page and parallel report builds: their pure parts."""

import json
import re
from pathlib import Path

import pytest

from barometer.build import siteaccess, sitejobs, sitesearch, sitewide
from barometer.build.config import BuildConfig
from barometer.build.pubsite import Report
from barometer.errors import InputError


# --------------------------------------------------------------------------------------
# building the reports: each as the build.py command it is
# --------------------------------------------------------------------------------------
def test_a_report_is_built_by_the_command_its_settings_make(tmp_path):
    from barometer.cli import parser

    cfg = BuildConfig(edition="2018", country="no", lang="en", out_dir=tmp_path / "out", pdf=False, quiet=True,
                      cache_dir=tmp_path / "cache", min_base=30, jobs=4)
    argv = sitejobs.argv(cfg, 1)
    assert "--no-pdf" in argv and "--quiet" in argv and "--force" not in argv
    args = parser().parse_args(argv)
    from barometer.build.config import from_args

    back = from_args(args)
    assert back.jobs == 1  # its share of the site's workers, not the site's --jobs
    assert (back.edition, back.country, back.lang, back.pdf, back.quiet, back.min_base) == ("2018", "no", "en", False,
                                                                                             True, 30)
    assert Path(back.out_dir) == tmp_path / "out" and Path(back.cache_dir) == tmp_path / "cache"
    assert back.cache_max == cfg.cache_max and back.executor == cfg.executor


def test_a_setting_without_a_flag_cannot_reach_a_report_process(tmp_path):
    cfg = BuildConfig(out_dir=tmp_path, notebook_dir=tmp_path)
    with pytest.raises(InputError, match="notebook_dir"):
        sitejobs.argv(cfg, 1)


# --------------------------------------------------------------------------------------
# the accessibility page's settings (data/site.yaml)
# --------------------------------------------------------------------------------------
def test_the_shipped_settings_are_sound_and_marked_as_the_example():
    s = siteaccess.settings()
    assert s["example"] is True  # the example's address and contact: the page says so
    assert re.match(r"^https://www\.was\.digst\.dk/", s["statement_url"])
    assert s["contact_email"].endswith("@example.org") and s["contact_email"].split("@")[0] in (
        "tilgaengelighed", "accessibility", "webmaster", "kontakt")  # a function's address, not a person's


def _write(tmp_path, **changes) -> Path:
    import yaml

    data = yaml.safe_load(siteaccess.SITE_SETTINGS.read_text(encoding="utf-8"))
    for k, v in changes.items():
        if v is None:
            data["accessibility"].pop(k)
        else:
            data["accessibility"][k] = v
    p = tmp_path / "site.yaml"
    p.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return p


@pytest.mark.parametrize("changes,message", [
    ({"compliance": "mostly"}, "compliance: 'mostly': choose one of fully, partially, not"),
    ({"method": "audit"}, "method: 'audit'"),
    ({"statement_url": "http://www.was.digst.dk/x"}, "statement_url: .*https://"),
    ({"contact_email": "Jens Hansen"}, "contact_email: .*never a person's"),
    ({"contact_phone": "call us"}, "contact_phone: 'call us'"),
    ({"prepared": "2.12.2026"}, "prepared: .*YYYY-MM-DD"),
    ({"prepared": "2027-01-01"}, "reviewed: .* is before prepared"),
    ({"known_issues": [{"da": "kun dansk"}]}, "known_issues: .*da and en"),
    ({"nem_url": "yes"}, "nem_url: 'yes': give true or false"),
    ({"example": None}, "missing example"),
    ({"statment_url": "https://x"}, "unknown statment_url"),
])
def test_a_wrong_setting_is_one_line_naming_it(tmp_path, changes, message):
    with pytest.raises(InputError, match=message) as e:
        siteaccess.settings(_write(tmp_path, **changes))
    assert "\n" not in str(e.value)


def test_a_statement_is_due_for_review_after_a_year():
    import datetime as dt

    s = siteaccess.settings()
    assert not siteaccess.stale(s, s["reviewed"] + dt.timedelta(days=365))
    assert siteaccess.stale(s, s["reviewed"] + dt.timedelta(days=366))


def test_the_page_has_every_field_of_the_statement_in_both_languages(tmp_path):
    s = {**siteaccess.settings(), "contact_phone": "+45 33 12 34 56", "known_issues": []}
    for lang in ("da", "en"):
        a = siteaccess.context(s, lang)
        for field in ("statement_url", "compliance", "issues_none", "alternatives", "method", "method_text",
                      "dates", "email", "phone", "enforcement_url", "example"):
            assert a[field], (lang, field)
    assert siteaccess.context(s, "da")["dates"].startswith("Erklæringen er udarbejdet 2. december 2026")
    assert "2 December 2026" in siteaccess.context(s, "en")["dates"]
    assert siteaccess.context({**s, "example": False}, "da")["example"] == ""


def test_the_short_address_forwards_to_the_statement():
    s = siteaccess.settings()
    page = siteaccess.nem_url_page(s)
    assert f'<meta http-equiv="refresh" content="0; url={s["statement_url"]}">' in page
    assert page.count(f'href="{s["statement_url"]}"') == 2  # a link in each language


# --------------------------------------------------------------------------------------
# the search index: from what each report's build recorded
# --------------------------------------------------------------------------------------
def _report_folder(tmp_path: Path, report: Report, figures: list[dict]) -> Path:
    from barometer.reportconfig import chapters_for, report_config

    folder = tmp_path / report.slug
    (folder / "figures").mkdir(parents=True)
    chapters = chapters_for(report_config(report.edition), report.country)
    tasks = [{"id": c["id"], "page": f"{c['slug']}.html"} for c in chapters]
    files = []
    for m in figures:
        (folder / "figures" / f"{m['id']}.json").write_text(json.dumps(m), encoding="utf-8")
        (folder / "figures" / f"{m['id']}.vl.json").write_text("{}", encoding="utf-8")  # a chart spec: not a figure
        files += [f"figures/{m['id']}.json", f"figures/{m['id']}.vl.json"]
    (folder / "manifest.json").write_text(json.dumps({"tasks": tasks, "files": files}), encoding="utf-8")
    return folder


def _figure(fig_id, number, chapter, page, **extra):
    return {"id": fig_id, "number": number, "chapter": chapter, "headline": f"Headline {fig_id}",
            "caption": f"Caption of {fig_id}", "page": f"{page}#fig-{fig_id}", **extra}


def test_entries_are_the_chapters_with_their_figures_in_reading_order(tmp_path):
    from barometer.reportconfig import chapters_for, report_config

    r = Report("2018", "dk", "en")
    chapters = chapters_for(report_config("2018"), "dk")
    first, second = chapters[0], chapters[1]
    folder = _report_folder(tmp_path, r, [
        _figure("b", 2, first["id"], f"{first['slug']}.html"),
        _figure("a", 1, first["id"], f"{first['slug']}.html"),
        _figure("c", 3, second["id"], f"{second['slug']}.html"),
    ])
    (folder / "figur").mkdir()
    (folder / "figur" / "c.html").write_text("<html></html>", encoding="utf-8")  # c has its own page
    out = sitesearch.entries(r, folder, "2nd edition (2018)")
    assert [e["title"] for e in out[:4]] == [first["title"]["en"], "Headline a", "Headline b", second["title"]["en"]]
    assert out[0]["href"] == f"2018/en/{first['slug']}.html" and out[0]["kind"] == "chapter"
    assert out[1]["href"] == f"2018/en/{first['slug']}.html#fig-a"  # the figure's anchor in its chapter
    assert out[4]["href"] == "2018/en/figur/c.html"  # a figure with its own page: that page
    assert out[1]["label"] == "Figure 1" and out[1]["where"] == "2nd edition (2018) · Denmark"
    assert len([e for e in out if e["kind"] == "chapter"]) == len(chapters)
    assert not [e for e in out if "vl" in e["href"]]


def test_the_index_script_and_the_static_list_hold_the_same_entries(tmp_path):
    from barometer.reportconfig import chapters_for, report_config

    r = Report("2018", "no", "da")
    ch = chapters_for(report_config("2018"), "no")[0]
    folder = _report_folder(tmp_path, r, [_figure("x", 1, ch["id"], f"{ch['slug']}.html")])
    items = sitesearch.entries(r, folder, "2. udgave (2018)")
    js = sitesearch.index_js("da", items)
    assert js.startswith("window.barometerSearch = {") and js.rstrip().endswith("};")
    rows = json.loads(js.split("=", 1)[1].strip().rstrip(";"))["entries"]
    assert [row[2] for row in rows] == [e["href"] for e in items]
    assert rows[1][:2] == ["Headline x", "Caption of x"] and "Figur 1" in rows[1][3] and "Norge" in rows[1][3]
    groups = sitesearch.groups(items)
    assert len(groups) == 1 and groups[0]["where"] == "2. udgave (2018) · Norge"
    assert [f["title"] for c in groups[0]["chapters"] for f in c["figures"]] == ["Headline x"]


def test_the_search_texts_keep_the_scripts_placeholders():
    s = sitesearch.strings("da")
    assert "{q}" in s["search_none"] and "{n}" in s["search_many"] and "{q}" in s["search_one"]


def test_the_client_script_is_small_and_offline():
    from barometer.paths import TEMPLATE_DIR

    js = (TEMPLATE_DIR / "site" / sitesearch.SCRIPT).read_text(encoding="utf-8")
    assert len(js.encode()) < 5000  # a few KB
    assert "fetch(" not in js and "XMLHttpRequest" not in js and "http" not in js.replace("https?", "")
    assert "window.barometerSearch" in js


# --------------------------------------------------------------------------------------
# the site-wide pages written from report folders
# --------------------------------------------------------------------------------------
def test_search_and_accessibility_pages_link_within_the_site(tmp_path):
    import shutil

    from barometer.build.render import jinja
    from barometer.paths import TEMPLATE_DIR
    from barometer.reportconfig import chapters_for, report_config

    built = {}
    for lang in ("da", "en"):
        r = Report("2018", "dk", lang)
        ch = chapters_for(report_config("2018"), "dk")[1]
        built[r] = _report_folder(tmp_path / "reports", r, [_figure("q", 1, ch["id"], f"{ch['slug']}.html")])
    work = tmp_path / "site"
    shutil.copytree(TEMPLATE_DIR / "assets", work / "assets")
    listed = sitewide.write(jinja(), built, {}, work, synthetic=True, log=lambda *_: None)
    assert sorted(listed) == sorted([*sitesearch.PAGE.values(), *siteaccess.PAGE.values()])
    assert (work / "assets" / sitesearch.SCRIPT).is_file() and (work / siteaccess.NEM_URL_PAGE).is_file()
    for lang in ("da", "en"):
        assert sitewide.index_entries(work, lang)[2][2] == f"2018/{lang}/{ch['slug']}.html#fig-q"
        search = (work / sitesearch.PAGE[lang]).read_text(encoding="utf-8")
        assert f'<script src="{sitesearch.index_file(lang)}"></script>' in search
        assert f'href="2018/{lang}/{ch["slug"]}.html#fig-q"' in search  # the static list, without JavaScript
        access = (work / siteaccess.PAGE[lang]).read_text(encoding="utf-8")
        assert f'<html lang="{lang}">' in access and 'href="mailto:tilgaengelighed@example.org"' in access
        other = "en" if lang == "da" else "da"
        assert f'href="{siteaccess.PAGE[other]}" hreflang="{other}"' in access  # the language switcher
        assert 'class="a11y-example"' in access
        # every link to the site-wide files resolves (the front page and the reports are the assembly's)
        for href in re.findall(r'href="(?![a-z]+:)([^"#]+)[^"]*"', search + access):
            assert href == "index.html" or href.startswith("2018/") or (work / href).exists(), href


def test_footer_and_search_box_links_are_relative_to_the_page():
    from barometer.build.render import jinja

    env = jinja()
    assert 'href="../../../tilgaengelighed.html"' in sitewide.footer_links(env, "da", "2018/da/no/index.html")
    assert 'href="../../accessibility.html"' in sitewide.footer_links(env, "en", "2018/en/typer.html")
    assert 'href="https://example.org/b/soeg.html"' in sitewide.footer_links(env, "da", "404.html",
                                                                              "https://example.org/b/")
    assert 'action="../../../search.html"' in sitewide.searchbox(env, "en", "2018/en/cases/a.html")
