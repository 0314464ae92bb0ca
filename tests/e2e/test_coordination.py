"""End to end on the dev server with the payer sandbox (its own process) and a PostgreSQL ledger:
claims with more than one coverage, and a payer that allows less than its contract.

* primary then secondary: two claims go out, the second with the primary's adjudication; the patient
  is billed only what the secondary left;
* Medicare crossover to the Medigap plan: one claim goes out, both 835s come back;
* a secondary claim sent without the primary's adjudication is denied CO-22, and the claim bills the
  primary first, then the secondary again;
* tertiary: three claims, three 835s;
* underpayment: one task per line allowed below the contract, none for the lines at contract; the
  appeal writes a letter stating the contract rate."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from temporalio.client import Client, WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from claimflow.claims.encounter import ClaimFilingIndicator, Coverage, Encounter, ServiceLine
from claimflow.claims.lifecycle import ClaimInput, ClaimRecord, ClaimSnapshot, ClaimState, UnderpaymentStatus
from claimflow.claims.money import money_sum
from claimflow.claims.remittance import AdjustmentGroup, ClaimStatusCode
from claimflow.claims.tasks import AppealUnderpayment, TaskKind
from claimflow.integrations.ledger import Ledger
from claimflow.integrations.sandbox.scenarios import Trouble, scenario_batch
from claimflow.integrations.settings import Settings
from claimflow.workers.worker import claimflow_worker, ensure_inbox_schedule
from claimflow.workflows.claim import ClaimWorkflow
from tests.e2e.conftest import SandboxProcess

pytestmark = pytest.mark.slow

PAYERS = {
    "SMPMCR": ("Sandbox Medicare Part B", ClaimFilingIndicator.MEDICARE_B, "MCR", 8),
    "SMPMCD": ("Sandbox State Medicaid", ClaimFilingIndicator.MEDICAID, "MCD", 8),
    "SMPBCX": ("Sandbox Blue Cross Commercial", ClaimFilingIndicator.BLUE_CROSS, "XBC", 9),
    "SMPHMO": ("Summit Health HMO", ClaimFilingIndicator.HMO, "HMO", 8),
    "SMPPPO": ("Lakeside PPO", ClaimFilingIndicator.PPO, "PPO", 8),
    "SMPMGP": ("Heritage Medigap Plan G", ClaimFilingIndicator.COMMERCIAL, "MGP", 8),
}
Handle = WorkflowHandle[ClaimWorkflow, ClaimSnapshot]


def coverage(payer_id: str, n: int) -> Coverage:
    name, indicator, prefix, digits = PAYERS[payer_id]
    return Coverage(
        payer_id=payer_id,
        payer_name=name,
        member_id=f"{prefix}{str(10 ** (digits - 1) + n).zfill(digits)}",
        filing_indicator=indicator,
    )


def encounter(base: Encounter, payers: list[str], lines: list[tuple[str, str]], n: int) -> Encounter:
    day = base.service_date
    service_lines = [
        ServiceLine(
            procedure_code=code,
            units=Decimal(1),
            charge=Decimal(charge),
            diagnosis_pointers=[1],
            service_date=day,
        )
        for code, charge in lines
    ]
    return base.model_copy(
        update={
            "coverage": coverage(payers[0], n),
            "other_coverages": [coverage(p, n) for p in payers[1:]],
            "service_lines": service_lines,
            "diagnoses": ["I10"],
            "prior_authorization": None,
        }
    )


async def settled(handle: Handle, *, submissions: int | None = None) -> ClaimSnapshot:
    """Wait until the payers are done with the claim: it bills the patient, or closed."""
    deadline = asyncio.get_running_loop().time() + 180
    while True:
        snapshot = await handle.query(ClaimWorkflow.state, rpc_timeout=timedelta(seconds=30))
        done = snapshot.state in {ClaimState.PATIENT_BILLING, ClaimState.CLOSED}
        if done and (submissions is None or snapshot.submissions >= submissions):
            return snapshot
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{snapshot.claim_id} is {snapshot.state}: {snapshot.timeline[-6:]}")
        await asyncio.sleep(1)


def assert_ledger_agrees(ledger: Ledger, snapshot: ClaimSnapshot) -> None:
    """The books say what the claim says, to the cent: paid by every payer, the patient owing only
    what the last payer left, nothing more due from insurance."""
    balance = ledger.balance(snapshot.patient_control_number)
    assert (balance.paid, balance.patient_responsibility, balance.patient_due) == (
        snapshot.paid,
        snapshot.patient_responsibility,
        snapshot.patient_responsibility - snapshot.patient_paid,
    ), (snapshot.claim_id, balance)
    assert balance.insurance_balance == 0 and balance.outstanding == balance.patient_due, balance


def patient_share(snapshot: ClaimSnapshot) -> Decimal:
    last = snapshot.adjudications[-1].payment
    return last.adjusted(AdjustmentGroup.PATIENT_RESPONSIBILITY)


async def test_coordination_of_benefits_and_underpayments_end_to_end(
    dev_server: WorkflowEnvironment, sandbox: SandboxProcess, postgres_url: str, tmp_path: Path
) -> None:
    client: Client = dev_server.client
    settings = Settings(
        temporal_address=client.service_client.config.target_host,
        temporal_task_queue=f"cob-{uuid.uuid4().hex[:8]}",
        home=tmp_path,
        database_url=postgres_url,
        clearinghouse_url=sandbox.url,
    )
    prefix = f"COB{uuid.uuid4().hex[:4]}"
    batch = scenario_batch(30, today=datetime.now(UTC).date(), seed=5, prefix=prefix)
    bases = [s.encounter for s in batch if s.kind is Trouble.CLEAN][:5]
    visit = [("99213", "150.00"), ("36415", "20.00")]
    cases = {
        "secondary": encounter(bases[0], ["SMPBCX", "SMPMCD"], visit, 1),
        "crossover": encounter(bases[1], ["SMPMCR", "SMPMGP"], visit, 2),
        "co22": encounter(bases[2], ["SMPBCX", "SMPPPO"], visit, 3),
        "tertiary": encounter(
            bases[3], ["SMPBCX", "SMPPPO", "SMPMCD"], [("99214", "220.00"), ("85025", "30.00")], 4
        ),
        "underpaid": encounter(
            bases[4], ["SMPHMO"], [("99213", "150.00"), ("36415", "20.00"), ("85025", "40.00")], 5
        ),
    }
    async with claimflow_worker(client, settings):
        await ensure_inbox_schedule(client, settings, every=timedelta(seconds=1))
        handles: dict[str, Handle] = {}
        for name, enc in cases.items():
            # the co22 claim starts as if the front desk billed the secondary first
            record = ClaimRecord(encounter=enc, payer_position=1) if name == "co22" else None
            handles[name] = await client.start_workflow(
                ClaimWorkflow.run,
                ClaimInput(encounter=enc, record=record),
                id=f"claim-{enc.encounter_id}",
                task_queue=settings.temporal_task_queue,
            )
        secondary = await settled(handles["secondary"], submissions=2)
        crossover = await settled(handles["crossover"])
        co22 = await settled(handles["co22"], submissions=3)
        tertiary = await settled(handles["tertiary"], submissions=3)
        underpaid = await settled(handles["underpaid"])
        (task,) = [t for t in underpaid.open_tasks if t.kind is TaskKind.UNDERPAYMENT]
        await handles["underpaid"].execute_update(
            ClaimWorkflow.resolve_task, AppealUnderpayment(task_id=task.id, actor="e2e-biller")
        )
        for _ in range(60):
            appealed = await handles["underpaid"].query(ClaimWorkflow.state)
            if appealed.underpayments[0].status is UnderpaymentStatus.APPEALED:
                break
            await asyncio.sleep(1)
    ledger = Ledger(postgres_url, migrate_schema=False)
    try:
        for snapshot in (secondary, crossover, co22, tertiary, underpaid):
            assert_ledger_agrees(ledger, snapshot)
    finally:
        ledger.close()
    received = sandbox.stats()["claims_received"]
    assert isinstance(received, dict)

    # primary then secondary: the patient owes what the secondary left
    assert secondary.submissions == 2 == received[secondary.patient_control_number]
    first, second = secondary.adjudications
    assert (first.payer_id, second.payer_id) == ("SMPBCX", "SMPMCD")
    assert second.payment.status is ClaimStatusCode.SECONDARY and second.payment.paid > 0
    assert secondary.paid == first.payment.paid + second.payment.paid
    assert secondary.patient_responsibility == patient_share(secondary)
    assert secondary.patient_responsibility < first.payment.adjusted(AdjustmentGroup.PATIENT_RESPONSIBILITY)
    assert secondary.paid + secondary.adjusted + secondary.patient_responsibility == secondary.billed

    # crossover: one claim out, two 835s in
    assert crossover.submissions == 1 == received[crossover.patient_control_number]
    medicare, medigap = crossover.adjudications
    assert medicare.payment.status is ClaimStatusCode.PRIMARY_FORWARDED and "MA18" in medicare.payment.remarks
    assert medigap.payer_id == "SMPMGP" and medigap.payment.status is ClaimStatusCode.SECONDARY
    assert crossover.paid == medicare.payment.paid + medigap.payment.paid
    assert crossover.paid + crossover.adjusted + crossover.patient_responsibility == crossover.billed

    # CO-22: denied without the primary's adjudication, then primary, then secondary again
    assert co22.submissions == 3 == received[co22.patient_control_number]
    assert any("CO-22" in e.outcome or "denied CO-22" in e.outcome for e in co22.timeline)
    assert [d.payer_id for d in co22.adjudications] == ["SMPBCX", "SMPPPO"]
    assert co22.adjudications[1].payment.status is ClaimStatusCode.SECONDARY
    assert co22.paid + co22.adjusted + co22.patient_responsibility == co22.billed

    # tertiary: three payers in order
    assert tertiary.submissions == 3 == received[tertiary.patient_control_number]
    assert [d.payment.status for d in tertiary.adjudications] == [
        ClaimStatusCode.PRIMARY,
        ClaimStatusCode.SECONDARY,
        ClaimStatusCode.TERTIARY,
    ]
    assert tertiary.paid == money_sum(d.payment.paid for d in tertiary.adjudications)
    assert tertiary.patient_responsibility == patient_share(tertiary)

    # underpayment: 99213 allowed at the 2025 rate against the 2026 contract; the lab lines at contract
    assert [(c.finding.line_number, c.finding.shortfall) for c in underpaid.underpayments] == [
        (1, Decimal("6.00"))
    ]
    assert [t.kind for t in underpaid.tasks].count(TaskKind.UNDERPAYMENT) == 1
    case = appealed.underpayments[0]
    assert case.status is UnderpaymentStatus.APPEALED and case.letter and Path(case.letter).exists()
    # Blue Cross, Medicaid, Medicare and the Medigap plan pay at contract; Lakeside PPO allows its
    # office visits a little under 152% of Medicare, as primary or secondary
    assert not secondary.underpayments and not crossover.underpayments
    for snapshot in (co22, tertiary):
        assert [c.finding.payer_id for c in snapshot.underpayments] == ["SMPPPO"]
        assert snapshot.underpayments[0].finding.line_number == 1
