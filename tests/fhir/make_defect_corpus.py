"""Write the intake-and-scrub defect corpus (issue 15) into tests/data/fhir_defects.

    .venv/bin/python -m tests.fhir.make_defect_corpus

Every defect comes as a pair: `twin-NN-<rule>.json`, a clean bundle, and `defect-NN-<rule>.json`, the
same bundle with one thing a payer (or the 837 itself) would reject. The defects span every finding
category, those met while reading the Bundle (a pointer to no diagnosis, a malformed code, a missing
member id, a dangling reference, a resource that is not valid FHIR) as well as the scrub rules and the
payers' own edits in payers.toml. manifest.json lists per file the day the claim reaches the payer
(as_of), its twin, and for a defect the expected category, rule, FHIR path and 837 loop/segment.
The output is deterministic: run it again and git shows no change.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from tests.fhir.make_corpus import Case, Item, _billing, _resource, _set_items, _zero_first_charge, build

OUT = Path(__file__).resolve().parents[1] / "data" / "fhir_defects"
Bundle = dict[str, Any]
Mutation = Callable[[Bundle], None]


def _claim(bundle: Bundle) -> dict[str, Any]:
    return _resource(bundle, "Claim")


def _patient(bundle: Bundle) -> dict[str, Any]:
    return _resource(bundle, "Patient")


def _related(bundle: Bundle) -> dict[str, Any]:
    return _resource(bundle, "RelatedPerson")


def _coverage(bundle: Bundle) -> dict[str, Any]:
    return _resource(bundle, "Coverage")


def _info(bundle: Bundle, code: str) -> dict[str, Any]:
    return next(
        info for info in _claim(bundle)["supportingInfo"] if info["category"]["coding"][0]["code"] == code
    )


def _set(resource: Callable[[Bundle], dict[str, Any]], key: str, value: Any) -> Mutation:
    def mutate(bundle: Bundle) -> None:
        resource(bundle)[key] = value

    return mutate


def _drop(resource: Callable[[Bundle], dict[str, Any]], key: str) -> Mutation:
    def mutate(bundle: Bundle) -> None:
        del resource(bundle)[key]

    return mutate


def _first_item(key: str, value: Any) -> Mutation:
    def mutate(bundle: Bundle) -> None:
        _claim(bundle)["item"][0][key] = value

    return mutate


def _first_code(code: str) -> Mutation:
    def mutate(bundle: Bundle) -> None:
        _claim(bundle)["item"][0]["productOrService"]["coding"][0]["code"] = code

    return mutate


def _place(code: str) -> Mutation:
    def mutate(bundle: Bundle) -> None:
        for item in _claim(bundle)["item"]:
            item["locationCodeableConcept"]["coding"][0]["code"] = code

    return mutate


def _negative_charge(bundle: Bundle) -> None:
    claim = _claim(bundle)
    claim["item"][0]["net"]["value"] = -abs(claim["item"][0]["net"]["value"])
    claim["item"][0].pop("unitPrice", None)
    claim["total"]["value"] = round(sum(item["net"]["value"] for item in claim["item"]), 2)


def _patient_address(key: str, value: str) -> Mutation:
    def mutate(bundle: Bundle) -> None:
        _patient(bundle)["address"][0][key] = value

    return mutate


def _billing_zip(value: str) -> Mutation:
    def mutate(bundle: Bundle) -> None:
        _billing(bundle)["address"][0]["postalCode"] = value

    return mutate


def _coverage_ends_before_service(bundle: Bundle) -> None:
    served = date.fromisoformat(_claim(bundle)["item"][0]["servicedDate"])
    _coverage(bundle)["period"] = {"start": "2025-01-01", "end": (served - timedelta(days=3)).isoformat()}


def _birth_after_service(bundle: Bundle) -> None:
    served = date.fromisoformat(_claim(bundle)["item"][0]["servicedDate"])
    _patient(bundle)["birthDate"] = (served + timedelta(days=40)).isoformat()


def _dangling_provider(bundle: Bundle) -> None:
    _claim(bundle)["provider"] = {"reference": "Organization/not-in-this-bundle"}


def _drop_care_team(bundle: Bundle) -> None:
    del _claim(bundle)["careTeam"]


def _drop_taxonomy(bundle: Bundle) -> None:
    del _billing(bundle)["type"]


def _drop_info(code: str) -> Mutation:
    def mutate(bundle: Bundle) -> None:
        claim = _claim(bundle)
        claim["supportingInfo"] = [
            info for info in claim["supportingInfo"] if info["category"]["coding"][0]["code"] != code
        ]

    return mutate


def _type_of_bill(code: str) -> Mutation:
    def mutate(bundle: Bundle) -> None:
        _info(bundle, "typeofbill")["code"]["coding"][0]["code"] = code

    return mutate


def _drop_revenue(bundle: Bundle) -> None:
    del _claim(bundle)["item"][0]["revenue"]


def _reverse_statement(bundle: Bundle) -> None:
    period = _claim(bundle)["billablePeriod"]
    start = date.fromisoformat(period["start"])
    period["start"], period["end"] = (start + timedelta(days=2)).isoformat(), start.isoformat()


def _inpatient_without_admission(bundle: Bundle) -> None:
    """An inpatient bill (type 0111) states its admission date (CL1 / DTP*435); here it is missing."""
    _type_of_bill("0111")(bundle)


def _replacement_without_number(bundle: Bundle) -> None:
    _claim(bundle)["related"] = [
        {
            "relationship": {
                "coding": [{"system": "http://hl7.org/fhir/ex-relatedclaimrelationship", "code": "prior"}]
            }
        }
    ]


def _original_with_number(bundle: Bundle) -> None:
    _type_of_bill("0131")(bundle)
    _claim(bundle)["related"] = [
        {
            "relationship": {
                "coding": [
                    {"system": "http://hl7.org/fhir/ex-relatedclaimrelationship", "code": "associated"}
                ]
            },
            "reference": {"value": "PAYER-ICN-000123"},
        }
    ]


def _total(value: float) -> Mutation:
    def mutate(bundle: Bundle) -> None:
        _claim(bundle)["total"]["value"] = value

    return mutate


def _items(*items: Item, place: str = "11") -> Mutation:
    def mutate(bundle: Bundle) -> None:
        _set_items(bundle, list(items), place)

    return mutate


def _not_fhir_gender(bundle: Bundle) -> None:
    _patient(bundle)["gender"] = "F"  # FHIR's administrative-gender codes are lower case


def _drop_claim_type(bundle: Bundle) -> None:
    del _claim(bundle)["type"]


def _no_diagnoses(bundle: Bundle) -> None:
    claim = _claim(bundle)
    del claim["diagnosis"]
    for item in claim["item"]:
        item.pop("diagnosisSequence", None)


def _no_items(bundle: Bundle) -> None:
    claim = _claim(bundle)
    del claim["item"]
    claim["total"]["value"] = 0.01


def _filing_indicator(code: str) -> Mutation:
    def mutate(bundle: Bundle) -> None:
        _coverage(bundle)["type"]["coding"][0]["code"] = code

    return mutate


def _drop_preauth(bundle: Bundle) -> None:
    del _claim(bundle)["insurance"][0]["preAuthRef"]


def _no_mutation(bundle: Bundle) -> None:
    return None


@dataclass
class Defect:
    category: str
    rule: str
    fhir_path: str
    x12: str | None
    mutate: Mutation
    payer: str = "SMPBCX"
    diagnoses: list[str] = field(default_factory=lambda: ["I10", "E785"])
    items: list[Item] = field(default_factory=lambda: [Item("99213", "120.00", dx=[1, 2])])
    institutional: bool = False
    patient: int = 0
    pre_auth: str | None = None
    lag: int = 6
    """days from the date of service to the day the claim reaches the payer"""
    duplicate: bool = False
    dependent: bool = False
    """the patient is the subscriber's child: the subscriber a RelatedPerson (2010BA), the patient 2010CA"""


