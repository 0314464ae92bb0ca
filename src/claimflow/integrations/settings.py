"""Configuration from environment variables, with defaults that run the embedded stack.

`VARIABLES` is the one list of every variable claimflow reads; docker-compose and the docs are
checked against it. Nothing else in claimflow reads `os.environ` for configuration.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

LogFormat = Literal["json", "console"]
TransportKind = Literal["http", "sftp"]


@dataclass(frozen=True)
class Variable:
    """One environment variable: its name, the `Settings` field it sets, its default as a person
    reads it, and what it does."""

    name: str
    field: str
    default: str
    meaning: str


VARIABLES: tuple[Variable, ...] = (
    Variable("TEMPORAL_ADDRESS", "temporal_address", "localhost:7233", "host:port of the Temporal frontend"),
    Variable("TEMPORAL_NAMESPACE", "temporal_namespace", "default", "Temporal namespace the claims live in"),
    Variable("TEMPORAL_TASK_QUEUE", "temporal_task_queue", "claimflow", "task queue the workers poll"),
    Variable(
        "CLAIMFLOW_HOME",
        "home",
        ".claimflow",
        "directory for the embedded stack's files: ledger database, generated key file",
    ),
    Variable(
        "DATABASE_URL",
        "database_url",
        "sqlite:///$CLAIMFLOW_HOME/ledger.db",
        "SQLAlchemy URL of the ledger; postgresql+psycopg2://user:pass@host/db in production",
    ),
    Variable(
        "CLEARINGHOUSE_URL",
        "clearinghouse_url",
        "http://127.0.0.1:8700",
        "base URL of the clearinghouse (or the sandbox)",
    ),
    Variable(
        "CLAIMFLOW_TRANSPORT",
        "transport",
        "http",
        "http: everything over CLEARINGHOUSE_URL; sftp: claims and payer files through the SFTP mailbox "
        "of CLEARINGHOUSE_PROFILE",
    ),
    Variable(
        "CLEARINGHOUSE_PROFILE",
        "clearinghouse_profile",
        "(none)",
        "TOML profile of the clearinghouse's SFTP mailbox (host, user, key, known_hosts, folders, "
        "real-time URL); needed when CLAIMFLOW_TRANSPORT is sftp",
    ),
    Variable(
        "CLAIMFLOW_KEYS",
        "keys",
        "(generated into $CLAIMFLOW_HOME/keys on first start)",
        "payload encryption keys, current first: kid1:base64key,kid2:base64key (16, 24 or 32 bytes each)",
    ),
    Variable(
        "CLAIMFLOW_LOG_FORMAT",
        "log_format",
        "console",
        "json in production, console for a person at a terminal",
    ),
    Variable(
        "CLAIMFLOW_METRICS_PORT",
        "metrics_port",
        "9464",
        "port of the worker's /metrics (Prometheus: claimflow's and the Temporal SDK's), /healthz and "
        "/readyz; 0: none",
    ),
)


class SettingsError(ValueError):
    """An environment variable holds a value claimflow cannot use."""


class Settings(BaseModel):
    """Everything the processes need to find the outside world. Build with `Settings.from_env()`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    temporal_address: str = Field(default="localhost:7233", min_length=1)
    temporal_namespace: str = Field(default="default", min_length=1)
    temporal_task_queue: str = Field(default="claimflow", min_length=1)
    home: Path = Path(".claimflow")
    database_url: str = Field(default="", description="empty means the SQLite file under home")
    clearinghouse_url: str = Field(default="http://127.0.0.1:8700", min_length=1)
    transport: TransportKind = "http"
    clearinghouse_profile: Path | None = None
    keys: SecretStr | None = Field(default=None, description="CLAIMFLOW_KEYS; None: the key file in home")
    log_format: LogFormat = "console"
    metrics_port: int = Field(default=9464, ge=0, le=65535)

    @property
    def ledger_url(self) -> str:
        """DATABASE_URL, or the SQLite file `ledger.db` under CLAIMFLOW_HOME."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.home / 'ledger.db').resolve()}"

    @property
    def key_file(self) -> Path:
        """Where the embedded stack keeps the key it generated on first start."""
        return self.home / "keys"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read the variables of `VARIABLES`; unset or empty ones take their defaults."""
        env = os.environ if environ is None else environ

        values = {
            variable.field: env[variable.name].strip()
            for variable in VARIABLES
            if env.get(variable.name, "").strip()
        }
        try:
            return cls.model_validate(values)
        except ValidationError as exc:
            problems = "; ".join(
                f"{_variable_of(str(error['loc'][0]))}: {error['msg']}" for error in exc.errors()
            )
            raise SettingsError(
                f"invalid configuration from the environment ({problems}); see claimflow.integrations."
                "settings.VARIABLES for what each variable accepts"
            ) from None


def _variable_of(field: str) -> str:
    return next((variable.name for variable in VARIABLES if variable.field == field), field)
