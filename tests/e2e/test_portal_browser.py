"""The browser the portal's tests drive is the system's chromium, installed by `make test` when missing."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from playwright.sync_api import Browser

from tests.e2e.conftest import CHROMIUM

ROOT = Path(__file__).resolve().parents[2]


def test_the_tests_launch_debians_chromium(browser: Browser) -> None:
    installed = subprocess.run([str(CHROMIUM), "--version"], capture_output=True, text=True, check=True).stdout
    assert browser.version.split(".")[0] in installed


def test_make_test_installs_chromium_with_apt_only_when_missing() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert re.search(r"^test: .*\bchromium\b", makefile, re.MULTILINE)
    recipe = makefile.split("\nchromium:\n", 1)[1].split("\n\n", 1)[0]
    assert "[ -x /usr/bin/chromium ] ||" in recipe and "apt-get install -y chromium" in recipe
    assert "export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1" in makefile
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "make test" in ci and "PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1" in ci