OFFICE = [Item("99213", "120.00", dx=[1, 2]), Item("93000", "45.00", dx=[1])]
ER = [Item("99284", "620.00", revenue="0450"), Item("74177", "1450.00", revenue="0350")]

DEFECTS: list[Defect] = [
    # found while reading the Bundle
    Defect(
        "diagnosis_pointer",
        "intake-claim-item-diagnosis-sequence",
        "Claim.item[0].diagnosisSequence",
        "2400 SV107",
        _first_item("diagnosisSequence", [5]),
    ),
    Defect(
        "place_of_service",
        "intake-place-of-service",
        "Claim.item[0].locationCodeableConcept",
        "2300 CLM05-1",
        _place("1A"),
    ),
    Defect(
        "code_validity",
        "intake-service-lines-procedure-code",
        "Claim.item[0].productOrService",
        "2400 SV101-2",
        _first_code("9921"),
    ),
    Defect(
        "coverage",
        "intake-coverage-subscriber-id",
        "Coverage.subscriberId",
        "2010BA NM109",
        _drop(_coverage, "subscriberId"),
        payer="SMPPPO",
    ),
    Defect(
        "charge", "intake-claim-item-net", "Claim.item[0].net", "2400 SV102", _negative_charge, items=OFFICE
    ),
    Defect("structure", "intake-claim-provider", "Claim.provider", "2010AA NM1*85", _dangling_provider),
    Defect(
        "demographics",
        "intake-patient-gender",
        "Patient.gender",
        "2010BA DMG03",
        _not_fhir_gender,
        payer="SMPMCD",
    ),
    Defect("required_field", "intake-claim-type", "Claim.type", None, _drop_claim_type),
    Defect("code_validity", "diagnosis-missing", "Claim.diagnosis", "2300 HI*ABK/ABF", _no_diagnoses),
    Defect("code_validity", "intake-claim-item", "Claim.item", "2400 LX", _no_items, payer="SMPHMO"),
    # addresses
    Defect(
        "address",
        "address-state-invalid",
        "Patient.address[0].state",
        "2010BA N402",
        _patient_address("state", "XX"),
    ),
    Defect(
        "address",
        "intake-patient-address-postal-code",
        "Patient.address[0].postalCode",
        "2010BA N403",
        _patient_address("postalCode", "6060"),
        payer="SMPMCR",
    ),
    Defect(
        "provider",
        "billing-zip-plus-4",
        "Organization.address[0].postalCode",
        "2010AA N403",
        _billing_zip("60611"),
        payer="SMPHMO",
    ),
    # demographics and coverage
    Defect(
        "demographics",
        "birth-date-implausible",
        "Patient.birthDate",
        "2010BA DMG02",
        _set(_patient, "birthDate", "1879-02-28"),
        payer="SMPMCR",
    ),
    Defect(
        "demographics", "birth-date-after-service", "Patient.birthDate", "2010BA DMG02", _birth_after_service
    ),
    Defect(
        "demographics",
        "sex-unknown",
        "Patient.gender",
        "2010BA DMG03",
        _set(_patient, "gender", "unknown"),
        payer="SMPMCD",
    ),
    Defect(
        "demographics",
        "birth-date-missing",
        "Patient.birthDate",
        "2010BA DMG02",
        _drop(_patient, "birthDate"),
        payer="SMPHMO",
    ),
    Defect(
        "coverage",
        "coverage-period",
        "Coverage.period",
        "2000B SBR (checked against the 271 EB/DTP*291)",
        _coverage_ends_before_service,
        payer="SMPHMO",
    ),
    Defect("coverage", "self-pay-coverage", "Coverage.type", "2000B SBR09", _filing_indicator("81")),
    Defect(
        "coverage",
        "member-id-invalid",
        "Coverage.subscriberId",
        "2010BA NM109",
        _set(_coverage, "subscriberId", "UNKNOWN"),
        payer="SMPMCD",
    ),
    # the subscriber, when the patient is their dependent
    Defect(
        "demographics",
        "sex-unknown",
        "RelatedPerson.gender",
        "2010BA DMG03",
        _set(_related, "gender", "unknown"),
        dependent=True,
    ),
    Defect(
        "demographics",
        "birth-date-implausible",
        "RelatedPerson.birthDate",
        "2010BA DMG02",
        _set(_related, "birthDate", "1800-01-01"),
        dependent=True,
        payer="SMPPPO",
    ),
    Defect(
        "address",
        "address-state-invalid",
        "RelatedPerson.address[0].state",
        "2010BA N402",
        lambda b: _related(b)["address"][0].__setitem__("state", "ZZ"),
        dependent=True,
        payer="SMPHMO",
    ),
    Defect(
        "demographics",
        "birth-date-missing",
        "Patient.birthDate",
        "2010CA DMG02",
        _drop(_patient, "birthDate"),
        dependent=True,
        payer="SMPMCD",
    ),
    # providers
    Defect("provider", "rendering-provider-missing", "Claim.careTeam", "2310B NM1*82", _drop_care_team),
    Defect(
        "provider", "taxonomy-missing", "Organization.type", "2000A PRV03", _drop_taxonomy, payer="SMPMCD"
    ),
    Defect(
        "provider",
        "attending-missing",
        "Claim.careTeam",
        "2310A NM1*71",
        _drop_care_team,
        institutional=True,
        diagnoses=["R1010"],
        items=ER,
    ),
    # institutional and frequency
    Defect(
        "required_field",
        "admission-type-missing",
        "Claim.supportingInfo(admtype)",
        "2300 CL101",
        _drop_info("admtype"),
        institutional=True,
        diagnoses=["R1010"],
        items=ER,
    ),
    Defect(
        "code_validity",
        "revenue-code-missing",
        "Claim.item[0].revenue",
        "2400 SV201",
        _drop_revenue,
        institutional=True,
        diagnoses=["R1010"],
        items=ER,
    ),
    Defect(
        "required_field",
        "statement-period-reversed",
        "Claim.billablePeriod.end",
        "2300 DTP*434",
        _reverse_statement,
        institutional=True,
        diagnoses=["R1010"],
        items=ER,
    ),
    Defect(
        "required_field",
        "admission-date-missing",
        "Claim.supportingInfo(admissionperiod)",
        "2300 DTP*435",
        _inpatient_without_admission,
        institutional=True,
        diagnoses=["R1010"],
        items=ER,
    ),
    Defect(
        "frequency",
        "frequency-code-invalid",
        "Claim.supportingInfo(typeofbill)",
        "2300 CLM05-1/CLM05-3",
        _type_of_bill("0136"),
        institutional=True,
        diagnoses=["R1010"],
        items=ER,
    ),
    Defect(
        "frequency",
        "intake-claim-related-reference",
        "Claim.related[0].reference",
        "2300 REF*F8",
        _replacement_without_number,
    ),
    # modifiers (code sets and the payers' own)
    Defect(
        "modifier",
        "modifier-unknown",
        "Claim.item[0].modifier",
        "2400 SV101-3..6",
        _items(Item("99213", "120.00", modifiers=["YY"])),
    ),
    Defect(
        "modifier",
        "modifier-26-with-tc",
        "Claim.item[0].modifier",
        "2400 SV101-3..6",
        _items(Item("93000", "45.00", modifiers=["26", "TC"])),
    ),
    Defect(
        "modifier",
        "modifier-repeated",
        "Claim.item[0].modifier",
        "2400 SV101-3..6",
        _items(Item("73610", "65.00", modifiers=["RT", "RT"])),
    ),
    Defect(
        "modifier",
        "modifier-laterality-conflict",
        "Claim.item[0].modifier",
        "2400 SV101-3..6",
        _items(Item("73610", "65.00", modifiers=["LT", "RT"])),
        payer="SMPPPO",
    ),
    Defect(
        "modifier",
        "smphmo-no-gy",
        "Claim.item[0].modifier",
        "2400 SV101-3..6",
        _items(Item("99213", "120.00", modifiers=["GY"])),
        payer="SMPHMO",
    ),
    Defect(
        "modifier",
        "smphmo-therapy-discipline",
        "Claim.item[0].modifier",
        "2400 SV101-3..6",
        _items(Item("97140", "42.00", quantity=2)),
        payer="SMPHMO",
        diagnoses=["M5416"],
        items=[Item("97140", "42.00", quantity=2, modifiers=["GP"])],
    ),
    Defect(
        "mue",
        "smpppo-therapy-units",
        "Claim.item[0].quantity",
        "2400 SV104",
        _items(Item("97140", "42.00", quantity=5, modifiers=["GP"])),
        payer="SMPPPO",
        diagnoses=["M5416"],
        items=[Item("97140", "42.00", quantity=4, modifiers=["GP"])],
    ),
    Defect(
        "code_validity",
        "smpbcx-no-acupuncture",
        "Claim.item[0].productOrService",
        "2400 SV101-2",
        _items(Item("97810", "75.00")),
        diagnoses=["M5416"],
        items=[Item("99213", "120.00")],
    ),
    # authorizations, the code sets' and the payers'
    Defect(
        "authorization",
        "smphmo-joint-mri-needs-auth",
        "Claim.item[0].productOrService",
        "2400 SV101-2",
        _drop_preauth,
        payer="SMPHMO",
        diagnoses=["M25561"],
        items=[Item("73721", "900.00")],
        pre_auth="AUTH77002",
    ),
    Defect(
        "authorization",
        "authorization-missing",
        "Claim.item[0].productOrService",
        "2400 SV101-2",
        _drop_preauth,
        payer="SMPMCD",
        diagnoses=["M5416"],
        items=[Item("72148", "980.00")],
        pre_auth="AUTH77001",
    ),
    # codes, edits and the claim
    Defect(
        "code_validity",
        "dx-unknown",
        "Claim.diagnosis[0]",
        "2300 HI*ABK/ABF",
        lambda b: _claim(b)["diagnosis"][0]["diagnosisCodeableConcept"]["coding"][0].__setitem__(
            "code", "Z9999"
        ),
    ),
    Defect(
        "code_validity",
        "dx-header-code",
        "Claim.diagnosis[0]",
        "2300 HI*ABK/ABF",
        lambda b: _claim(b)["diagnosis"][0]["diagnosisCodeableConcept"]["coding"][0].__setitem__(
            "code", "E11"
        ),
        payer="SMPMCR",
    ),
    Defect(
        "code_validity",
        "hcpcs-terminated",
        "Claim.item[0].productOrService",
        "2400 SV101-2",
        _items(Item("C9146", "90.00")),
        payer="SMPMCD",
    ),
    Defect(
        "ncci_ptp",
        "ptp-modifier-required",
        "Claim.item[1].productOrService",
        "2400 SV101-2",
        _items(Item("17110", "110.00"), Item("11102", "130.00")),
        diagnoses=["L821", "B079"],
    ),
    Defect(
        "mue",
        "mue-exceeded",
        "Claim.item[0].quantity",
        "2400 SV104",
        _items(Item("99213", "120.00", quantity=3)),
        payer="SMPMCR",
    ),
    Defect(
        "diagnosis_pointer",
        "dx-pointer-missing",
        "Claim.item[0].diagnosisSequence",
        "2400 SV107",
        _items(Item("99213", "120.00", dx=[])),
    ),
    Defect(
        "diagnosis_pointer",
        "intake-claim-item-diagnosis-sequence",
        "Claim.item[1].diagnosisSequence",
        "2400 SV107",
        _items(Item("99213", "120.00", dx=[1]), Item("93000", "45.00", dx=[2, 3])),
        payer="SMPPPO",
    ),
    Defect(
        "age_sex",
        "dx-sex-conflict",
        "Claim.diagnosis[0]",
        "2300 HI*ABK/ABF",
        lambda b: _claim(b)["diagnosis"][0]["diagnosisCodeableConcept"]["coding"][0].__setitem__(
            "code", "N400"
        ),
        diagnoses=["I10"],
        items=[Item("99213", "120.00")],
        patient=0,
    ),
    Defect(
        "place_of_service",
        "pos-invalid",
        "Claim.item[0].locationCodeableConcept",
        "2300 CLM05-1",
        _place("30"),
        payer="SMPPPO",
    ),
    Defect("charge", "total-charge-mismatch", "Claim.total", "2300 CLM02", _total(999.99), payer="SMPMCR"),
    Defect(
        "charge",
        "line-charge-not-positive",
        "Claim.item[0].net",
        "2400 SV102",
        _zero_first_charge,
        items=OFFICE,
    ),
    Defect(
        "timely_filing",
        "timely-filing-expired",
        "Claim.item[0].servicedDate",
        "2400 DTP*472",
        _no_mutation,
        payer="SMPHMO",
        lag=120,
    ),
    Defect(
        "timely_filing",
        "service-in-future",
        "Claim.item[0].servicedDate",
        "2400 DTP*472",
        _no_mutation,
        lag=-3,
    ),
    Defect(
        "duplicate",
        "duplicate-of-known-claim",
        "Claim.item[0]",
        "2400 LX",
        _no_mutation,
        payer="SMPMCR",
        duplicate=True,
    ),
]


