"""The dashboard's KPIs summed by the read model's database are claims.kpi's own (#18 item 3): the
same claims give the same report through `ReadModel.kpi_totals` + `report_of` as through
`compute_kpis` over their facts, for everyone and for each payer, on SQLite and PostgreSQL; so do
the weekly first-remittance counts and the underpayments by payer. Hand-worked claims (the KPI
tests' own) projected as the projector projects them, and a few hundred random facts whose dates
fall on every boundary of the period and the aging buckets."""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from claimflow.claims.denials import DenialCategory
from claimflow.claims.kpi import ClaimFacts, KpiTotals, compute_kpis, facts_of, report_of
from claimflow.claims.lifecycle import ClaimSnapshot, ClaimState, TimelineEntry, UnderpaymentStatus
from claimflow.claims.underpayment_report import by_payer, by_payer_of_groups
from claimflow.integrations.ledger.projector import claim_view
from claimflow.integrations.ledger.readmodel import (
    ClaimView,
    Projection,
    ReadModel,
    SourceView,
    UnderpaymentView,
)
from tests.console.test_kpi import AS_OF, CLAIMS
from tests.underpayment.test_report import case

NOW = datetime.combine(AS_OF, datetime.min.time(), tzinfo=UTC)
PAYERS = ("P-ONE", "P-TWO", "P-THREE")
BOUNDARIES = (-3, 0, 1, 29, 30, 31, 60, 61, 89, 90, 91, 120, 121, 400)
"""Days before as_of: the period's first and last day, each aging bucket's, and a visit after as_of."""


@pytest.fixture
def model(database_url: str) -> Iterator[ReadModel]:
    store = ReadModel(database_url)
    try:
        yield store
    finally:
        store.close()


def _projection(claim: ClaimView, underpayments: list[UnderpaymentView] | None = None) -> Projection:
    source = SourceView(
        workflow_id=claim.claim_id, workflow_type="ClaimWorkflow", run_id="r1", claim_id=claim.claim_id,
        status="RUNNING" if claim.is_open else "COMPLETED",
    )  # fmt: skip
    return Projection(source=source, claim=claim, underpayments=underpayments or [])


def _report(model: ReadModel, as_of: date, period_days: int) -> tuple[object, dict[str, object]]:
    totals = model.kpi_totals(as_of, period_days)
    everyone = sum(totals.values(), KpiTotals())
    return report_of(everyone, as_of, period_days), {
        payer: report_of(payer_totals, as_of, period_days) for payer, payer_totals in totals.items()
    }


def _expected(
    facts: list[ClaimFacts], payer_of: dict[str, str], as_of: date, period_days: int
) -> tuple[object, dict[str, object]]:
    groups: dict[str, list[ClaimFacts]] = defaultdict(list)
    for fact in facts:
        groups[payer_of[fact.claim_id]].append(fact)
    return compute_kpis(facts, as_of, period_days), {
        payer: compute_kpis(group, as_of, period_days) for payer, group in sorted(groups.items())
    }


def _snapshots() -> list[ClaimSnapshot]:
    """The KPI tests' hand-worked claims under three payers, one of them underpaid twice, one
    without its encounter (no KPI counts it), one whose workflow ended unsettled."""
    claims = [
        claim.model_copy(
            update={"claim_id": f"claim-K{n}", "patient_control_number": f"K{n}", "payer_id": PAYERS[n % 3]}
        )
        for n, claim in enumerate(CLAIMS)
    ]
    underpaid = claims[0].model_copy(
        update={
            "underpayments": [
                case("P-ONE", 1, "6.13", UnderpaymentStatus.OPEN),
                case("P-ONE", 2, "8.00", UnderpaymentStatus.RECOVERED, recovered="8.00"),
                case("P-TWO", 3, "2.61", UnderpaymentStatus.APPEALED),
            ]
        }
    )
    no_encounter = claims[1].model_copy(update={"claim_id": "claim-NOENC", "encounter": None})
    return [underpaid, *claims[1:], no_encounter]


def test_the_read_models_kpis_are_claims_kpis_on_projected_claims(model: ReadModel) -> None:
    snapshots = _snapshots()
    ended = {snapshots[3].claim_id}  # its workflow was terminated while the claim was submitted
    views = [claim_view(s, running=s.claim_id not in ended, last_progress_at=NOW) for s in snapshots]
    underpayments = [[UnderpaymentView.of(s.claim_id, c) for c in s.underpayments] for s in snapshots]
    model.rebuild([_projection(v, u) for v, u in zip(views, underpayments, strict=True)], NOW)

    with_facts = [s for s in snapshots if s.encounter is not None]
    facts = [facts_of(s) for s in with_facts]
    payer_of = {s.claim_id: s.payer_id for s in with_facts}
    for period_days in (90, 30):
        assert _report(model, AS_OF, period_days) == _expected(facts, payer_of, AS_OF, period_days)
    report, _ = _report(model, AS_OF, 90)
    assert report.claims == len(CLAIMS)  # type: ignore[attr-defined]
    # a claim's facts read back are facts_of's
    assert [model.claim(s.claim_id).facts() for s in with_facts] == facts  # type: ignore[union-attr]
    assert model.claim("claim-NOENC").facts() is None  # type: ignore[union-attr]
    # underpayments by payer: the same rows as over the claims' cases
    cases = [c for s in snapshots for c in s.underpayments]
    assert by_payer_of_groups(model.underpayment_groups()) == by_payer(cases)
    # the claim projected again with no underpayments left: its rows go
    model.apply([_projection(views[0])])
    assert model.underpayment_groups() == []


