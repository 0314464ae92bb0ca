"""FHIR R4 Bundle -> claimflow Encounter, with the fhir.resources R4B models.

The Bundle holds one Claim (use = claim) and the resources it references, in any order: Patient,
Coverage, the payer Organization, the billing provider (Organization or Practitioner), careTeam
Practitioners, and optionally Conditions (diagnosisReference) and a facility Location. Every problem
found is reported with the entry and the path inside it, e.g.
"Bundle.entry[3] (Coverage/cov1).subscriberId is missing", and all of them at once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from fhir.resources.R4B import get_fhir_model_class
from pydantic import ValidationError

from claimflow.claims.claim import FrequencyCode
from claimflow.claims.encounter import ClaimFilingIndicator, ClaimKind, Encounter, Relationship
from claimflow.claims.payers import filing_indicator_for_sopt
from claimflow.integrations.fhir import systems
from claimflow.integrations.fhir.errors import IntakeError
from claimflow.integrations.fhir.locations import SourceMap, intake_finding
from claimflow.integrations.fhir.result import IntakeResult

RELATIONSHIPS = {
    "self": Relationship.SELF,
    "spouse": Relationship.SPOUSE,
    "child": Relationship.CHILD,
}
GENDERS = {"male": "M", "female": "F"}
ENCOUNTER_ID = re.compile(r"^[A-Za-z0-9._-]{1,38}$")


@dataclass(frozen=True)
class Entry:
    index: int
    resource: Any
    resource_type: str
    resource_id: str

    @property
    def label(self) -> str:
        return f"Bundle.entry[{self.index}] ({self.resource_type}/{self.resource_id or 'no id'})"


def _path(location: tuple[int | str, ...]) -> str:
    text = ""
    for part in location:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text


def _codes(concept: Any, accepted: frozenset[str] | str | None = None) -> list[str]:
    """The codes of a CodeableConcept, from the accepted systems only (any system when None)."""
    if concept is None:
        return []
    found = []
    for coding in concept.coding or []:
        system = coding.system or ""
        if coding.code and (
            accepted is None or (system == accepted if isinstance(accepted, str) else system in accepted)
        ):
            found.append(str(coding.code))
    return found


def _identifier(resource: Any, system: str) -> str | None:
    for identifier in getattr(resource, "identifier", None) or []:
        if identifier.system == system and identifier.value:
            return str(identifier.value)
    return None


class BundleReader:
    """Reads one Bundle; collects every problem before giving up."""

    def __init__(self, data: Any, source: str) -> None:
        self.source = source
        self.problems: list[str] = []
        self.entries: list[Entry] = []
        self.by_reference: dict[str, Entry] = {}
        self.invalid_types: set[str] = set()
        """resource types of entries that failed validation (already reported)"""
        self.sources = SourceMap()
        self.frequency = FrequencyCode.ORIGINAL
        self.original_claim_number: str | None = None
        if not isinstance(data, dict) or data.get("resourceType") != "Bundle":
            raise IntakeError(source, ["the top-level resource is not a FHIR Bundle (resourceType 'Bundle')"])
        raw_entries = data.get("entry")
        if not isinstance(raw_entries, list) or not raw_entries:
            self.problems.append("Bundle.entry is missing or empty: the Bundle must hold a Claim")
            raw_entries = []
        for index, raw in enumerate(raw_entries):
            self._add(index, raw)

    def _add(self, index: int, raw: Any) -> None:
        where = f"Bundle.entry[{index}]"
        resource = raw.get("resource") if isinstance(raw, dict) else None
        if not isinstance(resource, dict) or not isinstance(resource.get("resourceType"), str):
            self.problems.append(f"{where}.resource is missing or has no resourceType")
            return
        resource_type, resource_id = resource["resourceType"], str(resource.get("id") or "")
        label = f"{where} ({resource_type}/{resource_id or 'no id'})"
        try:
            model = get_fhir_model_class(resource_type)
        except (KeyError, ValueError):
            self.problems.append(f"{label}: {resource_type} is not a FHIR R4 resource type")
            return
        try:
            parsed = model.model_validate(resource)
        except ValidationError as exc:
            self.invalid_types.add(resource_type)
            for error in exc.errors():
                detail = "is missing" if error["type"] == "missing" else f"is invalid: {error['msg']}"
                self.problems.append(f"{label}{_path(tuple(error['loc']))} {detail}")
            return
        entry = Entry(index, parsed, resource_type, resource_id)
        self.entries.append(entry)
        if resource_id:
            self.by_reference[f"{resource_type}/{resource_id}"] = entry
        full_url = raw.get("fullUrl")
        if isinstance(full_url, str) and full_url:
            self.by_reference[full_url] = entry
            if resource_id and full_url.endswith(f"/{resource_type}/{resource_id}"):
                self.by_reference[f"{resource_type}/{resource_id}"] = entry

    def resolve(self, reference: Any, where: str, *expected: str) -> Entry | None:
        """The entry a Reference points at; a problem (and None) when absent or of the wrong type."""
        target = getattr(reference, "reference", None)
        if not target:
            self.problems.append(f"{where} is missing")
            return None
        entry = self.by_reference.get(str(target))
        if entry is None:
            self.problems.append(
                f"{where} refers to {target}, which is not in the Bundle: add the {'/'.join(expected)} entry"
            )
            return None
        if entry.resource_type not in expected:
            self.problems.append(f"{where} refers to {entry.label}, expected {' or '.join(expected)}")
            return None
        return entry


def _person(reader: BundleReader, entry: Entry) -> dict[str, Any] | None:
    resource = entry.resource
    names = resource.name or []
    name = next((n for n in names if n.use == "official"), names[0] if names else None)
    if name is None or not name.family or not name.given:
        reader.problems.append(f"{entry.label}.name is missing a family or given name")
        return None
    given = [str(part) for part in name.given]
    gender = str(resource.gender) if resource.gender is not None else None
    if gender is not None and gender not in (*GENDERS, "other", "unknown"):
        reader.problems.append(
            f"{entry.label}.gender {gender!r} is not a FHIR administrative-gender code: write male, "
            "female, other or unknown (lower case)"
        )
    person: dict[str, Any] = {
        "last_name": str(name.family),
        "first_name": given[0],
        "middle_name": given[1] if len(given) > 1 else None,
        "birth_date": resource.birthDate,
        "sex": GENDERS.get(str(resource.gender or ""), "U"),
    }
    addresses = resource.address or []
    if addresses:
        person["address"] = _address(reader, addresses[0], f"{entry.label}.address[0]")
    return person


def _address(reader: BundleReader, address: Any, where: str) -> dict[str, Any] | None:
    lines = [str(line) for line in address.line or []]
    postal = re.sub(r"[\s-]", "", str(address.postalCode or ""))
    missing = [
        name
        for name, value in (
            ("line", lines),
            ("city", address.city),
            ("state", address.state),
            ("postalCode", postal),
        )
        if not value
    ]
    if missing:
        reader.problems.append(
            f"{where}.{missing[0]} is missing (an address needs line, city, state, postalCode)"
        )
        return None
    return {
        "line1": lines[0],
        "line2": lines[1] if len(lines) > 1 else None,
        "city": str(address.city),
        "state": str(address.state).upper(),
        "postal_code": postal,
    }


def _provider(reader: BundleReader, entry: Entry, qualification: Any = None) -> dict[str, Any] | None:
    resource = entry.resource
    npi = _identifier(resource, systems.NPI)
    if npi is None:
        reader.problems.append(f"{entry.label}.identifier has no NPI (system {systems.NPI})")
        return None
    provider: dict[str, Any] = {"npi": npi, "tax_id": _identifier(resource, systems.TAX_ID)}
    taxonomy = _codes(qualification, systems.NUCC_TAXONOMY)
    if entry.resource_type == "Organization":
        if not resource.name:
            reader.problems.append(f"{entry.label}.name is missing")
            return None
        provider |= {"entity_type": "2", "name": str(resource.name)}
        for concept in resource.type or []:
            taxonomy = taxonomy or _codes(concept, systems.NUCC_TAXONOMY)
    else:
        names = resource.name or []
        if not names or not names[0].family:
            reader.problems.append(f"{entry.label}.name is missing a family name")
            return None
        provider |= {
            "entity_type": "1",
            "name": str(names[0].family),
            "first_name": str(names[0].given[0]) if names[0].given else None,
        }
        for held in resource.qualification or []:
            taxonomy = taxonomy or _codes(held.code, systems.NUCC_TAXONOMY)
    if taxonomy:
        provider["taxonomy"] = taxonomy[0]
    addresses = resource.address or []
    if addresses:
        provider["address"] = _address(reader, addresses[0], f"{entry.label}.address[0]")
    return provider


def _first_code(
    reader: BundleReader, concept: Any, accepted: frozenset[str], where: str, what: str
) -> str | None:
    codes = _codes(concept, accepted)
    if not codes:
        shown = sorted(accepted)[0]
        reader.problems.append(f"{where} has no {what} code (coding.system {shown})")
        return None
    return codes[0]


def encounter_from_bundle(data: Any, source: str = "FHIR Bundle") -> Encounter:
    """Build the Encounter the Bundle's Claim describes, or raise IntakeError listing every problem."""
    result = read_bundle(data, source)
    if result.encounter is None:
        raise IntakeError(source, [finding.message for finding in result.errors], result.errors)
    return result.encounter


