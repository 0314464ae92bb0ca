"""Claim adjustment reason codes (CARC), remittance advice remark codes (RARC) and group codes, with
their published texts, for letters, statements and reports.

Source of `data/carc_rarc.csv`: a copy of ../shared/data/codesets/x12_carc_rarc_group_codes_2024jun.csv
(5 group codes, 405 CARCs, 1,171 RARCs), scraped from x12.org on 2024-06-18 (northstar pin
`adj_codes/20240618T123408Z-c1491`). CARC is X12 code source 139, maintained by X12 (x12.org
terms apply); RARC is code source 411, maintained by CMS. Columns: code, code_type (Group, CARC,
RARC), description, usage, notes, start_date, last_modified, stop_date. Refresh it by copying a
newer export with the same columns.
"""

from __future__ import annotations

import csv
import io
from datetime import date
from enum import StrEnum
from functools import cache
from importlib.resources import files

from claimflow.claims.encounter import Model


class CodeType(StrEnum):
    GROUP = "Group"
    CARC = "CARC"
    RARC = "RARC"


class AdjustmentCode(Model):
    code: str
    code_type: CodeType
    description: str
    usage: str | None = None
    start_date: date | None = None
    stop_date: date | None = None

    def active_on(self, day: date) -> bool:
        """In use on `day`: started, and not stopped before it."""
        started = self.start_date is None or self.start_date <= day
        return started and (self.stop_date is None or day < self.stop_date)


class UnknownCodeError(LookupError):
    """A code that is not in the X12/CMS list shipped with claimflow."""


@cache
def _codes() -> dict[tuple[CodeType, str], AdjustmentCode]:
    text = files("claimflow.claims").joinpath("data", "carc_rarc.csv").read_text(encoding="utf-8")
    codes: dict[tuple[CodeType, str], AdjustmentCode] = {}
    for row in csv.DictReader(io.StringIO(text)):
        code = AdjustmentCode(
            code=row["code"].strip(),
            code_type=CodeType(row["code_type"].strip()),
            description=row["description"].strip(),
            usage=row["usage"].strip() or None,
            start_date=date.fromisoformat(row["start_date"]) if row["start_date"] else None,
            stop_date=date.fromisoformat(row["stop_date"]) if row["stop_date"] else None,
        )
        codes[(code.code_type, code.code)] = code
    return codes


def lookup(code_type: CodeType, code: str) -> AdjustmentCode:
    """The entry for a code, e.g. lookup(CodeType.CARC, "50"). Unknown codes raise UnknownCodeError."""
    entry = _codes().get((code_type, code.strip().upper()))
    if entry is None:
        raise UnknownCodeError(
            f"{code_type.value} {code!r} is not in the X12/CMS code list (June 2024) shipped with "
            "claimflow: check the code on the remittance, or refresh claims/data/carc_rarc.csv"
        )
    return entry


def carc_text(code: str) -> str:
    """The published text of a claim adjustment reason code."""
    return lookup(CodeType.CARC, code).description


def rarc_text(code: str) -> str:
    """The published text of a remittance advice remark code."""
    return lookup(CodeType.RARC, code).description


def group_text(code: str) -> str:
    """The name of an adjustment group (CO, PR, OA, PI, CR)."""
    return lookup(CodeType.GROUP, code).description


def all_codes(code_type: CodeType) -> list[AdjustmentCode]:
    """Every code of one type, in the order of the published list."""
    return [entry for (kind, _), entry in _codes().items() if kind is code_type]
