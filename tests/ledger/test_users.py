"""Users in the ledger database: accounts, passwords, sign-in limits, API tokens, roles and the audit."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from claimflow.claims.appeals import check_appeal_resolution
from claimflow.claims.roles import Permission, Role
from claimflow.claims.tasks import (
    Action,
    ApproveWriteOff,
    InvalidResolution,
    SelfPay,
    Task,
    TaskKind,
    permission_for,
)
from claimflow.integrations.ledger import Ledger
from claimflow.integrations.ledger.engine import create_ledger_engine
from claimflow.integrations.ledger.schema import ApiTokenRow, LoginAttemptRow, UserRow
from claimflow.integrations.ledger.users import (
    InvalidUserError,
    LoginPolicy,
    PermissionDenied,
    RateLimitedError,
    TokenRefusedError,
    UnknownTokenError,
    UnknownUserError,
    User,
    UserDisabledError,
    UserExistsError,
    UserStore,
    WrongPasswordError,
    resolution_by,
)

# The real argon2id, at its cheapest parameters: the suite hashes many passwords.
CHEAP_HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
PASSWORD = "correct horse battery"


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, span: timedelta) -> None:
        self.now += span


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(database_url: str, clock: Clock) -> Iterator[UserStore]:
    users = UserStore(
        database_url,
        clock=clock,
        hasher=CHEAP_HASHER,
        policy=LoginPolicy(max_failures=3, max_failures_per_source=5, window=timedelta(minutes=15)),
    )
    try:
        yield users
    finally:
        users.close()


def rows(database_url: str, row_type: type[UserRow] | type[ApiTokenRow] | type[LoginAttemptRow]) -> list:  # type: ignore[type-arg]
    engine = create_ledger_engine(database_url)
    try:
        with engine.connect() as connection:
            return list(connection.execute(select(row_type)))
    finally:
        engine.dispose()


def test_roles_say_who_may_do_what() -> None:
    assert Role.BILLER.can(Permission.WORK_TASKS) and Role.BILLER.can(Permission.RECORD_PAYMENTS)
    for permission in (Permission.APPROVE_WRITE_OFFS, Permission.MANAGE_USERS, Permission.DECODE_PAYLOADS):
        assert not Role.BILLER.can(permission)
        assert Role.MANAGER.can(permission) and Role.ADMIN.can(permission)
    assert Role.MANAGER.can_manage(Role.BILLER) and Role.MANAGER.can_manage(Role.MANAGER)
    assert not Role.MANAGER.can_manage(Role.ADMIN) and Role.ADMIN.can_manage(Role.ADMIN)
    assert not Role.BILLER.can_manage(Role.BILLER)
    assert permission_for(Action.APPROVE_WRITE_OFF) is Permission.APPROVE_WRITE_OFFS
    assert permission_for(Action.REJECT) is Permission.APPROVE_WRITE_OFFS
    assert permission_for(Action.WRITE_OFF) is Permission.WORK_TASKS


def test_a_new_user_signs_in_with_a_one_time_password_then_chooses_one(
    store: UserStore, database_url: str
) -> None:
    created = store.add("Amy@Clinic.example", "  Amy   Lee ", Role.BILLER, by="test")
    assert created.user.username == "amy@clinic.example" and created.user.display_name == "Amy Lee"
    assert created.user.must_change_password and len(created.password) >= 16
    assert store.authenticate("AMY@clinic.example", created.password).must_change_password

    changed = store.change_password("amy@clinic.example", created.password, PASSWORD)
    assert not changed.must_change_password
    assert store.authenticate("amy@clinic.example", PASSWORD).last_login_at is not None
    with pytest.raises(WrongPasswordError):
        store.authenticate("amy@clinic.example", created.password)  # used once, gone

    (row,) = rows(database_url, UserRow)
    assert row.password_hash.startswith("$argon2id$") and PASSWORD not in row.password_hash
    assert [user.username for user in store.users()] == ["amy@clinic.example"]


def test_default_hashing_is_argon2id_at_its_recommended_cost(database_url: str) -> None:
    store = UserStore(database_url)
    try:
        store.add("dee", "Dee", Role.BILLER, by="test", password=PASSWORD)
        assert store.authenticate("dee", PASSWORD).username == "dee"
    finally:
        store.close()
    (row,) = rows(database_url, UserRow)
    assert row.password_hash.startswith("$argon2id$v=19$m=65536,t=3,p=4$")


def test_bad_accounts_are_refused_with_what_to_do(store: UserStore) -> None:
    store.add("amy", "Amy", Role.BILLER, by="test")
    with pytest.raises(UserExistsError, match="exists already"):
        store.add("AMY", "Amy again", Role.BILLER, by="test")
    with pytest.raises(InvalidUserError, match="not usable"):
        store.add("amy lee", "Amy", Role.BILLER, by="test")
    with pytest.raises(InvalidUserError, match="display name"):
        store.add("bo", "   ", Role.BILLER, by="test")
    with pytest.raises(InvalidUserError, match="at least 12"):
        store.add("bo", "Bo", Role.BILLER, by="test", password="short")
    with pytest.raises(InvalidUserError, match="username"):
        store.add("bo", "Bo", Role.BILLER, by="test", password="bo-is-my-password")
    with pytest.raises(UnknownUserError, match="no user 'nobody'"):
        store.reset_password("nobody", by="test")


def test_wrong_passwords_unknown_names_and_disabled_users_are_refused_and_recorded(
    store: UserStore, database_url: str
) -> None:
    store.add("amy", "Amy", Role.BILLER, by="test", password=PASSWORD)
    store.add("root", "Root", Role.ADMIN, by="test", password=PASSWORD)
    with pytest.raises(WrongPasswordError, match="wrong username or password") as wrong:
        store.authenticate("amy", "not her password", source="10.0.0.7")
    with pytest.raises(WrongPasswordError) as unknown:
        store.authenticate("nobody", PASSWORD, source="10.0.0.7")
    assert str(wrong.value) == str(unknown.value)  # nothing tells whether the name exists

    store.disable("amy", by="test")
    with pytest.raises(WrongPasswordError):
        store.authenticate("amy", "still not it")
    with pytest.raises(UserDisabledError, match="'amy' is disabled"):
        store.authenticate("amy", PASSWORD)
    store.enable("amy", by="test")
    assert store.authenticate("amy", PASSWORD).username == "amy"

    attempts = [(row.username, row.source, row.outcome) for row in rows(database_url, LoginAttemptRow)]
    assert attempts == [
        ("amy", "10.0.0.7", "wrong_password"),
        ("nobody", "10.0.0.7", "wrong_password"),
        ("amy", "console", "wrong_password"),
        ("amy", "console", "disabled"),
        ("amy", "console", "ok"),
    ]
    with pytest.raises(InvalidUserError, match="last enabled admin"):
        store.disable("root", by="test")


def test_too_many_wrong_passwords_lock_the_user_until_the_window_passes(
    store: UserStore, clock: Clock
) -> None:
    store.add("amy", "Amy", Role.BILLER, by="test", password=PASSWORD)
    for minute in range(3):
        clock.advance(timedelta(minutes=1))
        with pytest.raises(WrongPasswordError):
            store.authenticate("amy", f"guess {minute}")
    with pytest.raises(RateLimitedError, match="too many wrong passwords for user 'amy'") as limited:
        store.authenticate("amy", PASSWORD)  # even the right one
    assert limited.value.retry_after == timedelta(minutes=13)
    clock.advance(timedelta(minutes=12))
    with pytest.raises(RateLimitedError):
        store.authenticate("amy", PASSWORD)
    clock.advance(timedelta(minutes=1, seconds=1))  # the first guess left the window
    assert store.authenticate("amy", PASSWORD).username == "amy"


def test_a_password_reset_lifts_the_lockout(store: UserStore, clock: Clock) -> None:
    store.add("amy", "Amy", Role.BILLER, by="test", password=PASSWORD)
    for guess in range(3):
        clock.advance(timedelta(seconds=1))
        with pytest.raises(WrongPasswordError):
            store.authenticate("amy", f"guess {guess}")
    with pytest.raises(RateLimitedError):
        store.authenticate("amy", PASSWORD)
    reset = store.reset_password("amy", by="test")
    assert reset.user.must_change_password
    assert store.authenticate("amy", reset.password).username == "amy"


def test_many_wrong_passwords_from_one_source_lock_that_source(store: UserStore) -> None:
    store.add("amy", "Amy", Role.BILLER, by="test", password=PASSWORD)
    for name in ("a1", "a2", "a3", "a4", "a5"):
        with pytest.raises(WrongPasswordError):
            store.authenticate(name, "guess", source="203.0.113.9")
    with pytest.raises(RateLimitedError, match=r"from 203\.0\.113\.9"):
        store.authenticate("amy", PASSWORD, source="203.0.113.9")
    assert store.authenticate("amy", PASSWORD, source="10.0.0.7").username == "amy"


def test_api_tokens_name_their_user_until_revoked(store: UserStore, database_url: str) -> None:
    store.add("amy", "Amy", Role.BILLER, by="test")
    laptop = store.issue_token("amy", by="test", label="laptop")
    script = store.issue_token("amy", by="test", label="nightly script")
    assert laptop.secret.startswith("cft_") and laptop.secret != script.secret
    assert laptop.secret not in repr(laptop)
    assert store.user_for_token(laptop.secret).username == "amy"
    assert store.user_for_token(f" {script.secret}\n").username == "amy"
    stored = rows(database_url, ApiTokenRow)
    assert all(laptop.secret not in (row.token_hash, row.prefix) for row in stored)
    assert [token.label for token in store.tokens("amy")] == ["laptop", "nightly script"]
    assert store.tokens("amy")[0].last_used_at is not None

    revoked = store.revoke_token(laptop.token.id, by="test")
    assert not revoked.active and store.revoke_token(laptop.token.id, by="test") == revoked
    with pytest.raises(TokenRefusedError, match="was revoked"):
        store.user_for_token(laptop.secret)
    assert store.user_for_token(script.secret).username == "amy"
    with pytest.raises(TokenRefusedError, match="not one claimflow issued"):
        store.user_for_token("cft_made-up")
    with pytest.raises(UnknownTokenError):
        store.revoke_token(999, by="test")
    store.disable("amy", by="test")
    with pytest.raises(TokenRefusedError, match="disabled"):
        store.user_for_token(script.secret)


def test_only_managers_administer_users_and_only_admins_administer_admins(store: UserStore) -> None:
    biller = store.add("amy", "Amy", Role.BILLER, by="test").user
    manager = store.add("mia", "Mia", Role.MANAGER, by="test").user
    admin = store.add("root", "Root", Role.ADMIN, by="test").user

    with pytest.raises(PermissionDenied, match=r"amy \(biller\) may not add a biller"):
        store.add("bo", "Bo", Role.BILLER, by=biller)
    with pytest.raises(PermissionDenied):
        store.issue_token("mia", by=biller)
    assert store.issue_token("amy", by=biller).token.username == "amy"  # their own

    assert store.add("bo", "Bo", Role.BILLER, by=manager).user.role is Role.BILLER
    assert store.reset_password("bo", by=manager).user.must_change_password
    with pytest.raises(PermissionDenied, match="may not add a admin"):
        store.add("root2", "Root 2", Role.ADMIN, by=manager)
    with pytest.raises(PermissionDenied):
        store.disable("root", by=manager)
    assert store.add("root2", "Root 2", Role.ADMIN, by=admin).user.role is Role.ADMIN
    assert store.disable("mia", by=admin).disabled
    disabled_manager = store.get("mia")
    with pytest.raises(PermissionDenied):
        store.add("cy", "Cy", Role.BILLER, by=disabled_manager)


def test_every_change_to_users_is_in_the_audit_trail_without_secrets(
    store: UserStore, database_url: str
) -> None:
    admin = store.add("root", "Root", Role.ADMIN, by="claimflow up").user
    created = store.add("amy", "Amy", Role.BILLER, by=admin)
    token = store.issue_token("amy", by=admin)
    store.revoke_token(token.token.id, by=admin)
    reset = store.reset_password("amy", by=admin)
    store.disable("amy", by=admin)
    store.record(admin, "task_resolved", {"task_id": "claim-E1:1", "action": "self_pay"}, "PCN1")

    ledger = Ledger(database_url)
    try:
        trail = [(entry.actor, entry.action) for entry in ledger.audit()]
        text = " ".join(str(entry.details) for entry in ledger.audit())
        assert ledger.audit("PCN1")[0].details == {"task_id": "claim-E1:1", "action": "self_pay"}
    finally:
        ledger.close()
    assert trail == [
        ("claimflow up", "user_added"),
        ("root", "user_added"),
        ("root", "token_issued"),
        ("root", "token_revoked"),
        ("root", "password_reset"),
        ("root", "user_disabled"),
        ("root", "task_resolved"),
    ]
    for secret in (created.password, token.secret, reset.password):
        assert secret not in text


def test_a_fresh_database_gets_one_admin(store: UserStore) -> None:
    first = store.ensure_admin(by="claimflow up")
    assert first is not None and first.user.username == "admin" and first.user.role is Role.ADMIN
    assert store.authenticate("admin", first.password).must_change_password
    assert store.ensure_admin(by="claimflow up") is None


def write_off_task() -> Task:
    now = datetime(2026, 12, 4, tzinfo=UTC)
    return Task(
        id="appeal-E1-1:2",
        kind=TaskKind.WRITE_OFF_APPROVAL,
        reason="appeals exhausted",
        created_at=now,
        due_at=now + timedelta(days=7),
    )


def user(role: Role) -> User:
    return User(
        username=f"{role.value}1",
        display_name=role.value,
        role=role,
        disabled=False,
        must_change_password=False,
        created_at=datetime(2026, 12, 4, tzinfo=UTC),
    )


def test_a_resolution_is_the_authenticated_users_and_a_biller_cannot_approve_a_write_off() -> None:
    typed = ApproveWriteOff(task_id="appeal-E1-1:2", actor="billing-manager", reason="appeals exhausted")
    with pytest.raises(PermissionDenied, match=r"biller1 \(biller\) may not resolve a task with 'approve_w"):
        resolution_by(user(Role.BILLER), typed)

    approved = resolution_by(user(Role.MANAGER), typed)
    assert approved.actor == "manager1" and approved.actor_role is Role.MANAGER
    # The appeal workflow's check takes the role the console vouched for...
    assert check_appeal_resolution([write_off_task()], approved, ["billing-manager"]).id == "appeal-E1-1:2"
    # ...and, without one, still only the configured managers.
    unvouched = approved.model_copy(update={"actor_role": None})
    with pytest.raises(InvalidResolution, match="manager1 is not a manager"):
        check_appeal_resolution([write_off_task()], unvouched, ["billing-manager"])
    biller_claimed = approved.model_copy(update={"actor_role": Role.BILLER})
    with pytest.raises(InvalidResolution):
        check_appeal_resolution([write_off_task()], biller_claimed, ["billing-manager"])

    ordinary = resolution_by(user(Role.BILLER), SelfPay(task_id="claim-E1:1", actor="whoever"))
    assert ordinary.actor == "biller1" and ordinary.actor_role is Role.BILLER
