"""The edits a payer's profile adds (claims/payer_edits.py) and the rules it relaxes, without code."""

from __future__ import annotations

from collections.abc import Iterator

from claimflow.claims.payer_edits import EditKind, PayerEdit
from claimflow.claims.payers import PayerProfile
from claimflow.claims.scrub.context import Context, error
from claimflow.claims.scrub.findings import Category, Finding, Severity

_CATEGORY = {
    EditKind.AUTHORIZATION_REQUIRED: Category.AUTHORIZATION,
    EditKind.MODIFIER_REJECTED: Category.MODIFIER,
    EditKind.MODIFIER_REQUIRED: Category.MODIFIER,
    EditKind.UNITS_LIMIT: Category.MUE,
    EditKind.CODE_NOT_COVERED: Category.CODE_VALIDITY,
}


def payer_edits(context: Context) -> Iterator[Finding]:
    profile = context.profile
    encounter = context.encounter
    for edit in profile.edits:
        for index, line in enumerate(encounter.service_lines):
            if edit.applies_to(line.procedure_code):
                found = _check(edit, context, index)
                if found is not None:
                    field, what, fix = found
                    where = f"service_lines[{index}].{field}"
                    yield error(
                        edit.id,
                        _CATEGORY[edit.kind],
                        where,
                        f"{where} {what} on {line.procedure_code}: {edit.message} ({profile.name})",
                        fix,
                    )


def _check(edit: PayerEdit, context: Context, index: int) -> tuple[str, str, str] | None:
    """(field, what is wrong, what to do) when line `index` breaks the edit, else None."""
    line = context.encounter.service_lines[index]
    listed = ", ".join(edit.modifiers)
    if edit.kind is EditKind.AUTHORIZATION_REQUIRED and not context.encounter.prior_authorization:
        return (
            "procedure_code",
            "needs a prior authorization number",
            "Obtain the authorization and record it.",
        )
    if edit.kind is EditKind.MODIFIER_REJECTED:
        rejected = [modifier for modifier in line.modifiers if modifier in edit.modifiers]
        if rejected:
            return "modifiers", f"carries {', '.join(rejected)}", f"Remove {', '.join(rejected)}."
    if edit.kind is EditKind.MODIFIER_REQUIRED and not set(edit.modifiers) & set(line.modifiers):
        return "modifiers", f"carries none of {listed}", f"Add the one of {listed} that fits the service."
    if edit.kind is EditKind.UNITS_LIMIT and edit.units is not None and line.units > edit.units:
        return "units", f"bills {line.units} units, above {edit.units}", "Check the units or split by day."
    if edit.kind is EditKind.CODE_NOT_COVERED:
        return "procedure_code", "is not covered", "Bill the patient with a signed waiver, or another code."
    return None


def relax(finding: Finding, profile: PayerProfile) -> Finding:
    """An error of a rule the payer does not apply becomes a warning that says so (never silent)."""
    if finding.severity is not Severity.ERROR or finding.rule not in profile.relaxed_rules:
        return finding
    return finding.model_copy(
        update={
            "severity": Severity.WARNING,
            "message": f"{finding.message} ({profile.name} does not apply {finding.rule}: relaxed in its "
            "profile)",
        }
    )
