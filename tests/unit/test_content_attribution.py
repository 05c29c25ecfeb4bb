"""Whose words a content item is (barometer.content.check_attribution and the schema):
editorial text never stands under a person's name, a summary is reported speech, a
verbatim quote has its source and date and a "Del citat" permalink."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from barometer.content import ContentError, load_content, render_item, render_page_body

EDITION = "2018"

QUOTE = {
    "id": "a-person",
    "kind": "quote",
    "words": "summary",
    "chapter": "collaboration",
    "name": "A Person",
    "role": {"da": "leder", "en": "manager"},
    "organisation": {"da": "Kommune", "en": "Municipality"},
    "summary": {"da": "A Person mener, at samarbejde betaler sig.", "en": "A Person argues that collaboration pays."},
}
VERBATIM = {
    **{k: v for k, v in QUOTE.items() if k != "summary"},
    "id": "b-person",
    "words": "verbatim",
    "quote": {"da": "Vi lærer mest af andre.", "en": "We learn most from others."},
    "original_lang": "da",
    "source": "Innovationsbarometeret, 2. udgave",
    "date": "2018-11",
}
ADVICE = {
    "id": "an-expert",
    "kind": "advice",
    "chapter": "collaboration",
    "title": {"da": "Arbejd på tværs", "en": "Work across"},
    "expert": "An Expert",
    "role": {"da": "forsker", "en": "researcher"},
    "summary": {"da": "An Expert forsker i ledelse.", "en": "An Expert researches leadership."},
    "source": "Innovationsbarometeret, 2. udgave",
}
CASE = {
    "id": "a-case",
    "kind": "case",
    "chapter": "collaboration",
    "title": {"da": "Titel", "en": "Title"},
    "summary": {"da": "Kort resumé.", "en": "Short summary."},
    "body": {"da": "Første afsnit.", "en": "First paragraph."},
    "lessons": {"words": "editorial", "text": {"da": "Vores betragtning.", "en": "Our reflection."}},
    "partners": ["municipal"],
    "facts": [],
    "source": "Innovationsbarometeret",
}
FOLDER = {"quote": "quotes", "advice": "advice", "case": "cases"}


def write(root: Path, item: dict) -> None:
    path = root / EDITION / FOLDER[item["kind"]] / f"{item['id']}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(item, allow_unicode=True), encoding="utf-8")


def load_one(tmp_path: Path, item: dict):
    write(tmp_path, item)
    return load_content(EDITION, tmp_path).get(item["id"])


def refused(tmp_path: Path, item: dict) -> str:
    write(tmp_path, item)
    with pytest.raises(ContentError) as exc:
        load_content(EDITION, tmp_path)
    return str(exc.value)


# --------------------------------------------------------------------------- refusals


def test_quote_with_editorial_words_is_refused(tmp_path):
    message = refused(tmp_path, {**QUOTE, "words": "editorial"})
    assert "'editorial' text cannot stand under A Person's name" in message


def test_quote_without_words_is_refused(tmp_path):
    item = {k: v for k, v in QUOTE.items() if k != "words"}
    assert "field 'words' is required" in refused(tmp_path, item)


def test_summary_in_quote_marks_is_refused(tmp_path):
    item = {**QUOTE, "summary": {"da": "»Samarbejde betaler sig,« siger hun.", "en": "She says it pays."}}
    message = refused(tmp_path, item)
    assert "field 'summary.da': a summary is reported speech and has no quote marks" in message


def test_summary_mentioning_the_editors_is_refused(tmp_path):
    item = {**QUOTE, "summary": {"da": "Redaktionen mener, at det betaler sig.", "en": "It pays."}}
    assert "mentions the editors ('Redaktion') under A Person's name" in refused(tmp_path, item)


@pytest.mark.parametrize("missing", ["source", "date", "original_lang", "quote"])
def test_verbatim_quote_without_its_source_is_refused(tmp_path, missing):
    item = {k: v for k, v in VERBATIM.items() if k != missing}
    assert f"field '{missing}' is required" in refused(tmp_path, item)


def test_advice_text_of_ours_under_the_expert_is_refused(tmp_path):
    item = {**ADVICE, "body": {"da": "1. Øv jer i det små.", "en": "1. Practise on a small scale."}}
    message = refused(tmp_path, item)
    assert "advice text under An Expert's name must be the expert's own words" in message


def test_advice_without_where_the_advice_is_is_refused(tmp_path):
    item = {k: v for k, v in ADVICE.items() if k != "source"}
    assert "field 'source' is required" in refused(tmp_path, item)


def test_editors_note_under_the_expert_is_refused(tmp_path):
    item = {**ADVICE, "summary": {"da": "Skrevet af redaktionen.", "en": "Written by the editors."}}
    message = refused(tmp_path, item)
    assert "field 'summary.da': mentions the editors" in message
    assert "field 'summary.en': mentions the editors" in message


def test_case_lessons_not_marked_editorial_are_refused(tmp_path):
    item = {**CASE, "lessons": {"words": "summary", "text": CASE["lessons"]["text"]}}
    assert "field 'lessons.words': the lessons are the editors' reflections" in refused(tmp_path, item)


def test_lessons_inside_a_case_body_are_refused(tmp_path):
    item = {**CASE, "body": {"da": "Tekst.\n\n## Hvad kan andre lære?\n\nNoget.", "en": "Text."}}
    assert "field 'body.da': holds the editors' 'Hvad kan andre lære'" in refused(tmp_path, item)


# --------------------------------------------------------------------------- rendering


def test_summary_is_reported_speech_marked_once(tmp_path):
    item = load_one(tmp_path, QUOTE)
    html = render_item(item, "da")
    assert "<blockquote" not in html and "»" not in html and "&quot;" not in html
    assert html.count("Redaktionens referat") == 1  # the visible label, which is also the box's accessible name:
    label_id = re.search(r'<p class="content-kind" id="([^"]+)">Redaktionens referat</p>', html).group(1)
    assert re.search(rf'<aside[^>]*aria-labelledby="{label_id} [^"]+-title"', html), html[:300]
    assert "share-link" not in html  # only the person's own words are shared as a quote
    assert "Citat" not in html


def test_verbatim_quote_has_source_date_and_share_permalink(tmp_path):
    item = load_one(tmp_path, VERBATIM)
    da, en = render_item(item, "da"), render_item(item, "en")
    assert 'id="quote-b-person"' in da
    assert '<blockquote lang="da"><p>Vi lærer mest af andre.</p></blockquote>' in da
    assert "Innovationsbarometeret, 2. udgave, 2018-11" in da
    assert re.search(r'<a class="share-link" href="#quote-b-person"[^>]*>Del citat</a>', da)
    assert re.search(r'<a class="share-link" href="#quote-b-person"[^>]*>Share quote</a>', en)
    assert "Translated from Danish" in en and "Oversat" not in da


def test_advice_page_shows_teaser_and_link_only(tmp_path):
    item = load_one(tmp_path, {**ADVICE, "link": "https://example.org/raad"})
    html = render_page_body(item, "da")
    assert "An Expert forsker i ledelse." in html
    assert '<a href="https://example.org/raad">Læs ekspertens råd hos kilden</a>' in html
    assert "content-body" not in html and "<ol>" not in html


def test_case_lessons_are_signed_as_the_editors(tmp_path):
    html = render_page_body(load_one(tmp_path, CASE), "en")
    lessons = html[html.index('<section class="content-lessons'):]
    assert "What can others learn?" in lessons and "Our reflection." in lessons and "The editors" in lessons
    assert "Our reflection." not in html[:html.index('<section class="content-lessons')]


# --------------------------------------------------------------------------- shipped content


SHIPPED = Path(__file__).resolve().parents[2] / "data" / "content"
EDITIONS_WITH_CONTENT = sorted(p.name for p in SHIPPED.iterdir() if p.is_dir() and any(p.rglob("*.yaml")))


def test_some_edition_ships_content():
    assert "2018" in EDITIONS_WITH_CONTENT


@pytest.mark.parametrize("edition", EDITIONS_WITH_CONTENT)
def test_shipped_content_puts_no_editorial_text_under_a_person(edition):
    library = load_content(edition)  # check_attribution runs while loading
    for item in library.items("advice"):
        assert "body" not in item.data or item["words"] == "verbatim", item.id
        for lang in ("da", "en"):
            page = render_page_body(item, lang)
            assert "<ol>" not in page and "content-body" not in page, (item.id, lang)
    for item in library.items("quote"):
        assert item["words"] in ("verbatim", "summary")
        for lang in ("da", "en"):
            html = render_item(item, lang)
            assert ("<blockquote" in html) == (item["words"] == "verbatim"), (item.id, lang)
            assert "sammenfatning" not in html.lower() and "not a verbatim" not in html, (item.id, lang)
    for item in library.items("case"):
        for lang in ("da", "en"):
            assert "redaktion" not in item.text("body", lang).lower(), (item.id, lang)
