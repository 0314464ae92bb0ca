"""The sandbox's payers, read from a TOML file.

Schema (every amount is a string so it stays an exact Decimal; every delay is a duration: a number
of seconds, or a string such as ``"45s"``, ``"10m"``, ``"2h"``, ``"14d"``)::

    seed = 7                                # noise and fault decisions derive from it
    [clearinghouse]
    id = "SANDBOXCH"                        # ISA sender of the files we put in the inbox
    name = "CLAIMFLOW SANDBOX CLEARINGHOUSE"
    acknowledgement_delay = "1h"            # 277CA this long after the 837 (the 999 is immediate)

    [faults]                                # shares of HTTP requests (admin endpoints are exempt)
    error_rate = 0.0                        # answered 500/502/503; half of them after the work is done
    throttle_rate = 0.0                     # answered 429 with Retry-After
    retry_after_seconds = 1
    slow_rate = 0.0                         # answered after slow_seconds
    slow_seconds = 2.0
    duplicate_delivery_rate = 0.0           # share of inbox files delivered twice (a second id)

    [[payers]]
    id = "SMPBCX"                           # NM1*PR / 2010BB payer id
    name = "Sandbox Blue Cross Commercial"
    filing_indicator = "BL"                 # SBR09 the payer expects (MB, MC, BL, HM, 12..)
    timely_filing_days = 180                # from the date of service to receipt: CO-29 beyond
    appeal_days = 180                       # from the remittance date: a later appeal is upheld
    adjudication_delay = "14d"              # receipt to 835
    appeal_decision_delay = "30d"           # appeal to decision
    address = { line1 = "PO BOX 3003", city = "CHICAGO", state = "IL", postal_code = "60601" }  # 835 N3/N4
    contact_phone = "8005550199"            # 835 PER*BL
    rules = ["eligibility", "timely_filing", "duplicate", "authorization", "modifiers",
             "bundling", "medical_necessity"]           # denial rules switched on (default: all)

    [payers.fee_schedule]
    default_share = "0.55"                  # allowed = share of the charge for codes not listed
    allowed = { "99213" = "92.00" }         # allowed amount per unit, per procedure code

    [payers.plans.standard]                 # plans by name; a member names one
    copay = "30.00"                         # PR-3 once per claim, on the first line of a copay code
    copay_code_prefixes = ["992"]           # which procedure codes carry the copay
    deductible = "1000.00"                  # PR-1 per member per calendar year, tracked across claims
    coinsurance = "0.20"                    # PR-2 share of what is left after the deductible
    authorization_codes = ["70551"]         # CO-197 unless the claim carries a prior authorization

    [payers.member_rule]                    # any member id matching this is an active member
    pattern = "^XBC\\d{9}$"
    plan = "standard"
    coverage_start = 2020-01-01

    [[payers.members]]                      # explicit members win over the rule
    member_id = "XBC900000001"
    last_name = "INACTIVE"                  # names and birth date are matched when given
    first_name = "IRIS"
    birth_date = 1970-05-01
    coverage_start = 2020-01-01
    coverage_end = 2024-12-31               # none: open-ended
    plan = "standard"

    [[payers.medical_necessity]]            # CO-50 (or CO-11) unless a pointed diagnosis starts
    procedure = "72148"                     # with one of the prefixes
    diagnosis_prefixes = ["M54", "M51", "G55"]
    reason = "50"

    [[payers.bundling]]                     # NCCI-style pair: column 2 is bundled into column 1
    column1 = "20610"                       # on the same day; indicator 1 lets an NCCI-associated
    column2 = "99213"                       # modifier (25, 59, XE, XS, XP, XU, LT, RT..) unbundle it,
    modifier_indicator = "1"                # 0 never does

    [payers.modifiers]                      # CO-4: codes that need one of these modifiers
    required = { "73560" = ["LT", "RT", "50"] }

    [payers.coordination]                   # as secondary/tertiary payer (2320/2430 of the 837)
    method = "standard"                     # or "non_duplication" (see CoordinationMethod)
    crossover_to = ["SMPMGP"]               # forwards its claims to these next payers itself (MA18)

    [payers.noise]                          # shares of claims, decided from the seed
    front_end_rejection_rate = 0.0          # rejected in the 277CA (no 835 follows)
    partial_payment_rate = 0.0              # a paid line reduced (CO-253 government, CO-59 others)
    reversal_rate = 0.0                     # paid, then reversed (CLP02 22) and re-adjudicated
    provider_adjustment_rate = 0.0          # an 835 carries a PLB (L6 interest)
    eligibility_unavailable_rate = 0.0      # a 271 answers AAA*42 (try again later)
    appeal_overturn_share = 1.0             # share of well-argued appeals overturned (not a noise
                                            # "_rate": switching noise off leaves appeals decidable)
"""

