"""Live parity with R for replicate-weight designs, calibrate(), GLM
interactions, quasipoisson and regTermTest: random data, R's survey package
run through ``Rscript`` (tests/fixtures/survey/make_reference_repl.R --live)
on the same CSV, every record recomputed with barometer.survey.

Skipped (with the reason) when ``Rscript`` with the survey package is absent.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/ helpers

from survey_repl_reference import Checker, build, check, check_design_spec, live_bases, load  # noqa: E402

pytestmark = pytest.mark.r

SCRIPT = Path(__file__).resolve().parents[1] / "fixtures" / "survey" / "make_reference_repl.R"
SKIP_REASON = "Rscript with the survey package not found: apt-get install r-cran-survey"


def r_ready() -> bool:
    if shutil.which("Rscript") is None:
        return False
    probe = subprocess.run(["Rscript", "-e", "quit(status = !requireNamespace('survey', quietly = TRUE))"],
                           capture_output=True)
    return probe.returncode == 0


def make_data(seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for h in range(8):
        n_psu = int(rng.choice([2, 2, 4]))  # even: BRR can split every stratum
        for j in range(n_psu):
            for _ in range(int(rng.integers(3, 9))):
                rows.append((h + 1, (h + 1) * 100 + j + 1))
    df = pd.DataFrame(rows, columns=["st", "psu"])
    n = len(df)
    df["w"] = np.round(rng.uniform(1, 20, n), 6)
    df["x"] = np.round(rng.uniform(1, 10, n), 6)
    df["grp"] = rng.choice(["a", "b", "c"], n)
    df["hh"] = rng.choice(["u", "v"], n)
    df["y"] = np.round(3 + 0.5 * df["x"] + (df["grp"] == "b") * 1.5 + rng.normal(0, 2, n), 6)
    df.loc[rng.random(n) < 0.05, "y"] = np.nan
    p = 1 / (1 + np.exp(-(-0.5 + 0.2 * df["x"] - 0.3 * (df["hh"] == "v"))))
    df["ind"] = (rng.random(n) < p).astype(float)
    df.loc[rng.random(n) < 0.04, "ind"] = np.nan
    df["cnt"] = rng.poisson(np.exp(0.3 + 0.1 * df["x"]))
    return df


@pytest.mark.parametrize("seed", [7, 2026])
def test_live_parity(tmp_path, seed):
    if not r_ready():
        pytest.skip(SKIP_REASON)
    csv = tmp_path / "data.csv"
    make_data(seed).to_csv(csv, index=False)
    out = tmp_path / "out.json"
    run = subprocess.run(["Rscript", str(SCRIPT), "--live", str(csv), str(out)], capture_output=True, text=True,
                         timeout=900)
    assert run.returncode == 0, run.stderr[-2000:]
    ref = load(out)
    skipped = [line for line in run.stderr.splitlines() if line.startswith("SKIP")]
    assert not skipped, skipped
    data = pd.read_csv(csv)  # what R read
    bases = live_bases(data)
    designs = {name: build(name, spec, bases) for name, spec in ref["designs"].items()}
    for name, spec in ref["designs"].items():
        check_design_spec(name, spec, designs[name])
    chk = Checker()
    failures = []
    for key, want in ref["records"].items():
        try:
            check(key, want, designs, ref["designs"], chk)
        except AssertionError as exc:
            failures.append(f"{key}: {str(exc)[:300]}")
    assert not failures, "\n".join(failures[:20])
    assert chk.count >= 1000, chk.count
    print(f"live repl parity (seed {seed}): {chk.count} values, largest relative difference"
          f" {chk.worst[0]:.3g} ({chk.worst[1]}); by tolerance {chk.by_tol}")
