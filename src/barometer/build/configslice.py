"""What of an edition's report config (``data/report/<edition>.yaml``) one chapter reads.

A chapter's cache key holds :func:`chapter_config_slice` of the config
instead of the whole file, so editing one figure's headline, caption or a
prose entry re-runs only the chapter that shows it.  Pure functions: no
files, no kernels.

The slice of chapter ``C`` (built for ``country``):

* ``shared``: every top-level entry but ``chapters``, ``figures`` and
  ``prose`` (edition, edition number, countries, key figures, trends,
  context figures): a change there re-runs every chapter;
* ``chapters``: every chapter's id, notebook, slug, title and countries
  (navigation, links, figure numbering), and the ``slots`` of ``C`` only;
* ``figures``: the figures of ``C`` (and any its notebook or slots name) whole; of the others what any
  chapter reads of them (:data:`SHARED_FIGURE_FIELDS`: numbering, anchors,
  links, the method chapter's count per figure), not their texts;
* ``prose``: the entries ``C`` can read: a key named in a string of ``C``'s
  notebook, in its figures or slots (or such a name followed by ``_`` and
  more: the variants ``ch.outcome_prose`` and a country's own wording pick),
  or named exactly (with a country's or an outcome's suffix) anywhere in its
  notebook's code, the shared entries or the package's code (``words``).

A notebook that calls ``report_config(`` itself gets the whole config.
"""

from __future__ import annotations

import functools
import re

#: what a chapter reads of another chapter's figure
SHARED_FIGURE_FIELDS = ("chapter", "countries", "type", "kind", "data_country", "population", "populations",
                        "factbox")
#: what a chapter reads of another chapter's entry
SHARED_CHAPTER_FIELDS = ("id", "notebook", "slug", "title", "countries")
#: suffixes a prose key gets in package code: a country's own wording, an outcome's variant
PROSE_SUFFIXES = ("dk", "no", "significant", "not_significant", "suppressed")

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def words_of(value) -> set[str]:
    """Every identifier-like word in a config value (strings, keys, lists, nested)."""
    out: set[str] = set()
    if isinstance(value, dict):
        for k, v in value.items():
            out |= words_of(k) | words_of(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            out |= words_of(v)
    elif isinstance(value, str):
        out |= set(_WORD.findall(value))
    return out


def code_words(source: str) -> set[str]:
    """Every identifier-like word of a notebook's code (names and strings alike: more is safe)."""
    return set(_WORD.findall(source))


_IN_QUOTES = re.compile(r""""([^"\n]*)"|'([^'\n]*)'""")


def quoted_words(source: str) -> set[str]:
    """The identifier-like words inside the code's quoted strings (f-strings' text too):
    where a notebook names a prose key or the stem of its variants."""
    return {w for a, b in _IN_QUOTES.findall(source) for w in _WORD.findall(a or b)}


_QUOTED = re.compile(r"""(?<![A-Za-z0-9_{])["']([A-Za-z_][A-Za-z0-9_]*)["']""")


def string_literals(source: str) -> set[str]:
    """The identifier-like string constants of Python source, quoted whole (``"method_frame"``):
    how the package's code names prose keys.  A regular expression, not a parse: fast enough
    for every build, and a word too many only costs a re-run."""
    return set(_QUOTED.findall(source))


def _matcher(prefixes: set[str], exact: set[str]):
    """``key -> bool``: the key is a prefix or exact word, starts with a prefix and ``_``
    (``f"stem_{x}"``), or is an exact word with a prose suffix (``{word}_{suffix}``)."""
    starts = tuple(sorted(p if p.endswith("_") else p + "_" for p in prefixes if p))
    whole = set(prefixes) | set(exact)
    ends = tuple((s, len(s) + 1) for s in PROSE_SUFFIXES)

    def named(key: str) -> bool:
        return (key in whole or key.startswith(starts)
                or any(key.endswith("_" + s) and key[:-n] in exact for s, n in ends))

    return named


def chapter_config_slice(report_config: dict, chapter: str, notebook_code: str = "",
                         words: frozenset[str] | set[str] = frozenset()) -> dict:
    """The part of ``report_config`` that chapter ``chapter`` reads (see the module's text).

    ``notebook_code``: the source of the chapter notebook's code cells;
    ``words``: the string constants of the package's code (:func:`string_literals`)."""
    if "report_config(" in notebook_code:
        return {"whole": report_config}
    figures = report_config.get("figures") or {}
    chapters = report_config.get("chapters") or []
    shared = {k: v for k, v in report_config.items() if k not in ("chapters", "figures", "prose")}
    own_chapter = next((c for c in chapters if c.get("id") == chapter), {})
    named = code_words(notebook_code) | words_of(own_chapter.get("slots", {}))
    # its own figures, and any other its notebook or slots name (shown, compared or drawn from there)
    own_figures = {fid: spec for fid, spec in figures.items()
                   if isinstance(spec, dict) and (spec.get("chapter") == chapter or fid in named)}
    other_figures = {fid: {k: spec[k] for k in SHARED_FIGURE_FIELDS if k in spec}
                     for fid, spec in figures.items() if isinstance(spec, dict) and fid not in own_figures}
    in_figures = words_of({fid: {k: v for k, v in spec.items() if k not in ("chapter", "headline", "caption")}
                           for fid, spec in own_figures.items()})  # not their texts: words, not keys
    prefixes = quoted_words(notebook_code) | in_figures | words_of(own_chapter.get("slots", {}))
    exact = named | set(words) | words_of(shared)  # a variable's name, a package constant: that key, or a variant
    named_key = _matcher(prefixes, exact)
    prose = {k: v for k, v in (report_config.get("prose") or {}).items() if named_key(str(k))}
    return {
        "shared": shared,
        "chapters": [{k: c[k] for k in SHARED_CHAPTER_FIELDS if k in c} for c in chapters],
        "slots": own_chapter.get("slots", {}),
        "figures": own_figures,
        "other_figures": other_figures,
        "figure_order": list(figures),  # numbering follows the config's order
        "prose": prose,
    }


def notebook_code(nb_text: str) -> str:
    """The code cells' source of a notebook file's JSON text."""
    import json

    try:
        cells = json.loads(nb_text).get("cells", [])
    except ValueError:
        return nb_text
    return "\n".join("".join(c.get("source", "")) if isinstance(c.get("source"), list) else str(c.get("source", ""))
                     for c in cells if c.get("cell_type") == "code")


def package_words(package_dir) -> frozenset[str]:
    """The string constants of the package's code (``words`` of :func:`chapter_config_slice`)."""
    from pathlib import Path

    out: set[str] = set()
    for p in sorted(Path(package_dir).rglob("*.py")):
        out |= string_literals(p.read_text(encoding="utf-8"))
    return frozenset(out)


def config_key_parts(edition: str, chapter: str, notebook) -> tuple[dict, tuple[str, ...]]:
    """For a chapter's cache key: (its slice of ``data/report/<edition>.yaml``, that file's
    name, to leave out of the key's checksum of ``data/report``)."""
    from pathlib import Path

    from ..paths import PACKAGE_DIR
    from ..reportconfig import report_config

    code = notebook_code(Path(notebook).read_text(encoding="utf-8"))
    return (chapter_config_slice(report_config(edition), chapter, code, _package_words(str(PACKAGE_DIR))),
            (f"{edition}.yaml",))


@functools.lru_cache(maxsize=2)
def _package_words(package_dir: str) -> frozenset[str]:
    return package_words(package_dir)
