"""`claimflow up`: the embedded stack in one command, stopped cleanly by Ctrl-C or SIGTERM."""

from __future__ import annotations

import functools
import os
import shutil
import signal
import types
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Annotated, NoReturn, TypeVar

import typer

from claimflow.console.output import ExitCode, fail, stdout
from claimflow.console.stack import HOST, PortInUse, Stack, StackConfig, StackError
from claimflow.console.supervisor import keep_up
from claimflow.integrations.ledger.users import NewPassword, UserStore
from claimflow.integrations.sandbox.config import ConfigError, load_config
from claimflow.integrations.settings import Settings

Outcome = TypeVar("Outcome")
HOME_PAYERS = "payers.toml"
"""The home's sandbox payer file: `up --payers FILE` copies FILE there, `demo` writes its fast payers
there, and every later `up` on the home runs the sandbox with it."""
UP_READY = "Press Ctrl-C to stop."
TRANSPORT_HELP = (
    "how the worker reaches the sandbox's clearinghouse: http, or sftp (claims and payer files through "
    "its SFTP mailbox, as with a real clearinghouse; real-time inquiries stay on HTTP)"
)


class Transport(StrEnum):
    HTTP = "http"
    SFTP = "sftp"


# The stack's options, shared by `up` and `demo`; their defaults are StackConfig's.
UiPort = Annotated[int, typer.Option(help="Temporal Web UI port")]
TemporalPort = Annotated[int, typer.Option(help="Temporal frontend (gRPC) port")]
SandboxPort = Annotated[int, typer.Option(help="payer and clearinghouse sandbox port")]
MetricsPort = Annotated[int, typer.Option(help="the worker's /metrics, /healthz and /readyz port (0: none)")]
CodecPort = Annotated[
    int, typer.Option(help="codec server port: the Web UI decodes payloads through it for managers")
]
ConsolePort = Annotated[
    int, typer.Option(help="web console port: billers and managers work in the browser there")
]
TransportOption = Annotated[Transport, typer.Option(help=TRANSPORT_HELP)]
SftpPort = Annotated[int, typer.Option(help="the sandbox's SFTP mailbox port (--transport sftp)")]


def up(
    home: Annotated[
        Path, typer.Option(help="data folder: Temporal's SQLite file, ledger, sandbox state, key, logs")
    ] = Path(".claimflow"),
    ui_port: UiPort = StackConfig.ui_port,
    port: TemporalPort = StackConfig.temporal_port,
    sandbox_port: SandboxPort = StackConfig.sandbox_port,
    metrics_port: MetricsPort = StackConfig.worker_metrics_port,
    codec_port: CodecPort = StackConfig.codec_port,
    console_port: ConsolePort = StackConfig.console_port,
    payers: Annotated[
        Path | None,
        typer.Option(
            help="sandbox payer TOML file, kept in the home for every later `up` (default: the one the home "
            "was started with, e.g. the demo's fast payers, else the shipped payers' real-world delays)"
        ),
    ] = None,
    transport: TransportOption = Transport.HTTP,
    sftp_port: SftpPort = StackConfig.sftp_port,
) -> None:
    """Run Temporal (dev server), the sandbox, the codec server, the worker and the web console
    (http://localhost:8000) until Ctrl-C.

    On a fresh home it makes the first user, `admin`, and prints its one-time password.

    A part that dies is restarted (with backoff; why it died is shown on stderr): the dev server on
    the same SQLite file. Exits 0 when stopped by Ctrl-C or SIGTERM, 2 when a port is taken,
    `temporal` is missing or --payers cannot be used, 1 when a part of the stack fails to start or
    keeps dying (5 times a minute; its name and last log lines are shown).
    """
    home = home.resolve()
    config = StackConfig(
        home=home,
        temporal_port=port,
        ui_port=ui_port,
        sandbox_port=sandbox_port,
        sandbox_config=home_payers(home, payers),
        worker_metrics_port=metrics_port,
        transport=transport.value,
        sftp_port=sftp_port,
        codec_port=codec_port,
        console_port=console_port,
    )
    first_admin = _first_admin(config)
    started = functools.partial(print_first_admin, first_admin) if first_admin is not None else None
    died = run_on_stack(config, keep_up, UP_READY, started)
    if died is not None:
        fail(
            f"{died.describe()}\nthe rest of the stack was stopped; fix what its log says and run "
            "`claimflow up` again",
            ExitCode.NO,
        )


def _first_admin(config: StackConfig) -> NewPassword | None:
    """On a ledger without users, the `admin` account with a one-time password; else None."""
    config.home.mkdir(parents=True, exist_ok=True)
    store = UserStore(Settings.from_env(config.environment(os.environ)).ledger_url)
    try:
        return store.ensure_admin(by="claimflow up")
    finally:
        store.close()


