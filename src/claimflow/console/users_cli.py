"""`claimflow users ...`: the people who may use claimflow, their passwords and their API tokens.

With CLAIMFLOW_TOKEN set these commands act as its user, who needs the manage_users permission
(managers and admins; only an admin changes an admin). Without it they act as the operator of the
ledger database itself, recorded as `operator:<login>`: whoever holds DATABASE_URL's credentials (or
the embedded stack's home folder) already holds every account, and this is how the first users are
made and a locked-out admin is recovered. `users token` is the exception: without a token it asks
for the user's own password, so a person gets their own token and nobody else's.
"""

from __future__ import annotations

import contextlib
import getpass
from collections.abc import Callable, Iterator
from typing import Annotated, TypeVar

import typer

from claimflow.claims.roles import Permission, Role
from claimflow.console.identity import settings, token_user, user_store
from claimflow.console.output import ExitCode, fail, print_json, stdout, table, when
from claimflow.integrations.ledger.users import (
    AuthenticationError,
    IssuedToken,
    NewPassword,
    PermissionDenied,
    UnknownTokenError,
    UnknownUserError,
    User,
    UserError,
    UserExistsError,
    UserStore,
)

Answer = TypeVar("Answer")

app = typer.Typer(help="Users: add, list, disable, reset passwords, issue API tokens.", no_args_is_help=True)

JsonOption = Annotated[bool, typer.Option("--json", help="print JSON instead of a table")]
UsernameArgument = Annotated[str, typer.Argument(metavar="USERNAME", help="e.g. amy@clinic.example")]


@app.command("add")
def add(
    username: UsernameArgument,
    name: Annotated[str, typer.Option(help="the person's name as colleagues read it, e.g. 'Amy Lee'")],
    role: Annotated[Role, typer.Option(help="biller, manager or admin")] = Role.BILLER,
    token: Annotated[bool, typer.Option("--token", help="also issue an API token for the new user")] = False,
    as_json: JsonOption = False,
) -> None:
    """Add a user with a one-time password (shown once; they choose their own at first sign-in)."""
    with _administered() as (store, by):
        created = _changing(lambda: store.add(username, name, role, by=by))
        issued = _changing(lambda: store.issue_token(created.user.username, by=by)) if token else None
    if as_json:
        print_json({**_password_json(created), "token": issued.secret if issued else None})
        return
    _print_password(created, "added")
    if issued is not None:
        _print_token(issued)


@app.command("list")
def list_users(as_json: JsonOption = False) -> None:
    """Everyone who may use claimflow, with their role and state."""
    with _administered() as (store, _):
        users = store.users()
        tokens = store.tokens()
    active = {user.username: sum(t.active for t in tokens if t.username == user.username) for user in users}
    if as_json:
        print_json(
            [{**user.model_dump(mode="json"), "active_tokens": active[user.username]} for user in users]
        )
        return
    stdout().print(
        table(
            f"{len(users)} user(s)",
            ("username", "name", "role", "state", "last sign-in", "tokens"),
            [
                (
                    user.username,
                    user.display_name,
                    user.role.value,
                    _state(user),
                    when(user.last_login_at),
                    str(active[user.username]),
                )
                for user in users
            ],
        )
    )


@app.command("disable")
def disable(username: UsernameArgument) -> None:
    """The user can no longer sign in, and their API tokens are refused (until enabled)."""
    with _administered() as (store, by):
        user = _changing(lambda: store.disable(username, by=by))
    stdout().print(f"{user.username} is disabled", highlight=False)


@app.command("enable")
def enable(username: UsernameArgument) -> None:
    """Undo `disable`: the user signs in again and their unrevoked tokens work again."""
    with _administered() as (store, by):
        user = _changing(lambda: store.enable(username, by=by))
    stdout().print(f"{user.username} is enabled", highlight=False)


@app.command("reset-password")
def reset_password(username: UsernameArgument, as_json: JsonOption = False) -> None:
    """A new one-time password for the user (shown once); it also lifts a sign-in lockout."""
    with _administered() as (store, by):
        reset = _changing(lambda: store.reset_password(username, by=by))
    if as_json:
        print_json(_password_json(reset))
        return
    _print_password(reset, "has a new password")


