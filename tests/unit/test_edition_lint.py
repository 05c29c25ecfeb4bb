"""The shared notebooks against every edition's report config (barometer.editionlint):
what would fail only when a notebook runs is found before, for every edition and country."""

import ast
import json
import shutil
import time
from pathlib import Path

import pytest

from barometer import editionlint as L
from barometer.errors import InputError
from barometer.paths import DATA_DIR, NOTEBOOK_DIR, PACKAGE_DIR


def test_every_edition_and_country_agrees_with_the_notebooks():
    t0 = time.perf_counter()
    problems = L.lint()
    assert problems == [], "\n".join(problems)
    assert time.perf_counter() - t0 < 3
    # it looked at something: every edition's chapters and the figures their notebooks name
    eds = L.editions()
    assert {"2018", "2021", "2024"} <= set(eds)
    shows = {u.ident for u in L.read_notebook(NOTEBOOK_DIR / "02_types.ipynb").uses if u.method == "show"}
    assert shows == {"innovation_types", "novelty", "reuse_by_level"}


def test_the_lint_imports_no_pandas():
    """The build plans with it and `make test-fast` runs it: only the package's light modules."""
    todo, seen = ["editionlint"], set()
    while todo:
        name = todo.pop()
        seen.add(name)
        tree = ast.parse((PACKAGE_DIR / f"{name}.py").read_text(encoding="utf-8"))
        for node in tree.body:  # module level only: what importing it costs
            if isinstance(node, ast.Import):
                mods = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                mods = [node.module or ""] if node.level == 0 else \
                    [f"barometer.{node.module}" if node.module else f"barometer.{a.name}" for a in node.names]
            else:
                continue
            for m in mods:
                assert m.split(".")[0] not in ("pandas", "numpy", "altair", "papermill", "jupyter_client"), (name, m)
                if m.startswith("barometer.") and m.split(".")[1] not in seen:
                    todo.append(m.split(".")[1])
    assert {"editionlint", "yamlio", "paths", "errors"} <= seen


