"""The chart server keeps what it drew (``engine.svgserver.Memo``): the same call with
the same arguments is answered from memory, anything else is drawn again."""

from barometer.engine.svgserver import FUNCTIONS, Memo


def _counting():
    calls = []

    def draw(spec, scale=1.0):
        calls.append((spec, scale))
        return f"<svg n='{len(calls)}'/>" if isinstance(spec, dict) else b"png" * len(calls)

    return draw, calls


def test_the_same_call_is_drawn_once_and_gives_the_same_result():
    memo, (draw, calls) = Memo(), _counting()
    spec = {"mark": "bar", "data": {"values": [{"x": 1.5, "y": "a"}]}}
    first = memo.call("vegalite_to_svg", (spec,), {}, draw)
    again = memo.call("vegalite_to_svg", ({"data": {"values": [{"y": "a", "x": 1.5}]}, "mark": "bar"},), {}, draw)
    assert again == first and len(calls) == 1 and (memo.hits, memo.misses) == (1, 1)  # key order is not a change


def test_any_change_to_the_spec_the_options_or_the_function_is_drawn_again():
    memo, (draw, calls) = Memo(), _counting()
    spec = {"mark": "bar", "description": "Figur 1", "data": {"values": [{"x": 1.5}]}}
    memo.call("vegalite_to_svg", (spec,), {}, draw)
    memo.call("vegalite_to_svg", ({**spec, "description": "Figur 1."},), {}, draw)
    memo.call("vegalite_to_svg", ({**spec, "data": {"values": [{"x": 1.50001}]}},), {}, draw)
    memo.call("vegalite_to_svg", (spec,), {"scale": 2.0}, draw)
    memo.call("vegalite_to_png", (spec,), {}, draw)
    assert len(calls) == 5 and memo.hits == 0


def test_bytes_arguments_and_results_are_kept_too():
    memo, (draw, calls) = Memo(), _counting()
    assert memo.call("svg_to_png", ("<svg/>",), {"scale": 2.0}, draw) == b"png"
    assert memo.call("svg_to_png", ("<svg/>",), {"scale": 2.0}, draw) == b"png" and len(calls) == 1
    assert Memo().key("f", (b"\x00",), {}) != Memo().key("f", (b"\x01",), {})


def test_it_keeps_at_most_its_size_dropping_the_least_recently_used():
    memo = Memo(max_bytes=100)
    made = []

    def draw(n):
        made.append(n)
        return "x" * 20

    for n in range(5):
        memo.call("f", (n,), {}, draw)
    memo.call("f", (0,), {}, draw)          # used again: now the most recent
    memo.call("f", (5,), {}, draw)          # 6 x 20 > 100: the oldest (1) goes, not 0
    assert memo.bytes <= 100
    memo.call("f", (0,), {}, draw)
    memo.call("f", (1,), {}, draw)
    assert made == [0, 1, 2, 3, 4, 5, 1]
    big = Memo(max_bytes=100)
    big.call("f", (0,), {}, lambda n: "y" * 60)  # more than a quarter of the memo: not kept
    assert big.bytes == 0 and not big.items


def test_the_server_draws_every_function_the_reports_call():
    import inspect

    from barometer import charts

    used = {fn for fn in ("vegalite_to_svg", "vegalite_to_png", "svg_to_png")
            if f"vlc.{fn}(" in inspect.getsource(charts)}
    assert used and used <= set(FUNCTIONS)


def test_forgetting_draws_everything_again():
    memo, (draw, calls) = Memo(), _counting()
    spec = {"mark": "bar", "data": {"values": [{"x": 1}]}}
    memo.call("vegalite_to_svg", (spec,), {}, draw)
    memo.forget()
    assert memo.bytes == 0 and not memo.items
    memo.call("vegalite_to_svg", (spec,), {}, draw)
    assert len(calls) == 2


def test_a_worker_forgets_its_charts_once_per_build_that_draws_them_afresh(monkeypatch):
    from barometer.engine import svgserver, worker

    told = []
    monkeypatch.setattr(svgserver, "forget", lambda address, key: told.append(address))
    monkeypatch.setattr(worker, "_SVG", {"address": "/s", "authkey": b"k"})
    monkeypatch.setattr(worker, "_FRESH", [None])
    for build in (None, "", "b1", "b1", "b1", "b2", "b2", None):
        worker._fresh_charts(build)
    assert told == ["/s", "/s"]  # b1's first job, b2's first job; a build without --force: never


def test_only_a_forced_builds_jobs_ask_for_fresh_charts(tmp_path):
    from dataclasses import replace

    from barometer.build import run
    from barometer.build.config import BuildConfig

    t = run.Task(id="types", notebook=tmp_path / "02_types.ipynb", parameters={"edition": "2018"},
                 job={"preload": [], "track_content": False})
    cfg = BuildConfig()
    run.begin_build()
    assert "fresh_charts" not in run.job(cfg, t)
    first = run.job(replace(cfg, force=True), t)["fresh_charts"]
    assert first == run.job(replace(cfg, force=True), t)["fresh_charts"]  # one build: one token
    run.begin_build()
    assert run.job(replace(cfg, force=True), t)["fresh_charts"] != first
