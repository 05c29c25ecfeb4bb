"""Chapter content: cases, quote summaries, tools, expert advice and fact boxes.

Each item is one YAML file under ``data/content/<edition>/<folder>/<id>.yaml``,
where the folder names the kind (``cases/``, ``quotes/``, ``tools/``,
``advice/``, ``factboxes/``).  :func:`load_content` reads every file, checks
it against ``schemas/content.schema.json`` and a few rules a schema cannot
express (unique ids, no e-mail addresses or phone numbers, fact-box templates
that hold no numbers of their own), and returns a :class:`ContentLibrary`.

The ``render_*`` functions turn an item (:func:`render_group`: items of one
kind, a slot's ``{group: [...]}``, as one box) into a string of safe HTML: every
text is escaped and Markdown bodies are rendered with raw HTML switched off,
so markup typed into a content file is shown as text, never executed.
"""

from __future__ import annotations

import json
import re
import string
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

from .errors import InputError
from . import keep, yamlio
from markdown_it import MarkdownIt

from .paths import DATA_DIR

__all__ = [
    "ContentError",
    "ContentItem",
    "ContentLibrary",
    "FACTBOX_MEASURES",
    "GROUP_KINDS",
    "KIND_FOLDERS",
    "PARTNER_CODES",
    "check_attribution",
    "group_problem",
    "load_content",
    "render_factbox",
    "render_group",
    "render_item",
    "render_page_body",
]

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_CONTENT_DIR = DATA_DIR / "content"  # follows BAROMETER_ROOT, like the rest of the data
SCHEMA_PATH = Path(__file__).with_name("schemas") / "content.schema.json"

#: Largest content file read (bytes), checked before it is parsed: the longest
#: shipped case is ~3.5 kB, and the schema bounds each text (a body: 50,000
#: characters per language).  A bigger file is refused, not published.
MAX_CONTENT_BYTES = 1024 * 1024

#: Sub-folder of an edition's content folder -> the kind its files must have.
KIND_FOLDERS = {
    "cases": "case",
    "quotes": "quote",
    "tools": "tool",
    "advice": "advice",
    "factboxes": "factbox",
}

LANGS = ("da", "en")

# Fixed interface texts (not content): kind labels, link texts and notes.
LABELS: dict[str, dict[str, str]] = {
    "case": {"da": "Case", "en": "Case"},
    "quote": {"da": "Citat", "en": "Quote"},
    "quote_summary": {"da": "Redaktionens referat", "en": "Our summary"},
    "tool": {"da": "Værktøj", "en": "Tool"},
    "advice": {"da": "Det siger eksperten", "en": "Expert advice"},
    "factbox": {"da": "De norske tal", "en": "The Norwegian numbers"},
    "read_case": {"da": "Læs hele casen", "en": "Read the whole case"},
    "read_advice": {"da": "Her finder du ekspertens råd", "en": "Where to find the expert's advice"},
    "share_quote": {"da": "Del citat", "en": "Share quote"},
    "share_hint": {"da": "Kopiér et link til citatet", "en": "Copy a link to this quote"},
    "share_copied": {"da": "Link kopieret", "en": "Link copied"},
    "translated": {"da": "Oversat fra engelsk", "en": "Translated from Danish"},
    "advice_source": {"da": "Ekspertens råd er udgivet i", "en": "The expert's advice is published in"},
    "advice_link": {"da": "Læs ekspertens råd hos kilden", "en": "Read the expert's advice at the source"},
    "advice_teaser": {"da": "Her viser vi kun en kort præsentation af eksperten; rådene selv står i kilden.",
                      "en": "We show only a short introduction of the expert; the advice itself is in the source."},
    "lessons": {"da": "Hvad kan andre lære?", "en": "What can others learn?"},
    "lessons_signed": {"da": "Redaktionen", "en": "The editors"},
    "owner": {"da": "Udviklet af", "en": "Developed by"},
    "facts": {"da": "Tal fra casen", "en": "Key figures"},
    "source": {"da": "Kilde", "en": "Source"},
    # the heading of a group of items of one kind (render_group)
    "group_case": {"da": "Cases", "en": "Cases"},
    "group_quote": {"da": "Citater", "en": "Quotes"},
    "group_quote_summary": {"da": "Redaktionens referater", "en": "Our summaries"},
    "group_tool": {"da": "Værktøjer", "en": "Tools"},
    "group_advice": {"da": "Det siger eksperterne", "en": "Expert advice"},
}

