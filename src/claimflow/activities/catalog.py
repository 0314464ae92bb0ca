"""Every activity's name with its argument and result types: what workflows call, by name.

Workflows import this light module instead of the implementations, so the workflow sandbox never
loads httpx or SQLAlchemy, and the implementations can change without touching workflow code."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Generic, TypeVar

from claimflow.activities.appeal_requests import (
    AppealLetter,
    AppealLetterRequest,
    AppealSendRequest,
    AppealSent,
)
from claimflow.activities.requests import (
    EligibilityRequest,
    PatientPaymentPosting,
    PostingOutcome,
    PostingRequest,
    RoutingReport,
    ScrubOutcome,
    ScrubRequest,
    StatementRequest,
    StatusRequest,
    SubmitReceipt,
    SubmitRequest,
    TimelyFilingLetterRequest,
)
from claimflow.activities.underpayment_requests import (
    UnderpaymentLetterRequest,
    UnderpaymentRequest,
    Underpayments,
)
from claimflow.claims.encounter import Coverage
from claimflow.claims.payers import PayerProfile
from claimflow.claims.responses import ClaimStatus, EligibilityResult

Arg = TypeVar("Arg")
Result = TypeVar("Result")


@dataclass(frozen=True)
class ActivityRef(Generic[Arg, Result]):
    name: str
    result_type: type[Result]
    timeout: timedelta = timedelta(minutes=2)
    """start-to-close: long enough for the slowest honest attempt, so a hung one is retried."""
    heartbeat: timedelta | None = None
    """heartbeat timeout, for an activity whose honest attempt may take long: it heartbeats while it
    works, so an attempt on a worker that died is retried after this, not after `timeout`."""


RENDERING = timedelta(minutes=10)  # a PDF queues behind others when many claims bill at once
RENDERING_HEARTBEAT = timedelta(seconds=30)
"""A letter or statement heartbeats while it waits for the rendering pool and renders
(activities/rendering.py); one whose worker was killed is retried after this."""


PAYER_PROFILE = ActivityRef[Coverage, PayerProfile]("payer_profile", PayerProfile)
CHECK_ELIGIBILITY = ActivityRef[EligibilityRequest, EligibilityResult]("check_eligibility", EligibilityResult)
SCRUB_CLAIM = ActivityRef[ScrubRequest, ScrubOutcome]("scrub_claim", ScrubOutcome)
RESERVE_INTERCHANGE = ActivityRef[str, int]("reserve_interchange", int)
"""The ISA13 kept for a submission key (`requests.submission_key`): the same number every time."""
SUBMIT_CLAIM = ActivityRef[SubmitRequest, SubmitReceipt]("submit_claim", SubmitReceipt)
INQUIRE_CLAIM_STATUS = ActivityRef[StatusRequest, ClaimStatus]("inquire_claim_status", ClaimStatus)
POST_PAYMENT = ActivityRef[PostingRequest, PostingOutcome]("post_payment", PostingOutcome)
RECORD_PATIENT_PAYMENT = ActivityRef[PatientPaymentPosting, None]("record_patient_payment", type(None))
WRITE_STATEMENT = ActivityRef[StatementRequest, str]("write_statement", str, RENDERING, RENDERING_HEARTBEAT)
LIST_INBOX = ActivityRef[None, list[str]]("list_inbox", list)
ROUTE_FILE = ActivityRef[str, RoutingReport]("route_file", RoutingReport)
RENDER_APPEAL_LETTER = ActivityRef[AppealLetterRequest, AppealLetter](
    "render_appeal_letter", AppealLetter, RENDERING, RENDERING_HEARTBEAT
)
SEND_APPEAL = ActivityRef[AppealSendRequest, AppealSent]("send_appeal", AppealSent)
WRITE_TIMELY_FILING_LETTER = ActivityRef[TimelyFilingLetterRequest, str](
    "write_timely_filing_letter", str, RENDERING, RENDERING_HEARTBEAT
)
FIND_UNDERPAYMENTS = ActivityRef[UnderpaymentRequest, Underpayments]("find_underpayments", Underpayments)
WRITE_UNDERPAYMENT_LETTER = ActivityRef[UnderpaymentLetterRequest, str](
    "write_underpayment_letter", str, RENDERING, RENDERING_HEARTBEAT
)
