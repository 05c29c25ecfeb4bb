"""A papermill engine that runs a notebook's cells in the calling process, with no kernel.

The build runs each report in a fresh fork of a warm worker (:mod:`barometer.engine.worker`), so
the report's process is already what a forked kernel would be: a pristine copy of the worker,
seen by no other report.  A kernel inside it only added its start (~0.1 s of ipykernel set-up,
then the client's handshake), ZeroMQ and the Jupyter protocol for every cell and output: about
half of a unit report's time.  Here the cells run in this process, in an IPython shell made for
the report, and each output is made as a kernel and nbclient would make it:

- display data and execute results go through IPython's own display formatter and displayhook,
  then through ipykernel's ``encode_images`` and ``json_clean`` and the Jupyter session's JSON
  (as on the wire), and become outputs by ``nbformat``'s ``output_from_msg``, as nbclient does;
- what the code prints is one stream output per run of writes between two displays, stdout's
  before stderr's, as ipykernel's buffered streams send it;
- an error is ipykernel's (the shell's structured traceback), and stops the notebook as
  nbclient does (a ``CellExecutionError``, which papermill reports); a cell running longer than
  ``execution_timeout`` is stopped with nbclient's ``CellTimeoutError``;
- ``input()`` and ``getpass()`` are refused as a kernel refuses them when its client allows no
  input (nbclient's), and ``sys.stdin`` is empty (this process's own stdin, a worker's job
  pipe, is never the notebook's);
- the cell metadata nbclient records (execution times) and the notebook's ``language_info``
  (ipykernel's) are the same.

So the executed notebook, the page and every file a report writes are the same bytes as with a
kernel, except the times.  Use it only in a process that is itself disposable, one per notebook
(the shell and everything the notebook imports stay in it).
"""

from __future__ import annotations

import io
import os
import signal
import sys
from typing import Callable

#: called in this process before the first cell (the build's worker: dependency recording,
#: the chart server, preloaded data), as a forked kernel calls ``forkserver.KERNEL_SETUP``
SETUP: Callable[[], None] | None = None
#: called after the last cell (the worker: stop recording the files this process reads)
TEARDOWN: Callable[[], None] | None = None

NAME = "barometer-inprocess"


class _Outputs:
    """Where the shell's outputs go: the running cell's outputs, the streams' pending text."""

    def __init__(self):
        self.outs: list = []
        self.pending = {"stdout": [], "stderr": []}
        self.display_ids: dict[str, list] = {}
        self.clear_wait = False
        self.error: dict | None = None

    def add(self, msg_type: str, content: dict, display_id: str | None = None) -> None:
        from jupyter_client.session import json_packer, json_unpacker
        from nbformat.v4 import output_from_msg

        content = json_unpacker(json_packer(content))  # as a kernel's message reaches nbclient
        out = output_from_msg({"header": {"msg_type": "display_data" if msg_type == "update_display_data"
                                          else msg_type}, "content": content})
        if msg_type == "update_display_data":  # the outputs shown with that id, wherever they are
            for outs, i in self.display_ids.get(display_id or "", []):
                outs[i]["data"], outs[i]["metadata"] = out["data"], out["metadata"]
            return
        if self.clear_wait:
            self._clear()
            self.clear_wait = False
        if display_id:
            self.display_ids.setdefault(display_id, []).append((self.outs, len(self.outs)))
        self.outs.append(out)

    def write(self, name: str, text: str) -> None:
        self.pending[name].append(text)

    def flush(self) -> None:
        for name in ("stdout", "stderr"):
            text = "".join(self.pending[name])
            self.pending[name] = []
            if text:
                self.add("stream", {"name": name, "text": text})

    def display(self, content: dict, update: bool) -> None:
        self.flush()
        display_id = (content.get("transient") or {}).get("display_id")
        self.add("update_display_data" if update else "display_data", content, display_id)

    def execute_result(self, content: dict) -> None:
        self.flush()
        self.add("execute_result", content)

    def clear(self, wait: bool) -> None:
        self.flush()
        if wait:
            self.clear_wait = True
        else:
            self._clear()

    def _clear(self) -> None:
        """The running cell's outputs gone, and what display ids said of them."""
        self.outs[:] = []
        for display_id, shown in self.display_ids.items():
            shown[:] = [(outs, i) for outs, i in shown if outs is not self.outs]


