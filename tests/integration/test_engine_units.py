"""Units, disclosure control and the papermill engines: forked kernels, and no kernel (in-process)."""

import json
import os
import sys
import subprocess
import nbformat
import pytest

from barometer.paths import NOTEBOOK_DIR






def _outputs(nb):
    return [[{k: v for k, v in o.items() if k != "execution_count"} for o in c.outputs]
            for c in nb.cells if c.cell_type == "code"]


def test_forked_kernel_and_in_process_give_the_same_outputs_as_plain_papermill(tmp_path, dk2018):
    small = str(int(dk2018.df["municipality"].value_counts().idxmin()))
    params = {"by": "municipality", "unit": small}
    runs = {}
    for engine in ("nbclient", "barometer", "barometer-inprocess"):
        # papermill's command line in a fresh process, as a user runs it: the barometer
        # engine forks the process that runs papermill, which must not be a pytest
        # process full of other tests' threads
        out = tmp_path / f"{engine}.ipynb"
        r = subprocess.run([sys.executable, "-m", "papermill", str(NOTEBOOK_DIR / "unit_report.ipynb"), str(out),
                            "-r", "by", params["by"], "-r", "unit", params["unit"], "--engine", engine,
                            "--cwd", str(NOTEBOOK_DIR), "--no-progress-bar"],
                           capture_output=True, text=True, timeout=600)
        assert r.returncode == 0, r.stderr[-2000:]
        runs[engine] = nbformat.read(out, as_version=4)
    assert _outputs(runs["barometer"]) == _outputs(runs["nbclient"])
    assert _outputs(runs["barometer-inprocess"]) == _outputs(runs["nbclient"])
    assert runs["barometer-inprocess"].metadata.language_info == runs["nbclient"].metadata.language_info
    assert [c.get("execution_count") for c in runs["barometer-inprocess"].cells] == \
        [c.get("execution_count") for c in runs["nbclient"].cells]
    text = str(_outputs(runs["barometer"]))
    # a suppressed share reads as everywhere else: the mark in the chart and table, explained by the footnote
    assert "suppressed" in text and "Ikke vist af hensyn til diskretion" in text and '<td class="num">..</td>' in text


_THREADED_RUN = r"""
import sys, threading, time, nbformat, papermill as pm
from barometer.engine import forkserver
nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("import os\nprint('pid', os.getpid() > 0)"),
                                     nbformat.v4.new_code_cell("print('history', In[1].startswith('import os'), _i == In[1])")])
nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
nbformat.write(nb, sys.argv[1])
stop = threading.Event()
if sys.argv[3] == "thread":
    threading.Thread(target=stop.wait, name="busy-helper", daemon=True).start()
pm.execute_notebook(sys.argv[1], sys.argv[2], engine_name="barometer", progress_bar=False, kernel_name="python3")
stop.set()
print("LAUNCH", forkserver.LAST_LAUNCH)
"""


@pytest.mark.parametrize("threads,launch", [("none", "fork"), ("thread", "spawn")])
def test_engine_forks_only_a_single_threaded_caller(tmp_path, threads, launch):
    """fork() in a multi-threaded process can copy a lock another thread holds
    and hang the kernel; the engine then starts a fresh kernel process (and
    says so) and the notebook still runs."""
    out = tmp_path / "out.ipynb"
    ipython_dir = tmp_path / "ipython"  # the user's IPython folder, history database and all
    r = subprocess.run([sys.executable, "-c", _THREADED_RUN, str(tmp_path / "in.ipynb"), str(out), threads],
                       capture_output=True, text=True, timeout=300, env=dict(os.environ, IPYTHONDIR=str(ipython_dir)))
    assert r.returncode == 0, r.stderr[-2000:]
    assert f"LAUNCH {launch}" in r.stdout
    assert ("other threads (busy-helper)" in r.stderr) is (launch == "spawn")
    nb = nbformat.read(out, as_version=4)
    assert nb.cells[0].outputs[0]["text"] == "pid True\n"
    # the kernel's input history is there (in memory), and nothing of it in the user's database
    assert nb.cells[1].outputs[0]["text"] == "history True True\n"
    assert not list(ipython_dir.rglob("history.sqlite*"))


def test_forked_kernels_talk_over_their_own_unix_sockets():
    """Kernels of parallel reports must not race for TCP ports (jupyter_client
    picks a free port by binding and closing it; two kernels started at the
    same moment could both be handed it and one dies "Address already in use")."""
    from barometer.engine.forkserver import ForkKernelManager

    a, b = ForkKernelManager(), ForkKernelManager()
    assert a.transport == b.transport == "ipc"
    assert a.ip != b.ip and len(a.ip) < 90  # a socket path has ~107 bytes at most


_SAVES_RUN = r"""
import json, sys, nbformat, papermill as pm
import papermill.iorw as iorw
from barometer.engine import forkserver
cells = ["print('one')", "print('two')", sys.argv[3], "print('four')"]
nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
nbformat.write(nb, sys.argv[1])
writes = []
real = iorw.write_ipynb
def counted(nb, path):
    writes.append(str(path))
    return real(nb, path)
iorw.write_ipynb = counted
import papermill.engines, papermill.execute
papermill.engines.write_ipynb = papermill.execute.write_ipynb = counted
error = ""
try:
    pm.execute_notebook(sys.argv[1], sys.argv[2], engine_name=sys.argv[4], progress_bar=False, kernel_name="python3")
except Exception as exc:
    error = type(exc).__name__
print("RESULT " + json.dumps({"writes": writes.count(sys.argv[2]), "error": error}))
"""


