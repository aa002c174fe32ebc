"""What every portal page needs: templates in the reader's language, CSRF, security headers, the session.

Source strings are English; `locales/fr` translates them and `locales/en` holds them as they are, so both
languages go through the same catalogue lookup and a missing entry shows in either (tests/portal checks it).
The .po files are read at startup with Babel: no compiled .mo is committed.
"""

from __future__ import annotations

import hmac
import io
import secrets
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Literal
from urllib.parse import urlencode

from babel.dates import format_date, format_datetime, get_timezone
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations
from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader, StrictUndefined
from starlette.datastructures import FormData, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from carnet.access.actor import Actor
from carnet.access.service import represents
from carnet.api.deps import SESSION_COOKIE, set_cookie, unit
from carnet.context import Context
from carnet.identity import accounts, sessions
from carnet.kit.errors import CarnetError, Forbidden, TooManyAttempts, Unauthenticated
from carnet.portal.messages import BY_CODE, N_

Language = Literal["fr", "en"]
LANGUAGES: tuple[Language, ...] = ("fr", "en")
LOCALES: dict[Language, str] = {"fr": "fr_FR", "en": "en_GB"}
LANGUAGE_COOKIE = "carnet_lang"
CSRF_COOKIE = "carnet_csrf"
CSRF_FIELD = "csrf_token"
HERE = Path(__file__).parent
PARIS = get_timezone("Europe/Paris")  # the record's times are French local time for its readers

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; frame-ancestors 'none'; "
    "form-action 'self'; base-uri 'none'"
)
# The spaces: patients; professionals (/pro), pharmacy counters (/counter) and insurance desks (/desk), who sign
# in through /staff; operators (/operator).
PUBLIC_PREFIXES = ("/patient/", "/staff/", "/pro/", "/counter/", "/desk/", "/operator/", "/spaces/", "/static/")
PUBLIC_PATHS = ("/", "/patient", "/pro", "/counter", "/desk", "/operator", "/language")
# The JSON API's operator sign-in (api/auth.py) shares the operator space's prefix: it answers JSON, not pages.
API_PATHS = frozenset({"/operator/login", "/operator/session", "/operator/token", "/operator/logout"})


def is_portal(path: str) -> bool:
    return path not in API_PATHS and (path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES))


def harden(headers: MutableHeaders, path: str) -> None:
    """The headers every portal answer carries; pages of the patient space are never stored by a cache.

    An answer that set its own policy keeps it (a document's content: it runs nothing, and its own page frames it).
    """
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "no-referrer"
    if not path.startswith("/static/"):
        headers["Cache-Control"] = "no-store"


class SecurityHeaders:
    """Adds `harden`'s headers to every answer under the portal's paths (the API's answers keep theirs)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_portal(scope["path"]):
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                harden(MutableHeaders(scope=message), path)
            await send(message)

        await self.app(scope, receive, sending)


def catalogue_path(language: Language) -> Path:
    return HERE / "locales" / language / "LC_MESSAGES" / "messages.po"


@cache
def translations(language: Language) -> Translations:
    """The language's catalogue, compiled in memory from its .po file."""
    with catalogue_path(language).open("rb") as po:
        catalog = read_po(po, locale=LOCALES[language])
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(compiled)


@cache
def known_messages(language: Language) -> frozenset[str]:
    with catalogue_path(language).open("rb") as po:
        return frozenset(m.id for m in read_po(po, locale=LOCALES[language]) if isinstance(m.id, str) and m.id)


