"""Builds the ASGI application: routers and error handlers. No logic of its own."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from carnet.kit.errors import CarnetError
from carnet.runtime import Runtime


def create_app(runtime: Runtime) -> FastAPI:
    app = FastAPI(title="Carnet", version="0.1.0", summary="National shared medical record")

    @app.exception_handler(CarnetError)
    async def carnet_error(_request: Request, exc: CarnetError) -> JSONResponse:
        return JSONResponse({"code": exc.code, "message": exc.message}, status_code=exc.status)

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
