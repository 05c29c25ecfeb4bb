"""A new edition from one command (barometer.newedition): every file it needs, each value to revise
marked, and --check-edition listing every gap and every value still copied, at once."""

import csv
import shutil
from pathlib import Path

import pytest

from barometer import editionlint, newedition, yamlio
from barometer.paths import DATA_DIR, NOTEBOOK_DIR


@pytest.fixture
def data(tmp_path, monkeypatch):
    """A copy of the project's data (without the generated samples) that a test may change."""
    root = tmp_path / "data"
    shutil.copytree(DATA_DIR, root, ignore=shutil.ignore_patterns("synthetic"))
    monkeypatch.setattr(newedition, "DATA_DIR", root)
    return root


def _rows(path: Path, edition: str) -> list[dict]:
    with path.open(encoding="utf-8", newline="") as f:
        return [r for r in csv.DictReader(f) if r["edition"] == edition]


def _snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_the_existing_editions_are_ready():
    for e in ("2018", "2021", "2024"):
        assert newedition.check_edition(e) == [], e
    for e in editionlint.editions():  # one being scaffolded has values to revise, but nothing a build lacks
        assert [p for p in newedition.check_edition(e) if p.startswith("gap: ")] == [], e


def test_scaffold_writes_every_file_an_edition_needs(data):
    written = newedition.scaffold("2027", "2024", data)
    names = {str(p.relative_to(data)) for p in written}
    assert {"report/2027.yaml", "codebook/2027-dk.yaml", "synth/2027.yaml", "targets/published_targets.csv",
            "harmonisation.csv", "report/measures.yaml", "content/2027/README.md"} <= names
    assert all((data / "content" / "2027" / k).is_dir() for k in newedition.CONTENT_KINDS)
    # the report config: the same values as the source's, but for the edition's own keys
    new, old = (yamlio.load_file(data / "report" / f"{e}.yaml") for e in ("2027", "2024"))
    assert (new.pop("edition"), new.pop("edition_number"), new.pop("_copied_from")) == ("2027", 5, "2024")
    assert new["trends"].pop("editions") == ["2018", "2021", "2024", "2027"]
    old.pop("edition"), old.pop("edition_number"), old["trends"].pop("editions")
    assert new == old
    cb = yamlio.load_file(data / "codebook" / "2027-dk.yaml")
    assert (cb["edition"], cb["edition_number"], cb["country"]) == ("2027", 5, "dk")
    assert yamlio.load_file(data / "synth" / "2027.yaml")["seed"] == 2027  # its own random draws
    # the rows: published figures and harmonisation copied, each marked
    targets = _rows(data / "targets" / "published_targets.csv", "2027")
    assert len(targets) == len(_rows(DATA_DIR / "targets" / "published_targets.csv", "2024")) >= 3
    assert all(r["source"].startswith("TODO(2027)") for r in targets)
    harm = _rows(data / "harmonisation.csv", "2027")
    assert {r["measure"] for r in harm} == {r["measure"] for r in _rows(DATA_DIR / "harmonisation.csv", "2024")}
    assert all(r["note_da"].startswith("TODO(2027)") and r["note_en"].startswith("TODO(2027)") for r in harm)
    measures = yamlio.load_file(data / "report" / "measures.yaml")["editions"]
    assert measures["2027"] == measures["2024"]
    # the shared notebooks run on it as they do on the source
    assert editionlint.lint_edition("2027", data, NOTEBOOK_DIR) == []


def test_period_and_edition_texts_are_marked_not_carried_over_silently(data):
    newedition.scaffold("2027", "2024", data)
    report = (data / "report" / "2027.yaml").read_text(encoding="utf-8").splitlines()
    for line in report:
        if "4. udgave" in line or "4th edition" in line or "2021-2023" in line:
            if not line.lstrip().startswith("#"):
                assert "TODO(2027)" in line, line
    period = next(ln for ln in (data / "codebook" / "2027-dk.yaml").read_text().splitlines() if ln.startswith("period:"))
    assert "2021-2023" in period and "TODO(2027)" in period
    sizes = [ln for ln in (data / "synth" / "2027.yaml").read_text().splitlines()
             if ln.strip().startswith(("population:", "sampled:", "respondents:"))]
    assert len(sizes) == 3 and all("TODO(2027)" in ln for ln in sizes)


