"""Tests for barometer.content: the shipped 2018 content and the loader's guards."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from barometer.content import (
    PARTNER_CODES,
    SCHEMA_PATH,
    ContentError,
    load_content,
    render_factbox,
    render_item,
    render_page_body,
)

EDITION = "2018"
MEASURES = {
    "collab_same_municipality",
    "collab_outside_municipality",
    "private_any_role",
    "private_formal_collab",
    "citizens_any_role",
    "citizens_promote",
    "voluntary_involved",
}

CASE = {
    "id": "x",
    "kind": "case",
    "chapter": "collaboration",
    "title": {"da": "Titel", "en": "Title"},
    "summary": {"da": "Kort resumé.", "en": "Short summary."},
    "body": {"da": "Første afsnit.", "en": "First paragraph."},
    "partners": ["municipal"],
    "facts": [{"value": "15 %", "label": {"da": "færre", "en": "fewer"}}],
    "source": "Innovationsbarometeret",
}
FACTBOX = {
    "id": "fb",
    "kind": "factbox",
    "chapter": "collaboration",
    "title": {"da": "Frivillige", "en": "Volunteers"},
    "measures": ["voluntary_involved"],
    "text": {
        "da": "Danmark {voluntary_involved_dk}, Norge {voluntary_involved_no}.",
        "en": "Denmark {voluntary_involved_dk}, Norway {voluntary_involved_no}.",
    },
    "note": {"da": "Kilde.", "en": "Source."},
}


@pytest.fixture(scope="module")
def library():
    return load_content(EDITION)


def write(root: Path, folder: str, item: dict, name: str | None = None) -> Path:
    """Write one content file into a tmp edition folder and return its path."""
    path = root / EDITION / folder / f"{name or item['id']}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(item, allow_unicode=True), encoding="utf-8")
    return path


def load_error(tmp_path: Path) -> str:
    with pytest.raises(ContentError) as exc:
        load_content(EDITION, tmp_path)
    return str(exc.value)


# --------------------------------------------------------------------------- shipped content


def test_schema_is_valid_draft_2020_12():
    jsonschema.Draft202012Validator.check_schema(json.loads(SCHEMA_PATH.read_text(encoding="utf-8")))


def test_shipped_content_loads_with_expected_counts(library):
    counts = {kind: len(library.items(kind=kind)) for kind in ("case", "quote", "tool", "advice", "factbox")}
    assert counts == {"case": 5, "quote": 8, "tool": 2, "advice": 2, "factbox": 5}
    assert len(library.files()) == len(library)
    assert all(path.is_file() for path in library.files())


def test_shipped_items_belong_to_collaboration_and_use_valid_partner_codes(library):
    for item in library.items():
        assert item.chapter == "collaboration", item.path
    for case in library.items(kind="case"):
        assert case["partners"], case.path
        assert set(case["partners"]) <= set(PARTNER_CODES), case.path
        assert case["facts"] is not None


def test_shipped_factbox_measures_are_known(library):
    boxes = library.items(kind="factbox")
    for box in boxes:
        assert set(box["measures"]) <= MEASURES, box.path
    assert {m for box in boxes for m in box["measures"]} == MEASURES


def test_every_shipped_item_renders_in_both_languages(library):
    values = {f"{m}{s}": "50 %" for m in MEASURES for s in ("_dk", "_no")}
    for item in library:
        for lang in ("da", "en"):
            html = render_item(item, lang, values=values)
            assert html.startswith(f'<aside class="content-box content-{item.kind}" id="{item.kind}-{item.id}"')
            assert "{" not in html
            if item.kind in ("case", "advice"):
                assert "<h1" in render_page_body(item, lang)


def test_lookup_and_filters(library):
    assert library.get("open-data-dk").kind == "case"
    assert [i.id for i in library.items(kind="tool", chapter="collaboration")] == [
        "innovation-internship",
        "sof-project-model",
    ]
    assert library.items(chapter="no-such-chapter") == []
    with pytest.raises(KeyError, match="no-such-id"):
        library.get("no-such-id")


# --------------------------------------------------------------------------- loader errors


def test_missing_language_names_file_and_field(tmp_path):
    case = {**CASE, "summary": {"da": "Kun dansk."}}
    write(tmp_path, "cases", case)
    message = load_error(tmp_path)
    assert "cases/x.yaml" in message
    assert "field 'summary.en' is required" in message


def test_unknown_kind_is_rejected(tmp_path):
    write(tmp_path, "cases", {**CASE, "kind": "anecdote"})
    message = load_error(tmp_path)
    assert "field 'kind': 'anecdote' is not allowed" in message


def test_unknown_field_and_partner_code_are_rejected(tmp_path):
    write(tmp_path, "cases", {**CASE, "partners": ["aliens"], "colour": "red"})
    message = load_error(tmp_path)
    assert "field 'partners[0]': 'aliens' is not allowed" in message
    assert "unexpected field(s) ['colour']" in message


def test_duplicate_id_is_rejected(tmp_path):
    write(tmp_path, "cases", CASE)
    write(tmp_path, "quotes", {
        "id": "x",
        "kind": "quote",
        "words": "summary",
        "chapter": "collaboration",
        "name": "A Person",
        "role": {"da": "leder", "en": "manager"},
        "organisation": {"da": "Kommune", "en": "Municipality"},
        "summary": {"da": "Hun peger på noget.", "en": "She argues something."},
    })
    message = load_error(tmp_path)
    assert "'x' is already used by" in message
    assert "quotes/x.yaml" in message


def test_kind_must_match_folder(tmp_path):
    write(tmp_path, "tools", CASE)
    assert "does not match folder 'tools/'" in load_error(tmp_path)


@pytest.mark.parametrize("text", ["Skriv til ab@example.org for mere.", "Mail: first.last@example.org"])
def test_email_address_is_rejected(tmp_path, text):
    write(tmp_path, "cases", {**CASE, "body": {"da": text, "en": "Fine."}})
    message = load_error(tmp_path)
    assert "cases/x.yaml: field 'body.da' contains an e-mail address" in message


@pytest.mark.parametrize("number", ["46318028", "46 31 80 28", "4631 8028", "+45 46318028", "+4546318028"])
def test_phone_number_is_rejected(tmp_path, number):
    write(tmp_path, "cases", {**CASE, "summary": {"da": "Dansk.", "en": f"Call {number} today."}})
    message = load_error(tmp_path)
    assert "cases/x.yaml: field 'summary.en' contains what looks like a phone number" in message


@pytest.mark.parametrize("text", ["I 2015-2016 svarede 1.942.", "Over 1,000,000 uses; 25-30 %.", "123456789 is nine digits."])
def test_ordinary_numbers_are_not_phone_numbers(tmp_path, text):
    write(tmp_path, "cases", {**CASE, "body": {"da": text, "en": text}})
    assert len(load_content(EDITION, tmp_path)) == 1


def test_factbox_text_must_not_hold_numbers_or_foreign_placeholders(tmp_path):
    box = {**FACTBOX, "text": {"da": "56 % i Danmark, {voluntary_involved_no} i Norge.", "en": "{other_dk} {voluntary_involved_dk} {voluntary_involved_no}"}}
    write(tmp_path, "factboxes", box)
    message = load_error(tmp_path)
    assert "field 'text.da': contains a literal number" in message
    assert "field 'text.da': placeholder(s) ['voluntary_involved_dk'] are never used" in message
    assert "field 'text.en': placeholder(s) ['other_dk'] do not belong" in message


def test_missing_edition_folder(tmp_path):
    with pytest.raises(ContentError, match="no content folder for edition '2018'"):
        load_content(EDITION, tmp_path)


# --------------------------------------------------------------------------- rendering


def test_script_in_title_and_markdown_body_is_escaped(tmp_path):
    attack = "<script>alert(1)</script>"
    write(tmp_path, "cases", {
        **CASE,
        "title": {"da": f"Titel {attack}", "en": "Title"},
        "body": {"da": f"Afsnit med {attack}\n\n{attack}\n\n[klik](javascript:alert(1))", "en": "Body"},
    })
    item = load_content(EDITION, tmp_path).get("x")
    for html in (render_item(item, "da"), render_page_body(item, "da")):
        assert "<script>" not in html
        assert "&lt;script&gt;" in html
    assert "href=\"javascript:" not in render_page_body(item, "da")


def test_case_box_links_to_case_page(tmp_path):
    write(tmp_path, "cases", CASE)
    item = load_content(EDITION, tmp_path).get("x")
    assert '<a href="cases/x.html">Læs hele casen</a>' in render_item(item, "da")
    assert '<a href="../cases/x.html">Read the whole case</a>' in render_item(item, "en", case_href=lambda i: f"../cases/{i}.html")
    assert '<li><strong class="fact-value">15 %</strong> fewer</li>' in render_page_body(item, "en")


def test_factbox_placeholders_are_filled(tmp_path):
    write(tmp_path, "factboxes", FACTBOX)
    box = load_content(EDITION, tmp_path).get("fb")
    html = render_factbox(box, "en", {"voluntary_involved_dk": "16 %", "voluntary_involved_no": "8 %"})
    assert "Denmark 16 %, Norway 8 %." in html
    assert 'class="content-box content-factbox" id="factbox-fb"' in html
    assert "The Norwegian numbers" in html


def test_factbox_missing_placeholder_is_named(tmp_path):
    write(tmp_path, "factboxes", FACTBOX)
    box = load_content(EDITION, tmp_path).get("fb")
    with pytest.raises(ContentError, match=r"placeholder\(s\) \['voluntary_involved_no'\]"):
        render_factbox(box, "da", {"voluntary_involved_dk": "16 %"})
    with pytest.raises(ContentError, match="render_factbox"):
        render_item(box, "da")


def test_unknown_language_is_rejected(library):
    with pytest.raises(ContentError, match="'fr'"):
        render_item(library.get("open-data-dk"), "fr")


def test_factbox_placeholder_with_format_spec_is_rejected(tmp_path):
    text = {"da": "{voluntary_involved_dk:>5} {voluntary_involved_no}", "en": "{voluntary_involved_dk} {voluntary_involved_no}"}
    write(tmp_path, "factboxes", {**FACTBOX, "text": text})
    assert "field 'text.da': broken placeholder" in load_error(tmp_path)
