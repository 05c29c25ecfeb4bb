"""One Jinja environment for pages and blocks; the PDF lists figures from the chapters' metadata files."""

import json

from markupsafe import Markup

from barometer import templates
from barometer.build import config, render
from barometer.paths import TEMPLATE_DIR

HOSTILE = '<script>alert("x")</script>\'&'


def test_build_and_chapters_share_one_environment_with_autoescape():
    env = templates.environment()
    assert render.jinja() is env and env.autoescape("blocks/figure.html.j2") and env.autoescape("site/page.html.j2")
    assert all((TEMPLATE_DIR / t).is_file() for t in templates.BLOCKS)
    heading = str(templates.macro("blocks/text.html.j2", "heading")(HOSTILE, 2))
    assert heading == "<h2>&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&#x27;&amp;</h2>"
    prose = str(templates.macro("blocks/text.html.j2", "prose")(Markup('<a class="xref" href="#f">figur 1</a>')))
    assert prose == '<p class="prose"><a class="xref" href="#f">figur 1</a></p>'
    table = templates.render("blocks/data_table.html.j2", summary="s", head=[HOSTILE], rows=[[HOSTILE, "1"]],
                             number_from=1)
    assert "<script" not in table and '<td class="num">1</td>' in table


def test_pdf_lists_figures_from_their_metadata_files(tmp_path):
    figs = tmp_path / "figures"
    figs.mkdir()
    for fid, n, chapter in (("b", 3, "types"), ("a", 2, "types"), ("c", 1, "front")):
        (figs / f"{fid}.json").write_text(json.dumps({"id": fid, "number": n, "anchor": f"fig-{fid}",
                                                      "headline": f"Headline {fid} <&>", "caption": "",
                                                      "chapter": chapter}), encoding="utf-8")
    (figs / "a.vl.json").write_text('{"mark": "bar"}', encoding="utf-8")  # a chart spec, not metadata
    listed = render.figure_list(config.BuildConfig(lang="en"), tmp_path)
    assert listed == {"front": [{"anchor": "fig-c", "number": "Figure 1", "label": "Headline c <&>"}],
                      "types": [{"anchor": "fig-a", "number": "Figure 2", "label": "Headline a <&>"},
                                {"anchor": "fig-b", "number": "Figure 3", "label": "Headline b <&>"}]}
