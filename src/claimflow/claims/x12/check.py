"""Structural checks of an X12 file: what `claimflow x12 check` reports and the 999 builder uses.

pyx12 validates syntax and loops; these checks add what it does not (claim totals, 835 balancing,
NPI check digits) and cover the envelope rules cheaply enough to run on every inbound file. Each
finding names the segment id, its position in the file, and the element.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from pydantic import Field

from claimflow.claims.digits import is_digits
from claimflow.claims.encounter import Model
from claimflow.claims.npi import is_valid_npi
from claimflow.claims.remittance import BalancingLevel
from claimflow.claims.x12.errors import X12Error
from claimflow.claims.x12.remittance835 import read_remittance
from claimflow.claims.x12.segments import Interchange, Segment, TransactionSet, parse_date, read_interchanges


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


class Finding(Model):
    """One fault: what, where (segment id, file position, element) and in which transaction set."""

    severity: Severity
    code: str = Field(description="stable identifier of the rule, e.g. SE01_COUNT, NPI_CHECK_DIGIT")
    message: str
    segment_id: str | None = None
    position: int | None = Field(default=None, description="segment position in the file, first = 1")
    element: int | None = None
    component: int | None = None
    set_id: str | None = None
    set_control_number: str | None = None
    set_position: int | None = Field(default=None, description="position inside the set, ST = 1 (999 IK302)")
    missing_segment: str | None = Field(default=None, description="for SEGMENT_MISSING: the id expected")
    value: str | None = Field(default=None, description="the faulty element's value, when one is at fault")

    @property
    def place(self) -> str:
        where = self.segment_id or ""
        if where and self.element is not None:
            where += f"{self.element:02d}"
            if self.component is not None:
                where += f"-{self.component}"
        if self.position is not None:
            where += f" (segment {self.position})" if where else f"segment {self.position}"
        return where

    def describe(self) -> str:
        return f"{self.severity.value} {self.code} at {self.place}: {self.message}"


SBR09_CODES = frozenset(
    "11 12 13 14 15 16 17 AM BL CH CI DS FI HM LM MA MB MC OF TV VA WC ZZ".split()  # noqa: SIM905
)
CLP02_CODES = frozenset("1 2 3 4 19 20 21 22 23 25".split())  # noqa: SIM905
CAS01_CODES = frozenset("CO OA PI PR".split())  # noqa: SIM905
HL_PARENT_LEVELS: dict[str, dict[str, set[str | None]]] = {
    # level code -> the levels its parent may have (None: a top level, no parent)
    "837": {"20": {None}, "22": {"20"}, "23": {"22"}},
    "277": {"20": {None}, "21": {"20"}, "19": {"21"}, "PT": {"19"}, "22": {"19"}, "23": {"22"}},
    "276": {"20": {None}, "21": {"20"}, "19": {"21"}, "22": {"19"}, "23": {"22"}},
    "270": {"20": {None}, "21": {"20"}, "22": {"21"}, "23": {"22"}},
    "271": {"20": {None}, "21": {"20"}, "22": {"21"}, "23": {"22"}},
}
KNOWN_VERSIONS = frozenset(
    "005010X222A1 005010X223A2 005010X221A1 005010X231A1 005010X214 005010X212 005010X279A1".split()  # noqa: SIM905
)
DATE_SEGMENTS = {"DTP": (2, 3), "DTM": (None, 2)}


def check(data: str | bytes) -> list[Finding]:
    """Every finding for a file. Raises X12SyntaxError only when the bytes are not X12 at all."""
    interchanges = read_interchanges(data)
    findings: list[Finding] = []
    seen_controls: dict[str, int] = {}
    for interchange in interchanges:
        findings += _interchange(interchange, seen_controls)
    return findings


def has_errors(findings: list[Finding]) -> bool:
    return any(finding.severity is Severity.ERROR for finding in findings)


def _finding(
    code: str,
    message: str,
    segment: Segment | None,
    element: int | None = None,
    *,
    ts: TransactionSet | None = None,
    severity: Severity = Severity.ERROR,
    component: int | None = None,
    missing: str | None = None,
    value: str | None = None,
) -> Finding:
    return Finding(
        severity=severity,
        code=code,
        message=message,
        segment_id=segment.id if segment else None,
        position=segment.position if segment else None,
        element=element,
        component=component,
        set_id=ts.id if ts else None,
        set_control_number=ts.control_number if ts else None,
        set_position=(segment.position - ts.header.position + 1) if ts and segment else None,
        missing_segment=missing,
        value=value,
    )


def _interchange(interchange: Interchange, seen_controls: dict[str, int]) -> Iterator[Finding]:
    isa = interchange.header
    if isa.elements:  # a bare ST file has a synthetic, empty ISA
        control = isa[13]
        if control in seen_controls:
            yield _finding(
                "ISA13_DUPLICATE",
                f"interchange control number {control} was already used by the ISA at segment "
                f"{seen_controls[control]}; the receiver may discard this interchange as a duplicate",
                isa,
                13,
                severity=Severity.WARNING,
            )
        seen_controls.setdefault(control, isa.position)
        iea = interchange.trailer
        if iea is None:
            yield _finding("IEA_MISSING", "the interchange has no IEA trailer: the file is truncated", isa)
        else:
            if iea[2] != control:
                yield _finding("IEA02_MISMATCH", f"IEA02 {iea[2]!r} does not match ISA13 {control!r}", iea, 2)
            if iea[1] != str(len(interchange.groups)):
                yield _finding(
                    "IEA01_COUNT",
                    f"IEA01 says {iea[1]} functional groups, the interchange holds {len(interchange.groups)}",
                    iea,
                    1,
                )
    for stray in interchange.stray:
        if stray.id not in ("TA1",):
            yield _finding(
                "SEGMENT_OUTSIDE_SET",
                f"{stray.id} stands outside any ST..SE transaction set and is ignored",
                stray,
                severity=Severity.WARNING,
            )
    for group in interchange.groups:
        gs = group.header
        if gs.elements:
            if gs[8] and gs[8] not in KNOWN_VERSIONS:
                yield _finding(
                    "GS08_VERSION",
                    f"GS08 {gs[8]!r} is not a 5010 guide claimflow knows; it is read as the closest one",
                    gs,
                    8,
                    severity=Severity.WARNING,
                )
            ge = group.trailer
            if ge is None:
                yield _finding("GE_MISSING", "the functional group has no GE trailer", gs)
            else:
                if ge[2] != gs[6]:
                    yield _finding("GE02_MISMATCH", f"GE02 {ge[2]!r} does not match GS06 {gs[6]!r}", ge, 2)
                if ge[1] != str(len(group.sets)):
                    yield _finding(
                        "GE01_COUNT",
                        f"GE01 says {ge[1]} transaction sets, the group holds {len(group.sets)}",
                        ge,
                        1,
                    )
        for ts in group.sets:
            yield from check_set(ts)


def check_set(ts: TransactionSet) -> Iterator[Finding]:
    """The envelope counts of one set, then the rules of its kind."""
    yield from _trailer(ts)
    yield from _dates(ts)
    yield from _npis(ts)
    if ts.id in HL_PARENT_LEVELS:
        yield from _hl_tree(ts)
    if ts.id == "837":
        yield from _claims_837(ts)
    elif ts.id == "835":
        yield from _remittance_835(ts)


def _trailer(ts: TransactionSet) -> Iterator[Finding]:
    se = ts.trailer
    if se is None:
        yield _finding(
            "SE_MISSING", f"transaction set {ts.control_number} has no SE trailer", ts.header, ts=ts
        )
        return
    if se[2] != ts.control_number:
        yield _finding(
            "SE02_MISMATCH", f"SE02 {se[2]!r} does not match ST02 {ts.control_number!r}", se, 2, ts=ts
        )
    count = len(ts.segments) + 2
    if se[1] != str(count):
        yield _finding(
            "SE01_COUNT", f"SE01 says {se[1]} segments, the set holds {count} (ST to SE)", se, 1, ts=ts
        )


def _dates(ts: TransactionSet) -> Iterator[Finding]:
    for segment in ts.segments:
        if segment.id == "DTP":
            qualifier, value = segment[2], segment[3]
            index = 3
        elif segment.id == "DTM":
            qualifier, value, index = "D8", segment[2], 2
        else:
            continue
        if not value or qualifier not in ("D8", "RD8"):
            continue
        try:
            if qualifier == "RD8":
                start, _, end = value.partition("-")
                if parse_date(start, segment, index) > parse_date(end, segment, index):
                    yield _finding(
                        "DATE_RANGE",
                        f"date range {value} ends before it starts",
                        segment,
                        index,
                        ts=ts,
                        value=value,
                    )
            elif len(value) != 8:
                raise X12Error(f"{value!r} is not CCYYMMDD")
            else:
                parse_date(value, segment, index)
        except X12Error:
            yield _finding(
                "INVALID_DATE",
                f"{value!r} is not a valid {qualifier} date",
                segment,
                index,
                ts=ts,
                value=value,
            )


def _npis(ts: TransactionSet) -> Iterator[Finding]:
    for segment in ts.segments:
        if segment.id == "NM1" and segment[8] == "XX":
            index, value = 9, segment[9]
        elif segment.id == "N1" and segment[3] == "XX":
            index, value = 4, segment[4]
        else:
            continue
        if not is_valid_npi(value):
            yield _finding(
                "NPI_CHECK_DIGIT",
                f"NPI {value!r} ({segment[1]}) fails the check digit (Luhn over 80840 + the first 9 "
                "digits); correct the provider's NPI from NPPES",
                segment,
                index,
                ts=ts,
                value=value,
            )


def _hl_tree(ts: TransactionSet) -> Iterator[Finding]:
    allowed = HL_PARENT_LEVELS[ts.id]
    levels: dict[str, str] = {}
    expected = 1
    for segment in ts.segments:
        if segment.id != "HL":
            continue
        hl_id, parent, level = segment[1], segment[2], segment[3]
        if hl_id != str(expected):
            yield _finding(
                "HL_SEQUENCE", f"HL01 {hl_id!r} should be {expected}: ids run 1, 2, 3..", segment, 1, ts=ts
            )
        expected = (int(hl_id) if is_digits(hl_id) else expected) + 1
        if parent and parent not in levels:
            yield _finding(
                "HL_PARENT",
                f"HL02 parent {parent!r} is not an earlier HL id (known: {', '.join(levels) or 'none'})",
                segment,
                2,
                ts=ts,
                value=parent,
            )
        elif level not in allowed:
            yield _finding(
                "HL_LEVEL",
                f"HL03 level {level!r} is not used in a {ts.id} (expected {', '.join(allowed)})",
                segment,
                3,
                ts=ts,
            )
        elif (levels.get(parent) if parent else None) not in allowed[level]:
            under = f"level {levels[parent]}" if parent else "the top"
            yield _finding(
                "HL_LEVEL",
                f"HL level {level} cannot sit under {under} in a {ts.id}",
                segment,
                3,
                ts=ts,
            )
        levels[hl_id] = level


def _amount(segment: Segment, index: int) -> Decimal | None:
    """The element's number; None when absent or not one (Decimal reads a non-ASCII digit too)."""
    value = segment[index]
    if not value or not value.isascii():
        return None
    try:
        return Decimal(value)
    except InvalidOperation:
        return None


