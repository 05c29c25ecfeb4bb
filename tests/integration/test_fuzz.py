"""Fuzzing the input: a corrupted sample either gives a valid report or a clear error (exit 2).

Most examples go through what a build does first, in-process: read, validate,
weight (``--check-data``), then estimates.  Two fixed bad files go through the
whole ``build.py`` command line.
"""

import io
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from barometer import estimates, synth, writers
from barometer.checkdata import INPUT_ERRORS, check
from barometer.codebook import load_codebook
from barometer.dataset import load
from barometer.paths import ROOT

CB = load_codebook("2018", "dk")
COLUMNS = list(CB.variables)
CODED = [v.name for v in CB.variables.values() if v.type in ("category", "binary", "integer")]


@pytest.fixture(scope="module")
def sample():
    return pd.read_csv(synth.ensure("2018", "dk"), dtype=str, keep_default_na=False)


def _typed(df: pd.DataFrame) -> pd.DataFrame:
    """Columns as a binary format would store them: numbers where every cell is one, text otherwise."""
    out = {}
    for c in df.columns:
        num = pd.to_numeric(df[c].replace("", np.nan), errors="coerce")
        out[c] = num if num.notna().sum() == (df[c] != "").sum() else df[c].astype(str)
    return pd.DataFrame(out)


operations = st.one_of(
    st.tuples(st.just("drop"), st.sampled_from(COLUMNS)),
    st.tuples(st.just("text"), st.sampled_from(CODED), st.sampled_from(["abc", "Ja", "1,5", " ", "NA", "ø"])),
    st.tuples(st.just("code"), st.sampled_from(CODED), st.integers(-3, 30)),
    st.tuples(st.just("blank"), st.sampled_from(COLUMNS)),
    st.tuples(st.just("duplicate"), st.integers(0, 2362)),
    st.tuples(st.just("rename"), st.sampled_from(COLUMNS)),
    st.tuples(st.just("swap_stratum"), st.integers(0, 2362)),
)
containers = st.one_of(
    st.tuples(st.just("csv"), st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "latin-1", "utf-16"]),
              st.sampled_from([",", ";"])),
    st.tuples(st.sampled_from(["parquet", "sav", "dta"]), st.just(""), st.just("")),
)


def _corrupt(df: pd.DataFrame, ops, rows) -> pd.DataFrame:
    df = df.copy()
    for op in ops:
        kind, arg = op[0], op[1]
        if kind == "drop" and arg in df.columns:
            df = df.drop(columns=[arg])
        elif kind in ("text", "code") and arg in df.columns:
            df.loc[rows, arg] = str(op[2])
        elif kind == "blank" and arg in df.columns:
            df.loc[rows, arg] = ""
        elif kind == "duplicate":
            df = pd.concat([df, df.iloc[[arg]]], ignore_index=True)
        elif kind == "rename" and arg in df.columns:
            df = df.rename(columns={arg: arg.upper() + "_X"})
        elif kind == "swap_stratum" and "stratum" in df.columns:  # (an earlier op may have dropped or renamed it)
            df.loc[arg, "stratum"] = df["stratum"].iloc[(arg + 1) % len(df)]
    return df


def _write(df: pd.DataFrame, path, container, truncate: float | None) -> None:
    fmt, enc, sep = container
    if fmt == "csv":
        buf = io.StringIO()
        df.to_csv(buf, index=False, sep=sep, lineterminator="\n")
        data = buf.getvalue().encode(enc, errors="replace")
    else:
        tmp = path.with_suffix("." + fmt)
        writers.write_table(_typed(df), tmp, fmt, codebook=CB)
        data = tmp.read_bytes()
        tmp.unlink()
    if truncate is not None:
        data = data[: int(len(data) * truncate)]
    path.write_bytes(data)


def _assert_clear_error(exc: Exception, path) -> None:
    msg = str(exc)
    assert msg.strip() and "Traceback" not in msg
    first = msg.splitlines()[0]
    assert str(path) in msg or "problem" in first, msg[:500]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(ops=st.lists(operations, min_size=0, max_size=3),
       rows=st.lists(st.integers(0, 2362), min_size=1, max_size=6, unique=True),
       container=containers,
       truncate=st.one_of(st.none(), st.floats(0.0, 0.999)))
def test_corrupted_input_gives_a_report_or_a_clear_error(sample, tmp_path_factory, ops, rows, container, truncate):
    path = tmp_path_factory.mktemp("fuzz") / "respondents.dat"
    _write(_corrupt(sample, ops, rows), path, container, truncate)
    try:
        summary = check("2018", "dk", str(path))
    except INPUT_ERRORS as exc:
        _assert_clear_error(exc, path)
        return
    assert summary.startswith("OK: ")
    ds = load("2018", "dk", path)  # what the notebooks then do
    rows_ = estimates.shares(ds, ["collab_any_external", "collab_private", "value_quality"], "innovations", "f")
    ok = rows_[~rows_["suppressed"]]
    assert ok["estimate_pct"].between(0, 100).all() and ok["ci_low_pct"].notna().all()


# --------------------------------------------------------------------------------------
# fixed examples through the whole command line (a sound SPSS file is built by
# tests/test_build.py::test_build_from_spss_file_with_hostile_labels)
# --------------------------------------------------------------------------------------
def _cli(*args):
    return subprocess.run([sys.executable, "build.py", *args], cwd=ROOT, capture_output=True, text=True, timeout=600,
                          env={**os.environ, "PYTHONWARNINGS": "ignore"})


@pytest.mark.parametrize("case", ["truncated sav", "codes injected and a column dropped"])
def test_cli_bad_input_exits_2_with_a_message_and_writes_nothing(sample, tmp_path, case):
    (tmp_path / "in").mkdir()
    path = tmp_path / "in" / ("in.sav" if "sav" in case else "in.csv")  # the output may not lie beside it
    if case == "truncated sav":
        _write(sample, path, ("sav", "", ""), truncate=0.6)
    else:
        _write(_corrupt(sample, [("code", "collab_private", 7), ("drop", "innovation_text")], [5, 50, 500]), path,
               ("csv", "cp1252", ";"), None)
    out = tmp_path / "site"
    r = _cli("--data", str(path), "--out", str(out), "--no-pdf", "--quiet")
    assert r.returncode == 2, r.stderr
    assert r.stderr.startswith("error: ") and "Traceback" not in r.stderr and str(path) in r.stderr
    if case != "truncated sav":
        assert "column 'collab_private': values 7 in 3 data rows (6, 51, 501)" in r.stderr
        assert "1 column of the 2018-dk codebook missing: innovation_text" in r.stderr
    assert not out.exists() and not list(tmp_path.glob(".site.tmp-*"))
