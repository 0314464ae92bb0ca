"""How a sandbox payer decides an appeal: from the letter's arguments and the denial it contests.

A denial is overturned only when the letter carries what that denial needs (the argument or the
proof a reviewer would look for), the appeal arrived within the payer's appeal window, and the
seeded draw falls under the payer's overturn rate. Denials a letter cannot cure (coverage
inactive, exact duplicate, a modifier that needs a corrected claim) are upheld.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from datetime import date

from claimflow.integrations.sandbox.config import Payer

_AUTHORIZATION_NUMBER = re.compile(r"\bauthori[sz]ation\b[^.\n]{0,40}?\b[A-Z0-9-]*\d[A-Z0-9-]{3,}\b", re.I)

ARGUMENTS: dict[str, tuple[str, tuple[re.Pattern[str], ...]]] = {
    "50": (
        "medical records showing medical necessity",
        (
            re.compile(r"medical(ly)? necess", re.I),
            re.compile(r"medical record|clinical note|progress note", re.I),
        ),
    ),
    "11": (
        "the diagnosis that supports the procedure, with the medical record",
        (re.compile(r"diagnos", re.I), re.compile(r"medical record|clinical note|progress note", re.I)),
    ),
    "97": (
        "documentation that the service was separate and distinct (modifier 59/XS/XE/XP/XU or 25)",
        (re.compile(r"separate|distinct|modifier\s*(59|25|X[ESPU])", re.I),),
    ),
    "29": (
        "proof of timely filing (the clearinghouse acceptance report or 277CA with its date)",
        (
            re.compile(r"timely filing", re.I),
            re.compile(r"277CA|acceptance report|clearinghouse report", re.I),
        ),
    ),
    "197": (
        "the authorization number obtained before the service",
        (_AUTHORIZATION_NUMBER,),
    ),
}
"""CARC -> (what the letter must carry, patterns that must all be found in it)."""


@dataclass(frozen=True)
class AppealDecision:
    overturned: frozenset[str]
    """CARCs the payer no longer applies; empty when the denial is upheld."""
    explanation: str


def decide(
    letter: str, denied: list[str], payer: Payer, *, appealed: date, remitted: date, rng: random.Random
) -> AppealDecision:
    """Overturn the contested denials the letter argues for, or uphold them and say why."""
    if not denied:
        return AppealDecision(frozenset(), "the claim has no denied line to reconsider")
    days = (appealed - remitted).days
    if days > payer.appeal_days:
        return AppealDecision(
            frozenset(),
            f"the appeal arrived {days} days after the remittance; {payer.name} accepts appeals "
            f"within {payer.appeal_days} days",
        )
    curable = [carc for carc in denied if carc in ARGUMENTS]
    argued = [carc for carc in curable if all(p.search(letter) for p in ARGUMENTS[carc][1])]
    missing = [carc for carc in curable if carc not in argued]
    if not argued:
        if missing:
            needs = "; ".join(f"CO-{carc}: {ARGUMENTS[carc][0]}" for carc in missing)
            return AppealDecision(frozenset(), f"the letter does not carry what the denial needs ({needs})")
        reasons = ", ".join(f"CO-{carc}" for carc in denied)
        return AppealDecision(
            frozenset(), f"{reasons} cannot be overturned on appeal: correct and resubmit the claim instead"
        )
    if rng.random() >= payer.noise.appeal_overturn_share:
        return AppealDecision(frozenset(), "the reviewer upheld the original determination after review")
    explanation = "overturned on review: " + ", ".join(f"CO-{carc}" for carc in argued)
    return AppealDecision(frozenset(argued), explanation)
