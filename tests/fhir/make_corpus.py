"""Write the FHIR R4 test corpus into tests/data/fhir: clean bundles, and bundles with one seeded defect.

    python tests/fhir/make_corpus.py

Each bundle holds a Claim and what it references, in a shuffled order. manifest.json lists, per file,
the date the claim reaches the payer (as_of), the expected defect (category and rule, or null when
clean) and, for duplicates, the bundle already billed. Codes are real entries of the shipped code sets.
"""

from __future__ import annotations

import copy
import json
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from claimflow.claims.npi import make_npi

OUT = Path(__file__).resolve().parents[1] / "data" / "fhir"
SOPT = "https://nahdo.org/sopt"
CPT = "http://www.ama-assn.org/go/cpt"
HCPCS = "https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets"
ICD = "http://hl7.org/fhir/sid/icd-10-cm"
POS = "https://www.cms.gov/Medicare/Coding/place-of-service-codes/Place_of_Service_Code_Set"
NUBC = "https://www.nubc.org/CodeSystem/"
NUBC_REVENUE = NUBC + "RevenueCodes"
CARIN_INFO = "http://hl7.org/fhir/us/carin-bb/CodeSystem/C4BBSupportingInfoType"

# payer id -> (name, SOPT code, member id prefix and digits) as the sandbox payers expect
PAYERS = {
    "SMPMCR": ("Sandbox Medicare Part B", "1", "MCR", 8),
    "SMPMCD": ("Sandbox State Medicaid", "2", "MCD", 8),
    "SMPBCX": ("Sandbox Blue Cross Commercial", "6", "XBC", 9),
    "SMPHMO": ("Summit Health HMO", "511", "HMO", 8),
    "SMPPPO": ("Lakeside PPO", "512", "PPO", 8),
}

PATIENTS = [
    ("RIVERA", "ANA", "1973-06-15", "female"),
    ("OKAFOR", "JAMES", "1958-11-02", "male"),
    ("NGUYEN", "LINH", "1990-03-21", "female"),
    ("MILLER", "ROBERT", "1949-08-30", "male"),
    ("HARRIS", "GRACE", "1985-01-09", "female"),
    ("PATEL", "ARJUN", "1967-05-17", "male"),
    ("JOHANSSON", "ERIK", "1979-12-12", "male"),
    ("LOPEZ", "MARIA", "1954-04-04", "female"),
]


@dataclass
class Item:
    code: str
    price: str
    quantity: int = 1
    modifiers: list[str] = field(default_factory=list)
    dx: list[int] = field(default_factory=lambda: [1])
    revenue: str | None = None


@dataclass
class Case:
    name: str
    payer: str
    patient: int
    service_date: date
    diagnoses: list[str]
    items: list[Item]
    place: str = "11"
    institutional: bool = False
    pre_auth: str | None = None
    dependent: bool = False
    full_urls: bool = False


CLEAN_TEMPLATES: list[tuple[list[str], list[Item]]] = [
    (
        ["E119", "I10"],
        [Item("99214", "165.00", dx=[1, 2]), Item("36415", "12.00"), Item("80053", "38.00", dx=[1])],
    ),
    (["J069"], [Item("99213", "120.00")]),
    (["M25561"], [Item("99213", "120.00", modifiers=["25"]), Item("20610", "145.00")]),
    (["I10", "R002"], [Item("99214", "165.00", dx=[1, 2]), Item("93000", "45.00", dx=[2])]),
    (["L821", "B079"], [Item("17110", "110.00", dx=[2]), Item("11102", "130.00", modifiers=["59"], dx=[1])]),
    (["J45909"], [Item("99213", "120.00", modifiers=["25"]), Item("94640", "40.00")]),
    (["Z23"], [Item("90471", "25.00"), Item("90686", "32.00")]),
    (["S93401A"], [Item("73610", "65.00", modifiers=["RT"]), Item("99203", "150.00", modifiers=["25"])]),
    (["R519", "G43909"], [Item("99204", "210.00", dx=[2, 1])]),
    (
        ["E785", "E119"],
        [Item("99213", "120.00", dx=[2, 1]), Item("85025", "22.00", dx=[2]), Item("36415", "12.00")],
    ),
    (["N390"], [Item("99212", "80.00"), Item("81002", "14.00")]),
    (["M5416"], [Item("97110", "45.00", quantity=3), Item("97140", "42.00", quantity=2)]),
]

