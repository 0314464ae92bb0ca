"""The people who use claimflow: accounts, passwords, API tokens, sign-in limits, and what they did.

Users live in the ledger database. A password is kept only as its argon2id hash; an API token (what
the command line sends as CLAIMFLOW_TOKEN) only as its SHA-256, which is enough for 256 random bits
and lets a token be looked up in one indexed read. Every sign-in attempt is recorded in
`login_attempts`; too many wrong passwords for one user, or from one source, within the policy's
window refuse further attempts (even a right one) until the window has passed. What users do
(accounts changed, tokens issued, tasks resolved) goes to the ledger's audit trail, actor = username.

Administrative methods take `by`: a `User` is checked (the manage_users permission, and only an
admin changes an admin); a plain string names a trusted operator that reached the database itself,
such as `claimflow up` on a fresh home or `claimflow users` run with the database's credentials.

Synchronous SQLAlchemy, like the ledger: from async code call it through `asyncio.to_thread`.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from claimflow.claims.roles import Permission, Role
from claimflow.claims.tasks import TaskResolution, permission_for
from claimflow.integrations.ledger.engine import create_ledger_engine
from claimflow.integrations.ledger.ledger import as_utc, audit_row, utc_now
from claimflow.integrations.ledger.migrate import upgrade
from claimflow.integrations.ledger.models import LedgerModel
from claimflow.integrations.ledger.schema import ApiTokenRow, LoginAttemptRow, UserRow

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._@+-]{1,79}$")
DISPLAY_NAME_MAX = 120
MIN_PASSWORD_LENGTH = 12
TOKEN_PREFIX = "cft_"
TOKEN_SHOWN_CHARS = 12
"""How much of a token is kept in clear to tell tokens apart in a list (the prefix and 8 random)."""
BOOTSTRAP_ADMIN = "admin"


# ---------------------------------------------------------------------------------------- errors


class UserError(ValueError):
    """A request about users that cannot be done; the message says what and what to do instead."""


class UnknownUserError(UserError, LookupError):
    def __init__(self, username: str) -> None:
        super().__init__(f"no user {username!r}: `claimflow users list` shows who exists")
        self.username = username


class UserExistsError(UserError):
    def __init__(self, username: str) -> None:
        super().__init__(
            f"user {username!r} exists already: pick another username, or reset its password "
            "(claimflow users reset-password)"
        )
        self.username = username


class InvalidUserError(UserError):
    """A username, display name or password that cannot be used."""


class UnknownTokenError(UserError, LookupError):
    def __init__(self, token_id: int) -> None:
        super().__init__(f"no API token {token_id}: `claimflow users tokens` lists them")
        self.token_id = token_id


class AuthenticationError(UserError):
    """A sign-in or a token refused. Always recorded; never says whether the username exists."""


class WrongPasswordError(AuthenticationError):
    pass


class UserDisabledError(AuthenticationError):
    def __init__(self, username: str) -> None:
        super().__init__(f"user {username!r} is disabled: ask a manager to enable the account")
        self.username = username


class RateLimitedError(AuthenticationError):
    def __init__(self, message: str, retry_after: timedelta) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class TokenRefusedError(AuthenticationError):
    """An API token that is unknown, revoked, or whose user is disabled."""


class PermissionDenied(UserError):
    def __init__(self, username: str, role: Role, doing: str, permission: Permission) -> None:
        super().__init__(
            f"{username} ({role.value}) may not {doing}: that needs the {permission.value} permission, "
            f"which roles {', '.join(r.value for r in Role if r.can(permission))} have"
        )
        self.username = username
        self.permission = permission


# ---------------------------------------------------------------------------------------- models


class User(LedgerModel):
    username: str
    display_name: str
    role: Role
    disabled: bool
    must_change_password: bool
    """Signed in with a one-time password: the console asks for a new one first."""
    created_at: datetime
    last_login_at: datetime | None = None

    def can(self, permission: Permission) -> bool:
        return not self.disabled and self.role.can(permission)

    def require(self, permission: Permission, doing: str) -> None:
        """PermissionDenied unless this user may `doing` (words for the message: 'approve a write-off')."""
        if not self.can(permission):
            raise PermissionDenied(self.username, self.role, doing, permission)


class ApiToken(LedgerModel):
    id: int
    username: str
    label: str
    prefix: str
    """The token's first characters, to recognise it in a list; the rest is never stored."""
    created_at: datetime
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


