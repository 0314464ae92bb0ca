"""The sandbox's HTTP endpoints on damaged X12, random JSON and odd paths and headers: an answer
below 500 (a refusal says why in {"error": ...}), never an exception, never a hang."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from starlette.testclient import TestClient

from claimflow.integrations.sandbox.app import create_app
from claimflow.integrations.sandbox.engine import Sandbox
from claimflow.integrations.sandbox.store import Store
from tests.fuzz.harness import Tally, fuzz_settings
from tests.fuzz.mutations import json_values, mutated, seeds
from tests.sandbox.helpers import FakeClock, quiet_config

pytestmark = pytest.mark.slow

X12_ROUTES = ["/eligibility", "/claim-status", "/claims"]
JSON_ROUTES = ["/appeals", "/admin/advance", "/admin/faults"]
GET_ROUTES = ["/inbox", "/inbox/{id}", "/admin/stats", "/admin/clock", "/admin/faults", "/health"]
ODD_IDS = ["1", "0", "-1", "99999999999999999999", "..%2F..", "%00", "é", "a" * 5_000, "%ff"]

FIELDS = [
    "seconds",
    "days",
    "letter",
    "payer_claim_number",
    "patient_control_number",
    "error_rate",
    "throttle_rate",
    "slow_rate",
    "slow_seconds",
    "retry_after_seconds",
]
json_bodies = st.one_of(
    st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=4).map(lambda d: json.dumps(d).encode()),
    json_values.map(lambda value: json.dumps(value).encode()),
    st.binary(max_size=200),
)


@st.composite
def requests(draw: st.DrawFn, corpus: list[bytes]) -> tuple[str, str, bytes, dict[str, str]]:
    headers = {}
    if draw(st.booleans()):
        headers["Idempotency-Key"] = draw(
            st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126))
        )
    kind = draw(st.sampled_from(["x12", "json", "get", "ack"]))
    if kind == "x12":
        return "POST", draw(st.sampled_from(X12_ROUTES)), draw(mutated(corpus)), headers
    if kind == "json":
        return "POST", draw(st.sampled_from(JSON_ROUTES)), draw(json_bodies), headers
    file_id = draw(st.sampled_from(ODD_IDS) | st.text(alphabet="0123456789abcdef-", max_size=40))
    if kind == "ack":
        return "POST", f"/inbox/{file_id}/ack", b"", headers
    return "GET", draw(st.sampled_from(GET_ROUTES)).replace("{id}", file_id), b"", headers


def test_every_endpoint_answers_damaged_requests_without_a_server_error(tmp_path: Path) -> None:
    corpus = seeds("837p", "837i", "270_271", "276_277")
    store = Store(tmp_path / "sandbox.db")
    clock = FakeClock()
    sandbox = Sandbox(quiet_config(), store, clock=clock)
    tally = Tally("sandbox HTTP")

    def outcome(client: TestClient, method: str, path: str, body: bytes, headers: dict[str, str]) -> str:
        answer = client.request(method, path, content=body, headers=headers)
        assert answer.status_code < 500, (method, path, answer.status_code, answer.text[:500])
        if answer.status_code >= 400:
            refusal: Any = answer.json()
            assert isinstance(refusal, dict) and refusal.get("error"), answer.text[:500]
        clock.tick(30)
        return str(answer.status_code)

    with TestClient(create_app(sandbox)) as client:

        @fuzz_settings()
        @given(requests(corpus))
        def one_request(request: tuple[str, str, bytes, dict[str, str]]) -> None:
            tally.run(lambda: outcome(client, *request))

        one_request()
    store.close()
    tally.check_count()
