"""Output folders: what a build refuses to touch, what it may replace, and a swap that never loses both."""

import os
from pathlib import Path

import pytest

from barometer.build import publish
from barometer.errors import BuildError, InputError
from barometer.paths import BUILD_DIR, DATA_DIR, ROOT


def _tree(folder: Path) -> dict:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _published(target: Path, files: dict) -> None:
    """A folder as a finished build leaves it."""
    with publish.Output(target) as out:
        for rel, text in files.items():
            (out.work / rel).parent.mkdir(parents=True, exist_ok=True)
            (out.work / rel).write_text(text)
        out.commit()


# --------------------------------------------------------------------------------------
# refusals: exit 2, nothing touched
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("where, needle", [
    (lambda t: ROOT, "is the repository"),
    (lambda t: ROOT.parent, "holds the repository"),
    (lambda t: ROOT / "notebooks", "lies inside the repository"),
    (lambda t: DATA_DIR, "lies inside the repository"),
    (lambda t: BUILD_DIR, "is the build folder"),
    (lambda t: BUILD_DIR / ".cache" / "x", "the cache"),
    (lambda t: Path.home(), "your home folder"),
    (lambda t: Path("/"), "root of the file system"),
    (lambda t: Path("/proc"), "mount point"),
])
def test_refused_folders(tmp_path, where, needle):
    with pytest.raises(InputError, match=needle):
        publish.check_target(where(tmp_path))


def test_a_folder_holding_the_home_folder_is_refused(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path / "home" / "me"))
    (tmp_path / "home" / "me").mkdir(parents=True)
    with pytest.raises(InputError, match="holding your home folder"):
        publish.check_target(tmp_path / "home")


@pytest.mark.parametrize("out", ["secure", "secure/out", "."])
def test_the_folder_of_an_input_file_is_refused(tmp_path, out):
    data = tmp_path / "secure" / "innovation2018.sav"
    data.parent.mkdir()
    data.write_bytes(b"confidential")
    with pytest.raises(InputError, match="input file"):
        publish.check_target(tmp_path / out, inputs=[str(data)])
    assert data.read_bytes() == b"confidential"


def test_build_folder_beside_an_input_file_in_the_checkout_is_allowed():
    """A data file kept in the checkout's root must not forbid the default _build/<slug>."""
    publish.check_target(BUILD_DIR / "2018-dk-da", inputs=[str(ROOT / "real.csv")])


def test_a_folder_with_user_files_is_refused_and_untouched(tmp_path):
    out = tmp_path / "reports"
    (out / "photos").mkdir(parents=True)
    (out / "notes.txt").write_text("mine")
    before = _tree(out)
    with pytest.raises(InputError, match=r"holds files this program did not write \(notes.txt and 1 more\)"):
        publish.check_target(out, slug="2018-dk-da")
    assert _tree(out) == before and (out / "photos").is_dir()


def test_empty_dir_inside_user_folder_counts_as_user_content(tmp_path):
    (tmp_path / "out" / "photos").mkdir(parents=True)
    with pytest.raises(InputError, match="photos/"):
        publish.check_target(tmp_path / "out")


@pytest.mark.parametrize("name", ["a\nb", "", "x\x00"])
def test_control_characters_in_out_are_refused(tmp_path, name):
    with pytest.raises(InputError, match="control character|not a usable"):
        publish.check_target(Path(str(tmp_path / "x") + name) if name else Path(" "))


def test_a_file_is_not_an_output_folder(tmp_path):
    f = tmp_path / "report"
    f.write_text("mine")
    with pytest.raises(InputError, match="is a file"):
        publish.check_target(f)
    with pytest.raises(InputError, match="is a file"):
        publish.check_target(f / "sub")
    assert f.read_text() == "mine"


def test_own_output_is_replaced_but_not_when_a_user_added_a_file(tmp_path):
    out = tmp_path / "out"
    _published(out, {"index.html": "v1", "figures/a.svg": "<svg/>"})
    assert publish.check_target(out) == out.resolve()
    _published(out, {"index.html": "v2"})
    assert (out / "index.html").read_text() == "v2" and not (out / "figures").exists()
    (out / "my-notes.txt").write_text("mine")
    with pytest.raises(InputError, match="my-notes.txt"):
        publish.check_target(out)
    with pytest.raises(InputError, match="my-notes.txt"):
        _published(out, {"index.html": "v3"})
    assert (out / "my-notes.txt").read_text() == "mine" and (out / "index.html").read_text() == "v2"


def test_symlinked_out_is_checked_where_it_points(tmp_path):
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "notes.txt").write_text("mine")
    (tmp_path / "link").symlink_to(tmp_path / "real")
    with pytest.raises(InputError, match="notes.txt"):
        publish.check_target(tmp_path / "link")


