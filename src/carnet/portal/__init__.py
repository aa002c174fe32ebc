"""The web portal: server-rendered pages over the same services as the APIs (see web.py for the shared parts)."""

from __future__ import annotations

from urllib.parse import urlsplit

from fastapi import FastAPI, Request
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles

from carnet.kit.errors import CarnetError, NotFound
from carnet.portal import (
    counter,
    documents,
    history,
    home,
    opening,
    operator_space,
    patient,
    privacy,
    pro_space,
    profile,
    record,
    recovery,
    representing,
    staff,
)
from carnet.portal.documents import UPLOAD_PATH
from carnet.portal.web import (
    HERE,
    CsrfRefused,
    SecurityHeaders,
    SignInRequired,
    is_portal,
    known_message,
    local_path,
    page,
    redirect,
    with_query,
)

__all__ = ["UPLOAD_PATH", "failure", "http_failure", "install", "is_portal"]


def install(app: FastAPI) -> None:
    """The portal's pages, its static files and its headers, on the application."""
    app.include_router(home.router)
    app.include_router(patient.router)
    app.include_router(privacy.router)
    app.include_router(history.router)
    app.include_router(documents.router)
    app.include_router(profile.router)
    app.include_router(record.router)
    app.include_router(recovery.router)
    app.include_router(opening.router)
    app.include_router(staff.router)
    app.include_router(representing.router)
    app.include_router(pro_space.router)
    app.include_router(counter.router)
    app.include_router(operator_space.router)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.add_middleware(SecurityHeaders)


def failure(request: Request, exc: CarnetError) -> Response:
    """A refusal under the portal as a page in the reader's language: never JSON, never a trace."""
    if isinstance(exc, SignInRequired):
        asked = request.url.path if request.method == "GET" else exc.home
        query = {"next": asked, "ended": "true"} if exc.ended else {"next": asked}
        if request.headers.get("hx-request") == "true":
            # htmx would follow a redirect and put the sign-in page inside the part it replaces: the whole
            # window goes there instead (an htmx request comes from a page, so "next" is that page).
            came_from = local_path(urlsplit(request.headers.get("hx-current-url", "")).path, exc.home)
            query["next"] = came_from if request.method != "GET" else asked
            return Response(status_code=204, headers={"HX-Redirect": with_query(exc.sign_in, **query)})
        return redirect(with_query(exc.sign_in, **query))
    template = "csrf.html" if isinstance(exc, CsrfRefused) else "error.html"
    return page(request, template, {"message": known_message(request, exc), "status": exc.status}, status=exc.status)


def http_failure(request: Request, status: int) -> Response:
    """No such page (404, a path parameter out of range too), a method it does not take, or Carnet's own failure."""
    exc = NotFound("This page does not exist.") if status == 404 else CarnetError(f"HTTP {status}")
    exc.status = status
    return failure(request, exc)
