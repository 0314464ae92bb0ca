"""Denials: what each adjustment on an 835 means for the practice, and what to do about it.

Every CARC of the X12 list (claims/data/carc_rarc.csv, see claims/carc.py) maps to a category and
an action: the common codes through explicit entries, every other code through rules over its
published description (first rule that matches wins). Remark codes (RARCs) sharpen the generic
CARCs (16, 96, 252, A1, ...), which the payer may only send with a remark saying what is wrong.

The group code matters: PR-anything is the patient's share; a CARC that would be the patient's share
under CO means the practice may not bill the patient for it.

`classify(payment)` reads one CLP loop: claim-level and line-level adjustments, partial denials,
reversals (CLP02 22) and re-adjudications, and recommends one action with the amount at stake.
"""

from __future__ import annotations

import re
from enum import IntEnum, StrEnum

from pydantic import Field

from claimflow.claims.carc import CodeType, UnknownCodeError, lookup
from claimflow.claims.encounter import Model
from claimflow.claims.money import ZERO, Money, money_sum
from claimflow.claims.remittance import Adjustment, AdjustmentGroup, ClaimPayment, ClaimStatusCode


class DenialCategory(StrEnum):
    CORRECT_AND_RESUBMIT = "correct_and_resubmit"
    COVERAGE = "coverage"
    """Re-verify coverage or bill another payer."""
    APPEAL = "appeal"
    CONTRACTUAL = "contractual"
    PATIENT_RESPONSIBILITY = "patient_responsibility"
    WRITE_OFF = "write_off"
    """A write-off candidate: nothing a letter or a corrected claim can recover, as far as we know."""
    PENDING = "pending"
    """The payer has not decided yet (review, investigation, litigation, grace period)."""


class DenialAction(IntEnum):
    """What to do, in the order a biller should do it when a claim carries several (lowest first):
    a claim sent to the wrong payer is moved before anything is corrected, and a corrected claim
    re-adjudicates every line, so it goes out before an appeal is written."""

    BILL_OTHER_PAYER = 1
    VERIFY_COVERAGE = 2
    CORRECT_AND_RESUBMIT = 3
    SEND_DOCUMENTATION = 4
    APPEAL = 5
    REPOST = 6
    """A reversal: post the take-back and the re-adjudicated claim that follows it."""
    CHECK_ORIGINAL_CLAIM = 7
    """A duplicate or an earlier payment: the original claim carries the money."""
    REVIEW_WRITE_OFF = 8
    WAIT = 9
    BILL_PATIENT = 10
    NONE = 11

    @property
    def label(self) -> str:
        return self.name.lower()


class LetterCategory(StrEnum):
    """The appeal letter a denial calls for (one template each, letters/templates/appeal_*.html.j2)."""

    MEDICAL_NECESSITY = "medical_necessity"
    BUNDLING = "bundling"
    TIMELY_FILING = "timely_filing"
    AUTHORIZATION = "authorization"
    CODING = "coding"


class CodeRule(Model):
    category: DenialCategory
    action: DenialAction
    letter: LetterCategory | None = Field(default=None, description="for appeals: the letter to write")
    needs: str = Field(default="", description="what the biller must supply or check")
    needs_remark: bool = Field(default=False, description="a generic code: its remark says what is wrong")


def _rule(
    category: DenialCategory,
    action: DenialAction,
    letter: LetterCategory | None = None,
    needs: str = "",
    *,
    needs_remark: bool = False,
) -> CodeRule:
    return CodeRule(category=category, action=action, letter=letter, needs=needs, needs_remark=needs_remark)


_C = DenialCategory
_A = DenialAction
_L = LetterCategory

_PATIENT = _rule(_C.PATIENT_RESPONSIBILITY, _A.BILL_PATIENT, needs="bill the patient for their share")
_CONTRACTUAL = _rule(_C.CONTRACTUAL, _A.NONE)
_CORRECT = _rule(_C.CORRECT_AND_RESUBMIT, _A.CORRECT_AND_RESUBMIT, needs="correct the claim and resubmit it")

