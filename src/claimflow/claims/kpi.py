"""Revenue-cycle KPIs as HFMA's MAP Keys and the field define them, computed one way for every reader.

The command line (`claimflow kpi`), the demo's summary and the web console's dashboard all call
`compute_kpis`, so the same claims give the same figures everywhere. Pure: no I/O, no clock (`as_of`
is an argument).

Two steps, so a reader with its own source of claims can skip the first:

* `facts_of(snapshot)` reduces a claim's `state` snapshot to the `ClaimFacts` the KPIs need;
* `compute_kpis(facts, as_of)` turns many of them into a `KpiReport`.

The definitions (README, "Revenue-cycle KPIs", says the same):

* **clean-claim rate**: claims that went to the payer once and were accepted (277CA) without a person
  touching them first (no demographics, coverage, coding, scrub or payer-rejection task before their
  first submission), over **all** claims, including those still stopped before submission.
* **first-pass resolution rate**: claims submitted once and paid (adjudicated without a denial) with no
  person touching them (a patient-balance task is the patient's, not rework), over claims submitted.
* **denial rate** (HFMA initial denial rate): claims whose first remittance (835) denied at least part
  of the claim, over claims with a remittance. Contractual (CO-45), patient-responsibility and pending
  adjustments are not denials. `denials_by_category` shares any remittance's denials by category.
* **days in A/R**: the A/R balance over the average daily gross charges of the claims billed with a
  date of service within `period_days` before `as_of`.
* **net collection rate**: payments (payer and patient) over charges less contractual adjustments, over
  the claims billed.
* **A/R aging**: the A/R balance by days since the date of service: 0-30, 31-60, 61-90, 91-120, 120+.

A claim is in A/R once billed (submitted at least once) until it closes or is written off; its balance
is its charge less what the payer and the patient paid and its contractual adjustments. The 835
amounts reach the snapshot summed by claim, so a claim's adjustments count as contractual when its
latest remittance denied nothing; a denied claim's adjustments are the denial, which stays in A/R
until it is recovered or written off.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal

from pydantic import Field

from claimflow.claims.denials import DenialCategory, rule_for_carc
from claimflow.claims.encounter import Model
from claimflow.claims.lifecycle import ClaimSnapshot, ClaimState
from claimflow.claims.money import ZERO, Money, money_sum
from claimflow.claims.tasks import Task, TaskKind

SETTLED_STATES = frozenset({ClaimState.CLOSED, ClaimState.WRITTEN_OFF})
PAID_STATES = frozenset({ClaimState.ADJUDICATED, ClaimState.PATIENT_BILLING, ClaimState.CLOSED})
NOT_DENIALS = frozenset(
    {DenialCategory.CONTRACTUAL, DenialCategory.PATIENT_RESPONSIBILITY, DenialCategory.PENDING}
)
INTERVENTIONS_BEFORE_SUBMISSION = frozenset(
    {
        TaskKind.FIX_INTAKE,
        TaskKind.FIX_DEMOGRAPHICS,
        TaskKind.COVERAGE_ISSUE,
        TaskKind.CODING,
        TaskKind.SCRUB_FAILURE,
        TaskKind.PAYER_REJECTION,
    }
)
"""Tasks that stop a claim on its way to the payer: any of them makes it not clean."""
ADJUSTMENT_CODE = re.compile(r"\b(?:CO|PR|OA|PI|CR)-([A-Z0-9]{1,3})\b")
"""A group-CARC pair as the workflow's 835 timeline entries write it, e.g. CO-50."""
AGING_BUCKETS: tuple[tuple[str, int, int | None], ...] = (
    ("0-30", 0, 30),
    ("31-60", 31, 60),
    ("61-90", 61, 90),
    ("91-120", 91, 120),
    ("120+", 121, None),
)
DEFAULT_PERIOD_DAYS = 90


