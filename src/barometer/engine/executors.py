"""Where the reports run: warm local workers, or a Dask cluster of them.

Both executors take jobs (dicts, see :mod:`barometer.engine.worker`) and call
``on_start(job)`` / ``on_done(result)`` as reports start and finish, with a
:class:`barometer.engine.result.JobResult`; a failing report is a result with
``ok`` false and its :class:`~barometer.engine.result.JobFailure`, never an
exception.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable

from .result import JobResult

WORKER_CMD = [sys.executable, "-m", "barometer.engine.worker"]


def make_job(id: str, notebook: Path, parameters: dict, cwd: Path, preload: list, *, track_content: bool,
             timeout: float | None = None, inputs: dict | None = None, **extra) -> dict:
    """A job for :mod:`barometer.engine.worker`: run ``notebook`` with
    ``parameters`` in ``cwd``, with the ``preload`` datasets handed over.

    The files it reads under the data folder, the templates and its
    ``data_path`` are recorded as its dependencies; content files only when
    ``track_content`` (otherwise a report records the items it shows itself,
    :func:`barometer.display.record_use`)."""
    from ..paths import DATA_DIR, TEMPLATE_DIR

    data_path = parameters.get("data_path") or ""
    roots = [str(DATA_DIR), str(TEMPLATE_DIR)] + ([data_path] if data_path else [])
    return {"id": id, "notebook": str(notebook), "parameters": parameters, "cwd": str(cwd),
            "inputs": inputs or {}, "timeout": timeout, "preload": preload,
            "track": {"roots": roots, "skip": [] if track_content else [str(DATA_DIR / "content")]}, **extra}


class WarmWorker:
    """One ``python -m barometer.engine.worker`` process, spoken to over pipes;
    ``hooks`` names the build's module that says what it preloads (``MODULES``)."""

    def __init__(self, log: Path | None = None, hooks: str = "", charts: str = ""):
        self.log, self.hooks, self.charts = log, hooks, charts
        self.proc: subprocess.Popen | None = None
        self.ready = False  # it said hello (it has imported its stack)
        self.chart_server: list | None = None  # its chart server's address and key (hex), if it runs one
        self.lock = threading.Lock()

    def start(self) -> None:
        """Start the process (unless :meth:`spawn` did) and wait until it is ready."""
        if self.proc is None or self.proc.poll() is not None:
            self.spawn()
        hello = self.proc.stdout.readline()
        if not hello:
            raise RuntimeError(f"the warm worker did not start (see {self.log})")
        hello = json.loads(hello)
        self.pid, self.chart_server = hello["pid"], hello.get("charts")
        self.ready = True

    def spawn(self) -> None:
        """Start the process without waiting for it: it imports its stack while the caller goes on."""
        from . import lifetime

        if lifetime.stopping():
            raise RuntimeError("the build is stopping: no new worker starts")
        err = open(self.log, "ab") if self.log else subprocess.DEVNULL
        env = dict(os.environ)
        src = str(Path(__file__).resolve().parents[2])
        env["PYTHONPATH"] = src + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
        args = (["--hooks", self.hooks] if self.hooks else []) + (["--charts", self.charts] if self.charts else [])
        self.proc = subprocess.Popen(WORKER_CMD + args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err,
                                     text=True, bufsize=1, env=env, start_new_session=True)
        self.ready = False
        lifetime.register(self.proc)
        if self.log:
            err.close()

    def run(self, job: dict) -> JobResult:
        with self.lock:
            for attempt in (1, 2):
                if self.proc is None or self.proc.poll() is not None or not self.ready:
                    self.start()
                try:
                    self.proc.stdin.write(json.dumps(job) + "\n")
                    self.proc.stdin.flush()
                    line = self.proc.stdout.readline()
                except (BrokenPipeError, OSError):
                    line = ""
                if line:
                    return JobResult.from_dict(json.loads(line))
                self.close()
            return JobResult.failed(job["id"], "WorkerError", "the warm worker died twice running this report")

    def close(self) -> None:
        if self.proc is not None:
            if not self.ready:  # spawned, never used: it would read its stdin only once it has imported its stack
                self.proc.terminate()
            try:
                self.proc.stdin.close()
            except OSError:
                pass
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc, self.ready = None, False


