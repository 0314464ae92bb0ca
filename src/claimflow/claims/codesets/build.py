"""Build the code-set tables from CMS files: pure parsing, the caller reads and writes the files.

Each builder takes the rows of one file (lists of cells; the caller splits CSV or tab-delimited text)
and accepts two layouts: the CSV layout of ../shared/data/codesets (see SOURCES.md) and the layout CMS
publishes (NCCI PTP tab-delimited .txt with its banner lines, MUE .csv with its banner lines, AOC .txt,
ICD-10-CM order file, HCPCS ANWEB exported to CSV). Layouts are told apart by their header row.
"""

from __future__ import annotations

import re
from array import array
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import date, timedelta
from enum import StrEnum

from claimflow.claims.codesets.codes import PROCEDURE_CODE, date_number, encode_code, parse_date
from claimflow.claims.codesets.tables import (
    AddOnEdit,
    AgeRange,
    DiagnosisTable,
    DxFlag,
    HcpcsCode,
    MueLimit,
    PtpTable,
)

Row = Sequence[str]
Header = Mapping[str, tuple[str, ...]]
"""our field name -> the header spellings it may have"""


class SourceKind(StrEnum):
    """What a file in an update directory holds, told by its name."""

    ICD10CM_MCE = "icd10cm_mce"
    ICD10CM_ORDER = "icd10cm_order"
    MCE_AGE_RANGES = "mce_age_ranges"
    HCPCS = "hcpcs"
    HCPCS_MODIFIERS = "hcpcs_modifiers"
    PTP_PRACTITIONER = "ptp_practitioner"
    PTP_OUTPATIENT = "ptp_outpatient"
    MUE_PRACTITIONER = "mue_practitioner"
    MUE_OUTPATIENT = "mue_outpatient"
    MUE_DME = "mue_dme"
    MUE_COMBINED = "mue_combined"
    ADD_ON = "add_on"
    PLACE_OF_SERVICE = "place_of_service"


_NAME_PATTERNS: tuple[tuple[str, SourceKind], ...] = (
    (r"icd10cm_mce_validity", SourceKind.ICD10CM_MCE),
    (r"icd10cm_order_", SourceKind.ICD10CM_ORDER),
    (r"mce_age_ranges", SourceKind.MCE_AGE_RANGES),
    (r"hcpcs_level2_modifiers", SourceKind.HCPCS_MODIFIERS),
    (r"hcpcs_level2_codes|hcpc\d{4}_\w*anweb", SourceKind.HCPCS),
    (r"ncci_ptp_practitioner|ccipra", SourceKind.PTP_PRACTITIONER),
    (r"ncci_ptp_outpatient|ccioph", SourceKind.PTP_OUTPATIENT),
    (r"ncci_mue_\d", SourceKind.MUE_COMBINED),
    (r"mue.*practitioner", SourceKind.MUE_PRACTITIONER),
    (r"mue.*outpatient", SourceKind.MUE_OUTPATIENT),
    (r"mue.*dme", SourceKind.MUE_DME),
    (r"ncci_aoc|aoc_v\d", SourceKind.ADD_ON),
    (r"place_of_service", SourceKind.PLACE_OF_SERVICE),
)


def classify(file_name: str) -> SourceKind | None:
    """The kind of a CMS or shared-layout file by its name; None for files the update ignores."""
    name = file_name.lower()
    for pattern, kind in _NAME_PATTERNS:
        if re.search(pattern, name):
            return kind
    return None


def _key(cell: str) -> str:
    return re.sub(r"[^a-z0-9]", "", cell.lower())


