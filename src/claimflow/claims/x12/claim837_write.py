"""Writing 837P (005010X222A1) and 837I (005010X223A2) claim files from Claim models.

One transaction set per batch: the billing providers are 2000A loops, each claim has its own 2000B
subscriber loop (and 2000C patient loop when the patient is a dependent) with its 2300 claim.
"""

from __future__ import annotations

from collections.abc import Sequence

from claimflow.claims.claim import Claim
from claimflow.claims.encounter import (
    Address,
    ClaimFilingIndicator,
    ClaimKind,
    Encounter,
    EntityType,
    InstitutionalInfo,
    Person,
    Provider,
    Relationship,
    ServiceLine,
)
from claimflow.claims.other_payers import OtherPayer, PayerResponsibility
from claimflow.claims.x12.errors import X12WriteError
from claimflow.claims.x12.remittance835 import write_adjustments
from claimflow.claims.x12.segments import format_date
from claimflow.claims.x12.writer import Envelope, SegmentWriter, TransactionBody, write_interchange

PROFESSIONAL_VERSION = "005010X222A1"
INSTITUTIONAL_VERSION = "005010X223A2"
VERSIONS = {ClaimKind.PROFESSIONAL: PROFESSIONAL_VERSION, ClaimKind.INSTITUTIONAL: INSTITUTIONAL_VERSION}


def write_837(claims: Sequence[Claim], envelope: Envelope) -> str:
    """One interchange holding every claim of the batch; all claims must be of one kind."""
    kind = batch_kind(claims)
    return write_interchange(envelope, [claim_transaction(claims, envelope, kind)])


def batch_kind(claims: Sequence[Claim]) -> ClaimKind:
    """The kind shared by every claim of a batch; a mixed or empty batch cannot be one 837."""
    if not claims:
        raise X12WriteError("an 837 needs at least one claim")
    kinds = {claim.encounter.kind for claim in claims}
    if len(kinds) > 1:
        professional = [
            c.patient_control_number for c in claims if c.encounter.kind is ClaimKind.PROFESSIONAL
        ]
        raise X12WriteError(
            f"the batch mixes professional and institutional claims (professional: "
            f"{', '.join(professional[:5])}{'...' if len(professional) > 5 else ''}); "
            "an 837 file holds one kind: write the 837P and the 837I batches separately"
        )
    return kinds.pop()


def claim_transaction(claims: Sequence[Claim], envelope: Envelope, kind: ClaimKind) -> TransactionBody:
    """The ST..SE body of one 837 holding `claims`, grouped by billing provider."""
    out = SegmentWriter()
    out.add(
        "BHT",
        "0019",
        "00",
        str(envelope.interchange_control_number),
        format_date(envelope.created.date()),
        envelope.created.strftime("%H%M"),
        "CH",
    )
    out.add("NM1", "41", "2", envelope.submitter_name, None, None, None, None, "46", envelope.sender_id)
    out.add("PER", "IC", envelope.submitter_contact, "TE", envelope.submitter_phone)
    out.add("NM1", "40", "2", envelope.receiver_name, None, None, None, None, "46", envelope.receiver_id)
    by_provider: dict[Provider, list[Claim]] = {}
    for claim in claims:
        by_provider.setdefault(claim.encounter.billing_provider, []).append(claim)
    hl = 0
    for provider, provider_claims in by_provider.items():
        hl += 1
        provider_hl = hl
        out.add("HL", provider_hl, None, "20", "1")
        _billing_provider(out, provider)
        for claim in provider_claims:
            encounter = claim.encounter
            dependent = encounter.relationship is not Relationship.SELF
            hl += 1
            subscriber_hl = hl
            out.add("HL", subscriber_hl, provider_hl, "22", "1" if dependent else "0")
            _subscriber(out, claim)
            if dependent:
                hl += 1
                out.add("HL", hl, subscriber_hl, "23", "0")
                out.add("PAT", encounter.relationship.value)
                _person(out, "QC", encounter.patient, f"patient of claim {claim.patient_control_number}")
            if kind is ClaimKind.PROFESSIONAL:
                _professional_claim(out, claim)
            else:
                _institutional_claim(out, claim)
    return TransactionBody("837", VERSIONS[kind], out.segments)


