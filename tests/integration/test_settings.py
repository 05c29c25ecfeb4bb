"""A setting that changes what is published re-runs exactly what it changes, in both
build modes, and changing it back takes everything from the cache again."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pandas as pd
import pytest

from barometer.paths import ROOT

MODES = {"edition": ["--no-pdf"], "fanout": ["--by", "government_level"]}


def _build(out, *args):
    cache = out.parent / "cache"  # this test's own cache: what it finds there, it put there
    r = subprocess.run([sys.executable, str(ROOT / "build.py"), "--out", str(out), "--cache-dir", str(cache), "--quiet",
                        *args], cwd=ROOT,
                       capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stderr
    m = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    tasks = m["tasks"]
    est = pd.read_csv(out / "estimates.csv", dtype={"category": str})
    return {t.get("chapter") or t["id"]: t["cache"] for t in tasks}, est


@pytest.mark.parametrize("mode", list(MODES))
def test_min_base_rekeys_every_report_and_back_is_cached(tmp_path, mode):
    base = MODES[mode]
    first, est = _build(tmp_path / "a", *base)
    shares = est[est["estimate_pct"].notna() & ~est["suppressed"]]
    assert len(shares), "nothing published to suppress"
    strict, est_strict = _build(tmp_path / "b", *base, "--min-base", "5000")
    assert set(strict.values()) == {"miss"}, strict  # every report's output can change: none from the cache
    shown = est_strict[est_strict["estimate_pct"].notna()]
    assert set(shown["measure"]) <= {"respondents"}, shown  # only the method chapter's response rates remain
    pages = (tmp_path / "b" / ("metode.html" if mode == "edition" else "units/1.html")).read_text(encoding="utf-8")
    assert re.search(r"(mindst|færre end) 5\.?000 ", pages), "the page does not state the threshold in force"
    assert not re.search(r"(mindst|færre end) 20 ", pages), "the page states the default threshold"
    again, est_again = _build(tmp_path / "c", *base)
    assert set(again.values()) == {"hit"}, again  # back to the settings file: all from the cache
    pd.testing.assert_frame_equal(est_again, est)
