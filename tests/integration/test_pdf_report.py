"""The PDF of the 2018 edition as an annual report (issue 12): tagged (PDF/UA-1) with its
language, title and an alt text per chart; a cover with publisher, title, edition and the
synthetic-data notice; contents with page numbers and without "Forside"; no page that holds a
title alone; the cases flowing rather than one per page; no page less than half full (measured
from the rendered pages' ink) and no text under 7 pt, chart labels included, in the 2018 and the
2024 edition; the build's commit only in the colophon.  Uses poppler's ``pdfinfo``,
``pdftotext`` and ``pdftoppm`` (skipped without them)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import zlib
from pathlib import Path

import pytest

from barometer import content, i18n

pytestmark = pytest.mark.slow

if not all(shutil.which(tool) for tool in ("pdfinfo", "pdftotext", "pdftoppm")):
    pytest.skip("the PDF checks need poppler's pdfinfo, pdftotext and pdftoppm (apt-get install poppler-utils)",
                allow_module_level=True)

LANG = "da"
#: DejaVu Sans: a word's box in pdftotext -bbox is ascent + descent = 1.164 em high
EM_BOX = 1.164


@pytest.fixture(scope="module")
def pdf(built_2018_dk_da) -> Path:
    (path,) = built_2018_dk_da.glob("*.pdf")
    return path


@pytest.fixture(scope="module")
def pages(pdf) -> list[str]:
    return _page_texts(pdf)


def _page_texts(pdf: Path) -> list[str]:
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    return text.split("\f")[:-1]


@pytest.fixture(scope="module")
def pdfs(pdf, tmp_path_factory) -> dict[str, Path]:
    """The 2018 Danish PDF, the 2024 edition's (a different set of chapters and figures) and the
    2018 English one (other words, other page breaks)."""
    from barometer.build import BuildConfig, build

    out = {"2018-dk-da": pdf}
    for edition, lang in (("2024", "da"), ("2018", "en")):
        folder = tmp_path_factory.mktemp(f"pdf-{edition}-{lang}") / f"{edition}-dk-{lang}"
        (out[folder.name],) = build(BuildConfig(edition=edition, lang=lang, out_dir=folder, quiet=True,
                                                cache_dir=folder.parent / "cache")).glob("*.pdf")
    return out


#: A4 with print.css's margins (22 mm top, 24 mm bottom, 20 mm at the sides): the text area, in mm
PAGE_MM, TEXT_AREA_MM = (210, 297), (20, 22, 190, 273)
#: a pixel darker than this (0 black, 255 white) is ink; the pages' washes and rules are lighter
#: or darker, the white page is 255
INK = 200


def page_fills(pdf: Path, tmp: Path, dpi: int = 30) -> list[float]:
    """For each page, how far down the text area its content reaches (0 to 1), from the page
    rendered in grey (``pdftoppm``): the lowest row of the text area with ink."""
    import numpy as np
    from PIL import Image

    subprocess.run(["pdftoppm", "-gray", "-r", str(dpi), str(pdf), str(tmp / "p")], check=True)
    fills = []
    for f in sorted(tmp.glob("p-*.pgm")):
        a = np.asarray(Image.open(f))
        h, w = a.shape
        x0, y0, x1, y1 = TEXT_AREA_MM
        area = a[round(h * y0 / PAGE_MM[1]):round(h * y1 / PAGE_MM[1]), round(w * x0 / PAGE_MM[0]):round(w * x1 / PAGE_MM[0])]
        rows = np.nonzero((area < INK).any(axis=1))[0]
        fills.append(float((rows[-1] + 1) / area.shape[0]) if len(rows) else 0.0)
    return fills


@pytest.mark.parametrize("name", ["2018-dk-da", "2024-dk-da", "2018-dk-en"])
def test_no_page_is_less_than_half_full(pdfs, name, tmp_path):
    """Every page between the contents and the colophon reaches at least half way down its
    text area (the cover, the contents and a colophon on a page of its own are exempt)."""
    pdf, lang = pdfs[name], name.rsplit("-", 1)[1]
    texts = _page_texts(pdf)
    fills = page_fills(pdf, tmp_path)
    assert len(fills) == len(texts)
    first = next(i for i, t in enumerate(texts) if i > 0 and i18n.t("contents", lang) not in t)  # after the contents
    last = len(texts) - 1 if _colophon_alone(texts[-1], lang) else len(texts)
    short = [(i + 1, round(f, 2)) for i, f in enumerate(fills[first:last], first) if f < 0.5]
    assert not short, f"{name}: pages less than half full (page, fill): {short}; all: {[round(f, 2) for f in fills]}"


def _colophon_alone(text: str, lang: str = LANG) -> bool:
    body = [ln.strip() for ln in text.splitlines() if ln.strip()][1:]  # without the running header
    return bool(body) and body[0] == i18n.t("colophon_title", lang)


def _objects(pdf: Path) -> bytes:
    """The PDF's bytes with every Flate stream decompressed (the catalogue and the
    structure tree are in object streams)."""
    raw = pdf.read_bytes()
    parts = [raw]
    for m in re.finditer(rb"stream\r?\n(.*?)endstream", raw, re.S):
        try:
            parts.append(zlib.decompress(m.group(1)))
        except zlib.error:
            pass
    return b"\n".join(parts)


def test_pdf_is_tagged_with_language_title_and_chart_alt_texts(pdf, built_2018_dk_da):
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    fields = dict(line.split(":", 1) for line in info.splitlines() if ":" in line)
    assert fields["Tagged"].strip() == "yes", info
    assert fields["Title"].strip().startswith(i18n.t("report_title", LANG)), info
    assert fields["Author"].strip() == i18n.t("publisher", LANG), info
    objs = _objects(pdf)
    assert re.search(rb"/Lang\s*\(da\)", objs), "no document language"
    assert re.search(rb"/DisplayDocTitle\s+true", objs)
    n_figures = len([p for p in (built_2018_dk_da / "figures").glob("*.json") if not p.name.endswith(".vl.json")])
    alts = re.findall(rb"/Alt\s*(?:\([^)]*\)|<[0-9a-fA-F]+>)", objs)
    assert len(alts) >= n_figures, (len(alts), n_figures)


def test_cover_and_colophon(pages, built_2018_dk_da):
    cover = " ".join(pages[0].split())
    for needle in (i18n.t("publisher", LANG), i18n.t("report_title", LANG), "2018", "2. udgave",
                   " ".join(i18n.t("synthetic_banner", LANG).split())):
        assert needle in cover, (needle, cover)
    commit = json.loads((built_2018_dk_da / "manifest.json").read_text())["git_commit"][:10]
    colophon = " ".join(pages[-1].split())
    assert i18n.t("colophon_title", LANG) in colophon
    assert " ".join(i18n.t("licence", LANG).split()) in colophon  # the licence the publisher confirms
    if commit:
        assert commit in colophon
        assert [i for i, p in enumerate(pages) if commit in p] == [len(pages) - 1], "the commit outside the colophon"


def test_contents_have_page_numbers_and_no_front_page_entry(pages):
    toc = pages[1]
    assert i18n.t("contents", LANG) in toc
    entries = re.findall(r"^\s*(\S.*?)\s*\.{3,}\s*(\d+)\s*$", toc, re.M)
    assert len(entries) >= 20, toc[:500]
    assert not any(title.startswith("Forside") for title, _ in entries), entries[:3]
    numbers = [int(n) for _, n in entries]
    assert numbers == sorted(numbers) and numbers[-1] == len(pages), numbers


def test_no_title_alone_on_a_page_and_cases_flow(pages):
    for i, page in enumerate(pages[1:], 2):
        body = [ln for ln in page.splitlines() if ln.strip()][1:-2]  # without the running header and footer
        assert len(" ".join(body).split()) >= 40, f"page {i} is almost empty: {body[:3]}"
    cases_title = i18n.t("cases_title", LANG)
    start = next(i for i, p in enumerate(pages) if i > 1 and cases_title in p)  # after the contents
    n_items = sum(1 for kind in ("case", "advice") for _ in content.load_content("2018").items(kind=kind))
    n_pages = len(pages) - 1 - start  # up to the colophon
    assert n_pages < 0.8 * n_items, f"{n_items} cases and advice items take {n_pages} pages"


@pytest.mark.parametrize("name", ["2018-dk-da", "2024-dk-da", "2018-dk-en"])
def test_no_text_under_7_pt(pdfs, name):
    """Chart labels included: a chart is never scaled down so far that its text drops under 7 pt."""
    out = subprocess.run(["pdftotext", "-bbox", str(pdfs[name]), "-"], capture_output=True, text=True,
                         check=True).stdout
    small = []
    for number, page in enumerate(out.split("<page ")[1:], 1):
        for y0, y1, word in re.findall(r'<word xMin="[\d.]+" yMin="([\d.]+)" xMax="[\d.]+" yMax="([\d.]+)">([^<]*)</word>',
                                       page):
            size = (float(y1) - float(y0)) / EM_BOX
            if size < 6.9:
                small.append((number, word, round(size, 1)))
    assert not small, f"{len(small)} words under 7 pt, e.g. {small[:8]}"
