"""The sandbox's behaviour: what happens to a 270, a 276, an 837 batch and an appeal, and when.

Nothing runs in the background. Every request first brings the sandbox up to its clock
(`catch_up`): claims whose acknowledgement delay has passed get their 277CA, claims whose
adjudication delay has passed are adjudicated into an 835, due reversals and appeal decisions are
made. The clock is the host's clock plus an offset that `advance` moves, so a test can jump two
weeks ahead and find the 835 waiting. All state is in the Store (SQLite).
"""

from __future__ import annotations

import hashlib
import json
import random
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from claimflow.claims import coordination
from claimflow.claims.claim import Claim, FrequencyCode
from claimflow.claims.encounter import ClaimKind
from claimflow.claims.money import ZERO
from claimflow.claims.other_payers import PayerResponsibility
from claimflow.claims.remittance import ClaimPayment, Party, ProviderAdjustment
from claimflow.claims.responses import ClaimStatus, ClaimStatusDetail, StatusInfo
from claimflow.claims.x12.ta1 import interchange_identity, write_ta1
from claimflow.claims.x12.writer import Envelope
from claimflow.integrations.sandbox import adjudication, appeals, codec, documents, eligibility, secondary
from claimflow.integrations.sandbox.config import Faults, Payer, SandboxConfig
from claimflow.integrations.sandbox.store import Store

Clock = Callable[[], datetime]
X12 = "application/edi-x12"
JSON = "application/json"


def system_clock() -> datetime:
    return datetime.now(UTC)


