"""Items of one kind shown as one box (``{group: [...]}`` in a chapter's slots;
barometer.content.group_problem and render_group): a named landmark with a heading
that says once what the items are, a card per item that shows it as its own box does
(a summary as reported speech under the person's name, a verbatim quote with its
source and "Del citat", a case with the link to its page) and keeps its anchor."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from barometer import display
from barometer.content import ContentError, group_problem, load_content, render_group

EDITION = "2018"
FOLDER = {"quote": "quotes", "case": "cases", "tool": "tools", "advice": "advice"}


def quote(id: str, name: str, **extra) -> dict:
    return {"id": id, "kind": "quote", "words": "summary", "chapter": "collaboration", "name": name,
            "role": {"da": "leder", "en": "manager"}, "organisation": {"da": "Kommune", "en": "Municipality"},
            "summary": {"da": f"{name} mener, at samarbejde betaler sig.", "en": f"{name} argues that it pays."},
            **extra}


def verbatim(id: str, name: str) -> dict:
    item = {k: v for k, v in quote(id, name).items() if k != "summary"}
    return {**item, "words": "verbatim", "quote": {"da": f"Vi lærer af andre, {name}.", "en": "We learn from others."},
            "original_lang": "da", "source": "Innovationsbarometeret, 2. udgave", "date": "2018-11"}


def library(tmp_path: Path, *items: dict):
    for item in items:
        path = tmp_path / EDITION / FOLDER[item["kind"]] / f"{item['id']}.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump(item, allow_unicode=True), encoding="utf-8")
    return load_content(EDITION, tmp_path)


def ids_named(html: str) -> list[str]:
    return re.search(r'<aside[^>]*aria-labelledby="([^"]+)"', html).group(1).split()


@pytest.mark.parametrize("members,problem", [
    ([("a", "case", None), ("b", "case", None)], None),
    ([("a", "quote", "summary"), ("b", "quote", "summary"), ("c", "quote", "summary")], None),
    ([("a", "case", None)], "two or more items"),
    ([("a", "case", None), ("a", "case", None)], "'a' listed twice"),
    ([("a", "case", None), ("x", None, None)], "'x' is not a content item"),
    ([("a", "case", None), ("b", "quote", "summary")], "one kind"),
    ([("a", "factbox", None), ("b", "factbox", None)], "fact box stands before its own figure"),
    ([("a", "quote", "summary"), ("b", "quote", "verbatim")], "not both"),
])
def test_what_a_group_may_hold(members, problem):
    found = group_problem(members)
    assert (found is None) if problem is None else (problem in found), found


def test_a_group_of_summaries_is_one_named_box_of_reported_speech(tmp_path):
    lib = library(tmp_path, quote("a-person", "A Person"), quote("b-person", "B Person"))
    html = render_group([lib.get("a-person"), lib.get("b-person")], "da")
    assert html.count("<aside") == 1 and 'data-words="summary"' in html.split(">")[0]
    # the heading says once whose words they are, and names the landmark with the persons' names
    assert re.search(r'<h3 class="content-kind content-group-title" id="([^"]+)">Redaktionens referater</h3>', html)
    assert html.count("Redaktionens referat") == 1
    named = ids_named(html)
    assert named[1:] == ["quote-a-person-title", "quote-b-person-title"]
    assert all(f'id="{i}"' in html for i in named)  # every id it names is there
    for pid, name in (("a-person", "A Person"), ("b-person", "B Person")):
        card = re.search(rf'<li class="content-card content-quote" id="quote-{pid}" data-words="summary">.*?</li>',
                         html, flags=re.S).group(0)  # the item's anchor, as its own box had it
        assert f'<h4 class="content-title" id="quote-{pid}-title">{name}</h4>' in card
        assert '<p class="content-person">leder, Kommune</p>' in card
        assert f"{name} mener, at samarbejde betaler sig." in card
    assert "<blockquote" not in html and "»" not in html and "“" not in html and "&quot;" not in html
    assert "share-link" not in html and "Citat" not in html  # our words are not shared as a quote


def test_a_group_of_verbatim_quotes_keeps_each_quote_its_source_and_share_link(tmp_path):
    lib = library(tmp_path, verbatim("a-person", "A Person"), verbatim("b-person", "B Person"))
    html = render_group([lib.get("a-person"), lib.get("b-person")], "en")
    assert ">Quotes</h3>" in html and 'data-words="verbatim"' in html.split(">")[0]
    assert html.count("<blockquote") == 2 and html.count("Innovationsbarometeret, 2. udgave, 2018-11") == 2
    for pid in ("a-person", "b-person"):
        assert re.search(rf'<a class="share-link" href="#quote-{pid}"[^>]*>Share quote</a>', html)
        assert f'id="quote-{pid}"' in html
    assert "Translated from Danish" in html


def test_a_group_of_cases_links_each_case_page_and_escapes_its_text(tmp_path):
    case = {"kind": "case", "chapter": "collaboration", "summary": {"da": "Kort.", "en": "Short."},
            "body": {"da": "Afsnit.", "en": "Paragraph."}, "partners": ["municipal"], "facts": [], "source": "X"}
    lib = library(tmp_path, {**case, "id": "one", "title": {"da": "En <script>alert(1)</script>", "en": "One"}},
                  {**case, "id": "two", "title": {"da": "To", "en": "Two"}})
    html = render_group([lib.get("one"), lib.get("two")], "da", case_href=lambda i: f"../cases/{i}.html")
    assert ">Cases</h3>" in html and 'class="content-box content-case content-group"' in html
    assert '<a href="../cases/one.html">Læs hele casen</a>' in html and '<a href="../cases/two.html">' in html
    assert 'id="case-one"' in html and 'id="case-two"' in html  # a case page's way back lands on its card
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_the_shipped_groups_render_in_both_languages():
    lib = load_content(EDITION)
    for ids, da, en in ((["sof-project-model", "innovation-internship"], "Værktøjer", "Tools"),
                        (["combine-professions", "boundary-crossing"], "Det siger eksperterne", "Expert advice")):
        for lang, label in (("da", da), ("en", en)):
            html = render_group([lib.get(i) for i in ids], lang)
            assert f">{label}</h3>" in html and html.count('<li class="content-card') == 2
    advice = render_group([lib.get("combine-professions"), lib.get("boundary-crossing")], "da")
    assert advice.count('class="content-person">') == 2  # each expert named, with the teaser and where the advice is
    assert '<a href="advice/boundary-crossing.html">' in advice


def test_a_mixed_group_is_refused_with_one_line(tmp_path):
    lib = library(tmp_path, quote("a-person", "A Person"), verbatim("b-person", "B Person"))
    with pytest.raises(ContentError) as exc:
        render_group([lib.get("a-person"), lib.get("b-person")], "da")
    assert "group ['a-person', 'b-person']" in str(exc.value) and "\n" not in str(exc.value)


def test_a_slot_shows_a_group_as_one_box(monkeypatch):
    from barometer.report import Chapter

    ch = Chapter("collaboration")
    shown = []
    monkeypatch.setattr(display, "show_html", shown.append)
    monkeypatch.setitem(ch.meta, "slots", {"x": [{"group": ["open-data-dk", "safer-train-stations"]},
                                                 "freeze-dried-blood"]})
    assert ch.slot("x") == {}
    assert len(shown) == 2 and 'id="case-open-data-dk-group"' in shown[0] and shown[0].count("<li") == 2
    assert 'id="case-freeze-dried-blood"' in shown[1] and "content-group" not in shown[1]