def test_check_edition_lists_every_open_value_at_once(data):
    newedition.scaffold("2027", "2024", data)
    problems = newedition.check_edition("2027", data)
    copied = [p for p in problems if p.startswith("copied: ")]
    files = {p.split(":")[1].strip() for p in copied}
    assert {"data/report/2027.yaml", "data/codebook/2027-dk.yaml", "data/synth/2027.yaml",
            "data/targets/published_targets.csv", "data/harmonisation.csv", "data/report/measures.yaml"} <= \
        {f"data/{f.split('/data/', 1)[-1]}" if "/data/" in f else f for f in files}
    assert any("4. udgave" in p for p in copied) and any("period" in p and "2021-2023" in p for p in problems)
    assert [p for p in problems if p.startswith("gap: ")] == []  # it builds as it is
    assert any("period '2021-2023' is the 2024 edition's" in p for p in copied)
    # a marker taken away while the text stays the source's: still listed
    path = data / "report" / "2027.yaml"
    text = path.read_text(encoding="utf-8")
    line = next(ln for ln in text.splitlines() if "Denne 4. udgave" in ln)
    path.write_text(text.replace(line, line.split("  # TODO(2027)")[0]), encoding="utf-8")
    again = newedition.check_edition("2027", data)
    assert any("still the 2024 text" in p and "4. udgave" in p for p in again)


def test_check_edition_names_every_gap(data):
    newedition.scaffold("2027", "2024", data)
    for name in ("targets/published_targets.csv", "harmonisation.csv"):  # drop some of the new rows
        p = data / name
        lines = p.read_text(encoding="utf-8").splitlines(keepends=True)
        keep = [ln for ln in lines if not (ln.startswith("2027,DK,innovations,collab_any,") or
                                           ln.startswith("collab_any,2027,") or ln.startswith("phase_idea,2027,"))]
        assert len(keep) < len(lines)
        p.write_text("".join(keep), encoding="utf-8")
    m = data / "report" / "measures.yaml"
    text = m.read_text(encoding="utf-8")
    m.write_text(text[:text.index('  "2027":')], encoding="utf-8")
    shutil.rmtree(data / "content" / "2027")
    gaps = [p for p in newedition.check_edition("2027", data) if p.startswith("gap: ")]
    text = "\n".join(gaps)
    assert "no 2027 row for DK innovations collab_any, which" in text  # the model calibrates to it
    assert "no 2027 row for collab_any, phase_idea" in text
    assert "measures.yaml: no entry for 2027 under editions:" in text
    assert "data/content/2027/ does not exist" in text.replace(str(data), "data")
    assert len(gaps) == 4


def test_an_existing_edition_is_never_overwritten(data):
    before = _snapshot(data)
    with pytest.raises(newedition.NewEditionError, match="edition 2024 exists already") as e:
        newedition.scaffold("2024", "2021", data)
    assert e.value.exit_code == 2
    assert _snapshot(data) == before
    newedition.scaffold("2027", "2024", data)
    after = _snapshot(data)
    with pytest.raises(newedition.NewEditionError, match="2027 exists already"):
        newedition.scaffold("2027", "2021", data)
    assert _snapshot(data) == after
    with pytest.raises(newedition.NewEditionError, match="no edition '1999' to copy from"):
        newedition.scaffold("2030", "1999", data)
    with pytest.raises(newedition.NewEditionError, match="not an edition year"):
        newedition.scaffold("27", "2024", data)
    assert _snapshot(data) == after


def test_from_an_edition_with_two_countries_and_content(data):
    newedition.scaffold("2027", "2018", data)
    assert (data / "codebook" / "2027-no.yaml").is_file()
    cases = sorted((data / "content" / "2027" / "cases").glob("*.yaml"))
    assert len(cases) == len(list((DATA_DIR / "content" / "2018" / "cases").glob("*.yaml"))) > 0
    assert all(p.read_text(encoding="utf-8").startswith("# TODO(2027): copied from the 2018") for p in cases)
    from barometer.content import load_content

    assert len(load_content("2027", data / "content").items(kind="case")) == len(cases)  # still valid content
    assert yamlio.load_file(data / "report" / "measures.yaml")["editions"]["2027"] == {}
    assert editionlint.lint_edition("2027", data, NOTEBOOK_DIR) == []


def test_the_command_line(data, capsys):
    from barometer.cli import main

    assert main(["new-edition", "2027", "--from", "2024"]) == 0
    out = capsys.readouterr().out
    assert "wrote data/report/2027.yaml" in out.replace(str(data), "data") and "--check-edition 2027" in out
    assert main(["new-edition", "2027", "--from", "2024"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: new-edition: edition 2027 exists already") and err.count("\n") == 1
    assert newedition.main_check("2027") == 2
    err = capsys.readouterr().err
    assert err.startswith("error: edition 2027 is not ready") and "copied: " in err
    assert newedition.main_check("2024") == 0 and capsys.readouterr().out.startswith("OK")