class SandboxRequestError(ValueError):
    """A request the sandbox refuses: `status` is the HTTP status, the message says what to fix."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class _Outgoing:
    """835 claim payments collected during one catch-up, per payer and payee."""

    payments: dict[tuple[str, str], list[ClaimPayment]] = field(default_factory=dict)
    payees: dict[tuple[str, str], Party] = field(default_factory=dict)

    def add(self, payer_id: str, claim: Claim, payment: ClaimPayment) -> None:
        key = (payer_id, claim.encounter.billing_provider.npi)
        self.payments.setdefault(key, []).append(payment)
        self.payees.setdefault(key, documents.payee_of(claim))


class Sandbox:
    def __init__(
        self,
        config: SandboxConfig,
        store: Store,
        *,
        clock: Clock = system_clock,
        bundling: adjudication.BundlingLookup | None = None,
    ) -> None:
        self.config = config
        self.store = store
        self._clock = clock
        self._bundling = bundling or ncci_bundling()

    # time ----------------------------------------------------------------------------------------

    def now(self) -> datetime:
        return self._clock() + timedelta(seconds=self.clock_offset())

    def clock_offset(self) -> float:
        """Seconds the sandbox clock was moved ahead of the host's (kept across restarts)."""
        return float(self.store.get_meta("clock_offset", "0"))

    def advance(self, seconds: float) -> datetime:
        if seconds < 0:
            raise SandboxRequestError(
                422, f"the sandbox clock only moves forward; {seconds} seconds is negative"
            )
        with self.store.transaction() as db:
            offset = self.clock_offset() + seconds
            self.store.set_meta(db, "clock_offset", repr(offset))
        self.catch_up()
        return self.now()

    def _rng(self, *parts: object) -> random.Random:
        """A random source decided by the seed and what it is for, so a restart or a different
        request order gives the same decisions."""
        return random.Random(":".join([str(self.config.seed), *map(str, parts)]))

    # faults ----------------------------------------------------------------------------------------

    def faults(self) -> Faults:
        override = self.store.get_meta("faults", "")
        return Faults.model_validate(json.loads(override)) if override else self.config.faults

    def set_faults(self, values: dict[str, Any]) -> Faults:
        merged = Faults.model_validate({**self.faults().model_dump(), **values})
        with self.store.transaction() as db:
            self.store.set_meta(db, "faults", merged.model_dump_json())
        return merged

    # envelopes -------------------------------------------------------------------------------------

    def _envelope(
        self, db: sqlite3.Connection, receiver: str, application_sender: str | None = None
    ) -> Envelope:
        number = self.store.next_number(db, "interchange")
        return Envelope(
            sender_id=self.config.clearinghouse.id,
            receiver_id=receiver[:15] or "CLAIMFLOW",
            application_sender=application_sender,
            receiver_name=receiver[:60] or "CLAIMFLOW",
            interchange_control_number=number,
            group_control_number=number,
            created=self.now(),
            usage="P",
        )

    def _file(self, db: sqlite3.Connection, kind: str, media_type: str, content: str, *, key: str) -> str:
        """Put a file in the inbox; now and then twice, as real clearinghouses redeliver."""
        ts = self.now().timestamp()
        file_id = self.store.add_file(db, kind, media_type, content, ts, ts)
        if self._rng("redeliver", key).random() < self.faults().duplicate_delivery_rate:
            self.store.add_file(db, kind, media_type, content, ts, ts)
        return file_id

    def acknowledge_interchange(self, text: str, status: str, note_code: str) -> str | None:
        """Put a TA1 for the interchange `text` in the inbox (its id); None when it has no ISA to
        answer. The mailbox answers an interchange it cannot take this way."""
        identity = interchange_identity(text)
        if identity is None:
            return None
        with self.store.transaction() as db:
            ack = write_ta1(
                self._envelope(db, identity.sender_id), identity.control_number, self.now(), status, note_code
            )
            ts = self.now().timestamp()
            return self.store.add_file(db, "TA1", X12, ack, ts, ts)

    # eligibility and status ------------------------------------------------------------------------

    def eligibility(self, text: str) -> str:
        inquiries = _read(codec.read_270, text, "270")
        if not inquiries:
            raise SandboxRequestError(422, "the 270 holds no eligibility inquiry (no 2000C subscriber loop)")
        inquiry = inquiries[0]
        payer = self.config.payer(inquiry.payer_id)
        with self.store.transaction() as db:
            met = (
                self.store.deductible_met(db, payer.id, inquiry.member_id, inquiry.service_date.year)
                if payer
                else ZERO
            )
            # keyed by the inquiry's order too, so that a 270 answered "try later" can succeed later
            draw = self._rng("270", inquiry.trace_number, self.store.next_number(db, "eligibility"))
            result = eligibility.answer(inquiry, payer, met, draw)
            envelope = self._envelope(db, _sender_of(text), payer.id if payer else None)
        return codec.write_271(result, inquiry, envelope)

    def claim_status(self, text: str) -> str:
        self.catch_up()
        inquiries = _read(codec.read_276, text, "276")
        if not inquiries:
            raise SandboxRequestError(422, "the 276 holds no claim status inquiry (no 2200D claim loop)")
        inquiry = inquiries[0]
        row = self._claim_for(inquiry.payer_claim_number, inquiry.patient_control_number)
        today = self.now().date()
        if row is None:
            detail = ClaimStatusDetail(
                patient_control_number=inquiry.patient_control_number,
                statuses=[StatusInfo(category="A4", code="35")],
                status_date=today,
                total_charge=inquiry.total_charge,
                service_date=inquiry.service_date,
            )
        else:
            detail = _status_detail(row, today)
        status = ClaimStatus(
            trace_number=inquiry.trace_number,
            payer_id=inquiry.payer_id,
            payer_name=inquiry.payer_name,
            claims=[detail],
        )
        with self.store.transaction() as db:
            envelope = self._envelope(db, _sender_of(text), inquiry.payer_id)
        return codec.write_277(status, inquiry, envelope)

    def _claim_for(self, payer_claim_number: str | None, patient_control_number: str) -> sqlite3.Row | None:
        """The claim a 276 or an appeal names, as it stands now: a payer claim number that was
        reversed leads to the claim that took its place."""
        if payer_claim_number:
            rows = self.store.rows("SELECT * FROM claims WHERE payer_claim_number = ?", payer_claim_number)
            if rows:
                if rows[0]["state"] not in ("reversed", "replaced"):
                    return rows[0]
                patient_control_number = rows[0]["patient_control_number"]
        rows = self.store.rows(
            "SELECT * FROM claims WHERE patient_control_number = ? AND state NOT IN ('reversed', 'replaced') "
            "ORDER BY received_at DESC, rowid DESC LIMIT 1",
            patient_control_number,
        )
        return rows[0] if rows else None

    # claims ---------------------------------------------------------------------------------------

    def submit(self, text: str, idempotency_key: str | None) -> dict[str, Any]:
        """Take an 837 batch: a 999 at once, each claim on its way to a 277CA and an 835."""
        unreadable: codec.X12Error | None = None
        try:
            claims: list[Claim] = codec.read_837(text)
        except codec.X12Error as exc:
            claims, unreadable = [], exc
        body_sha = _content_digest(text, claims)
        with self.store.transaction() as db:
            if idempotency_key:
                earlier = db.execute(
                    "SELECT body_sha256, receipt FROM submissions WHERE idempotency_key = ?",
                    (idempotency_key,),
                ).fetchone()
                if earlier is not None:
                    if earlier["body_sha256"] != body_sha:
                        raise SandboxRequestError(
                            422,
                            f"Idempotency-Key {idempotency_key!r} was used for different claims; "
                            "use a new key for a new submission",
                        )
                    self.store.set_meta(db, "replays", str(int(self.store.get_meta("replays", "0")) + 1))
                    return {**json.loads(earlier["receipt"]), "duplicate": True}
            now = self.now()
            ts = now.timestamp()
            submission_id = f"S{self.store.next_number(db, 'submission'):08d}"
            sender = _sender_of(text)
            envelope = self._envelope(db, sender)
            try:
                ack = codec.acknowledge(text, envelope)
            except codec.X12Error as exc:
                raise SandboxRequestError(400, f"the body is not an X12 837 interchange: {exc}") from None
            if unreadable is not None and codec.accepted(ack):
                ack = codec.reject_999(ack, text, unreadable, envelope)
            accepted = bool(claims) and codec.accepted(ack)
            ack_id = f"999-{submission_id}"
            ack_file = self._file(db, "999", X12, ack, key=ack_id)
            batch_id = _batch_id(text)
            if accepted:
                delay = self.config.clearinghouse.acknowledgement_delay
                for claim in claims:
                    self._insert_claim(
                        db,
                        claim,
                        submission_id=submission_id,
                        received=ts,
                        acknowledge_at=ts + delay,
                        sender=sender,
                        batch_id=batch_id,
                    )
            receipt: dict[str, Any] = {
                "submission_id": submission_id,
                "claims": len(claims) if accepted else 0,
                "accepted": accepted,
                "acknowledgement_file_id": ack_file,
                "received_at": now.isoformat(),
                "duplicate": False,
                "problem": str(unreadable) if unreadable else None,
            }
            db.execute(
                "INSERT INTO submissions (id, idempotency_key, body_sha256, received_at, receipt) "
                "VALUES (?, ?, ?, ?, ?)",
                (submission_id, idempotency_key or None, body_sha, ts, json.dumps(receipt)),
            )
        return receipt

    def _insert_claim(
        self,
        db: sqlite3.Connection,
        claim: Claim,
        *,
        submission_id: str,
        received: float,
        acknowledge_at: float,
        sender: str,
        batch_id: str | None,
        origin: str = "submitted",
        waived: str = "",
    ) -> str:
        payer_id = claim.encounter.coverage.payer_id.upper()
        number = f"{payer_id[-3:]}{self.store.next_number(db, 'claim'):09d}"
        db.execute(
            "INSERT INTO claims (payer_claim_number, submission_id, patient_control_number, payer_id, "
            "member_id, fingerprint, claim, received_at, state, acknowledge_at, sender, batch_id, origin, "
            "waived) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'received', ?, ?, ?, ?, ?)",
            (
                number,
                submission_id,
                claim.patient_control_number,
                payer_id,
                claim.encounter.coverage.member_id.upper(),
                fingerprint(claim),
                claim.model_dump_json(),
                received,
                acknowledge_at,
                sender,
                batch_id,
                origin,
                waived,
            ),
        )
        return number

    # catching up with the clock --------------------------------------------------------------------

    def catch_up(self) -> None:
        """Make every event that is due by now: 277CAs, 835s, reversals, appeal decisions."""
        ts = self.now().timestamp()
        with self.store.transaction() as db:
            self._acknowledge_claims(db, ts)
            outgoing = _Outgoing()
            self._adjudicate_claims(db, ts, outgoing)
            self._reverse_claims(db, ts, outgoing)
            self._decide_appeals(db, ts, outgoing)
            self._remit(db, outgoing)

    def _acknowledge_claims(self, db: sqlite3.Connection, ts: float) -> None:
        rows = db.execute(
            "SELECT * FROM claims WHERE state = 'received' AND acknowledge_at <= ? "
            "ORDER BY received_at, rowid",
            (ts,),
        ).fetchall()
        groups: dict[tuple[str, str], list[ClaimStatusDetail]] = {}
        today = self.now().date()
        received_on: dict[tuple[str, str], date] = {}
        for row in rows:
            claim = Claim.model_validate_json(row["claim"])
            payer = self.config.payer(row["payer_id"])
            status = self._front_end(db, claim, payer, row["payer_claim_number"])
            if status.accepted:
                assert payer is not None  # an unknown payer is rejected
                db.execute(
                    "UPDATE claims SET state = 'accepted', adjudicate_at = ? WHERE payer_claim_number = ?",
                    (row["received_at"] + payer.adjudication_delay, row["payer_claim_number"]),
                )
            else:
                db.execute(
                    "UPDATE claims SET state = 'rejected', rejection = ? WHERE payer_claim_number = ?",
                    (status.model_dump_json(), row["payer_claim_number"]),
                )
            key = (row["submission_id"], row["payer_id"])
            groups.setdefault(key, []).append(
                documents.claim_detail(claim, status, row["payer_claim_number"], today)
            )
            received_on[key] = datetime.fromtimestamp(row["received_at"], UTC).date()
        for (submission_id, payer_id), details in groups.items():
            payer = self.config.payer(payer_id)
            first = db.execute(
                "SELECT sender, batch_id FROM claims WHERE submission_id = ? LIMIT 1", (submission_id,)
            ).fetchone()
            ack = documents.claim_acknowledgement(
                payer_id,
                payer.name if payer else payer_id,
                details,
                received=received_on[(submission_id, payer_id)],
                processed=today,
                trace_number=f"{submission_id}-{payer_id}",
                receiver=first["sender"],
                batch_id=first["batch_id"] or submission_id,
            )
            text = codec.write_277ca([ack], self._envelope(db, first["sender"], payer_id))
            self._file(db, "277CA", X12, text, key=f"277CA-{submission_id}-{payer_id}")

    def _front_end(
        self, db: sqlite3.Connection, claim: Claim, payer: Payer | None, number: str
    ) -> StatusInfo:
        if payer is None:
            return documents.WRONG_PAYER
        if payer.find_member(claim.encounter.coverage.member_id) is None:
            return documents.SUBSCRIBER_NOT_FOUND
        if claim.frequency is not FrequencyCode.ORIGINAL and self._original(db, claim) is None:
            return documents.ORIGINAL_NOT_FOUND
        rng = self._rng("front-end", *_identity(db, number))
        if rng.random() < payer.noise.front_end_rejection_rate:
            return rng.choice(documents.NOISE_REJECTIONS)
        return documents.ACCEPTED

    def _original(self, db: sqlite3.Connection, claim: Claim) -> sqlite3.Row | None:
        row: sqlite3.Row | None = db.execute(
            "SELECT * FROM claims WHERE payer_claim_number = ? AND state = 'remitted'",
            (claim.original_claim_number,),
        ).fetchone()
        return row

    def _adjudicate_claims(self, db: sqlite3.Connection, ts: float, outgoing: _Outgoing) -> None:
        rows = db.execute(
            "SELECT * FROM claims WHERE state = 'accepted' AND adjudicate_at <= ? "
            "ORDER BY adjudicate_at, rowid",
            (ts,),
        ).fetchall()
        for row in rows:
            claim = Claim.model_validate_json(row["claim"])
            payer = self.config.payer(row["payer_id"])
            assert payer is not None  # accepted claims have a known payer
            if claim.frequency is not FrequencyCode.ORIGINAL:
                original = self._original(db, claim)
                if original is not None:
                    self._reverse(db, original, outgoing, new_state="replaced")
                if claim.frequency is FrequencyCode.VOID:
                    db.execute(
                        "UPDATE claims SET state = 'voided' WHERE payer_claim_number = ?",
                        (row["payer_claim_number"],),
                    )
                    continue
            payment = self._cross_over(db, row, claim, payer, self._pay(db, row, claim, payer))
            outgoing.add(payer.id, claim, payment)
            reverse_at = None
            first_time = row["origin"] == "submitted"  # a re-adjudication is not reversed again
            if (
                first_time
                and self._rng("reversal", *_identity(db, row["payer_claim_number"])).random()
                < payer.noise.reversal_rate
            ):
                reverse_at = ts + payer.adjudication_delay
            db.execute(
                "UPDATE claims SET reverse_at = ? WHERE payer_claim_number = ?",
                (reverse_at, row["payer_claim_number"]),
            )

    def _pay(self, db: sqlite3.Connection, row: sqlite3.Row, claim: Claim, payer: Payer) -> ClaimPayment:
        """Adjudicate one claim, record the payment and the member's deductible."""
        member = payer.find_member(row["member_id"])
        assert member is not None  # checked at the front end
        year = claim.encounter.service_date.year
        number = row["payer_claim_number"]
        context = adjudication.ClaimContext(
            payer=payer,
            member=member,
            received=datetime.fromtimestamp(row["received_at"], UTC).date(),
            payer_claim_number=number,
            deductible_met=self.store.deductible_met(db, payer.id, row["member_id"], year),
            duplicate=row["origin"] == "submitted" and self._duplicate(db, row, claim.original_claim_number),
            bundling=self._bundling,
            waived=frozenset(filter(None, row["waived"].split(","))),
        )
        if claim.responsibility is PayerResponsibility.PRIMARY:
            result = adjudication.adjudicate(claim, context, self._rng("adjudicate", *_identity(db, number)))
        else:
            result = secondary.adjudicate_coordinated(claim, context)
        self.store.add_deductible(db, payer.id, row["member_id"], year, result.deductible_applied)
        db.execute(
            "UPDATE claims SET state = 'remitted', payment = ?, deductible_applied = ?, remitted_at = ? "
            "WHERE payer_claim_number = ?",
            (
                result.payment.model_dump_json(),
                str(result.deductible_applied),
                self.now().timestamp(),
                number,
            ),
        )
        return result.payment

    def _cross_over(
        self, db: sqlite3.Connection, row: sqlite3.Row, claim: Claim, payer: Payer, payment: ClaimPayment
    ) -> ClaimPayment:
        """Forward a decided claim to the next payer it names when this payer crosses claims over to
        that payer and the member is that payer's (COBA): the 835 says so (CLP02 19, MA18), and the
        next payer adjudicates the claim after its own delay, without a claim from the provider."""
        decided_on = self.now().date()
        forwarded = coordination.forwarded_claim(claim, coordination.Decision(payment, decided_on))
        if forwarded is None or coordination.patient_remainder(payment) <= 0:
            return payment
        next_payer = self.config.payer(forwarded.encounter.coverage.payer_id)
        if (
            next_payer is None
            or next_payer.id not in payer.coordination.crossover_to
            or next_payer.find_member(forwarded.encounter.coverage.member_id) is None
        ):
            return payment
        payment = secondary.forwards(payment)
        ts = self.now().timestamp()
        number = self._insert_claim(
            db,
            forwarded,
            submission_id=row["submission_id"],
            received=ts,
            acknowledge_at=ts,
            sender=row["sender"],
            batch_id=row["batch_id"],
            origin="crossover",
        )
        db.execute(  # no 277CA: the provider did not send this claim
            "UPDATE claims SET state = 'accepted', adjudicate_at = ? WHERE payer_claim_number = ?",
            (ts + next_payer.adjudication_delay, number),
        )
        db.execute(
            "UPDATE claims SET payment = ? WHERE payer_claim_number = ?",
            (payment.model_dump_json(), row["payer_claim_number"]),
        )
        return payment

    def _duplicate(self, db: sqlite3.Connection, row: sqlite3.Row, replaces: str | None = None) -> bool:
        """An identical claim (same member, day, provider and lines) was adjudicated before; the claim a
        replacement (frequency 7) replaces does not count."""
        earlier = db.execute(
            "SELECT 1 FROM claims WHERE fingerprint = ? AND payer_claim_number != ? AND state IN "
            "('remitted', 'reversed', 'replaced') "
            "AND payer_claim_number != ? "
            "AND rowid < (SELECT rowid FROM claims WHERE payer_claim_number = ?) "
            "LIMIT 1",
            (row["fingerprint"], row["payer_claim_number"], replaces or "", row["payer_claim_number"]),
        ).fetchone()
        return earlier is not None

    def _reverse(
        self, db: sqlite3.Connection, row: sqlite3.Row, outgoing: _Outgoing, *, new_state: str
    ) -> None:
        claim = Claim.model_validate_json(row["claim"])
        payment = ClaimPayment.model_validate_json(row["payment"])
        outgoing.add(row["payer_id"], claim, adjudication.reverse(payment))
        self.store.add_deductible(
            db,
            row["payer_id"],
            row["member_id"],
            claim.encounter.service_date.year,
            -Decimal(row["deductible_applied"]),
        )
        db.execute(
            "UPDATE claims SET state = ?, reverse_at = NULL WHERE payer_claim_number = ?",
            (new_state, row["payer_claim_number"]),
        )

    def _reprocess(self, db: sqlite3.Connection, row: sqlite3.Row, outgoing: _Outgoing, waived: str) -> str:
        """Reverse a payment and adjudicate the same claim again under a new payer claim number."""
        self._reverse(db, row, outgoing, new_state="reversed")
        claim = Claim.model_validate_json(row["claim"])
        number = self._insert_claim(
            db,
            claim,
            submission_id=row["submission_id"],
            received=row["received_at"],
            acknowledge_at=row["acknowledge_at"],
            sender=row["sender"],
            batch_id=row["batch_id"],
            origin="reprocessed",
            waived=waived,
        )
        payer = self.config.payer(row["payer_id"])
        assert payer is not None
        new_row = db.execute("SELECT * FROM claims WHERE payer_claim_number = ?", (number,)).fetchone()
        outgoing.add(payer.id, claim, self._pay(db, new_row, claim, payer))
        return number

    def _reverse_claims(self, db: sqlite3.Connection, ts: float, outgoing: _Outgoing) -> None:
        rows = db.execute(
            "SELECT * FROM claims WHERE state = 'remitted' AND reverse_at IS NOT NULL AND reverse_at <= ? "
            "ORDER BY reverse_at, rowid",
            (ts,),
        ).fetchall()
        for row in rows:
            self._reprocess(db, row, outgoing, row["waived"])

    # appeals ---------------------------------------------------------------------------------------

    def appeal(
        self,
        letter: str,
        payer_claim_number: str | None,
        patient_control_number: str | None,
        idempotency_key: str | None,
    ) -> dict[str, Any]:
        self.catch_up()
        if not letter.strip():
            raise SandboxRequestError(422, "the appeal letter is empty: send the letter text in 'letter'")
        row = self._claim_for(payer_claim_number, patient_control_number or "")
        if row is None or row["state"] not in ("remitted", "reversed"):
            named = payer_claim_number or patient_control_number
            raise SandboxRequestError(
                404 if row is None else 409,
                f"claim {named} has no remittance to appeal"
                + ("" if row is None else f" (it is {row['state']}); wait for its 835"),
            )
        payer = self.config.payer(row["payer_id"])
        assert payer is not None
        with self.store.transaction() as db:
            if idempotency_key:
                earlier = db.execute(
                    "SELECT * FROM appeals WHERE idempotency_key = ?", (idempotency_key,)
                ).fetchone()
                if earlier is not None:
                    return _appeal_receipt(earlier, duplicate=True)
            ts = self.now().timestamp()
            appeal_id = f"A{self.store.next_number(db, 'appeal'):08d}"
            db.execute(
                "INSERT INTO appeals (id, idempotency_key, payer_claim_number, letter, received_at, "
                "decide_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (
                    appeal_id,
                    idempotency_key or None,
                    row["payer_claim_number"],
                    letter,
                    ts,
                    ts + payer.appeal_decision_delay,
                ),
            )
            created = db.execute("SELECT * FROM appeals WHERE id = ?", (appeal_id,)).fetchone()
        return _appeal_receipt(created, duplicate=False)

    def _decide_appeals(self, db: sqlite3.Connection, ts: float, outgoing: _Outgoing) -> None:
        rows = db.execute(
            "SELECT * FROM appeals WHERE decided_at IS NULL AND decide_at <= ? ORDER BY decide_at, id", (ts,)
        ).fetchall()
        for appeal in rows:
            named = db.execute(
                "SELECT * FROM claims WHERE payer_claim_number = ?", (appeal["payer_claim_number"],)
            ).fetchone()
            claim_row = (
                self._claim_for(appeal["payer_claim_number"], named["patient_control_number"]) or named
            )
            payer = self.config.payer(claim_row["payer_id"])
            assert payer is not None
            payment = ClaimPayment.model_validate_json(claim_row["payment"])
            decision = appeals.decide(
                appeal["letter"],
                adjudication.denial_reasons(payment),
                payer,
                appealed=datetime.fromtimestamp(appeal["received_at"], UTC).date(),
                remitted=datetime.fromtimestamp(claim_row["remitted_at"], UTC).date(),
                rng=self._rng("appeal", appeal["id"]),
            )
            outcome: dict[str, Any] = {
                "appeal_id": appeal["id"],
                "payer_id": payer.id,
                "payer_claim_number": appeal["payer_claim_number"],
                "patient_control_number": claim_row["patient_control_number"],
                "decision": "overturned" if decision.overturned else "upheld",
                "overturned_reasons": sorted(decision.overturned),
                "explanation": decision.explanation,
                "decided_on": self.now().date().isoformat(),
            }
            if decision.overturned and claim_row["state"] == "remitted":
                waived = ",".join(
                    sorted(set(filter(None, claim_row["waived"].split(","))) | decision.overturned)
                )
                outcome["new_payer_claim_number"] = self._reprocess(db, claim_row, outgoing, waived)
            else:
                outcome["decision"] = "upheld"
                self._file(db, "appeal_decision", JSON, json.dumps(outcome, indent=2), key=appeal["id"])
            db.execute(
                "UPDATE appeals SET decided_at = ?, decision = ? WHERE id = ?",
                (ts, json.dumps(outcome), appeal["id"]),
            )

    # the 835 ---------------------------------------------------------------------------------------

    def _remit(self, db: sqlite3.Connection, outgoing: _Outgoing) -> None:
        today = self.now().date()
        for (payer_id, payee_npi), payments in outgoing.payments.items():
            payer = self.config.payer(payer_id)
            assert payer is not None
            trace = f"{payer.id[-3:]}{self.store.next_number(db, 'check'):09d}"
            adjustments = self._provider_adjustments(db, payer, payee_npi, payments, trace, today)
            remittance = documents.remittance(
                payer,
                outgoing.payees[(payer_id, payee_npi)],
                payments,
                adjustments,
                day=today,
                trace_number=trace,
            )
            findings = codec.balancing_findings(remittance)
            if findings:  # a sandbox bug: refuse to emit it (the transaction rolls back, nothing is lost)
                raise RuntimeError(f"835 {trace} does not balance: {'; '.join(f.message for f in findings)}")
            envelope = self._envelope(db, self._receiver_for(db, payments), payer.id)
            self._file(db, "835", X12, codec.write_835([remittance], envelope), key=f"835-{trace}")

    def _provider_adjustments(
        self,
        db: sqlite3.Connection,
        payer: Payer,
        payee_npi: str,
        payments: list[ClaimPayment],
        trace: str,
        day: date,
    ) -> list[ProviderAdjustment]:
        """PLB: interest now and then (noise), and a negative balance carried to the next 835."""
        found: list[ProviderAdjustment] = []
        total = sum((p.paid for p in payments), ZERO)
        rng = self._rng("plb", trace)
        if total > 0 and rng.random() < payer.noise.provider_adjustment_rate:
            interest = Decimal(rng.randrange(50, 1500)) / 100
            found.append(
                ProviderAdjustment(
                    provider_id=payee_npi,
                    fiscal_period_end=_year_end(day),
                    reason="L6",
                    reference=trace,
                    amount=-interest,
                )
            )
            total += interest
        balance_key = f"balance:{payer.id}:{payee_npi}"
        owed = Decimal(self.store.get_meta(balance_key, "0"))
        if owed > 0 and total > 0:
            recovered = min(owed, total)
            found.append(
                ProviderAdjustment(
                    provider_id=payee_npi,
                    fiscal_period_end=_year_end(day),
                    reason="FB",
                    reference="BALANCE FORWARD",
                    amount=recovered,
                )
            )
            owed -= recovered
            total -= recovered
        if total < 0:
            found.append(
                ProviderAdjustment(
                    provider_id=payee_npi,
                    fiscal_period_end=_year_end(day),
                    reason="FB",
                    reference=trace,
                    amount=total,
                )
            )
            owed += -total
        self.store.set_meta(db, balance_key, str(owed))
        return found

    def _receiver_for(self, db: sqlite3.Connection, payments: list[ClaimPayment]) -> str:
        row = db.execute(
            "SELECT sender FROM claims WHERE payer_claim_number = ?", (payments[0].payer_claim_number,)
        ).fetchone()
        return str(row["sender"]) if row else "CLAIMFLOW"

    # inbox and counters ----------------------------------------------------------------------------

    def stats(self) -> dict[str, Any]:
        received = self.store.rows(
            "SELECT patient_control_number, count(*) AS n FROM claims WHERE origin = 'submitted' "
            "GROUP BY patient_control_number ORDER BY patient_control_number"
        )
        states = self.store.rows("SELECT state, count(*) AS n FROM claims GROUP BY state")
        files = self.store.rows(
            "SELECT kind, count(*) AS n, sum(acknowledged_at IS NULL) AS waiting FROM files GROUP BY kind"
        )
        submissions = self.store.rows("SELECT count(*) AS n FROM submissions")[0]["n"]
        return {
            "now": self.now().isoformat(),
            "submissions": submissions,
            "idempotent_replays": int(self.store.get_meta("replays", "0")),
            "claims_received": {r["patient_control_number"]: r["n"] for r in received},
            "claims_by_state": {r["state"]: r["n"] for r in states},
            "files": {r["kind"]: {"total": r["n"], "waiting": r["waiting"]} for r in files},
        }


