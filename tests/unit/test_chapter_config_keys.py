"""A chapter's cache key holds only the part of the report config it reads (barometer.build.configslice)."""

import copy

from barometer.build.configslice import chapter_config_slice, notebook_code, string_literals

CONFIG = {
    "edition": "2018", "countries": ["dk"],
    "key_figures": [{"measure": "innovative", "population": "workplaces", "text": "key_innovative"}],
    "chapters": [
        {"id": "types", "notebook": "02_types.ipynb", "slug": "typer", "title": {"da": "Typer"}},
        {"id": "collab", "notebook": "07.ipynb", "slug": "samarbejde", "title": {"da": "Samarbejde"},
         "slots": {"after": [{"prose": "nordic_intro"}, "case-a"]}},
    ],
    "figures": {
        "novelty": {"chapter": "types", "population": "innovations", "headline": {"da": "Nyt"}},
        "partners": {"chapter": "collab", "population": "innovations", "headline": {"da": "Partnere"},
                     "after": "collab_after_partners"},
    },
    "prose": {"types_intro": {"da": "a"}, "types_after_fig1_significant": {"da": "b"},
              "collab_intro": {"da": "c"}, "nordic_intro": {"da": "d"}, "collab_after_partners": {"da": "e"},
              "key_innovative": {"da": "f"}, "method_frame": {"da": "g"}, "method_frame_no": {"da": "h"},
              "unused_text": {"da": "i"}},
}
TYPES_CODE = 'ch = Chapter("types", edition)\nch.prose("types_intro")\nch.outcome_prose(rows, "types_after_fig1", "x")'
COLLAB_CODE = 'ch = Chapter("collab", edition)\nch.prose("collab_intro")\nch.slot("after")\nch.show("partners")'
WORDS = frozenset({"method_frame"})


def _slice(cfg, chapter):
    return chapter_config_slice(cfg, chapter, TYPES_CODE if chapter == "types" else COLLAB_CODE, WORDS)


def _edited(path, value):
    cfg = copy.deepcopy(CONFIG)
    node = cfg
    for k in path[:-1]:
        node = node[k]
    node[path[-1]] = value
    return cfg


def test_a_headline_edit_changes_only_its_chapters_slice():
    cfg = _edited(("figures", "novelty", "headline", "da"), "Nyt og genbrugt")
    assert _slice(cfg, "types") != _slice(CONFIG, "types")
    assert _slice(cfg, "collab") == _slice(CONFIG, "collab")


def test_prose_named_by_the_notebook_its_figures_or_slots_belongs_to_that_chapter():
    types, collab = _slice(CONFIG, "types"), _slice(CONFIG, "collab")
    assert {"types_intro", "types_after_fig1_significant"} <= set(types["prose"])  # outcome variants by prefix
    assert {"collab_intro", "nordic_intro", "collab_after_partners"} <= set(collab["prose"])  # code, slots, figure
    assert not {"collab_intro", "nordic_intro", "collab_after_partners"} & set(types["prose"])
    cfg = _edited(("prose", "nordic_intro", "da"), "ny tekst")
    assert _slice(cfg, "collab") != _slice(CONFIG, "collab") and _slice(cfg, "types") == _slice(CONFIG, "types")


def test_prose_named_by_package_code_or_shared_entries_is_in_every_chapter_with_country_variants():
    for ch in ("types", "collab"):
        prose = _slice(CONFIG, ch)["prose"]
        assert {"key_innovative", "method_frame", "method_frame_no"} <= set(prose)
        assert "unused_text" not in prose


def test_slots_and_structure():
    cfg = _edited(("chapters", 1, "slots"), {"after": ["case-b"]})
    assert _slice(cfg, "collab") != _slice(CONFIG, "collab") and _slice(cfg, "types") == _slice(CONFIG, "types")
    # another chapter's figure that moves chapter, a new chapter title, the figures' order: every chapter
    for cfg in (_edited(("figures", "partners", "chapter"), "types"),
                _edited(("chapters", 1, "title"), {"da": "Andet"}),
                _edited(("figures",), dict(reversed(list(CONFIG["figures"].items())))),
                _edited(("edition",), "2019")):
        assert _slice(cfg, "types") != _slice(CONFIG, "types")


def test_a_notebook_reading_the_config_itself_gets_all_of_it():
    code = "from barometer.report import report_config\ncfg = report_config(edition)"
    assert chapter_config_slice(CONFIG, "types", code) == {"whole": CONFIG}


def test_literals_and_notebook_code():
    assert string_literals('ch.prose("method_frame")\nx = f"{a}_b"\ny = "two words"') == {"method_frame"}
    nb = '{"cells": [{"cell_type": "code", "source": ["a = 1\\n", "b"]}, {"cell_type": "markdown", "source": "c"}]}'
    assert notebook_code(nb) == "a = 1\nb"


def test_another_chapters_figure_named_in_the_notebook_is_keyed_whole():
    code = COLLAB_CODE + '\nch.xref("novelty")'
    cfg = _edited(("figures", "novelty", "headline", "da"), "Nyt og genbrugt")
    assert chapter_config_slice(cfg, "collab", code, WORDS) != chapter_config_slice(CONFIG, "collab", code, WORDS)


def test_a_variable_name_is_no_prose_stem_but_a_quoted_one_is():
    code = 'collab = ch.show("partners")\nch.prose(f"types_after_{n}")'
    prose = chapter_config_slice(CONFIG, "types", code, WORDS)["prose"]
    assert "collab_intro" not in prose and "types_after_fig1_significant" in prose
