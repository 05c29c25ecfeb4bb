"""A chapter run by the build shows its cases, quotes, tools and groups as marks that the build
fills in when it renders the page (barometer.content.mark and fill_marks): the chapter's
notebook does not read those files, so editing one re-runs no notebook, and the page and the
published notebook are the ones a run that rendered the boxes itself would have made."""

from __future__ import annotations

import json

import nbformat
import pytest

from barometer import display
from barometer.content import ContentError, fill_marks, load_content, mark, render_group, render_item

LIB = load_content("2018")


def test_a_mark_is_filled_with_the_box_or_the_group_it_stands_for():
    page = f"<p>a</p>{mark(['freeze-dried-blood'])}<p>b</p>{mark(['open-data-dk', 'safer-train-stations'], group=True)}"
    filled = fill_marks(page, LIB, "en")
    assert filled == ("<p>a</p>" + render_item(LIB.get("freeze-dried-blood"), "en") + "<p>b</p>"
                      + render_group([LIB.get("open-data-dk"), LIB.get("safer-train-stations")], "en"))
    assert "barometer-content" not in filled
    assert fill_marks("<p>no marks</p>", LIB, "da") == "<p>no marks</p>"


def _notebook(html: str) -> str:
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("ch.content('x')", id="c1")
    cell.outputs = [nbformat.v4.new_output("display_data", data={"text/html": html, "text/plain": "<HTML>"})]
    nb.cells = [cell]
    return nbformat.writes(nb)


@pytest.mark.parametrize("ids,group", [(["freeze-dried-blood"], False), (["astrid-laessoe"], False),
                                        (["open-data-dk", "safer-train-stations"], True)])
def test_in_a_notebook_the_box_is_written_as_nbformat_writes_an_output(ids, group):
    items = [LIB.get(i) for i in ids]
    box = str(render_group(items, "da") if group else render_item(items[0], "da"))
    assert "\n" in box and '"' in box  # lines and quotes to escape
    filled = fill_marks(_notebook(mark(ids, group)), LIB, "da", json_string=True)
    assert filled == _notebook(box)  # byte for byte
    nbformat.validate(nbformat.reads(filled, as_version=4))
    assert "".join(json.loads(filled)["cells"][0]["outputs"][0]["data"]["text/html"]) == box


def test_an_unknown_id_is_one_clear_line_and_a_mark_takes_only_plain_ids():
    with pytest.raises(ContentError) as exc:
        fill_marks(mark(["no-such-case"]), LIB, "da")
    assert "no-such-case" in str(exc.value) and "\n" not in str(exc.value)
    with pytest.raises(ContentError):
        mark(['x" onload="y'])


def test_a_chapter_in_a_build_marks_cases_and_groups_and_renders_them_in_the_lab(monkeypatch, tmp_path):
    from barometer.report import Chapter

    shown = []
    monkeypatch.setattr(display, "show_html", shown.append)
    monkeypatch.setattr(display, "record_use", lambda path: shown.append(("uses", path.name)))
    built, lab = Chapter("collaboration", output_dir=str(tmp_path)), Chapter("collaboration")
    built.content("freeze-dried-blood")
    built.content_group(["open-data-dk", "safer-train-stations"])
    assert shown == [mark(["freeze-dried-blood"]), mark(["open-data-dk", "safer-train-stations"], group=True)]
    shown.clear()
    lab.content("freeze-dried-blood")
    assert shown == [("uses", "freeze-dried-blood.yaml"), render_item(LIB.get("freeze-dried-blood"), "da")]
    with pytest.raises(ContentError):  # a group that cannot be shown fails in the notebook, as before
        built.content_group(["open-data-dk"])