INSTITUTIONAL_TEMPLATES: list[tuple[list[str], list[Item]]] = [
    (["R1010"], [Item("99284", "620.00", revenue="0450"), Item("74177", "1450.00", revenue="0350")]),
    (["E119"], [Item("80053", "95.00", revenue="0300"), Item("36415", "20.00", revenue="0300")]),
    (["S6291XA"], [Item("73110", "240.00", revenue="0320", modifiers=["LT"])]),
]


def _reference(case: Case, kind: str, ident: str) -> str:
    return f"urn:uuid:{ident}" if case.full_urls else f"{kind}/{ident}"


def _address(line: str, city: str, state: str, postal: str) -> dict[str, Any]:
    return {"line": [line], "city": city, "state": state, "postalCode": postal}


def build(case: Case, number: int) -> dict[str, Any]:
    rng = random.Random(number)
    payer_name, sopt, prefix, digits = PAYERS[case.payer]
    family, given, birth, gender = PATIENTS[case.patient % len(PATIENTS)]
    member = prefix + str(10 ** (digits - 1) + number * 7919 % (10 ** (digits - 1)))
    ids = {kind: f"{kind}-{number:03d}" for kind in ("pat", "sub", "cov", "payer", "org", "prac", "claim")}
    patient = {
        "resourceType": "Patient",
        "id": ids["pat"],
        "name": [{"use": "official", "family": family, "given": [given]}],
        "gender": gender,
        "birthDate": birth if not case.dependent else "2014-07-19",
        "address": [_address(f"{10 + number} ELM ST", "CHICAGO", "IL", "60601")],
    }
    if case.dependent:
        patient["name"] = [{"family": family, "given": ["SAM"]}]
    coverage: dict[str, Any] = {
        "resourceType": "Coverage",
        "id": ids["cov"],
        "status": "active",
        "type": {"coding": [{"system": SOPT, "code": sopt}]},
        "subscriberId": member,
        # the plan year: the scrubber checks every date of service against it
        "period": {"start": f"{case.service_date.year}-01-01", "end": f"{case.service_date.year}-12-31"},
        "beneficiary": {"reference": _reference(case, "Patient", ids["pat"])},
        "relationship": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/subscriber-relationship",
                    "code": "child" if case.dependent else "self",
                }
            ]
        },
        "payor": [{"reference": _reference(case, "Organization", ids["payer"])}],
        "class": [
            {
                "type": {
                    "coding": [
                        {"system": "http://terminology.hl7.org/CodeSystem/coverage-class", "code": "group"}
                    ]
                },
                "value": f"GRP{number:04d}",
                "name": "EMPLOYER GROUP",
            }
        ],
    }
    resources: list[dict[str, Any]] = [patient, coverage]
    if case.dependent:
        coverage["subscriber"] = {"reference": _reference(case, "RelatedPerson", ids["sub"])}
        resources.append(
            {
                "resourceType": "RelatedPerson",
                "id": ids["sub"],
                "patient": {"reference": _reference(case, "Patient", ids["pat"])},
                "name": [{"family": family, "given": [given]}],
                "gender": gender,
                "birthDate": birth,
                "address": [_address(f"{10 + number} ELM ST", "CHICAGO", "IL", "60601")],
            }
        )
    resources.append(
        {
            "resourceType": "Organization",
            "id": ids["payer"],
            "identifier": [
                {
                    "type": {
                        "coding": [
                            {"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "NIIP"}
                        ]
                    },
                    "value": case.payer,
                }
            ],
            "name": payer_name,
            "address": [_address("PO BOX 3003", "CHICAGO", "IL", "60601")],
        }
    )
    resources.append(
        {
            "resourceType": "Organization",
            "id": ids["org"],
            "identifier": [
                {"system": "http://hl7.org/fhir/sid/us-npi", "value": make_npi(f"1{number:08d}")},
                {"system": "urn:oid:2.16.840.1.113883.4.4", "value": f"36{number:07d}"},
            ],
            "type": [
                {
                    "coding": [
                        {
                            "system": "http://nucc.org/provider-taxonomy",
                            "code": "282N00000X" if case.institutional else "207Q00000X",
                        }
                    ]
                }
            ],
            "name": "LAKESHORE GENERAL HOSPITAL" if case.institutional else "LAKESHORE FAMILY MEDICINE",
            "address": [_address("400 N MICHIGAN AVE", "CHICAGO", "IL", "60611-4212")],
        }
    )
    resources.append(
        {
            "resourceType": "Practitioner",
            "id": ids["prac"],
            "identifier": [{"system": "http://hl7.org/fhir/sid/us-npi", "value": make_npi(f"2{number:08d}")}],
            "name": [{"family": "CHEN", "given": ["MEI"]}],
            "qualification": [
                {"code": {"coding": [{"system": "http://nucc.org/provider-taxonomy", "code": "207Q00000X"}]}}
            ],
        }
    )
    items = []
    total = 0
    for sequence, item in enumerate(case.items, start=1):
        entry: dict[str, Any] = {
            "sequence": sequence,
            "diagnosisSequence": item.dx,
            "productOrService": {
                "coding": [{"system": HCPCS if item.code[0].isalpha() else CPT, "code": item.code}]
            },
            "servicedDate": case.service_date.isoformat(),
            "quantity": {"value": item.quantity},
            "unitPrice": {"value": float(item.price), "currency": "USD"},
            "net": {"value": round(float(item.price) * item.quantity, 2), "currency": "USD"},
        }
        if item.modifiers:
            entry["modifier"] = [
                {"coding": [{"system": CPT, "code": modifier}]} for modifier in item.modifiers
            ]
        if case.institutional:
            entry["revenue"] = {"coding": [{"system": NUBC_REVENUE, "code": item.revenue}]}
        else:
            entry["locationCodeableConcept"] = {"coding": [{"system": POS, "code": case.place}]}
        total += round(float(item.price) * 100) * item.quantity
        items.append(entry)
    claim: dict[str, Any] = {
        "resourceType": "Claim",
        "id": ids["claim"],
        "status": "active",
        "type": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/claim-type",
                    "code": "institutional" if case.institutional else "professional",
                }
            ]
        },
        "use": "claim",
        "patient": {"reference": _reference(case, "Patient", ids["pat"])},
        "created": (case.service_date + timedelta(days=1)).isoformat(),
        "provider": {"reference": _reference(case, "Organization", ids["org"])},
        "priority": {
            "coding": [{"system": "http://terminology.hl7.org/CodeSystem/processpriority", "code": "normal"}]
        },
        "insurance": [
            {
                "sequence": 1,
                "focal": True,
                "coverage": {"reference": _reference(case, "Coverage", ids["cov"])},
            }
        ],
        "careTeam": [
            {
                "sequence": 1,
                "provider": {"reference": _reference(case, "Practitioner", ids["prac"])},
                "role": {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/claimcareteamrole",
                            "code": "primary",
                        }
                    ]
                },
            }
        ],
        "diagnosis": [
            {"sequence": sequence, "diagnosisCodeableConcept": {"coding": [{"system": ICD, "code": code}]}}
            for sequence, code in enumerate(case.diagnoses, start=1)
        ],
        "item": items,
        "total": {"value": total / 100, "currency": "USD"},
    }
    if case.pre_auth:
        claim["insurance"][0]["preAuthRef"] = [case.pre_auth]
    if case.institutional:
        claim["billablePeriod"] = {
            "start": case.service_date.isoformat(),
            "end": case.service_date.isoformat(),
        }
        claim["supportingInfo"] = [
            {
                "sequence": 1,
                "category": {
                    "coding": [
                        {
                            "system": "http://hl7.org/fhir/us/carin-bb/CodeSystem/C4BBSupportingInfoType",
                            "code": "typeofbill",
                        }
                    ]
                },
                "code": {
                    "coding": [{"system": "https://www.nubc.org/CodeSystem/TypeOfBill", "code": "0131"}]
                },
            },
            {
                "sequence": 2,
                "category": {"coding": [{"system": CARIN_INFO, "code": "admtype"}]},
                "code": {"coding": [{"system": NUBC + "PriorityTypeOfAdmitOrVisit", "code": "3"}]},
            },
            {
                "sequence": 3,
                "category": {"coding": [{"system": CARIN_INFO, "code": "pointoforigin"}]},
                "code": {"coding": [{"system": NUBC + "PointOfOrigin", "code": "1"}]},
            },
        ]
    resources.append(claim)
    rng.shuffle(resources)
    entries = []
    for resource in resources:
        full_url = (
            f"urn:uuid:{resource['id']}"
            if case.full_urls
            else f"https://ehr.example.org/fhir/{resource['resourceType']}/{resource['id']}"
        )
        entries.append({"fullUrl": full_url, "resource": resource})
    return {"resourceType": "Bundle", "id": f"bundle-{number:03d}", "type": "collection", "entry": entries}


