"""The codec server: Temporal's remote codec endpoints, so an authorised person reads claim payloads
in the Temporal Web UI (or `temporal workflow show --codec-endpoint`) while history stays encrypted.

* `POST /decode` and `POST /encode` take and return `{"payloads": [...]}` in Temporal's JSON form
  (metadata and data base64), opened or sealed with the claim keys (integrations.crypto).
* Every call is authenticated: `Authorization: Bearer <API token>` (what `temporal --codec-auth`
  sends), or a cookie a browser sends when the UI's codec setting "Include cross-origin credentials"
  is on: the web console's session (cookies are per host, not per port, so a manager signed in to
  the console at localhost:8000 is signed in here too), or a sign-in at this server's `/login`. The
  user needs the decode_payloads permission (managers, admins); anyone else gets 401 or 403 and sees
  nothing. Each decode is recorded in the audit trail
  (who, how many payloads, namespace), never the payloads.
* CORS answers the Temporal UI's origin only (credentials allowed), so no other page can use a
  manager's sign-in to read payloads.

Temporal payloads hold PHI in clear once decoded: nothing here logs a request body.
"""

from __future__ import annotations

import base64
import binascii
import html
import json
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from google.protobuf import json_format
from google.protobuf.message import DecodeError
from itsdangerous import BadSignature, TimestampSigner, URLSafeTimedSerializer
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route
from temporalio.api.common.v1 import Payload, Payloads

from claimflow.claims.roles import Permission
from claimflow.integrations.crypto import (
    EncryptionCodec,
    KeyRing,
    PayloadTamperedError,
    UnknownKeyError,
)
from claimflow.integrations.ledger.users import (
    AuthenticationError,
    PermissionDenied,
    User,
    UserError,
    UserStore,
)

COOKIE = "claimflow_codec"
CONSOLE_COOKIE = "claimflow_session"
"""the web console's session cookie (console.web.app.SESSION_COOKIE)"""
CSRF_COOKIE = "claimflow_codec_csrf"
SIGN_IN_HOURS = 8
MAX_BODY_BYTES = 16 * 1024 * 1024
DOING = "read decrypted payloads"


@dataclass(frozen=True)
class CodecConfig:
    keys: KeyRing
    users: UserStore
    ui_origins: tuple[str, ...]
    """the Temporal UI's origins, e.g. http://localhost:8233: the only pages CORS lets call in"""
    secret: str = field(default_factory=lambda: secrets.token_urlsafe(32), repr=False)
    """signs the sign-in cookie; a new one per process (a restart asks to sign in again)"""
    secure_cookies: bool = False
    console_secret: str | None = field(default=None, repr=False)
    """the web console's session secret: with it, a console session signs in here too"""
    console_idle_seconds: float = 30 * 60
    console_max_age_seconds: int = 12 * 60 * 60


