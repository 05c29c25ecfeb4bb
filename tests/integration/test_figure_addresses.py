"""Stable figure addresses (issue 14): a figure's anchor (``#fig-<slug of id>``) and its page
(``figur/<id>.html``) are named by its id, never by its number.  The 2018 website is built in a
scratch copy of the checkout, every figure address is recorded, a new figure is inserted before
another (in the edition's config and its chapter's notebook), so that every later figure is
numbered again, and the rebuilt website still has every old address, showing the same figure."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from scratchroot import scratch_root

from barometer.paths import ROOT

pytestmark = pytest.mark.slow

NEW_ID = "novelty_first_mover"
NEW_FIGURE = f"""  {NEW_ID}:  # inserted by tests/integration/test_figure_addresses.py
    chapter: types
    measures: [novelty_first]
    population: innovations
    question_var: novelty
    headline:
      da: "{{novelty_first}} af innovationerne var de første af deres slags"
      en: "{{novelty_first}} of innovations were the first of their kind"
"""
BEFORE = "  novelty:\n    chapter: types\n"
_FIGURE = re.compile(r"<figure\b[^>]*>")


def _build(root: Path, out: Path) -> None:
    r = subprocess.run([sys.executable, str(ROOT / "build.py"), "--no-pdf", "--out", str(out), "--cache-dir",
                        str(root / "_build" / "test-cache"), "--jobs", "2", "--quiet"],
                       cwd=root, env={**os.environ, "BAROMETER_ROOT": str(root)}, capture_output=True, text=True,
                       timeout=900)
    assert r.returncode == 0, r.stderr[-3000:]


def _figures(path: Path) -> dict[str, str]:
    """A page's figure blocks: element id -> figure id."""
    out = {}
    for m in _FIGURE.finditer(path.read_text(encoding="utf-8")):
        tag = m.group(0)
        if 'class="report-figure"' in tag:
            anchor = re.search(r'(?<![\w-])id="([^"]+)"', tag).group(1)
            out[anchor] = re.search(r'data-figure-id="([^"]+)"', tag).group(1)
    return out


def addresses(out: Path) -> dict[str, str]:
    """Every published figure address of a website -> the figure id it shows: each chapter
    page's figure anchors (``typer.html#fig-novelty``) and each figure page (``figur/novelty.html``)."""
    found = {}
    for page in sorted(out.glob("*.html")):
        for anchor, fig_id in _figures(page).items():
            found[f"{page.name}#{anchor}"] = fig_id
    for page in sorted((out / "figur").glob("*.html")):
        shown = set(_figures(page).values())
        assert len(shown) == 1, page
        found[page.relative_to(out).as_posix()] = shown.pop()
    return found


def resolve(out: Path, address: str) -> str | None:
    """The figure id an address shows in a website (None: it does not resolve)."""
    path, _, anchor = address.partition("#")
    page = out / path
    if not page.is_file():
        return None
    shown = _figures(page)
    if anchor:
        return shown.get(anchor)
    return next(iter(shown.values())) if len(shown) == 1 else None


def _number(out: Path, fig_id: str) -> int:
    return json.loads((out / "figures" / f"{fig_id}.json").read_text(encoding="utf-8"))["number"]


@pytest.fixture(scope="module")
def builds(tmp_path_factory):
    import nbformat

    root = scratch_root(tmp_path_factory, "addresses")
    first, second = root / "_build" / "first", root / "_build" / "second"
    _build(root, first)
    config = root / "data" / "report" / "2018.yaml"
    text = config.read_text(encoding="utf-8")
    assert text.count(BEFORE) == 1
    config.write_text(text.replace(BEFORE, NEW_FIGURE + BEFORE), encoding="utf-8")
    path = root / "notebooks" / "02_types.ipynb"
    nb = nbformat.read(path, as_version=4)
    at = next(i for i, c in enumerate(nb.cells) if c.cell_type == "code" and 'ch.show("novelty")' in c.source)
    nb.cells.insert(at, nbformat.v4.new_code_cell(f'# Figure: first movers (inserted by a test)\n'
                                                  f'if "{NEW_ID}" in ch.figures():\n    ch.show("{NEW_ID}")'))
    nbformat.write(nb, path)
    _build(root, second)
    return first, second


def test_every_old_address_still_shows_the_same_figure(builds):
    first, second = builds
    before = addresses(first)
    assert len([a for a in before if "#" in a]) >= 15 and len([a for a in before if a.startswith("figur/")]) >= 15
    moved = {fig_id: _number(second, fig_id) - _number(first, fig_id) for fig_id in set(before.values())}
    # the inserted figure took the number of the one after it: that one and every later one moved up
    assert moved["novelty"] == 1 and moved["collab_partners"] == 1 and moved["innovation_types"] == 0
    broken = {a: (fig_id, resolve(second, a)) for a, fig_id in before.items() if resolve(second, a) != fig_id}
    assert not broken, broken
    # the new figure has its own addresses beside the old ones
    after = addresses(second)
    assert after[f"figur/{NEW_ID}.html"] == NEW_ID and after["typer.html#fig-novelty-first-mover"] == NEW_ID
    assert set(before) < set(after)


def test_every_figure_page_links_back_to_its_anchor_and_each_anchor_to_its_page(builds):
    from barometer.permalink import figure_page
    from barometer.reportconfig import figure_anchor

    _, second = builds
    pages = sorted((second / "figur").glob("*.html"))
    assert len(pages) >= 15
    for page in pages:
        back = re.search(r'<a class="figure-page-link" href="\.\./([^"]+)"', page.read_text(encoding="utf-8")).group(1)
        assert back.endswith("#" + figure_anchor(page.stem)) and resolve(second, back) == page.stem, page
        chapter = (second / back.split("#")[0]).read_text(encoding="utf-8")
        assert f'<a class="figure-page-link" href="{figure_page(page.stem)}">' in chapter, page