class ClaimFacts(Model):
    """What the KPIs need to know about one claim."""

    claim_id: str
    state: ClaimState
    service_date: date
    charges: Money
    submitted: bool = Field(description="sent to a payer at least once: billed, so in A/R until settled")
    clean: bool
    first_pass_resolved: bool
    remitted: bool = Field(description="at least one 835 arrived")
    initially_denied: bool = Field(description="the first 835 denied at least part of the claim")
    denial_categories: frozenset[DenialCategory] = frozenset()
    payer_paid: Money = ZERO
    patient_paid: Money = ZERO
    contractual_adjustment: Money = ZERO
    ar_balance: Money = Field(default=ZERO, description="what is still owed on it, 0 unless billed and open")


class CountRate(Model):
    """part of whole, e.g. 87 clean claims of 120."""

    part: int
    whole: int

    @property
    def value(self) -> float | None:
        return self.part / self.whole if self.whole else None

    def __str__(self) -> str:
        return f"{self.part / self.whole:.0%} ({self.part} of {self.whole})" if self.whole else "n/a (none)"


class AmountRate(Model):
    """An amount over an amount, e.g. collected over collectible."""

    part: Money
    whole: Money

    @property
    def value(self) -> float | None:
        return float(self.part / self.whole) if self.whole else None

    def __str__(self) -> str:
        return (
            f"{self.part / self.whole:.1%} (${self.part:,} of ${self.whole:,})"
            if self.whole
            else "n/a (none)"
        )


class AgingBucket(Model):
    label: str = Field(description="days since the date of service, e.g. 31-60")
    min_days: int
    max_days: int | None = Field(description="None: no upper bound")
    claims: int
    balance: Money


class KpiReport(Model):
    as_of: date
    claims: int
    clean_claim_rate: CountRate
    first_pass_resolution_rate: CountRate
    denial_rate: CountRate
    denials_by_category: dict[DenialCategory, CountRate]
    days_in_ar: Decimal | None = Field(description="None when nothing was billed in the period")
    period_days: int = Field(description="the days of charges days in A/R averages over")
    net_collection_rate: AmountRate
    charges: Money = Field(description="gross charges of the claims billed")
    payer_paid: Money
    patient_paid: Money
    contractual_adjustments: Money
    ar_balance: Money
    ar_aging: list[AgingBucket]


def denial_categories(snapshot: ClaimSnapshot, first_only: bool = False) -> frozenset[DenialCategory]:
    """The denial categories of the adjustments on the claim's 835s (or on its first one only)."""
    found: set[DenialCategory] = set()
    for entry in snapshot.timeline:
        if entry.step != "835":
            continue
        for carc in ADJUSTMENT_CODE.findall(entry.outcome):
            rule = rule_for_carc(carc)
            if rule is not None and rule.category not in NOT_DENIALS:
                found.add(rule.category)
        if first_only:
            break
    return frozenset(found)


def _first_submission(snapshot: ClaimSnapshot) -> datetime | None:
    return next((entry.at for entry in snapshot.timeline if entry.step == "submit"), None)


def _touched_before(tasks: Iterable[Task], moment: datetime | None) -> bool:
    return any(
        task.kind in INTERVENTIONS_BEFORE_SUBMISSION and (moment is None or task.created_at <= moment)
        for task in tasks
    )


def _latest_remittance_denied(snapshot: ClaimSnapshot) -> bool:
    remittances = [entry for entry in snapshot.timeline if entry.step == "835"]
    if not remittances:
        return False
    latest = snapshot.model_copy(update={"timeline": remittances[-1:]})
    return bool(denial_categories(latest))


