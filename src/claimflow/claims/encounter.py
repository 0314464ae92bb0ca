"""What happened at the visit, as the practice knows it: the source of every claim."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

from claimflow.claims.money import Money, money_sum


class Model(BaseModel):
    """Base for domain models: unknown fields are errors, instances are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Sex(StrEnum):
    MALE = "M"
    FEMALE = "F"
    UNKNOWN = "U"


class Relationship(StrEnum):
    """Patient's relationship to the subscriber, as X12 individual relationship codes (SBR02/PAT01)."""

    SELF = "18"
    SPOUSE = "01"
    CHILD = "19"
    OTHER = "G8"


class ClaimFilingIndicator(StrEnum):
    """SBR09 / CLP06: the kind of coverage."""

    MEDICARE_B = "MB"
    MEDICARE_A = "MA"
    MEDICAID = "MC"
    COMMERCIAL = "CI"
    BLUE_CROSS = "BL"
    HMO = "HM"
    PPO = "12"
    POS = "13"
    EPO = "14"
    CHAMPUS = "CH"
    VETERANS = "VA"
    WORKERS_COMP = "WC"
    OTHER_NON_FEDERAL = "11"
    SELF_PAY = "09"
    OTHER_FEDERAL = "OF"
    DENTAL_MAINTENANCE = "17"
    AUTOMOBILE_MEDICAL = "AM"
    DISABILITY = "DS"
    FEDERAL_EMPLOYEES = "FI"
    HMO_MEDICARE_RISK = "16"
    LIABILITY_MEDICAL = "LM"
    TITLE_V = "TV"
    MUTUALLY_DEFINED = "ZZ"

    @property
    def is_government(self) -> bool:
        return self in {
            ClaimFilingIndicator.MEDICARE_A,
            ClaimFilingIndicator.MEDICARE_B,
            ClaimFilingIndicator.MEDICAID,
            ClaimFilingIndicator.HMO_MEDICARE_RISK,
        }


class Address(Model):
    line1: str = Field(min_length=1, max_length=55)
    line2: str | None = Field(default=None, max_length=55)
    city: str = Field(min_length=2, max_length=30)
    state: str = Field(pattern=r"^[A-Z]{2}$")
    postal_code: str = Field(pattern=r"^[0-9]{5}([0-9]{4})?$")


class Person(Model):
    """A patient or subscriber. Demographics may be incomplete: the scrubber reports what is missing
    as a demographics finding (a task for a person), so such an encounter is never refused at intake."""

    last_name: str = Field(min_length=1, max_length=60)
    first_name: str = Field(min_length=1, max_length=35)
    middle_name: str | None = Field(default=None, max_length=25)
    birth_date: date | None = None
    sex: Sex = Sex.UNKNOWN
    address: Address | None = None


class Coverage(Model):
    """The insurance the claim is billed to."""

    payer_id: str = Field(min_length=2, max_length=80)
    payer_name: str = Field(min_length=1, max_length=60)
    member_id: str = Field(min_length=2, max_length=80)
    group_number: str | None = Field(default=None, max_length=50)
    group_name: str | None = Field(default=None, max_length=60)
    filing_indicator: ClaimFilingIndicator = ClaimFilingIndicator.COMMERCIAL
    payer_address: Address | None = None
    period_start: date | None = Field(default=None, description="first day covered (FHIR Coverage.period)")
    period_end: date | None = Field(default=None, description="last day covered; None: open-ended")


class EntityType(StrEnum):
    """NM102: 1 a person, 2 an organisation."""

    PERSON = "1"
    ORGANIZATION = "2"


class Provider(Model):
    """A billing, rendering, referring or attending provider."""

    entity_type: EntityType = EntityType.ORGANIZATION
    name: str = Field(min_length=1, max_length=60, description="organisation or last name")
    first_name: str | None = Field(default=None, max_length=35)
    npi: str = Field(pattern=r"^[0-9]{10}$")
    taxonomy: str | None = Field(default=None, pattern=r"^[0-9A-Z]{9}X$")
    tax_id: str | None = Field(default=None, pattern=r"^[0-9]{9}$", description="EIN, 9 digits")
    address: Address | None = None


class Facility(Model):
    """Where the service was rendered when that is not the billing provider's address (2310C)."""

    name: str = Field(min_length=1, max_length=60)
    npi: str | None = Field(default=None, pattern=r"^[0-9]{10}$")
    address: Address