@pytest.mark.parametrize("third,error,engine", [("print('three')", "", "barometer"),
                                                ("1/0", "PapermillExecutionError", "barometer"),
                                                ("import os; os._exit(3)", "DeadKernelError", "barometer"),
                                                ("print('three')", "", "barometer-inprocess"),
                                                ("1/0", "PapermillExecutionError", "barometer-inprocess")])
def test_the_engine_writes_the_executed_notebook_once_also_when_it_fails(tmp_path, third, error, engine):
    """papermill's own engine writes the whole notebook before and after each cell; ours
    once, at the end, with what ran, also after a failing cell or a dead kernel (a failed
    report's notebook is kept to look at)."""
    out = tmp_path / "out.ipynb"
    r = subprocess.run([sys.executable, "-c", _SAVES_RUN, str(tmp_path / "in.ipynb"), str(out), third, engine],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    res = json.loads(r.stdout.split("RESULT ", 1)[1])
    assert res["error"] == error
    cells = [c for c in nbformat.read(out, as_version=4).cells if c.cell_type == "code"]  # (papermill adds
    assert [o.get("text") for o in cells[0].outputs] == ["one\n"]                        # an error banner)
    assert [o.get("text") for o in cells[1].outputs] == ["two\n"]
    assert res["writes"] <= 3  # at the start, when complete and papermill's last: not one per cell
    if not error:
        assert cells[3].outputs[0]["text"] == "four\n"
    else:
        assert not cells[3].outputs  # it never ran
        if error == "PapermillExecutionError":
            assert cells[2].outputs[0]["ename"] == "ZeroDivisionError"
    plain = subprocess.run([sys.executable, "-c", _SAVES_RUN, str(tmp_path / "in2.ipynb"), str(tmp_path / "p.ipynb"),
                            "print('three')", "nbclient"], capture_output=True, text=True, timeout=300)
    if not error:  # papermill's engine for comparison: a write per cell's start and end
        assert json.loads(plain.stdout.split("RESULT ", 1)[1])["writes"] >= 8


_BOTH_RUN = r"""
import json, sys, nbformat, papermill as pm
cells = ["print('one', end=''); print(); print('two')",
         "import sys; print('err', file=sys.stderr); print('out'); 3 + 4",
         "from IPython.display import HTML, Markdown, display, clear_output\n"
         "h = display(HTML('<b>x</b>'), display_id=True); display(Markdown('*m*'), metadata={'tags': ['t']}); h.update(HTML('<i>y</i>'))",
         "print('gone'); clear_output(wait=True); print('kept')",
         "import pandas as pd; pd.DataFrame({'a': [1.5, None]})",
         "[ _i, In[1] == _i1, Out[2] ]",
         "g = display(HTML('<p>a</p>'), display_id='g'); clear_output(); display(HTML('<p>b</p>')); g.update(HTML('<p>c</p>'))",
         sys.argv[2]]
nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells] + [nbformat.v4.new_code_cell("print('after')")])
nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
nbformat.write(nb, sys.argv[1] + "/in.ipynb")
res = {}
for engine in ("nbclient", "barometer-inprocess"):
    error = ""
    try:
        pm.execute_notebook(sys.argv[1] + "/in.ipynb", sys.argv[1] + f"/{engine}.ipynb", engine_name=engine,
                            progress_bar=False, kernel_name="python3", execution_timeout=3)
    except Exception as exc:
        error = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc).strip() else ''}"
    out = nbformat.read(sys.argv[1] + f"/{engine}.ipynb", as_version=4)
    res[engine] = {"error": error, "language_info": out.metadata.get("language_info"),
                   "cells": [[c.get("execution_count"), sorted(c.metadata.get("execution", {})),
                              [{k: v for k, v in o.items() if k != "traceback"} for o in c.get("outputs", [])]]
                             for c in out.cells]}
print("RESULT " + json.dumps(res))
"""


@pytest.mark.parametrize("last", ["print('last')", "1/0", "import time; time.sleep(30)", "input('?')",
                                  "import getpass; getpass.getpass()", "import sys; sys.stdin.read()"])
def test_in_process_cells_give_a_kernels_outputs(tmp_path, last):
    """The in-process engine (no kernel) against papermill's own (a kernel per notebook): the
    same outputs (streams, results, displays and their updates, cleared output, errors, a cell
    stopped by the timeout as a kernel is interrupted), execution counts, timing keys and
    language_info; papermill reports a failure the same way."""
    r = subprocess.run([sys.executable, "-c", _BOTH_RUN, str(tmp_path), last], capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    res = json.loads(r.stdout.split("RESULT ", 1)[1])
    plain, ours = res["nbclient"], res["barometer-inprocess"]
    assert ours == plain
    first = next(c for c in plain["cells"] if c[0] == 1)  # (papermill puts a banner cell first after a failure)
    assert first[2] == [{"name": "stdout", "output_type": "stream", "text": "one\ntwo\n"}]
    if last == "1/0":
        assert ours["error"].startswith("PapermillExecutionError") and ours["cells"][-1][2] == []
    elif "input(" in last or "getpass" in last:
        assert ours["error"].startswith("PapermillExecutionError") and "StdinNotImplementedError" in ours["error"] + str(ours)
    elif "sleep" in last:
        assert ours["error"].startswith("CellTimeoutError") and ours["cells"][-2][2][0]["ename"] == "KeyboardInterrupt"
    else:  # (what a kernel reads on stdin is nothing)
        assert not ours["error"] and ours["cells"][-1][2][0]["text"] == "after\n"
