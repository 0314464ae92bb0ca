"""Claims with chosen content for the sandbox tests, written to X12 by claimflow's own 837 writer."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from claimflow.claims.claim import Claim, FrequencyCode
from claimflow.claims.encounter import Relationship, ServiceLine
from claimflow.claims.remittance import Remittance
from claimflow.claims.x12.balancing import balancing_findings
from claimflow.claims.x12.writer import Envelope
from claimflow.integrations.sandbox.config import SandboxConfig, load_config
from tests.factories import ClaimFactory
from tests.x12.oracle import pyx12_errors

SERVICE_DAY = date(2026, 10, 1)
START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
MEMBERS = {
    "SMPMCR": "MCR12345678",
    "SMPMCD": "MCD12345678",
    "SMPBCX": "XBC123456789",
    "SMPHMO": "HMO12345678",
    "SMPPPO": "PPO12345678",
}


@dataclass
class FakeClock:
    """The host clock a test controls."""

    moment: datetime = START

    def __call__(self) -> datetime:
        return self.moment

    def tick(self, seconds: float) -> None:
        self.moment += timedelta(seconds=seconds)


def quiet_config(**faults: float) -> SandboxConfig:
    """The shipped payers with no noise and short delays: 277CA after a minute, 835 after an hour,
    appeal decisions after two hours."""
    config = load_config()
    payers = [
        payer.model_copy(
            update={
                "noise": payer.noise.model_copy(
                    update={
                        "front_end_rejection_rate": 0.0,
                        "partial_payment_rate": 0.0,
                        "reversal_rate": 0.0,
                        "provider_adjustment_rate": 0.0,
                        "eligibility_unavailable_rate": 0.0,
                        "appeal_overturn_share": 1.0,
                    }
                ),
                "adjudication_delay": 3600.0,
                "appeal_decision_delay": 7200.0,
            }
        )
        for payer in config.payers
    ]
    return config.model_copy(
        update={
            "payers": payers,
            "clearinghouse": config.clearinghouse.model_copy(update={"acknowledgement_delay": 60.0}),
            "faults": config.faults.model_copy(update=faults),
        }
    )


@dataclass
class Line:
    code: str
    charge: str = "100.00"
    modifiers: list[str] = field(default_factory=list)
    pointers: list[int] = field(default_factory=lambda: [1])
    units: str = "1"


def claim(
    factory: ClaimFactory,
    lines: Sequence[Line],
    *,
    payer_id: str = "SMPBCX",
    member_id: str | None = None,
    diagnoses: Sequence[str] = ("M545",),
    service_day: date = SERVICE_DAY,
    pcn: str | None = None,
    prior_authorization: str | None = None,
) -> Claim:
    """A professional claim from the factory's people and providers with exactly these lines."""
    base = factory.claim(payer_id=payer_id, dependent=False)
    encounter = base.encounter
    service_lines = [
        ServiceLine(
            procedure_code=line.code,
            modifiers=line.modifiers,
            units=Decimal(line.units),
            charge=Decimal(line.charge),
            diagnosis_pointers=line.pointers,
            service_date=service_day,
        )
        for line in lines
    ]
    coverage = encounter.coverage.model_copy(update={"member_id": member_id or MEMBERS[payer_id]})
    encounter = encounter.model_copy(
        update={
            "coverage": coverage,
            "service_date": service_day,
            "diagnoses": list(diagnoses),
            "service_lines": service_lines,
            "prior_authorization": prior_authorization,
            "relationship": Relationship.SELF,
            "subscriber": None,
        }
    )
    update: dict[str, object] = {
        "encounter": encounter,
        "frequency": FrequencyCode.ORIGINAL,
        "original_claim_number": None,
    }
    if pcn:
        update["patient_control_number"] = pcn
    return Claim.model_validate(base.model_copy(update=update).model_dump())


def envelope(number: int = 1, moment: datetime = START) -> Envelope:
    return Envelope(
        sender_id="CLAIMFLOW",
        receiver_id="SANDBOXCH",
        interchange_control_number=number,
        group_control_number=number,
        created=moment,
    )


def assert_valid_x12(text: str) -> None:
    errors = pyx12_errors(text)
    assert not errors, "pyx12 rejects the file:\n" + "\n".join(errors[:20]) + "\n" + text[:3000]


def assert_balanced(remittance: Remittance) -> None:
    findings = balancing_findings(remittance)
    assert not findings, [f.message for f in findings]