def facts_of(snapshot: ClaimSnapshot) -> ClaimFacts:
    """The KPI facts of one claim. The snapshot must carry its encounter (for the date of service)."""
    if snapshot.encounter is None:
        raise ValueError(
            f"{snapshot.claim_id}'s state carries no encounter, so its date of service is unknown: "
            "the worker answering it predates claimflow's KPIs; restart the worker on this version"
        )
    submitted = snapshot.submissions > 0
    remitted = any(entry.step == "835" for entry in snapshot.timeline)
    initially_denied = bool(denial_categories(snapshot, first_only=True))
    contractual = ZERO if _latest_remittance_denied(snapshot) else snapshot.adjusted
    open_and_billed = submitted and snapshot.state not in SETTLED_STATES
    owed = snapshot.billed - snapshot.paid - snapshot.patient_paid - contractual
    return ClaimFacts(
        claim_id=snapshot.claim_id,
        state=snapshot.state,
        service_date=snapshot.encounter.service_date,
        charges=snapshot.billed,
        submitted=submitted,
        clean=(
            snapshot.submissions == 1
            and snapshot.accepted_on is not None
            and not _touched_before(snapshot.tasks, _first_submission(snapshot))
        ),
        first_pass_resolved=(
            snapshot.submissions == 1
            and snapshot.state in PAID_STATES
            and not initially_denied
            and all(task.kind is TaskKind.PATIENT_BALANCE for task in snapshot.tasks)
        ),
        remitted=remitted,
        initially_denied=initially_denied,
        denial_categories=denial_categories(snapshot),
        payer_paid=snapshot.paid,
        patient_paid=snapshot.patient_paid,
        contractual_adjustment=contractual,
        ar_balance=max(owed, ZERO) if open_and_billed else ZERO,
    )


def _age_bucket(days: int) -> int:
    for index, (_, low, high) in enumerate(AGING_BUCKETS):
        if days >= low and (high is None or days <= high):
            return index
    return 0  # a date of service after as_of (a future-dated visit) is as young as it gets


class KpiTotals(Model):
    """What `compute_kpis` counts and sums over claims before it takes any rate: `totals_of` here,
    or the same sums taken by a database over stored facts (integrations/ledger/readmodel.py, proven
    equal by tests/ledger/test_readmodel_kpis.py). Totals of disjoint groups add up (`+`), and
    `report_of` turns totals into the report, so every reader shares the formulas."""

    claims: int = 0
    clean: int = 0
    billed: int = Field(default=0, description="claims submitted at least once")
    first_pass_resolved: int = Field(default=0, description="of the billed claims")
    remitted: int = 0
    initially_denied: int = Field(default=0, description="of the remitted claims")
    denials_by_category: dict[DenialCategory, int] = Field(
        default_factory=dict, description="remitted claims with a denial of each category"
    )
    charges: Money = Field(default=ZERO, description="of the billed claims, as the next three")
    payer_paid: Money = ZERO
    patient_paid: Money = ZERO
    contractual_adjustments: Money = ZERO
    period_charges: Money = Field(
        default=ZERO, description="charges of the billed claims with a date of service in the period"
    )
    ar_balance: Money = ZERO
    aging_claims: tuple[int, ...] = (0,) * len(AGING_BUCKETS)
    aging_balance: tuple[Money, ...] = (ZERO,) * len(AGING_BUCKETS)

    def __add__(self, other: KpiTotals) -> KpiTotals:
        categories = Counter(self.denials_by_category)
        categories.update(other.denials_by_category)
        return KpiTotals(
            claims=self.claims + other.claims,
            clean=self.clean + other.clean,
            billed=self.billed + other.billed,
            first_pass_resolved=self.first_pass_resolved + other.first_pass_resolved,
            remitted=self.remitted + other.remitted,
            initially_denied=self.initially_denied + other.initially_denied,
            denials_by_category=dict(categories),
            charges=self.charges + other.charges,
            payer_paid=self.payer_paid + other.payer_paid,
            patient_paid=self.patient_paid + other.patient_paid,
            contractual_adjustments=self.contractual_adjustments + other.contractual_adjustments,
            period_charges=self.period_charges + other.period_charges,
            ar_balance=self.ar_balance + other.ar_balance,
            aging_claims=tuple(a + b for a, b in zip(self.aging_claims, other.aging_claims, strict=True)),
            aging_balance=tuple(a + b for a, b in zip(self.aging_balance, other.aging_balance, strict=True)),
        )


def in_period(service_date: date, as_of: date, period_days: int) -> bool:
    """A date of service within the `period_days` days up to `as_of` (days in A/R's charges)."""
    return 0 <= (as_of - service_date).days < period_days