def read_bundle(data: Any, source: str = "FHIR Bundle") -> IntakeResult:
    """Read the Bundle's Claim whole: the encounter, or every problem found in it as located findings.

    Raises IntakeError only when `data` is not a FHIR Bundle at all."""
    reader = BundleReader(data, source)
    claims = [
        entry for entry in reader.entries if entry.resource_type == "Claim" and entry.resource.use == "claim"
    ]
    kind = ClaimKind.PROFESSIONAL
    encounter = None
    if len(claims) != 1 and not (not claims and "Claim" in reader.invalid_types):
        found = ", ".join(entry.label for entry in claims) or "none"
        reader.problems.append(f"the Bundle must hold exactly one Claim with use 'claim' (found: {found})")
    if len(claims) == 1:
        fields = _read_claim(reader, claims[0])
        reader.sources.patient_is_subscriber = fields.get("relationship") is Relationship.SELF
        if fields.get("institutional") is not None:
            kind = ClaimKind.INSTITUTIONAL
        try:
            encounter = Encounter.model_validate(fields)
        except ValidationError as exc:
            reader.problems.extend(
                f"{claims[0].label}: encounter field {_path(tuple(error['loc'])).lstrip('.')} {error['msg']}"
                for error in exc.errors()
                # a part the reader could not read is reported already; its absence is not news
                if not reader.problems or (error["type"] != "missing" and error["input"] is not None)
            )
    findings = tuple(intake_finding(problem, kind, reader.sources) for problem in reader.problems)
    return IntakeResult(
        source=source,
        encounter=None if findings else encounter,
        findings=findings,
        frequency=reader.frequency,
        original_claim_number=reader.original_claim_number,
        sources=reader.sources,
    )


