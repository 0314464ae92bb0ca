"""Before the claim goes out: demographics, eligibility (270/271), the coding hold and the scrub.
Each step holds the claim on a task until a person gives what it lacks."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from claimflow.activities import catalog
    from claimflow.activities.requests import EligibilityRequest
    from claimflow.claims import ids
    from claimflow.claims.encounter import Encounter
    from claimflow.claims.intake_hold import HeldIntake
    from claimflow.claims.lifecycle import ClaimRecord, ClaimSnapshot, ClaimState, TimelineEntry
    from claimflow.claims.tasks import (
        Codes,
        Correct,
        NewCoverage,
        Override,
        SelfPay,
        Task,
        TaskKind,
        WriteOff,
    )
    from claimflow.workflows import search_attributes as sa
    from claimflow.workflows.claim_steps.context import TASK_DUE_DAYS, ClaimContext
    from claimflow.workflows.taskboard import TaskBoard

SELF_PAY_HAS_NO_DEADLINE = "self-pay-has-no-deadline"
"""Patch id: claims that turned self-pay before it kept the payer's TimelyFilingDeadline."""


class IntakeHold:
    """A claim whose document cannot become a claim yet: it waits on a fix_intake task, which carries
    the findings and the document, until a person gives the corrected encounter. Its tasks and
    timeline pass to the claim's record when it is released."""

    def __init__(self, held: HeldIntake, managers: list[str]) -> None:
        self.held = held
        self.managers = managers
        self.claim_id = ids.claim_workflow_id(held.encounter_id)
        self.tasks: list[Task] = []
        self.timeline: list[TimelineEntry] = []
        self.state = ClaimState.INTAKE
        self.board = TaskBoard(self.claim_id, self.tasks, note=self.note)

    def note(self, step: str, outcome: str) -> None:
        self.timeline.append(TimelineEntry(at=workflow.now(), step=step, outcome=outcome))
        workflow.upsert_search_attributes(
            [sa.LAST_PROGRESS_AT.value_set(workflow.now()), sa.CLAIM_STATE.value_set(self.state.value)]
        )

    def snapshot(self) -> ClaimSnapshot:
        return ClaimSnapshot(
            claim_id=self.claim_id,
            state=self.state,
            payer_id="",
            patient_control_number=self.held.encounter_id,
            timeline=list(self.timeline),
            tasks=list(self.tasks),
        )

    async def release(self) -> ClaimRecord | None:
        """The claim's record once a person corrected the document; None when they wrote it off."""
        held = self.held
        self.note("intake", f"held: {held.reason}")
        resolution = await self.board.ask(
            TaskKind.FIX_INTAKE,
            held.reason,
            held.details,
            due_at=workflow.now() + timedelta(days=TASK_DUE_DAYS),
            assignee="billing",
            document=held.document,
        )
        match resolution:
            case WriteOff(reason=reason):
                self.state = ClaimState.WRITTEN_OFF
                self.note("closed", f"written off at intake: {reason}")
                return None
            case Correct(encounter=corrected, actor=actor):
                encounter: Encounter = corrected.model_copy(update={"encounter_id": held.encounter_id})
                self.note("intake", f"corrected by {actor}: released from the intake hold")
                return ClaimRecord(
                    encounter=encounter,
                    managers=list(self.managers),
                    tasks=self.tasks,
                    timeline=self.timeline,
                )
            case _:  # the board's validator lets a fix_intake task take only the two above
                raise ApplicationError(
                    f"{resolution.action} does not resolve a fix_intake task", type="InvalidResolution"
                )


async def validate_intake(c: ClaimContext) -> None:
    """Demographics complete enough to ask the payer: otherwise a person fixes them."""
    while issues := await c.scrub_issues(["demographics", "coverage"]):
        resolution = await c.ask(
            TaskKind.FIX_DEMOGRAPHICS,
            f"{len(issues)} demographic or coverage field(s) missing or invalid",
            [issue.message for issue in issues],
        )
        if isinstance(resolution, Correct):
            c.apply_correction(resolution)
    c.note("intake", "demographics complete")