EXPLICIT: dict[str, CodeRule] = {
    "1": _PATIENT,
    "2": _PATIENT,
    "3": _PATIENT,
    "4": _rule(
        _C.CORRECT_AND_RESUBMIT, _A.CORRECT_AND_RESUBMIT, needs="fix the modifier and send a replacement"
    ),
    "11": _rule(
        _C.CORRECT_AND_RESUBMIT,
        _A.CORRECT_AND_RESUBMIT,
        needs="point the line to the diagnosis that supports it and send a replacement",
    ),
    "16": _rule(
        _C.CORRECT_AND_RESUBMIT,
        _A.CORRECT_AND_RESUBMIT,
        needs="supply what the remark code names and resubmit",
        needs_remark=True,
    ),
    "18": _rule(_C.WRITE_OFF, _A.CHECK_ORIGINAL_CLAIM, needs="the original claim carries this service"),
    "22": _rule(
        _C.COVERAGE, _A.BILL_OTHER_PAYER, needs="bill the primary payer first (coordination of benefits)"
    ),
    "23": _CONTRACTUAL,
    "24": _CONTRACTUAL,
    "27": _rule(_C.COVERAGE, _A.VERIFY_COVERAGE, needs="re-verify coverage on the date of service"),
    "29": _rule(
        _C.APPEAL,
        _A.APPEAL,
        _L.TIMELY_FILING,
        needs="proof of timely filing: the 999 and 277CA acceptance dates",
    ),
    "31": _rule(_C.COVERAGE, _A.VERIFY_COVERAGE, needs="check the member id and name against the card"),
    "45": _CONTRACTUAL,
    "50": _rule(
        _C.APPEAL,
        _A.APPEAL,
        _L.MEDICAL_NECESSITY,
        needs="medical records showing medical necessity",
    ),
    "59": _CONTRACTUAL,
    "96": _rule(
        _C.WRITE_OFF,
        _A.REVIEW_WRITE_OFF,
        needs="non-covered: bill the patient only with a signed waiver (ABN), else write off",
        needs_remark=True,
    ),
    "97": _rule(
        _C.APPEAL,
        _A.APPEAL,
        _L.BUNDLING,
        needs="documentation that the service was separate and distinct (modifier 59/X{EPSU} or 25)",
    ),
    "109": _rule(_C.COVERAGE, _A.BILL_OTHER_PAYER, needs="send the claim to the correct payer"),
    "119": _rule(_C.WRITE_OFF, _A.REVIEW_WRITE_OFF, needs="benefit maximum reached"),
    "150": _rule(
        _C.APPEAL, _A.APPEAL, _L.CODING, needs="documentation supporting the level of service billed"
    ),
    "151": _rule(_C.APPEAL, _A.APPEAL, _L.MEDICAL_NECESSITY, needs="records supporting the frequency"),
    "190": _rule(
        _C.COVERAGE,
        _A.BILL_OTHER_PAYER,
        needs="bill the skilled nursing facility (consolidated billing)",
    ),
    "197": _rule(
        _C.APPEAL,
        _A.APPEAL,
        _L.AUTHORIZATION,
        needs="the authorization number obtained before the service",
    ),
    "213": _rule(_C.WRITE_OFF, _A.REVIEW_WRITE_OFF, needs="self-referral prohibition: review for write-off"),
    "218": _CONTRACTUAL,
    "204": _rule(_C.WRITE_OFF, _A.REVIEW_WRITE_OFF, needs="not a benefit of the patient's plan"),
    "234": _rule(
        _C.APPEAL, _A.APPEAL, _L.BUNDLING, needs="documentation of a separate service", needs_remark=True
    ),
    "252": _rule(
        _C.CORRECT_AND_RESUBMIT,
        _A.SEND_DOCUMENTATION,
        needs="send the attachment the remark code names",
        needs_remark=True,
    ),
    "253": _CONTRACTUAL,
    "281": _CONTRACTUAL,
    "A1": _rule(_C.WRITE_OFF, _A.REVIEW_WRITE_OFF, needs="read the remark code", needs_remark=True),
}
"""The common codes, decided by hand (the rest follow the description rules below)."""