def print_first_admin(admin: NewPassword) -> None:
    stdout().print(
        "First start: claimflow made an admin account. Its one-time password is shown only now:\n"
        f"  username {admin.user.username}   password {admin.password}\n"
        "Sign in at the web console with it, which asks you to choose your own password; "
        f"`claimflow users token {admin.user.username}` asks for both and prints your API token "
        "(CLAIMFLOW_TOKEN); then `claimflow users add` adds the others.",
        highlight=False,
        markup=False,
        soft_wrap=True,
    )


def home_payers(home: Path, given: Path | None) -> Path | None:
    """The payer file the home's sandbox runs with: `given`, checked and copied into the home so that
    the home remembers it; else the home's own (from an earlier --payers or `demo`); else None, the
    shipped payers. A file the sandbox cannot use exits 2."""
    kept = home / HOME_PAYERS
    if given is not None:
        try:
            load_config(given)
        except ConfigError as error:
            fail(f"{error}; fix the file or leave out --payers", ExitCode.USAGE)
        home.mkdir(parents=True, exist_ok=True)
        if given.resolve() != kept:
            shutil.copyfile(given, kept)
    return kept if kept.is_file() else None


def run_on_stack(
    config: StackConfig,
    job: Callable[[Stack], Outcome],
    ready: str,
    started: Callable[[], None] | None = None,
) -> Outcome | None:
    """Start the stack, print where everything is (then call `started`) and `ready`, run `job` on it,
    stop it; `job`'s
    answer, or None when Ctrl-C or SIGTERM stopped it. A port in use or a missing `temporal` exits 2,
    a part that did not start exits 1."""
    # SIGINT is set explicitly: a shell starts background jobs with it ignored, and `kill -INT`
    # must stop `claimflow up &` too.
    for number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(number, _interrupt)
    out = stdout()
    try:
        stack = Stack(config)
        out.print(
            "starting Temporal, the sandbox, the codec server, the worker and the web console ...",
            highlight=False,
        )
        with stack:
            print_started(stack)
            if started is not None:
                started()
            out.print(ready, highlight=False)
            return job(stack)
    except PortInUse as error:
        fail(str(error), ExitCode.USAGE)
    except StackError as error:
        if "was not found on PATH" in str(error):
            fail(str(error), ExitCode.USAGE)
        fail(
            f"the stack did not start: {error}; see its log under {config.logs}, fix the cause and "
            "run it again",
            ExitCode.NO,
        )
    except KeyboardInterrupt:
        out.print("stopped: Temporal, the sandbox and the worker have exited", highlight=False)
        return None


def _interrupt(number: int, frame: types.FrameType | None) -> NoReturn:
    raise KeyboardInterrupt


def print_started(stack: Stack) -> None:
    """Where everything is: the UI, Temporal, the sandbox, the data and logs (also for `demo`)."""
    config = stack.config
    out = stdout()
    out.print("[bold green]claimflow is up[/]", highlight=False)
    rows = (
        ("web console", f"{config.console_url} (billers and managers sign in there)"),
        ("Temporal Web UI", config.ui_url),
        ("codec server", f"{config.codec_url} (managers sign in at /login to read payloads in the UI)"),
        (
            "Temporal",
            f"{config.temporal_address} (namespace {config.namespace}, task queue {config.task_queue})",
        ),
        ("sandbox", config.sandbox_url),
        *(
            [("SFTP mailbox", f"{HOST}:{config.sftp_port} (profile {config.clearinghouse_profile})")]
            if config.transport == "sftp"
            else []
        ),
        (
            "sandbox payers",
            f"{config.sandbox_config} (the home's; --payers FILE to change)"
            if config.sandbox_config
            else "the shipped payers, with real-world delays (--payers FILE to change)",
        ),
        ("data", f"{config.home} (temporal.db, ledger.db, sandbox.db, keys, documents)"),
        ("logs", str(config.logs)),
        ("processes", ", ".join(f"{name} pid {pid}" for name, pid in stack.pids().items())),
    )
    for label, value in rows:
        out.print(f"  {label:<16} {value}", highlight=False, markup=False, soft_wrap=True)
    out.print(
        "From another terminal, with the same settings:\n"
        f"  export {another_terminal(config)}\n"
        "  claimflow intake FILE.json   claimflow tasks   claimflow stuck",
        highlight=False,
        markup=False,
        soft_wrap=True,
    )


def another_terminal(config: StackConfig) -> str:
    """The settings a second terminal needs to work on this stack (`export` them)."""
    return (
        f"TEMPORAL_ADDRESS={config.temporal_address} CLAIMFLOW_HOME={config.home} "
        f"CLEARINGHOUSE_URL={config.sandbox_url}"
        + (
            f" CLAIMFLOW_TRANSPORT=sftp CLEARINGHOUSE_PROFILE={config.clearinghouse_profile}"
            if config.transport == "sftp"
            else ""
        )
    )