def fingerprint(claim: Claim) -> str:
    """What makes two claims the same claim to a payer: member, provider, day and lines (not the
    patient control number, which a resubmission may change)."""
    encounter = claim.encounter
    lines = sorted(
        (
            line.procedure_code,
            ",".join(line.modifiers),
            str(line.units),
            str(line.charge),
            line.service_date.isoformat(),
        )
        for line in encounter.service_lines
    )
    key = json.dumps(
        [
            encounter.coverage.payer_id.upper(),
            encounter.coverage.member_id.upper(),
            encounter.billing_provider.npi,
            encounter.service_date.isoformat(),
            claim.frequency.value,
            lines,
        ]
    )
    return hashlib.sha256(key.encode()).hexdigest()


def ncci_bundling() -> adjudication.BundlingLookup:
    """NCCI PTP edits from the shipped code sets (practitioner for 837P, outpatient hospital for
    837I); the payer file's own pairs are checked before these."""
    from claimflow.claims.codesets import default_codesets

    def lookup(column1: str, column2: str, day: date, kind: ClaimKind) -> int | None:
        tables = default_codesets().ptp
        table = tables["outpatient_hospital" if kind is ClaimKind.INSTITUTIONAL else "practitioner"]
        edit = table.edit(column1, column2)
        return edit.modifier_indicator if edit is not None and edit.applies_on(day) else None

    return lookup


