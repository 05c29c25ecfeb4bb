"""Hostile labels are shown as text; parameters cannot inject code; microdata are never displayed or published."""

import re
import json

import nbformat
import pandas as pd
import papermill as pm
import pytest

from barometer import charts, privacy
from barometer.build import BuildError
from barometer.build.publish import check_no_microdata, scrub_failed
from barometer.paths import NOTEBOOK_DIR
from barometer.report import Chapter, ParameterError, check_declared, validate_parameters

HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'


# --------------------------------------------------------------------------------------
# labels from the codebook and measures flow into headlines, charts, captions and tables
# --------------------------------------------------------------------------------------
@pytest.fixture()
def hostile_chapter(monkeypatch, dk2018):
    import barometer.chapter as chapter
    import barometer.display as display

    ch = Chapter("collaboration")
    ch._datasets["dk"] = dk2018
    monkeypatch.setattr(chapter, "label", lambda ds, measure, lang: f"{measure} {HOSTILE}")
    monkeypatch.setattr(type(dk2018.codebook), "question", lambda self, name, lang="da": f"Spørgsmål {HOSTILE}")
    shown = []
    monkeypatch.setattr(display, "show_html", shown.append)
    return ch, shown


def test_hostile_labels_are_escaped_in_figure_caption_table_and_chart(hostile_chapter, dk2018):
    from barometer import estimates

    ch, shown = hostile_chapter
    rows = estimates.shares(dk2018, ["collab_private", "collab_citizens"], "innovations", "collab_partners")
    chart = charts.bars_ci(ch.bar_data(rows), "da")
    ch.figure("collab_partners", rows, chart, headline=f"Overskrift {HOSTILE}")
    markup = shown[-1]
    # the figure's own data blocks (Vega spec, CSV) are inert: no '<' survives inside them
    block = r'<script type="(?:application/json|text/csv)" class="(?:vega-spec|figure-frame|figure-csv)"[^>]*>(.*?)</script>'
    blocks = re.findall(block, markup, flags=re.S)
    assert len(blocks) == 4 and all("<" not in b for b in blocks)  # wide and narrow spec, download frame, CSV
    rest = re.sub(block, "", markup, flags=re.S)
    assert "<script" not in rest and "<img" not in rest
    assert markup.count("&lt;script&gt;") >= 4  # headline, aria-label, caption (question), table rows
    svg = markup[markup.index("<svg"):markup.index("</svg>")]
    assert "&lt;script&gt;" in svg  # the chart's axis labels


def test_hostile_table_and_prose_values_are_escaped(hostile_chapter):
    ch, shown = hostile_chapter
    ch.heading(HOSTILE)
    rows = pd.DataFrame([{"figure_id": "t", "measure": "collab_private", "country": "dk", "population": "innovations",
                          "category": "", "estimate_pct": 10.0, "ci_low_pct": float("nan"),
                          "ci_high_pct": float("nan"), "n_obs": 100, "p_value": float("nan"), "suppressed": False}])
    ch.table("method_sample", rows)
    for markup in shown:
        assert "<script" not in markup and "<img" not in markup and "&lt;script&gt;" in markup


# --------------------------------------------------------------------------------------
# parameters
# --------------------------------------------------------------------------------------
INJECTIONS = ['x"; __import__("os").system("touch PWNED") #',
              "x'\n__import__('os').system('touch PWNED')\n'",
              '"""\nimport os; os.system("touch PWNED")\n"""',
              "\\\"; raise SystemExit #"]


