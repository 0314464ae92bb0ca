"""The dashboard and the search read the read model alone (#18 item 3, #13): once it is built, every
dashboard table (KPIs, denials by category and payer, the weekly trend, A/R aging by payer,
underpayments, counts, stuck claims, deadlines, open tasks) and every search page and CSV is served
without one query, describe or listing sent to Temporal; and each shows what the same console shows
when it asks every workflow instead (no read model). Real claims on the dev server (scripted payer:
one paid with a patient balance, one denied CO-4, one stopped on inactive coverage), a real ledger."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from claimflow.claims.lifecycle import ClaimState
from claimflow.console.claims_client import StuckClaim, WorkQueue
from claimflow.console.web.dashboard import LIST_LIMIT
from claimflow.console.web.data import Loaded
from claimflow.integrations.ledger.readmodel import ClaimView, Projection, SourceView
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


MANY = LIST_LIMIT + 37


def _quiet_claims(now: datetime) -> list[ClaimView]:
    """MANY submitted claims quiet for 8 to 12 days (ties in their last progress), each with a
    timely-filing deadline in the next 6 days, and one closed claim quiet as long (not stuck)."""
    quiet = [
        ClaimView(
            claim_id=f"claim-Q{n:04}",
            state="submitted",
            payer_id="P1",
            billed=Decimal("100.00"),
            balance=Decimal("100.00"),
            amount_at_stake=Decimal("100.00"),
            last_progress_at=now - timedelta(days=8 + n % 5),
            timely_filing_deadline=now.date() + timedelta(days=n % 6),
        )
        for n in range(MANY)
    ]
    closed = quiet[0].model_copy(update={"claim_id": "claim-Q9999", "state": "closed", "is_open": False})
    return [*quiet, closed]


def _projection(claim: ClaimView) -> Projection:
    source = SourceView(
        workflow_id=claim.claim_id, workflow_type="ClaimWorkflow", run_id="r1", claim_id=claim.claim_id,
        status="Running", last_progress_at=claim.last_progress_at,
    )  # fmt: skip
    return Projection(source=source, claim=claim)


async def _capped(http: httpx.AsyncClient) -> dict[str, tuple[int, str, list[str]]]:
    """The stuck claims' and the deadlines' tables as served: the rows the page lists, what it says
    of them, and their CSV's lines."""
    page = (await http.get("/dashboard")).text
    tables = {}
    for name in ("stuck", "deadlines"):
        section = page.split(f'id="table-{name}"')[1].split("</section>")[0]
        said = section.split(f'id="shown-{name}">')[1].split("</p>")[0] if "shown-" in section else ""
        csv = await http.get(f"/dashboard/{name}.csv")
        assert csv.status_code == 200, csv.text
        tables[name] = (section.count("<tr><td>"), said, csv.text.splitlines())
    return tables


async def test_the_stuck_claims_and_deadlines_list_the_first_ones_and_count_them_all(
    dev_env: WorkflowEnvironment,
    ledger_url: str,
    users: UserStore,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Over LIST_LIMIT stuck claims, the page lists the first LIST_LIMIT, says how many there are
    and offers the CSV, which holds every one; the same from the read model and from the claims
    loaded from the workflows (the same first claims, ties by claim id)."""
    console, close = make_console(dev_env, ledger_url, users, tmp_path, with_read_model=True)
    try:
        assert console.read_model is not None
        now = datetime.now(UTC)
        claims = _quiet_claims(now)
        console.read_model.rebuild([_projection(claim) for claim in claims], now)
        mary = await console.as_user("mary")
        from_read_model = await _capped(mary.http)

        listed = [
            StuckClaim.model_validate(claim.model_dump(include=set(StuckClaim.model_fields)))
            for claim in claims
        ]
        loaded = Loaded(at=time.monotonic(), queue=WorkQueue(rows=[], claims={}), claims={}, listed=listed)

        async def from_workflows() -> Loaded:
            return loaded

        monkeypatch.setattr(console.data, "loaded", from_workflows)
        console.data.read_model = None
        assert await _capped(mary.http) == from_read_model
    finally:
        close()
    for name in ("stuck", "deadlines"):
        rows, said, csv = from_read_model[name]
        assert rows == LIST_LIMIT, (name, rows)
        assert said.startswith(f"showing the first {LIST_LIMIT} of {MANY}; the <a href="), said
        assert len(csv) == MANY + 1 and {line.split(",")[0] for line in csv[1:]} == {
            f"claim-Q{n:04}" for n in range(MANY)
        }
    # the first listed are the longest quiet and the nearest deadlines, ties by claim id
    assert from_read_model["stuck"][2][1].startswith("claim-Q0004,")
    assert from_read_model["deadlines"][2][1].startswith("claim-Q0000,")
