"""A claim: an encounter made billable, and the inquiries we send about it."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Any

from pydantic import Field, model_validator

from claimflow.claims.encounter import Encounter, Model, Person, Provider, Relationship
from claimflow.claims.money import Money
from claimflow.claims.other_payers import OtherPayer, PayerResponsibility


class FrequencyCode(StrEnum):
    """CLM05-3: the claim's relation to earlier submissions."""

    ORIGINAL = "1"
    REPLACEMENT = "7"
    VOID = "8"


class Claim(Model):
    encounter: Encounter
    patient_control_number: str = Field(
        pattern=r"^[A-Za-z0-9._-]{1,38}$", description="CLM01, echoed as CLP01 by the payer"
    )
    frequency: FrequencyCode = FrequencyCode.ORIGINAL
    original_claim_number: str | None = Field(
        default=None, max_length=50, description="payer's claim number (REF*F8) for 7 and 8"
    )
    responsibility: PayerResponsibility = Field(
        default=PayerResponsibility.PRIMARY, description="SBR01: where the billed payer stands"
    )
    other_payers: list[OtherPayer] = Field(
        default_factory=list, max_length=10, description="2320/2330: the other coverages, in order"
    )

    @property
    def total_charge(self) -> Money:
        return self.encounter.total_charge

    @property
    def earlier_payers(self) -> list[OtherPayer]:
        """The other payers ahead of the billed one (primary before secondary), in order."""
        ahead = [p for p in self.other_payers if p.responsibility.position < self.responsibility.position]
        return sorted(ahead, key=lambda payer: payer.responsibility.position)

    @model_validator(mode="after")
    def _replacement_names_original(self) -> Claim:
        if self.frequency is not FrequencyCode.ORIGINAL and not self.original_claim_number:
            raise ValueError(
                f"frequency {self.frequency.value} ({self.frequency.name.lower()}) needs the payer's "
                "original claim number (REF*F8)"
            )
        return self


class EligibilityInquiry(Model):
    """A 270: is this member covered on this date? Flat, so that it reads back from X12 whole."""

    trace_number: str = Field(pattern=r"^[A-Za-z0-9-]{1,50}$", description="TRN02")
    payer_id: str
    payer_name: str
    provider: Provider
    subscriber: Person
    member_id: str
    relationship: Relationship = Relationship.SELF
    patient: Person | None = Field(default=None, description="2100D dependent, when not self")
    service_date: date
    service_type_codes: list[str] = Field(default_factory=lambda: ["30"])

    @classmethod
    def for_encounter(cls, encounter: Encounter, trace_number: str) -> EligibilityInquiry:
        return cls(trace_number=trace_number, service_date=encounter.service_date, **_asked_about(encounter))


class ClaimStatusInquiry(Model):
    """A 276: what became of this claim?"""

    trace_number: str = Field(pattern=r"^[A-Za-z0-9-]{1,50}$", description="TRN02")
    payer_id: str
    payer_name: str
    provider: Provider
    subscriber: Person
    member_id: str
    relationship: Relationship = Relationship.SELF
    patient: Person | None = None
    patient_control_number: str
    payer_claim_number: str | None = None
    total_charge: Money
    service_date: date
    service_date_end: date | None = None

    @classmethod
    def for_claim(
        cls, claim: Claim, trace_number: str, payer_claim_number: str | None = None
    ) -> ClaimStatusInquiry:
        encounter = claim.encounter
        return cls(
            trace_number=trace_number,
            **_asked_about(encounter),
            patient_control_number=claim.patient_control_number,
            payer_claim_number=payer_claim_number,
            total_charge=claim.total_charge,
            service_date=encounter.service_date,
        )


def _asked_about(encounter: Encounter) -> dict[str, Any]:
    """Who a 270 or 276 asks about: the payer, our provider, the subscriber and the patient when
    the patient is a dependent."""
    dependent = encounter.relationship is not Relationship.SELF
    return {
        "payer_id": encounter.coverage.payer_id,
        "payer_name": encounter.coverage.payer_name,
        "provider": encounter.billing_provider,
        "subscriber": encounter.insured,
        "member_id": encounter.coverage.member_id,
        "relationship": encounter.relationship,
        "patient": encounter.patient if dependent else None,
    }
