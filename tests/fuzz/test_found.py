"""What the fuzzers found, pinned as plain tests so it stays fixed whatever the fuzzers draw."""

from __future__ import annotations

from pathlib import Path

import pytest
from starlette.testclient import TestClient

from claimflow.claims.x12 import X12Error, read_999
from claimflow.integrations.fhir import IntakeError, load_encounter
from claimflow.integrations.sandbox.app import create_app
from claimflow.integrations.sandbox.engine import Sandbox
from claimflow.integrations.sandbox.store import Store
from tests.sandbox.helpers import FakeClock, quiet_config


def test_a_truncated_utf16_file_is_a_located_x12_error() -> None:
    with pytest.raises(X12Error, match="ISA"):
        read_999(b"\xfe\xffI")


def test_json_nested_past_the_recursion_limit_is_an_intake_error(tmp_path: Path) -> None:
    visit = tmp_path / "deep.json"
    visit.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(IntakeError, match="nested too deeply"):
        load_encounter(visit)


@pytest.fixture
def client(tmp_path: Path) -> TestClient:
    return TestClient(create_app(Sandbox(quiet_config(), Store(tmp_path / "s.db"), clock=FakeClock())))


def test_an_unknown_route_is_refused_in_json(client: TestClient) -> None:
    answer = client.post("/inbox//ack")
    assert answer.status_code == 404
    assert "POST /inbox//ack" in answer.json()["error"]


def test_an_appeal_field_that_is_not_text_is_refused(client: TestClient) -> None:
    answer = client.post("/appeals", json={"letter": "please", "payer_claim_number": [None]})
    assert answer.status_code == 422
    assert "'payer_claim_number' must be a string" in answer.json()["error"]
