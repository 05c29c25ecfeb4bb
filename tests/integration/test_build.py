"""Build the 2018 edition into a temporary folder and check what a reader gets."""

import html
import html as html_module
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from scratchroot import scratch_root

from barometer import targets
from barometer.build import BuildConfig, BuildError, build
from barometer.estimates import COLUMNS
from barometer.paths import NOTEBOOK_DIR, ROOT

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def site(built_2018_dk_da):
    return built_2018_dk_da


def test_outputs_exist(site):
    for name in ("index.html", "typer.html", "initiativ-og-vaerdi.html", "udlandet.html", "samarbejde.html",
                 "norske-tal.html", "metode.html", "estimates.csv", "manifest.json",
                 "innovationsbarometer-2018-dk-da.pdf", "assets/report.css", "assets/report.js",
                 "assets/vendor/vega.min.js", "assets/vendor/vega-lite.min.js", "assets/vendor/vega-embed.min.js",
                 "assets/vendor/LICENSE-vega.txt"):
        assert (site / name).is_file(), name
    assert len(list((site / "cases").glob("*.html"))) == 5
    assert not list(site.parent.glob(".2018-dk-da.tmp-*")), "temporary folder left behind"


def test_estimates_contract_and_targets(site):
    est = pd.read_csv(site / "estimates.csv", keep_default_na=True)
    assert list(est.columns) == COLUMNS
    check = pd.concat([targets.compare(est, "2018", "dk"), targets.compare(est, "2018", "no")])
    assert len(check) == len(targets.load_targets(edition="2018"))
    assert check["ok"].all(), check.loc[~check["ok"]]
    shares = est[est["estimate_pct"].notna() & ~est["measure"].isin(["respondents"])]
    assert shares[["ci_low_pct", "ci_high_pct"]].notna().all().all()
    assert (shares["ci_low_pct"] <= shares["estimate_pct"]).all()
    quality = est[est["figure_id"] == "quality_by_partner"]
    assert quality.loc[quality["category"] != "collab_none", "p_value"].notna().all()


def test_manifest(site):
    m = json.loads((site / "manifest.json").read_text())
    assert m["parameters"] == {"edition": "2018", "country": "dk", "lang": "da", "data_path": None, "frame_path": None,
                            "synthetic": True}
    assert m["mode"] == "edition" and m["hits"] + m["misses"] == len(m["tasks"])
    assert all(len(i["sha256"]) == 64 for i in m["inputs"]) and len(m["inputs"]) >= 2
    assert {n["notebook"] for n in m["tasks"]} == {"00_front.ipynb", "02_types.ipynb", "03_initiators_value.ipynb",
                                                      "04_abroad.ipynb", "07_collaboration.ipynb", "08_norway.ipynb",
                                                      "90_method.ipynb"}
    assert all(n["seconds"] > 0 for n in m["tasks"])
    assert m["versions"]["pandas"] and "git_commit" in m
    assert m["targets"]["reproduced"] == m["targets"]["checked"]


def test_every_page_has_the_banner_and_no_code_or_network(site):
    pages = list(site.glob("*.html")) + list(site.glob("*/*.html"))
    assert len(pages) >= 10
    for p in pages:
        text = p.read_text(encoding="utf-8")
        assert "Syntetiske data" in text, p
        assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", text), f"{p} loads from the network"
        assert "url(http" not in text and "@import" not in text
        assert "from barometer" not in text and "ch.figure(" not in text, f"{p} shows code"
        assert "Traceback" not in text


def _output_texts(folder: Path):
    """Every output file as text: pages, CSV, JSON, SVG, executed notebooks (also JSON-decoded),
    and the PDF's text."""
    for p in sorted(folder.rglob("*")):
        if not p.is_file():
            continue
        if p.suffix == ".pdf":
            if shutil.which("pdftotext"):
                text = subprocess.run(["pdftotext", str(p), "-"], capture_output=True, text=True, check=True).stdout
                yield p, text + "\n" + " ".join(text.split())
            continue
        raw = p.read_bytes()
        if b"\x00" in raw:
            continue
        text = raw.decode("utf-8", errors="replace")
        if p.suffix in (".ipynb", ".json"):
            text += json.dumps(json.loads(text), ensure_ascii=False)
        yield p, text + html.unescape(text)


def _microdata_needles(path: Path) -> set:
    resp = pd.read_csv(path, dtype=str)
    return {v for col in ("resp_id", "innovation_text", "workplace_name", "workplace_id")
            for v in resp[col].dropna() if len(v) >= 5}