@pytest.mark.parametrize("value", INJECTIONS)
def test_papermill_injects_strings_as_inert_literals(tmp_path, value):
    nb = pm.iorw.load_notebook_node(str(NOTEBOOK_DIR / "00_front.ipynb"))  # as papermill reads it
    params = {"edition": "2018", "country": "dk", "lang": value, "data_path": value, "output_dir": ""}
    injected = pm.parameterize.parameterize_notebook(nb, params)
    cell = next(c for c in injected.cells if "injected-parameters" in c.get("metadata", {}).get("tags", []))
    namespace = {}
    import os

    old = os.getcwd()
    os.chdir(tmp_path)
    try:
        exec(compile(cell.source, "injected", "exec"), namespace)  # noqa: S102 - what the kernel would run
    finally:
        os.chdir(old)
    assert namespace["lang"] == value and namespace["data_path"] == value
    assert not (tmp_path / "PWNED").exists()
    with pytest.raises((ParameterError, ValueError)):
        validate_parameters("2018", "dk", value, "", "")
    with pytest.raises(ParameterError, match="data_path|data file .* does not exist"):
        validate_parameters("2018", "dk", "da", value, "")


@pytest.mark.parametrize("args,message", [
    ({"edition": 2018}, "parameter 'edition' must be a string, got int"),
    ({"country": "se"}, "unknown country 'se': choose one of dk, no"),
    ({"data_path": "a\nb"}, "parameter 'data_path' contains a line break or control character"),
    ({"output_dir": "/tmp/x\x00"}, "parameter 'output_dir' contains a line break"),
])
def test_malformed_parameters_are_refused_clearly(args, message):
    p = {"edition": "2018", "country": "dk", "lang": "da", "data_path": "", "output_dir": ""} | args
    with pytest.raises(ParameterError, match=message.replace("(", r"\(").replace(")", r"\)")):
        validate_parameters(**p)