def _billing_provider(out: SegmentWriter, provider: Provider) -> None:
    where = f"billing provider {provider.npi}"
    if provider.taxonomy:
        out.add("PRV", "BI", "PXC", provider.taxonomy)
    _provider_name(out, "85", provider)
    if provider.address is None:
        raise X12WriteError(f"{where} has no address: 2010AA N3/N4 is required; add the street address")
    if len(provider.address.postal_code) != 9:
        raise X12WriteError(
            f"{where} has ZIP code {provider.address.postal_code}: the billing provider's ZIP must have "
            "9 digits (ZIP+4) in 2010AA N403; add the 4-digit extension"
        )
    _address(out, provider.address)
    if not provider.tax_id:
        raise X12WriteError(f"{where} has no tax id: 2010AA REF*EI is required; add the EIN")
    out.add("REF", "EI", provider.tax_id)


def _subscriber(out: SegmentWriter, claim: Claim) -> None:
    encounter = claim.encounter
    coverage = encounter.coverage
    if coverage.filing_indicator is ClaimFilingIndicator.SELF_PAY:
        raise X12WriteError(
            f"coverage {coverage.payer_id} is self-pay (09): 5010 has no such SBR09 code; "
            "bill the patient instead of sending an 837"
        )
    relationship = "18" if encounter.relationship is Relationship.SELF else None
    out.add(
        "SBR",
        claim.responsibility.value,
        relationship,
        coverage.group_number,
        coverage.group_name,
        _medicare_secondary_type(coverage.filing_indicator, claim.responsibility, encounter.kind),
        None,
        None,
        None,
        coverage.filing_indicator.value,
    )
    insured = encounter.insured
    out.add(
        "NM1",
        "IL",
        "1",
        insured.last_name,
        insured.first_name,
        insured.middle_name,
        None,
        None,
        "MI",
        coverage.member_id,
    )
    if insured.address:
        _address(out, insured.address)
    if insured.birth_date:
        out.add("DMG", "D8", format_date(insured.birth_date), insured.sex.value)
    out.add("NM1", "PR", "2", coverage.payer_name, None, None, None, None, "PI", coverage.payer_id)
    if coverage.payer_address:
        _address(out, coverage.payer_address)


def _person(out: SegmentWriter, entity: str, person: Person, where: str) -> None:
    """2010CA: a dependent patient, whose address and birth date the guide requires."""
    if person.address is None:
        raise X12WriteError(f"{where} has no address: 2010CA N3/N4 is required for a dependent")
    if person.birth_date is None:
        raise X12WriteError(f"{where} has no birth date: 2010CA DMG is required for a dependent")
    out.add("NM1", entity, "1", person.last_name, person.first_name, person.middle_name)
    _address(out, person.address)
    out.add("DMG", "D8", format_date(person.birth_date), person.sex.value)


def _professional_claim(out: SegmentWriter, claim: Claim) -> None:
    encounter = claim.encounter
    _claim_header(out, claim, (encounter.place_of_service, "B", claim.frequency.value), professional=True)
    _claim_references(out, claim)
    _diagnoses_professional(out, claim)
    if encounter.referring_provider:
        _provider_name(out, "DN", encounter.referring_provider, person_only=True)
    if encounter.rendering_provider:
        _provider_name(out, "82", encounter.rendering_provider)
        if encounter.rendering_provider.taxonomy:
            out.add("PRV", "PE", "PXC", encounter.rendering_provider.taxonomy)
    _facility(out, encounter)
    _other_payers(out, claim)
    for number, line in enumerate(encounter.service_lines, start=1):
        where = f"claim {claim.patient_control_number} line {number}"
        if not line.diagnosis_pointers:
            raise X12WriteError(f"{where} has no diagnosis pointer: SV107 needs at least one (1..12)")
        if max(line.diagnosis_pointers) > len(encounter.diagnoses):
            raise X12WriteError(
                f"{where} points to diagnosis {max(line.diagnosis_pointers)} but the claim has "
                f"{len(encounter.diagnoses)}: fix the pointer or add the diagnosis"
            )
        pos = line.place_of_service if line.place_of_service != encounter.place_of_service else None
        out.add("LX", number)
        out.add(
            "SV1",
            _procedure(line),
            line.charge,
            "UN",
            line.units,
            pos,
            None,
            [str(pointer) for pointer in line.diagnosis_pointers],
        )
        _line_tail(out, line)
        _line_adjudications(out, claim, number, professional=True)


