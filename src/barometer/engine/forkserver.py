"""A papermill engine whose kernels are forked, not started.

A plain papermill run starts a fresh ``python -m ipykernel_launcher`` per
notebook: ~0.7 s of interpreter and kernel start-up, then the notebook's own
imports (pandas, scipy, Altair, ...: ~2 s) before any real work.  Here the
kernel is a ``fork()`` of the process that runs papermill.  When that process
has already imported the heavy libraries (a warm worker, see
:mod:`barometer.engine.worker`), the kernel starts with them in memory; the
kernel is still a real ipykernel speaking the Jupyter protocol to nbclient,
so executed notebooks are the same as with the default engine, and each
report gets a fresh copy of the pristine warm process (copy-on-write), so no
state of one report can be seen by the next.

Use it from papermill as usual::

    papermill in.ipynb out.ipynb --engine barometer
    pm.execute_notebook(..., engine_name="barometer")

(registered through the ``papermill.engine`` entry point in pyproject.toml).
"""

from __future__ import annotations

import asyncio
import gc
import os
import signal
import sys
import threading
import time
import uuid
from queue import Empty
from typing import Any, Callable

from jupyter_client import AsyncKernelClient, AsyncKernelManager
from jupyter_client.provisioning import LocalProvisioner
from traitlets import CaselessStrEnum, DottedObjectName, Type, default

#: Called in the forked kernel process just before the kernel starts (set by
#: the build engine's worker: dependency recording, preloaded data).
KERNEL_SETUP: Callable[[], None] | None = None

#: Options of every kernel this engine starts, forked or (the fallback) spawned.  The kernel
#: keeps its input history in memory (``In``, ``_i`` work as usual) instead of writing each
#: report's code into the user's own IPython history database
#: (``~/.ipython/profile_default/history.sqlite``: a session per report and chapter, build
#: after build, in the history of their consoles); it also starts without the database's
#: SQLite connection and saving thread.
KERNEL_ARGS = ("--HistoryManager.enabled=False",)


class _ForkedProcess:
    """The bits of :class:`subprocess.Popen` the provisioner uses, for a forked pid."""

    stdin = stdout = stderr = None

    def __init__(self, pid: int):
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            try:
                pid, status = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:
                self.returncode = 0
                return self.returncode
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if self.returncode is None:
            try:
                _, status = os.waitpid(self.pid, 0)
                self.returncode = os.waitstatus_to_exitcode(status)
            except ChildProcessError:
                self.returncode = 0
        return self.returncode

    def send_signal(self, signum: int) -> None:
        if self.returncode is None:
            os.kill(self.pid, signum)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)


def _reset_asyncio_after_fork() -> None:
    """The fork happened inside the parent's running event loop (Python < 3.12
    does not reset this itself)."""
    asyncio.events._set_running_loop(None)
    asyncio.set_event_loop_policy(None)
    try:
        signal.set_wakeup_fd(-1)
    except (ValueError, OSError):
        pass
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGCHLD):
        signal.signal(sig, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)


def run_kernel(connection_file: str, env: dict | None = None, cwd: str | None = None,
               ready_fd: int | None = None, args: list[str] = ()) -> None:
    """Become an ipykernel (in a forked child); never returns.  ``args``: the kernel's
    options after ``-f <connection file>`` (:data:`KERNEL_ARGS`, nbclient's ``extra_arguments``).

    ``ready_fd``: written to (and closed) once the kernel's sockets are bound,
    so that the client connects at once instead of retrying (ZeroMQ's 100 ms
    reconnect interval, and jupyter_client's 0.2 s IOPub check per retry)."""
    code = 0
    parent = os.getppid()
    try:
        from barometer.engine.lifetime import die_with_parent

        die_with_parent()  # the kernel ends with the report that started it, however that ends
        os.setsid()  # own process group: interrupts and kills reach the kernel only
        _reset_asyncio_after_fork()
        if env is not None:
            os.environ.clear()
            os.environ.update(env)
        os.environ.setdefault("JPY_PARENT_PID", str(parent))
        if cwd:
            os.chdir(cwd)
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.close(devnull)
        # the sys.path and argv of `python -m ipykernel_launcher -f <file>`
        if sys.path and (sys.path[0] in ("", os.getcwd())):
            del sys.path[0]
        sys.argv = [os.path.join(os.path.dirname(os.path.dirname(__import__("ipykernel").__file__)),
                                 "ipykernel_launcher.py"), "-f", connection_file, *args]
        if KERNEL_SETUP is not None:
            KERNEL_SETUP()
        from ipykernel.kernelapp import IPKernelApp

        app = IPKernelApp.instance(parent_handle=int(os.environ.get("JPY_PARENT_PID") or 0))
        app.initialize(["-f", connection_file, *args])
        if ready_fd is not None:
            os.write(ready_fd, b"1")
            os.close(ready_fd)
            ready_fd = None
        app.start()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 0
    except BaseException:  # noqa: BLE001
        import traceback

        traceback.print_exc()
        code = 1
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except Exception:  # noqa: BLE001
            pass
        os._exit(code)


