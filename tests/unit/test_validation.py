"""Bad input files: every problem is one line naming file, column, rows, values and what was expected."""


import pandas as pd
import pytest

from barometer import dataset, synth
from barometer.codebook import load_codebook
from barometer.validation import ValidationError, problems


@pytest.fixture(scope="module")
def raw():
    return pd.read_csv(synth.ensure("2018", "dk"), dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def frame():
    return pd.read_csv(synth.sample_dir("2018", "dk") / "frame.csv")


def _problems(df, frame=None):
    from barometer.readers import map_labels

    cb = load_codebook("2018", "dk")
    return problems(map_labels(df, cb), cb, "in.csv", frame, "frame.csv" if frame is not None else None)


def _one_stratum(d):
    first = d["stratum"].iloc[0]
    return d.drop(d[d["stratum"] == first].index[1:])


def _four_initiators(d):
    d.loc[2, ["init_employees", "init_managers", "init_citizens", "init_private"]] = "1"
    d.loc[2, ["type_service"]] = "1"
    return d


CASES = {
    "missing columns": (lambda d: d.drop(columns=["stratum_N", "novelty"]),
                        r"^in.csv: 2 columns of the 2018-dk codebook missing: stratum_N, novelty \(file has"),
    "unexpected column": (lambda d: d.assign(vaegt2="1"), r"^in.csv: 1 unexpected column not in the 2018-dk codebook: vaegt2"),
    "wrong type": (lambda d: d.assign(stratum_N=d["stratum_N"].where(d.index != 3, "mange")),
                   r"^in.csv: column 'stratum_N' \(integer\): text 'mange' in data row 4: expected numbers$"),
    "code outside labels": (lambda d: d.assign(novelty=d["novelty"].where(~d.index.isin([4, 8, 9, 30, 40, 50, 60]), "7")),
                            r"^in.csv: column 'novelty': values 7 in 7 data rows \(5, 9, 10, 31, 41, … 2 more\) are not "
                            r"codes of its value labels: expected a code of the codebook: 1 \(Vi var"),
    "duplicate ids": (lambda d: d.assign(resp_id=d["resp_id"].where(d.index != 5, d["resp_id"][6])),
                      r"^in.csv: column 'resp_id': 1 id occurs \('DK18-\d+'\) more than once, in 2 data rows \(6, 7\)"),
    "zero and missing weights": (lambda d: d.assign(weight=["0", "", "-2"] + ["5.9"] * (len(d) - 3)),
                                 r"^in.csv: column 'weight': weights 0, -2 in 2 data rows \(1, 3\) are zero or negative"),
    "one-unit stratum": (_one_stratum, r"^in.csv: column 'stratum': stratum '[\d-]+' has one respondent only, in data row 1"),
    "empty universe": (lambda d: d.assign(type_service="2", type_process="2", type_communication="2"),
                       r"^in.csv: column 'novelty': its universe \(innovative == 1\) is empty"),
    "population differs in stratum": (lambda d: d.assign(stratum_N=d["stratum_N"].where(d.index != 0, "9999")),
                                      r"^in.csv: column 'stratum_N': values 9999, \d+ differ within stratum"),
    "too many initiators": (_four_initiators,
                            r"^in.csv: columns of initiators \(init_employees … init_dont_know\): \d items chosen in data row 3: expected at most 3"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_each_problem_is_one_clear_line(raw, case):
    corrupt, pattern = CASES[case]
    lines = _problems(corrupt(raw.copy()))
    assert any(pd.Series([line]).str.contains(pattern).iloc[0] for line in lines), "\n".join(lines)
    assert all("\n" not in line and line.startswith(("in.csv", "frame.csv")) for line in lines)


def test_sound_sample_has_no_problems(raw, frame):
    assert _problems(raw.copy(), frame) == []


def test_frame_totals_must_match(raw, frame):
    short = frame[frame["stratum"] != frame["stratum"].iloc[-1]]
    lines = _problems(raw.copy(), pd.concat([short, frame[frame["stratum"] == frame["stratum"].iloc[-1]].iloc[:3]]))
    assert any("the frame's unit counts do not match the data's population counts in 1 strata" in line
               and "in the frame: expected equal totals" in line.replace("3 in the frame)", "in the frame")
               for line in lines), lines
    lines = _problems(raw.copy(), short)
    assert any("are not in the frame frame.csv" in line for line in lines), lines
    lines = _problems(raw.copy(), frame.drop(columns=["stratum"]))
    assert lines[0].startswith("frame.csv: column 'stratum' is missing")


def test_load_raises_all_problems_at_once(raw, tmp_path):
    d = raw.copy().drop(columns=["novelty"]).assign(extra="x")
    d.loc[3, "collab_private"] = "7"
    p = tmp_path / "bad.csv"
    d.to_csv(p, index=False)
    with pytest.raises(ValidationError) as exc:
        dataset.load("2018", "dk", p)
    assert len(exc.value.problems) == 3
    assert str(exc.value).startswith("3 problems in the input data:\n")


def _view(df):
    from barometer.readers import map_labels
    from barometer.validation import _column_problems

    cb = load_codebook("2018", "dk")
    return _column_problems(map_labels(df, cb), cb, "in.csv")[1], cb


def _pandera_passes(view, cb) -> bool:
    from barometer.validation import _pandera, schema

    try:
        schema(cb).validate(view, lazy=True)
    except _pandera().errors.SchemaErrors:
        return False
    return True


COLUMN_BREAKS = {
    "code outside labels": lambda d: d.assign(novelty=d["novelty"].where(d.index != 4, "7")),
    "code as a fraction": lambda d: d.assign(novelty=d["novelty"].where(d.index != 4, "1.5")),
    "not whole": lambda d: d.assign(stratum_N=d["stratum_N"].where(d.index != 3, "12.5")),
    "empty design variable": lambda d: d.assign(stratum_N=d["stratum_N"].where(d.index != 3, "")),
    "empty stratum": lambda d: d.assign(stratum=d["stratum"].where(d.index != 3, "")),
    "duplicate ids": lambda d: d.assign(resp_id=d["resp_id"].where(d.index != 5, d["resp_id"][6])),
    "empty id": lambda d: d.assign(resp_id=d["resp_id"].where(d.index != 5, "")),
    "text in a code column": lambda d: d.assign(novelty=d["novelty"].where(d.index != 4, "mange")),
}


@pytest.mark.parametrize("case", ["valid", *COLUMN_BREAKS])
def test_the_pandas_column_checks_pass_exactly_where_the_pandera_schema_does(raw, case):
    """pandera is imported only when the pandas checks fail: they must never pass a file the
    schema fails (and, for these files, they agree with it)."""
    from barometer.validation import _columns_pass

    view, cb = _view(COLUMN_BREAKS[case](raw.copy()) if case != "valid" else raw)
    assert _columns_pass(view, cb) == _pandera_passes(view, cb)
    if case == "valid":
        assert _columns_pass(view, cb)


def test_a_range_outside_the_codebook_fails_both_checks(raw):
    from barometer.validation import _columns_pass

    cb = load_codebook("2018", "dk")
    ranged = [v for v in cb.variables.values() if v.type == "integer" and v.range and v.name in raw.columns]
    assert ranged, "the 2018 codebook has an integer variable with a range"
    var = ranged[0]
    view, cb = _view(raw.assign(**{var.name: raw[var.name].where(raw.index != 2, str(var.range[1] + 1))}))
    assert not _columns_pass(view, cb) and not _pandera_passes(view, cb)


def test_a_problem_is_described_in_a_notebook_too(raw, restore_text_repr):
    """In a kernel, frames with respondent ids refuse to be printed (the display guard):
    the validation still gives its one line about duplicated ids (pandera formats the
    failing column for a message of its own, which is never shown)."""
    from barometer import privacy

    privacy.guard_text_repr({"resp_id"})
    with pytest.raises(privacy.MicrodataError):
        repr(raw["resp_id"])
    dup = raw.assign(resp_id=raw["resp_id"].where(raw.index != 5, raw["resp_id"][6]))
    assert any("more than once" in p for p in _problems(dup))
    with pytest.raises(privacy.MicrodataError):  # the guard is back
        repr(raw["resp_id"])
