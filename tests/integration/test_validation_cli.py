"""build.py --check-data: OK and a summary, or one line per problem with exit 2."""

import subprocess
import sys

import pandas as pd
import pytest

from barometer import synth
from barometer.paths import ROOT


@pytest.fixture(scope="module")
def raw():
    return pd.read_csv(synth.ensure("2018", "dk"), dtype=str, keep_default_na=False)


def _check(*args):
    return subprocess.run([sys.executable, "build.py", "--check-data", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)


def test_check_data_cli(raw, tmp_path, capsys):
    from barometer.checkdata import main_check

    sample, frame = synth.ensure("2018", "dk"), synth.sample_dir("2018", "dk") / "frame.csv"
    assert main_check("2018", "dk", str(sample), str(frame)) == 0
    out = capsys.readouterr().out
    assert out.startswith("OK: ") and "2,363 respondents" in out and "frame" in out and "matches" in out
    d = raw.copy()
    d.loc[[10, 11], "gov_level"] = "5"
    p = tmp_path / "bad.csv"
    d.to_csv(p, index=False)
    bad = _check(str(p))
    assert bad.returncode == 2 and bad.stdout == ""
    assert "Traceback" not in bad.stderr
    assert f"{p}: column 'gov_level': values 5 in 2 data rows (11, 12) are not codes" in bad.stderr
