"""The command line end to end: the embedded stack, the demo batch taken in with `claimflow intake`,
the work list read with `claimflow tasks --json`, one task of each kind the batch seeds resolved with
`claimflow task resolve`, patients paying with `claimflow claim pay`, and those claims closing.

Every step is a `claimflow` process, as a biller would run it. The sandbox runs the demo's payers
(answers in seconds, front-end rejections and partial payments kept) with one change: a well-argued
appeal is always overturned, so the appealed claim closes instead of depending on the seeded draw.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from claimflow.claims.encounter import Address, Encounter
from claimflow.claims.npi import make_npi
from claimflow.claims.roles import Role
from claimflow.console.demo_batch import DemoClaim, load_demo_batch
from claimflow.console.demo_cli import fast_payers
from claimflow.console.stack import Stack, StackConfig
from claimflow.integrations.fhir.export import bundle_from_encounter
from claimflow.integrations.ledger import Ledger
from claimflow.integrations.ledger.users import UserStore
from claimflow.integrations.sandbox.scenarios import PAYERS
from claimflow.integrations.settings import Settings
from tests.ports import free_ports

BATCH = 30
"""The first 30 claims of the shipped batch: every trouble that leaves a task for a person is in them."""
DRIVEN = (
    "inactive_coverage",
    "coding_hold",
    "missing_demographics",
    "bad_rendering_npi",
    "missing_laterality",
    "not_medically_necessary",
    "near_timely_filing",
)
"""The troubles whose first claim the biller works to the end, one task kind after another."""
SEEDED_KINDS = {
    "coverage_issue",
    "coding",
    "fix_demographics",
    "scrub_failure",
    "denial",
    "appeal_review",
    "timely_filing_risk",
}
TIMEOUT_SECONDS = 480
CLAIMFLOW = str(Path(sys.executable).with_name("claimflow"))


@dataclass
class Biller:
    """Works the claims it was given through the command line, and records what it did."""

    environment: dict[str, str]
    """the stack's settings; `tokens` says who acts (CLAIMFLOW_TOKEN)"""
    tokens: dict[str, str]
    folder: Path
    claims: dict[str, DemoClaim]
    resolved: dict[str, list[str]] = field(default_factory=dict)
    """task kind -> the task ids resolved"""
    payments: list[str] = field(default_factory=list)
    snapshots: dict[str, Any] = field(default_factory=dict)
    """claim id -> the last `claim show --json`"""

    def run(self, *args: str, user: str = "biller@clinic") -> subprocess.CompletedProcess[str]:
        acting = {**self.environment, "CLAIMFLOW_TOKEN": self.tokens[user]}
        return subprocess.run([CLAIMFLOW, *args], capture_output=True, text=True, env=acting, timeout=120)

    def json(self, *args: str) -> Any:
        result = self.run(*args, "--json")
        assert result.returncode == 0, f"claimflow {' '.join(args)}: {result.stderr}"
        return json.loads(result.stdout)

    def work_the_list(self) -> None:
        for row in self.json("tasks"):
            if row["claim_id"] in self.claims:
                self.resolve(row)

    def resolve(self, row: dict[str, Any]) -> None:
        task = row["task"]
        claim = self.claims[row["claim_id"]]
        decision = self.decision(task["kind"], claim, row)
        result = self.run("task", "resolve", task["id"], *decision)
        assert result.returncode == 0, f"{task['kind']} {task['id']}: {result.stderr}"
        assert f"resolved {task['id']} ({task['kind']})" in result.stdout
        self.resolved.setdefault(task["kind"], []).append(task["id"])

    def decision(self, kind: str, claim: DemoClaim, row: dict[str, Any]) -> list[str]:
        """What a biller decides for each kind of task, as command-line options."""
        encounter = claim.encounter
        match kind:
            case "coverage_issue":
                payer = next(p for p in PAYERS if p.payer_id == row["payer_id"])
                member = payer.member_prefix + "1" + "0" * (payer.member_digits - 1)  # active by rule
                return [
                    "--action", "new_coverage", "--coverage-payer-id", payer.payer_id,
                    "--coverage-payer-name", payer.name, "--member-id", member,
                ]  # fmt: skip
            case "coding":
                lines = self.folder / f"{encounter.encounter_id}-lines.json"
                line = {
                    "procedure_code": "99213",
                    "charge": "145.00",
                    "units": "1",
                    "diagnosis_pointers": [1],
                    "service_date": encounter.service_date.isoformat(),
                }
                lines.write_text(json.dumps([line]))
                return ["--action", "codes", "--diagnoses", "I10", "--lines", str(lines)]
            case "fix_demographics" | "scrub_failure" | "denial":
                return ["--action", "correct", "--encounter", str(self.write(corrected(claim)))]
            case "payer_rejection":  # front-end noise: the claim itself is fine
                return ["--action", "resubmit"]
            case "appeal_review":
                return ["--action", "approve"]
            case "timely_filing_risk":
                return ["--action", "acknowledge"]
            case "underpayment":  # Lakeside PPO allows office visits a little under its contract
                return ["--action", "accept", "--reason", "short by less than the cost of an appeal"]
        raise AssertionError(f"{row['claim_id']} ({claim.trouble}) asks for an unexpected {kind} task: {row}")

    def write(self, encounter: Encounter) -> Path:
        path = self.folder / f"{encounter.encounter_id}-corrected.json"
        path.write_text(json.dumps(bundle_from_encounter(encounter)))
        return path

    def settle(self) -> dict[str, str]:
        """Patients pay what they owe; the state of every claim."""
        states = {}
        for claim_id in self.claims:
            snapshot = self.snapshots[claim_id] = self.json("claim", "show", claim_id)
            due = Decimal(snapshot["patient_responsibility"]) - Decimal(snapshot["patient_paid"])
            if snapshot["state"] == "patient_billing" and due > 0:
                paid = self.run("claim", "pay", claim_id, "--amount", str(due), user="patient-portal")
                assert paid.returncode == 0, f"{claim_id}: {paid.stderr}"
                self.payments.append(claim_id)
            states[claim_id] = snapshot["state"]
        return states