def _no_input(what: str):
    """``input()`` or ``getpass()`` while a cell runs: no input, as a kernel whose client allows
    none (nbclient's) says; ``sys.stdin`` is empty, as a kernel's."""
    def refuse(*args, **kwargs):
        from IPython.core.error import StdinNotImplementedError

        raise StdinNotImplementedError(f"{what} was called, but this frontend does not support input requests.")

    return refuse


class _Stream(io.TextIOBase):
    """``sys.stdout`` or ``sys.stderr`` while a cell runs."""

    def __init__(self, name: str, outputs: _Outputs):
        super().__init__()
        self.name, self._outputs = name, outputs

    @property
    def encoding(self) -> str:
        return "UTF-8"

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return False

    def write(self, s) -> int:
        if not isinstance(s, str):
            raise TypeError(f"write() argument must be str, not {type(s).__name__}")
        if s:
            self._outputs.write(self.name, s)
        return len(s)

    def flush(self) -> None:
        pass


def _shell(outputs: _Outputs):
    """An IPython shell whose displays, results and errors go to ``outputs``."""
    from IPython.core.displayhook import DisplayHook
    from IPython.core.displaypub import DisplayPublisher
    from IPython.core.interactiveshell import InteractiveShell
    from ipykernel.jsonutil import encode_images, json_clean
    from traitlets.config import Config

    class Publisher(DisplayPublisher):
        def publish(self, data, metadata=None, source=None, *, transient=None, update=False, **kwargs):
            metadata = {} if metadata is None else metadata
            self._validate_data(data, metadata)
            outputs.display(json_clean({"data": encode_images(data), "metadata": metadata,
                                        "transient": {} if transient is None else transient}), update)

        def clear_output(self, wait=False):
            outputs.clear(wait)

    class Hook(DisplayHook):
        def start_displayhook(self):
            self.content = {"data": {}, "metadata": {}}

        def write_output_prompt(self):
            self.content["execution_count"] = self.prompt_count

        def write_format_data(self, format_dict, md_dict=None):
            self.content["data"] = json_clean(encode_images(format_dict))
            self.content["metadata"] = md_dict

        def finish_displayhook(self):
            if self.content["data"]:
                outputs.execute_result(self.content)
            self.content = None

    class Shell(InteractiveShell):
        def _showtraceback(self, etype, evalue, stb):
            outputs.flush()
            outputs.error = {"ename": str(etype.__name__), "evalue": str(evalue), "traceback": stb}
            outputs.add("error", dict(outputs.error))

    # as a kernel's: no input history written to the user's IPython database (forkserver.KERNEL_ARGS)
    config = Config({"HistoryManager": {"enabled": False}})
    InteractiveShell.clear_instance()  # (a process runs one notebook; a test may run more)
    return Shell.instance(config=config, displayhook_class=Hook, display_pub_class=Publisher)


def _add_cwd_to_path() -> None:
    """'' first on ``sys.path``, as an IPython kernel has it (``InteractiveShellApp.init_path``)."""
    if "" in sys.path or sys.flags.safe_path:
        return
    for idx, path in enumerate(sys.path):
        parent, last = os.path.split(path)
        if last != "IPython" or parent not in sys.path:
            break
    else:
        idx = 0
    sys.path.insert(idx, "")