def _records(rows: Iterable[Row], required: Header, what: str) -> Iterator[dict[str, str]]:
    """Rows after the header row, as {field: cell}; the header is the first row naming every field.

    `required` maps our field name to the header spellings it may have (compared without case, spaces
    or punctuation), so CMS banner lines above the header are skipped.
    """
    iterator = iter(rows)
    columns: dict[str, int] | None = None
    for row in iterator:
        keys = [_key(cell) for cell in row]
        found = {
            name: next(i for i, key in enumerate(keys) if key in spellings)
            for name, spellings in required.items()
            if any(key in spellings for key in keys)
        }
        if len(found) == len(required):
            columns = found
            break
    if columns is None:
        wanted = ", ".join(spellings[0] for spellings in required.values())
        raise ValueError(f"{what}: no header row naming {wanted}; is this the right file?")
    width = max(columns.values()) + 1
    for row in iterator:
        if len(row) >= width:
            yield {name: row[index].strip() for name, index in columns.items()}


def build_age_ranges(rows: Iterable[Row]) -> tuple[AgeRange, ...]:
    required: Header = {
        "flag": ("mceflag",),
        "low": ("minageyears",),
        "high": ("maxageyears",),
        "start": ("startdate",),
        "end": ("enddate",),
    }
    ranges = []
    for record in _records(rows, required, "MCE age ranges"):
        flag = DxFlag.from_mce(record["flag"])
        start, end = parse_date(record["start"]), parse_date(record["end"])
        if flag and start and end:
            ranges.append(
                AgeRange(flag, int(record["low"]), int(record["high"]), date_number(start), date_number(end))
            )
    return tuple(ranges)


def build_diagnoses(rows: Iterable[Row], age_ranges: tuple[AgeRange, ...]) -> DiagnosisTable:
    """From the MCE validity CSV: code, start_date, end_date, mce_flags."""
    required: Header = {
        "code": ("code",),
        "start": ("startdate",),
        "end": ("enddate",),
        "flags": ("mceflags",),
    }
    periods: dict[str, list[tuple[int, int, int]]] = {}
    sex_flags: dict[str, tuple[int, int]] = {}
    for record in _records(rows, required, "ICD-10-CM MCE validity"):
        start, end = parse_date(record["start"]), parse_date(record["end"])
        if start is None or end is None:
            raise ValueError(f"ICD-10-CM MCE validity: code {record['code']} has no start or end date")
        flags = DxFlag.from_mce(record["flags"])
        code = record["code"].replace(".", "").upper()
        periods.setdefault(code, []).append((date_number(start), date_number(end), int(flags)))
        sex = flags & (DxFlag.FEMALE | DxFlag.MALE)
        if sex and date_number(end) >= sex_flags.get(code, (0, 0))[0]:
            sex_flags[code] = (date_number(end), int(sex))
    return _diagnosis_table(periods, {code: sex for code, (_, sex) in sex_flags.items()}, age_ranges)


def _diagnosis_table(
    periods: dict[str, list[tuple[int, int, int]]],
    sex_flags: dict[str, int],
    age_ranges: tuple[AgeRange, ...],
) -> DiagnosisTable:
    spans = [span for code_spans in periods.values() for span in code_spans]
    return DiagnosisTable(
        periods={code: tuple(sorted(code_spans)) for code, code_spans in periods.items()},
        sex_flags=sex_flags,
        age_ranges=age_ranges,
        sorted_codes=tuple(sorted(periods)),
        first_day=min(span[0] for span in spans),
        last_day=max(span[1] for span in spans),
    )


def order_file_effective_date(file_name: str) -> date:
    """CMS names the fiscal-year order file icd10cm_order_YYYY.txt; FY YYYY starts on 1 October YYYY-1."""
    match = re.search(r"icd10cm_order_(\d{4})", file_name.lower())
    if not match:
        raise ValueError(f"{file_name}: cannot tell the fiscal year; name it icd10cm_order_YYYY.txt")
    return date(int(match.group(1)) - 1, 10, 1)


