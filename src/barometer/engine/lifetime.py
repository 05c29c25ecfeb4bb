"""No process of a build outlives it.

* The build registers every worker process it starts (:func:`register`).
  On SIGINT, SIGTERM or SIGHUP, :func:`install_signal_handlers` stops them
  (each worker ends the report it runs, and that report's kernel) and raises
  :class:`Interrupted` in the build, whose clean-up then removes its
  temporary folders; the exit status is 128 + the signal's number.  After
  the signal no new worker starts (:func:`stopping`).
* If the build is killed outright (SIGKILL), each worker notices that its
  parent is gone (:func:`parent_gone`) and ends its report and itself; a
  forked kernel dies with the process that forked it (:func:`die_with_parent`), and so
  does a child of :func:`fork` (the PDF's layout processes).
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import threading

_CHILDREN: list[subprocess.Popen] = []
_LOCK = threading.Lock()
_STOPPING = threading.Event()


class Interrupted(BaseException):
    """The build was told to stop by a signal (a BaseException, like KeyboardInterrupt)."""

    def __init__(self, signum: int):
        self.signum = signum
        self.exit_code = 128 + signum
        super().__init__(signal.Signals(signum).name)


def stopping() -> bool:
    return _STOPPING.is_set()


def register(proc: subprocess.Popen) -> None:
    with _LOCK:
        _CHILDREN[:] = [p for p in _CHILDREN if p.poll() is None]
        _CHILDREN.append(proc)


def stop_children(timeout: float = 5.0) -> None:
    """Ask every registered worker to stop (SIGTERM), then kill what is left."""
    _STOPPING.set()
    with _LOCK:
        procs = [p for p in _CHILDREN if p.poll() is None]
    for p in procs:
        try:
            p.terminate()
        except OSError:
            pass
    for p in procs:
        try:
            p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def install_signal_handlers() -> None:
    """In the build's main thread: SIGINT/SIGTERM/SIGHUP stop the workers and raise :class:`Interrupted`."""

    def handler(signum, frame):
        # a second signal while cleaning up must not interrupt the clean-up
        for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(s, signal.SIG_IGN)
        stop_children()
        raise Interrupted(signum)

    if threading.current_thread() is not threading.main_thread():
        return  # signals reach the main thread only (a build run from a test's or a server's thread)
    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, handler)


def die_with_parent() -> None:
    """Linux: this process is killed when the thread that forked it ends (PR_SET_PDEATHSIG)."""
    parent = os.getppid()
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # the parent died before the call
        os._exit(1)


def fork(body) -> int:
    """A forked child that runs ``body()`` and ends (``os._exit``: 0 if it returned, 1 if it
    raised), dying with this process; returns its pid here.  The child never returns."""
    pid = os.fork()
    if pid == 0:
        status = 1
        try:
            die_with_parent()
            body()
            status = 0
        except BaseException:  # noqa: BLE001 - the parent reads what the child sent, or nothing
            pass
        finally:
            os._exit(status)
    return pid


def end(pid: int) -> None:
    """End a child from :func:`fork` if it still runs (SIGKILL), and reap it."""
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
        if not done:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
    except (ChildProcessError, ProcessLookupError):
        pass


def parent_gone(parent: int) -> bool:
    return os.getppid() != parent