class LocalExecutor:
    """``--jobs N`` warm workers on this machine."""

    name = "local"

    def __init__(self, jobs: int, log_dir: Path | None = None, hooks: str = "", charts: Path | None = None):
        """``charts``: the cache's chart store, where the workers' chart servers keep what they drew."""
        self.jobs = max(1, jobs)
        self.log_dir, self.hooks, self.charts = log_dir, hooks, charts
        self._pool: list[WarmWorker] | None = None

    def __enter__(self) -> "LocalExecutor":
        """Keep the warm workers between ``run`` calls (the reports, then the
        index) instead of starting fresh ones, until the block ends."""
        self._pool = []
        return self

    def __exit__(self, *exc) -> None:
        pool, self._pool = self._pool or [], None
        for w in pool:
            w.close()

    def spawned(self) -> bool:
        """Whether all ``--jobs`` workers of the ``with`` block have been spawned (outside it: nothing to prestart)."""
        return self._pool is None or (len(self._pool) >= self.jobs and all(w.proc is not None for w in self._pool))

    def prestart(self, n: int) -> None:
        """Spawn up to ``n`` of the workers now, inside the ``with`` block, without
        waiting for them: they import their stack while the build goes on
        (loading the data); :meth:`run` then waits for each as it needs it."""
        if self._pool is None:
            return
        while len(self._pool) < min(self.jobs, n):
            self._pool.append(self._worker(len(self._pool)))
        for w in self._pool:
            if w.proc is None:
                w.spawn()

    def warm(self, job: dict) -> list[threading.Thread]:
        """Inside the ``with`` block: start the ``--jobs`` workers now, each in a thread
        of its own, and hand each ``job`` (one with ``prepare_only``: it loads what the
        reports will use).  A report sent meanwhile waits for its worker."""
        while len(self._pool) < self.jobs:
            self._pool.append(self._worker(len(self._pool)))

        def one(w: WarmWorker) -> None:
            try:
                w.run(job)
            except Exception:  # noqa: BLE001 - it did not start, or the block ended meanwhile:
                pass  # the next report starts it again (and its log says why)

        threads = [threading.Thread(target=one, args=(w,), name=f"warm-{i}", daemon=True)
                   for i, w in enumerate(self._pool)]
        for t in threads:
            t.start()
        return threads

    def _worker(self, i: int) -> WarmWorker:
        return WarmWorker(self.log_dir / f"worker-{i}.log" if self.log_dir else None, self.hooks,
                          str(self.charts) if self.charts else "")

    def run(self, jobs: list[dict], on_start: Callable, on_done: Callable) -> None:
        if not jobs:
            return
        n = min(self.jobs, len(jobs))
        owned = self._pool is None
        if owned:
            workers = [self._worker(i) for i in range(n)]
        else:
            while len(self._pool) < n:
                self._pool.append(self._worker(len(self._pool)))
            workers = self._pool[:n]
        # fewer reports than warm workers (an index, one chapter): the idle workers' chart
        # servers draw some of the reports' charts (barometer.engine.svgserver.map_call)
        helpers = [w.chart_server for w in (self._pool or [])[n:] if w.ready and w.chart_server]
        free = list(workers)
        free_lock = threading.Lock()

        def one(job):
            with free_lock:
                w = free.pop()
            try:
                on_start(job)
                res = w.run({**job, "chart_helpers": helpers} if helpers else job)
            finally:
                with free_lock:
                    free.append(w)
            on_done(res)

        pool = ThreadPoolExecutor(max_workers=n)
        try:
            for f in [pool.submit(one, j) for j in jobs]:
                f.result()
        except BaseException:  # interrupted, or a worker could not start: the waiting jobs never start
            pool.shutdown(wait=True, cancel_futures=True)
            raise
        else:
            pool.shutdown(wait=True)
        finally:
            if owned:
                for w in workers:
                    w.close()


# --------------------------------------------------------------------------------------
# Dask
# --------------------------------------------------------------------------------------
_DASK_WORKER: dict = {}
_DASK_LOCK = threading.Lock()


def dask_run(job: dict) -> JobResult:
    """Run one report on a Dask worker, in that worker's own warm worker process."""
    with _DASK_LOCK:
        w = _DASK_WORKER.get("w")
        if w is None:
            log = Path(job["log_dir"]) / f"dask-worker-{os.getpid()}.log" if job.get("log_dir") else None
            w = _DASK_WORKER["w"] = WarmWorker(log, job.get("hooks") or "")
        res = w.run(job)
    res.host = f"{os.uname().nodename}:{os.getpid()}"
    return res


class DaskExecutor:
    """``--executor dask``: the reports as tasks on a Dask distributed cluster
    (``--scheduler tcp://HOST:PORT``, or a LocalCluster on loopback).  A
    worker lost in the middle of a report is survived: Dask runs the report
    again on another worker."""

    name = "dask"

    def __init__(self, jobs: int, scheduler: str | None = None, log_dir: Path | None = None, retries: int = 2):
        self.jobs = max(1, jobs)
        self.scheduler = scheduler
        self.log_dir = log_dir
        self.retries = retries
        self.client = None
        self.cluster = None

    def __enter__(self):
        from distributed import Client, LocalCluster

        if self.scheduler:
            self.client = Client(self.scheduler, timeout="30s")
        else:
            self.cluster = LocalCluster(n_workers=self.jobs, threads_per_worker=1, processes=True,
                                        host="127.0.0.1", dashboard_address=None, silence_logs=50)
            self.client = Client(self.cluster)
        return self

    def __exit__(self, *exc):
        if self.client is not None:
            self.client.close()
        if self.cluster is not None:
            self.cluster.close()

    def run(self, jobs: list[dict], on_start: Callable, on_done: Callable) -> None:
        from distributed import as_completed

        if not jobs:
            return
        futures = {}
        for job in jobs:
            job = dict(job, log_dir=str(self.log_dir) if self.log_dir else None)
            on_start(job)
            fut = self.client.submit(dask_run, job, key=f"report-{job['id']}-{os.urandom(4).hex()}", pure=False,
                                     retries=self.retries)
            futures[fut] = job
        for fut in as_completed(list(futures)):
            job = futures[fut]
            try:
                res = fut.result()
            except Exception as exc:  # noqa: BLE001 - e.g. KilledWorker after too many lost workers
                res = JobResult.failed(job["id"], type(exc).__name__, str(exc))
            on_done(res)
