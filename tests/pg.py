"""A throwaway PostgreSQL 15 cluster for tests: initdb + pg_ctl on a free port, removed afterwards.

Reusable by any test package:

    from tests.pg import postgres_server, postgres_url  # noqa: F401  (pytest fixtures)

`postgres_server` (session) starts one cluster; `postgres_url` gives each test a fresh database.
The binaries come from /usr/lib/postgresql/15/bin (not on PATH) or $CLAIMFLOW_PG_BIN; the tests
are skipped, saying so, only when they are absent. PostgreSQL refuses to run as root, so as root
the cluster runs as the `postgres` user (created with useradd when missing).
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.ports import free_port

PG_BIN = Path(os.environ.get("CLAIMFLOW_PG_BIN", "/usr/lib/postgresql/15/bin"))
SERVICE_USER = "postgres"


@dataclass
class PostgresServer:
    data_dir: Path
    port: int
    run_as: str | None

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg2://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        """Create an empty database and return its SQLAlchemy URL."""
        import psycopg2

        connection = psycopg2.connect(host="127.0.0.1", port=self.port, user="postgres", dbname="postgres")
        try:
            connection.autocommit = True
            with connection.cursor() as cursor:
                cursor.execute(f'CREATE DATABASE "{name}"')
        finally:
            connection.close()
        return self.url(name)

    def stop(self) -> None:
        _run(self.run_as, [str(PG_BIN / "pg_ctl"), "-D", str(self.data_dir), "-m", "immediate", "-w", "stop"])


def postgres_available() -> bool:
    return (PG_BIN / "initdb").is_file() and (PG_BIN / "pg_ctl").is_file()


def start_postgres() -> PostgresServer:
    """initdb a cluster in a temporary directory and start it on a free local port."""
    run_as = _service_user() if os.geteuid() == 0 else None
    base = Path(tempfile.mkdtemp(prefix="claimflow-pg-"))
    data_dir = base / "data"
    if run_as is not None:
        record = pwd.getpwnam(run_as)
        os.chown(base, record.pw_uid, record.pw_gid)
    _run(
        run_as,
        [
            str(PG_BIN / "initdb"),
            "-D",
            str(data_dir),
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--no-sync",
        ],
    )
    port = free_port()
    options = (
        f"-p {port} -c listen_addresses=127.0.0.1 -k {base} -c fsync=off "
        "-c synchronous_commit=off -c full_page_writes=off -c max_connections=60"
    )
    _run(
        run_as,
        [str(PG_BIN / "pg_ctl"), "-D", str(data_dir), "-o", options, "-l", str(base / "log"), "-w", "start"],
    )
    return PostgresServer(data_dir=data_dir, port=port, run_as=run_as)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    if not postgres_available():
        pytest.skip(f"PostgreSQL 15 binaries not found in {PG_BIN} (apt-get install postgresql-15)")
    server = start_postgres()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(server.data_dir.parent, ignore_errors=True)


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> str:
    """A fresh, empty database on the session's cluster."""
    return postgres_server.create_database(f"test_{uuid.uuid4().hex[:12]}")


def _service_user() -> str:
    try:
        pwd.getpwnam(SERVICE_USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", SERVICE_USER], check=True)
    return SERVICE_USER


def _run(run_as: str | None, command: list[str]) -> None:
    full = ["runuser", "-u", run_as, "--", *command] if run_as else command
    result = subprocess.run(full, capture_output=True, text=True, cwd="/")
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(full)} failed ({result.returncode}): {result.stderr or result.stdout}")