def _make_engine():
    # papermill loads its engines' entry points while it is itself being imported, so the
    # class is made on first access (PEP 562), never at import (as forkserver.BarometerEngine)
    from papermill.engines import Engine

    class InProcessEngine(Engine):
        """The papermill engine (``engine_name="barometer-inprocess"``): see the module."""

        @classmethod
        def execute_managed_notebook(cls, nb_man, kernel_name, log_output=False, stdout_file=None,
                                     stderr_file=None, start_timeout=60, execution_timeout=None, **kwargs):
            from ipykernel.ipkernel import IPythonKernel
            from nbclient.client import timestamp
            from nbclient.exceptions import CellExecutionError, CellTimeoutError

            if SETUP is not None:
                SETUP()
            _add_cwd_to_path()
            # what the process was given on stdin (a worker's: its next jobs) is never the notebook's
            devnull = os.open(os.devnull, os.O_RDONLY)
            os.dup2(devnull, 0)
            os.close(devnull)
            outputs = _Outputs()
            shell = _shell(outputs)
            nb = nb_man.nb
            # written once, complete or failed, as the forked-kernel engine does (papermill saves it
            # then, from ``notebook_complete``), not before and after every cell
            path, nb_man.output_path = nb_man.output_path, None
            try:
                for index, cell in enumerate(nb.cells):
                    try:
                        nb_man.cell_start(cell, index)
                        if cell.cell_type != "code" or not cell.source.strip():
                            continue
                        timing = cell["metadata"].setdefault("execution", {})
                        cell.outputs = []
                        outputs.outs, outputs.clear_wait, outputs.error = cell.outputs, False, None
                        timing["iopub.status.busy"] = timestamp()
                        timing["iopub.execute_input"] = timestamp()
                        expired = _run(shell, cell, outputs, execution_timeout)
                        if not expired:  # (nbclient stops waiting for the reply at the timeout)
                            timing["shell.execute_reply"] = timestamp()
                        timing["iopub.status.idle"] = timestamp()
                        if shell.execution_count - 1:
                            cell["execution_count"] = shell.execution_count - 1
                        if expired:  # interrupted as nbclient interrupts a kernel; not a cell's error
                            raise CellTimeoutError.error_from_timeout_and_cell(
                                "Cell execution timed out", execution_timeout, cell)
                        if outputs.error is not None:
                            raise CellExecutionError.from_cell_and_msg(cell, outputs.error)
                    except CellExecutionError as ex:
                        nb_man.cell_exception(nb.cells[index], cell_index=index, exception=ex)
                        break
                    finally:
                        nb_man.cell_complete(nb.cells[index], cell_index=index)
                nb.metadata["language_info"] = dict(IPythonKernel.language_info)
            finally:
                nb_man.output_path = path
                if TEARDOWN is not None:
                    TEARDOWN()
            return nb

    InProcessEngine.__module__ = __name__
    return InProcessEngine


def _run(shell, cell, outputs: _Outputs, timeout) -> bool:
    """Run one cell with this process's streams captured; interrupted after ``timeout`` s (then
    True)."""
    import builtins
    import getpass

    streams = sys.stdin, sys.stdout, sys.stderr, builtins.input, getpass.getpass
    sys.stdin = open(os.devnull, encoding="utf-8")  # noqa: SIM115 - closed below
    sys.stdout, sys.stderr = _Stream("stdout", outputs), _Stream("stderr", outputs)
    builtins.input, getpass.getpass = _no_input("raw_input"), _no_input("getpass")
    expired, running = [], [True]

    def expire(signum, frame):
        if running:  # (not once the cell is done)
            expired.append(True)
            raise KeyboardInterrupt

    previous = signal.signal(signal.SIGALRM, expire) if timeout else None
    try:
        if timeout:
            signal.setitimer(signal.ITIMER_REAL, float(timeout))
        shell.run_cell(cell.source, store_history=True, silent=False, cell_id=cell.get("id"))
    finally:
        running.clear()
        if timeout:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
        sys.stdin.close()
        sys.stdin, sys.stdout, sys.stderr, builtins.input, getpass.getpass = streams
        outputs.flush()
    return bool(expired)


def preload(modules: list[str] = ()) -> list[str]:
    """Import what every report run here needs (the notebook stack, once, in a warm worker)
    and ``modules``: what the build's reports import, named by the build (its hooks module's
    ``MODULES``; the engine knows no report code).  No kernel's modules: none starts.

    Nothing here may start a thread: the process is forked afterwards."""
    # not scipy.stats (~0.45 s), scipy.optimize (~0.2 s) or Altair (~0.1 s): no report of this
    # program imports them (the survey code's distributions are scipy.special's; the build's
    # hooks import Altair where its unit reports draw with it), and a report that does pays once
    import importlib

    done = []
    for m in ("numpy", "pandas", "scipy.special", "yaml", "jsonschema", "vl_convert", "IPython",
              "IPython.core.interactiveshell", "ipykernel.ipkernel", "ipykernel.jsonutil", "jupyter_client",
              "jupyter_client.session", "nbclient", "nbclient.client", "nbformat", "papermill", "papermill.engines",
              "papermill.clientwrap", "nbconvert", "nbconvert.exporters.html", "markupsafe", "jinja2",
              "barometer.engine.deps", "barometer.engine.svgserver", *modules):
        try:
            importlib.import_module(m)
            done.append(m)
        except ImportError:
            pass
    return done


def register() -> None:
    """Make the engine known to papermill as :data:`NAME`."""
    from papermill.engines import papermill_engines

    if NAME not in papermill_engines._engines:
        papermill_engines.register(NAME, __getattr__("InProcessEngine"))


def __getattr__(name: str):
    if name == "InProcessEngine":
        cls = globals()["InProcessEngine"] = _make_engine()
        return cls
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
