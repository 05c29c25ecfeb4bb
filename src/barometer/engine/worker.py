"""A warm worker: imports the heavy libraries once, then runs one report per fork.

``python -m barometer.engine.worker`` reads jobs (JSON, one a line) on stdin
and answers each with one JSON line on stdout.  For each job it forks a
child, which runs papermill with the ``barometer-inprocess`` engine (the
notebook's cells run in that child, a copy of the warm, pristine worker, with
no kernel: :mod:`barometer.engine.inprocess`), renders the executed notebook
as a page and sends back the executed notebook, the page, the report's
estimates rows and the files the report used.  The worker itself never runs
a notebook, so it stays pristine: every report starts from the same state.

The same worker serves the local executor (one per ``--jobs``) and the Dask
executor (one per Dask worker process).
"""

from __future__ import annotations

import gc
import json
import os
import signal
import sys
import tempfile
import time
import traceback
from pathlib import Path

from barometer.engine import lifetime
from barometer.engine.result import JobResult

# one thread of BLAS per report: reports run in parallel processes
for _v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

_SVG: dict = {}        # address, authkey, process of this worker's chart server
_PARENT = [0]           # the process that sends the jobs (the build): when it is gone, so are we
_FRESH = [None]         # the last build whose charts were to be drawn afresh (its jobs' ``fresh_charts``)


def _report_setup(job: dict, deps_file: str):
    """What the report's process does before its first cell: record the files
    the report uses, draw charts through the worker's chart server, and whatever
    the job's hooks add (:func:`_hooks`)."""

    def setup() -> None:
        from barometer.engine import deps

        track = job.get("track") or {}
        deps.install(deps_file, track.get("roots", []), track.get("skip", []))
        if _SVG:
            from barometer.engine import svgserver

            svgserver.install(_SVG["address"], _SVG["authkey"], job.get("chart_helpers") or ())
        hooks = _hooks(job)
        if hooks is not None:
            hooks.kernel_setup(job)

    return setup


def _hooks(job: dict):
    """The module the build names in ``job["hooks"]``: what a report of this
    program needs in a warm worker (``prepare(job)`` before the fork,
    ``kernel_setup(job)`` in the kernel, ``render(job, executed)`` for its page).
    The engine itself knows nothing of the reports."""
    name = job.get("hooks")
    if not name:
        return None
    import importlib

    return importlib.import_module(name)


def _without_paths(text: str, job: dict, scratch: Path) -> str:
    """The executed notebook as published: the paths of this machine's temporary job
    folder and of the checkout (papermill's ``input_path``/``output_path``, the injected
    ``output_dir``) become relative ones (``.``, the notebook's file name)."""

    name = Path(job["notebook"]).name
    swaps = [(str(scratch / "executed.ipynb"), name), (job["notebook"], name), (str(scratch / "out"), "."),
             (str(scratch), ".")] + ([(job["cwd"], ".")] if job.get("cwd") else [])
    for old, new in swaps:
        if old:  # as the notebook's JSON spells them
            text = text.replace(json.dumps(old)[1:-1], json.dumps(new)[1:-1])
    return text