ProcedureCode = Annotated[str, Field(pattern=r"^[A-Z0-9]{5}$")]
DiagnosisCode = Annotated[str, Field(pattern=r"^[A-Z][0-9A-Z]{2,6}$", description="ICD-10-CM, no dot")]
Modifier = Annotated[str, Field(pattern=r"^[A-Z0-9]{2}$")]


class ServiceLine(Model):
    procedure_code: ProcedureCode
    modifiers: list[Modifier] = Field(default_factory=list, max_length=4)
    units: Decimal = Field(gt=0, max_digits=10, decimal_places=3)
    charge: Money
    diagnosis_pointers: list[int] = Field(default_factory=list, max_length=4)
    service_date: date
    service_date_end: date | None = None
    place_of_service: str | None = Field(
        default=None, pattern=r"^[0-9]{2}$", description="when not the claim's"
    )
    revenue_code: str | None = Field(default=None, pattern=r"^[0-9]{4}$", description="institutional lines")
    ndc: str | None = Field(default=None, pattern=r"^[0-9]{11}$")

    @model_validator(mode="after")
    def _pointers_in_range(self) -> ServiceLine:
        for pointer in self.diagnosis_pointers:
            if not 1 <= pointer <= 12:
                raise ValueError(f"diagnosis pointer {pointer} is outside 1..12")
        if self.charge < 0:
            raise ValueError(f"charge {self.charge} is negative")
        return self


class InstitutionalInfo(Model):
    """The fields only an 837I carries."""

    type_of_bill: str = Field(
        pattern=r"^0?[0-9]{3}$", description="facility type + classification + frequency, e.g. 0131"
    )
    admission_date: date | None = None
    admission_hour: str | None = Field(default=None, pattern=r"^[0-9]{2}$")
    admission_type: str | None = Field(default=None, pattern=r"^[0-9]$", description="UB-04 FL14")
    admission_source: str | None = Field(default=None, pattern=r"^[0-9A-Z]$", description="FL15")
    patient_status: str = Field(default="01", pattern=r"^[0-9]{2}$", description="discharge status")
    statement_from: date
    statement_to: date
    attending_provider: Provider | None = None


class ClaimKind(StrEnum):
    PROFESSIONAL = "professional"
    INSTITUTIONAL = "institutional"


class Encounter(Model):
    """One visit or stay, ready to be billed once it carries codes."""

    encounter_id: str = Field(pattern=r"^[A-Za-z0-9._-]{1,38}$", description="opaque, carries no PHI")
    patient: Person
    relationship: Relationship = Relationship.SELF
    subscriber: Person | None = Field(default=None, description="when the patient is not the subscriber")
    coverage: Coverage = Field(description="the primary coverage, or the one a claim bills")
    other_coverages: list[Coverage] = Field(
        default_factory=list,
        max_length=2,
        description="secondary then tertiary coverage (FHIR Claim.insurance sequence, Coverage.order)",
    )
    billing_provider: Provider
    rendering_provider: Provider | None = None
    referring_provider: Provider | None = None
    facility: Facility | None = None
    place_of_service: str = Field(default="11", pattern=r"^[0-9]{2}$")
    service_date: date
    diagnoses: list[DiagnosisCode] = Field(default_factory=list, max_length=12)
    service_lines: list[ServiceLine] = Field(default_factory=list, max_length=50)
    prior_authorization: str | None = Field(default=None, max_length=50)
    institutional: InstitutionalInfo | None = None
    reported_total_charge: Money | None = Field(
        default=None, description="the total the source system stated (e.g. FHIR Claim.total), if any"
    )

    @property
    def kind(self) -> ClaimKind:
        return ClaimKind.INSTITUTIONAL if self.institutional else ClaimKind.PROFESSIONAL

    @property
    def total_charge(self) -> Money:
        return money_sum(line.charge for line in self.service_lines)

    @property
    def is_coded(self) -> bool:
        """A coder has assigned diagnoses and procedures."""
        return bool(self.diagnoses) and bool(self.service_lines)

    @property
    def coverages(self) -> list[Coverage]:
        """Every coverage in order of responsibility: primary first."""
        return [self.coverage, *self.other_coverages]

    @property
    def insured(self) -> Person:
        """The subscriber: the patient themself unless a subscriber is given."""
        return self.subscriber or self.patient

    @model_validator(mode="after")
    def _subscriber_matches_relationship(self) -> Encounter:
        if self.relationship is not Relationship.SELF and self.subscriber is None:
            raise ValueError(
                f"relationship {self.relationship.name.lower()} needs a subscriber: "
                "give the subscriber, or relationship self"
            )
        return self
