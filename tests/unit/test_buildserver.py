"""The build server's rules (barometer.build.buildserver): which builds go through it, and which
server a client may use.  The server itself runs in tests/integration/test_build_server.py."""

import io
import json
import socket
import threading

import pytest

from barometer.build import buildserver
from barometer.cli import parser


def _args(*argv):
    return parser().parse_args(list(argv))


@pytest.mark.parametrize("argv, through", [
    ([], True), (["--by", "subsector"], True), (["--lang", "en", "--no-pdf", "--force"], True),
    (["--serve"], False), (["--site"], False), (["--executor", "dask"], False), (["--clean-cache"], False),
    (["--check-data", "x.sav"], False), (["--check-edition", "2027"], False),
])
def test_only_edition_builds_and_fan_outs_on_local_workers_go_through_the_server(argv, through):
    assert buildserver.served(_args(*argv)) is through


def test_the_server_is_asked_for_with_warm_or_the_environment(monkeypatch):
    monkeypatch.delenv("BAROMETER_WARM", raising=False)
    assert not buildserver.wanted(_args())
    assert buildserver.wanted(_args("--warm"))
    monkeypatch.setenv("BAROMETER_WARM", "1")
    assert buildserver.wanted(_args())
    monkeypatch.setenv("BAROMETER_WARM", "0")
    assert not buildserver.wanted(_args())


def test_a_server_serves_only_clients_with_its_environment_directory_and_code(monkeypatch, tmp_path):
    env = {"HOME": "/root", "BAROMETER_MIN_BASE": "30", "LANG": "da_DK.UTF-8", "TERM": "xterm"}
    key = buildserver.server_key(buildserver.identity(env, str(tmp_path)))
    same = dict(env, HOME="/elsewhere", TERM="dumb", BAROMETER_WARM="1", BAROMETER_WARM_IDLE="5")
    assert buildserver.server_key(buildserver.identity(same, str(tmp_path))) == key  # how it is reached: no
    for other in (dict(env, BAROMETER_MIN_BASE="50"), dict(env, LANG="en_GB.UTF-8"), dict(env, TZ="UTC"),
                  dict(env, PYTHONPATH="/x"), dict(env, BAROMETER_ROOT="/y")):
        assert buildserver.server_key(buildserver.identity(other, str(tmp_path))) != key
    assert buildserver.server_key(buildserver.identity(env, str(tmp_path / "sub"))) != key
    monkeypatch.setattr(buildserver, "code_stamp", lambda: "other code")
    assert buildserver.server_key(buildserver.identity(env, str(tmp_path))) != key


def test_the_code_stamp_follows_the_packages_files(monkeypatch, tmp_path):
    from barometer import paths

    pkg = tmp_path / "barometer"
    pkg.mkdir()
    (pkg / "a.py").write_text("x = 1\n")
    monkeypatch.setattr(paths, "PACKAGE_DIR", pkg)
    first = buildserver.code_stamp()
    (pkg / "a.py").write_text("x = 22\n")
    assert buildserver.code_stamp() != first
    second = buildserver.code_stamp()
    (pkg / "notes.txt").write_text("not code")
    assert buildserver.code_stamp() == second


def test_the_idle_time_is_read_from_the_environment(monkeypatch):
    monkeypatch.setenv("BAROMETER_WARM_IDLE", "30")
    assert buildserver.idle_seconds() == 30
    monkeypatch.setenv("BAROMETER_WARM_IDLE", "soon")
    assert buildserver.idle_seconds() == buildserver.IDLE_DEFAULT
    monkeypatch.delenv("BAROMETER_WARM_IDLE")
    assert buildserver.idle_seconds() == buildserver.IDLE_DEFAULT


def _fake_server(answers: list[dict]):
    """A socket pair: the client's end, and a thread answering on the other with ``answers``."""
    client, server = socket.socketpair()
    got = {}

    def serve():
        f = server.makefile("rb")
        got["request"] = json.loads(f.readline())
        for a in answers:
            server.sendall((json.dumps(a) + "\n").encode())
        server.close()

    t = threading.Thread(target=serve)
    t.start()
    return client, t, got


def test_the_client_prints_what_the_build_prints_and_returns_its_exit_status(tmp_path, capsys):
    sock, t, got = _fake_server([{"started": 123, "build": 3}, {"out": "running types ...\n"},
                                 {"err": "build failed: x\n"}, {"rc": 1}])
    assert buildserver._talk(sock, ["--no-pdf"], "k", tmp_path / "log") == 1
    t.join()
    assert got["request"] == {"key": "k", "argv": ["--no-pdf"]}
    out, err = capsys.readouterr()
    assert out == "running types ...\n"
    assert err == "building in the warm build server (pid 123; its build 3)\nbuild failed: x\n"


def test_a_refusing_server_makes_the_client_try_again_and_one_that_dies_is_one_line(tmp_path, capsys):
    sock, t, _ = _fake_server([{"refused": "the package's code changed"}])
    assert buildserver._talk(sock, [], "k", tmp_path / "log") is None
    t.join()
    sock, t, _ = _fake_server([{"started": 1, "build": 1}, {"out": "running types ...\n"}])
    assert buildserver._talk(sock, [], "k", tmp_path / "log", quiet=True) == 1
    t.join()
    err = capsys.readouterr().err.splitlines()
    assert err == [f"build failed: the build server ended during the build (its log: {tmp_path / 'log'}); "
                   "nothing was published"]


def test_the_servers_streams_send_each_write_as_one_message():
    a, b = socket.socketpair()
    s = buildserver._Stream(a, threading.Lock(), "err")
    assert s.write("one line\n") == 9 and s.write("") == 0 and not s.isatty()
    a.close()
    assert [json.loads(x) for x in io.BytesIO(b.recv(4096)).read().splitlines()] == [{"err": "one line\n"}]
