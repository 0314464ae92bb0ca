"""Configuration from environment variables, with defaults that run the embedded stack.

`VARIABLES` is the one list of every variable claimflow reads; docker-compose and the docs are
checked against it. Nothing else in claimflow reads `os.environ` for configuration. How to reach a
secured Temporal (mTLS, an API key, a profile of a config file) is the Temporal SDK's own environment
configuration, `temporalio.envconfig`, read here too; `TEMPORAL_CLIENT_VARIABLES` lists what it reads.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError
from temporalio.envconfig import ClientConfigProfile
from temporalio.service import TLSConfig

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
        "CLAIMFLOW_TOKEN",
        "token",
        "(none)",
        "your API token: the command line acts as its user (task resolve, claim pay, users); "
        "get one with claimflow users token USERNAME",
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

PERSONAL_VARIABLES = frozenset({"CLAIMFLOW_TOKEN"})
"""Set by each person in their own shell (who they are), never in a service's configuration: a
service that held one would act as that person."""


TEMPORAL_CLIENT_VARIABLES: tuple[Variable, ...] = (
    Variable(
        "TEMPORAL_CONFIG_FILE",
        "temporal_client",
        "~/.config/temporalio/temporal.toml",
        "the Temporal client config file (TOML, [profile.NAME] tables with address, namespace, api_key, "
        "[profile.NAME.tls]); the variables below override what its profile says",
    ),
    Variable("TEMPORAL_PROFILE", "temporal_client", "default", "the profile of TEMPORAL_CONFIG_FILE to use"),
    Variable(
        "TEMPORAL_API_KEY",
        "temporal_client",
        "(none)",
        "API key (Temporal Cloud), sent as a bearer token; turns TLS on",
    ),
    Variable(
        "TEMPORAL_TLS", "temporal_client", "(off)", "true: connect over TLS; false: never, whatever else says"
    ),
    Variable(
        "TEMPORAL_TLS_SERVER_CA_CERT_PATH",
        "temporal_client",
        "(the system's roots)",
        "PEM file of the CA that signed the frontend's certificate (or _DATA: the PEM itself); turns TLS on",
    ),
    Variable(
        "TEMPORAL_TLS_SERVER_NAME",
        "temporal_client",
        "(the host of TEMPORAL_ADDRESS)",
        "name the frontend's certificate must carry, when it is not the address's host",
    ),
    Variable(
        "TEMPORAL_TLS_CLIENT_CERT_PATH",
        "temporal_client",
        "(none)",
        "PEM file of claimflow's client certificate, for mTLS (or _DATA: the PEM itself)",
    ),
    Variable(
        "TEMPORAL_TLS_CLIENT_KEY_PATH",
        "temporal_client",
        "(none)",
        "PEM file of that certificate's private key (or _DATA: the PEM itself)",
    ),
    Variable(
        "TEMPORAL_GRPC_META_NAME",
        "temporal_client",
        "(none)",
        "a gRPC header sent with every call (TEMPORAL_GRPC_META_X_TENANT=a sends x-tenant: a)",
    ),
)
"""What the Temporal SDK's environment configuration reads for the connection itself (besides
TEMPORAL_ADDRESS and TEMPORAL_NAMESPACE), as the README documents it."""


class TemporalClient(BaseModel):
    """How to reach Temporal beyond its address and namespace: TLS, client certificate, API key, gRPC
    headers, as the SDK's environment configuration gives them (a profile of TEMPORAL_CONFIG_FILE,
    overridden by TEMPORAL_* variables). The default is plain gRPC, as the embedded dev server speaks."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    profile: str = "default"
    api_key: SecretStr | None = None
    tls: bool = False
    server_name: str | None = None
    server_root_ca_cert: bytes | None = None
    client_cert: bytes | None = None
    client_private_key: SecretStr | None = None
    rpc_metadata: dict[str, str] = Field(default_factory=dict)

    def tls_config(self) -> bool | TLSConfig:
        """`Client.connect`'s `tls`: False, True (the system's roots), or the CA, name and client pair."""
        if not self.tls:
            return False
        if not (self.server_name or self.server_root_ca_cert or self.client_cert or self.client_private_key):
            return True
        return TLSConfig(
            server_root_ca_cert=self.server_root_ca_cert,
            domain=self.server_name,
            client_cert=self.client_cert,
            client_private_key=(
                self.client_private_key.get_secret_value().encode() if self.client_private_key else None
            ),
        )

    def describe(self) -> str:
        """How the connection is secured, for a person (no secrets): `plain gRPC`, `TLS, client
        certificate, API key (profile prod)`."""
        parts = ["TLS" if self.tls else "plain gRPC"]
        if self.client_cert:
            parts.append("client certificate")
        if self.api_key:
            parts.append("API key")
        return ", ".join(parts) + (f" (profile {self.profile})" if self.profile != "default" else "")


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
    token: SecretStr | None = Field(default=None, description="CLAIMFLOW_TOKEN: who the command line acts as")
    log_format: LogFormat = "console"
    metrics_port: int = Field(default=9464, ge=0, le=65535)
    temporal_client: TemporalClient = Field(default_factory=TemporalClient)

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
        """Read the variables of `VARIABLES`; unset or empty ones take their defaults. The Temporal
        connection is the SDK's environment configuration (`TEMPORAL_CLIENT_VARIABLES`): its
        profile's address and namespace count when TEMPORAL_ADDRESS / TEMPORAL_NAMESPACE are unset."""
        env = os.environ if environ is None else environ

        values: dict[str, Any] = {
            variable.field: env[variable.name].strip()
            for variable in VARIABLES
            if env.get(variable.name, "").strip()
        }
        address, namespace, values["temporal_client"] = _temporal_client(env)
        if address and "temporal_address" not in values:
            values["temporal_address"] = address
        if namespace and "temporal_namespace" not in values:
            values["temporal_namespace"] = namespace
        try:
            return cls.model_validate(values)
        except ValidationError as exc:
            problems = "; ".join(
                f"{_variable_of(str(error['loc'][0]))}: {error['msg']}" for error in exc.errors()
            )
            raise SettingsError(
                f"invalid configuration from the environment ({problems}); fix the variable named: the "
                "README's Configuration section (claimflow.integrations.settings.VARIABLES) says what each "
                "accepts"
            ) from None


