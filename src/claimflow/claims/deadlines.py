"""Deadlines from the payer's rules. Pure date arithmetic: today is always an argument."""

from __future__ import annotations

from datetime import date, timedelta


def timely_filing_deadline(service_date: date, limit_days: int) -> date:
    """The last day a claim for this date of service reaches the payer in time."""
    return service_date + timedelta(days=limit_days)


def appeal_deadline(remittance_date: date, appeal_days: int) -> date:
    """The last day an appeal of this remittance is heard."""
    return remittance_date + timedelta(days=appeal_days)


def days_left(deadline: date, today: date) -> int:
    return (deadline - today).days


ESCALATION_DAYS = (30, 14, 7)
"""Days before the timely-filing deadline at which a claim not yet accepted is escalated."""
