"""A warm worker: imports the heavy libraries once, then runs one report per fork.

``python -m barometer.engine.worker`` reads jobs (JSON, one a line) on stdin
and answers each with one JSON line on stdout.  For each job it forks a
child, which runs papermill with the ``barometer`` engine (so the kernel is
in turn a fork of the warm, pristine worker), renders the executed notebook
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

# one thread of BLAS per report: reports run in parallel processes
for _v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

_SVG: dict = {}        # address, authkey, process of this worker's chart server
_PRELOADED: dict = {}   # (edition, country, data_path, frame_path) -> (Dataset, stamps)
_EXPORTER: dict = {}
_PARENT = [0]           # the process that sends the jobs (the build): when it is gone, so are we


def _stamps(files) -> list:
    out = []
    for f in files:
        st = os.stat(f)
        out.append((str(f), st.st_size, st.st_mtime_ns))
    return out


def _preload_data(specs) -> None:
    """Load the datasets the reports will load, once per worker (they are
    handed to each report's kernel by the fork; each gets its own copy)."""
    from barometer import dataset

    for spec in specs or []:
        key = tuple(spec)
        hit = _PRELOADED.get(key)
        if hit is not None:
            try:
                if _stamps(f for f, _, _ in hit[1]) == hit[1]:
                    continue
            except OSError:
                pass
        edition, country, data_path, frame_path = key
        try:
            ds = dataset.load(edition, country, data_path or None, frame_path or None)
        except Exception:  # noqa: BLE001 - the report will load (and fail) itself
            _PRELOADED.pop(key, None)
            continue
        try:  # the national figures every unit report compares with
            from barometer import units

            units.warm_nation(ds)
        except Exception:  # noqa: BLE001 - then each report computes them
            pass
        _PRELOADED[key] = (ds, _stamps(ds.files))


def _kernel_setup(job: dict, deps_file: str):
    """What the forked kernel does before it starts: record the files the
    report uses, and hand over a preloaded dataset on the first load."""

    def setup() -> None:
        from barometer import dataset
        from barometer.engine import deps

        track = job.get("track") or {}
        deps.install(deps_file, track.get("roots", []), track.get("skip", []))
        if _SVG:
            from barometer.engine import svgserver

            svgserver.install(_SVG["address"], _SVG["authkey"])
        real = dataset.load
        pre = dict(_PRELOADED)

        def load(edition="2018", country="dk", data_path=None, frame_path=None):
            key = (edition, country, str(data_path or ""), str(frame_path or ""))
            hit = pre.pop(key, None)
            if hit is not None:
                ds, stamps = hit
                try:
                    fresh = _stamps(f for f, _, _ in stamps) == stamps
                except OSError:
                    fresh = False
                if fresh:
                    for f in ds.files:
                        deps.record(f)
                    return ds
            return real(edition, country, data_path, frame_path)

        dataset.load = load  # the chapters call dataset.load when they load

    return setup


def _warm_renderer() -> None:
    """Make the page exporter and compile its templates once, in the worker."""
    import nbformat
    from markupsafe import Markup

    from barometer import build

    _EXPORTER["exporter"], _EXPORTER["jinja"] = build._exporter(), build._jinja()
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("warm-up")])
    _EXPORTER["exporter"].from_notebook_node(nb)
    _EXPORTER["jinja"].get_template("site/page.html.j2").render(body=Markup(""), nav=[])
    # Altair builds its schema validators on first use (~0.3 s): do it here, once
    import altair as alt
    import pandas as pd

    d = pd.DataFrame({"x": [1.0], "y": ["a"], "r": ["b"]})
    base = alt.Chart(d)
    layered = base.mark_bar().encode(x="x:Q", y="y:N") + base.mark_rule().encode(x="x:Q", x2="x:Q", y="y:N")
    layered.facet(row=alt.Row("r:N")).configure(font="x").to_dict()


def _warm_configs(job: dict) -> None:
    """Parse the report configurations once (they are part of every key, so a
    change to them is a new key, and a fresh worker)."""
    if _EXPORTER.get("configs"):
        return
    from barometer import display, i18n, measures, reportconfig, units

    p = job.get("parameters", {})
    try:
        reportconfig.report_config(p.get("edition", "2018"))
        units.config()
        units._codebook_yaml(p.get("edition", "2018"), p.get("country", "dk"))
        i18n.strings()
        measures.measures_spec()
        display.sensitive_names(p.get("edition", "2018"))  # the display guard's list (reads the codebooks)
        from barometer import templates

        for t in templates.BLOCKS:  # the chapters' blocks, compiled once for every fork
            templates.environment().get_template(t)
    except Exception:  # noqa: BLE001 - the report itself will say what is wrong
        return
    _EXPORTER["configs"] = True


def _render(job: dict, executed: Path) -> str | None:
    r = job.get("render")
    if not r:
        return None
    import nbformat
    from markupsafe import Markup

    from barometer import build

    if "exporter" not in _EXPORTER:
        _EXPORTER["exporter"], _EXPORTER["jinja"] = build._exporter(), build._jinja()
    nb = nbformat.read(executed, as_version=4)
    body, _ = _EXPORTER["exporter"].from_notebook_node(nb)
    page = _EXPORTER["jinja"].get_template("site/page.html.j2")
    return page.render(**r["context"], page_id=r["page_id"], page_title=r["title"], root=r["root"],
                       body=Markup(body))


