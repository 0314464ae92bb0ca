"""claimflow Encounter -> FHIR R4 Bundle: the inverse of intake (`encounter_from_bundle`).

The Bundle holds the Claim and what it references: Patient, the subscriber (a RelatedPerson when the
patient is a dependent), Coverage, the payer Organization, the billing provider, careTeam
Practitioners and a facility Location. Resource ids derive from the encounter id, so the same
encounter always gives the same Bundle. An uncoded encounter becomes a Claim without diagnosis or
item, its date of service in billablePeriod.

Not carried, because intake does not read them: the referring provider, line NDCs and the admission
hour. Everything else survives `encounter_from_bundle(bundle_from_encounter(e)) == e`.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from claimflow.claims.encounter import (
    Address,
    ClaimFilingIndicator,
    Encounter,
    EntityType,
    Facility,
    Person,
    Provider,
    Relationship,
    Sex,
)
from claimflow.integrations.fhir import systems

ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
CPT = "http://www.ama-assn.org/go/cpt"
HCPCS = "https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets"
PLACE_OF_SERVICE = "https://www.cms.gov/Medicare/Coding/place-of-service-codes/Place_of_Service_Code_Set"
SOPT = "https://nahdo.org/sopt"
REVENUE = "https://www.nubc.org/CodeSystem/RevenueCodes"
NUBC = "https://www.nubc.org/CodeSystem/"
CARIN_INFO = "http://hl7.org/fhir/us/carin-bb/CodeSystem/C4BBSupportingInfoType"
RELATIONSHIP_SYSTEM = "http://terminology.hl7.org/CodeSystem/subscriber-relationship"

# The Source of Payment Typology code that intake reads back as each filing indicator.
SOPT_OF_INDICATOR: dict[ClaimFilingIndicator, str] = {
    ClaimFilingIndicator.MEDICARE_B: "1",
    ClaimFilingIndicator.MEDICARE_A: "1",  # Part A on an institutional claim
    ClaimFilingIndicator.HMO_MEDICARE_RISK: "11",
    ClaimFilingIndicator.MEDICAID: "2",
    ClaimFilingIndicator.CHAMPUS: "311",
    ClaimFilingIndicator.VETERANS: "32",
    ClaimFilingIndicator.OTHER_FEDERAL: "3",
    ClaimFilingIndicator.HMO: "511",
    ClaimFilingIndicator.PPO: "512",
    ClaimFilingIndicator.POS: "513",
    ClaimFilingIndicator.EPO: "514",
    ClaimFilingIndicator.BLUE_CROSS: "6",
    ClaimFilingIndicator.COMMERCIAL: "5",
    ClaimFilingIndicator.SELF_PAY: "8",
    ClaimFilingIndicator.WORKERS_COMP: "95",
    ClaimFilingIndicator.MUTUALLY_DEFINED: "9",
    ClaimFilingIndicator.OTHER_NON_FEDERAL: "4",
}
RELATIONSHIP_CODES = {
    Relationship.SELF: "self",
    Relationship.SPOUSE: "spouse",
    Relationship.CHILD: "child",
    Relationship.OTHER: "other",
}
GENDERS = {Sex.MALE: "male", Sex.FEMALE: "female", Sex.UNKNOWN: "unknown"}


def _coding(system: str, code: str) -> dict[str, Any]:
    return {"coding": [{"system": system, "code": code}]}


def _reference(resource: dict[str, Any]) -> dict[str, str]:
    return {"reference": f"{resource['resourceType']}/{resource['id']}"}


def _number(value: Decimal) -> int | float:
    """A JSON number that reads back as the same Decimal."""
    return int(value) if value == value.to_integral_value() else float(value)


def _address(address: Address) -> dict[str, Any]:
    lines = [address.line1] + ([address.line2] if address.line2 else [])
    return {"line": lines, "city": address.city, "state": address.state, "postalCode": address.postal_code}


def _person(resource_type: str, ident: str, person: Person) -> dict[str, Any]:
    given = [person.first_name] + ([person.middle_name] if person.middle_name else [])
    resource: dict[str, Any] = {
        "resourceType": resource_type,
        "id": ident,
        "name": [{"use": "official", "family": person.last_name, "given": given}],
        "gender": GENDERS[person.sex],
    }
    if person.birth_date is not None:
        resource["birthDate"] = person.birth_date.isoformat()
    if person.address is not None:
        resource["address"] = [_address(person.address)]
    return resource


def _provider(ident: str, provider: Provider, *, with_taxonomy: bool = True) -> dict[str, Any]:
    """An Organization or Practitioner; the taxonomy goes on it unless a careTeam entry carries it."""
    identifiers = [{"system": systems.NPI, "value": provider.npi}]
    if provider.tax_id:
        identifiers.append({"system": systems.TAX_ID, "value": provider.tax_id})
    resource: dict[str, Any] = {"id": ident, "identifier": identifiers}
    if provider.entity_type is EntityType.ORGANIZATION:
        resource |= {"resourceType": "Organization", "name": provider.name}
        if provider.taxonomy and with_taxonomy:
            resource["type"] = [_coding(systems.NUCC_TAXONOMY, provider.taxonomy)]
    else:
        name: dict[str, Any] = {"family": provider.name}
        if provider.first_name:
            name["given"] = [provider.first_name]
        resource |= {"resourceType": "Practitioner", "name": [name]}
        if provider.taxonomy and with_taxonomy:
            resource["qualification"] = [{"code": _coding(systems.NUCC_TAXONOMY, provider.taxonomy)}]
    if provider.address is not None:
        resource["address"] = [_address(provider.address)]
    return resource


def _facility(ident: str, facility: Facility) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Location",
        "id": ident,
        "name": facility.name,
        "address": _address(facility.address),
    }
    if facility.npi:
        resource["identifier"] = [{"system": systems.NPI, "value": facility.npi}]
    return resource


def _coverage(
    encounter: Encounter, ident: str, patient: dict[str, Any], payer: dict[str, Any]
) -> dict[str, Any]:
    cover = encounter.coverage
    sopt = SOPT_OF_INDICATOR.get(cover.filing_indicator)
    if sopt is None:
        raise ValueError(
            f"encounter {encounter.encounter_id}: filing indicator {cover.filing_indicator.value} has no "
            "Source of Payment Typology code intake reads back; use one of "
            + ", ".join(indicator.value for indicator in SOPT_OF_INDICATOR)
        )
    coverage: dict[str, Any] = {
        "resourceType": "Coverage",
        "id": ident,
        "status": "active",
        "type": _coding(SOPT, sopt),
        "subscriberId": cover.member_id,
        "beneficiary": _reference(patient),
        "relationship": _coding(RELATIONSHIP_SYSTEM, RELATIONSHIP_CODES[encounter.relationship]),
        "payor": [_reference(payer)],
    }
    if cover.group_number:
        group: dict[str, Any] = {
            "type": _coding("http://terminology.hl7.org/CodeSystem/coverage-class", "group"),
            "value": cover.group_number,
        }
        if cover.group_name:
            group["name"] = cover.group_name
        coverage["class"] = [group]
    return coverage


def _payer(ident: str, encounter: Encounter) -> dict[str, Any]:
    cover = encounter.coverage
    payer: dict[str, Any] = {
        "resourceType": "Organization",
        "id": ident,
        "identifier": [
            {"type": _coding(systems.IDENTIFIER_TYPE, systems.PAYER_ID_TYPE), "value": cover.payer_id}
        ],
        "name": cover.payer_name,
    }
    if cover.payer_address is not None:
        payer["address"] = [_address(cover.payer_address)]
    return payer


def _items(encounter: Encounter) -> list[dict[str, Any]]:
    items = []
    for sequence, line in enumerate(encounter.service_lines, start=1):
        system = HCPCS if line.procedure_code[0].isalpha() else CPT
        item: dict[str, Any] = {
            "sequence": sequence,
            "productOrService": _coding(system, line.procedure_code),
            "quantity": {"value": _number(line.units)},
            "net": {"value": _number(line.charge), "currency": "USD"},
        }
        if line.diagnosis_pointers:
            item["diagnosisSequence"] = line.diagnosis_pointers
        if line.modifiers:
            item["modifier"] = [_coding(CPT, modifier) for modifier in line.modifiers]
        if line.service_date_end is not None and line.service_date_end != line.service_date:
            item["servicedPeriod"] = {
                "start": line.service_date.isoformat(),
                "end": line.service_date_end.isoformat(),
            }
        else:
            item["servicedDate"] = line.service_date.isoformat()
        if encounter.institutional is None:
            place = line.place_of_service or encounter.place_of_service
            item["locationCodeableConcept"] = _coding(PLACE_OF_SERVICE, place)
        if line.revenue_code:
            item["revenue"] = _coding(REVENUE, line.revenue_code)
        items.append(item)
    return items


def _supporting_info(encounter: Encounter) -> list[dict[str, Any]]:
    info = encounter.institutional
    assert info is not None
    entries: list[dict[str, Any]] = [
        {
            "category": _coding(CARIN_INFO, "typeofbill"),
            "code": _coding(NUBC + "TypeOfBill", info.type_of_bill),
        },
        {
            "category": _coding(CARIN_INFO, "discharge-status"),
            "code": _coding(NUBC + "PatDischargeStatus", info.patient_status),
        },
    ]
    if info.admission_date is not None:
        entries.append(
            {
                "category": _coding(CARIN_INFO, "admissionperiod"),
                "timingPeriod": {"start": info.admission_date.isoformat()},
            }
        )
    if info.admission_type:
        entries.append(
            {
                "category": _coding(CARIN_INFO, "admtype"),
                "code": _coding(NUBC + "PriorityTypeOfAdmitOrVisit", info.admission_type),
            }
        )
    if info.admission_source:
        entries.append(
            {
                "category": _coding(CARIN_INFO, "pointoforigin"),
                "code": _coding(NUBC + "PointOfOrigin", info.admission_source),
            }
        )
    return [{"sequence": n, **entry} for n, entry in enumerate(entries, start=1)]


def _period(start: date, end: date) -> dict[str, str]:
    return {"start": start.isoformat(), "end": end.isoformat()}


def bundle_from_encounter(encounter: Encounter) -> dict[str, Any]:
    """A FHIR R4 Bundle (type collection) that intake reads back as this encounter."""
    key = encounter.encounter_id
    patient = _person("Patient", f"{key}-patient", encounter.patient)
    payer = _payer(f"{key}-payer", encounter)
    coverage = _coverage(encounter, f"{key}-coverage", patient, payer)
    billing = _provider(f"{key}-billing", encounter.billing_provider)
    resources: list[dict[str, Any]] = [patient, coverage, payer, billing]
    if encounter.subscriber is not None and encounter.relationship is not Relationship.SELF:
        subscriber = _person("RelatedPerson", f"{key}-subscriber", encounter.subscriber)
        subscriber["patient"] = _reference(patient)
        coverage["subscriber"] = _reference(subscriber)
        resources.append(subscriber)
    institutional = encounter.institutional is not None
    claim: dict[str, Any] = {
        "resourceType": "Claim",
        "id": key,
        "status": "active",
        "type": _coding("http://terminology.hl7.org/CodeSystem/claim-type", encounter.kind.value),
        "use": "claim",
        "patient": _reference(patient),
        "created": encounter.service_date.isoformat(),
        "provider": _reference(billing),
        "priority": _coding("http://terminology.hl7.org/CodeSystem/processpriority", "normal"),
        "insurance": [{"sequence": 1, "focal": True, "coverage": _reference(coverage)}],
    }
    if encounter.prior_authorization:
        claim["insurance"][0]["preAuthRef"] = [encounter.prior_authorization]
    for number, other in enumerate(encounter.other_coverages, start=2):
        # secondary and tertiary coverage: Claim.insurance in sequence, each with its payer
        covered = encounter.model_copy(update={"coverage": other})
        other_payer = _payer(f"{key}-payer-{number}", covered)
        other_coverage = _coverage(covered, f"{key}-coverage-{number}", patient, other_payer)
        other_coverage["subscriber"] = coverage.get("subscriber", _reference(patient))
        if "subscriber" not in coverage:
            del other_coverage["subscriber"]
        resources.extend([other_coverage, other_payer])
        claim["insurance"].append(
            {"sequence": number, "focal": False, "coverage": _reference(other_coverage)}
        )
    team_member = encounter.institutional.attending_provider if encounter.institutional else None
    team_member = team_member or (None if institutional else encounter.rendering_provider)
    if team_member is not None:
        practitioner = _provider(f"{key}-clinician", team_member, with_taxonomy=False)
        resources.append(practitioner)
        member: dict[str, Any] = {
            "sequence": 1,
            "provider": _reference(practitioner),
            "role": _coding("http://terminology.hl7.org/CodeSystem/claimcareteamrole", "primary"),
        }
        if team_member.taxonomy:
            member["qualification"] = _coding(systems.NUCC_TAXONOMY, team_member.taxonomy)
        claim["careTeam"] = [member]
    if encounter.facility is not None:
        location = _facility(f"{key}-facility", encounter.facility)
        resources.append(location)
        claim["facility"] = _reference(location)
    if encounter.diagnoses:
        claim["diagnosis"] = [
            {"sequence": sequence, "diagnosisCodeableConcept": _coding(ICD10CM, code)}
            for sequence, code in enumerate(encounter.diagnoses, start=1)
        ]
    if encounter.service_lines:
        claim["item"] = _items(encounter)
    if encounter.institutional is not None:
        info = encounter.institutional
        claim["billablePeriod"] = _period(info.statement_from, info.statement_to)
        claim["supportingInfo"] = _supporting_info(encounter)
    elif not encounter.service_lines:
        # No line carries the date of service: the billable period does (intake reads it there).
        claim["billablePeriod"] = _period(encounter.service_date, encounter.service_date)
    if encounter.reported_total_charge is not None:
        claim["total"] = {"value": _number(encounter.reported_total_charge), "currency": "USD"}
    resources.append(claim)
    return {
        "resourceType": "Bundle",
        "id": f"{key}-bundle",
        "type": "collection",
        "entry": [
            {"fullUrl": f"urn:claimflow:{r['resourceType']}/{r['id']}", "resource": r} for r in resources
        ],
    }
