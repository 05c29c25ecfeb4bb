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


def test_the_command_ends_at_once_with_its_output_flushed_and_its_exit_handlers_run(tmp_path):
    """build.py ends with cli.exit_now (no interpreter tear-down): what it printed arrives, the
    exit handlers (the children's clean-up, temporary folders) run, the status is kept."""
    import subprocess
    import sys

    from barometer.paths import ROOT

    marker = tmp_path / "ran"
    code = ("import atexit, sys, tempfile, weakref; sys.path.insert(0, %r)\n"
            "from barometer.cli import exit_now\n"
            "atexit.register(lambda: open(%r, 'w').write('ran'))\n"
            "d = tempfile.TemporaryDirectory(dir=%r); open(d.name + '/f', 'w').write('x')\n"
            "print('no newline', end=''); sys.stderr.write('to stderr')\n"
            "exit_now(3)\n") % (str(ROOT / "src"), str(marker), str(tmp_path))
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert (r.returncode, r.stdout, r.stderr) == (3, "no newline", "to stderr")
    assert marker.read_text() == "ran"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ran"]  # the temporary folder was removed