def _resource(bundle: dict[str, Any], kind: str, *, index: int = 0) -> dict[str, Any]:
    found = [entry["resource"] for entry in bundle["entry"] if entry["resource"]["resourceType"] == kind]
    return found[index]


def _billing(bundle: dict[str, Any]) -> dict[str, Any]:
    return next(
        entry["resource"]
        for entry in bundle["entry"]
        if entry["resource"]["resourceType"] == "Organization" and "NIIP" not in json.dumps(entry["resource"])
    )


def _set_items(bundle: dict[str, Any], case_items: list[Item], place: str = "11") -> None:
    claim = _resource(bundle, "Claim")
    service_date = claim["item"][0]["servicedDate"]
    claim["item"] = []
    total = 0
    for sequence, item in enumerate(case_items, start=1):
        entry = {
            "sequence": sequence,
            "diagnosisSequence": item.dx,
            "productOrService": {
                "coding": [{"system": HCPCS if item.code[0].isalpha() else CPT, "code": item.code}]
            },
            "servicedDate": service_date,
            "quantity": {"value": item.quantity},
            "net": {"value": round(float(item.price) * item.quantity, 2), "currency": "USD"},
            "locationCodeableConcept": {"coding": [{"system": POS, "code": place}]},
        }
        if item.modifiers:
            entry["modifier"] = [
                {"coding": [{"system": CPT, "code": modifier}]} for modifier in item.modifiers
            ]
        total += round(float(item.price) * 100) * item.quantity
        claim["item"].append(entry)
    claim["total"]["value"] = total / 100


