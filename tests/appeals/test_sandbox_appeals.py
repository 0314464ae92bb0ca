"""The real appeal activities against the sandbox payer: the drafted letter of each category carries
what the payer's reviewer looks for, so the denial is overturned and the claim re-adjudicated."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from claimflow.activities.appeal_requests import AppealLetterRequest, AppealSendRequest
from claimflow.activities.appeals import AppealActivities
from claimflow.claims.appeals import level_of
from claimflow.claims.claim import Claim
from claimflow.claims.denials import LetterCategory, classify
from claimflow.claims.payers import default_directory
from claimflow.claims.remittance import ClaimPayment, ClaimStatusCode
from claimflow.claims.x12 import read_835, write_837
from claimflow.integrations.clearinghouse import ClearinghouseClient
from claimflow.integrations.sandbox.app import create_app
from claimflow.integrations.sandbox.engine import Sandbox
from claimflow.integrations.sandbox.store import Store
from tests.factories import ClaimFactory
from tests.sandbox.helpers import FakeClock, Line, claim, envelope, quiet_config

pytestmark = pytest.mark.slow  # three real PDF renderings


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def sandbox(tmp_path: Path, clock: FakeClock) -> Iterator[Sandbox]:
    store = Store(tmp_path / "sandbox.db")
    yield Sandbox(quiet_config(), store, clock=clock)
    store.close()


def payments(sandbox: Sandbox) -> list[ClaimPayment]:
    """Every claim payment of the 835s now in the inbox (the files are acknowledged)."""
    sandbox.catch_up()
    found: list[ClaimPayment] = []
    for entry in sandbox.store.inbox(sandbox.now().timestamp()):
        row = sandbox.store.file(entry.id, sandbox.now().timestamp())
        assert row is not None
        if entry.kind == "835":
            found += [c for remittance in read_835(row["content"]) for c in remittance.claims]
        sandbox.store.acknowledge(entry.id, sandbox.now().timestamp())
    return found


@pytest.mark.parametrize(
    ("payer_id", "lines", "diagnoses", "authorization", "category"),
    [
        ("SMPMCR", [Line("72148", "900.00")], ["J069"], None, LetterCategory.MEDICAL_NECESSITY),
        (
            "SMPMCR",
            [Line("71046", "90.00"), Line("71045", "60.00")],
            ["R05"],
            None,
            LetterCategory.BUNDLING,
        ),
        ("SMPHMO", [Line("97110", "60.00", ["GP"])], ["M545"], "HMOAUTH7781", LetterCategory.AUTHORIZATION),
    ],
)
async def test_drafted_letter_overturns_the_denial(
    sandbox: Sandbox,
    clock: FakeClock,
    tmp_path: Path,
    payer_id: str,
    lines: list[Line],
    diagnoses: list[str],
    authorization: str | None,
    category: LetterCategory,
) -> None:
    sent_claim = claim(
        ClaimFactory(71), lines, payer_id=payer_id, diagnoses=diagnoses, pcn=f"APL-{category.value[:8]}"
    )
    sandbox.submit(write_837([sent_claim], envelope(7)), None)
    clock.tick(4000)
    (denied,) = payments(sandbox)
    assessment = classify(denied)
    assert assessment.letter is category, [(f.line, f.procedure_code, f.code) for f in assessment.findings]

    # The biller found the authorization: the letter quotes it from the encounter.
    encounter = sent_claim.encounter.model_copy(update={"prior_authorization": authorization})
    appealed: Claim = sent_claim.model_copy(update={"encounter": encounter})
    payer = default_directory().profiles[payer_id]
    async with ClearinghouseClient(
        "http://sandbox.test", transport=httpx.ASGITransport(app=create_app(sandbox))
    ) as client:
        activities = AppealActivities(client, tmp_path / "documents")
        letter = await activities.render_appeal_letter(
            AppealLetterRequest(
                appeal_id=f"appeal-{sent_claim.patient_control_number}",
                claim=appealed,
                payer=payer,
                payment=denied,
                category=category,
                level=level_of(payer, 1),
                revision=1,
                letter_date=clock().date(),
                remittance_date=clock().date(),
            )
        )
        assert Path(letter.ref.pdf_path).read_bytes().startswith(b"%PDF")
        receipt = await activities.send_appeal(
            AppealSendRequest(
                appeal_id=f"appeal-{sent_claim.patient_control_number}",
                letter=letter.ref,
                payer_claim_number=denied.payer_claim_number,
                patient_control_number=sent_claim.patient_control_number,
            )
        )
    assert receipt.clearinghouse_appeal_id and not receipt.duplicate
    clock.tick(7200)
    reversal, readjudicated = payments(sandbox)
    assert reversal.status is ClaimStatusCode.REVERSAL
    assert readjudicated.status is ClaimStatusCode.PRIMARY
    disputed = {f.carc for f in assessment.findings_for(category)}
    assert disputed and not disputed & {a.reason for a in readjudicated.all_adjustments}
