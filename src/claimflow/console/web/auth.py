"""The session cookie's contents and CSRF tokens: who is asking, whether their login ran out.

The session is Starlette's SessionMiddleware: a cookie signed with itsdangerous (HttpOnly, SameSite
Lax, Secure behind HTTPS), holding the user name, a CSRF token and when the user was last seen. A
session idle longer than `idle_timeout` is over, and the next request says so. Users, passwords,
roles and login rate limiting are the ledger's users module's (integrations/ledger/users.py).
"""

from __future__ import annotations

import hmac
import secrets
import time
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"


@dataclass(frozen=True)
class SessionState:
    """What a request's session says: who (if anyone), and whether a login just ran out."""

    username: str | None
    expired: bool


def csrf_token(session: MutableMapping[str, Any]) -> str:
    """The session's CSRF token, made on first use (an anonymous session has one for the login form)."""
    token = session.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        session["csrf"] = token
    return token


def csrf_ok(session: Mapping[str, Any], sent: str | None) -> bool:
    expected = session.get("csrf")
    return isinstance(expected, str) and sent is not None and hmac.compare_digest(expected, sent)


def start_session(session: MutableMapping[str, Any], username: str, now: float | None = None) -> None:
    """A fresh session for the user: a new CSRF token, so a token seen before login is worthless."""
    session.clear()
    session["user"] = username
    session["seen"] = now if now is not None else time.time()
    csrf_token(session)


def read_session(
    session: MutableMapping[str, Any], idle_timeout: float, now: float | None = None
) -> SessionState:
    """Who the session belongs to; an idle session is cleared and reported as expired."""
    now = now if now is not None else time.time()
    username = session.get("user")
    if not isinstance(username, str):
        return SessionState(None, expired=False)
    seen = session.get("seen")
    if not isinstance(seen, int | float) or now - seen > idle_timeout:
        session.clear()
        return SessionState(None, expired=True)
    session["seen"] = now
    return SessionState(username, expired=False)
