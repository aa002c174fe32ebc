"""The portal in a real browser: Debian's chromium driven by Playwright, against Carnet served by uvicorn.

The browser is the system's (/usr/bin/chromium; `make test` installs it with apt when it is missing), never a
download. Each page a test visits is checked the same way (`Pages.look`): axe-core finds no serious or
critical violation, nothing scrolls sideways, the browser's console shows no error (a CSP refusal would), and
a screenshot goes to var/screenshots/portal/ (git-ignored) for people to look at.
"""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pyotp
import pytest
import uvicorn
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, ConsoleMessage, Page, ViewportSize, sync_playwright
from sqlalchemy import delete

from carnet.app import create_app
from carnet.identity.models import LoginThrottle
from carnet.kit.crypto import parse_master_keys
from carnet.kit.db import make_engine, make_sessionmaker
from carnet.runtime import Runtime
from tests.conftest import SCREENSHOTS
from tests.http_fixtures import MASTER_KEY, make_settings

CHROMIUM = Path("/usr/bin/chromium")
PHONE: ViewportSize = {"width": 360, "height": 740}
DESKTOP: ViewportSize = {"width": 1280, "height": 800}
SEVERE = {"serious", "critical"}


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    """Chromium for the tests of this folder only.

    pytest-playwright's own `browser` rests on a session-wide Playwright whose event loop stays current in
    the main thread until the session ends, so every later test calling asyncio.run() fails; this one stops
    with the last test of tests/e2e.
    """
    assert CHROMIUM.exists(), "the browser tests need Debian's chromium: apt-get install -y chromium"
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM)
        yield launched
        launched.close()


_last_step: dict[str, int] = {}


def fresh_code(secret: str) -> str:
    """The authenticator's code, never one this run already gave for the secret (a code is for one use).

    The first is the previous step's, which Carnet forgives for the phone's clock, so a test signing in three
    times within one step needs no wait; a fourth waits for the next step.
    """
    totp = pyotp.TOTP(secret)
    present = totp.timecode(datetime.now(UTC))
    step = max(present - 1, _last_step.get(secret, present - 2) + 1)
    if step > present + 1:
        time.sleep(totp.interval - time.time() % totp.interval + 0.05)
    _last_step[secret] = step
    return totp.generate_otp(step)


@dataclass(frozen=True)
class Portal:
    url: str
    runtime: Runtime


@pytest.fixture(scope="session")
def portal(http_database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Portal]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    settings = make_settings(tmp_path_factory.mktemp("portal"), cookie_secure=False, public_url=url)
    engine = make_engine(http_database)
    runtime = Runtime(settings, engine, make_sessionmaker(engine), parse_master_keys(MASTER_KEY, source="test"))
    server = uvicorn.Server(uvicorn.Config(create_app(runtime), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    yield Portal(url, runtime)
    server.should_exit = True
    thread.join(10)
    engine.dispose()


@pytest.fixture(autouse=True)
def _own_failures_only(request: pytest.FixtureRequest) -> None:
    """Each journey is one person's: the failed sign-ins and passwords of the journeys before it do not count
    against it. Every test's browser comes from 127.0.0.1, so together they would pass the throttle's limit
    per network address (30) and lock the next journey out; the throttle itself is tested in tests/identity."""
    if "portal" not in request.fixturenames:
        return
    portal: Portal = request.getfixturevalue("portal")
    with portal.runtime.unit_of_work() as ctx:
        ctx.session.execute(delete(LoginThrottle))


@pytest.fixture(scope="session")
def axe() -> Axe:
    return Axe()


def _unfold_menu(page: Page) -> None:
    """A phone shows the space's menu folded under "Menu": open it."""
    folded = page.locator("details.menu > summary")
    if folded.count() and folded.is_visible():
        folded.click()


def menu_link(page: Page, name: str) -> None:
    """Follow a link of the space's menu."""
    _unfold_menu(page)
    page.get_by_role("navigation").get_by_role("link", name=name).click()


def menu_button(page: Page, name: str) -> None:
    """Press a button of the space's menu (sign out)."""
    _unfold_menu(page)
    page.get_by_role("navigation").get_by_role("button", name=name, exact=True).click()


@dataclass
class Pages:
    """The checks every visited page gets, and its screenshot, named by the test's language and size."""

    page: Page
    axe: Axe
    prefix: str
    width: int
    console: list[str] = field(default_factory=list)
    count: int = 0

    def __post_init__(self) -> None:
        self.page.on("console", self._console)

    def _console(self, message: ConsoleMessage) -> None:
        # A refused form answers 401/422 on purpose; any other error (a CSP refusal, a missing file) counts.
        on_purpose = message.text.startswith("Failed to load resource") and message.location["url"] == self.page.url
        if message.type == "error" and not on_purpose:
            self.console.append(f"{message.text} ({message.location['url']})")

    def look(self, name: str) -> None:
        page = self.page
        page.wait_for_load_state("load")
        self.count += 1
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=SCREENSHOTS / f"{self.prefix}-{self.count:02d}-{name}.png", full_page=True)
        scroll_width = page.evaluate("document.documentElement.scrollWidth")
        assert scroll_width <= self.width, f"{name}: the page scrolls sideways ({scroll_width} > {self.width} px)"
        results = self.axe.run(page)
        severe = [v for v in results.response["violations"] if v.get("impact") in SEVERE]
        assert not severe, f"{name}: " + "; ".join(
            f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}" for v in severe
        )
        assert not self.console, f"{name}: the browser reported {self.console}"
        title = page.title()
        assert title.endswith("\N{EN DASH} Carnet") and not re.search(r"\d{5}", title), title