@cache
def environment(language: Language) -> Environment:
    env = Environment(
        loader=PackageLoader("carnet.portal", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.policies["ext.i18n.trimmed"] = True  # a message's line breaks in a template are not part of it
    env.install_gettext_translations(translations(language), newstyle=True)  # type: ignore[attr-defined]
    env.filters["day"] = lambda value: format_day(value, language)
    env.filters["moment"] = lambda value: format_moment(value, language)
    return env


def format_day(value: date, language: Language) -> str:
    return format_date(value, format="long", locale=LOCALES[language])


MOMENTS: dict[Language, str] = {"fr": "d MMMM y 'à' HH:mm", "en": "d MMMM y 'at' HH:mm"}


def format_moment(value: datetime, language: Language) -> str:
    return format_datetime(value, format=MOMENTS[language], tzinfo=PARIS, locale=LOCALES[language])


def language(request: Request) -> Language:
    """The reader's language: their choice (cookie), else the first of Accept-Language we speak, else French."""
    chosen = request.cookies.get(LANGUAGE_COOKIE)
    if chosen in LANGUAGES:
        return "en" if chosen == "en" else "fr"
    for part in request.headers.get("accept-language", "").split(","):
        tag = part.split(";")[0].strip().lower()[:2]
        if tag in LANGUAGES:
            return "en" if tag == "en" else "fr"
    return "fr"


def gettext(request: Request) -> Translations:
    return translations(language(request))


def csrf_token(request: Request) -> str:
    """The request's CSRF token: the cookie's, or a new one that `page` sets."""
    existing = request.cookies.get(CSRF_COOKIE, "")
    if 32 <= len(existing) <= 64 and existing.isascii():
        return existing
    made: str | None = getattr(request.state, "csrf_token", None)
    if made is None:
        made = secrets.token_urlsafe(32)
        request.state.csrf_token = made
    return made


class CsrfRefused(Forbidden):
    """A state change without the form's token: a page from another site, or one left open too long."""

    code = "csrf"


async def checked_form(request: Request) -> FormData:
    """The posted form, once its token matches the cookie's (double submit: another site can set neither)."""
    form = await request.form()
    sent = form.get(CSRF_FIELD)
    expected = request.cookies.get(CSRF_COOKIE, "")
    if not isinstance(sent, str) or not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
        raise CsrfRefused("This form has expired or did not come from Carnet.")
    return form


def field(form: FormData, name: str, limit: int = 254) -> str:
    value = form.get(name)
    return value[:limit] if isinstance(value, str) else ""


def with_query(path: str, **query: str) -> str:
    return f"{path}?{urlencode(query, safe='/')}" if query else path


def local_path(value: str | None, default: str = "/patient") -> str:
    """A path on this site to go back to; anything else (another host, a scheme, a query) falls back."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value or len(value) > 200:
        return default
    return value.split("?")[0].split("#")[0] or default


def page(
    request: Request, template: str, context: Mapping[str, object] | None = None, *, status: int = 200
) -> Response:
    """A page in the reader's language, with the CSRF token its forms carry."""
    lang = language(request)
    token = csrf_token(request)
    values: dict[str, object] = {
        "lang": lang,
        "csrf_field": CSRF_FIELD,
        "csrf_token": token,
        "here": local_path(request.url.path, "/"),
        "signed_in": False,  # the patient's pages say so once the session is proven
        "representing": getattr(request.state, "representing", False),
        "errors": [],
        "values": {},
    }
    values.update(context or {})
    html = environment(lang).get_template(template).render(values)
    response = HTMLResponse(html, status_code=status)
    harden(response.headers, request.url.path)
    if request.cookies.get(CSRF_COOKIE) != token:
        set_cookie(request, response, CSRF_COOKIE, token, max_age=12 * 3600)
    return response


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


@dataclass(frozen=True, slots=True)
class Patient:
    """The signed-in patient, as their session proves them, and the record their pages show: their own, or that
    of a minor they represent (the actor stays theirs: the gate decides as for a representative)."""

    actor: Actor
    patient_id: uuid.UUID  # the record shown
    session: sessions.ActiveSession
    token: str
    own_id: uuid.UUID

    @property
    def representing(self) -> bool:
        return self.patient_id != self.own_id


class SignInRequired(Unauthenticated):
    """No session, or one that ended: the portal asks to sign in and comes back to the page afterwards.

    `sign_in` is the space's sign-in page, `home` the page a refused form goes back to after it.
    """

    def __init__(self, *, ended: bool, sign_in: str = "/patient/sign-in", home: str = "/patient") -> None:
        super().__init__("Sign in to see this page.", code="session-ended" if ended else "not-signed-in")
        self.ended = ended
        self.sign_in = sign_in
        self.home = home


@contextmanager
def patient_unit(request: Request) -> Iterator[tuple[Context, Patient]]:
    """The request's one unit of work, with the patient its session cookie proves; SignInRequired otherwise
    (a redirect to the sign-in page that comes back here)."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        raise SignInRequired(ended=False)
    with unit(request) as ctx:
        try:
            actor, active = accounts.patient_of_session(ctx, token)
        except Unauthenticated:
            raise SignInRequired(ended=True) from None
        own = shown = uuid.UUID(actor.ref)
        if active.acting_for is not None and active.acting_for != own:
            if represents(ctx, actor, active.acting_for):
                shown = active.acting_for
            else:  # the link ended (the minor came of age): back to their own record
                sessions.act_for(ctx.session, token, None)
        request.state.representing = shown != own  # the banner every page of the space shows
        yield ctx, Patient(actor, shown, active, token, own)


def known_message(request: Request, exc: CarnetError) -> str:
    """A service's refusal in the reader's words: its sentence when the catalogue has it, else one by status."""
    lang = language(request)
    words = translations(lang)
    if isinstance(exc, TooManyAttempts):
        minutes = max(1, (exc.retry_after + 59) // 60)
        return words.ngettext(
            "Too many failed attempts: try again in %(minutes)d minute.",
            "Too many failed attempts: try again in %(minutes)d minutes.",
            minutes,
        ) % {"minutes": minutes}
    if exc.message in known_messages(lang):
        return words.gettext(exc.message)
    if exc.code in BY_CODE:
        return words.gettext(BY_CODE[exc.code])
    fallback = {
        400: N_("Something in this request is not right: check what you entered."),
        401: N_("These details do not match."),
        403: N_("This action is not allowed."),
        404: N_("This page does not exist."),
        405: N_("This action is not allowed."),
        409: N_("This conflicts with what is already recorded."),
        422: N_("Something in this form is not right: check what you entered."),
    }
    otherwise = N_("Carnet could not do this now. Try again later.")
    return words.gettext(fallback.get(exc.status, otherwise))
