"""The web console: the work queue, task and claim pages, search and the manager dashboard.

Server-rendered (Jinja2), with htmx (shipped in static/, nothing fetched from the internet) swapping
a queue row or the queue table in place. Every request passes the same gates, in order: a session
(else the login page, or 401 for htmx and POSTs), a CSRF token on every POST, and the user's role
for the action. A refusal is a 4xx with its reason that changes nothing, and is written to the audit
trail with the logged-in user (or "anonymous") as the actor; the actor of every change is the user
the session belongs to, never a name typed into a form.
"""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup
from starlette.applications import Starlette
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from claimflow.claims import ids
from claimflow.claims.lifecycle import ClaimState
from claimflow.claims.roles import Permission
from claimflow.claims.tasks import InvalidResolution, TaskKind
from claimflow.console.claims_client import (
    EXCEPTIONS_WORKFLOW_ID,
    NotFound,
    Refused,
    workflow_id_of_task,
)
from claimflow.console.web import views
from claimflow.console.web.auth import (
    CSRF_FIELD,
    CSRF_HEADER,
    csrf_ok,
    csrf_token,
    read_session,
    start_session,
)
from claimflow.console.web.dashboard import (
    LIST_LIMIT,
    Dashboard,
    Figures,
    Lists,
    Table,
    build_dashboard,
    figures_from_read_model,
    lists_from_read_model,
)
from claimflow.console.web.data import SEARCH_LIMIT, ConsoleData, QueueFilter, SearchQuery
from claimflow.console.web.exchanges import claim_exchanges, claims_segments
from claimflow.console.web.forms import FIELDS_BY_ACTION, InvalidForm, resolution_from_form
from claimflow.integrations.crypto import PayloadTamperedError, UnknownKeyError
from claimflow.integrations.ledger.users import (
    AuthenticationError,
    PermissionDenied,
    RateLimitedError,
    UnknownUserError,
    User,
    UserError,
    UserStore,
    resolution_by,
)

STATIC = Path(__file__).parent / "static"
SESSION_COOKIE = "claimflow_session"
ANONYMOUS = "anonymous"


@dataclass(frozen=True)
class ConsoleConfig:
    secret_key: str
    """signs the session cookie; the same for every console replica"""
    documents_dir: Path
    """where statements and letters are written (their PDFs are served from here only)"""
    https_only: bool = False
    """Secure cookies: set behind HTTPS"""
    idle_timeout_seconds: float = 30 * 60
    session_max_age_seconds: int = 12 * 60 * 60


class Refusal(Exception):
    """A request the console refuses: status, and the reason the person reads."""

    def __init__(self, status: int, reason: str, claim_id: str | None = None) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.claim_id = claim_id


Page = Callable[[Request, User], Awaitable[Response]]