def _claims_837(ts: TransactionSet) -> Iterator[Finding]:
    hl: Segment | None = None
    clm: Segment | None = None
    seen_85 = False
    lines_total = Decimal(0)
    for segment in [*ts.segments, None]:
        if segment is None or segment.id in ("HL", "CLM"):
            if clm is not None:
                yield from _claim_total(ts, clm, lines_total)
            clm = None
        if segment is None:
            break
        if segment.id == "HL":
            if hl is not None and hl[3] == "20":
                yield from _billing_provider(ts, hl, seen_85)
            hl, seen_85 = segment, False
        elif segment.id == "NM1" and segment[1] == "85":
            seen_85 = True
        elif segment.id == "SBR" and segment[9] not in SBR09_CODES:
            yield _finding(
                "INVALID_CODE",
                f"claim filing indicator {segment[9]!r} is not an SBR09 code "
                f"({', '.join(sorted(SBR09_CODES))})",
                segment,
                9,
                ts=ts,
                value=segment[9],
            )
        elif segment.id == "CLM":
            clm, lines_total = segment, Decimal(0)
        elif segment.id in ("SV1", "SV2") and clm is not None:
            lines_total += _amount(segment, 2 if segment.id == "SV1" else 3) or Decimal(0)
    if hl is not None and hl[3] == "20":
        yield from _billing_provider(ts, hl, seen_85)