def apply_order_file(table: DiagnosisTable, lines: Iterable[str], effective: date) -> DiagnosisTable:
    """Merge a CMS ICD-10-CM order file (fixed width) that takes effect on `effective`.

    Layout: order number (cols 1-5), code (7-13), header flag (15: 1 = billable, 0 = header). Billable
    codes are valid from `effective` on, keeping the flags of their latest period (the order file carries
    no MCE attributes); codes missing from the file stop being valid the day before `effective`.
    """
    start = date_number(effective)
    end_before = date_number(effective - timedelta(days=1))
    billable: set[str] = set()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        if len(line) < 15 or line[14] not in "01":
            raise ValueError(
                f"ICD-10-CM order file line {number}: no header flag in column 15: {line[:20]!r}"
            )
        if line[14] == "1":
            billable.add(line[6:13].strip().upper())
    if not billable:
        raise ValueError("ICD-10-CM order file holds no billable code")
    periods: dict[str, list[tuple[int, int, int]]] = {}
    for code, code_spans in table.periods.items():
        kept = [span for span in code_spans if span[0] < start]
        kept = [(first, min(last, end_before), flags) for first, last, flags in kept]
        if kept:
            periods[code] = kept
    open_end = max(table.last_day, date_number(date(effective.year + 1, 9, 30)))
    for code in billable:
        latest_flags = max(table.periods.get(code, ((0, 0, 0),)))[2]
        periods.setdefault(code, []).append((start, open_end, latest_flags))
    updated = _diagnosis_table(periods, table.sex_flags, table.age_ranges)
    return replace(updated, last_day=open_end)


def build_hcpcs(rows: Iterable[Row]) -> dict[str, HcpcsCode]:
    """HCPCS Level II codes with add and termination dates (shared CSV, or ANWEB saved as CSV)."""
    required: Header = {
        "code": ("hcpcscode", "hcpc"),
        "added": ("adddate", "adddt"),
        "term": ("termdate", "termdt"),
    }
    codes: dict[str, HcpcsCode] = {}
    for record in _records(rows, required, "HCPCS Level II"):
        code = record["code"].upper()
        added = parse_date(record["added"])
        if not PROCEDURE_CODE.match(code) or code in codes or added is None:
            continue  # ANWEB continuation lines repeat the code; 2025-only rows carry no dates
        term = parse_date(record["term"])
        codes[code] = HcpcsCode(date_number(added), date_number(term) if term else 0)
    if not codes:
        raise ValueError("HCPCS Level II file holds no code with an add date")
    return codes


def build_hcpcs_modifiers(rows: Iterable[Row]) -> frozenset[str]:
    required: Header = {"modifier": ("modifier", "mod")}
    return frozenset(
        record["modifier"].upper()
        for record in _records(rows, required, "HCPCS modifiers")
        if re.fullmatch(r"[0-9A-Z]{2}", record["modifier"].upper())
    )


MUE_SETTINGS = ("practitioner", "outpatient_hospital", "dme_supplier")


def build_mue(rows: Iterable[Row], setting: str | None) -> dict[str, dict[str, MueLimit]]:
    """MUE values per setting. `setting` None reads the shared combined CSV (service_type column);
    otherwise the rows are a CMS MUE file for that setting (code, value, adjudication indicator, ...)."""
    limits: dict[str, dict[str, MueLimit]] = {}
    if setting is None:
        required: Header = {
            "setting": ("servicetype",),
            "code": ("hcpcscode",),
            "value": ("muevalue",),
            "mai": ("mai",),
        }
        records: Iterable[dict[str, str]] = _records(rows, required, "MUE")
    else:
        required = {
            "code": ("hcpcscptcode", "hcpcscode"),
            "value": tuple(
                _key(f"{name} mue values")
                for name in ("practitioner services", "outpatient hospital services", "dme supplier services")
            ),
            "mai": ("mueadjudicationindicator",),
        }
        records = ({**record, "setting": setting} for record in _records(rows, required, f"MUE {setting}"))
    for record in records:
        code = record["code"].upper()
        mai = record["mai"][:1]
        if not PROCEDURE_CODE.match(code) or not record["value"].isdigit() or mai not in ("1", "2", "3"):
            continue
        limits.setdefault(record["setting"], {})[code] = MueLimit(int(record["value"]), int(mai))
    if not limits:
        raise ValueError("MUE file holds no code with a value and adjudication indicator")
    return limits


