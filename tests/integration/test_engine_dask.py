"""--executor dask: a 2-worker LocalCluster, and a worker killed mid-build."""

import json
import os
import signal
import threading
import time

import pytest

from barometer.build import FanoutConfig, main_exit

distributed = pytest.importorskip("distributed")

pytestmark = pytest.mark.slow  # builds many reports: `make test`, not `make test-fast`


def _cfg(tmp_path, **kw):
    # two of the three government levels keep the test short; every report of the plan must be there
    return FanoutConfig(by="government_level", out_dir=tmp_path / "site", jobs=2, quiet=True,
                        cache_dir=tmp_path / "cache", executor="dask", limit=2, **kw)


def _reports(tmp_path):
    m = json.loads((tmp_path / "site" / "manifest.json").read_text())
    return {r["id"]: r for r in m["tasks"]}


def test_local_cluster_with_two_workers(tmp_path):
    assert main_exit(_cfg(tmp_path)) == 0
    reports = _reports(tmp_path)
    assert set(reports) == {"units/1", "units/2", "index"}
    assert all(r["cache"] == "miss" for r in reports.values())
    assert sorted(p.name for p in (tmp_path / "site" / "units").iterdir()) == ["1.html", "2.html"]


def test_build_survives_a_killed_worker(tmp_path):
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None) as cluster, Client(cluster) as client:
        result = {}
        t = threading.Thread(target=lambda: result.setdefault("rc", main_exit(
            _cfg(tmp_path, scheduler=cluster.scheduler_address))))
        t.start()
        victim = None
        deadline = time.time() + 120
        while victim is None and time.time() < deadline:  # a worker in the middle of a report
            busy = [w for w, tasks in client.processing().items() if tasks]
            if busy:
                time.sleep(2)  # let the report get going
                victim = client.run(os.getpid, workers=[busy[0]])[busy[0]]
            else:
                time.sleep(0.2)
        assert victim is not None, "no report started"
        os.kill(victim, signal.SIGKILL)
        t.join(timeout=300)
        assert result.get("rc") == 0
    reports = _reports(tmp_path)
    assert set(reports) == {"units/1", "units/2", "index"}
    assert sorted(p.name for p in (tmp_path / "site" / "units").iterdir()) == ["1.html", "2.html"]


def test_an_edition_builds_on_dask_as_on_the_forked_workers(tmp_path, built_2018_dk_da):
    """--executor dask is a setting of every build: the edition's chapters run on a LocalCluster and publish
    the same numbers and the same chart files (clip ids no longer depend on the process that drew them)."""
    from barometer.build import BuildConfig

    out = tmp_path / "2018-dk-da"
    assert main_exit(BuildConfig(out_dir=out, quiet=True, cache_dir=tmp_path / "cache", executor="dask", jobs=2,
                                 pdf=False)) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["executor"] == "dask" and manifest["tasks"] and all(t["cache"] == "miss" for t in manifest["tasks"])
    assert (out / "estimates.csv").read_bytes() == (built_2018_dk_da / "estimates.csv").read_bytes()
    svgs = sorted(p.name for p in (built_2018_dk_da / "figures").glob("*.svg"))
    assert svgs and svgs == sorted(p.name for p in (out / "figures").glob("*.svg"))
    for name in svgs:
        assert (out / "figures" / name).read_bytes() == (built_2018_dk_da / "figures" / name).read_bytes(), name