def run_job(job: dict, scratch: Path) -> JobResult:
    """Execute one report (in the forked child)."""
    import papermill as pm

    from barometer.engine import deps, inprocess

    t0 = time.perf_counter()
    deps_file = scratch / "deps.txt"
    deps_file.touch()
    out_dir = scratch / "out"
    out_dir.mkdir()
    params = dict(job["parameters"])
    if "output_dir" in params:
        params["output_dir"] = str(out_dir)
    for name, text in (job.get("inputs") or {}).items():  # input files travel with the job (Dask)
        f = scratch / f"input-{name}"
        f.write_text(text, encoding="utf-8")
        params[name] = str(f)
    executed = scratch / "executed.ipynb"
    inprocess.register()
    inprocess.SETUP = _report_setup(job, str(deps_file))
    inprocess.TEARDOWN = deps.stop
    result = JobResult(id=job["id"], worker_pid=os.getppid(), pid=os.getpid())
    try:
        pm.execute_notebook(job["notebook"], str(executed), parameters=params, engine_name=inprocess.NAME,
                            kernel_name="python3", progress_bar=False, cwd=job.get("cwd"), log_output=False,
                            execution_timeout=job.get("timeout"), report_mode=False,
                            shutdown_kernel="immediate")
    except pm.PapermillExecutionError as exc:
        result.fail(exc.ename, exc.evalue, exc.exec_count, list(exc.traceback or []))
    except Exception as exc:  # noqa: BLE001 - reported per report, never stops the build
        result.fail(type(exc).__name__, str(exc), None, traceback.format_exc())
    result.t_execute = time.perf_counter() - t0
    result.executed = _without_paths(executed.read_text(encoding="utf-8"), job, scratch) \
        if executed.exists() else None
    if result.ok:
        try:
            hooks = _hooks(job)
            result.html = hooks.render(job, executed) if hooks is not None else None
        except Exception as exc:  # noqa: BLE001
            result.fail(type(exc).__name__, f"rendering the page failed: {exc}", None, traceback.format_exc())
    est = sorted((out_dir / "estimates").glob("*.csv"), key=lambda p: (p.stat().st_mtime_ns, p.name)) \
        if (out_dir / "estimates").is_dir() else []
    result.estimates = [p.read_text(encoding="utf-8") for p in est]
    if job.get("collect_files"):  # everything the report wrote to output_dir, in the order it wrote it
        import base64

        written = sorted((p for p in out_dir.rglob("*") if p.is_file()),
                         key=lambda p: (p.stat().st_mtime_ns, str(p)))
        result.files = [[str(p.relative_to(out_dir)), base64.b64encode(p.read_bytes()).decode("ascii")]
                        for p in written]
    result.deps = sorted(set(filter(None, deps_file.read_text(encoding="utf-8").splitlines())))
    result.seconds = time.perf_counter() - t0
    return result


def run_forked(job: dict) -> JobResult:
    """Run ``job`` in a fork of this (warm) process and return its result; a job
    with ``prepare_only`` only warms this worker up for the jobs to come (its hooks'
    ``prepare``: datasets, configurations) and runs nothing."""
    hooks = _hooks(job)
    if hooks is not None:  # settings, preloaded data, warm renderer: the report and its kernel fork from here
        hooks.prepare(job)
    if job.get("prepare_only"):
        return JobResult(id=job["id"], worker_pid=os.getpid(), pid=os.getpid())
    _fresh_charts(job.get("fresh_charts"))
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="barometer-job-") as tmp:
        scratch = Path(tmp)
        res_file = scratch / "result.json"
        sys.stdout.flush()
        sys.stderr.flush()
        # objects alive now go to the permanent generation: the fork's garbage
        # collector never walks (and so never copies) the warm worker's pages
        gc.collect()  # (cheap after the first freeze) so that no garbage is frozen with them
        gc.freeze()
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                lifetime.die_with_parent()
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                res = run_job(job, scratch)
                res_file.write_text(json.dumps(res.to_dict()), encoding="utf-8")
            except BaseException:  # noqa: BLE001
                traceback.print_exc()
                code = 1
            finally:
                os._exit(code)
        try:
            status = _wait_child(pid)
        except BaseException:  # told to stop (SIGTERM), or the build is gone: end the report too
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            raise
        code = os.waitstatus_to_exitcode(status)
        if res_file.exists():
            return JobResult.from_dict(json.loads(res_file.read_text(encoding="utf-8")))
        how = f"was killed by signal {-code}" if code < 0 else f"exited with status {code}"
        return JobResult.failed(job["id"], "WorkerError", f"the report's process {how}",
                                seconds=time.perf_counter() - t0, worker_pid=os.getpid())


def _fresh_charts(build) -> None:
    """A build that draws every chart again (``--force``): the first of its jobs this worker
    runs makes the chart server forget what it drew for earlier builds (a worker may serve
    several: the preview's, the build server's); within the build it keeps what it draws."""
    if not build or build == _FRESH[0]:
        return
    _FRESH[0] = build
    if _SVG:
        from barometer.engine import svgserver

        try:
            svgserver.forget(_SVG["address"], _SVG["authkey"])
        except (OSError, EOFError):
            pass  # no server: the reports draw their charts themselves


