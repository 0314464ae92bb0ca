"""Payer profiles: what our side knows of each payer's rules, found by payer id.

A payer without a profile gets the defaults of its kind of coverage, told by the claim filing indicator
(SBR09) or by the FHIR Coverage.type code in the Source of Payment Typology (PHDSC SOPT).
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from enum import StrEnum
from importlib.resources import files
from typing import Any

from pydantic import Field, ValidationError

from claimflow.claims.contracts import Contract, FeeSchedule, contract_from_table, read_fee_schedule
from claimflow.claims.digits import is_digits
from claimflow.claims.encounter import Address, ClaimFilingIndicator, Model
from claimflow.claims.money import Money
from claimflow.claims.payer_edits import PayerEdit

ProcedureCode = str


class CoverageKind(StrEnum):
    MEDICARE = "medicare"
    MEDICAID = "medicaid"
    OTHER_FEDERAL = "other_federal"
    COMMERCIAL = "commercial"


_KIND_OF_INDICATOR = {
    ClaimFilingIndicator.MEDICARE_A: CoverageKind.MEDICARE,
    ClaimFilingIndicator.MEDICARE_B: CoverageKind.MEDICARE,
    ClaimFilingIndicator.HMO_MEDICARE_RISK: CoverageKind.MEDICARE,
    ClaimFilingIndicator.MEDICAID: CoverageKind.MEDICAID,
    ClaimFilingIndicator.CHAMPUS: CoverageKind.OTHER_FEDERAL,
    ClaimFilingIndicator.VETERANS: CoverageKind.OTHER_FEDERAL,
    ClaimFilingIndicator.OTHER_FEDERAL: CoverageKind.OTHER_FEDERAL,
}


def coverage_kind(indicator: ClaimFilingIndicator) -> CoverageKind:
    return _KIND_OF_INDICATOR.get(indicator, CoverageKind.COMMERCIAL)


# Source of Payment Typology (PHDSC, v9): the most specific prefix wins.
_SOPT_PREFIXES: tuple[tuple[str, ClaimFilingIndicator], ...] = (
    ("11", ClaimFilingIndicator.HMO_MEDICARE_RISK),  # Medicare managed care (Medicare Advantage)
    ("1", ClaimFilingIndicator.MEDICARE_B),
    ("2", ClaimFilingIndicator.MEDICAID),
    ("311", ClaimFilingIndicator.CHAMPUS),  # TRICARE
    ("32", ClaimFilingIndicator.VETERANS),
    ("3", ClaimFilingIndicator.OTHER_FEDERAL),
    ("511", ClaimFilingIndicator.HMO),
    ("512", ClaimFilingIndicator.PPO),
    ("513", ClaimFilingIndicator.POS),
    ("514", ClaimFilingIndicator.EPO),
    ("611", ClaimFilingIndicator.HMO),
    ("612", ClaimFilingIndicator.PPO),
    ("613", ClaimFilingIndicator.POS),
    ("6", ClaimFilingIndicator.BLUE_CROSS),
    ("5", ClaimFilingIndicator.COMMERCIAL),
    ("7", ClaimFilingIndicator.COMMERCIAL),
    ("8", ClaimFilingIndicator.SELF_PAY),
    ("95", ClaimFilingIndicator.WORKERS_COMP),
    ("9", ClaimFilingIndicator.MUTUALLY_DEFINED),
    ("4", ClaimFilingIndicator.OTHER_NON_FEDERAL),
)


def filing_indicator_for_sopt(code: str, *, institutional: bool = False) -> ClaimFilingIndicator:
    """The claim filing indicator for a Source of Payment Typology code (FHIR Coverage.type).

    Medicare fee-for-service is Part A (MA) on an institutional claim and Part B (MB) otherwise.
    """
    code = code.strip()
    if not is_digits(code):
        raise ValueError(
            f"Source of Payment Typology code {code!r} is not numeric "
            "(e.g. 1 Medicare, 2 Medicaid, 5 private insurance)"
        )
    for prefix, indicator in _SOPT_PREFIXES:
        if code.startswith(prefix):
            if indicator is ClaimFilingIndicator.MEDICARE_B and institutional:
                return ClaimFilingIndicator.MEDICARE_A
            return indicator
    raise ValueError(f"Source of Payment Typology code {code!r} is not in the typology (1-9)")


class AppealLevel(Model):
    level: int = Field(ge=1)
    name: str
    window_days: int = Field(gt=0, description="days from the decision being appealed")
    min_amount: Money | None = Field(default=None, description="amount in controversy needed, if any")


class PayerProfile(Model):
    payer_id: str = Field(min_length=2, max_length=80)
    name: str
    filing_indicator: ClaimFilingIndicator
    timely_filing_days: int = Field(gt=0, description="from the date of service")
    appeal_days: int = Field(gt=0, description="from the remittance date")
    corrected_claim_days: int = Field(gt=0, description="replacement claims, from the remittance date")
    sex_edits: bool
    authorization_codes: frozenset[ProcedureCode] = frozenset()
    address: Address | None = None
    coding_sla_days: int = 3
    ack_999_hours: int = 24
    ack_277ca_days: int = 3
    expected_adjudication_days: int = 21
    status_inquiry_every_days: int = 7
    status_inquiries_max: int = 3
    statement_cycle_days: int = 30
    reopen_window_days: int = Field(
        default=90, gt=0, description="how long a closed claim listens for reversals and re-adjudications"
    )
    appeal_levels: tuple[AppealLevel, ...] = ()
    edits: tuple[PayerEdit, ...] = Field(default=(), description="edits this payer adds (claims/payer_edits)")
    relaxed_rules: frozenset[str] = Field(
        default=frozenset(), description="scrub rule ids this payer does not apply: errors become warnings"
    )
    taxonomy_required: bool = Field(default=False, description="billing provider taxonomy (PRV) required")
    is_default: bool = Field(default=False, description="a fallback by coverage kind, not a known payer")

    @property
    def kind(self) -> CoverageKind:
        return coverage_kind(self.filing_indicator)


class PayerDirectory(Model):
    profiles: dict[str, PayerProfile]
    defaults: dict[CoverageKind, PayerProfile]
    contracts: dict[str, Contract] = Field(
        default_factory=dict, description="contracted fee schedules by payer id (claims/contracts)"
    )

    def get(self, payer_id: str) -> PayerProfile | None:
        return self.profiles.get(payer_id.strip().upper())

    def contract(self, payer_id: str) -> Contract | None:
        """The payer's contract, if the practice recorded one (underpayments are checked against it)."""
        return self.contracts.get(payer_id.strip().upper())

    def profile_for(self, payer_id: str, filing_indicator: ClaimFilingIndicator) -> PayerProfile:
        """The payer's profile, or the defaults of its coverage kind under this payer id and name."""
        known = self.get(payer_id)
        if known is not None:
            return known
        default = self.defaults[coverage_kind(filing_indicator)]
        return default.model_copy(update={"payer_id": payer_id, "filing_indicator": filing_indicator})


