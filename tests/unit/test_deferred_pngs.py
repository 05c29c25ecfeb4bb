"""A chapter of an edition build leaves its charts' PNGs to the build (barometer.build.pngs), which
makes them while the PDF is laid out: the PNG files and the notebooks are the bytes a chapter that
drew them itself writes."""

import base64
import json

import nbformat
import pytest

from barometer import charts, display
from barometer.build import pngs
from barometer.errors import BuildError


@pytest.fixture
def deferred():
    charts.defer_pngs(True)
    yield
    charts.defer_pngs(False)


def _draw(tmp_path, collab_figure, monkeypatch):
    """One figure drawn by a chapter writing to ``tmp_path``; its notebook (as nbformat writes it)."""
    shown = []
    monkeypatch.setattr(display, "show_html", shown.append)
    collab_figure(tmp_path)
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("ch.figure(...)", id="c1")
    data, meta = display.chart_bundle(**shown[-1].chart)
    cell.outputs = [nbformat.v4.new_output("display_data", data=data, metadata=meta)]
    nb.cells = [cell]
    (tmp_path / "notebooks").mkdir(exist_ok=True)
    path = tmp_path / "notebooks" / "07_collaboration.ipynb"
    nbformat.write(nb, path)
    return path


@pytest.mark.parametrize("fig_id", ["novelty", "collab_partners", "a", "ab", "abc", "nordic_ø"])
def test_a_pending_png_is_base64_text_that_names_its_figure(fig_id):
    text = charts.pending_png(fig_id)
    assert len(text) % 4 == 0 and base64.b64decode(text, validate=True)
    notebook = json.dumps({"cells": [{"outputs": [{"data": {"image/png": text}}]}]}, indent=1)
    assert pngs.pending(notebook) == [fig_id]


def test_a_real_png_is_not_pending():
    png = base64.b64encode(b"\x89PNG\r\n\x1a\n" + bytes(range(40))).decode("ascii")
    assert pngs.pending(json.dumps({"data": {"image/png": png}}, indent=1)) == []


def test_the_build_makes_the_png_a_chapter_would_have_drawn(tmp_path, collab_figure, monkeypatch, deferred):
    path = _draw(tmp_path / "deferred", collab_figure, monkeypatch)
    figs = tmp_path / "deferred" / "figures"
    assert not (figs / "collab_partners.png").exists()  # left to the build
    assert pngs.pending(path.read_text(encoding="utf-8")) == ["collab_partners"]
    charts.defer_pngs(False)
    drawn = _draw(tmp_path / "drawn", collab_figure, monkeypatch)  # the same figure, its PNG drawn in the chapter

    made = pngs.resolve(tmp_path / "deferred", ["notebooks/07_collaboration.ipynb"], None)
    assert set(made) == {"collab_partners"} and made["collab_partners"] > 0
    assert (figs / "collab_partners.png").read_bytes() == (tmp_path / "drawn" / "figures" / "collab_partners.png").read_bytes()
    assert path.read_bytes() == drawn.read_bytes()  # the notebook, byte for byte
    assert pngs.resolve(tmp_path / "deferred", ["notebooks/07_collaboration.ipynb"], None) == {}  # nothing left


def test_the_chart_store_is_shared_with_the_workers_chart_servers(tmp_path, collab_figure, monkeypatch, deferred):
    import vl_convert as vlc

    from barometer.engine.svgserver import Memo, Store

    store = tmp_path / "charts"
    path = _draw(tmp_path / "out", collab_figure, monkeypatch)
    text = path.read_text(encoding="utf-8")
    pngs.resolve(tmp_path / "out", ["notebooks/07_collaboration.ipynb"], store)
    svg = (tmp_path / "out" / "figures" / "collab_partners.svg").read_text(encoding="utf-8")
    # the key a worker's chart server gives the kernel's call charts.png_of(svg)
    key = Memo(version=vlc.__version__).key("svg_to_png", (svg,), {"scale": charts.PNG_SCALE})
    assert Store(store).get(key) == (tmp_path / "out" / "figures" / "collab_partners.png").read_bytes()

    path.write_text(text, encoding="utf-8")  # a later build of the cached entry: from the store, not drawn
    monkeypatch.setattr(vlc, "svg_to_png", lambda *a, **k: pytest.fail("drawn again"))
    pngs.resolve(tmp_path / "out", ["notebooks/07_collaboration.ipynb"], store)
    assert not pngs.pending(path.read_text(encoding="utf-8"))


def test_a_missing_svg_is_one_line(tmp_path, collab_figure, monkeypatch, deferred):
    _draw(tmp_path, collab_figure, monkeypatch)
    (tmp_path / "figures" / "collab_partners.svg").unlink()
    with pytest.raises(BuildError, match=r"PNG of figure collab_partners .*figures/collab_partners.svg\) is missing"):
        pngs.resolve(tmp_path, ["notebooks/07_collaboration.ipynb"], None)


def test_a_notebook_with_nothing_pending_is_not_rewritten(tmp_path, collab_figure, monkeypatch):
    path = _draw(tmp_path, collab_figure, monkeypatch)  # not deferred: its PNG is in it
    before = path.stat()
    assert pngs.resolve(tmp_path, ["notebooks/07_collaboration.ipynb"], None) == {}
    assert path.stat().st_ino == before.st_ino and path.stat().st_mtime_ns == before.st_mtime_ns
    assert (tmp_path / "figures" / "collab_partners.png").is_file()


def test_without_an_output_folder_the_chapter_draws_its_png(collab_figure, monkeypatch, deferred):
    shown = []
    monkeypatch.setattr(display, "show_html", shown.append)
    collab_figure()  # an interactive run: no figures/ folder to make it from
    png = shown[-1].chart["png"]
    assert isinstance(png, bytes) and png[:4] == b"\x89PNG"
