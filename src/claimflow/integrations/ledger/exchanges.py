"""The X12 a claim exchanged: the 837 we sent and every 999/277CA/835 (or TA1, 277) received.

Kept in the ledger (migration 0008) so the console's claim page can show them without asking the
clearinghouse (which deletes a file once it is acknowledged) or a workflow. X12 carries PHI, so the
text is sealed at rest with the claim keys (AES-GCM, `CLAIMFLOW_KEYS` or the embedded key file: the
same keys as Temporal's payloads), authenticated together with the row's direction and name; only
the direction, kind, name and time are in clear. The text never reaches Temporal's history, search
attributes or a log line. A file is kept once (by direction and name) and linked to every claim it
concerns; keeping it again is a no-op (a retried activity).

Synchronous, like the rest of the ledger: call from activities through `asyncio.to_thread`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import DateTime, ForeignKey, Integer, LargeBinary, String, UniqueConstraint, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from claimflow.integrations.crypto import KeyRing, Sealed, seal, unseal
from claimflow.integrations.ledger.engine import create_ledger_engine
from claimflow.integrations.ledger.schema import Base

SENT = "sent"
RECEIVED = "received"


class X12FileRow(Base):
    """One interchange as sent or received, its text sealed."""

    __tablename__ = "x12_files"
    __table_args__ = (UniqueConstraint("direction", "name", name="uq_x12_file"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    direction: Mapped[str] = mapped_column(String(10), doc="sent or received")
    kind: Mapped[str] = mapped_column(String(20), doc="837, 999, 277CA, 277, 835, TA1")
    name: Mapped[str] = mapped_column(String(255), doc="the submission key, or mailbox/file name")
    key_id: Mapped[str] = mapped_column(String(64), doc="the claim key that sealed the text")
    sealed: Mapped[bytes] = mapped_column(LargeBinary, doc="nonce + AES-GCM ciphertext of the text")
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class X12FileClaimRow(Base):
    """A claim a kept file concerns."""

    __tablename__ = "x12_file_claims"
    __table_args__ = (UniqueConstraint("file_id", "patient_control_number", name="uq_x12_file_claim"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    file_id: Mapped[int] = mapped_column(ForeignKey("x12_files.id", ondelete="CASCADE"))
    patient_control_number: Mapped[str] = mapped_column(String(38), index=True)


@dataclass(frozen=True)
class KeptX12:
    """A kept file as listed: everything but its text (which `X12Archive.text` opens)."""

    file_id: int
    direction: str
    kind: str
    name: str
    at: datetime


class UnknownX12File(LookupError):
    """No kept file with that id concerns that claim."""


def _context(direction: str, name: str) -> bytes:
    return f"claimflow x12|{direction}|{name}".encode()


class X12Archive:
    """The sealed X12 of every claim (one transaction per call)."""

    def __init__(
        self,
        database_url: str,
        keys: KeyRing,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        """On the ledger at `database_url`, whose schema `Ledger` (or `migrate`) brought up to date."""
        self._engine = create_ledger_engine(database_url)
        self._sessions: sessionmaker[Session] = sessionmaker(self._engine, expire_on_commit=False)
        self._keys = keys
        self._clock = clock

    def close(self) -> None:
        self._engine.dispose()

    def keep(self, direction: str, kind: str, name: str, text: str, claims: Iterable[str]) -> None:
        """Keep the file (once, sealed) and link it to each claim (once each)."""
        wanted = sorted(set(claims))
        try:
            with self._sessions.begin() as session:
                file_id = session.scalar(
                    select(X12FileRow.id).where(X12FileRow.direction == direction, X12FileRow.name == name)
                )
                if file_id is None:
                    sealed = seal(self._keys, text.encode("utf-8"), _context(direction, name))
                    row = X12FileRow(
                        direction=direction,
                        kind=kind,
                        name=name,
                        key_id=sealed.key_id,
                        sealed=sealed.data,
                        at=self._clock(),
                    )
                    session.add(row)
                    session.flush()
                    file_id = row.id
                linked = set(
                    session.scalars(
                        select(X12FileClaimRow.patient_control_number).where(
                            X12FileClaimRow.file_id == file_id
                        )
                    )
                )
                for pcn in wanted:
                    if pcn not in linked:
                        session.add(X12FileClaimRow(file_id=file_id, patient_control_number=pcn))
        except IntegrityError:
            # a concurrent retry kept it first: link what it may not have linked
            self.keep(direction, kind, name, text, wanted)

    def files_of(self, patient_control_number: str) -> list[KeptX12]:
        """Every file kept for the claim, oldest first (nothing is decrypted)."""
        with self._sessions.begin() as session:
            rows = session.execute(
                select(X12FileRow.id, X12FileRow.direction, X12FileRow.kind, X12FileRow.name, X12FileRow.at)
                .join(X12FileClaimRow, X12FileClaimRow.file_id == X12FileRow.id)
                .where(X12FileClaimRow.patient_control_number == patient_control_number)
                .order_by(X12FileRow.at, X12FileRow.id)
            )
            return [KeptX12(*row) for row in rows]

    def text(self, file_id: int, patient_control_number: str) -> str:
        """The file's text, opened with the claim keys; only for a claim the file concerns (a forged
        or another claim's id is UnknownX12File). UnknownKeyError or PayloadTamperedError when the
        keys given cannot open it."""
        with self._sessions.begin() as session:
            row = session.execute(
                select(X12FileRow.direction, X12FileRow.name, X12FileRow.key_id, X12FileRow.sealed)
                .join(X12FileClaimRow, X12FileClaimRow.file_id == X12FileRow.id)
                .where(
                    X12FileRow.id == file_id,
                    X12FileClaimRow.patient_control_number == patient_control_number,
                )
            ).first()
        if row is None:
            raise UnknownX12File(f"no X12 file {file_id} is kept for this claim")
        direction, name, key_id, data = row
        clear = unseal(self._keys, Sealed(key_id, data), _context(direction, name))
        return clear.decode("utf-8")