class Refused(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def create_codec_app(config: CodecConfig) -> Starlette:
    codec = EncryptionCodec(config.keys)
    signer = URLSafeTimedSerializer(config.secret, salt="claimflow-codec-sign-in")

    def who(request: Request) -> User:
        """The authenticated user allowed to use the codec, else Refused (401 or 403)."""
        header = request.headers.get("authorization", "")
        scheme, _, credential = header.partition(" ")
        try:
            if scheme.lower() == "bearer" and credential.strip():
                user = config.users.user_for_token(credential.strip())
            elif (session := request.cookies.get(CONSOLE_COOKIE)) and config.console_secret:
                user = config.users.get(console_user(config, session))
                if user.disabled:
                    raise Refused(401, f"user {user.username!r} is disabled")
            elif cookie := request.cookies.get(COOKIE):
                try:
                    username = signer.loads(cookie, max_age=SIGN_IN_HOURS * 3600)
                except BadSignature:
                    raise Refused(
                        401, "the codec sign-in expired or is not this server's: sign in again"
                    ) from None
                user = config.users.get(str(username))
                if user.disabled:
                    raise Refused(401, f"user {user.username!r} is disabled")
            else:
                raise Refused(
                    401,
                    f"sign in first: send Authorization: Bearer <API token>, or sign in at "
                    f"{request.url_for('login')} and turn on the UI's 'Include cross-origin credentials'",
                )
        except AuthenticationError as error:
            raise Refused(401, str(error)) from None
        except UserError as error:
            raise Refused(401, str(error)) from None
        try:
            user.require(Permission.DECODE_PAYLOADS, DOING)
        except PermissionDenied as error:
            config.users.record(user, "codec_refused", {"path": request.url.path})
            raise Refused(403, str(error)) from None
        return user

    async def payloads_of(request: Request) -> list[Payload]:
        body = await request.body()
        if len(body) > MAX_BODY_BYTES:
            raise Refused(413, f"at most {MAX_BODY_BYTES // (1024 * 1024)} MiB of payloads per request")
        try:
            return list(json_format.Parse(body, Payloads()).payloads)
        except (json_format.ParseError, DecodeError, UnicodeDecodeError) as error:
            raise Refused(
                400, f'the body is not {{"payloads": [...]}} in Temporal\'s JSON form: {error}'
            ) from None

    def answer(payloads: Sequence[Payload]) -> JSONResponse:
        body: dict[str, Any] = json_format.MessageToDict(Payloads(payloads=payloads))
        return JSONResponse({"payloads": body.get("payloads", [])}, headers={"Cache-Control": "no-store"})

    async def decode(request: Request) -> Response:
        try:
            user = await run_in_threadpool(who, request)
            payloads = await payloads_of(request)
            try:
                opened = [codec.decrypt(payload) for payload in payloads]
            except (UnknownKeyError, PayloadTamperedError) as error:
                raise Refused(422, str(error)) from None
        except Refused as refused:
            return _refusal(refused)
        namespace = request.headers.get("x-namespace", "")
        details = {"count": len(payloads), "namespace": namespace}
        await run_in_threadpool(config.users.record, user, "payloads_decoded", details)
        return answer(opened)

    async def encode(request: Request) -> Response:
        try:
            await run_in_threadpool(who, request)
            payloads = await payloads_of(request)
        except Refused as refused:
            return _refusal(refused)
        return answer([codec.encrypt(payload) for payload in payloads])

    async def login_form(request: Request) -> Response:
        token = secrets.token_urlsafe(24)
        response = HTMLResponse(_login_page(token, request.query_params.get("error")))
        response.set_cookie(
            CSRF_COOKIE, token, httponly=True, samesite="strict", secure=config.secure_cookies
        )
        return response

    async def login(request: Request) -> Response:
        form = await request.form()
        sent, expected = str(form.get("csrf_token", "")), request.cookies.get(CSRF_COOKIE, "")
        if not expected or not secrets.compare_digest(sent, expected):
            return HTMLResponse(
                _login_page("", "the form expired: reload the page and sign in again"), status_code=403
            )
        username, password = str(form.get("username", "")), str(form.get("password", ""))
        source = request.client.host if request.client else "codec-server"
        try:
            user = await run_in_threadpool(
                config.users.authenticate, username, password, source=f"codec:{source}"
            )
            user.require(Permission.DECODE_PAYLOADS, DOING)
        except PermissionDenied as error:
            return HTMLResponse(_login_page("", str(error)), status_code=403)
        except UserError as error:
            return HTMLResponse(_login_page("", str(error)), status_code=401)
        response = RedirectResponse(request.url_for("signed_in"), status_code=303)
        response.set_cookie(
            COOKIE,
            signer.dumps(user.username),
            max_age=SIGN_IN_HOURS * 3600,
            httponly=True,
            samesite="lax",  # the UI on another port of the same host is the same site
            secure=config.secure_cookies,
        )
        response.delete_cookie(CSRF_COOKIE)
        return response

    async def signed_in(request: Request) -> Response:
        try:
            user = await run_in_threadpool(who, request)
        except Refused as refused:
            return RedirectResponse(f"{request.url_for('login')}?{urlencode({'error': str(refused)})}", 303)
        return HTMLResponse(
            _page(
                f"<p>Signed in as {html.escape(user.username)} for {SIGN_IN_HOURS} hours. "
                "In the Temporal UI, open the codec (data encoder) settings, use this server's address, "
                "and turn on <em>Include cross-origin credentials</em>: payloads then show decrypted.</p>"
                '<form method="post" action="logout"><button>Sign out</button></form>'
            )
        )

    async def logout(request: Request) -> Response:
        response = RedirectResponse(request.url_for("login"), status_code=303)
        response.delete_cookie(COOKIE)
        return response

    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    return Starlette(
        routes=[
            Route("/decode", decode, methods=["POST"]),
            Route("/encode", encode, methods=["POST"]),
            Route("/login", login_form, methods=["GET"], name="login"),
            Route("/login", login, methods=["POST"]),
            Route("/", signed_in, methods=["GET"], name="signed_in"),
            Route("/logout", logout, methods=["POST"]),
            Route("/health", health, methods=["GET"]),
        ],
        middleware=[
            Middleware(
                CORSMiddleware,
                allow_origins=list(config.ui_origins),
                allow_methods=["POST"],
                allow_headers=["*"],
                allow_credentials=True,
                max_age=600,
            )
        ],
    )


def console_user(config: CodecConfig, cookie: str) -> str:
    """The username of a web console session (Starlette's SessionMiddleware cookie: base64 JSON signed
    with itsdangerous), if it is signed with the console's secret, not too old, and not idle."""
    signer = TimestampSigner(str(config.console_secret))
    try:
        data = signer.unsign(cookie.encode("utf-8"), max_age=config.console_max_age_seconds)
        session = json.loads(base64.b64decode(data))
    except (BadSignature, binascii.Error, ValueError):
        raise Refused(
            401, "the web console session expired or is not this installation's: sign in again"
        ) from None
    username, seen = session.get("user"), session.get("seen")
    if not isinstance(username, str) or not isinstance(seen, int | float):
        raise Refused(401, "the web console session is signed out: sign in again")
    if time.time() - seen > config.console_idle_seconds:
        raise Refused(401, "the web console session was idle too long: open the console and sign in again")
    return username


def _refusal(refused: Refused) -> JSONResponse:
    return JSONResponse({"error": str(refused)}, status_code=refused.status)


def _login_page(csrf: str, error: str | None) -> str:
    problem = f'<p role="alert">{html.escape(error)}</p>' if error else ""
    return _page(
        f"{problem}"
        '<form method="post" action="login">'
        f'<input type="hidden" name="csrf_token" value="{html.escape(csrf)}">'
        '<label>Username <input name="username" autocomplete="username" required></label> '
        '<label>Password <input name="password" type="password" autocomplete="current-password" '
        "required></label> <button>Sign in</button></form>"
        "<p>Managers and admins sign in here to read decrypted payloads in the Temporal UI.</p>"
    )


def _page(body: str) -> str:
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>claimflow codec server</title>'
        "</head><body><h1>claimflow codec server</h1>"
        f"{body}</body></html>"
    )
