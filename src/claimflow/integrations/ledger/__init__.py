"""The ledger database: charges, payer payments and adjustments, patient responsibility and payments,
and an audit trail of who did what. SQLAlchemy 2; schema by the Alembic migrations in `migrations/`."""

from claimflow.integrations.ledger.exchanges import X12Archive
from claimflow.integrations.ledger.interchanges import InboundOutcome, InboundRecord, InterchangeRegistry
from claimflow.integrations.ledger.ledger import Ledger, UnknownClaimError, occurrence_of
from claimflow.integrations.ledger.migrate import migrate
from claimflow.integrations.ledger.models import (
    AuditEntry,
    Balance,
    LedgerClaimState,
    LedgerTotals,
    PostingResult,
    RemittanceRef,
)

__all__ = [
    "AuditEntry",
    "Balance",
    "InboundOutcome",
    "InboundRecord",
    "InterchangeRegistry",
    "Ledger",
    "LedgerClaimState",
    "LedgerTotals",
    "PostingResult",
    "RemittanceRef",
    "UnknownClaimError",
    "X12Archive",
    "migrate",
    "occurrence_of",
]