#: How the last kernel was started: "fork", or "spawn" (a fresh process,
#: because the calling process runs other threads).
LAST_LAUNCH: str | None = None
#: kernel specs looked up once by :func:`preload` (a warm worker)
_SPECS: dict = {}
_WARNED: list = []


def _warn_threads() -> None:
    if not _WARNED:
        _WARNED.append(True)
        names = ", ".join(sorted(t.name for t in threading.enumerate() if t is not threading.current_thread()))
        print(f"barometer engine: this process runs other threads ({names}); kernels start as fresh "
              "processes instead of forks (safe, but without the warm start)", file=sys.stderr)


class ForkProvisioner(LocalProvisioner):
    """Launches the kernel by forking the current process."""

    async def launch_kernel(self, cmd: list[str], **kwargs: Any):
        global LAST_LAUNCH
        if threading.active_count() > 1:
            # fork() copies only the calling thread: a lock another thread
            # holds (logging, an import, the allocator) stays locked forever
            # in the kernel.  Start a fresh kernel process instead: slower, safe.
            _warn_threads()
            LAST_LAUNCH = "spawn"
            return await super().launch_kernel(cmd, **kwargs)
        LAST_LAUNCH = "fork"
        conn = cmd[cmd.index("-f") + 1] if "-f" in cmd else self.parent.connection_file
        args = cmd[cmd.index("-f") + 2:] if "-f" in cmd else []  # the kernel spec's argv ends "-f {file}"
        env = kwargs.get("env")
        cwd = kwargs.get("cwd")
        sys.stdout.flush()
        sys.stderr.flush()
        r, w = os.pipe()
        gc.freeze()  # the kernel's collector leaves the inherited objects (and their pages) alone
        pid = os.fork()
        if pid == 0:
            os.close(r)
            run_kernel(conn, env=env, cwd=cwd, ready_fd=w, args=args)
        os.close(w)
        self.process = _ForkedProcess(pid)
        self.pid = pid
        self.pgid = pid
        self.cwd = cwd or os.getcwd()
        await _readable(r, timeout=60.0)  # the kernel's sockets are bound (or it died: EOF)
        return self.connection_info

    async def wait(self) -> int | None:
        """As LocalProvisioner.wait, polling every 5 ms rather than 100 ms."""
        if not isinstance(self.process, _ForkedProcess):
            return await super().wait()
        ret = 0
        if self.process:
            while await self.poll() is None:
                await asyncio.sleep(0.005)
            ret = self.process.wait()
            self.process = None
        return ret


async def _readable(fd: int, timeout: float) -> None:
    """Wait (without a thread) until ``fd`` has data or EOF, then close it."""
    loop = asyncio.get_running_loop()
    done = loop.create_future()
    loop.add_reader(fd, lambda: done.done() or done.set_result(None))
    try:
        await asyncio.wait_for(done, timeout)
    except asyncio.TimeoutError:
        pass  # nbclient's own start-up timeout takes over
    finally:
        loop.remove_reader(fd)
        os.close(fd)


class ForkKernelClient(AsyncKernelClient):
    """AsyncKernelClient whose readiness check does not idle.

    jupyter_client's ``wait_for_ready`` sends ``kernel_info`` and, after the
    reply, waits up to 0.2 s for an IOPub message to prove that IOPub is
    connected; a fresh SUB socket is rarely connected by the time the kernel
    (already listening, see ``ready_fd``) has replied, so every start paid
    0.2 s and a second round.  Same protocol and checks here, with the IOPub
    wait growing from 5 ms to 0.2 s, within ``timeout`` (60 s if None).
    """

    async def _async_wait_for_ready(self, timeout: float | None = None) -> None:
        deadline = time.monotonic() + (timeout if timeout is not None else 60.0)
        iopub_wait = 0.005
        while True:
            self.kernel_info()
            try:
                msg = await self.shell_channel.get_msg(timeout=1)
            except Empty:
                pass
            else:
                if msg["msg_type"] == "kernel_info_reply":
                    try:
                        await self.iopub_channel.get_msg(timeout=iopub_wait)
                    except Empty:
                        iopub_wait = min(2 * iopub_wait, 0.2)
                    else:
                        self._handle_kernel_info_reply(msg)
                        break
            if not await self._async_is_alive():
                raise RuntimeError("Kernel died before replying to kernel_info")
            if time.monotonic() > deadline:
                raise RuntimeError(f"Kernel didn't respond in {timeout} seconds")
        # drain what the retries left on IOPub (their status messages)
        while True:
            try:
                await self.iopub_channel.get_msg(timeout=0.005)
            except Empty:
                break

    wait_for_ready = _async_wait_for_ready