#: The kinds a slot may show as one group (``{group: [id, ...]}``): a fact box stands
#: before its own figure, never in a group.
GROUP_KINDS = ("case", "quote", "tool", "advice")

# The lookbehind starts a match only where a run of address characters starts:
# without it a long word (a 50,000-letter body) took the search quadratic time
# (20 s), with it linear.  It finds the same addresses.
EMAIL_RE = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# Danish phone numbers: eight digits, run together or grouped 2-2-2-2 / 4-4
# with spaces, optionally after +45 / 0045.  Any "+45" followed by a digit
# counts as well.  Years written "2015-2016" and numbers such as "1.942" pass.
PHONE_RE = re.compile(
    r"(?:\+|\b00)\s?45[\s.-]?\d"
    r"|(?<![\d.,])(?:\d{8}|\d{2}(?:[ \u00a0]\d{2}){3}|\d{4}[ \u00a0]\d{4})(?!\d)(?![.,]\d)"
)
PLACEHOLDER_SUFFIXES = ("_dk", "_no", "_pair")
#: ``{<measure>_pair}`` in a fact box: both countries' values in one phrase, so that
#: equal values read "60 pct. i begge lande", not "henholdsvis 60 % og 60 %".
PAIR_TEXTS = {
    "same": {"da": "{dk} i begge lande", "en": "{dk} in both countries"},
    "different": {"da": "{dk} i Danmark og {no} i Norge", "en": "{dk} in Denmark and {no} in Norway"},
}

_markdown = MarkdownIt("commonmark", {"html": False})


class ContentError(InputError):
    """A content file is invalid, or an item cannot be rendered as asked."""


@cache
def _schema() -> dict[str, Any]:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


#: Allowed partner-type codes and fact-box measure ids (defined once, in the schema).
PARTNER_CODES: tuple[str, ...] = tuple(_schema()["$defs"]["partner_code"]["enum"])
FACTBOX_MEASURES: tuple[str, ...] = tuple(_schema()["$defs"]["measure_id"]["enum"])


@dataclass(frozen=True)
class ContentItem:
    """One validated content file: ``data`` is the parsed YAML mapping."""

    data: Mapping[str, Any]
    path: Path

    @property
    def id(self) -> str:
        return self.data["id"]

    @property
    def kind(self) -> str:
        return self.data["kind"]

    @property
    def chapter(self) -> str:
        return self.data["chapter"]

    def __getitem__(self, key: str) -> Any:
        return self.data[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self.data.get(key, default)

    def text(self, key: str, lang: str) -> str:
        """The ``lang`` version of a field; plain strings are the same in both languages."""
        return _in(self.data[key], lang)


@dataclass
class ContentLibrary:
    """All content items of one edition, in file order (kind folder, then id)."""

    edition: str
    root: Path
    _items: list[ContentItem] = field(default_factory=list)

    def items(self, kind: str | None = None, chapter: str | None = None) -> list[ContentItem]:
        """Items, optionally only those of one kind and/or one chapter."""
        return [
            item
            for item in self._items
            if (kind is None or item.kind == kind) and (chapter is None or item.chapter == chapter)
        ]

    def get(self, id: str) -> ContentItem:
        """The item with this id; ``KeyError`` naming the known ids if there is none."""
        for item in self._items:
            if item.id == id:
                return item
        raise KeyError(f"no content item with id {id!r} in edition {self.edition}; known ids: {sorted(i.id for i in self._items)}")

    def files(self) -> list[Path]:
        """The content files read, sorted (for cache keys and build manifests)."""
        return sorted(item.path for item in self._items)

    def __iter__(self) -> Iterator[ContentItem]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)


# --------------------------------------------------------------------------- loading


def _content_key(edition: str, content_dir: Path | None = None) -> tuple:
    root = Path(content_dir if content_dir is not None else DEFAULT_CONTENT_DIR) / str(edition)
    return (str(edition), str(root), keep.stamps(root))


