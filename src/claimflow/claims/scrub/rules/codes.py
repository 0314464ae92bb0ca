"""Code validity and modifier rules: ICD-10-CM on the date of service, CPT format, HCPCS dates,
add-on codes with their primaries, and modifiers that exist and agree with each other."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

from claimflow.claims.codesets.codes import CPT_FORMAT, HCPCS_FORMAT, date_number
from claimflow.claims.codesets.reference import cpt_modifiers, modifier_scopes
from claimflow.claims.codesets.tables import DxFlag, HcpcsCode
from claimflow.claims.encounter import ClaimKind, ServiceLine
from claimflow.claims.scrub.context import Context, error, warning
from claimflow.claims.scrub.findings import Category, Finding

CODE_VALIDITY = Category.CODE_VALIDITY
EXTERNAL_CAUSE, MANIFESTATION = int(DxFlag.EXTERNAL_CAUSE), int(DxFlag.MANIFESTATION)
MODIFIER = Category.MODIFIER


def _day(number: int) -> str:
    return date(number // 10000, number // 100 % 100, number % 100).isoformat()


def diagnoses(context: Context) -> Iterator[Finding]:
    encounter = context.encounter
    table = context.codesets.core.diagnoses
    day = encounter.service_date
    if not encounter.diagnoses:
        yield error(
            "diagnosis-missing",
            CODE_VALIDITY,
            "diagnoses",
            "diagnoses is empty: a claim needs at least one ICD-10-CM diagnosis",
            "Have the coder assign the diagnoses that support the services.",
        )
    for index, code in enumerate(encounter.diagnoses):
        where = f"diagnoses[{index}]"
        flags = table.flags_on(code, day)
        if flags is not None:
            if index == 0 and flags & EXTERNAL_CAUSE:
                yield error(
                    "dx-external-cause-first",
                    CODE_VALIDITY,
                    where,
                    f"{where} {code} is an external-cause code and cannot be the first-listed diagnosis",
                    "List the injury or condition first and the external cause after it.",
                )
            elif index == 0 and flags & MANIFESTATION:
                yield error(
                    "dx-manifestation-first",
                    CODE_VALIDITY,
                    where,
                    f"{where} {code} is a manifestation code and cannot be the first-listed diagnosis",
                    "List the underlying condition first (ICD-10-CM 'code first' note).",
                )
            continue
        span = table.valid_span(code)
        if span is not None:
            first, last = span
            when = (
                f"valid {_day(first)} to {_day(last)}"
                if last < table.last_day
                else f"valid from {_day(first)}"
            )
            yield error(
                "dx-not-valid-on-date",
                CODE_VALIDITY,
                where,
                f"{where} {code} is not a billable ICD-10-CM code on the date of service {day} ({when})",
                "Code with the ICD-10-CM release in force on the date of service.",
            )
        elif table.is_header(code):
            yield error(
                "dx-header-code",
                CODE_VALIDITY,
                where,
                f"{where} {code} is a category header, not a billable (leaf) ICD-10-CM code",
                "Add the characters that make it billable (e.g. E11 -> E11.9).",
            )
        else:
            yield error(
                "dx-unknown",
                CODE_VALIDITY,
                where,
                f"{where} {code} is not an ICD-10-CM code",
                "Check the code for a typo against the ICD-10-CM tabular list.",
            )


def procedures(context: Context) -> Iterator[Finding]:
    encounter = context.encounter
    hcpcs = context.codesets.core.hcpcs
    if not encounter.service_lines:
        yield error(
            "service-lines-missing",
            CODE_VALIDITY,
            "service_lines",
            "service_lines is empty: a claim needs at least one procedure",
            "Have the coder assign the procedures performed.",
        )
    institutional = encounter.kind is ClaimKind.INSTITUTIONAL
    for index, line in enumerate(encounter.service_lines):
        code = line.procedure_code
        if HCPCS_FORMAT.match(code):
            yield from _hcpcs_dates(hcpcs.get(code), index, line)
        elif not CPT_FORMAT.match(code):
            where = f"service_lines[{index}].procedure_code"
            yield error(
                "procedure-format",
                CODE_VALIDITY,
                where,
                f"{where} {code} is neither a CPT code (5 digits, or 4 digits and F/T/U/M) nor HCPCS "
                "(a letter A-V and 4 digits)",
                "Correct the procedure code.",
            )
        if institutional and line.revenue_code is None:
            yield error(
                "revenue-code-missing",
                CODE_VALIDITY,
                f"service_lines[{index}].revenue_code",
                f"service_lines[{index}].revenue_code is missing on an institutional line ({code})",
                "Give the UB-04 revenue code for the line (e.g. 0450 emergency room).",
            )


def _hcpcs_dates(entry: HcpcsCode | None, index: int, line: ServiceLine) -> Iterator[Finding]:
    """A HCPCS Level II code must exist and be in force on the line's date of service."""
    code = line.procedure_code
    where = f"service_lines[{index}].procedure_code"
    number = date_number(line.service_date)
    if entry is None:
        yield error(
            "hcpcs-unknown",
            CODE_VALIDITY,
            where,
            f"{where} {code} is not a HCPCS Level II code",
            "Check the code against the CMS HCPCS file for the date of service.",
        )
    elif number < entry.add_date:
        yield error(
            "hcpcs-not-yet-valid",
            CODE_VALIDITY,
            where,
            f"{where} {code} was added on {_day(entry.add_date)}, after the date of service "
            f"{line.service_date}",
            "Use the code in force on the date of service.",
        )
    elif entry.term_date and number > entry.term_date:
        yield error(
            "hcpcs-terminated",
            CODE_VALIDITY,
            where,
            f"{where} {code} was terminated on {_day(entry.term_date)}, before the date of service "
            f"{line.service_date}",
            "Use the code that replaced it (see the HCPCS file's action notes).",
        )