def _leaks(folder: Path, needles: set) -> list:
    by_token = {}
    for n in needles:
        by_token.setdefault(max(re.findall(r"\w+", n), key=len), []).append(n)
    leaks = []
    for p, text in _output_texts(folder):
        tokens = set(re.findall(r"\w+", text))
        leaks += [(p.name, n) for t in tokens & by_token.keys() for n in by_token[t] if n in text]
    return leaks


def test_no_microdata_in_any_output(site):
    """Every respondent id, workplace id and name and free-text answer of the input, in every output file."""
    needles = _microdata_needles(ROOT / "data/synthetic/2018/dk/respondents.csv")
    assert len(needles) > 5000
    assert len(list(_output_texts(site))) >= 15
    leaks = _leaks(site, needles)
    assert not leaks, f"outputs contain microdata: {leaks[:5]}"


HOSTILE = "<script>alert('x')</script>"


@pytest.fixture(scope="module")
def hostile_root(tmp_path_factory):
    """A copy of the project's data, notebooks and templates with hostile labels and content."""
    root = scratch_root(tmp_path_factory, "hostile")
    cb = root / "data/codebook/2018-dk.yaml"
    text = cb.read_text(encoding="utf-8")
    text = text.replace("{name: collab_citizens, label: {da: Borgere, en: Citizens}}",
                        f'{{name: collab_citizens, label: {{da: "Borgere {HOSTILE}", en: "Citizens {HOSTILE}"}}}}')
    text = text.replace('{da: "Hvilken værdi har den seneste innovation samlet set opnået?',
                        f'{{da: "{HOSTILE} Hvilken værdi har den seneste innovation samlet set opnået?')
    cb.write_text(text, encoding="utf-8")
    case = root / "data/content/2018/cases/citizen-reporting-app.yaml"
    case.write_text(case.read_text(encoding="utf-8").replace(
        "da: Borgerne melder huller i vejen direkte fra mobilen",
        f'da: "Borgerne melder huller {HOSTILE} i vejen"'), encoding="utf-8")
    return root


def test_build_from_spss_file_with_hostile_labels(site, hostile_root, tmp_path):
    """The whole command line on an SPSS file: identical estimates.csv, labels shown as text, no microdata."""
    from barometer import writers

    (tmp_path / "secure").mkdir()
    sav = writers.write_sample("2018", "dk", tmp_path / "secure" / "innovation2018.sav")
    out = tmp_path / "site"  # never beside the data file: a build refuses that
    r = subprocess.run([sys.executable, "build.py", "--data", str(sav), "--out", str(out), "--no-pdf", "--quiet"],
                       cwd=ROOT, capture_output=True, text=True, timeout=600,
                       env={**os.environ, "BAROMETER_ROOT": str(hostile_root)})
    assert r.returncode == 0, r.stderr
    got, want = (pd.read_csv(d / "estimates.csv", dtype={"category": str}) for d in (out, site))
    # the method chapter's sample table shows sample sizes only when the frame is known (synthetic builds)
    same = [f for f in want["figure_id"].unique() if f != "method_sample"]
    assert len(same) >= 8
    pd.testing.assert_frame_equal(got[got["figure_id"].isin(same)].reset_index(drop=True),
                                  want[want["figure_id"].isin(same)].reset_index(drop=True), check_exact=True)
    assert (got.loc[got["figure_id"] == "method_sample", "n_obs"].max()
            == want.loc[want["figure_id"] == "method_sample", "n_obs"].max())
    page = (out / "samarbejde.html").read_text(encoding="utf-8")
    assert "<script>alert" not in page
    assert page.count("&lt;script&gt;alert(") >= 3  # chart label (SVG), data table, caption's question
    case = (out / "cases/citizen-reporting-app.html").read_text(encoding="utf-8")
    assert "<script>alert" not in case and "&lt;script&gt;alert(" in case
    for svg in (out / "figures").glob("*.svg"):
        assert "<script" not in svg.read_text(encoding="utf-8")
    leaks = _leaks(out, _microdata_needles(ROOT / "data/synthetic/2018/dk/respondents.csv"))
    assert not leaks, f"outputs contain microdata: {leaks[:5]}"


