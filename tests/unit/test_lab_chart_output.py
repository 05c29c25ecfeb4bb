"""A figure's notebook output carries its chart for JupyterLab; the built page does not change."""

import base64

import nbformat

from barometer import display


def _outputs(markup):
    shown = []
    import IPython.display

    orig = IPython.display.display
    IPython.display.display = lambda obj, **kw: shown.append((obj, kw))
    try:
        display.show_html(markup)
    finally:
        IPython.display.display = orig
    return shown


def test_a_figure_shows_its_block_then_a_vega_lite_svg_png_text_bundle_tagged_lab_only():
    spec = {"$schema": "https://vega.github.io/schema/vega-lite/v6.json", "mark": "bar"}
    markup = display.FigureMarkup("<figure>x</figure>", spec=spec, svg="<svg/>", png=b"\x89PNG", text="Figur 1: x")
    (block, _), (data, kw) = _outputs(markup)
    assert block.data == "<figure>x</figure>"
    assert kw == {"metadata": {"tags": [display.LAB_ONLY_TAG]}, "raw": True}
    assert data[display.VEGALITE_MIME]["mark"] == "bar"
    assert data[display.VEGALITE_MIME]["$schema"].endswith("/v5.json") and spec["$schema"].endswith("/v6.json")
    assert data["image/svg+xml"] == "<svg/>" and base64.b64decode(data["image/png"]) == b"\x89PNG"
    assert data["text/plain"] == "Figur 1: x"
    assert len(_outputs("<p>prose</p>")) == 1  # anything else: one output, as before


def test_the_page_exporter_drops_the_lab_output():
    from barometer.build.render import exporter

    data, meta = display.chart_bundle({"mark": "bar"}, "<svg id='lab'/>", b"png", "Figur 1")
    html = nbformat.v4.new_output("display_data", data={"text/html": "<figure>block</figure>", "text/plain": "x"})
    lab = nbformat.v4.new_output("display_data", data=data, metadata=meta)
    with_lab = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("ch.show('x')", outputs=[html, lab])])
    without = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("ch.show('x')", outputs=[html])])
    body, _ = exporter().from_notebook_node(with_lab)
    assert "<figure>block</figure>" in body and "id='lab'" not in body
    assert body == exporter().from_notebook_node(without)[0]