_DESCRIPTION_RULES: tuple[tuple[str, CodeRule], ...] = (
    # Patient's share first: "Deductible", "Coinsurance", "Co-payment", set-aside arrangements.
    (
        r"deductible|coinsurance|co-?payment|patient interest|spending account|patient liability"
        r"|patient is responsible|payment made to patient|patient refund|low income subsidy",
        _PATIENT,
    ),
    # Not decided yet.
    (
        r"pending|under investigation|undetermined|disposition of|portion of payment deferred"
        r"|due to litigation|separate correspondence",
        _rule(_C.PENDING, _A.WAIT, needs="wait for the payer's decision"),
    ),
    (r"duplicate|previously paid", EXPLICIT["18"]),
    # Appeal letters, by what the payer disputes.
    (
        r"time limit for filing|late filing",
        EXPLICIT["29"],
    ),
    (
        r"authori[sz]ation|pre-?certification|referral|not (?:provided or )?authorized",
        _rule(_C.APPEAL, _A.APPEAL, _L.AUTHORIZATION, needs="the authorization or referral on file"),
    ),
    (
        r"included in the (?:payment|allowance)|not paid separately|mutually exclusive|not compatible with"
        r"|component of the basic procedure|incidental|only one visit",
        _rule(_C.APPEAL, _A.APPEAL, _L.BUNDLING, needs="documentation that the service was separate"),
    ),
    (
        r"level of service|new patient|level of care|procedure code was incorrect|unlisted",
        _rule(_C.APPEAL, _A.APPEAL, _L.CODING, needs="documentation supporting the code billed"),
    ),
    (
        r"medical necessity|experimental|investigational|proven to be effective|does not support"
        r"|emergent|program guidelines|review organization|alternat\w+ services"
        r"|inappropriate or invalid place"
        r"|treatment guideline|not documented|medical record|exacerbation",
        _rule(_C.APPEAL, _A.APPEAL, _L.MEDICAL_NECESSITY, needs="medical records supporting the service"),
    ),
    # Wrong payer, or no coverage: move the claim or check the coverage.
    (
        r"another payer|other payer|not our patient|must file|coordination of benefits|correct payer"
        r"|proper payer|liability of the (?:worker|no-fault)|liability carrier"
        r"|not the liability of the workers"
        r"|non-?compensable|dental plan|vision plan|pharmacy plan|behavioral health plan|hearing plan"
        r"|medical plan|managed care plan|hospice|medicare part d|custody|subrogation",
        _rule(_C.COVERAGE, _A.BILL_OTHER_PAYER, needs="find the responsible payer and bill it"),
    ),
    (
        r"provider (?:is )?not eligible|provider was not certified"
        r"|not eligible to (?:refer|prescribe|perform)"
        r"|provider not authorized|attending provider is not eligible",
        _rule(
            _C.CORRECT_AND_RESUBMIT,
            _A.CORRECT_AND_RESUBMIT,
            needs="check the provider named on the claim (enrolment, credentialing, NPI)",
        ),
    ),
    (
        r"coverage (?:not in effect|terminated)|prior to coverage|after coverage|lapse in coverage|insured"
        r"|eligibility|eligible dependent|ineligible periods|dependent|newborn|identity|spend down|waiting"
        r"|residency|election not in effect",
        _rule(_C.COVERAGE, _A.VERIFY_COVERAGE, needs="re-verify the patient's coverage (270/271)"),
    ),
    # Fixable on the claim: a replacement claim with the right data.
    (
        r"inconsistent|lacks|missing|invalid|not matched|submission/billing error|information|attachment"
        r"|documentation|date of death|date of birth|billing date predates|spans|interim bills|resubmit"
        r"|do(?:es)? not match|fee schedule/fee database|prescri|qualifying|related or qualifying"
        r"|rent/purchase|type of bill|national provider identifier|does not indicate|does not identify",
        _CORRECT,
    ),
    (
        r"^payment denied based on|reduced or denied based on",
        _rule(_C.WRITE_OFF, _A.REVIEW_WRITE_OFF, needs="denied under the jurisdiction's rules: review"),
    ),
    # Contract terms and payment arithmetic: nothing to do.
    (
        r"fee schedule|fee arrangement|contract|discount|capitation|withh?old|sequestration|reduction"
        r"|outlier|education adjustment|disproportionate share|capital|interest (?:payment|adjustment)"
        r"|tax|surcharge|fee\b"
        r"|excess of charges|paid in full|claim level adjustments|incentive|bonus|multiple or concurrent"
        r"|drg|transfer amount|allowance|adjustment|predetermination|covered days|covered visits"
        r"|covered charges|cost report|pip days|total visits|discharges|administrative days|statutory"
        r"|reasonable and customary|apportionment|cost\.|cost$|major medical|reserve days|entitlement"
        r"|primary payer amount|additional payment|penalty|funding agreement|gramm-rudman|regulatory"
        r"|reporting only|medicaid aca|processed under|sales tax|dispensing|ingredient|professional fees"
        r"|technical fees|correction to a prior claim|denial reversed|refund|alternate benefit"
        r"|discontinued or reduced|performance program|remuneration|liability met|preferred provider"
        r"|jurisdiction|no available or correlating",
        _CONTRACTUAL,
    ),
    # Everything the plan simply does not pay for.
    (
        r"not covered|non-?covered|benefit maximum|lifetime|exclusion|excluded|war\b|terrorism"
        r"|outside (?:of )?the united states|refused|relative|household|pre-existing|readmission"
        r"|hospital-acquired|postponed|canceled|not followed|time limits not met|maintained|not payable"
        r"|not (?:certified|eligible)|not approved|payment is (?:denied|adjusted)|only covered"
        r"|network|non-?compensable|litigation|not paid|not eligible|no payment|exceeds|extent of injury"
        r"|plan|anesthesia|subluxation|financial (?:relationship|interest)|self referral|denied|closest"
        r"|failure to (?:obtain|follow)|advance indemnification|payment made to|requirement not met"
        r"|furnished by another",
        _rule(_C.WRITE_OFF, _A.REVIEW_WRITE_OFF, needs="not payable under the plan: review for write-off"),
    ),
)
_COMPILED = tuple((re.compile(pattern, re.IGNORECASE), rule) for pattern, rule in _DESCRIPTION_RULES)