@keep.kept(_content_key)  # the preview's build process: parsed again only when a file changed
def load_content(edition: str, content_dir: Path | None = None) -> ContentLibrary:
    """Load and validate every content file of ``edition``.

    ``content_dir`` is the folder holding one sub-folder per edition (default:
    ``<repo>/data/content``).  All problems in all files are collected and
    raised together as one :class:`ContentError`, one line per problem, each
    naming the file and the field.
    """
    root = Path(content_dir if content_dir is not None else DEFAULT_CONTENT_DIR) / str(edition)
    if not root.is_dir():
        raise ContentError(f"{_show(root)}: no content folder for edition {edition!r}; create it with sub-folders {', '.join(KIND_FOLDERS)}")

    validator = jsonschema.Draft202012Validator(_schema())
    problems: list[str] = []
    items: list[ContentItem] = []
    seen: dict[str, Path] = {}
    for path in sorted(p for p in root.rglob("*") if p.suffix in (".yaml", ".yml")):
        file_problems, data = _check_file(path, root, validator)
        problems += file_problems
        if file_problems or data is None:
            continue
        if data["id"] in seen:
            problems.append(f"{_show(path)}: field 'id': {data['id']!r} is already used by {_show(seen[data['id']])}; ids must be unique within an edition")
            continue
        seen[data["id"]] = path
        items.append(ContentItem(data=data, path=path))

    if len(problems) == 1:  # one problem: one line
        raise ContentError(f"content of edition {edition}: {problems[0]}")
    if problems:
        raise ContentError(f"{len(problems)} problem(s) in the content of edition {edition}:\n" + "\n".join(f"- {p}" for p in problems))
    return ContentLibrary(edition=str(edition), root=root, _items=items)


def _check_file(path: Path, root: Path, validator: jsonschema.Validator) -> tuple[list[str], dict | None]:
    """Problems found in one file (empty if none) and its parsed data."""
    where = _show(path)
    try:  # size limit first, then YAML without aliases (no alias bombs)
        data = yamlio.load_file(path, MAX_CONTENT_BYTES, name=where, what="content file")
    except yamlio.YamlError as exc:
        return [str(exc)], None
    if not isinstance(data, dict):
        return [f"{where}: expected a mapping of fields (id, kind, chapter, ...), got {type(data).__name__}"], None

    problems = [f"{where}: {_describe(err)}" for err in sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))]

    parts = path.relative_to(root).parts
    folder = parts[0] if len(parts) > 1 else ""
    expected_kind = KIND_FOLDERS.get(folder)
    if expected_kind is None:
        problems.append(f"{where}: file is not in a kind folder; move it into one of {', '.join(f'{f}/' for f in KIND_FOLDERS)}")
    elif data.get("kind") in KIND_FOLDERS.values() and data["kind"] != expected_kind:
        problems.append(f"{where}: field 'kind': {data['kind']!r} does not match folder '{folder}/' (expected {expected_kind!r}); move the file or fix the kind")
    if isinstance(data.get("id"), str) and data["id"] != path.stem:
        problems.append(f"{where}: field 'id': {data['id']!r} differs from the file name; rename the file to '{data['id']}{path.suffix}' or change the id")

    for field_name, text in _strings(data):
        if found := EMAIL_RE.search(text):
            problems.append(f"{where}: field '{field_name}' contains an e-mail address ({found.group()!r}); contact details must not be stored in content, remove it")
        if found := PHONE_RE.search(text):
            problems.append(f"{where}: field '{field_name}' contains what looks like a phone number ({found.group()!r}); contact details must not be stored in content, remove it")

    if not problems and data["kind"] == "factbox":
        problems += [f"{where}: {p}" for p in _check_template(data)]
    if not problems:
        problems += [f"{where}: {p}" for p in check_attribution(data)]
    return problems, data


#: Words that mark a text as the editors' own (refused under a person's name).
EDITORIAL_RE = re.compile(r"redaktion|\beditors?\b|\beditorial\b", re.IGNORECASE)
#: Quote marks: a summary is reported speech, never put in quote marks.
QUOTE_MARKS_RE = re.compile("[\"\u00ab\u00bb\u201c\u201d\u201e\u2039\u203a]")
#: Headings of the editors' "what can others learn?" that belong in a case's 'lessons'.
LESSONS_RE = re.compile(r"hvad kan andre lære|what can others learn", re.IGNORECASE)


