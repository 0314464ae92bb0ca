"""Envelope discipline in the ledger: our interchange control numbers, and the files we picked up.

* Control numbers (ISA13) are unique and increasing per sender id. A number reserved under a key
  (a claim's submission attempt) is the same number every time the key is asked again, so a
  retried upload re-sends the same interchange and the clearinghouse can recognise it.
* Every file taken from a clearinghouse mailbox is recorded by its name (none is read twice) and,
  when it is X12, by its sender and ISA13 (a second file carrying the same interchange is a
  duplicate: recognised and not routed again).

Synchronous, like the rest of the ledger: call from activities through `asyncio.to_thread`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import DateTime, Index, Integer, String, UniqueConstraint, cast, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from claimflow.integrations.ledger.engine import create_ledger_engine
from claimflow.integrations.ledger.schema import Base, SubmissionRow


def utc_now() -> datetime:
    return datetime.now(UTC)


MAX_CONTROL_NUMBER = 999_999_999
"""ISA13 has nine digits."""


class ControlNumberCounterRow(Base):
    """The last interchange control number given to a sender id."""

    __tablename__ = "control_number_counters"

    sender_id: Mapped[str] = mapped_column(String(15), primary_key=True)
    last_number: Mapped[int] = mapped_column(Integer)


class ControlNumberReservationRow(Base):
    """A control number kept for one purpose (e.g. `<claim>-<attempt>`), so asking again gives it back."""

    __tablename__ = "control_number_reservations"
    __table_args__ = (
        UniqueConstraint("sender_id", "reservation_key", name="uq_reservation_key"),
        UniqueConstraint("sender_id", "control_number", name="uq_reservation_number"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sender_id: Mapped[str] = mapped_column(String(15))
    reservation_key: Mapped[str] = mapped_column(String(120))
    control_number: Mapped[int] = mapped_column(Integer)
    reserved_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class InboundOutcome(StrEnum):
    ROUTED = "routed"
    """every result in it reached its claim or the exceptions workflow"""
    DUPLICATE = "duplicate"
    """it carried an interchange (sender and ISA13) already routed from another file"""
    PARKED = "parked"
    """unreadable, too large, or not a claim result: kept in the mailbox and made a task"""
    ENVELOPE = "envelope"
    """a TA1: an answer about one of our interchanges"""


class InboundFileRow(Base):
    """A file picked up from a clearinghouse mailbox, and what became of it."""

    __tablename__ = "inbound_files"
    __table_args__ = (
        UniqueConstraint("mailbox", "name", name="uq_inbound_file"),
        Index("ix_inbound_files_interchange", "sender_id", "interchange_control_number"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    mailbox: Mapped[str] = mapped_column(String(200), doc="which mailbox: the transport's name for it")
    name: Mapped[str] = mapped_column(String(255), doc="the file's name (or id) in that mailbox")
    sender_id: Mapped[str | None] = mapped_column(String(15))
    interchange_control_number: Mapped[str | None] = mapped_column(String(9))
    kind: Mapped[str] = mapped_column(String(20))
    outcome: Mapped[str] = mapped_column(String(20))
    picked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    content_sha256: Mapped[str | None] = mapped_column(String(64), doc="what it held (migration 0006)")


@dataclass(frozen=True)
class InboundRecord:
    mailbox: str
    name: str
    kind: str
    outcome: InboundOutcome
    sender_id: str | None = None
    interchange_control_number: str | None = None
    content_sha256: str | None = None


class ControlNumbersExhausted(RuntimeError):
    """A sender id has used every nine-digit control number."""


class InterchangeRegistry:
    """The ledger's control numbers and inbound-file records (one transaction per call)."""

    def __init__(self, database_url: str, *, clock: Callable[[], datetime] = utc_now) -> None:
        """On the ledger at `database_url`, whose schema `Ledger` (or `migrate`) brought up to date."""
        self._engine = create_ledger_engine(database_url)
        self._sessions = sessionmaker(self._engine, expire_on_commit=False)
        self._clock = clock

    def close(self) -> None:
        self._engine.dispose()

    def next_control_number(self, sender_id: str) -> int:
        """A fresh control number for `sender_id`, higher than every one given before."""
        with self._sessions.begin() as session:
            return self._advance(session, sender_id)

    def reserve_control_number(self, sender_id: str, key: str) -> int:
        """The control number kept under `key`, reserving a fresh one the first time."""
        found = self._reserved(sender_id, key)
        if found is not None:
            return found
        try:
            with self._sessions.begin() as session:
                number = self._advance(session, sender_id)
                session.add(
                    ControlNumberReservationRow(
                        sender_id=sender_id,
                        reservation_key=key,
                        control_number=number,
                        reserved_at=self._clock(),
                    )
                )
                return number
        except IntegrityError:
            # A concurrent attempt reserved the same key first: its number is the one.
            found = self._reserved(sender_id, key)
            if found is None:
                raise
            return found

    def _reserved(self, sender_id: str, key: str) -> int | None:
        with self._sessions.begin() as session:
            return session.scalar(
                select(ControlNumberReservationRow.control_number).where(
                    ControlNumberReservationRow.sender_id == sender_id,
                    ControlNumberReservationRow.reservation_key == key,
                )
            )

    def _advance(self, session: Session, sender_id: str) -> int:
        # The UPDATE takes the row's write lock first, so concurrent callers queue instead of
        # reading the same last number.
        number = session.scalar(
            update(ControlNumberCounterRow)
            .where(ControlNumberCounterRow.sender_id == sender_id)
            .values(last_number=ControlNumberCounterRow.last_number + 1)
            .returning(ControlNumberCounterRow.last_number)
        )
        if number is None:
            try:
                number = self._first_number(session)
                with session.begin_nested():
                    session.add(ControlNumberCounterRow(sender_id=sender_id, last_number=number))
            except IntegrityError:  # another caller created the counter meanwhile
                return self._advance(session, sender_id)
        if number > MAX_CONTROL_NUMBER:
            raise ControlNumbersExhausted(
                f"sender id {sender_id!r} has used all {MAX_CONTROL_NUMBER:,} interchange control numbers; "
                "agree a new sender id (ISA06) with the clearinghouse"
            )
        return number

    @staticmethod
    def _first_number(session: Session) -> int:
        """Above every group number of a submission recorded before the ledger kept counters, so
        a ledger upgraded in place never repeats an interchange the clearinghouse has seen."""
        highest = session.scalar(select(func.max(cast(SubmissionRow.group_control_number, Integer))))
        return (highest or 0) + 1

    def picked_up(self, mailbox: str, names: Iterable[str]) -> set[str]:
        """Which of these names were already taken from this mailbox."""
        wanted = list(names)
        if not wanted:
            return set()
        with self._sessions.begin() as session:
            return set(
                session.scalars(
                    select(InboundFileRow.name).where(
                        InboundFileRow.mailbox == mailbox, InboundFileRow.name.in_(wanted)
                    )
                )
            )

    def pickups(self, mailbox: str, names: Iterable[str]) -> dict[str, InboundOutcome]:
        """What became of those of these names already taken from this mailbox."""
        wanted = list(names)
        if not wanted:
            return {}
        with self._sessions.begin() as session:
            rows = session.execute(
                select(InboundFileRow.name, InboundFileRow.outcome).where(
                    InboundFileRow.mailbox == mailbox, InboundFileRow.name.in_(wanted)
                )
            )
            return {name: InboundOutcome(outcome) for name, outcome in rows}

    def routed_interchange(self, sender_id: str, control_number: str) -> str | None:
        """The name of an earlier file that carried this interchange and was routed, if any."""
        earlier = self.first_routed(sender_id, control_number)
        return earlier[0] if earlier else None

    def first_routed(self, sender_id: str, control_number: str) -> tuple[str, str | None] | None:
        """(name, content SHA-256) of the first file that carried this interchange and was routed
        (routed or as an envelope answer); the hash is None for a file recorded before 0006."""
        with self._sessions.begin() as session:
            row = session.execute(
                select(InboundFileRow.name, InboundFileRow.content_sha256)
                .where(
                    InboundFileRow.sender_id == sender_id,
                    InboundFileRow.interchange_control_number == control_number,
                    InboundFileRow.outcome.in_([InboundOutcome.ROUTED.value, InboundOutcome.ENVELOPE.value]),
                )
                .order_by(InboundFileRow.id)
                .limit(1)
            ).first()
            return (row[0], row[1]) if row else None

    def record_pickup(self, record: InboundRecord) -> None:
        """Remember a file taken from a mailbox; recording it again changes nothing."""
        try:
            with self._sessions.begin() as session:
                known = session.scalar(
                    select(InboundFileRow.id).where(
                        InboundFileRow.mailbox == record.mailbox, InboundFileRow.name == record.name
                    )
                )
                if known is None:
                    session.add(
                        InboundFileRow(
                            mailbox=record.mailbox,
                            name=record.name,
                            sender_id=record.sender_id,
                            interchange_control_number=record.interchange_control_number,
                            kind=record.kind,
                            outcome=record.outcome.value,
                            picked_at=self._clock(),
                            content_sha256=record.content_sha256,
                        )
                    )
        except IntegrityError:
            pass  # recorded by a concurrent retry of the same activity