def _read_claim(reader: BundleReader, claim_entry: Entry) -> dict[str, Any]:
    """The Encounter's fields from the Claim and what it references."""
    claim = claim_entry.resource
    label = claim_entry.label
    claim_types = _codes(claim.type, systems.CLAIM_TYPE) or _codes(claim.type)
    has_bill_type = _supporting(claim, "typeofbill") is not None
    if not has_bill_type and (not claim_types or claim_types[0] not in ("professional", "institutional")):
        reader.problems.append(
            f"{label}.type is {claim_types or 'missing'}; expected professional or institutional"
        )
    # a type of bill makes it an institutional (UB-04) claim whatever Claim.type says
    institutional = has_bill_type or (bool(claim_types) and claim_types[0] == "institutional")
    fields: dict[str, Any] = {"encounter_id": claim_entry.resource_id}
    if not ENCOUNTER_ID.match(claim_entry.resource_id):
        reader.problems.append(
            f"{label}.id {claim_entry.resource_id!r} cannot be the encounter id: give the Claim an id of "
            "1 to 38 letters, digits, '.', '_' or '-' (it becomes CLM01, the patient control number)"
        )

    patient_entry = reader.resolve(claim.patient, f"{label}.patient", "Patient")
    if patient_entry is not None:
        fields["patient"] = _person(reader, patient_entry)
        reader.sources.resources["patient"] = "Patient"

    insurance = claim.insurance or []
    if not insurance:
        reader.problems.append(f"{label}.insurance is missing")
    else:
        _read_insurance(reader, claim, label, fields, institutional)

    provider_entry = reader.resolve(claim.provider, f"{label}.provider", "Organization", "Practitioner")
    if provider_entry is not None:
        fields["billing_provider"] = _provider(reader, provider_entry)
        reader.sources.resources["billing_provider"] = provider_entry.resource_type
    rendering = _care_team(reader, claim, label)
    if rendering is not None and not institutional:
        reader.sources.resources["rendering_provider"] = "Practitioner"
        fields["rendering_provider"] = rendering

    if claim.facility is not None:
        location_entry = reader.resolve(claim.facility, f"{label}.facility", "Location")
        if location_entry is not None and location_entry.resource.address is not None:
            location = location_entry.resource
            fields["facility"] = {
                "name": str(location.name or "SERVICE LOCATION"),
                "npi": _identifier(location, systems.NPI),
                "address": _address(reader, location.address, f"{location_entry.label}.address"),
            }

    diagnoses = _diagnoses(reader, claim, label)
    fields["diagnoses"] = [code for _, code in diagnoses if code]
    lines, place = _items(reader, claim, label, diagnoses, institutional)
    fields["service_lines"] = lines
    if place:
        fields["place_of_service"] = place
    dates = [line["service_date"] for line in lines if line.get("service_date")]
    if dates:
        fields["service_date"] = min(dates)
    elif claim.billablePeriod is not None and claim.billablePeriod.start is not None:
        fields["service_date"] = _as_date(claim.billablePeriod.start)
    elif not reader.problems:
        reader.problems.append(f"{label}.item has no servicedDate or servicedPeriod")
    if claim.total is not None and claim.total.value is not None:
        fields["reported_total_charge"] = str(claim.total.value)
    if institutional:
        fields["institutional"] = _institutional(reader, claim, label, dates, rendering)
    _frequency(reader, claim, label, fields.get("institutional"))
    return fields


