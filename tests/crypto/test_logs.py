"""Logs never show a patient's name, birth date or member id, in either format."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from datetime import date

import pytest
import structlog

from claimflow.claims.encounter import Address, Coverage, Person
from claimflow.integrations.logs import REDACTED, configure_logging, redact
from claimflow.integrations.settings import LogFormat

PATIENT = Person(
    last_name="Vandersloot",
    first_name="Marguerite",
    birth_date=date(1947, 11, 2),
    address=Address(line1="22 Quarry Lane", city="Eastbrook", state="VT", postal_code="05001"),
)
COVERAGE = Coverage(
    payer_id="87726",
    payer_name="Acme Health",
    member_id="W998877665",
    period_start=date(2019, 3, 14),
    period_end=date(2027, 3, 13),
)
PHI = [
    "Vandersloot",
    "Marguerite",
    "1947-11-02",
    "1947, 11, 2",
    "W998877665",
    "Quarry Lane",
    "Eastbrook",
    "2019-03-14",
    "2019, 3, 14",
    "2027-03-13",
]


@pytest.fixture(autouse=True)
def _restore_structlog() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    structlog.reset_defaults()
    root.handlers, root.level = handlers, level


@pytest.mark.parametrize("log_format", ["json", "console"])
def test_a_logged_event_shows_no_phi(log_format: LogFormat) -> None:
    stream = io.StringIO()
    configure_logging(log_format, stream=stream)
    structlog.get_logger().info(
        "eligibility_checked",
        encounter_id="enc-1001",
        patient=PATIENT,
        member_id="W998877665",
        birth_date=date(1947, 11, 2),
        coverage=COVERAGE,
        details={"subscriber": {"Last_Name": "Vandersloot"}, "people": [PATIENT.address]},
        patient_last_name="Vandersloot",
    )
    output = stream.getvalue()
    for text in PHI:
        assert text not in output, text
    assert "enc-1001" in output and "87726" in output
    if log_format == "json":
        event = json.loads(output)
        assert event["patient"] == REDACTED
        assert event["coverage"] == {
            "payer_id": "87726",
            "payer_name": "Acme Health",
            "member_id": REDACTED,
            "group_number": None,
            "group_name": None,
            "filing_indicator": "CI",
            "payer_address": None,
            "period_start": REDACTED,
            "period_end": REDACTED,
        }


def test_standard_library_logs_are_redacted_and_rendered_alike() -> None:
    stream = io.StringIO()
    configure_logging("json", stream=stream)
    logging.getLogger("temporalio.activity").warning(
        "activity failed", extra={"member_id": "W998877665", "encounter_id": "enc-1001"}
    )
    event = json.loads(stream.getvalue())
    assert event["event"] == "activity failed" and event["logger"] == "temporalio.activity"
    assert event["member_id"] == REDACTED and event["encounter_id"] == "enc-1001"


def test_redact_leaves_identifiers_and_amounts() -> None:
    assert redact({"patient_control_number": "PCN1", "paid": "12.50", "dob": "1947-11-02"}) == {
        "patient_control_number": "PCN1",
        "paid": "12.50",
        "dob": REDACTED,
    }
