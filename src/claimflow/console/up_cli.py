"""`claimflow up`: the embedded stack in one command, stopped cleanly by Ctrl-C or SIGTERM."""

from __future__ import annotations

import signal
import types
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, NoReturn, TypeVar

import typer

from claimflow.console.output import ExitCode, fail, stdout
from claimflow.console.stack import PortInUse, Stack, StackConfig, StackError

Outcome = TypeVar("Outcome")


def up(
    home: Annotated[
        Path, typer.Option(help="data folder: Temporal's SQLite file, ledger, sandbox state, key, logs")
    ] = Path(".claimflow"),
    ui_port: Annotated[int, typer.Option(help="Temporal Web UI port")] = 8233,
    port: Annotated[int, typer.Option(help="Temporal frontend (gRPC) port")] = 7233,
    sandbox_port: Annotated[int, typer.Option(help="payer and clearinghouse sandbox port")] = 8700,
) -> None:
    """Run Temporal (dev server), the sandbox and the worker until Ctrl-C.

    Exits 0 when stopped by Ctrl-C or SIGTERM, 2 when a port is taken or `temporal` is missing,
    1 when a part of the stack fails to start or dies (its name and last log lines are shown).
    """
    config = StackConfig(home=home.resolve(), temporal_port=port, ui_port=ui_port, sandbox_port=sandbox_port)
    died = run_on_stack(config, lambda stack: stack.wait(lambda: False))
    if died is not None:
        fail(f"{died.describe()}\nthe rest of the stack was stopped", ExitCode.NO)


def run_on_stack(config: StackConfig, job: Callable[[Stack], Outcome]) -> Outcome | None:
    """Start the stack, run `job` on it, stop it; `job`'s answer, or None when Ctrl-C or SIGTERM
    stopped it. A port in use or a missing `temporal` exits 2, a part that did not start exits 1."""
    # SIGINT is set explicitly: a shell starts background jobs with it ignored, and `kill -INT`
    # must stop `claimflow up &` too.
    for number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(number, _interrupt)
    out = stdout()
    try:
        stack = Stack(config)
        out.print("starting Temporal, the sandbox and the worker ...", highlight=False)
        with stack:
            print_started(stack)
            return job(stack)
    except PortInUse as error:
        fail(str(error), ExitCode.USAGE)
    except StackError as error:
        if "was not found on PATH" in str(error):
            fail(str(error), ExitCode.USAGE)
        fail(f"the stack did not start: {error}", ExitCode.NO)
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
        ("Temporal Web UI", config.ui_url),
        (
            "Temporal",
            f"{config.temporal_address} (namespace {config.namespace}, task queue {config.task_queue})",
        ),
        ("sandbox", config.sandbox_url),
        ("data", f"{config.home} (temporal.db, ledger.db, sandbox.db, keys, documents)"),
        ("logs", str(config.logs)),
        ("processes", ", ".join(f"{name} pid {pid}" for name, pid in stack.pids().items())),
    )
    for label, value in rows:
        out.print(f"  {label:<16} {value}", highlight=False, markup=False, soft_wrap=True)
    out.print(
        "From another terminal, with the same settings:\n"
        f"  export TEMPORAL_ADDRESS={config.temporal_address} CLAIMFLOW_HOME={config.home}\n"
        "  claimflow intake FILE.json   claimflow tasks   claimflow stuck",
        highlight=False,
        markup=False,
        soft_wrap=True,
    )
    out.print("Press Ctrl-C to stop.", highlight=False)
