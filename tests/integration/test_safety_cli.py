"""The command line refuses unknown options and bad values, in one line."""

import subprocess
import sys

from barometer.paths import ROOT


def test_cli_refuses_an_unknown_option_and_a_bad_language():
    for args, message in ((["--langauge", "en"], "unrecognized arguments: --langauge"),
                          (["--lang", "da\"; import os"], "invalid choice"),
                          (["--min-base", "3", "--no-pdf"], "--min-base: 3 is out of range")):
        r = subprocess.run([sys.executable, "build.py", *args, "--out", "/nonexistent/never"], cwd=ROOT,
                           capture_output=True, text=True, timeout=120)
        assert r.returncode == 2 and message in r.stderr and "Traceback" not in r.stderr, r.stderr