UNKNOWN_CODE = _rule(
    _C.WRITE_OFF,
    _A.REVIEW_WRITE_OFF,
    needs="code not in the X12 list shipped with claimflow: read the payer's explanation",
)


def rule_from_description(description: str) -> CodeRule | None:
    """The rule whose pattern the published description matches first, if any."""
    return next((rule for pattern, rule in _COMPILED if pattern.search(description)), None)


def rule_for_carc(code: str) -> CodeRule | None:
    """A CARC's category and action: the explicit entry, else the description rules.

    None only for a code in the list that no rule recognises (the tests keep that from happening)."""
    code = code.strip().upper()
    if code in EXPLICIT:
        return EXPLICIT[code]
    try:
        entry = lookup(CodeType.CARC, code)
    except UnknownCodeError:
        return UNKNOWN_CODE
    return rule_from_description(entry.description)


# Remark codes: the common ones that change what a generic CARC means.
REMARKS: dict[str, CodeRule] = {
    "MA130": _rule(
        _C.CORRECT_AND_RESUBMIT,
        _A.CORRECT_AND_RESUBMIT,
        needs="unprocessable claim, no appeal rights: submit a NEW claim (frequency 1), not a replacement",
    ),
    "N517": _rule(
        _C.CORRECT_AND_RESUBMIT, _A.CORRECT_AND_RESUBMIT, needs="submit a new claim with the information"
    ),
    "M51": _rule(_C.CORRECT_AND_RESUBMIT, _A.CORRECT_AND_RESUBMIT, needs="correct the procedure code"),
    "M20": _rule(_C.CORRECT_AND_RESUBMIT, _A.CORRECT_AND_RESUBMIT, needs="correct the HCPCS code"),
    "N56": _rule(_C.CORRECT_AND_RESUBMIT, _A.CORRECT_AND_RESUBMIT, needs="bill the code valid on the date"),
    "N657": _rule(_C.CORRECT_AND_RESUBMIT, _A.CORRECT_AND_RESUBMIT, needs="bill the appropriate code"),
    "M76": _rule(_C.CORRECT_AND_RESUBMIT, _A.CORRECT_AND_RESUBMIT, needs="correct the diagnosis codes"),
    "M77": _rule(_C.CORRECT_AND_RESUBMIT, _A.CORRECT_AND_RESUBMIT, needs="correct the place of service"),
    "M79": _rule(_C.CORRECT_AND_RESUBMIT, _A.CORRECT_AND_RESUBMIT, needs="correct the line charge"),
    "M62": _rule(
        _C.CORRECT_AND_RESUBMIT, _A.CORRECT_AND_RESUBMIT, needs="add the authorization number (REF*G1)"
    ),
    "N286": _rule(_C.CORRECT_AND_RESUBMIT, _A.CORRECT_AND_RESUBMIT, needs="add the referring provider's NPI"),
    "N290": _rule(_C.CORRECT_AND_RESUBMIT, _A.CORRECT_AND_RESUBMIT, needs="add the rendering provider's NPI"),
    "N265": _rule(_C.CORRECT_AND_RESUBMIT, _A.CORRECT_AND_RESUBMIT, needs="add the ordering provider's NPI"),
    "N152": _rule(
        _C.CORRECT_AND_RESUBMIT, _A.CORRECT_AND_RESUBMIT, needs="fix the replacement claim's REF*F8"
    ),
    "M119": _rule(_C.CORRECT_AND_RESUBMIT, _A.CORRECT_AND_RESUBMIT, needs="correct the NDC"),
    "MA04": _rule(
        _C.CORRECT_AND_RESUBMIT,
        _A.CORRECT_AND_RESUBMIT,
        needs="add the primary payer's payment information (2320 loop)",
    ),
    "N4": _rule(_C.CORRECT_AND_RESUBMIT, _A.CORRECT_AND_RESUBMIT, needs="attach the prior payer's EOB"),
    "N479": _rule(_C.CORRECT_AND_RESUBMIT, _A.CORRECT_AND_RESUBMIT, needs="attach the other payer's EOB"),
    "M127": _rule(_C.CORRECT_AND_RESUBMIT, _A.SEND_DOCUMENTATION, needs="send the medical record"),
    "N706": _rule(_C.CORRECT_AND_RESUBMIT, _A.SEND_DOCUMENTATION, needs="send the missing documentation"),
    "N29": _rule(_C.CORRECT_AND_RESUBMIT, _A.SEND_DOCUMENTATION, needs="send the notes or report"),
    "N225": _rule(_C.CORRECT_AND_RESUBMIT, _A.SEND_DOCUMENTATION, needs="send complete documentation"),
    "N115": _rule(_C.APPEAL, _A.APPEAL, _L.MEDICAL_NECESSITY, needs="records meeting the LCD's criteria"),
    "N386": _rule(_C.APPEAL, _A.APPEAL, _L.MEDICAL_NECESSITY, needs="records meeting the NCD's criteria"),
    "N10": _rule(_C.APPEAL, _A.APPEAL, _L.MEDICAL_NECESSITY, needs="records answering the reviewer"),
    "M25": _rule(_C.APPEAL, _A.APPEAL, _L.CODING, needs="documentation of the level of service billed"),
    "M15": _rule(_C.APPEAL, _A.APPEAL, _L.BUNDLING, needs="documentation of a separate procedure"),
    "N19": _rule(_C.APPEAL, _A.APPEAL, _L.BUNDLING, needs="documentation of a separate procedure"),
    "N20": _rule(_C.APPEAL, _A.APPEAL, _L.BUNDLING, needs="documentation of a separate encounter"),
    "M80": _rule(_C.APPEAL, _A.APPEAL, _L.BUNDLING, needs="documentation of a separate session"),
    "N54": _rule(_C.APPEAL, _A.APPEAL, _L.AUTHORIZATION, needs="the authorization covering the services"),
    "N30": _rule(_C.COVERAGE, _A.VERIFY_COVERAGE, needs="re-verify the patient's eligibility"),
    "N598": _rule(_C.COVERAGE, _A.BILL_OTHER_PAYER, needs="bill the primary health plan first"),
    "N522": _rule(_C.WRITE_OFF, _A.CHECK_ORIGINAL_CLAIM, needs="the crossover claim carries this service"),
    "N130": _rule(_C.WRITE_OFF, _A.REVIEW_WRITE_OFF, needs="plan restriction: review for write-off"),
    "N425": _rule(_C.WRITE_OFF, _A.REVIEW_WRITE_OFF, needs="statutorily excluded: review for write-off"),
}
NOT_APPEALABLE = frozenset({"N211", "MA130"})
"""Remarks saying the decision cannot be appealed."""

