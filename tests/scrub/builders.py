"""A clean professional encounter to vary one field at a time, and a scrub shortcut."""

from __future__ import annotations

from datetime import date
from typing import Any

from claimflow.claims.encounter import Encounter, ServiceLine
from claimflow.claims.payers import PayerProfile
from claimflow.claims.scrub import ScrubResult, scrub

SERVICE_DAY = date(2026, 3, 2)
AS_OF = date(2026, 3, 9)


def line(code: str = "99213", **changes: Any) -> ServiceLine:
    fields: dict[str, Any] = {
        "procedure_code": code,
        "units": "1",
        "charge": "120.00",
        "diagnosis_pointers": [1],
        "service_date": SERVICE_DAY,
    }
    return ServiceLine.model_validate({**fields, **changes})


def encounter(**changes: Any) -> Encounter:
    """A clean office visit for a 52-year-old woman billed to the sandbox Blue Cross payer."""
    fields: dict[str, Any] = {
        "encounter_id": "enc-1",
        "patient": {
            "last_name": "RIVERA",
            "first_name": "ANA",
            "birth_date": date(1973, 6, 15),
            "sex": "F",
            "address": {"line1": "12 ELM ST", "city": "CHICAGO", "state": "IL", "postal_code": "60601"},
        },
        "coverage": {
            "payer_id": "SMPBCX",
            "payer_name": "Sandbox Blue Cross Commercial",
            "member_id": "XBC123456789",
            "filing_indicator": "BL",
            "period_start": date(2026, 1, 1),
        },
        "billing_provider": {
            "name": "LAKESHORE FAMILY MEDICINE",
            "npi": "1234567893",
            "taxonomy": "207Q00000X",
            "tax_id": "361234567",
            "address": {
                "line1": "400 N MICHIGAN AVE",
                "city": "CHICAGO",
                "state": "IL",
                "postal_code": "606114212",
            },
        },
        "rendering_provider": {
            "entity_type": "1",
            "name": "CHEN",
            "first_name": "MEI",
            "npi": "1245319599",
            "taxonomy": "207Q00000X",
        },
        "place_of_service": "11",
        "service_date": SERVICE_DAY,
        "diagnoses": ["E119"],
        "service_lines": [line()],
    }
    return Encounter.model_validate({**fields, **changes})


def run(
    subject: Encounter, profile: PayerProfile, *, as_of: date = AS_OF, known: tuple[Encounter, ...] = ()
) -> ScrubResult:
    return scrub(subject, as_of=as_of, profile=profile, known_claims=known)


def rules_of(result: ScrubResult) -> set[str]:
    return {finding.rule for finding in result.findings}