def _wait_child(pid: int) -> int:
    """Wait for the report's process; stop if the build that sent the job is gone."""
    import select

    try:
        fd = os.pidfd_open(pid)
    except (AttributeError, OSError):
        fd = None
    try:
        while True:
            if fd is not None:
                select.select([fd], [], [], 0.5)
            else:
                time.sleep(0.02)
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                return status
            if lifetime.parent_gone(_PARENT[0]):
                raise SystemExit(1)
    finally:
        if fd is not None:
            os.close(fd)


def _on_sigterm(signum, frame):
    raise SystemExit(128 + signum)


def _start_svg_server(store_dir: str = "") -> None:
    """Start this worker's chart server (``store_dir``: the cache's chart store, or none)."""
    import subprocess

    from .sockets import socket_dir

    tmp = tempfile.mkdtemp(prefix="svg-", dir=socket_dir())  # a socket path short whatever TMPDIR is
    key = os.urandom(16)
    address = os.path.join(tmp, "s")
    env = dict(os.environ, BAROMETER_SVG_KEY=key.hex())
    proc = subprocess.Popen([sys.executable, "-m", "barometer.engine.svgserver", address]
                            + ([store_dir] if store_dir else []), env=env,
                            stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)
    _SVG.update(address=address, authkey=key, proc=proc, dir=tmp)


def _wait_svg_server() -> None:
    if _SVG and _SVG["proc"].stdout.readline().strip() != "ready":
        _SVG.clear()  # no server: reports render charts themselves


def _watch_parent() -> None:
    """End this worker when the build that started it is gone (killed with SIGKILL),
    whatever the worker is doing (loading, warming up, waiting for a report):
    SIGTERM to itself (its clean-up runs), and a hard exit if that does not end it.
    The thread holds no lock a fork could copy; the forked reports never run it."""
    import threading

    def watch():
        while not lifetime.parent_gone(_PARENT[0]):
            time.sleep(0.5)
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)
        os._exit(1)

    threading.Thread(target=watch, name="barometer-parent-watch", daemon=True).start()


def _arg(flag: str) -> str:
    return sys.argv[sys.argv.index(flag) + 1] if flag in sys.argv else ""


def main() -> int:
    _PARENT[0] = os.getppid()
    signal.signal(signal.SIGTERM, _on_sigterm)
    _watch_parent()
    proto = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)  # anything printed by reports goes to the log, not the protocol
    from .sockets import socket_dir

    socket_dir()  # made (and removed at exit) here, used by the chart server and the reports' sockets
    if os.environ.get("BAROMETER_SVG_SERVER", "1") != "0":
        _start_svg_server(_arg("--charts"))  # warms up while this process imports
    from barometer.engine.inprocess import preload

    hooks = _arg("--hooks")
    preload(_hooks({"hooks": hooks}).MODULES if hooks else [])
    _wait_svg_server()
    hello = {"ready": True, "pid": os.getpid()}
    if _SVG:  # the executor lends it to a report that runs while this worker would sit idle
        hello["charts"] = [_SVG["address"], _SVG["authkey"].hex()]
    proto.write(json.dumps(hello) + "\n")
    proto.flush()
    try:
        for line in sys.stdin:
            if not line.strip():
                continue
            job = json.loads(line)
            try:
                res = run_forked(job)
            except Exception as exc:  # noqa: BLE001
                res = JobResult.failed(job.get("id"), type(exc).__name__, str(exc), worker_pid=os.getpid(),
                                       traceback=traceback.format_exc())
            proto.write(json.dumps(res.to_dict()) + "\n")
            proto.flush()
    except (BrokenPipeError, OSError):
        pass  # whoever sent the jobs is gone
    finally:
        if _SVG:
            _SVG["proc"].terminate()
            _SVG["proc"].wait()
            import shutil

            shutil.rmtree(_SVG["dir"], ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
