"""The sandbox's behaviour over time, through X12 in and out: 999 at once, 277CA after the
acknowledgement delay, 835 after the payer's adjudication delay, noise, appeals, restarts."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

from claimflow.claims.claim import Claim, FrequencyCode
from claimflow.claims.remittance import ClaimPayment, ClaimStatusCode, Remittance
from claimflow.claims.responses import AckCode, ClaimAcknowledgement
from claimflow.claims.x12 import read_277ca, read_835, read_999, write_837
from claimflow.integrations.sandbox.engine import Sandbox
from claimflow.integrations.sandbox.store import Store
from tests.factories import ClaimFactory
from tests.sandbox.helpers import (
    FakeClock,
    Line,
    assert_balanced,
    assert_valid_x12,
    claim,
    envelope,
    quiet_config,
)

_control = iter(range(100, 10**6))


def send(sandbox: Sandbox, claims: list[Claim], key: str | None = None) -> dict[str, object]:
    return sandbox.submit(write_837(claims, envelope(next(_control))), key)


def drain(sandbox: Sandbox) -> dict[str, list[str]]:
    """Fetch and acknowledge every inbox file; every X12 file must pass pyx12."""
    sandbox.catch_up()
    found: dict[str, list[str]] = {}
    for entry in sandbox.store.inbox(sandbox.now().timestamp()):
        row = sandbox.store.file(entry.id, sandbox.now().timestamp())
        assert row is not None
        if entry.kind != "appeal_decision":
            assert_valid_x12(row["content"])
        found.setdefault(entry.kind, []).append(row["content"])
        assert sandbox.store.acknowledge(entry.id, sandbox.now().timestamp())
    return found


def remittances(files: dict[str, list[str]]) -> list[Remittance]:
    read = [r for text in files.get("835", []) for r in read_835(text)]
    for remittance in read:
        assert not remittance.findings, remittance.findings
        assert_balanced(remittance)
    return read


def payments(files: dict[str, list[str]]) -> list[ClaimPayment]:
    return [c for r in remittances(files) for c in r.claims]


def acknowledgements(files: dict[str, list[str]]) -> list[ClaimAcknowledgement]:
    return [a for text in files.get("277CA", []) for a in read_277ca(text)]


def test_999_at_once_277ca_after_delay_835_after_adjudication(
    sandbox: Sandbox, clock: FakeClock, factory: ClaimFactory
) -> None:
    batch = [claim(factory, [Line("99213", "150.00")], payer_id=p) for p in ("SMPBCX", "SMPMCR", "SMPPPO")]
    receipt = send(sandbox, batch, "batch-1")
    assert receipt["accepted"] is True and receipt["claims"] == 3
    now = drain(sandbox)
    assert list(now) == ["999"]
    (ack,) = read_999(now["999"][0])
    assert ack.status is AckCode.ACCEPTED
    clock.tick(59)
    assert drain(sandbox) == {}
    clock.tick(1)
    acknowledged = drain(sandbox)
    assert list(acknowledged) == ["277CA"] and len(acknowledged["277CA"]) == 3  # one per payer
    details = [c for a in acknowledgements(acknowledged) for c in a.claims]
    assert sorted(c.patient_control_number for c in details) == sorted(
        c.patient_control_number for c in batch
    )
    assert all(c.primary.accepted and c.payer_claim_number for c in details)
    clock.tick(3600)
    paid = payments(drain(sandbox))
    assert sorted(p.patient_control_number for p in paid) == sorted(c.patient_control_number for c in batch)
    assert all(p.status is ClaimStatusCode.PRIMARY for p in paid)


def test_idempotency_key_gives_one_claim_and_one_835(
    sandbox: Sandbox, clock: FakeClock, factory: ClaimFactory
) -> None:
    text = write_837([claim(factory, [Line("99213")], pcn="IDEM-1")], envelope(7))
    first = sandbox.submit(text, "key-1")
    again = sandbox.submit(text, "key-1")
    assert again == {**first, "duplicate": True}
    clock.tick(4000)
    files = drain(sandbox)
    assert len(files["999"]) == 1 and len(files["277CA"]) == 1
    assert [p.patient_control_number for p in payments(files)] == ["IDEM-1"]
    assert sandbox.stats()["claims_received"] == {"IDEM-1": 1}


def test_same_claim_under_a_new_key_is_an_exact_duplicate(
    sandbox: Sandbox, clock: FakeClock, factory: ClaimFactory
) -> None:
    original = claim(factory, [Line("99213")], pcn="DUP-1")
    send(sandbox, [original], "first")
    clock.tick(4000)
    assert payments(drain(sandbox))[0].paid > 0
    send(sandbox, [original.model_copy(update={"patient_control_number": "DUP-2"})], "second")
    clock.tick(4000)
    (denied,) = payments(drain(sandbox))
    assert denied.patient_control_number == "DUP-2" and denied.status is ClaimStatusCode.DENIED
    assert {a.reason for a in denied.all_adjustments} == {"18"}


def test_deductible_is_tracked_per_member_across_claims(
    sandbox: Sandbox, clock: FakeClock, factory: ClaimFactory
) -> None:
    mri = [Line("70551", "500.00")]
    send(sandbox, [claim(factory, mri, payer_id="SMPMCR", diagnoses=["G43909"], pcn="MRI-1")])
    clock.tick(4000)
    send(sandbox, [claim(factory, mri, payer_id="SMPMCR", diagnoses=["R51"], pcn="MRI-2")])
    clock.tick(4000)
    by_pcn = {p.patient_control_number: p for p in payments(drain(sandbox))}
    first_pr = {a.reason: a.amount for a in by_pcn["MRI-1"].all_adjustments if a.group.value == "PR"}
    second_pr = {a.reason: a.amount for a in by_pcn["MRI-2"].all_adjustments if a.group.value == "PR"}
    assert first_pr == {"1": Decimal("230.00")}
    assert second_pr == {"1": Decimal("27.00"), "2": Decimal("40.60")}


def test_unknown_member_and_noise_are_rejected_in_the_277ca(tmp_path: Path, factory: ClaimFactory) -> None:
    config = quiet_config()
    noisy = [
        p.model_copy(update={"noise": p.noise.model_copy(update={"front_end_rejection_rate": 1.0})})
        if p.id == "SMPPPO"
        else p
        for p in config.payers
    ]
    clock = FakeClock()
    sandbox = Sandbox(config.model_copy(update={"payers": noisy}), Store(tmp_path / "s.db"), clock=clock)
    send(sandbox, [
        claim(factory, [Line("99213")], member_id="XBC000", pcn="NOBODY"),
        claim(factory, [Line("99213")], payer_id="SMPPPO", pcn="NOISE"),
        claim(factory, [Line("99213")], pcn="GOOD"),
    ])  # fmt: skip
    clock.tick(4000)
    files = drain(sandbox)
    statuses = {c.patient_control_number: c.primary for a in acknowledgements(files) for c in a.claims}
    assert (statuses["NOBODY"].category, statuses["NOBODY"].code) == ("A3", "33")
    assert statuses["NOISE"].rejected and statuses["GOOD"].accepted
    assert [p.patient_control_number for p in payments(files)] == ["GOOD"]


def test_reversal_noise_reverses_and_readjudicates(tmp_path: Path, factory: ClaimFactory) -> None:
    config = quiet_config()
    noisy = [
        p.model_copy(update={"noise": p.noise.model_copy(update={"reversal_rate": 1.0})})
        for p in config.payers
    ]
    clock = FakeClock()
    sandbox = Sandbox(config.model_copy(update={"payers": noisy}), Store(tmp_path / "s.db"), clock=clock)
    send(sandbox, [claim(factory, [Line("99213", "200.00")], pcn="REV-1")])
    clock.tick(4000)
    (first,) = payments(drain(sandbox))
    clock.tick(3600)
    reversal, again = payments(drain(sandbox))
    assert reversal.status is ClaimStatusCode.REVERSAL and reversal.paid == -first.paid
    assert reversal.payer_claim_number == first.payer_claim_number
    assert again.status is ClaimStatusCode.PRIMARY and again.paid == first.paid
    assert again.payer_claim_number != first.payer_claim_number


def test_provider_adjustments_keep_the_835_balanced(tmp_path: Path, factory: ClaimFactory) -> None:
    config = quiet_config()
    noisy = [
        p.model_copy(update={"noise": p.noise.model_copy(update={"provider_adjustment_rate": 1.0})})
        for p in config.payers
    ]
    clock = FakeClock()
    sandbox = Sandbox(config.model_copy(update={"payers": noisy}), Store(tmp_path / "s.db"), clock=clock)
    send(sandbox, [claim(factory, [Line("99213", "200.00")])])
    clock.tick(4000)
    (remittance,) = remittances(drain(sandbox))
    (interest,) = remittance.provider_adjustments
    assert interest.reason == "L6" and interest.amount < 0
    assert remittance.payment_amount == remittance.claims[0].paid - interest.amount


def test_replacement_claim_reverses_the_original(
    sandbox: Sandbox, clock: FakeClock, factory: ClaimFactory
) -> None:
    original = claim(factory, [Line("99213", "150.00")], pcn="REP-1")
    send(sandbox, [original])
    clock.tick(4000)
    (paid,) = payments(drain(sandbox))
    corrected = claim(factory, [Line("99214", "220.00")], pcn="REP-1")
    replacement = corrected.model_copy(
        update={"frequency": FrequencyCode.REPLACEMENT, "original_claim_number": paid.payer_claim_number}
    )
    send(sandbox, [replacement])
    clock.tick(4000)
    reversal, new = payments(drain(sandbox))
    assert (
        reversal.status is ClaimStatusCode.REVERSAL and reversal.payer_claim_number == paid.payer_claim_number
    )
    assert new.status is ClaimStatusCode.PRIMARY and new.service_lines[0].procedure_code == "99214"


def test_appeal_with_the_authorization_number_is_overturned_and_paid(
    sandbox: Sandbox, clock: FakeClock, factory: ClaimFactory
) -> None:
    send(sandbox, [claim(factory, [Line("97110", "60.00", ["GP"])], payer_id="SMPHMO", pcn="APL-1")])
    clock.tick(4000)
    (denied,) = payments(drain(sandbox))
    assert {a.reason for a in denied.all_adjustments} == {"197"}
    letter = "We appeal the CO-197 denial: prior authorization HMOAUTH7781 was obtained before the visit."
    receipt = sandbox.appeal(letter, denied.payer_claim_number, None, "appeal-1")
    assert sandbox.appeal(letter, denied.payer_claim_number, None, "appeal-1")["duplicate"] is True
    assert receipt["duplicate"] is False
    clock.tick(7199)
    assert drain(sandbox) == {}
    clock.tick(1)
    reversal, paid = payments(drain(sandbox))
    assert reversal.status is ClaimStatusCode.REVERSAL and reversal.paid == 0
    assert paid.status is ClaimStatusCode.PRIMARY and paid.paid == Decimal(
        "39.00"
    )  # the fee schedule; no copay on therapy


def test_appeal_without_the_argument_is_upheld_with_a_notice(
    sandbox: Sandbox, clock: FakeClock, factory: ClaimFactory
) -> None:
    send(sandbox, [claim(factory, [Line("99213")], payer_id="SMPMCR", member_id="MCR90000001", pcn="APL-2")])
    clock.tick(4000)
    (denied,) = payments(drain(sandbox))
    sandbox.appeal("Please reconsider: the patient was seen.", None, "APL-2", None)
    clock.tick(7200)
    files = drain(sandbox)
    assert list(files) == ["appeal_decision"]
    notice = json.loads(files["appeal_decision"][0])
    assert notice["decision"] == "upheld" and notice["payer_claim_number"] == denied.payer_claim_number
    assert "CO-27" in notice["explanation"]


def test_restart_on_the_same_database_loses_nothing(tmp_path: Path, factory: ClaimFactory) -> None:
    clock = FakeClock()
    first = Sandbox(quiet_config(), Store(tmp_path / "s.db"), clock=clock)
    text = write_837([claim(factory, [Line("99213")], pcn="KEEP-1")], envelope(9))
    first.submit(text, "k1")
    first.advance(60)
    first.store.close()
    second = Sandbox(quiet_config(), Store(tmp_path / "s.db"), clock=clock)
    assert second.now() == clock() + timedelta(seconds=60)
    assert second.submit(text.replace("000000009", "000000010"), "k1")["duplicate"] is True
    second.advance(3600)
    files = drain(second)
    assert len(files["999"]) == 1 and len(files["277CA"]) == 1
    assert [p.patient_control_number for p in payments(files)] == ["KEEP-1"]


def test_institutional_claims_are_adjudicated_by_revenue_line(
    sandbox: Sandbox, clock: FakeClock, factory: ClaimFactory
) -> None:
    hospital = factory.claim(institutional=True, payer_id="SMPPPO", frequency=FrequencyCode.ORIGINAL, lines=3)
    coverage = hospital.encounter.coverage.model_copy(update={"member_id": "PPO55555555"})
    hospital = hospital.model_copy(
        update={"encounter": hospital.encounter.model_copy(update={"coverage": coverage})}
    )
    clock.moment = datetime.combine(hospital.encounter.service_date, time(9), tzinfo=UTC) + timedelta(days=1)
    send(sandbox, [hospital], "inst-1")
    clock.tick(4000)
    (payment,) = payments(drain(sandbox))
    info = hospital.encounter.institutional
    assert info is not None and payment.facility_type == info.type_of_bill.lstrip("0")[:2]
    assert [line.revenue_code for line in payment.service_lines] == [
        line.revenue_code for line in hospital.encounter.service_lines
    ]


def test_a_broken_interchange_is_rejected_in_the_999_and_takes_no_claim(
    sandbox: Sandbox, factory: ClaimFactory
) -> None:
    text = write_837([claim(factory, [Line("99213")], pcn="BROKEN")], envelope(77))
    broken = re.sub(
        r"^SE\*(\d+)\*", lambda m: f"SE*{int(m.group(1)) + 1}*", text, flags=re.M
    )  # a wrong count
    assert broken != text
    receipt = sandbox.submit(broken, "broken")
    assert receipt["accepted"] is False and receipt["claims"] == 0
    (ack_text,) = drain(sandbox)["999"]
    (ack,) = read_999(ack_text)
    assert ack.status is AckCode.REJECTED
    assert sandbox.stats()["claims_received"] == {}


def test_late_appeal_is_upheld(sandbox: Sandbox, clock: FakeClock, factory: ClaimFactory) -> None:
    send(
        sandbox,
        [claim(factory, [Line("72148", "900.00")], payer_id="SMPMCR", diagnoses=["J069"], pcn="LATE")],
    )
    clock.tick(4000)
    (denied,) = payments(drain(sandbox))
    clock.tick(121 * 86400)  # Medicare's redetermination window is 120 days
    letter = "The MRI was medically necessary; the medical record and clinical notes are enclosed."
    sandbox.appeal(letter, denied.payer_claim_number, None, None)
    clock.tick(7200)
    notice = json.loads(drain(sandbox)["appeal_decision"][0])
    assert notice["decision"] == "upheld" and "120 days" in notice["explanation"]


def test_medical_necessity_appeal_with_records_is_overturned(
    sandbox: Sandbox, clock: FakeClock, factory: ClaimFactory
) -> None:
    send(
        sandbox, [claim(factory, [Line("72148", "900.00")], payer_id="SMPMCR", diagnoses=["J069"], pcn="MN")]
    )
    clock.tick(4000)
    (denied,) = payments(drain(sandbox))
    assert {a.reason for a in denied.all_adjustments} == {"50"}
    letter = "The MRI was medically necessary; the medical record and clinical notes are enclosed."
    sandbox.appeal(letter, denied.payer_claim_number, None, None)
    clock.tick(7200)
    reversal, paid = payments(drain(sandbox))
    assert reversal.status is ClaimStatusCode.REVERSAL and paid.status is ClaimStatusCode.PRIMARY
    assert {a.reason for a in paid.all_adjustments} == {"45", "1"}  # fee schedule, then the deductible


def test_a_value_the_claim_model_refuses_is_rejected_in_the_999_where_it_is(
    sandbox: Sandbox, factory: ClaimFactory
) -> None:
    text = write_837([claim(factory, [Line("99213")], diagnoses=["M545"], pcn="DOTTED")], envelope(78))
    dotted = text.replace("ABK:M545", "ABK:M54.5")  # ICD-10-CM codes are sent without the dot
    receipt = sandbox.submit(dotted, "dotted")
    assert receipt["accepted"] is False and "diagnoses" in str(receipt["problem"])
    (ack_text,) = drain(sandbox)["999"]
    (ack,) = read_999(ack_text)
    (set_ack,) = ack.transaction_sets
    assert ack.status is AckCode.REJECTED and set_ack.status is AckCode.REJECTED
    assert set_ack.errors and set_ack.errors[0].segment_id == "CLM"
    assert sandbox.stats()["claims_received"] == {}