async def verify_eligibility(c: ClaimContext) -> None:
    """A 270 to the payer; inactive coverage or a rejection asks a person for new coverage (checked
    again) or to make the patient self-pay."""
    record = c.record
    c.set_state(ClaimState.ELIGIBILITY, "eligibility", "270 sent")
    while True:
        result = await c.attempt(
            catalog.CHECK_ELIGIBILITY,
            EligibilityRequest(encounter=record.encounter, trace_number=c.trace("270")),
        )
        if result is not None and result.active:
            c.note("eligibility", "271: coverage active")
            await _verify_other_coverages(c)
            return
        why = "coverage inactive on the date of service"
        if result is None:
            why = f"eligibility could not be checked: {c.last_failure}"
        elif result.rejections:
            why = "payer rejected the inquiry: AAA " + ", ".join(r.code for r in result.rejections)
        resolution = await c.ask(TaskKind.COVERAGE_ISSUE, why, [why])
        if isinstance(resolution, SelfPay):
            record.self_pay = True
            record.patient_responsibility = record.encounter.total_charge
            c.note("eligibility", "patient is self-pay")
            if workflow.patched(SELF_PAY_HAS_NO_DEADLINE):
                c.publish_claim()
            return
        if isinstance(resolution, NewCoverage):
            record.encounter = record.encounter.model_copy(update={"coverage": resolution.coverage})
            await c.load_payer_profile()


async def _verify_other_coverages(c: ClaimContext) -> None:
    """A 270 to each secondary and tertiary payer too: a coverage inactive on the date of service is
    not billed (the claim names only the coverages in force), and the timeline says so."""
    record = c.record
    kept = []
    for number, coverage in enumerate(record.encounter.other_coverages, start=2):
        asked = record.encounter.model_copy(update={"coverage": coverage, "other_coverages": []})
        result = await c.attempt(
            catalog.CHECK_ELIGIBILITY,
            EligibilityRequest(encounter=asked, trace_number=c.trace(f"270-{number}")),
        )
        if result is None:
            kept.append(coverage)  # not known to be inactive: the payer will say
            c.note("eligibility", f"coverage {number} ({coverage.payer_id}) not checked: {c.last_failure}")
        elif result.active:
            kept.append(coverage)
            c.note("eligibility", f"271: coverage {number} ({coverage.payer_id}) active")
        else:
            c.note("eligibility", f"271: coverage {number} ({coverage.payer_id}) inactive: not billed")
    if kept != record.encounter.other_coverages:
        record.encounter = record.encounter.model_copy(update={"other_coverages": kept})


async def await_coding(c: ClaimContext) -> None:
    """The coding hold: the claim waits until a coder supplies diagnoses and procedures."""
    record = c.record
    if record.encounter.is_coded:
        return
    c.set_state(ClaimState.CODING, "coding", "waiting for codes")
    resolution = await c.ask(
        TaskKind.CODING,
        "encounter has no diagnosis or procedure codes",
        ["assign ICD-10-CM diagnoses and CPT/HCPCS procedures"],
        due_days=c.payer.coding_sla_days,
        escalate_to="coding-supervisor",
    )
    if isinstance(resolution, Codes):
        record.encounter = record.encounter.model_copy(
            update={"diagnoses": resolution.diagnoses, "service_lines": resolution.service_lines}
        )
    workflow.upsert_search_attributes([sa.BILLED_AMOUNT.value_set(float(record.encounter.total_charge))])
    c.note("coding", f"coded by {resolution.actor}")


async def scrub(c: ClaimContext) -> None:
    """Code sets and payer edits; errors wait for corrected data or an override with a reason."""
    c.set_state(ClaimState.SCRUBBING, "scrub", "checking against code sets and payer edits")
    while errors := await c.scrub_issues(None):
        resolution = await c.ask(
            TaskKind.SCRUB_FAILURE,
            f"{len(errors)} scrub error(s): " + ", ".join(sorted({e.category for e in errors})),
            [f"{e.rule}: {e.message}" + (f" (fix: {e.fix_hint})" if e.fix_hint else "") for e in errors],
        )
        if isinstance(resolution, Override):
            c.note("scrub", f"override by {resolution.actor}: {resolution.reason}")
            return
        if isinstance(resolution, Correct):
            c.apply_correction(resolution)
    c.note("scrub", "clean")
