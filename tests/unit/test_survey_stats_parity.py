"""Parity of barometer.survey's contrasts, factor means/totals, design effects,
cv, svyby(covmat=TRUE), svytable, svyttest, svyvar, svyquantile and Wilson
intervals with R's survey package, on saved reference values.

Reference: tests/fixtures/survey/r_reference_stats.json, written by
tests/fixtures/survey/make_reference_stats.R (R survey 4.1-1 on Debian 12) from
the fixture CSVs (R's data(api), fpc, mu284 and nhanes).  Every value agrees to
1e-8 relative.  Where the record is not a direct call of the installed function
the R script says so, and so do the tests below:

* Wilson (``svyciprop(method="wilson")``) is new in survey 4.5; with 4.1 the
  expected values are the 4.5 source formula applied to R's svymean and vcov.
* ``indep`` records (differences between independent samples) are R's
  estimates combined with the documented formula; R has no such function.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/: the shared reference helpers

from survey_stats_reference import check, compare_record, load_stats_reference  # noqa: E402

REF = load_stats_reference()
OPS = sorted({k.split("|")[2] for k in REF})


@pytest.mark.parametrize("key", sorted(REF))
def test_r_reference_stats(key):
    check(compare_record(key, REF[key]), key)


def test_every_new_function_is_covered():
    assert set(OPS) >= {"deff", "factor", "by", "bycov", "contrast", "table", "ttest", "var", "quantile",
                        "wilson", "indep"}
    assert len(REF) >= 1200
    assert any(k.split("|")[2] == "quantile" and "|score|" in k for k in REF)
    designs = {k.split("|")[0] for k in REF}
    assert {"mu284", "nhanes", "dclus2", "dclus1_rake"} <= designs


def test_wilson_records_say_where_they_come_from():
    meta = __import__("json").loads(
        (Path(__file__).resolve().parents[1] / "fixtures" / "survey" / "r_reference_stats.json").read_text())["_meta"]
    wil = [v for k, v in REF.items() if k.split("|")[2] == "wilson"]
    assert wil
    want = "svyciprop" if tuple(int(x) for x in meta["survey"].split(".")[:2]) >= (4, 5) else "formula of survey 4.5"
    assert {v["source"] for v in wil} == {want}


def test_largest_relative_difference(capsys):
    worst = max(check(compare_record(k, v), k) for k, v in REF.items())
    with capsys.disabled():
        print(f"\nlargest relative difference from R over {len(REF)} records: {worst:.3g}")
    assert worst < 1e-8
    assert np.isfinite(worst)