@app.command("token")
def token(
    username: UsernameArgument,
    label: Annotated[str, typer.Option(help="what the token is for, e.g. the machine or script")] = "cli",
    as_json: JsonOption = False,
) -> None:
    """Issue an API token for USERNAME (shown once). Without CLAIMFLOW_TOKEN, asks for USERNAME's
    password (and, after a one-time password, for a new one); a manager's token issues for anyone."""
    configuration = settings()
    with user_store(configuration) as store:
        by = token_user(store, configuration)
        if by is None:
            by = _sign_in(store, username)
        issued = _changing(lambda: store.issue_token(username, by=by, label=label))
    if as_json:
        print_json({"username": issued.token.username, "token_id": issued.token.id, "token": issued.secret})
        return
    _print_token(issued)


@app.command("tokens")
def tokens(
    username: Annotated[str | None, typer.Argument(metavar="[USERNAME]", help="only this user's")] = None,
    as_json: JsonOption = False,
) -> None:
    """API tokens (never their secret): id, owner, label, when made, last used, revoked."""
    with _administered() as (store, _):
        listed = _changing(lambda: store.tokens(username))
    if as_json:
        print_json(listed)
        return
    stdout().print(
        table(
            f"{len(listed)} token(s)",
            ("id", "user", "label", "starts with", "created", "last used", "revoked"),
            [
                (
                    str(t.id),
                    t.username,
                    t.label,
                    t.prefix,
                    when(t.created_at),
                    when(t.last_used_at),
                    when(t.revoked_at),
                )
                for t in listed
            ],
        )
    )


@app.command("revoke-token")
def revoke_token(
    token_id: Annotated[int, typer.Argument(metavar="ID", help="from `claimflow users tokens`")],
) -> None:
    """The token stops working at once."""
    with _administered() as (store, by):
        revoked = _changing(lambda: store.revoke_token(token_id, by=by))
    stdout().print(
        f"token {revoked.id} ({revoked.prefix}…) of {revoked.username} is revoked", highlight=False
    )


# ---------------------------------------------------------------------------------------- helpers


@contextlib.contextmanager
def _administered() -> Iterator[tuple[UserStore, User | str]]:
    """The store, and who acts: CLAIMFLOW_TOKEN's user, or the database's operator without one."""
    configuration = settings()
    with user_store(configuration) as store:
        by = token_user(store, configuration)
        if by is None:
            yield store, f"operator:{getpass.getuser()}"
            return
        _changing(lambda: by.require(Permission.MANAGE_USERS, "administer users"))
        yield store, by


def _changing(change: Callable[[], Answer]) -> Answer:
    """`change()`, its refusal turned into the message and exit code a person acts on."""
    try:
        return change()
    except (PermissionDenied, AuthenticationError) as error:
        fail(str(error), ExitCode.DENIED)
    except (UnknownUserError, UnknownTokenError, UserExistsError) as error:
        fail(str(error), ExitCode.NO)
    except UserError as error:
        fail(str(error), ExitCode.USAGE)


def _sign_in(store: UserStore, username: str) -> User:
    """USERNAME, by their password (typed, not echoed); a one-time password is replaced first."""
    password = typer.prompt(f"password of {username}", hide_input=True)
    user = _changing(lambda: store.authenticate(username, password, source="cli"))
    if not user.must_change_password:
        return user
    stdout().print("That was a one-time password: choose your own.", highlight=False)
    new = typer.prompt("new password", hide_input=True, confirmation_prompt=True)
    return _changing(lambda: store.change_password(username, password, new, source="cli"))


def _state(user: User) -> str:
    if user.disabled:
        return "disabled"
    return "must change password" if user.must_change_password else "active"


def _password_json(new: NewPassword) -> dict[str, object]:
    return {**new.user.model_dump(mode="json"), "one_time_password": new.password}


def _print_password(new: NewPassword, what: str) -> None:
    out = stdout()
    out.print(f"{new.user.username} ({new.user.role.value}) {what}.", highlight=False)
    out.print(f"one-time password: {new.password}", highlight=False, markup=False)
    out.print(
        "It is shown only now. They sign in with it and choose their own (web console, or "
        f"`claimflow users token {new.user.username}`).",
        highlight=False,
        markup=False,
    )


def _print_token(issued: IssuedToken) -> None:
    out = stdout()
    out.print(
        f"API token {issued.token.id} for {issued.token.username} ({issued.token.label}), shown only now:",
        highlight=False,
        markup=False,
    )
    out.print(f"  export CLAIMFLOW_TOKEN={issued.secret}", highlight=False, markup=False, soft_wrap=True)