def build_add_ons(rows: Iterable[Row]) -> dict[str, AddOnEdit]:
    """Active add-on code edits; rows with a deletion date are dropped."""
    required: Header = {"primary": ("primarycode",), "add_on": ("addoncode",), "edit_type": ("aocedittype",)}
    rows = list(rows)
    deletion_spellings = ("addoncodedeletiondate", "aocdeletiondate")
    has_deletion = any(_key(cell) in deletion_spellings for row in rows[:20] for cell in row)
    if has_deletion:
        required = {**required, "deleted": deletion_spellings}
    primaries: dict[str, set[str]] = {}
    edit_types: dict[str, int] = {}
    for record in _records(rows, required, "add-on code edits"):
        if record.get("deleted") and parse_date(record["deleted"]):
            continue
        add_on = record["add_on"].upper()
        if not PROCEDURE_CODE.match(add_on) or not record["edit_type"][:1].isdigit():
            continue
        edit_types[add_on] = int(record["edit_type"][:1])
        primary = record["primary"].upper()
        if PROCEDURE_CODE.match(primary) and primary != "CCCCC":
            primaries.setdefault(add_on, set()).add(primary)
    return {code: AddOnEdit(edit_types[code], frozenset(primaries.get(code, ()))) for code in edit_types}


def build_places_of_service(rows: Iterable[Row]) -> dict[str, str]:
    required: Header = {"code": ("poscode", "placeofservicecodes"), "name": ("posname", "placeofservicename")}
    return {
        record["code"].zfill(2): record["name"]
        for record in _records(rows, required, "place of service")
        if record["code"].isdigit() and not record["name"].lower().startswith("unassigned")
    }


def build_ptp(rows: Iterable[Row], keep_deleted_since: date) -> PtpTable:
    """NCCI PTP edits: active ones, and deleted ones whose deletion date is on or after
    `keep_deleted_since` (claims with older dates of service are past any filing limit).
    Indicator-9 rows are not edits and are dropped. The deletion date is the last day the edit applies.
    """
    cutoff = date_number(keep_deleted_since)
    pairs: list[tuple[int, int, int, int]] = []
    positions: tuple[int, int, int, int] | None = None
    for row in rows:
        if positions is None:
            keys = [_key(cell) for cell in row]
            if "column1" in keys and "deletiondate" in keys and "modifierindicator" in keys:
                positions = (0, 1, keys.index("deletiondate"), keys.index("modifierindicator"))
                continue
        first, second, deleted_at, indicator_at = positions or (0, 1, 4, 5)
        if (
            len(row) <= indicator_at
            or not PROCEDURE_CODE.match(row[0].strip())
            or not PROCEDURE_CODE.match(row[1].strip())
        ):
            continue  # banner, header and blank lines of the CMS file
        indicator = row[indicator_at].strip()[:1]
        if indicator not in ("0", "1"):
            continue
        deleted = parse_date(row[deleted_at])
        deletion = date_number(deleted) if deleted else 0
        if deletion and deletion < cutoff:
            continue
        pairs.append(
            (encode_code(row[first].strip()), encode_code(row[second].strip()), int(indicator), deletion)
        )
    if not pairs:
        raise ValueError("NCCI PTP file holds no edit with modifier indicator 0 or 1")
    pairs.sort()
    table = PtpTable(offsets=array("i"))
    for first, second, indicator_value, deletion in pairs:
        if table.column1 and table.column1[-1] == first:
            if table.column2[-1] == second:
                continue  # a pair repeated across the CMS file parts
        else:
            table.column1.append(first)
            table.offsets.append(len(table.column2))
        table.column2.append(second)
        table.indicator.append(indicator_value)
        table.deletion.append(deletion)
    table.offsets.append(len(table.column2))
    return table
