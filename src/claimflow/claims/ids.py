"""Every id and message name claimflow's workflows answer to, defined once.

Workflows, activities and the console all build ids and address signals, Updates and queries
through this module, so a claim's id or a handler's name can never differ between the side that
sends and the side that listens. Ids are opaque and carry no PHI: an encounter id is an id.
"""

from __future__ import annotations

from typing import Final

CLAIM_PREFIX: Final = "claim-"
APPEAL_PREFIX: Final = "appeal-"
EXCEPTIONS_WORKFLOW_ID: Final = "claim-exceptions"
EXCEPTIONS_TASK_OWNER: Final = "exceptions"
"""Task ids of the exceptions workflow read `exceptions:<n>` (short, and never a claim's id)."""


class WorkflowType:
    """Workflow type names, for starting and listing workflows without importing them."""

    CLAIM: Final = "ClaimWorkflow"
    APPEAL: Final = "AppealWorkflow"
    EXCEPTIONS: Final = "ExceptionsWorkflow"


class Signal:
    PAYER_EVENT: Final = "payer_event"
    """A 999, 277CA, 835 or appeal decision for a claim (ClaimWorkflow)."""
    APPEAL_DECISION: Final = "decision"
    """The payer's decision on an appeal, forwarded by the claim (AppealWorkflow)."""
    UNMATCHED: Final = "unmatched"
    """A payer result no open claim owns (ExceptionsWorkflow)."""


class Update:
    RESOLVE_TASK: Final = "resolve_task"
    """A person's resolution of a task (every workflow that keeps tasks)."""
    RECORD_PATIENT_PAYMENT: Final = "record_patient_payment"


class Query:
    STATE: Final = "state"
    """ClaimSnapshot of a claim, AppealSnapshot of an appeal."""
    TASKS: Final = "tasks"
    """The exceptions workflow's tasks."""


def claim_workflow_id(encounter_id: str) -> str:
    """`claim-<encounter id>`: one claim workflow per encounter."""
    return f"{CLAIM_PREFIX}{encounter_id}"


def is_claim_workflow(workflow_id: str) -> bool:
    return workflow_id.startswith(CLAIM_PREFIX) and workflow_id != EXCEPTIONS_WORKFLOW_ID


def encounter_id_of(claim_workflow_id_: str) -> str:
    """`claim-E1` -> `E1`: the encounter id, which the ledger keys a claim by."""
    return claim_workflow_id_.removeprefix(CLAIM_PREFIX)


def appeal_workflow_id(encounter_id: str, number: int) -> str:
    """`appeal-<encounter id>-<n>`: the claim's n-th appeal (a child of its workflow)."""
    return f"{APPEAL_PREFIX}{encounter_id}-{number}"


def is_appeal_workflow(workflow_id: str) -> bool:
    return workflow_id.startswith(APPEAL_PREFIX)


def task_id(owner: str, number: int) -> str:
    """`<owner>:<n>`: a task id names the workflow that resolves it (see `workflow_id_of_task`)."""
    return f"{owner}:{number}"


def task_number(task_id_: str) -> int:
    return int(task_id_.rpartition(":")[2])


class NotATaskId(ValueError):
    """A string that is not `<workflow id>:<n>`."""


def workflow_id_of_task(task_id_: str) -> str:
    """`claim-E1:3` belongs to workflow `claim-E1`, `appeal-E1-1:2` to the appeal `appeal-E1-1`,
    `exceptions:2` to the exceptions workflow."""
    owner, colon, number = task_id_.rpartition(":")
    if not colon or not owner or not number.isdigit():
        raise NotATaskId(
            f"{task_id_!r} is not a task id: task ids look like claim-<encounter id>:<n> "
            "(`claimflow tasks` lists them)"
        )
    return EXCEPTIONS_WORKFLOW_ID if owner == EXCEPTIONS_TASK_OWNER else owner


def claim_workflow_ids_for(claim_or_encounter_id: str) -> list[str]:
    """The workflow ids a person may mean: `claim-E1` or the encounter id `E1`. An encounter id may
    itself start with `claim-`, so `claim-9` means workflow `claim-9`, else `claim-claim-9`."""
    encounter_workflow = claim_workflow_id(claim_or_encounter_id)
    if claim_or_encounter_id.startswith(CLAIM_PREFIX):
        return [claim_or_encounter_id, encounter_workflow]
    return [encounter_workflow]
