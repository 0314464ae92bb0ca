"""A stand-in for ClaimWorkflow's side of an appeal: start the AppealWorkflow as a child and forward
the payer's decisions to it. ClaimWorkflow integrates the same few lines."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from claimflow.claims.appeals import AppealDecision, AppealInput, AppealOutcome
    from claimflow.workflows.appeal import AppealWorkflow


@workflow.defn
class AppealingParent:
    def __init__(self) -> None:
        self._decisions: list[AppealDecision] = []

    @workflow.run
    async def run(self, input: AppealInput) -> AppealOutcome:
        child = await workflow.start_child_workflow(
            AppealWorkflow.run, input, id=f"appeal-{input.claim.encounter.encounter_id}"
        )
        while not child.done():
            await workflow.wait_condition(lambda: bool(self._decisions) or child.done())
            while self._decisions and not child.done():
                await child.signal(AppealWorkflow.decision, self._decisions.pop(0))
        return await child

    @workflow.signal
    def appeal_decision(self, decision: AppealDecision) -> None:
        """What the inbox routes to the claim when the payer answers an appeal."""
        self._decisions.append(decision)
