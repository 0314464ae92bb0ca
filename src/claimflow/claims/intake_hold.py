"""An encounter that arrived broken: the claim starts in an intake hold instead of being lost.

A document that is a FHIR Bundle or encounter JSON but cannot become a claim (a pointer to no
diagnosis, a malformed code, a missing member id...) starts its claim all the same, holding a
`fix_intake` task with every finding and the document as received. A person resolves it with the
corrected encounter (`Correct`), and the claim goes on to intake as any other; or writes it off
with a reason when the document was never a claim.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from pydantic import Field

from claimflow.claims.encounter import Model
from claimflow.claims.scrub import Finding, Severity

ENCOUNTER_ID_PATTERN = r"^[A-Za-z0-9._-]{1,38}$"


class HeldIntake(Model):
    """What a held claim starts from: its id, the findings that keep it from a claim, the document."""

    encounter_id: str = Field(pattern=ENCOUNTER_ID_PATTERN, description="opaque, carries no PHI")
    findings: tuple[Finding, ...] = Field(min_length=1)
    document: str = Field(description="the document as received (PHI: sealed by the codec)")

    @property
    def reason(self) -> str:
        """The task's one line: how many problems, of which categories (no PHI)."""
        errors = [finding for finding in self.findings if finding.severity is Severity.ERROR]
        categories = ", ".join(sorted({finding.category.value for finding in errors}))
        return f"{len(errors)} problem(s) keep the document from a claim: {categories}"

    @property
    def details(self) -> list[str]:
        """One line per finding: where (FHIR path, 837 segment), what, and what to do."""
        lines = []
        for finding in self.findings:
            where = " | ".join(part for part in (finding.fhir_path or finding.location, finding.x12) if part)
            lines.append(f"{finding.severity.value} {finding.rule} at {where}: {finding.message}")
        return lines


def document_id(data: Any, text: str) -> str:
    """The id a held document's claim goes by: the encounter id it names (FHIR Claim.id, or the
    encounter JSON's encounter_id) when that is a valid id, else the Bundle's id, else one derived
    from the document's bytes, so the same file held twice is the same claim."""
    pattern = re.compile(ENCOUNTER_ID_PATTERN)
    candidates: list[Any] = []
    if isinstance(data, dict):
        if data.get("resourceType") == "Bundle":
            for entry in data.get("entry") or []:
                resource = entry.get("resource") if isinstance(entry, dict) else None
                if isinstance(resource, dict) and resource.get("resourceType") == "Claim":
                    candidates.append(resource.get("id"))
            candidates.append(data.get("id"))
        else:
            candidates.append(data.get("encounter_id"))
    for candidate in candidates:
        if isinstance(candidate, str) and pattern.match(candidate):
            return candidate
    return "doc-" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:20]
