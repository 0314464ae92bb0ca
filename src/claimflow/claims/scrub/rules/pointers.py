"""Diagnosis pointers: every line points at one to four of the claim's diagnoses.

The one certain fix: with a single diagnosis on the claim, a line without pointers points at it.
Repeated pointers on a line are dropped (the first occurrence is kept).
"""

from __future__ import annotations

from claimflow.claims.encounter import Encounter
from claimflow.claims.scrub.context import error
from claimflow.claims.scrub.findings import Category, Finding, Severity

DIAGNOSIS_POINTER = Category.DIAGNOSIS_POINTER


def fix_and_check_pointers(encounter: Encounter) -> tuple[Encounter, list[Finding]]:
    findings: list[Finding] = []
    lines = list(encounter.service_lines)
    changed = False
    count = len(encounter.diagnoses)
    for index, line in enumerate(lines):
        where = f"service_lines[{index}].diagnosis_pointers"
        pointers = list(dict.fromkeys(line.diagnosis_pointers))
        if len(pointers) != len(line.diagnosis_pointers):
            findings.append(
                Finding(
                    rule="dx-pointer-repeated",
                    category=DIAGNOSIS_POINTER,
                    severity=Severity.WARNING,
                    message=f"{where} {line.diagnosis_pointers} repeats a pointer; kept {pointers}",
                    fix="Nothing to do: the repeated pointer was removed.",
                    location=where,
                    fixed=True,
                )
            )
        if not pointers and count == 1:
            pointers = [1]
            findings.append(
                Finding(
                    rule="dx-pointer-missing",
                    category=DIAGNOSIS_POINTER,
                    severity=Severity.WARNING,
                    message=f"{where} was empty; set to [1], the only diagnosis {encounter.diagnoses[0]}",
                    fix="Nothing to do: the only diagnosis was pointed at.",
                    location=where,
                    fixed=True,
                )
            )
        elif not pointers and count > 1:
            findings.append(
                error(
                    "dx-pointer-missing",
                    DIAGNOSIS_POINTER,
                    where,
                    f"{where} is empty on {line.procedure_code} and the claim has {count} diagnoses",
                    "Point the line at the diagnoses that justify it (1-4, primary first).",
                )
            )
        for pointer in pointers:
            if pointer > count:
                findings.append(
                    error(
                        "dx-pointer-out-of-range",
                        DIAGNOSIS_POINTER,
                        where,
                        f"{where} points at diagnosis {pointer} but the claim has {count} diagnoses",
                        f"Point at a diagnosis between 1 and {count}, or add the missing diagnosis.",
                    )
                )
        if pointers != line.diagnosis_pointers:
            lines[index] = line.model_copy(update={"diagnosis_pointers": pointers})
            changed = True
    if changed:
        encounter = encounter.model_copy(update={"service_lines": lines})
    return encounter, findings
