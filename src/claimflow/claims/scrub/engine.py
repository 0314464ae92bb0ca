"""The scrubber: run every rule over a claim and collect what a payer would deny."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from claimflow.claims.claim import Claim, FrequencyCode
from claimflow.claims.codesets import CodeSets, default_codesets
from claimflow.claims.encounter import Encounter, Relationship
from claimflow.claims.payers import PayerProfile
from claimflow.claims.scrub.context import Context, Rule
from claimflow.claims.scrub.findings import Finding, ScrubResult
from claimflow.claims.scrub.locations import x12_location
from claimflow.claims.scrub.rules import claim_rules, codes, edits, parties, payer_rules
from claimflow.claims.scrub.rules.pointers import fix_and_check_pointers

RULES: tuple[Rule, ...] = (
    parties.demographics,
    parties.coverage,
    parties.provider,
    codes.diagnoses,
    codes.procedures,
    codes.institutional_codes,
    codes.add_ons,
    codes.modifiers,
    edits.ncci_ptp,
    edits.mue,
    claim_rules.age_sex,
    claim_rules.place_of_service,
    claim_rules.duplicate,
    claim_rules.timely_filing,
    claim_rules.charges,
    claim_rules.authorization,
    claim_rules.frequency,
    payer_rules.payer_edits,
)


def scrub(
    claim_or_encounter: Claim | Encounter,
    *,
    as_of: date,
    profile: PayerProfile,
    known_claims: Iterable[Claim | Encounter] = (),
    codesets: CodeSets | None = None,
) -> ScrubResult:
    """Scrub a claim or encounter as of `as_of`, the date it would reach the payer.

    `profile` is the payer's (PayerDirectory.profile_for); `known_claims` are claims already billed, for
    duplicate detection; `codesets` defaults to the index shipped in the package (loaded once).
    Pure: no I/O beyond that one package read, no clock.
    """
    claim = claim_or_encounter if isinstance(claim_or_encounter, Claim) else None
    encounter = claim.encounter if claim else claim_or_encounter
    assert isinstance(encounter, Encounter)
    encounter, findings = fix_and_check_pointers(encounter)
    context = Context(
        encounter=encounter,
        profile=profile,
        codesets=codesets or default_codesets(),
        as_of=as_of,
        known_claims=[known.encounter if isinstance(known, Claim) else known for known in known_claims],
        frequency=claim.frequency if claim else FrequencyCode.ORIGINAL,
        original_claim_number=claim.original_claim_number if claim else None,
    )
    all_findings: list[Finding] = findings
    for rule in RULES:
        all_findings.extend(rule(context))
    all_findings = [_located(payer_rules.relax(finding, profile), encounter) for finding in all_findings]
    scrubbed_claim = claim.model_copy(update={"encounter": encounter}) if claim else None
    # every part is an already validated model: construct without validating them again
    return ScrubResult.model_construct(
        encounter=encounter, claim=scrubbed_claim, findings=tuple(all_findings)
    )


def _located(finding: Finding, encounter: Encounter) -> Finding:
    """The finding with the 837 loop and segment its encounter path feeds."""
    if finding.x12 is not None:
        return finding
    segment = x12_location(
        finding.location, encounter.kind, patient_is_subscriber=encounter.relationship is Relationship.SELF
    )
    return finding if segment is None else finding.model_copy(update={"x12": segment})