class ForkKernelManager(AsyncKernelManager):
    """An AsyncKernelManager whose kernels are forks of this process."""

    client_class = DottedObjectName("barometer.engine.forkserver.ForkKernelClient")
    client_factory = Type(default_value=ForkKernelClient, klass=AsyncKernelClient)
    # Unix sockets, not TCP: jupyter_client picks free TCP ports by binding
    # and closing them, so kernels started at the same moment (parallel
    # reports) can be handed the same port and die with "Address already in
    # use".  An ipc path of its own per kernel cannot collide.
    transport = CaselessStrEnum(["tcp", "ipc"], default_value="ipc", config=True)

    @default("ip")
    def _ip_default(self) -> str:
        if self.transport == "ipc":  # unique, and short whatever TMPDIR is (socket paths: ~107 bytes)
            from .sockets import socket_path

            return socket_path(f"k{uuid.uuid4().hex[:12]}")
        return super()._ip_default()

    @property
    def kernel_spec(self):
        # a warm worker looked the kernel spec up once (preload): no directory
        # scan per report; each manager gets its own copy
        if self._kernel_spec is None and self.kernel_name in _SPECS:
            from jupyter_client.kernelspec import KernelSpec

            cached = _SPECS[self.kernel_name]
            self._kernel_spec = KernelSpec(resource_dir=cached.resource_dir, **cached.to_dict())
        return super().kernel_spec

    async def _async_wait(self, pollinterval: float = 0.1) -> None:
        # a killed fork is gone within milliseconds: do not sleep 100 ms per check
        await super()._async_wait(pollinterval=min(pollinterval, 0.005))

    async def _async_pre_start_kernel(self, **kw: Any):
        if self.provisioner is None:
            self.provisioner = ForkProvisioner(kernel_id=self.kernel_id or "", kernel_spec=self.kernel_spec,
                                               parent=self)
        return await super()._async_pre_start_kernel(**kw)


def _make_engine():
    # papermill loads its engines' entry points while it is itself being
    # imported, so the class is made on first access (PEP 562), never at import
    from papermill.engines import NBClientEngine

    class BarometerEngine(NBClientEngine):
        """papermill's nbclient engine with forked kernels (``--engine barometer``)."""

        @classmethod
        def execute_managed_notebook(cls, nb_man, kernel_name, **kwargs):
            kwargs.setdefault("kernel_manager_class", ForkKernelManager)
            kwargs["extra_arguments"] = [*KERNEL_ARGS, *kwargs.get("extra_arguments", ())]
            # papermill writes the whole notebook before and after every cell (a chapter's,
            # with its charts' PNGs, is up to 3.7 MB: ~0.4 s of one chapter's run, the kernel
            # waiting); here it is written once, when it is complete or has failed (papermill
            # saves it then, from ``notebook_complete``, and on a cell's error)
            path, nb_man.output_path = nb_man.output_path, None
            try:
                return super().execute_managed_notebook(nb_man, kernel_name, **kwargs)
            finally:
                nb_man.output_path = path

    BarometerEngine.__module__ = __name__
    return BarometerEngine


def __getattr__(name: str):
    if name == "BarometerEngine":
        cls = globals()["BarometerEngine"] = _make_engine()
        return cls
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def preload(modules: list[str] = ()) -> list[str]:
    """Import what every forked kernel needs: what the in-process engine needs
    (:func:`barometer.engine.inprocess.preload`, the notebook stack and ``modules``)
    and what ``IPKernelApp.initialize`` imports lazily.

    Nothing here may start a thread or open a ZeroMQ context: the process is
    forked afterwards."""
    import importlib

    from barometer.engine import inprocess

    done = inprocess.preload(modules)
    # what IPKernelApp.initialize imports lazily (the debugger alone is ~0.5 s)
    for m in ("ipykernel.kernelapp", "ipykernel.zmqshell", "matplotlib_inline.backend_inline",
              "ipykernel.debugger", "IPython.extensions", "sqlite3", "psutil", "pdb", "bdb", "code", "faulthandler",
              "http.server", "xmlrpc.client", "xmlrpc.server", "tornado.locks", "tornado.queues",
              "jupyter_client.asynchronous", "jupyter_client.provisioning"):
        try:
            importlib.import_module(m)
            done.append(m)
        except ImportError:
            pass
    # what every kernel start looks up: the provisioners' entry points and the
    # python3 kernel spec (~45 ms per report otherwise)
    try:
        from jupyter_client.kernelspec import KernelSpecManager
        from jupyter_client.provisioning import KernelProvisionerFactory

        KernelProvisionerFactory.instance()
        _SPECS["python3"] = KernelSpecManager().get_kernel_spec("python3")
    except Exception:  # noqa: BLE001 - then each kernel start looks them up itself
        pass
    return done