def test_notebook_parameter_cells_declare_exactly_the_parameters(tmp_path):
    for nb in NOTEBOOK_DIR.glob("*.ipynb"):
        check_declared(nb)
    nb = nbformat.read(NOTEBOOK_DIR / "00_front.ipynb", as_version=4)
    cell = next(c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", []))
    cell.source = cell.source.replace("lang = ", "langauge = ")
    nbformat.write(nb, tmp_path / "00_front.ipynb")
    with pytest.raises(ParameterError, match="unknown: langauge; missing: lang"):
        check_declared(tmp_path / "00_front.ipynb")




# --------------------------------------------------------------------------------------
# no microdata displayed or published
# --------------------------------------------------------------------------------------
def test_display_guard_refuses_microdata_frames(dk2018, restore_text_repr):
    from IPython.core.interactiveshell import InteractiveShell

    from traitlets.config import Config

    config = Config()
    config.HistoryManager.enabled = False  # no history database written (nor complained about at exit)
    ip = InteractiveShell.instance(config=config)
    assert privacy.install_display_guard({"resp_id", "innovation_text"})
    ip.user_ns.update(df=dk2018.df, small=pd.DataFrame({"share": [1.0, 2.0]}), big=pd.DataFrame({"x": range(500)}))
    for code, message in (("display(df)", "sensitive column"), ("df[['resp_id']].head(3)", "sensitive column"),
                          ("df['innovation_text']", "sensitive column"), ("big", "500 rows")):
        result = ip.run_cell(code)
        assert isinstance(result.error_in_exec, privacy.MicrodataError), code
        assert message in str(result.error_in_exec)
    assert ip.run_cell("display(small); small").success
    # print() and str() of a frame or Series holding sensitive columns are refused too
    for code in ("print(df)", "print(df[['resp_id']].head(2))", "str(df['innovation_text'])", "print(big)"):
        result = ip.run_cell(code)
        assert isinstance(result.error_in_exec, privacy.MicrodataError), code
    assert ip.run_cell("print(small); str(small['share'])").success


def test_a_dataset_shows_a_summary_never_a_row(dk2018):
    ids = set(dk2018.df["resp_id"].astype(str).head(50))
    for text in (repr(dk2018), str(dk2018), dk2018._repr_html_()):
        assert "2,363 respondents" in text or "2,363" in text
        assert "synthetic" in text
        assert not any(i in text for i in ids) and "workplace_name" not in text and "resp_id" not in text


def test_scan_finds_ids_and_free_text_in_any_output(tmp_path, dk2018):
    needles = privacy.needles_from(dk2018.df, dk2018.codebook)
    rid = dk2018.df["resp_id"].iloc[7]
    text = dk2018.df["innovation_text"].dropna().iloc[3]
    name = dk2018.df["workplace_name"].dropna().iloc[11]
    (tmp_path / "ok.html").write_text("<p>Andel 79 %</p>", encoding="utf-8")
    assert privacy.scan(tmp_path, needles) == []
    (tmp_path / "page.html").write_text(f"<td>{rid}</td>", encoding="utf-8")
    (tmp_path / "nb.ipynb").write_text(json.dumps({"outputs": [text]}), encoding="utf-8")  # æøå escaped in JSON
    (tmp_path / "table.csv").write_text(f"x,{name.replace('&', '&amp;')}\n", encoding="utf-8")
    found = {p.name: v for p, v in privacy.scan(tmp_path, needles)}
    assert found == {"page.html": rid, "nb.ipynb": text, "table.csv": name}
    with pytest.raises(BuildError, match=r"output file\(s\) contain respondent ids or sensitive answers"):
        check_no_microdata(tmp_path, "2018", "dk", dk2018)


def test_numeric_ids_match_whole_numbers_only(tmp_path):
    (tmp_path / "chart.svg").write_text('<path d="M0.123456,7 L2123456.5,3"/>', encoding="utf-8")
    assert privacy.scan(tmp_path, {"123456"}) == []
    (tmp_path / "t.html").write_text("<td>id 123456</td>", encoding="utf-8")
    assert [p.name for p, _ in privacy.scan(tmp_path, {"123456"})] == ["t.html"]


def test_failed_notebooks_kept_for_debugging_are_scrubbed_of_microdata(tmp_path, dk2018):
    kept = tmp_path / ".failed" / "2018-dk-da" / "notebooks"
    kept.mkdir(parents=True)
    rid = dk2018.df["resp_id"].iloc[0]
    (kept / "07_collaboration.ipynb").write_text(json.dumps({"outputs": [f"print: {rid}"]}), encoding="utf-8")
    (kept / "00_front.ipynb").write_text(json.dumps({"outputs": ["79 %"]}), encoding="utf-8")
    scrub_failed(tmp_path / ".failed" / "2018-dk-da", "2018", "dk", dk2018)
    assert rid not in (kept / "07_collaboration.ipynb").read_text(encoding="utf-8")
    assert "removed: this executed notebook contained respondent ids" in (kept / "07_collaboration.ipynb").read_text()
    assert "79 %" in (kept / "00_front.ipynb").read_text(encoding="utf-8")


def test_the_scan_reads_json_and_notebooks_as_their_decoded_strings(tmp_path):
    """An id at the start of a printed line (``\\n`` in the file), behind a JSON escape
    (``\\u00f8``) or stored as a number is found; a picture's base64 is not text to search."""
    nb = {"cells": [{"outputs": [{"name": "stdout", "text": "header\nW14208\n"}]}]}
    (tmp_path / "a.ipynb").write_text(json.dumps(nb), encoding="utf-8")
    (tmp_path / "b.json").write_text(json.dumps({"n": 123456, "name": "Børnehuset Solsikken"}), encoding="utf-8")
    found = {p.name: v for p, v in privacy.scan(tmp_path, {"W14208", "123456", "Børnehuset Solsikken"})}
    assert found["a.ipynb"] == "W14208" and found["b.json"] in {"123456", "Børnehuset Solsikken"}
    picture = {"cells": [{"outputs": [{"data": {"image/png": "iVBO+W14208/xyz", "text/plain": ["<Figure>"]}}]}]}
    (tmp_path / "a.ipynb").write_text(json.dumps(picture), encoding="utf-8")
    (tmp_path / "b.json").unlink()
    assert privacy.scan(tmp_path, {"W14208"}) == []