def _set_diagnoses(bundle: dict[str, Any], codes: list[str]) -> None:
    _resource(bundle, "Claim")["diagnosis"] = [
        {"sequence": sequence, "diagnosisCodeableConcept": {"coding": [{"system": ICD, "code": code}]}}
        for sequence, code in enumerate(codes, start=1)
    ]


def _replace_first_diagnosis(bundle: dict[str, Any], code: str) -> None:
    _resource(bundle, "Claim")["diagnosis"][0]["diagnosisCodeableConcept"]["coding"][0]["code"] = code


def _zero_first_charge(bundle: dict[str, Any]) -> None:
    claim = _resource(bundle, "Claim")
    claim["item"][0]["net"] = {"value": 0, "currency": "USD"}
    del claim["item"][0]["unitPrice"]
    claim["total"]["value"] = round(sum(item["net"]["value"] for item in claim["item"]), 2)


Mutation = Callable[[dict[str, Any]], None]


def _drop_birth_date(bundle: dict[str, Any]) -> None:
    del _resource(bundle, "Patient")["birthDate"]


def _drop_patient_address(bundle: dict[str, Any]) -> None:
    del _resource(bundle, "Patient")["address"]


def _placeholder_member(bundle: dict[str, Any]) -> None:
    _resource(bundle, "Coverage")["subscriberId"] = "UNKNOWN"


def _self_pay(bundle: dict[str, Any]) -> None:
    _resource(bundle, "Coverage")["type"]["coding"][0]["code"] = "81"


def _bad_npi(bundle: dict[str, Any]) -> None:
    identifier = _billing(bundle)["identifier"][0]
    last = int(identifier["value"][-1])
    identifier["value"] = identifier["value"][:-1] + str((last + 1) % 10)


def _drop_tax_id(bundle: dict[str, Any]) -> None:
    _billing(bundle)["identifier"] = _billing(bundle)["identifier"][:1]


def _po_box(bundle: dict[str, Any]) -> None:
    _billing(bundle)["address"][0]["line"] = ["PO BOX 778"]


def _bad_rendering_npi(bundle: dict[str, Any]) -> None:
    identifier = _resource(bundle, "Practitioner")["identifier"][0]
    identifier["value"] = identifier["value"][:-1] + str((int(identifier["value"][-1]) + 3) % 10)


