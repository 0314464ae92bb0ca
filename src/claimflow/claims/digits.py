"""X12 data and the identifiers in it are ASCII. `str.isdigit()` also takes a superscript three and
`int()` then refuses it; `int()` and `Decimal()` read an Arabic-Indic or full-width three as 3. Every
check of digits in claimflow goes through `is_digits`, and a number read from X12 is ASCII first, so
an odd character is a located error instead of a Python exception or a silently different value."""

from __future__ import annotations

DIGITS_PATTERN = "[0-9]"
"""For pydantic `pattern=`s: their `\\d` matches every Unicode digit."""


def is_digits(text: str) -> bool:
    """At least one character, and only the ASCII digits 0-9."""
    return text.isascii() and text.isdigit()
