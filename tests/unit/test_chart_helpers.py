"""Idle workers' chart servers help a report that runs alone (an index, one chapter):
``engine.svgserver.map_call`` shares its charts between its own server and theirs, and the
results are those of one call after another, in order, whoever drew them."""

import os
import tempfile
import threading
import time
from multiprocessing.connection import Listener

import pytest
import vl_convert

from barometer.engine import executors, svgserver
from barometer.engine.result import JobResult


def _draw(spec):
    if spec.get("fail"):
        raise ValueError(f"cannot draw {spec['n']}")
    time.sleep(0.01)  # long enough that two drawers share the work
    return f"<svg n='{spec['n']}'/>"


def _helper_server(drawn: list, die_after: int | None = None):
    """A chart server in a thread, as ``svgserver.serve`` answers (without vl-convert)."""
    folder = tempfile.mkdtemp(prefix="h-")
    address, key = os.path.join(folder, "s"), os.urandom(16)
    listener = Listener(address, family="AF_UNIX", authkey=key)

    def serve():
        with listener.accept() as conn:
            while True:
                try:
                    fn, args, kwargs = conn.recv()
                except (EOFError, OSError):
                    return
                if die_after is not None and len(drawn) >= die_after:
                    return  # gone in the middle of the work
                drawn.append(args[0]["n"])
                try:
                    conn.send((True, _draw(*args)))
                except ValueError as exc:
                    conn.send((False, (type(exc).__name__, str(exc))))

    threading.Thread(target=serve, daemon=True).start()
    return address, key


@pytest.fixture
def own(monkeypatch):
    """This kernel's own drawing (its proxy), counting what it drew."""
    drawn = []

    def draw(spec):
        drawn.append(spec["n"])
        return _draw(spec)

    monkeypatch.setattr(vl_convert, "vegalite_to_svg", draw)
    monkeypatch.setattr(svgserver, "_HELPERS", [])
    return drawn


def test_an_idle_server_draws_some_of_the_charts_and_the_results_keep_their_order(own):
    helped = []
    svgserver._HELPERS[:] = [_helper_server(helped)]
    calls = [({"n": i},) for i in range(12)]
    assert svgserver.map_call("vegalite_to_svg", calls) == [f"<svg n='{i}'/>" for i in range(12)]
    assert helped and own and sorted(helped + own) == list(range(12))


def test_without_helpers_or_with_one_that_cannot_be_reached_the_kernel_draws_them_all(own):
    calls = [({"n": i},) for i in range(4)]
    assert svgserver.map_call("vegalite_to_svg", calls) == [f"<svg n='{i}'/>" for i in range(4)]
    svgserver._HELPERS[:] = [("/nonexistent/socket", b"k" * 16)]
    assert svgserver.map_call("vegalite_to_svg", calls) == [f"<svg n='{i}'/>" for i in range(4)]
    assert own == [0, 1, 2, 3] * 2


def test_a_helper_that_goes_away_leaves_its_chart_to_the_others(own):
    helped = []
    svgserver._HELPERS[:] = [_helper_server(helped, die_after=1)]
    calls = [({"n": i},) for i in range(8)]
    assert svgserver.map_call("vegalite_to_svg", calls) == [f"<svg n='{i}'/>" for i in range(8)]
    assert sorted(set(helped) | set(own)) == list(range(8))


def test_the_first_error_in_order_is_raised_as_one_call_after_another_would(own):
    svgserver._HELPERS[:] = [_helper_server([])]
    calls = [({"n": i, "fail": i in (3, 6)},) for i in range(8)]
    with pytest.raises(ValueError, match="cannot draw 3"):
        svgserver.map_call("vegalite_to_svg", calls)


class _Worker:
    def __init__(self, server):
        self.ready, self.chart_server, self.jobs = True, server, []

    def run(self, job):
        self.jobs.append(job)
        return JobResult(id=job["id"])


def test_a_stage_with_fewer_reports_than_workers_lends_it_the_idle_workers_chart_servers():
    ex = executors.LocalExecutor(3)
    ex._pool = [_Worker(["/s/a", "aa"]), _Worker(["/s/b", "bb"]), _Worker(None)]
    ex.run([{"id": "index"}], on_start=lambda job: None, on_done=lambda res: None)
    (job,) = ex._pool[0].jobs
    assert job["chart_helpers"] == [["/s/b", "bb"]]  # the idle one that has a server; not its own
    ex.run([{"id": f"u{i}"} for i in range(3)], on_start=lambda job: None, on_done=lambda res: None)
    later = [j for w in ex._pool for j in w.jobs if j["id"] != "index"]
    assert len(later) == 3 and all("chart_helpers" not in j for j in later)  # nobody idle
