"""The codec server over HTTP (ASGI, in process) with real keys and a real ledger of users: what the
worker's data converter sealed opens for a manager, and for nobody else; CORS answers the UI only."""

from __future__ import annotations

import base64
import json
import re
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from google.protobuf import json_format
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from temporalio.api.common.v1 import Payload, Payloads
from typer.testing import CliRunner

from claimflow.claims.roles import Role
from claimflow.console.codec_server import CONSOLE_COOKIE, COOKIE, CodecConfig, create_codec_app
from claimflow.console.main import app
from claimflow.console.web.app import SESSION_COOKIE
from claimflow.console.web.auth import start_session
from claimflow.integrations.crypto import KEY_ID_METADATA, EncryptionKey, KeyRing
from claimflow.integrations.ledger import Ledger
from claimflow.integrations.ledger.users import UserStore
from claimflow.integrations.temporal import data_converter
from tests.ledger.test_users import CHEAP_HASHER
from tests.workflows.scripted import encounter

UI = "http://localhost:8233"
PASSWORD = "correct horse battery"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Codec:
    http: httpx.AsyncClient
    keys: KeyRing
    users: UserStore
    database_url: str
    tokens: dict[str, str]

    async def post(self, path: str, body: Any, user: str | None = "mia", **headers: str) -> httpx.Response:
        if user is not None:
            headers["Authorization"] = f"Bearer {self.tokens[user]}"
        return await self.http.post(
            path, content=json.dumps(body), headers={"Content-Type": "application/json", **headers}
        )


@pytest.fixture
def users(tmp_path: Path) -> Iterator[tuple[UserStore, str]]:
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    store = UserStore(url, hasher=CHEAP_HASHER)
    yield store, url
    store.close()


@pytest.fixture
async def codec(users: tuple[UserStore, str]) -> AsyncIterator[Codec]:
    store, url = users
    tokens = {}
    for name, role in (
        ("mia", Role.MANAGER),
        ("amy", Role.BILLER),
        ("root", Role.ADMIN),
        ("gone", Role.MANAGER),
    ):
        store.add(name, name.title(), role, by="tests", password=PASSWORD)
        tokens[name] = store.issue_token(name, by="tests").secret
    store.disable("gone", by="tests")
    old, current = EncryptionKey.generate(), EncryptionKey.generate()
    keys = KeyRing((current, old))
    app = create_codec_app(CodecConfig(keys, store, (UI,)))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://localhost:8888") as http:
        yield Codec(http, keys, store, url, tokens)


def as_json(payloads: list[Payload]) -> dict[str, Any]:
    body: dict[str, Any] = json_format.MessageToDict(Payloads(payloads=payloads))
    return body


def from_json(body: dict[str, Any]) -> list[Payload]:
    return list(json_format.ParseDict(body, Payloads()).payloads)


async def test_what_the_worker_sealed_opens_for_a_manager(codec: Codec) -> None:
    enc = encounter(date(2026, 3, 2), 7)
    converter = data_converter(codec.keys)
    sealed = await converter.encode([enc])  # exactly what reaches Temporal's history
    assert sealed[0].metadata["encoding"] == b"binary/encrypted"
    assert enc.patient.last_name.encode() not in sealed[0].data

    decoded = await codec.post("/decode", as_json(sealed), **{"X-Namespace": "default"})
    assert decoded.status_code == 200, decoded.text
    assert decoded.headers["cache-control"] == "no-store"
    [clear] = from_json(decoded.json())
    assert clear.metadata["encoding"] == b"json/plain"
    assert json.loads(clear.data)["patient"]["last_name"] == enc.patient.last_name

    # The UI's "encode" (to send a signal or reset input) seals with the current key; it decodes again.
    encoded = await codec.post("/encode", decoded.json(), user="root")
    assert encoded.status_code == 200, encoded.text
    [resealed] = from_json(encoded.json())
    assert resealed.metadata[KEY_ID_METADATA] == codec.keys.current.key_id.encode()
    assert resealed.data != sealed[0].data
    again = await codec.post("/decode", encoded.json())
    assert from_json(again.json()) == [clear]
    # A payload sealed under the older key still opens (rotation); an unsealed one passes through.
    older = await data_converter(KeyRing((codec.keys.keys[1],))).encode(["old"])
    plain = Payload(metadata={"encoding": b"json/plain"}, data=b'"plain"')
    mixed = await codec.post("/decode", as_json([*older, plain]))
    assert [p.data for p in from_json(mixed.json())] == [b'"old"', b'"plain"']

    ledger = Ledger(codec.database_url)
    try:
        decodes = [(e.actor, e.details) for e in ledger.audit() if e.action == "payloads_decoded"]
    finally:
        ledger.close()
    assert decodes[0] == ("mia", {"count": 1, "namespace": "default"}) and len(decodes) == 3
    assert enc.patient.last_name not in json.dumps(decodes)