def run_job(job: dict, scratch: Path) -> dict:
    """Execute one report (in the forked child); returns the result dict."""
    import papermill as pm

    from barometer.engine import forkserver

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
    forkserver.KERNEL_SETUP = _kernel_setup(job, str(deps_file))
    result = {"id": job["id"], "ok": True, "error": None, "worker_pid": os.getppid(), "pid": os.getpid()}
    try:
        pm.execute_notebook(job["notebook"], str(executed), parameters=params, engine_name="barometer",
                            kernel_name="python3", progress_bar=False, cwd=job.get("cwd"), log_output=False,
                            execution_timeout=job.get("timeout"), report_mode=False,
                            shutdown_kernel="immediate")
    except pm.PapermillExecutionError as exc:
        result.update(ok=False, error={"cell": exc.exec_count, "ename": exc.ename, "evalue": exc.evalue,
                                       "traceback": list(exc.traceback or [])})
    except Exception as exc:  # noqa: BLE001 - reported per report, never stops the build
        result.update(ok=False, error={"cell": None, "ename": type(exc).__name__, "evalue": str(exc),
                                       "traceback": traceback.format_exc()})
    result["t_execute"] = time.perf_counter() - t0
    result["executed"] = executed.read_text(encoding="utf-8") if executed.exists() else None
    if result["ok"]:
        try:
            result["html"] = _render(job, executed)
        except Exception as exc:  # noqa: BLE001
            result.update(ok=False, error={"cell": None, "ename": type(exc).__name__,
                                           "evalue": f"rendering the page failed: {exc}"})
    est = sorted((out_dir / "estimates").glob("*.csv"), key=lambda p: (p.stat().st_mtime_ns, p.name)) \
        if (out_dir / "estimates").is_dir() else []
    result["estimates"] = [p.read_text(encoding="utf-8") for p in est]
    if job.get("collect_files"):  # everything the report wrote to output_dir, in the order it wrote it
        import base64

        written = sorted((p for p in out_dir.rglob("*") if p.is_file()),
                         key=lambda p: (p.stat().st_mtime_ns, str(p)))
        result["files"] = [[str(p.relative_to(out_dir)), base64.b64encode(p.read_bytes()).decode("ascii")]
                           for p in written]
    result["deps"] = sorted(set(filter(None, deps_file.read_text(encoding="utf-8").splitlines())))
    result["seconds"] = time.perf_counter() - t0
    return result


def run_forked(job: dict) -> dict:
    """Run ``job`` in a fork of this (warm) process and return its result."""
    from barometer import disclosure

    # the build's settings, before anything is computed: the report and its kernel are forked from here
    disclosure.configure(**(job.get("settings") or {}))
    _preload_data(job.get("preload"))
    if job.get("render") and "exporter" not in _EXPORTER:
        _warm_renderer()
    _warm_configs(job)
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
                res_file.write_text(json.dumps(res), encoding="utf-8")
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
            return json.loads(res_file.read_text(encoding="utf-8"))
        how = f"was killed by signal {-code}" if code < 0 else f"exited with status {code}"
        return {"id": job["id"], "ok": False, "executed": None, "html": None, "estimates": [], "deps": [],
                "seconds": time.perf_counter() - t0, "worker_pid": os.getpid(),
                "error": {"cell": None, "ename": "WorkerError", "evalue": f"the report's process {how}"}}


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


def _start_svg_server() -> None:
    import subprocess

    from .sockets import socket_dir

    tmp = tempfile.mkdtemp(prefix="svg-", dir=socket_dir())  # a socket path short whatever TMPDIR is
    key = os.urandom(16)
    address = os.path.join(tmp, "s")
    env = dict(os.environ, BAROMETER_SVG_KEY=key.hex())
    proc = subprocess.Popen([sys.executable, "-m", "barometer.engine.svgserver", address], env=env,
                            stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)
    _SVG.update(address=address, authkey=key, proc=proc, dir=tmp)


def _wait_svg_server() -> None:
    if _SVG and _SVG["proc"].stdout.readline().strip() != "ready":
        _SVG.clear()  # no server: reports render charts themselves


def main() -> int:
    _PARENT[0] = os.getppid()
    signal.signal(signal.SIGTERM, _on_sigterm)
    proto = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)  # anything printed by reports goes to the log, not the protocol
    from .sockets import socket_dir

    socket_dir()  # made (and removed at exit) here, used by every report's kernel this worker forks
    if os.environ.get("BAROMETER_SVG_SERVER", "1") != "0":
        _start_svg_server()  # warms up while this process imports
    from barometer.engine.forkserver import preload

    preload()
    _wait_svg_server()
    proto.write(json.dumps({"ready": True, "pid": os.getpid()}) + "\n")
    proto.flush()
    try:
        for line in sys.stdin:
            if not line.strip():
                continue
            job = json.loads(line)
            try:
                res = run_forked(job)
            except Exception as exc:  # noqa: BLE001
                res = {"id": job.get("id"), "ok": False, "executed": None, "html": None, "estimates": [],
                       "deps": [], "seconds": 0.0, "worker_pid": os.getpid(),
                       "error": {"cell": None, "ename": type(exc).__name__, "evalue": str(exc)}}
            proto.write(json.dumps(res) + "\n")
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