def _frequency(reader: BundleReader, claim: Any, label: str, institutional: dict[str, Any] | None) -> None:
    """CLM05-3 from the Claim: a replacement when it names a prior claim (Claim.related, relationship
    prior) or its type of bill ends in 7; a void when the Claim is cancelled or the type of bill ends
    in 8. The payer's claim number it replaces is Claim.related.reference."""
    related = [
        (index, item)
        for index, item in enumerate(claim.related or [])
        if not item.relationship or "prior" in _codes(item.relationship)
    ]
    numbers = [str(item.reference.value) for _, item in related if item.reference and item.reference.value]
    digit = str(institutional.get("type_of_bill") or "")[-1:] if institutional else ""
    if claim.status == "cancelled" or digit == "8":
        reader.frequency = FrequencyCode.VOID
    elif related or digit == "7":
        reader.frequency = FrequencyCode.REPLACEMENT
    reader.original_claim_number = numbers[0] if numbers else None
    if reader.frequency is not FrequencyCode.ORIGINAL and not numbers:
        where = f"{label}.related[{related[0][0]}].reference" if related else f"{label}.related"
        reader.problems.append(
            f"{where} is missing: a {reader.frequency.name.lower()} (frequency {reader.frequency.value}) "
            "must name the payer's claim number of the claim it replaces (837 REF*F8); give it as "
            "Claim.related.reference with relationship prior"
        )


MAX_COVERAGES = 3  # primary, secondary, tertiary