def check_attribution(data: Mapping[str, Any]) -> list[str]:
    """Rules on whose words a text is (the schema cannot express them).

    A named person's item (a quote, an expert's advice) carries only their own
    words (``verbatim``, with source and date) or our summary of them; never the
    editors' text.  A summary is reported speech: no quote marks.  A case's
    ``lessons`` are the editors' and say so; the case body holds none of them.
    """
    kind, problems = data.get("kind"), []
    person = data.get("name") or data.get("expert")
    if kind == "quote":
        if data.get("words") == "editorial":
            problems.append(f"field 'words': 'editorial' text cannot stand under {person}'s name; "
                            "write what they said as a 'summary' (reported speech) or use their own words ('verbatim' with source and date)")
        if data.get("words") == "summary":
            for lang in LANGS:
                if found := QUOTE_MARKS_RE.search(data["summary"][lang]):
                    problems.append(f"field 'summary.{lang}': a summary is reported speech and has no quote marks "
                                    f"(found {found.group()!r}); rephrase it, or make it 'verbatim' with source and date")
    if kind == "advice" and "body" in data and data.get("words") != "verbatim":
        problems.append(f"field 'body': advice text under {person}'s name must be the expert's own words "
                        "('words: verbatim' with 'date'); where the source has only a teaser, keep 'summary' and point to the full advice with 'source' and 'link'")
    if kind == "advice" and data.get("words") == "verbatim" and ("body" not in data or "date" not in data):
        problems.append("field 'words': 'verbatim' advice needs the expert's own text in 'body' and the source's 'date'")
    if kind in ("quote", "advice"):
        for field_name, text in _strings({k: data[k] for k in ("summary", "about", "title", "body", "quote") if k in data}):
            if found := EDITORIAL_RE.search(text):
                problems.append(f"field '{field_name}': mentions the editors ({found.group()!r}) under {person}'s name; "
                                "editorial text never stands under a person: move it to a case's 'lessons' or leave it out")
    if kind == "case":
        if "lessons" in data and data["lessons"]["words"] != "editorial":
            problems.append("field 'lessons.words': the lessons are the editors' reflections, not information from the case; set 'editorial'")
        for lang in LANGS:
            if found := LESSONS_RE.search(data["body"][lang]):
                problems.append(f"field 'body.{lang}': holds the editors' {found.group()!r}; move it to 'lessons' (words: editorial), "
                                "which is shown apart and signed as the editors'")
    return problems


def _check_template(data: Mapping[str, Any]) -> list[str]:
    """Fact-box rules: placeholders match the measures, and no literal numbers."""
    allowed = {m + s for m in data["measures"] for s in PLACEHOLDER_SUFFIXES}
    problems = []
    for lang in LANGS:
        template = data["text"][lang]
        try:
            names = _placeholders(template)
        except ValueError as exc:
            problems.append(f"field 'text.{lang}': broken placeholder ({exc}); write placeholders as {{measure_dk}} / {{measure_no}}")
            continue
        if unknown := sorted(set(names) - allowed):
            problems.append(f"field 'text.{lang}': placeholder(s) {unknown} do not belong to the measures {list(data['measures'])}; allowed: {sorted(allowed)}")
        unused = sorted(f"{m}{c}" for m in data["measures"] if f"{m}_pair" not in names
                        for c in ("_dk", "_no") if f"{m}{c}" not in names)
        if unused:
            problems.append(f"field 'text.{lang}': placeholder(s) {unused} are never used; mention every measure for both countries "
                            "(or both at once with {<measure>_pair})")
        literal = "".join(lit for lit, *_ in string.Formatter().parse(template))
        if re.search(r"\d", literal):
            problems.append(f"field 'text.{lang}': contains a literal number; numbers come from the estimates, use placeholders (fixed context figures go in 'context')")
    return problems


