"""Every refusal names its fix: each message the command line prints with exit code 1 (a business
"no") or 2 (usage) says what to do next.

Two halves. The source: every `fail(..., ExitCode.NO | ExitCode.USAGE)` and every `error:` written to
stderr in claimflow.console is found by walking the code; its own text must say what to do, or it
passes an exception's message on and is listed in PASSED_ON with the scenarios that show those
messages do. The behaviour: each scenario runs the command the way a person would and checks the
exit code, the message, and that it says what to do.
"""

from __future__ import annotations

import ast
import re
import socket
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from typer.testing import CliRunner

from claimflow.console.main import app
from tests.console.conftest import ConsoleUsers, RunCli
from tests.console.test_commands import inactive, until_listed, write
from tests.workflows.conftest import TEST_KEYS

CONSOLE = Path(__file__).resolve().parents[2] / "src" / "claimflow" / "console"
NEXT_STEP = re.compile(
    r"\b(use|set|give|fix|start|choose|stop|run|leave (it |them )?out|see|add|check|try|write|correct|"
    r"remove|install|pick|record it|is it running|what to do|nothing left to do)\b|README|`claimflow \w+",
    re.IGNORECASE,
)
PASSED_ON = {
    # (file, function): the scenarios below whose messages come through that call
    ("session.py", "with_claims"): {
        "settings",
        "keys",
        "temporal-profile",
        "no-claim",
        "no-task",
        "not-a-task",
    },
    ("identity.py", "settings"): {"settings"},
    ("codec_cli.py", "serve"): {"keys"},  # the same KeyConfigError messages
    ("up_cli.py", "run_on_stack"): {"port-in-use"},
    ("users_cli.py", "_changing"): {"user-exists", "no-user"},
}


# ----------------------------------------------------------------------------------------- the source
@dataclass
class Refusal:
    where: str
    function: str
    text: str = field(repr=False)


class _Refusals(ast.NodeVisitor):
    def __init__(self, path: Path, tree: ast.Module) -> None:
        self.path, self.functions, self.found = path, ["<module>"], list[Refusal]()
        self.constants = {  # module-level NAME = "text", as a message may use
            target.id: node.value.value
            for node in tree.body
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
            for target in node.targets
            if isinstance(target, ast.Name)
        }  # fmt: skip

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self.functions.append(node.name)
        self.generic_visit(node)
        self.functions.pop()

    def visit_Call(self, node: ast.Call) -> None:
        name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
        refusing = (
            name == "fail" and len(node.args) >= 2 and re.search(r"\b(NO|USAGE)\b", ast.unparse(node.args[1]))
        )
        to_stderr = name == "echo" and node.args and any(k.arg == "err" for k in node.keywords)
        if refusing or to_stderr:
            message = node.args[0]
            text = " ".join(
                part.value if isinstance(part, ast.Constant) else self.constants[part.id]
                for part in ast.walk(message)
                if (isinstance(part, ast.Constant) and isinstance(part.value, str))
                or (isinstance(part, ast.Name) and part.id in self.constants)
            )
            self.found.append(Refusal(f"{self.path.name}:{node.lineno}", self.functions[-1], text))
        self.generic_visit(node)


