"""Contracted fee schedules: what each payer agreed to allow for a service.

A payer's contract is either its own fee schedule (rows of procedure code, modifier, place-of-service
class, allowed amount per unit and effective dates) or a percentage of a reference schedule (Medicare's
physician fee schedule, itself a fee schedule in the same layout). Schedules are CSV text:

    procedure_code,modifier,pos_class,allowed,effective_from,effective_to
    99213,,non_facility,92.00,2026-01-01,2026-12-31
    99213,,facility,65.00,2026-01-01,
    93000,26,,8.00,2026-01-01,

An empty modifier applies to any modifiers (a row naming one applies when the line carries it and
wins over an empty one); pos_class is `facility`, `non_facility` or empty for both; an empty
effective_to is open-ended. Pure: the text comes in, nothing is read here.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from pydantic import Field, ValidationError, model_validator

from claimflow.claims.encounter import Model
from claimflow.claims.money import CENT, ZERO, Money

FACILITY_PLACES = frozenset(
    {"19", "21", "22", "23", "24", "26", "31", "34", "41", "42", "51", "52", "53", "56", "61"}
)
"""Places of service Medicare pays at the facility rate (CMS MPFS, the facility POS list)."""

COLUMNS = ("procedure_code", "modifier", "pos_class", "allowed", "effective_from", "effective_to")


class PosClass(StrEnum):
    FACILITY = "facility"
    NON_FACILITY = "non_facility"


def pos_class(place_of_service: str) -> PosClass:
    return PosClass.FACILITY if place_of_service in FACILITY_PLACES else PosClass.NON_FACILITY


class FeeScheduleRow(Model):
    procedure_code: str = Field(pattern=r"^[A-Z0-9]{5}$")
    modifier: str | None = Field(default=None, pattern=r"^[A-Z0-9]{2}$")
    pos_class: PosClass | None = None
    allowed: Money = Field(description="allowed amount per unit")
    effective_from: date
    effective_to: date | None = None

    @model_validator(mode="after")
    def _dates_in_order(self) -> FeeScheduleRow:
        if self.effective_to is not None and self.effective_to < self.effective_from:
            raise ValueError(
                f"effective_to {self.effective_to} is before effective_from {self.effective_from}"
            )
        if self.allowed < ZERO:
            raise ValueError(f"allowed amount {self.allowed} is negative")
        return self

    def applies(self, procedure_code: str, modifiers: Sequence[str], place: PosClass, on: date) -> bool:
        return (
            self.procedure_code == procedure_code
            and (self.modifier is None or self.modifier in modifiers)
            and (self.pos_class is None or self.pos_class is place)
            and self.effective_from <= on
            and (self.effective_to is None or on <= self.effective_to)
        )

    def describe(self) -> str:
        """The row as a person reads it in a task or a letter."""
        parts = [self.procedure_code + (f"-{self.modifier}" if self.modifier else "")]
        if self.pos_class is not None:
            parts.append(self.pos_class.value.replace("_", "-"))
        until = f" to {self.effective_to}" if self.effective_to else ""
        parts.append(f"${self.allowed} per unit, effective {self.effective_from}{until}")
        return " ".join(parts)


class FeeSchedule(Model):
    name: str
    rows: tuple[FeeScheduleRow, ...] = ()

    def rate(
        self, procedure_code: str, modifiers: Sequence[str], place: PosClass, on: date
    ) -> FeeScheduleRow | None:
        """The row that prices this service: a row naming a modifier or a place class beats one that
        does not; None when the schedule has no rate for it on that day."""
        candidates = [row for row in self.rows if row.applies(procedure_code, modifiers, place, on)]
        if not candidates:
            return None
        return max(
            candidates,
            key=lambda row: (row.modifier is not None, row.pos_class is not None, row.effective_from),
        )


def read_fee_schedule(name: str, text: str) -> FeeSchedule:
    """A schedule from CSV text (layout in the module docstring; lines starting with # are comments);
    every problem names its line."""
    lines = [
        (number, line)
        for number, line in enumerate(text.lstrip("\ufeff").splitlines(), start=1)
        if line.strip() and not line.lstrip().startswith("#")
    ]
    if not lines:
        raise ValueError(f"fee schedule {name} is empty (needs the header {','.join(COLUMNS)})")
    header = [field.strip() for field in next(csv.reader([lines[0][1]]))]
    missing = [column for column in COLUMNS if column not in header]
    if missing:
        raise ValueError(
            f"fee schedule {name}: header lacks {', '.join(missing)} (needs {','.join(COLUMNS)})"
        )
    rows: list[FeeScheduleRow] = []
    for number, line in lines[1:]:
        fields = next(csv.reader([line]))
        if len(fields) != len(header):
            raise ValueError(
                f"fee schedule {name}, line {number}: {len(fields)} fields, the header has {len(header)}"
            )
        values = {key: value.strip() for key, value in zip(header, fields, strict=True)}
        try:
            rows.append(
                FeeScheduleRow(
                    procedure_code=values["procedure_code"].upper(),
                    modifier=values["modifier"].upper() or None,
                    pos_class=PosClass(values["pos_class"]) if values["pos_class"] else None,
                    allowed=values["allowed"],
                    effective_from=date.fromisoformat(values["effective_from"]),
                    effective_to=date.fromisoformat(values["effective_to"])
                    if values["effective_to"]
                    else None,
                )
            )
        except (ValidationError, ValueError, InvalidOperation) as exc:
            raise ValueError(f"fee schedule {name}, line {number}: {_problem(exc)}") from exc
    return FeeSchedule(name=name, rows=tuple(rows))


def _problem(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(
            f"{'.'.join(str(part) for part in error['loc']) or 'row'}: {error['msg']}"
            for error in exc.errors()
        )
    return str(exc)


class ContractMethod(StrEnum):
    FEE_SCHEDULE = "fee_schedule"
    """The payer's own contracted schedule."""
    PERCENT_OF_MEDICARE = "percent_of_medicare"
    """A percentage of the reference (Medicare) schedule."""


class Contract(Model):
    """What a payer agreed to allow, and how far below it a payment may fall before anyone looks."""

    payer_id: str
    method: ContractMethod
    schedule: FeeSchedule = Field(description="the payer's schedule, or the reference one for a percentage")
    percent: Decimal | None = Field(default=None, gt=0, description="percent_of_medicare: e.g. 150")
    tolerance: Money = Field(default=Decimal("1.00"), description="a shortfall up to this is ignored")
    tolerance_percent: Decimal = Field(
        default=Decimal("0"), ge=0, description="or up to this percent of the expected amount, if more"
    )

    @model_validator(mode="after")
    def _percent_with_its_method(self) -> Contract:
        if self.method is ContractMethod.PERCENT_OF_MEDICARE and self.percent is None:
            raise ValueError('a percent_of_medicare contract needs its percent (e.g. percent = "150")')
        if self.method is ContractMethod.FEE_SCHEDULE and self.percent is not None:
            raise ValueError("percent applies only to method percent_of_medicare")
        return self

    def unit_rate(
        self, procedure_code: str, modifiers: Sequence[str], place: PosClass, on: date
    ) -> tuple[Decimal, FeeScheduleRow] | None:
        """The contracted allowed amount per unit and the schedule row it comes from."""
        row = self.schedule.rate(procedure_code, modifiers, place, on)
        if row is None:
            return None
        if self.percent is None:
            return row.allowed, row
        return (row.allowed * self.percent / 100).quantize(CENT), row

    def describe(self, row: FeeScheduleRow) -> str:
        if self.percent is None:
            return f"{self.payer_id} fee schedule {self.schedule.name}: {row.describe()}"
        return f"{self.payer_id} contract {self.percent}% of {self.schedule.name}: {row.describe()}"

    def allows_shortfall(self, expected: Decimal, shortfall: Decimal) -> bool:
        """A shortfall within the tolerance (the larger of the amount and the percentage)."""
        limit = max(self.tolerance, (expected * self.tolerance_percent / 100).quantize(CENT))
        return shortfall <= limit


def contract_from_table(
    payer_id: str, table: Mapping[str, object], schedules: Mapping[str, FeeSchedule], where: str
) -> Contract:
    """A payer's `contract` table from payers.toml: method, schedule (a file name among `schedules`),
    percent, tolerance, tolerance_percent."""
    fields = dict(table)
    schedule_name = fields.pop("schedule", None)
    if not isinstance(schedule_name, str) or schedule_name not in schedules:
        known = ", ".join(sorted(schedules)) or "none"
        raise ValueError(
            f"{where}: contract schedule {schedule_name!r} is not a known fee schedule ({known})"
        )
    try:
        return Contract.model_validate({"payer_id": payer_id, "schedule": schedules[schedule_name], **fields})
    except ValidationError as exc:
        raise ValueError(f"{where}: contract: {_problem(exc)}") from exc
