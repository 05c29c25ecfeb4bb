"""Kernel socket paths stay short whatever TMPDIR is."""

import os
import stat
import tempfile

import pytest

from barometer.engine import sockets
from barometer.errors import BuildError


@pytest.fixture
def fresh(monkeypatch):
    monkeypatch.setattr(sockets, "_made", {})
    made = []
    real = sockets.socket_dir

    def track():
        path = real()
        made.append(path)
        return path

    yield track
    for path in made:
        sockets._remove(os.getpid(), path)


def test_long_tmpdir_falls_back_to_a_short_private_folder(tmp_path, monkeypatch, fresh):
    long_tmp = tmp_path / ("x" * 90)
    long_tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(long_tmp))
    assert not sockets.fits(os.path.join(str(long_tmp), "barometer-kernel-0123456789abcdef-5"))
    d = fresh()
    assert not d.startswith(str(long_tmp))
    assert sockets.fits(d + "/" + "k" * sockets.NAME_ROOM)
    assert stat.S_IMODE(os.stat(d).st_mode) == 0o700
    path = sockets.socket_path("k0123456789ab")
    assert os.path.dirname(path) == d and sockets.fits(path + "-65535")


def test_short_tmpdir_is_used(tmp_path, monkeypatch, fresh):
    short = tempfile.mkdtemp(dir="/tmp", prefix="s")
    try:
        monkeypatch.setattr(tempfile, "tempdir", short)
        d = fresh()
        assert os.path.dirname(d) == short
        assert fresh() == d  # one folder per process
    finally:
        sockets._remove(os.getpid(), sockets._made.get("path", ""))
        os.rmdir(short)


def test_no_short_writable_folder_is_a_clear_error(tmp_path, monkeypatch, fresh):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / ("y" * 90)))
    monkeypatch.setattr(sockets, "_FALLBACKS", ())
    with pytest.raises(BuildError, match="set TMPDIR to a writable folder whose path has at most"):
        fresh()


def test_folder_is_removed_by_its_maker_only(monkeypatch, fresh):
    d = fresh()
    sockets._remove(os.getpid() + 1, d)  # a fork exiting: kept
    assert os.path.isdir(d)
    sockets._remove(os.getpid(), d)
    assert not os.path.exists(d)


def test_kernel_manager_uses_the_short_folder(tmp_path, monkeypatch, fresh):
    from barometer.engine.forkserver import ForkKernelManager

    long_tmp = tmp_path / ("z" * 90)
    long_tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(long_tmp))
    km = ForkKernelManager()
    assert km.transport == "ipc" and sockets.fits(km.ip + "-65535")
    assert os.path.dirname(km.ip) == fresh()


def test_folders_of_dead_processes_are_cleaned(tmp_path, monkeypatch, fresh):
    try:  # a pid no process can have
        pid = int(open("/proc/sys/kernel/pid_max").read()) + 1
    except OSError:
        pid = 2**22 + 1
    stale = tmp_path / f"barometer-s{pid}-abcd1234"
    live = tmp_path / f"barometer-s{os.getpid()}-abcd1234"
    other = tmp_path / "barometer-svg-abcd1234"
    for d in (stale, live, other):
        d.mkdir()
    (stale / "k0123-1").write_text("")
    assert sockets.clean_stale(str(tmp_path)) == [str(stale)]
    assert not stale.exists() and live.exists() and other.exists()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    d = fresh()
    assert os.path.basename(d).startswith(f"barometer-s{os.getpid()}-") and live.exists()