def main(out: Path = OUT) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*.json"):
        old.unlink()
    manifest: dict[str, Any] = {}
    first_day = date(2026, 9, 1)
    for index, defect in enumerate(DEFECTS, start=1):
        number = 500 + index
        service_date = first_day + timedelta(days=index)
        slug = f"{index:02d}-{defect.rule}"
        case = Case(
            name=f"twin-{slug}",
            payer=defect.payer,
            patient=defect.patient,
            service_date=service_date,
            diagnoses=list(defect.diagnoses),
            items=[copy.deepcopy(item) for item in defect.items],
            institutional=defect.institutional,
            pre_auth=defect.pre_auth,
            dependent=defect.dependent,
            full_urls=index % 3 == 0,
        )
        twin = build(case, number)
        bundle = copy.deepcopy(twin)
        defect.mutate(bundle)
        as_of = (service_date + timedelta(days=defect.lag)).isoformat()
        twin_as_of = (service_date + timedelta(days=6)).isoformat()
        expected = {
            "category": defect.category,
            "rule": defect.rule,
            "fhir_path": defect.fhir_path,
            "x12": defect.x12,
        }
        extra: dict[str, Any] = {}
        if defect.duplicate:
            # the same visit billed again under a new claim id: the twin is the claim billed before
            claim = _claim(bundle)
            claim["id"] = f"claim-{number:03d}-again"
            for entry in bundle["entry"]:
                if entry["resource"]["resourceType"] == "Claim":
                    entry["fullUrl"] = entry["fullUrl"].rsplit("/", 1)[0] + f"/{claim['id']}"
            extra["known"] = f"twin-{slug}.json"
        (out / f"twin-{slug}.json").write_text(json.dumps(twin, indent=1) + "\n")
        (out / f"defect-{slug}.json").write_text(json.dumps(bundle, indent=1) + "\n")
        manifest[f"twin-{slug}.json"] = {"as_of": twin_as_of, "defect": None, "twin": f"defect-{slug}.json"}
        manifest[f"defect-{slug}.json"] = {
            "as_of": as_of,
            "defect": expected,
            "twin": f"twin-{slug}.json",
            **extra,
        }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    print(f"wrote {len(manifest)} bundles to {out}")


if __name__ == "__main__":
    main()
