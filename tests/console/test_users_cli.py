"""`claimflow users ...` on a real ledger database: add, list, disable, enable, reset-password, token,
tokens, revoke-token; as the database's operator (no CLAIMFLOW_TOKEN) and as a user, whose role decides
what they may change. Bad input says what was wrong and exits non-zero, changing nothing."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from typer.testing import CliRunner

from claimflow.console.main import app
from claimflow.integrations.ledger import Ledger
from claimflow.integrations.ledger.users import UserStore

PASSWORD = re.compile(r"one-time password: (\S+)")
TOKEN = re.compile(r"export CLAIMFLOW_TOKEN=(\S+)")


class Users:
    def __init__(self, tmp_path: Path) -> None:
        self.database_url = f"sqlite:///{tmp_path / 'ledger.db'}"
        self.runner = CliRunner()

    def run(self, *args: str, token: str | None = None, input: str | None = None) -> Result:
        env = {"DATABASE_URL": self.database_url, "CLAIMFLOW_TOKEN": token or ""}
        return self.runner.invoke(app, ["users", *args], env=env, input=input, catch_exceptions=False)

    def json(self, *args: str, token: str | None = None) -> Any:
        result = self.run(*args, "--json", token=token)
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    def audit(self) -> list[tuple[str, str, dict[str, Any]]]:
        ledger = Ledger(self.database_url)
        try:
            return [(entry.actor, entry.action, entry.details) for entry in ledger.audit()]
        finally:
            ledger.close()


@pytest.fixture
def users(tmp_path: Path) -> Users:
    return Users(tmp_path)


def test_the_operator_adds_lists_disables_and_resets(users: Users) -> None:
    added = users.run("add", "Amy@Clinic.example", "--name", "Amy  Lee")
    assert added.exit_code == 0, added.output
    assert "amy@clinic.example (biller) added." in added.stdout
    password = PASSWORD.search(added.stdout)
    assert password and len(password.group(1)) >= 12
    manager = users.json("add", "mia", "--name", "Mia Park", "--role", "manager", "--token")
    assert manager["role"] == "manager" and manager["must_change_password"] is True
    assert manager["one_time_password"] and manager["token"].startswith("cft_")

    listed = users.json("list")
    assert [(u["username"], u["display_name"], u["role"], u["active_tokens"]) for u in listed] == [
        ("amy@clinic.example", "Amy Lee", "biller", 0),
        ("mia", "Mia Park", "manager", 1),
    ]
    table = users.run("list")
    assert table.exit_code == 0 and "2 user(s)" in table.stdout and "must change password" in table.stdout

    assert users.run("disable", "amy@clinic.example").stdout.strip() == "amy@clinic.example is disabled"
    assert users.json("list")[0]["disabled"] is True
    assert users.run("enable", "amy@clinic.example").exit_code == 0
    reset = users.json("reset-password", "amy@clinic.example")
    assert reset["one_time_password"] != password.group(1)

    operator = next(actor for actor, action, _ in users.audit() if action == "user_added")
    assert operator.startswith("operator:")
    assert [action for _, action, _ in users.audit()] == [
        "user_added",
        "user_added",
        "token_issued",
        "user_disabled",
        "user_enabled",
        "password_reset",
    ]
    # No secret reaches the audit trail.
    assert password.group(1) not in json.dumps(users.audit()) and manager["token"] not in json.dumps(
        users.audit()
    )


def test_a_person_gets_their_own_token_with_their_password(users: Users) -> None:
    added = users.json("add", "bo", "--name", "Bo")
    wrong = users.run("token", "bo", input="not the password\n")
    assert wrong.exit_code == 4 and "wrong username or password" in wrong.stderr
    chosen = "a long enough secret"
    issued = users.run(
        "token", "bo", "--label", "laptop", input=f"{added['one_time_password']}\n{chosen}\n{chosen}\n"
    )
    assert issued.exit_code == 0, issued.output
    assert "That was a one-time password: choose your own." in issued.stdout
    token = TOKEN.search(issued.stdout)
    assert token is not None
    store = UserStore(users.database_url)
    try:
        assert store.user_for_token(token.group(1)).username == "bo"
        assert not store.get("bo").must_change_password
    finally:
        store.close()
    again = users.run("token", "bo", input=f"{chosen}\n")
    assert again.exit_code == 0 and TOKEN.search(again.stdout)

    listed = users.json("tokens", "bo")
    assert [(t["label"], t["revoked_at"]) for t in listed] == [("laptop", None), ("cli", None)]
    assert all(token.group(1) not in json.dumps(t) for t in listed)  # only the prefix is shown
    revoked = users.run("revoke-token", str(listed[0]["id"]))
    assert (
        revoked.exit_code == 0
        and f"token {listed[0]['id']}" in revoked.stdout
        and "is revoked" in revoked.stdout
    )
    refused = users.run("list", token=token.group(1))
    assert refused.exit_code == 4 and "was revoked on" in refused.stderr


def test_roles_decide_who_administers_whom(users: Users) -> None:
    biller = users.json("add", "cody", "--name", "Cody", "--token")["token"]
    manager = users.json("add", "mia", "--name", "Mia", "--role", "manager", "--token")["token"]
    users.json("add", "root", "--name", "Root", "--role", "admin")

    by_biller = users.run("add", "eve", "--name", "Eve", token=biller)
    assert by_biller.exit_code == 4
    assert (
        "cody (biller) may not administer users: that needs the manage_users permission" in by_biller.stderr
    )
    assert users.run("list", token=biller).exit_code == 4
    assert users.run("reset-password", "mia", token=biller).exit_code == 4
    assert users.run("token", "mia", token=biller).exit_code == 4  # not someone else's token

    assert users.run("add", "sam", "--name", "Sam", token=manager).exit_code == 0
    assert users.run("disable", "cody", token=manager).exit_code == 0
    assert "cody" in [u["username"] for u in users.json("list", token=manager) if u["disabled"]]
    on_admin = users.run("reset-password", "root", token=manager)
    assert (
        on_admin.exit_code == 4 and "mia (manager) may not reset the password of a admin" in on_admin.stderr
    )
    admin_added = users.run("add", "boss", "--name", "Boss", "--role", "admin", token=manager)
    assert admin_added.exit_code == 4
    assert ("mia", "user_added", {"username": "sam", "role": "biller"}) in users.audit()
    assert "eve" not in [u["username"] for u in users.json("list")]  # the refusals changed nothing
    # The disabled biller's own token no longer works.
    disabled = users.run("token", "cody", token=biller)
    assert disabled.exit_code == 4 and "disabled" in disabled.stderr


def test_bad_input_is_named_and_changes_nothing(users: Users) -> None:
    users.json("add", "amy", "--name", "Amy")
    twice = users.run("add", "amy", "--name", "Other Amy")
    assert twice.exit_code == 1 and "user 'amy' exists already" in twice.stderr
    bad_name = users.run("add", "Amy Lee!", "--name", "Amy")
    assert bad_name.exit_code == 2 and "username 'Amy Lee!' is not usable" in bad_name.stderr
    blank = users.run("add", "lee", "--name", "   ")
    assert blank.exit_code == 2 and "display name must be 1 to 120 characters" in blank.stderr
    bad_role = users.run("add", "lee", "--name", "Lee", "--role", "owner")
    assert bad_role.exit_code == 2 and "owner" in bad_role.output
    missing = users.run("disable", "nobody")
    assert missing.exit_code == 1 and "no user 'nobody'" in missing.stderr
    assert users.run("reset-password", "nobody").exit_code == 1
    no_token = users.run("revoke-token", "999")
    assert no_token.exit_code == 1 and "no API token 999" in no_token.stderr
    forged = users.run("list", token="cft_forged")
    assert (
        forged.exit_code == 4
        and "CLAIMFLOW_TOKEN: the API token is not one claimflow issued" in forged.stderr
    )
    users.json("add", "root", "--name", "Root", "--role", "admin")
    last_admin = users.run("disable", "root")
    assert last_admin.exit_code == 2 and "root is the last enabled admin" in last_admin.stderr
    assert [u["username"] for u in users.json("list")] == ["amy", "root"]


def test_an_unreachable_ledger_exits_3(tmp_path: Path) -> None:
    runner = CliRunner()
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'no-such-folder' / 'ledger.db'}", "CLAIMFLOW_TOKEN": ""}
    result = runner.invoke(app, ["users", "list"], env=env, catch_exceptions=False)
    assert result.exit_code == 3 and "cannot open the ledger database" in result.stderr
