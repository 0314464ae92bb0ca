"""Procedure codes as small integers, so that millions of NCCI pairs fit in packed arrays.

A CPT or HCPCS code is five characters from [0-9A-Z]; read in base 36 it is below 36**5 (about
60 million), which fits a signed 32-bit array slot.
"""

from __future__ import annotations

import re
from datetime import date

PROCEDURE_CODE = re.compile(r"^[0-9A-Z]{5}$")
"""CPT (five digits, or four digits and F/T/U/M) and HCPCS Level II (a letter and four digits)."""

CPT_FORMAT = re.compile(r"^([0-9]{5}|[0-9]{4}[FTUM])$")
HCPCS_FORMAT = re.compile(r"^[A-V][0-9]{4}$")


def encode_code(code: str) -> int:
    """The base-36 value of a five-character procedure code."""
    return int(code, 36)


def date_number(day: date) -> int:
    """A date as YYYYMMDD, the form the packed tables store."""
    return day.year * 10000 + day.month * 100 + day.day


def parse_date(text: str) -> date | None:
    """Read a date written YYYY-MM-DD, YYYYMMDD or MM/DD/YYYY; empty, '*' or zeros mean none."""
    text = text.strip()
    if not text or text == "*" or set(text) <= {"0", "-", "/"}:
        return None
    if "/" in text:
        month, day, year = (int(part) for part in text.split("/"))
        return date(year, month, day)
    digits = text.replace("-", "")
    if len(digits) != 8 or not digits.isdigit():
        raise ValueError(f"not a date: {text!r} (expected YYYY-MM-DD, YYYYMMDD or MM/DD/YYYY)")
    return date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