from __future__ import annotations

import re
import tomllib
from datetime import date
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

from claimflow.claims.encounter import Address, ClaimFilingIndicator
from claimflow.claims.money import Money

DEFAULT_CONFIG = Path(__file__).with_name("payers.toml")

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$")
_UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(value: Any) -> float:
    """Seconds from a number or a string such as '45s', '10m', '2h', '14d'."""
    if isinstance(value, bool):
        raise ValueError(f"not a duration: {value!r}")
    if isinstance(value, int | float):
        seconds = float(value)
    else:
        match = _DURATION.match(str(value))
        if not match:
            raise ValueError(f"not a duration: {value!r}; write seconds, or e.g. '45s', '10m', '2h', '14d'")
        seconds = float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
    if seconds < 0:
        raise ValueError(f"a duration cannot be negative: {value!r}")
    return seconds


Duration = Annotated[float, BeforeValidator(parse_duration)]
Rate = Annotated[float, Field(ge=0.0, le=1.0)]


class ConfigModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Rule(StrEnum):
    """Denial rules a payer can switch off."""

    ELIGIBILITY = "eligibility"
    TIMELY_FILING = "timely_filing"
    DUPLICATE = "duplicate"
    AUTHORIZATION = "authorization"
    MODIFIERS = "modifiers"
    BUNDLING = "bundling"
    MEDICAL_NECESSITY = "medical_necessity"


class Plan(ConfigModel):
    copay: Money = Decimal("0")
    copay_code_prefixes: list[str] = Field(default_factory=lambda: ["992"])
    deductible: Money = Decimal("0")
    coinsurance: Decimal = Field(default=Decimal("0"), ge=0, le=1)
    authorization_codes: list[str] = Field(default_factory=list)


class Member(ConfigModel):
    member_id: str = Field(min_length=2, max_length=80)
    last_name: str | None = None
    first_name: str | None = None
    birth_date: date | None = None
    coverage_start: date = date(2000, 1, 1)
    coverage_end: date | None = None
    plan: str = "standard"
    group_number: str | None = None

    def covered_on(self, day: date) -> bool:
        return self.coverage_start <= day and (self.coverage_end is None or day <= self.coverage_end)


class MemberRule(ConfigModel):
    pattern: str
    plan: str = "standard"
    coverage_start: date = date(2000, 1, 1)
    group_number: str | None = None

    @model_validator(mode="after")
    def _pattern_compiles(self) -> MemberRule:
        try:
            re.compile(self.pattern)
        except re.error as exc:
            raise ValueError(
                f"member_rule pattern {self.pattern!r} is not a regular expression: {exc}"
            ) from None
        return self


class FeeSchedule(ConfigModel):
    default_share: Decimal = Field(default=Decimal("0.60"), gt=0, le=1)
    allowed: dict[str, Money] = Field(default_factory=dict)


class MedicalNecessity(ConfigModel):
    procedure: str
    diagnosis_prefixes: list[str] = Field(min_length=1)
    reason: str = Field(default="50", pattern=r"^(50|11)$", description="CARC 50 or 11")


class BundlingPair(ConfigModel):
    column1: str
    column2: str
    modifier_indicator: str = Field(default="1", pattern=r"^[019]$")


class ModifierRules(ConfigModel):
    required: dict[str, list[str]] = Field(default_factory=dict)


class CoordinationMethod(StrEnum):
    """How a payer pays as secondary or tertiary, up to what is left after the earlier payers."""

    STANDARD = "standard"
    """Up to its own allowed amount minus what the earlier payers paid."""
    NON_DUPLICATION = "non_duplication"
    """Up to what it would have paid as primary minus what the earlier payers paid."""


class Coordination(ConfigModel):
    method: CoordinationMethod = CoordinationMethod.STANDARD
    crossover_to: list[str] = Field(
        default_factory=list,
        description="payer ids this payer forwards a claim to (COBA crossover) when the claim names "
        "one of them as the next payer",
    )


class Noise(ConfigModel):
    front_end_rejection_rate: Rate = 0.0
    partial_payment_rate: Rate = 0.0
    reversal_rate: Rate = 0.0
    provider_adjustment_rate: Rate = 0.0
    eligibility_unavailable_rate: Rate = 0.0
    appeal_overturn_share: Rate = 1.0