def refusals() -> list[Refusal]:
    found = []
    for path in sorted(CONSOLE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        visitor = _Refusals(path, tree)
        visitor.visit(tree)
        found += visitor.found
    return found


def test_every_refusal_in_the_source_says_what_to_do_or_passes_on_a_message_that_does() -> None:
    found = refusals()
    assert len(found) > 30  # the walk finds them (fail and stderr writes all over the console)
    silent = [
        refusal
        for refusal in found
        if not NEXT_STEP.search(refusal.text)
        and (refusal.where.split(":")[0], refusal.function) not in PASSED_ON
    ]
    assert not silent, f"these refusals do not say what to do next: {silent}"
    scenarios = {scenario.id for scenario in SCENARIOS} | DEV_SERVER_SCENARIOS
    for call, shown_by in PASSED_ON.items():
        assert shown_by <= scenarios, f"{call}: no scenario {sorted(shown_by - scenarios)}"


# -------------------------------------------------------------------------------------- the behaviour
@dataclass(frozen=True)
class Scenario:
    id: str
    args: tuple[str, ...]
    code: int
    says: str
    env: tuple[tuple[str, str], ...] = ()
    as_user: str | None = None


def _busy_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


SCENARIOS = (
    Scenario("settings", ("stuck",), 2, "CLAIMFLOW_METRICS_PORT", (("CLAIMFLOW_METRICS_PORT", "many"),)),
    Scenario("keys", ("stuck",), 2, "not valid base64", (("CLAIMFLOW_KEYS", "k1:not base64!"),)),
    Scenario("temporal-profile", ("stuck",), 2, "profile staging", (("TEMPORAL_PROFILE", "staging"),)),
    Scenario("intake-unreadable", ("intake", "{tmp}/missing.json"), 2, "nothing was started"),
    Scenario(
        "coverage-incomplete",
        ("task", "resolve", "claim-E1:1", "--action", "new_coverage", "--coverage-payer-id", "SMPBCX"),
        2,
        "missing --coverage-payer-name",
    ),
    Scenario(
        "argument-misplaced",
        ("task", "resolve", "claim-E1:1", "--action", "correct", "--argument", "x"),
        2,
        "--argument goes with --action edit",
        as_user="amy@billing",
    ),
    Scenario(
        "action-needs",
        ("task", "resolve", "claim-E1:1", "--action", "override"),
        2,
        "--action override needs",
        as_user="amy@billing",
    ),
    Scenario(
        "lines-unreadable",
        (
            "task",
            "resolve",
            "claim-E1:1",
            "--action",
            "codes",
            "--diagnoses",
            "E119",
            "--lines",
            "{tmp}/no.json",
        ),
        2,
        "cannot read the file",
        as_user="amy@billing",
    ),
    Scenario(
        "lines-not-json",
        (
            "task",
            "resolve",
            "claim-E1:1",
            "--action",
            "codes",
            "--diagnoses",
            "E119",
            "--lines",
            "{tmp}/bad.json",
        ),
        2,
        "not JSON",
        as_user="amy@billing",
    ),
    Scenario(
        "encounter-unreadable",
        ("task", "resolve", "claim-E1:1", "--action", "correct", "--encounter", "{tmp}/bad.json"),
        2,
        "--encounter",
        as_user="amy@billing",
    ),
    Scenario("payment-invalid", ("claim", "pay", "E1", "--amount", "ten"), 2, "amount", as_user="desk"),
    Scenario("sort-unknown", ("tasks", "--sort", "size"), 2, "'size' is not one of"),
    Scenario("payers-unusable", ("up", "--home", "{tmp}/home", "--payers", "{tmp}/bad.toml"), 2, "--payers"),
    Scenario("port-in-use", ("up", "--home", "{tmp}/home", "--port", "{busy}"), 2, "already in use"),
    Scenario("scrub-not-json", ("scrub", "{tmp}/bad.json"), 2, "nothing was scrubbed"),
    Scenario("sandbox-config", ("sandbox", "--config", "{tmp}/bad.toml"), 2, "bad.toml"),
    Scenario("codesets-none", ("codesets", "info", "--index", "{tmp}"), 2, "no code-set index"),
    Scenario("user-exists", ("users", "add", "amy@billing", "--name", "Amy"), 1, "exists already"),
    Scenario("no-user", ("users", "disable", "nobody@billing"), 1, "no user 'nobody@billing'"),
)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[scenario.id for scenario in SCENARIOS])
def test_each_refusal_says_what_to_do(
    scenario: Scenario, tmp_path: Path, console_users: ConsoleUsers, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "bad.json").write_text("{ not json")
    (tmp_path / "bad.toml").write_text("[[payers]]\nid = 3\n")
    (tmp_path / "temporal.toml").write_text('[profile.default]\naddress = "127.0.0.1:1"\n')
    monkeypatch.chdir(tmp_path)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        fill = {"tmp": str(tmp_path), "busy": str(busy.getsockname()[1])}
        env = {
            "TEMPORAL_ADDRESS": "127.0.0.1:1",  # nothing here needs Temporal: each is refused first
            "TEMPORAL_CONFIG_FILE": str(tmp_path / "temporal.toml"),
            "CLAIMFLOW_KEYS": TEST_KEYS.encoded(),
            "CLAIMFLOW_HOME": str(tmp_path / "home"),
            "DATABASE_URL": console_users.database_url,
            "NO_COLOR": "1",
            **({"CLAIMFLOW_TOKEN": console_users.token[scenario.as_user]} if scenario.as_user else {}),
            **dict(scenario.env),
        }
        args = [arg.format(**fill) for arg in scenario.args]
        result = CliRunner().invoke(app, args, env=env)
    message = " ".join((result.stderr or result.output).split())
    assert result.exit_code == scenario.code, f"{args}: {result.output}"
    assert scenario.says in message, message
    assert NEXT_STEP.search(message), f"{args} does not say what to do next: {message}"


DEV_SERVER_SCENARIOS = {"no-claim", "no-task", "not-a-task", "resolved-twice", "payment-not-due"}


@pytest.mark.asyncio(loop_scope="session")
async def test_business_refusals_say_what_to_do(cli: RunCli, tmp_path: Path) -> None:
    async def refused(*args: str, code: int = 1, user: str = "amy@billing") -> str:
        result = await cli(*args, user=user)
        message = " ".join(result.stderr.split())
        assert result.exit_code == code, result.output
        assert NEXT_STEP.search(message), f"{args} does not say what to do next: {message}"
        return message

    assert "no claim 'NO-SUCH'" in await refused("claim", "show", "NO-SUCH")  # no-claim
    assert "check the id" in await refused("task", "show", "claim-NO-SUCH:1")  # no-task
    assert "is not a task id" in await refused("task", "show", "bogus")  # not-a-task

    enc = inactive(9201)
    assert (await cli("intake", str(write(tmp_path, enc)))).exit_code == 0
    claim_id = f"claim-{enc.encounter_id}"
    await until_listed(cli, {claim_id})
    # waiting on its coverage task, the claim bills nobody yet: a patient payment is refused
    message = await refused("claim", "pay", claim_id, "--amount", "5.00", user="desk")  # payment-not-due
    assert "not waiting for a patient payment" in message
    task_id = f"{claim_id}:1"
    assert (await cli("task", "resolve", task_id, "--action", "self_pay")).exit_code == 0
    assert "already resolved" in await refused("task", "resolve", task_id, "--action", "self_pay")  # twice
