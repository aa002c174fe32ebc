# The README's two commands: `make demo` runs Carnet with demo data, `make test` runs every check.
# Needs only Python 3.11+, pip, git and make: uv is installed into .tools/ when it is not on the PATH.

UV ?= $(or $(shell command -v uv 2>/dev/null),.tools/bin/uv)

.PHONY: demo test bench conformance chromium pango

# The portal's browser tests drive Debian's chromium (tests/e2e), never a browser Playwright downloads.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

# pip --target needs no venv module and writes nothing outside this folder.
.tools/bin/uv:
	python3 -m pip install --quiet --disable-pip-version-check --target .tools "uv==0.13.9"

.venv: $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen
	@touch .venv

# What running needs, not the developers' tools (uv run adds those for the test target when it needs them).
demo: $(UV) pango
	$(UV) run --frozen --no-dev carnet demo

chromium:
	@[ -x /usr/bin/chromium ] || { $(SUDO) apt-get update -q && $(SUDO) apt-get install -y chromium; }

# The patient's PDF summary is laid out by WeasyPrint, which needs Pango (a system library, not a wheel).
pango:
	@python3 -c "import ctypes.util as u, sys; sys.exit(not u.find_library('pangoft2-1.0'))" || \
		{ $(SUDO) apt-get update -q && $(SUDO) apt-get install -y libpango-1.0-0 libpangoft2-1.0-0; }

# Two worker processes (pytest-xdist), one per core, each with its own embedded PostgreSQL and its own portal
# server. `pytest` alone runs the suite in one process.
test: .venv chromium pango
	$(UV) run --frozen ruff check .
	$(UV) run --frozen ruff format --check .
	$(UV) run --frozen mypy
	$(UV) run --frozen pytest -n 2 --dist worksteal

# The official FHIR R4 examples of the profile types, posted and read back (needs ../shared/fhir-r4-examples).
conformance: .venv
	$(UV) run --frozen pytest tests/conformance -m conformance -q -s -p no:cacheprovider

bench: .venv
	$(UV) run --frozen python -m bench.bench_records --patients 10000
