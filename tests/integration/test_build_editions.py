"""Build every later edition (found in data/report/; the newest with its PDF) and check their targets."""

import json
import shutil
import subprocess

import pandas as pd
import pytest

from barometer import targets
from barometer.build import BuildConfig, build
from barometer.estimates import COLUMNS

pytestmark = pytest.mark.slow


def _editions() -> list[tuple[str, bool]]:
    """Every edition with a report config except 2018 (built by test_build.py); the newest with its PDF."""
    from barometer.report import editions

    later = [e for e in editions() if e != "2018"]
    return [(e, e == max(later)) for e in later]


@pytest.fixture(scope="module", params=_editions(), ids=lambda p: f"{p[0]}-{'pdf' if p[1] else 'no-pdf'}")
def site(request, tmp_path_factory):
    edition, pdf = request.param
    out = tmp_path_factory.mktemp("build") / f"{edition}-dk-da"
    build(BuildConfig(edition=edition, out_dir=out, pdf=pdf, quiet=True))
    return edition, pdf, out


def test_estimates_reproduce_the_editions_targets(site):
    edition, _, out = site
    est = pd.read_csv(out / "estimates.csv", dtype={"category": str}, keep_default_na=True)
    assert list(est.columns) == COLUMNS
    check = targets.compare(est, edition, "dk")
    assert len(check) == len(targets.load_targets(edition=edition)) and len(check) >= 3
    assert check["ok"].all(), check.loc[~check["ok"]]
    assert (est["country"] == "dk").all()  # Norway exists only for 2018
    m = json.loads((out / "manifest.json").read_text())
    assert m["targets"]["reproduced"] == m["targets"]["checked"] == len(check)


def test_edition_comparison_rows(site):
    edition, _, out = site
    est = pd.read_csv(out / "estimates.csv", dtype={"category": str}, keep_default_na=False)
    trend = est[est["figure_id"].str.startswith("trend_")]
    assert set(trend["category"]) == ({"2018", "2021"} if edition == "2021" else {"2018", "2021", "2024"})
    split = trend[trend["figure_id"] == "trend_split"].set_index(["measure", "category"])
    assert round(float(split.loc[("collab_any_external", "2018"), "estimate_pct"])) == 79
    # the 2018 figure is shown apart, never joined to the later ones as a trend
    trended = trend[trend["figure_id"] != "trend_split"]
    assert trended[(trended["measure"] == "collab_any_external") & (trended["category"] == "2018")].empty
    assert (trended.groupby(["figure_id", "measure"]).size() >= 2).all()
    assert pd.to_numeric(trend["ci_low_pct"]).notna().all()
    page = (out / "udvikling.html").read_text(encoding="utf-8")
    assert "kan ikke sammenlignes" in page and "Harmonisering" in page


def test_pages_and_pdf(site):
    edition, pdf, out = site
    for name in ("index.html", "samarbejde.html", "udvikling.html", "metode.html"):
        text = (out / name).read_text(encoding="utf-8")
        assert "Syntetiske data" in text and "Traceback" not in text
    collab = (out / "samarbejde.html").read_text(encoding="utf-8")
    assert "De norske tal" not in collab and "Fonde" in collab
    if pdf:
        path = out / f"innovationsbarometer-{edition}-dk-da.pdf"
        assert path.read_bytes()[:5] == b"%PDF-"
        if shutil.which("pdftotext"):
            text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
            assert "Udviklingen siden 2. udgave" in text and "Syntetiske data" in text
