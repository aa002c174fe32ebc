"""The public pages: what Carnet is, the way into each space, the language switch."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from carnet.portal.web import LANGUAGE_COOKIE, LANGUAGES, checked_form, field, local_path, page, redirect

router = APIRouter(include_in_schema=False)


@router.get("/")
def home(request: Request) -> Response:
    return page(request, "home.html")


@router.post("/language")
async def choose_language(request: Request) -> Response:
    form = await checked_form(request)
    chosen = field(form, "lang", 8)
    response = redirect(local_path(field(form, "next", 200), "/"))
    if chosen in LANGUAGES:
        secure = request.app.state.web.runtime.settings.cookie_secure
        response.set_cookie(
            LANGUAGE_COOKIE, chosen, max_age=365 * 24 * 3600, secure=secure, httponly=True, samesite="lax"
        )
    return response
