"""claimflow reaches a secured Temporal as the Temporal SDK's environment configuration says
(temporalio.envconfig: TEMPORAL_TLS_*, TEMPORAL_API_KEY, profiles of TEMPORAL_CONFIG_FILE).

`temporal server start-dev` has no TLS, so the tests put a TLS proxy in front of it: asyncio + ssl,
terminating TLS (optionally requiring a client certificate: mTLS) and forwarding the HTTP/2 bytes to
the dev server. The certificates are made here with `cryptography`.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import ipaddress
import re
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from temporalio.testing import WorkflowEnvironment
from typer.testing import CliRunner

from claimflow.console.main import app
from claimflow.console.reference import temporal_client_table
from claimflow.console.stack import StackConfig
from claimflow.integrations.settings import TEMPORAL_CLIENT_VARIABLES, Settings, SettingsError
from claimflow.integrations.temporal import connect
from tests.console.conftest import environment_for
from tests.workflows.conftest import TEST_KEYS

ON_THE_DEV_SERVER = pytest.mark.asyncio(loop_scope="session")
SERVER_NAME = "temporal.claimflow.test"  # not the proxy's address: TEMPORAL_TLS_SERVER_NAME must be used
ROOT = Path(__file__).resolve().parents[2]


# ---------------------------------------------------------------------------------------- certificates
@dataclass(frozen=True)
class Pki:
    ca: Path
    server_cert: Path
    server_key: Path
    client_ca: Path
    client_cert: Path
    client_key: Path


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _certificate(
    subject: str,
    key: ec.EllipticCurvePrivateKey,
    issuer: tuple[str, ec.EllipticCurvePrivateKey] | None,
    *,
    ca: bool = False,
    names: list[x509.GeneralName] | None = None,
) -> x509.Certificate:
    issuer_name, issuer_key = issuer or (subject, key)
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(_name(issuer_name))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if ca:
        builder = builder.add_extension(
            x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
                encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )  # fmt: skip
    if names:
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def _write(path: Path, certificate: x509.Certificate, key: ec.EllipticCurvePrivateKey | None = None) -> Path:
    path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    if key is not None:
        path.with_suffix(".key").write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
    return path


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    folder = tmp_path_factory.mktemp("pki")
    ca_key, client_ca_key, server_key, client_key = _key(), _key(), _key(), _key()
    ca = _certificate("claimflow test CA", ca_key, None, ca=True)
    client_ca = _certificate("claimflow test client CA", client_ca_key, None, ca=True)
    server = _certificate(
        SERVER_NAME,
        server_key,
        ("claimflow test CA", ca_key),
        names=[x509.DNSName(SERVER_NAME), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))],
    )
    client = _certificate("claimflow-worker", client_key, ("claimflow test client CA", client_ca_key))
    return Pki(
        ca=_write(folder / "ca.pem", ca),
        server_cert=_write(folder / "server.pem", server, server_key),
        server_key=folder / "server.key",
        client_ca=_write(folder / "client-ca.pem", client_ca),
        client_cert=_write(folder / "client.pem", client, client_key),
        client_key=folder / "client.key",
    )


# ------------------------------------------------------------------------------------------- the proxy
@dataclass
class TlsProxy:
    """TLS in front of the dev server. `clients` holds the common name of each client certificate
    presented on a connection that completed its handshake ('' when none was asked for)."""

    address: str
    clients: list[str] = field(default_factory=list)


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(ConnectionError, ssl.SSLError):
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    with contextlib.suppress(ConnectionError, ssl.SSLError, RuntimeError):
        writer.close()


@contextlib.asynccontextmanager
async def tls_proxy(upstream: str, pki: Pki, *, require_client_cert: bool) -> AsyncIterator[TlsProxy]:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(pki.server_cert, pki.server_key)
    context.set_alpn_protocols(["h2"])  # gRPC is HTTP/2
    if require_client_cert:
        context.verify_mode = ssl.CERT_REQUIRED
        context.load_verify_locations(pki.client_ca)
    host, port = upstream.rsplit(":", 1)
    proxy = TlsProxy(address="")

    async def forward(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peercert") or {}
        subject = dict(item for part in peer.get("subject", ()) for item in part)
        proxy.clients.append(str(subject.get("commonName", "")))
        upstream_reader, upstream_writer = await asyncio.open_connection(host, int(port))
        await asyncio.gather(_pipe(reader, upstream_writer), _pipe(upstream_reader, writer))

    server = await asyncio.start_server(forward, "127.0.0.1", 0, ssl=context)
    proxy.address = f"127.0.0.1:{server.sockets[0].getsockname()[1]}"
    async with server:
        yield proxy
        server.close()


def _upstream(dev_env: WorkflowEnvironment) -> str:
    return dev_env.client.service_client.config.target_host


def _mtls_env(dev_env: WorkflowEnvironment, proxy: TlsProxy, pki: Pki) -> dict[str, str]:
    return {
        **environment_for(dev_env.client),
        "TEMPORAL_ADDRESS": proxy.address,
        "TEMPORAL_CONFIG_FILE": "/dev/null",  # whatever this machine's ~/.config says
        "TEMPORAL_TLS_SERVER_CA_CERT_PATH": str(pki.ca),
        "TEMPORAL_TLS_SERVER_NAME": SERVER_NAME,
        "TEMPORAL_TLS_CLIENT_CERT_PATH": str(pki.client_cert),
        "TEMPORAL_TLS_CLIENT_KEY_PATH": str(pki.client_key),
    }


async def _cli(*args: str, env: dict[str, str]) -> tuple[int, str, str]:
    result = await asyncio.to_thread(CliRunner().invoke, app, list(args), env=env, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


# ------------------------------------------------------------------------------------------------ tests
@ON_THE_DEV_SERVER
async def test_mtls_from_the_environment_for_the_client_and_every_command(
    dev_env: WorkflowEnvironment, pki: Pki
) -> None:
    async with tls_proxy(_upstream(dev_env), pki, require_client_cert=True) as proxy:
        env = _mtls_env(dev_env, proxy, pki)
        settings = Settings.from_env(env)
        assert settings.temporal_client.describe() == "TLS, client certificate"
        client = await connect(settings, TEST_KEYS)  # what the worker and the web console use
        assert await client.count_workflows() is not None
        assert proxy.clients == ["claimflow-worker"]

        code, out, err = await _cli("stuck", "--days", "7", "--json", env=env)  # a command, via with_claims
        assert code == 0, out + err
        assert '"no_progress"' in out
        assert len(proxy.clients) == 2


@ON_THE_DEV_SERVER
async def test_without_the_client_certificate_the_cluster_refuses_and_the_message_names_the_fix(
    dev_env: WorkflowEnvironment, pki: Pki
) -> None:
    async with tls_proxy(_upstream(dev_env), pki, require_client_cert=True) as proxy:
        env = _mtls_env(dev_env, proxy, pki)
        del env["TEMPORAL_TLS_CLIENT_CERT_PATH"], env["TEMPORAL_TLS_CLIENT_KEY_PATH"]
        code, _, err = await _cli("stuck", "--json", env=env)
        assert code == 3
        message = " ".join(err.split())
        assert (
            f"cannot reach Temporal at {proxy.address}" in message and "(namespace default, TLS)" in message
        )
        assert "TEMPORAL_TLS_*" in message and "TEMPORAL_API_KEY" in message
        plain = {**env, "TEMPORAL_TLS": "false"}  # plain gRPC to a TLS port does not get through either
        code, _, _ = await _cli("stuck", "--json", env=plain)
        assert code == 3
        assert proxy.clients == []  # no handshake completed


@ON_THE_DEV_SERVER
async def test_a_profile_of_the_config_file_gives_address_namespace_and_tls(
    dev_env: WorkflowEnvironment, pki: Pki, tmp_path: Path
) -> None:
    async with tls_proxy(_upstream(dev_env), pki, require_client_cert=True) as proxy:
        config = tmp_path / "temporal.toml"
        config.write_text(
            f'[profile.default]\naddress = "127.0.0.1:1"\n\n'
            f'[profile.production]\naddress = "{proxy.address}"\nnamespace = "{dev_env.client.namespace}"\n'
            f'[profile.production.tls]\nserver_name = "{SERVER_NAME}"\nserver_ca_cert_path = "{pki.ca}"\n'
            f'client_cert_path = "{pki.client_cert}"\nclient_key_path = "{pki.client_key}"\n'
        )
        env = {
            "TEMPORAL_CONFIG_FILE": str(config),
            "TEMPORAL_PROFILE": "production",
            "TEMPORAL_TASK_QUEUE": environment_for(dev_env.client)["TEMPORAL_TASK_QUEUE"],
            "CLAIMFLOW_KEYS": TEST_KEYS.encoded(),
        }
        settings = Settings.from_env(env)
        assert settings.temporal_address == proxy.address  # no TEMPORAL_ADDRESS: the profile's
        assert settings.temporal_client.describe() == "TLS, client certificate (profile production)"
        code, out, err = await _cli("stuck", "--json", env=env)
        assert code == 0, out + err
        assert proxy.clients == ["claimflow-worker"]
        # a variable overrides the profile, as the SDK documents
        assert (
            Settings.from_env({**env, "TEMPORAL_ADDRESS": "elsewhere:7233"}).temporal_address
            == "elsewhere:7233"
        )


@ON_THE_DEV_SERVER
async def test_an_api_key_turns_tls_on_and_reaches_the_client(dev_env: WorkflowEnvironment, pki: Pki) -> None:
    async with tls_proxy(_upstream(dev_env), pki, require_client_cert=False) as proxy:
        env = {
            **environment_for(dev_env.client),
            "TEMPORAL_ADDRESS": proxy.address,
            "TEMPORAL_CONFIG_FILE": "/dev/null",
            "TEMPORAL_API_KEY": "cloud-key-123",
            "TEMPORAL_TLS_SERVER_CA_CERT_PATH": str(pki.ca),
            "TEMPORAL_TLS_SERVER_NAME": SERVER_NAME,
            "TEMPORAL_GRPC_META_X_TENANT": "clinic-1",
        }
        settings = Settings.from_env(env)
        assert settings.temporal_client.describe() == "TLS, API key"
        assert "cloud-key-123" not in repr(settings)  # a secret, like the keys
        client = await connect(settings, TEST_KEYS)
        assert client.service_client.config.api_key == "cloud-key-123"
        assert client.service_client.config.rpc_metadata == {"x-tenant": "clinic-1"}
        assert await client.count_workflows() is not None
        assert proxy.clients == [""]


def test_unusable_client_configuration_names_what_to_fix(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match=r"/nowhere/client.pem.*point TEMPORAL_TLS_\*_PATH"):
        Settings.from_env(
            {"TEMPORAL_CONFIG_FILE": "/dev/null", "TEMPORAL_TLS_CLIENT_CERT_PATH": "/nowhere/client.pem"}
        )
    config = tmp_path / "temporal.toml"
    config.write_text('[profile.default]\naddress = "a:1"\n')
    with pytest.raises(SettingsError, match=r"profile staging.*set TEMPORAL_CONFIG_FILE / TEMPORAL_PROFILE"):
        Settings.from_env({"TEMPORAL_CONFIG_FILE": str(config), "TEMPORAL_PROFILE": "staging"})
    result = CliRunner().invoke(
        app, ["stuck"], env={"TEMPORAL_CONFIG_FILE": str(config), "TEMPORAL_PROFILE": "staging"}
    )
    assert result.exit_code == 2 and "TEMPORAL_PROFILE" in result.stderr


def test_the_embedded_stack_ignores_a_production_profile_in_the_shell(tmp_path: Path) -> None:
    shell = {
        "TEMPORAL_API_KEY": "prod-key",
        "TEMPORAL_TLS_CLIENT_CERT_PATH": "/etc/prod/client.pem",
        "TEMPORAL_PROFILE": "production",
        "TEMPORAL_CONFIG_FILE": "/etc/prod/temporal.toml",
        "PATH": "/usr/bin",
    }
    children = StackConfig(home=tmp_path).environment(shell)
    assert not {"TEMPORAL_API_KEY", "TEMPORAL_TLS_CLIENT_CERT_PATH", "TEMPORAL_PROFILE"} & children.keys()
    assert children["PATH"] == "/usr/bin"
    settings = Settings.from_env(children)
    assert settings.temporal_client.describe() == "plain gRPC"
    assert settings.temporal_address == "127.0.0.1:7233"


def test_every_client_goes_through_connect_and_the_docs_list_the_variables() -> None:
    """The worker, the console, the web console and every command build their client with
    integrations.temporal.connect; only the stack's own local readiness probe does not."""
    direct = {
        str(path.relative_to(ROOT))
        for path in (ROOT / "src").rglob("*.py")
        if re.search(r"Client\.connect\(", path.read_text(encoding="utf-8"))
    }
    assert direct == {"src/claimflow/integrations/temporal.py", "src/claimflow/console/stack.py"}
    readme = (ROOT / "README.md").read_text()
    assert temporal_client_table() in readme
    compose = (ROOT / "docker-compose.yml").read_text()
    for variable in TEMPORAL_CLIENT_VARIABLES[:8]:
        assert variable.name in compose, variable.name


def test_an_empty_variable_is_an_unset_one() -> None:
    """compose passes each variable through, empty when the shell has none: no TLS from that."""
    empty = {variable.name: "" for variable in TEMPORAL_CLIENT_VARIABLES} | {
        "TEMPORAL_CONFIG_FILE": "/dev/null"
    }
    assert Settings.from_env(empty).temporal_client.describe() == "plain gRPC"