def institutional_codes(context: Context) -> Iterator[Finding]:
    """The UB-04 codes an 837I cannot go without."""
    info = context.encounter.institutional
    if info is None:
        return
    if info.admission_type is None:
        yield error(
            "admission-type-missing",
            Category.REQUIRED_FIELD,
            "institutional.admission_type",
            f"institutional.admission_type is missing on type of bill {info.type_of_bill}",
            "Give the UB-04 priority (type) of admission or visit, FL14 (e.g. 1 emergency, 3 elective).",
        )
    if info.type_of_bill.lstrip("0")[:2] in INPATIENT_BILLS:
        for field, what in (
            ("admission_date", "admission date (DTP*435)"),
            ("admission_source", "point of origin (CL102)"),
        ):
            if getattr(info, field) is None:
                yield error(
                    f"{field.replace('_', '-')}-missing",
                    Category.REQUIRED_FIELD,
                    f"institutional.{field}",
                    f"institutional.{field} is missing on inpatient type of bill {info.type_of_bill}: the "
                    f"837I requires the {what} for an inpatient stay",
                    "Give it from the UB-04 (FL12 admission date, FL15 point of origin).",
                )
    if info.statement_to < info.statement_from:
        yield error(
            "statement-period-reversed",
            Category.REQUIRED_FIELD,
            "institutional.statement_to",
            f"institutional.statement_to {info.statement_to} is before statement_from {info.statement_from}",
            "Correct the statement covers period (UB-04 FL6).",
        )


def add_ons(context: Context) -> Iterator[Finding]:
    """An add-on code is paid only with one of its primary procedures on the same day."""
    lines = context.encounter.service_lines
    table = context.codesets.core.add_ons
    for index, line in enumerate(lines):
        edit = table.get(line.procedure_code)
        if edit is None or edit.edit_type == 2:
            continue  # type 2: the contractor defines the primaries, so there is nothing to check here
        same_day = {other.procedure_code for other in lines if other.service_date == line.service_date}
        if edit.primaries & same_day:
            continue
        example = ", ".join(sorted(edit.primaries)[:5])
        message = (
            f"service_lines[{index}].procedure_code {line.procedure_code} is an add-on code billed on "
            f"{line.service_date} without any of its primary procedures (e.g. {example})"
        )
        fix = "Bill the primary procedure on the same claim, or remove the add-on code."
        where = f"service_lines[{index}].procedure_code"
        if edit.edit_type == 1:
            yield error("add-on-without-primary", CODE_VALIDITY, where, message, fix)
        else:  # type 3: the contractor may accept other primaries
            yield warning("add-on-without-primary", CODE_VALIDITY, where, message, fix)


LATERALITY = frozenset({"LT", "RT"})
INPATIENT_BILLS = frozenset({"11", "18", "21", "41", "65", "66", "86"})
"""types of bill (facility + classification) of inpatient stays: hospital, swing bed, SNF, religious
non-medical, ICF (NUBC UB-04 FL4); their 837I needs the admission date and source"""


def modifiers(context: Context) -> Iterator[Finding]:
    level2 = context.codesets.core.hcpcs_modifiers
    cpt, scopes = cpt_modifiers(), modifier_scopes()
    kind = context.encounter.kind
    for index, line in enumerate(context.encounter.service_lines):
        where = f"service_lines[{index}].modifiers"
        seen: set[str] = set()
        for modifier in line.modifiers:
            if modifier in seen:
                yield error(
                    "modifier-repeated",
                    MODIFIER,
                    where,
                    f"{where} lists {modifier} twice on {line.procedure_code}",
                    "List each modifier once.",
                )
            seen.add(modifier)
            if modifier not in level2 and modifier not in cpt:
                yield error(
                    "modifier-unknown",
                    MODIFIER,
                    where,
                    f"{where} {modifier} on {line.procedure_code} is neither a CPT modifier (AMA "
                    "Appendix A) nor a HCPCS Level II modifier (CMS)",
                    "Correct the modifier against the CPT modifier list or the CMS Level II modifier list.",
                )
                continue
            scope = scopes.get(modifier)
            if scope is not None and not scope.allows(line.procedure_code, kind):
                yield error(
                    "modifier-not-valid-for-code",
                    MODIFIER,
                    where,
                    f"{where} {modifier} is not valid on {line.procedure_code} on a {kind.value} claim: "
                    f"{scope.describe()} ({scope.source})",
                    "Remove the modifier or use the one that fits the code and the claim type.",
                )
        if seen >= LATERALITY:
            yield error(
                "modifier-laterality-conflict",
                MODIFIER,
                where,
                f"{where} has both LT and RT on {line.procedure_code}",
                "Bill one line per side, or use modifier 50 (bilateral) where the code allows it.",
            )
        if {"26", "TC"} <= seen:
            yield error(
                "modifier-26-with-tc",
                MODIFIER,
                where,
                f"{where} has both 26 (professional component) and TC (technical component) on "
                f"{line.procedure_code}",
                "Bill the global service without either modifier, or one component per line.",
            )
