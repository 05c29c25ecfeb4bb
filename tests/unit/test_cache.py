"""The report cache (barometer.engine.cache): it serves only what it checked,
writes whole entries, stays under its size, cleans up after killed builds and
belongs to one checkout.  Pure python: no kernels, no builds."""

import base64
import errno
import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from barometer.engine import cache as cache_mod
from barometer.engine.result import JobResult
from barometer.engine.cache import MARKER, Cache, CacheChanged, clean, parse_size
from barometer.errors import BuildError, InputError

EST = "figure_id,measure,estimate\nfig1,m1,0.4321\n"


@pytest.fixture
def checkout(tmp_path):
    """A scratch checkout with one data file and one content file a report 'reads'."""
    root = tmp_path / "checkout"
    (root / "data" / "content").mkdir(parents=True)
    (root / "data" / "sample.csv").write_text("id,x\n1,2\n")
    (root / "data" / "content" / "case.yaml").write_text("title: A\n")
    return root


def _result(root: Path, rid="chapter-a", est=EST, html="<p>page</p>"):
    deps = [str(root / "data" / "sample.csv"), str(root / "data" / "content" / "case.yaml")]
    files = [["estimates/x.csv", base64.b64encode(est.encode()).decode()],
             ["figures/x.svg", base64.b64encode(b"<svg/>").decode()]]
    return JobResult(id=rid, executed=json.dumps({"cells": [], "nbformat": 4}), html=html, estimates=[est],
                     files=files, deps=deps, seconds=1.5)


def _key(n: int = 0) -> str:
    return hashlib.sha256(f"entry-{n}".encode()).hexdigest()


@pytest.fixture
def stored(tmp_path, checkout):
    c = Cache(tmp_path / "cache", checkout=checkout)
    key = _key()
    meta = c.store(key, _result(checkout))
    return c, key, meta


def test_an_intact_entry_is_a_hit_and_records_checksums_of_every_file(stored):
    c, key, meta = stored
    assert set(meta["checksums"]) == {"executed.ipynb", "page.html", "estimates-0.csv", "files/estimates/x.csv",
                                      "files/figures/x.svg"}
    assert c.lookup(key) == meta
    assert c.estimates(key, meta) == [EST]
    assert (c.root / MARKER).is_file()


@pytest.mark.parametrize("name", ["files/estimates/x.csv", "estimates-0.csv", "page.html"])
def test_one_tampered_byte_is_a_miss_with_a_warning(stored, capsys, name):
    c, key, meta = stored
    p = c.path(key) / name
    data = p.read_bytes()
    i = data.index(b"4321") if b"4321" in data else 1
    p.write_bytes(data[:i] + b"9" + data[i + 1:])  # same size, one byte changed
    assert c.lookup(key) is None
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("warning: cache entry ")
    assert key in err and f"{name} changed" in err and "running it again" in err


def test_truncated_executed_notebook_is_a_miss(stored, capsys):
    c, key, _ = stored
    p = c.path(key) / "executed.ipynb"
    p.write_bytes(p.read_bytes()[:7])
    assert c.lookup(key) is None
    assert "executed.ipynb changed" in capsys.readouterr().err


def test_missing_file_is_a_miss(stored, capsys):
    c, key, _ = stored
    (c.path(key) / "files" / "figures" / "x.svg").unlink()
    assert c.lookup(key) is None
    assert "files/figures/x.svg missing" in capsys.readouterr().err


