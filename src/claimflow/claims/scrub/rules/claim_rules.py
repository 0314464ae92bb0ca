"""Rules over the claim as a whole: age and sex edits, place of service, duplicates, timely filing,
charges and prior authorization."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

from claimflow.claims.claim import FrequencyCode
from claimflow.claims.codesets.tables import AGE_FLAGS, AGE_MASK, DxFlag
from claimflow.claims.encounter import ClaimKind, Encounter, Sex
from claimflow.claims.money import ZERO
from claimflow.claims.scrub.context import Context, age_on, error, warning
from claimflow.claims.scrub.findings import Category, Finding

AGE_SEX = Category.AGE_SEX


FEMALE, MALE = int(DxFlag.FEMALE), int(DxFlag.MALE)


def age_sex(context: Context) -> Iterator[Finding]:
    """MCE age edits always; sex edits when the payer keeps them (CMS dropped them from 2024-10-01)."""
    encounter = context.encounter
    table = context.codesets.core.diagnoses
    day = encounter.service_date
    age = age_on(encounter.patient, day)
    sex = encounter.patient.sex
    sex_edits = context.profile.sex_edits and sex is not Sex.UNKNOWN
    for index, code in enumerate(encounter.diagnoses):
        where = f"diagnoses[{index}]"
        flags = table.flags_on(code, day)
        if flags is None:
            continue
        if age is not None and flags & AGE_MASK:
            for flag in AGE_FLAGS:
                age_range = table.age_range(flag, day) if flags & flag else None
                if age_range is not None and not age_range.min_years <= age <= age_range.max_years:
                    yield error(
                        "dx-age-conflict",
                        AGE_SEX,
                        where,
                        f"{where} {code} is a {(flag.name or '').lower()} diagnosis (ages "
                        f"{age_range.min_years}-{age_range.max_years}) but the patient is {age} on {day}",
                        "Check the patient's birth date and the diagnosis code.",
                    )
        if sex_edits:
            sex_flag = table.sex_flags.get(code, 0)
            if (sex_flag & FEMALE and sex is Sex.MALE) or (sex_flag & MALE and sex is Sex.FEMALE):
                expected = "female" if sex_flag & FEMALE else "male"
                yield error(
                    "dx-sex-conflict",
                    AGE_SEX,
                    where,
                    f"{where} {code} applies to {expected} patients but patient.sex is {sex.value}",
                    f"Check patient.sex and the diagnosis; {context.profile.payer_id} applies sex edits.",
                )


def place_of_service(context: Context) -> Iterator[Finding]:
    encounter = context.encounter
    places = context.codesets.core.places_of_service
    if encounter.kind is ClaimKind.PROFESSIONAL and encounter.place_of_service not in places:
        yield error(
            "pos-invalid",
            Category.PLACE_OF_SERVICE,
            "place_of_service",
            f"place_of_service {encounter.place_of_service} is not a CMS place-of-service code",
            "Use the CMS code for where the service was given (11 office, 22 outpatient hospital, "
            "23 emergency room, 02/10 telehealth).",
        )
    for index, line in enumerate(encounter.service_lines):
        if line.place_of_service is not None and line.place_of_service not in places:
            where = f"service_lines[{index}].place_of_service"
            yield error(
                "pos-invalid",
                Category.PLACE_OF_SERVICE,
                where,
                f"{where} {line.place_of_service} is not a CMS place-of-service code",
                "Use a code from the CMS place-of-service list, or leave it empty to use the claim's.",
            )


def _patient_key(encounter: Encounter) -> tuple[str, str, date | None, str]:
    patient = encounter.patient
    return (
        patient.last_name.strip().upper(),
        patient.first_name.strip().upper(),
        patient.birth_date,
        encounter.coverage.member_id.strip().upper(),
    )


REPEAT_MODIFIERS = frozenset({"76", "77", "91"})


def duplicate(context: Context) -> Iterator[Finding]:
    """Same patient, date of service, procedure code and units as a claim already known."""
    encounter = context.encounter
    lines = encounter.service_lines
    if not context.known_claims and len(lines) < 2:
        return
    key = _patient_key(encounter)
    billed: dict[tuple[date, str, object], str] = {}
    for known in context.known_claims:
        if known.encounter_id == encounter.encounter_id or _patient_key(known) != key:
            continue
        for line in known.service_lines:
            billed.setdefault((line.service_date, line.procedure_code, line.units), known.encounter_id)
    seen: dict[tuple[date, str, object, tuple[str, ...]], int] = {}
    for index, line in enumerate(encounter.service_lines):
        where = f"service_lines[{index}]"
        earlier = billed.get((line.service_date, line.procedure_code, line.units))
        if earlier is not None and not REPEAT_MODIFIERS.intersection(line.modifiers):
            yield error(
                "duplicate-of-known-claim",
                Category.DUPLICATE,
                where,
                f"{where} {line.procedure_code} x {line.units} on {line.service_date} was already billed for "
                f"this patient in encounter {earlier}",
                "Do not bill it twice; to change the first claim send a replacement (frequency 7). If it "
                "was repeated, add 76/77 (procedure) or 91 (lab).",
            )
        same = (line.service_date, line.procedure_code, line.units, tuple(line.modifiers))
        if same in seen and not REPEAT_MODIFIERS.intersection(line.modifiers):
            yield warning(
                "duplicate-line",
                Category.DUPLICATE,
                where,
                f"{where} repeats service_lines[{seen[same]}] ({line.procedure_code} on {line.service_date})",
                "Combine the lines into one with the total units, or add 76/77/91 if it was repeated.",
            )
        seen.setdefault(same, index)


TIMELY_WARNING_DAYS = 30


def timely_filing(context: Context) -> Iterator[Finding]:
    encounter = context.encounter
    if context.frequency is not FrequencyCode.ORIGINAL:
        return  # replacements and voids run from the remittance date, which the workflow tracks
    lines = encounter.service_lines
    dates = [line.service_date for line in lines] if lines else [encounter.service_date]
    start = encounter.institutional.statement_to if encounter.institutional is not None else min(dates)
    limit = context.profile.timely_filing_days
    deadline = start + timedelta(days=limit)
    latest = max(dates)
    name = f"{context.profile.name} ({context.profile.payer_id})"
    if latest > context.as_of:
        yield error(
            "service-in-future",
            Category.TIMELY_FILING,
            "service_date",
            f"service_date {latest} is after {context.as_of}, the date the claim would reach the payer",
            "Bill a service only once it has been given; check the date of service.",
        )
    elif context.as_of > deadline:
        yield error(
            "timely-filing-expired",
            Category.TIMELY_FILING,
            "service_date",
            f"service_date {start} is {(context.as_of - start).days} days before {context.as_of}; {name} "
            f"accepts claims for {limit} days (deadline {deadline})",
            "Send it only with proof of timely filing (an earlier 277CA or clearinghouse report), or "
            "write the charge off.",
        )
    elif (deadline - context.as_of).days <= TIMELY_WARNING_DAYS:
        yield warning(
            "timely-filing-near",
            Category.TIMELY_FILING,
            "service_date",
            f"service_date {start}: the {limit}-day limit of {name} ends on {deadline}, "
            f"{(deadline - context.as_of).days} days after {context.as_of}",
            "Submit today and watch for the 277CA acceptance.",
        )


def charges(context: Context) -> Iterator[Finding]:
    encounter = context.encounter
    for index, line in enumerate(encounter.service_lines):
        if line.charge <= ZERO:
            where = f"service_lines[{index}].charge"
            yield error(
                "line-charge-not-positive",
                Category.CHARGE,
                where,
                f"{where} is {line.charge} for {line.procedure_code}",
                "Enter the practice's charge for the service; payers reject zero-charge lines.",
            )
    stated = encounter.reported_total_charge
    if stated is not None and stated != encounter.total_charge:
        yield error(
            "total-charge-mismatch",
            Category.CHARGE,
            "reported_total_charge",
            f"reported_total_charge {stated} differs from the sum of the line charges "
            f"{encounter.total_charge}",
            "Correct the line charges or the total; the 837 CLM02 must equal the sum of the lines.",
        )


def authorization(context: Context) -> Iterator[Finding]:
    encounter = context.encounter
    needed = context.profile.authorization_codes
    if not needed or encounter.prior_authorization:
        return
    for index, line in enumerate(encounter.service_lines):
        if line.procedure_code in needed:
            where = f"service_lines[{index}].procedure_code"
            yield error(
                "authorization-missing",
                Category.AUTHORIZATION,
                where,
                f"{where} {line.procedure_code} needs prior authorization from {context.profile.name} "
                "and prior_authorization is empty",
                "Obtain the authorization number from the payer and record it on the encounter.",
            )


BILL_FREQUENCY = {FrequencyCode.REPLACEMENT: "7", FrequencyCode.VOID: "8"}
VALID_BILL_FREQUENCIES = frozenset("012345789")
"""NUBC UB-04 FL4 frequency digits: 0 non-payment, 1 admit through discharge, 2-4 interim, 5 late charges,
7 replacement, 8 void, 9 final home health claim (6, adjustment, was retired)"""


def frequency(context: Context) -> Iterator[Finding]:
    """CLM05-3 and the type of bill's last digit say the same, and an original names no earlier claim."""
    info = context.encounter.institutional
    claimed = context.frequency
    if info is not None:
        digit = info.type_of_bill[-1]
        if digit not in VALID_BILL_FREQUENCIES:
            yield error(
                "frequency-code-invalid",
                Category.FREQUENCY,
                "institutional.type_of_bill",
                f"institutional.type_of_bill {info.type_of_bill} ends in {digit}, which is not a UB-04 "
                "claim frequency (0-5, 7, 8, 9)",
                "Use 1 for an original bill of a whole stay or visit, 7 to replace, 8 to void.",
            )
        elif (
            digit != BILL_FREQUENCY[claimed]
            if claimed in BILL_FREQUENCY
            else digit in BILL_FREQUENCY.values()
        ):
            yield error(
                "frequency-mismatch",
                Category.FREQUENCY,
                "institutional.type_of_bill",
                f"institutional.type_of_bill {info.type_of_bill} says frequency {digit} but the claim is "
                f"sent as {claimed.value} ({claimed.name.lower()})",
                "Make the type of bill's last digit and the claim frequency agree (7 with the payer's "
                "original claim number to replace, 8 to void).",
            )
    if claimed is FrequencyCode.ORIGINAL and context.original_claim_number:
        yield warning(
            "original-claim-number-on-original",
            Category.FREQUENCY,
            "original_claim_number",
            f"original_claim_number {context.original_claim_number} is given on an original claim "
            "(frequency 1): the payer ignores REF*F8 there",
            "Send it as a replacement (frequency 7) if it corrects that claim; otherwise drop the number.",
        )