def create_app(
    data: ConsoleData,
    users: UserStore,
    config: ConsoleConfig,
    extra_routes: Sequence[BaseRoute] = (),
) -> Starlette:
    templates = Environment(
        loader=PackageLoader("claimflow.console.web", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    templates.filters.update(views.FILTERS)

    def render(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
        body = templates.get_template(name).render(
            request=request, csrf=csrf_token(request.session), csrf_field=CSRF_FIELD, **context
        )
        return HTMLResponse(body, status_code=status)

    def refuse(request: Request, user: User | None, refusal: Refusal) -> Response:
        data.record(
            user.username if user else ANONYMOUS,
            "console_refused",
            refusal.claim_id,
            {
                "method": request.method,
                "path": request.url.path,
                "status": refusal.status,
                "reason": refusal.reason,
            },
        )
        if request.headers.get("hx-request"):
            # htmx swaps nothing on a 4xx: the page shows the reason in its message area instead
            return HTMLResponse(
                templates.get_template("_refusal.html.j2").render(reason=refusal.reason),
                status_code=refusal.status,
                headers={"HX-Retarget": "#messages", "HX-Reswap": "innerHTML"},
            )
        return render(request, "refused.html.j2", status=refusal.status, user=user, reason=refusal.reason)

    def active_user(username: str) -> User | None:
        """The user as they are now (a role change counts at once); None when disabled or gone."""
        try:
            user = users.get(username)
        except UnknownUserError:
            return None
        return None if user.disabled else user

    def page(
        handler: Page, *, permission: Permission | None = None, doing: str = ""
    ) -> Callable[[Request], Awaitable[Response]]:
        """A handler behind the gates: session, CSRF on POST, permission; refusals become responses."""

        async def gated(request: Request) -> Response:
            state = read_session(request.session, config.idle_timeout_seconds)
            user = active_user(state.username) if state.username else None
            if user is None:
                if state.username:
                    request.session.clear()  # disabled since the login
                reason = "your session expired: log in again" if state.expired else "log in first"
                if request.method == "GET" and not request.headers.get("hx-request"):
                    data.record(
                        ANONYMOUS,
                        "console_refused",
                        None,
                        {"method": "GET", "path": request.url.path, "status": 303, "reason": reason},
                    )
                    query = urlencode({"next": request.url.path, "why": "expired" if state.expired else ""})
                    return RedirectResponse(f"/login?{query}", status_code=303)
                return refuse(request, None, Refusal(401, reason))
            if user.must_change_password and request.url.path not in ("/password", "/logout"):
                return RedirectResponse("/password", status_code=303)
            try:
                if request.method == "POST":
                    await _check_csrf(request)
                if permission is not None:
                    user.require(permission, doing)
                return await handler(request, user)
            except PermissionDenied as denied:
                return refuse(request, user, Refusal(403, str(denied), _claim_of(request)))
            except Refusal as refusal:
                return refuse(request, user, refusal)
            except NotFound as missing:
                return refuse(request, user, Refusal(404, str(missing), _claim_of(request)))

        return gated

    async def _check_csrf(request: Request) -> None:
        sent = request.headers.get(CSRF_HEADER)
        if sent is None:
            sent = _text(await request.form(), CSRF_FIELD) or None
        if not csrf_ok(request.session, sent):
            raise Refusal(
                403, "the form's security token is missing or stale: reload the page and send it again"
            )

    # ------------------------------------------------------------------ login
    async def login_page(request: Request) -> Response:
        why = request.query_params.get("why")
        message = "Your session expired: log in again." if why == "expired" else None
        return render(
            request,
            "login.html.j2",
            user=None,
            message=message,
            next=_safe_next(request.query_params.get("next")),
        )

    async def login(request: Request) -> Response:
        form = await request.form()
        if not csrf_ok(request.session, _text(form, CSRF_FIELD) or None):
            return refuse(
                request,
                None,
                Refusal(403, "the login form's security token is missing or stale: reload the page"),
            )
        username = _text(form, "username").strip().lower()
        client = request.client.host if request.client else "unknown"
        try:
            # argon2 is slow on purpose: off the event loop
            user = await asyncio.to_thread(
                users.authenticate, username, _text(form, "password"), source=client
            )
        except AuthenticationError as refused:
            data.record(
                username[:80] or ANONYMOUS,
                "console_login_refused",
                None,
                {"client": client, "why": type(refused).__name__},
            )
            status = 429 if isinstance(refused, RateLimitedError) else 401
            return render(
                request,
                "login.html.j2",
                status=status,
                user=None,
                message=str(refused),
                next=_safe_next(_text(form, "next")),
            )
        start_session(request.session, user.username)
        data.record(user.username, "console_login", None, {"client": client})
        if user.must_change_password:
            return RedirectResponse("/password", status_code=303)
        return RedirectResponse(_safe_next(_text(form, "next")) or "/queue", status_code=303)

    async def password_page(request: Request, user: User) -> Response:
        return render(request, "password.html.j2", user=user, message=None)

    async def change_password(request: Request, user: User) -> Response:
        form = await request.form()
        client = request.client.host if request.client else "unknown"
        if _text(form, "new") != _text(form, "repeat"):
            return render(
                request,
                "password.html.j2",
                status=422,
                user=user,
                message="the two new passwords differ: type the same one twice",
            )
        try:
            changed = await asyncio.to_thread(
                users.change_password,
                user.username,
                _text(form, "current"),
                _text(form, "new"),
                source=client,
            )
        except UserError as refused:
            data.record(
                user.username,
                "console_refused",
                None,
                {"method": "POST", "path": "/password", "status": 422, "reason": type(refused).__name__},
            )
            return render(request, "password.html.j2", status=422, user=user, message=str(refused))
        start_session(request.session, changed.username)
        return RedirectResponse("/queue", status_code=303)

    async def logout(request: Request, user: User) -> Response:
        request.session.clear()
        data.record(user.username, "console_logout", None, {})
        return RedirectResponse("/login", status_code=303)

    # ------------------------------------------------------------------ work queue
    def queue_filter(request: Request) -> QueueFilter:
        params = request.query_params
        kind = params.get("kind") or None
        try:
            kind_value = TaskKind(kind) if kind else None
        except ValueError:
            raise Refusal(
                400, f"kind {kind!r} is not a task kind: use one of {', '.join(TaskKind)}"
            ) from None
        return QueueFilter(
            kind=kind_value,
            payer=params.get("payer") or None,
            holder=params.get("holder") if params.get("holder") in ("mine", "unassigned") else None,
            overdue=params.get("overdue") == "1",
            sort=params.get("sort") or "due",
            descending=params.get("order") == "desc",
        )

    async def queue(request: Request, user: User) -> Response:
        wanted = queue_filter(request)
        listing = await data.queue_listing(wanted, user.username)
        context: dict[str, Any] = {
            "user": user,
            "items": listing.items,
            "source": listing,
            "filter": wanted,
            "query": dict(request.query_params),
            "kinds": list(TaskKind),
            "payers": await data.payers(),
            "now": data.now(),
        }
        if request.headers.get("hx-request") and request.headers.get("hx-target") == "queue-table":
            return render(request, "_queue_table.html.j2", **context)
        return render(request, "queue.html.j2", **context)

    async def queue_csv(request: Request, user: User) -> Response:
        items = await data.queue(queue_filter(request), user.username)
        return _csv("work-queue.csv", views.QUEUE_COLUMNS, [views.queue_cells(item) for item in items])

    async def task_change(request: Request, user: User) -> Response:
        """Claim, assign, release or annotate a task; answers with the task's queue row (htmx) or
        sends the browser back to where it came from."""
        task_id = request.path_params["task_id"]
        change = request.path_params["change"]
        item = await data.queue_item(task_id)
        if not item.task.is_open:
            raise Refusal(
                409,
                f"task {task_id} was resolved by {item.task.resolved_by}: nothing to change",
                item.row.claim_id,
            )
        user.require(Permission.WORK_TASKS, f"{change} a task")
        pcn = ids.encounter_id_of(item.row.claim_id)
        form = await request.form()
        if change == "claim":
            if item.holder not in (None, user.username):
                require_or(user, Permission.ASSIGN_TASKS, f"take task {task_id} from {item.holder}")
            data.worklist.assign(task_id, pcn, user.username, by=user.username)
        elif change == "assign":
            assignee = _text(form, "assignee").strip().lower()
            if not assignee:
                raise Refusal(422, "say whom to assign the task to (field 'assignee')", item.row.claim_id)
            if assignee != user.username or item.holder not in (None, user.username):
                require_or(user, Permission.ASSIGN_TASKS, f"assign task {task_id} to {assignee}")
            if active_user(assignee) is None:
                raise Refusal(422, f"no active user {assignee!r} to assign the task to", item.row.claim_id)
            data.worklist.assign(task_id, pcn, assignee, by=user.username)
        elif change == "release":
            if item.holder not in (None, user.username):
                require_or(
                    user, Permission.ASSIGN_TASKS, f"release task {task_id}, which {item.holder} holds"
                )
            data.worklist.release(task_id, pcn, by=user.username)
        elif change == "note":
            try:
                data.worklist.add_note(task_id, item.row.claim_id, pcn, user.username, _text(form, "text"))
            except ValueError as bad:
                raise Refusal(422, str(bad), item.row.claim_id) from None
        else:
            raise Refusal(404, f"no such change {change!r}: claim, assign, release or note")
        fresh = await data.queue_item(task_id)
        if request.headers.get("hx-request"):
            name = "_notes.html.j2" if change == "note" else "_queue_row.html.j2"
            return render(
                request, name, user=user, item=fresh, now=data.now(), notes=data.notes(task_id=task_id)
            )
        return RedirectResponse(_back(request, f"/tasks/{task_id}"), status_code=303)

    # ------------------------------------------------------------------ task page
    async def task_page(
        request: Request,
        user: User,
        *,
        status: int = 200,
        refusal: str | None = None,
        form: FormData | None = None,
    ) -> Response:
        task_id = request.path_params["task_id"]
        item = await data.queue_item(task_id)
        facts = views.task_facts(item)
        return render(
            request,
            "task.html.j2",
            status=status,
            user=user,
            item=item,
            facts=facts,
            notes=data.notes(task_id=task_id),
            refusal=refusal,
            sent=dict(form or {}),
            forms=views.action_forms(item, FIELDS_BY_ACTION, user),
            now=data.now(),
        )

    async def task_view(request: Request, user: User) -> Response:
        return await task_page(request, user)

    async def resolve(request: Request, user: User) -> Response:
        task_id = request.path_params["task_id"]
        form = await request.form()
        row = await data.claims.task(task_id)
        try:
            if not row.task.is_open:
                # said before the form is read: whatever it holds, there is nothing left to resolve
                raise Refused(
                    f"task {task_id} was already resolved by {row.task.resolved_by}"
                    f" ({row.task.resolution.action.value if row.task.resolution else 'closed'}): "
                    "nothing was changed; see the claim's timeline"
                )
            resolution = resolution_from_form(
                row.task, {key: _text(form, key) for key in form}, user.username
            )
            resolution = resolution_by(user, resolution)  # PermissionDenied: a 403 like any other gate
            await data.resolve(resolution, row.claim_id)
        except (InvalidForm, InvalidResolution, Refused) as refused:
            # the workflow said no (Refused), or the task is no longer open: a conflict; else bad input
            status = 409 if isinstance(refused, Refused) or not row.task.is_open else 422
            data.record(
                user.username,
                "console_refused",
                row.claim_id,
                {"method": "POST", "path": request.url.path, "status": status, "reason": str(refused)},
            )
            return await task_page(request, user, status=status, refusal=str(refused), form=form)
        data.record(
            user.username,
            "task_resolved",
            row.claim_id,
            {"task_id": task_id, "kind": row.task.kind.value, "action": resolution.action.value},
        )
        if row.claim_id == EXCEPTIONS_WORKFLOW_ID:
            # an unmatched payer result belongs to no claim: its task page shows how it ended
            return RedirectResponse(f"/tasks/{task_id}?resolved=1", status_code=303)
        return RedirectResponse(f"/claims/{row.claim_id}?resolved={task_id}", status_code=303)

    # ------------------------------------------------------------------ claim page
    async def claim_page(request: Request, user: User) -> Response:
        claim = await data.claim(request.path_params["claim_id"])
        return render(
            request,
            "claim.html.j2",
            user=user,
            claim=claim,
            view=views.claim_view(claim, config.documents_dir),
            notes=data.notes(claim_id=claim.claim_id),
            audit=data.audit(claim.claim_id),
            exchanges=await asyncio.to_thread(claim_exchanges, data.x12, claim.patient_control_number),
            resolved=request.query_params.get("resolved"),
            now=data.now(),
        )

    async def x12_text(request: Request, user: User) -> Response:
        """One kept file's text (this claim's part of it), opened for a signed-in person and recorded
        in the audit trail: an HTML fragment for the claim page's X12 block, else plain text."""
        claim = await data.claim(request.path_params["claim_id"])
        pcn, file_id = claim.patient_control_number, request.path_params["file_id"]
        if data.x12 is None:
            raise Refusal(404, "this console keeps no X12", claim.claim_id)
        kept_files = await asyncio.to_thread(data.x12.files_of, pcn)
        kept = next((k for k in kept_files if k.file_id == file_id), None)
        if kept is None:
            raise Refusal(404, f"{claim.claim_id} has no X12 file {file_id}", claim.claim_id)
        try:
            text = await asyncio.to_thread(data.x12.text, file_id, pcn)
        except (UnknownKeyError, PayloadTamperedError) as error:
            raise Refusal(409, f"X12 file {file_id} cannot be opened: {error}", claim.claim_id) from None
        segments, left_out = claims_segments(kept.kind, text, pcn)
        data.record(user.username, "x12_viewed", claim.claim_id, {"file": kept.name, "kind": kept.kind})
        if not request.headers.get("hx-request"):
            return PlainTextResponse("\n".join(segments) + "\n")
        return render(request, "_x12_text.html.j2", segments=segments, left_out=left_out)

    async def document(request: Request, user: User) -> Response:
        claim = await data.claim(request.path_params["claim_id"])
        number = request.path_params["number"]
        documents = views.documents_of(claim, config.documents_dir)
        if number >= len(documents) or documents[number].path is None:
            raise Refusal(404, f"{claim.claim_id} has no document {number}", claim.claim_id)
        path = documents[number].path
        assert path is not None
        data.record(user.username, "document_viewed", claim.claim_id, {"document": path.name})
        return FileResponse(path, media_type=documents[number].media_type, filename=path.name)

    # ------------------------------------------------------------------ search
    def search_query(request: Request) -> SearchQuery:
        params = request.query_params
        state = params.get("state") or None
        try:
            return SearchQuery(
                text=(params.get("q") or "").strip(),
                payer=params.get("payer") or None,
                state=ClaimState(state) if state else None,
                service_from=date.fromisoformat(params["from"]) if params.get("from") else None,
                service_to=date.fromisoformat(params["to"]) if params.get("to") else None,
            )
        except ValueError as bad:
            raise Refusal(
                400, f"the search is not valid: {bad} (dates as YYYY-MM-DD, a state from the list)"
            ) from None

    async def search(request: Request, user: User) -> Response:
        query = search_query(request)
        found = None if query.empty else await data.search(query, limit=SEARCH_LIMIT)
        return render(
            request,
            "search.html.j2",
            user=user,
            query=query,
            params=dict(request.query_params),
            found=found,
            states=list(ClaimState),
            payers=await data.payers(),
        )

    async def search_csv(request: Request, user: User) -> Response:
        found = await data.search(search_query(request))
        return _csv("claims.csv", views.SEARCH_COLUMNS, [views.search_cells(c) for c in found.claims])

    # ------------------------------------------------------------------ dashboard
    async def board_of(days: int, limit: int | None = LIST_LIMIT) -> Dashboard:
        """Once the read model was built, every figure is its queries (nothing asked of Temporal);
        before, the KPIs, counts and lists are taken over every claim's snapshot. The lists hold
        their first `limit` claims (None: all) and say how many there are."""
        now = data.now()
        model = data.read_model
        cursor = await asyncio.to_thread(model.cursor) if model is not None else None
        if model is None or cursor is None:
            return build_dashboard(await data.loaded(), now, days, await data.resolutions(), limit=limit)

        def queried() -> tuple[Lists, Figures]:
            return lists_from_read_model(model, now, days, limit), figures_from_read_model(model, now.date())

        lists, figures = await asyncio.to_thread(queried)
        return build_dashboard(None, now, days, await data.resolutions(), lists, figures, cursor)

    async def dashboard(request: Request, user: User) -> Response:
        board = await board_of(_days(request))
        return render(request, "dashboard.html.j2", user=user, board=board, Markup=Markup)

    async def dashboard_csv(request: Request, user: User) -> Response:
        days, name = _days(request), request.path_params["table"]
        table = _table_of(await board_of(days), name)
        if table.capped:  # the page lists the first LIST_LIMIT: its CSV holds every row
            table = _table_of(await board_of(days, limit=None), name)
        return _csv(f"{table.name}.csv", table.headers, table.rows)

    async def home(request: Request, user: User) -> Response:
        return RedirectResponse("/queue", status_code=303)

    routes: list[BaseRoute] = [
        Route("/", page(home)),
        Route("/login", login_page, methods=["GET"]),
        Route("/login", login, methods=["POST"]),
        Route("/logout", page(logout), methods=["POST"]),
        Route("/password", page(password_page), methods=["GET"]),
        Route("/password", page(change_password), methods=["POST"]),
        Route("/queue", page(queue)),
        Route("/queue.csv", page(queue_csv)),
        Route("/tasks/{task_id}", page(task_view)),
        Route("/tasks/{task_id}/resolve", page(resolve), methods=["POST"]),
        Route("/tasks/{task_id}/{change}", page(task_change), methods=["POST"]),
        Route("/claims/{claim_id}", page(claim_page)),
        Route("/claims/{claim_id}/documents/{number:int}", page(document)),
        Route("/claims/{claim_id}/x12/{file_id:int}", page(x12_text)),
        Route("/search", page(search)),
        Route("/search.csv", page(search_csv)),
        Route("/dashboard", page(dashboard, permission=Permission.VIEW_DASHBOARD, doing="see the dashboard")),
        Route(
            "/dashboard/{table}.csv",
            page(dashboard_csv, permission=Permission.VIEW_DASHBOARD, doing="export the dashboard"),
        ),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
        *extra_routes,
    ]

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        await data.close()

    async def not_found(request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        return HTMLResponse(
            templates.get_template("refused.html.j2").render(
                request=request,
                user=None,
                csrf="",
                csrf_field=CSRF_FIELD,
                reason="no such page" if status == 404 else "method not allowed",
            ),
            status_code=status,
        )

    return Starlette(
        routes=routes,
        middleware=[
            Middleware(
                SessionMiddleware,
                secret_key=config.secret_key,
                session_cookie=SESSION_COOKIE,
                max_age=config.session_max_age_seconds,
                same_site="lax",
                https_only=config.https_only,
            )
        ],
        exception_handlers={404: not_found, 405: not_found},
        lifespan=lifespan,
    )


def require_or(user: User, permission: Permission, doing: str) -> None:
    """PermissionDenied unless the user has `permission`; `doing` says what they tried."""
    if not user.can(permission):
        raise PermissionDenied(user.username, user.role, doing, permission)


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def _claim_of(request: Request) -> str | None:
    """The claim a request is about, for its audit entry (only from ids that parse)."""
    if "claim_id" in request.path_params:
        claim_id = str(request.path_params["claim_id"])
        return ids.claim_workflow_ids_for(claim_id)[0]
    if "task_id" in request.path_params:
        try:
            workflow_id = workflow_id_of_task(str(request.path_params["task_id"]))
        except NotFound:
            return None
        if ids.is_claim_workflow(workflow_id):
            return workflow_id
    return None


def _safe_next(target: str | None) -> str:
    """Only a path on this site (no scheme, no host, no //), so the login form cannot redirect away."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return ""


def _back(request: Request, fallback: str) -> str:
    referer = request.headers.get("referer") or ""
    base = str(request.base_url)
    return _safe_next(referer.removeprefix(base.rstrip("/"))) or fallback


def _days(request: Request) -> int:
    text = request.query_params.get("days") or "7"
    if not text.isdigit() or not 1 <= int(text) <= 365:
        raise Refusal(400, f"days {text!r} must be a whole number from 1 to 365")
    return int(text)


def _table_of(board: Dashboard, name: str) -> Table:
    table = board.table(name)
    if table is None:
        names = ", ".join(t.name for t in board.tables)
        raise Refusal(404, f"no dashboard table {name!r}: one of {names}")
    return table


def _csv(filename: str, headers: tuple[str, ...], rows: list[tuple[Any, ...]]) -> Response:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(headers)
    writer.writerows(rows)
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
