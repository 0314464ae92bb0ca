"""The dashboard and the search read the read model alone (#18 item 3, #13): once it is built, every
dashboard table (KPIs, denials by category and payer, the weekly trend, A/R aging by payer,
underpayments, counts, stuck claims, deadlines, open tasks) and every search page and CSV is served
without one query, describe or listing sent to Temporal; and each shows what the same console shows
when it asks every workflow instead (no read model). Real claims on the dev server (scripted payer:
one paid with a patient balance, one denied CO-4, one stopped on inactive coverage), a real ledger."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from claimflow.claims.lifecycle import ClaimState
from claimflow.integrations.ledger.users import UserStore
from claimflow.workflows.claim import ClaimWorkflow
from tests.console.test_commands import inactive, today
from tests.console.test_readmodel import Calls
from tests.console.web.conftest import Console, make_console, started, task_of
from tests.workflows.scripted import ScriptedPayer, encounter, in_state, pay_cleanly, until
from tests.workflows.test_denials import deny

pytestmark = pytest.mark.asyncio(loop_scope="session")

TABLES = (
    "kpis",
    "denials",
    "denial_trend",
    "ar_aging",
    "underpayments",
    "claims_by_payer",
    "stuck",
    "deadlines",
    "open_tasks",
    "resolutions",
)
"""Every dashboard table but claims by state, which counts claims whose workflow cannot answer too
(visibility's state; tests/console/web/test_queue_readmodel.py checks it claim by claim)."""


@pytest.fixture
async def console_on_read_model(
    dev_env: WorkflowEnvironment,
    payer_worker: ScriptedPayer,
    ledger_url: str,
    users: UserStore,
    tmp_path: Path,
) -> AsyncIterator[Console]:
    made, close = make_console(dev_env, ledger_url, users, tmp_path, with_read_model=True)
    yield made
    close()


async def _texts(http: httpx.AsyncClient, searches: list[dict[str, str]]) -> dict[str, str]:
    """Every dashboard table's CSV and every search's CSV, as served."""
    texts = {}
    for name in TABLES:
        response = await http.get(f"/dashboard/{name}.csv")
        assert response.status_code == 200, response.text
        texts[name] = response.text
    for n, params in enumerate(searches):
        response = await http.get("/search.csv", params=params)
        assert response.status_code == 200, response.text
        texts[f"search {n}"] = response.text
    return texts


async def test_the_dashboard_and_search_read_the_read_model_alone_and_match_the_workflows(
    console_on_read_model: Console, dev_env: WorkflowEnvironment, monkeypatch: pytest.MonkeyPatch
) -> None:
    console = console_on_read_model
    store, projector = console.read_model, console.projector
    assert store is not None and projector is not None
    paid_enc, denied_enc = encounter(today(), 9311), encounter(today(), 9312)
    paid, denied = await started(console, paid_enc), await started(console, denied_enc)
    coverage = await started(console, inactive(9313))
    for claim_id, enc in ((paid, paid_enc), (denied, denied_enc)):
        handle = dev_env.client.get_workflow_handle_for(ClaimWorkflow.run, claim_id)
        await until(handle, in_state(ClaimState.SUBMITTED), "submitted")
        if claim_id == paid:
            await pay_cleanly(handle, enc, patient_owes=Decimal("30.00"))
        else:
            await deny(handle, enc, "4")
        await until(handle, lambda s: any(e.step == "835" for e in s.timeline), "remitted")
        if claim_id == paid:
            await until(handle, in_state(ClaimState.PATIENT_BILLING), "billing the patient")
    await task_of(console, coverage, "coverage_issue")
    mary = await console.as_user("mary")
    patient = paid_enc.patient
    searches = [
        {"q": patient.last_name.upper()},
        {"q": f"{patient.first_name} {patient.last_name}".lower()},
        {"q": denied_enc.encounter_id.upper()},
        {"q": paid_enc.encounter_id, "state": "patient_billing"},
        {"q": "claim-", "payer": paid_enc.coverage.payer_id},
        {"from": paid_enc.service_date.isoformat(), "to": date.max.isoformat()},
        {"q": coverage, "state": "closed"},
    ]

    for _ in range(10):  # until nothing moved between the rebuild and the workflows' own copy
        await projector.rebuild()
        calls = Calls(monkeypatch)
        board = await mary.http.get("/dashboard")
        page = await mary.http.get("/search", params=searches[0])
        from_read_model = await _texts(mary.http, searches)
        # the whole dashboard and every search: nothing asked of Temporal
        assert calls.counts == {}, calls.counts
        monkeypatch.undo()
        assert board.status_code == 200 and "never built" not in board.text and "<svg" in board.text
        assert page.status_code == 200 and paid in page.text and "never built" not in page.text

        # the same console without its read model: every workflow asked for the same pages
        console.data.read_model = None
        try:
            await console.data.reload()
            slow = await mary.http.get("/dashboard")
            assert "never built" in slow.text
            assert "never built" in (await mary.http.get("/search", params=searches[0])).text
            from_workflows = await _texts(mary.http, searches)
        finally:
            console.data.read_model = store
        if from_read_model == from_workflows:
            break
    assert from_read_model == from_workflows
    # and the figures are not trivially empty: our claims are in them
    kpis = from_read_model["kpis"].splitlines()
    assert kpis[0].startswith("payer,claims,clean-claim rate") and kpis[1].startswith("all payers,")
    assert int(kpis[1].split(",")[1]) >= 3
    assert paid in from_read_model["search 0"] and paid in from_read_model["search 1"]
    assert denied in from_read_model["search 2"] and paid in from_read_model["search 3"]
    assert coverage not in from_read_model["search 6"]
    assert "correct_and_resubmit" in from_read_model["denials"]
