"""Demographics, coverage and provider rules: who the claim is for, who pays, who bills."""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache

from claimflow.claims.codesets.reference import is_em, us_state_codes
from claimflow.claims.encounter import (
    Address,
    ClaimFilingIndicator,
    ClaimKind,
    EntityType,
    Person,
    Provider,
    Relationship,
    Sex,
)
from claimflow.claims.npi import is_valid_npi
from claimflow.claims.scrub.context import Context, age_on, error, warning
from claimflow.claims.scrub.findings import Category, Finding

DEMOGRAPHICS = Category.DEMOGRAPHICS
COVERAGE = Category.COVERAGE
PROVIDER = Category.PROVIDER

MEMBER_ID = re.compile(r"^[A-Za-z0-9-]+$")
PLACEHOLDER_IDS = frozenset({"UNKNOWN", "NONE", "NA", "N-A", "PENDING", "TBD", "SELFPAY", "000000000"})
# NPIs repeat across a practice's claims: remember the answer (the check is pure)
npi_is_valid = lru_cache(maxsize=65_536)(is_valid_npi)
TAXONOMY = re.compile(r"^[0-9]{3}[0-9A-Z]{6}X$")
PO_BOX = re.compile(r"\bP\.?\s*O\.?\s*BOX\b|\bPOST OFFICE BOX\b|\bLOCK ?BOX\b", re.IGNORECASE)


@lru_cache(maxsize=4096)
def is_po_box(street: str) -> bool:
    return PO_BOX.search(street) is not None


OLDEST_AGE = 120
"""older than this on the date of service is a mistyped birth date (the MCE adult range ends at 124)"""
ADDRESS = Category.ADDRESS


def address_findings(address: Address | None, where: str) -> Iterator[Finding]:
    """An 837 N4: a USPS state or territory code and a ZIP code that is not all zeros."""
    if address is None:
        return
    if address.state not in us_state_codes():
        yield error(
            "address-state-invalid",
            ADDRESS,
            f"{where}.state",
            f"{where}.state {address.state} is not a US state, territory or military post office code",
            "Use the USPS two-letter code (e.g. IL, PR, AE); an address outside the US needs N404 country.",
        )
    if address.postal_code.strip("0") == "" or address.postal_code[:5] == "00000":
        yield error(
            "address-zip-invalid",
            ADDRESS,
            f"{where}.postal_code",
            f"{where}.postal_code {address.postal_code} is not a ZIP code",
            "Enter the 5-digit ZIP code, or ZIP+4 (9 digits) where the 837 requires it.",
        )


def _person(person: Person, where: str, context: Context) -> Iterator[Finding]:
    age = age_on(person, context.encounter.service_date)
    if person.birth_date is None:
        yield error(
            "birth-date-missing",
            DEMOGRAPHICS,
            f"{where}.birth_date",
            f"{where}.birth_date is missing for {person.last_name}",
            "Enter the birth date from the registration or the insurance card.",
        )
    elif person.birth_date > context.encounter.service_date:
        yield error(
            "birth-date-after-service",
            DEMOGRAPHICS,
            f"{where}.birth_date",
            f"{where}.birth_date {person.birth_date} is after the date of service "
            f"{context.encounter.service_date}",
            "Correct the birth date or the date of service.",
        )
    elif age is not None and age > OLDEST_AGE:
        yield error(
            "birth-date-implausible",
            DEMOGRAPHICS,
            f"{where}.birth_date",
            f"{where}.birth_date {person.birth_date} makes {person.last_name} {age} on the date of service",
            "Check the birth date's year against the registration or the insurance card.",
        )
    if person.sex is Sex.UNKNOWN:
        yield error(
            "sex-unknown",
            DEMOGRAPHICS,
            f"{where}.sex",
            f"{where}.sex is U (unknown or not recorded)",
            "Record the sex on the insurance card (837 DMG03 M or F); payers' front ends reject U.",
        )
    yield from address_findings(person.address, f"{where}.address")
    if person.address is None:
        yield error(
            "address-missing",
            DEMOGRAPHICS,
            f"{where}.address",
            f"{where}.address is missing for {person.last_name}",
            "Enter the street, city, state and ZIP code (required in the 837 subscriber/patient loop).",
        )