def _read_insurance(
    reader: BundleReader, claim: Any, label: str, fields: dict[str, Any], institutional: bool
) -> None:
    """Every coverage in order of application: Claim.insurance.sequence, then Coverage.order, then
    the focal one first. The first is the encounter's coverage (with the relationship and the
    subscriber), the others its other_coverages."""
    resolved = []
    for position, item in enumerate(claim.insurance):
        entry = reader.resolve(item.coverage, f"{label}.insurance[{position}].coverage", "Coverage")
        if entry is not None:
            order = entry.resource.order if entry.resource.order is not None else MAX_COVERAGES + 1
            resolved.append(((item.sequence, order, not item.focal, position), item, entry))
    if len(claim.insurance) > MAX_COVERAGES:
        reader.problems.append(
            f"{label}.insurance has {len(claim.insurance)} coverages: claimflow bills at most "
            f"{MAX_COVERAGES} in order (primary, secondary, tertiary); leave out the ones that do not apply"
        )
    resolved.sort(key=lambda found: found[0])
    for rank, (_, item, entry) in enumerate(resolved[:MAX_COVERAGES]):
        if rank == 0:
            if item.preAuthRef:
                fields["prior_authorization"] = str(item.preAuthRef[0])
            _read_coverage(reader, entry, claim, fields, institutional)
        else:
            other: dict[str, Any] = {}
            _read_coverage(reader, entry, claim, other, institutional)
            fields.setdefault("other_coverages", []).append(other["coverage"])


def _read_coverage(
    reader: BundleReader, entry: Entry, claim: Any, fields: dict[str, Any], institutional: bool
) -> None:
    coverage = entry.resource
    label = entry.label
    if not coverage.subscriberId:
        reader.problems.append(f"{label}.subscriberId is missing (the member id from the insurance card)")
    reader.sources.resources.setdefault("coverage", "Coverage")
    relationship_codes = _codes(coverage.relationship)
    relationship = (
        RELATIONSHIPS.get(relationship_codes[0], Relationship.OTHER) if relationship_codes else None
    )
    if relationship is None:
        reader.problems.append(f"{label}.relationship is missing (self, spouse, child, other)")
        relationship = Relationship.SELF
    fields["relationship"] = relationship
    if relationship is not Relationship.SELF:
        subscriber_entry = reader.resolve(
            coverage.subscriber, f"{label}.subscriber", "Patient", "RelatedPerson"
        )
        if subscriber_entry is not None:
            fields["subscriber"] = _person(reader, subscriber_entry)
            reader.sources.resources["subscriber"] = subscriber_entry.resource_type
    payers = coverage.payor or []
    payer_entry = reader.resolve(payers[0] if payers else None, f"{label}.payor[0]", "Organization")
    sopt = _codes(coverage.type, systems.SOURCE_OF_PAYMENT)
    indicator = ClaimFilingIndicator.COMMERCIAL
    if not sopt:
        reader.problems.append(
            f"{label}.type has no Source of Payment Typology code (system https://nahdo.org/sopt), "
            "which tells the claim filing indicator"
        )
    else:
        try:
            indicator = filing_indicator_for_sopt(sopt[0], institutional=institutional)
        except ValueError as exc:
            reader.problems.append(f"{label}.type: {exc}")
    group_number = group_name = None
    for held in coverage.class_fhir or []:
        if "group" in _codes(held.type):
            group_number, group_name = str(held.value), str(held.name) if held.name else None
    cover: dict[str, Any] = {
        "member_id": str(coverage.subscriberId) if coverage.subscriberId else None,  # missing: said above
        "filing_indicator": indicator,
        "group_number": group_number,
        "group_name": group_name,
    }
    if coverage.period is not None:
        cover["period_start"] = _as_date(coverage.period.start) if coverage.period.start else None
        cover["period_end"] = _as_date(coverage.period.end) if coverage.period.end else None
    if coverage.status in ("cancelled", "entered-in-error"):
        reader.problems.append(
            f"{label}.status is {coverage.status}: the coverage is not in force, so no claim can bill it"
        )
    if payer_entry is not None:
        payer = payer_entry.resource
        payer_id = next(
            (
                str(identifier.value)
                for identifier in payer.identifier or []
                if identifier.value
                and systems.PAYER_ID_TYPE in _codes(identifier.type, systems.IDENTIFIER_TYPE)
            ),
            None,
        )
        if payer_id is None:
            reader.problems.append(
                f"{payer_entry.label}.identifier has no payer id (an identifier whose type is "
                f"{systems.IDENTIFIER_TYPE}#{systems.PAYER_ID_TYPE})"
            )
        if not payer.name:
            reader.problems.append(f"{payer_entry.label}.name is missing")
        cover |= {"payer_id": payer_id, "payer_name": str(payer.name or "")}
        if payer.address:
            cover["payer_address"] = _address(reader, payer.address[0], f"{payer_entry.label}.address[0]")
    fields["coverage"] = cover