def totals_of(facts: Iterable[ClaimFacts], as_of: date, period_days: int = DEFAULT_PERIOD_DAYS) -> KpiTotals:
    """The counts and sums `compute_kpis` takes its rates of."""
    claims = list(facts)
    billed = [claim for claim in claims if claim.submitted]
    remitted = [claim for claim in claims if claim.remitted]
    categories: Counter[DenialCategory] = Counter(
        category for claim in remitted for category in claim.denial_categories
    )
    aging_claims = [0] * len(AGING_BUCKETS)
    aging_balance = [ZERO] * len(AGING_BUCKETS)
    for claim in claims:
        if claim.ar_balance > ZERO:
            index = _age_bucket((as_of - claim.service_date).days)
            aging_claims[index] += 1
            aging_balance[index] += claim.ar_balance
    return KpiTotals(
        claims=len(claims),
        clean=sum(claim.clean for claim in claims),
        billed=len(billed),
        first_pass_resolved=sum(claim.first_pass_resolved for claim in billed),
        remitted=len(remitted),
        initially_denied=sum(claim.initially_denied for claim in remitted),
        denials_by_category=dict(categories),
        charges=money_sum(claim.charges for claim in billed),
        payer_paid=money_sum(claim.payer_paid for claim in billed),
        patient_paid=money_sum(claim.patient_paid for claim in billed),
        contractual_adjustments=money_sum(claim.contractual_adjustment for claim in billed),
        period_charges=money_sum(
            claim.charges for claim in billed if in_period(claim.service_date, as_of, period_days)
        ),
        ar_balance=money_sum(claim.ar_balance for claim in claims),
        aging_claims=tuple(aging_claims),
        aging_balance=tuple(aging_balance),
    )


def report_of(totals: KpiTotals, as_of: date, period_days: int = DEFAULT_PERIOD_DAYS) -> KpiReport:
    """The KPIs of these totals on `as_of` (the totals taken with the same `period_days`)."""
    if period_days < 1:
        raise ValueError(f"period_days must be at least 1, not {period_days}")
    daily_charges = totals.period_charges / period_days
    remitted = totals.remitted
    return KpiReport(
        as_of=as_of,
        claims=totals.claims,
        clean_claim_rate=CountRate(part=totals.clean, whole=totals.claims),
        first_pass_resolution_rate=CountRate(part=totals.first_pass_resolved, whole=totals.billed),
        denial_rate=CountRate(part=totals.initially_denied, whole=remitted),
        denials_by_category={
            category: CountRate(part=count, whole=remitted)
            for category, count in sorted(totals.denials_by_category.items())
            if count
        },
        days_in_ar=(totals.ar_balance / daily_charges).quantize(Decimal("0.1")) if daily_charges else None,
        period_days=period_days,
        net_collection_rate=AmountRate(
            part=totals.payer_paid + totals.patient_paid,
            whole=totals.charges - totals.contractual_adjustments,
        ),
        charges=totals.charges,
        payer_paid=totals.payer_paid,
        patient_paid=totals.patient_paid,
        contractual_adjustments=totals.contractual_adjustments,
        ar_balance=totals.ar_balance,
        ar_aging=[
            AgingBucket(label=label, min_days=low, max_days=high, claims=count, balance=balance)
            for (label, low, high), count, balance in zip(
                AGING_BUCKETS, totals.aging_claims, totals.aging_balance, strict=True
            )
        ],
    )


def compute_kpis(
    facts: Iterable[ClaimFacts], as_of: date, period_days: int = DEFAULT_PERIOD_DAYS
) -> KpiReport:
    """The KPIs of these claims on `as_of`; days in A/R averages charges over `period_days`."""
    if period_days < 1:
        raise ValueError(f"period_days must be at least 1, not {period_days}")
    return report_of(totals_of(facts, as_of, period_days), as_of, period_days)


def kpis_of_snapshots(
    snapshots: Iterable[ClaimSnapshot], as_of: date, period_days: int = DEFAULT_PERIOD_DAYS
) -> KpiReport:
    """`compute_kpis` over claims' `state` snapshots."""
    return compute_kpis((facts_of(snapshot) for snapshot in snapshots), as_of, period_days)
