"""Charts and the files a figure leaves: Vega-Lite specs that validate, text a phone can read,
downloads that keep their context, a reader's CSV for Danish Excel, metadata and timings."""

import json
import re
import xml.dom.minidom

import pandas as pd
import pytest
from altair.utils.schemapi import validate_jsonschema
from altair.vegalite.v6.schema.core import load_schema

from barometer import charts, figtimings, i18n
from barometer.figures import reader_csv
from barometer.rowformat import chart_rows

LONG = "Private virksomheder (konsulenter, leverandører m.fl.) *"


def _data(lang="da"):
    rows = pd.DataFrame({"figure_id": "f", "measure": ["collab_private", "collab_citizens"], "country": ["dk", "no"],
                         "population": "innovations", "category": "", "estimate_pct": [84.0295394134, 30.14],
                         "ci_low_pct": [80.2, 25.0], "ci_high_pct": [87.4, 35.5], "n_obs": [1091, 200],
                         "p_value": [None, 0.0123], "suppressed": False})
    out = chart_rows(rows.assign(label=[LONG, "Borgere"]), lang)
    return out.assign(colour=["main", "accent"], country_label=["Danmark", "Norge"], edition=["2018", "2021"])


BUILDERS = [
    ("bars", lambda d, lang: charts.bars_ci(d, lang)),
    ("bars_colour", lambda d, lang: charts.bars_ci(d, lang, color_field="colour", colors=charts.ROLE_COLOURS)),
    ("grouped", lambda d, lang: charts.grouped(d, lang)),
    ("trend", lambda d, lang: charts.trend(d, lang)),
]


@pytest.mark.parametrize("name,build", BUILDERS, ids=[b[0] for b in BUILDERS])
def test_every_builder_gives_a_valid_vega_lite_spec_per_layout(name, build):
    schema = load_schema()
    specs = charts.specs(build(_data(), "da"), description="Søjlediagram.")
    assert set(specs) == {lay.name for lay in charts.LAYOUTS}
    for spec in specs.values():
        validate_jsonschema(spec, schema, rootschema=schema)  # raises on an invalid spec
        assert spec["description"] == "Søjlediagram."
        json.dumps(spec, allow_nan=False)  # plain JSON: no NaN, no NumPy values


def test_narrow_layout_wraps_labels_to_fit_a_phone():
    specs = charts.specs(charts.bars_ci(_data(), "da"))
    narrow = [r["label_lines"] for r in specs["narrow"]["data"]["values"]]
    wide = [r["label_lines"] for r in specs["wide"]["data"]["values"]]
    assert all(len(line) <= charts.NARROW.wrap for line in narrow[0].split("\n"))
    assert narrow[0].count("\n") > wide[0].count("\n")
    assert specs["narrow"]["width"] < specs["wide"]["width"]


def test_wrap_keeps_the_significance_mark_with_its_word():
    lines = charts.wrap("Andre arbejdspladser i samme kommune *", 12).split("\n")
    assert lines[-1].endswith(i18n.NBSP + "*") and lines[-1] != i18n.NBSP + "*"
    assert charts.wrap("kort", 20) == "kort"


@pytest.mark.parametrize("lang,share,ci_word", [("da", f"84{i18n.NBSP}%", "95 %-konfidensinterval"),
                                                ("en", "84%", "95% confidence interval")])
def test_screen_reader_text_of_a_bar_is_in_the_report_language_with_formatted_numbers(lang, share, ci_word):
    spec = charts.specs(charts.bars_ci(_data(lang), lang))["wide"]
    desc = spec["data"]["values"][0]["desc_text"]
    assert desc.startswith(LONG) and share in desc and ci_word in desc
    assert "84.0295" not in desc and "84,0295" not in desc
    n = "1.091" if lang == "da" else "1,091"
    assert n in desc


def test_svg_aria_labels_are_ours_not_vegas_default():
    svg = charts.svg_of(charts.specs(charts.bars_ci(_data(), "da"))["wide"])
    labels = re.findall(r'aria-label="([^"]*)"', svg)
    assert labels and all("84.0295" not in a and "X-axis" not in a and "colour" not in a for a in labels)
    assert any(f"84{i18n.NBSP}%" in a for a in labels)


