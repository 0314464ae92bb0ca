"""What comes back from payers and clearinghouses: 271, 999, 277CA and 277."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum

from pydantic import Field

from claimflow.claims.encounter import Model
from claimflow.claims.money import Money


class Benefit(Model):
    """One EB segment of a 271."""

    code: str = Field(description="EB01: 1 active, 6 inactive, A coinsurance, B copay, C deductible")
    coverage_level: str | None = None
    service_types: list[str] = Field(default_factory=list)
    insurance_type: str | None = None
    plan_description: str | None = None
    time_period: str | None = None
    amount: Money | None = None
    percent: Decimal | None = None
    in_network: str | None = None


class EligibilityRejection(Model):
    """An AAA segment: the payer could not answer."""

    loop: str = Field(description="where it appeared: 2100A payer, 2100B provider, 2100C subscriber")
    code: str = Field(description="AAA03: 72 invalid member id, 75 subscriber not found, 42 try later")
    follow_up: str | None = Field(default=None, description="AAA04: C resubmit, N do not, R retry")

    @property
    def retryable(self) -> bool:
        return self.code == "42" or self.follow_up == "R"


class EligibilityResult(Model):
    """A 271."""

    trace_number: str | None = None
    payer_id: str | None = None
    payer_name: str | None = None
    member_id: str | None = None
    active: bool
    coverage_start: date | None = None
    coverage_end: date | None = None
    plan_name: str | None = None
    group_number: str | None = None
    copay: Money | None = None
    deductible: Money | None = None
    deductible_remaining: Money | None = None
    coinsurance_percent: Decimal | None = None
    benefits: list[Benefit] = Field(default_factory=list)
    rejections: list[EligibilityRejection] = Field(default_factory=list)


class AckCode(StrEnum):
    """IK5-1 / AK9-1."""

    ACCEPTED = "A"
    ACCEPTED_WITH_ERRORS = "E"
    PARTIALLY_ACCEPTED = "P"
    REJECTED = "R"
    MESSAGE_AUTHENTICATION_FAILED = "M"
    WITH_ERRORS_REJECTED = "W"
    CONTENT_REJECTED = "X"


class SegmentError(Model):
    """An IK3 with its IK4s: where the clearinghouse found a fault."""

    segment_id: str
    position: int = Field(description="segment position in the transaction set, ST = 1")
    loop: str | None = None
    code: str = Field(description="IK304 segment syntax error code")
    element_position: int | None = None
    component_position: int | None = None
    element_reference: str | None = None
    element_code: str | None = Field(default=None, description="IK403 element syntax error code")
    bad_value: str | None = None


class TransactionSetAck(Model):
    """AK2 .. IK5 of a 999."""

    set_id: str = Field(description="AK201, e.g. 837")
    control_number: str = Field(description="AK202 = the ST02 acknowledged")
    version: str | None = None
    status: AckCode
    errors: list[SegmentError] = Field(default_factory=list)
    set_error_codes: list[str] = Field(default_factory=list, description="IK502..")


class Acknowledgement(Model):
    """A 999 for one functional group."""

    group_control_number: str = Field(description="AK102 = GS06 of the acknowledged group")
    functional_id: str = Field(description="AK101, HC for claims")
    version: str | None = None
    status: AckCode
    sets_included: int
    sets_received: int
    sets_accepted: int
    transaction_sets: list[TransactionSetAck] = Field(default_factory=list)
    group_error_codes: list[str] = Field(default_factory=list, description="AK905..AK909")


class StatusInfo(Model):
    """An STC composite: category and status code, with the entity when given."""

    category: str = Field(description="507 code: A1/A2 accepted, A3/A6/A7/A8 rejected, F1 paid..")
    code: str = Field(description="508 code")
    entity: str | None = None

    @property
    def accepted(self) -> bool:
        return self.category in {"A1", "A2", "A5"}

    @property
    def rejected(self) -> bool:
        return self.category in {"A3", "A4", "A6", "A7", "A8"}


class ClaimStatusDetail(Model):
    """One claim in a 277CA or 277: the 2200D (or 2200E) loop."""

    patient_control_number: str = Field(description="REF*EJ or TRN02")
    payer_claim_number: str | None = Field(default=None, description="REF*1K")
    statuses: list[StatusInfo] = Field(min_length=1)
    status_date: date | None = None
    total_charge: Money | None = None
    paid_amount: Money | None = None
    adjudication_date: date | None = None
    check_number: str | None = None
    service_date: date | None = None
    service_date_end: date | None = None
    patient_last_name: str | None = None
    patient_first_name: str | None = None
    member_id: str | None = None
    provider_name: str | None = Field(default=None, description="2100C billing provider")
    provider_npi: str | None = None
    bill_type: str | None = Field(default=None, description="REF*BLT, institutional claims")

    @property
    def primary(self) -> StatusInfo:
        return self.statuses[0]


class ClaimAcknowledgement(Model):
    """A 277CA: acceptance or rejection of each claim at the payer's front door."""

    payer_id: str | None = None
    payer_name: str | None = None
    receipt_date: date | None = None
    process_date: date | None = None
    claims: list[ClaimStatusDetail] = Field(default_factory=list)
    trace_number: str | None = Field(default=None, description="2200A TRN02, the payer's receipt id")
    receiver_name: str | None = Field(default=None, description="2100B information receiver (us)")
    receiver_id: str | None = None
    receiver_trace: str | None = Field(default=None, description="2200B TRN02: our batch id (837 BHT03)")


class ClaimStatus(Model):
    """A 277 answering a 276."""

    trace_number: str | None = None
    payer_id: str | None = None
    payer_name: str | None = None
    claims: list[ClaimStatusDetail] = Field(default_factory=list)