def _status_detail(row: sqlite3.Row, today: date) -> ClaimStatusDetail:
    claim = Claim.model_validate_json(row["claim"])
    state = row["state"]
    number = row["payer_claim_number"]
    if state == "received":
        status = StatusInfo(category="A1", code="19", entity="PR")
    elif state == "rejected":
        status = StatusInfo.model_validate_json(row["rejection"])
    elif state == "accepted":
        status = StatusInfo(category="P1", code="20")
    elif state == "voided":
        status = StatusInfo(category="F0", code="3")
    else:
        payment = ClaimPayment.model_validate_json(row["payment"])
        if payment.paid > 0:
            status = StatusInfo(category="F1", code="65")
        elif adjudication.denial_reasons(payment):
            status = StatusInfo(category="F2", code="1")
        else:
            status = StatusInfo(category="F4", code="1")
        detail = documents.claim_detail(claim, status, number, today)
        return detail.model_copy(
            update={
                "paid_amount": payment.paid,
                "adjudication_date": datetime.fromtimestamp(row["remitted_at"], UTC).date(),
            }
        )
    return documents.claim_detail(claim, status, number, today)


def _appeal_receipt(row: sqlite3.Row, *, duplicate: bool) -> dict[str, Any]:
    return {
        "appeal_id": row["id"],
        "payer_claim_number": row["payer_claim_number"],
        "decision_due": datetime.fromtimestamp(row["decide_at"], UTC).isoformat(),
        "duplicate": duplicate,
    }