def test_clip_ids_do_not_depend_on_what_the_process_drew_before_and_carry_the_figure():
    spec = charts.specs(charts.bars_ci(_data(), "da"))["wide"]
    first = charts.svg_of(spec, "f-wide-")
    charts.svg_of(charts.specs(charts.grouped(_data(), "da"))["wide"])  # advances Vega's clip counter
    again = charts.svg_of(spec, "f-wide-")
    assert first == again  # byte-identical outputs for the same inputs, in any worker
    ids = re.findall(r'id="(clip[^"]*)"', first)
    assert ids and ids[0] == "clip-f-wide-1" and all(i.startswith("clip-f-wide-") for i in ids)
    assert set(re.findall(r"url\(#([^)]*)\)", first)) <= set(ids)  # every reference still points at its clip path
    other = set(re.findall(r'id="(clip[^"]*)"', charts.svg_of(spec, "g-wide-")))
    assert not other & set(ids)  # two figures inline on one page never share an id


def test_download_frame_adds_headline_and_source_lines_around_the_chart():
    svg = charts.svg_of(charts.specs(charts.bars_ci(_data(), "da"))["wide"])
    head, foot = charts.frame(svg, "Overskrift med <tegn> & mere", ["Kilde: Innovationsbarometeret.", "N = 1.942."])
    framed = head + svg + foot
    doc = xml.dom.minidom.parseString(framed.encode("utf-8"))  # one well-formed SVG
    texts = ["".join(c.data for c in t.childNodes if c.nodeType == c.TEXT_NODE) for t in doc.getElementsByTagName("text")]
    assert "Overskrift med <tegn> & mere" in texts and "N = 1.942." in texts
    w, h = charts._size(svg)
    fw, fh = charts._size(framed)
    assert fw >= w and fh > h + 40
    assert charts.png_of(framed)[:8] == b"\x89PNG\r\n\x1a\n"


def _rows():
    return pd.DataFrame({"figure_id": "f", "measure": "m", "country": ["dk", "dk", "no"], "population": "p",
                         "category": ["a", "b", "c"], "estimate_pct": [42.684198, None, 7.25],
                         "ci_low_pct": [37.781813, None, 3.1], "ci_high_pct": [47.734661, None, 12.0],
                         "n_obs": [1942, None, 12], "p_value": [0.00000123, None, 0.5],
                         "suppressed": [False, True, False], "unreliable": [False, False, True]})


def test_reader_csv_is_danish_excel():
    text = reader_csv(_rows(), "da", lambda r: {"a": "Ældre", "b": "Børn", "c": "Unge"}[r.category])
    lines = text.split("\r\n")
    assert lines[0].split(";")[:3] == [i18n.t("col_category", "da"), i18n.t("col_country", "da"), "Andel (%)"]
    assert lines[1].split(";") == ["Ældre", "Danmark", "42,7", "37,8", "47,7", "1942", "1,23e-06", ""]
    assert lines[2].split(";") == ["Børn", "Danmark", "", "", "", "", "", i18n.t("suppressed", "da")]
    assert lines[3].split(";")[2] == "7,2" or lines[3].split(";")[2] == "7,3"
    assert lines[3].split(";")[-1] == i18n.t("unreliable_mark", "da")


def test_reader_csv_is_english_for_the_english_edition():
    text = reader_csv(_rows(), "en", lambda r: r.category)
    lines = text.split("\r\n")
    assert lines[0].startswith("Category,Country,Share (%),")
    assert lines[1].split(",") == ["a", "Denmark", "42.7", "37.8", "47.7", "1942", "1.23e-06", ""]


def test_timings_are_collected_out_of_the_build_and_tabled(tmp_path):
    t = figtimings.Timer("fig_a")
    with t("spec"):
        pass
    with t("svg"):
        pass
    row = t.done(tmp_path)
    assert set(row) == {"figure", "spec", "svg", "png", "page", "total"}
    rows = figtimings.collect(tmp_path)
    assert rows == [row] and not (tmp_path / figtimings.DIR).exists()
    table = figtimings.table(rows)
    assert table.splitlines()[1].startswith("fig_a") and table.splitlines()[-1].startswith("median")