async def test_nobody_else_reads_a_payload(codec: Codec) -> None:
    sealed = as_json(await data_converter(codec.keys).encode(["secret"]))
    anonymous = await codec.post("/decode", sealed, user=None)
    assert anonymous.status_code == 401 and "sign in first" in anonymous.json()["error"]
    assert "secret" not in anonymous.text
    biller = await codec.post("/decode", sealed, user="amy")
    assert biller.status_code == 403
    assert "amy (biller) may not read decrypted payloads" in biller.json()["error"]
    assert (await codec.post("/encode", sealed, user="amy")).status_code == 403
    disabled = await codec.post("/decode", sealed, user="gone")
    assert disabled.status_code == 401 and "disabled" in disabled.json()["error"]
    forged = await codec.http.post("/decode", json=sealed, headers={"Authorization": "Bearer cft_forged"})
    assert forged.status_code == 401 and "not one claimflow issued" in forged.json()["error"]
    cookie = await codec.http.post("/decode", json=sealed, headers={"Cookie": f"{COOKIE}=made-up"})
    assert cookie.status_code == 401

    not_payloads = await codec.post("/decode", {"payloads": "no"})
    assert not_payloads.status_code == 400 and "Temporal's JSON form" in not_payloads.json()["error"]
    stranger = await data_converter(KeyRing((EncryptionKey.generate(),))).encode(["x"])
    unknown = await codec.post("/decode", as_json(stranger))
    assert unknown.status_code == 422 and "not among the keys given" in unknown.json()["error"]
    tampered = sealed["payloads"][0] | {"data": base64.b64encode(b"\0" * 40).decode()}
    broken = await codec.post("/decode", {"payloads": [tampered]})
    assert broken.status_code == 422 and "does not authenticate" in broken.json()["error"]

    ledger = Ledger(codec.database_url)
    try:
        refused = [e.actor for e in ledger.audit() if e.action == "codec_refused"]
    finally:
        ledger.close()
    assert refused == ["amy", "amy"]


async def test_cors_answers_the_ui_origin_only(codec: Codec) -> None:
    preflight = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type,x-namespace,authorization",
    }
    allowed = await codec.http.options("/decode", headers={"Origin": UI, **preflight})
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == UI
    assert allowed.headers["access-control-allow-credentials"] == "true"
    assert "POST" in allowed.headers["access-control-allow-methods"]
    assert "x-namespace" in allowed.headers["access-control-allow-headers"].lower()
    other = await codec.http.options("/decode", headers={"Origin": "http://evil.example", **preflight})
    assert other.status_code == 400 and "access-control-allow-origin" not in other.headers

    sealed = as_json(await data_converter(codec.keys).encode(["x"]))
    answered = await codec.post("/decode", sealed, Origin=UI)
    assert answered.headers["access-control-allow-origin"] == UI


