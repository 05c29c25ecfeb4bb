"""Parity with R's survey package for replicate-weight designs (``svrepdesign``,
``as.svrepdesign``: JK1, JKn, BRR, Fay, bootstrap, ``mse``), ``calibrate()``
(linear/GREG, bounded linear, raking, logit), GLM formulas with interactions,
``quasipoisson`` and ``regTermTest``.

Reference values: tests/fixtures/survey/r_reference_repl.json, made by
tests/fixtures/survey/make_reference_repl.R (R survey 4.1-1) on the api
samples and R's bundled scd, mu284 and nhanes data (CSV copies beside it).
Tolerances: 1e-8 relative; 1e-5 for GLMs and iterative calibration.
"""

from __future__ import annotations

from functools import lru_cache

import pytest

from survey_repl_reference import Checker, build, check, check_design_spec, fixture_bases, load

REF = load()
CHK = Checker()


@lru_cache(maxsize=None)
def bases():
    return fixture_bases()


@lru_cache(maxsize=None)
def design(name: str):
    return build(name, REF["designs"][name], bases())


def test_reference_covers_every_new_function():
    keys = list(REF["records"])
    ops = {k.split("|")[1] for k in keys}
    assert {"mean", "total", "ratio", "ciprop", "by", "glm", "degf", "weights"} <= ops
    kinds = {(s["kind"], s.get("type"), s.get("calfun")) for s in REF["designs"].values()}
    for t in ("JK1", "JKn", "BRR", "Fay", "bootstrap"):
        assert any(k[1] == t for k in kinds), t
    for c in ("linear", "raking", "logit"):
        assert any(k[2] == c for k in kinds), c
    assert any("quasipoisson" in k for k in keys) and any(":" in k for k in keys)
    assert len(keys) > 500


@pytest.mark.parametrize("name", sorted(n for n, s in REF["designs"].items() if s["kind"] in ("rep", "svrep")))
def test_replicate_scales(name):
    check_design_spec(name, REF["designs"][name], design(name))


@pytest.mark.parametrize("key", sorted(REF["records"]))
def test_parity(key):
    name = key.split("|")[0]
    check(key, REF["records"][key], {name: design(name)}, REF["designs"], CHK)


def test_zz_report_largest_difference(capsys):
    # runs last (sorted names): prints the largest relative difference found
    with capsys.disabled():
        print(f"\nrepl parity: {CHK.count} values, largest relative difference {CHK.worst[0]:.3g} ({CHK.worst[1]})")
        for tol, (worst, what) in sorted(CHK.by_tol.items()):
            print(f"  among values held to {tol:g}: {worst:.3g} ({what})")
    assert CHK.count > 0
