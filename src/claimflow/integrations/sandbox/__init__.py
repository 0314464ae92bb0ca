"""A payer and clearinghouse simulator served over HTTP: see README.md beside this file."""

from __future__ import annotations

from pathlib import Path

from starlette.types import ASGIApp

from claimflow.integrations.sandbox.config import load_config
from claimflow.integrations.sandbox.engine import Clock, Sandbox, system_clock
from claimflow.integrations.sandbox.store import Store

__all__ = ["Sandbox", "build_app", "build_sandbox"]


def build_sandbox(
    *,
    config_path: Path | None = None,
    db_path: Path | str = ":memory:",
    seed: int | None = None,
    clock: Clock = system_clock,
) -> Sandbox:
    config = load_config(config_path)
    if seed is not None:
        config = config.model_copy(update={"seed": seed})
    if str(db_path) != ":memory:":
        Path(db_path).parent.mkdir(parents=True, exist_ok=True)
    return Sandbox(config, Store(db_path), clock=clock)


def build_app(
    *, config_path: Path | None = None, db_path: Path | str = ":memory:", seed: int | None = None
) -> ASGIApp:
    from claimflow.integrations.sandbox.app import create_app

    return create_app(build_sandbox(config_path=config_path, db_path=db_path, seed=seed))