# --------------------------------------------------------------------------------------
# the write phase: lock, temporary folder, swap
# --------------------------------------------------------------------------------------
def test_failed_write_phase_leaves_old_output_and_no_temporary_folder(tmp_path):
    out = tmp_path / "out"
    _published(out, {"index.html": "v1"})
    before = _tree(out)
    with pytest.raises(RuntimeError):
        with publish.Output(out) as o:
            (o.work / "index.html").write_text("half")
            raise RuntimeError("a step failed")
    assert _tree(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [".out.lock", "out"]


def test_second_build_into_the_same_folder_is_refused_while_the_first_holds_it(tmp_path):
    out = tmp_path / "out"
    with publish.Output(out):
        with pytest.raises(BuildError, match=r"is being written by build \w+ \(pid \d+\)"):
            with publish.Output(out):
                pass
    with publish.Output(out):  # released: the next one may
        pass


def test_swap_is_an_exchange_where_the_system_has_one(tmp_path):
    out = tmp_path / "out"
    _published(out, {"index.html": "v1"})
    inode = os.stat(out).st_ino
    _published(out, {"index.html": "v2"})
    assert (out / "index.html").read_text() == "v2" and os.stat(out).st_ino != inode
    assert sorted(p.name for p in tmp_path.iterdir()) == [".out.lock", "out"]


def test_when_the_second_rename_fails_the_old_output_is_put_back(tmp_path, monkeypatch):
    out = tmp_path / "out"
    _published(out, {"index.html": "v1"})
    before = _tree(out)
    monkeypatch.setattr(publish, "_exchange", lambda a, b: False)
    real_rename = os.rename
    calls = []

    def flaky(src, dst):
        calls.append((src, dst))
        if len(calls) == 2:
            raise OSError(5, "Input/output error", str(dst))
        return real_rename(src, dst)

    monkeypatch.setattr(publish.os, "rename", flaky)
    with pytest.raises(OSError):
        _published(out, {"index.html": "v2"})
    assert _tree(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [".out.lock", "out"]


def _dead_pid() -> int:
    """A pid no process has (counting down from the system's maximum)."""
    pid = int(Path("/proc/sys/kernel/pid_max").read_text()) - 1
    while True:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return pid
        pid -= 1


def _leftover(folder: Path, pid: int, files: dict) -> None:
    folder.mkdir()
    for rel, text in files.items():
        (folder / rel).write_text(text)
    publish.write_marker(folder, "old-build", list(files))
    m = (folder / publish.MARKER).read_text().replace(f'"pid": {os.getpid()}', f'"pid": {pid}')
    (folder / publish.MARKER).write_text(m)


def test_temporary_folders_of_dead_builds_are_removed_live_ones_and_foreign_ones_kept(tmp_path):
    out = tmp_path / "out"
    dead = _dead_pid()
    _published(out, {"index.html": "v1"})
    _leftover(tmp_path / f".out.tmp-{dead}", dead, {"index.html": "half"})
    _leftover(tmp_path / f".out.old-{dead}", dead, {"index.html": "old"})
    live = tmp_path / f".out.tmp-{os.getpid() + 0}"  # this process: alive
    _leftover(live, os.getpid(), {"x": "y"})
    stranger = tmp_path / ".out.tmp-1"
    stranger.mkdir()
    (stranger / "theirs.txt").write_text("not ours")  # no marker: never touched
    removed = publish.clean_stale(out)
    assert {p.name for p in removed} == {f".out.tmp-{dead}", f".out.old-{dead}"}
    assert live.exists() and (stranger / "theirs.txt").exists()


def test_a_build_that_died_between_its_two_renames_gets_its_old_output_back(tmp_path):
    dead = _dead_pid()
    _leftover(tmp_path / f".out.old-{dead}", dead, {"index.html": "old"})
    publish.clean_stale(tmp_path / "out")
    assert (tmp_path / "out" / "index.html").read_text() == "old"


def test_keep_failed_replaces_only_its_own_copy(tmp_path):
    src = tmp_path / "work"
    src.mkdir()
    (src / "nb.ipynb").write_text("{}")
    kept = tmp_path / ".failed" / "out"
    publish.keep_failed(src, kept, "b1")
    publish.keep_failed(src, kept, "b2")
    assert publish.read_marker(kept)["build_id"] == "b2"
    theirs = tmp_path / ".failed" / "other"
    theirs.mkdir()
    (theirs / "x").write_text("mine")
    with pytest.raises(BuildError, match="did not write"):
        publish.keep_failed(src, theirs, "b3")
    assert (theirs / "x").read_text() == "mine"


@pytest.mark.parametrize("err, needle", [(28, "no space left"), (30, "read-only file system"),
                                         (13, "permission denied"), (20, "part of the path is a file")])
def test_disk_faults_read_as_one_line(err, needle):
    msg = publish.describe_os_error(OSError(err, os.strerror(err), "/mnt/out/x.html"))
    assert needle in msg and "/mnt/out/x.html" in msg and "\n" not in msg


def test_a_reused_pid_is_not_taken_for_the_build_that_left_a_folder():
    me = publish._identity()
    assert publish.process_alive(me)
    assert not publish.process_alive({**me, "started": "1"})  # same pid, another process (started at boot)
    assert not publish.process_alive({"pid": _dead_pid(), "host": me["host"], "started": None})
    assert publish.process_alive({"pid": 1, "host": "another-machine", "started": "1"})  # never guess for others


def test_a_failed_copytree_reads_as_its_first_error():
    import shutil

    exc = shutil.Error([("/src/a.css", "/mnt/out/a.css", "[Errno 28] No space left on device: '/mnt/out/a.css'")])
    assert publish.describe_os_error(exc) == ("no space left on the device writing /mnt/out/a.css: free some space "
                                              "or choose another --out")