def _temporal_client(env: Mapping[str, str]) -> tuple[str | None, str | None, TemporalClient]:
    """The profile's address, namespace and the rest, read by `temporalio.envconfig` from `env`."""
    # An empty variable is an unset one, as for every other variable (compose passes empty ones).
    given = {name: value.strip() for name, value in env.items() if value.strip()}
    name = given.get("TEMPORAL_PROFILE")
    where = given.get("TEMPORAL_CONFIG_FILE", "~/.config/temporalio/temporal.toml")
    try:
        profile = ClientConfigProfile.load(name, override_env_vars=given)
        connect = profile.to_client_connect_config()
    except OSError as error:
        raise SettingsError(
            f"the Temporal client configuration names a TLS file that cannot be read ({error.filename}: "
            f"{error.strerror}); point TEMPORAL_TLS_*_PATH, or the tls paths of profile {name or 'default'} "
            f"in {where}, at a readable PEM file"
        ) from None
    except RuntimeError as error:  # the SDK's envconfig ConfigError
        raise SettingsError(
            f"the Temporal client configuration cannot be read ({where}, profile {name or 'default'}): "
            f"{error}; fix the file, or set TEMPORAL_CONFIG_FILE / TEMPORAL_PROFILE to one that exists"
        ) from None
    tls = connect.get("tls", False)
    api_key = connect.get("api_key")
    client = TemporalClient(
        profile=name or "default",
        api_key=SecretStr(api_key) if api_key else None,
        tls=tls is not False,
        server_name=tls.domain if isinstance(tls, TLSConfig) else None,
        server_root_ca_cert=tls.server_root_ca_cert if isinstance(tls, TLSConfig) else None,
        client_cert=tls.client_cert if isinstance(tls, TLSConfig) else None,
        client_private_key=(
            SecretStr(tls.client_private_key.decode())
            if isinstance(tls, TLSConfig) and tls.client_private_key
            else None
        ),
        rpc_metadata=dict(connect.get("rpc_metadata", {})),
    )
    return profile.address, profile.namespace, client


def _variable_of(field: str) -> str:
    return next((variable.name for variable in VARIABLES if variable.field == field), field)
