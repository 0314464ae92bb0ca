"""Who is at the command line: the user of CLAIMFLOW_TOKEN, checked against the users in the ledger.

Commands that change a claim (task resolve, claim pay) act only as that user: the actor they send
and record is the token's username, and an action the user's role does not allow is refused here,
before any Update goes out. Every such refusal and every change is written to the audit trail.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any, NoReturn, TypeVar

import typer
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from claimflow.console.output import ExitCode, fail
from claimflow.integrations.ledger.users import (
    AuthenticationError,
    PermissionDenied,
    User,
    UserStore,
)
from claimflow.integrations.settings import Settings, SettingsError

Done = TypeVar("Done")
GET_A_TOKEN = "get one with `claimflow users token USERNAME` and export CLAIMFLOW_TOKEN"


def settings() -> Settings:
    try:
        return Settings.from_env()
    except SettingsError as error:
        fail(str(error), ExitCode.USAGE)


@contextlib.contextmanager
def user_store(configuration: Settings) -> Iterator[UserStore]:
    """The users in the ledger at DATABASE_URL; a ledger that cannot be opened exits 3."""
    try:
        store = UserStore(configuration.ledger_url)
    except SQLAlchemyError as error:
        reason = getattr(error, "orig", None) or type(error).__name__
        where = make_url(configuration.ledger_url).render_as_string(hide_password=True)
        fail(
            f"cannot open the ledger database {where}, where users are kept ({reason}): is it running, "
            "and are DATABASE_URL or CLAIMFLOW_HOME the ones `claimflow up` was given?",
            ExitCode.UNREACHABLE,
        )
    try:
        yield store
    finally:
        store.close()


def token_user(store: UserStore, configuration: Settings) -> User | None:
    """The user of CLAIMFLOW_TOKEN, None when it is not set; a refused token exits 4."""
    if configuration.token is None:
        return None
    try:
        return store.user_for_token(configuration.token.get_secret_value())
    except AuthenticationError as error:
        fail(f"CLAIMFLOW_TOKEN: {error}", ExitCode.DENIED)


def require_token_user(store: UserStore, configuration: Settings, doing: str) -> User:
    """The user of CLAIMFLOW_TOKEN; exits 4 when it is not set or refused."""
    user = token_user(store, configuration)
    if user is None:
        fail(
            f"to {doing} claimflow needs to know who you are: set CLAIMFLOW_TOKEN ({GET_A_TOKEN})",
            ExitCode.DENIED,
        )
    return user


def refuse(store: UserStore, user: User, error: PermissionDenied, details: dict[str, Any]) -> NoReturn:
    """Record a refused action in the audit trail, then exit 4 with the reason."""
    store.record(user, "permission_denied", {**details, "permission": error.permission.value})
    fail(str(error), ExitCode.DENIED)


@contextlib.contextmanager
def acting_user(doing: str) -> Iterator[tuple[User, UserStore]]:
    """The user of CLAIMFLOW_TOKEN and the store to record what they do; exits 4 without one."""
    configuration = settings()
    with user_store(configuration) as store:
        yield require_token_user(store, configuration, doing), store


def audited(
    store: UserStore, user: User, action: str, details: dict[str, Any], work: Callable[[], Done]
) -> Done:
    """`work()`, recorded in the audit trail as `action`, or as `<action>_refused` with the exit
    code when it stops with one (the claim refused it, or Temporal could not be reached)."""
    try:
        done = work()
    except typer.Exit as stopped:
        store.record(user, f"{action}_refused", {**details, "exit_code": stopped.exit_code})
        raise
    store.record(user, action, details)
    return done


def no_actor_option(actor: str | None) -> None:
    """`--actor` named whoever one typed; it is gone, and saying so beats click's bare 'no such option'."""
    if actor is not None:
        fail(
            "--actor is gone: claimflow records the user of CLAIMFLOW_TOKEN as the one who acted "
            f"({GET_A_TOKEN})",
            ExitCode.USAGE,
        )
