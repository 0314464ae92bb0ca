"""What the scrubber reports: findings with a rule, a category, a severity, a message and a fix hint."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from claimflow.claims.claim import Claim
from claimflow.claims.encounter import Encounter, Model


class Category(StrEnum):
    """The kinds of problem payers deny claims for; the JSON output uses exactly these values."""

    DEMOGRAPHICS = "demographics"
    COVERAGE = "coverage"
    PROVIDER = "provider"
    CODE_VALIDITY = "code_validity"
    NCCI_PTP = "ncci_ptp"
    MUE = "mue"
    MODIFIER = "modifier"
    DIAGNOSIS_POINTER = "diagnosis_pointer"
    AGE_SEX = "age_sex"
    PLACE_OF_SERVICE = "place_of_service"
    DUPLICATE = "duplicate"
    TIMELY_FILING = "timely_filing"
    CHARGE = "charge"
    AUTHORIZATION = "authorization"
    ADDRESS = "address"
    REQUIRED_FIELD = "required_field"
    """a field the 837P/837I (5010 TR3) requires is absent"""
    FREQUENCY = "frequency"
    """claim frequency code (CLM05-3) and the original claim number a replacement or void names"""
    STRUCTURE = "structure"
    """the FHIR Bundle itself: a resource that is not valid FHIR, a reference that points nowhere"""


class Severity(StrEnum):
    ERROR = "error"
    """The payer would reject or deny the claim: fix before submission."""
    WARNING = "warning"
    """Worth a look, or already fixed by the scrubber."""


class Finding(Model):
    rule: str = Field(description="stable rule id, e.g. ptp-never-together")
    category: Category
    severity: Severity
    message: str = Field(description="names the field and the value")
    fix: str = Field(description="what to do about it")
    location: str = Field(
        description="path in the encounter, e.g. service_lines[1].modifiers; the FHIR path when the "
        "problem was found reading a Bundle and feeds no encounter field"
    )
    fixed: bool = Field(default=False, description="the scrubber corrected it; message says how")
    fhir_path: str | None = Field(
        default=None, description="where in the FHIR Bundle, e.g. Claim.item[0].diagnosisSequence"
    )
    x12: str | None = Field(default=None, description="the 837 loop and segment it feeds, e.g. 2400 SV107")


class ScrubResult(Model):
    encounter: Encounter = Field(description="the encounter after the scrubber's certain fixes")
    claim: Claim | None = Field(default=None, description="the scrubbed claim, when a claim was given")
    findings: tuple[Finding, ...]

    @property
    def errors(self) -> tuple[Finding, ...]:
        return tuple(finding for finding in self.findings if finding.severity is Severity.ERROR)

    @property
    def has_errors(self) -> bool:
        return any(finding.severity is Severity.ERROR for finding in self.findings)

    @property
    def fixes(self) -> tuple[Finding, ...]:
        return tuple(finding for finding in self.findings if finding.fixed)
