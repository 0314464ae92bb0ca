"""Scrubbing: the pure rule engine over code sets and the payer's profile."""

from __future__ import annotations

from temporalio import activity

from claimflow.activities import catalog
from claimflow.activities.requests import Issue, ScrubOutcome, ScrubRequest
from claimflow.claims.codesets import CodeSets
from claimflow.claims.payers import PayerDirectory
from claimflow.claims.scrub import Severity, scrub


class ScrubActivities:
    def __init__(self, codesets: CodeSets, directory: PayerDirectory) -> None:
        self._codesets = codesets
        self._directory = directory

    @activity.defn(name=catalog.SCRUB_CLAIM.name)
    async def scrub_claim(self, request: ScrubRequest) -> ScrubOutcome:
        coverage = request.claim.encounter.coverage
        result = scrub(
            request.claim,
            as_of=request.as_of,
            profile=self._directory.profile_for(coverage.payer_id, coverage.filing_indicator),
            codesets=self._codesets,
        )
        wanted = set(request.categories) if request.categories is not None else None
        issues = [
            (finding.severity, Issue.of(finding))
            for finding in result.findings
            if not finding.fixed and (wanted is None or finding.category.value in wanted)
        ]
        return ScrubOutcome(
            encounter=result.encounter,
            errors=[issue for severity, issue in issues if severity is Severity.ERROR],
            warnings=[issue for severity, issue in issues if severity is not Severity.ERROR],
            fixes=[finding.message for finding in result.fixes],
        )