def test_a_figure_writes_its_downloads_and_metadata(tmp_path, collab_figure, monkeypatch):
    import barometer.display as display

    shown = []
    monkeypatch.setattr(display, "show_html", shown.append)
    rows = collab_figure(tmp_path)
    figs = tmp_path / "figures"
    meta = json.loads((figs / "collab_partners.json").read_text(encoding="utf-8"))
    n = i18n.number(int(rows["n_obs"].max()), "da")
    assert meta["synthetic"] is True and meta["language"] == "da" and meta["edition"] == "2018"
    assert n in meta["n"] and meta["headline"] and meta["publisher"] == i18n.t("publisher", "da")
    assert 'src="figures/collab_partners.svg"' in meta["embed"]
    svg = (figs / "collab_partners.svg").read_text(encoding="utf-8")
    for text in (meta["headline"][:30], n, i18n.t("publisher", "da"), i18n.t("synthetic_banner", "da")[:30]):
        assert text in svg.replace("\n", " "), text
    assert (figs / "collab_partners.png").read_bytes()[:4] == b"\x89PNG"
    reader = (figs / "collab_partners.da.csv").read_bytes()
    assert reader.startswith(b"\xef\xbb\xbf") and ";" in reader.decode("utf-8-sig").splitlines()[0]
    # every number of the reader CSV is its estimates row, rounded
    body = reader.decode("utf-8-sig").splitlines()[1:]
    assert [line.split(";")[2] for line in body] == [i18n.number(v, "da", 1) for v in rows["estimate_pct"]]
    markup = shown[-1]
    assert markup.count('class="vega-spec"') == 2 and 'class="chart-narrow"' in markup
    assert 'data-format="reader-csv"' in markup and 'class="embed-code"' in markup
    assert (tmp_path / "timings" / "collab_partners.json").is_file()


@pytest.mark.parametrize("base", [None, "https://example.org/barometer/2018/da"])
def test_downloads_carry_the_licence_and_a_permalink_only_where_it_is_true(tmp_path, collab_figure, monkeypatch, base):
    """With a base URL the figure page's address is absolute on the PNG/SVG footer and in the
    metadata; without one the metadata gives it relative to the report's root (as its files) and
    the picture gives none: a relative address on a PNG passed around alone would be false."""
    import barometer.display as display
    from barometer import permalink

    monkeypatch.setattr(display, "show_html", lambda *_: None)
    permalink.configure(base)
    try:
        collab_figure(tmp_path)
    finally:
        permalink.configure(None)
    figs = tmp_path / "figures"
    meta = json.loads((figs / "collab_partners.json").read_text(encoding="utf-8"))
    svg = (figs / "collab_partners.svg").read_text(encoding="utf-8")
    assert meta["licence"] == i18n.t("licence", "da") and meta["licence_url"].startswith("https://")
    assert i18n.t("licence", "da")[:20] in svg
    page = permalink.figure_page("collab_partners")
    assert page == "figur/collab_partners.html"
    if base:
        url = "https://example.org/barometer/2018/da/figur/collab_partners.html"
        assert meta["permalink"] == url and url in meta["cite"]
        assert url in svg
    else:
        assert meta["permalink"] == page and "figur/" not in meta["cite"]
        assert "figur/" not in svg and i18n.t("figure_permalink", "da", url="")[:10] not in svg


def test_base_url_is_one_setting_every_build_takes_and_checks():
    from barometer.build.config import BuildConfig, FanoutConfig
    from barometer.cli import parser
    from barometer.errors import InputError

    assert BuildConfig(base_url="https://example.org/").settings()["base_url"] == "https://example.org/"
    assert "base_url" in FanoutConfig(by="region").settings()  # part of every task's cache key
    args = parser().parse_args(["--base-url", "https://example.org/b"])
    assert args.base_url == "https://example.org/b"
    with pytest.raises(InputError, match="--base-url"):
        BuildConfig(base_url="ftp://example.org/").check_settings()
    assert len([a for a in parser()._actions if "--base-url" in a.option_strings]) == 1