def _content_digest(text: str, claims: list[Claim]) -> str:
    """What an idempotency key promises stays the same: the claims, not the envelope (a retried
    activity writes a new ISA control number and time around the same claims)."""
    content = json.dumps([c.model_dump(mode="json") for c in claims]) if claims else text
    return hashlib.sha256(content.encode("utf-8")).hexdigest()


def _year_end(day: date) -> date:
    return date(day.year, 12, 31)


def _read(reader: Callable[[str], list[Any]], text: str, what: str) -> list[Any]:
    try:
        return reader(text)
    except codec.X12Error as exc:
        raise SandboxRequestError(400, f"the body is not a readable {what}: {exc}") from None


def _sender_of(text: str) -> str:
    """ISA06 of an inbound interchange: who we answer."""
    return codec.interchange_sender(text) or "CLAIMFLOW"


def _batch_id(text: str) -> str | None:
    return codec.batch_id(text)


def _identity(db: sqlite3.Connection, payer_claim_number: str) -> tuple[str, str, int]:
    """What a noise decision about a claim is keyed by: its payer, its patient control number and
    how many claims with that number the payer received before it, never its place in the arrival
    order, so the same claims decide alike however the transport (or the clock) ordered them."""
    row = db.execute(
        "SELECT payer_id, patient_control_number, "
        "(SELECT COUNT(*) FROM claims AS earlier WHERE earlier.payer_id = claims.payer_id "
        "AND earlier.patient_control_number = claims.patient_control_number "
        "AND earlier.rowid < claims.rowid) AS nth "
        "FROM claims WHERE payer_claim_number = ?",
        (payer_claim_number,),
    ).fetchone()
    if row is None:
        return ("", payer_claim_number, 0)
    return (row["payer_id"], row["patient_control_number"], int(row["nth"]))
