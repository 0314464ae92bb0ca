"""A resolving action's form as the TaskResolution the workflow's Update takes, checked the same way.

One form per action on the task page; its fields are named like the resolution's. What the form
cannot express as a model is an `InvalidForm` with the field and what to type instead.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from pydantic import TypeAdapter, ValidationError

from claimflow.claims.encounter import Encounter, ServiceLine
from claimflow.claims.tasks import RESOLUTION, Action, Task, TaskResolution, check_resolution
from claimflow.console.output import problems

FIELDS_BY_ACTION: dict[Action, tuple[str, ...]] = {
    Action.CORRECT: ("encounter",),
    Action.NEW_COVERAGE: ("coverage_payer_id", "coverage_payer_name", "member_id"),
    Action.SELF_PAY: (),
    Action.CODES: ("diagnoses", "service_lines"),
    Action.OVERRIDE: ("reason",),
    Action.RESUBMIT: (),
    Action.INQUIRE_AGAIN: (),
    Action.WRITE_OFF: ("reason",),
    Action.ROUTE: ("target_claim",),
    Action.ACKNOWLEDGE: ("reason",),
    Action.APPROVE: (),
    Action.EDIT: ("argument",),
    Action.WITHDRAW: ("reason",),
    Action.APPROVE_WRITE_OFF: ("reason",),
    Action.REJECT: ("reason",),
    Action.APPEAL: (),
    Action.ACCEPT: ("reason",),
    Action.CORRECT_CONTRACT: ("rate", "reason"),
}
"""The form fields each action's form shows (the resolution's other fields stay empty)."""


class InvalidForm(ValueError):
    """The form's values do not make a valid resolution; the message names the field."""


def resolution_from_form(task: Task, form: Mapping[str, str], actor: str) -> TaskResolution:
    """The resolution the form describes, with `actor` (the logged-in user) as its actor, checked
    against the task as the workflow's Update validator checks it (check_resolution)."""
    try:
        action = Action(form.get("action", ""))
    except ValueError:
        raise InvalidForm(
            f"action {form.get('action', '')!r} is not one of: {', '.join(task.allowed_actions)}"
        ) from None
    text = {name: (form.get(name) or "").strip() for name in FIELDS_BY_ACTION[action]}
    fields: dict[str, Any] = {"task_id": task.id, "action": action.value, "actor": actor}
    for name in ("reason", "target_claim", "argument", "rate"):
        if text.get(name):
            fields[name] = text[name]
    if "encounter" in text:
        fields["encounter"] = _json_field("encounter", text["encounter"], Encounter)
    if "member_id" in text:
        fields["coverage"] = {
            "payer_id": text["coverage_payer_id"],
            "payer_name": text["coverage_payer_name"],
            "member_id": text["member_id"],
        }
    if "diagnoses" in text:
        fields["diagnoses"] = [
            code.strip().replace(".", "").upper() for code in text["diagnoses"].split(",") if code.strip()
        ]
    if "service_lines" in text:
        fields["service_lines"] = _json_field("service_lines", text["service_lines"], list[ServiceLine])
    try:
        resolution = RESOLUTION.validate_python(fields)
    except ValidationError as error:
        raise InvalidForm(f"the {action.value} form is not complete: {problems(error)}") from None
    check_resolution([task], resolution)
    return resolution


def _json_field(name: str, text: str, shape: Any) -> Any:
    if not text:
        raise InvalidForm(f"{name}: empty; paste the JSON the form was filled with and correct it")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise InvalidForm(
            f"{name}: not JSON: {error.msg} at line {error.lineno}, column {error.colno}"
        ) from None
    try:
        return TypeAdapter(shape).validate_python(data)
    except ValidationError as error:
        raise InvalidForm(f"{name}: {problems(error)}") from None
