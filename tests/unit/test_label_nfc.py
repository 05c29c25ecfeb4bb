"""Labels typed instead of codes are matched in NFC; invisible differences are shown."""

import unicodedata

import pandas as pd
import pytest

from barometer.codebook import load_codebook
from barometer.readers import map_labels, read_table
from barometer.validation import _lookalikes, show_value, values_text

NFD = unicodedata.normalize("NFD", "Tårnby")
NFC = unicodedata.normalize("NFC", "Tårnby")


@pytest.fixture(scope="module")
def cb():
    return load_codebook("2018", "dk")


def test_the_two_forms_differ_but_look_alike():
    assert NFD != NFC and len(NFD) == len(NFC) + 1


def test_nfd_label_maps_to_the_code(cb):
    code = next(c for c, t in cb.variables["municipality"].values.items() if t["da"] == NFC)
    df = pd.DataFrame({"municipality": [NFD, NFC, f"  {NFD.upper()} ", "185"]})
    out = map_labels(df, cb)
    assert out["municipality"].tolist() == [code, code, code, 185]


def test_nfd_spss_style_value_labels_recode(cb):
    """File value labels (SPSS/Stata) written in NFD still match the codebook's."""
    var = cb.variables["municipality"]
    code = next(c for c, t in var.values.items() if t["da"] == NFC)
    file_labels = {"municipality": {1: NFD, **{c + 1000: t["da"] for c, t in var.values.items() if c != code}}}
    df = pd.DataFrame({"municipality": [1.0]})
    assert map_labels(df, cb, file_labels)["municipality"].tolist() == [code]


def test_column_names_are_nfc(tmp_path):
    col = unicodedata.normalize("NFD", "område")
    path = tmp_path / "x.csv"
    path.write_text(f"{col},b\n1,2\n", encoding="utf-8")
    assert read_table(path).columns.tolist() == [unicodedata.normalize("NFC", "område"), "b"]


def test_invisible_difference_is_shown_and_named(cb):
    zw = "Tår\u200bnby"
    note = _lookalikes([zw, "Nowhere"], cb.variables["municipality"])
    assert "'Tår\\u200bnby'" in note and "U+200B ZERO WIDTH SPACE" in note and repr(NFC) in note
    assert "Nowhere" not in note


def test_combining_marks_are_escaped_in_messages():
    odd = "q\u030a"  # no precomposed form: stays two characters after NFC
    assert show_value(odd) == "'q\\u030a'"
    assert values_text([odd, "Tårnby"]) == "'q\\u030a', 'Tårnby'"
