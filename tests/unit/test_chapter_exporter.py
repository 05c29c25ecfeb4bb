"""The chapter exporter is nbconvert's HTML exporter without its BeautifulSoup pass:
the same page (the same tree), with the inline SVG kept as vl-convert wrote it."""

import nbformat
from bs4 import BeautifulSoup
from nbconvert import HTMLExporter

from barometer.build import render

SVG = '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="5" viewBox="0 0 10 5"><rect width="10" height="5"/></svg>'


def _notebook():
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# Kapitel\n\nTekst med *fremhævning* og [et link](a.html)."),
                nbformat.v4.new_code_cell("x", outputs=[
                    nbformat.v4.new_output("display_data", data={"text/html": f'<figure class="report-figure">{SVG}</figure>',
                                                                 "text/plain": "<figure>"}),
                    nbformat.v4.new_output("stream", name="stdout", text="79 pct.\n")]),
                nbformat.v4.new_code_cell("y", metadata={"tags": ["report-hide"]},
                                          outputs=[nbformat.v4.new_output("stream", name="stdout", text="skjult\n")])]
    return nb


def test_the_page_is_nbconverts_page_without_its_rewrite():
    ours, _ = render.exporter().from_notebook_node(_notebook())
    theirs = HTMLExporter(config=render.exporter().config, template_name="chapter",
                          extra_template_basedirs=[str(render.TEMPLATE_DIR)])
    from nbconvert.preprocessors import TagRemovePreprocessor

    theirs.register_preprocessor(TagRemovePreprocessor(config=theirs.config), enabled=True)
    expected, _ = theirs.from_notebook_node(_notebook())
    assert str(BeautifulSoup(ours, features="html.parser")) == expected  # the same tree
    assert SVG in ours and "viewbox=" in expected  # ours keeps the SVG as written; the soup lowercased it
    assert "79 pct." in ours and "skjult" not in ours and "fremhævning" in ours
