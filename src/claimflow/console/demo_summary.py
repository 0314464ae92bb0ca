"""What `claimflow demo` counts: where each claim stands while the batch runs, and the closing summary.

Pure functions over what Temporal reports (search attributes, `state` snapshots), so the arithmetic is
tested without a stack.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from claimflow.claims.kpi import KpiReport, kpis_of_snapshots
from claimflow.claims.lifecycle import ClaimSnapshot, ClaimState
from claimflow.claims.money import ZERO, Money, money_sum
from claimflow.claims.remittance import ClaimStatusCode
from claimflow.claims.tasks import TaskKind
from claimflow.claims.underpayment_report import PayerUnderpayments, by_payer

SETTLED_STATES = frozenset({ClaimState.CLOSED.value, ClaimState.WRITTEN_OFF.value})


class Progress(StrEnum):
    SETTLED = "settled"
    WAITING_ON_A_PERSON = "waiting on a person"
    WAITING_ON_THE_PATIENT = "waiting on the patient"
    IN_FLIGHT = "in flight"
    STOPPED = "stopped"
    """The workflow ended without closing (failed or terminated): shown, never waited for."""


AT_THE_PAYER = frozenset(
    state.value for state in (ClaimState.SUBMITTED, ClaimState.ACKNOWLEDGED, ClaimState.ACCEPTED)
)
BESIDE_THE_CLAIM = frozenset({TaskKind.TIMELY_FILING_RISK.value, TaskKind.UNDERPAYMENT.value})
"""Tasks a person works while the claim goes on (a deadline warning; a line paid below contract,
while the next payer has the claim): they hold nothing up."""


def progress_of(
    state: str | None,
    task_priority: int,
    running: bool,
    appeal_task_open: bool,
    open_tasks: Collection[str] | None = None,
) -> Progress:
    """Where a claim stands, from its search attributes (None: visibility has not caught up yet).
    A claim at the payer whose open tasks all hold nothing up (`open_tasks`, when known) is in
    flight: the payer's answer is on its way whatever the person does."""
    if state in SETTLED_STATES:
        return Progress.SETTLED
    if not running:
        return Progress.STOPPED
    if open_tasks is not None and state in AT_THE_PAYER and set(open_tasks) <= BESIDE_THE_CLAIM:
        return Progress.IN_FLIGHT
    if task_priority > 0 or (state == ClaimState.APPEALING.value and appeal_task_open):
        return Progress.WAITING_ON_A_PERSON
    if state == ClaimState.PATIENT_BILLING.value:
        return Progress.WAITING_ON_THE_PATIENT  # patients do not pay in the demo
    return Progress.IN_FLIGHT


@dataclass
class DemoSummary:
    claims: int
    kpis: KpiReport
    by_state: Counter[str] = field(default_factory=Counter)
    open_tasks: Counter[str] = field(default_factory=Counter)
    charges: Money = ZERO
    paid: Money = ZERO
    patient_responsibility: Money = ZERO
    adjusted: Money = ZERO
    coordination: Coordination = field(default_factory=lambda: Coordination())
    underpayments: list[PayerUnderpayments] = field(default_factory=list)


@dataclass
class Coordination:
    """Claims with other coverage: how many went to a second and third payer, and how."""

    with_other_coverage: int = 0
    secondary_decided: int = 0
    tertiary_decided: int = 0
    crossovers: int = 0
    """The primary forwarded the claim itself (MA18/N89, CLP02 19-21): no second claim was sent."""
    paid_by_later_payers: Money = ZERO


CROSSOVER_STATUSES = frozenset(
    {
        ClaimStatusCode.PRIMARY_FORWARDED,
        ClaimStatusCode.SECONDARY_FORWARDED,
        ClaimStatusCode.TERTIARY_FORWARDED,
    }
)


def coordination_of(snapshots: Sequence[ClaimSnapshot]) -> Coordination:
    result = Coordination()
    for snapshot in snapshots:
        if snapshot.encounter is None or not snapshot.encounter.other_coverages:
            continue
        result.with_other_coverage += 1
        positions = {d.position for d in snapshot.adjudications}
        result.secondary_decided += 1 in positions
        result.tertiary_decided += 2 in positions
        result.crossovers += any(
            d.payment.status in CROSSOVER_STATUSES or {"MA18", "N89"} & set(d.payment.remarks)
            for d in snapshot.adjudications
        )
        result.paid_by_later_payers += money_sum(
            d.payment.paid for d in snapshot.adjudications if d.position > 0
        )
    return result


def summarize(
    snapshots: Sequence[ClaimSnapshot], charges: Money, as_of: date, appeal_tasks: Sequence[TaskKind] = ()
) -> DemoSummary:
    """The figures of the closing summary, the KPIs as `claims.kpi` defines them. `charges` is the
    batch's total charge (uncoded claims have billed nothing yet); `appeal_tasks` the open tasks held
    by appeal workflows."""
    summary = DemoSummary(claims=len(snapshots), charges=charges, kpis=kpis_of_snapshots(snapshots, as_of))
    for snapshot in snapshots:
        summary.by_state[snapshot.state.value] += 1
        summary.open_tasks.update(task.kind.value for task in snapshot.open_tasks)
    summary.open_tasks.update(kind.value for kind in appeal_tasks)
    summary.paid = money_sum(s.paid for s in snapshots)
    summary.patient_responsibility = money_sum(s.patient_responsibility for s in snapshots)
    summary.adjusted = money_sum(s.adjusted for s in snapshots)
    summary.coordination = coordination_of(snapshots)
    summary.underpayments = by_payer(case for s in snapshots for case in s.underpayments)
    return summary
