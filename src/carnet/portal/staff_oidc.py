"""Production's sign-in of professionals: their identity provider proves who they are (identity.oidc).

The start keeps the sign-in's state, nonce and PKCE verifier in a short cookie of the callback's path, sent
back on the provider's redirect (SameSite=Lax: that redirect comes from the provider's site). The callback
checks the answer, starts the staff session, and lands on a page of Carnet's that goes on to the space: a
session cookie that is SameSite=Strict is not sent on the rest of a redirect chain begun on another site.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from carnet.api.deps import address, set_cookie, unit
from carnet.identity import oidc, staff
from carnet.kit.errors import CarnetError, NotFound, Unauthenticated
from carnet.portal.messages import N_
from carnet.portal.staff import HOMES, STAFF_COOKIE
from carnet.portal.web import checked_form, known_message, page, redirect
from carnet.settings import Settings

router = APIRouter(include_in_schema=False)
PENDING_COOKIE = "carnet_oidc"
CALLBACK = "/staff/oidc/callback"
PENDING_LIFETIME = 600
SERVICE_MESSAGES = (
    N_("This sign-in did not start here or has expired: start again."),
    N_("This sign-in has expired: start again."),
    N_("The identity provider refused this sign-in: start again."),
    N_("The identity provider sent no identity: start again."),
    N_("The identity provider's answer is not signed by its keys: start again."),
    N_("The identity provider's answer is not valid: start again."),
    N_("Your identity provider did not say your RPPS number and your profession: Carnet cannot sign you in."),
    N_("The identity provider cannot be reached right now; try again."),
)


def provider_of(settings: Settings) -> oidc.Provider | None:
    """The configured provider, when the portal signs professionals in through one."""
    if settings.oidc_issuer is None or settings.oidc_client_id is None or settings.oidc_client_secret is None:
        return None
    return oidc.Provider(
        issuer=settings.oidc_issuer,
        client_id=settings.oidc_client_id,
        client_secret=settings.oidc_client_secret.get_secret_value(),
        redirect_uri=settings.oidc_redirect_url or settings.public_url.rstrip("/") + CALLBACK,
        jwks_url=settings.oidc_jwks_url,
        claims=oidc.Claims(settings.oidc_rpps_claim, settings.oidc_profession_claim, settings.oidc_organisation_claim),
        scope=settings.oidc_scope,
    )


def _provider(request: Request) -> oidc.Provider:
    provider = provider_of(request.app.state.web.runtime.settings)
    if provider is None:
        raise NotFound("This page does not exist.")
    return provider


def _refused(request: Request, exc: CarnetError) -> Response:
    response = page(request, "staff/oidc_refused.html", {"message": known_message(request, exc)}, status=exc.status)
    response.delete_cookie(PENDING_COOKIE, path=CALLBACK)
    return response


@router.post("/staff/oidc/start")
async def start(request: Request) -> Response:
    await checked_form(request)
    provider = _provider(request)
    try:
        address_to, pending = oidc.begin(provider)
    except CarnetError as exc:
        return _refused(request, exc)
    response = redirect(address_to)
    response.set_cookie(
        PENDING_COOKIE,
        pending.dumps(),
        max_age=PENDING_LIFETIME,
        path=CALLBACK,
        secure=request.app.state.web.runtime.settings.cookie_secure,
        httponly=True,
        samesite="lax",
    )
    return response


@router.get(CALLBACK)
def callback(
    request: Request,
    code: Annotated[str, Query(max_length=2048)] = "",
    state: Annotated[str, Query(max_length=256)] = "",
    error: Annotated[str, Query(max_length=64)] = "",
) -> Response:
    """The provider's answer: the professional's session, or a page saying why not (never a trace)."""
    provider = _provider(request)
    pending = oidc.Pending.loads(request.cookies.get(PENDING_COOKIE, "")[:1024])
    try:
        if error:
            raise Unauthenticated("The identity provider refused this sign-in: start again.", code="oidc-refused")
        identity = oidc.finish(provider, pending, state=state, code=code)
        with unit(request) as ctx:
            token = staff.start(ctx, identity, via="oidc", address=address(request))
    except CarnetError as exc:
        if exc.status >= 500 and exc.code != "unavailable":
            raise
        return _refused(request, exc)
    home = HOMES[identity.space]
    response = page(request, "staff/oidc_signed_in.html", {"home": home, "name": identity.name})
    set_cookie(request, response, STAFF_COOKIE, token, max_age=int(staff.ABSOLUTE_LIFETIME.total_seconds()))
    response.delete_cookie(PENDING_COOKIE, path=CALLBACK)
    return response
