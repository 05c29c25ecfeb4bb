import copy
import shutil

import pandas as pd
import pytest
import yaml

from barometer.codebook import CodebookError, load_codebook
from barometer.paths import DATA_DIR


@pytest.mark.parametrize("country", ["dk", "no"])
def test_shipped_codebooks_validate(country):
    cb = load_codebook("2018", country)
    for var in cb.variables.values():
        assert var.label["da"] and var.label["en"], var.name
        if var.type in ("category", "binary"):
            assert var.values, f"{var.name} has no value labels"
        assert var.universe
    assert "resp_id" in cb.sensitive


def test_dk_codebook_has_the_facts_categories():
    cb = load_codebook("2018", "dk")
    assert len(cb["subsector"].values) == 15
    assert len(cb["region"].values) == 5
    assert len(cb["municipality"].values) == 98
    assert len(cb.groups["partners"]) == 10
    assert len(cb.groups["initiators"]) == 16
    assert cb["novelty"].values[1]["en"].startswith("We were the first")
    assert cb["collab_municipal"].universe == "innovative == 1 and gov_level in [1, 2]"
    assert cb["innovation_text"].sensitive


def _copy(tmp_path, edit):
    d = tmp_path / "codebook"
    shutil.copytree(DATA_DIR / "codebook", d)
    raw = yaml.safe_load((d / "2018-dk.yaml").read_text(encoding="utf-8"))
    edit(raw)
    (d / "2018-dk.yaml").write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return d


def test_missing_english_label_is_an_error_naming_the_field(tmp_path):
    d = _copy(tmp_path, lambda raw: raw["variables"][0]["label"].pop("en"))
    with pytest.raises(CodebookError, match=r"variables\.0\.label: 'en' is a required property"):
        load_codebook("2018", "dk", d)


def test_unknown_value_set_is_an_error(tmp_path):
    def edit(raw):
        raw["variables"][6]["values"] = "no_such_set"
    d = _copy(tmp_path, edit)
    with pytest.raises(CodebookError, match="unknown value set 'no_such_set'"):
        load_codebook("2018", "dk", d)


def test_duplicate_variable_is_an_error(tmp_path):
    # a deep copy: shared objects would be dumped as YAML aliases, which the loader refuses
    d = _copy(tmp_path, lambda raw: raw["variables"].append(copy.deepcopy(raw["variables"][0])))
    with pytest.raises(CodebookError, match="defined twice"):
        load_codebook("2018", "dk", d)


def test_unknown_edition_lists_the_available_ones():
    with pytest.raises(CodebookError, match="available: .*2018-dk"):
        load_codebook("1999", "dk")


def test_prepare_recodes_missing_and_derives_innovative():
    cb = load_codebook("2018", "dk")
    df = pd.DataFrame({"type_service": [1, 2, 9, 8], "type_process": [2, 2, 9, 2],
                       "type_communication": [2, 2, 9, 1], "collab_none": [0, None, None, None],
                       "gov_level": [3, 3, 3, 1]})
    out = cb.prepare(df)
    assert out["innovative"].tolist()[:2] == [1.0, 0.0]
    assert pd.isna(out["innovative"].iloc[2])  # every innovation item missing
    assert out["innovative"].iloc[3] == 1.0
    # collab_any_external only for innovators
    assert out["collab_any_external"].iloc[0] == 1.0 and pd.isna(out["collab_any_external"].iloc[1])