@pytest.fixture
def project(tmp_path):
    """A copy of the report configs, content and notebooks that a test may change."""
    for d in ("report", "content"):
        shutil.copytree(DATA_DIR / d, tmp_path / "data" / d)
    shutil.copytree(NOTEBOOK_DIR, tmp_path / "notebooks", ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    return tmp_path


def _add_cell(project: Path, notebook: str, source: str, at: int = 4) -> None:
    p = project / "notebooks" / notebook
    nb = json.loads(p.read_text(encoding="utf-8"))
    nb["cells"].insert(at, {"cell_type": "code", "execution_count": None, "id": "added", "metadata": {},
                            "outputs": [], "source": source.splitlines(keepends=True)})
    p.write_text(json.dumps(nb), encoding="utf-8")


def _edit(project: Path, edition: str, old: str, new: str) -> None:
    p = project / "data" / "report" / f"{edition}.yaml"
    text = p.read_text(encoding="utf-8")
    assert old in text
    p.write_text(text.replace(old, new, 1), encoding="utf-8")


CITIZENS = """figures:
  citizens_by_level:
    chapter: collaboration
    type: by_population
    population: innovations
    measure: collab_citizens
    populations: [state_innovations, regional_innovations, municipal_innovations]
    headline: {da: Borgere, en: Citizens}
"""


def _lint(project: Path) -> list[str]:
    return L.lint(data_dir=project / "data", notebook_dir=project / "notebooks")


def test_a_figure_one_edition_defines_and_a_shared_notebook_shows_is_found_for_the_others(project):
    """The issue's case: the figure is defined in 2018.yaml only, 07_collaboration runs in every edition."""
    _edit(project, "2018", "\nfigures:\n", "\n" + CITIZENS)
    _add_cell(project, "07_collaboration.ipynb", '# citizens by level\nrows = ch.show("citizens_by_level")\n')
    problems = _lint(project)
    assert len(problems) == len(L.editions()) - 1  # one line per other edition, none for 2018
    by_edition = {p.split(":")[0]: p for p in problems}
    assert set(by_edition) == {f"edition {e}" for e in L.editions() if e != "2018"}
    msg = by_edition["edition 2021"]
    assert "07_collaboration.ipynb, code cell 4 (id added), line 2" in msg and "'citizens_by_level'" in msg
    assert "data/report/2021.yaml" in msg  # fix 1: define it there
    assert 'if "citizens_by_level" in ch.figures():' in msg  # fix 2: guard the call
    assert "\n" not in msg


@pytest.mark.parametrize("source", [
    'if "citizens_by_level" in ch.figures():\n    rows = ch.show("citizens_by_level")\n',
    'if "citizens_by_level" in ch.figures() and country == "dk":\n    ch.show("citizens_by_level")\n',
    'if "citizens_by_level" not in ch.figures():\n    pass\nelse:\n    ch.show("citizens_by_level")\n',
    'rows = ch.show("citizens_by_level") if "citizens_by_level" in ch.figures() else None\n',
    'for fig_id in ch.figures():\n    ch.show(fig_id)\n',  # not a literal: the edition's own list
])
def test_guarded_calls_are_fine(project, source):
    _edit(project, "2018", "\nfigures:\n", "\n" + CITIZENS)
    _add_cell(project, "07_collaboration.ipynb", source)
    assert _lint(project) == []


def test_the_guard_guards_only_its_body(project):
    _add_cell(project, "07_collaboration.ipynb",
              'if "citizens_by_level" in ch.figures():\n    pass\nch.figure_spec("citizens_by_level")\n')
    problems = _lint(project)
    assert len(problems) == len(L.editions()) and all("code cell 4 (id added), line 3" in p for p in problems)


def test_a_figure_another_country_does_not_show(project):
    """2018 builds Denmark and Norway: a figure made Norwegian only, still shown unguarded in both."""
    _add_cell(project, "00_front.ipynb", 'ch.show("no_sector")\n', at=3)
    problems = _lint(project)
    assert {p.split(":")[0] for p in problems} == {"edition 2021", "edition 2024"}  # 00_front is shared
    assert not [p for p in problems if p.startswith("edition 2018")]  # shown by both of 2018's builds
    _edit(project, "2018", "  no_sector:\n    chapter: norway\n    countries: [dk, \"no\"]",
          "  no_sector:\n    chapter: norway\n    countries: [\"no\"]")
    problems = [p for p in _lint(project) if p.startswith("edition 2018")]
    assert len(problems) == 2 and all("the dk build of the edition does not show it" in p for p in problems)
    assert {p.split(",")[0].rsplit("/", 1)[1] for p in problems} == {"00_front.ipynb", "08_norway.ipynb"}


def test_a_slot_figure_without_measures_is_a_lint_message_not_a_keyerror(project):
    _edit(project, "2018", "\nfigures:\n", "\n" + CITIZENS)
    _edit(project, "2018", "        - nordic_voluntary\n", "        - nordic_voluntary\n        - citizens_by_level\n")
    problems = _lint(project)
    assert len(problems) == 1
    assert "slots.after_quality" in problems[0] and "'citizens_by_level' has no `measures`" in problems[0]
    assert "ch.show('citizens_by_level')" in problems[0]


def test_slot_entries_and_prose_keys(project):
    _edit(project, "2024", "after_quality: [collab_phases, {prose: collab_after_phases}]",
          "after_quality: [collab_phases, {prose: no_such_text}, no-such-case]")
    _add_cell(project, "02_types.ipynb", 'ch.prose("types_missing")\n')
    problems = _lint(project)
    assert any("edition 2024" in p and "'no_such_text' is not in" in p for p in problems)
    assert any("edition 2024" in p and "'no-such-case' is neither a figure" in p for p in problems)
    assert [p for p in problems if "types_missing" in p and "02_types.ipynb, code cell 4" in p
            and 'if "types_missing" in ch.cfg["prose"]:' in p]  # 02_types runs in 2018 only
    assert len(problems) == 3


def test_a_slot_the_chapter_does_not_list(project):
    _add_cell(project, "07_collaboration.ipynb", 'ch.slot("after_phases")\nif "after_x" in ch.meta.get("slots", {}):\n'
                                                 '    ch.slot("after_x")\n')
    problems = _lint(project)
    assert len(problems) == len(L.editions()) and all("has no slots.after_phases" in p for p in problems)
    _edit(project, "2024", "      after_partners: []\n", "      after_partners: []\n      after_phases: []\n")
    assert len(_lint(project)) == len(L.editions()) - 1


def test_the_build_reports_its_own_edition_and_what_its_notebooks_break_elsewhere(project):
    _edit(project, "2018", "\nfigures:\n", "\n" + CITIZENS)
    _add_cell(project, "07_collaboration.ipynb", 'ch.show("citizens_by_level")\n')
    _edit(project, "2021", "after_quality: [collab_phases", "after_quality: [no-such-case, collab_phases")
    nbdir = project / "notebooks"
    with pytest.raises(L.EditionLintError) as e:
        L.check_build("2018", [nbdir / "07_collaboration.ipynb"], nbdir, project / "data")
    assert isinstance(e.value, InputError) and e.value.exit_code == 2
    text = str(e.value)
    assert "edition 2021" in text and "edition 2024" in text and "citizens_by_level" in text
    assert "no-such-case" not in text  # 2021's own config problem is the 2021 build's
    # a build that does not run 07_collaboration is not stopped by it
    L.check_build("2018", [nbdir / "02_types.ipynb"], nbdir, project / "data")
    with pytest.raises(L.EditionLintError, match="no-such-case"):
        L.check_build("2021", [nbdir / "00_front.ipynb"], nbdir, project / "data")


def test_plan_stops_before_any_notebook_runs(project, tmp_path):
    from barometer.build import BuildConfig, plan

    _add_cell(project, "07_collaboration.ipynb", 'ch.show("citizens_by_level")\n')
    cfg = BuildConfig(edition="2018", notebook_dir=project / "notebooks", out_dir=tmp_path / "out", quiet=True)
    with pytest.raises(InputError, match=r"edition 2021: .*07_collaboration.ipynb, code cell 4.*citizens_by_level"):
        plan(cfg)
    assert not (tmp_path / "out").exists()


def test_a_slot_group_must_be_items_of_one_kind(project):
    """{group: [...]} is checked before any notebook runs, by the rule the build uses (content.group_problem)."""
    _edit(project, "2018", "{group: [sof-project-model, innovation-internship]}",
          "{group: [sof-project-model, freeze-dried-blood]}")
    _edit(project, "2018", "{group: [combine-professions, boundary-crossing]}", "{group: [combine-professions]}")
    _edit(project, "2018", "{group: [open-data-dk, safer-train-stations]}", "{group: [open-data-dk, no-such-case]}")
    _edit(project, "2018", "{group: [thomas-hammer-jakobsen, jakob-christian-kyndal]}",
          "{group: [thomas-hammer-jakobsen, same-municipality]}")
    problems = _lint(project)
    assert len(problems) == 4 and all(p.startswith("edition 2018") and "slots.after_quality: group [" in p
                                      and "\n" not in p for p in problems)
    text = "\n".join(problems)
    assert "'sof-project-model' (tool), 'freeze-dried-blood' (case); make one group per kind" in text
    assert "two or more items" in text and "'no-such-case' is not a content item" in text
    assert "a fact box stands before its own figure" in text  # a quote and a fact box


def test_a_slot_group_written_wrong_is_one_line(project):
    _edit(project, "2018", "{group: [sof-project-model, innovation-internship]}",
          "{group: sof-project-model, prose: nordic_intro}")
    problems = _lint(project)
    assert len(problems) == 1 and "a group is {group: [content id, ...]}" in problems[0]
