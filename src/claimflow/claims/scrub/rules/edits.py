"""NCCI edits: procedure-to-procedure pairs and medically unlikely units."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal

from claimflow.claims.codesets.tables import MueLimit
from claimflow.claims.encounter import ServiceLine
from claimflow.claims.scrub.context import Context, error
from claimflow.claims.scrub.findings import Category, Finding

# NCCI PTP-associated modifiers (CMS NCCI Policy Manual ch. I, E.1): anatomic, global surgery, other.
ANATOMIC = frozenset(
    {
        "E1",
        "E2",
        "E3",
        "E4",
        "FA",
        "F1",
        "F2",
        "F3",
        "F4",
        "F5",
        "F6",
        "F7",
        "F8",
        "F9",
        "LC",
        "LD",
        "LM",
        "LT",
        "RC",
        "RI",
        "RT",
        "TA",
        "T1",
        "T2",
        "T3",
        "T4",
        "T5",
        "T6",
        "T7",
        "T8",
        "T9",
    }
)
GLOBAL_SURGERY = frozenset({"24", "57", "58", "78", "79"})
OTHER = frozenset({"27", "59", "91", "XE", "XP", "XS", "XU"})
NCCI_MODIFIERS = ANATOMIC | GLOBAL_SURGERY | OTHER


def _bypass_modifiers(line: ServiceLine) -> set[str]:
    """The NCCI-associated modifiers on a line; 25 counts only on an E/M code."""
    found = set(NCCI_MODIFIERS.intersection(line.modifiers))
    if "25" in line.modifiers and "99202" <= line.procedure_code <= "99499":
        found.add("25")
    return found


def ncci_ptp(context: Context) -> Iterator[Finding]:
    table = context.ptp
    lines = context.encounter.service_lines
    if table is None or len(lines) < 2:
        return
    for first_index, second_index, edit in table.edits_among([line.procedure_code for line in lines]):
        first, second = lines[first_index], lines[second_index]
        if first.service_date != second.service_date or not edit.applies_on(first.service_date):
            continue
        where = f"service_lines[{second_index}].procedure_code"
        pair = (
            f"{where} {second.procedure_code} is bundled into service_lines[{first_index}] "
            f"{first.procedure_code} on {first.service_date} (NCCI PTP column 1/column 2"
        )
        if edit.modifier_indicator == 0:
            yield error(
                "ptp-never-together",
                Category.NCCI_PTP,
                where,
                f"{pair}, modifier indicator 0: no modifier allows both)",
                f"Bill only {first.procedure_code}; {second.procedure_code} is not paid with it on the "
                "same day, with or without modifier 59.",
            )
        elif not (_bypass_modifiers(first) | _bypass_modifiers(second)):
            yield error(
                "ptp-modifier-required",
                Category.NCCI_PTP,
                where,
                f"{pair}, modifier indicator 1) and neither line carries an NCCI-associated modifier",
                "If the service was distinct (other site, session or encounter), add 59 or XE/XS/XP/XU "
                f"(or LT/RT, F1.., 91) to {second.procedure_code} and document why; otherwise remove it.",
            )


def mue(context: Context) -> Iterator[Finding]:
    # units of each date-of-service edited code per day, and the first line that bills it
    per_day: dict[tuple[str, date], tuple[Decimal, int, MueLimit]] = {}
    for index, line in enumerate(context.encounter.service_lines):
        limit = context.mue(line.procedure_code)
        if limit is None:
            continue
        if limit.mai != 1:
            key = (line.procedure_code, line.service_date)
            earlier = per_day.get(key)
            per_day[key] = (
                (earlier[0] + line.units, earlier[1], limit) if earlier else (line.units, index, limit)
            )
        elif line.units > limit.units:
            where = f"service_lines[{index}].units"
            yield error(
                "mue-exceeded",
                Category.MUE,
                where,
                f"{where} {line.units} of {line.procedure_code} exceed the MUE of {limit.units} per "
                "line (MAI 1)",
                "Check the units; if correct and medically necessary, split across lines with "
                "an anatomic or 59/X{EPSU} modifier as the MUE policy allows.",
            )
    for (code, day), (units, first_index, limit) in per_day.items():
        if units > limit.units:
            where = f"service_lines[{first_index}].units"
            yield error(
                "mue-exceeded",
                Category.MUE,
                where,
                f"{where}: {units} units of {code} on {day} exceed the MUE of {limit.units} per day "
                f"(MAI {limit.mai}, date-of-service edit)",
                "Check the units against the documentation; the payer denies every unit of the day above "
                "the limit, and only an appeal can overturn a date-of-service MUE.",
            )