def demographics(context: Context) -> Iterator[Finding]:
    encounter = context.encounter
    yield from _person(encounter.patient, "patient", context)
    if encounter.subscriber is not None and encounter.relationship is not Relationship.SELF:
        yield from _person(encounter.subscriber, "subscriber", context)


def coverage(context: Context) -> Iterator[Finding]:
    cover = context.encounter.coverage
    member = cover.member_id.strip()
    if not MEMBER_ID.match(member) or member.upper() in PLACEHOLDER_IDS:
        yield error(
            "member-id-invalid",
            COVERAGE,
            "coverage.member_id",
            f"coverage.member_id {cover.member_id!r} is not a member id "
            "(letters, digits and hyphens only, no placeholder)",
            "Copy the member id from the insurance card or the eligibility response (271).",
        )
    if cover.filing_indicator is ClaimFilingIndicator.SELF_PAY:
        yield error(
            "self-pay-coverage",
            COVERAGE,
            "coverage.filing_indicator",
            "coverage.filing_indicator is 09 (self-pay): there is no payer to bill",
            "Bill the patient directly, or record the patient's insurance.",
        )
    yield from _coverage_period(context)
    profile = context.profile
    if not profile.is_default and cover.filing_indicator is not profile.filing_indicator:
        yield warning(
            "filing-indicator-mismatch",
            COVERAGE,
            "coverage.filing_indicator",
            f"coverage.filing_indicator {cover.filing_indicator.value} differs from payer "
            f"{profile.payer_id}'s {profile.filing_indicator.value} ({profile.name})",
            "Check the plan type on the card; payers reject a claim whose SBR09 does not match the plan.",
        )


def _coverage_period(context: Context) -> Iterator[Finding]:
    """Every date of service inside the coverage period; without a period the rule cannot tell."""
    encounter = context.encounter
    cover = encounter.coverage
    if cover.period_start is None and cover.period_end is None:
        yield warning(
            "coverage-period-unknown",
            COVERAGE,
            "coverage.period",
            "coverage.period is not given, so the dates of service could not be checked against it",
            "Record the coverage's effective dates (FHIR Coverage.period, or the 271's DTP*291).",
        )
        return
    days = sorted({line.service_date for line in encounter.service_lines} | {encounter.service_date})
    days += [line.service_date_end for line in encounter.service_lines if line.service_date_end]
    outside = sorted(
        {
            day
            for day in days
            if (cover.period_start is not None and day < cover.period_start)
            or (cover.period_end is not None and day > cover.period_end)
        }
    )
    if outside:
        period = f"{cover.period_start or 'open'} to {cover.period_end or 'open'}"
        yield error(
            "coverage-period",
            COVERAGE,
            "coverage.period",
            f"date(s) of service {', '.join(day.isoformat() for day in outside)} fall outside the "
            f"coverage period {period} of {cover.payer_name}",
            "Bill the coverage in force on the date of service (check eligibility), or the patient.",
        )


def _provider(provider: Provider | None, where: str) -> Iterator[Finding]:
    if provider is None:
        return
    if not npi_is_valid(provider.npi):
        yield error(
            "npi-check-digit",
            PROVIDER,
            f"{where}.npi",
            f"{where}.npi {provider.npi} fails the NPI check digit (Luhn over 80840 + the first 9 digits)",
            "Look the provider up in NPPES and copy the NPI again.",
        )
    if provider.taxonomy is not None and not TAXONOMY.match(provider.taxonomy):
        yield error(
            "taxonomy-format",
            PROVIDER,
            f"{where}.taxonomy",
            f"{where}.taxonomy {provider.taxonomy} is not a taxonomy code (3 digits, 6 letters/digits, X)",
            "Use the provider's taxonomy code from NPPES, e.g. 207Q00000X.",
        )
    if provider.address is not None:
        yield from address_findings(provider.address, f"{where}.address")


