"""What reading one document gives: the claim it describes, or every problem that keeps it from one."""

from __future__ import annotations

from dataclasses import dataclass, field

from claimflow.claims.claim import Claim, FrequencyCode
from claimflow.claims.encounter import Encounter
from claimflow.claims.scrub import Finding, Severity
from claimflow.integrations.fhir.locations import SourceMap


@dataclass(frozen=True)
class IntakeResult:
    """One document read. `encounter` is None exactly when a finding is an error: then nothing can be
    billed until the document is corrected, and `findings` says every place that needs it."""

    source: str
    encounter: Encounter | None
    findings: tuple[Finding, ...] = ()
    frequency: FrequencyCode = FrequencyCode.ORIGINAL
    original_claim_number: str | None = None
    sources: SourceMap = field(default_factory=SourceMap)

    @property
    def readable(self) -> bool:
        return self.encounter is not None

    @property
    def errors(self) -> tuple[Finding, ...]:
        return tuple(finding for finding in self.findings if finding.severity is Severity.ERROR)

    def claim(self) -> Claim:
        """The claim to bill (its patient control number is the encounter id). Only when readable."""
        if self.encounter is None:
            raise ValueError(f"{self.source}: cannot be billed, {len(self.errors)} problem(s) to correct")
        return Claim(
            encounter=self.encounter,
            patient_control_number=self.encounter.encounter_id,
            frequency=self.frequency,
            original_claim_number=self.original_claim_number,
        )
