"""Builds the ASGI application: routers and error handlers. No logic of its own."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi_offline import FastAPIOffline
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException

from carnet import portal
from carnet.api import auth, cards, oauth
from carnet.api.deps import EVERY_ROUTE, Web
from carnet.fhir import router as fhir
from carnet.fhir.support import BODY_OVERHEAD
from carnet.identity.clients import OAuthError
from carnet.kit.errors import CarnetError, TooManyAttempts, Unauthenticated
from carnet.kit.ingress import InputGuard
from carnet.runtime import Runtime

JSON_API_MAX_BODY = 64 * 1024  # the JSON API's bodies are a few short fields


def render(request: Request, exc: CarnetError) -> Response:
    """A CarnetError as its adapter shows it: an OperationOutcome under /fhir, OAuth's shape, or {code, message}."""
    if isinstance(exc, OAuthError):
        return oauth.oauth_error(exc)
    if request.url.path == "/oauth/token":  # refused before the endpoint: still in RFC 6749's words
        return oauth.oauth_error(OAuthError("invalid_request", exc.message, status=exc.status))
    headers: dict[str, str] = {}
    if portal.is_portal(request.url.path):
        return portal.failure(request, exc)
    if fhir.is_fhir(request):
        if isinstance(exc, Unauthenticated):
            headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'
        elif exc.code == "insufficient-scope":
            headers["WWW-Authenticate"] = 'Bearer error="insufficient_scope"'
        return fhir.failure(exc.status, exc.code, exc.message, headers, expression=exc.expression)
    if isinstance(exc, Unauthenticated) and request.headers.get("authorization", "").lower().startswith("bearer"):
        description = exc.message.replace('"', "'")
        headers["WWW-Authenticate"] = f'Bearer error="invalid_token", error_description="{description}"'
    if isinstance(exc, TooManyAttempts):
        headers["Retry-After"] = str(exc.retry_after)
    return JSONResponse({"code": exc.code, "message": exc.message}, status_code=exc.status, headers=headers)


def create_app(runtime: Runtime) -> FastAPI:
    # /docs with its Swagger UI files served by Carnet itself (no CDN: it works offline, and no third party
    # learns who reads the API description).
    app = FastAPIOffline(
        title="Carnet",
        version="0.1.0",
        summary="National shared medical record",
        responses=EVERY_ROUTE,
        redoc_url=None,
        static_url="/docs-assets",
    )
    app.state.web = Web.build(runtime)
    for router in (auth.router, oauth.router, cards.router, fhir.router):
        app.include_router(router)
    portal.install(app)

    fhir_max_body = runtime.settings.max_document_bytes * 4 // 3 + BODY_OVERHEAD  # base64 contents and metadata
    # The portal's upload form: a file up to twice the limit reaches the form, which says it is too large.
    upload_max_body = runtime.settings.max_document_bytes * 2 + JSON_API_MAX_BODY

    def body_limit(path: str) -> int:
        if path == "/fhir" or path.startswith("/fhir/"):
            return fhir_max_body
        return upload_max_body if path == portal.UPLOAD_PATH else JSON_API_MAX_BODY

    app.add_middleware(InputGuard, render=render, body_limit=body_limit)

    @app.exception_handler(CarnetError)
    async def carnet_error(request: Request, exc: CarnetError) -> Response:
        return render(request, exc)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> Response:
        first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
        where = ".".join(str(part) for part in first.get("loc", ()) if part != "body")
        message = f"{where}: {first.get('msg')}" if where else str(first.get("msg"))
        if fhir.is_fhir(request):
            return fhir.failure(400, "invalid", message)
        if portal.is_portal(request.url.path):
            return portal.http_failure(request, 404)
        return JSONResponse({"code": "invalid", "message": message}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if fhir.is_fhir(request):
            meaning = {404: "Carnet's FHIR API has no such path.", 405: "This interaction is not supported here."}
            return fhir.failure(exc.status_code, "not-supported", meaning.get(exc.status_code, str(exc.detail)))
        if portal.is_portal(request.url.path) and exc.status_code >= 400:
            return portal.http_failure(request, exc.status_code)
        if exc.status_code in (204, 304):
            return await http_exception_handler(request, exc)
        code = "malformed-body" if exc.status_code == 400 else "http-error"
        return JSONResponse(
            {"code": code, "message": str(exc.detail)}, status_code=exc.status_code, headers=exc.headers
        )

    @app.exception_handler(Exception)
    async def unexpected(request: Request, _exc: Exception) -> Response:
        # The trace goes to the server's log (uvicorn logs it); the caller gets a sentence, never a trace.
        message = "Carnet failed to answer this request; it has been logged. Try again later."
        if fhir.is_fhir(request):
            return fhir.failure(500, "internal", message)
        if portal.is_portal(request.url.path):
            return portal.http_failure(request, 500)
        return JSONResponse({"code": "internal", "message": message}, status_code=500)

    @app.get("/health", tags=["operations"], responses={503: {"description": "The database does not answer."}})
    def health() -> JSONResponse:
        """Whether Carnet and its database answer (503 when the database does not, for load balancers)."""
        try:
            with runtime.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except DBAPIError:
            return JSONResponse({"status": "unavailable", "database": "unreachable"}, status_code=503)
        return JSONResponse({"status": "ok", "database": "ok"})

    return app