def corrected(claim: DemoClaim) -> Encounter:
    """The encounter as a biller fixes it for its trouble."""
    encounter = claim.encounter
    match claim.trouble:
        case "missing_demographics":
            address = Address(line1="12 Harbor Road", city="Springfield", state="IL", postal_code="62704")
            patient = encounter.patient.model_copy(
                update={"birth_date": date(1979, 3, 14), "address": address}
            )
            return encounter.model_copy(update={"patient": patient})
        case "bad_rendering_npi":
            rendering = encounter.rendering_provider
            assert rendering is not None
            fixed = rendering.model_copy(update={"npi": make_npi(rendering.npi[:9])})
            return encounter.model_copy(update={"rendering_provider": fixed})
        case "missing_laterality":
            lines = [
                line.model_copy(update={"modifiers": [*line.modifiers, "RT"]})
                if line.procedure_code == "73560"
                else line
                for line in encounter.service_lines
            ]
            return encounter.model_copy(update={"service_lines": lines})
    raise AssertionError(f"the biller has no correction for {claim.trouble}")


def demo_payers_always_overturning() -> str:
    text, replaced = re.subn(r"appeal_overturn_share = [0-9.]+", "appeal_overturn_share = 1.0", fast_payers())
    assert replaced, "the payers file no longer sets appeal_overturn_share"
    return text


@pytest.mark.slow
def test_a_biller_works_the_demo_batch_from_the_command_line(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    payers = home / "payers.toml"
    payers.write_text(demo_payers_always_overturning())
    temporal, ui, sandbox, metrics, codec, console = free_ports(6)
    config = StackConfig(
        home=home,
        temporal_port=temporal,
        ui_port=ui,
        sandbox_port=sandbox,
        sandbox_config=payers,
        worker_metrics_port=metrics,
        codec_port=codec,
        console_port=console,
    )
    batch = load_demo_batch(datetime.now(UTC).date(), BATCH)
    bundles = tmp_path / "bundles"
    bundles.mkdir()
    files = []
    for claim in batch:
        path = bundles / f"{claim.encounter.encounter_id}.json"
        path.write_text(json.dumps(bundle_from_encounter(claim.encounter)))
        files.append(str(path))
    driven = {
        f"claim-{claim.encounter.encounter_id}": claim
        for trouble in DRIVEN
        for claim in [next(c for c in batch if c.trouble == trouble)]
    }

    environment = config.environment(os.environ)
    users = UserStore(Settings.from_env(environment).ledger_url)
    try:  # the people who act: what they do is recorded as them
        tokens = {}
        for username in ("biller@clinic", "patient-portal"):
            users.add(username, username, Role.BILLER, by="tests")
            tokens[username] = users.issue_token(username, by="tests").secret
    finally:
        users.close()

    with Stack(config) as stack:
        biller = Biller(environment, tokens, tmp_path, driven)
        intake = biller.json("intake", *files)
        assert sum(row["started"] for row in intake) == BATCH

        deadline = time.monotonic() + TIMEOUT_SECONDS
        states: dict[str, str] = {}
        while True:
            assert stack.exited_child() is None, stack.exited_child()
            biller.work_the_list()
            states = biller.settle()
            if set(states.values()) == {"closed"} and set(biller.resolved) >= SEEDED_KINDS:
                break
            if time.monotonic() > deadline:
                left = {claim_id: state for claim_id, state in states.items() if state != "closed"}
                timelines = {
                    claim_id: biller.json("claim", "show", claim_id)["timeline"][-4:] for claim_id in left
                }
                raise AssertionError(
                    f"not closed after {TIMEOUT_SECONDS} s: {left}\nresolved: {biller.resolved}\n"
                    f"timelines: {json.dumps(timelines, indent=1)}"
                )
            time.sleep(2)
        others = biller.json("tasks")
        ledger = Ledger(stack.settings().ledger_url, migrate_schema=False)
        books = {claim_id: ledger.balance(claim_id.removeprefix("claim-")) for claim_id in driven}
        ledger.close()

    assert set(biller.resolved) >= SEEDED_KINDS, biller.resolved
    closed = dict.fromkeys(DRIVEN, "closed")
    assert {claim.trouble: states[claim_id] for claim_id, claim in driven.items()} == closed
    assert all(task.startswith("appeal-") for task in biller.resolved["appeal_review"])
    assert biller.payments, "no patient paid a statement from the command line"
    # The books hold every cent the claims say was paid, and nothing is left to collect.
    for claim_id, balance in books.items():
        snapshot = biller.snapshots[claim_id]
        assert (balance.paid, balance.patient_paid, balance.outstanding) == (
            Decimal(snapshot["paid"]),
            Decimal(snapshot["patient_paid"]),
            0,
        ), f"{claim_id}: ledger {balance} against the claim {snapshot}"
    print(f"resolved from the command line: {biller.resolved}; patients paid on {biller.payments}")
    # The claims nobody worked keep their tasks: the biller's work touched only its own claims.
    assert {row["claim_id"] for row in others} and not {row["claim_id"] for row in others} & set(driven)
