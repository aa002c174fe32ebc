"""The server log of the test suite: a traceback in it fails the test that caused it.

uvicorn logs every exception that escapes the application to `uvicorn.error`, with its trace; the test
clients drive the app as uvicorn does (`served`), so a client's mistake that the app answers with a trace
instead of a 4xx, and any unexpected failure, fails the test that sent it, with the trace to read.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

SERVER_LOG = logging.getLogger("uvicorn.error")


class Traces(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info:
            self.records.append(record)


def served(app: ASGIApp) -> ASGIApp:
    """The app as uvicorn serves it: an exception that escapes is logged with its trace and the answer's status."""

    async def serve(scope: Scope, receive: Receive, send: Send) -> None:
        status: list[int] = []

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                status.append(message["status"])
            await send(message)

        try:
            await app(scope, receive, sending)
        except Exception:
            answered = status[0] if status else "nothing"
            SERVER_LOG.exception(
                "Exception in ASGI application (%s %s answered %s)", scope.get("method"), scope.get("path"), answered
            )
            raise

    return serve


@pytest.fixture(autouse=True)
def no_trace_in_server_log() -> Iterator[Traces]:
    traces = Traces()
    SERVER_LOG.addHandler(traces)
    try:
        yield traces
    finally:
        SERVER_LOG.removeHandler(traces)
    if traces.records:
        formatter = logging.Formatter()
        shown = "\n".join(formatter.format(record) for record in traces.records[:3])
        pytest.fail(f"The server logged {len(traces.records)} trace(s); a client's mistake must answer 4xx:\n{shown}")
