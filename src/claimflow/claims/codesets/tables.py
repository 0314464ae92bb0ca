"""The code-set tables the scrubber consults, and their compact serialised form.

Tables are built once by `claimflow codesets update` (see build.py) and shipped in the package as
zlib-compressed pickles of plain values and packed arrays, so that loading them is a decompression and
a few `array.frombytes` calls rather than parsing millions of CSV rows. The pickles are our own build
output, read only from the package (or a directory the operator names), never from claim input.
"""

from __future__ import annotations

import pickle
import zlib
from array import array
from bisect import bisect_left
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import IntFlag
from typing import Any

from claimflow.claims.codesets.codes import date_number, encode_code

FORMAT_VERSION = 2


class DxFlag(IntFlag):
    """The CMS Medicare Code Editor attributes of an ICD-10-CM code the scrubber uses."""

    FEMALE = 1
    MALE = 2
    NEWBORN = 4
    PEDIATRIC = 8
    MATERNITY = 16
    ADULT = 32
    EXTERNAL_CAUSE = 64
    MANIFESTATION = 128

    @classmethod
    def from_mce(cls, names: str) -> DxFlag:
        flags = cls(0)
        for name in filter(None, names.split("|")):
            flags |= _MCE_FLAG_NAMES.get(name, cls(0))
        return flags


_MCE_FLAG_NAMES = {
    "female": DxFlag.FEMALE,
    "male": DxFlag.MALE,
    "newborn": DxFlag.NEWBORN,
    "pediatric": DxFlag.PEDIATRIC,
    "maternity": DxFlag.MATERNITY,
    "adult": DxFlag.ADULT,
    "ecodepdx": DxFlag.EXTERNAL_CAUSE,
    "manifestation": DxFlag.MANIFESTATION,
}

AGE_FLAGS = (DxFlag.NEWBORN, DxFlag.PEDIATRIC, DxFlag.MATERNITY, DxFlag.ADULT)
AGE_MASK = int(DxFlag.NEWBORN | DxFlag.PEDIATRIC | DxFlag.MATERNITY | DxFlag.ADULT)
"""plain ints for the scrubber's hot path (IntFlag arithmetic is slow)"""


@dataclass(frozen=True)
class AgeRange:
    flag: DxFlag
    min_years: int
    max_years: int
    start: int
    end: int


@dataclass(frozen=True)
class DiagnosisTable:
    """ICD-10-CM billable (leaf) codes with the periods over which they were valid.

    `periods[code]` is a tuple of (start YYYYMMDD, end YYYYMMDD, DxFlag value). `sex_flags[code]` keeps the
    last sex-conflict flag CMS published for a code: CMS emptied the MCE sex lists for discharges from
    2024-10-01, but payers that still apply sex edits use the last published list.
    """

    periods: dict[str, tuple[tuple[int, int, int], ...]]
    sex_flags: dict[str, int]
    age_ranges: tuple[AgeRange, ...]
    first_day: int
    last_day: int
    sorted_codes: tuple[str, ...]
    """every code ever billable, sorted: tells a category header (a prefix of billable codes) at once"""

    def flags_on(self, code: str, day: date) -> int | None:
        """The code's DxFlag bits (a plain int) if it is billable on `day`, else None."""
        number = date_number(day)
        for start, end, flags in self.periods.get(code, ()):
            if start <= number <= end:
                return flags
        return None

    def is_header(self, code: str) -> bool:
        """Whether `code` is a category or subcategory above billable codes (E11 above E119)."""
        position = bisect_left(self.sorted_codes, code)
        if position < len(self.sorted_codes) and self.sorted_codes[position] == code:
            position += 1
        return position < len(self.sorted_codes) and self.sorted_codes[position].startswith(code)

    def valid_span(self, code: str) -> tuple[int, int] | None:
        spans = self.periods.get(code)
        if not spans:
            return None
        return min(span[0] for span in spans), max(span[1] for span in spans)

    def age_range(self, flag: DxFlag, day: date) -> AgeRange | None:
        number = date_number(day)
        for age_range in self.age_ranges:
            if age_range.flag == flag and age_range.start <= number <= age_range.end:
                return age_range
        return None


@dataclass(frozen=True)
class HcpcsCode:
    add_date: int
    term_date: int
    """YYYYMMDD, 0 when not terminated."""


@dataclass(frozen=True)
class MueLimit:
    units: int
    mai: int
    """MUE adjudication indicator: 1 per claim line, 2 per day (policy), 3 per day (clinical)."""