def provider(context: Context) -> Iterator[Finding]:
    encounter = context.encounter
    billing = encounter.billing_provider
    yield from _provider(billing, "billing_provider")
    yield from _provider(encounter.rendering_provider, "rendering_provider")
    yield from _provider(encounter.referring_provider, "referring_provider")
    if encounter.institutional is not None:
        yield from _provider(encounter.institutional.attending_provider, "institutional.attending_provider")
        if encounter.institutional.attending_provider is None:
            yield error(
                "attending-missing",
                PROVIDER,
                "institutional.attending_provider",
                "institutional.attending_provider is missing on an institutional claim",
                "Name the attending physician with their NPI (837I loop 2310A).",
            )
    yield from _required_providers(context)
    if encounter.facility is not None:
        yield from address_findings(encounter.facility.address, "facility.address")
    if encounter.facility is not None and encounter.facility.npi and not npi_is_valid(encounter.facility.npi):
        yield error(
            "npi-check-digit",
            PROVIDER,
            "facility.npi",
            f"facility.npi {encounter.facility.npi} fails the NPI check digit",
            "Look the facility up in NPPES and copy the NPI again.",
        )
    if billing.tax_id is None:
        yield error(
            "billing-tax-id-missing",
            PROVIDER,
            "billing_provider.tax_id",
            f"billing_provider.tax_id is missing for {billing.name}",
            "Enter the billing provider's EIN (nine digits; 837 REF*EI).",
        )
    if billing.address is None:
        yield error(
            "billing-address-missing",
            PROVIDER,
            "billing_provider.address",
            f"billing_provider.address is missing for {billing.name}",
            "Enter the billing provider's street address (837 loop 2010AA).",
        )
    elif len(billing.address.postal_code) != 9:
        yield error(
            "billing-zip-plus-4",
            PROVIDER,
            "billing_provider.address.postal_code",
            f"billing_provider.address.postal_code {billing.address.postal_code} has 5 digits; the 837 "
            "billing provider address needs the full ZIP+4",
            "Add the 4-digit ZIP extension (USPS lookup of the street address).",
        )
    if billing.address is not None and is_po_box(f"{billing.address.line1} {billing.address.line2 or ''}"):
        yield error(
            "billing-address-po-box",
            PROVIDER,
            "billing_provider.address.line1",
            f"billing_provider.address.line1 {billing.address.line1!r} is a post office box",
            "Give the street address where the provider practises; a PO box may go in pay-to address.",
        )


def _required_providers(context: Context) -> Iterator[Finding]:
    """The providers the 837 cannot go without: a person who rendered the service when an organisation
    bills a professional claim (2310B), and the taxonomy (2000A PRV) where the payer requires it."""
    encounter = context.encounter
    billing = encounter.billing_provider
    if (
        encounter.kind is ClaimKind.PROFESSIONAL
        and billing.entity_type is EntityType.ORGANIZATION
        and encounter.rendering_provider is None
    ):
        visits = [line.procedure_code for line in encounter.service_lines if is_em(line.procedure_code)]
        message = (
            f"rendering_provider is missing and {billing.name}, the billing provider, is an organisation"
        )
        fix = "Add the rendering practitioner with their NPI (FHIR Claim.careTeam, role primary; 837P 2310B)."
        if visits:
            yield error(
                "rendering-provider-missing",
                PROVIDER,
                "rendering_provider",
                f"{message}: {visits[0]} is a visit a practitioner renders in person",
                fix,
            )
        else:  # suppliers, independent labs and ambulances bill without a rendering person
            yield warning(
                "rendering-provider-missing",
                PROVIDER,
                "rendering_provider",
                f"{message}; unless it is a supplier, lab or ambulance, the payer needs who rendered the "
                "services",
                fix,
            )
    if billing.taxonomy is None:
        message = f"billing_provider.taxonomy is missing for {billing.name}"
        fix = "Give the billing provider's NUCC taxonomy code from NPPES (837 2000A PRV*BI)."
        if context.profile.taxonomy_required:
            yield error(
                "taxonomy-missing",
                PROVIDER,
                "billing_provider.taxonomy",
                f"{message}; {context.profile.name} requires it",
                fix,
            )
        elif context.profile.is_default:
            yield warning(
                "taxonomy-missing",
                PROVIDER,
                "billing_provider.taxonomy",
                f"{message}; {context.profile.payer_id} has no profile to say whether it requires one",
                fix,
            )