def _care_team(reader: BundleReader, claim: Any, label: str) -> dict[str, Any] | None:
    """The rendering (professional) or attending (institutional) provider: the 'primary' careTeam member."""
    team = list(enumerate(claim.careTeam or []))
    chosen = next(
        ((i, member) for i, member in team if "primary" in _codes(member.role)), team[0] if team else None
    )
    if chosen is None:
        return None
    index, member = chosen
    entry = reader.resolve(
        member.provider, f"{label}.careTeam[{index}].provider", "Practitioner", "Organization"
    )
    return _provider(reader, entry, member.qualification) if entry is not None else None


def _diagnoses(reader: BundleReader, claim: Any, label: str) -> list[tuple[int, str | None]]:
    """(sequence, ICD-10-CM code without the dot) in sequence order; None for a diagnosis that could
    not be read (its problem is reported once; lines pointing at it are not reported again)."""
    found: list[tuple[int, str | None]] = []
    for index, diagnosis in sorted(enumerate(claim.diagnosis or []), key=lambda pair: pair[1].sequence):
        where = f"{label}.diagnosis[{index}]"
        concept = diagnosis.diagnosisCodeableConcept
        if concept is None and diagnosis.diagnosisReference is not None:
            condition = reader.resolve(
                diagnosis.diagnosisReference, f"{where}.diagnosisReference", "Condition"
            )
            concept = condition.resource.code if condition is not None else None
            if condition is None:
                found.append((diagnosis.sequence, None))
                continue
        code = _first_code(reader, concept, systems.ICD10CM, where, "ICD-10-CM")
        found.append((diagnosis.sequence, code.replace(".", "").upper() if code else None))
        if code:
            reader.sources.diagnoses.append(index)
    return found