@pytest.mark.parametrize("damage, what", [
    (lambda t: t[: len(t) // 2], "not valid JSON"),
    (lambda t: "[1, 2]", "not an entry's"),
    (lambda t: t.replace('"seconds": 1.5', '"seconds": 2.5'), "meta.json changed"),
    (None, "meta.json missing"),
])
def test_corrupt_or_missing_meta_is_a_miss(stored, capsys, damage, what):
    c, key, _ = stored
    meta_file = c.path(key) / "meta.json"
    if damage is None:
        meta_file.unlink()
    else:
        meta_file.write_text(damage(meta_file.read_text()))
    assert c.lookup(key) is None
    assert what in capsys.readouterr().err


def test_a_changed_checksum_in_meta_does_not_make_tampering_pass(stored, capsys):
    """Rewriting the file and its recorded checksum (but not the meta digest) is still caught."""
    c, key, meta = stored
    p = c.path(key) / "files/estimates/x.csv"
    p.write_text(EST.replace("0.4321", "0.9999"))
    meta["checksums"]["files/estimates/x.csv"] = hashlib.sha256(p.read_bytes()).hexdigest()
    (c.path(key) / "meta.json").write_text(json.dumps(meta))
    assert c.lookup(key) is None
    assert "meta.json changed" in capsys.readouterr().err


def test_a_file_without_a_checksum_is_never_served(stored, capsys):
    c, key, meta = stored
    del meta["checksums"]["files/figures/x.svg"]
    body = {k: v for k, v in meta.items() if k != "meta_sha256"}
    meta["meta_sha256"] = cache_mod.digest(body)
    (c.path(key) / "meta.json").write_text(json.dumps(meta))
    assert c.lookup(key) is None
    assert "no checksum for files/figures/x.svg" in capsys.readouterr().err


def test_a_missing_entry_is_a_plain_miss(tmp_path, checkout, capsys):
    c = Cache(tmp_path / "cache", checkout=checkout)
    assert c.lookup(_key(9)) is None
    assert capsys.readouterr().err == ""


def test_a_changed_dependency_is_a_miss_without_warning(stored, checkout, capsys):
    c, key, _ = stored
    (checkout / "data" / "content" / "case.yaml").write_text("title: B\n")
    assert c.lookup(key) is None
    assert capsys.readouterr().err == ""


def test_bytes_changed_after_the_lookup_are_never_handed_out(stored, checkout, tmp_path):
    c, key, _ = stored
    c2 = Cache(c.root, checkout=checkout)
    meta = c2.lookup(key)
    assert meta is not None
    (c.path(key) / "files/estimates/x.csv").write_text(EST.replace("0.4321", "0.9999"))
    # what is copied out is what the lookup checked
    assert c2.copy_files(key, meta, tmp_path / "w1") == ["estimates/x.csv", "figures/x.svg"]
    assert (tmp_path / "w1" / "estimates/x.csv").read_text() == EST
    # without those bytes in memory (beyond HOLD_BYTES) they are read again, checked, and refused
    c3 = Cache(c.root, checkout=checkout)
    with pytest.raises(CacheChanged, match="changed while this build was reading it"):
        c3.copy_files(key, meta, tmp_path / "w2")
    assert not (tmp_path / "w2" / "estimates/x.csv").exists()
    (c.path(key) / "estimates-0.csv").unlink()
    with pytest.raises(BuildError, match="estimates-0.csv"):
        c3.estimates(key, meta)
    assert c2.estimates(key, meta) == [EST]


def test_a_reader_never_sees_a_half_written_or_half_deleted_entry(stored, checkout, monkeypatch, capsys):
    """A concurrent build looking the entry up at every step of its replacement sees
    the old entry, no entry, or the new one: never a mixture, never a damaged one."""
    c, key, old_meta = stored
    reader = Cache(c.root, checkout=checkout, sweep=False)
    seen = []
    real_write, real_rename = Path.write_bytes, os.rename

    def write_and_look(self, data):
        n = real_write(self, data)
        seen.append(reader.lookup(key))
        return n

    def rename_and_look(src, dst):
        real_rename(src, dst)
        seen.append(reader.lookup(key))

    monkeypatch.setattr(Path, "write_bytes", write_and_look)
    monkeypatch.setattr(cache_mod.os, "rename", rename_and_look)
    new = c.store(key, _result(checkout, html="<p>new</p>"), replace=True)
    monkeypatch.undo()
    assert new != old_meta and len(seen) >= 7
    assert all(m is None or m == old_meta or m == new for m in seen)
    assert old_meta in seen and None in seen and seen[-1] == new
    assert "damaged" not in capsys.readouterr().err


def test_copies_are_the_checked_bytes(stored, tmp_path):
    c, key, meta = stored
    dest = tmp_path / "work"
    assert c.copy_files(key, meta, dest) == ["estimates/x.csv", "figures/x.svg"]
    assert (dest / "estimates/x.csv").read_text() == EST
    c.copy_page(key, meta, dest / "p.html")
    assert (dest / "p.html").read_text() == "<p>page</p>"


def test_damaged_entry_is_replaced_by_the_next_store(stored, checkout, capsys):
    c, key, _ = stored
    (c.path(key) / "page.html").write_text("tampered")
    assert c.lookup(key) is None
    meta = c.store(key, _result(checkout, html="<p>fresh</p>"))
    assert c.lookup(key) == meta and (c.path(key) / "page.html").read_text() == "<p>fresh</p>"
    assert not [p for p in c.path(key).parent.iterdir() if p.name.startswith(".")], "temporary folder left"


def test_an_intact_entry_is_kept_unless_replace(stored, checkout):
    """Two builds storing the same key: the first one's entry stays (a reader of it is never
    surprised); --force replaces it."""
    c, key, meta = stored
    again = c.store(key, _result(checkout, html="<p>second</p>"))
    assert again == meta and (c.path(key) / "page.html").read_text() == "<p>page</p>"
    forced = c.store(key, _result(checkout, html="<p>forced</p>"), replace=True)
    assert forced != meta and (c.path(key) / "page.html").read_text() == "<p>forced</p>"


# -- the checkout ------------------------------------------------------------------
def test_dependencies_are_relative_to_the_checkout_and_resolved_against_the_current_one(tmp_path):
    """Two checkouts sharing one cache folder: B never gets A's entry when B's files differ."""
    import shutil

    a = tmp_path / "a"
    (a / "data" / "content").mkdir(parents=True)
    (a / "data" / "sample.csv").write_text("id,x\n1,2\n")
    (a / "data" / "content" / "case.yaml").write_text("title: A\n")
    b = tmp_path / "b"
    shutil.copytree(a, b)
    outside = tmp_path / "real.csv"
    outside.write_text("id\n7\n")
    shared = tmp_path / "shared-cache"
    ca = Cache(shared, checkout=a)
    key = _key()
    res = _result(a)
    res.deps.append(str(outside))
    meta = ca.store(key, res)
    assert set(meta["deps"]) == {"data/sample.csv", "data/content/case.yaml", str(outside)}
    assert Cache.uses(meta) == sorted(meta["deps"])
    cb = Cache(shared, checkout=b)
    assert cb.lookup(key) is not None  # same content: a hit is right
    (b / "data" / "content" / "case.yaml").write_text("title: B\n")
    assert cb.lookup(key) is None  # B's case differs: never A's page
    assert ca.lookup(key) is not None  # A's still is A's


def test_dependencies_follow_paths_root(tmp_path, monkeypatch, checkout):
    """Without ``checkout=``, the cache uses barometer.paths.ROOT (what BAROMETER_ROOT sets)."""
    monkeypatch.setattr(cache_mod.paths, "ROOT", checkout)
    c = Cache(tmp_path / "cache")
    meta = c.store(_key(), _result(checkout))
    assert "data/sample.csv" in meta["deps"]
    other = tmp_path / "other"
    (other / "data" / "content").mkdir(parents=True)
    monkeypatch.setattr(cache_mod.paths, "ROOT", other)
    assert Cache(tmp_path / "cache").lookup(_key()) is None  # its files are not in the other checkout
    (other / "data" / "sample.csv").write_text("id,x\n1,2\n")
    (other / "data" / "content" / "case.yaml").write_text("title: A\n")
    assert Cache(tmp_path / "cache").lookup(_key()) is not None


def test_keys_do_not_depend_on_where_the_checkout_is(tmp_path, checkout):
    nb = checkout / "nb.ipynb"
    nb.write_text("{}")
    params = {"edition": "2018", "data_path": str(checkout / "data" / "sample.csv"), "output_dir": "/x"}
    k1 = Cache(tmp_path / "c1", checkout=checkout).key(nb, params)
    moved = tmp_path / "moved"
    checkout.rename(moved)
    params2 = {**params, "data_path": str(moved / "data" / "sample.csv"), "output_dir": "/y"}
    assert Cache(tmp_path / "c2", checkout=moved).key(moved / "nb.ipynb", params2) == k1
    params3 = {**params2, "data_path": str(moved / "data" / "other.csv")}
    assert Cache(tmp_path / "c2", checkout=moved).key(moved / "nb.ipynb", params3) != k1


# -- size ------------------------------------------------------------------------------
def _fill(c: Cache, checkout: Path, n: int, size: int) -> list[str]:
    keys = []
    for i in range(n):
        keys.append(_key(i))
        c.store(keys[-1], _result(checkout, rid=f"r{i}", html="x" * size))
    return keys


def _age(c: Cache, key: str, seconds_ago: float) -> None:
    t = time.time() - seconds_ago
    os.utime(c.path(key) / "meta.json", (t, t))


def test_eviction_removes_least_recently_used_first(tmp_path, checkout):
    c = Cache(tmp_path / "cache", checkout=checkout)
    keys = _fill(c, checkout, 4, 10_000)
    for i, k in enumerate(keys):  # k0 used longest ago ... k3 most recently
        _age(c, k, 1000 - i * 100)
    # a hit is a use: k0 becomes the most recent
    c2 = Cache(tmp_path / "cache", checkout=checkout)
    c2.started = time.time() + 10  # so that "used during this build" keeps nothing by itself
    assert c2.lookup(keys[0]) is not None
    sizes = {d.name: b for d, _, b in c2.entries()}
    cap = sum(sizes.values()) - sizes[keys[1]] - sizes[keys[2]] // 2  # two entries must go
    c2.evict(cap)
    assert sorted(d.name for d, _, _ in c2.entries()) == sorted([keys[0], keys[3]])
    assert sum(b for _, _, b in c2.entries()) <= cap


def test_eviction_never_removes_what_this_build_used(tmp_path, checkout):
    c = Cache(tmp_path / "cache", checkout=checkout)
    keys = _fill(c, checkout, 3, 10_000)
    for k in keys:
        _age(c, k, 1000)
    c.evict(0, keep={keys[1]})
    assert [d.name for d, _, _ in c.entries()] == [keys[1]]
    c3 = Cache(tmp_path / "cache", checkout=checkout)
    c3.store(_key(7), _result(checkout, rid="new"))  # stored by this build: kept without keep=
    c3.evict(0)
    assert [d.name for d, _, _ in c3.entries()] == [_key(7)]


def test_entries_are_larger_with_more_bytes(tmp_path, checkout):
    c = Cache(tmp_path / "cache", checkout=checkout)
    c.store(_key(1), _result(checkout, rid="small", html="x"))
    c.store(_key(2), _result(checkout, rid="big", html="x" * 50_000))
    sizes = {d.name: b for d, _, b in c.entries()}
    assert sizes[_key(2)] - sizes[_key(1)] == 50_000 - 1


@pytest.mark.parametrize("text, n", [("500M", 500 * 2**20), ("2G", 2 * 2**30), ("1.5g", int(1.5 * 2**30)),
                                     ("123", 123), ("800KB", 800 * 1024), ("0", 0)])
def test_parse_size(text, n):
    assert parse_size(text) == n


@pytest.mark.parametrize("text", ["", "2X", "-1", "G", "1,5G"])
def test_parse_size_refuses_nonsense(text):
    with pytest.raises(ValueError, match="not a size"):
        parse_size(text)


# -- clean ------------------------------------------------------------------------------
def test_clean_removes_the_cache_and_says_how_much(tmp_path, checkout):
    c = Cache(tmp_path / "cache", checkout=checkout)
    _fill(c, checkout, 2, 5000)
    c.log_dir("edition")
    freed, msg = clean(c.root)
    assert freed > 10_000 and "freed" in msg
    assert not c.root.exists()
    assert clean(c.root)[0] == 0


def test_clean_leaves_what_the_cache_did_not_write(tmp_path, checkout):
    c = Cache(tmp_path / "cache", checkout=checkout)
    _fill(c, checkout, 1, 10)
    (c.root / "notes.txt").write_text("mine")
    _, msg = clean(c.root)
    assert (c.root / "notes.txt").read_text() == "mine" and "notes.txt" in msg
    assert not list(c.root.glob("??/*"))


def test_clean_refuses_a_folder_that_is_not_a_cache(tmp_path):
    d = tmp_path / "reports"
    (d / "ab").mkdir(parents=True)
    (d / "notes.txt").write_text("precious")
    with pytest.raises(InputError, match="is not a cache"):
        clean(d)
    assert (d / "notes.txt").read_text() == "precious" and (d / "ab").is_dir()


def test_a_folder_with_other_files_is_refused_as_cache(tmp_path):
    d = tmp_path / "home"
    d.mkdir()
    (d / "photo.jpg").write_text("x")
    with pytest.raises(InputError, match="holds files this program did not write"):
        Cache(d)
    assert not (d / MARKER).exists()
    f = tmp_path / "a-file"
    f.write_text("x")
    with pytest.raises(InputError, match="is a file"):
        Cache(f)


def test_a_cache_of_the_previous_engine_version_is_adopted(tmp_path):
    d = tmp_path / "engine"
    (d / "ab" / ("ab" + "0" * 62)).mkdir(parents=True)
    (d / "checksums.json").write_text("{}")
    (d / "logs-edition").mkdir()
    Cache(d)
    assert (d / MARKER).is_file() and not (d / "logs-edition").exists()


# -- leftovers of killed builds --------------------------------------------------------------
def _dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def test_leftovers_of_dead_builds_are_removed_and_live_ones_kept(tmp_path, checkout):
    c = Cache(tmp_path / "cache", checkout=checkout)
    dead = _dead_pid()
    k = _key(3)
    stale_tmp = c.root / k[:2] / f".{k}.tmp-{dead}"
    stale_old = c.root / k[:2] / f".{k}.old-{dead}-a1b2c3"
    stale_log = c.root / "logs" / f"fanout-{dead}"
    live_tmp = c.root / k[:2] / f".{k}.tmp-{os.getppid()}"  # a running process (pytest's parent)
    mine = c.root / "logs" / f"edition-{os.getpid()}"
    for d in (stale_tmp, stale_old, stale_log, live_tmp, mine):
        (d / "sub").mkdir(parents=True)
        (d / "sub" / "f").write_text("x" * 100)
    old = time.time() - 3600  # written before this build started
    for d in (stale_tmp, stale_old, stale_log):
        os.utime(d, (old, old))
    Cache(tmp_path / "cache", checkout=checkout)  # opening the cache sweeps
    assert not stale_tmp.exists() and not stale_old.exists() and not stale_log.exists()
    assert live_tmp.exists() and mine.exists()


def test_a_dead_builds_folder_made_after_this_build_started_is_kept(tmp_path, checkout):
    """It may belong to a build that started after us and just died: only the next build may judge."""
    c = Cache(tmp_path / "cache", checkout=checkout, sweep=False)
    c.started = time.time() - 60
    k = _key(4)
    young = c.root / k[:2] / f".{k}.tmp-{_dead_pid()}"
    young.mkdir(parents=True)
    c.sweep()
    assert young.exists()


def test_a_reused_pid_does_not_keep_a_leftover(tmp_path, checkout):
    """The pid in the name is alive but that process started after the folder was written."""
    c = Cache(tmp_path / "cache", checkout=checkout, sweep=False)
    if cache_mod._process_start(os.getpid()) is None:
        pytest.skip("no process start times on this system")
    k = _key(5)
    reused = c.root / k[:2] / f".{k}.tmp-{os.getppid()}"
    reused.mkdir(parents=True)
    before_parent = cache_mod._process_start(os.getppid()) - 3600
    os.utime(reused, (before_parent, before_parent))
    c.sweep()
    assert not reused.exists()


def test_each_build_has_its_own_log_folder(tmp_path, checkout):
    c = Cache(tmp_path / "cache", checkout=checkout)
    d = c.log_dir("fanout")
    assert d.is_dir() and d.name == f"fanout-{os.getpid()}" and d.parent == c.root / "logs"


# -- disk faults -----------------------------------------------------------------------------
@pytest.mark.parametrize("code, hint", [(errno.ENOSPC, "free space"), (errno.EROFS, "write access"),
                                        (errno.EACCES, "write access")])
def test_a_full_or_read_only_disk_is_a_message_and_leaves_nothing_half_written(stored, checkout, monkeypatch,
                                                                                code, hint):
    c, key, meta = stored
    real = Path.write_bytes
    calls = []

    def failing(self, data):
        calls.append(self)
        if len(calls) == 3:  # fail in the middle of writing the entry
            raise OSError(code, os.strerror(code), str(self))
        return real(self, data)

    monkeypatch.setattr(Path, "write_bytes", failing)
    k2 = _key(6)
    with pytest.raises(BuildError) as ei:
        c.store(k2, _result(checkout, rid="other"))
    msg = str(ei.value)
    assert "\n" not in msg and os.strerror(code) in msg and hint in msg and "--cache-dir" in msg
    assert str(c.root) in msg
    monkeypatch.undo()
    assert not c.path(k2).exists()
    assert not [p for p in c.path(k2).parent.iterdir() if p.name.startswith(f".{k2}")], "temporary entry left"
    assert c.lookup(key) == meta  # the other entries are untouched


def test_an_unwritable_cache_folder_is_a_message(tmp_path, monkeypatch):
    def denied(self, *a, **kw):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(self))

    monkeypatch.setattr(Path, "mkdir", denied)
    with pytest.raises(BuildError, match=r"cannot create the cache folder .*Permission denied.*--cache-dir"):
        Cache(tmp_path / "ro" / "cache")
    monkeypatch.undo()
    assert not (tmp_path / "ro").exists()


def test_a_broken_checksum_memo_is_ignored(tmp_path):
    d = tmp_path / "cache"
    Cache(d)
    (d / "checksums.json").write_text("[1, 2, 3]")
    f = tmp_path / "x.txt"
    f.write_text("hello")
    assert Cache(d).hasher.file(f) == hashlib.sha256(b"hello").hexdigest()
    (d / "checksums.json").write_text(json.dumps({"memo": {str(f): [5, 0, 0, "bogus"]}, "digest": "nope"}))
    assert Cache(d).hasher.file(f) == hashlib.sha256(b"hello").hexdigest()


def test_changing_a_file_back_finds_the_earlier_result_again(checkout, tmp_path):
    """One key, two states of a file the report read: the result for each state is kept,
    so a change and its undo both come from the cache (the undo's bytes are the first's)."""
    c = Cache(tmp_path / "cache", checkout=checkout)
    key, case = _key(), checkout / "data" / "content" / "case.yaml"
    c.store(key, _result(checkout, html="<p>A</p>"))
    case.write_text("title: Bee\n")  # another size too: the checksums are remembered by file stamp
    c = Cache(tmp_path / "cache", checkout=checkout)
    assert c.lookup(key) is None  # the file changed: a miss
    c.store(key, _result(checkout, html="<p>B</p>"))
    case.write_text("title: A\n")
    c = Cache(tmp_path / "cache", checkout=checkout)
    assert c.probably_hit(key)  # through its variant (the hint the build starts workers on)
    meta = c.lookup(key)
    assert meta is not None and meta["key"] != key and meta["variant_of"] == key
    assert c.read(key, meta, "page.html") == b"<p>A</p>"
    case.write_text("title: Bee\n")
    c = Cache(tmp_path / "cache", checkout=checkout)
    meta = c.lookup(key)
    assert meta is not None and meta["key"] == key and c.read(key, meta, "page.html") == b"<p>B</p>"
    case.write_text("title: Ceee\n")
    assert Cache(tmp_path / "cache", checkout=checkout).lookup(key) is None  # a state never seen: a miss


def test_probably_hit_reads_meta_and_dependencies_only_and_never_warns(stored, checkout, capsys):
    """The hint the build reads before loading the data (to start workers early): an entry
    whose recorded files are unchanged; no file of the entry is checked (lookup does that)."""
    c, key, _ = stored
    assert c.probably_hit(key) and not c.probably_hit(_key(1))
    (c.path(key) / "files" / "figures" / "x.svg").unlink()  # damaged: a hint still, lookup decides
    assert c.probably_hit(key) and c.lookup(key) is None
    capsys.readouterr()
    (checkout / "data" / "content" / "case.yaml").write_text("title: Bee\n")  # a file it read changed
    assert not c.probably_hit(key)
    (c.path(key) / "meta.json").write_text("{")
    assert not c.probably_hit(key) and capsys.readouterr().err == ""