def _random_facts(rng: random.Random, n: int, as_of: date) -> ClaimFacts:
    categories = [c for c in DenialCategory if rng.random() < 0.2]
    cents = rng.randrange(1, 90_000)
    return ClaimFacts(
        claim_id=f"claim-R{n:04d}",
        state=rng.choice(list(ClaimState)),
        service_date=as_of - timedelta(days=rng.choice(BOUNDARIES)),
        charges=Decimal(cents) / 100,
        submitted=rng.random() < 0.8,
        clean=rng.random() < 0.6,
        first_pass_resolved=rng.random() < 0.5,
        remitted=rng.random() < 0.6,
        initially_denied=rng.random() < 0.3,
        denial_categories=frozenset(categories),
        payer_paid=Decimal(rng.randrange(0, cents)) / 100,
        patient_paid=Decimal(rng.randrange(0, 3_000)) / 100,
        contractual_adjustment=Decimal(rng.randrange(0, cents)) / 100,
        ar_balance=Decimal(rng.choice((0, rng.randrange(1, cents)))) / 100,
    )


def _view_of(facts: ClaimFacts, payer: str, first_835: date | None) -> ClaimView:
    return ClaimView(
        claim_id=facts.claim_id,
        state=facts.state.value,
        payer_id=payer,
        billed=facts.charges,
        balance=facts.ar_balance,
        amount_at_stake=facts.ar_balance,
        date_of_service=facts.service_date,
        facts_known=True,
        first_remittance_on=first_835,
        **facts.model_dump(
            include={
                "submitted", "clean", "first_pass_resolved", "remitted", "initially_denied",
                "denial_categories", "payer_paid", "patient_paid", "contractual_adjustment", "ar_balance",
            }
        ),
    )  # fmt: skip


def test_the_read_models_sums_equal_compute_kpis_on_random_facts_at_every_boundary(model: ReadModel) -> None:
    rng = random.Random(18)
    facts = [_random_facts(rng, n, AS_OF) for n in range(400)]
    payer_of = {f.claim_id: rng.choice(PAYERS) for f in facts}
    first_835 = {f.claim_id: AS_OF - timedelta(days=rng.randrange(0, 70)) for f in facts if f.remitted}
    model.rebuild(
        [_projection(_view_of(f, payer_of[f.claim_id], first_835.get(f.claim_id))) for f in facts], NOW
    )
    for as_of, period_days in ((AS_OF, 90), (AS_OF, 30), (AS_OF + timedelta(days=1), 1)):
        assert _report(model, as_of, period_days) == _expected(facts, payer_of, as_of, period_days)
    # the first remittances by day: the claims remitted that day and those its 835 denied
    since = AS_OF - timedelta(days=40)
    by_day: dict[date, list[ClaimFacts]] = defaultdict(list)
    for f in facts:
        if f.claim_id in first_835 and first_835[f.claim_id] >= since:
            by_day[first_835[f.claim_id]].append(f)
    expected = [
        (day, len(group), sum(f.initially_denied for f in group)) for day, group in sorted(by_day.items())
    ]
    assert model.first_remittances(since) == expected


def test_the_search_matches_ids_and_names_in_any_case_and_filters_in_the_database(model: ReadModel) -> None:
    snapshots = _snapshots()[:4]
    model.rebuild([_projection(claim_view(s, running=True)) for s in snapshots], NOW)
    first = snapshots[0]
    assert first.encounter is not None
    patient = first.encounter.patient
    for typed in (patient.last_name.upper(), patient.first_name.lower()[1:], first.patient_control_number):
        found = model.search(text=typed)
        assert first.claim_id in {c.claim_id for c in found.claims} and found.total == len(found.claims)
    assert model.search(text=f"{patient.first_name} {patient.last_name}".swapcase()).claims[0].claim_id == (
        first.claim_id
    )
    # a search never spans two values, and a wildcard is a character like any other
    assert model.search(text=f"{first.claim_id}{patient.last_name}").total == 0
    assert model.search(text="%").total == 0 and model.search(text="_").total == 0
    # payer, state and dates filter; the first `limit` by claim id, and how many matched
    assert {c.claim_id for c in model.search(payer=first.payer_id).claims} == {
        s.claim_id for s in snapshots if s.payer_id == first.payer_id
    }
    assert [c.state for c in model.search(state="appealing").claims] == ["appealing"]
    service = first.encounter.service_date
    dated = model.search(service_from=service, service_to=service).claims
    assert first.claim_id in {c.claim_id for c in dated}
    assert all(c.date_of_service == service for c in dated)
    limited = model.search(text="claim-", limit=2)
    ids = sorted(s.claim_id for s in snapshots)
    assert [c.claim_id for c in limited.claims] == ids[:2] and limited.total == len(snapshots)
    shown = model.search(text=first.claim_id).claims[0]
    assert (shown.patient, shown.billed, shown.payer_paid, shown.open_tasks) == (
        f"{patient.last_name}, {patient.first_name}",
        first.billed,
        first.paid,
        len(first.open_tasks),
    )


def test_a_first_remittance_is_the_day_of_the_claims_first_835() -> None:
    claim = CLAIMS[2].model_copy(
        update={
            "timeline": [
                TimelineEntry(at=datetime(2026, 4, 20, 23, tzinfo=UTC), step="835", outcome="denied: CO-50"),
                TimelineEntry(at=datetime(2026, 4, 28, 9, tzinfo=UTC), step="835", outcome="paid"),
            ]
        }
    )
    view = claim_view(claim, running=True)
    assert view.first_remittance_on == date(2026, 4, 20) and view.remitted and view.initially_denied
    assert view.denial_categories == facts_of(claim).denial_categories