def test_pdf_has_vector_charts_and_the_notice(site):
    pdf = site / "innovationsbarometer-2018-dk-da.pdf"
    assert pdf.read_bytes()[:5] == b"%PDF-"
    if not shutil.which("pdftotext"):
        pytest.skip("pdftotext not installed (apt-get install poppler-utils)")
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "Indhold" in text and "Samarbejd på tværs" in text
    pages = text.split("\f")
    assert len(pages) >= 10
    body_pages = [p for p in pages[1:] if p.strip()]
    assert all("Syntetiske data" in p for p in body_pages), "synthetic-data notice missing on a page"
    assert "Figur 2" in text.replace("FIGUR", "Figur")
    images = subprocess.run(["pdfimages", "-list", str(pdf)], capture_output=True, text=True).stdout
    assert len(images.strip().splitlines()) <= 2, "charts should be vectors, not images"


def test_failed_notebook_leaves_no_half_build(tmp_path):
    nbdir = tmp_path / "notebooks"
    shutil.copytree(NOTEBOOK_DIR, nbdir)
    nb = nbformat.read(nbdir / "07_collaboration.ipynb", as_version=4)
    nb.cells.insert(3, nbformat.v4.new_code_cell("raise RuntimeError('broken on purpose')"))
    nbformat.write(nb, nbdir / "07_collaboration.ipynb")
    out = tmp_path / "out" / "2018-dk-da"
    with pytest.raises(BuildError, match=r"07_collaboration.ipynb failed in code cell 3 .*broken on purpose"):
        build(BuildConfig(out_dir=out, quiet=True, pdf=False, notebook_dir=nbdir))
    assert not out.exists()
    assert (tmp_path / "out" / ".failed" / "2018-dk-da" / "notebooks" / "07_collaboration.ipynb").exists()
    # beside it only the kept notebook (the cache is the checkout's, not the output's) and the lock
    assert sorted(p.name for p in (tmp_path / "out").iterdir() if not p.name.endswith(".lock")) == [".failed"]


def _cli(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "build.py", *args], cwd=cwd, capture_output=True, text=True, timeout=300)


def test_help_documents_every_option():
    r = _cli("--help")
    assert r.returncode == 0
    for opt in ("--edition", "--country", "--lang", "--data", "--frame", "--out", "--no-pdf", "--quiet", "--min-base",
                "--check-data", "--cache-dir", "--cache-max", "--clean-cache"):
        assert opt in r.stdout


@pytest.mark.parametrize("args,message", [
    (["--edition", "1999"], "unknown edition '1999'"),
    (["--data", "/nonexistent/file.sav"], "does not exist"),
    (["--data", str(ROOT / "README.md")], "README.md: not a well-formed CSV"),
    (["--min-base", "2"], "--min-base: 2 is out of range"),
])
def test_bad_input_exits_2_and_writes_nothing(tmp_path, args, message):
    out = tmp_path / "site"
    r = _cli(*args, "--out", str(out))
    assert r.returncode == 2, r.stderr
    assert message in r.stderr and "Traceback" not in r.stderr
    assert not out.exists()


def test_every_figure_is_numbered_once_with_its_files(site):
    from barometer.report import figure_numbers, report_config

    numbers = figure_numbers(report_config("2018"), "dk")
    est = pd.read_csv(site / "estimates.csv")
    est_lines = (site / "estimates.csv").read_text().splitlines()
    html = "".join(p.read_text(encoding="utf-8") for p in site.glob("*.html"))
    for fig_id, n in numbers.items():
        assert html.count(f'data-figure-id="{fig_id}"') == 1, fig_id
        assert f"Figur {n}</p>" in html, fig_id
        for ext in ("svg", "png", "csv", "vl.json"):
            assert (site / "figures" / f"{fig_id}.{ext}").is_file(), (fig_id, ext)
        lines = [ln for ln in est_lines[1:] if ln.split(",", 1)[0] == fig_id]
        assert lines and (site / "figures" / f"{fig_id}.csv").read_text().splitlines() == [est_lines[0], *lines]
    assert sorted(numbers.values()) == list(range(1, len(numbers) + 1))
    abroad = est[(est["figure_id"] == "quality_by_abroad") & (est["category"] == "init_abroad")]
    assert abroad["p_value"].notna().all()


# -- the English and the Norwegian builds ----------------------------------------------
@pytest.fixture(scope="module")
def site_en(tmp_path_factory):
    out = tmp_path_factory.mktemp("build-en") / "2018-dk-en"
    build(BuildConfig(out_dir=out, quiet=True, lang="en", pdf=False))
    return out


