"""The harmonisation table between editions, and what each edition's data must provide."""

import pytest
import yaml

from barometer import harmonisation as H
from barometer.codebook import load_codebook
from barometer.dataset import measures_spec
from barometer.paths import DATA_DIR
from barometer.report import editions, report_config

EDITIONS = ["2018", "2021", "2024"]


def test_shipped_table_is_valid():
    df = H.read()
    assert H.problems(df) == []
    assert list(df.columns) == H.COLUMNS
    assert set(df["edition"]) == set(EDITIONS)
    assert len(df) == df["measure"].nunique() * len(EDITIONS)  # one row per measure x edition


def test_the_internal_external_split_is_not_comparable():
    assert H.comparable("collab_any_external", EDITIONS) == ["2021", "2024"]
    assert H.comparable("collab_any", EDITIONS) == ["2021", "2024"]
    row = H.rows("collab_any_external", EDITIONS).iloc[0]
    assert row["comparable"] == "no" and "79" in row["note_en"] and "79" in row["note_da"]
    assert H.comparable("value_quality", EDITIONS) == EDITIONS


def _broken(edit) -> list[str]:
    df = H.read()
    edit(df)
    return H.problems(df)


@pytest.mark.parametrize("edit,message", [
    (lambda df: df.loc.__setitem__((0, "comparable"), "maybe"), "comparable must be yes or no"),
    (lambda df: df.loc.__setitem__((1, "measure"), "value_quality"), "no row for edition(s) ['2021']"),
    (lambda df: df.loc.__setitem__((1, "definition"), "something else"), "comparable rows have different definitions"),
    (lambda df: df.loc.__setitem__((3, "source_measure"), "no_such_measure"), "is not in data/report/measures.yaml"),
    (lambda df: df.loc.__setitem__((df.index[df["measure"] == "collab_foundations"][0], "source_measure"),
                                   "collab_foundations"), "is not in the 2018-dk codebook"),
    (lambda df: df.loc.__setitem__((0, "note_en"), ""), "note_en is empty"),
])
def test_problems_are_found(edit, message):
    assert any(message in p for p in _broken(edit)), _broken(edit)


def test_wrong_columns_are_refused():
    assert "columns must be exactly" in H.problems(H.read().drop(columns=["note_da"]))[0]


@pytest.mark.parametrize("edition", EDITIONS)
def test_every_measure_exists_or_is_mapped(edition):
    """Every measure of measures.yaml has its variable in the edition's codebook,
    or the harmonisation table says what stands for it (or that it was not asked)."""
    cb = load_codebook(edition, "dk")
    table = H.read()
    for name, spec in measures_spec(edition)["measures"].items():
        if spec["var"] in cb.variables or spec["var"] in cb.derived:
            continue
        row = table[(table["measure"] == name) & (table["edition"] == edition)]
        assert len(row) == 1 and row.iloc[0]["comparable"] == "no", f"{edition}: {name} ({spec['var']}) is unmapped"


@pytest.mark.parametrize("edition", [e for e in editions()])
def test_report_config_measures_exist_in_the_edition(edition):
    cfg = report_config(edition)
    cb = load_codebook(edition, "dk")
    spec = measures_spec(edition)["measures"]
    trend_ids = {f for f, s in cfg["figures"].items() if s.get("kind")}
    keys = cfg.get("key_figures", [])
    keys = keys.get("dk", []) if isinstance(keys, dict) else keys  # per country, or one Danish list
    used = [k["measure"] for k in keys if k["measure"] != "answers" and k.get("country", "dk") == "dk"]
    for fig_id, fig in cfg["figures"].items():
        if fig.get("data_country", "dk") != "dk" or "dk" not in fig.get("countries", ["dk"]):
            continue
        if fig_id not in trend_ids:
            used += fig.get("measures", []) + fig.get("partners", []) + [fig[k] for k in ("outcome", "reference", "measure")
                                                                       if k in fig]
        else:  # the edition comparison: every measure must be in the harmonisation table
            for m in fig["measures"]:
                assert len(H.rows(m, [str(e) for e in cfg["trends"]["editions"]])) == len(cfg["trends"]["editions"])
    for m in used:
        assert spec[m]["var"] in cb.variables or spec[m]["var"] in cb.derived, f"{edition}: {m}"


def test_measure_definitions_differ_by_edition():
    assert "workplace" in measures_spec("2018")["measures"]["collab_any_external"]["label"]["en"]
    for e in ("2021", "2024"):
        assert "organisation" in measures_spec(e)["measures"]["collab_any_external"]["label"]["en"]
    raw = yaml.safe_load((DATA_DIR / "report" / "measures.yaml").read_text(encoding="utf-8"))
    assert set(raw["editions"]) <= set(EDITIONS)