class Payer(ConfigModel):
    id: str = Field(pattern=r"^[A-Za-z0-9]{2,80}$")
    name: str = Field(min_length=1, max_length=60)
    filing_indicator: ClaimFilingIndicator
    timely_filing_days: int = Field(gt=0)
    appeal_days: int = Field(gt=0)
    adjudication_delay: Duration = 14 * 86400.0
    appeal_decision_delay: Duration = 30 * 86400.0
    address: Address = Field(
        default_factory=lambda: Address(
            line1="1 SANDBOX PLAZA", city="COLUMBUS", state="OH", postal_code="43215"
        )
    )
    contact_phone: str = Field(default="8005550199", pattern=r"^\d{10}$")
    rules: list[Rule] = Field(default_factory=lambda: list(Rule))
    fee_schedule: FeeSchedule = Field(default_factory=FeeSchedule)
    plans: dict[str, Plan] = Field(default_factory=lambda: {"standard": Plan()})
    member_rule: MemberRule | None = None
    members: list[Member] = Field(default_factory=list)
    medical_necessity: list[MedicalNecessity] = Field(default_factory=list)
    bundling: list[BundlingPair] = Field(default_factory=list)
    modifiers: ModifierRules = Field(default_factory=ModifierRules)
    noise: Noise = Field(default_factory=Noise)
    coordination: Coordination = Field(default_factory=Coordination)

    @model_validator(mode="after")
    def _plans_exist(self) -> Payer:
        named = [m.plan for m in self.members] + ([self.member_rule.plan] if self.member_rule else [])
        for plan in named:
            if plan not in self.plans:
                raise ValueError(f"payer {self.id}: plan {plan!r} is not defined under [payers.plans]")
        return self

    def applies(self, rule: Rule) -> bool:
        return rule in self.rules

    def find_member(self, member_id: str) -> Member | None:
        """The explicit member, else an active member by the member rule, else None."""
        wanted = member_id.strip().upper()
        for member in self.members:
            if member.member_id.upper() == wanted:
                return member
        rule = self.member_rule
        if rule and re.fullmatch(rule.pattern, wanted):
            return Member(
                member_id=wanted,
                plan=rule.plan,
                coverage_start=rule.coverage_start,
                group_number=rule.group_number,
            )
        return None

    def plan_of(self, member: Member) -> Plan:
        return self.plans[member.plan]

    def allowed_per_unit(self, procedure_code: str, unit_charge: Decimal) -> Decimal:
        listed = self.fee_schedule.allowed.get(procedure_code)
        if listed is not None:
            return listed
        return unit_charge * self.fee_schedule.default_share


class Faults(ConfigModel):
    error_rate: Rate = 0.0
    throttle_rate: Rate = 0.0
    retry_after_seconds: int = Field(default=1, ge=0)
    slow_rate: Rate = 0.0
    slow_seconds: float = Field(default=2.0, ge=0)
    duplicate_delivery_rate: Rate = 0.0


class Clearinghouse(ConfigModel):
    id: str = Field(default="SANDBOXCH", pattern=r"^[A-Za-z0-9]{1,15}$")
    name: str = "CLAIMFLOW SANDBOX CLEARINGHOUSE"
    acknowledgement_delay: Duration = 3600.0


class SandboxConfig(ConfigModel):
    seed: int = 7
    clearinghouse: Clearinghouse = Field(default_factory=Clearinghouse)
    faults: Faults = Field(default_factory=Faults)
    payers: list[Payer] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_payers(self) -> SandboxConfig:
        ids = [payer.id for payer in self.payers]
        repeated = sorted({payer_id for payer_id in ids if ids.count(payer_id) > 1})
        if repeated:
            raise ValueError(f"payer ids appear more than once: {', '.join(repeated)}")
        return self

    def payer(self, payer_id: str) -> Payer | None:
        return next((payer for payer in self.payers if payer.id.upper() == payer_id.strip().upper()), None)


class ConfigError(ValueError):
    """The payer file cannot be used; the message names the file and the field."""


def load_config(path: Path | None = None) -> SandboxConfig:
    """Read a payer file (the shipped payers.toml when no path is given)."""
    source = path or DEFAULT_CONFIG
    try:
        raw = tomllib.loads(source.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read the sandbox payer file {source}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source} is not valid TOML: {exc}") from None
    try:
        return SandboxConfig.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc'])}: {error['msg']}" for error in exc.errors()
        )
        raise ConfigError(f"{source}: {problems} (schema: claimflow.integrations.sandbox.config)") from None