_MISSING = re.compile(r"^missing/incomplete/invalid", re.IGNORECASE)


def rule_for_remark(code: str) -> CodeRule | None:
    """What a remark code says to do, when it says something a generic CARC needs."""
    code = code.strip().upper()
    if code in REMARKS:
        return REMARKS[code]
    try:
        entry = lookup(CodeType.RARC, code)
    except UnknownCodeError:
        return None
    return _CORRECT if _MISSING.search(entry.description) else None


# ---------------------------------------------------------------------------------- assessing a CLP


class AssessmentKind(StrEnum):
    PAID = "paid"
    """Paid as billed less contract and patient share: nothing to work."""
    DENIED = "denied"
    """Nothing paid: a claim-level denial, or every line denied."""
    PARTIAL = "partial"
    """Some lines paid, some denied (or a paid claim with lines to work)."""
    REVERSAL = "reversal"
    READJUDICATION = "readjudication"


class DenialFinding(Model):
    """One adjustment, read: its code, the line it sits on, and what to do about it."""

    group: AdjustmentGroup
    carc: str
    carc_text: str
    remarks: list[str] = Field(default_factory=list)
    amount: Money
    line: int | None = Field(default=None, description="1-based service line; None at claim level")
    procedure_code: str | None = None
    category: DenialCategory
    action: DenialAction
    letter: LetterCategory | None = None
    needs: str = ""

    @property
    def code(self) -> str:
        """As billers say it: CO-50."""
        return f"{self.group.value}-{self.carc}"

    @property
    def at_stake(self) -> bool:
        """Money the practice loses unless it acts."""
        return self.category in _AT_STAKE and self.group is not AdjustmentGroup.PATIENT_RESPONSIBILITY