async def test_a_manager_signs_in_for_the_browser(codec: Codec) -> None:
    sealed = as_json(await data_converter(codec.keys).encode(["for the ui"]))
    no_form = await codec.http.post("/login", data={"username": "mia", "password": PASSWORD})
    assert no_form.status_code == 403 and COOKIE not in no_form.cookies

    async def sign_in(username: str, password: str) -> httpx.Response:
        form = await codec.http.get("/login")
        found = CSRF.search(form.text)
        assert found
        return await codec.http.post(
            "/login", data={"csrf_token": found.group(1), "username": username, "password": password}
        )

    wrong = await sign_in("mia", "not it")
    assert wrong.status_code == 401 and "wrong username or password" in wrong.text
    biller = await sign_in("amy", PASSWORD)
    assert biller.status_code == 403 and "may not read decrypted payloads" in biller.text
    assert COOKIE not in codec.http.cookies

    signed = await sign_in("mia", PASSWORD)
    assert signed.status_code == 303
    set_cookie = signed.headers["set-cookie"]
    assert "HttpOnly" in set_cookie and "SameSite=lax" in set_cookie
    page = await codec.http.get("/")
    assert "Signed in as mia" in page.text
    # The browser's fetch from the UI: its cookie, no token.
    decoded = await codec.http.post("/decode", json=sealed, headers={"Origin": UI})
    assert decoded.status_code == 200 and from_json(decoded.json())[0].data == b'"for the ui"'

    codec.users.disable("mia", by="tests")
    after = await codec.http.post("/decode", json=sealed)
    assert after.status_code == 401 and "disabled" in after.json()["error"]


async def console_session(secret: str, username: str, seen: float | None = None) -> str:
    """A web console session cookie as the console makes it: its start_session, in Starlette's
    SessionMiddleware with the console's cookie name."""

    async def sign_in(request: Request) -> Response:
        start_session(request.session, username, now=seen)
        return PlainTextResponse("ok")

    console = Starlette(
        routes=[Route("/login", sign_in, methods=["POST"])],
        middleware=[Middleware(SessionMiddleware, secret_key=secret, session_cookie=SESSION_COOKIE)],
    )
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=console), base_url="http://localhost:8000"
    ) as http:
        return (await http.post("/login")).cookies[SESSION_COOKIE]


async def test_a_web_console_session_signs_in_here_too(users: tuple[UserStore, str]) -> None:
    assert CONSOLE_COOKIE == SESSION_COOKIE  # the console's cookie, by its name
    store, _ = users
    for name, role in (("mia", Role.MANAGER), ("amy", Role.BILLER)):
        store.add(name, name.title(), role, by="tests", password=PASSWORD)
    keys = KeyRing((EncryptionKey.generate(),))
    secret = "the console's secret"
    app = create_codec_app(CodecConfig(keys, store, (UI,), console_secret=secret))
    sealed = as_json(await data_converter(keys).encode(["seen in the ui"]))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://localhost:8888"
    ) as http:

        async def decode(cookie: str) -> httpx.Response:
            return await http.post("/decode", json=sealed, headers={"Cookie": f"{SESSION_COOKIE}={cookie}"})

        manager = await decode(await console_session(secret, "mia"))
        assert manager.status_code == 200 and from_json(manager.json())[0].data == b'"seen in the ui"'
        biller = await decode(await console_session(secret, "amy"))
        assert biller.status_code == 403
        forged = await decode(await console_session("another installation's", "mia"))
        assert forged.status_code == 401 and "not this installation's" in forged.json()["error"]
        idle = await decode(await console_session(secret, "mia", seen=time.time() - 3600))
        assert idle.status_code == 401 and "idle too long" in idle.json()["error"]


def test_the_command_refuses_what_it_cannot_serve(tmp_path: Path) -> None:
    runner = CliRunner()
    env = {"CLAIMFLOW_HOME": str(tmp_path), "CLAIMFLOW_TOKEN": "", "CLAIMFLOW_KEYS": ""}
    origin = runner.invoke(app, ["codec-server", "--ui-origin", "localhost:8233"], env=env)
    assert origin.exit_code == 2 and "--ui-origin 'localhost:8233' is not an origin" in origin.stderr
    keys = runner.invoke(app, ["codec-server"], env={**env, "CLAIMFLOW_KEYS": "k1:not base64!"})
    assert keys.exit_code == 2 and "CLAIMFLOW_KEYS" in keys.stderr and "not valid base64" in keys.stderr