def _billing_provider(ts: TransactionSet, hl: Segment, seen_85: bool) -> Iterator[Finding]:
    if not seen_85:
        yield _finding(
            "SEGMENT_MISSING",
            "billing provider loop 2010AA (NM1*85) is missing under this HL*20: add the billing provider's "
            "name and NPI",
            hl,
            ts=ts,
            missing="NM1",
        )


def _claim_total(ts: TransactionSet, clm: Segment, lines_total: Decimal) -> Iterator[Finding]:
    total = _amount(clm, 2)
    if total is None:
        yield _finding("CLAIM_TOTAL", f"claim {clm[1]}: CLM02 total charge is not an amount", clm, 2, ts=ts)
    elif total != lines_total:
        yield _finding(
            "CLAIM_TOTAL",
            f"claim {clm[1]}: CLM02 total {total} is not the sum of its line charges {lines_total}",
            clm,
            2,
            ts=ts,
        )


def _remittance_835(ts: TransactionSet) -> Iterator[Finding]:
    present = {segment.id for segment in ts.segments}
    parties = {segment[1] for segment in ts.segments if segment.id == "N1"}
    for needed, what in (("BPR", "financial information"), ("TRN", "reassociation trace number")):
        if needed not in present:
            yield _finding(
                "SEGMENT_MISSING", f"the 835 has no {needed} ({what})", ts.header, ts=ts, missing=needed
            )
    for code, loop in (("PR", "1000A payer"), ("PE", "1000B payee")):
        if code not in parties:
            yield _finding(
                "SEGMENT_MISSING", f"the 835 has no {loop} (N1*{code})", ts.header, ts=ts, missing="N1"
            )
    for segment in ts.segments:
        if segment.id == "CLP" and segment[2] not in CLP02_CODES:
            yield _finding(
                "INVALID_CODE",
                f"claim status {segment[2]!r} is not a CLP02 code ({', '.join(sorted(CLP02_CODES))})",
                segment,
                2,
                ts=ts,
                value=segment[2],
            )
        elif segment.id == "CAS" and segment[1] not in CAS01_CODES:
            yield _finding(
                "INVALID_CODE",
                f"adjustment group {segment[1]!r} is not a 5010 CAS01 code (CO, OA, PI, PR)",
                segment,
                1,
                ts=ts,
                value=segment[1],
            )
    if "TRN" not in present or "BPR" not in present:
        return  # balancing needs the header; its absence is already reported
    try:
        remittance = read_remittance(ts)
    except X12Error as exc:
        if (exc.segment_id, exc.element) in (("CLP", 2), ("CAS", 1)):
            return  # the invalid code is reported above; it also stops the balancing
        where = next((s for s in ts.segments if s.position == exc.position), ts.header)
        yield _finding(
            "UNREADABLE_VALUE", f"{exc.reason}; balancing was not checked", where, exc.element, ts=ts
        )
        return
    for balance in remittance.findings:
        anchor, element = _balance_anchor(
            ts, balance.level, balance.patient_control_number, balance.line_number
        )
        yield _finding(f"BALANCE_{balance.level.value.upper()}", balance.message, anchor, element, ts=ts)


def _balance_anchor(
    ts: TransactionSet, level: BalancingLevel, control_number: str | None, line_number: int | None
) -> tuple[Segment, int]:
    """The segment a balancing fault points at: BPR02, the claim's CLP03 or the line's SVC02."""
    if level is BalancingLevel.FILE:
        return next(segment for segment in ts.segments if segment.id == "BPR"), 2
    clp = next((s for s in ts.segments if s.id == "CLP" and s[1] == control_number), ts.header)
    if level is BalancingLevel.CLAIM or line_number is None:
        return clp, 3
    lines = 0
    for segment in ts.segments[ts.segments.index(clp) + 1 :] if clp in ts.segments else []:
        if segment.id == "CLP":
            break
        if segment.id == "SVC":
            lines += 1
            if lines == line_number:
                return segment, 2
    return clp, 3
