"""The site's reports built in parallel (``build.py --site``).

The reports are independent builds.  :func:`build_all`

1. brings every edition's synthetic sample up to date once, here (two reports of one edition
   must not both generate it), and checks which reports are up to date, in this process:
   the same check a build makes first (:func:`pipeline.up_to_date`), so an unchanged site
   starts no process and stays well under a second;
2. builds the others as ``build.py`` processes, each exactly the build ``build.py --edition
   E --country C --lang L --out ...`` would make with the same options (its options are
   generated from the configuration's fields, :func:`argv`): at most ``--jobs`` reports at a
   time (default: the number of cores), each given its share of the ``--jobs`` notebook
   workers, so the machine runs as many notebooks as a single build would while one report
   renders its pages or PDF and another runs its chapters.  Every line a report prints is
   passed on with its name in front; a report that fails stops the ones not yet started
   and the build with its one line (a failed report's error, named by its report).
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import fields
from pathlib import Path

from ..errors import BuildError, InputError, InternalError


def argv(cfg, jobs: int) -> list[str]:
    """The command-line options that make ``cfg`` (with ``--jobs jobs``), from its fields' flags."""
    out = []
    for f in fields(cfg):
        value = getattr(cfg, f.name)
        if "flag" not in f.metadata:
            if value != f.default:
                raise InputError(f"the site's reports are built by build.py processes: the setting {f.name} "
                                 "has no command-line option, so it must keep its default")
            continue
        flag, action = f.metadata["flag"], f.metadata["kw"].get("action")
        if f.name == "jobs":
            value = jobs
        if action == "store_true":
            out += [flag] if value else []
        elif action == "store_false":
            out += [] if value else [flag]
        elif value is not None and value != "":
            out += [flag, str(value)]
    return out


def build_all(cfgs: list, log=print) -> list[Path]:
    """Build every configuration in ``cfgs`` (:class:`BuildConfig`); returns their output folders, in order."""
    from . import pipeline
    from ..synthkey import ensure_current

    for edition in sorted({c.edition for c in cfgs if not c.data_path}):
        ensure_current(edition, log)
    commit = pipeline.git_commit()
    caches: dict[Path, object] = {}  # one per cache folder: its static key and checksums read once
    todo = []
    for c in cfgs:
        cache = caches.get(Path(c.default_cache_dir)) or caches.setdefault(Path(c.default_cache_dir), c.open_cache())
        if pipeline.up_to_date(c, commit, cache):
            log(f"{c.target} is up to date")
        else:
            todo.append(c)
    if todo:
        _run(todo, log)
    return [Path(c.target) for c in cfgs]


def _run(todo: list, log) -> None:
    from ..engine import lifetime

    total = todo[0].n_jobs
    at_once = max(1, min(len(todo), total))
    each = max(1, total // at_once)
    log(f"building {len(todo)} report(s), {at_once} at a time, {each} notebook worker(s) each ...")
    lock = threading.Lock()
    failed: list[tuple[object, int, str]] = []
    env = dict(os.environ)
    package_root = str(Path(__file__).resolve().parents[2])  # the folder holding the barometer package
    env["PYTHONPATH"] = package_root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")

    def say(line: str) -> None:
        with lock:
            log(line)

    def one(cfg) -> None:
        if failed:  # a report failed: the ones not started yet are not started
            return
        proc = subprocess.Popen([sys.executable, "-m", "barometer.cli", *argv(cfg, each)], env=env,
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, encoding="utf-8", errors="replace", bufsize=1)
        lifetime.register(proc)  # an interrupted site stops its reports too
        errors: list[str] = []

        def read_errors() -> None:
            for line in proc.stderr:
                line = line.rstrip("\n")
                if line.strip():
                    errors.append(line)
                    with lock:
                        print(f"[{cfg.slug}] {line}", file=sys.stderr, flush=True)

        reader = threading.Thread(target=read_errors, daemon=True)
        reader.start()
        for line in proc.stdout:
            say(f"[{cfg.slug}] {line.rstrip()}")
        code = proc.wait()
        reader.join()
        if code:
            with lock:
                failed.append((cfg, code, errors[-1] if errors else f"exit status {code}"))

    with ThreadPoolExecutor(max_workers=at_once) as pool:
        for f in [pool.submit(one, c) for c in todo]:
            f.result()
    if failed:
        cfg, code, line = failed[0]
        for prefix in ("error: ", "build failed: "):
            if line.startswith(prefix):
                line = line[len(prefix):]
                break
        more = f" ({len(failed) - 1} more report(s) failed: {', '.join(c.slug for c, *_ in failed[1:])})" \
            if len(failed) > 1 else ""
        msg = f"{cfg.slug}: {line}{more}"
        if code == 2:
            raise InputError(msg)
        raise (InternalError if line.startswith("internal error") else BuildError)(msg)