def _describe(err: jsonschema.ValidationError) -> str:
    """A schema error as "field 'a.b': what is wrong"."""
    where = _field_name(err.absolute_path)
    if err.validator == "required":
        missing = [name for name in err.validator_value if name not in err.instance]
        return "; ".join(f"field '{_field_name([*err.absolute_path, m])}' is required" for m in missing)
    if err.validator == "additionalProperties":
        allowed = sorted(err.schema.get("properties", {}))
        extra = sorted(set(err.instance) - set(allowed))
        return f"field '{where or '(top level)'}': unexpected field(s) {extra}; allowed: {allowed}"
    if err.validator in ("enum", "const"):
        allowed = err.validator_value if err.validator == "enum" else [err.validator_value]
        return f"field '{where}': {err.instance!r} is not allowed; use one of {allowed}"
    if err.validator == "type":
        return f"field '{where}': expected {err.validator_value}, got {type(err.instance).__name__} {err.instance!r} (quote values in YAML to make them text)"
    if err.validator == "pattern" and err.validator_value == r"\S":
        return f"field '{where}': is empty; write the text"
    if err.validator == "oneOf" and isinstance(err.instance, str):  # a text where a text or a {da, en} pair may be
        err = next((sub for sub in err.context if sub.validator == "maxLength"), err)
    if err.validator == "maxLength":
        return (f"field '{where}': {len(err.instance):,} characters, more than the {err.validator_value:,} allowed; "
                "shorten it")
    message = " ".join(err.message.split())  # jsonschema quotes the value: keep the line short
    return f"field '{where}': {message[:300] + ' …' if len(message) > 300 else message}"