@dataclass(frozen=True)
class AddOnEdit:
    edit_type: int
    """1 = only the listed primaries, 2 = contractor-defined primaries, 3 = listed plus contractor's."""
    primaries: frozenset[str]


@dataclass(frozen=True)
class PtpEdit:
    column1: str
    column2: str
    modifier_indicator: int
    deletion_date: int
    """YYYYMMDD, the last day the edit applies; 0 when active."""

    def applies_on(self, day: date) -> bool:
        return self.modifier_indicator != 9 and (
            self.deletion_date == 0 or date_number(day) <= self.deletion_date
        )


@dataclass
class PtpTable:
    """NCCI procedure-to-procedure edits for one setting, as sorted packed arrays.

    Column-1 codes are unique and sorted; the column-2 codes of column1[i] are
    column2[offsets[i]:offsets[i+1]], sorted, with their modifier indicator and deletion date at the
    same positions.
    """

    column1: array[int] = field(default_factory=lambda: array("i"))
    offsets: array[int] = field(default_factory=lambda: array("i", [0]))
    column2: array[int] = field(default_factory=lambda: array("i"))
    indicator: array[int] = field(default_factory=lambda: array("b"))
    deletion: array[int] = field(default_factory=lambda: array("i"))

    def __len__(self) -> int:
        return len(self.column2)

    def edit(self, column1: str, column2: str) -> PtpEdit | None:
        """The edit that has `column1` as its comprehensive code and `column2` as its component."""
        first = encode_code(column1)
        row = bisect_left(self.column1, first)
        if row == len(self.column1) or self.column1[row] != first:
            return None
        second = encode_code(column2)
        low, high = self.offsets[row], self.offsets[row + 1]
        position = bisect_left(self.column2, second, low, high)
        if position == high or self.column2[position] != second:
            return None
        return PtpEdit(column1, column2, self.indicator[position], self.deletion[position])

    def edits_among(self, codes: Sequence[str]) -> Iterator[tuple[int, int, PtpEdit]]:
        """Every edit between two of `codes` (by position): (column-1 index, column-2 index, edit)."""
        encoded = [encode_code(code) for code in codes]
        column1, column2 = self.column1, self.column2
        for first_index, first in enumerate(encoded):
            row = bisect_left(column1, first)
            if row == len(column1) or column1[row] != first:
                continue
            low, high = self.offsets[row], self.offsets[row + 1]
            for second_index, second in enumerate(encoded):
                if second == first:
                    continue
                position = bisect_left(column2, second, low, high)
                if position < high and column2[position] == second:
                    edit = PtpEdit(
                        codes[first_index],
                        codes[second_index],
                        self.indicator[position],
                        self.deletion[position],
                    )
                    yield first_index, second_index, edit

    def to_state(self) -> dict[str, bytes]:
        return {name: getattr(self, name).tobytes() for name in _PTP_ARRAYS}

    @classmethod
    def from_state(cls, state: dict[str, bytes]) -> PtpTable:
        table = cls()
        for name, typecode in _PTP_ARRAYS.items():
            packed = array(typecode)
            packed.frombytes(state[name])
            setattr(table, name, packed)
        return table


_PTP_ARRAYS = {"column1": "i", "offsets": "i", "column2": "i", "indicator": "b", "deletion": "i"}


@dataclass(frozen=True)
class CoreTables:
    """Everything but the NCCI pairs: small enough to be plain dictionaries."""

    diagnoses: DiagnosisTable
    hcpcs: dict[str, HcpcsCode]
    mue: dict[str, dict[str, MueLimit]]
    """setting (practitioner, outpatient_hospital, dme_supplier) -> code -> limit."""
    add_ons: dict[str, AddOnEdit]
    places_of_service: dict[str, str]
    hcpcs_modifiers: frozenset[str]
    release_notes: dict[str, str]
    """code set -> a line saying what release it was built from."""


def dump(value: Any) -> bytes:
    """Serialise a table for the package: a versioned, compressed pickle."""
    return zlib.compress(pickle.dumps((FORMAT_VERSION, value), protocol=5), level=9)


def load(blob: bytes, what: str) -> Any:
    version, value = pickle.loads(zlib.decompress(blob))
    if version != FORMAT_VERSION:
        raise ValueError(
            f"{what} index has format {version}, this claimflow reads {FORMAT_VERSION}: "
            "rebuild it with `claimflow codesets update DIR`"
        )
    return value
