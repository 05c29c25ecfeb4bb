"""Hostile content: a file over the size limit, texts over the schema's bounds, an alias bomb."""

import pytest
import yaml

from barometer import content
from barometer.content import MAX_CONTENT_BYTES, ContentError, load_content

EDITION = "2018"


def case(**over) -> dict:
    item = {
        "id": "big-case", "kind": "case", "chapter": "collaboration",
        "title": {"da": "En titel", "en": "A title"},
        "summary": {"da": "Kort.", "en": "Short."},
        "body": {"da": "Brødtekst.", "en": "Body text."},
        "partners": ["municipal"], "facts": [], "source": "Kilde",
    }
    item.update(over)
    return item


def write(root, item, text=None):
    path = root / EDITION / "cases" / f"{item['id']}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text if text is not None else yaml.safe_dump(item, allow_unicode=True), encoding="utf-8")
    return path


def error(root) -> str:
    with pytest.raises(ContentError) as exc:
        load_content(EDITION, root)
    return str(exc.value)


def test_a_normal_case_loads(tmp_path):
    write(tmp_path, case())
    assert [i.id for i in load_content(EDITION, tmp_path)] == ["big-case"]


def test_file_over_the_size_limit_is_refused_before_parsing(tmp_path):
    body = "x" * (MAX_CONTENT_BYTES + 10)
    path = write(tmp_path, case(), text=yaml.safe_dump(case(body={"da": body, "en": "y"})))
    msg = error(tmp_path)
    assert path.name in msg and "1.0 MB a content file may have" in msg
    assert "\n" not in msg  # one problem: one line
    assert "characters" not in msg  # refused on size, not schema: it was never parsed


@pytest.mark.parametrize("field, value, limit", [
    ("title", {"da": "T" * 301, "en": "Title"}, 300),
    ("summary", {"da": "S" * 2001, "en": "Summary"}, 2000),
    ("body", {"da": "B", "en": "B" * 50_001}, 50_000),
    ("source", "K" * 301, 300),
])
def test_texts_longer_than_the_schema_allows_are_refused(tmp_path, field, value, limit):
    write(tmp_path, case(**{field: value}))
    msg = error(tmp_path)
    assert f"field '{field}" in msg and f"more than the {limit:,} allowed" in msg, msg
    assert len(msg) < 400  # the long text is not repeated in the message


def test_too_many_facts_are_refused(tmp_path):
    def facts(n):  # separate objects: shared ones would be dumped as aliases
        return [{"value": f"{i} %", "label": {"da": "andel", "en": "share"}} for i in range(n)]

    write(tmp_path, case(facts=facts(21)))
    assert "field 'facts'" in error(tmp_path)
    write(tmp_path, case(facts=facts(20)))
    assert len(load_content(EDITION, tmp_path)) == 1


def test_texts_at_the_bounds_are_accepted(tmp_path):
    write(tmp_path, case(title={"da": "T" * 300, "en": "t"}, summary={"da": "S" * 2000, "en": "s"},
                         body={"da": "B" * 50_000, "en": "b"}))
    assert len(load_content(EDITION, tmp_path)) == 1


def test_every_shipped_item_is_far_from_the_bounds():
    lib = load_content(EDITION)
    assert max(p.stat().st_size for p in lib.files()) < MAX_CONTENT_BYTES // 100


def test_alias_bomb_in_content_is_one_problem_naming_the_file(tmp_path):
    bomb = ("id: big-case\nkind: case\nchapter: collaboration\na: &a [x, x, x, x, x, x, x, x, x]\n"
            + "".join(f"{c}: &{c} [{', '.join(['*' + p] * 9)}]\n" for p, c in zip("abcdefgh", "bcdefghi")))
    path = write(tmp_path, case(), text=bomb)
    msg = error(tmp_path)
    assert msg.startswith(f"content of edition {EDITION}: ") and path.name in msg and "line 5" in msg
    assert "uses the YAML alias *a" in msg and "\n" not in msg


def test_schema_bounds_every_text_field():
    """No string in the schema is unbounded (a new field must get a maxLength)."""
    schema = content._schema()

    def strings(node, where="#"):
        if isinstance(node, dict):
            if node.get("type") == "string":
                yield where, node
            for k, v in node.items():
                yield from strings(v, f"{where}/{k}")
        elif isinstance(node, list):
            for i, v in enumerate(node):
                yield from strings(v, f"{where}/{i}")

    found = list(strings(schema))
    assert len(found) >= 5
    assert all("maxLength" in node for _, node in found), [w for w, n in found if "maxLength" not in n]


def test_contact_check_is_linear_in_the_text_length():
    """The e-mail pattern backtracked quadratically on a long word: 50,000 letters took 20 s."""
    import time

    t0 = time.perf_counter()
    assert content.EMAIL_RE.search("x" * 400_000 + "@") is None
    assert time.perf_counter() - t0 < 5  # quadratic: hours; linear: milliseconds
    assert content.EMAIL_RE.search("skriv til anne.b+x@example.org i dag").group() == "anne.b+x@example.org"