def _items(
    reader: BundleReader, claim: Any, label: str, diagnoses: list[tuple[int, str | None]], institutional: bool
) -> tuple[list[dict[str, Any]], str | None]:
    """The service lines, and the claim's place of service (the first line's)."""
    readable = [sequence for sequence, code in diagnoses if code]
    pointer_of = {sequence: position for position, sequence in enumerate(readable, start=1)}
    unreadable = {sequence for sequence, code in diagnoses if not code}
    lines: list[dict[str, Any]] = []
    places: list[str] = []
    if not claim.item and (claim.billablePeriod is None or claim.billablePeriod.start is None):
        # An uncoded encounter (no item yet) is accepted when billablePeriod gives its date of service.
        reader.problems.append(f"{label}.item is missing: the Claim bills no service")
    for index, item in sorted(enumerate(claim.item or []), key=lambda pair: pair[1].sequence):
        where = f"{label}.item[{index}]"
        code = _first_code(
            reader,
            item.productOrService,
            systems.CPT | systems.HCPCS,
            where + ".productOrService",
            "CPT or HCPCS",
        )
        quantity = (
            Decimal(str(item.quantity.value))
            if item.quantity and item.quantity.value is not None
            else Decimal(1)
        )
        if item.net is not None and item.net.value is not None:
            charge, charged = Decimal(str(item.net.value)), "net"
        elif item.unitPrice is not None and item.unitPrice.value is not None:
            charge = Decimal(str(item.unitPrice.value)) * quantity * Decimal(str(item.factor or 1))
            charged = "unitPrice"
        else:
            reader.problems.append(f"{where} has neither net nor unitPrice: the line has no charge")
            continue
        if charge < 0:
            reader.problems.append(
                f"{where}.{charged} is {charge}: a charge cannot be negative (a credit goes on a "
                "replacement claim, not as a negative line)"
            )
            charge = Decimal(0)  # reported once here, not again by the encounter's validation
        if quantity <= 0:
            reader.problems.append(f"{where}.quantity is {quantity}: a line bills at least one unit")
            quantity = Decimal(1)
        if item.servicedDate is not None:
            start, end = item.servicedDate, None
        elif item.servicedPeriod is not None and item.servicedPeriod.start is not None:
            start = _as_date(item.servicedPeriod.start)
            end = _as_date(item.servicedPeriod.end) if item.servicedPeriod.end else None
        else:
            reader.problems.append(f"{where}.servicedDate is missing (or servicedPeriod.start)")
            continue
        pointers = []
        for sequence in item.diagnosisSequence or []:
            if sequence in pointer_of:
                pointers.append(pointer_of[sequence])
            elif sequence not in unreadable:
                reader.problems.append(
                    f"{where}.diagnosisSequence {sequence} matches no Claim.diagnosis.sequence"
                )
        line: dict[str, Any] = {
            "procedure_code": (code or "").upper(),
            "modifiers": [m.upper() for concept in item.modifier or [] for m in _codes(concept)[:1]],
            "units": quantity,
            "charge": charge,
            "diagnosis_pointers": pointers,
            "service_date": start,
            "service_date_end": end if end != start else None,
        }
        reader.sources.items.append(index)
        place = _codes(item.locationCodeableConcept, systems.PLACE_OF_SERVICE)
        if place:
            places.append(place[0])
            line["place_of_service"] = place[0]
        if institutional:
            revenue = _codes(item.revenue, systems.REVENUE_CODES) or _codes(item.revenue)
            line["revenue_code"] = revenue[0] if revenue else None
        lines.append(line)
    claim_place = places[0] if places else None
    for line in lines:
        if claim_place is not None and line.get("place_of_service") == claim_place:
            del line["place_of_service"]  # the same as the claim's: the 837 carries it once
    return lines, claim_place


def _as_date(value: Any) -> date:
    return value.date() if hasattr(value, "date") and callable(value.date) else value  # type: ignore[no-any-return]


def _supporting(claim: Any, category: str) -> Any:
    for info in claim.supportingInfo or []:
        if category in [code.lower() for code in _codes(info.category)]:
            return info
    return None


def _institutional(
    reader: BundleReader, claim: Any, label: str, dates: list[date], attending: dict[str, Any] | None
) -> dict[str, Any] | None:
    bill = _supporting(claim, "typeofbill")
    type_of_bill = (_codes(bill.code)[:1] or [bill.valueString])[0] if bill is not None else None
    if not type_of_bill:
        reader.problems.append(
            f"{label}.supportingInfo has no type of bill (category 'typeofbill' with the code, e.g. 0131)"
        )
        return None
    period = claim.billablePeriod
    start = _as_date(period.start) if period is not None and period.start else (min(dates) if dates else None)
    end = _as_date(period.end) if period is not None and period.end else (max(dates) if dates else None)
    info: dict[str, Any] = {
        "type_of_bill": str(type_of_bill),
        "statement_from": start,
        "statement_to": end,
        "attending_provider": attending,
    }
    admission = _supporting(claim, "admissionperiod")
    if admission is not None and admission.timingPeriod is not None and admission.timingPeriod.start:
        info["admission_date"] = _as_date(admission.timingPeriod.start)
    for category, name in (("admtype", "admission_type"), ("pointoforigin", "admission_source")):
        found = _supporting(claim, category)
        if found is not None and _codes(found.code):
            info[name] = _codes(found.code)[0]
    discharge = _supporting(claim, "discharge-status")
    if discharge is not None and _codes(discharge.code):
        info["patient_status"] = _codes(discharge.code)[0]
    return info
