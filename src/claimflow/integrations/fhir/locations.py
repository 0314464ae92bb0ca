"""Findings located in the Bundle: a problem met while reading becomes a Finding with its FHIR path, the
encounter field it feeds and the 837 segment; a scrub finding on the encounter gets its FHIR path back.

Every problem the reader reports starts with where it is, `Bundle.entry[3] (Coverage/cov1).subscriberId`
or `Bundle.entry[5] (Claim/c1): encounter field service_lines.0.charge`, so one parser locates them all.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from claimflow.claims.encounter import ClaimKind
from claimflow.claims.scrub import Category, Finding, Severity
from claimflow.claims.scrub.locations import x12_location

_LOCATED = re.compile(
    r"^Bundle\.entry\[(?P<entry>\d+)\](?: \((?P<type>\w+)/(?P<id>[^)]*)\))?(?P<path>[^\s:]*)"
)
_ENCOUNTER_FIELD = re.compile(r": encounter field (?P<field>\S+)")
_INDEX = re.compile(r"\[\d+\]")

# (resource type or *, FHIR element path without indices: prefix) -> (category, encounter field it feeds)
_FHIR_FIELDS: tuple[tuple[str, str, Category, str | None], ...] = (
    ("Claim", ".item.diagnosisSequence", Category.DIAGNOSIS_POINTER, "service_lines.diagnosis_pointers"),
    ("Claim", ".item.productOrService", Category.CODE_VALIDITY, "service_lines.procedure_code"),
    ("Claim", ".item.modifier", Category.MODIFIER, "service_lines.modifiers"),
    ("Claim", ".item.locationCodeableConcept", Category.PLACE_OF_SERVICE, "place_of_service"),
    ("Claim", ".item.servicedDate", Category.REQUIRED_FIELD, "service_lines.service_date"),
    ("Claim", ".item.servicedPeriod", Category.REQUIRED_FIELD, "service_lines.service_date"),
    ("Claim", ".item.net", Category.CHARGE, "service_lines.charge"),
    ("Claim", ".item.unitPrice", Category.CHARGE, "service_lines.charge"),
    ("Claim", ".item.quantity", Category.MUE, "service_lines.units"),
    ("Claim", ".item.revenue", Category.CODE_VALIDITY, "service_lines.revenue_code"),
    ("Claim", ".item", Category.CODE_VALIDITY, "service_lines"),
    ("Claim", ".diagnosis", Category.CODE_VALIDITY, "diagnoses"),
    ("Claim", ".insurance.preAuthRef", Category.AUTHORIZATION, "prior_authorization"),
    ("Claim", ".insurance", Category.COVERAGE, "coverage"),
    ("Claim", ".careTeam", Category.PROVIDER, "rendering_provider"),
    ("Claim", ".provider", Category.PROVIDER, "billing_provider"),
    ("Claim", ".total", Category.CHARGE, "reported_total_charge"),
    ("Claim", ".related", Category.FREQUENCY, "original_claim_number"),
    ("Claim", ".supportingInfo", Category.REQUIRED_FIELD, "institutional"),
    ("Claim", ".billablePeriod", Category.REQUIRED_FIELD, "service_date"),
    ("Claim", ".type", Category.REQUIRED_FIELD, None),
    ("Claim", ".patient", Category.STRUCTURE, "patient"),
    ("Claim", ".facility", Category.PROVIDER, "facility"),
    ("Claim", ".id", Category.STRUCTURE, None),
    ("Coverage", ".subscriberId", Category.COVERAGE, "coverage.member_id"),
    ("Coverage", ".type", Category.COVERAGE, "coverage.filing_indicator"),
    ("Coverage", ".period", Category.COVERAGE, "coverage.period"),
    ("Coverage", ".payor", Category.COVERAGE, "coverage.payer_id"),
    ("Coverage", "", Category.COVERAGE, "coverage"),
    ("*", ".address", Category.ADDRESS, None),
    ("Patient", ".birthDate", Category.DEMOGRAPHICS, "patient.birth_date"),
    ("Patient", ".gender", Category.DEMOGRAPHICS, "patient.sex"),
    ("Patient", "", Category.DEMOGRAPHICS, "patient"),
    ("RelatedPerson", "", Category.DEMOGRAPHICS, "subscriber"),
    ("Practitioner", "", Category.PROVIDER, None),
    ("Location", "", Category.PROVIDER, "facility"),
)
_PAYER_PROBLEMS = ("has no payer id",)

# encounter field (no indices) -> category, for problems the Encounter model found in what was read
_ENCOUNTER_CATEGORIES: tuple[tuple[str, Category], ...] = (
    ("service_lines.diagnosis_pointers", Category.DIAGNOSIS_POINTER),
    ("service_lines.place_of_service", Category.PLACE_OF_SERVICE),
    ("service_lines.modifiers", Category.MODIFIER),
    ("service_lines.charge", Category.CHARGE),
    ("service_lines.units", Category.MUE),
    ("service_lines", Category.CODE_VALIDITY),
    ("place_of_service", Category.PLACE_OF_SERVICE),
    ("diagnoses", Category.CODE_VALIDITY),
    ("reported_total_charge", Category.CHARGE),
    ("prior_authorization", Category.AUTHORIZATION),
    ("coverage", Category.COVERAGE),
    ("other_coverages", Category.COVERAGE),
    ("patient", Category.DEMOGRAPHICS),
    ("subscriber", Category.DEMOGRAPHICS),
    ("relationship", Category.COVERAGE),
    ("institutional", Category.REQUIRED_FIELD),
    ("", Category.PROVIDER),
)
_FIX = "Correct it in the source system (or the Bundle) and send the encounter again."


def _kebab(text: str) -> str:
    text = _INDEX.sub("", text).replace(".", "-").replace("_", "-")
    return re.sub(r"(?<=[a-z])(?=[A-Z])", "-", text).lower().strip("-")


def _category_of_field(path: str) -> Category:
    key = _INDEX.sub("", path)
    if ".address" in key or key.endswith("address"):
        return Category.ADDRESS
    return next(category for prefix, category in _ENCOUNTER_CATEGORIES if key.startswith(prefix))


def intake_finding(
    problem: str, kind: ClaimKind = ClaimKind.PROFESSIONAL, sources: SourceMap | None = None
) -> Finding:
    """The Finding for one problem the Bundle reader reported (its text starts with where it is).
    `sources` turns an encounter field the problem names back into the FHIR element it was read from."""
    located = _LOCATED.match(problem)
    encounter_field = _ENCOUNTER_FIELD.search(problem)
    if encounter_field is not None:
        feeds = re.sub(r"\.(\d+)(?=\.|$)", r"[\1]", encounter_field["field"])
        category, rule = _category_of_field(feeds), "intake-" + _kebab(feeds)
        fhir_path = sources.fhir_path(feeds) if sources is not None else None
        if fhir_path is None and located is not None and located["type"]:
            fhir_path = located["type"]
    elif located is not None and located["type"]:
        resource, path = located["type"], located["path"]
        bare = _INDEX.sub("", path)
        category, feeds = Category.STRUCTURE, None
        for kind_of, prefix, found_category, found_feeds in _FHIR_FIELDS:
            if kind_of in (resource, "*") and bare.startswith(prefix):
                category, feeds = found_category, found_feeds
                break
        else:
            if resource == "Organization":
                category = (
                    Category.COVERAGE if any(p in problem for p in _PAYER_PROBLEMS) else Category.PROVIDER
                )
        if "refers to" in problem or "is not a FHIR R4 resource type" in problem:
            category = Category.STRUCTURE
        fhir_path = f"{resource}{path}"
        rule = "intake-" + _kebab(f"{resource}{path}")
    else:
        category, feeds, fhir_path, rule = Category.STRUCTURE, None, "Bundle.entry", "intake-bundle"
    return Finding(
        rule=rule,
        category=category,
        severity=Severity.ERROR,
        message=problem,
        fix=_FIX,
        location=feeds or fhir_path or "Bundle",
        fhir_path=fhir_path,
        x12=x12_location(
            feeds, kind, patient_is_subscriber=sources is not None and sources.patient_is_subscriber
        )
        if feeds
        else None,
    )


# encounter field (no indices) -> FHIR element, under the resource the SourceMap names for its root
_FHIR_ELEMENTS = {
    "birth_date": "birthDate",
    "sex": "gender",
    "address": "address[0]",
    "address.state": "address[0].state",
    "address.postal_code": "address[0].postalCode",
    "address.line1": "address[0].line[0]",
    "address.city": "address[0].city",
    "last_name": "name[0].family",
    "first_name": "name[0].given[0]",
    "member_id": "subscriberId",
    "filing_indicator": "type",
    "period": "period",
    "group_number": "class",
    "npi": "identifier",
    "tax_id": "identifier",
    "taxonomy": "qualification",
    "procedure_code": "productOrService",
    "modifiers": "modifier",
    "units": "quantity",
    "charge": "net",
    "diagnosis_pointers": "diagnosisSequence",
    "service_date": "servicedDate",
    "place_of_service": "locationCodeableConcept",
    "revenue_code": "revenue",
}
_CLAIM_FIELDS = {
    "place_of_service": "Claim.item[0].locationCodeableConcept",
    "service_date": "Claim.item[0].servicedDate",
    "prior_authorization": "Claim.insurance[0].preAuthRef",
    "reported_total_charge": "Claim.total",
    "original_claim_number": "Claim.related[0].reference",
    "institutional.type_of_bill": "Claim.supportingInfo(typeofbill)",
    "institutional.admission_type": "Claim.supportingInfo(admtype)",
    "institutional.admission_source": "Claim.supportingInfo(pointoforigin)",
    "institutional.admission_date": "Claim.supportingInfo(admissionperiod)",
    "institutional.patient_status": "Claim.supportingInfo(discharge-status)",
    "institutional.statement_from": "Claim.billablePeriod.start",
    "institutional.statement_to": "Claim.billablePeriod.end",
    "institutional.attending_provider": "Claim.careTeam",
    "rendering_provider": "Claim.careTeam",
    "diagnoses": "Claim.diagnosis",
    "service_lines": "Claim.item",
    "coverage.payer_id": "Coverage.payor",
    "coverage.payer_name": "Coverage.payor",
}
_PATH = re.compile(r"^(?P<root>[a-z_]+)(?:\[(?P<index>\d+)\])?(?:\.(?P<rest>.+))?$")


@dataclass
class SourceMap:
    """Which resource and element of the Bundle each part of the encounter was read from."""

    resources: dict[str, str] = field(default_factory=dict)
    """encounter root (patient, subscriber, coverage, billing_provider, ...) -> its resource type"""
    items: list[int] = field(default_factory=list)
    """service_lines[i] was read from Claim.item[items[i]]"""
    diagnoses: list[int] = field(default_factory=list)
    """diagnoses[i] was read from Claim.diagnosis[diagnoses[i]]"""
    patient_is_subscriber: bool = False
    """the patient is sent in the subscriber loop (2010BA), not 2010CA"""

    def fhir_path(self, location: str) -> str | None:
        matched = _PATH.match(location)
        if matched is None:
            return None
        root, index, rest = matched["root"], matched["index"], matched["rest"]
        if index is not None and root in ("service_lines", "diagnoses"):
            sources = self.items if root == "service_lines" else self.diagnoses
            position = int(index)
            element = "item" if root == "service_lines" else "diagnosis"
            base = f"Claim.{element}[{sources[position] if position < len(sources) else position}]"
            return base + (f".{_FHIR_ELEMENTS.get(rest, rest)}" if rest else "")
        whole = _INDEX.sub("", location)
        if whole in _CLAIM_FIELDS:
            return _CLAIM_FIELDS[whole]
        resource = self.resources.get(root)
        if resource is None:
            return _CLAIM_FIELDS.get(root)
        if rest == "taxonomy" and resource == "Organization":
            return "Organization.type"
        return resource + (f".{_FHIR_ELEMENTS.get(rest, rest)}" if rest else "")

    def locate(self, finding: Finding) -> Finding:
        """The finding with the FHIR path of its encounter field (a scrub finding on a read Bundle)."""
        if finding.fhir_path is not None:
            return finding
        path = self.fhir_path(finding.location)
        return finding if path is None else finding.model_copy(update={"fhir_path": path})