_AT_STAKE = frozenset(
    {
        DenialCategory.CORRECT_AND_RESUBMIT,
        DenialCategory.COVERAGE,
        DenialCategory.APPEAL,
        DenialCategory.WRITE_OFF,
    }
)


class DenialAssessment(Model):
    patient_control_number: str
    payer_claim_number: str | None = None
    kind: AssessmentKind
    findings: list[DenialFinding] = Field(default_factory=list)
    action: DenialAction
    letter: LetterCategory | None = Field(default=None, description="when the action is an appeal")
    amount_at_stake: Money = ZERO
    patient_responsibility: Money = ZERO
    contractual: Money = ZERO
    denied_lines: list[int] = Field(default_factory=list)
    paid_lines: list[int] = Field(default_factory=list)
    paid_change: Money | None = Field(default=None, description="re-adjudication: paid now minus before")
    summary: str = Field(description="one line for a task list; codes and amounts only, no PHI")

    @property
    def appealable(self) -> bool:
        return self.action is DenialAction.APPEAL

    @property
    def codes(self) -> list[str]:
        """Each distinct group-CARC, in order of appearance."""
        return list(dict.fromkeys(f.code for f in self.findings))

    def findings_for(self, letter: LetterCategory) -> list[DenialFinding]:
        return [f for f in self.findings if f.letter is letter and f.category is DenialCategory.APPEAL]


def classify(payment: ClaimPayment, previous: ClaimPayment | None = None) -> DenialAssessment:
    """Read one CLP loop. `previous` is the earlier payment of the same claim, when this one is its
    re-adjudication (the 835 after a reversal, or a replacement claim's remittance)."""
    findings = [_finding(a, payment.remarks, None, None) for a in payment.adjustments]
    denied_lines: list[int] = []
    paid_lines: list[int] = []
    for number, line in enumerate(payment.service_lines, start=1):
        line_findings = [
            _finding(a, line.remarks or payment.remarks, number, line.procedure_code)
            for a in line.adjustments
        ]
        findings += line_findings
        if line.paid > ZERO:
            paid_lines.append(number)
        if any(f.at_stake for f in line_findings) or (line.paid == ZERO and line.charge > ZERO):
            denied_lines.append(number)
    patient = money_sum(f.amount for f in findings if f.category is DenialCategory.PATIENT_RESPONSIBILITY)
    contractual = money_sum(f.amount for f in findings if f.category is DenialCategory.CONTRACTUAL)

    if payment.status is ClaimStatusCode.REVERSAL:
        taken_back = -payment.paid
        return DenialAssessment(
            patient_control_number=payment.patient_control_number,
            payer_claim_number=payment.payer_claim_number,
            kind=AssessmentKind.REVERSAL,
            findings=findings,
            action=DenialAction.REPOST,
            amount_at_stake=taken_back,
            summary=f"reversal of payment {taken_back}: post it and the re-adjudicated claim that follows",
        )

    working = [
        f
        for f in findings
        if f.action is not DenialAction.NONE and f.category is not _C.PATIENT_RESPONSIBILITY
    ]
    action = min((f.action for f in working), default=_patient_or_none(patient))
    stake = money_sum(f.amount for f in findings if f.at_stake)
    kind = _kind(payment, previous, denied_lines, paid_lines, working)
    unexplained = payment.charge - payment.paid - money_sum(f.amount for f in findings)
    if kind is AssessmentKind.DENIED and not working and unexplained > ZERO:
        # Denied without the adjustments that say why: the amount is lost unless someone looks.
        action = DenialAction.REVIEW_WRITE_OFF
        stake = unexplained
    letter = _letter(findings) if action is DenialAction.APPEAL else None
    codes = ", ".join(dict.fromkeys(f.code for f in findings)) or "no adjustments"
    change = payment.paid - previous.paid if previous is not None else None
    summary = f"{kind.value}: {codes}; {action.label}" + (f" ({letter.value} letter)" if letter else "")
    if stake:
        summary += f"; {stake} at stake"
    return DenialAssessment(
        patient_control_number=payment.patient_control_number,
        payer_claim_number=payment.payer_claim_number,
        kind=kind,
        findings=findings,
        action=action,
        letter=letter,
        amount_at_stake=stake,
        patient_responsibility=patient,
        contractual=contractual,
        denied_lines=denied_lines,
        paid_lines=paid_lines,
        paid_change=change,
        summary=summary,
    )


