"""Limits every request meets before anything parses it: no NUL character, bounded bodies, bounded JSON.

PostgreSQL refuses NUL in text and Python's parsers fail on JSON nested too deep or integers with too many
digits, each as an unexpected exception (a 500). This middleware refuses such input first, with a 4xx that
names what to change, so that no parser or query ever sees it. The limits are documented in README.md.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from carnet.kit.errors import BadRequest, CarnetError, TooLarge

MAX_JSON_DEPTH = 64
MAX_NUMBER_DIGITS = 100
JSON_TYPES = ("application/json", "application/fhir+json")
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")

Render = Callable[[Request, CarnetError], Response]
BodyLimit = Callable[[str], int]

# A JSON string, with its escapes (the unrolled loop keeps the match linear on long base64 contents).
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
# \u0000 preceded by an even number of backslashes: an escaped NUL, not an escaped backslash before "u0000".
_ESCAPED_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")
_LONG_NUMBER = re.compile(rb"\d{%d,}" % (MAX_NUMBER_DIGITS + 1))
_BRACKETS = bytes(range(256)).translate(None, b"[]{}")


def refuse_nul(text: str, where: str) -> None:
    if "\x00" in text:
        raise BadRequest(
            f"{where} contains a NUL character (\\0, %00 or \\u0000); send it without one.", code="nul-character"
        )


def check_query(query: str, where: str = "The parameter") -> None:
    """Each name and value of a query string (or a query-shaped header such as If-None-Exist), percent-decoded."""
    for name, value in parse_qsl(query, keep_blank_values=True):
        refuse_nul(name, f"{where} name '{name.replace(chr(0), '')[:40]}'")
        refuse_nul(value, f"{where} '{name.replace(chr(0), '')[:40]}'")


def check_json(body: bytes) -> None:
    """A JSON body's bytes, before any parser: no NUL, nesting at most MAX_JSON_DEPTH, no endless number."""
    if b"\x00" in body or _ESCAPED_NUL.search(body):
        raise BadRequest(
            "The JSON body contains a NUL character (\\u0000); send strings without one.", code="nul-character"
        )
    structure = _STRING.sub(b'""', body)
    if _LONG_NUMBER.search(structure):
        raise BadRequest(f"The JSON body has a number of over {MAX_NUMBER_DIGITS} digits.", code="number-too-long")
    depth = 0
    for byte in structure.translate(None, _BRACKETS):
        depth += 1 if byte in b"[{" else -1
        if depth > MAX_JSON_DEPTH:
            raise TooLarge(
                f"The JSON body is nested over {MAX_JSON_DEPTH} levels deep; send a flatter document.",
                code="too-deep",
            )


def check_body(media: str, body: bytes) -> None:
    """A JSON or url-encoded body is UTF-8 text without NUL or control characters where they cannot be.

    A multipart form carries files, which are bytes: the route that reads it checks its text fields itself.
    """
    if media not in JSON_TYPES and media != FORM_TYPES[0]:
        return
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest("The body is not UTF-8 text; send it encoded in UTF-8.", code="not-utf-8") from None
    if media in JSON_TYPES:
        check_json(body)
    else:
        check_query(text, "The form field")


class InputGuard:
    """ASGI middleware: checks the path, query, headers and body of each HTTP request, then lets it through."""

    def __init__(self, app: ASGIApp, *, render: Render, body_limit: BodyLimit) -> None:
        self.app, self.render, self.body_limit = app, render, body_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        try:
            self.check_head(request)
            body = await self.read_body(request, receive)
            check_body(request.headers.get("content-type", "").split(";")[0].strip().lower(), body)
        except CarnetError as exc:
            await self.render(request, exc)(scope, receive, send)
            return
        await self.app(scope, self.replay(body, receive), send)

    def check_head(self, request: Request) -> None:
        refuse_nul(request.url.path, "The path")
        check_query(request.scope.get("query_string", b"").decode("latin-1"))
        for name, value in request.headers.items():
            refuse_nul(value, f"The header {name[:40]}")

    async def read_body(self, request: Request, receive: Receive) -> bytes:
        limit = self.body_limit(request.url.path)
        declared = request.headers.get("content-length", "")
        if declared.isascii() and declared.isdigit() and len(declared) < 20 and int(declared) > limit:
            raise TooLarge(f"The request body is over {limit} bytes.", code="too-large")
        body = bytearray()
        while True:
            message = await receive()
            body.extend(message.get("body", b""))
            if len(body) > limit:
                raise TooLarge(f"The request body is over {limit} bytes.", code="too-large")
            if message["type"] != "http.request" or not message.get("more_body", False):
                return bytes(body)

    @staticmethod
    def replay(body: bytes, receive: Receive) -> Receive:
        sent = False

        async def again() -> Message:
            nonlocal sent
            if sent:
                return await receive()
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        return again
