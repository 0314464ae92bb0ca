"""Counters workflow code keeps, through `workflow.metric_meter()`: it records nothing while a
workflow replays, so a worker that restarts and replays a claim counts nothing twice. Attributes
are kinds, states and outcomes only, never an id or anything about a patient. They are exported
by the Temporal runtime's Prometheus endpoint, which the worker's /metrics serves."""

from __future__ import annotations

from temporalio import workflow

FINAL_STATES = frozenset({"closed", "written_off"})


def _count(name: str, description: str, **attributes: str) -> None:
    workflow.metric_meter().create_counter(name, description).add(1, attributes)


def claim_started() -> None:
    """A claim workflow's first run (not a continue-as-new)."""
    if workflow.info().continued_run_id is None:
        _count("claimflow_claims_started", "Claim workflows started")


def claim_state_entered(state: str) -> None:
    """A claim moved to `state`; a final one (closed, written off) also counts as a closed claim."""
    _count("claimflow_claim_states_entered", "Claims that entered a state", state=state)
    if state in FINAL_STATES:
        _count("claimflow_claims_closed", "Claims closed, by outcome", outcome=state)


def task_opened(kind: str) -> None:
    _count("claimflow_tasks_opened", "Tasks opened for people, by kind", kind=kind)


def task_resolved(kind: str, by_person: bool) -> None:
    """A task closed: resolved by a person, or closed by claimflow when what it waited for came."""
    _count(
        "claimflow_tasks_resolved",
        "Tasks closed, by kind and by whom",
        kind=kind,
        by="person" if by_person else "claimflow",
    )


def sla_breached(kind: str) -> None:
    """A task was still open at its due date and was escalated."""
    _count("claimflow_sla_breaches", "Tasks escalated past their due date, by kind", kind=kind)
