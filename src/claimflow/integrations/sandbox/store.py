"""The sandbox's memory in one SQLite file: submissions, claims, inbox files, appeals, accumulators.

Every change is committed before the HTTP answer leaves, so a sandbox killed at any moment and
started again on the same file has lost no submission and no file. Times are stored as POSIX
seconds on the sandbox clock (which tests move forward).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS submissions (
    id TEXT PRIMARY KEY,
    idempotency_key TEXT UNIQUE,
    body_sha256 TEXT NOT NULL,
    received_at REAL NOT NULL,
    receipt TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS claims (
    payer_claim_number TEXT PRIMARY KEY,
    submission_id TEXT NOT NULL,
    patient_control_number TEXT NOT NULL,
    payer_id TEXT NOT NULL,
    member_id TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    claim TEXT NOT NULL,
    received_at REAL NOT NULL,
    state TEXT NOT NULL,
    acknowledge_at REAL NOT NULL,
    adjudicate_at REAL,
    rejection TEXT,
    payment TEXT,
    deductible_applied TEXT NOT NULL DEFAULT '0',
    remitted_at REAL,
    reverse_at REAL,
    waived TEXT NOT NULL DEFAULT '',
    sender TEXT NOT NULL,
    batch_id TEXT,
    origin TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS claims_by_pcn ON claims (patient_control_number);
CREATE INDEX IF NOT EXISTS claims_by_fingerprint ON claims (fingerprint);
CREATE TABLE IF NOT EXISTS files (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT UNIQUE NOT NULL,
    kind TEXT NOT NULL,
    media_type TEXT NOT NULL,
    content TEXT NOT NULL,
    created_at REAL NOT NULL,
    available_at REAL NOT NULL,
    acknowledged_at REAL
);
CREATE TABLE IF NOT EXISTS accumulators (
    payer_id TEXT NOT NULL,
    member_id TEXT NOT NULL,
    year INTEGER NOT NULL,
    deductible_met TEXT NOT NULL,
    PRIMARY KEY (payer_id, member_id, year)
);
CREATE TABLE IF NOT EXISTS appeals (
    id TEXT PRIMARY KEY,
    idempotency_key TEXT UNIQUE,
    payer_claim_number TEXT NOT NULL,
    letter TEXT NOT NULL,
    received_at REAL NOT NULL,
    decide_at REAL NOT NULL,
    decided_at REAL,
    decision TEXT
);
"""


@dataclass(frozen=True)
class InboxEntry:
    id: str
    kind: str
    media_type: str
    created_at: float
    size: int


class Store:
    """Thread-safe access to the database; every `transaction()` commits or rolls back whole."""

    def __init__(self, path: Path | str) -> None:
        self._lock = threading.RLock()
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        if str(path) != ":memory:":
            self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    # meta: counters and settings -----------------------------------------------------------

    def get_meta(self, key: str, default: str) -> str:
        with self._lock:
            row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return str(row["value"]) if row else default

    def set_meta(self, db: sqlite3.Connection, key: str, value: str) -> None:
        db.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = ?",
            (key, value, value),
        )

    def next_number(self, db: sqlite3.Connection, counter: str) -> int:
        row = db.execute("SELECT value FROM meta WHERE key = ?", (f"seq:{counter}",)).fetchone()
        number = int(row["value"]) + 1 if row else 1
        self.set_meta(db, f"seq:{counter}", str(number))
        return number

    # files -----------------------------------------------------------------------------------

    def add_file(
        self,
        db: sqlite3.Connection,
        kind: str,
        media_type: str,
        content: str,
        created: float,
        available: float,
    ) -> str:
        file_id = f"F{self.next_number(db, 'file'):08d}"
        db.execute(
            "INSERT INTO files (id, kind, media_type, content, created_at, available_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (file_id, kind, media_type, content, created, available),
        )
        return file_id

    def inbox(self, now: float) -> list[InboxEntry]:
        with self._lock:
            rows = self._db.execute(
                "SELECT id, kind, media_type, created_at, length(content) AS size FROM files "
                "WHERE acknowledged_at IS NULL AND available_at <= ? ORDER BY available_at, seq",
                (now,),
            ).fetchall()
        return [InboxEntry(r["id"], r["kind"], r["media_type"], r["created_at"], r["size"]) for r in rows]

    def file(self, file_id: str, now: float) -> sqlite3.Row | None:
        with self._lock:
            row: sqlite3.Row | None = self._db.execute(
                "SELECT * FROM files WHERE id = ? AND available_at <= ?", (file_id, now)
            ).fetchone()
        return row

    def acknowledge(self, file_id: str, now: float) -> bool:
        """Mark a file acknowledged; False when no such file is visible."""
        with self.transaction() as db:
            row = db.execute(
                "SELECT acknowledged_at FROM files WHERE id = ? AND available_at <= ?", (file_id, now)
            ).fetchone()
            if row is None:
                return False
            if row["acknowledged_at"] is None:
                db.execute("UPDATE files SET acknowledged_at = ? WHERE id = ?", (now, file_id))
            return True

    # accumulators ----------------------------------------------------------------------------

    def deductible_met(self, db: sqlite3.Connection, payer_id: str, member_id: str, year: int) -> Decimal:
        row = db.execute(
            "SELECT deductible_met FROM accumulators WHERE payer_id = ? AND member_id = ? AND year = ?",
            (payer_id, member_id.upper(), year),
        ).fetchone()
        return Decimal(row["deductible_met"]) if row else Decimal("0.00")

    def add_deductible(
        self, db: sqlite3.Connection, payer_id: str, member_id: str, year: int, amount: Decimal
    ) -> None:
        met = self.deductible_met(db, payer_id, member_id, year) + amount
        db.execute(
            "INSERT INTO accumulators (payer_id, member_id, year, deductible_met) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(payer_id, member_id, year) DO UPDATE SET deductible_met = excluded.deductible_met",
            (payer_id, member_id.upper(), year, str(met)),
        )

    # reading ---------------------------------------------------------------------------------

    def rows(self, sql: str, *params: Any) -> list[sqlite3.Row]:
        with self._lock:
            return self._db.execute(sql, params).fetchall()