DEFECTS: list[tuple[str, str, str, Mutation]] = [
    ("demographics", "birth-date-missing", "SMPBCX", _drop_birth_date),
    ("demographics", "address-missing", "SMPMCR", _drop_patient_address),
    ("coverage", "member-id-invalid", "SMPPPO", _placeholder_member),
    ("coverage", "self-pay-coverage", "SMPBCX", _self_pay),
    ("provider", "npi-check-digit", "SMPMCD", _bad_npi),
    ("provider", "billing-tax-id-missing", "SMPHMO", _drop_tax_id),
    ("provider", "billing-address-po-box", "SMPPPO", _po_box),
    ("provider", "npi-check-digit", "SMPMCR", _bad_rendering_npi),
    ("code_validity", "dx-header-code", "SMPBCX", lambda b: _replace_first_diagnosis(b, "E11")),
    ("code_validity", "dx-not-valid-on-date", "SMPMCR", lambda b: _replace_first_diagnosis(b, "M545")),
    ("code_validity", "dx-unknown", "SMPPPO", lambda b: _replace_first_diagnosis(b, "Z9999")),
    ("code_validity", "hcpcs-terminated", "SMPMCD", lambda b: _set_items(b, [Item("C9146", "90.00")])),
    ("code_validity", "add-on-without-primary", "SMPBCX", lambda b: _set_items(b, [Item("99417", "60.00")])),
    (
        "ncci_ptp",
        "ptp-never-together",
        "SMPMCR",
        lambda b: _set_items(b, [Item("G0438", "170.00"), Item("G0439", "130.00", modifiers=["59"])]),
    ),
    (
        "ncci_ptp",
        "ptp-modifier-required",
        "SMPBCX",
        lambda b: _set_items(b, [Item("17110", "110.00"), Item("11102", "130.00")]),
    ),
    (
        "ncci_ptp",
        "ptp-modifier-required",
        "SMPPPO",
        lambda b: _set_items(b, [Item("99213", "120.00"), Item("20610", "145.00")]),
    ),
    ("mue", "mue-exceeded", "SMPMCR", lambda b: _set_items(b, [Item("99213", "120.00", quantity=3)])),
    (
        "mue",
        "mue-exceeded",
        "SMPMCD",
        lambda b: _set_items(b, [Item("11102", "130.00"), Item("11102", "130.00", modifiers=["59"])]),
    ),
    (
        "modifier",
        "modifier-unknown",
        "SMPBCX",
        lambda b: _set_items(b, [Item("99213", "120.00", modifiers=["YY"])]),
    ),
    (
        "modifier",
        "modifier-laterality-conflict",
        "SMPPPO",
        lambda b: _set_items(b, [Item("73610", "65.00", modifiers=["LT", "RT"])]),
    ),
    (
        "modifier",
        "modifier-not-valid-for-code",
        "SMPHMO",
        lambda b: _set_items(b, [Item("93000", "45.00", modifiers=["25"])]),
    ),
    (
        "diagnosis_pointer",
        "dx-pointer-missing",
        "SMPBCX",
        lambda b: (_set_diagnoses(b, ["I10", "E785"]), _set_items(b, [Item("99213", "120.00", dx=[])])),
    ),
    (
        "diagnosis_pointer",
        "dx-pointer-missing",
        "SMPMCR",
        lambda b: (_set_diagnoses(b, ["J069", "R051"]), _set_items(b, [Item("99214", "165.00", dx=[])])),
    ),
    ("age_sex", "dx-age-conflict", "SMPMCR", lambda b: _set_diagnoses(b, ["Z00121"])),
    ("age_sex", "dx-sex-conflict", "SMPBCX", lambda b: _set_diagnoses(b, ["N400"])),
    (
        "place_of_service",
        "pos-invalid",
        "SMPPPO",
        lambda b: _set_items(b, [Item("99213", "120.00")], place="30"),
    ),
    (
        "place_of_service",
        "pos-invalid",
        "SMPMCD",
        lambda b: _set_items(b, [Item("99213", "120.00")], place="98"),
    ),
    ("timely_filing", "timely-filing-expired", "SMPHMO", lambda b: None),
    ("timely_filing", "timely-filing-expired", "SMPMCD", lambda b: None),
    ("timely_filing", "service-in-future", "SMPBCX", lambda b: None),
    ("charge", "line-charge-not-positive", "SMPPPO", _zero_first_charge),
    (
        "charge",
        "total-charge-mismatch",
        "SMPMCR",
        lambda b: _resource(b, "Claim")["total"].__setitem__("value", 999.99),
    ),
    ("authorization", "authorization-missing", "SMPHMO", lambda b: _set_items(b, [Item("72148", "980.00")])),
    ("authorization", "authorization-missing", "SMPPPO", lambda b: _set_items(b, [Item("70551", "1100.00")])),
    ("duplicate", "duplicate-of-known-claim", "SMPBCX", lambda b: None),
    ("duplicate", "duplicate-of-known-claim", "SMPMCR", lambda b: None),
]