@pytest.fixture(scope="module")
def site_no(tmp_path_factory):
    out = tmp_path_factory.mktemp("build-no") / "2018-no-da"
    build(BuildConfig(out_dir=out, quiet=True, country="no"))
    return out


def _visible_text(path):
    text = path.read_text(encoding="utf-8")
    text = re.sub(r"<script.*?</script>", " ", text, flags=re.S)
    return html_module.unescape(re.sub(r"<[^>]+>", " ", text))


def test_english_site_has_no_danish_interface_text(site_en):
    import yaml

    from barometer.paths import DATA_DIR

    strings = yaml.safe_load((DATA_DIR / "report" / "i18n.yaml").read_text(encoding="utf-8"))
    report = yaml.safe_load((DATA_DIR / "report" / "2018.yaml").read_text(encoding="utf-8"))
    danish = {v["da"].split("{")[0].strip() for v in strings.values() if v["da"] != v["en"]}
    danish |= {v["da"][:40] for v in report["prose"].values() if v["da"] != v["en"]}
    danish |= {c["title"]["da"] for c in report["chapters"]}
    danish |= {"Tal bag figuren", "Kategori", "Cases og råd", "Spring til indhold", "Figur ", "Andel (%)",
               "Læs hele casen", "Antal observationer", "Spørgsmålet lyder", "Resultaterne er vægtet"}
    danish = {d for d in danish if len(d) >= 5}
    pages = list(site_en.glob("*.html")) + list(site_en.glob("*/*.html"))
    assert len(pages) >= 14  # 7 chapters, 5 cases, 2 expert advice
    for p in pages:
        text = _visible_text(p)
        found = sorted(d for d in danish if re.search(r"(?<!\w)" + re.escape(d.strip()) + r"(?!\w)", text))
        assert not found, f"{p.name}: Danish text in the English site: {found[:5]}"
        assert 'lang="en"' in p.read_text(encoding="utf-8")
    svgs = "".join(p.read_text(encoding="utf-8") for p in (site_en / "figures").glob("*.svg"))
    assert "Share (%)" in svgs and "Andel (%)" not in svgs
    assert "Figure 2" in _visible_text(site_en / "typer.html")


def test_norwegian_build_in_english(tmp_path):
    """--country no --lang en: the Norwegian numbers with English texts and number formats."""
    out = tmp_path / "2018-no-en"
    build(BuildConfig(out_dir=out, quiet=True, country="no", lang="en", pdf=False))
    assert sorted(p.name for p in out.glob("*.html")) == ["index.html", "metode.html", "norske-tal.html"]
    est = pd.read_csv(out / "estimates.csv", keep_default_na=True)
    assert targets.compare(est, "2018", "no")["ok"].all()
    for p in out.glob("*.html"):
        assert 'lang="en"' in p.read_text(encoding="utf-8")
    front = _visible_text(out / "index.html")
    assert "Synthetic data" in front and "Figure 1" in front and "Figur 1" not in front
    svgs = "".join(p.read_text(encoding="utf-8") for p in (out / "figures").glob("*.svg"))
    assert "Share (%)" in svgs and "Andel (%)" not in svgs


def test_norwegian_build(site_no):
    names = sorted(p.name for p in site_no.glob("*.html"))
    assert names == ["index.html", "metode.html", "norske-tal.html"]
    assert not (site_no / "cases").exists(), "the Norwegian build has no collaboration chapter, so no case pages"
    est = pd.read_csv(site_no / "estimates.csv", keep_default_na=True)
    check = targets.compare(est, "2018", "no")
    assert len(check) == len(targets.load_targets(edition="2018", country="no")) and check["ok"].all()
    front = _visible_text(site_no / "index.html")
    assert "De norske tal 2018" in front and "Figur 1" in front
    sector = est[est["figure_id"] == "no_innovative_by_sector"].set_index("category")["estimate_pct"]
    assert round(sector["workplaces"]) == 74 and 75 <= sector["no_education"] <= 85 and 65 <= sector["no_health_care"] <= 75
    pdf = site_no / "innovationsbarometer-2018-no-da.pdf"
    assert pdf.read_bytes()[:5] == b"%PDF-"


def test_unknown_country_chapter_is_refused():
    from barometer.report import Chapter, ParameterError

    with pytest.raises(ParameterError, match="does not belong"):
        Chapter("types", country="no").figure("innovation_types", pd.DataFrame(columns=COLUMNS), None)