ScheduleReader = Callable[[str], str]
"""A fee schedule's CSV text by the path payers.toml gives it (relative to the TOML file)."""


def load_profiles(
    text: str,
    *,
    commercial_timely_filing_days: int | None = None,
    read_schedule: ScheduleReader | None = None,
) -> PayerDirectory:
    """Read a payer directory from TOML text (layout: claims/data/payers.toml).

    `[kinds.<kind>]` tables hold the defaults of each coverage kind; each `[[payers]]` entry names its
    `kind` and overrides what differs. `commercial_timely_filing_days` overrides the commercial default.
    A payer's `contract` table names a fee schedule file, read by `read_schedule` (a directory with
    contracts needs one).
    """
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"payer directory is not valid TOML: {exc}") from exc
    kinds: dict[str, Any] = document.get("kinds", {})
    missing = [kind.value for kind in CoverageKind if kind.value not in kinds]
    if missing:
        raise ValueError(
            f"payer directory lacks [kinds.{missing[0]}] defaults (needed: {', '.join(missing)})"
        )
    if commercial_timely_filing_days is not None:
        kinds["commercial"]["timely_filing_days"] = commercial_timely_filing_days
    defaults = {
        kind: _profile(
            {"payer_id": "DEFAULT", "is_default": True, **kinds[kind.value]}, f"[kinds.{kind.value}]"
        )
        for kind in CoverageKind
    }
    profiles: dict[str, PayerProfile] = {}
    tables: list[tuple[str, Any, str]] = []
    for index, entry in enumerate(document.get("payers", [])):
        where = f"[[payers]] #{index + 1} ({entry.get('payer_id', 'no payer_id')})"
        kind = entry.get("kind")
        if kind not in kinds:
            raise ValueError(f"{where}: kind {kind!r} is not one of {', '.join(kinds)}")
        fields = {
            **kinds[kind],
            **{key: value for key, value in entry.items() if key not in {"kind", "contract"}},
        }
        profile = _profile(fields, where)
        if profile.payer_id in profiles:
            raise ValueError(f"{where}: payer id {profile.payer_id} is listed twice")
        profiles[profile.payer_id] = profile
        if "contract" in entry:
            tables.append((profile.payer_id, entry["contract"], where))
    schedules: dict[str, FeeSchedule] = {}  # the profiles are checked first, then their contracts
    contracts = {
        payer_id: _contract(payer_id, table, schedules, read_schedule, where)
        for payer_id, table, where in tables
    }
    return PayerDirectory(profiles=profiles, defaults=defaults, contracts=contracts)


def _contract(
    payer_id: str,
    table: Any,
    schedules: dict[str, FeeSchedule],
    read_schedule: ScheduleReader | None,
    where: str,
) -> Contract:
    if not isinstance(table, dict):
        raise ValueError(f"{where}: contract must be a table (method, schedule, percent, tolerance)")
    name = table.get("schedule")
    if isinstance(name, str) and name not in schedules:
        if read_schedule is None:
            raise ValueError(f"{where}: contract schedule {name!r} cannot be read here (no schedule reader)")
        try:
            text = read_schedule(name)
        except OSError as exc:
            raise ValueError(f"{where}: contract schedule {name!r} cannot be read: {exc}") from exc
        schedules[name] = read_fee_schedule(name, text)
    return contract_from_table(payer_id, table, schedules, where)


def _profile(fields: dict[str, Any], where: str) -> PayerProfile:
    try:
        return PayerProfile.model_validate(fields)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc'])}: {error['msg']}" for error in exc.errors()
        )
        raise ValueError(f"payer directory {where}: {problems}") from exc


def default_directory(*, commercial_timely_filing_days: int | None = None) -> PayerDirectory:
    """The directory shipped in the package (claims/data/payers.toml and the fee schedules in
    claims/data/fee_schedules; reads package data only)."""
    data = files("claimflow.claims").joinpath("data")
    text = data.joinpath("payers.toml").read_text(encoding="utf-8")

    def read_schedule(name: str) -> str:
        return data.joinpath(*name.split("/")).read_text(encoding="utf-8")

    return load_profiles(
        text, commercial_timely_filing_days=commercial_timely_filing_days, read_schedule=read_schedule
    )
