"""The one retry rule, per activity module: each real activity runs in a worker with the rule
(`OneRetryRule`) under the workflows' IO_RETRY policy, its dependency failing on a script. Two
transient failures are retried (the third attempt happens); then a business failure arrives
non-retryable, typed by its class, and nothing retries it (the attempts stop at three of twelve)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy.exc
from pydantic import BaseModel
from temporalio import workflow
from temporalio.client import Client
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from claimflow.activities import appeals, catalog, escalation, statements
from claimflow.activities.appeal_requests import AppealSendRequest
from claimflow.activities.appeals import AppealActivities
from claimflow.activities.eligibility import EligibilityActivities
from claimflow.activities.escalation import EscalationActivities
from claimflow.activities.failures import OneRetryRule
from claimflow.activities.inbox import InboxActivities
from claimflow.activities.payers import PayerActivities
from claimflow.activities.posting import PostingActivities
from claimflow.activities.requests import (
    EligibilityRequest,
    PostingRequest,
    ScrubRequest,
    StatementRequest,
    StatusRequest,
    TimelyFilingLetterRequest,
)
from claimflow.activities.scrubbing import ScrubActivities
from claimflow.activities.statements import StatementActivities
from claimflow.activities.submission import SubmissionActivities
from claimflow.activities.underpayment_requests import UnderpaymentRequest
from claimflow.activities.underpayments import UnderpaymentActivities
from claimflow.claims.appeals import AppealLetterRef, TimelyFilingProof
from claimflow.claims.claim import Claim
from claimflow.claims.codesets import default_codesets
from claimflow.claims.payers import PayerProfile, default_directory
from claimflow.integrations.clearinghouse import PermanentClearinghouseError, TransientClearinghouseError
from claimflow.integrations.envelopes import EnvelopeFactory
from claimflow.integrations.ledger import UnknownClaimError
from claimflow.letters.render import LetterRenderError
from claimflow.workflows.common import IO_RETRY
from tests.factories import ClaimFactory
from tests.workflows.scripted import remittance

QUEUE = "retry-rule-tests"
TRANSIENT_TIMES = 2


class Outcome(BaseModel):
    failure_type: str | None = None
    non_retryable: bool | None = None
    message: str = ""


@workflow.defn(name="RetryRuleProbe")
class RetryRuleProbe:
    """Runs one activity under the policy every claimflow workflow uses, and reports how it ended."""

    @workflow.run
    async def run(self, name: str, argument: Any) -> Outcome:
        try:
            await workflow.execute_activity(
                name,
                args=[] if argument is None else [argument],
                start_to_close_timeout=timedelta(seconds=30),
                retry_policy=IO_RETRY,
            )
        except ActivityError as failed:
            cause = failed.cause
            if isinstance(cause, ApplicationError):
                return Outcome(
                    failure_type=cause.type, non_retryable=cause.non_retryable, message=cause.message
                )
            return Outcome(failure_type=type(cause).__name__, message=str(cause))
        return Outcome()


@dataclass
class Script:
    """The dependency's answers, one a call: `TRANSIENT_TIMES` transient failures, then `last`
    (raised if an exception, else returned)."""

    transient: Callable[[], Exception]
    last: object
    calls: int = 0

    def next(self) -> Any:
        self.calls += 1
        if self.calls <= TRANSIENT_TIMES:
            raise self.transient()
        if isinstance(self.last, Exception):
            raise self.last
        return self.last


def clearinghouse_down() -> Exception:
    return TransientClearinghouseError("clearinghouse answered 503", operation="test")


def database_locked() -> Exception:
    return sqlalchemy.exc.OperationalError("INSERT ...", {}, Exception("database is locked"))


REFUSED = PermanentClearinghouseError("refused (400): not an X12 interchange", operation="test", status=400)


@dataclass
class FakeTransport:
    """A clearinghouse whose every call follows the script."""

    script: Script
    mailbox: str = "test-mailbox"

    async def check_eligibility(self, x12_270: str) -> str:
        return str(self.script.next())

    async def claim_status(self, x12_276: str) -> str:
        return str(self.script.next())

    async def list_inbox(self) -> list[Any]:
        return list(self.script.next())

    async def send_appeal(self, letter: str, **fields: Any) -> Any:
        return self.script.next()


@dataclass
class FakeDirectory:
    script: Script

    def profile_for(self, payer_id: str, filing_indicator: str | None = None) -> PayerProfile:
        self.script.next()
        return default_directory().profile_for(payer_id, filing_indicator)

    def contract(self, payer_id: str) -> Any:
        self.script.next()
        return None


@dataclass
class FakeLedger:
    script: Script
    postings: list[Any] = field(default_factory=list)

    def post_remittance(self, *args: Any) -> Any:
        return self.script.next()


def claim() -> Claim:
    return ClaimFactory(7, service_from=date(2026, 11, 2)).claim()


def invalid_profile() -> Exception:
    try:
        PayerProfile.model_validate({"payer_id": ""})
    except Exception as error:
        return error
    raise AssertionError("an empty payer profile validates")


@dataclass
class Case:
    """One activity module: the activity (its dependency on `script`), its argument, and the type
    its business failure must arrive as."""

    build: Callable[[Script, Path, pytest.MonkeyPatch], Callable[..., Any]]
    name: str
    argument: Callable[[Path], object]
    transient: Callable[[], Exception]
    last: Callable[[], object]
    permanent_type: str


def _renderer(script: Script) -> Callable[..., Any]:
    async def render(*args: object) -> Any:
        return script.next()

    return render


def _letter(tmp_path: Path) -> AppealLetterRef:
    html = tmp_path / "appeal.html"
    html.write_text("<p>appeal</p>", encoding="utf-8")
    return AppealLetterRef(level=1, revision=1, pdf_path=str(html.with_suffix(".pdf")), html_path=str(html))


CASES = {
    "eligibility": Case(
        lambda s, _, __: EligibilityActivities(FakeTransport(s), EnvelopeFactory()).check_eligibility,
        catalog.CHECK_ELIGIBILITY.name,
        lambda _: EligibilityRequest(encounter=claim().encounter, trace_number="T1"),
        clearinghouse_down,
        lambda: "this is no 271",  # unreadable: an X12Error subclass, which the old list missed
        "X12SyntaxError",
    ),
    "submission": Case(
        lambda s, _, __: SubmissionActivities(FakeTransport(s), None, EnvelopeFactory()).inquire_claim_status,
        catalog.INQUIRE_CLAIM_STATUS.name,
        lambda _: StatusRequest(claim=claim(), trace_number="T2"),
        clearinghouse_down,
        lambda: "ISA*garbage",
        "X12SyntaxError",
    ),
    "posting": Case(
        lambda s, _, __: PostingActivities(FakeLedger(s)).post_payment,
        catalog.POST_PAYMENT.name,
        lambda _: PostingRequest(
            claim_id="claim-E7",
            payment=remittance(claim().encounter).payment,
            trace_number="TRN1",
            payer_id="SMPBCX",
            payment_date=date(2026, 12, 1),
        ),
        database_locked,
        lambda: UnknownClaimError("E7", "post a remittance"),
        "UnknownClaimError",
    ),
    "payers": Case(
        lambda s, _, __: PayerActivities(FakeDirectory(s)).payer_profile,
        catalog.PAYER_PROFILE.name,
        lambda _: claim().encounter.coverage,
        lambda: OSError("payers.toml could not be read"),
        invalid_profile,
        "ValidationError",
    ),
    "scrubbing": Case(
        lambda s, _, __: ScrubActivities(default_codesets(), FakeDirectory(s)).scrub_claim,
        catalog.SCRUB_CLAIM.name,
        lambda _: ScrubRequest(claim=claim(), as_of=date(2026, 11, 20)),
        lambda: OSError("code set file could not be read"),
        invalid_profile,
        "ValidationError",
    ),
    "statements": Case(
        lambda s, tmp, patch: (
            patch.setattr(statements, "render_off_loop", _renderer(s)),
            StatementActivities(tmp).write_statement,
        )[1],
        catalog.WRITE_STATEMENT.name,
        lambda _: StatementRequest(
            claim=claim(),
            notice="first",
            billed=claim().encounter.total_charge,
            insurance_paid=claim().encounter.total_charge - 10,
            adjusted=claim().encounter.total_charge * 0,
            amount_due=claim().encounter.total_charge * 0 + 10,
            statement_date=date(2026, 12, 1),
            due_date=date(2026, 12, 31),
        ),
        lambda: OSError("no space left on device"),
        lambda: LetterRenderError("statement template prints a value the data lacks: due_date"),
        "LetterRenderError",
    ),
    "escalation": Case(
        lambda s, tmp, patch: (
            patch.setattr(escalation, "render_off_loop", _renderer(s)),
            EscalationActivities(tmp).write_timely_filing_letter,
        )[1],
        catalog.WRITE_TIMELY_FILING_LETTER.name,
        lambda _: TimelyFilingLetterRequest(
            claim=claim(),
            payer=default_directory().profile_for("SMPBCX", None),
            proof=TimelyFilingProof(submitted_at=datetime(2026, 11, 5, tzinfo=UTC)),
            deadline=date(2027, 1, 31),
            letter_date=date(2027, 1, 1),
        ),
        lambda: OSError("no space left on device"),
        lambda: LetterRenderError("letter template prints a value the data lacks: payer_address"),
        "LetterRenderError",
    ),
    "appeals": Case(
        lambda s, tmp, _: AppealActivities(FakeTransport(s), tmp).send_appeal,
        catalog.SEND_APPEAL.name,
        lambda tmp: AppealSendRequest(
            appeal_id="appeal-E7-1",
            letter=_letter(tmp),
            attempt=1,
            payer_claim_number="PCN-1",
            patient_control_number="E7",
        ),
        clearinghouse_down,
        lambda: REFUSED,
        "PermanentClearinghouseError",
    ),
    "underpayments": Case(
        lambda s, tmp, _: UnderpaymentActivities(FakeDirectory(s), tmp).find_underpayments,
        catalog.FIND_UNDERPAYMENTS.name,
        lambda _: UnderpaymentRequest(
            claim=claim(), payment=remittance(claim().encounter).payment, payer_id="SMPBCX"
        ),
        lambda: OSError("fee schedule could not be read"),
        invalid_profile,
        "ValidationError",
    ),
    "inbox": Case(
        lambda s, tmp, _: (
            InboxActivities(
                FakeTransport(s),
                None,
                None,
                QUEUE,
                registry=None,
                kept_dir=tmp,
            ).list_inbox
        ),
        catalog.LIST_INBOX.name,
        lambda _: None,
        clearinghouse_down,
        lambda: REFUSED,
        "PermanentClearinghouseError",
    ),
}


@pytest.fixture
def patch() -> Iterator[pytest.MonkeyPatch]:
    with pytest.MonkeyPatch.context() as monkeypatch:
        yield monkeypatch


async def probe(client: Client, activity: Callable[..., Any], name: str, argument: object) -> Outcome:
    async with Worker(
        client,
        task_queue=QUEUE,
        workflows=[RetryRuleProbe],
        activities=[activity],
        interceptors=[OneRetryRule()],
        workflow_runner=UnsandboxedWorkflowRunner(),
    ):
        args: list[object] = [name, argument]
        return await client.execute_workflow(
            RetryRuleProbe.run, args=args, id=f"retry-rule-{uuid.uuid4().hex[:8]}", task_queue=QUEUE
        )


def test_the_policy_lists_no_error_class_names() -> None:
    assert isinstance(IO_RETRY, RetryPolicy) and not IO_RETRY.non_retryable_error_types
    assert (IO_RETRY.maximum_attempts or 0) > TRANSIENT_TIMES + 1


@pytest.mark.parametrize("module", sorted(CASES))
async def test_transient_failures_retried_then_a_business_failure_is_final(
    module: str, time_skipping_env: WorkflowEnvironment, tmp_path: Path, patch: pytest.MonkeyPatch
) -> None:
    case = CASES[module]
    script = Script(case.transient, case.last())
    activity = case.build(script, tmp_path, patch)
    outcome = await probe(time_skipping_env.client, activity, case.name, case.argument(tmp_path))
    assert script.calls == TRANSIENT_TIMES + 1, f"{module}: {script.calls} attempts"
    assert outcome.failure_type == case.permanent_type, outcome
    assert outcome.non_retryable is True, outcome


async def test_a_transient_failure_alone_is_retried_until_it_passes(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    script = Script(lambda: OSError("payers.toml could not be read"), None)
    payers = PayerActivities(FakeDirectory(script))
    coverage = claim().encounter.coverage
    outcome = await probe(
        time_skipping_env.client, payers.payer_profile, catalog.PAYER_PROFILE.name, coverage
    )
    assert outcome == Outcome() and script.calls == TRANSIENT_TIMES + 1


assert set(CASES) == {
    path.stem
    for path in Path(appeals.__file__).parent.glob("*.py")
    if path.stem not in {"__init__", "catalog", "rendering", "failures"}
    and not path.stem.endswith("requests")
}, "every activity module has its case"