def _institutional_claim(out: SegmentWriter, claim: Claim) -> None:
    encounter = claim.encounter
    info = encounter.institutional
    assert info is not None  # the batch kind says so
    where = f"claim {claim.patient_control_number}"
    facility_type = info.type_of_bill[-3:-1]
    _claim_header(out, claim, (facility_type, "A", claim.frequency.value), professional=False)
    out.add("DTP", "434", "RD8", f"{format_date(info.statement_from)}-{format_date(info.statement_to)}")
    if info.admission_date:
        if info.admission_hour:
            out.add("DTP", "435", "DT", format_date(info.admission_date) + info.admission_hour + "00")
        else:
            out.add("DTP", "435", "D8", format_date(info.admission_date))
    if info.admission_type is None:
        raise X12WriteError(f"{where} has no admission type: CL101 is required on an 837I (UB-04 FL14)")
    out.add("CL1", info.admission_type, info.admission_source, info.patient_status)
    _claim_references(out, claim)
    _diagnoses_institutional(out, claim)
    _institutional_providers(out, encounter, info)
    _other_payers(out, claim)
    for number, line in enumerate(encounter.service_lines, start=1):
        if line.revenue_code is None:
            raise X12WriteError(f"{where} line {number} has no revenue code: SV201 is required on an 837I")
        out.add("LX", number)
        out.add("SV2", line.revenue_code, _procedure(line), line.charge, "UN", line.units)
        _line_tail(out, line)
        _line_adjudications(out, claim, number, professional=False)


def _institutional_providers(out: SegmentWriter, encounter: Encounter, info: InstitutionalInfo) -> None:
    """2310A attending, 2310D rendering, 2310E service facility, 2310F referring, in the guide's order."""
    if info.attending_provider:
        _provider_name(out, "71", info.attending_provider, person_only=True)
        if info.attending_provider.taxonomy:
            out.add("PRV", "AT", "PXC", info.attending_provider.taxonomy)
    if encounter.rendering_provider:
        _provider_name(out, "82", encounter.rendering_provider, person_only=True)
    _facility(out, encounter)
    if encounter.referring_provider:
        _provider_name(out, "DN", encounter.referring_provider, person_only=True)


def _claim_header(
    out: SegmentWriter, claim: Claim, place: tuple[str, str, str], *, professional: bool
) -> None:
    encounter = claim.encounter
    if not encounter.service_lines:
        raise X12WriteError(
            f"claim {claim.patient_control_number} has no service line: code the encounter first"
        )
    if professional:
        out.add(
            "CLM", claim.patient_control_number, claim.total_charge, None, None, place, "Y", "A", "Y", "Y"
        )
    else:
        out.add(
            "CLM", claim.patient_control_number, claim.total_charge, None, None, place, None, "A", "Y", "Y"
        )


def _claim_references(out: SegmentWriter, claim: Claim) -> None:
    """REF*G1 prior authorization, REF*F8 payer's original claim, REF*EA our encounter id (guide order)."""
    encounter = claim.encounter
    if encounter.prior_authorization:
        out.add("REF", "G1", encounter.prior_authorization)
    if claim.original_claim_number:
        out.add("REF", "F8", claim.original_claim_number)
    if encounter.encounter_id != claim.patient_control_number:
        out.add("REF", "EA", encounter.encounter_id)


def _diagnoses_professional(out: SegmentWriter, claim: Claim) -> None:
    codes = claim.encounter.diagnoses
    if not codes:
        raise X12WriteError(f"claim {claim.patient_control_number} has no diagnosis: HI*ABK is required")
    out.add("HI", ("ABK", codes[0]), *[("ABF", code) for code in codes[1:]])


def _diagnoses_institutional(out: SegmentWriter, claim: Claim) -> None:
    codes = claim.encounter.diagnoses
    if not codes:
        raise X12WriteError(f"claim {claim.patient_control_number} has no diagnosis: HI*ABK is required")
    out.add("HI", ("ABK", codes[0]))
    if len(codes) > 1:  # at most 11 others (the encounter holds 12), so one HI carries them all
        out.add("HI", *[("ABF", code) for code in codes[1:]])


def _facility(out: SegmentWriter, encounter: Encounter) -> None:
    facility = encounter.facility
    if facility is None:
        return
    qualifier = "XX" if facility.npi else None
    out.add("NM1", "77", "2", facility.name, None, None, None, None, qualifier, facility.npi)
    _address(out, facility.address)


def _provider_name(out: SegmentWriter, entity: str, provider: Provider, *, person_only: bool = False) -> None:
    if person_only and provider.entity_type is not EntityType.PERSON:
        raise X12WriteError(
            f"provider {provider.npi} in NM1*{entity} must be a person (NM102 = 1): "
            "give a last and first name"
        )
    first = provider.first_name if provider.entity_type is EntityType.PERSON else None
    out.add(
        "NM1", entity, provider.entity_type.value, provider.name, first, None, None, None, "XX", provider.npi
    )