@dataclass(frozen=True)
class IssuedToken:
    """A token as issued: `secret` is shown to its user once and kept nowhere."""

    token: ApiToken
    secret: str = field(repr=False)


@dataclass(frozen=True)
class NewPassword:
    """A user and their one-time password (or the password an administrator chose), shown once."""

    user: User
    password: str = field(repr=False)


@dataclass(frozen=True)
class LoginPolicy:
    """Wrong passwords allowed within `window`, per username and per source (a client address),
    before sign-in is refused there until the oldest of them leaves the window."""

    max_failures: int = 5
    max_failures_per_source: int = 20
    window: timedelta = timedelta(minutes=15)


def resolution_by(user: User, resolution: TaskResolution) -> TaskResolution:
    """`resolution` as `user` makes it: they are its actor and their role is recorded with it,
    whatever it said (the appeal workflow lets a manager's role approve a write-off). PermissionDenied
    when the action needs a permission the user lacks, e.g. a biller approving a write-off: the web
    console and the command line check here, before any Update is sent."""
    user.require(permission_for(resolution.action), f"resolve a task with {resolution.action.value!r}")
    return resolution.model_copy(update={"actor": user.username, "actor_role": user.role})


# ----------------------------------------------------------------------------------------- store


class UserStore:
    """The users in the ledger database at `database_url`."""

    def __init__(
        self,
        database_url: str,
        *,
        migrate_schema: bool = True,
        clock: Callable[[], datetime] = utc_now,
        policy: LoginPolicy | None = None,
        hasher: PasswordHasher | None = None,
    ) -> None:
        self._engine = create_ledger_engine(database_url)
        if migrate_schema:
            upgrade(self._engine)
        self._sessions = sessionmaker(self._engine, expire_on_commit=False)
        self._clock = clock
        self._policy = policy or LoginPolicy()
        self._hasher = hasher or PasswordHasher()
        # Checked when the username does not exist, so a wrong name costs what a wrong password does.
        self._decoy_hash = self._hasher.hash(secrets.token_urlsafe(16))

    def close(self) -> None:
        self._engine.dispose()

    # -- accounts --------------------------------------------------------------------------------

    def add(
        self,
        username: str,
        display_name: str,
        role: Role,
        *,
        by: User | str,
        password: str | None = None,
    ) -> NewPassword:
        """A new user. Without `password` it gets a one-time password it must change at first sign-in."""
        name = _valid_username(username)
        shown_name = _valid_display_name(display_name)
        actor = self._authorised(by, role, f"add a {role.value}")
        chosen = password is not None
        secret = _valid_password(password, name) if password is not None else _one_time_password()
        password_hash = self._hasher.hash(secret)
        with self._sessions.begin() as session:
            if self._row(session, name) is not None:
                raise UserExistsError(name)
            now = self._clock()
            row = UserRow(
                username=name,
                display_name=shown_name,
                role=role.value,
                password_hash=password_hash,
                must_change_password=not chosen,
                disabled=False,
                created_at=now,
                password_changed_at=now,
            )
            session.add(row)
            session.add(audit_row(now, actor, "user_added", None, {"username": name, "role": role.value}))
            session.flush()
            return NewPassword(_user(row), secret)

    def ensure_admin(self, *, by: str) -> NewPassword | None:
        """On a database without users, the first admin (`admin`, a one-time password); else None."""
        with self._sessions() as session:
            if session.scalar(select(func.count()).select_from(UserRow)):
                return None
        try:
            return self.add(BOOTSTRAP_ADMIN, "Administrator", Role.ADMIN, by=by)
        except UserExistsError:
            return None  # another process bootstrapped it at the same moment

    def get(self, username: str) -> User:
        with self._sessions() as session:
            return _user(self._require(session, username))

    def users(self) -> list[User]:
        """Everyone, by username."""
        with self._sessions() as session:
            return [_user(row) for row in session.scalars(select(UserRow).order_by(UserRow.username))]

    def disable(self, username: str, *, by: User | str) -> User:
        """The user can no longer sign in and their tokens stop working (until enabled again)."""
        return self._set_disabled(username, True, by)

    def enable(self, username: str, *, by: User | str) -> User:
        return self._set_disabled(username, False, by)

    def _set_disabled(self, username: str, disabled: bool, by: User | str) -> User:
        verb = "disable" if disabled else "enable"
        with self._sessions.begin() as session:
            row = self._require(session, username)
            actor = self._authorised(by, Role(row.role), f"{verb} a {row.role}")
            if disabled and row.role == Role.ADMIN.value and not row.disabled:
                active_admins = session.scalar(
                    select(func.count())
                    .select_from(UserRow)
                    .where(UserRow.role == Role.ADMIN.value, UserRow.disabled.is_(False))
                )
                if active_admins == 1:
                    raise InvalidUserError(
                        f"{row.username} is the last enabled admin: add or enable another admin first"
                    )
            if row.disabled != disabled:
                row.disabled = disabled
                session.add(
                    audit_row(self._clock(), actor, f"user_{verb}d", None, {"username": row.username})
                )
            return _user(row)

    def reset_password(self, username: str, *, by: User | str) -> NewPassword:
        """A one-time password replacing the user's password; it also lifts a sign-in lockout."""
        secret = _one_time_password()
        password_hash = self._hasher.hash(secret)
        with self._sessions.begin() as session:
            row = self._require(session, username)
            actor = self._authorised(by, Role(row.role), f"reset the password of a {row.role}")
            now = self._clock()
            row.password_hash = password_hash
            row.must_change_password = True
            row.password_changed_at = now
            session.add(audit_row(now, actor, "password_reset", None, {"username": row.username}))
            return NewPassword(_user(row), secret)

    def change_password(self, username: str, current: str, new: str, *, source: str = "console") -> User:
        """The user's own change (after a one-time password, or any time): the current password is
        checked like a sign-in, so it is rate limited too."""
        user = self.authenticate(username, current, source=source)
        if new == current:
            raise InvalidUserError("the new password must differ from the current one")
        password_hash = self._hasher.hash(_valid_password(new, user.username))
        with self._sessions.begin() as session:
            row = self._require(session, user.username)
            now = self._clock()
            row.password_hash = password_hash
            row.must_change_password = False
            row.password_changed_at = now
            session.add(audit_row(now, row.username, "password_changed", None, {"username": row.username}))
            return _user(row)

    # -- signing in ------------------------------------------------------------------------------

    def authenticate(self, username: str, password: str, *, source: str = "console") -> User:
        """The user, if the password is theirs and they may sign in; else WrongPasswordError,
        UserDisabledError or RateLimitedError. Every attempt is recorded."""
        name = username.strip().lower()[:80]
        where = source.strip()[:80] or "unknown"
        with self._sessions() as session:
            row = self._row(session, name)
            limited = self._rate_limit(session, name, where, row)
            stored_hash = row.password_hash if row is not None else self._decoy_hash
        if limited is not None:
            self._attempt(name, where, "rate_limited")
            raise limited
        if not self._verify(stored_hash, password) or row is None:
            self._attempt(name, where, "wrong_password")
            raise WrongPasswordError(
                "wrong username or password; after "
                f"{self._policy.max_failures} wrong passwords within {_minutes(self._policy.window)} "
                "sign-in waits, and a manager can reset a forgotten password"
            )
        if row.disabled:
            self._attempt(name, where, "disabled")
            raise UserDisabledError(row.username)
        rehash = self._hasher.check_needs_rehash(stored_hash)
        new_hash = self._hasher.hash(password) if rehash else None
        with self._sessions.begin() as session:
            current = self._require(session, name)
            now = self._clock()
            current.last_login_at = now
            if new_hash is not None:
                current.password_hash = new_hash
            session.add(LoginAttemptRow(at=now, username=name, source=where, succeeded=True, outcome="ok"))
            return _user(current)

    def _verify(self, stored_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(stored_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    def _rate_limit(
        self, session: Session, name: str, source: str, row: UserRow | None
    ) -> RateLimitedError | None:
        now = self._clock()
        since = now - self._policy.window
        # Wrong passwords before the last sign-in or password change no longer count against the user.
        user_since = (
            max([since, *(as_utc(t) for t in (row.password_changed_at, row.last_login_at) if t)])
            if row is not None
            else since
        )
        for column, value, start, limit, whom in (
            (LoginAttemptRow.username, name, user_since, self._policy.max_failures, f"user {name!r}"),
            (LoginAttemptRow.source, source, since, self._policy.max_failures_per_source, f"from {source}"),
        ):
            failures = session.scalars(
                select(LoginAttemptRow.at)
                .where(
                    column == value, LoginAttemptRow.outcome == "wrong_password", LoginAttemptRow.at > start
                )
                .order_by(LoginAttemptRow.at.desc())
                .limit(limit)
            ).all()
            if len(failures) >= limit:
                retry_after = as_utc(failures[-1]) + self._policy.window - now
                return RateLimitedError(
                    f"too many wrong passwords for {whom}: sign-in is refused for "
                    f"{_minutes(retry_after)} more; a manager can reset the password to lift it now",
                    retry_after,
                )
        return None

    def _attempt(self, name: str, source: str, outcome: str) -> None:
        with self._sessions.begin() as session:
            session.add(
                LoginAttemptRow(
                    at=self._clock(), username=name, source=source, succeeded=False, outcome=outcome
                )
            )

    # -- API tokens ------------------------------------------------------------------------------

    def issue_token(self, username: str, *, by: User | str, label: str = "cli") -> IssuedToken:
        """A new token for the user (they may hold several, one per machine or script)."""
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
        with self._sessions.begin() as session:
            row = self._require(session, username)
            if not (isinstance(by, User) and by.username == row.username):
                actor = self._authorised(by, Role(row.role), f"issue a token to a {row.role}")
            else:
                actor = row.username  # anyone may make a token for themselves
            now = self._clock()
            token = ApiTokenRow(
                user_id=row.id,
                token_hash=_token_hash(secret),
                prefix=secret[:TOKEN_SHOWN_CHARS],
                label=label.strip()[:80] or "cli",
                created_at=now,
            )
            session.add(token)
            session.flush()
            session.add(
                audit_row(
                    now,
                    actor,
                    "token_issued",
                    None,
                    {"username": row.username, "token_id": token.id, "prefix": token.prefix},
                )
            )
            return IssuedToken(_token(token, row.username), secret)

    def tokens(self, username: str | None = None) -> list[ApiToken]:
        """Tokens, revoked ones included, oldest first: one user's, or everyone's."""
        query = select(ApiTokenRow, UserRow.username).join(UserRow).order_by(ApiTokenRow.id)
        with self._sessions() as session:
            if username is not None:
                query = query.where(UserRow.id == self._require(session, username).id)
            return [_token(token, name) for token, name in session.execute(query)]

    def revoke_token(self, token_id: int, *, by: User | str) -> ApiToken:
        """The token stops working at once. Revoking it again changes nothing."""
        with self._sessions.begin() as session:
            found = session.execute(
                select(ApiTokenRow, UserRow).join(UserRow).where(ApiTokenRow.id == token_id)
            ).first()
            if found is None:
                raise UnknownTokenError(token_id)
            token, owner = found
            if not (isinstance(by, User) and by.username == owner.username):
                actor = self._authorised(by, Role(owner.role), f"revoke a token of a {owner.role}")
            else:
                actor = owner.username
            if token.revoked_at is None:
                token.revoked_at = self._clock()
                session.add(
                    audit_row(
                        token.revoked_at,
                        actor,
                        "token_revoked",
                        None,
                        {"username": owner.username, "token_id": token.id, "prefix": token.prefix},
                    )
                )
            return _token(token, owner.username)

    def user_for_token(self, secret: str) -> User:
        """The user an API token belongs to, or TokenRefusedError (unknown, revoked, user disabled)."""
        with self._sessions.begin() as session:
            found = session.execute(
                select(ApiTokenRow, UserRow)
                .join(UserRow)
                .where(ApiTokenRow.token_hash == _token_hash(secret))
            ).first()
            if found is None:
                raise TokenRefusedError(
                    "the API token is not one claimflow issued (mistyped, or from another installation): "
                    "ask a manager for one (claimflow users token USERNAME)"
                )
            token, owner = found
            if token.revoked_at is not None:
                raise TokenRefusedError(
                    f"the API token {token.prefix}… of {owner.username} was revoked on "
                    f"{as_utc(token.revoked_at):%Y-%m-%d %H:%M} UTC: ask a manager for a new one"
                )
            if owner.disabled:
                raise TokenRefusedError(
                    f"user {owner.username!r} is disabled, so their API tokens are refused: "
                    "ask a manager to enable the account"
                )
            token.last_used_at = self._clock()
            return _user(owner)

    # -- audit -----------------------------------------------------------------------------------

    def record(
        self,
        actor: User | str,
        action: str,
        details: dict[str, Any],
        patient_control_number: str | None = None,
    ) -> None:
        """Add what a user did (or was refused) to the ledger's audit trail. `details` hold ids,
        codes and amounts only, never PHI."""
        name = actor.username if isinstance(actor, User) else actor
        with self._sessions.begin() as session:
            session.add(audit_row(self._clock(), name, action, patient_control_number, details))

    # -- helpers ---------------------------------------------------------------------------------

    def _authorised(self, by: User | str, target: Role, doing: str) -> str:
        """The actor to record for an administrative change, after checking a user may make it."""
        if isinstance(by, str):
            if not by.strip():
                raise InvalidUserError(f"cannot {doing} without saying who does it")
            return by
        by.require(Permission.MANAGE_USERS, doing)
        if not by.role.can_manage(target):
            raise PermissionDenied(by.username, by.role, doing, Permission.MANAGE_USERS)
        return by.username

    def _row(self, session: Session, username: str) -> UserRow | None:
        return session.scalar(select(UserRow).where(UserRow.username == username.strip().lower()))

    def _require(self, session: Session, username: str) -> UserRow:
        row = self._row(session, username)
        if row is None:
            raise UnknownUserError(username.strip().lower())
        return row


def _user(row: UserRow) -> User:
    return User(
        username=row.username,
        display_name=row.display_name,
        role=Role(row.role),
        disabled=row.disabled,
        must_change_password=row.must_change_password,
        created_at=as_utc(row.created_at),
        last_login_at=as_utc(row.last_login_at) if row.last_login_at else None,
    )


def _token(row: ApiTokenRow, username: str) -> ApiToken:
    return ApiToken(
        id=row.id,
        username=username,
        label=row.label,
        prefix=row.prefix,
        created_at=as_utc(row.created_at),
        last_used_at=as_utc(row.last_used_at) if row.last_used_at else None,
        revoked_at=as_utc(row.revoked_at) if row.revoked_at else None,
    )


def _token_hash(secret: str) -> str:
    return hashlib.sha256(secret.strip().encode("utf-8")).hexdigest()


def _one_time_password() -> str:
    return secrets.token_urlsafe(12)  # 16 characters, 96 random bits


def _valid_username(username: str) -> str:
    name = username.strip().lower()
    if not USERNAME.match(name):
        raise InvalidUserError(
            f"username {username!r} is not usable: 2 to 80 characters, lower-case letters, digits and "
            "'.', '_', '@', '+' or '-', starting with a letter or digit (an e-mail address works)"
        )
    return name


def _valid_display_name(display_name: str) -> str:
    shown = " ".join(display_name.split())
    if not shown or len(shown) > DISPLAY_NAME_MAX:
        raise InvalidUserError(f"display name must be 1 to {DISPLAY_NAME_MAX} characters, e.g. 'Amy Lee'")
    return shown


def _valid_password(password: str, username: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidUserError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
    if username in password.lower():
        raise InvalidUserError("a password must not contain the username")
    return password


def _minutes(span: timedelta) -> str:
    minutes = max(1, -(-int(span.total_seconds()) // 60))
    return f"{minutes} minute{'s' if minutes != 1 else ''}"
