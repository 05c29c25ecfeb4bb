"""Every input format researchers receive gives the same data and the same estimates."""

import numpy as np
import pandas as pd
import pyreadstat
import pytest

from barometer import dataset, estimates, writers
from barometer.codebook import load_codebook
from barometer.readers import ReadError, read_table, sniff_format
from barometer.validation import ValidationError

PARTNERS = ["collab_same_org", "collab_private", "collab_citizens", "collab_any_external"]


def _estimates(ds):
    rows = [estimates.share(ds, m, "innovations", "f") for m in PARTNERS]
    rows += [estimates.share(ds, "innovative", p, "g", category=p)
             for p in ("workplaces", "state_workplaces", "municipal_workplaces")]
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def baseline(dk2018):
    return _estimates(dk2018)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("formats")
    out = {}
    for name, fmt, kw in [("sav", "sav", {}), ("dta", "dta", {}), ("xlsx", "xlsx", {}), ("parquet", "parquet", {}),
                          ("csv-utf8-bom", "csv", {"encoding": "utf-8-sig"}),
                          ("csv-cp1252-semicolon", "csv", {"encoding": "cp1252", "sep": ";", "decimal": ","}),
                          ("csv-latin1", "csv", {"encoding": "latin-1"})]:
        out[name] = writers.write_sample("2018", "dk", d / f"respondents.{fmt}", fmt, **kw) if fmt != "csv" else \
            writers.write_sample("2018", "dk", d / f"{name}.csv", fmt, **kw)
    return out


@pytest.mark.parametrize("name", ["sav", "dta", "xlsx", "parquet", "csv-utf8-bom", "csv-cp1252-semicolon", "csv-latin1"])
def test_every_format_round_trips_to_identical_estimates(name, files, dk2018, baseline):
    ds = dataset.load("2018", "dk", files[name])
    pd.testing.assert_frame_equal(_estimates(ds), baseline)
    for col in ("resp_id", "workplace_name", "innovation_text", "stratum"):
        assert ds.df[col].fillna("").astype(str).tolist() == dk2018.df[col].fillna("").astype(str).tolist(), col
    assert np.allclose(ds.df["weight"], dk2018.df["weight"])


def test_danish_letters_survive_every_encoding(files, dk2018):
    names = dk2018.df["workplace_name"].dropna()
    with_letters = names[names.str.contains("[æøåÆØÅ]")]
    assert len(with_letters) > 10, "the sample should have names with æøå"
    cb = load_codebook("2018", "dk")
    for name in ("csv-utf8-bom", "csv-cp1252-semicolon", "csv-latin1"):
        got = read_table(files[name], cb)["workplace_name"]
        assert got[with_letters.index].tolist() == with_letters.tolist(), name
        assert not got.dropna().str.contains("Ã|�").any(), f"{name}: garbled letters"


def test_format_comes_from_content_not_extension(files, tmp_path):
    for name, fmt in [("sav", "sav"), ("dta", "dta"), ("xlsx", "xlsx"), ("parquet", "parquet")]:
        disguised = tmp_path / f"{name}.csv"
        disguised.write_bytes(files[name].read_bytes())
        assert sniff_format(disguised) == fmt
    assert sniff_format(files["csv-cp1252-semicolon"]) == "csv"


def test_decimal_comma_is_read(tmp_path):
    p = tmp_path / "x.csv"
    p.write_bytes("a;b;name\n1,5;2;Ærø\n3,25;4;Åbo\n".encode("cp1252"))
    df = read_table(p)
    assert df["a"].tolist() == [1.5, 3.25] and df["name"].tolist() == ["Ærø", "Åbo"]


def test_value_labels_become_codebook_codes(tmp_path, dk2018):
    """A file coded differently (SPSS labels 0 = Nej, 1 = Ja) and a file with label text
    (Excel) both come back with the codebook's codes."""
    cb = load_codebook("2018", "dk")
    raw = read_table(dk2018.files[0], cb)
    recoded = raw.copy()
    recoded["type_service"] = recoded["type_service"].map({1: 11, 2: 12, 8: 18, 9: 19})
    p = tmp_path / "recoded.sav"
    data, labels, _ = writers._labelled(recoded, cb)
    labels["type_service"] = {11.0: "Ja", 12.0: "Nej", 18.0: "Ved ikke", 19.0: "Uoplyst"}
    pyreadstat.write_sav(data, str(p), variable_value_labels=labels)
    with pytest.raises(ValidationError, match=r"column .type_service.: values (1[1289], ){3}1[1289] in 2363 data rows"):
        dataset.load("2018", "dk", p)  # 'Uoplyst' is no label of the codebook: codes kept, validation reports 11/12
    labels["type_service"] = {11.0: "Ja", 12.0: "Nej", 18.0: "Ved ikke"}
    data.loc[data["type_service"] == 19, "type_service"] = 9.0
    pyreadstat.write_sav(data, str(p), variable_value_labels=labels)
    got = read_table(p, cb)
    assert got["type_service"].tolist() == raw["type_service"].astype(float).tolist()

    text = raw.copy()
    text["private_role"] = text["private_role"].map({1: "Ingen rolle", 2: "  en rolle, men ikke som formel samarbejdspartner",
                                                      3: "Formal collaboration partner"})
    p = tmp_path / "labels.xlsx"
    text.to_excel(p, index=False)
    got = read_table(p, cb)
    assert got["private_role"].tolist() == pytest.approx(raw["private_role"].astype(float).tolist(), nan_ok=True)


@pytest.mark.parametrize("content,message", [
    (b"", "file is empty"),
    (b"\xd0\xcf\x11\xe0" + b"\x00" * 100, "old Excel .xls"),
    (bytes(range(256)) * 4, "binary file of unknown format"),
    (b"PK\x03\x04" + b"\x00" * 60, "damaged or truncated"),
    (b"$FL2" + b"\x00" * 60, "cannot be read as sav"),
    (b"PAR1" + b"\x00" * 60, "cannot be read as parquet"),
    (b"<stata_dta><header>", "cannot be read as dta"),
    (b"resp_id\nA\nB\n", "found a single column"),
    (b"a,b\n", "has a header but no rows"),
    (b'a,b\n1,"2\n', "not a well-formed CSV"),
])
def test_unreadable_files_say_why(tmp_path, content, message):
    p = tmp_path / "input.dat"
    p.write_bytes(content)
    with pytest.raises(ReadError, match=message) as exc:
        read_table(p)
    assert str(p) in str(exc.value)
