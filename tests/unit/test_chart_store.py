"""The chart servers' store in the report cache (``<cache>/charts/``): shared by every
worker and later builds, checked on every read, and counted, evicted, swept and cleaned
with the cache's entries."""

import os
import time

from barometer.engine.cache import CHARTS, Cache, clean
from barometer.engine.svgserver import Memo, Store

SPEC = {"mark": "bar", "data": {"values": [{"x": 0.79}]}}


def _draw(calls):
    def draw(spec):
        calls.append(spec)
        return "<svg>" + "x" * 1000 + "</svg>"

    return draw


def test_a_chart_drawn_by_one_worker_is_found_by_another_and_by_a_later_build(tmp_path):
    calls = []
    store = Cache(tmp_path / "cache").charts_dir
    one, two = Memo(store=Store(store), version="1.9.0"), Memo(store=Store(store), version="1.9.0")
    first = one.call("vegalite_to_svg", (SPEC,), {}, _draw(calls))
    assert two.call("vegalite_to_svg", (SPEC,), {}, _draw(calls)) == first and len(calls) == 1
    png = Memo(store=Store(store)).call("svg_to_png", (first,), {"scale": 2.0}, lambda s, scale: b"\x89PNG\x00\xff")
    assert Memo(store=Store(store)).call("svg_to_png", (first,), {"scale": 2.0}, lambda s, scale: b"") == png
    other_version = Memo(store=Store(store), version="1.10.0")  # another vl-convert: drawn again
    other_version.call("vegalite_to_svg", (SPEC,), {}, _draw(calls))
    assert len(calls) == 2


def test_a_damaged_or_half_written_chart_is_drawn_again_and_replaced(tmp_path):
    calls = []
    root = tmp_path / "cache" / CHARTS
    memo = Memo(store=Store(root))
    good = memo.call("vegalite_to_svg", (SPEC,), {}, _draw(calls))
    (path,) = [p for p in root.rglob("*") if p.is_file()]
    path.write_bytes(path.read_bytes()[:-10])  # truncated
    assert Memo(store=Store(root)).call("vegalite_to_svg", (SPEC,), {}, _draw(calls)) == good and len(calls) == 2
    assert Memo(store=Store(root)).call("vegalite_to_svg", (SPEC,), {}, _draw(calls)) == good and len(calls) == 2


def test_a_store_that_cannot_be_written_still_draws(tmp_path):
    (tmp_path / "file").write_text("in the way")
    memo = Memo(store=Store(tmp_path / "file" / CHARTS))
    assert memo.call("f", (1,), {}, lambda n: "drawn") == "drawn"


def test_charts_are_entries_of_the_cache_evicted_least_recently_used_first_and_cleaned(tmp_path):
    c = Cache(tmp_path / "cache")
    for n in range(3):
        Memo(store=Store(c.charts_dir)).call("f", (n,), {}, lambda n: f"chart {n} " + "y" * 5000)
    files = sorted((p for p in c.charts_dir.rglob("*") if p.is_file()), key=lambda p: p.name)
    for age, p in zip((300, 100, 200), files):
        os.utime(p, (time.time() - age, time.time() - age))
    later = Cache(tmp_path / "cache")  # another build: the charts were not used by it
    later.started = time.time() + 10
    assert sorted(p for p, _, _ in later.entries()) == files
    later.evict(sum(b for _, _, b in later.entries()) - 1)  # one must go: the oldest
    assert sorted(p for p, _, _ in later.entries()) == sorted([files[1], files[2]])
    leftover = files[1].parent / f".{files[1].name}.tmp-999999999"
    leftover.write_text("half")  # a chart server killed while writing (its process has ended)
    os.utime(leftover, (time.time() - 60, time.time() - 60))
    assert leftover in Cache(tmp_path / "cache", sweep=False).sweep() and not leftover.exists()
    freed, _ = clean(c.root)
    assert freed > 10_000 and not c.root.exists()