def _patient_or_none(patient: Money) -> DenialAction:
    return DenialAction.BILL_PATIENT if patient > ZERO else DenialAction.NONE


def _kind(
    payment: ClaimPayment,
    previous: ClaimPayment | None,
    denied_lines: list[int],
    paid_lines: list[int],
    working: list[DenialFinding],
) -> AssessmentKind:
    if previous is not None or payment.frequency == "7":
        return AssessmentKind.READJUDICATION
    if payment.status is ClaimStatusCode.DENIED or (payment.paid == ZERO and payment.charge > ZERO):
        return AssessmentKind.DENIED
    if (denied_lines and paid_lines) or any(f.at_stake for f in working):
        return AssessmentKind.PARTIAL
    return AssessmentKind.PAID


def _letter(findings: list[DenialFinding]) -> LetterCategory | None:
    """The letter for the appealable denials: the category with the most money behind it."""
    totals: dict[LetterCategory, Money] = {}
    for finding in findings:
        if finding.action is DenialAction.APPEAL and finding.letter is not None:
            totals[finding.letter] = totals.get(finding.letter, ZERO) + finding.amount
    return max(totals, key=lambda letter: totals[letter], default=None)


def _finding(
    adjustment: Adjustment, remarks: list[str], line: int | None, procedure: str | None
) -> DenialFinding:
    rule = _rule_in_context(adjustment, remarks)
    return DenialFinding(
        group=adjustment.group,
        carc=adjustment.reason,
        carc_text=_carc_text(adjustment.reason),
        remarks=list(remarks),
        amount=adjustment.amount,
        line=line,
        procedure_code=procedure,
        category=rule.category,
        action=rule.action,
        letter=rule.letter,
        needs=rule.needs,
    )


def _rule_in_context(adjustment: Adjustment, remarks: list[str]) -> CodeRule:
    """The CARC's rule, adjusted for its group code and its remarks."""
    rule = rule_for_carc(adjustment.reason) or UNKNOWN_CODE
    if adjustment.group is AdjustmentGroup.PATIENT_RESPONSIBILITY:
        return _PATIENT  # PR-anything is the patient's share, whatever the reason code.
    if rule.category is DenialCategory.PATIENT_RESPONSIBILITY:
        # A patient-share code the payer put under CO/OA/PI: the practice may not bill the patient.
        return _CONTRACTUAL
    if rule.needs_remark:
        sharper = next((r for r in (rule_for_remark(code) for code in remarks) if r is not None), None)
        rule = sharper or rule
    if rule.action is DenialAction.APPEAL and NOT_APPEALABLE.intersection(code.upper() for code in remarks):
        return _rule(
            _C.WRITE_OFF, _A.REVIEW_WRITE_OFF, needs="the payer's remark says this cannot be appealed"
        )
    return rule


def _carc_text(code: str) -> str:
    try:
        return lookup(CodeType.CARC, code).description
    except UnknownCodeError:
        return f"CARC {code} (not in the X12 list shipped with claimflow)"
