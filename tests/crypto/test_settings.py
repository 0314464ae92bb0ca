"""Settings from the environment: defaults run the embedded stack; every variable is listed once."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from claimflow.integrations.settings import VARIABLES, Settings, SettingsError


def test_defaults_run_the_embedded_stack() -> None:
    settings = Settings.from_env({})
    assert settings.temporal_address == "localhost:7233"
    assert settings.temporal_namespace == "default"
    assert settings.temporal_task_queue == "claimflow"
    assert settings.clearinghouse_url == "http://127.0.0.1:8700"
    assert settings.keys is None
    assert settings.log_format == "console"
    assert settings.ledger_url == f"sqlite:///{Path('.claimflow').resolve() / 'ledger.db'}"


def test_every_listed_variable_is_read() -> None:
    environ = {variable.name: f"value-of-{variable.name}" for variable in VARIABLES}
    environ["CLAIMFLOW_LOG_FORMAT"] = "json"
    environ["CLAIMFLOW_METRICS_PORT"] = "9101"
    environ["CLAIMFLOW_TRANSPORT"] = "sftp"
    settings = Settings.from_env(environ)
    for variable in VARIABLES:
        value = getattr(settings, variable.field)
        shown = value.get_secret_value() if isinstance(value, SecretStr) else str(value)
        assert shown == environ[variable.name], variable.name
    # temporal_client is the SDK's envconfig (TEMPORAL_CLIENT_VARIABLES), tested with the TLS proxy
    assert set(Settings.model_fields) == {variable.field for variable in VARIABLES} | {"temporal_client"}


def test_database_url_overrides_the_sqlite_file() -> None:
    url = "postgresql+psycopg2://claimflow@db/ledger"
    assert Settings.from_env({"DATABASE_URL": url}).ledger_url == url


def test_keys_and_tokens_do_not_show_in_repr() -> None:
    assert "c2VjcmV0" not in repr(Settings.from_env({"CLAIMFLOW_KEYS": "k1:c2VjcmV0"}))
    assert "cft_mine" not in repr(Settings.from_env({"CLAIMFLOW_TOKEN": "cft_mine"}))


def test_a_bad_value_names_the_variable() -> None:
    with pytest.raises(SettingsError, match="CLAIMFLOW_LOG_FORMAT"):
        Settings.from_env({"CLAIMFLOW_LOG_FORMAT": "xml"})
