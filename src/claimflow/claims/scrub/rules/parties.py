"""Demographics, coverage and provider rules: who the claim is for, who pays, who bills."""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache

from claimflow.claims.encounter import ClaimFilingIndicator, Person, Provider, Relationship, Sex
from claimflow.claims.npi import is_valid_npi
from claimflow.claims.scrub.context import Context, error, warning
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


def _person(person: Person, where: str, context: Context) -> Iterator[Finding]:
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
    if person.sex is Sex.UNKNOWN:
        yield warning(
            "sex-unknown",
            DEMOGRAPHICS,
            f"{where}.sex",
            f"{where}.sex is U (unknown)",
            "Record the sex on the insurance card; payers reject U when they apply sex edits.",
        )
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