# timely-filing defects: the claim reaches the payer this many days after the service (negative: before)
TIMELY_LAG = {"timely-filing-expired": {"SMPHMO": 120, "SMPMCD": 200}, "service-in-future": {"SMPBCX": -3}}


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for old in OUT.glob("*.json"):
        old.unlink()
    manifest: dict[str, Any] = {}
    number = 0
    payers = list(PAYERS)
    clean_by_payer: dict[str, str] = {}
    first_day = date(2026, 9, 1)

    def write(
        name: str, bundle: dict[str, Any], as_of: date, expected: dict[str, str] | None, **extra: Any
    ) -> None:
        (OUT / f"{name}.json").write_text(json.dumps(bundle, indent=1) + "\n")
        manifest[f"{name}.json"] = {"as_of": as_of.isoformat(), "defect": expected, **extra}

    for index in range(36):
        number += 1
        institutional = index % 12 == 11
        templates = INSTITUTIONAL_TEMPLATES if institutional else CLEAN_TEMPLATES
        diagnoses, items = templates[index % len(templates)]
        payer = payers[index % len(payers)]
        pre_auth = None
        if institutional and payer == "SMPMCR":
            payer = "SMPBCX"  # a Part B carrier takes professional claims only
        if payer in ("SMPHMO", "SMPBCX", "SMPMCD") and index % 5 == 3 and not institutional:
            items = [*items, Item("72148", "980.00", dx=[1])]
            diagnoses = [*diagnoses, "M5416"] if "M5416" not in diagnoses else diagnoses
            items[-1].dx = [diagnoses.index("M5416") + 1]
            pre_auth = f"AUTH{number:05d}"
        service_date = first_day + timedelta(days=index * 2)
        case = Case(
            name=f"clean-{number:02d}",
            payer=payer,
            patient=index,
            service_date=service_date,
            diagnoses=list(diagnoses),
            items=[copy.deepcopy(item) for item in items],
            institutional=institutional,
            pre_auth=pre_auth,
            dependent=index % 9 == 4 and payer not in ("SMPMCR",),
            full_urls=index % 4 == 2,
            place="22" if index % 7 == 5 else "11",
        )
        write(case.name, build(case, number), service_date + timedelta(days=6), None)
        clean_by_payer.setdefault(payer, case.name)

    for index, (category, rule, payer, mutate) in enumerate(DEFECTS):
        number += 1
        diagnoses, items = CLEAN_TEMPLATES[(index * 5) % len(CLEAN_TEMPLATES)]
        if category in ("age_sex",):
            diagnoses, items = ["I10"], [Item("99213", "120.00")]
        service_date = first_day + timedelta(days=index * 2 + 1)
        name = f"defect-{number:02d}-{category}"
        if category == "duplicate":
            known = clean_by_payer[payer]
            bundle = json.loads((OUT / f"{known}.json").read_text())
            claim = _resource(bundle, "Claim")
            claim["id"] = f"claim-{number:03d}"
            for entry in bundle["entry"]:
                if entry["resource"]["resourceType"] == "Claim":
                    entry["fullUrl"] = entry["fullUrl"].rsplit("/", 1)[0] + f"/{claim['id']}"
            as_of = date.fromisoformat(manifest[f"{known}.json"]["as_of"]) + timedelta(days=20)
            write(name, bundle, as_of, {"category": category, "rule": rule}, known=f"{known}.json")
            continue
        case = Case(
            name=name,
            payer=payer,
            patient=index + 3 if category != "age_sex" else (1 if rule == "dx-age-conflict" else 0),
            service_date=service_date,
            diagnoses=list(diagnoses),
            items=[copy.deepcopy(item) for item in items if item.code not in ("72148", "70551", "97110")]
            or [Item("99213", "120.00")],
        )
        case.items = [item for item in case.items if max(item.dx, default=1) <= len(case.diagnoses)]
        bundle = build(case, number)
        mutate(bundle)
        lag = TIMELY_LAG.get(rule, {}).get(payer, 6)
        write(name, bundle, service_date + timedelta(days=lag), {"category": category, "rule": rule})

    (OUT / "manifest.json").write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    print(f"wrote {len(manifest)} bundles to {OUT}")


if __name__ == "__main__":
    main()