def _field_name(path: Any) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _strings(value: Any, prefix: str = "") -> Iterator[tuple[str, str]]:
    """Every string in a nested structure, with its field name."""
    if isinstance(value, str):
        yield prefix, value
    elif isinstance(value, Mapping):
        for key, sub in value.items():
            yield from _strings(sub, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(value, list):
        for i, sub in enumerate(value):
            yield from _strings(sub, f"{prefix}[{i}]")


def _show(path: Path) -> str:
    """A path as short as possible: relative to the repository if inside it."""
    try:
        return str(Path(path).resolve().relative_to(REPO_ROOT))
    except ValueError:
        return str(path)


# --------------------------------------------------------------------------- rendering


def render_item(
    item: ContentItem,
    lang: str,
    case_href: Callable[[str], str] = lambda id: f"cases/{id}.html",
    advice_href: Callable[[str], str] = lambda id: f"advice/{id}.html",
    values: Mapping[str, str] | None = None,
) -> str:
    """The box shown in a chapter page for ``item``, as safe HTML
    (``report_templates/blocks/content_item.html.j2``).

    Cases link to ``case_href(id)`` and advice to ``advice_href(id)``.  A fact
    box needs ``values`` (see :func:`render_factbox`).
    """
    _check_lang(lang)
    if item.kind == "factbox":
        if values is None:
            raise ContentError(f"{_show(item.path)}: fact box {item.id!r} needs the estimated values; call render_factbox(item, lang, values)")
        return render_factbox(item, lang, values)
    return _render("content_item", "aside", "content-box", item, lang,
                   case_href=case_href(item.id) if item.kind == "case" else "",
                   advice_href=advice_href(item.id) if item.kind == "advice" else "")


def group_problem(members: list[tuple[str, str | None, str | None]]) -> str | None:
    """Why ``members`` cannot be shown as one group, or None.

    ``members`` are the group's items as ``(id, kind, words)`` (``kind`` None: no such
    item; ``words`` a quote's ``verbatim``/``summary``).  A group is two or more
    different items of one kind of :data:`GROUP_KINDS`, and quotes all of one
    ``words``: the group's heading says once what they are ("Redaktionens referater"),
    so a summary never stands in a group labelled as quotes.  The one rule: the
    build (:func:`render_group`) and the edition lint (before any notebook runs) ask it.
    """
    ids = [m[0] for m in members]
    if unknown := [i for i, kind, _ in members if kind is None]:
        return f"{', '.join(map(repr, unknown))} {'is' if len(unknown) == 1 else 'are'} not a content item"
    if len(members) < 2:
        return "a group shows two or more items; list a single item by its id, not as a group"
    if twice := sorted({i for i in ids if ids.count(i) > 1}):
        return f"{', '.join(map(repr, twice))} listed twice in the group"
    kinds = sorted({kind for _, kind, _ in members})
    if "factbox" in kinds:
        return "a fact box stands before its own figure (list the figure in the slot), it cannot be in a group"
    if not set(kinds) <= set(GROUP_KINDS):
        return f"kind(s) {[k for k in kinds if k not in GROUP_KINDS]} cannot be grouped; groups hold {', '.join(GROUP_KINDS)}"
    if len(kinds) > 1:
        return (f"a group holds items of one kind (its heading names the kind), these are "
                f"{', '.join(f'{i!r} ({kind})' for i, kind, _ in members)}; make one group per kind")
    if kinds == ["quote"] and len({words for _, _, words in members}) > 1:
        return ("a group of quotes holds either the persons' own words (verbatim) or our summaries, not both "
                f"(its heading says once which): {', '.join(f'{i!r} ({words})' for i, _, words in members)}")
    return None


def check_group(items: list[ContentItem]) -> None:
    """:class:`ContentError` (one line) when ``items`` cannot be shown as one group (:func:`group_problem`)."""
    if problem := group_problem([(item.id, item.kind, item.get("words")) for item in items]):
        raise ContentError(f"group {[item.id for item in items]}: {problem}")


def render_group(
    items: list[ContentItem],
    lang: str,
    case_href: Callable[[str], str] = lambda id: f"cases/{id}.html",
    advice_href: Callable[[str], str] = lambda id: f"advice/{id}.html",
) -> str:
    """Items of one kind as one box in a chapter page, as safe HTML
    (``report_templates/blocks/content_group.html.j2``): a named ``aside`` whose
    heading says what they are ("Cases", "Redaktionens referater", ...), and a list
    of cards, each the item as its own box would show it (a case's title, summary and
    link to its page; a quote's person, role and organisation with the summary in
    reported speech, or the verbatim quote with its source and "Del citat").  Each card
    keeps the item's anchor (``#<kind>-<id>``), so links to the item still lead to it.
    """
    from markupsafe import Markup

    _check_lang(lang)
    check_group(items)
    kind, words = items[0].kind, items[0].get("words")
    cards = [Markup(_render("content_item", "li", "content-card", item, lang, frame="blocks/content_card.html.j2",
                            h="h4", case_href=case_href(item.id) if kind == "case" else "",
                            advice_href=advice_href(item.id) if kind == "advice" else ""))
             for item in items]
    label = LABELS["group_quote_summary" if words == "summary" else f"group_{kind}"][lang]
    from . import templates

    return templates.render("blocks/content_group.html.j2", kind=kind, words=words, items=items, cards=cards,
                            label=label, lang=lang)


#: How a chapter run by the build shows a case, quote, tool or group of them: a mark that the
#: build replaces with the item's box when it renders the page (:func:`fill_marks`), so that an
#: edit of the item's file re-runs no notebook.  Plain characters only (no quotes, no
#: backslashes): the mark reads the same in the page and in the executed notebook's JSON.
_MARK = re.compile(r"<div class=barometer-content data-ids=(?P<ids>[a-z0-9][a-z0-9_,-]*)(?P<group> data-group)?></div>")


def mark(ids: list[str], group: bool = False) -> str:
    """The mark that stands for the item ``ids[0]`` (or, with ``group``, the group of ``ids``)."""
    out = f"<div class=barometer-content data-ids={','.join(ids)}{' data-group' if group else ''}></div>"
    if not _MARK.fullmatch(out):
        raise ContentError(f"content ids {ids} cannot be marked (ids are lower-case letters, digits, '-' and '_')")
    return out


def fill_marks(text: str, library: "ContentLibrary", lang: str, json_string: bool = False) -> str:
    """``text`` (a chapter's page body, or with ``json_string`` its executed notebook's JSON)
    with every mark of :func:`mark` replaced by the box (:func:`render_item`) or group
    (:func:`render_group`) it stands for, rendered from the content files as they are now.
    In the notebook the box is written as nbformat writes an output: one string a line, so
    the published notebook is the one a run that rendered the box itself would have written."""
    import json

    if "barometer-content" not in text:
        return text

    def box(m: re.Match) -> str:
        try:
            items = [library.get(i) for i in m.group("ids").split(",")]
        except KeyError as exc:
            raise ContentError(f"a chapter shows {exc.args[0]}") from None
        return str(render_group(items, lang) if m.group("group") else render_item(items[0], lang))

    if not json_string:
        return _MARK.sub(box, text)
    return _MARK_LINE.sub(lambda m: m.group("indent") + f",\n{m.group('indent')}".join(
        json.dumps(line, ensure_ascii=False) for line in box(m).splitlines(True)), text)


_MARK_LINE = re.compile(r'^(?P<indent>[ \t]*)"' + _MARK.pattern + '"', re.M)


def render_factbox(item: ContentItem, lang: str, values: Mapping[str, str], note_as_in: str | None = None) -> str:
    """A "De norske tal" box with its placeholders filled from ``values``
    (``report_templates/blocks/factbox.html.j2``).

    ``values`` maps placeholder names (``<measure>_dk`` / ``<measure>_no``) to
    formatted figures such as ``"56 %"``.  Missing names raise ContentError.
    ``note_as_in``: the title of an earlier box on the page with the same source
    note; the note is then said as "sources as in the box ...", not again.
    """
    _check_lang(lang)
    if item.kind != "factbox":
        raise ContentError(f"{_show(item.path)}: {item.id!r} is a {item.kind}, not a factbox; use render_item")
    template = item.text("text", lang)
    values = dict(values)
    for m in item["measures"]:
        if f"{m}_dk" in values and f"{m}_no" in values:
            dk, no = str(values[f"{m}_dk"]), str(values[f"{m}_no"])
            values.setdefault(f"{m}_pair", PAIR_TEXTS["same" if dk == no else "different"][lang].format(dk=dk, no=no))
    pieces = list(string.Formatter().parse(template))
    if missing := sorted({name for _, name, _, _ in pieces if name is not None} - set(values)):
        raise ContentError(
            f"{_show(item.path)}: field 'text.{lang}' needs value(s) for placeholder(s) {missing}; "
            f"pass them in `values` (got {sorted(values)})"
        )
    filled = [(lit, str(values[name]) if name is not None else None) for lit, name, _, _ in pieces]
    for i in range(1, len(filled)):  # "... 8 pct." + ". Forskellen": one full stop
        prev_value, lit = filled[i - 1][1], filled[i][0]
        if prev_value and prev_value.endswith(".") and lit.startswith(".") and not lit.startswith(".."):
            filled[i] = (lit[1:], filled[i][1])
    from . import i18n

    return _render("factbox", "aside", "content-box", item, lang, pieces=filled,
                   note=i18n.t("note_as_in", lang, title=note_as_in) if note_as_in else item.text("note", lang))


def render_page_body(item: ContentItem, lang: str) -> str:
    """The full page of a case or an expert-advice item, as safe HTML
    (``report_templates/blocks/content_page.html.j2``).

    Title, key figures (cases), the Markdown body and the source line; a
    case's ``lessons`` apart, signed as the editors'; for advice the teaser
    and where the expert's full advice is published (``source``, ``link``).
    """
    from markupsafe import Markup

    _check_lang(lang)
    if item.kind not in ("case", "advice"):
        raise ContentError(f"{_show(item.path)}: only cases and expert advice have a page of their own, {item.id!r} is a {item.kind}")
    facts = [(_in(f["value"], lang), f["label"][lang]) for f in item.get("facts") or []]
    body = Markup(_markdown.render(item.text("body", lang))) if "body" in item.data else ""  # raw HTML is off: safe
    lessons = Markup(_markdown.render(item["lessons"]["text"][lang])) if "lessons" in item.data else ""
    return _render("content_page", "article", "content-page", item, lang, facts=facts, body=body, lessons=lessons)


def _render(template: str, tag: str, cls: str, item: ContentItem, lang: str, **context) -> str:
    from . import templates

    context = {"frame": "blocks/content_box.html.j2", "h": "h3", **context}  # a box of its own, titled h3
    return templates.render(f"blocks/{template}.html.j2", tag=tag, cls=cls, item=item, lang=lang, labels=LABELS,
                            text=lambda key: item.text(key, lang), **context)


def _placeholders(template: str) -> list[str]:
    """Placeholder names in a fact-box template; ValueError on broken braces."""
    names = []
    for _, name, spec, conversion in string.Formatter().parse(template):
        if name is None:
            continue
        if spec or conversion or not re.fullmatch(r"[a-z][a-z0-9_]*", name):
            raise ValueError(f"{{{name}}} is not a plain placeholder name (no formats or conversions)")
        names.append(name)
    return names


def _in(value: str | Mapping[str, str], lang: str) -> str:
    """A language-keyed text's ``lang`` version; a plain string as it is."""
    return value[lang] if isinstance(value, Mapping) else value


def _check_lang(lang: str) -> None:
    if lang not in LANGS:
        raise ContentError(f"language {lang!r} is not available; use one of {list(LANGS)}")
