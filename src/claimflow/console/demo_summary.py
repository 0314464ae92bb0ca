"""What `claimflow demo` counts: where each claim stands while the batch runs, and the closing summary.

Pure functions over what Temporal reports (search attributes, `state` snapshots), so the arithmetic is
tested without a stack.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from claimflow.claims.denials import DenialCategory, rule_for_carc
from claimflow.claims.lifecycle import ClaimSnapshot, ClaimState
from claimflow.claims.money import ZERO, Money, money_sum
from claimflow.claims.tasks import TaskKind

SETTLED_STATES = frozenset({ClaimState.CLOSED.value, ClaimState.WRITTEN_OFF.value})
NOT_DENIALS = frozenset({DenialCategory.CONTRACTUAL, DenialCategory.PATIENT_RESPONSIBILITY})
ADJUSTMENT_CODE = re.compile(r"\b(?:CO|PR|OA|PI|CR)-([A-Z0-9]{1,3})\b")
"""A group-CARC pair as the workflow's 835 timeline entries write it, e.g. CO-50."""


class Progress(StrEnum):
    SETTLED = "settled"
    WAITING_ON_A_PERSON = "waiting on a person"
    WAITING_ON_THE_PATIENT = "waiting on the patient"
    IN_FLIGHT = "in flight"
    STOPPED = "stopped"
    """The workflow ended without closing (failed or terminated): shown, never waited for."""


def progress_of(state: str | None, task_priority: int, running: bool, appeal_task_open: bool) -> Progress:
    """Where a claim stands, from its search attributes (None: visibility has not caught up yet)."""
    if state in SETTLED_STATES:
        return Progress.SETTLED
    if not running:
        return Progress.STOPPED
    if task_priority > 0 or (state == ClaimState.APPEALING.value and appeal_task_open):
        return Progress.WAITING_ON_A_PERSON
    if state == ClaimState.PATIENT_BILLING.value:
        return Progress.WAITING_ON_THE_PATIENT  # patients do not pay in the demo
    return Progress.IN_FLIGHT


def denial_categories(snapshot: ClaimSnapshot) -> set[DenialCategory]:
    """The denial categories of the adjustments on every 835 the claim saw (not contractual or
    patient-responsibility amounts, which are ordinary)."""
    found: set[DenialCategory] = set()
    for entry in snapshot.timeline:
        if entry.step != "835":
            continue
        for carc in ADJUSTMENT_CODE.findall(entry.outcome):
            rule = rule_for_carc(carc)
            if rule is not None and rule.category not in NOT_DENIALS:
                found.add(rule.category)
    return found


def _had_task(snapshot: ClaimSnapshot, *kinds: TaskKind) -> bool:
    return any(task.kind in kinds for task in snapshot.tasks)


def clean_claim(snapshot: ClaimSnapshot) -> bool:
    """Accepted by the payer on the first submission, with no scrub error on the way."""
    return (
        snapshot.submissions == 1
        and snapshot.accepted_on is not None
        and not _had_task(snapshot, TaskKind.SCRUB_FAILURE, TaskKind.PAYER_REJECTION)
    )


def first_pass_resolved(snapshot: ClaimSnapshot) -> bool:
    """Settled with the payer on one submission without a person touching it."""
    return (
        snapshot.state in (ClaimState.CLOSED, ClaimState.PATIENT_BILLING)
        and snapshot.submissions == 1
        and not any(task.kind is not TaskKind.PATIENT_BALANCE for task in snapshot.tasks)
    )


def rate(part: int, whole: int) -> str:
    return f"{part / whole:.0%} ({part} of {whole})" if whole else "n/a (none)"


@dataclass
class DemoSummary:
    claims: int
    by_state: Counter[str] = field(default_factory=Counter)
    open_tasks: Counter[str] = field(default_factory=Counter)
    submitted: int = 0
    clean: int = 0
    first_pass: int = 0
    adjudicated: int = 0
    denials: Counter[str] = field(default_factory=Counter)
    charges: Money = ZERO
    paid: Money = ZERO
    patient_responsibility: Money = ZERO
    adjusted: Money = ZERO


def summarize(
    snapshots: Sequence[ClaimSnapshot], charges: Money, appeal_tasks: Sequence[TaskKind] = ()
) -> DemoSummary:
    """The figures of the closing summary. `charges` is the batch's total charge (uncoded claims have
    billed nothing yet); `appeal_tasks` the open tasks held by appeal workflows."""
    summary = DemoSummary(claims=len(snapshots), charges=charges)
    for snapshot in snapshots:
        summary.by_state[snapshot.state.value] += 1
        summary.open_tasks.update(task.kind.value for task in snapshot.open_tasks)
        summary.submitted += snapshot.submissions > 0
        summary.clean += clean_claim(snapshot)
        summary.first_pass += first_pass_resolved(snapshot)
        if any(entry.step == "835" for entry in snapshot.timeline):
            summary.adjudicated += 1
            summary.denials.update(category.value for category in denial_categories(snapshot))
    summary.open_tasks.update(kind.value for kind in appeal_tasks)
    summary.paid = money_sum(s.paid for s in snapshots)
    summary.patient_responsibility = money_sum(s.patient_responsibility for s in snapshots)
    summary.adjusted = money_sum(s.adjusted for s in snapshots)
    return summary