def _address(out: SegmentWriter, address: Address) -> None:
    out.add("N3", address.line1, address.line2)
    out.add("N4", address.city, address.state, address.postal_code)


def _procedure(line: ServiceLine) -> tuple[str, ...]:
    return ("HC", line.procedure_code, *line.modifiers)


def _line_tail(out: SegmentWriter, line: ServiceLine) -> None:
    """DTP*472 date of service, then the 2410 drug loop when the line carries an NDC."""
    if line.service_date_end and line.service_date_end != line.service_date:
        out.add("DTP", "472", "RD8", f"{format_date(line.service_date)}-{format_date(line.service_date_end)}")
    else:
        out.add("DTP", "472", "D8", format_date(line.service_date))
    if line.ndc:
        out.add("LIN", None, "N4", line.ndc)
        out.add("CTP", None, None, None, line.units, "UN")


# coordination of benefits: 2320/2330A/2330B per other payer, 2430 per line ------------------------

MEDICARE = frozenset({ClaimFilingIndicator.MEDICARE_A, ClaimFilingIndicator.MEDICARE_B})
MEDICARE_SECONDARY_WORKING_AGED = "12"
"""SBR05 when Medicare is not primary; claimflow does not record the MSP reason, so it states the
commonest one (the patient or spouse works for an employer whose group plan pays first)."""


def _medicare_secondary_type(
    indicator: ClaimFilingIndicator, responsibility: PayerResponsibility, kind: ClaimKind
) -> str | None:
    """SBR05, an 837P element only (the 837I leaves it unused)."""
    if (
        kind is ClaimKind.PROFESSIONAL
        and indicator in MEDICARE
        and responsibility is not PayerResponsibility.PRIMARY
    ):
        return MEDICARE_SECONDARY_WORKING_AGED
    return None


def _other_payers(out: SegmentWriter, claim: Claim) -> None:
    """Loop 2320 (other subscriber: SBR, the payer's claim-level CAS, AMT*D paid, OI) with 2330A
    (the other subscriber) and 2330B (the other payer: DTP*573 when no line says when it decided,
    REF*F8 its claim number), for every other payer in order."""
    encounter = claim.encounter
    insured = encounter.insured
    for other in claim.other_payers:
        coverage = other.coverage
        decision = other.adjudication
        if coverage.payer_id == encounter.coverage.payer_id:
            raise X12WriteError(
                f"claim {claim.patient_control_number} names the billed payer {coverage.payer_id} as an "
                "other payer too (2320): each payer appears once, the billed one in 2010BB"
            )
        out.add(
            "SBR",
            other.responsibility.value,
            encounter.relationship.value,
            coverage.group_number,
            coverage.group_name,
            _medicare_secondary_type(coverage.filing_indicator, other.responsibility, encounter.kind),
            None,
            None,
            None,
            coverage.filing_indicator.value,
        )
        if decision is not None:
            write_adjustments(out, decision.adjustments)
            out.add("AMT", "D", decision.paid)
        out.add("OI", None, None, "Y", None, None, "Y")
        out.add(
            "NM1",
            "IL",
            "1",
            insured.last_name,
            insured.first_name,
            insured.middle_name,
            None,
            None,
            "MI",
            coverage.member_id,
        )
        if insured.address:
            _address(out, insured.address)
        out.add("NM1", "PR", "2", coverage.payer_name, None, None, None, None, "PI", coverage.payer_id)
        if coverage.payer_address:
            _address(out, coverage.payer_address)
        if decision is not None:
            if not decision.lines:
                out.add("DTP", "573", "D8", format_date(decision.adjudicated_on))
            if decision.payer_claim_number:
                out.add("REF", "F8", decision.payer_claim_number)


def _line_adjudications(out: SegmentWriter, claim: Claim, number: int, *, professional: bool) -> None:
    """Loop 2430 for line `number`: each earlier payer's SVD paid amount, its line CAS, DTP*573."""
    for other in _adjudicated(claim.other_payers):
        assert other.adjudication is not None
        line = other.adjudication.line(number)
        if line is None:
            continue
        procedure = ("HC", line.procedure_code, *line.modifiers)
        if professional:
            out.add("SVD", other.coverage.payer_id, line.paid, procedure, None, line.paid_units)
        else:
            out.add("SVD", other.coverage.payer_id, line.paid, procedure, line.revenue_code, line.paid_units)
        write_adjustments(out, line.adjustments)
        out.add("DTP", "573", "D8", format_date(line.adjudicated_on))


def _adjudicated(others: Sequence[OtherPayer]) -> list[OtherPayer]:
    return [other for other in others if other.adjudication is not None]
